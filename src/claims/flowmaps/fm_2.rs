//! FM-2 (TZ §5; PDM §11.2–11.3, blog): the consistency function's boundary condition, self-consistency
//! along trajectories and differential form ∂_t f + (∇_x f) v = 0, on Gaussian data (closed form) and on a
//! 2-D mixture (reference ODE with its own error estimate; the differential form by central differences).

use super::common::{gaussian_points, mixture_points, rel_diff, EPS};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, test_gaussian};
use crate::flowmap::{jet_jacobian, jet_value, mixture_velocity, reference_flow, GaussianFlow};
use crate::metrics::loglog_slope;
use crate::schedule::{Schedule, VpLinear};
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "FM-2",
        family: super::FAMILY,
        source: "TZ §5 (consistency models); PDM §11.2–11.3 and blog (f_θ(x_s, s) ≈ Ψ_{s→0}(x_s))",
        statement: "The consistency function f(x, t) = Ψ_{t→ε}(x) satisfies f(x, ε) = x, f(Ψ_{s→t}(x), t) = f(x, s) and ∂_t f(x, t) + ∇_x f(x, t)·v(x, t) = 0: to 1e-12 on Gaussians (ε = 0, closed form), to the reference ODE's own error on a 2-D mixture; central differences of the differential form converge with slope 2.",
        check,
    }
}

/// Central-difference steps in t for the differential form (halving: slope 2 over 3 octaves).
const DELTAS: [f64; 4] = [0.04, 0.02, 0.01, 0.005];

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    let g = test_gaussian();
    let fl = GaussianFlow::new(&g, &sch);
    let n_pts = ctx.scale.pick(4, 8);
    let mut rng = ctx.rng("points");
    let mut table = Table::new(
        "",
        &["data", "property", "s", "t", "max_rel_diff", "tolerance"],
    );
    // (1) Gaussian, closed form, ε = 0.
    let mut g_worst = 0.0_f64;
    for t in [1.0, 0.5, 0.1, 1e-3] {
        let xs = gaussian_points(&g, sch.alpha(t), sch.sigma(t), n_pts, &mut rng);
        let (mut selfc, mut diff) = (0.0_f64, 0.0_f64);
        let jac = fl.jacobian(t, 0.0);
        for x in &xs {
            let dt_f = fl.d_start(x, t, 0.0);
            let res = &dt_f + &jac * fl.velocity(x, t);
            diff = diff.max(res.amax() / dt_f.amax().max(1.0));
        }
        for s in [t * 0.5, t * 0.1] {
            for x in &xs {
                let y = fl.flow_map(x, t, s);
                selfc = selfc.max(rel_diff(&fl.consistency(&y, s), &fl.consistency(x, t)));
            }
        }
        let boundary = xs
            .iter()
            .map(|x| rel_diff(&fl.consistency(x, 0.0), x))
            .fold(0.0, f64::max);
        g_worst = g_worst.max(selfc).max(diff).max(boundary);
        for (p, v) in [
            ("boundary f(x,0)=x", boundary),
            ("self-consistency", selfc),
            ("differential form (analytic)", diff),
        ] {
            table.push(vec![
                "gaussian".into(),
                p.into(),
                t.into(),
                "".into(),
                v.into(),
                tol::IDENTITY.into(),
            ]);
        }
    }
    // Gaussian: the differential form by central differences in t (slope 2).
    let t0 = 0.5;
    let xs = gaussian_points(&g, sch.alpha(t0), sch.sigma(t0), n_pts, &mut rng);
    let mut fd = Table::new(
        "central-differences",
        &["data", "point", "delta", "residual"],
    );
    let mut slopes = Vec::new();
    let mut fig = Figure::new(
        "central-differences",
        "FM-2: ∂_t f + ∇f·v by central differences in t",
        "δ (units of t)",
        "max |residual| (data units per unit t)",
    )
    .loglog();
    let mut g_res = Vec::new();
    for (p, x) in xs.iter().enumerate() {
        let jv = fl.jacobian(t0, 0.0) * fl.velocity(x, t0);
        let res: Vec<f64> = DELTAS
            .iter()
            .map(|&d| {
                let dt = (fl.consistency(x, t0 + d) - fl.consistency(x, t0 - d)) / (2.0 * d);
                (dt + &jv).amax()
            })
            .collect();
        for (d, r) in DELTAS.iter().zip(&res) {
            fd.push(vec!["gaussian".into(), p.into(), (*d).into(), (*r).into()]);
        }
        slopes.push(("gaussian", loglog_slope(&DELTAS, &res, tol::LEVEL)?.slope));
        g_res.push(res);
    }
    let max_over = |rs: &[Vec<f64>]| -> Vec<(f64, f64)> {
        DELTAS
            .iter()
            .enumerate()
            .map(|(i, d)| (*d, rs.iter().map(|r| r[i]).fold(0.0, f64::max)))
            .collect()
    };
    fig = fig.with(Series::line("Gaussian (closed form)", max_over(&g_res)));
    // (2) 2-D mixture: f(x, t) = Ψ_{t→ε}(x) by the reference ODE (RK4 in λ on Jets).
    let mix = demo_mixture();
    let steps = ctx.scale.pick(2000, 3000);
    let mut m_ratio = 0.0_f64;
    let s0 = 0.8;
    let xs = mixture_points(&mix, sch.alpha(s0), sch.sigma(s0), n_pts, &mut rng);
    let f_s = reference_flow(&sch, &mix, &xs, s0, EPS, steps)?;
    let boundary = {
        let r = reference_flow(&sch, &mix, &xs, EPS, EPS, steps)?;
        r.map
            .v
            .iter()
            .zip(&xs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    table.push(vec![
        "mixture".into(),
        "boundary f(x,eps)=x".into(),
        EPS.into(),
        "".into(),
        boundary.into(),
        0.0.into(),
    ]);
    for t in [0.4, 0.1] {
        let to_t = reference_flow(&sch, &mix, &xs, s0, t, steps)?;
        let f_t = reference_flow(&sch, &mix, &to_t.map.v, t, EPS, steps)?;
        let (mut worst, mut worst_tol, mut ratio) = (0.0_f64, 0.0_f64, -1.0_f64);
        for p in 0..f_s.map.len() {
            let d = (jet_value(&f_t.map, p) - jet_value(&f_s.map, p)).amax();
            // Error budget: both consistency values plus the error of Ψ_{s→t} carried by ∇f (row sums).
            let jf = jet_jacobian(&f_t.map, p);
            let lip = (0..2).map(|r| jf.row(r).abs().sum()).fold(0.0, f64::max);
            let budget = tol::IDENTITY + f_s.value_error + f_t.value_error + lip * to_t.value_error;
            if d / budget > ratio || (d / budget).is_nan() {
                (worst, worst_tol, ratio) = (d, budget, d / budget);
            }
        }
        m_ratio = m_ratio.max(ratio);
        {}
        table.push(vec![
            "mixture".into(),
            "self-consistency".into(),
            s0.into(),
            t.into(),
            worst.into(),
            worst_tol.into(),
        ]);
    }
    // Mixture: ∂_t f by central differences of the reference flow, ∇f from the variational equation, v from
    // the mixture's score.
    let xs = mixture_points(&mix, sch.alpha(t0), sch.sigma(t0), n_pts, &mut rng);
    let at = reference_flow(&sch, &mix, &xs, t0, EPS, steps)?;
    let mut m_res = vec![vec![0.0; DELTAS.len()]; at.map.len()];
    let mut ode_err = 0.0_f64;
    for (i, &d) in DELTAS.iter().enumerate() {
        let up = reference_flow(&sch, &mix, &xs, t0 + d, EPS, steps)?;
        let dn = reference_flow(&sch, &mix, &xs, t0 - d, EPS, steps)?;
        ode_err = ode_err.max((up.value_error + dn.value_error) / (2.0 * d));
        for (p, row) in m_res.iter_mut().enumerate() {
            let x = DVector::from_row_slice(&xs[2 * p..2 * p + 2]);
            let jv = jet_jacobian(&at.map, p) * mixture_velocity(&mix, &sch, &x, t0);
            let dt = (jet_value(&up.map, p) - jet_value(&dn.map, p)) / (2.0 * d);
            row[i] = (dt + jv).amax();
        }
    }
    for (p, res) in m_res.iter().enumerate() {
        for (d, r) in DELTAS.iter().zip(res) {
            fd.push(vec!["mixture".into(), p.into(), (*d).into(), (*r).into()]);
        }
        slopes.push(("mixture", loglog_slope(&DELTAS, res, tol::LEVEL)?.slope));
    }
    let min_res = m_res
        .iter()
        .flatten()
        .copied()
        .fold(f64::INFINITY, f64::min);
    fig = fig
        .with(Series::line(
            "2-D mixture (reference ODE)",
            max_over(&m_res),
        ))
        .with(Series::reference(
            "slope 2",
            DELTAS
                .iter()
                .map(|d| (*d, max_over(&g_res)[0].1 * (d / DELTAS[0]).powi(2)))
                .collect(),
        ));
    let slope_err = slopes
        .iter()
        .map(|(_, s)| (s - 2.0).abs())
        .fold(0.0, f64::max);
    let (smin, smax) = slopes
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, (_, s)| {
            (a.0.min(*s), a.1.max(*s))
        });
    Ok(Evidence::within(
        g_worst,
        tol::IDENTITY,
        format!(
            "measured = max relative violation on Gaussian data (d = 3, VP-linear, closed form, ε = 0) of f(x, 0) = x, f(Ψ_{{t→s}}(x), s) = f(x, t) and ∂_t f + ∇f·v = 0 (∂_t f = ∂_sΨ_{{s→0}} and ∇f by calculus on the closed form, v = α̇μ + A_t(x − m_t)) = {g_worst:.1e} ≤ 1e-12. 2-D mixture (demo mixture, f = Ψ_{{t→ε}}, ε = {EPS}, reference RK4 in λ, {steps} steps, Jacobians by the variational equation): f(x, ε) = x exactly ({boundary:e}); self-consistency within {m_ratio:.2} of its budget (1e-12 + both consistency values' step-halving differences + ∇f row sum × the error of Ψ_{{s→t}}); central differences of ∂_t f + ∇f·v at t = {t0}, δ = {DELTAS:?}: fitted slopes {smin:.3} … {smax:.3} (expected 2 ± {}), smallest residual {min_res:.1e} vs the ODE error carried by the difference ≤ {ode_err:.1e}",
            tol::ORDER
        ),
    )
    .require(m_ratio <= 1.0, "mixture self-consistency beyond the ODE's own error")
    .require(boundary == 0.0, "f(x, ε) ≠ x on the mixture")
    .require(slope_err <= tol::ORDER, "central-difference residual not of slope 2")
    .require(
        ode_err < 0.01 * min_res,
        "the ODE error is not negligible in the central differences",
    )
    .table(table)
    .table(fd)
    .figure(fig))
}
