//! ENGINE-2: the exact 1-D law by quadrature (`law1d`) equals the affine-form engine on Gaussian data,
//! agrees with Monte Carlo on a mixture, and states its own accuracy honestly.

use super::engine_2_plane::{plane_panel, plane_table};
use crate::algebra::{Noise, PcgNoise};
use crate::claims::{stable_hash, Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{density_1d, mixture_1d};
use crate::law1d::{output_law, Accuracy, Density1d, Route, Start};
use crate::metrics::{kl_commuting, mean_ci, w2_commuting};
use crate::sampler::{exact_law, DdpmVariance, Sampler};
use crate::schedule::{Schedule, VpLinear};
use crate::target::Gaussian;
use crate::tol;
use anyhow::{ensure, Result};
use nalgebra::DVector;
use rayon::prelude::*;

/// KL(10 steps)/KL(20 steps) of RK4: its O(h⁴) map error enters KL squared, ratio 2⁸ = 256; pre-asymptotic
/// runs approach it from below (a factor 4 either side is accepted).
const RK4_KL_RATIO: (f64, f64) = (64.0, 1024.0);

pub(super) fn claim() -> Claim {
    Claim {
        id: "ENGINE-2",
        family: super::FAMILY,
        source: "issue 9; DESIGN 'Exact 1-D laws beyond Gaussians'",
        statement: "The exact 1-D output law by quadrature (deterministic samplers: the map Φ on duals; one-step stochastic samplers: the density through Gaussian kernels) equals the affine-form engine on Gaussian data to ≤ 1e-9 in W2 and KL for every sampler it supports, agrees with Monte Carlo on a 1-D mixture within 4 standard errors (mean, variance, CDF at fixed points), and its stated accuracy (n vs 2n) bounds its actual error.",
        check,
    }
}

/// Every sampler the quadrature route supports (all but the multistep stochastic SDE-DPM-Solver++(2M),
/// which stays Monte Carlo), with the route it must take.
fn supported() -> Vec<(Sampler, Route)> {
    let det = [
        Sampler::Ddim { eta: 0.0 },
        Sampler::EulerMaruyama { noise_level: 0.0 },
        Sampler::EulerVe,
        Sampler::DpmSolver1,
        Sampler::DpmSolverPp1,
        Sampler::ExpIntegrator { noise_level: 0.0 },
        Sampler::ExpIntegratorScore { noise_level: 0.0 },
        Sampler::HeunT,
        Sampler::Rk4T,
        Sampler::EdmEuler,
        Sampler::EdmHeun,
        Sampler::DpmSolver2,
        Sampler::DpmSolver3,
        Sampler::DpmSolverPp2M { noise_level: 0.0 },
        Sampler::DpmSolverPp3M { corrected: false },
        Sampler::DpmSolverPp3M { corrected: true },
        Sampler::DpmSolver2M,
        Sampler::Deis { order: 2 },
        Sampler::Deis { order: 3 },
        Sampler::DpmSolverPpSinglestep { order: 2 },
        Sampler::DpmSolverPpSinglestep { order: 3 },
        Sampler::UniPc { order: 2 },
        Sampler::UniPc { order: 3 },
    ];
    let sto = [
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::Ddpm(DdpmVariance::Large),
        Sampler::Ddim { eta: 0.2 },
        Sampler::Ddim { eta: 0.5 },
        Sampler::Ddim { eta: 1.0 },
        Sampler::EulerMaruyama { noise_level: 1.0 },
        Sampler::EulerMaruyama { noise_level: 0.5 },
        Sampler::DdpmBetaDt,
        Sampler::ExpIntegrator { noise_level: 1.0 },
        Sampler::ExpIntegratorScore { noise_level: 1.0 },
    ];
    det.into_iter()
        .map(|s| (s, Route::Map))
        .chain(sto.into_iter().map(|s| (s, Route::Grid)))
        .collect()
}

/// Gaussian data N(μ, v): the quadrature route against the forms' closed-form W2/KL. Φ is affine there, so
/// the map route's integrands are polynomials times a Gaussian (16-point Gauss–Legendre is exact up to
/// round-off: ~1e-13 on W2² of O(1) quantities, over 2·W2 ≳ 1e-4 on W2), and the grid route's kernel sums
/// are spectrally accurate (e^{−2π²r²}, r ≥ 3); tol::QUADRATURE = 1e-9 holds both with margin.
fn gaussian_panel(table: &mut Table) -> Result<(f64, String, usize)> {
    let sch = VpLinear::default();
    let (mu, v) = (0.7, 0.5);
    let data = Density1d::gaussian(mu, v)?;
    let g = Gaussian::from_eigen(
        DVector::from_vec(vec![mu]),
        DVector::from_vec(vec![v]),
        None,
    )?;
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    let all = supported();
    for &(s, route) in &all {
        let steps = if route == Route::Map { 12 } else { 50 };
        let times = s.conventional_grid(&sch, 1.0, 1e-3, steps)?;
        let law = output_law(s, &sch, &times, &data, Start::Marginal, Accuracy::default())?;
        ensure!(law.route == route, "{}: took the wrong route", s.label());
        ensure!(
            law.monotone,
            "{}: the output map is not monotone",
            s.label()
        );
        let (m, c) = exact_law(s, &sch, &times, &g);
        let (m, c) = (m[0], c[(0, 0)]);
        let w2 = w2_commuting(&[m], &[c], &[mu], &[v]);
        let kl = kl_commuting(&[m], &[c], &[mu], &[v]);
        let (dw, dk) = ((law.w2 - w2).abs(), (law.kl - kl).abs());
        // NaN-propagating maximum (f64::max would drop a NaN).
        let bad = [dw, dk, law.error.w2, law.error.kl]
            .into_iter()
            .fold(0.0, |a: f64, b| {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            });
        if bad.is_nan() || bad > worst {
            worst = if bad.is_nan() { f64::INFINITY } else { bad };
            worst_what = s.label();
        }
        table.push(vec![
            s.label().into(),
            format!("{route:?}").into(),
            steps.into(),
            w2.into(),
            law.w2.into(),
            dw.into(),
            kl.into(),
            law.kl.into(),
            dk.into(),
            law.error.w2.into(),
        ]);
    }
    Ok((worst, worst_what, all.len()))
}

/// Monte Carlo output of `sampler` on the crate's `Mixture` (its own denoiser, PCG noise) from exact p_T
/// samples; chunks of paths seeded by (seed, claim, sampler, chunk), so results do not depend on threads.
fn monte_carlo(ctx: &Ctx, sampler: Sampler, times: &[f64], n: usize) -> Vec<f64> {
    let sch = VpLinear::default();
    let mix = mixture_1d();
    let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
    let chunk = 1000;
    (0..n.div_ceil(chunk))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut noise = PcgNoise::seeded(stable_hash(
                ctx.seed,
                &[ctx.id, &sampler.label(), &c.to_string()],
            ));
            let len = chunk.min(n - c * chunk);
            (0..len)
                .map(|_| {
                    let x0 = mix.sample(&mut noise.rng);
                    let z = noise.standard_normal(&x0);
                    sampler.run(&sch, times, x0 * a + z * s, &mix, &mut noise)[0]
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// CDF points of the Monte Carlo comparison: the modes, the valleys and the tails of the mixture.
const CDF_POINTS: [f64; 6] = [-2.5, -1.2, -0.5, 0.5, 1.5, 2.5];

/// The mixture panel: (max |z|, where, number of z-scores, paths for DDIM, paths for the others).
fn monte_carlo_panel(ctx: &Ctx, table: &mut Table) -> Result<(f64, String, usize, usize, usize)> {
    let sch = VpLinear::default();
    let data = density_1d(&mixture_1d(), 1.0, 0.0)?;
    // 10⁶ paths for DDIM (issue 9), 2·10⁵ for the others: the main job's time budget.
    let n_first = ctx.scale.pick(20_000, 1_000_000);
    let n_rest = ctx.scale.pick(20_000, 200_000);
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    let mut count = 0;
    for (s, n) in [
        Sampler::Ddim { eta: 0.0 },
        Sampler::DpmSolver3,
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::EulerMaruyama { noise_level: 1.0 },
    ]
    .into_iter()
    .enumerate()
    .map(|(i, s)| (s, if i == 0 { n_first } else { n_rest }))
    {
        let steps = 10;
        let times = s.conventional_grid(&sch, 1.0, 1e-3, steps)?;
        let law = output_law(s, &sch, &times, &data, Start::Marginal, Accuracy::default())?;
        ensure!(law.monotone, "{}: Φ not monotone on the mixture", s.label());
        let (mean, var) = law.mean_var();
        let cdf = law.cdf_on(&CDF_POINTS)?;
        let out = monte_carlo(ctx, s, &times, n);
        let ci = mean_ci(&out, tol::LEVEL)?;
        let sq: Vec<f64> = out.iter().map(|y| (y - ci.mean).powi(2)).collect();
        let vci = mean_ci(&sq, tol::LEVEL)?;
        let mc_var = vci.mean * n as f64 / (n - 1) as f64;
        let mut stats = vec![
            ("mean".to_string(), mean, ci.mean, ci.se),
            ("variance".to_string(), var, mc_var, vci.se),
        ];
        for (y, f) in CDF_POINTS.iter().zip(&cdf) {
            let hits = out.iter().filter(|&&o| o <= *y).count() as f64 / n as f64;
            stats.push((
                format!("cdf({y})"),
                *f,
                hits,
                (f * (1.0 - f) / n as f64).sqrt(),
            ));
        }
        for (what, exact, mc, se) in stats {
            let z = (mc - exact) / se;
            count += 1;
            if z.is_nan() || z.abs() > worst {
                worst = if z.is_nan() { f64::INFINITY } else { z.abs() };
                worst_what = format!("{} {what}", s.label());
            }
            table.push(vec![
                s.label().into(),
                what.into(),
                exact.into(),
                mc.into(),
                se.into(),
                z.into(),
            ]);
        }
    }
    Ok((worst, worst_what, count, n_first, n_rest))
}

/// Accuracy against resolution on the mixture: the stated error (n vs 2n difference) and the actual error
/// against a run at 8× the finest resolution. Returns (worst actual/stated excess at and above the default
/// resolution, stated W2 error at the default, figures).
fn accuracy_panel(table: &mut Table) -> Result<(f64, f64, f64, Vec<Figure>)> {
    let sch = VpLinear::default();
    let data = density_1d(&mixture_1d(), 1.0, 0.0)?;
    let def = Accuracy::default();
    let mut excess: f64 = 0.0;
    let (mut stated_map, mut stated_grid) = (f64::NAN, f64::NAN);
    let mut figs = Vec::new();
    for (s, route) in [
        (Sampler::Ddim { eta: 0.0 }, Route::Map),
        (Sampler::Ddpm(DdpmVariance::Small), Route::Grid),
    ] {
        let times = s.conventional_grid(&sch, 1.0, 1e-3, 10)?;
        let (levels, reference): (Vec<Accuracy>, Accuracy) = if route == Route::Map {
            (
                [2, 4, 8, 16, 32, 64]
                    .iter()
                    .map(|&p| Accuracy { panels: p, ..def })
                    .collect(),
                Accuracy { panels: 512, ..def },
            )
        } else {
            (
                [0.75, 1.0, 1.5, 2.0, 3.0, 4.0]
                    .iter()
                    .map(|&k| Accuracy { kappa: k, ..def })
                    .collect(),
                Accuracy { kappa: 16.0, ..def },
            )
        };
        let best = output_law(s, &sch, &times, &data, Start::Marginal, reference)?;
        let (mut stated_pts, mut actual_pts) = (Vec::new(), Vec::new());
        for acc in levels {
            let law = output_law(s, &sch, &times, &data, Start::Marginal, acc)?;
            let res = if route == Route::Map {
                acc.panels as f64
            } else {
                acc.kappa
            };
            let actual_w2 = (law.w2 - best.w2).abs();
            let actual_kl = (law.kl - best.kl).abs();
            table.push(vec![
                s.label().into(),
                format!("{route:?}").into(),
                res.into(),
                law.nodes.into(),
                law.w2.into(),
                law.error.w2.into(),
                actual_w2.into(),
                law.kl.into(),
                law.error.kl.into(),
                actual_kl.into(),
            ]);
            stated_pts.push((res, law.error.w2.max(1e-17)));
            actual_pts.push((res, actual_w2.max(1e-17)));
            let at_default = if route == Route::Map {
                acc.panels >= def.panels
            } else {
                acc.kappa >= def.kappa
            };
            if at_default {
                // The stated error must bound the actual one, up to the reference's own round-off
                // (sums of ~1e4 terms of O(0.1): measured ≤ 2e-11 on the grid route's KL).
                let floor = 1e-10;
                excess = excess
                    .max(actual_w2 / (law.error.w2 + floor))
                    .max(actual_kl / (law.error.kl + floor));
                if acc == def || (route == Route::Grid && acc.kappa == def.kappa) {
                    if route == Route::Map {
                        stated_map = law.error.w2;
                    } else {
                        stated_grid = law.error.w2;
                    }
                }
            }
        }
        let (name, xl) = if route == Route::Map {
            (
                "accuracy-map",
                "Gauss–Legendre panels (16 nodes each; the finer run doubles them)",
            )
        } else {
            (
                "accuracy-grid",
                "grid points per kernel standard deviation κ (the finer run doubles it)",
            )
        };
        figs.push(
            Figure::new(
                name,
                format!(
                    "ENGINE-2: accuracy of {} on the 1-D mixture (10 steps) vs resolution",
                    s.label()
                ),
                xl,
                "W2 error (data units)",
            )
            .loglog()
            .with(Series::line("stated (n vs 2n)", stated_pts))
            .with(Series::line("actual (vs 8× resolution)", actual_pts)),
        );
    }
    Ok((excess, stated_map, stated_grid, figs))
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let mut gauss = Table::new(
        "",
        &[
            "sampler",
            "route",
            "steps",
            "w2_forms",
            "w2_quadrature",
            "w2_diff",
            "kl_forms",
            "kl_quadrature",
            "kl_diff",
            "stated_error_w2",
        ],
    );
    let (worst_g, worst_g_what, n_samplers) = gaussian_panel(&mut gauss)?;
    let mut mc = Table::new(
        "mixture-monte-carlo",
        &[
            "sampler",
            "statistic",
            "exact",
            "monte_carlo",
            "standard_error",
            "z",
        ],
    );
    let (worst_z, worst_z_what, n_z, n, n_rest) = monte_carlo_panel(ctx, &mut mc)?;
    let mut acc = Table::new(
        "accuracy",
        &[
            "sampler",
            "route",
            "resolution",
            "nodes",
            "w2",
            "stated_error_w2",
            "actual_error_w2",
            "kl",
            "stated_error_kl",
            "actual_error_kl",
        ],
    );
    let (excess, stated_map, stated_grid, figs) = accuracy_panel(&mut acc)?;
    let mut plane = plane_table();
    let pl = plane_panel(&mut plane)?;
    // Family-wise false alarm of n_z z-scores at 4 SE: n_z · 6.3e-5.
    let alarm = n_z as f64 * 6.3e-5;
    let mut ev = Evidence::within(
        worst_g,
        tol::QUADRATURE,
        format!(
            "headline: max over {n_samplers} samplers (every one the route supports; SDE-DPM-Solver++(2M) stays Monte Carlo) of |W2 − W2_forms|, |KL − KL_forms| and the stated n/2n error, Gaussian N(0.7, 0.5), VP-linear, 12 steps (map route) / 50 steps (grid route) on each sampler's conventional grid (worst {worst_g_what}); tolerance tol::QUADRATURE = 1e-9 (Φ affine: Gauss–Legendre exact to round-off ~1e-13 on W2², the grid's kernel sums spectrally accurate). 1-D three-mode mixture vs Monte Carlo (crate Mixture + PCG, n = {n} for DDIM and {n_rest} for the others, 10 steps, 4 samplers): max |z| = {worst_z:.2} over {n_z} statistics (worst {worst_z_what}; must be < {}: family-wise false alarm ≈ {alarm:.1e}). Accuracy on the mixture: stated W2 error at the default resolution {stated_map:.1e} (map, 32 panels) and {stated_grid:.1e} (grid, κ = 3); max actual/(stated + 1e-10) at and above the default = {excess:.2} (must be ≤ 1: the n vs 2n difference bounds the finer run's error)",
            tol::K_SE
        ),
    )
    .require(worst_z < tol::K_SE, "the quadrature law disagrees with Monte Carlo on the mixture")
    .require(excess <= 1.0, "the stated accuracy understates the actual error")
    .require(
        pl.gaussian_gap <= tol::QUADRATURE,
        "d = 2: the Jacobian-determinant KL differs from the forms' closed form",
    )
    .require(
        (RK4_KL_RATIO.0..=RK4_KL_RATIO.1).contains(&pl.rk4_ratio) && pl.mixture_rel_error <= 1e-2,
        "d = 2 mixture: RK4's KL does not fall at order 8 (or is unresolved)",
    )
    .table(gauss)
    .table(mc)
    .table(acc)
    .table(plane);
    ev.detail.push_str(&format!(
        "; d = 2 (Jacobian determinant of Φ by duals, tensor Gauss–Legendre): KL vs the forms' closed form on a non-diagonal Gaussian, 4 samplers, max gap or stated error {:.1e} (≤ 1e-9); RK4 on the 2-D demo mixture to p_{{t_min = 0.4}}: KL(10)/KL(20) = {:.0} (order 8 ⇒ 256; accepted in [64, 1024]), stated relative error {:.1e} (≤ 1e-2)",
        pl.gaussian_gap, pl.rk4_ratio, pl.mixture_rel_error
    ));
    for f in figs {
        ev = ev.figure(f);
    }
    Ok(ev)
}
