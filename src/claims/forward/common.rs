//! Helpers shared by several forward-process claims: points drawn from p_t (PZ-1, FW-6).

use crate::target::Mixture;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

/// Points x ~ p_t: α x₀ + σ ε.
pub(super) fn noised_points<R: rand::Rng>(
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
