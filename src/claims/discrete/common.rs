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

/// ᾱ_n of the 1000-step linear DDPM table, written out from Ho et al. (2020) (β_i = 1e-4 + (0.02 − 1e-4)
/// i/999, ᾱ_n = Π_{i≤n}(1 − β_i)) independently of `schedule::Discrete`.
pub(super) fn alpha_bar_linear() -> Vec<f64> {
    let mut acc = 1.0;
    (0..1000)
        .map(|i| {
            acc *= 1.0 - (1e-4 + (0.02 - 1e-4) * i as f64 / 999.0);
            acc
        })
        .collect()
}

/// DDIM's injected standard deviation between grid indices s > t (Song et al. 2021, eq. 16):
/// σ(η) = η √((1 − ᾱ_t)/(1 − ᾱ_s)) √(1 − ᾱ_s/ᾱ_t).
pub(super) fn ddim_sigma(abar: &[f64], s: usize, t: usize, eta: f64) -> f64 {
    eta * ((1.0 - abar[t]) / (1.0 - abar[s])).sqrt() * (1.0 - abar[s] / abar[t]).sqrt()
}

/// The exact law (mean, variance) of DDIM(η) on one eigen-coordinate N(μ, λ) of Gaussian data with the exact
/// denoiser, from the exact marginal at `grid[0]` down the index grid, by the scalar recursion written out in
/// ᾱ from the DDIM update x_t = √ᾱ_t x̂₀ + √(1 − ᾱ_t − σ²) ε̂ + σ z (an independent route to the engine's
/// law, DD-1/DD-6).
pub(super) fn ddim_gaussian_law(
    abar: &[f64],
    grid: &[usize],
    mu: f64,
    lam: f64,
    eta: f64,
) -> (f64, f64) {
    let a0 = abar[grid[0]];
    let (mut m, mut v) = (a0.sqrt() * mu, a0 * lam + 1.0 - a0);
    for w in grid.windows(2) {
        let (s, t) = (w[0], w[1]);
        let (al_s, sg_s, al_t) = (abar[s].sqrt(), (1.0 - abar[s]).sqrt(), abar[t].sqrt());
        // x̂₀ = k x + b (Gaussian posterior mean), ε̂ = ((1 − α_s k) x − α_s b)/σ_s.
        let k = al_s * lam / (abar[s] * lam + 1.0 - abar[s]);
        let b = mu * (1.0 - al_s * k);
        let c1 = ddim_sigma(abar, s, t, eta);
        let c2 = (1.0 - abar[t] - c1 * c1).sqrt();
        let (slope, offset) = (
            al_t * k + c2 * (1.0 - al_s * k) / sg_s,
            al_t * b - c2 * al_s * b / sg_s,
        );
        m = slope * m + offset;
        v = slope * slope * v + c1 * c1;
    }
    (m, v)
}
