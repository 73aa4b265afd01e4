//! DD-2: DDIM(η = 1) is DDPM ancestral sampling with β̃ (same kernel, same paths under common noise).

use super::common::{Oracle, ROUNDOFF};
use crate::algebra::{Form, FormNoise, PcgNoise};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::sampler::{DdpmVariance, Sampler};
use crate::schedule::{BetaSchedule, Discrete};
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

/// Paths under common noise: 50 steps, each agreeing to tol::IDENTITY (1e-12), the difference amplified
/// by at most 1/√(1−β) per step: 1e-10 leaves room for the accumulation.
const PATH_TOL: f64 = 1e-10;

pub(super) fn claim() -> Claim {
    Claim {
        id: "DD-2",
        family: super::FAMILY,
        source: "DDIM (Song et al. 2021) eq. 16; DDPM (Ho et al. 2020); CLAIMS §7",
        statement: "DDIM with η = 1 is DDPM ancestral sampling with the posterior variance β̃: same kernel q(x_{t−1}|x_t, x̂₀) (mean coefficients and variance), hence identical paths under common noise.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let mut table = Table::new(
        "kernel",
        &[
            "schedule",
            "grid",
            "step_from",
            "step_to",
            "sampler",
            "coef_x_t",
            "coef_x0",
            "variance",
            "rel_err",
        ],
    );
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    for kind in BetaSchedule::all() {
        let sch = Discrete::new(kind);
        let stride = ctx.scale.pick(20, 1);
        let grids: Vec<(&str, Vec<f64>)> = vec![
            (
                "every-step",
                (0..sch.len())
                    .rev()
                    .step_by(stride)
                    .map(|n| n as f64)
                    .collect(),
            ),
            ("skip-20", (0..50).rev().map(|k| (k * 20) as f64).collect()),
        ];
        for (gname, times) in grids {
            for w in times.windows(2) {
                let (s, t) = (w[0] as usize, w[1] as usize);
                let (ab_s, ab_t) = (sch.alphas_cumprod[s], sch.alphas_cumprod[t]);
                // The DDPM posterior q(x_t | x_s, x₀) in DDPM's own notation (cur = s, prev = t).
                let beta = 1.0 - ab_s / ab_t;
                let exp_xt = (1.0 - beta).sqrt() * (1.0 - ab_t) / (1.0 - ab_s);
                let exp_x0 = ab_t.sqrt() * beta / (1.0 - ab_s);
                let exp_var = (1.0 - ab_t) * beta / (1.0 - ab_s);
                for sampler in [
                    Sampler::Ddim { eta: 1.0 },
                    Sampler::Ddpm(DdpmVariance::Small),
                ] {
                    // Probe: coordinate 0 carries x₀ = 1, x_s = 0; coordinate 1 carries x₀ = 0, x_s = 1.
                    let oracle = Oracle(Form::constant(vec![1.0, 0.0]));
                    let x = Form::constant(vec![0.0, 1.0]);
                    let out = sampler.step(
                        &sch,
                        s as f64,
                        t as f64,
                        &x,
                        &oracle,
                        &mut FormNoise::after(0),
                    );
                    let var = out.variance()[0];
                    let err = ((out.c[1] - exp_xt).abs() / exp_xt)
                        .max((out.c[0] - exp_x0).abs() / exp_x0)
                        .max((var - exp_var).abs() / exp_var);
                    // Conditioning: β = 1 − ᾱ_s/ᾱ_t cancels (ε/β), and Ho's x_t coefficient
                    // (1 − β/σ_s²)/√(1−β) cancels when β → 1 (cosine cap): κ = (1 + β/σ_s²)/√(1−β)/coef.
                    let kappa = (1.0 / beta)
                        .max((1.0 + beta / (1.0 - ab_s)) / (1.0 - beta).sqrt() / exp_xt);
                    let scaled = err / (tol::IDENTITY.max(ROUNDOFF * kappa));
                    if scaled > worst {
                        worst = scaled;
                        worst_what =
                            format!("{} {gname} {s}->{t} {}", kind.name(), sampler.label());
                    }
                    table.push(vec![
                        kind.name().into(),
                        gname.into(),
                        s.into(),
                        t.into(),
                        sampler.label().into(),
                        out.c[1].into(),
                        out.c[0].into(),
                        var.into(),
                        err.into(),
                    ]);
                }
            }
        }
    }
    // Paths under common noise on a 2-D mixture, 50 skipping steps of the linear table.
    let sch = Discrete::new(BetaSchedule::Linear);
    let mix = demo_mixture();
    let times: Vec<f64> = (0..50)
        .rev()
        .map(|k| (k * 20 + 19) as f64)
        .chain([0.0])
        .collect();
    let n = ctx.scale.pick(200, 2000);
    let mut rng = ctx.rng("start");
    let mut path_err: f64 = 0.0;
    let mut paths = Table::new(
        "paths",
        &[
            "path",
            "ddim_eta1_x",
            "ddim_eta1_y",
            "ddpm_small_x",
            "ddpm_small_y",
            "rel_diff",
        ],
    );
    for p in 0..n {
        let x_t = DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng));
        let seed = crate::claims::stable_hash(ctx.seed, &[ctx.id, "path", &p.to_string()]);
        let a = Sampler::Ddim { eta: 1.0 }.run(
            &sch,
            &times,
            x_t.clone(),
            &mix,
            &mut PcgNoise::seeded(seed),
        );
        let b = Sampler::Ddpm(DdpmVariance::Small).run(
            &sch,
            &times,
            x_t,
            &mix,
            &mut PcgNoise::seeded(seed),
        );
        let e = (&a - &b).norm() / a.norm().max(1.0);
        path_err = path_err.max(e);
        if p < 200 {
            paths.push(vec![
                (p as usize).into(),
                a[0].into(),
                a[1].into(),
                b[0].into(),
                b[1].into(),
                e.into(),
            ]);
        }
    }
    let fig = Figure::new(
        "",
        "DD-2: DDIM(η=1) and DDPM(β̃) paths under common noise",
        "DDIM(η=1) output, first coordinate (data units)",
        "DDPM(β̃) output, first coordinate (data units)",
    )
    .with(Series::scatter(
        "paths",
        (0..paths.rows.len())
            .map(|i| {
                (
                    paths.rows[i][1].as_f64().unwrap_or(0.0),
                    paths.rows[i][3].as_f64().unwrap_or(0.0),
                )
            })
            .collect(),
    ));
    Ok(Evidence::within(
        worst,
        1.0,
        format!(
            "kernel: max rel_err / max(1e-12, 64ε/β) over 3 tables (worst {worst_what}); {n} mixture paths under common noise agree to {path_err:.1e} (tolerance {PATH_TOL:.0e}, 50 steps of 1e-12 each, amplified ≤ 1/√(1−β) per step)"
        ),
    )
    .require(path_err <= PATH_TOL, "paths under common noise differ")
    .table(table)
    .table(paths)
    .figure(fig))
}
