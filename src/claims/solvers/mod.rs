//! Higher-order ODE solvers (CLAIMS §8): HO-1 (variation of constants), HO-2 (DPM-Solver-k order k),
//! HO-3 (DPM-Solver++ multistep orders), HO-4 (EDM Euler/Heun on the ρ-grid), WP-1 (work–precision of
//! the whole zoo). The benchmark of §8: 1-D GMM π = (0.3, 0.7), μ = (−2, 1.5), σ² = (0.09, 0.25), VP-linear
//! (0.1, 20), from t = 1 to t = 10⁻³, error = mean |x_N − x_ref| over 5 starting points, reference RK4 in λ
//! with 2·10⁴ steps.

use crate::algebra::{Denoiser, Form, FormNoise, PcgNoise};
use crate::claims::{Claim, Ctx, Evidence, Verdict};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::fixtures::{ho_mixture, power_law_gaussian, HO_STARTS};
use crate::metrics::{loglog_slope, w2_commuting};
use crate::ode::reference_lambda_rk4;
use crate::sampler::{edm_rho, uniform_logsnr, uniform_t, Sampler};
use crate::schedule::{Schedule, VpLinear};
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "HO-1",
            family: "solvers",
            source: "PDM §9.4 (DPM-Solver); DPM-Solver code; CLAIMS §8",
            statement: "Variation of constants: x_t = (α_t/α_s)x_s − α_t∫e^{−λ}ε̂ dλ = (σ_t/σ_s)x_s + σ_t∫e^{λ}x̂₀ dλ along the exact PF-ODE trajectory.",
            check: ho1,
        },
        Claim {
            id: "HO-2",
            family: "solvers",
            source: "PDM §9.4; Lu et al. 2022 (DPM-Solver) Thm 3.2; official code; CLAIMS §8 table",
            statement: "DPM-Solver-k (singlestep; r₁ = ½; r₁ = ⅓, r₂ = ⅔) has global order k = 1, 2, 3 on the uniform-λ grid.",
            check: ho2,
        },
        Claim {
            id: "HO-3",
            family: "solvers",
            source: "PDM §9.5; Lu et al. 2022b (DPM-Solver++) and official code; CLAIMS §8 table",
            statement: "DPM-Solver++(2M) is order 2 and DPM-Solver++(3M) order 3 (multistep, data prediction, uniform-λ grid).",
            check: ho3,
        },
        Claim {
            id: "HO-3-CFG",
            family: "solvers",
            source: "Lu et al. 2022b (DPM-Solver++) §1, §5 [GK]; CLAIMS HO-3",
            statement: "As CLAIMS HO-3 states it: under classifier-free guidance with a large scale (w = 8), at N ≤ 10 steps the noise-prediction singlestep DPM-Solver-3 has a much larger error than the data-prediction multistep DPM-Solver++(2M) (pathwise error against RK4 on the guided field, §8 GMM, class = its left component).",
            check: ho3_cfg,
        },
        Claim {
            id: "HO-4",
            family: "solvers",
            source: "Karras et al. 2022 (EDM) Alg. 1 and code; CLAIMS §8 table",
            statement: "On the EDM ρ = 7 grid in σ̄, EDM Euler is order 1 and EDM Heun order 2; EDM Euler is DDIM(η = 0) on the same grid.",
            check: ho4,
        },
        Claim {
            id: "HO-5",
            family: "solvers",
            source: "Zhang & Chen 2022 (DEIS); PDM §9.3; diffusers DEISMultistepScheduler (logrho)",
            statement: "DEIS with a Lagrange polynomial of degree r in log ρ through the last r + 1 outputs (multistep, ε̂ integrated exactly in ρ = σ/α) has global order r + 1; order 1 is DDIM.",
            check: ho5,
        },
        Claim {
            id: "WP-1",
            family: "solvers",
            source: "CLAIMS §8, §2.3 (issue 3 work–precision)",
            statement: "Work–precision of the sampler zoo: error vs NFE on a Gaussian with a power-law spectrum (exact W2 via forms) and on a 2-D mixture (pathwise error against a high-accuracy reference); every ODE solver converges at its order.",
            check: wp1,
        },
    ]
}

/// The grid each sampler is conventionally run on: EDM ρ = 7 in σ̄ for EDM, uniform in t for the
/// t-samplers (Euler–Maruyama, Heun/RK4 in t, DDPM), uniform in λ otherwise.
pub fn conventional_grid(
    sampler: Sampler,
    sch: &dyn Schedule,
    t_max: f64,
    t_min: f64,
    steps: usize,
) -> Result<Vec<f64>> {
    match sampler {
        Sampler::EdmEuler | Sampler::EdmHeun => edm_rho(sch, t_max, t_min, steps, 7.0, false),
        Sampler::EulerMaruyama { .. }
        | Sampler::HeunT
        | Sampler::Rk4T
        | Sampler::Ddpm(_)
        | Sampler::DdpmBetaDt
        | Sampler::ExpIntegratorScore { .. } => uniform_t(t_max, t_min, steps),
        _ => uniform_logsnr(sch, t_max, t_min, steps),
    }
}

/// The §8 reference table: (label, errors at N = 10, 20, 40, 80, 160).
const HO_TABLE: [(&str, [f64; 5]); 6] = [
    (
        "dpm-solver-1",
        [2.28e-1, 9.62e-2, 4.55e-2, 2.22e-2, 1.10e-2],
    ),
    (
        "dpm-solver-2",
        [7.27e-2, 1.20e-2, 2.75e-3, 6.53e-4, 1.59e-4],
    ),
    (
        "dpm-solver-3",
        [7.25e-3, 4.30e-4, 3.43e-5, 3.49e-6, 3.85e-7],
    ),
    (
        "dpm-solver++2m",
        [8.54e-2, 1.55e-2, 3.15e-3, 7.79e-4, 1.93e-4],
    ),
    ("edm-euler", [3.02e-1, 1.07e-1, 4.90e-2, 2.36e-2, 1.16e-2]),
    ("edm-heun", [1.82e-1, 2.90e-2, 5.95e-3, 1.35e-3, 3.23e-4]),
];

/// Orders on the §8 benchmark: for each (sampler, expected order), the errors at N = 10·2^j, a table with
/// the reference values where §8 has them, a figure, and the worst |slope − k| on the last two doublings.
struct OrderRun {
    table: Table,
    figure: Figure,
    worst: f64,
    worst_what: String,
    slopes: Vec<(String, f64, f64, f64, f64)>,
    max_log10_ratio: f64,
}

fn order_run(ns: &[usize], samplers: &[(Sampler, f64)], title: &str) -> Result<OrderRun> {
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let ref_steps = 20_000;
    let refs: Vec<DVector<f64>> = HO_STARTS
        .iter()
        .map(|&x| {
            reference_lambda_rk4(
                &sch,
                &mix,
                &DVector::from_vec(vec![x]),
                1.0,
                1e-3,
                ref_steps,
            )
        })
        .collect();
    let mut table = Table::new(
        "",
        &[
            "sampler",
            "grid",
            "steps",
            "nfe",
            "error",
            "table_value",
            "ratio_to_table",
        ],
    );
    let mut figure = Figure::new(
        "",
        title,
        "steps N",
        "mean |x_N − x_ref| over 5 starting points",
    )
    .loglog();
    let (mut worst, mut worst_what) = (0.0_f64, String::new());
    let mut slopes = Vec::new();
    let mut max_log10_ratio: f64 = 0.0;
    for &(sampler, k) in samplers {
        let mut errs = Vec::new();
        for (j, &n) in ns.iter().enumerate() {
            let times = conventional_grid(sampler, &sch, 1.0, 1e-3, n)?;
            let err = HO_STARTS
                .iter()
                .zip(&refs)
                .map(|(&x, r)| {
                    let out = sampler.run(
                        &sch,
                        &times,
                        DVector::from_vec(vec![x]),
                        &mix,
                        &mut PcgNoise::seeded(0),
                    );
                    (out[0] - r[0]).abs()
                })
                .sum::<f64>()
                / HO_STARTS.len() as f64;
            let reference = HO_TABLE
                .iter()
                .find(|(l, _)| *l == sampler.label())
                .and_then(|(_, v)| v.get(j).copied());
            let ratio = reference.map(|r| err / r);
            if let Some(r) = ratio {
                max_log10_ratio = max_log10_ratio.max(r.log10().abs());
            }
            table.push(vec![
                sampler.label().into(),
                (if matches!(sampler, Sampler::EdmEuler | Sampler::EdmHeun) {
                    "edm-rho7"
                } else {
                    "uniform-logsnr"
                })
                .into(),
                n.into(),
                sampler.nfe(&sch, &times).into(),
                err.into(),
                reference.map_or("".into(), |r| r.into()),
                ratio.map_or("".into(), |r| r.into()),
            ]);
            errs.push(err);
        }
        let m = ns.len();
        let x: Vec<f64> = ns[m - 3..].iter().map(|&n| n as f64).collect();
        let fit = loglog_slope(&x, &errs[m - 3..], tol::LEVEL)?;
        let order = -fit.slope;
        if (order - k).abs() > worst {
            worst = (order - k).abs();
            worst_what = sampler.label();
        }
        slopes.push((sampler.label(), k, order, -fit.hi, -fit.lo));
        figure = figure.with(Series::line(
            sampler.label(),
            ns.iter().zip(&errs).map(|(&n, &e)| (n as f64, e)).collect(),
        ));
        let (n0, e0) = (ns[m - 1] as f64, errs[m - 1]);
        figure = figure.with(Series::reference(
            format!("slope −{k}"),
            ns.iter()
                .map(|&n| (n as f64, e0 * (n0 / n as f64).powf(k)))
                .collect(),
        ));
    }
    Ok(OrderRun {
        table,
        figure,
        worst,
        worst_what,
        slopes,
        max_log10_ratio,
    })
}

/// Step counts of the order claims: the §8 table's, plus 320 at full scale.
fn ho_steps(ctx: &Ctx) -> Vec<usize> {
    ctx.scale
        .pick(vec![10, 20, 40, 80, 160], vec![10, 20, 40, 80, 160, 320])
}

/// Slope table of an [`OrderRun`].
fn slope_table(r: &OrderRun) -> Table {
    let mut t = Table::new(
        "slopes",
        &[
            "sampler",
            "expected_order",
            "fitted_order",
            "ci_lo",
            "ci_hi",
        ],
    );
    for (l, k, o, lo, hi) in &r.slopes {
        t.push(vec![
            l.clone().into(),
            (*k).into(),
            (*o).into(),
            (*lo).into(),
            (*hi).into(),
        ]);
    }
    t
}

/// Orders are judged on the last two doublings (fit over three N): an order-k method's error is
/// C h^k (1 + O(h)), so at N ≥ 40 the local slope may differ from k by O(1/N)·(problem constant); the
/// §8 table shows up to 0.18 (DPM-Solver-3 at N = 160). Tolerance 0.25.
const ORDER_TOL: f64 = 0.25;

fn slopes_text(r: &OrderRun) -> String {
    r.slopes
        .iter()
        .map(|(l, k, o, lo, hi)| format!("{l} {o:.2} [{lo:.2}, {hi:.2}] (expected {k})"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn ho2(ctx: &Ctx) -> Result<Evidence> {
    let r = order_run(
        &ho_steps(ctx),
        &[
            (Sampler::DpmSolver1, 1.0),
            (Sampler::DpmSolver2, 2.0),
            (Sampler::DpmSolver3, 3.0),
        ],
        "HO-2: DPM-Solver-k on the §8 GMM, uniform-λ grid",
    )?;
    Ok(Evidence::within(
        r.worst,
        ORDER_TOL,
        format!(
            "max |fitted order − k| on N = last three of 10·2^j (worst {}; tolerance {ORDER_TOL}: O(1/N) pre-asymptotic drift); fitted orders with 95% intervals: {}; §8 table cells reproduced within a factor 10^{:.2} (starting points {HO_STARTS:?}: the table's own are not stated, so 2-significant-digit agreement is not reached)",
            r.worst_what,
            slopes_text(&r),
            r.max_log10_ratio
        ),
    )
    .table(r.table.clone())
    .table(slope_table(&r))
    .figure(r.figure))
}

fn ho3(_ctx: &Ctx) -> Result<Evidence> {
    // The official 3M's O(h³) local defect shows only once the higher-order terms have faded: N to 640.
    let r = order_run(
        &[10, 20, 40, 80, 160, 320, 640],
        &[
            (Sampler::DpmSolverPp2M { noise_level: 0.0 }, 2.0),
            (Sampler::DpmSolverPp3M { corrected: true }, 3.0),
            (Sampler::DpmSolverPp3M { corrected: false }, 3.0),
        ],
        "HO-3: DPM-Solver++ multistep on the §8 GMM, uniform-λ grid",
    )?;
    let official = r
        .slopes
        .iter()
        .find(|s| s.0 == "dpm-solver++3m")
        .map(|s| s.2)
        .unwrap_or(f64::NAN);
    let others = r
        .slopes
        .iter()
        .filter(|s| s.0 != "dpm-solver++3m")
        .map(|s| (s.2 - s.1).abs())
        .fold(0.0, f64::max);
    let mut ev = Evidence::close(
        official,
        3.0,
        ORDER_TOL,
        format!(
            "fitted orders (last two doublings, 95% intervals): {}. The official-code/diffusers DPM-Solver++(3M) update −α_tφ₃D₂ with D₂ = (D₁₀ − D₁₁)/(r₀ + r₁) ≈ ½h²x̂₀'' keeps half of the Taylor term −α_tφ₃h²x̂₀'' (HO-1 data form), so its local error is O(h³) and it is order 2 (measured {official:.2}); doubling the D₂ term restores order 3. 2M and corrected 3M within {ORDER_TOL} of their orders: max deviation {others:.2}",
            slopes_text(&r)
        ),
    )
    .require(others <= ORDER_TOL, "2M or corrected 3M off its order");
    if ev.verdict == Verdict::Fail && (official - 2.0).abs() <= ORDER_TOL && others <= ORDER_TOL {
        ev.verdict = Verdict::Refuted;
    }
    Ok(ev
        .table(r.table.clone())
        .table(slope_table(&r))
        .figure(r.figure))
}

fn ho5(ctx: &Ctx) -> Result<Evidence> {
    let r = order_run(
        &ho_steps(ctx),
        &[
            (Sampler::Deis { order: 1 }, 1.0),
            (Sampler::Deis { order: 2 }, 2.0),
            (Sampler::Deis { order: 3 }, 3.0),
        ],
        "HO-5: DEIS (log ρ) on the §8 GMM, uniform-λ grid",
    )?;
    Ok(Evidence::within(
        r.worst,
        ORDER_TOL,
        format!(
            "max |fitted order − (r + 1)| on N = last three of 10·2^j (worst {}; tolerance {ORDER_TOL}: O(1/N) pre-asymptotic drift); fitted orders with 95% intervals: {}",
            r.worst_what,
            slopes_text(&r)
        ),
    )
    .table(r.table.clone())
    .table(slope_table(&r))
    .figure(r.figure))
}

/// The classifier-free guided denoiser x̂₀_w = x̂₀_u + w (x̂₀_c − x̂₀_u) (equivalently on ε̂ or the score,
/// which are affine in x̂₀ at fixed x; GD-2).
struct Cfg {
    cond: Mixture,
    uncond: Mixture,
    w: f64,
}

impl Denoiser<DVector<f64>> for Cfg {
    fn denoise(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        let u = Denoiser::denoise(&self.uncond, x, alpha, sigma);
        let c = Denoiser::denoise(&self.cond, x, alpha, sigma);
        &u + (c - &u) * self.w
    }
}

fn ho3_cfg(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    let uncond = ho_mixture();
    let cond = Mixture::isotropic(vec![1.0], vec![DVector::from_vec(vec![-2.0])], &[0.09])?;
    let ref_steps = ctx.scale.pick(4_000, 20_000);
    let solvers = [
        (
            Sampler::DpmSolver3,
            "dpm-solver-3 (ε, singlestep)",
            vec![5usize, 10, 20, 40],
        ),
        (
            Sampler::DpmSolverPp2M { noise_level: 0.0 },
            "dpm-solver++(2M) (x̂₀, multistep)",
            vec![5, 10, 15, 20, 30, 40],
        ),
    ];
    let mut table = Table::new("", &["guidance_scale", "sampler", "steps", "nfe", "error"]);
    let mut fig = Figure::new(
        "",
        "HO-3-CFG: pathwise error under classifier-free guidance vs NFE",
        "NFE",
        "mean |x_N − x_ref| over 5 starts",
    )
    .loglog();
    let mut at8: Vec<(Sampler, usize, f64)> = Vec::new();
    for w in [1.0, 3.0, 8.0] {
        let model = Cfg {
            cond: cond.clone(),
            uncond: uncond.clone(),
            w,
        };
        let refs: Vec<DVector<f64>> = HO_STARTS
            .iter()
            .map(|&x| {
                reference_lambda_rk4(
                    &sch,
                    &model,
                    &DVector::from_vec(vec![x]),
                    1.0,
                    1e-3,
                    ref_steps,
                )
            })
            .collect();
        for (s, name, ns) in &solvers {
            let mut curve = Vec::new();
            for &n in ns {
                let times = uniform_logsnr(&sch, 1.0, 1e-3, n)?;
                let err = HO_STARTS
                    .iter()
                    .zip(&refs)
                    .map(|(&x, r)| {
                        (s.run(
                            &sch,
                            &times,
                            DVector::from_vec(vec![x]),
                            &model,
                            &mut PcgNoise::seeded(0),
                        ) - r)
                            .norm()
                    })
                    .sum::<f64>()
                    / HO_STARTS.len() as f64;
                let nfe = s.nfe(&sch, &times);
                table.push(vec![
                    w.into(),
                    (*name).into(),
                    n.into(),
                    nfe.into(),
                    err.into(),
                ]);
                curve.push((nfe as f64, err.max(1e-16)));
                if w == 8.0 {
                    at8.push((*s, n, err));
                }
            }
            if w != 3.0 {
                fig = fig.with(Series::line(format!("w = {w}: {name}"), curve));
            }
        }
    }
    let err = |s: Sampler, n: usize| {
        at8.iter()
            .find(|r| r.0 == s && r.1 == n)
            .map(|r| r.2)
            .unwrap_or(f64::NAN)
    };
    let pp = Sampler::DpmSolverPp2M { noise_level: 0.0 };
    // At equal steps N (CLAIMS' statement) and at equal NFE (3N evaluations for DPM-Solver-3).
    let steps_ratio =
        (err(Sampler::DpmSolver3, 5) / err(pp, 5)).min(err(Sampler::DpmSolver3, 10) / err(pp, 10));
    let nfe_ratio =
        (err(Sampler::DpmSolver3, 5) / err(pp, 15)).min(err(Sampler::DpmSolver3, 10) / err(pp, 30));
    let verdict = if steps_ratio > 1.0 {
        Verdict::Pass
    } else {
        Verdict::Refuted
    };
    Ok(Evidence {
        verdict,
        measured: steps_ratio,
        expected: 1.0,
        tolerance: 0.0,
        detail: format!(
            "w = 8, N ∈ {{5, 10}}: min err(DPM-Solver-3)/err(++(2M)) at equal steps = {steps_ratio:.3} (the statement needs > 1; here the singlestep 3rd-order solver is the more accurate one per step); at equal NFE (DPM-Solver-3 N = 5, 10 vs ++(2M) N = 15, 30) = {nfe_ratio:.3} (> 1: ++(2M) wins per evaluation). Exact 1-D scores, no clipping; reference RK4 in λ on the guided field, {ref_steps} steps"
        ),
        tables: vec![table],
        figures: vec![fig],
    })
}

fn ho4(ctx: &Ctx) -> Result<Evidence> {
    let r = order_run(
        &ho_steps(ctx),
        &[(Sampler::EdmEuler, 1.0), (Sampler::EdmHeun, 2.0)],
        "HO-4: EDM Euler and Heun on the ρ = 7 grid in σ̄ (§8 GMM)",
    )?;
    // EDM Euler = DDIM(η = 0) on the same grid, pointwise (d = ε̂).
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let mut same: f64 = 0.0;
    for n in [5usize, 20, 80] {
        let times = edm_rho(&sch, 1.0, 1e-3, n, 7.0, false)?;
        for &x in &HO_STARTS {
            let x = DVector::from_vec(vec![x]);
            let a = Sampler::EdmEuler.run(&sch, &times, x.clone(), &mix, &mut PcgNoise::seeded(0));
            let b = Sampler::Ddim { eta: 0.0 }.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(0));
            let budget = 64.0 * f64::EPSILON * crate::sampler::first_order_roundoff(&sch, &times);
            same = same.max((a[0] - b[0]).abs() / a[0].abs().max(1.0) / budget);
        }
    }
    Ok(Evidence::within(
        r.worst,
        ORDER_TOL,
        format!(
            "max |fitted order − k| (worst {}; tolerance {ORDER_TOL}); {}; EDM Euler vs DDIM(η=0) on the same ρ-grid: max difference {same:.2} round-off budgets (64ε Σκ, must be ≤ 1); §8 table cells within a factor 10^{:.2}",
            r.worst_what,
            slopes_text(&r),
            r.max_log10_ratio
        ),
    )
    .require(same <= 1.0, "EDM Euler differs from DDIM(η=0) on the same grid")
    .table(r.table.clone())
    .table(slope_table(&r))
    .figure(r.figure))
}

/// Composite Simpson on equally spaced samples (odd count).
fn simpson(values: &[f64], h: f64) -> f64 {
    let n = values.len() - 1;
    let mut s = values[0] + values[n];
    for (i, v) in values.iter().enumerate().take(n).skip(1) {
        s += if i % 2 == 1 { 4.0 * v } else { 2.0 * v };
    }
    s * h / 3.0
}

fn ho1(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    let mix = demo_mixture();
    let steps = ctx.scale.pick(4000, 20_000);
    let mut rng = ctx.rng("starts");
    let mut table = Table::new(
        "",
        &[
            "interval",
            "path",
            "x_t_rk4",
            "noise_form",
            "data_form",
            "rel_err_noise",
            "rel_err_data",
        ],
    );
    let mut worst: f64 = 0.0;
    for (name, s, t) in [("0.7->0.4", 0.7, 0.4), ("1.0->0.05", 1.0, 0.05)] {
        for p in 0..4usize {
            let x_s = mix.sample(&mut rng) * sch.alpha(s)
                + DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng)) * sch.sigma(s);
            // The reference trajectory: RK4 in t on the PF-ODE (pf_velocity), states recorded at every node.
            let times = uniform_t(s, t, steps)?;
            let mut states = Vec::with_capacity(steps + 1);
            Sampler::Rk4T.run_observed(
                &sch,
                &times,
                x_s.clone(),
                &mix,
                &mut PcgNoise::seeded(0),
                &mut |_, x: &DVector<f64>| states.push(x.clone()),
            );
            let x_t = states[steps].clone();
            let (a_s, s_s, a_t, s_t) = (sch.alpha(s), sch.sigma(s), sch.alpha(t), sch.sigma(t));
            let mut noise_form = &x_s * (a_t / a_s);
            let mut data_form = &x_s * (s_t / s_s);
            let h = times[1] - times[0];
            for i in 0..2 {
                // ∫_{λ_s}^{λ_t} g(λ) dλ = ∫_s^t g(λ(u)) λ'(u) du, Simpson on the RK4 nodes.
                let eps_vals: Vec<f64> = times
                    .iter()
                    .zip(&states)
                    .map(|(&u, x)| {
                        let (a, sg) = (sch.alpha(u), sch.sigma(u));
                        let x0 = mix.denoise(x, a, sg);
                        let eps = (x[i] - a * x0[i]) / sg;
                        (-sch.logsnr(u)).exp() * eps * sch.dlogsnr(u)
                    })
                    .collect();
                let x0_vals: Vec<f64> = times
                    .iter()
                    .zip(&states)
                    .map(|(&u, x)| {
                        let (a, sg) = (sch.alpha(u), sch.sigma(u));
                        sch.logsnr(u).exp() * mix.denoise(x, a, sg)[i] * sch.dlogsnr(u)
                    })
                    .collect();
                noise_form[i] -= a_t * simpson(&eps_vals, h);
                data_form[i] += s_t * simpson(&x0_vals, h);
            }
            let scale = x_t.norm().max(1.0);
            let (en, ed) = (
                (&noise_form - &x_t).norm() / scale,
                (&data_form - &x_t).norm() / scale,
            );
            worst = worst.max(en).max(ed);
            table.push(vec![
                name.into(),
                p.into(),
                x_t[0].into(),
                noise_form[0].into(),
                data_form[0].into(),
                en.into(),
                ed.into(),
            ]);
        }
    }
    let tolerance = ctx.scale.pick(1e-8, tol::QUADRATURE);
    Ok(Evidence::within(
        worst,
        tolerance,
        format!("max relative difference between the RK4-in-t PF-ODE state x_t ({steps} steps) and both variation-of-constants forms, integrals by composite Simpson on the same nodes (both O(h⁴): h = (s−t)/{steps}; tolerance {tolerance:.0e}: CLAIMS §2.4's 1e-9 at full scale, 1e-8 at quick where the grid is 5× coarser); 2-D demo mixture, VP-linear, 4 paths × 2 intervals")
    )
    .table(table))
}

/// Expected order of each zoo member as an ODE solver (SDE samplers: weak order 1).
fn zoo_order(s: Sampler) -> f64 {
    match s {
        Sampler::Rk4T => 4.0,
        Sampler::DpmSolver3
        | Sampler::DpmSolverPp3M { corrected: true }
        | Sampler::Deis { order: 3 } => 3.0,
        Sampler::Deis { order: 2 } => 2.0,
        Sampler::HeunT
        | Sampler::EdmHeun
        | Sampler::DpmSolver2
        | Sampler::DpmSolverPp2M { noise_level: 0.0 }
        | Sampler::DpmSolverPp3M { corrected: false } => 2.0,
        _ => 1.0,
    }
}

fn wp1(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    let (t_max, t_min) = (1.0, 1e-3);
    let ns: Vec<usize> = ctx
        .scale
        .pick(vec![5, 10, 20, 40, 80], vec![5, 10, 20, 40, 80, 160, 320]);
    let g = power_law_gaussian();
    let (m_true, v_true) = g.marginal(sch.alpha(t_min), sch.sigma(t_min));
    let mut table = Table::new("", &["problem", "sampler", "steps", "nfe", "error"]);
    let mut fig_a = Figure::new(
        "gaussian",
        "WP-1 (a): exact W2 to p_{t_min} vs NFE, power-law Gaussian d = 64",
        "NFE",
        "W2 (exact, via forms)",
    )
    .loglog();
    let mut fig_b = Figure::new(
        "mixture",
        "WP-1 (b): pathwise error vs NFE, 2-D mixture (ODE samplers)",
        "NFE",
        "mean ‖x_N − x_ref‖",
    )
    .loglog();
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    // (a) exact laws.
    let (a0, s0) = (sch.alpha(t_max), sch.sigma(t_max));
    for s in Sampler::zoo() {
        let mut pts = Vec::new();
        for &n in &ns {
            let times = conventional_grid(s, &sch, t_max, t_min, n)?;
            let x = Form::marginal(&g, a0, s0);
            let out = s.run(&sch, &times, x, &g, &mut FormNoise::after(1));
            let w2 = w2_commuting(
                &out.c,
                &out.variance(),
                m_true.as_slice(),
                v_true.as_slice(),
            );
            let nfe = s.nfe(&sch, &times);
            table.push(vec![
                "gaussian-power-law".into(),
                s.label().into(),
                n.into(),
                nfe.into(),
                w2.into(),
            ]);
            pts.push((nfe as f64, w2));
        }
        fig_a = fig_a.with(Series::line(s.label(), pts));
    }
    // (b) pathwise on the 2-D mixture, ODE samplers only (SDE paths have no common reference).
    let mix = demo_mixture();
    let mut rng = ctx.rng("starts");
    let starts: Vec<DVector<f64>> = (0..ctx.scale.pick(4, 16))
        .map(|_| DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng)))
        .collect();
    let ref_steps = ctx.scale.pick(4000, 20_000);
    let refs: Vec<DVector<f64>> = starts
        .iter()
        .map(|x| reference_lambda_rk4(&sch, &mix, x, t_max, t_min, ref_steps))
        .collect();
    for s in Sampler::zoo().into_iter().filter(|s| !s.is_stochastic()) {
        let mut pts = Vec::new();
        let mut errs = Vec::new();
        for &n in &ns {
            let times = conventional_grid(s, &sch, t_max, t_min, n)?;
            let err = starts
                .iter()
                .zip(&refs)
                .map(|(x, r)| {
                    (s.run(&sch, &times, x.clone(), &mix, &mut PcgNoise::seeded(0)) - r).norm()
                })
                .sum::<f64>()
                / starts.len() as f64;
            let nfe = s.nfe(&sch, &times);
            table.push(vec![
                "mixture-2d".into(),
                s.label().into(),
                n.into(),
                nfe.into(),
                err.into(),
            ]);
            pts.push((nfe as f64, err));
            errs.push(err);
        }
        // Convergence check: the error at the largest N is below the error at N/4 by ≥ 4^{k}/4 (order ≥ k − 1).
        let m = ns.len();
        let k = zoo_order(s);
        let gain = (errs[m - 3] / errs[m - 1]).log(4.0);
        if k - gain > worst {
            worst = k - gain;
            worst_what = s.label();
        }
        fig_b = fig_b.with(Series::line(s.label(), pts));
    }
    Ok(Evidence::within(
        worst,
        1.0,
        format!("work–precision of {} samplers on (a) exact W2 (forms) and (b) 2-D mixture pathwise error vs RK4-in-λ reference ({ref_steps} steps); headline: max over ODE samplers of (expected order − observed order over the last two doublings in (b)), must be ≤ 1 (a coarse convergence screen; orders proper are HO-2..4); worst {worst_what}", Sampler::zoo().len()),
    )
    .table(table)
    .figure(fig_a)
    .figure(fig_b))
}
