//! Every objective in closed form on Gaussian data x₀ ~ N(μ, Σ) (full Σ) with affine models
//! s_θ(x) = −P(x − m) (CLAIMS §2.1, SM-1…SM-3, SM-7).
//!
//! With x_t = α x₀ + σ ε, p_t = N(m_t, C_t), m_t = αμ, C_t = α²Σ + σ²I. A model prediction of any
//! [`Target`] derived from the affine score is affine in x (x ↦ A x + b). Its regression residual is
//! - against the conditional target a x₀ + b ε: R_x (x₀ − μ) + R_ε ε + c with R_x = αA − aI, R_ε = σA − bI,
//!   c = A m_t + b − aμ, so E‖·‖² = tr(R_x Σ R_xᵀ) + ‖R_ε‖_F² + ‖c‖²;
//! - against the marginal target E[a x₀ + b ε | x_t] = T(x_t − m_t) + aμ, T = aαΣC⁻¹ + bσC⁻¹:
//!   (A − T)(x_t − m_t) + c, so E‖·‖² = tr((A − T) C (A − T)ᵀ) + ‖c‖².

use super::{NoiseLevel, Target};
use crate::target::Gaussian;
use nalgebra::{DMatrix, DVector};

/// The affine score model s_θ(x) = −P(x − m) (P any d×d matrix) (SM-2).
#[derive(Clone, Debug)]
pub struct AffineScore {
    pub p: DMatrix<f64>,
    pub m: DVector<f64>,
}

impl AffineScore {
    /// s_θ(x) = −P(x − m).
    pub fn score(&self, x: &DVector<f64>) -> DVector<f64> {
        -(&self.p * (x - &self.m))
    }
    /// ∂s_θ/∂x = −P.
    pub fn jacobian(&self) -> DMatrix<f64> {
        -&self.p
    }
    /// The prediction of `target` derived from ε̂ = −σ s_θ = σP(x − m), as (A, b) with prediction A x + b.
    pub fn prediction(&self, target: Target, n: &NoiseLevel) -> (DMatrix<f64>, DVector<f64>) {
        let (cx, ce) = target.from_eps_coeffs(n);
        // c_ε σ, exactly −1 for the score itself (also at σ = 0).
        let k = if target == Target::Score {
            -1.0
        } else {
            ce * n.sigma
        };
        let d = self.m.len();
        let a = DMatrix::identity(d, d) * cx + &self.p * k;
        let b = -(&self.p * &self.m) * k;
        (a, b)
    }
    /// The true score of p_t: P = C_t⁻¹, m = m_t.
    pub fn exact(g: &Gaussian, n: &NoiseLevel) -> Self {
        let mg = Marginal::new(g, n);
        Self {
            p: mg.c_inv,
            m: mg.m_t,
        }
    }
}

/// p_t = N(m_t, C_t) in matrix form, with Σ and C_t⁻¹ (built from Σ's eigendecomposition).
#[derive(Clone, Debug)]
pub struct Marginal {
    pub mu: DVector<f64>,
    pub cov0: DMatrix<f64>,
    pub m_t: DVector<f64>,
    pub c: DMatrix<f64>,
    pub c_inv: DMatrix<f64>,
}

impl Marginal {
    pub fn new(g: &Gaussian, n: &NoiseLevel) -> Self {
        let (a2, s2) = (n.alpha * n.alpha, n.sigma * n.sigma);
        let c_eig = g.eigvals.map(|l| a2 * l + s2);
        Self {
            mu: g.mean.clone(),
            cov0: g.covariance(),
            m_t: &g.mean * n.alpha,
            c: g.matrix_with_spectrum(&c_eig),
            c_inv: g.matrix_with_spectrum(&c_eig.map(|c| 1.0 / c)),
        }
    }
}

/// E_{x₀,ε}‖ŷ_θ(x_t) − (a x₀ + b ε)‖² for the prediction of `target` derived from `model` (DSM for
/// `Target::Score`, the ε-loss for `Target::Eps`, conditional flow matching for `Target::VelocityFm`, …).
pub fn conditional_loss(g: &Gaussian, model: &AffineScore, target: Target, n: &NoiseLevel) -> f64 {
    let mg = Marginal::new(g, n);
    let (a_mat, b_vec) = model.prediction(target, n);
    let (a, b) = target.conditional_coeffs(n);
    let d = g.dim();
    let id = DMatrix::<f64>::identity(d, d);
    let rx = &a_mat * n.alpha - &id * a;
    let re = &a_mat * n.sigma - &id * b;
    let c = &a_mat * &mg.m_t + b_vec - &mg.mu * a;
    (&rx * &mg.cov0 * rx.transpose()).trace() + re.norm_squared() + c.norm_squared()
}

/// E_{x_t}‖ŷ_θ(x_t) − E[a x₀ + b ε | x_t]‖² (ESM for `Target::Score`, marginal flow matching for
/// `Target::VelocityFm`, …).
pub fn marginal_loss(g: &Gaussian, model: &AffineScore, target: Target, n: &NoiseLevel) -> f64 {
    let mg = Marginal::new(g, n);
    let (a_mat, b_vec) = model.prediction(target, n);
    let (a, b) = target.conditional_coeffs(n);
    // bσ, exactly −1 for the score (also at σ = 0, where the marginal target is still −C⁻¹(x − m_t)).
    let bs = if target == Target::Score {
        -1.0
    } else {
        b * n.sigma
    };
    let t_mat = (&mg.cov0 * &mg.c_inv) * (a * n.alpha) + &mg.c_inv * bs;
    let diff = &a_mat - t_mat;
    let c = &a_mat * &mg.m_t + b_vec - &mg.mu * a;
    (&diff * &mg.c * diff.transpose()).trace() + c.norm_squared()
}

/// ESM: E‖s_θ − ∇log p_t‖² = tr(D C_t Dᵀ) + ‖P(m − m_t)‖², D = C_t⁻¹ − P (SM-2).
pub fn esm(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> f64 {
    marginal_loss(g, model, Target::Score, n)
}

/// DSM: E‖s_θ(x_t) + ε/σ‖² = α² tr(PΣPᵀ) + ‖I/σ − σP‖_F² + ‖P(m_t − m)‖² (SM-2).
pub fn dsm(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> f64 {
    conditional_loss(g, model, Target::Score, n)
}

/// E[s_θ s_θᵀ] under p_t: P(C_t + δδᵀ)Pᵀ with δ = m_t − m.
fn score_second_moment(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> DMatrix<f64> {
    let mg = Marginal::new(g, n);
    let delta = &mg.m_t - &model.m;
    &model.p * (&mg.c + &delta * delta.transpose()) * model.p.transpose()
}

/// ISM (Hyvärinen): E[‖s_θ‖² + 2∇·s_θ] = tr E[s sᵀ] − 2 tr P (SM-1).
pub fn ism(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> f64 {
    score_second_moment(g, model, n).trace() - 2.0 * model.p.trace()
}

/// SSM: E_{x,v}[vᵀ∇s_θ v + ½(vᵀs_θ)²] with `E[vvᵀ] = I`, i.e. tr(∇s_θ) + ½ tr E[s sᵀ] (SM-4).
pub fn ssm(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> f64 {
    model.jacobian().trace() + 0.5 * score_second_moment(g, model, n).trace()
}

/// E‖∇log p_t‖² = tr C_t⁻¹ (eigenvalues of C_t).
pub fn fisher(g: &Gaussian, n: &NoiseLevel) -> f64 {
    g.eigvals
        .iter()
        .map(|l| 1.0 / (n.alpha * n.alpha * l + n.sigma * n.sigma))
        .sum()
}

/// C_t route 1: d/σ² − E‖∇log p_t‖² = d/σ² − tr C_t⁻¹ (SM-2).
pub fn dsm_constant_fisher(g: &Gaussian, n: &NoiseLevel) -> f64 {
    g.dim() as f64 / (n.sigma * n.sigma) - fisher(g, n)
}

/// C_t route 2: (α²/σ⁴) E tr Cov[x₀|x_t] = (α²/σ²) tr(Σ C_t⁻¹) = (α²/σ²) Σ_i λ_i/(α²λ_i + σ²) (SM-2;
/// no cancellation, accurate at small σ).
pub fn dsm_constant_posterior(g: &Gaussian, n: &NoiseLevel) -> f64 {
    let (a2, s2) = (n.alpha * n.alpha, n.sigma * n.sigma);
    a2 / s2 * g.eigvals.iter().map(|l| l / (a2 * l + s2)).sum::<f64>()
}

/// C_t route 3: d/σ² + E[Δ log p_t], with the Hessian of log p_t from the one-component mixture
/// (Cholesky of the full C_t, independent of Σ's eigendecomposition) (SM-2).
pub fn dsm_constant_laplacian(g: &Gaussian, n: &NoiseLevel) -> f64 {
    let mix = g.to_mixture();
    // For a Gaussian the Hessian −C_t⁻¹ does not depend on x: evaluate it at the mean.
    let h = mix.hessian_log_density(&(&g.mean * n.alpha), n.alpha, n.sigma);
    g.dim() as f64 / (n.sigma * n.sigma) + h.trace()
}
