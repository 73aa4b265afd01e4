//! Helpers shared by several forward-process claims: points drawn from p_t (PZ-1, FW-6), a small RK4 for
//! moment and pathwise ODEs, forward Euler–Maruyama (FW-2…FW-5, CONV-4…CONV-6).

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

/// Classic RK4 for a small system y' = rhs(t, y) from t0 to t1 in `steps` equal steps (either direction).
/// The claims' own integrator for moment and pathwise ODEs, apart from the samplers under test.
pub(super) fn rk4(
    rhs: &dyn Fn(f64, &[f64]) -> Vec<f64>,
    y0: &[f64],
    t0: f64,
    t1: f64,
    steps: usize,
) -> Vec<f64> {
    let h = (t1 - t0) / steps as f64;
    let axpy = |y: &[f64], c: f64, k: &[f64]| -> Vec<f64> {
        y.iter().zip(k).map(|(a, b)| a + c * b).collect()
    };
    let mut y = y0.to_vec();
    for i in 0..steps {
        let t = t0 + h * i as f64;
        let k1 = rhs(t, &y);
        let k2 = rhs(t + 0.5 * h, &axpy(&y, 0.5 * h, &k1));
        let k3 = rhs(t + 0.5 * h, &axpy(&y, 0.5 * h, &k2));
        let k4 = rhs(t + h, &axpy(&y, h, &k3));
        for j in 0..y.len() {
            y[j] += h / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
        }
    }
    y
}

/// `steps + 1` equally spaced times from `a` to `b` (forward in time when a < b).
pub(super) fn linspace(a: f64, b: f64, steps: usize) -> Vec<f64> {
    (0..=steps)
        .map(|k| a + (b - a) * k as f64 / steps as f64)
        .collect()
}

/// Euler–Maruyama of the forward SDE dx = f x dt + g dW along increasing `times`:
/// x ← (1 + f(t_k) h) x + √(g²(t_k) h) z. On a [`crate::algebra::Form`] with
/// [`crate::algebra::FormNoise`] the result is the exact law of the scheme (FW-3, FW-4, CONV-4).
pub(super) fn em_forward<S, N>(
    sch: &dyn crate::schedule::Schedule,
    times: &[f64],
    mut x: S,
    noise: &mut N,
) -> S
where
    S: crate::algebra::Algebra,
    N: crate::algebra::Noise<S>,
{
    for w in times.windows(2) {
        let (t, h) = (w[0], w[1] - w[0]);
        let z = noise.standard_normal(&x);
        x = S::lin(&[
            (1.0 + sch.f(t) * h, &x),
            ((g2_right(sch, t) * h).sqrt(), &z),
        ]);
        noise.rebase(&mut [&mut x]);
    }
    x
}

/// g²(t), at t = 0 its right limit: schedules with σ_0 = 0 and σ̇_0 = ∞ (VP, OU, Brownian) compute g² as
/// 2σσ̇ − 2fσ² = 0·∞ there; at t = 1e-300 the product is accurate (σσ̇ is smooth in t).
pub(super) fn g2_right(sch: &dyn crate::schedule::Schedule, t: f64) -> f64 {
    sch.g2(if t == 0.0 { 1e-300 } else { t })
}
