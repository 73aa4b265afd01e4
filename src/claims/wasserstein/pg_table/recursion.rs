//! PG-TABLE, engine vs recursion: each cell's exact law from the engine against the paper's
//! per-eigenvalue variance recursions (independent code), with the round-off tolerance of the comparison.

use crate::pg::{recursion_variance, w2_centred, Init, PgLaw, Scheme};
use crate::tol;
use anyhow::Result;

/// Denominator floor of a variance's relative difference: variances of zero eigenvalues are exactly 0 in
/// both routes (then `a == b` and the floor is never reached), so any positive floor below every nonzero
/// variance will do.
const VARIANCE_FLOOR: f64 = 1e-300;

/// One computed cell: W2 by the engine and by the recursion, and their variances' agreement.
pub(super) struct Computed {
    pub(super) w2: f64,
    /// NaN for a scheme the paper has no recursion for.
    pub(super) w2_rec: f64,
    /// Max relative difference of the per-eigenvalue variances (NaN without a recursion).
    pub(super) rel_var: f64,
    pub(super) steps: usize,
}

/// The engine's `law` of scheme `s` on `n` grid points against the paper's recursion.
pub(super) fn compare_cell(
    s: &Scheme,
    law: &PgLaw,
    eig: &[f64],
    n: usize,
    eps: f64,
    init: Init,
) -> Result<Computed> {
    let w2 = law.w2_to(&vec![0.0; eig.len()], eig);
    let (w2_rec, rel_var) = match s.paper {
        Some(p) => {
            let rec = recursion_variance(p, eig, n, eps, init)?;
            let w = if rec.iter().any(|v| v.is_infinite()) {
                f64::INFINITY
            } else {
                w2_centred(&rec, eig)
            };
            (w, var_rel_diff(law, &rec))
        }
        None => (f64::NAN, f64::NAN),
    };
    Ok(Computed {
        w2,
        w2_rec,
        rel_var,
        steps: n - 1,
    })
}

/// Max relative difference between engine and recursion variances (both +∞ counts as agreement).
fn var_rel_diff(engine: &PgLaw, rec: &[f64]) -> f64 {
    match engine {
        PgLaw::Divergent { .. } => {
            if rec.iter().any(|v| v.is_infinite()) {
                0.0
            } else {
                f64::INFINITY
            }
        }
        PgLaw::Exact { variance, .. } => variance
            .iter()
            .zip(rec)
            .map(|(a, b)| {
                if a == b {
                    0.0
                } else {
                    (a - b).abs() / b.abs().max(VARIANCE_FLOOR)
                }
            })
            .fold(0.0, f64::max),
    }
}

/// Tolerance of engine vs recursion: both are O(N) chains of products of per-step factors, each
/// rounded to a few ulps; the relative error grows like N·u times the conditioning of a factor, which is
/// |1 + hc| small against |hc| where the ODE is stiff. We take 1e-12 · max(1, N/1000) · κ with κ the largest
/// |h c|/|1 + h c| met (stated per cell), and at least tol::IDENTITY.
pub(super) fn rec_tolerance(steps: usize) -> f64 {
    tol::IDENTITY * (steps as f64 / 1000.0).max(1.0)
}

/// W2 engine vs recursion: (relative difference, its tolerance) — [`rec_tolerance`] times W2's
/// conditioning in relative variance errors, ∂W2/∂(δv_i/v_i) ≤ ½√v_i/W2 (at least 1); both +∞ (the '−'
/// cells) count as agreement.
pub(super) fn rec_gap(c: &Computed, lam_max: f64) -> (f64, f64) {
    let rel = if c.w2 == c.w2_rec {
        0.0
    } else {
        (c.w2 - c.w2_rec).abs() / c.w2_rec.abs()
    };
    let kappa = (0.5 * lam_max.sqrt() / c.w2_rec).max(1.0);
    (
        rel,
        rec_tolerance(c.steps) * if kappa.is_finite() { kappa } else { 1.0 },
    )
}
