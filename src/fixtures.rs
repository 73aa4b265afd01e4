//! Fixtures shared by claims and tests: the demo targets each claim family measures on, in one place.

use crate::law1d::Density1d;
use crate::target::{Gaussian, Mixture};
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The 2-D three-mode mixture of PDM's four_predictions figure, with full non-aligned covariances.
pub fn demo_mixture() -> Mixture {
    let m = |a: f64, b: f64| DVector::from_vec(vec![a, b]);
    let c = |a: f64, b: f64, r: f64| DMatrix::from_row_slice(2, 2, &[a, r, r, b]);
    Mixture::new(
        vec![0.35, 0.35, 0.30],
        vec![m(-2.2, 1.8), m(2.2, 0.8), m(0.0, -2.4)],
        vec![
            c(0.30, 0.10, 0.12),
            c(0.05, 0.40, -0.08),
            c(0.20, 0.20, 0.0),
        ],
    )
    .expect("valid demo mixture")
}

/// The test Gaussian: d = 3, μ ≠ 0, Σ with off-diagonal entries and a wide spectrum.
pub fn test_gaussian() -> Gaussian {
    let cov = DMatrix::from_row_slice(3, 3, &[1.0, 0.5, -0.2, 0.5, 0.8, 0.1, -0.2, 0.1, 0.25]);
    Gaussian::from_covariance(DVector::from_vec(vec![0.5, -1.0, 1.5]), cov)
        .expect("valid test Gaussian")
}

/// The 4-d test target of the reference data (a zero eigenvalue: singular Σ).
pub fn reference_target() -> Gaussian {
    Gaussian::from_eigen(
        DVector::from_vec(vec![0.5, -1.0, 0.0, 2.0]),
        DVector::from_vec(vec![0.0, 0.01, 0.25, 4.0]),
        None,
    )
    .expect("valid")
}

/// The power-law Gaussian of WP-1: d = 64, eigenvalues i^{−1.5}, mean 0.5.
pub fn power_law_gaussian() -> Gaussian {
    let d = 64;
    Gaussian::from_eigen(
        DVector::from_element(d, 0.5),
        DVector::from_fn(d, |i, _| ((i + 1) as f64).powf(-1.5)),
        None,
    )
    .expect("valid power-law Gaussian")
}

/// The 1-D GMM of the §8 benchmark.
pub fn ho_mixture() -> Mixture {
    Mixture::isotropic(
        vec![0.3, 0.7],
        vec![DVector::from_vec(vec![-2.0]), DVector::from_vec(vec![1.5])],
        &[0.09, 0.25],
    )
    .expect("valid HO mixture")
}

/// A 1-D isotropic mixture noised to (α, σ) as a [`Density1d`]: components N(α μ_k, α² v_k + σ²); at
/// (1, 0) the data law itself. The 1-D law engine's view of the crate's `Mixture` (claims compare the two).
///
/// # Errors
/// A mixture that is not 1-D or has a zero component variance.
pub fn density_1d(mix: &Mixture, alpha: f64, sigma: f64) -> anyhow::Result<Density1d> {
    anyhow::ensure!(mix.dim() == 1, "a 1-D law needs a 1-D mixture");
    Density1d::mixture(
        mix.weights.clone(),
        mix.means.iter().map(|m| alpha * m[0]).collect(),
        mix.covs
            .iter()
            .map(|c| alpha * alpha * c[(0, 0)] + sigma * sigma)
            .collect(),
    )
}

/// The 1-D three-mode mixture of the exact-law claims (ENGINE-2, DD-6, WP-1): unequal weights, one narrow
/// mode, modes 2–3 standard deviations apart, so the transport map is far from affine.
pub fn mixture_1d() -> Mixture {
    Mixture::isotropic(
        vec![0.25, 0.45, 0.30],
        vec![
            DVector::from_vec(vec![-2.0]),
            DVector::from_vec(vec![0.3]),
            DVector::from_vec(vec![2.2]),
        ],
        &[0.09, 0.2, 0.05],
    )
    .expect("valid 1-D mixture")
}

/// The starting points x_T of the benchmark (our protocol: the §8 table does not state them).
pub const HO_STARTS: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// A random Gaussian N(μ, Σ) in R^d with a full covariance (random rotation, spectrum log-uniform on
/// [0.05, 5]).
pub fn random_gaussian<R: Rng + ?Sized>(d: usize, rng: &mut R) -> Gaussian {
    let q = random_rotation(d, rng);
    let eig = DVector::<f64>::from_fn(d, |_, _| {
        (0.05f64.ln() + (100.0f64).ln() * rand::RngExt::random::<f64>(&mut *rng)).exp()
    });
    let cov = &q * DMatrix::from_diagonal(&eig) * q.transpose();
    let cov = (&cov + cov.transpose()) * 0.5;
    Gaussian::from_covariance(
        DVector::from_fn(d, |_, _| StandardNormal.sample(&mut *rng)),
        cov,
    )
    .expect("random SPD covariance")
}

/// A random orthogonal d×d matrix: the Q factor of the QR decomposition of a matrix of independent
/// N(0, 1) draws (PG-BEYOND, FM-7, [`random_gaussian`]).
pub fn random_rotation<R: Rng + ?Sized>(d: usize, rng: &mut R) -> DMatrix<f64> {
    DMatrix::<f64>::from_fn(d, d, |_, _| StandardNormal.sample(&mut *rng))
        .qr()
        .q()
}
