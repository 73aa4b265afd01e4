//! PZ-1: ε̂, x̂₀, score, v and the flow velocity convert into one another exactly, for every schedule.

use super::common::noised_points;
use crate::algebra::{eps_from_x0, score_from_x0};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::schedule::all_continuous;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "PZ-1",
        family: super::FAMILY,
        source: "PDM §6.3 (blog, four_predictions); DPM-Solver model_wrapper",
        statement: "ε̂, x̂₀, score, Salimans–Ho v and the flow velocity convert into one another exactly (round trips), on mixture closed forms, for every schedule.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let mix = demo_mixture();
    let mut rng = ctx.rng("points");
    let (nt, nx) = ctx.scale.pick((6, 8), (25, 40));
    let mut table = Table::new("", &["schedule", "t", "point", "conversion", "rel_err"]);
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    let mut fig = Figure::new(
        "",
        "PZ-1: largest round-trip error per schedule",
        "t / T (dimensionless)",
        "max relative error (dimensionless)",
    )
    .logy();
    for sch in all_continuous() {
        let (t_min, t_max) = sch.t_range();
        let mut curve = Vec::new();
        for k in 0..nt {
            let t = t_min + (t_max - t_min) * (0.05 + 0.85 * k as f64 / (nt - 1) as f64);
            let (a, s, da, ds) = (sch.alpha(t), sch.sigma(t), sch.dalpha(t), sch.dsigma(t));
            let (f, g2) = (sch.f(t), sch.g2(t));
            let mut tmax: f64 = 0.0;
            for (p, x) in noised_points(&mix, a, s, nx, &mut rng).iter().enumerate() {
                let x0 = mix.denoise(x, a, s); // direct closed form
                let score = mix.score(x, a, s); // direct closed form
                let eps = -&score * s; // ε̂ = −σ s
                                       // Scale of each identity: the magnitudes of its terms (round-off is relative to them).
                let sc = x.norm() + a * x0.norm() + s * eps.norm();
                let mut errs = vec![
                    ("eps -> x0", rel(&((x - &eps * s) / a), &x0, sc / a)),
                    // The library's own conversions (one place for each formula).
                    ("x0 -> eps", rel(&eps_from_x0(x, &x0, a, s), &eps, sc / s)),
                    (
                        "x0 -> score",
                        rel(&score_from_x0(x, &x0, a, s), &score, sc / (s * s)),
                    ),
                ];
                // Salimans–Ho v = α ε − σ x₀ and back.
                let v = &eps * a - &x0 * s;
                let n2 = a * a + s * s;
                errs.push((
                    "v -> x0",
                    rel(
                        &((x * a - &v * s) / n2),
                        &x0,
                        sc / n2.sqrt() / a.clamp(1e-12, 1.0),
                    ),
                ));
                errs.push((
                    "v -> eps",
                    rel(
                        &((x * s + &v * a) / n2),
                        &eps,
                        sc / n2.sqrt() / s.clamp(1e-12, 1.0),
                    ),
                ));
                // Flow velocity two ways: α̇ x̂₀ + σ̇ ε̂ = f x − ½ g² s.
                let v1 = &x0 * da + &eps * ds;
                let v2 = x * f - &score * (0.5 * g2);
                let vs = da.abs() * x0.norm()
                    + ds.abs() * eps.norm()
                    + f.abs() * x.norm()
                    + 0.5 * g2 * score.norm();
                errs.push((
                    "velocity: adot x0 + sdot eps = f x - g2/2 score",
                    rel(&v1, &v2, vs),
                ));
                match sch.name() {
                    "rectified-flow" => {
                        errs.push(("linear path: v = eps - x0", rel(&v1, &(&eps - &x0), vs)))
                    }
                    "edm" => errs.push((
                        "EDM: v = eps = (x - D)/sigma",
                        rel(&v1, &((x - &x0) / s), vs),
                    )),
                    _ => {}
                }
                for (what, e) in errs {
                    if e > worst {
                        worst = e;
                        worst_what = format!("{} {what} at t={t:.4}", sch.name());
                    }
                    tmax = tmax.max(e);
                    table.push(vec![
                        sch.name().into(),
                        t.into(),
                        p.into(),
                        what.into(),
                        e.into(),
                    ]);
                }
            }
            curve.push((t / t_max, tmax.max(1e-17)));
        }
        fig = fig.with(Series::line(sch.name(), curve));
    }
    Ok(Evidence::within(
        worst,
        tol::IDENTITY,
        format!("max relative round-trip error over 8 schedules × {nt} times × {nx} points, relative to the magnitudes of the terms; worst: {worst_what}"),
    )
    .table(table)
    .figure(fig))
}

fn rel(a: &DVector<f64>, b: &DVector<f64>, scale: f64) -> f64 {
    (a - b).norm() / scale.max(1e-300)
}
