//! Helpers shared by several reverse-dynamics claims: the Gaussian moment ODE of the λ-family (RV-1, RV-2,
//! RV-5), exact-law W2 curves of the reverse-SDE discretisations (RV-1, RV-2) and the Monte Carlo marginal
//! check on the §8 GMM (RV-1, RV-2).

use crate::algebra::{Algebra, Form, FormNoise, Noise, PcgNoise};
use crate::claims::Ctx;
use crate::evidence::Table;
use crate::fixtures::ho_mixture;
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

/// Monte Carlo of `sampler` on the 1-D §8 GMM from exact p_T samples, at `steps` and `2·steps`; returns per
/// statistic (mean, variance) the |MC(2N) − exact| / (4 SE + |MC(N) − MC(2N)|) ratio (≤ 1 passes: k = 4
/// standard errors plus a Richardson bound on the remaining O(h) bias), and a table row set.
pub(super) fn gmm_marginal_check(
    ctx: &Ctx,
    sampler: Sampler,
    steps: usize,
    n: usize,
    table: &mut Table,
) -> Result<f64> {
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let (t_max, t_min) = (1.0, 1e-3);
    let (m_true, v_true) = mix.moments_1d(sch.alpha(t_min), sch.sigma(t_min));
    let mut stats = Vec::new();
    for mult in [1usize, 2] {
        let times = uniform_logsnr(&sch, t_max, t_min, steps * mult)?;
        let mut rng = ctx.rng(&format!("{}-{mult}", sampler.label()));
        let outs: Vec<f64> = (0..n)
            .map(|p| {
                let x0 = mix.sample(&mut rng);
                let z: f64 = StandardNormal.sample(&mut rng);
                let x = x0 * sch.alpha(t_max) + DVector::from_element(1, z * sch.sigma(t_max));
                let seed = crate::claims::stable_hash(
                    ctx.seed,
                    &[ctx.id, &sampler.label(), &mult.to_string(), &p.to_string()],
                );
                sampler.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(seed))[0]
            })
            .collect();
        let mc = mean_ci(&outs, tol::LEVEL)?;
        let sq: Vec<f64> = outs.iter().map(|x| (x - mc.mean).powi(2)).collect();
        let vc = mean_ci(&sq, tol::LEVEL)?;
        stats.push((mc, vc));
    }
    let mut worst: f64 = 0.0;
    for (name, exact, coarse, fine) in [
        ("mean", m_true, stats[0].0, stats[1].0),
        ("variance", v_true, stats[0].1, stats[1].1),
    ] {
        let ratio =
            (fine.mean - exact).abs() / (tol::K_SE * fine.se + (coarse.mean - fine.mean).abs());
        worst = worst.max(ratio);
        table.push(vec![
            sampler.label().into(),
            name.into(),
            (2 * steps).into(),
            n.into(),
            exact.into(),
            fine.mean.into(),
            fine.se.into(),
            coarse.mean.into(),
            ratio.into(),
        ]);
    }
    Ok(worst)
}

pub(super) fn gmm_table() -> Table {
    Table::new(
        "gmm",
        &[
            "sampler",
            "statistic",
            "steps",
            "paths",
            "exact",
            "monte_carlo",
            "standard_error",
            "monte_carlo_half_steps",
            "ratio_to_bound",
        ],
    )
}
