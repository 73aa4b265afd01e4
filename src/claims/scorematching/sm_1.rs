//! SM-1: explicit score matching = implicit score matching + the Fisher information, for every θ
//! (TZ §3, Hyvärinen 2005; CLAIMS §5): exact on Gaussians, paired Monte Carlo on the 2-D mixture.

use super::common::{
    cond_c, normal_vec, paired_rows, random_affine, random_models, Draws, PAIRED_COLUMNS,
};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, random_gaussian};
use crate::losses::gaussian as gx;
use crate::losses::mixture::Grid2;
use crate::losses::{esm_sample, ism_sample, NoiseLevel};
use crate::models::{Mlp, ScoreModel};
use crate::tol;
use anyhow::Result;

pub(super) fn claim() -> Claim {
    Claim {
        id: "SM-1",
        family: super::FAMILY,
        source: "TZ §3 (Hyvärinen 2005); CLAIMS §5",
        statement: "Explicit = implicit score matching + constant: E‖s_θ − ∇log p‖² = E[‖s_θ‖² + 2∇·s_θ] + E‖∇log p‖² for every θ (Gaussian: the constant is tr C⁻¹; mixture: the Fisher information).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let mut rng = ctx.rng("gaussian");
    let k_theta: usize = ctx.scale.pick(8, 32);
    // (a) Gaussian data, exact: ESM − ISM against tr C⁻¹ from a Cholesky inverse (Mixture Hessian).
    let mut exact = Table::new(
        "gaussian",
        &[
            "case",
            "d",
            "sigma",
            "theta",
            "esm",
            "ism",
            "esm_minus_ism",
            "fisher_cholesky",
            "rel_err",
            "tolerance",
        ],
    );
    let mut worst_exact: f64 = 0.0;
    for (case, d) in [(0usize, 2usize), (1, 5), (2, 8)] {
        let g = random_gaussian(d, &mut rng);
        for sigma in [0.0, 0.1, 1.0] {
            let n = NoiseLevel {
                alpha: 1.0,
                sigma,
                dalpha: 0.0,
                dsigma: 0.0,
            };
            let mix = g.to_mixture();
            let fisher = -mix.hessian_log_density(&g.mean, 1.0, sigma).trace();
            let tolerance = tol::IDENTITY * cond_c(&g, &n);
            for th in 0..k_theta {
                let model = random_affine(d, &mut rng);
                let (e, i) = (gx::esm(&g, &model, &n), gx::ism(&g, &model, &n));
                let err = ((e - i) - fisher).abs() / (e.abs() + i.abs() + fisher);
                worst_exact = worst_exact.max(err / tolerance);
                exact.push(vec![
                    case.into(),
                    d.into(),
                    sigma.into(),
                    th.into(),
                    e.into(),
                    i.into(),
                    (e - i).into(),
                    fisher.into(),
                    err.into(),
                    tolerance.into(),
                ]);
            }
        }
    }
    // (b) The 2-D mixture (the data law itself, α = 1, σ = 0), nonlinear models, paired Monte Carlo.
    let mix = demo_mixture();
    let n0 = NoiseLevel {
        alpha: 1.0,
        sigma: 0.0,
        dalpha: 0.0,
        dsigma: 0.0,
    };
    let panels = ctx.scale.pick(28, 48);
    let f1 = Grid2::new(&mix, &n0, panels)?.expect(&|x| mix.score(x, 1.0, 0.0).norm_squared());
    let f2 = Grid2::new(&mix, &n0, 2 * panels)?.expect(&|x| mix.score(x, 1.0, 0.0).norm_squared());
    let quad_err = (f1 - f2).abs();
    let n_mc = ctx.scale.pick(4000, 40000);
    let mut rng = ctx.rng("mixture");
    let draws = Draws::at_level(&mix, n0, n_mc, &mut rng);
    let models = random_models(2, ctx.scale.pick(4, 12), ctx.scale.pick(3, 8), &mut rng);
    let mut mc = Table::new("mixture", &PAIRED_COLUMNS);
    let mut names = Vec::new();
    let mut all = Vec::new();
    for (name, m) in &models {
        let df: Vec<f64> = draws
            .x
            .iter()
            .zip(&draws.score)
            .map(|(x, s_true)| {
                let (s, j) = m.eval(x, 0.0);
                esm_sample(&s, s_true) - ism_sample(&s, &j)
            })
            .collect();
        names.push(name.clone());
        all.push(df);
    }
    let zmax = paired_rows(&mut mc, "data alpha=1 sigma=0", &names, &all, f2, quad_err)?;
    let diffs: Vec<f64> = all
        .iter()
        .map(|d| d.iter().sum::<f64>() / d.len() as f64)
        .collect();
    // (c) Along a random line in θ-space (MLP, common random numbers): parallel curves.
    let mut base = Mlp::random(2, 16, 2.0, &mut rng);
    let theta0 = base.params();
    let dir = normal_vec(theta0.len(), &mut rng).normalize() * (theta0.norm() * 0.5);
    let (mut ce, mut ci_, mut cs) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..=10 {
        let u = -1.0 + 0.2 * k as f64;
        base.set_params(&(&theta0 + &dir * u));
        let (mut e, mut i) = (0.0, 0.0);
        for (x, s_true) in draws.x.iter().zip(&draws.score) {
            let (s, j) = base.eval(x, 0.0);
            e += esm_sample(&s, s_true);
            i += ism_sample(&s, &j);
        }
        let nn = draws.x.len() as f64;
        ce.push((u, e / nn));
        ci_.push((u, i / nn));
        cs.push((u, i / nn + f2));
    }
    let fig = Figure::new(
        "line",
        "SM-1: ESM and ISM along a random line in θ (MLP, 2-D mixture, common random numbers)",
        "u (dimensionless; θ = θ₀ + u·δ)",
        "objective (1/data units²)",
    )
    .with(Series::line("ESM", ce))
    .with(Series::line("ISM", ci_))
    .with(Series::reference("ISM + E‖∇log p‖² (quadrature)", cs));
    let spread = diffs.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - diffs.iter().cloned().fold(f64::INFINITY, f64::min);
    Ok(Evidence::within(
        zmax,
        tol::K_SE,
        format!("mixture: max over {} models of |mean(ESM−ISM) − E‖∇log p‖²|/(SE + quadrature err) and of the paired |Δ(ESM−ISM) vs the first model|/SE, n = {n_mc} paired samples, Fisher information by quadrature = {f2:.6} (± {quad_err:.1e}); spread of the paired means across θ {spread:.3e}; Gaussian exact: max rel_err/tolerance = {worst_exact:.3} (tolerance 1e-12·cond(C), relative to |ESM|+|ISM|+tr C⁻¹)", models.len()),
    )
    .require(worst_exact <= 1.0, "Gaussian exact ESM − ISM = tr C⁻¹")
    .table(mc)
    .table(exact)
    .figure(fig))
}
