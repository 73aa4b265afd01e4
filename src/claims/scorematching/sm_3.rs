//! SM-3: the ε-prediction objective is σ²-weighted score matching plus a θ-independent constant, for every
//! weighting and time distribution; its minimum per t is the MMSE (FW abstract; PDM blog).

use super::common::{
    ci, cond_c, mixture_constants, normal_vec, paired_rows, random_affine, random_models, times,
    z_of, Draws, PAIRED_COLUMNS,
};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, random_gaussian};
use crate::losses::gaussian::{self as gx, AffineScore};
use crate::losses::{dsm_sample, esm_sample, NoiseLevel, Target, TimeDistribution, Weighting};
use crate::schedule::{all_continuous, BetaSchedule, Discrete, Schedule, VpLinear};
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rand::Rng;

pub(super) fn claim() -> Claim {
    Claim {
        id: "SM-3",
        family: super::FAMILY,
        source: "FW abstract: \"the standard noise-prediction objective is equivalent to score matching up to an additive constant independent of the model parameters\"; PDM blog",
        statement: "The noise-prediction objective is equivalent to score matching up to an additive constant independent of the model parameters: E_t[w‖ε_θ − ε‖²] = E_t[wσ² J_ESM,t(θ)] + E_t[wσ²C_t] for every weighting w and time distribution; the minimum per t is the MMSE d − σ²E‖∇log p_t‖².",
        check,
    }
}

/// A time-dependent affine model −P(t)(x − m(t)), P(t) = P₀ + τP₁, m(t) = m₀ + τm₁, τ = t/T.
struct AffineInTime {
    p0: DMatrix<f64>,
    p1: DMatrix<f64>,
    m0: DVector<f64>,
    m1: DVector<f64>,
    t_max: f64,
}

impl AffineInTime {
    fn random<R: Rng + ?Sized>(d: usize, t_max: f64, rng: &mut R) -> Self {
        let a = random_affine(d, rng);
        let b = random_affine(d, rng);
        Self {
            p0: a.p,
            p1: b.p - DMatrix::identity(d, d),
            m0: a.m,
            m1: b.m,
            t_max,
        }
    }
    fn at(&self, t: f64) -> AffineScore {
        let u = t / self.t_max;
        AffineScore {
            p: &self.p0 + &self.p1 * u,
            m: &self.m0 + &self.m1 * u,
        }
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let mut rng = ctx.rng("gaussian");
    let d = 4;
    let g = random_gaussian(d, &mut rng);
    let kappa_sigma = g.eigvals.max() / g.eigvals.min();
    let k_theta: usize = ctx.scale.pick(5, 16);
    let panels = ctx.scale.pick(12, 40);
    let cases: Vec<(Box<dyn Schedule>, TimeDistribution)> = vec![
        (
            Box::new(VpLinear::default()),
            TimeDistribution::Uniform { lo: 1e-3, hi: 1.0 },
        ),
        (
            Box::new(VpLinear::default()),
            TimeDistribution::LogitNormal {
                mean: 0.0,
                std: 1.0,
                lo: 1e-3,
                hi: 1.0,
            },
        ),
        (
            Box::new(crate::schedule::CosineVp),
            TimeDistribution::Uniform {
                lo: 1e-3,
                hi: 0.999,
            },
        ),
        (
            Box::new(crate::schedule::RectifiedFlow),
            TimeDistribution::LogitNormal {
                mean: 0.0,
                std: 1.0,
                lo: 1e-3,
                hi: 0.999,
            },
        ),
        (
            Box::new(crate::schedule::Edm),
            TimeDistribution::Uniform {
                lo: 0.002,
                hi: 80.0,
            },
        ),
        (
            Box::new(Discrete::new(BetaSchedule::Linear)),
            TimeDistribution::DiscreteSteps { n: 1000 },
        ),
        (
            Box::new(Discrete::new(BetaSchedule::SquaredCosine)),
            TimeDistribution::DiscreteSteps { n: 1000 },
        ),
    ];
    let weightings = [
        Weighting::Unit,
        Weighting::InverseSnr,
        Weighting::MinSnr { gamma: 5.0 },
        Weighting::Likelihood,
        Weighting::Edm { sigma_data: 0.5 },
    ];
    let tolerance = tol::IDENTITY * kappa_sigma;
    let mut exact = Table::new(
        "gaussian",
        &[
            "schedule",
            "time_distribution",
            "weighting",
            "theta",
            "eps_loss",
            "weighted_esm",
            "difference",
            "constant",
            "rel_err",
            "tolerance",
        ],
    );
    let mut w_exact: f64 = 0.0;
    let mut line_pts: [Vec<(f64, f64)>; 3] = [vec![], vec![], vec![]];
    for (ci_, (sch, td)) in cases.iter().enumerate() {
        let t_max = sch.t_range().1;
        let models: Vec<AffineInTime> = (0..k_theta)
            .map(|_| AffineInTime::random(d, t_max, &mut rng))
            .collect();
        for w in &weightings {
            let wt = |t: f64| w.weight(sch.as_ref(), t);
            let lvl = |t: f64| NoiseLevel::at(sch.as_ref(), t);
            let constant = td.expect(
                &|t| wt(t) * lvl(t).sigma.powi(2) * gx::dsm_constant_posterior(&g, &lvl(t)),
                panels,
            );
            for (th, m) in models.iter().enumerate() {
                let l = td.expect(
                    &|t| wt(t) * gx::conditional_loss(&g, &m.at(t), Target::Eps, &lvl(t)),
                    panels,
                );
                let j = td.expect(
                    &|t| wt(t) * lvl(t).sigma.powi(2) * gx::esm(&g, &m.at(t), &lvl(t)),
                    panels,
                );
                let err = ((l - j) - constant).abs() / (l.abs() + j.abs());
                w_exact = w_exact.max(err / tolerance);
                exact.push(vec![
                    sch.name().into(),
                    td.name().into(),
                    w.name().into(),
                    th.into(),
                    l.into(),
                    j.into(),
                    (l - j).into(),
                    constant.into(),
                    err.into(),
                    tolerance.into(),
                ]);
            }
            // The figure: one case, along a random line of θ.
            if ci_ == 0 && matches!(w, Weighting::Unit) {
                let base = &models[0];
                let dir = AffineInTime::random(d, t_max, &mut rng);
                for k in 0..=16 {
                    let u = -1.0 + 0.125 * k as f64;
                    let mm = AffineInTime {
                        p0: &base.p0 + &dir.p0 * u,
                        p1: &base.p1 + &dir.p1 * u,
                        m0: &base.m0 + &dir.m0 * u,
                        m1: &base.m1 + &dir.m1 * u,
                        t_max,
                    };
                    let l = td.expect(
                        &|t| gx::conditional_loss(&g, &mm.at(t), Target::Eps, &lvl(t)),
                        panels,
                    );
                    let j = td.expect(
                        &|t| lvl(t).sigma.powi(2) * gx::esm(&g, &mm.at(t), &lvl(t)),
                        panels,
                    );
                    line_pts[0].push((u, l));
                    line_pts[1].push((u, j));
                    line_pts[2].push((u, j + constant));
                }
            }
        }
    }
    // The minimum per t: at ε* (the exact affine score) the ε-loss is the MMSE d − σ²E‖∇log p_t‖².
    let mut mmse = Table::new(
        "mmse",
        &[
            "schedule",
            "t",
            "sigma",
            "eps_loss_at_optimum",
            "mmse_formula",
            "rel_err",
            "tolerance",
        ],
    );
    let mut w_mmse: f64 = 0.0;
    for sch in all_continuous() {
        for t in times(sch.as_ref(), ctx.scale.pick(6, 20)) {
            let n = NoiseLevel::at(sch.as_ref(), t);
            let at_opt = gx::conditional_loss(&g, &AffineScore::exact(&g, &n), Target::Eps, &n);
            let formula = d as f64 - n.sigma.powi(2) * gx::fisher(&g, &n);
            // The formula cancels d against σ² tr C⁻¹ (≤ d): error relative to d.
            let err = (at_opt - formula).abs() / d as f64;
            let tl = tol::IDENTITY * cond_c(&g, &n);
            w_mmse = w_mmse.max(err / tl);
            mmse.push(vec![
                sch.name().into(),
                t.into(),
                n.sigma.into(),
                at_opt.into(),
                formula.into(),
                err.into(),
                tl.into(),
            ]);
        }
    }

    // Mixture: paired Monte Carlo over (t, x₀, ε) with time-dependent MLPs; the constant E_t[wσ²C_t]
    // estimated independently (fresh draws, posterior-covariance route (α²/σ²) tr Cov[x₀|x_t]).
    let mix = demo_mixture();
    let sch = VpLinear::default();
    let n_mc = ctx.scale.pick(3000, 30000);
    let mut rng = ctx.rng("mixture");
    let models = random_models(2, ctx.scale.pick(3, 8), ctx.scale.pick(2, 4), &mut rng);
    let names: Vec<String> = models.iter().map(|(n, _)| n.clone()).collect();
    let mut mc = Table::new("mixture", &PAIRED_COLUMNS);
    let mut zmax: f64 = 0.0;
    let mut w_point: f64 = 0.0;
    for (td, w) in [
        (
            TimeDistribution::LogitNormal {
                mean: 0.0,
                std: 1.0,
                lo: 1e-3,
                hi: 1.0,
            },
            Weighting::Unit,
        ),
        (
            TimeDistribution::Uniform { lo: 1e-3, hi: 1.0 },
            Weighting::MinSnr { gamma: 5.0 },
        ),
    ] {
        let mut draws = Vec::with_capacity(n_mc);
        for _ in 0..n_mc {
            let t = td.sample(&mut rng);
            let n = NoiseLevel::at(&sch, t);
            let x0 = mix.sample(&mut rng);
            let e = normal_vec(2, &mut rng);
            let x = n.noised(&x0, &e);
            let st = mix.score(&x, n.alpha, n.sigma);
            draws.push((t, n, e, x, st));
        }
        let konst: Vec<f64> = (0..n_mc)
            .map(|_| {
                let t = td.sample(&mut rng);
                let n = NoiseLevel::at(&sch, t);
                let x = n.noised(&mix.sample(&mut rng), &normal_vec(2, &mut rng));
                w.weight(&sch, t) * n.alpha.powi(2) / n.sigma.powi(2)
                    * mix.posterior_covariance(&x, n.alpha, n.sigma).trace()
            })
            .collect();
        let kc = ci(&konst)?;
        let mut all = Vec::new();
        for (_, m) in &models {
            let mut df = Vec::with_capacity(n_mc);
            for (t, n, e, x, st) in &draws {
                let s = m.score(x, *t);
                let eps_hat = -&s * n.sigma;
                let le = (&eps_hat - e).norm_squared();
                // Pointwise identity ‖ε_θ − ε‖² = σ²‖s_θ + ε/σ‖² (relative to the terms).
                let r = (le - n.sigma.powi(2) * dsm_sample(&s, e, n.sigma)).abs()
                    / (le + n.sigma.powi(2) * (s.norm_squared() + (e / n.sigma).norm_squared()));
                w_point = w_point.max(r);
                let wt = w.weight(&sch, *t);
                df.push(wt * le - wt * n.sigma.powi(2) * esm_sample(&s, st));
            }
            all.push(df);
        }
        zmax = zmax.max(paired_rows(
            &mut mc,
            &format!("vp-linear {} w={}", td.name(), w.name()),
            &names,
            &all,
            kc.mean,
            kc.se,
        )?);
    }
    // MMSE on the mixture at fixed t: the ε-loss of the exact ε* = −σ∇log p_t against σ²C_t by quadrature.
    let mut mmse_mix = Table::new(
        "mixture-mmse",
        &[
            "t",
            "sigma",
            "n",
            "eps_loss_at_optimum_mean",
            "se",
            "mmse_quadrature",
            "quadrature_err",
            "z",
        ],
    );
    for t in [0.1, 0.4] {
        let n = NoiseLevel::at(&sch, t);
        let (k, qerr) = mixture_constants(&mix, &n, ctx.scale.pick(20, 32))?;
        let dr = Draws::new(&mix, &sch, t, n_mc, &mut rng);
        let v: Vec<f64> = dr
            .eps
            .iter()
            .zip(&dr.score)
            .map(|(e, s)| (e + s * n.sigma).norm_squared())
            .collect();
        let c = ci(&v)?;
        let target = 2.0 - n.sigma.powi(2) * k.fisher;
        let z = z_of(&c, target, qerr * n.sigma.powi(2));
        zmax = zmax.max(z);
        mmse_mix.push(vec![
            t.into(),
            n.sigma.into(),
            n_mc.into(),
            c.mean.into(),
            c.se.into(),
            target.into(),
            qerr.into(),
            z.into(),
        ]);
    }
    let [lp0, lp1, lp2] = line_pts;
    let fig = Figure::new(
        "line",
        "SM-3: ε-loss and σ²-weighted ESM along a random line in θ (Gaussian, VP, t ~ U, exact)",
        "u (dimensionless; θ = θ₀ + u·δ)",
        "objective (dimensionless)",
    )
    .with(Series::line("E_t‖ε_θ − ε‖²", lp0))
    .with(Series::line("E_t[σ² J_ESM,t]", lp1))
    .with(Series::reference("E_t[σ² J_ESM,t] + E_t[σ² C_t]", lp2));
    Ok(Evidence::within(
        zmax,
        tol::K_SE,
        format!(
            "mixture: max z over {} time-dependent models × 2 (time distribution, weighting) of mean(w‖ε_θ−ε‖² − wσ²‖s_θ−∇log p_t‖²) vs an independent estimate of E_t[wσ²C_t] (and paired vs the first model), n = {n_mc}; mixture MMSE vs quadrature; Gaussian exact (7 schedule/time-distribution cases incl. discrete DDPM steps × 5 weightings × {k_theta} θ): max err/tol {w_exact:.3} (tol 1e-12·cond(Σ) ≥ 1e-12·cond(C_t), relative to |L_ε|+|J|); MMSE d − σ²tr C⁻¹ at ε*: max err/tol {w_mmse:.3}; pointwise ‖ε_θ−ε‖² = σ²‖s_θ+ε/σ‖² max rel {w_point:.1e}",
            models.len()
        ),
    )
    .require(w_exact <= 1.0, "Gaussian exact ε-loss − weighted ESM = E_t[wσ²C_t]")
    .require(w_mmse <= 1.0, "ε-loss minimum = MMSE")
    .require(w_point <= tol::IDENTITY, "pointwise ε/score identity")
    .table(mc)
    .table(exact)
    .table(mmse)
    .table(mmse_mix)
    .figure(fig))
}
