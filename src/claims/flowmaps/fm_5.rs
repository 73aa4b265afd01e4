//! FM-5 (PDM blog, CTM): in VE/EDM coordinates Ψ_{s→t}(x) = (t/s)x + (1 − t/s)g(x, s, t); G(x, s, s) = x for
//! any g, and g(x, s, t) → x − s v(x, s) = D(x; s) = x̂₀ as t → s, with an O(|t − s|) remainder.

use super::common::{gaussian_points, rel_diff};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::Table;
use crate::fixtures::test_gaussian;
use crate::flowmap::{ctm_big_g, ctm_g, GaussianFlow};
use crate::metrics::loglog_slope;
use crate::schedule::Edm;
use crate::tol;
use anyhow::Result;

/// CLAIMS FM-5: the limit equals x̂₀ to 1e-10.
const LIMIT: f64 = 1e-10;

pub(super) fn claim() -> Claim {
    Claim {
        id: "FM-5",
        family: super::FAMILY,
        source: "PDM blog (CTM: Ψ_{s→t} = (t/s)x_s + (1 − t/s)g, g = x_s + (s/(s−t))∫_s^t v du)",
        statement: "In VE/EDM coordinates (v = (x − D)/σ): G(x, s, s) = x, g(x, s, s) = x − s v(x, s) = D(x; s) = x̂₀ (to 1e-10), and g(x, s, t) − x̂₀ = O(|t − s|) with slope 1.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let g = test_gaussian();
    let mix = g.to_mixture();
    let fl = GaussianFlow::new(&g, &Edm);
    let mut rng = ctx.rng("points");
    let n_pts = ctx.scale.pick(6, 24);
    let deltas: Vec<f64> = (0..6).map(|k| 0.1 * 0.5f64.powi(k)).collect();
    let mut table = Table::new("", &["s", "point", "delta", "g_minus_denoiser"]);
    let (mut lim, mut vel, mut boundary, mut worst_slope) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let mut slopes = Vec::new();
    for s in [0.3, 1.0, 5.0] {
        for (p, x) in gaussian_points(&g, 1.0, s, n_pts, &mut rng)
            .iter()
            .enumerate()
        {
            let d = mix.denoise(x, 1.0, s);
            lim = lim.max(rel_diff(&fl.ctm_g_edm(x, s, s), &d));
            vel = vel.max(rel_diff(&(x - fl.velocity(x, s) * s), &d));
            boundary = boundary.max(rel_diff(&ctm_big_g(&(x * 3.0), x, s, s), x));
            let errs: Vec<f64> = deltas
                .iter()
                .map(|&dl| (ctm_g(&fl.flow_map(x, s, s - dl), x, s, s - dl) - &d).amax())
                .collect();
            for (dl, e) in deltas.iter().zip(&errs) {
                table.push(vec![s.into(), p.into(), (*dl).into(), (*e).into()]);
            }
            let fit = loglog_slope(&deltas, &errs, tol::LEVEL)?;
            worst_slope = worst_slope.max((fit.slope - 1.0).abs());
            slopes.push(fit.slope);
        }
    }
    let (smin, smax) = slopes
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, s| {
            (a.0.min(*s), a.1.max(*s))
        });
    Ok(Evidence::within(
        lim.max(vel),
        LIMIT,
        format!(
            "measured = max relative |g(x, s, s) − D(x; s)| (g by the cancellation-free closed form at t = s; D the mixture code's denoiser) = {lim:.1e} and |x − s v(x, s) − D| = {vel:.1e}; tolerance 1e-10 (CLAIMS). G(x, s, s) = x for an arbitrary g: {boundary:.1e}. Remainder |g(x, s, s − δ) − x̂₀| (g from the closed-form Ψ by (sΨ − tx)/(s − t)), δ = 0.1 … 0.003: fitted slopes {smin:.3} … {smax:.3} (expected 1 ± {}). d = 3 Gaussian, EDM, s ∈ {{0.3, 1, 5}}, {n_pts} points of p_s each",
            tol::ORDER
        ),
    )
    .require(boundary <= tol::IDENTITY, "G(x, s, s) ≠ x")
    .require(worst_slope <= tol::ORDER, "the remainder is not linear in |t − s|")
    .table(table))
}
