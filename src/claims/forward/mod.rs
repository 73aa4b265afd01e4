//! Forward-process identities: schedules (CONV-1 / FW-1), parameterisations (PZ-1), Tweedie (FW-6).

use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::schedule::{all_continuous, Schedule};
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "CONV-1",
            family: "forward",
            source: "CLAIMS §1.1, §14; FW Setup; PDM blog",
            statement: "Every schedule satisfies f = α̇/α, g² = dσ²/dt − 2fσ² = −2σ²λ̇ (the table's f and g² columns), σ_t² = α_t²(σ_0²/α_0² + ∫_0^t g²/α²), and t(λ) inverts λ(t).",
            check: conv1,
        },
        Claim {
            id: "PZ-1",
            family: "forward",
            source: "PDM §6.3 (blog, four_predictions); DPM-Solver model_wrapper",
            statement: "ε̂, x̂₀, score, Salimans–Ho v and the flow velocity convert into one another exactly (round trips), on mixture closed forms, for every schedule.",
            check: pz1,
        },
        Claim {
            id: "FW-6",
            family: "forward",
            source: "McA slides (Tweedie); PDM/FW",
            statement: "Tweedie: ∇log p_t = (α x̂₀ − x)/σ² = −ε̂/σ, and Cov[x₀|x_t] = (σ²/α²)(I + σ²∇²log p_t), on Gaussian mixtures.",
            check: fw6,
        },
    ]
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

fn conv1(ctx: &Ctx) -> Result<Evidence> {
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
        "t / T",
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

/// Points x ~ p_t: α x₀ + σ ε.
fn noised_points<R: rand::Rng>(
    mix: &Mixture,
    alpha: f64,
    sigma: f64,
    n: usize,
    rng: &mut R,
) -> Vec<DVector<f64>> {
    (0..n)
        .map(|_| {
            let x0 = mix.sample(rng);
            let e = DVector::from_fn(x0.len(), |_, _| StandardNormal.sample(&mut *rng));
            x0 * alpha + e * sigma
        })
        .collect()
}

fn rel(a: &DVector<f64>, b: &DVector<f64>, scale: f64) -> f64 {
    (a - b).norm() / scale.max(1e-300)
}

fn pz1(ctx: &Ctx) -> Result<Evidence> {
    let mix = demo_mixture();
    let mut rng = ctx.rng("points");
    let (nt, nx) = ctx.scale.pick((6, 8), (25, 40));
    let mut table = Table::new("", &["schedule", "t", "point", "conversion", "rel_err"]);
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    let mut fig = Figure::new(
        "",
        "PZ-1: largest round-trip error per schedule",
        "t / T",
        "max relative error",
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
                    ("x0 -> eps", rel(&((x - &x0 * a) / s), &eps, sc / s)),
                    (
                        "x0 -> score",
                        rel(&((&x0 * a - x) / (s * s)), &score, sc / (s * s)),
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

fn fw6(ctx: &Ctx) -> Result<Evidence> {
    let mix = demo_mixture();
    let mut rng = ctx.rng("points");
    let (nt, nx) = ctx.scale.pick((8, 10), (40, 50));
    let sch = crate::schedule::VpLinear::default();
    let mut table = Table::new(
        "",
        &[
            "t",
            "sigma",
            "point",
            "first_order_rel_err",
            "second_order_rel_err",
            "posterior_trace",
        ],
    );
    let mut fig = Figure::new(
        "",
        "FW-6: Tweedie identities on a 2-D mixture (VP-linear)",
        "σ_t",
        "max relative error",
    )
    .loglog();
    let (mut w1, mut w2): (f64, f64) = (0.0, 0.0);
    let (mut c1, mut c2) = (Vec::new(), Vec::new());
    for k in 0..nt {
        let t = 0.02 + 0.96 * k as f64 / (nt - 1) as f64;
        let (a, s) = (sch.alpha(t), sch.sigma(t));
        let (mut m1, mut m2): (f64, f64) = (0.0, 0.0);
        for (p, x) in noised_points(&mix, a, s, nx, &mut rng).iter().enumerate() {
            let score = mix.score(x, a, s);
            let x0 = mix.denoise(x, a, s);
            let tweedie = (&x0 * a - x) / (s * s);
            let e1 = (&score - &tweedie).norm() / (score.norm() + x.norm() / (s * s));
            let cov = mix.posterior_covariance(x, a, s);
            let hess = mix.hessian_log_density(x, a, s);
            let d = x.len();
            let second = (DMatrix::identity(d, d) + &hess * (s * s)) * (s * s / (a * a));
            let e2 = (&cov - &second).norm()
                / ((s * s / (a * a)) * ((d as f64).sqrt() + s * s * hess.norm()));
            m1 = m1.max(e1);
            m2 = m2.max(e2);
            table.push(vec![
                t.into(),
                s.into(),
                p.into(),
                e1.into(),
                e2.into(),
                cov.trace().into(),
            ]);
        }
        w1 = w1.max(m1);
        w2 = w2.max(m2);
        c1.push((s, m1.max(1e-17)));
        c2.push((s, m2.max(1e-17)));
    }
    fig = fig
        .with(Series::line("first order: score vs (αx̂₀ − x)/σ²", c1))
        .with(Series::line(
            "second order: Cov[x₀|x] vs (σ²/α²)(I + σ²H)",
            c2,
        ));
    let worst = w1.max(w2);
    Ok(Evidence::within(
        worst,
        tol::FACTORED,
        format!("max relative error, first order {w1:.2e}, second order {w2:.2e} (scale: the magnitudes of the terms; through 2×2 Cholesky inverses), {nt} times × {nx} points"),
    )
    .table(table)
    .figure(fig))
}
