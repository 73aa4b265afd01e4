//! Shared pieces of the flow-map claims: the test beds and their points.

use crate::target::{Gaussian, Mixture};
use nalgebra::DVector;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The boundary time ε of the consistency function on mixture data (Song et al.'s ε; the VP-linear sampling
/// range of CLAIMS §1.1 starts there): f(x, t) = Ψ_{t→ε}(x). On Gaussian data the closed form reaches t = 0.
pub const EPS: f64 = 1e-3;

/// `n` points of the Gaussian's p_t: x = α x₀ + σ z.
pub fn gaussian_points<R: Rng + ?Sized>(
    g: &Gaussian,
    alpha: f64,
    sigma: f64,
    n: usize,
    rng: &mut R,
) -> Vec<DVector<f64>> {
    (0..n)
        .map(|_| {
            let z = DVector::from_fn(g.dim(), |_, _| StandardNormal.sample(&mut *rng));
            g.sample(rng) * alpha + z * sigma
        })
        .collect()
}

/// `n` points of the mixture's p_t, flattened (the layout of `Jets`).
pub fn mixture_points<R: Rng + ?Sized>(
    mix: &Mixture,
    alpha: f64,
    sigma: f64,
    n: usize,
    rng: &mut R,
) -> Vec<f64> {
    (0..n)
        .flat_map(|_| {
            let z = DVector::from_fn(mix.dim(), |_, _| StandardNormal.sample(&mut *rng));
            let x = mix.sample(rng) * alpha + z * sigma;
            x.iter().copied().collect::<Vec<_>>()
        })
        .collect()
}

/// Largest absolute entry of a − b relative to max(1, ‖b‖∞); +∞ if anything is not finite (nalgebra's
/// `amax` would skip a NaN).
pub fn rel_diff(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    if a.iter().chain(b.iter()).any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    (a - b).amax() / b.amax().max(1.0)
}
