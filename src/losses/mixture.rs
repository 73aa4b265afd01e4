//! Exact expectations over a noised 2-D Gaussian mixture p_t by tensor-product Gauss–Legendre quadrature:
//! the constants of SM-1/SM-2/SM-3/SM-7 on mixtures, by a route independent of Monte Carlo.

use super::NoiseLevel;
use crate::target::Mixture;
use anyhow::{ensure, Result};
use nalgebra::DVector;
use std::cell::RefCell;

/// Nodes and weights of the crate's 8-point Gauss–Legendre rule on [−1, 1], read back from
/// [`crate::quadrature::gauss_legendre`] itself (so the rule lives in one place).
fn reference_rule() -> Vec<(f64, f64)> {
    let nodes = RefCell::new(Vec::new());
    crate::quadrature::gauss_legendre(
        &|x| {
            nodes.borrow_mut().push(x);
            0.0
        },
        -1.0,
        1.0,
        1,
    );
    let nodes = nodes.into_inner();
    nodes
        .iter()
        .map(|&xk| {
            let w = crate::quadrature::gauss_legendre(
                &|x| if x == xk { 1.0 } else { 0.0 },
                -1.0,
                1.0,
                1,
            );
            (xk, w)
        })
        .collect()
}

/// Composite rule on [a, b] with `panels` panels.
fn rule(a: f64, b: f64, panels: usize) -> Vec<(f64, f64)> {
    let r = reference_rule();
    let h = (b - a) / panels as f64;
    let mut out = Vec::with_capacity(panels * r.len());
    for p in 0..panels {
        let c = a + (p as f64 + 0.5) * h;
        for (x, w) in &r {
            out.push((c + 0.5 * h * x, 0.5 * h * w));
        }
    }
    out
}

/// A quadrature grid for `E_{p_t}[f]`: points and weights `w_i = (quadrature weight)·p_t(x_i)`.
#[derive(Clone, Debug)]
pub struct Grid2 {
    pub points: Vec<DVector<f64>>,
    pub weights: Vec<f64>,
}

impl Grid2 {
    /// The tensor grid over the box of every component's mean ± 10 standard deviations at noise level
    /// `n` (mass outside < 1e-20), `panels` panels per axis, 8 nodes each.
    ///
    /// # Errors
    /// A mixture that is not 2-D.
    pub fn new(mix: &Mixture, n: &NoiseLevel, panels: usize) -> Result<Self> {
        ensure!(mix.dim() == 2, "the quadrature grid is for 2-D mixtures");
        let (a, s) = (n.alpha, n.sigma);
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for (m, c) in mix.means.iter().zip(&mix.covs) {
            for i in 0..2 {
                let sd = (a * a * c[(i, i)] + s * s).sqrt();
                lo[i] = lo[i].min(a * m[i] - 10.0 * sd);
                hi[i] = hi[i].max(a * m[i] + 10.0 * sd);
            }
        }
        let r0 = rule(lo[0], hi[0], panels);
        let r1 = rule(lo[1], hi[1], panels);
        let mut points = Vec::with_capacity(r0.len() * r1.len());
        let mut weights = Vec::with_capacity(r0.len() * r1.len());
        for (x0, w0) in &r0 {
            for (x1, w1) in &r1 {
                let x = DVector::from_vec(vec![*x0, *x1]);
                let p = mix.log_density(&x, a, s).exp();
                weights.push(w0 * w1 * p);
                points.push(x);
            }
        }
        Ok(Self { points, weights })
    }
    /// Σ_i w_i f(x_i) ≈ ∫ p_t f.
    pub fn expect(&self, f: &dyn Fn(&DVector<f64>) -> f64) -> f64 {
        self.points
            .iter()
            .zip(&self.weights)
            .map(|(x, w)| w * f(x))
            .sum()
    }
    /// Vector-valued Σ_i w_i f(x_i).
    pub fn expect_vec(
        &self,
        len: usize,
        f: &dyn Fn(&DVector<f64>) -> DVector<f64>,
    ) -> DVector<f64> {
        self.points
            .iter()
            .zip(&self.weights)
            .fold(DVector::zeros(len), |acc, (x, w)| acc + f(x) * *w)
    }
}

/// The constants of SM-1/SM-2 on a noised mixture, each by its own integrand.
#[derive(Clone, Copy, Debug)]
pub struct MixtureConstants {
    /// ∫ p_t (should be 1: a check of the grid).
    pub mass: f64,
    /// E‖∇log p_t‖² (the ESM − ISM constant, SM-1).
    pub fisher: f64,
    /// C_t = d/σ² − E‖∇log p_t‖².
    pub dsm_from_fisher: f64,
    /// C_t = (α²/σ⁴) E tr Cov[x₀|x_t].
    pub dsm_from_posterior: f64,
    /// C_t = d/σ² + E[Δ log p_t].
    pub dsm_from_laplacian: f64,
}

/// Quadrature of the constants at noise level `n` (SM-2).
///
/// # Errors
/// A mixture that is not 2-D.
pub fn constants(mix: &Mixture, n: &NoiseLevel, panels: usize) -> Result<MixtureConstants> {
    let grid = Grid2::new(mix, n, panels)?;
    let (a, s) = (n.alpha, n.sigma);
    let d = mix.dim() as f64;
    let fisher = grid.expect(&|x| mix.score(x, a, s).norm_squared());
    let post = grid.expect(&|x| mix.posterior_covariance(x, a, s).trace());
    let lap = grid.expect(&|x| mix.hessian_log_density(x, a, s).trace());
    Ok(MixtureConstants {
        mass: grid.weights.iter().sum(),
        fisher,
        dsm_from_fisher: d / (s * s) - fisher,
        dsm_from_posterior: a * a / s.powi(4) * post,
        dsm_from_laplacian: d / (s * s) + lap,
    })
}
