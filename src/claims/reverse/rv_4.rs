//! RV-4: Gaussian reverse conditionals and the KL of McAllester's Gaussian reverse kernel.

use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::metrics::loglog_slope;
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};

pub(super) fn claim() -> Claim {
    Claim {
        id: "RV-4",
        family: super::FAMILY,
        source: "McA slides (VAE analysis, reverse-time probabilities); CLAIMS §4",
        statement: "q(x_s|x_t,x₀) = N((α_{t|s}σ_s²/σ_t²)x_t + (α_sσ_{t|s}²/σ_t²)x₀, σ_{t|s}²σ_s²/σ_t²); the Gaussian approximation N(z + (Δt/t)(ŷ−z), Δt) of the true reverse kernel has per-step KL O(Δt²) and summed KL O(Δt).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let _ = ctx;
    // (a) exact posterior vs brute-force Gaussian conditioning of (x_s, x_t) given x₀ (3×3 joint).
    let mut post_err: f64 = 0.0;
    let mut post = Table::new(
        "posterior",
        &[
            "schedule", "s", "t", "coef_x_t", "coef_x0", "variance", "rel_err",
        ],
    );
    for sch in crate::schedule::all_continuous() {
        let (t_min, t_max) = sch.t_range();
        for &(fs, ft) in &[(0.2, 0.5), (0.5, 0.6), (0.05, 0.9)] {
            let (s, t) = (t_min + fs * (t_max - t_min), t_min + ft * (t_max - t_min));
            let (a_s, s_s, a_t, s_t) = (sch.alpha(s), sch.sigma(s), sch.alpha(t), sch.sigma(t));
            let a_ts = a_t / a_s;
            let s_ts2 = s_t * s_t - a_ts * a_ts * s_s * s_s;
            let (cx, c0, var) = (
                a_ts * s_s * s_s / (s_t * s_t),
                a_s * s_ts2 / (s_t * s_t),
                s_ts2 * s_s * s_s / (s_t * s_t),
            );
            // Brute force: x₀ ~ N(0, 1), x_s = a_s x₀ + s_s e₁, x_t = a_ts x_s + √s_ts2 e₂; condition x_s on (x₀, x_t).
            let (e1, e2) = (s_s * s_s, s_ts2);
            let joint = DMatrix::from_row_slice(
                3,
                3,
                &[
                    1.0,
                    a_s,
                    a_ts * a_s,
                    a_s,
                    a_s * a_s + e1,
                    a_ts * (a_s * a_s + e1),
                    a_ts * a_s,
                    a_ts * (a_s * a_s + e1),
                    a_ts * a_ts * (a_s * a_s + e1) + e2,
                ],
            );
            let idx = [0usize, 2];
            let kk = DMatrix::from_fn(2, 2, |i, j| joint[(idx[i], idx[j])]);
            let kx = DMatrix::from_fn(1, 2, |_, j| joint[(1, idx[j])]);
            let w = &kx
                * kk.try_inverse()
                    .ok_or_else(|| anyhow::anyhow!("singular"))?;
            let v = joint[(1, 1)] - (&w * kx.transpose())[(0, 0)];
            let e = ((w[(0, 1)] - cx).abs() / cx.abs().max(1e-300))
                .max((w[(0, 0)] - c0).abs() / c0.abs().max(1e-300))
                .max((v - var).abs() / var);
            post_err = post_err.max(e);
            post.push(vec![
                sch.name().into(),
                s.into(),
                t.into(),
                cx.into(),
                c0.into(),
                var.into(),
                e.into(),
            ]);
        }
    }
    // (b) per-step KL vs Δt; (c) summed over a grid from t = 1 to 0.1.
    let mix = Mixture::isotropic(
        vec![0.3, 0.7],
        vec![DVector::from_vec(vec![-2.0]), DVector::from_vec(vec![1.5])],
        &[0.09, 0.25],
    )?;
    let dts = [0.04, 0.02, 0.01, 0.005, 0.0025];
    let mut table = Table::new("", &["kind", "dt", "kl"]);
    let per: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let k = [-1.0, 0.0, 1.0]
                .iter()
                .map(|&z| kernel_kl(&mix, z, 0.5, dt))
                .sum::<f64>()
                / 3.0;
            table.push(vec!["per-step (t = 0.5)".into(), dt.into(), k.into()]);
            k
        })
        .collect();
    let summed: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let steps = (0.9 / dt).round() as usize;
            let k: f64 = (0..steps)
                .map(|i| {
                    let t = 1.0 - i as f64 * dt;
                    let sd = (0.25 + t).sqrt();
                    [-sd, 0.0, sd]
                        .iter()
                        .map(|&z| kernel_kl(&mix, z, t, dt))
                        .sum::<f64>()
                        / 3.0
                })
                .sum();
            table.push(vec!["summed (t 1 → 0.1)".into(), dt.into(), k.into()]);
            k
        })
        .collect();
    let f1 = loglog_slope(&dts, &per, tol::LEVEL)?;
    let f2 = loglog_slope(&dts, &summed, tol::LEVEL)?;
    let fig = Figure::new(
        "",
        "RV-4: KL of McAllester's Gaussian reverse kernel",
        "step Δt (units of t)",
        "KL (nats)",
    )
    .loglog()
    .with(Series::line(
        "per step (t = 0.5, 3 points)",
        dts.iter().copied().zip(per.iter().copied()).collect(),
    ))
    .with(Series::line(
        "summed over t from 1 to 0.1",
        dts.iter().copied().zip(summed.iter().copied()).collect(),
    ));
    Ok(Evidence::within(
        post_err,
        tol::FACTORED,
        format!("exact posterior vs brute-force 3×3 Gaussian conditioning over 8 schedules × 3 (s, t): max rel err {post_err:.1e} (tolerance 1e-10: a 2×2 inverse); per-step KL slope {:.2} [{:.2}, {:.2}] (expected +2 ± 0.25); summed KL slope {:.2} [{:.2}, {:.2}] (expected +1 ± 0.25); 1-D GMM, Brownian path, quadrature 64×8-point GL", f1.slope, f1.lo, f1.hi, f2.slope, f2.lo, f2.hi),
    )
    .require((f1.slope - 2.0).abs() <= tol::ORDER, "per-step KL slope is not 2")
    .require((f2.slope - 1.0).abs() <= tol::ORDER, "summed KL slope is not 1")
    .table(post)
    .table(table)
    .figure(fig))
}

/// KL(exact reverse kernel ‖ Gaussian approximation) for one step z at t → t − Δt on the Brownian path, 1-D
/// mixture data, by Gauss–Legendre quadrature over ±12 standard deviations.
fn kernel_kl(mix: &Mixture, z: f64, t: f64, dt: f64) -> f64 {
    let x = DVector::from_element(1, z);
    let r = mix.class_posterior(&x, 1.0, t.sqrt());
    // y | z, k ~ N(μ̂_k, v̂_k); z' | z, y ~ N(z + (Δt/t)(y − z), Δt(1 − Δt/t)).
    let comps: Vec<(f64, f64, f64)> = r
        .iter()
        .zip(&mix.means)
        .zip(&mix.covs)
        .map(|((rk, m), c)| {
            let v0 = c[(0, 0)];
            let vk = v0 * t / (v0 + t);
            let mk = m[0] + v0 / (v0 + t) * (z - m[0]);
            (
                *rk,
                z + dt / t * (mk - z),
                dt * (1.0 - dt / t) + (dt / t).powi(2) * vk,
            )
        })
        .collect();
    let yhat: f64 = r
        .iter()
        .zip(&comps)
        .map(|(rk, _)| *rk)
        .zip(mix.means.iter().zip(&mix.covs))
        .map(|(rk, (m, c))| {
            let v0 = c[(0, 0)];
            rk * (m[0] + v0 / (v0 + t) * (z - m[0]))
        })
        .sum();
    let (qm, qv) = (z + dt / t * (yhat - z), dt);
    let logn = |x: f64, m: f64, v: f64| {
        -0.5 * ((x - m).powi(2) / v + (2.0 * std::f64::consts::PI * v).ln())
    };
    let sd = dt.sqrt();
    crate::quadrature::gauss_legendre(
        &|y| {
            let p: f64 = comps
                .iter()
                .map(|(w, m, v)| w * logn(y, *m, *v).exp())
                .sum();
            if p <= 0.0 {
                0.0
            } else {
                p * (p.ln() - logn(y, qm, qv))
            }
        },
        qm - 12.0 * sd,
        qm + 12.0 * sd,
        64,
    )
}
