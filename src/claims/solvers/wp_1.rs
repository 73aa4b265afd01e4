//! WP-1: Work–precision of the sampler zoo (exact W2 on a power-law Gaussian, pathwise on a 2-D mixture,
//! exact W2/KL on a 1-D mixture with each sampler's distributional order fitted).

use crate::algebra::{Form, FormNoise, PcgNoise};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, density_1d, mixture_1d, power_law_gaussian};
use crate::law1d::{output_law_vs, Accuracy, Start};
use crate::metrics::{loglog_slope, w2_commuting};
use crate::ode::reference_lambda_rk4;
use crate::sampler::Sampler;
use crate::schedule::{Schedule, VpLinear};
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

pub(super) fn claim() -> Claim {
    Claim {
        id: "WP-1",
        family: super::FAMILY,
        source: "CLAIMS §8, §2.3 (issue 3 work–precision)",
        statement: "Work–precision of the sampler zoo: error vs NFE on a Gaussian with a power-law spectrum (exact W2 via forms) on a 2-D mixture (pathwise error against a high-accuracy reference) and on a 1-D three-mode mixture (exact W2 and KL by quadrature); every deterministic sampler and every one-step stochastic sampler converges in W2 at its order (fitted slope with interval).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
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
        "NFE (denoiser evaluations)",
        "exact W2, via forms (data units)",
    )
    .loglog();
    let mut fig_b = Figure::new(
        "mixture",
        "WP-1 (b): pathwise error vs NFE, 2-D mixture (ODE samplers)",
        "NFE (denoiser evaluations)",
        "mean ‖x_N − x_ref‖ (data units)",
    )
    .loglog();
    // (a) exact laws.
    let (a0, s0) = (sch.alpha(t_max), sch.sigma(t_max));
    for s in Sampler::zoo() {
        let mut pts = Vec::new();
        for &n in &ns {
            let times = s.conventional_grid(&sch, t_max, t_min, n)?;
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
    let mut screen: f64 = 0.0;
    for s in Sampler::zoo().into_iter().filter(|s| !s.is_stochastic()) {
        let mut pts = Vec::new();
        let mut errs = Vec::new();
        for &n in &ns {
            let times = s.conventional_grid(&sch, t_max, t_min, n)?;
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
        // The pathwise panel's coarse screen, reported only (orders are judged on the exact laws of (c)).
        let m = ns.len();
        let gain = (errs[m - 3] / errs[m - 1]).log(4.0);
        screen = screen.max(zoo_order(s) - gain);
        fig_b = fig_b.with(Series::line(s.label(), pts));
    }
    // (c) exact W2 and KL on the 1-D three-mode mixture (law1d) against the exact p_{t_min}, from the exact
    // p_T: every deterministic zoo sampler and the one-step stochastic ones (SDE-DPM-Solver++(2M) keeps
    // noise in its history and stays Monte Carlo).
    let mix1 = mixture_1d();
    let data = density_1d(&mix1, 1.0, 0.0)?;
    let reference = density_1d(&mix1, sch.alpha(t_min), sch.sigma(t_min))?;
    let mut fig_c = Figure::new(
        "mixture-exact",
        "WP-1 (c): exact W2 to p_{t_min} vs NFE, 1-D three-mode mixture (law1d)",
        "NFE (denoiser evaluations)",
        "exact W2, law1d (data units)",
    )
    .loglog();
    let mut slopes = Table::new(
        "orders",
        &[
            "sampler",
            "expected_order",
            "fitted_order",
            "ci_lo",
            "ci_hi",
            "points",
            "verdict",
        ],
    );
    let (mut worst, mut worst_what, mut failed) = (0.0_f64, String::new(), Vec::new());
    let mut faster_list = Vec::new();
    let mut unresolved: f64 = 0.0;
    let mut orders_text = Vec::new();
    for s in Sampler::zoo()
        .into_iter()
        .filter(|s| !(s.is_stochastic() && s.history_len() > 0))
    {
        let (mut pts, mut w2s, mut steps) = (Vec::new(), Vec::new(), Vec::new());
        for &n in &ns {
            let times = s.conventional_grid(&sch, t_max, t_min, n)?;
            let law = output_law_vs(s, &sch, &times, &data, &reference, Start::Marginal, FINE)?;
            let nfe = s.nfe(&sch, &times);
            for (what, v) in [
                ("mixture-1d-exact-w2", law.w2),
                ("mixture-1d-exact-kl", law.kl),
            ] {
                table.push(vec![
                    what.into(),
                    s.label().into(),
                    n.into(),
                    nfe.into(),
                    v.into(),
                ]);
            }
            pts.push((nfe as f64, law.w2));
            // Points the quadrature resolves to 1e-3 relative enter the fit.
            if law.error.w2 <= 1e-3 * law.w2 {
                w2s.push(law.w2);
                steps.push(n as f64);
            } else {
                unresolved = unresolved.max(law.error.w2 / law.w2);
            }
        }
        fig_c = fig_c.with(Series::line(s.label(), pts));
        // The distributional order: least-squares slope of log W2 on log N over the last three resolved N
        // (the last two doublings, as HO-*), with its 95% Student-t interval.
        let k = zoo_order(s);
        let m = steps.len();
        anyhow::ensure!(
            m >= 3,
            "{}: fewer than three resolved step counts",
            s.label()
        );
        let fit = loglog_slope(&steps[m - 3..], &w2s[m - 3..], tol::LEVEL)?;
        let (order, lo, hi) = (-fit.slope, -fit.hi, -fit.lo);
        let at_order = (order - k).abs() <= tol::ORDER || (lo <= k && k <= hi);
        // Faster than k beyond the tolerance (interval above k) is pre-asymptotic, not a failure: order k
        // bounds the error by C h^k. Slower fails (a Heun without its corrector fits 1, not 2).
        let faster = lo > k;
        let ok = at_order || faster;
        if faster && !at_order {
            faster_list.push(s.label());
        }
        if (order - k).abs() > worst {
            worst = (order - k).abs();
            worst_what = s.label();
        }
        if !ok {
            failed.push(s.label());
        }
        orders_text.push(format!(
            "{} {order:.2} [{lo:.2}, {hi:.2}] (k = {k})",
            s.label()
        ));
        slopes.push(vec![
            s.label().into(),
            k.into(),
            order.into(),
            lo.into(),
            hi.into(),
            (m.min(3)).into(),
            (if at_order {
                "at order"
            } else if faster {
                "faster (pre-asymptotic)"
            } else {
                "FAIL"
            })
            .into(),
        ]);
    }
    Ok(Evidence::within(
        failed.len() as f64,
        0.0,
        format!("work–precision of {} samplers on (a) exact W2 (forms, power-law Gaussian), (b) 2-D mixture pathwise error vs RK4-in-λ reference ({ref_steps} steps; reported: the coarse screen max(k − observed order over the last two doublings) = {screen:.2}), (c) exact W2/KL on the 1-D three-mode mixture (law1d) vs the exact p_{{t_min}}; headline: samplers whose distributional order on (c) fails |fitted − k| ≤ tol::ORDER = {} (pre-asymptotic drift of fitted slopes) with the 95% interval not containing k either, and not faster than k (interval above k: pre-asymptotic, reported: {faster_list:?}) (fit of log W2 on log N over the last three N resolved to 1e-3 by the quadrature); max |fitted − k| = {worst:.2} ({worst_what}); failing: {failed:?}; fitted orders: {}; largest unresolved stated/value {unresolved:.1e} (excluded from fits)", Sampler::zoo().len(), tol::ORDER, orders_text.join("; ")),
    )
    .table(table)
    .table(slopes)
    .figure(fig_a)
    .figure(fig_b)
    .figure(fig_c))
}

/// Expected order of each sampler as an ODE solver (SDE samplers: weak order 1); WP-1 asks it of the zoo.
fn zoo_order(s: Sampler) -> f64 {
    match s {
        Sampler::Rk4T => 4.0,
        Sampler::DpmSolver3
        | Sampler::DpmSolverPp3M { corrected: true }
        | Sampler::DpmSolver3M { corrected: true } => 3.0,
        Sampler::HeunT
        | Sampler::EdmHeun
        | Sampler::DpmSolver2
        | Sampler::DpmSolverPp3M { corrected: false }
        | Sampler::DpmSolver3M { corrected: false }
        | Sampler::DpmSolver2M => 2.0,
        Sampler::Deis { order } | Sampler::DpmSolverPpSinglestep { order } => order as f64,
        // UniC raises UniP's order by one (Zhao et al. 2023).
        Sampler::UniPc { order } => order as f64 + 1.0,
        Sampler::DpmSolverPp2M { noise_level: 0.0 } => 2.0,
        Sampler::DpmSolverPp2M { .. }
        | Sampler::SdeDpmSolverPp3M { .. }
        | Sampler::Ddpm(_)
        | Sampler::Ddim { .. }
        | Sampler::EulerMaruyama { .. }
        | Sampler::EulerVe
        | Sampler::DpmSolver1
        | Sampler::DpmSolverPp1
        | Sampler::DdpmBetaDt
        | Sampler::ExpIntegrator { .. }
        | Sampler::ExpIntegratorScore { .. }
        | Sampler::EdmEuler => 1.0,
    }
}

/// The exact laws' resolution here: 128 Gauss–Legendre panels (map route; the default 32 leaves a stated
/// W2 error ~1e-6 on maps that reach W2 ~1e-4) and the default κ = 3 (grid route).
const FINE: Accuracy = Accuracy {
    panels: 128,
    kappa: 3.0,
};
