//! Helpers shared by several reverse-dynamics claims: the Gaussian moment ODE of the λ-family (RV-1, RV-2,
//! RV-5), exact-law W2 curves of the reverse-SDE discretisations (RV-1, RV-2) and the exact-1-D-law marginal
//! check on the §8 GMM with its Monte Carlo cross-check (RV-1, RV-2).

use crate::algebra::{Algebra, Form, FormNoise, Noise, PcgNoise};
use crate::claims::Ctx;
use crate::evidence::Table;
use crate::fixtures::{density_1d, ho_mixture};
use crate::law1d::{output_law_vs, Accuracy, Start};
use crate::metrics::mean_ci;
use crate::metrics::w2_commuting;
use crate::sampler::uniform_t;
use crate::sampler::{uniform_logsnr, Sampler};
use crate::schedule::{Schedule, VpLinear};
use crate::target::Gaussian;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

/// The reverse-time moment ODE of a 1-D Gaussian N(μ, s²) under the λ-family, integrated by RK4 in τ:
/// dm/dτ = −f m − ((1+λ)/2)g²(m − m_t)/C_t, dV/dτ = −2(f + ((1+λ)/2)g²/C_t)V + c g², where c is the
/// injected variance per unit g²dτ (λ for the family; λ² for the slide). Starts at the exact p_T.
#[allow(clippy::too_many_arguments)]
pub(super) fn moment_ode(
    sch: &dyn Schedule,
    mu: f64,
    s2: f64,
    t_max: f64,
    t_min: f64,
    noise_level: f64,
    injected: f64,
    steps: usize,
) -> (f64, f64) {
    let drift = |t: f64, m: f64, v: f64| {
        let (a, sg) = (sch.alpha(t), sch.sigma(t));
        let c = a * a * s2 + sg * sg;
        let (f, g2) = (sch.f(t), sch.g2(t));
        let k = f + 0.5 * (1.0 + noise_level) * g2 / c;
        (
            -f * m - 0.5 * (1.0 + noise_level) * g2 * (m - a * mu) / c,
            -2.0 * k * v + injected * g2,
        )
    };
    // Integrate in u = log t (t from t_max to t_min) for the Brownian path's wide range: dτ = −t du.
    let (u0, u1) = (t_max.ln(), t_min.ln());
    let h = (u1 - u0) / steps as f64;
    let (a, sg) = (sch.alpha(t_max), sch.sigma(t_max));
    let (mut m, mut v) = (a * mu, a * a * s2 + sg * sg);
    let f = |u: f64, m: f64, v: f64| {
        let t = u.exp();
        let (dm, dv) = drift(t, m, v);
        (-t * dm, -t * dv)
    };
    for k in 0..steps {
        let u = u0 + h * k as f64;
        let k1 = f(u, m, v);
        let k2 = f(u + 0.5 * h, m + 0.5 * h * k1.0, v + 0.5 * h * k1.1);
        let k3 = f(u + 0.5 * h, m + 0.5 * h * k2.0, v + 0.5 * h * k2.1);
        let k4 = f(u + h, m + h * k3.0, v + h * k3.1);
        m += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
        v += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
    }
    (m, v)
}

/// A noise source whose draws are scaled by `scale`: with scale √λ it turns a sampler's injected variance
/// λΔt into the slide's λ²Δt (RV-2's negative control) without touching the sampler under test.
pub(super) struct ScaledNoise<'a, N> {
    pub(super) scale: f64,
    pub(super) inner: &'a mut N,
}

impl<S: Algebra, N: Noise<S>> Noise<S> for ScaledNoise<'_, N> {
    fn standard_normal(&mut self, like: &S) -> S {
        let z = self.inner.standard_normal(like);
        if self.scale == 1.0 {
            z
        } else {
            S::lin(&[(self.scale, &z)])
        }
    }
    fn rebase(&mut self, live: &mut [&mut S]) {
        self.inner.rebase(live)
    }
}

/// Exact W2 between the law of `sampler` (noise scaled by `noise_scale`; 1 is the sampler as written) run on
/// VP-linear from the exact p_1 to t = 1e-3, and the exact marginal p_{1e-3}, for each step count in `ns`.
/// Euler–Maruyama runs on a grid uniform in t, the other samplers on one uniform in λ.
pub(super) fn exact_w2_curve(
    sampler: Sampler,
    g: &Gaussian,
    noise_scale: f64,
    ns: &[f64],
) -> Result<Vec<f64>> {
    let sch = VpLinear::default();
    let (t_max, t_min) = (1.0, 1e-3);
    let (m_true, v_true) = g.marginal(sch.alpha(t_min), sch.sigma(t_min));
    ns.iter()
        .map(|&n| {
            let times = if matches!(sampler, Sampler::EulerMaruyama { .. }) {
                uniform_t(t_max, t_min, n as usize)?
            } else {
                uniform_logsnr(&sch, t_max, t_min, n as usize)?
            };
            let x = Form::marginal(g, sch.alpha(t_max), sch.sigma(t_max));
            let mut noise = ScaledNoise {
                scale: noise_scale,
                inner: &mut FormNoise::after(1),
            };
            let out = sampler.run(&sch, &times, x, g, &mut noise);
            Ok(w2_commuting(
                &out.c,
                &out.variance(),
                m_true.as_slice(),
                v_true.as_slice(),
            ))
        })
        .collect()
}

/// What [`gmm_marginal_check`] found for one sampler on the 1-D §8 GMM.
pub(super) struct GmmCheck {
    /// Largest |MC − exact law| / SE over mean and variance (≤ 4 passes: k = 4 standard errors).
    pub(super) worst_z: f64,
    /// log₂(TV(N)/TV(2N)) of the exact laws: the observed weak order (1 for these samplers).
    pub(super) order: f64,
    /// log₂(W2(N)/W2(2N)), reported (W2 on a mixture converges more slowly before the asymptotic regime).
    pub(super) w2_order: f64,
    /// Exact W2(2N) to p_{t_min} and its stated quadrature accuracy.
    pub(super) w2: f64,
    pub(super) w2_accuracy: f64,
}

/// `sampler` on the 1-D §8 GMM from the exact p_T, VP-linear, t from 1 to 1e-3 on a grid uniform in λ:
/// (1) its exact 1-D law at N = `steps` and 2N (`law1d`, no Monte Carlo) against the exact p_{t_min} — W2,
/// KS, TV, KL and the observed weak order log₂(TV(N)/TV(2N)); (2) `n` Monte Carlo paths of the vector code at
/// 2N against the mean and variance of the exact law *at the same N* (no discretisation bias left to
/// bound, so plain k standard errors apply).
pub(super) fn gmm_marginal_check(
    ctx: &Ctx,
    sampler: Sampler,
    steps: usize,
    n: usize,
    table: &mut Table,
) -> Result<GmmCheck> {
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let (t_max, t_min) = (1.0, 1e-3);
    let (data, reference) = (
        density_1d(&mix, 1.0, 0.0)?,
        density_1d(&mix, sch.alpha(t_min), sch.sigma(t_min))?,
    );
    let mut w2 = Vec::new();
    let mut last = None;
    for mult in [1usize, 2] {
        let times = uniform_logsnr(&sch, t_max, t_min, steps * mult)?;
        let law = output_law_vs(
            sampler,
            &sch,
            &times,
            &data,
            &reference,
            Start::Marginal,
            Accuracy {
                panels: 128,
                kappa: 3.0,
            },
        )?;
        for (q, v) in [
            ("w2 to p_t_min", law.w2),
            ("ks to p_t_min", law.ks),
            ("tv to p_t_min", law.tv),
            ("kl to p_t_min", law.kl),
            ("w2 accuracy (n vs 2n)", law.error.w2),
        ] {
            table.push(vec![
                sampler.label().into(),
                (steps * mult).into(),
                q.into(),
                v.into(),
                "".into(),
                "".into(),
                "".into(),
            ]);
        }
        w2.push((law.w2, law.error.w2, law.tv));
        let moments = law.mean_var();
        drop(law);
        last = Some((times, moments));
    }
    let (times, (m_law, v_law)) = last.expect("two runs");
    let mut rng = ctx.rng(&format!("{}-2", sampler.label()));
    let outs: Vec<f64> = (0..n)
        .map(|p| {
            let x0 = mix.sample(&mut rng);
            let z: f64 = StandardNormal.sample(&mut rng);
            let x = x0 * sch.alpha(t_max) + DVector::from_element(1, z * sch.sigma(t_max));
            let seed = crate::claims::stable_hash(
                ctx.seed,
                &[ctx.id, &sampler.label(), "2", &p.to_string()],
            );
            sampler.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(seed))[0]
        })
        .collect();
    let mc = mean_ci(&outs, tol::LEVEL)?;
    let sq: Vec<f64> = outs.iter().map(|x| (x - mc.mean).powi(2)).collect();
    let vc = mean_ci(&sq, tol::LEVEL)?;
    let mut worst_z: f64 = 0.0;
    for (name, exact, ci) in [("mean", m_law, mc), ("variance", v_law, vc)] {
        let z = (ci.mean - exact) / ci.se;
        worst_z = worst_z.max(z.abs());
        table.push(vec![
            sampler.label().into(),
            (2 * steps).into(),
            format!("{name} (monte carlo, {n} paths)").into(),
            exact.into(),
            ci.mean.into(),
            ci.se.into(),
            z.into(),
        ]);
    }
    Ok(GmmCheck {
        worst_z,
        order: (w2[0].2 / w2[1].2).log2(),
        w2_order: (w2[0].0 / w2[1].0).log2(),
        w2: w2[1].0,
        w2_accuracy: w2[1].1,
    })
}

pub(super) fn gmm_table() -> Table {
    Table::new(
        "gmm",
        &[
            "sampler",
            "steps",
            "quantity",
            "exact_law",
            "monte_carlo",
            "standard_error",
            "z",
        ],
    )
}
