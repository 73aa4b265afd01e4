//! RV-3: The probability-flow ODE integrated backward from p_T gives p_t (Gaussian flow map; exact GMM law by quadrature).

use crate::algebra::PcgNoise;
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::Table;
use crate::fixtures::{density_1d, mixture_1d};
use crate::law1d::{output_law_vs, Accuracy, Start};
use crate::metrics::loglog_slope;
use crate::sampler::{uniform_t, Sampler};
use crate::schedule::{Schedule, VpLinear};
use crate::target::Gaussian;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "RV-3",
        family: super::FAMILY,
        source: "McA slides (Fokker–Planck analysis); PDM blog PF-ODE; CLAIMS §4",
        statement: "The PF-ODE dx/dt = f x − ½g²∇log p integrated backward from p_T gives p_t: exact Gaussian flow map (RK4 error slope −4), and on a 1-D GMM the exact output law (by quadrature) converges to p_{t_min} in W2 and KL at the solver's order (DPM-Solver-3: 3, RK4: 4).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    // (1) Gaussian flow map Ψ_{T→t}(x) = m_t + √(C_t/C_T)(x − m_T) vs RK4 in t.
    let (mu, s2) = (0.7, 0.4);
    let g = Gaussian::from_eigen(
        DVector::from_vec(vec![mu]),
        DVector::from_vec(vec![s2]),
        None,
    )?
    .to_mixture();
    let (t0, t1) = (1.0, 0.05);
    let c = |t: f64| sch.alpha(t).powi(2) * s2 + sch.sigma(t).powi(2);
    let ns = [25.0, 50.0, 100.0, 200.0];
    let mut table = Table::new("", &["steps", "max_abs_error"]);
    let mut errs = Vec::new();
    for &n in &ns {
        let times = uniform_t(t0, t1, n as usize)?;
        let mut e: f64 = 0.0;
        for x in [-2.0, 0.0, 1.5] {
            let out = Sampler::Rk4T.run(
                &sch,
                &times,
                DVector::from_vec(vec![x]),
                &g,
                &mut PcgNoise::seeded(0),
            )[0];
            let exact = sch.alpha(t1) * mu + (c(t1) / c(t0)).sqrt() * (x - sch.alpha(t0) * mu);
            e = e.max((out - exact).abs());
        }
        table.push(vec![(n as usize).into(), e.into()]);
        errs.push(e);
    }
    let fit = loglog_slope(&ns, &errs, tol::LEVEL)?;
    // (2) 1-D three-mode GMM, exact laws (law1d, no Monte Carlo): DPM-Solver-3 and RK4 on the PF-ODE with the exact
    // score, from the exact p_T, measured against the exact p_{t_min} (a mixture with means α μ_k and
    // variances α² v_k + σ²): W2 and KL must vanish at the solver's order.
    let mix = mixture_1d();
    let t_min = 1e-3;
    let data = density_1d(&mix, 1.0, 0.0)?;
    let reference = density_1d(&mix, sch.alpha(t_min), sch.sigma(t_min))?;
    let ns = ctx
        .scale
        .pick(vec![10, 20, 40, 80], vec![10, 20, 40, 80, 160, 320]);
    let mut gmm = Table::new(
        "gmm-exact",
        &[
            "sampler",
            "steps",
            "w2",
            "kl",
            "ks",
            "tv",
            "stated_error_w2",
        ],
    );
    let mut fits = Vec::new();
    let mut worst: f64 = 0.0;
    let mut off_order = Vec::new();
    let mut unresolved: f64 = 0.0;
    let mut finest = Vec::new();
    for (s, k) in [(Sampler::DpmSolver3, 3.0), (Sampler::Rk4T, 4.0)] {
        let (mut w2s, mut kls) = (Vec::new(), Vec::new());
        for &n in &ns {
            let times = s.conventional_grid(&sch, 1.0, t_min, n)?;
            let law = output_law_vs(s, &sch, &times, &data, &reference, Start::Marginal, FINE)?;
            unresolved = unresolved.max(law.error.w2 / law.w2);
            gmm.push(vec![
                s.label().into(),
                n.into(),
                law.w2.into(),
                law.kl.into(),
                law.ks.into(),
                law.tv.into(),
                law.error.w2.into(),
            ]);
            w2s.push(law.w2);
            kls.push(law.kl);
        }
        let x: Vec<f64> = ns.iter().map(|&n| n as f64).collect();
        let m = x.len();
        let fw = loglog_slope(&x[m - 3..], &w2s[m - 3..], tol::LEVEL)?;
        let fk = loglog_slope(&x[m - 3..], &kls[m - 3..], tol::LEVEL)?;
        // W2 at order k; KL(p_t + δ ‖ p_t) is quadratic in the perturbation δ = O(h^k): order 2k. Judged
        // as HO-*: |fitted − order| ≤ tol::ORDER (KL: 2·tol::ORDER) or the 95% interval containing it.
        let within = |f: &crate::metrics::SlopeFit, order: f64, t: f64| {
            (-f.slope - order).abs() <= t || (-f.hi <= order && order <= -f.lo)
        };
        if !within(&fw, k, tol::ORDER) || !within(&fk, 2.0 * k, 2.0 * tol::ORDER) {
            off_order.push(s.label());
        }
        worst = worst
            .max((-fw.slope - k).abs())
            .max((-fk.slope - 2.0 * k).abs() / 2.0);
        fits.push(format!(
            "{} W2 order {:.2} [{:.2}, {:.2}] (k = {k}), KL order {:.2} [{:.2}, {:.2}] (2k = {})",
            s.label(),
            -fw.slope,
            -fw.hi,
            -fw.lo,
            -fk.slope,
            -fk.hi,
            -fk.lo,
            2.0 * k
        ));
        finest.push((s.label(), w2s[m - 1], kls[m - 1]));
    }
    Ok(Evidence::close(
        -fit.slope,
        4.0,
        tol::ORDER,
        format!("RK4-in-t PF-ODE vs the exact Gaussian flow map (t 1 → 0.05): error slope {:.2} [{:.2}, {:.2}] (expected −4 ± {}); 1-D three-mode GMM (fixtures::mixture_1d), exact laws by quadrature against the exact p_{{t_min}} (t_min = 1e-3; replaces a Monte Carlo KS whose 0.1% critical value was ≥ 0.014): {}; at N = {}: {} (must be ≤ 1e-4: the PF-ODE with the exact score transports p_T onto p_{{t_min}}); max |fitted − order| (KL's deviation halved) {worst:.2}; off order (|fitted − order| > tol::ORDER = 0.25 for W2, 0.5 for KL, and the 95% interval excluding it): {off_order:?}; quadrature resolves every W2 (max stated/value {unresolved:.1e}, must be ≤ 1e-3)", fit.slope, fit.lo, fit.hi, tol::ORDER, fits.join("; "), ns[ns.len() - 1], finest.iter().map(|(l, w, k)| format!("{l} W2 {w:.2e}, KL {k:.2e}")).collect::<Vec<_>>().join(", ")),
    )
    .require(off_order.is_empty(), "the GMM PF-ODE law does not converge to p_{t_min} at the solver's order")
    .require(finest.iter().all(|(_, w, _)| *w <= 1e-4), "the GMM PF-ODE law does not reach p_{t_min}")
    .require(unresolved <= 1e-3, "the exact GMM law is not resolved by its quadrature")
    .table(table)
    .table(gmm))
}

/// The exact laws' resolution here: 128 Gauss–Legendre panels (map route; the default 32 leaves a stated
/// W2 error ~1e-6 on maps that reach W2 ~1e-5).
const FINE: Accuracy = Accuracy {
    panels: 128,
    kappa: 3.0,
};
