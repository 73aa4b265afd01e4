//! DDPM/DDIM (CLAIMS §7): DD-1 (the η-family preserves q(x_t|x₀)), DD-2 (η = 1 ≡ DDPM-β̃), DD-3 (η = 0 ≡
//! Euler in (σ̄, x̄) ≡ DPM-Solver-1 ≡ DPM-Solver++1; ≡ plain Euler for affine schedules), DD-4 (DDPM vs
//! Euler–Maruyama of the reverse SDE), DD-5 (point mass), DD-6 (one ε-model, every η; the η trade-off).

use crate::algebra::{Denoiser, Form, FormNoise, PcgNoise};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::metrics::loglog_slope;
use crate::metrics::sliced_w2;
use crate::sampler::{first_order_roundoff, uniform_t, DdpmVariance, Sampler};
use crate::schedule::{
    BetaSchedule, CosineVp, Discrete, Edm, RectifiedFlow, Schedule, SubVp, Ve, VpLinear,
};
use crate::target::projected_quantiles;
use crate::target::Gaussian;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "DD-1",
            family: "discrete",
            source: "DDIM (Song et al. 2021) Lemma 1 and `generalized_steps`; FW §7; CLAIMS §7",
            statement: "With the oracle x̂₀ = x₀, the DDIM(η) kernels preserve q(x_t|x₀) = N(√ᾱ_t x₀, (1−ᾱ_t)I) at every grid time, for every η ∈ [0, 1].",
            check: dd1,
        },
        Claim {
            id: "DD-2",
            family: "discrete",
            source: "DDIM (Song et al. 2021) eq. 16; DDPM (Ho et al. 2020); CLAIMS §7",
            statement: "DDIM with η = 1 is DDPM ancestral sampling with the posterior variance β̃: same kernel q(x_{t−1}|x_t, x̂₀) (mean coefficients and variance), hence identical paths under common noise.",
            check: dd2,
        },
        Claim {
            id: "DD-3",
            family: "discrete",
            source: "PDM teaching guide; DPM-Solver code; FW abstract; CLAIMS §7",
            statement: "DDIM(η = 0) = Euler in (σ/α, x/α) = DPM-Solver-1 = DPM-Solver++1 on every schedule; = plain Euler on the PF-ODE in t iff α, σ are affine in t.",
            check: dd3,
        },
        Claim {
            id: "DD-4",
            family: "discrete",
            source: "FW abstract (DDPM = discrete reverse-SDE sampling); Ho et al. 2020; Song et al. 2021; CLAIMS §7",
            statement: "DDPM(β̃) ≡ DDIM(η=1) ≡ SDE-DPM-Solver++1 (exact-Gaussian step with x̂₀ frozen); DDPM's coefficients differ from Euler–Maruyama of the reverse VP-SDE by O(β²) per step; DDPM(β), DDPM(β̃), EM and DDIM(η=0) all converge with W2 ∝ 1/N and KL ∝ 1/N² on Gaussian data.",
            check: dd4,
        },
        Claim {
            id: "DD-5",
            family: "discrete",
            source: "CLAIMS §7 (corollary of DD-3/HO-1)",
            statement: "For point-mass data with the exact denoiser, DDIM(η) for every η, DDPM(β̃), DPM-Solver-1/++1 and Euler in (σ̄, x̄) give exactly N(α_t μ, σ_t² I) at every grid time, for any step count; DDPM(β), Euler–Maruyama and PF-ODE Euler in t do not.",
            check: dd5,
        },
        Claim {
            id: "DD-6",
            family: "discrete",
            source: "FW §7; DDIM (Song et al. 2021) Thm 1 and Table 1 (trend only); CLAIMS §7",
            statement: "One exact ε-model serves every η; at few steps η = 0 is the most accurate and error grows with η, the gap closing as the step count grows (exact W2 on a Gaussian; sliced W2 on a 2-D mixture).",
            check: dd6,
        },
    ]
}

/// A denoiser that ignores x and returns a fixed x₀ (the "oracle" of the DDPM posterior).
struct Oracle<S>(S);

impl<S: Clone> Denoiser<S> for Oracle<S> {
    fn denoise(&self, _x: &S, _alpha: f64, _sigma: f64) -> S {
        self.0.clone()
    }
}

fn dd2(ctx: &Ctx) -> Result<Evidence> {
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
                    let scaled = err / (tol::IDENTITY.max(64.0 * f64::EPSILON * kappa));
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
    let path_tol = 1e-10;
    let fig = Figure::new(
        "",
        "DD-2: DDIM(η=1) and DDPM(β̃) paths under common noise",
        "DDIM(η=1) output, first coordinate",
        "DDPM(β̃) output, first coordinate",
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
            "kernel: max rel_err / max(1e-12, 64ε/β) over 3 tables (worst {worst_what}); {n} mixture paths under common noise agree to {path_err:.1e} (tolerance {path_tol:.0e}, 50 steps of 1e-12 each, amplified ≤ 1/√(1−β) per step)"
        ),
    )
    .require(path_err <= path_tol, "paths under common noise differ")
    .table(table)
    .table(paths)
    .figure(fig))
}

/// The schedules DD-3 runs on, with whether α and σ are affine in t.
fn dd3_schedules() -> Vec<(Box<dyn Schedule>, bool)> {
    vec![
        (Box::new(VpLinear::default()), false),
        (Box::new(SubVp::default()), false),
        (Box::new(CosineVp), false),
        (Box::new(Ve::default()), false),
        (Box::new(RectifiedFlow), true),
        (Box::new(Edm), true),
    ]
}

fn dd3(ctx: &Ctx) -> Result<Evidence> {
    let mix = demo_mixture();
    let n_paths = ctx.scale.pick(20, 200);
    let steps_list = [1usize, 2, 5, 10, 20, 50, 100];
    let mut table = Table::new(
        "",
        &[
            "schedule",
            "steps",
            "pair",
            "expected_equal",
            "max_rel_diff",
        ],
    );
    let mut fig = Figure::new(
        "",
        "DD-3: DDIM(η=0) against the other first-order forms",
        "steps",
        "max relative difference",
    )
    .loglog();
    let mut worst_eq: f64 = 0.0;
    let mut worst_eq_what = String::new();
    let mut min_neq = f64::INFINITY;
    let mut rng = ctx.rng("start");
    for (sch, affine) in dd3_schedules() {
        let (t_min, t_max) = sch.t_range();
        let starts: Vec<DVector<f64>> = (0..n_paths)
            .map(|_| {
                let x0 = mix.sample(&mut rng);
                let z = DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng));
                x0 * sch.alpha(t_max) + z * sch.sigma(t_max)
            })
            .collect();
        let mut curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for &steps in &steps_list {
            let times = uniform_t(t_max, t_min, steps)?;
            let run = |s: Sampler| -> Vec<DVector<f64>> {
                starts
                    .iter()
                    .map(|x| {
                        s.run(
                            sch.as_ref(),
                            &times,
                            x.clone(),
                            &mix,
                            &mut PcgNoise::seeded(0),
                        )
                    })
                    .collect()
            };
            let ddim = run(Sampler::Ddim { eta: 0.0 });
            let others = [
                ("euler-ve", Sampler::EulerVe, true),
                ("dpm-solver-1", Sampler::DpmSolver1, true),
                ("dpm-solver++1", Sampler::DpmSolverPp1, true),
                (
                    "pf-ode-euler-in-t",
                    Sampler::EulerMaruyama { noise_level: 0.0 },
                    affine,
                ),
            ];
            for (name, s, expect_equal) in others {
                let out = run(s);
                let diff = ddim
                    .iter()
                    .zip(&out)
                    .map(|(a, b)| (a - b).norm() / a.norm().max(1.0))
                    .fold(0.0, f64::max);
                // Round-off of two first-order recursions: a few ulps per step times the conditioning.
                let tolerance = 64.0 * f64::EPSILON * first_order_roundoff(sch.as_ref(), &times);
                if expect_equal {
                    let r = diff / tolerance;
                    if r > worst_eq {
                        worst_eq = r;
                        worst_eq_what = format!("{} {steps} steps vs {name}", sch.name());
                    }
                } else {
                    min_neq = min_neq.min(diff);
                }
                table.push(vec![
                    sch.name().into(),
                    steps.into(),
                    format!("ddim-eta0 vs {name}").into(),
                    (if expect_equal { "yes" } else { "no" }).into(),
                    diff.into(),
                ]);
                let label = format!("{} vs {name}", sch.name());
                if name == "pf-ode-euler-in-t" || sch.name() == "vp-linear" {
                    match curves.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, c)) => c.push((steps as f64, diff.max(1e-17))),
                        None => curves.push((label, vec![(steps as f64, diff.max(1e-17))])),
                    }
                }
            }
        }
        for (label, c) in curves {
            fig = fig.with(Series::line(label, c));
        }
    }
    Ok(Evidence::within(
        worst_eq,
        1.0,
        format!(
            "max over 6 schedules × 7 step counts × {n_paths} mixture paths of rel. difference / (64 ε Σ_k κ_k), κ_k the coefficient sizes of the step (sampler::first_order_roundoff) for the pairs that must agree (worst {worst_eq_what}); plain Euler in t on non-affine schedules differs by ≥ {min_neq:.2e} (must be ≥ 1e-6)"
        ),
    )
    .require(min_neq >= 1e-6, "plain Euler on a non-affine schedule agrees with DDIM: the comparison cannot discriminate")
    .table(table)
    .figure(fig))
}

fn dd5(ctx: &Ctx) -> Result<Evidence> {
    let mu = DVector::from_vec(vec![0.7, -1.3, 2.0]);
    let target = Gaussian::point_mass(mu.clone());
    let mu_e = target.eigen_mean();
    let schedules: Vec<Box<dyn Schedule>> = vec![
        Box::new(VpLinear::default()),
        Box::new(CosineVp),
        Box::new(Discrete::new(BetaSchedule::Linear)),
    ];
    let steps_list: Vec<usize> = ctx.scale.pick(
        vec![1, 2, 5, 10, 50, 200],
        vec![1, 2, 5, 10, 20, 50, 100, 200, 500, 999],
    );
    let mut table = Table::new(
        "",
        &[
            "schedule",
            "sampler",
            "steps",
            "exact_expected",
            "max_rel_err",
        ],
    );
    let mut fig = Figure::new(
        "",
        "DD-5: point-mass data, worst error over the grid (VP-linear)",
        "steps",
        "max error of mean and std (units of |μ|+1)",
    )
    .loglog();
    let mut worst_exact: f64 = 0.0;
    let mut worst_what = String::new();
    let mut min_inexact = f64::INFINITY;
    for sch in &schedules {
        let (t_min, t_max) = sch.t_range();
        for sampler in Sampler::foundation_set() {
            let exact = !matches!(
                sampler,
                Sampler::Ddpm(DdpmVariance::Large) | Sampler::EulerMaruyama { .. }
            );
            let mut curve = Vec::new();
            for &steps in &steps_list {
                let times = uniform_t(t_max, t_min, steps)?;
                let (a, s) = (sch.alpha(t_max), sch.sigma(t_max));
                let x = Form::gaussian(mu_e.iter().map(|m| a * m).collect(), vec![s; 3]);
                let budget = 64.0 * f64::EPSILON * first_order_roundoff(sch.as_ref(), &times);
                let mut err: f64 = 0.0;
                sampler.run_observed(
                    sch.as_ref(),
                    &times,
                    x,
                    &target,
                    &mut FormNoise::after(1),
                    &mut |k, f: &Form| {
                        let (a, s) = (sch.alpha(times[k]), sch.sigma(times[k]));
                        // Errors in units of the state's scale |μ_i| + 1 (the budget is relative to ‖x‖).
                        for (i, v) in f.variance().iter().enumerate() {
                            err = err
                                .max((f.c[i] - a * mu_e[i]).abs() / (mu_e[i].abs() + 1.0))
                                .max((v.sqrt() - s).abs() / (mu_e[i].abs() + 1.0));
                        }
                    },
                );
                if exact {
                    if err / budget > worst_exact {
                        worst_exact = err / budget;
                        worst_what = format!("{} {} {steps} steps", sch.name(), sampler.label());
                    }
                } else if steps <= 10 {
                    min_inexact = min_inexact.min(err);
                }
                table.push(vec![
                    sch.name().into(),
                    sampler.label().into(),
                    steps.into(),
                    (if exact { "yes" } else { "no" }).into(),
                    err.into(),
                ]);
                curve.push((steps as f64, err.max(1e-17)));
            }
            if sch.name() == "vp-linear" {
                fig = fig.with(Series::line(sampler.label(), curve));
            }
        }
    }
    Ok(Evidence::within(
        worst_exact,
        1.0,
        format!("max error of mean and standard deviation (relative to |μ_i| + 1) at every grid time for the exact samplers, in units of the round-off budget 64ε Σ_k κ_k (worst {worst_what}); DDPM(β), EM, PF-ODE Euler at ≤ 10 steps err ≥ {min_inexact:.2e} (must be ≥ 1e-6: the issue's 'every sampler is exact' is false for them)"),
    )
    .require(min_inexact >= 1e-6, "a sampler expected to be inexact on point masses came out exact")
    .table(table)
    .figure(fig))
}

/// The DDIM skip grid of `steps` steps on a 1000-step table: indices k·999/N (rounded down), descending.
fn skip_grid(steps: usize) -> Vec<f64> {
    (0..=steps)
        .rev()
        .map(|k| (k * 999 / steps) as f64)
        .collect()
}

fn dd1(ctx: &Ctx) -> Result<Evidence> {
    let sch = Discrete::new(BetaSchedule::Linear);
    let x0 = vec![1.5, -0.7];
    let etas = [0.0, 0.2, 0.5, 1.0];
    let mut table = Table::new(
        "",
        &[
            "eta",
            "route",
            "steps",
            "statistic",
            "expected",
            "measured",
            "standard_error",
            "error",
        ],
    );
    let mut exact_err: f64 = 0.0;
    let mut worst_z: f64 = 0.0;
    let n: usize = ctx.scale.pick(4000, 40_000);
    for &eta in &etas {
        for steps in [10usize, 50, 999] {
            let times = skip_grid(steps);
            let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
            let x = Form::gaussian(x0.iter().map(|v| a * v).collect(), vec![s; 2]);
            let oracle = Oracle(Form::constant(x0.clone()));
            Sampler::Ddim { eta }.run_observed(
                &sch,
                &times,
                x,
                &oracle,
                &mut FormNoise::after(1),
                &mut |k, f: &Form| {
                    let (a, s) = (sch.alpha(times[k]), sch.sigma(times[k]));
                    for (i, v) in f.variance().iter().enumerate() {
                        exact_err = exact_err
                            .max((f.c[i] - a * x0[i]).abs())
                            .max((v - s * s).abs() / (s * s));
                    }
                },
            );
        }
        // Monte Carlo, 10 skipping steps, final time index 0.
        let times = skip_grid(10);
        let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
        let oracle = Oracle(DVector::from_vec(x0.clone()));
        let mut rng = ctx.rng(&format!("eta{eta}"));
        let outs: Vec<DVector<f64>> = (0..n)
            .map(|p| {
                let z = DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng));
                let x = DVector::from_vec(x0.clone()) * a + z * s;
                let seed = crate::claims::stable_hash(
                    ctx.seed,
                    &[ctx.id, &eta.to_string(), &p.to_string()],
                );
                Sampler::Ddim { eta }.run(&sch, &times, x, &oracle, &mut PcgNoise::seeded(seed))
            })
            .collect();
        let (a0, s0) = (sch.alpha(0.0), sch.sigma(0.0));
        for i in 0..2 {
            let vals: Vec<f64> = outs.iter().map(|x| x[i]).collect();
            let ci = crate::metrics::mean_ci(&vals, tol::LEVEL)?;
            let sq: Vec<f64> = vals.iter().map(|v| (v - a0 * x0[i]).powi(2)).collect();
            let vc = crate::metrics::mean_ci(&sq, tol::LEVEL)?;
            for (stat, exp, ci) in [("mean", a0 * x0[i], ci), ("variance", s0 * s0, vc)] {
                let z = (ci.mean - exp) / ci.se;
                worst_z = worst_z.max(z.abs());
                table.push(vec![
                    eta.into(),
                    "monte-carlo".into(),
                    10usize.into(),
                    format!("{stat}[{i}]").into(),
                    exp.into(),
                    ci.mean.into(),
                    ci.se.into(),
                    z.into(),
                ]);
            }
        }
        table.push(vec![
            eta.into(),
            "exact-forms".into(),
            "10,50,999".into(),
            "max rel err".into(),
            0.0.into(),
            exact_err.into(),
            0.0.into(),
            exact_err.into(),
        ]);
    }
    Ok(Evidence::within(
        exact_err,
        tol::IDENTITY,
        format!("exact law (forms, oracle x̂₀) at every grid time of 10/50/999-step skip grids, η ∈ {etas:?}: max error of mean and relative error of variance {exact_err:.1e} (tolerance 1e-12); Monte Carlo ({n} paths, 10 steps, to index 0): max |z| = {worst_z:.2} over 16 moments (≤ 4)"),
    )
    .require(worst_z <= tol::K_SE, "Monte Carlo moments differ from q(x_0|x_0) by more than 4 SE")
    .table(table))
}

fn dd4(ctx: &Ctx) -> Result<Evidence> {
    let _ = ctx;
    let sch = VpLinear::default();
    // (i) identity (a): one step, probes x = (0, 1), x̂₀ = (1, 0).
    let probe = |s: Sampler, from: f64, to: f64| -> (f64, f64, f64) {
        let oracle = Oracle(Form::constant(vec![1.0, 0.0]));
        let out = s.step(
            &sch,
            from,
            to,
            &Form::constant(vec![0.0, 1.0]),
            &oracle,
            &mut FormNoise::after(0),
        );
        (out.c[1], out.c[0], out.variance()[0])
    };
    let mut ident: f64 = 0.0;
    let mut gaps = Table::new(
        "coefficients",
        &[
            "s",
            "t",
            "beta",
            "sampler",
            "coef_x",
            "coef_x0",
            "variance",
            "gap_to_ddpm_beta",
        ],
    );
    let (mut betas, mut gap_vals) = (Vec::new(), Vec::new());
    for &h in &[0.01, 0.005, 0.0025, 0.00125, 0.000625, 0.0003125] {
        let (s, t) = (0.5, 0.5 - h);
        let a = probe(Sampler::Ddpm(DdpmVariance::Small), s, t);
        for other in [
            Sampler::Ddim { eta: 1.0 },
            Sampler::ExpIntegrator { noise_level: 1.0 },
        ] {
            let b = probe(other, s, t);
            ident = ident
                .max((a.0 - b.0).abs())
                .max((a.1 - b.1).abs())
                .max((a.2 - b.2).abs() / a.2);
        }
        // (ii) DDPM(β) vs Euler–Maruyama: coefficients of x_t and x̂₀ and the variance.
        let d = probe(Sampler::Ddpm(DdpmVariance::Large), s, t);
        let e = probe(Sampler::EulerMaruyama { noise_level: 1.0 }, s, t);
        let beta = 1.0 - (sch.alpha(s) / sch.alpha(t)).powi(2);
        let gap = (d.0 - e.0).abs() + (d.1 - e.1).abs() + (d.2 - e.2).abs();
        betas.push(beta);
        gap_vals.push(gap);
        for (lab, c) in [("ddpm-beta", d), ("em-noise1", e), ("ddpm-beta-tilde", a)] {
            gaps.push(vec![
                s.into(),
                t.into(),
                beta.into(),
                lab.into(),
                c.0.into(),
                c.1.into(),
                c.2.into(),
                (if lab == "em-noise1" { gap } else { 0.0 }).into(),
            ]);
        }
    }
    let gap_fit = loglog_slope(&betas, &gap_vals, tol::LEVEL)?;
    // (iii) exact laws on a Gaussian: W2 and KL vs N.
    let g = crate::fixtures::test_gaussian();
    let (m_true, v_true) = g.marginal(sch.alpha(1e-3), sch.sigma(1e-3));
    let v_true_m = g.matrix_with_spectrum(&v_true);
    let ns = [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
    let mut laws = Table::new("", &["sampler", "steps", "w2", "kl"]);
    let mut fig = Figure::new(
        "",
        "DD-4: exact W2 and KL to p_{t_min} vs steps (Gaussian data, VP-linear)",
        "steps N",
        "W2 (solid) / KL",
    )
    .loglog();
    let mut worst: f64 = 0.0;
    let mut slopes = Vec::new();
    for s in [
        Sampler::Ddpm(DdpmVariance::Large),
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::EulerMaruyama { noise_level: 1.0 },
        Sampler::Ddim { eta: 0.0 },
    ] {
        let (mut w2s, mut kls) = (Vec::new(), Vec::new());
        for &n in &ns {
            let times = uniform_t(1.0, 1e-3, n as usize)?;
            let (m, v) = crate::sampler::exact_law(s, &sch, &times, &g);
            let w2 = crate::metrics::w2_gaussian(&m, &v, &m_true, &v_true_m)?;
            let kl = crate::metrics::kl_gaussian(&m, &v, &m_true, &v_true_m)?;
            laws.push(vec![
                s.label().into(),
                (n as usize).into(),
                w2.into(),
                kl.into(),
            ]);
            w2s.push(w2);
            kls.push(kl);
        }
        let fw = loglog_slope(&ns[4..], &w2s[4..], tol::LEVEL)?;
        let fk = loglog_slope(&ns[4..], &kls[4..], tol::LEVEL)?;
        worst = worst
            .max((fw.slope + 1.0).abs())
            .max((fk.slope + 2.0).abs() / 2.0);
        slopes.push(format!(
            "{} W2 {:.2} KL {:.2}",
            s.label(),
            fw.slope,
            fk.slope
        ));
        fig = fig
            .with(Series::line(
                format!("W2 {}", s.label()),
                ns.iter().copied().zip(w2s).collect(),
            ))
            .with(Series::reference(
                format!("KL {}", s.label()),
                ns.iter().copied().zip(kls).collect(),
            ));
    }
    Ok(Evidence::within(
        worst,
        0.15,
        format!("exact-law slopes on N = 200..1000 (W2 expected −1, KL −2): {slopes:?}; headline max(|W2 slope + 1|, |KL slope + 2|/2) ≤ 0.15 (O(1/N) pre-asymptotic drift); identity DDPM(β̃) ≡ DDIM(η=1) ≡ SDE-DPM-Solver++1: max diff {ident:.1e} (≤ 1e-12); DDPM(β) − EM coefficient gap slope in β: {:.2} [{:.2}, {:.2}] (expected 2 ± 0.15)", gap_fit.slope, gap_fit.lo, gap_fit.hi),
    )
    .require(ident <= tol::IDENTITY, "DDPM(β̃), DDIM(η=1) and SDE-DPM-Solver++1 differ")
    .require((gap_fit.slope - 2.0).abs() <= 0.15, "the DDPM/EM coefficient gap is not O(β²)")
    .table(laws)
    .table(gaps)
    .figure(fig))
}

fn dd6(ctx: &Ctx) -> Result<Evidence> {
    let sch = Discrete::new(BetaSchedule::Linear);
    let etas = [0.0, 0.2, 0.5, 1.0];
    let ns = [5usize, 10, 20, 50, 100];
    let mut table = Table::new("", &["data", "eta", "steps", "error"]);
    let mut fig = Figure::new(
        "",
        "DD-6: exact W2 to p_0 vs steps for DDIM(η), Gaussian data (1000-step linear table)",
        "steps",
        "W2",
    )
    .loglog();
    // (a) exact W2 on the engine's Gaussian.
    let g = crate::fixtures::test_gaussian();
    let (m_true, v_true) = g.marginal(sch.alpha(0.0), sch.sigma(0.0));
    let mut w2 = vec![vec![0.0; ns.len()]; etas.len()];
    for (i, &eta) in etas.iter().enumerate() {
        for (j, &n) in ns.iter().enumerate() {
            let (m, v) = crate::sampler::exact_law(Sampler::Ddim { eta }, &sch, &skip_grid(n), &g);
            w2[i][j] =
                crate::metrics::w2_gaussian(&m, &v, &m_true, &g.matrix_with_spectrum(&v_true))?;
            table.push(vec![
                "gaussian-exact".into(),
                eta.into(),
                n.into(),
                w2[i][j].into(),
            ]);
        }
        fig = fig.with(Series::line(
            format!("η = {eta}"),
            ns.iter()
                .map(|&n| n as f64)
                .zip(w2[i].iter().copied())
                .collect(),
        ));
    }
    // Trend: at N ≤ 20 W2 increases with η; the η = 1 vs η = 0 gap shrinks as N grows.
    // W2 increasing in η at N = 5, 10, 20: the (η_{i−1}, η_i) pairs that fail.
    let non_monotone = (0..3)
        .flat_map(|j| (1..etas.len()).map(move |i| (i, j)))
        .filter(|&(i, j)| w2[i][j] <= w2[i - 1][j])
        .count();
    let monotone = non_monotone == 0;
    let gaps: Vec<f64> = (0..ns.len()).map(|j| w2[3][j] - w2[0][j]).collect();
    // From N = 10 on (at N = 5 neither sampler is in its asymptotic regime).
    let closing = gaps[1..].windows(2).all(|w| w[1] < w[0]);
    // (b) sliced W2 on the 2-D mixture, η = 0 vs 1 (and the middle ones), against exact p_0 samples.
    let mix = demo_mixture();
    let n: usize = ctx.scale.pick(600, 4000);
    let mut rng = ctx.rng("directions");
    let dirs: Vec<DVector<f64>> = (0..32)
        .map(|_| {
            let v = DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng));
            v.normalize()
        })
        .collect();
    let mut rng = ctx.rng("reference");
    let (a0, s0) = (sch.alpha(0.0), sch.sigma(0.0));
    // The reference: exact quantiles of each projection of p_0.
    let quantiles: Vec<Vec<f64>> = dirs
        .iter()
        .map(|th| projected_quantiles(&mix, a0, s0, th, n))
        .collect();
    let sliced_exact = |x: &[DVector<f64>]| sliced_w2(x, &dirs, &quantiles);
    let exact_sample = |rng: &mut rand_pcg::Pcg64, a: f64, s: f64| {
        mix.sample(rng) * a + DVector::from_fn(2, |_, _| StandardNormal.sample(rng)) * s
    };
    let reference: Vec<DVector<f64>> = (0..n).map(|_| exact_sample(&mut rng, a0, s0)).collect();
    let floor = sliced_exact(&reference)?;
    let mut sw = vec![vec![0.0; ns.len()]; etas.len()];
    let mut fig_b = Figure::new(
        "mixture",
        "DD-6: sliced W2 to p_0 vs steps for DDIM(η), 2-D mixture",
        "steps",
        "sliced W2 (32 directions)",
    )
    .loglog();
    for (i, &eta) in etas.iter().enumerate() {
        for (j, &steps) in ns.iter().enumerate() {
            let times = skip_grid(steps);
            let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
            let mut rng = ctx.rng(&format!("paths-{eta}-{steps}"));
            let outs: Vec<DVector<f64>> = (0..n)
                .map(|p| {
                    let x = exact_sample(&mut rng, a, s);
                    let seed = crate::claims::stable_hash(
                        ctx.seed,
                        &[ctx.id, &eta.to_string(), &steps.to_string(), &p.to_string()],
                    );
                    Sampler::Ddim { eta }.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(seed))
                })
                .collect();
            sw[i][j] = sliced_exact(&outs)?;
            table.push(vec![
                "mixture-sliced".into(),
                eta.into(),
                steps.into(),
                sw[i][j].into(),
            ]);
        }
        fig_b = fig_b.with(Series::line(
            format!("η = {eta}"),
            ns.iter()
                .map(|&n| n as f64)
                .zip(sw[i].iter().copied())
                .collect(),
        ));
    }
    fig_b = fig_b.with(Series::reference(
        "finite-sample floor",
        vec![(5.0, floor), (100.0, floor)],
    ));
    // Gaussian trend conditions (exact, no noise): W2 increasing in η at N ≤ 20 (9 pairs), gap shrinking
    // from N = 10 (3 pairs). The mixture's sliced W2 is reported with its finite-sample floor.
    let violations = non_monotone + gaps[1..].windows(2).filter(|w| w[1] >= w[0]).count();
    Ok(Evidence::within(
        violations as f64,
        0.0,
        format!("one exact ε-model (the Gaussian/mixture oracle) for every η ∈ {etas:?}; headline: violated trend conditions on the exact Gaussian W2 (W2 increasing in η at N = 5/10/20: {monotone}; η=1 − η=0 gap vs N {gaps:.3?} shrinking from N = 10: {closing}; at N = 5 the gap is still growing); 2-D mixture sliced W2 ({n} samples, 32 directions, vs exact projected quantiles) at N = 5/10: η=0 {:.3}/{:.3}, η=1 {:.3}/{:.3}, finite-sample floor (exact samples) {floor:.3}: at this sample size the mixture trend is within the W2 sampling noise (tail-dominated), so it is reported, not judged", sw[0][0], sw[0][1], sw[3][0], sw[3][1]),
    )
    .table(table)
    .figure(fig)
    .figure(fig_b))
}
