//! FW-5: the marginal velocity E[α̇x₀ + σ̇ε | x_t = x] (by quadrature over the posterior of x₀) equals
//! α̇x̂₀ + σ̇ε̂, f x − ½g²∇log p_t and the library's PF-ODE velocity; it satisfies the continuity equation
//! ∂_t p + ∇·(p v) = 0 (closed-form derivatives); and the forward PF-ODE pushes p_{t₀} to p_t (exact
//! 1-D law of RK4 run forward in time).

use super::common::linspace;
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, density_1d, mixture_1d};
use crate::law1d::{output_law_vs, Accuracy, Start};
use crate::metrics::loglog_slope;
use crate::quadrature::gauss_legendre;
use crate::sampler::{pf_velocity, Sampler};
use crate::schedule::{all_continuous, Schedule, VpLinear};
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

/// Posterior quadrature over x₀: 400 8-point panels on the posterior's bulk (p₀'s components have standard
/// deviation ≥ 0.22; the kernel's width is σ/α), i.e. ≥ 16 panels per standard deviation.
const POST_PANELS: usize = 400;
/// Continuity residual tolerance, as FW-4's (CLAIMS: analytic, machine precision).
const CONT_TOL: f64 = 1e-10;

pub(super) fn claim() -> Claim {
    Claim {
        id: "FW-5",
        family: super::FAMILY,
        source: "FW §2, §8; PDM blog (v = E[v^cond | x_t], v = f x − ½g²s)",
        statement: "v(x,t) = E[α̇x₀ + σ̇ε | x_t = x] = α̇x̂₀ + σ̇ε̂ = f x − ½g²∇log p_t; ∂_t p + ∇·(p v) = 0, so the forward ODE dx/dt = v pushes p₀ to p_t.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let (nt, nx) = ctx.scale.pick((5, 9), (12, 41));
    let mix1 = mixture_1d();
    let mix2 = demo_mixture();
    // (a) Velocity four ways on the 1-D mixture, every schedule. p₀'s pdf from the 1-D law engine.
    let prior_1d = density_1d(&mix1, 1.0, 0.0)?;
    let mut vel = Table::new(
        "velocity",
        &[
            "schedule",
            "t",
            "x",
            "v_posterior_quadrature",
            "rel_err_x0_eps",
            "rel_err_score",
            "rel_err_library",
        ],
    );
    let (mut worst_identity, mut worst_quad): (f64, f64) = (0.0, 0.0);
    for sch in all_continuous() {
        let (t_min, t_max) = sch.t_range();
        for k in 0..nt {
            let t = t_min + (t_max - t_min) * (0.05 + 0.85 * k as f64 / (nt - 1) as f64);
            let (a, s, da, ds, f, g2) = (
                sch.alpha(t),
                sch.sigma(t),
                sch.dalpha(t),
                sch.dsigma(t),
                sch.f(t),
                sch.g2(t),
            );
            let (m, v) = mix1.moments_1d(a, s);
            for i in 0..nx {
                let x = DVector::from_vec(vec![
                    m + 2.5 * v.sqrt() * (2.0 * i as f64 / (nx - 1) as f64 - 1.0),
                ]);
                // E[α̇x₀ + σ̇(x − αx₀)/σ | x] by quadrature against p₀(x₀) N(x; αx₀, σ²).
                let prior = |y: f64| prior_1d.pdf(y);
                let post = |y: f64| prior(y) * (-0.5 * ((x[0] - a * y) / s).powi(2)).exp();
                // The posterior lives within 12 kernel widths σ/α of x/α, and within [−8, 8] (p₀'s bulk).
                let w = s / a;
                let (lo, hi) = (
                    (x[0] / a - 12.0 * w).max(-8.0),
                    (x[0] / a + 12.0 * w).min(8.0),
                );
                let z = gauss_legendre(&post, lo, hi, POST_PANELS);
                let vq = gauss_legendre(
                    &|y| post(y) * (da * y + ds * (x[0] - a * y) / s),
                    lo,
                    hi,
                    POST_PANELS,
                ) / z;
                let x0 = mix1.denoise(&x, a, s)[0];
                let v1 = da * x0 + ds * (x[0] - a * x0) / s;
                let v2 = f * x[0] - 0.5 * g2 * mix1.score(&x, a, s)[0];
                let v3 = pf_velocity(sch.as_ref(), t, &x, &mix1)[0];
                let scale = (da * x0).abs()
                    + (ds * (x[0] - a * x0) / s).abs()
                    + (f * x[0]).abs()
                    + (0.5 * g2 * mix1.score(&x, a, s)[0]).abs();
                let (e1, e2, e3) = (
                    (v1 - vq).abs() / scale,
                    (v2 - v1).abs() / scale,
                    (v3 - v1).abs() / scale,
                );
                worst_quad = worst_quad.max(e1);
                worst_identity = worst_identity.max(e2).max(e3);
                vel.push(vec![
                    sch.name().into(),
                    t.into(),
                    x[0].into(),
                    vq.into(),
                    e1.into(),
                    e2.into(),
                    e3.into(),
                ]);
            }
        }
    }
    // (b) Continuity residual ∂_t p + ∇p·v + p ∇·v, ∇·v = d f − ½g² tr ∇²log p, on both mixtures.
    let mut cont = Table::new(
        "continuity",
        &[
            "schedule",
            "dim",
            "t",
            "max_abs_residual",
            "max_abs_dt_p",
            "ratio",
        ],
    );
    let mut worst_cont: f64 = 0.0;
    for sch in all_continuous() {
        let (t_min, t_max) = sch.t_range();
        for k in 0..nt {
            let t = t_min + (t_max - t_min) * (0.02 + 0.9 * k as f64 / (nt - 1) as f64);
            for (d, mix) in [(1usize, &mix1), (2usize, &mix2)] {
                let (r, dtm) = continuity(mix, sch.as_ref(), t, if d == 1 { 4 * nx } else { nx });
                worst_cont = worst_cont.max(r / dtm);
                cont.push(vec![
                    sch.name().into(),
                    d.into(),
                    t.into(),
                    r.into(),
                    dtm.into(),
                    (r / dtm).into(),
                ]);
            }
        }
    }
    // (c) Push-forward: RK4 in t run forward from p_{t₀} (t₀ = 0.01) to t₁ = 0.8 on VP-linear, exact 1-D
    // law (quadrature over x_{t₀}), distances to the exact p_{t₁}.
    let vp = VpLinear::default();
    let (t0, t1) = (0.01, 0.8);
    let data = density_1d(&mix1, 1.0, 0.0)?;
    let reference = density_1d(&mix1, vp.alpha(t1), vp.sigma(t1))?;
    let steps: Vec<usize> = ctx.scale.pick(vec![8, 16, 32], vec![8, 16, 32, 64]);
    let mut push = Table::new(
        "pushforward",
        &["steps", "w1", "w2", "ks", "tv", "quadrature_error_w1"],
    );
    let mut w1s = Vec::new();
    for &n in &steps {
        let times = linspace(t0, t1, n);
        let law = output_law_vs(
            Sampler::Rk4T,
            &vp,
            &times,
            &data,
            &reference,
            Start::Marginal,
            Accuracy::default(),
        )?;
        push.push(vec![
            n.into(),
            law.w1.into(),
            law.w2.into(),
            law.ks.into(),
            law.tv.into(),
            law.error.w1.into(),
        ]);
        w1s.push(law.w1);
    }
    let xs: Vec<f64> = steps.iter().map(|n| *n as f64).collect();
    let fit = loglog_slope(&xs, &w1s, tol::LEVEL)?;
    let fig = Figure::new(
        "pushforward",
        "FW-5: forward PF-ODE (RK4 in t) pushes p_0.01 to p_0.8: W1 to the exact p_0.8",
        "steps N",
        "W1 (data units)",
    )
    .loglog()
    .with(Series::line(
        "W1(pushed, p_t)",
        xs.iter().zip(&w1s).map(|(a, b)| (*a, *b)).collect(),
    ));
    let finest = *w1s.last().unwrap_or(&f64::NAN);
    Ok(Evidence::within(
        (worst_identity / tol::FACTORED).max(worst_quad / tol::QUADRATURE),
        1.0,
        format!("max of identity error/1e-10 (through the mixture's Cholesky inverses, tol::FACTORED) and quadrature error/1e-9. Velocity: α̇x̂₀ + σ̇ε̂ = f x − ½g²s = library pf_velocity to {worst_identity:.1e} (≤ 1e-10 of the terms' size), = E[α̇x₀ + σ̇ε | x] by posterior quadrature to {worst_quad:.1e} (≤ 1e-9), 8 schedules × {nt} times × {nx} points; continuity residual ≤ {worst_cont:.1e}·max|∂_t p| (≤ 1e-10) on 1-D and 2-D mixtures; push-forward p_0.01 → p_0.8 by RK4 (exact 1-D law): W1 {finest:.2e} at {} steps, slope {:.2} [{:.2}, {:.2}] (order 4: −4 ± {})", steps.last().unwrap_or(&0), fit.slope, fit.lo, fit.hi, tol::ORDER),
    )
    .require(worst_cont <= CONT_TOL, "continuity residual above 1e-10·max|∂_t p|")
    .require((fit.slope + 4.0).abs() <= tol::ORDER, "push-forward error does not fall at RK4's order")
    .table(vel)
    .table(cont)
    .table(push)
    .figure(fig))
}

/// max|∂_t p + ∇p·v + p∇·v| and max|∂_t p| over a grid covering p_t's bulk.
fn continuity(mix: &Mixture, sch: &dyn Schedule, t: f64, per_axis: usize) -> (f64, f64) {
    let (a, s) = (sch.alpha(t), sch.sigma(t));
    let (f, g2) = (sch.f(t), sch.g2(t));
    let d = mix.dim();
    let mu = mix.means.iter().map(|m| m.amax()).fold(0.0, f64::max);
    let var = mix
        .covs
        .iter()
        .map(|c| c.diagonal().max())
        .fold(0.0, f64::max);
    let r = a * mu + 5.0 * (a * a * var + s * s).sqrt();
    let ax: Vec<f64> = (0..per_axis)
        .map(|i| -r + 2.0 * r * i as f64 / (per_axis - 1) as f64)
        .collect();
    let pts: Vec<DVector<f64>> = if d == 1 {
        ax.iter().map(|v| DVector::from_vec(vec![*v])).collect()
    } else {
        ax.iter()
            .flat_map(|u| ax.iter().map(move |v| DVector::from_vec(vec![*u, *v])))
            .collect()
    };
    let (mut rmax, mut dtmax): (f64, f64) = (0.0, 0.0);
    for x in &pts {
        let dd = mix.density_derivatives(x, a, s, sch.dalpha(t), sch.dsigma(t));
        let v = x * f - mix.score(x, a, s) * (0.5 * g2);
        let div = d as f64 * f - 0.5 * g2 * mix.hessian_log_density(x, a, s).trace();
        let res = dd.dt + dd.grad.dot(&v) + dd.p * div;
        rmax = rmax.max(res.abs());
        dtmax = dtmax.max(dd.dt.abs());
    }
    (rmax, dtmax)
}
