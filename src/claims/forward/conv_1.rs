//! CONV-1: every schedule satisfies f = α̇/α, g² = dσ²/dt − 2fσ² = −2σ²λ̇, the Itô isometry for σ², and t(λ(t)) = t.

use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::schedule::all_continuous;
use crate::tol;
use anyhow::Result;
use std::f64::consts::PI;

pub(super) fn claim() -> Claim {
    Claim {
        id: "CONV-1",
        family: super::FAMILY,
        source: "CLAIMS §1.1, §14; FW Setup; PDM blog",
        statement: "Every schedule satisfies f = α̇/α, g² = dσ²/dt − 2fσ² = −2σ²λ̇ (the table's f and g² columns), σ_t² = α_t²(σ_0²/α_0² + ∫_0^t g²/α²), and t(λ) inverts λ(t).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let n = ctx.scale.pick(24, 200);
    let mut table = Table::new(
        "",
        &[
            "schedule",
            "t",
            "check",
            "lhs",
            "rhs",
            "rel_err",
            "tolerance",
        ],
    );
    let mut fig = Figure::new(
        "logsnr",
        "CONV-1: half-log-SNR λ(t) of every schedule",
        "t / T (dimensionless)",
        "λ = log(α/σ)",
    );
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    for sch in all_continuous() {
        let (t_min, t_max) = sch.t_range();
        let name = sch.name();
        let mut curve = Vec::new();
        for k in 0..n {
            // Interior points, away from the singular ends of rectified flow / cosine.
            let t = t_min + (t_max - t_min) * (0.02 + 0.9 * k as f64 / (n - 1) as f64);
            let (f_tab, g2_tab, l_tab) = table_columns(name, t);
            let delta = 1e-5 * t.clamp(1e-2, 1.0);
            let mut rows = vec![
                ("f = table", sch.f(t), f_tab, tol::IDENTITY),
                ("g2 = table", sch.g2(t), g2_tab, tol::IDENTITY),
                ("logsnr = table", sch.logsnr(t), l_tab, tol::IDENTITY),
                (
                    "dalpha = central diff",
                    sch.dalpha(t),
                    central(&|u| sch.alpha(u), t, delta),
                    tol::CENTRAL_DIFF,
                ),
                (
                    "dsigma = central diff",
                    sch.dsigma(t),
                    central(&|u| sch.sigma(u), t, delta),
                    tol::CENTRAL_DIFF,
                ),
                (
                    "g2 = -2 sigma^2 dlogsnr (central diff)",
                    sch.g2(t),
                    -2.0 * sch.sigma(t).powi(2) * central(&|u| sch.logsnr(u), t, delta),
                    tol::CENTRAL_DIFF,
                ),
                (
                    "t(logsnr(t)) = t",
                    sch.t_of_logsnr(sch.logsnr(t)),
                    t,
                    tol::IDENTITY * (t_max / t).max(1.0),
                ),
            ];
            // Deterministic Itô isometry: σ_t² = α_t²(σ_0²/α_0² + ∫_0^t g²/α² ds).
            let t0 = 0.0;
            let integral =
                crate::quadrature::gauss_legendre(&|s| sch.g2(s) / sch.alpha(s).powi(2), t0, t, 64);
            let rhs =
                sch.alpha(t).powi(2) * (sch.sigma(t0).powi(2) / sch.alpha(t0).powi(2) + integral);
            rows.push((
                "sigma^2 = alpha^2 int g2/alpha^2",
                sch.sigma(t).powi(2),
                rhs,
                tol::QUADRATURE,
            ));
            for (check, lhs, rhs, tolerance) in rows {
                let err = (lhs - rhs).abs() / rhs.abs().max(1e-300);
                let ratio = err / tolerance;
                if ratio > worst {
                    worst = ratio;
                    worst_what = format!("{name} {check} at t={t:.4}");
                }
                table.push(vec![
                    name.into(),
                    t.into(),
                    check.into(),
                    lhs.into(),
                    rhs.into(),
                    err.into(),
                    tolerance.into(),
                ]);
            }
            curve.push((t / t_max, sch.logsnr(t)));
        }
        fig = fig.with(Series::line(name, curve));
    }
    Ok(Evidence::within(
        worst,
        1.0,
        format!("max over 8 schedules × {n} times of rel_err/tolerance (identities 1e-12, central differences 1e-7, quadrature 1e-9); worst: {worst_what}"),
    )
    .table(table)
    .figure(fig))
}

/// The f, g² and λ columns of CLAIMS §1.1, written out per schedule (independent of the `Schedule` defaults).
fn table_columns(name: &str, t: f64) -> (f64, f64, f64) {
    let vp_beta = |t: f64| 0.1 + t * (20.0 - 0.1);
    let vp_alpha = |t: f64| (-0.25 * t * t * (20.0 - 0.1) - 0.5 * t * 0.1).exp();
    match name {
        "vp-linear" => {
            let a = vp_alpha(t);
            (
                -vp_beta(t) / 2.0,
                vp_beta(t),
                a.ln() - 0.5 * (1.0 - a * a).ln(),
            )
        }
        "sub-vp" => {
            let a = vp_alpha(t);
            (
                -vp_beta(t) / 2.0,
                vp_beta(t) * (1.0 - a.powi(4)),
                a.ln() - (1.0 - a * a).ln(),
            )
        }
        "ve" => {
            let s = 0.01 * (50.0_f64 / 0.01).powf(t);
            (0.0, 2.0 * s * s * (50.0_f64 / 0.01).ln(), -s.ln())
        }
        "edm" => (0.0, 2.0 * t, -t.ln()),
        "ou" => (-1.0, 2.0, -t - 0.5 * (1.0 - (-2.0 * t).exp()).ln()),
        "brownian" => (0.0, 1.0, -0.5 * t.ln()),
        "rectified-flow" => (-1.0 / (1.0 - t), 2.0 * t / (1.0 - t), ((1.0 - t) / t).ln()),
        "cosine-vp" => (
            -(PI / 2.0) * (PI * t / 2.0).tan(),
            PI * (PI * t / 2.0).tan(),
            -(PI * t / 2.0).tan().ln(),
        ),
        other => panic!("no table row for schedule {other}"),
    }
}

fn central(f: &dyn Fn(f64) -> f64, t: f64, delta: f64) -> f64 {
    (f(t + delta) - f(t - delta)) / (2.0 * delta)
}
