//! Helpers shared by several DDPM/DDIM claims: the oracle denoiser (DD-1, DD-2, DD-4) and the DDIM skip
//! grid (DD-1, DD-6).

use crate::algebra::Denoiser;

/// Round-off allowance of first-order recursions per unit of conditioning: a few ulps per operation, 64ε.
/// Multiplied by the coefficient sizes of the steps (`sampler::first_order_roundoff`, DD-3, DD-5) or by
/// the cancellation factor of one kernel (DD-2).
pub(super) const ROUNDOFF: f64 = 64.0 * f64::EPSILON;

/// Smallest difference a "must differ" comparison has to show (DD-3, DD-5); the first-order discretisation
/// gaps the comparisons find are ≥ 7e-3 in the committed results.
pub(super) use crate::tol::DISCRIMINATES;

/// A denoiser that ignores x and returns a fixed x₀ (the "oracle" of the DDPM posterior).
pub(super) struct Oracle<S>(pub(super) S);

impl<S: Clone> Denoiser<S> for Oracle<S> {
    fn denoise(&self, _x: &S, _alpha: f64, _sigma: f64) -> S {
        self.0.clone()
    }
}

/// The DDIM skip grid of `steps` steps on a 1000-step table: indices k·999/N (rounded down), descending.
pub(super) fn skip_grid(steps: usize) -> Vec<f64> {
    (0..=steps)
        .rev()
        .map(|k| (k * 999 / steps) as f64)
        .collect()
}
