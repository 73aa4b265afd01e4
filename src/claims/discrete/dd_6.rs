//! DD-6: one exact ε-model serves every η; at few steps η = 0 is the most accurate, the gap closing with more steps.

use super::common::{alpha_bar_linear, ddim_gaussian_law, skip_grid};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{density_1d, mixture_1d};
use crate::law1d::{output_law_vs, Accuracy, Start};
use crate::sampler::Sampler;
use crate::schedule::{BetaSchedule, Discrete, Schedule};
use anyhow::Result;

pub(super) fn claim() -> Claim {
    Claim {
        id: "DD-6",
        family: super::FAMILY,
        source: "FW §7; DDIM (Song et al. 2021) Thm 1 and Table 1 (trend only); CLAIMS §7",
        statement: "One exact ε-model serves every η; at few steps η = 0 is the most accurate and error grows with η, the gap closing as the step count grows (exact W2 on a Gaussian and on a 1-D three-mode mixture).",
        check,
    }
}

fn check(_ctx: &Ctx) -> Result<Evidence> {
    let sch = Discrete::new(BetaSchedule::Linear);
    let etas = [0.0, 0.2, 0.5, 1.0];
    let ns = [5usize, 10, 20, 50, 100];
    let mut table = Table::new("", &["data", "eta", "steps", "error"]);
    let mut fig = Figure::new(
        "",
        "DD-6: exact W2 to p_0 vs steps for DDIM(η), Gaussian data (1000-step linear table)",
        "steps N",
        "W2 (data units)",
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
    // Quantitative expectation: every W2 of (a) from the scalar DDIM recursion written out in ᾱ, one
    // eigen-coordinate at a time (independent of the sampler and of the full-matrix Bures route).
    let abar = alpha_bar_linear();
    let (mu, lam) = (g.eigen_mean(), &g.eigvals);
    let mut law_err: f64 = 0.0;
    for (i, &eta) in etas.iter().enumerate() {
        for (j, &n) in ns.iter().enumerate() {
            let grid: Vec<usize> = skip_grid(n).iter().map(|&t| t as usize).collect();
            let w2_sq: f64 = (0..lam.len())
                .map(|k| {
                    let (m, v) = ddim_gaussian_law(&abar, &grid, mu[k], lam[k], eta);
                    let (m0, v0) = (abar[0].sqrt() * mu[k], abar[0] * lam[k] + 1.0 - abar[0]);
                    (m - m0).powi(2) + (v.sqrt() - v0.sqrt()).powi(2)
                })
                .sum();
            law_err = law_err.max((w2[i][j] - w2_sq.sqrt()).abs() / w2_sq.sqrt());
        }
    }
    let gauss_trend = trend(&w2);
    let gaps: Vec<f64> = (0..ns.len()).map(|j| w2[3][j] - w2[0][j]).collect();
    // (b) exact W2 and KL on the 1-D three-mode mixture (law1d: DDIM(0) by the map route, η > 0 by the
    // grid route), from the exact p_T at n = 999 to the exact p_0 at n = 0 (the Gaussian panel's laws).
    let mix = mixture_1d();
    let data = density_1d(&mix, 1.0, 0.0)?;
    let reference = density_1d(&mix, sch.alpha(0.0), sch.sigma(0.0))?;
    let mut mw2 = vec![vec![0.0; ns.len()]; etas.len()];
    let mut mkl = vec![vec![0.0; ns.len()]; etas.len()];
    let mut unresolved: f64 = 0.0;
    let mut fig_b = Figure::new(
        "mixture",
        "DD-6: exact W2 to p_0 vs steps for DDIM(η), 1-D three-mode mixture (1000-step linear table)",
        "steps N",
        "exact W2, law1d (data units)",
    )
    .loglog();
    let mut fig_c = Figure::new(
        "mixture-kl",
        "DD-6: exact KL(output ‖ p_0) vs steps for DDIM(η), 1-D three-mode mixture",
        "steps N",
        "KL (nats)",
    )
    .loglog();
    for (i, &eta) in etas.iter().enumerate() {
        for (j, &steps) in ns.iter().enumerate() {
            let times = skip_grid(steps);
            let law = output_law_vs(
                Sampler::Ddim { eta },
                &sch,
                &times,
                &data,
                &reference,
                Start::Marginal,
                FINE,
            )?;
            mw2[i][j] = law.w2;
            mkl[i][j] = law.kl;
            unresolved = unresolved
                .max(law.error.w2 / law.w2)
                .max(law.error.kl / law.kl);
            table.push(vec![
                "mixture-exact-w2".into(),
                eta.into(),
                steps.into(),
                law.w2.into(),
            ]);
            table.push(vec![
                "mixture-exact-kl".into(),
                eta.into(),
                steps.into(),
                law.kl.into(),
            ]);
        }
        let pts = |v: &[f64]| {
            ns.iter()
                .map(|&n| n as f64)
                .zip(v.iter().copied())
                .collect()
        };
        fig_b = fig_b.with(Series::line(format!("η = {eta}"), pts(&mw2[i])));
        fig_c = fig_c.with(Series::line(format!("η = {eta}"), pts(&mkl[i])));
    }
    let mix_trend = trend(&mw2);
    let mix_trend_kl = trend(&mkl);
    let mgaps: Vec<f64> = (0..ns.len()).map(|j| mw2[3][j] - mw2[0][j]).collect();
    let violations = gauss_trend.0 + gauss_trend.1 + mix_trend.0 + mix_trend.1;
    let row = |v: &[Vec<f64>], j: usize| {
        format!(
            "{:.4}/{:.4}/{:.4}/{:.4}",
            v[0][j], v[1][j], v[2][j], v[3][j]
        )
    };
    Ok(Evidence::within(
        violations as f64,
        0.0,
        format!("one exact ε-model (the Gaussian/mixture oracle) for every η ∈ {etas:?}; every Gaussian W2 equals the scalar DDIM recursion written out in ᾱ per eigen-coordinate to {law_err:.1e} relative (≤ 1e-10); headline: violated trend conditions (W2 increasing in η at N = 5/10/20: 9 pairs; η=1 − η=0 gap shrinking from N = 10: 3 pairs; at N = 5 neither sampler is in its asymptotic regime) on the exact Gaussian W2 ({} + {}; gaps vs N {gaps:.3?}) and on the exact W2 of the 1-D three-mode mixture ({} + {}; gaps {mgaps:.4?}); mixture W2 at η = 0/0.2/0.5/1: N = 5 {}, N = 10 {}, N = 20 {}, N = 100 {}; mixture KL: N = 5 {}, N = 100 {} (KL trend violations {} + {}, reported); quadrature resolves every mixture value: max stated error / value {unresolved:.1e} (must be ≤ 1e-3)",
            gauss_trend.0, gauss_trend.1, mix_trend.0, mix_trend.1,
            row(&mw2, 0), row(&mw2, 1), row(&mw2, 2), row(&mw2, 4), row(&mkl, 0), row(&mkl, 4), mix_trend_kl.0, mix_trend_kl.1),
    )
    .require(law_err <= crate::tol::FACTORED, "the exact W2 differs from DDIM's recursion written out in ᾱ")
    .require(unresolved <= 1e-3, "the exact mixture law is not resolved by its quadrature")
    .table(table)
    .figure(fig)
    .figure(fig_b)
    .figure(fig_c))
}

/// The η trade-off on a table err[η index][N index] (η = 0, 0.2, 0.5, 1; N = 5, 10, 20, 50, 100):
/// (pairs with the error not increasing in η at N = 5/10/20, of 9; doublings from N = 10 on where the
/// η = 1 − η = 0 gap does not shrink, of 3).
fn trend(err: &[Vec<f64>]) -> (usize, usize) {
    let non_monotone = (0..3)
        .flat_map(|j| (1..err.len()).map(move |i| (i, j)))
        .filter(|&(i, j)| err[i][j] <= err[i - 1][j])
        .count();
    let last = err.len() - 1;
    let gaps: Vec<f64> = (0..err[0].len())
        .map(|j| err[last][j] - err[0][j])
        .collect();
    let not_closing = gaps[1..].windows(2).filter(|w| w[1] >= w[0]).count();
    (non_monotone, not_closing)
}

/// The exact laws' resolution here: 128 Gauss–Legendre panels (map route; the default 32 leaves a stated
/// W2 error ~1e-6 on maps that reach W2 ~1e-4) and the default κ = 3 (grid route).
const FINE: Accuracy = Accuracy {
    panels: 128,
    kappa: 3.0,
};
