//! Data laws whose noised marginals p_t are exact (CLAIMS §2.1–2.2).
//!
//! [`Gaussian`] keeps N(μ, Σ) eigen-decomposed (singular Σ allowed); [`Mixture`] is Σ_k π_k N(μ_k, Σ_k)
//! with full covariances; a point mass is a Gaussian with zero eigenvalues. Everything is evaluated at
//! a noise level given as (α, σ), so any schedule can drive it.

use anyhow::{bail, ensure, Result};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// N(μ, Σ) with Σ = V diag(λ) Vᵀ. `eigvecs = None` means V = I (Σ diagonal).
#[derive(Clone, Debug)]
pub struct Gaussian {
    pub mean: DVector<f64>,
    pub eigvals: DVector<f64>,
    pub eigvecs: Option<DMatrix<f64>>,
}

impl Gaussian {
    /// # Errors
    /// A negative, NaN or infinite eigenvalue, a non-finite mean, or mismatched sizes.
    pub fn from_eigen(
        mean: DVector<f64>,
        eigvals: DVector<f64>,
        eigvecs: Option<DMatrix<f64>>,
    ) -> Result<Self> {
        ensure!(
            mean.len() == eigvals.len(),
            "mean has {} entries but the spectrum has {}",
            mean.len(),
            eigvals.len()
        );
        ensure!(!eigvals.is_empty(), "the spectrum is empty");
        for (i, &l) in eigvals.iter().enumerate() {
            if !l.is_finite() {
                bail!("eigenvalue {i} is {l}: a covariance spectrum must be finite");
            }
            if l < 0.0 {
                bail!("eigenvalue {i} is {l} < 0: the covariance is not positive semi-definite");
            }
        }
        if let Some((i, m)) = mean.iter().enumerate().find(|(_, m)| !m.is_finite()) {
            bail!("mean entry {i} is {m}");
        }
        if let Some(v) = &eigvecs {
            ensure!(
                v.nrows() == mean.len() && v.ncols() == mean.len(),
                "eigenvector matrix must be d×d"
            );
            let err = (v.transpose() * v - DMatrix::identity(v.nrows(), v.ncols()))
                .abs()
                .max();
            ensure!(
                err < 1e-10,
                "eigenvectors are not orthonormal (‖VᵀV − I‖max = {err:e})"
            );
        }
        Ok(Self {
            mean,
            eigvals,
            eigvecs,
        })
    }

    /// From a full covariance matrix (symmetric eigendecomposition; the lower triangle is read).
    ///
    /// # Errors
    /// Non-symmetric, non-finite or non-PSD Σ (eigenvalues below −1e-12·‖Σ‖ are rejected; tiny negative
    /// round-off is clamped to 0).
    pub fn from_covariance(mean: DVector<f64>, cov: DMatrix<f64>) -> Result<Self> {
        ensure!(
            cov.is_square() && cov.nrows() == mean.len(),
            "covariance must be d×d with d = {}",
            mean.len()
        );
        ensure!(
            cov.iter().all(|v| v.is_finite()),
            "covariance has a non-finite entry"
        );
        let asym = (&cov - cov.transpose()).abs().max();
        let scale = cov.abs().max().max(1e-300);
        ensure!(
            asym <= 1e-12 * scale,
            "covariance is not symmetric (max |Σ − Σᵀ| = {asym:e})"
        );
        let eig = nalgebra::SymmetricEigen::try_new(cov, 1e-15, 10_000)
            .ok_or_else(|| anyhow::anyhow!("symmetric eigendecomposition did not converge"))?;
        let min = eig.eigenvalues.min();
        ensure!(
            min >= -1e-12 * scale,
            "covariance is not positive semi-definite (smallest eigenvalue {min:e})"
        );
        let eigvals = eig.eigenvalues.map(|l| l.max(0.0));
        Self::from_eigen(mean, eigvals, Some(eig.eigenvectors))
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The point mass δ_μ.
    pub fn point_mass(mean: DVector<f64>) -> Self {
        let d = mean.len();
        Self {
            mean,
            eigvals: DVector::zeros(d),
            eigvecs: None,
        }
    }

    /// Coordinates in Σ's eigenbasis: Vᵀ x.
    pub fn to_eigen(&self, x: &DVector<f64>) -> DVector<f64> {
        match &self.eigvecs {
            Some(v) => v.transpose() * x,
            None => x.clone(),
        }
    }
    /// Back from the eigenbasis: V y.
    pub fn from_eigen_coords(&self, y: &DVector<f64>) -> DVector<f64> {
        match &self.eigvecs {
            Some(v) => v * y,
            None => y.clone(),
        }
    }
    /// V diag(s) Vᵀ.
    pub fn matrix_with_spectrum(&self, s: &DVector<f64>) -> DMatrix<f64> {
        match &self.eigvecs {
            Some(v) => v * DMatrix::from_diagonal(s) * v.transpose(),
            None => DMatrix::from_diagonal(s),
        }
    }
    pub fn covariance(&self) -> DMatrix<f64> {
        self.matrix_with_spectrum(&self.eigvals)
    }
    /// Mean in the eigenbasis.
    pub fn eigen_mean(&self) -> DVector<f64> {
        self.to_eigen(&self.mean)
    }
    /// The noised marginal p_t = N(α μ, α² Σ + σ² I) as (mean, eigenvalues) in the same eigenbasis.
    pub fn marginal(&self, alpha: f64, sigma: f64) -> (DVector<f64>, DVector<f64>) {
        (
            &self.mean * alpha,
            self.eigvals.map(|l| alpha * alpha * l + sigma * sigma),
        )
    }
    /// As a one-component mixture (full matrices), for Monte Carlo and for independent cross-checks.
    pub fn to_mixture(&self) -> Mixture {
        Mixture::new(vec![1.0], vec![self.mean.clone()], vec![self.covariance()])
            .expect("a valid Gaussian is a valid mixture")
    }
    /// One draw of x ~ N(μ, Σ).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> DVector<f64> {
        let z = DVector::from_fn(self.dim(), |i, _| {
            self.eigvals[i].sqrt()
                * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
        });
        &self.mean + self.from_eigen_coords(&z)
    }
}

/// One Gaussian component evaluated at a noise level: m = α μ_k, C = α² Σ_k + σ² I, its Cholesky.
struct NoisedComponent {
    m: DVector<f64>,
    c_inv: DMatrix<f64>,
    log_norm: f64,
}

/// Σ_k π_k N(μ_k, Σ_k) with full (possibly singular) covariances.
#[derive(Clone, Debug)]
pub struct Mixture {
    pub weights: Vec<f64>,
    pub means: Vec<DVector<f64>>,
    pub covs: Vec<DMatrix<f64>>,
}

impl Mixture {
    /// # Errors
    /// Weights not positive or not summing to 1 (to 1e-12), mismatched dimensions, non-symmetric covariances.
    pub fn new(
        weights: Vec<f64>,
        means: Vec<DVector<f64>>,
        covs: Vec<DMatrix<f64>>,
    ) -> Result<Self> {
        ensure!(
            !weights.is_empty(),
            "a mixture needs at least one component"
        );
        ensure!(
            weights.len() == means.len() && means.len() == covs.len(),
            "weights, means and covariances differ in number"
        );
        ensure!(
            weights.iter().all(|w| *w > 0.0 && w.is_finite()),
            "mixture weights must be positive and finite"
        );
        let total: f64 = weights.iter().sum();
        ensure!(
            (total - 1.0).abs() < 1e-12,
            "mixture weights sum to {total}, not 1"
        );
        let d = means[0].len();
        for (m, c) in means.iter().zip(&covs) {
            ensure!(
                m.len() == d && c.nrows() == d && c.ncols() == d,
                "component dimensions differ"
            );
            ensure!(
                (c - c.transpose()).abs().max() <= 1e-12 * c.abs().max().max(1.0),
                "component covariance not symmetric"
            );
        }
        Ok(Self {
            weights,
            means,
            covs,
        })
    }

    /// Isotropic components N(μ_k, s_k² I).
    pub fn isotropic(
        weights: Vec<f64>,
        means: Vec<DVector<f64>>,
        variances: &[f64],
    ) -> Result<Self> {
        let covs = means
            .iter()
            .zip(variances)
            .map(|(m, v)| DMatrix::identity(m.len(), m.len()) * *v)
            .collect();
        Self::new(weights, means, covs)
    }

    pub fn dim(&self) -> usize {
        self.means[0].len()
    }

    fn components(&self, alpha: f64, sigma: f64) -> Vec<NoisedComponent> {
        let d = self.dim();
        self.means
            .iter()
            .zip(&self.covs)
            .map(|(mu, cov)| {
                let c = cov * (alpha * alpha) + DMatrix::identity(d, d) * (sigma * sigma);
                let chol = nalgebra::Cholesky::new(c)
                    .expect("α²Σ + σ²I must be positive definite (σ > 0 or Σ ≻ 0)");
                let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
                NoisedComponent {
                    m: mu * alpha,
                    c_inv: chol.inverse(),
                    log_norm: -0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det),
                }
            })
            .collect()
    }

    /// Responsibilities r_k(x) (log-sum-exp) and log p_t(x).
    fn responsibilities(&self, comps: &[NoisedComponent], x: &DVector<f64>) -> (Vec<f64>, f64) {
        let logs: Vec<f64> = comps
            .iter()
            .zip(&self.weights)
            .map(|(c, w)| {
                let r = x - &c.m;
                w.ln() + c.log_norm - 0.5 * r.dot(&(&c.c_inv * &r))
            })
            .collect();
        let max = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = logs.iter().map(|l| (l - max).exp()).sum();
        let lse = max + sum.ln();
        (logs.iter().map(|l| (l - lse).exp()).collect(), lse)
    }

    /// log p_t(x) at noise level (α, σ).
    pub fn log_density(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> f64 {
        self.responsibilities(&self.components(alpha, sigma), x).1
    }

    /// Class posterior p_t(k | x) = r_k(x).
    pub fn class_posterior(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> Vec<f64> {
        self.responsibilities(&self.components(alpha, sigma), x).0
    }

    /// ∇ log p_t(x) = −Σ_k r_k C_k⁻¹(x − m_k), computed directly (not via the denoiser).
    pub fn score(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        let comps = self.components(alpha, sigma);
        let (r, _) = self.responsibilities(&comps, x);
        let mut s = DVector::zeros(x.len());
        for (c, rk) in comps.iter().zip(&r) {
            s -= (&c.c_inv * (x - &c.m)) * *rk;
        }
        s
    }

    /// Posterior mean of each component, μ̂_k = μ_k + α Σ_k C_k⁻¹(x − m_k), with r_k.
    fn component_posteriors(
        &self,
        x: &DVector<f64>,
        alpha: f64,
        sigma: f64,
    ) -> (Vec<f64>, Vec<DVector<f64>>, Vec<DMatrix<f64>>) {
        let comps = self.components(alpha, sigma);
        let (r, _) = self.responsibilities(&comps, x);
        let mut means = Vec::new();
        let mut covs = Vec::new();
        for ((c, mu), cov) in comps.iter().zip(&self.means).zip(&self.covs) {
            let gain = cov * &c.c_inv; // Σ_k C_k⁻¹
            means.push(mu + (&gain * (x - &c.m)) * alpha);
            covs.push(gain * (sigma * sigma)); // Cov_k = σ² Σ_k C_k⁻¹
        }
        (r, means, covs)
    }

    /// x̂₀(x) = E[x₀ | x_t = x] = Σ_k r_k μ̂_k, computed directly (not via the score).
    pub fn denoise(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        let (r, means, _) = self.component_posteriors(x, alpha, sigma);
        means
            .iter()
            .zip(&r)
            .fold(DVector::zeros(x.len()), |acc, (m, rk)| acc + m * *rk)
    }

    /// Cov[x₀ | x_t = x] = Σ_k r_k [Cov_k + (μ̂_k − x̂₀)(μ̂_k − x̂₀)ᵀ] (law of total covariance).
    pub fn posterior_covariance(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DMatrix<f64> {
        let (r, means, covs) = self.component_posteriors(x, alpha, sigma);
        let xhat = means
            .iter()
            .zip(&r)
            .fold(DVector::zeros(x.len()), |acc, (m, rk)| acc + m * *rk);
        let d = x.len();
        let mut out = DMatrix::zeros(d, d);
        for ((m, c), rk) in means.iter().zip(&covs).zip(&r) {
            let dm = m - &xhat;
            out += (c + &dm * dm.transpose()) * *rk;
        }
        out
    }

    /// ∇² log p_t(x) = Σ_k r_k [C_k⁻¹(x−m_k)(x−m_k)ᵀC_k⁻¹ − C_k⁻¹] − s sᵀ (CLAIMS §2.2).
    pub fn hessian_log_density(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DMatrix<f64> {
        let comps = self.components(alpha, sigma);
        let (r, _) = self.responsibilities(&comps, x);
        let d = x.len();
        let mut h = DMatrix::zeros(d, d);
        let mut s = DVector::zeros(d);
        for (c, rk) in comps.iter().zip(&r) {
            let u = &c.c_inv * (x - &c.m);
            h += (&u * u.transpose() - &c.c_inv) * *rk;
            s -= u * *rk;
        }
        h - &s * s.transpose()
    }

    /// One draw x₀ ~ p₀.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> DVector<f64> {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut k = self.weights.len() - 1;
        for (i, w) in self.weights.iter().enumerate() {
            acc += w;
            if u < acc {
                k = i;
                break;
            }
        }
        let d = self.dim();
        let z = DVector::from_fn(d, |_, _| StandardNormal.sample(rng));
        // Σ_k may be singular: factor through its eigendecomposition.
        let eig = nalgebra::SymmetricEigen::new(self.covs[k].clone());
        let root =
            &eig.eigenvectors * DMatrix::from_diagonal(&eig.eigenvalues.map(|l| l.max(0.0).sqrt()));
        &self.means[k] + root * z
    }
}

/// Closed-form facts about a mixture's p_t used as independent references by the reverse-dynamics claims.
impl Mixture {
    /// Exact mean and variance of a 1-D mixture's p_t (component means α μ_k, variances α²Σ_k + σ²).
    pub fn moments_1d(&self, alpha: f64, sigma: f64) -> (f64, f64) {
        let mean: f64 = self
            .weights
            .iter()
            .zip(&self.means)
            .map(|(w, m)| w * alpha * m[0])
            .sum();
        let second: f64 = self
            .weights
            .iter()
            .zip(&self.means)
            .zip(&self.covs)
            .map(|((w, m), c)| {
                w * ((alpha * m[0]).powi(2) + alpha * alpha * c[(0, 0)] + sigma * sigma)
            })
            .sum();
        (mean, second - mean * mean)
    }

    /// ∂_t log p_t(x) from the closed form (component means α μ_k, covariances α²Σ_k + σ²I), given the
    /// noise level (α, σ) and its time derivatives (α', σ'); independent of any Fokker–Planck operator.
    pub fn dt_log_density(
        &self,
        x: &DVector<f64>,
        alpha: f64,
        sigma: f64,
        dalpha: f64,
        dsigma: f64,
    ) -> f64 {
        let (a, sg, da, ds) = (alpha, sigma, dalpha, dsigma);
        let r = self.class_posterior(x, a, sg);
        let d = x.len();
        let mut out = 0.0;
        for ((rk, mu), cov) in r.iter().zip(&self.means).zip(&self.covs) {
            let c = cov * (a * a) + DMatrix::identity(d, d) * (sg * sg);
            let cdot = cov * (2.0 * a * da) + DMatrix::identity(d, d) * (2.0 * sg * ds);
            let ci = c.try_inverse().expect("positive definite");
            let u = &ci * (x - mu * a);
            let dlogn =
                u.dot(&(mu * da)) + 0.5 * u.dot(&(&cdot * &u)) - 0.5 * (&ci * &cdot).trace();
            out += rk * dlogn;
        }
        out
    }
}

/// The mixture density p_t and its derivatives, summed component by component (no log-sum-exp): the
/// closed forms a Fokker–Planck or continuity residual needs (FW-4, FW-5).
#[derive(Clone, Debug)]
pub struct DensityDerivatives {
    /// p_t(x).
    pub p: f64,
    /// ∇p_t(x) = −Σ_k π_k N_k C_k⁻¹(x − m_k).
    pub grad: DVector<f64>,
    /// Δp_t(x) = Σ_k π_k N_k (|C_k⁻¹(x − m_k)|² − tr C_k⁻¹).
    pub laplacian: f64,
    /// ∂_t p_t(x) = Σ_k π_k N_k (uᵀm_k' + ½uᵀC_k'u − ½tr(C_k⁻¹C_k')), u = C_k⁻¹(x − m_k),
    /// m_k' = α'μ_k, C_k' = 2αα'Σ_k + 2σσ'I.
    pub dt: f64,
}

impl Mixture {
    /// p_t(x) and its x- and t-derivatives at noise level (α, σ) with time derivatives (α', σ'), from the
    /// closed form directly (FW-4, FW-5). Independent of [`Mixture::score`] and of any schedule.
    pub fn density_derivatives(
        &self,
        x: &DVector<f64>,
        alpha: f64,
        sigma: f64,
        dalpha: f64,
        dsigma: f64,
    ) -> DensityDerivatives {
        let d = x.len();
        let mut out = DensityDerivatives {
            p: 0.0,
            grad: DVector::zeros(d),
            laplacian: 0.0,
            dt: 0.0,
        };
        for ((w, mu), cov) in self.weights.iter().zip(&self.means).zip(&self.covs) {
            let c = cov * (alpha * alpha) + DMatrix::identity(d, d) * (sigma * sigma);
            let cdot =
                cov * (2.0 * alpha * dalpha) + DMatrix::identity(d, d) * (2.0 * sigma * dsigma);
            let chol = nalgebra::Cholesky::new(c).expect("α²Σ + σ²I must be positive definite");
            let det: f64 = chol.l().diagonal().iter().map(|v| v * v).product();
            let ci = chol.inverse();
            let r = x - mu * alpha;
            let u = &ci * &r;
            let n = w * (-0.5 * r.dot(&u)).exp()
                / ((2.0 * std::f64::consts::PI).powi(d as i32) * det).sqrt();
            out.p += n;
            out.grad -= &u * n;
            out.laplacian += n * (u.dot(&u) - ci.trace());
            out.dt += n
                * (u.dot(&(mu * dalpha)) + 0.5 * u.dot(&(&cdot * &u))
                    - 0.5 * (&ci * &cdot).trace());
        }
        out
    }
}

/// Moments of a mixture's data law and of its p_t in closed form (SM-2, PZ-3).
impl Mixture {
    /// The mean Σ_k π_k μ_k of the data law.
    pub fn mean(&self) -> DVector<f64> {
        self.weights
            .iter()
            .zip(&self.means)
            .fold(DVector::zeros(self.dim()), |a, (w, m)| a + m * *w)
    }

    /// The second moment about `c` of the data law: E[(x₀ − c)(x₀ − c)ᵀ] = Σ_k π_k (Σ_k + (μ_k − c)(μ_k − c)ᵀ)
    /// (the covariance for c = the mean, `E[x₀x₀ᵀ]` for c = 0).
    pub fn second_moment_about(&self, c: &DVector<f64>) -> DMatrix<f64> {
        let d = self.dim();
        let mut out = DMatrix::zeros(d, d);
        for ((w, m), cov) in self.weights.iter().zip(&self.means).zip(&self.covs) {
            let dm = m - c;
            out += (cov + &dm * dm.transpose()) * *w;
        }
        out
    }

    /// (E cos(ωᵀx_t + b), E sin(ωᵀx_t + b)) under p_t, from each component's characteristic function:
    /// Σ_k π_k e^{−½ωᵀC_kω} (cos, sin)(αωᵀμ_k + b), C_k = α²Σ_k + σ²I.
    pub fn trig_moments(&self, omega: &DVector<f64>, b: f64, alpha: f64, sigma: f64) -> (f64, f64) {
        let d = self.dim();
        let (mut c, mut s) = (0.0, 0.0);
        for ((w, mu), cov) in self.weights.iter().zip(&self.means).zip(&self.covs) {
            let ck = cov * (alpha * alpha) + DMatrix::identity(d, d) * (sigma * sigma);
            let damp = (-0.5 * omega.dot(&(&ck * omega))).exp();
            let ph = omega.dot(&(mu * alpha)) + b;
            c += w * damp * ph.cos();
            s += w * damp * ph.sin();
        }
        (c, s)
    }

    /// The law of A(x₀ − c): components N(A(μ_k − c), AΣ_kAᵀ) (covariances symmetrised), same weights.
    ///
    /// # Errors
    /// As [`Mixture::new`].
    ///
    /// # Panics
    /// If A does not have d columns or c is not in R^d.
    pub fn affine_image(&self, a: &DMatrix<f64>, c: &DVector<f64>) -> Result<Self> {
        Self::new(
            self.weights.clone(),
            self.means.iter().map(|m| a * (m - c)).collect(),
            self.covs
                .iter()
                .map(|cov| {
                    let v = a * cov * a.transpose();
                    (&v + v.transpose()) * 0.5
                })
                .collect(),
        )
    }
}

/// Exact quantiles (i + ½)/n, i < n, of the projection ⟨θ, x⟩ of the mixture's p_t (a 1-D mixture), by
/// bisection on its CDF: a noise-free reference for sliced W2 (DD-6).
pub fn projected_quantiles(
    mix: &Mixture,
    alpha: f64,
    sigma: f64,
    th: &DVector<f64>,
    n: usize,
) -> Vec<f64> {
    use statrs::distribution::{ContinuousCDF, Normal};
    let comps: Vec<(f64, Normal)> = mix
        .weights
        .iter()
        .zip(&mix.means)
        .zip(&mix.covs)
        .map(|((w, m), c)| {
            let var = alpha * alpha * th.dot(&(c * th)) + sigma * sigma;
            (
                *w,
                Normal::new(alpha * m.dot(th), var.sqrt()).expect("valid normal"),
            )
        })
        .collect();
    let cdf = |x: f64| comps.iter().map(|(w, d)| w * d.cdf(x)).sum::<f64>();
    (0..n)
        .map(|i| {
            let u = (i as f64 + 0.5) / n as f64;
            let (mut lo, mut hi) = (-50.0, 50.0);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if cdf(mid) < u {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1-D two-component mixture: π = (0.3, 0.7), μ = (−2, 1.5), s² = (0.09, 0.25).
    fn mix_1d() -> Mixture {
        Mixture::isotropic(
            vec![0.3, 0.7],
            vec![DVector::from_vec(vec![-2.0]), DVector::from_vec(vec![1.5])],
            &[0.09, 0.25],
        )
        .unwrap()
    }

    /// A 2-D two-component mixture with full covariances.
    fn mix_2d() -> Mixture {
        Mixture::new(
            vec![0.25, 0.75],
            vec![
                DVector::from_vec(vec![1.0, -2.0]),
                DVector::from_vec(vec![-1.0, 2.0]),
            ],
            vec![
                DMatrix::from_row_slice(2, 2, &[0.5, 0.1, 0.1, 0.2]),
                DMatrix::from_row_slice(2, 2, &[0.3, -0.2, -0.2, 0.4]),
            ],
        )
        .unwrap()
    }

    /// p, ∇p, Δp and ∂_t p against central differences of `log_density` (x) and of the closed form along
    /// the VP-linear schedule (t); δ = 1e-4 in x: O(δ²) truncation ≈ 1e-8 relative, round-off ε/δ² ≈ 1e-8 for
    /// Δ; δ = 1e-6 in t.
    #[test]
    fn density_derivatives_match_central_differences() {
        use crate::schedule::{Schedule, VpLinear};
        let sch = VpLinear::default();
        for (mix, pts) in [
            (mix_1d(), vec![vec![-2.1], vec![0.3], vec![1.2]]),
            (
                mix_2d(),
                vec![vec![0.4, -0.7], vec![-1.0, 1.5], vec![1.1, -2.2]],
            ),
        ] {
            for t in [0.05, 0.3, 0.8] {
                let (a, s, da, ds) = (sch.alpha(t), sch.sigma(t), sch.dalpha(t), sch.dsigma(t));
                for p in &pts {
                    let x = DVector::from_vec(p.clone());
                    let dd = mix.density_derivatives(&x, a, s, da, ds);
                    let pdf = |y: &DVector<f64>| mix.log_density(y, a, s).exp();
                    assert!(
                        (dd.p - pdf(&x)).abs() <= 1e-13 * dd.p,
                        "{} {}",
                        dd.p,
                        pdf(&x)
                    );
                    let h = 1e-4;
                    let mut lap = 0.0;
                    for i in 0..x.len() {
                        let mut e = DVector::zeros(x.len());
                        e[i] = h;
                        let (fp, fm) = (pdf(&(&x + &e)), pdf(&(&x - &e)));
                        let g = (fp - fm) / (2.0 * h);
                        assert!(
                            (dd.grad[i] - g).abs() <= 1e-7 * (dd.p / s),
                            "grad {i}: {} {g}",
                            dd.grad[i]
                        );
                        lap += (fp - 2.0 * dd.p + fm) / (h * h);
                    }
                    assert!(
                        (dd.laplacian - lap).abs() <= 1e-6 * dd.p / (s * s),
                        "lap {} {lap}",
                        dd.laplacian
                    );
                    let at = |u: f64| mix.log_density(&x, sch.alpha(u), sch.sigma(u)).exp();
                    // In t a smaller step: σ ~ √t makes the third t-derivative large at t = 0.05.
                    let ht = 1e-6;
                    let dt = (at(t + ht) - at(t - ht)) / (2.0 * ht);
                    assert!(
                        (dd.dt - dt).abs() <= 1e-6 * dd.p.max(dt.abs()),
                        "dt {} {dt}",
                        dd.dt
                    );
                }
            }
        }
    }

    #[test]
    fn mean_and_second_moment_match_hand_values_and_moments_1d() {
        // By hand: mean = 0.25(1, −2) + 0.75(−1, 2) = (−0.5, 1).
        let m = mix_2d().mean();
        assert!((m[0] + 0.5).abs() < 1e-15 && (m[1] - 1.0).abs() < 1e-15);
        // E[x₀x₀ᵀ] by hand: 0.25(Σ₁ + μ₁μ₁ᵀ) + 0.75(Σ₂ + μ₂μ₂ᵀ) = [[1.35, −2.125], [−2.125, 4.35]].
        let s = mix_2d().second_moment_about(&DVector::zeros(2));
        let want = DMatrix::from_row_slice(2, 2, &[1.35, -2.125, -2.125, 4.35]);
        assert!((&s - want).amax() < 1e-14, "{s}");
        // 1-D: about c the second moment is Var + (mean − c)², with (mean, Var) from `moments_1d`.
        let mix = mix_1d();
        let (mean, var) = mix.moments_1d(1.0, 0.0);
        assert!((mix.mean()[0] - mean).abs() < 1e-15);
        let c = 0.8;
        let s = mix.second_moment_about(&DVector::from_vec(vec![c]))[(0, 0)];
        assert!((s - (var + (mean - c).powi(2))).abs() < 1e-13);
    }

    #[test]
    fn trig_moments_match_quadrature_of_the_density() {
        let mix = mix_1d();
        let (alpha, sigma, omega, b) = (0.8, 0.6, 1.3, 0.4);
        let (c, s) = mix.trig_moments(&DVector::from_vec(vec![omega]), b, alpha, sigma);
        let p = |x: f64| {
            mix.log_density(&DVector::from_vec(vec![x]), alpha, sigma)
                .exp()
        };
        let qc =
            crate::quadrature::gauss_legendre(&|x| p(x) * (omega * x + b).cos(), -12.0, 12.0, 200);
        let qs =
            crate::quadrature::gauss_legendre(&|x| p(x) * (omega * x + b).sin(), -12.0, 12.0, 200);
        assert!(
            (c - qc).abs() < 1e-12 && (s - qs).abs() < 1e-12,
            "{c} {qc} {s} {qs}"
        );
    }

    #[test]
    fn affine_image_moves_the_moments() {
        // 1-D: A(x − c) has mean A(mean − c) and variance A²·Var (`moments_1d`).
        let mix = mix_1d();
        let (a, c) = (-1.7, 0.4);
        let img = mix
            .affine_image(
                &DMatrix::from_element(1, 1, a),
                &DVector::from_element(1, c),
            )
            .unwrap();
        let ((m0, v0), (m1, v1)) = (mix.moments_1d(1.0, 0.0), img.moments_1d(1.0, 0.0));
        assert!((m1 - a * (m0 - c)).abs() < 1e-14 && (v1 - a * a * v0).abs() < 1e-13);
    }
}
