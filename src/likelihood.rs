//! Likelihoods of diffusion models (CLAIMS §10, LK-1…LK-4).
//!
//! Three routes to log p₀(y):
//! - the probability-flow ODE with the instantaneous change of variables (LK-1): RK4 in t on the state
//!   and the accumulated divergence jointly, log p₀(x₀) = log p_T(x_T) + ∫₀ᵀ ∇·v(x_t, t) dt with
//!   v = f x − ½g² ∇log p_t and ∇·v = d f − ½g² tr ∇² log p_t ([`ode_log_likelihood`]);
//! - McAllester's I-MMSE formula (LK-3), in VE-ised variables z = x/α, τ = σ²/α² (schedule-invariant):
//!   −ln p₀(y) = E_ε[−ln p_T(y + √τ_T ε)] + ∫₀^{τ_T} (E_ε‖y − ŷ(y + √τ ε, τ)‖² − d τ)/(2τ²) dτ
//!   ([`immse_neg_log_density`]); with a model denoiser and a prior it is the continuous-time SDE ELBO (LK-4);
//! - the closed form (the target's own density).
//!
//! Hutchinson's trace estimator (LK-2): [`Probe`], [`hutchinson_variance`].

use crate::law1d::Density1d;
use crate::schedule::Schedule;
use crate::target::{Gaussian, Mixture};
use anyhow::{ensure, Result};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// A score field ∇ log p_t and its Jacobian, at a noise level (α, σ).
pub trait ScoreModel {
    /// ∇ log p_t(x).
    fn score(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64>;
    /// The Jacobian ∂s/∂x (for an exact score: the Hessian ∇² log p_t, symmetric).
    fn score_jacobian(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DMatrix<f64>;
}

impl ScoreModel for Mixture {
    fn score(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        Mixture::score(self, x, alpha, sigma)
    }
    fn score_jacobian(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DMatrix<f64> {
        self.hessian_log_density(x, alpha, sigma)
    }
}

/// A 1-D data law of the quadrature engine (mixtures in closed form; uniform, Laplace, scaled beta by
/// quadrature of the posterior): s = (α x̂₀ − x)/σ², ∂s/∂x = (α ∂x̂₀/∂x − 1)/σ² (Tweedie), σ > 0.
impl ScoreModel for Density1d {
    fn score(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        let (m, _) = self.denoise(x[0], alpha, sigma);
        DVector::from_element(1, (alpha * m - x[0]) / (sigma * sigma))
    }
    fn score_jacobian(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DMatrix<f64> {
        let (_, d) = self.denoise(x[0], alpha, sigma);
        DMatrix::from_element(1, 1, (alpha * d - 1.0) / (sigma * sigma))
    }
}

/// A linear model score (LK-4): s_θ(x) = −κ C⁻¹(x − α(μ + δ)), C = α²Σ + σ²I of a Gaussian N(μ, Σ).
/// κ = 1, δ = 0 is the exact score of N(μ, Σ); κ ≠ 1 is not the score of any diffusion.
#[derive(Clone, Debug)]
pub struct LinearScore {
    pub gaussian: Gaussian,
    pub kappa: f64,
    pub shift: DVector<f64>,
}

impl LinearScore {
    /// −κ C⁻¹ (in the Gaussian's eigenbasis, mapped back).
    fn matrix(&self, alpha: f64, sigma: f64) -> DMatrix<f64> {
        let c = self
            .gaussian
            .eigvals
            .map(|l| -self.kappa / (alpha * alpha * l + sigma * sigma));
        self.gaussian.matrix_with_spectrum(&c)
    }
}

impl ScoreModel for LinearScore {
    fn score(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        self.matrix(alpha, sigma) * (x - (&self.gaussian.mean + &self.shift) * alpha)
    }
    fn score_jacobian(&self, _x: &DVector<f64>, alpha: f64, sigma: f64) -> DMatrix<f64> {
        self.matrix(alpha, sigma)
    }
}

/// The PF-ODE velocity v = f x − ½ g² s and its divergence d f − ½ g² tr ∂s/∂x at time t.
pub fn pf_velocity<M: ScoreModel + ?Sized>(
    sch: &dyn Schedule,
    model: &M,
    x: &DVector<f64>,
    t: f64,
) -> (DVector<f64>, f64) {
    let (a, s, f, g2) = (sch.alpha(t), sch.sigma(t), sch.f(t), sch.g2(t));
    let v = x * f - model.score(x, a, s) * (0.5 * g2);
    let div = x.len() as f64 * f - 0.5 * g2 * model.score_jacobian(x, a, s).trace();
    (v, div)
}

/// The end of a forward PF-ODE run: x_T and ∫ ∇·v dt along the path.
#[derive(Clone, Debug)]
pub struct OdeRun {
    pub x_end: DVector<f64>,
    pub integral_div: f64,
}

/// Forward PF-ODE from x₀ at `t0` to `t1` by classic RK4 on (x, ∫∇·v) jointly (LK-1), in `steps` equal
/// steps of u on the quadratic grid t = t0 + (t1 − t0)u² (dt/du = 2(t1 − t0)u): steps concentrate at the data
/// end, where narrow mixture components make the field sharp; the map u ↦ t is smooth, so RK4 keeps order 4.
/// Then log p_{t0}(x₀) = log p_{t1}(x_end) + integral_div.
///
/// # Errors
/// Zero steps, t1 ≤ t0, or a non-finite state.
pub fn ode_run<M: ScoreModel + ?Sized>(
    sch: &dyn Schedule,
    model: &M,
    x0: &DVector<f64>,
    t0: f64,
    t1: f64,
    steps: usize,
) -> Result<OdeRun> {
    ensure!(steps >= 1, "the ODE route needs at least one step");
    ensure!(
        t1 > t0,
        "the ODE runs forward in time (t1 = {t1} ≤ t0 = {t0})"
    );
    let span = t1 - t0;
    let field = |x: &DVector<f64>, u: f64| {
        let (v, div) = pf_velocity(sch, model, x, t0 + span * u * u);
        let dt = 2.0 * span * u;
        (v * dt, div * dt)
    };
    let h = 1.0 / steps as f64;
    let mut x = x0.clone();
    let mut ell = 0.0;
    for k in 0..steps {
        let u = h * k as f64;
        let (k1, d1) = field(&x, u);
        let (k2, d2) = field(&(&x + &k1 * (0.5 * h)), u + 0.5 * h);
        let (k3, d3) = field(&(&x + &k2 * (0.5 * h)), u + 0.5 * h);
        let (k4, d4) = field(&(&x + &k3 * h), u + h);
        x += (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0);
        ell += (d1 + 2.0 * d2 + 2.0 * d3 + d4) * (h / 6.0);
    }
    ensure!(
        x.iter().all(|v| v.is_finite()) && ell.is_finite(),
        "the PF-ODE state became non-finite"
    );
    Ok(OdeRun {
        x_end: x,
        integral_div: ell,
    })
}

/// Where the PF-ODE of a likelihood starts: t = 0 when the schedule's α(0) = 1, σ(0) = 0 and f, g² are
/// finite there (sub-VP, EDM, rectified flow, cosine-VP); t₀ = 1e-14·T (T = `t_end`) when σ̇ is singular at
/// 0 (σ ∝ √t: VP-linear, OU, Brownian), where g² = 2σσ̇ − 2fσ² is 0·∞ in floating point (at t₀ the product
/// σσ̇ is still accurate). log p_{t₀} then stands for log p₀, off by t₀ |∂_t log p| (≈ 1e-14·T for O(1)
/// data). `None` when the schedule's t = 0 marginal is not the data law (VE: σ(0) = σ_min > 0).
pub fn ode_start_time(sch: &dyn Schedule, t_end: f64) -> Option<f64> {
    if (sch.alpha(0.0) - 1.0).abs() > 1e-12 || sch.sigma(0.0) != 0.0 {
        return None;
    }
    if sch.f(0.0).is_finite() && sch.g2(0.0).is_finite() {
        Some(0.0)
    } else {
        Some(1e-14 * t_end)
    }
}

/// log p₀(x₀) by the PF-ODE from t = `t0` to `t1`: `log_prior(x_T) + ∫∇·v dt` (LK-1).
///
/// # Errors
/// As [`ode_run`].
pub fn ode_log_likelihood<M: ScoreModel + ?Sized>(
    sch: &dyn Schedule,
    model: &M,
    x0: &DVector<f64>,
    t0: f64,
    t1: f64,
    steps: usize,
    log_prior: &dyn Fn(&DVector<f64>) -> f64,
) -> Result<f64> {
    let run = ode_run(sch, model, x0, t0, t1, steps)?;
    Ok(log_prior(&run.x_end) + run.integral_div)
}

/// log N(x; 0, s² I).
pub fn log_normal_iso(x: &DVector<f64>, var: f64) -> f64 {
    let d = x.len() as f64;
    -0.5 * (d * (2.0 * std::f64::consts::PI * var).ln() + x.norm_squared() / var)
}

/// A 1-D quadrature rule for E[f(ε)], ε ~ N(0, 1) (weights sum to ≈ 1), tensorised in d dimensions.
#[derive(Clone, Debug)]
pub struct NormalRule {
    pub nodes: Vec<f64>,
    pub weights: Vec<f64>,
}

impl NormalRule {
    /// Composite 8-point Gauss–Legendre on [−L, L] with the normal density folded into the weights: robust
    /// for integrands with sharp features (a mixture's responsibilities switching), the tails beyond L
    /// dropped (2Φ(−L)).
    pub fn legendre(half_width: f64, panels: usize) -> Self {
        use crate::quadrature::{GL8_NODES as X, GL8_WEIGHTS as W};
        let h = 2.0 * half_width / panels as f64;
        let phi = |e: f64| (-0.5 * e * e).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let (mut nodes, mut weights) = (Vec::new(), Vec::new());
        for p in 0..panels {
            let c = -half_width + (p as f64 + 0.5) * h;
            let r = 0.5 * h;
            for (x, w) in X.iter().zip(W) {
                for e in [c - r * x, c + r * x] {
                    nodes.push(e);
                    weights.push(w * r * phi(e));
                }
            }
        }
        Self { nodes, weights }
    }

    /// Probabilists' Gauss–Hermite rule by Golub–Welsch: exact for E[ε^k], k ≤ 2n − 1.
    ///
    /// # Panics
    /// If n = 0.
    pub fn hermite(n: usize) -> Self {
        assert!(n >= 1, "a Gauss–Hermite rule needs a node");
        let jac = DMatrix::from_fn(n, n, |i, j| {
            if i + 1 == j || j + 1 == i {
                (i.max(j) as f64).sqrt()
            } else {
                0.0
            }
        });
        let eig = nalgebra::SymmetricEigen::new(jac);
        let mut pairs: Vec<(f64, f64)> = (0..n)
            .map(|k| (eig.eigenvalues[k], eig.eigenvectors[(0, k)].powi(2)))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self {
            nodes: pairs.iter().map(|p| p.0).collect(),
            weights: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// E[f(ε)], ε ~ N(0, I_d), by the tensor rule (n^d nodes).
    pub fn expect(&self, d: usize, f: &mut dyn FnMut(&DVector<f64>) -> f64) -> f64 {
        let n = self.nodes.len();
        let mut idx = vec![0usize; d];
        let mut e = DVector::zeros(d);
        let mut sum = 0.0;
        loop {
            let mut w = 1.0;
            for (i, &k) in idx.iter().enumerate() {
                e[i] = self.nodes[k];
                w *= self.weights[k];
            }
            sum += w * f(&e);
            // Next multi-index.
            let mut i = 0;
            loop {
                if i == d {
                    return sum;
                }
                idx[i] += 1;
                if idx[i] < n {
                    break;
                }
                idx[i] = 0;
                i += 1;
            }
        }
    }
}

/// Quadrature settings of the I-MMSE route: `panels` 8-point Gauss–Legendre panels in log τ on
/// [τ_min, τ_T], and a rule for E_ε.
#[derive(Clone, Debug)]
pub struct ImmseQuadrature {
    pub panels: usize,
    pub tau_min: f64,
    pub normal: NormalRule,
}

/// McAllester's per-point formula (LK-3) in VE-ised variables:
/// −ln p₀(y) = E_ε[−ln p^z_T(y + √τ_T ε)] + ∫₀^{τ_T} (E_ε‖y − ŷ(y + √τ ε, τ)‖² − d τ)/(2τ²) dτ,
/// `denoise(z, τ)` = E[y | z_τ = z] (or a model's ŷ_θ: then the right side is the SDE ELBO's −, LK-4),
/// `neg_log_prior(z)` = −ln of the law of z at τ_T (p_T, or a prior). The integrand is finite at τ → 0
/// (it tends to tr∇²log p₀ + ½‖∇log p₀‖²), so [0, τ_min] is taken as τ_min times its value there; τ_min
/// should not be much below 1e-8, where the cancellation E‖y − ŷ‖² − dτ loses ε|y|/√τ to round-off.
pub fn immse_neg_log_density(
    denoise: &dyn Fn(&DVector<f64>, f64) -> DVector<f64>,
    neg_log_prior: &dyn Fn(&DVector<f64>) -> f64,
    y: &DVector<f64>,
    tau_max: f64,
    q: &ImmseQuadrature,
) -> f64 {
    let d = y.len();
    let prior = q
        .normal
        .expect(d, &mut |e| neg_log_prior(&(y + e * tau_max.sqrt())));
    // (E‖y − ŷ‖² − dτ)/(2τ²), finite at τ → 0.
    let g = |tau: f64| {
        let rt = tau.sqrt();
        let mse = q.normal.expect(d, &mut |e| {
            let z = y + e * rt;
            (y - denoise(&z, tau)).norm_squared()
        });
        (mse - d as f64 * tau) / (2.0 * tau * tau)
    };
    // dτ = τ du; the piece [0, τ_min] as τ_min g(τ_min) (error O(τ_min²)).
    prior
        + crate::quadrature::gauss_legendre(
            &|u: f64| {
                let tau = u.exp();
                g(tau) * tau
            },
            q.tau_min.ln(),
            tau_max.ln(),
            q.panels,
        )
        + q.tau_min * g(q.tau_min)
}

/// A random probe v with E[v vᵀ] = I for Hutchinson's estimator vᵀJv of tr J (LK-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Gaussian,
    Rademacher,
}

impl Probe {
    pub fn name(self) -> &'static str {
        match self {
            Probe::Gaussian => "gaussian",
            Probe::Rademacher => "rademacher",
        }
    }
    pub fn draw<R: Rng + ?Sized>(self, d: usize, rng: &mut R) -> DVector<f64> {
        match self {
            Probe::Gaussian => DVector::from_fn(d, |_, _| StandardNormal.sample(rng)),
            Probe::Rademacher => {
                DVector::from_fn(d, |_, _| if rng.random::<bool>() { 1.0 } else { -1.0 })
            }
        }
    }
}

/// The variance of vᵀJv (LK-2) for any square J: Gaussian probes ‖J‖²_F + tr(J²) (= 2‖J‖²_F when J is
/// symmetric); Rademacher probes the same minus 2 Σ J_ii² (= 2(‖J‖²_F − Σ J_ii²) when symmetric).
pub fn hutchinson_variance(j: &DMatrix<f64>, probe: Probe) -> f64 {
    let gauss = j.norm_squared() + (j * j).trace();
    match probe {
        Probe::Gaussian => gauss,
        Probe::Rademacher => gauss - 2.0 * j.diagonal().norm_squared(),
    }
}

/// Closed-form 1-D model laws of LK-4 in Brownian variables (z_τ = y + √τ ε, τ ∈ [0, T]): the linear model
/// score s_θ(z, τ) = −κ(z − b)/(s² + τ), started from the prior N(m_π, V_π) at τ = T.
#[derive(Clone, Copy, Debug)]
pub struct LinearModel1d {
    pub s2: f64,
    pub kappa: f64,
    pub b: f64,
    pub prior_mean: f64,
    pub prior_var: f64,
    pub t_max: f64,
}

impl LinearModel1d {
    /// The PF-ODE model's law at τ = 0: dm/dτ = ½a(m − b), dV/dτ = aV with a = κ/(s² + τ), integrated
    /// from T down to 0 in closed form: r = s²/(s² + T), V = V_π r^κ, m = b + (m_π − b) r^{κ/2}.
    pub fn ode_law(&self) -> (f64, f64) {
        let r = self.s2 / (self.s2 + self.t_max);
        (
            self.b + (self.prior_mean - self.b) * r.powf(0.5 * self.kappa),
            self.prior_var * r.powf(self.kappa),
        )
    }

    /// The reverse SDE (noise_level 1) model's law at τ = 0: dm/dτ = a(m − b), dV/dτ = 2aV − 1, in closed
    /// form with u = s² + τ: V(u₀) u₀^{−2κ} = V_π u_T^{−2κ} + ∫_{u₀}^{u_T} w^{−2κ} dw.
    pub fn sde_law(&self) -> (f64, f64) {
        let (u0, ut, k) = (self.s2, self.s2 + self.t_max, self.kappa);
        let int = if (2.0 * k - 1.0).abs() < 1e-12 {
            (ut / u0).ln()
        } else {
            (ut.powf(1.0 - 2.0 * k) - u0.powf(1.0 - 2.0 * k)) / (1.0 - 2.0 * k)
        };
        let v = u0.powf(2.0 * k) * (self.prior_var * ut.powf(-2.0 * k) + int);
        (self.b + (self.prior_mean - self.b) * (u0 / ut).powf(k), v)
    }

    /// McAllester's right side with ŷ_θ = z + τ s_θ and the prior, in closed form (the ELBO is its
    /// negative): ½ln(2πV_π) + ((y − m_π)² + T)/(2V_π) + ∫₀ᵀ ½[a²(y − b)² + τa² − 2a] dτ.
    pub fn neg_elbo(&self, y: f64) -> f64 {
        let (u0, ut, k) = (self.s2, self.s2 + self.t_max, self.kappa);
        let prior = 0.5 * (2.0 * std::f64::consts::PI * self.prior_var).ln()
            + ((y - self.prior_mean).powi(2) + self.t_max) / (2.0 * self.prior_var);
        let l = (ut / u0).ln();
        let int = 0.5 * k * k * (y - self.b).powi(2) * (1.0 / u0 - 1.0 / ut)
            + 0.5 * (k * k * (l + u0 / ut - 1.0) - 2.0 * k * l);
        prior + int
    }

    /// The model's denoiser ŷ_θ(z, τ) = z + τ s_θ(z, τ).
    pub fn denoise(&self, z: f64, tau: f64) -> f64 {
        z - tau * self.kappa * (z - self.b) / (self.s2 + tau)
    }
}

/// log N(y; m, v), 1-D.
pub fn log_normal_1d(y: f64, m: f64, v: f64) -> f64 {
    -0.5 * ((2.0 * std::f64::consts::PI * v).ln() + (y - m).powi(2) / v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{demo_mixture, test_gaussian};
    use crate::schedule::{Brownian, VpLinear};

    #[test]
    fn gauss_hermite_integrates_moments() {
        let gh = NormalRule::hermite(10);
        for (k, want) in [(0, 1.0), (2, 1.0), (4, 3.0), (6, 15.0), (1, 0.0), (3, 0.0)] {
            let m = gh.expect(1, &mut |e| e[0].powi(k));
            assert!((m - want).abs() < 1e-12, "E ε^{k} = {m}");
        }
        let m = gh.expect(2, &mut |e| e[0].powi(2) * e[1].powi(4));
        assert!((m - 3.0).abs() < 1e-12);
        let gl = NormalRule::legendre(12.0, 40);
        for (k, want) in [(0, 1.0), (2, 1.0), (4, 3.0)] {
            let m = gl.expect(1, &mut |e| e[0].powi(k));
            assert!((m - want).abs() < 1e-12, "E ε^{k} = {m}");
        }
    }

    #[test]
    fn mixture_score_jacobian_matches_central_differences() {
        let mix = demo_mixture();
        let (a, s) = (0.8, 0.6);
        let x = DVector::from_vec(vec![0.4, -0.7]);
        let jac = ScoreModel::score_jacobian(&mix, &x, a, s);
        let delta = 1e-5;
        for j in 0..2 {
            let mut e = DVector::zeros(2);
            e[j] = delta;
            let fd = (mix.score(&(&x + &e), a, s) - mix.score(&(&x - &e), a, s)) / (2.0 * delta);
            for i in 0..2 {
                let err = (jac[(i, j)] - fd[i]).abs() / jac.amax();
                assert!(err < crate::tol::CENTRAL_DIFF, "({i},{j}): {err:e}");
            }
        }
    }

    #[test]
    fn ode_likelihood_of_a_gaussian_is_its_log_density() {
        let g = test_gaussian();
        let mix = g.to_mixture();
        let sch = VpLinear::default();
        let x0 = DVector::from_vec(vec![0.1, -0.4, 1.0]);
        let (a, s) = (sch.alpha(1.0), sch.sigma(1.0));
        let t0 = ode_start_time(&sch, 1.0).unwrap();
        assert_eq!(t0, 1e-14);
        let lp = ode_log_likelihood(&sch, &mix, &x0, t0, 1.0, 400, &|x| mix.log_density(x, a, s))
            .unwrap();
        let exact = mix.log_density(&x0, 1.0, 0.0);
        assert!((lp - exact).abs() < 1e-8, "{lp} vs {exact}");
    }

    #[test]
    fn hutchinson_variance_formulas_by_enumeration() {
        let j = DMatrix::from_row_slice(2, 2, &[1.0, 0.3, -0.7, 2.0]);
        // Rademacher: the four sign vectors.
        let vals: Vec<f64> = [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)]
            .iter()
            .map(|(a, b)| {
                let v = DVector::from_vec(vec![*a, *b]);
                v.dot(&(&j * &v))
            })
            .collect();
        let mean = vals.iter().sum::<f64>() / 4.0;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!((mean - j.trace()).abs() < 1e-14);
        assert!((var - hutchinson_variance(&j, Probe::Rademacher)).abs() < 1e-13);
        let gh = NormalRule::hermite(4);
        let m2 = gh.expect(2, &mut |v| v.dot(&(&j * v)).powi(2));
        let var_g = m2 - j.trace().powi(2);
        assert!((var_g - hutchinson_variance(&j, Probe::Gaussian)).abs() < 1e-12);
    }

    #[test]
    fn linear_model_laws_match_exact_score_case_and_elbo_is_tight_there() {
        let (mu, s2, t) = (0.3, 0.5, 4.0);
        let m = LinearModel1d {
            s2,
            kappa: 1.0,
            b: mu,
            prior_mean: mu,
            prior_var: s2 + t,
            t_max: t,
        };
        for (mm, v) in [m.ode_law(), m.sde_law()] {
            assert!((mm - mu).abs() < 1e-14 && (v - s2).abs() < 1e-14);
        }
        let y = 1.1;
        assert!((m.neg_elbo(y) + log_normal_1d(y, mu, s2)).abs() < 1e-13);
        // The closed-form ELBO against the generic I-MMSE quadrature with the model denoiser.
        let m2 = LinearModel1d {
            kappa: 1.3,
            b: 0.0,
            prior_mean: 0.2,
            prior_var: t,
            ..m
        };
        let q = ImmseQuadrature {
            panels: 60,
            tau_min: 1e-8,
            normal: NormalRule::hermite(8),
        };
        let quad = immse_neg_log_density(
            &|z, tau| DVector::from_element(1, m2.denoise(z[0], tau)),
            &|z| -log_normal_1d(z[0], m2.prior_mean, m2.prior_var),
            &DVector::from_element(1, y),
            t,
            &q,
        );
        assert!(
            (quad - m2.neg_elbo(y)).abs() < 1e-10,
            "{quad} {}",
            m2.neg_elbo(y)
        );
        let _ = Brownian;
    }
}
