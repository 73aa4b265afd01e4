//! DD-6: one exact ε-model serves every η; at few steps η = 0 is the most accurate, the gap closing with more steps.

use super::common::{alpha_bar_linear, ddim_gaussian_law, skip_grid};
use crate::algebra::PcgNoise;
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::metrics::sliced_w2;
use crate::sampler::Sampler;
use crate::schedule::{BetaSchedule, Discrete, Schedule};
use crate::target::projected_quantiles;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

pub(super) fn claim() -> Claim {
    Claim {
        id: "DD-6",
        family: super::FAMILY,
        source: "FW §7; DDIM (Song et al. 2021) Thm 1 and Table 1 (trend only); CLAIMS §7",
        statement: "One exact ε-model serves every η; at few steps η = 0 is the most accurate and error grows with η, the gap closing as the step count grows (exact W2 on a Gaussian; sliced W2 on a 2-D mixture).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
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
        format!("one exact ε-model (the Gaussian/mixture oracle) for every η ∈ {etas:?}; every Gaussian W2 equals the scalar DDIM recursion written out in ᾱ per eigen-coordinate to {law_err:.1e} relative (≤ 1e-10); headline: violated trend conditions on the exact Gaussian W2 (W2 increasing in η at N = 5/10/20: {monotone}; η=1 − η=0 gap vs N {gaps:.3?} shrinking from N = 10: {closing}; at N = 5 the gap is still growing); 2-D mixture sliced W2 ({n} samples, 32 directions, vs exact projected quantiles) at N = 5/10: η=0 {:.3}/{:.3}, η=1 {:.3}/{:.3}, finite-sample floor (exact samples) {floor:.3}: at this sample size the mixture trend is within the W2 sampling noise (tail-dominated), so it is reported, not judged", sw[0][0], sw[0][1], sw[3][0], sw[3][1]),
    )
    .require(law_err <= crate::tol::FACTORED, "the exact W2 differs from DDIM's recursion written out in ᾱ")
    .table(table)
    .figure(fig)
    .figure(fig_b))
}
