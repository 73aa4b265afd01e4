//! Reward fine-tuning of a pretrained diffusion (CLAIMS §13, RL-1…RL-5; TZ §6, PDM §8.5).
//!
//! KL-regularised reward maximisation, max_p `E_p[r]` − β KL(p‖p_pre), is solved by the tilted law
//! p* = p_pre e^{r/β}/Z (RL-1). On the path space the optimum is the Doob h-transform of the pretrained
//! reverse process with h_t(x) = E_pre[e^{r(X₀)/β} | X_t = x]: guidance by ∇log h_t (RL-2). Everything
//! here is closed form for a Gaussian p_pre (per coordinate of Σ's eigenbasis) or a 1-D Gaussian mixture
//! p_pre, with the quadratic reward r(x) = −(c/2)‖x − a‖², which keeps both families closed under tilting.
//!
//! For the reverse-noise family (noise level λ, RV-2) the conditional law of X₀ given X_t = x under the
//! pretrained *λ-process* is Gaussian on Gaussian data with correlation ρ_t^λ, ρ_t = α_t √v/√C_t the forward
//! correlation of (x₀, x_t) (C_t = α_t² v + σ_t²): the h-transform of that process ([`GuidedGaussian`])
//! is the fine-tuned sampler when the initial law is fixed (RL-3). At λ = 1 it is the forward posterior.

use crate::algebra::{Algebra, Denoiser, Form, FormNoise, Noise};
use crate::law1d::Density1d;
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use crate::target::Gaussian;
use anyhow::{bail, ensure, Result};
use nalgebra::{DMatrix, DVector};

/// The reward r(x) = −(c/2)‖x − a‖² (c > 0), isotropic so that it is diagonal in any eigenbasis.
#[derive(Clone, Debug, PartialEq)]
pub struct QuadraticReward {
    pub c: f64,
    pub a: DVector<f64>,
}

impl QuadraticReward {
    /// # Errors
    /// c ≤ 0 or non-finite entries.
    pub fn new(c: f64, a: DVector<f64>) -> Result<Self> {
        ensure!(
            c > 0.0 && c.is_finite(),
            "the reward curvature c must be > 0"
        );
        ensure!(
            a.iter().all(|v| v.is_finite()),
            "the reward centre must be finite"
        );
        Ok(Self { c, a })
    }
    /// r(x).
    pub fn value(&self, x: &DVector<f64>) -> f64 {
        -0.5 * self.c * (x - &self.a).norm_squared()
    }
}

/// The tilt of the 1-D Gaussian N(mean, var) by e^{r/β}, r = −(c/2)(x − a)²: (mean*, var*) with
/// precision 1/var + c/β and mean* = (mean/var + c a/β)/(1/var + c/β), written to stay finite at var = 0.
pub fn tilt_gaussian_1d(mean: f64, var: f64, c: f64, a: f64, beta: f64) -> (f64, f64) {
    let k = c / beta;
    let den = 1.0 + k * var;
    ((mean + k * a * var) / den, var / den)
}

/// ln E_{N(mean, var)}[e^{r/β}] = −½ ln(1 + c var/β) − (c/(2β))(mean − a)²/(1 + c var/β).
pub fn log_tilt_normaliser_1d(mean: f64, var: f64, c: f64, a: f64, beta: f64) -> f64 {
    let k = c / beta;
    let den = 1.0 + k * var;
    -0.5 * den.ln() - 0.5 * k * (mean - a).powi(2) / den
}

/// p* = p_pre e^{r/β}/Z for a Gaussian p_pre: the same eigenbasis, each coordinate tilted (RL-1).
///
/// # Errors
/// A reward of another dimension.
pub fn tilted_gaussian(pre: &Gaussian, reward: &QuadraticReward, beta: f64) -> Result<Gaussian> {
    ensure!(
        reward.a.len() == pre.dim(),
        "reward and target differ in dimension"
    );
    ensure!(beta > 0.0, "β must be > 0");
    let (mu, a) = (pre.eigen_mean(), pre.to_eigen(&reward.a));
    let (mut m, mut v) = (DVector::zeros(pre.dim()), DVector::zeros(pre.dim()));
    for i in 0..pre.dim() {
        let (mi, vi) = tilt_gaussian_1d(mu[i], pre.eigvals[i], reward.c, a[i], beta);
        m[i] = mi;
        v[i] = vi;
    }
    Gaussian::from_eigen(pre.from_eigen_coords(&m), v, pre.eigvecs.clone())
}

/// p* for a 1-D Gaussian-mixture p_pre = Σ π_k N(μ_k, v_k): every component tilted, weights π_k Z_k / Σ.
///
/// # Errors
/// A law that is not a mixture, or β ≤ 0.
pub fn tilted_mixture_1d(pre: &Density1d, c: f64, a: f64, beta: f64) -> Result<Density1d> {
    let Density1d::Mixture {
        weights,
        means,
        vars,
    } = pre
    else {
        bail!("closed-form tilting needs a Gaussian mixture");
    };
    ensure!(beta > 0.0, "β must be > 0");
    let logw: Vec<f64> = (0..weights.len())
        .map(|k| weights[k].ln() + log_tilt_normaliser_1d(means[k], vars[k], c, a, beta))
        .collect();
    let top = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = logw.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = raw.iter().sum();
    let (m, v): (Vec<f64>, Vec<f64>) = (0..weights.len())
        .map(|k| tilt_gaussian_1d(means[k], vars[k], c, a, beta))
        .unzip();
    Density1d::mixture(raw.iter().map(|w| w / total).collect(), m, v)
}

/// ln Z = ln E_{p_pre}[e^{r/β}] of a 1-D Gaussian mixture (closed form, log-sum-exp).
///
/// # Errors
/// A law that is not a mixture.
pub fn log_normaliser_mixture_1d(pre: &Density1d, c: f64, a: f64, beta: f64) -> Result<f64> {
    let Density1d::Mixture {
        weights,
        means,
        vars,
    } = pre
    else {
        bail!("closed-form tilting needs a Gaussian mixture");
    };
    let logw: Vec<f64> = (0..weights.len())
        .map(|k| weights[k].ln() + log_tilt_normaliser_1d(means[k], vars[k], c, a, beta))
        .collect();
    let top = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    Ok(top + logw.iter().map(|l| (l - top).exp()).sum::<f64>().ln())
}

/// The value function of one coordinate of a Gaussian p_pre = N(μ, v) under the λ-process at noise level
/// (α, σ): X₀ | X_t = x ~ N(μ + κ(x − αμ), P) with κ = ρ^λ √v/√C, P = v(1 − ρ^{2λ}), ρ = α√v/√C, C = α²v + σ².
/// Returns (ln h, d ln h/dx) at x, h(x) = E[e^{r(X₀)/β} | X_t = x] (RL-2, RL-3).
#[allow(clippy::too_many_arguments)]
pub fn log_h_1d(
    x: f64,
    mean: f64,
    var: f64,
    alpha: f64,
    sigma: f64,
    noise_level: f64,
    c: f64,
    a: f64,
    beta: f64,
) -> (f64, f64) {
    let (kappa, p) = lambda_posterior_1d(var, alpha, sigma, noise_level);
    let post_mean = mean + kappa * (x - alpha * mean);
    let k = c / beta;
    let den = 1.0 + k * p;
    (
        log_tilt_normaliser_1d(post_mean, p, c, a, beta),
        -k * (post_mean - a) / den * kappa,
    )
}

/// (κ, P) of X₀ | X_t under the λ-process for one coordinate of variance `var` (see [`log_h_1d`]).
pub fn lambda_posterior_1d(var: f64, alpha: f64, sigma: f64, noise_level: f64) -> (f64, f64) {
    let cvar = alpha * alpha * var + sigma * sigma;
    if var == 0.0 {
        return (0.0, 0.0);
    }
    let rho = alpha * var.sqrt() / cvar.sqrt();
    let rl = rho.powf(noise_level);
    (rl * var.sqrt() / cvar.sqrt(), var * (1.0 - rl * rl))
}

/// The pretrained Gaussian denoiser plus the h-transform guidance of the λ-process (RL-2/RL-3): the λ-family
/// sampler's drift −((1+λ)/2) g² s becomes −((1+λ)/2) g² s − λ g² ∇ln h^λ, i.e. the score the sampler sees is
/// s + (2λ/(1+λ)) ∇ln h^λ, and x̂₀ is shifted by (σ²/α) times the added score (Tweedie). At λ = 1 this is
/// classifier guidance with the "reward classifier" h_t, and its score is the noised p*'s (RL-2).
pub struct GuidedGaussian<'a> {
    pub pre: &'a Gaussian,
    pub reward: &'a QuadraticReward,
    pub beta: f64,
    /// λ of the reverse-noise family whose h-transform this is (> 0).
    pub noise_level: f64,
}

impl GuidedGaussian<'_> {
    /// Per eigen-coordinate, ∇ln h^λ(x) = q x + r as (q, r), and the factor 2λ/(1+λ).
    fn guidance(&self, alpha: f64, sigma: f64) -> (Vec<f64>, Vec<f64>, f64) {
        let (mu, a) = (self.pre.eigen_mean(), self.pre.to_eigen(&self.reward.a));
        let k = self.reward.c / self.beta;
        let (mut q, mut r) = (Vec::new(), Vec::new());
        for i in 0..self.pre.dim() {
            let (kappa, p) =
                lambda_posterior_1d(self.pre.eigvals[i], alpha, sigma, self.noise_level);
            let den = 1.0 + k * p;
            // post mean = κ x + (μ − κ α μ); ∇ln h = −k (post mean − a) κ / den.
            q.push(-k * kappa * kappa / den);
            r.push(-k * kappa * (mu[i] - kappa * alpha * mu[i] - a[i]) / den);
        }
        let factor = 2.0 * self.noise_level / (1.0 + self.noise_level);
        (q, r, factor)
    }

    /// The guided score s + (2λ/(1+λ)) ∇ln h^λ at x (eigen coordinates), for pointwise checks.
    pub fn score_eigen(&self, x: &[f64], alpha: f64, sigma: f64) -> Vec<f64> {
        let (q, r, factor) = self.guidance(alpha, sigma);
        let mu = self.pre.eigen_mean();
        (0..x.len())
            .map(|i| {
                let cvar = alpha * alpha * self.pre.eigvals[i] + sigma * sigma;
                -(x[i] - alpha * mu[i]) / cvar + factor * (q[i] * x[i] + r[i])
            })
            .collect()
    }
}

impl Denoiser<Form> for GuidedGaussian<'_> {
    fn denoise(&self, x: &Form, alpha: f64, sigma: f64) -> Form {
        let base = self.pre.denoise(x, alpha, sigma);
        let (q, r, factor) = self.guidance(alpha, sigma);
        let grad = x.diag_affine(&q, &r);
        Form::lin(&[(1.0, &base), (factor * sigma * sigma / alpha, &grad)])
    }
}

/// Fresh noise for forms that never compresses: every draw keeps its own component, so the final form's
/// coefficients are the joint law of the whole path (component 0 = the initial state's noise, component
/// k = the k-th draw). Costs O(steps²) per run; for path laws and endpoint covariances (RL-3, RL-4).
pub struct KeepBasis(pub FormNoise);

impl Noise<Form> for KeepBasis {
    fn standard_normal(&mut self, like: &Form) -> Form {
        self.0.standard_normal(like)
    }
}

/// The joint Gaussian law of a sampler's whole path on Gaussian data: the state at every grid time as a
/// form in one shared basis (starting from `start`, whose noise is component 0).
pub fn path_forms<D: Denoiser<Form>>(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    start: Form,
    model: &D,
) -> Vec<Form> {
    let used = start.a.len();
    let mut states = Vec::with_capacity(times.len());
    sampler.run_observed(
        schedule,
        times,
        start,
        model,
        &mut KeepBasis(FormNoise::after(used)),
        &mut |_, x: &Form| states.push(x.clone()),
    );
    states
}

/// Coefficient k of coordinate i of a form (0 for an absent or empty row).
pub fn coefficient(f: &Form, k: usize, i: usize) -> f64 {
    f.a.get(k)
        .and_then(|row| row.get(i))
        .copied()
        .unwrap_or(0.0)
}

/// KL(P‖Q) between the joint Gaussian laws of two paths given as forms in one shared basis (each a list
/// of states; coordinates independent), by the closed form for Gaussian vectors with Cholesky-free
/// triangular factors: path k's state depends on components 0..=k only, so the coefficient matrices are
/// lower triangular, Σ = L Lᵀ and KL = ½[‖L_Q⁻¹L_P‖_F² + ‖L_Q⁻¹(m_P − m_Q)‖² − n + 2Σ ln|diag L_Q/diag L_P|].
///
/// # Errors
/// Paths of different lengths, or a state that is not a function of the components up to its index
/// (then the coefficient matrix is not triangular), or a singular factor.
pub fn gaussian_path_kl(p: &[Form], q: &[Form]) -> Result<f64> {
    ensure!(
        p.len() == q.len() && !p.is_empty(),
        "paths differ in length"
    );
    let n = p.len();
    let d = p[0].dim();
    let mut kl = 0.0;
    for i in 0..d {
        let build = |path: &[Form]| -> Result<(DMatrix<f64>, DVector<f64>)> {
            let mut l = DMatrix::zeros(n, n);
            for (row, f) in path.iter().enumerate() {
                for k in 0..f.a.len() {
                    let v = coefficient(f, k, i);
                    if v != 0.0 {
                        ensure!(k <= row, "state {row} depends on a later component {k}");
                        l[(row, k)] = v;
                    }
                }
            }
            let m = DVector::from_iterator(n, path.iter().map(|f| f.c[i]));
            Ok((l, m))
        };
        let (lp, mp) = build(p)?;
        let (lq, mq) = build(q)?;
        let trace = lq
            .solve_lower_triangular(&lp)
            .ok_or_else(|| anyhow::anyhow!("singular path factor"))?
            .norm_squared();
        let quad = lq
            .solve_lower_triangular(&(mp - mq))
            .ok_or_else(|| anyhow::anyhow!("singular path factor"))?
            .norm_squared();
        let logdet: f64 = (0..n)
            .map(|k| (lq[(k, k)].abs() / lp[(k, k)].abs()).ln())
            .sum();
        kl += 0.5 * (trace + quad - n as f64) + logdet;
    }
    Ok(kl)
}

/// CLAIMS RL-3's closed form: the terminal law of the fine-tuned process whose initial law is fixed to the
/// pretrained one, when (x₀, x_T) has correlation `rho` and x₀ ~ N(mean, var): each conditional
/// N(mean + ρ√var z, v), v = var(1 − ρ²), is tilted by e^{r/β}, and the results are averaged over z:
/// mean (mean + (c/β) a v)/(1 + (c/β)v), variance v/(1 + (c/β)v) + ρ² var/(1 + (c/β)v)².
pub fn fixed_noise_law_1d(mean: f64, var: f64, rho: f64, c: f64, a: f64, beta: f64) -> (f64, f64) {
    let k = c / beta;
    let v = var * (1.0 - rho * rho);
    let den = 1.0 + k * v;
    (
        (mean + k * a * v) / den,
        v / den + rho * rho * var / (den * den),
    )
}

/// The forward correlation of (x₀, x_t) for one coordinate of variance `var`: α_t √var / √(α_t² var + σ_t²).
pub fn forward_correlation(schedule: &dyn Schedule, var: f64, t: f64) -> f64 {
    let (a, s) = (schedule.alpha(t), schedule.sigma(t));
    a * var.sqrt() / (a * a * var + s * s).sqrt()
}

/// A linear-Gaussian Markov chain x_{k+1} = A_k x_k + B_k + θ_k + C_k z_k (k = 0…N−1; x_0 the start, here
/// the noisiest state), with per-step mean offsets θ_k: the policy of RL-5.
#[derive(Clone, Debug)]
pub struct LinearChain {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
    /// Start law N(m0, v0).
    pub m0: f64,
    pub v0: f64,
}

impl LinearChain {
    /// The chain of a one-step sampler on a 1-D Gaussian: each step's affine map and noise coefficient read
    /// off the sampler's own step run on forms (x = ξ₀ gives A in the ξ₀ row, B as the constant, C as the
    /// fresh component's coefficient). Starts from the exact p_T.
    ///
    /// # Errors
    /// A multi-dimensional target or a multistep sampler.
    pub fn from_sampler(
        sampler: Sampler,
        schedule: &dyn Schedule,
        times: &[f64],
        target: &Gaussian,
    ) -> Result<Self> {
        ensure!(target.dim() == 1, "the chain is 1-D");
        ensure!(
            sampler.history_len() == 0,
            "a multistep sampler is not a Markov chain in x"
        );
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        for w in times.windows(2) {
            let x = Form {
                c: vec![0.0],
                a: vec![vec![1.0]],
            };
            let out = sampler.step(schedule, w[0], w[1], &x, target, &mut FormNoise::after(1));
            a.push(coefficient(&out, 0, 0));
            b.push(out.c[0]);
            c.push(coefficient(&out, 1, 0));
        }
        let (m, v) = target.marginal(schedule.alpha(times[0]), schedule.sigma(times[0]));
        Ok(Self {
            a,
            b,
            c,
            m0: m[0],
            v0: v[0],
        })
    }
    pub fn steps(&self) -> usize {
        self.a.len()
    }
    /// Exact law N(m, v) of the last state under offsets θ (law propagation).
    ///
    /// # Panics
    /// `theta` of another length than the chain.
    pub fn law(&self, theta: &[f64]) -> (f64, f64) {
        assert_eq!(theta.len(), self.steps(), "one offset per step");
        let (mut m, mut v) = (self.m0, self.v0);
        for (k, th) in theta.iter().enumerate().take(self.steps()) {
            m = self.a[k] * m + self.b[k] + th;
            v = self.a[k] * self.a[k] * v + self.c[k] * self.c[k];
        }
        (m, v)
    }
    /// ∂m_N/∂θ_k = Π_{j>k} A_j.
    pub fn mean_sensitivity(&self) -> Vec<f64> {
        let n = self.steps();
        let mut g = vec![1.0; n];
        for k in (0..n.saturating_sub(1)).rev() {
            g[k] = g[k + 1] * self.a[k + 1];
        }
        g
    }
    /// One path's last state and the score terms ∂/∂θ_k ln p_θ(x_{k+1}|x_k) = z_k/C_k.
    ///
    /// # Panics
    /// `theta` of another length than the chain.
    pub fn sample<R: rand::Rng + ?Sized>(&self, theta: &[f64], rng: &mut R) -> (f64, Vec<f64>) {
        assert_eq!(theta.len(), self.steps(), "one offset per step");
        use rand_distr::{Distribution, StandardNormal};
        let z0: f64 = StandardNormal.sample(rng);
        let mut x = self.m0 + self.v0.sqrt() * z0;
        let mut scores = Vec::with_capacity(self.steps());
        for (k, th) in theta.iter().enumerate().take(self.steps()) {
            let z: f64 = StandardNormal.sample(rng);
            x = self.a[k] * x + self.b[k] + th + self.c[k] * z;
            scores.push(z / self.c[k]);
        }
        (x, scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quadrature::gauss_legendre;
    use crate::sampler::{uniform_t, Sampler};
    use crate::schedule::{Schedule, VpLinear};

    #[test]
    fn tilt_matches_quadrature_normalisation() {
        let (m, v, c, a, beta) = (0.3, 1.7, 1.2, 2.0, 0.8);
        let dens = |x: f64| {
            (-(x - m).powi(2) / (2.0 * v) - 0.5 * c * (x - a).powi(2) / beta).exp()
                / (2.0 * std::f64::consts::PI * v).sqrt()
        };
        let z = gauss_legendre(&dens, -20.0, 20.0, 200);
        let mean = gauss_legendre(&|x| x * dens(x), -20.0, 20.0, 200) / z;
        let var = gauss_legendre(&|x| (x - mean).powi(2) * dens(x), -20.0, 20.0, 200) / z;
        let (ms, vs) = tilt_gaussian_1d(m, v, c, a, beta);
        assert!((ms - mean).abs() < 1e-12 && (vs - var).abs() < 1e-12);
        assert!((log_tilt_normaliser_1d(m, v, c, a, beta) - z.ln()).abs() < 1e-12);
    }

    #[test]
    fn fixed_noise_law_reproduces_the_claims_reference_numbers() {
        // CLAIMS RL-3: s² = 1, μ = 0, a = 2, c = 1, β = 1.
        for (rho2, m, v) in [
            (0.1, 0.947, 0.5014),
            (0.5, 0.667, 0.556),
            (0.9, 0.182, 0.835),
        ] {
            let (mo, vo) = fixed_noise_law_1d(0.0, 1.0, f64::sqrt(rho2), 1.0, 2.0, 1.0);
            assert!(
                (mo - m).abs() < 5e-4 && (vo - v).abs() < 5e-4,
                "{rho2}: {mo} {vo}"
            );
        }
        assert_eq!(fixed_noise_law_1d(0.0, 1.0, 0.0, 1.0, 2.0, 1.0), (1.0, 0.5));
    }

    #[test]
    fn chain_from_ddpm_reproduces_the_sampler_law() {
        let sch = VpLinear::default();
        let target = Gaussian::from_eigen(
            DVector::from_vec(vec![0.5]),
            DVector::from_vec(vec![2.0]),
            None,
        )
        .unwrap();
        let times = uniform_t(1.0, 1e-3, 20).unwrap();
        let sampler = Sampler::Ddim { eta: 1.0 };
        let chain = LinearChain::from_sampler(sampler, &sch, &times, &target).unwrap();
        let (m, v) = chain.law(&[0.0; 20]);
        let x = Form::marginal(&target, sch.alpha(1.0), sch.sigma(1.0));
        let out = sampler.run(&sch, &times, x, &target, &mut FormNoise::after(1));
        assert!((m - out.c[0]).abs() < 1e-12 && (v - out.variance()[0]).abs() < 1e-12);
    }

    #[test]
    fn path_kl_of_a_path_with_itself_is_zero() {
        let sch = VpLinear::default();
        let target = crate::fixtures::test_gaussian();
        let times = uniform_t(1.0, 1e-3, 10).unwrap();
        let x = Form::marginal(&target, sch.alpha(1.0), sch.sigma(1.0));
        let p = path_forms(
            Sampler::EulerMaruyama { noise_level: 1.0 },
            &sch,
            &times,
            x,
            &target,
        );
        assert!(gaussian_path_kl(&p, &p).unwrap().abs() < 1e-12);
    }
}
