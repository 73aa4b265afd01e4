//! FW-2: pathwise, the conditional path x_t = α_t x₀ + σ_t ε solves an ODE with three equal right-hand
//! sides, α̇x₀ + σ̇ε = f x + (g²/2σ) ε = f x − ½g²∇log q_t(x|x₀), and RK4 on it converges at order 4.

use super::common::{linspace, rk4};
use crate::algebra::{Form, FormNoise};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::metrics::loglog_slope;
use crate::sampler::Sampler;
use crate::schedule::all_continuous;
use crate::target::Gaussian;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

/// Errors below this (relative to |α x₀| + σ) are round-off, not truncation: left out of the slope fit.
const ROUNDOFF: f64 = 1e-12;
/// The data point and noise of the pathwise check (any values: the identities are linear in both).
const X0: f64 = 0.7;
const EPS: f64 = -1.3;

/// A form's RK4 error at t_end as a function of the number of steps.
type ErrorOfSteps<'a> = Box<dyn Fn(usize) -> f64 + 'a>;

pub(super) fn claim() -> Claim {
    Claim {
        id: "FW-2",
        family: super::FAMILY,
        source: "FW abstract, §1 (conditional forward process)",
        statement: "For fixed (x₀, ε) the path x_t = α_t x₀ + σ_t ε solves dx/dt = α̇x₀ + σ̇ε = f x + (g²/2σ)ε = f x − ½g²∇log q_t(x|x₀); RK4 on it converges with slope −4.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let steps: Vec<usize> = ctx
        .scale
        .pick(vec![32, 64, 128, 256], vec![32, 64, 128, 256, 512, 1024]);
    let npts = ctx.scale.pick(12, 60);
    let mut rhs_table = Table::new("rhs", &["schedule", "t", "rel_err_B", "rel_err_C"]);
    let mut table = Table::new(
        "rk4",
        &["schedule", "form", "t_start", "t_end", "steps", "error"],
    );
    let mut slopes = Table::new(
        "slopes",
        &["schedule", "form", "slope", "ci_low", "ci_high", "note"],
    );
    let mut fig = Figure::new(
        "",
        "FW-2: RK4 on the conditional-path ODE, error at t_end",
        "steps N",
        "|x_N − (α x₀ + σ ε)| (data units)",
    )
    .loglog();
    let mut worst_rhs: f64 = 0.0;
    let mut worst_dev: f64 = 0.0;
    let mut worst_slope = -4.0;
    let mut worst_what = String::new();
    let mut fitted = 0usize;
    for sch in all_continuous() {
        let name = sch.name();
        let (t_min, t_max) = sch.t_range();
        let (ta, tb) = (
            t_min + 0.05 * (t_max - t_min),
            t_min + 0.9 * (t_max - t_min),
        );
        // (i) The three right-hand sides on the path.
        for k in 0..npts {
            let t = ta + (tb - ta) * k as f64 / (npts - 1) as f64;
            let (a, s, da, ds, f, g2) = (
                sch.alpha(t),
                sch.sigma(t),
                sch.dalpha(t),
                sch.dsigma(t),
                sch.f(t),
                sch.g2(t),
            );
            let x = a * X0 + s * EPS;
            let rhs_a = da * X0 + ds * EPS;
            let rhs_b = f * x + g2 / (2.0 * s) * EPS;
            let score = -(x - a * X0) / (s * s);
            let rhs_c = f * x - 0.5 * g2 * score;
            let scale =
                (da * X0).abs() + (ds * EPS).abs() + (f * x).abs() + (g2 / (2.0 * s) * EPS).abs();
            let (eb, ec) = ((rhs_b - rhs_a).abs() / scale, (rhs_c - rhs_a).abs() / scale);
            worst_rhs = worst_rhs.max(eb).max(ec);
            rhs_table.push(vec![name.into(), t.into(), eb.into(), ec.into()]);
        }
        // (ii) RK4: forms A and B by the claims' own RK4 (ε fixed), form C by the library's RK4 sampler on
        // point-mass data δ_{x₀} (its PF-ODE is f x − ½g²∇log q_t(x|x₀)), on a Form: all ε at once.
        let exact = sch.alpha(tb) * X0 + sch.sigma(tb) * EPS;
        let size = (sch.alpha(tb) * X0).abs() + sch.sigma(tb);
        let point = Gaussian::point_mass(DVector::from_vec(vec![X0]));
        let forms: [(&str, ErrorOfSteps); 3] = [
            (
                "A: dalpha x0 + dsigma eps",
                Box::new(|n| {
                    let x = rk4(
                        &|t, _| vec![sch.dalpha(t) * X0 + sch.dsigma(t) * EPS],
                        &[sch.alpha(ta) * X0 + sch.sigma(ta) * EPS],
                        ta,
                        tb,
                        n,
                    );
                    (x[0] - exact).abs()
                }),
            ),
            (
                "B: f x + g2/(2 sigma) eps",
                Box::new(|n| {
                    let x = rk4(
                        &|t, y| vec![sch.f(t) * y[0] + sch.g2(t) / (2.0 * sch.sigma(t)) * EPS],
                        &[sch.alpha(ta) * X0 + sch.sigma(ta) * EPS],
                        ta,
                        tb,
                        n,
                    );
                    (x[0] - exact).abs()
                }),
            ),
            (
                "C: f x - g2/2 grad log q (library rk4-t)",
                Box::new(|n| {
                    let start = Form::gaussian(vec![sch.alpha(ta) * X0], vec![sch.sigma(ta)]);
                    let out = Sampler::Rk4T.run(
                        sch.as_ref(),
                        &linspace(ta, tb, n),
                        start,
                        &point,
                        &mut FormNoise::after(1),
                    );
                    // Pathwise error for every |ε| ≤ |EPS|: the constant and the ε-coefficient.
                    (out.c[0] - sch.alpha(tb) * X0).abs()
                        + (out.a[0][0] - sch.sigma(tb)).abs() * EPS.abs()
                }),
            ),
        ];
        for (form, err_of) in forms.iter() {
            let errs: Vec<f64> = steps.iter().map(|&n| err_of(n)).collect();
            let mut pts = Vec::new();
            for (n, e) in steps.iter().zip(&errs) {
                table.push(vec![
                    name.into(),
                    (*form).into(),
                    ta.into(),
                    tb.into(),
                    (*n).into(),
                    (*e).into(),
                ]);
                pts.push((*n as f64, e.max(1e-17)));
            }
            let (xs, ys): (Vec<f64>, Vec<f64>) = steps
                .iter()
                .zip(&errs)
                .filter(|(_, e)| **e > ROUNDOFF * size)
                .map(|(n, e)| (*n as f64, *e))
                .unzip();
            if xs.len() >= 3 {
                // The asymptotic regime: the last three step counts above round-off (two doublings).
                let k = xs.len();
                let fit = loglog_slope(&xs[k - 3..], &ys[k - 3..], tol::LEVEL)?;
                let dev = (fit.slope + 4.0).abs();
                if dev > worst_dev {
                    worst_dev = dev;
                    worst_slope = fit.slope;
                    worst_what = format!("{name} {form}: slope {:.3}", fit.slope);
                }
                fitted += 1;
                slopes.push(vec![
                    name.into(),
                    (*form).into(),
                    fit.slope.into(),
                    fit.lo.into(),
                    fit.hi.into(),
                    "".into(),
                ]);
            } else {
                slopes.push(vec![
                    name.into(),
                    (*form).into(),
                    "".into(),
                    "".into(),
                    "".into(),
                    "RK4 exact here (error at round-off)".into(),
                ]);
            }
            if form.starts_with('C') {
                fig = fig.with(Series::line(format!("{name} (C)"), pts));
            }
        }
    }
    Ok(Evidence::close(
        worst_slope,
        -4.0,
        tol::ORDER,
        format!("RK4 slopes (last two doublings above round-off) over {fitted} (schedule, form) pairs within ±{} of −4 (fitted-order tolerance, tol::ORDER); worst: {worst_what}. Pairs with all errors below {ROUNDOFF:.0e} are exact for RK4 (e.g. EDM form A/B). Three right-hand sides agree to {worst_rhs:.1e} relative (≤ 1e-12)", tol::ORDER),
    )
    .require(worst_rhs <= tol::IDENTITY, "the three right-hand sides differ")
    .table(rhs_table)
    .table(table)
    .table(slopes)
    .figure(fig))
}
