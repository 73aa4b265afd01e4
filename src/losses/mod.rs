//! Training objectives of diffusion models (CLAIMS §5–§6: SM-1…SM-7, PZ-2, PZ-3).
//!
//! - per-sample objectives (this module): explicit (ESM), implicit (ISM), denoising (DSM) and sliced (SSM)
//!   score matching; regression on a prediction target ([`Target`]: score, ε, x̂₀, Salimans–Ho v,
//!   flow-matching velocity), conditional (on (x₀, ε)) or marginal (on E[·|x_t]);
//! - the time axis: [`TimeDistribution`] (uniform, logit-normal, the discrete DDPM steps) and the
//!   weighting w(t) ([`Weighting`]);
//! - EDM preconditioning and the consistency-model boundary scalings ([`EdmPrecond`], [`ConsistencyScalings`]);
//! - [`gaussian`]: every objective in closed form on Gaussian data with affine models;
//! - [`mixture`]: exact expectations over a noised 2-D mixture by quadrature (the constants of SM-1/2/3).

pub mod gaussian;
pub mod mixture;

use crate::schedule::Schedule;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// The noise level of the conditional path at one time: α_t, σ_t and their time derivatives (CLAIMS §1).
#[derive(Clone, Copy, Debug)]
pub struct NoiseLevel {
    pub alpha: f64,
    pub sigma: f64,
    pub dalpha: f64,
    pub dsigma: f64,
}

impl NoiseLevel {
    /// (α, σ, α̇, σ̇) of `sch` at `t`.
    pub fn at(sch: &dyn Schedule, t: f64) -> Self {
        Self {
            alpha: sch.alpha(t),
            sigma: sch.sigma(t),
            dalpha: sch.dalpha(t),
            dsigma: sch.dsigma(t),
        }
    }
    /// x_t = α x₀ + σ ε.
    pub fn noised(&self, x0: &DVector<f64>, eps: &DVector<f64>) -> DVector<f64> {
        x0 * self.alpha + eps * self.sigma
    }
}

/// A prediction target (parameterisation) of a diffusion model (PZ-1, PZ-2, SM-3, SM-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The score; conditional target ∇log q_t(x_t|x₀) = −ε/σ (DSM).
    Score,
    /// The noise ε (DDPM's "simple" loss).
    Eps,
    /// The clean data x₀.
    X0,
    /// Salimans–Ho v = α ε − σ x₀.
    VelocitySh,
    /// The flow-matching velocity; conditional target α̇ x₀ + σ̇ ε (FW-5, SM-7).
    VelocityFm,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Score => "score",
            Target::Eps => "eps",
            Target::X0 => "x0",
            Target::VelocitySh => "v-salimans-ho",
            Target::VelocityFm => "v-flow-matching",
        }
    }
    pub fn all() -> [Target; 5] {
        [
            Target::Score,
            Target::Eps,
            Target::X0,
            Target::VelocitySh,
            Target::VelocityFm,
        ]
    }
    /// (a, b) with conditional target a x₀ + b ε.
    pub fn conditional_coeffs(self, n: &NoiseLevel) -> (f64, f64) {
        match self {
            Target::Score => (0.0, -1.0 / n.sigma),
            Target::Eps => (0.0, 1.0),
            Target::X0 => (1.0, 0.0),
            Target::VelocitySh => (-n.sigma, n.alpha),
            Target::VelocityFm => (n.dalpha, n.dsigma),
        }
    }
    /// (c_x, c_ε) with prediction = c_x x + c_ε ε̂, for a prediction derived from an ε-prediction ε̂ at x
    /// (x̂₀ = (x − σε̂)/α, s = −ε̂/σ, v = αε̂ − σx̂₀, v_FM = α̇x̂₀ + σ̇ε̂; PZ-1). Since the conditional
    /// target is the same map applied to the true ε, prediction − target = c_ε (ε̂ − ε) pointwise (PZ-2).
    pub fn from_eps_coeffs(self, n: &NoiseLevel) -> (f64, f64) {
        let (a, s, da, ds) = (n.alpha, n.sigma, n.dalpha, n.dsigma);
        match self {
            Target::Score => (0.0, -1.0 / s),
            Target::Eps => (0.0, 1.0),
            Target::X0 => (1.0 / a, -s / a),
            Target::VelocitySh => (-s / a, (a * a + s * s) / a),
            Target::VelocityFm => (da / a, ds - da * s / a),
        }
    }
    /// The prediction of this target derived from ε̂ at x.
    pub fn from_eps(
        self,
        x: &DVector<f64>,
        eps_hat: &DVector<f64>,
        n: &NoiseLevel,
    ) -> DVector<f64> {
        let (cx, ce) = self.from_eps_coeffs(n);
        x * cx + eps_hat * ce
    }
    /// The conditional target a x₀ + b ε.
    pub fn conditional(
        self,
        x0: &DVector<f64>,
        eps: &DVector<f64>,
        n: &NoiseLevel,
    ) -> DVector<f64> {
        let (a, b) = self.conditional_coeffs(n);
        x0 * a + eps * b
    }
}

/// ‖a − b‖², the per-sample regression loss.
pub fn sq_err(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a - b).norm_squared()
}

/// ESM per sample: ‖s_θ(x) − ∇log p(x)‖² (SM-1).
pub fn esm_sample(s: &DVector<f64>, true_score: &DVector<f64>) -> f64 {
    sq_err(s, true_score)
}

/// ISM per sample (Hyvärinen): ‖s_θ(x)‖² + 2 ∇·s_θ(x) = ‖s‖² + 2 tr J (SM-1).
pub fn ism_sample(s: &DVector<f64>, jac: &DMatrix<f64>) -> f64 {
    s.norm_squared() + 2.0 * jac.trace()
}

/// DSM per sample (Vincent): ‖s_θ(x_t) + ε/σ‖² (SM-2).
pub fn dsm_sample(s: &DVector<f64>, eps: &DVector<f64>, sigma: f64) -> f64 {
    (s + eps / sigma).norm_squared()
}

/// SSM per sample and probe: vᵀ J v + ½ (vᵀ s)², whose mean over probes with `E[vvᵀ] = I` is ½·ISM (SM-4).
pub fn ssm_sample(s: &DVector<f64>, jac: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    v.dot(&(jac * v)) + 0.5 * v.dot(s).powi(2)
}

/// A random projection for sliced score matching (SM-4); both have `E[vvᵀ] = I`.
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
            Probe::Gaussian => DVector::from_fn(d, |_, _| StandardNormal.sample(&mut *rng)),
            Probe::Rademacher => {
                DVector::from_fn(d, |_, _| if rng.random::<bool>() { 1.0 } else { -1.0 })
            }
        }
    }
    /// Variance of a single-probe estimate vᵀAv of tr A (SM-4): Gaussian 2‖A_sym‖_F²,
    /// Rademacher 2(‖A_sym‖_F² − Σ_i A_ii²).
    pub fn trace_variance(self, a: &DMatrix<f64>) -> f64 {
        let sym = (a + a.transpose()) * 0.5;
        let f = sym.norm_squared();
        match self {
            Probe::Gaussian => 2.0 * f,
            Probe::Rademacher => 2.0 * (f - a.diagonal().norm_squared()),
        }
    }
}

/// The distribution of training times t (SM-3).
#[derive(Clone, Debug)]
pub enum TimeDistribution {
    /// t ~ U[lo, hi].
    Uniform { lo: f64, hi: f64 },
    /// t = lo + (hi − lo)·sigmoid(z), z ~ N(mean, std²) (SD3's logit-normal).
    LogitNormal {
        mean: f64,
        std: f64,
        lo: f64,
        hi: f64,
    },
    /// t uniform over the integer steps 0..n of a discrete DDPM table (`schedule::Discrete`).
    DiscreteSteps { n: usize },
}

impl TimeDistribution {
    pub fn name(&self) -> String {
        match self {
            TimeDistribution::Uniform { lo, hi } => format!("uniform[{lo}..{hi}]"),
            TimeDistribution::LogitNormal { mean, std, .. } => {
                format!("logit-normal(mean={mean} std={std})")
            }
            TimeDistribution::DiscreteSteps { n } => format!("discrete-steps({n})"),
        }
    }
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            TimeDistribution::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            TimeDistribution::LogitNormal { mean, std, lo, hi } => {
                let z: f64 = StandardNormal.sample(rng);
                lo + (hi - lo) / (1.0 + (-(mean + std * z)).exp())
            }
            TimeDistribution::DiscreteSteps { n } => rng.random_range(0..*n) as f64,
        }
    }
    /// E_t[f(t)]: Gauss–Legendre with `panels` panels (uniform; logit-normal over z ∈ mean ± 10 std,
    /// truncated mass < 2e-23) or the exact finite sum (discrete steps).
    pub fn expect(&self, f: &dyn Fn(f64) -> f64, panels: usize) -> f64 {
        match self {
            TimeDistribution::Uniform { lo, hi } => {
                crate::quadrature::gauss_legendre(f, *lo, *hi, panels) / (hi - lo)
            }
            TimeDistribution::LogitNormal { mean, std, lo, hi } => {
                let g = |z: f64| {
                    let t = lo + (hi - lo) / (1.0 + (-(mean + std * z)).exp());
                    f(t) * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
                };
                crate::quadrature::gauss_legendre(&g, -10.0, 10.0, panels)
            }
            TimeDistribution::DiscreteSteps { n } => {
                (0..*n).map(|k| f(k as f64)).sum::<f64>() / *n as f64
            }
        }
    }
}

/// A weighting w(t) of the ε-loss E_t[w(t) ‖ε_θ − ε‖²] (SM-3). Weightings of other targets are
/// ε-weightings times the squared factor of [`Target::from_eps_coeffs`] (PZ-2).
#[derive(Clone, Copy, Debug)]
pub enum Weighting {
    /// w = 1 (DDPM's simple loss).
    Unit,
    /// w = e^{−2λ} = σ²/α²: the x̂₀-loss.
    InverseSnr,
    /// Min-SNR-γ for ε-prediction: min(e^{2λ}, γ)/e^{2λ}.
    MinSnr { gamma: f64 },
    /// w = g²/σ²: Song's likelihood weighting λ(t) = g² of the score loss.
    Likelihood,
    /// EDM's λ(σ̄) = (σ̄² + σ_d²)/(σ̄σ_d)² on the D-loss, σ̄ = σ/α: w = (σ̄² + σ_d²)/σ_d².
    Edm { sigma_data: f64 },
}

impl Weighting {
    pub fn name(&self) -> String {
        match self {
            Weighting::Unit => "unit".into(),
            Weighting::InverseSnr => "inverse-snr (x0-loss)".into(),
            Weighting::MinSnr { gamma } => format!("min-snr-{gamma}"),
            Weighting::Likelihood => "likelihood g2/sigma2".into(),
            Weighting::Edm { sigma_data } => format!("edm(sigma_data={sigma_data})"),
        }
    }
    /// w(t) on the ε-loss.
    pub fn weight(&self, sch: &dyn Schedule, t: f64) -> f64 {
        let (a, s) = (sch.alpha(t), sch.sigma(t));
        match self {
            Weighting::Unit => 1.0,
            Weighting::InverseSnr => (s / a).powi(2),
            Weighting::MinSnr { gamma } => {
                let snr = (a / s).powi(2);
                snr.min(*gamma) / snr
            }
            Weighting::Likelihood => sch.g2(t) / (s * s),
            Weighting::Edm { sigma_data } => {
                let sb = s / a;
                (sb * sb + sigma_data * sigma_data) / (sigma_data * sigma_data)
            }
        }
    }
}

/// EDM preconditioning D_θ(x; σ) = c_skip x + c_out F_θ(c_in x; c_noise) (Karras et al. 2022, PZ-3).
#[derive(Clone, Copy, Debug)]
pub struct EdmPrecond {
    pub sigma_data: f64,
}

impl EdmPrecond {
    /// c_skip = σ_d²/(σ² + σ_d²).
    pub fn c_skip(&self, sigma: f64) -> f64 {
        let sd2 = self.sigma_data.powi(2);
        sd2 / (sigma * sigma + sd2)
    }
    /// c_out = σσ_d/√(σ² + σ_d²).
    pub fn c_out(&self, sigma: f64) -> f64 {
        sigma * self.sigma_data / (sigma * sigma + self.sigma_data.powi(2)).sqrt()
    }
    /// c_in = 1/√(σ² + σ_d²).
    pub fn c_in(&self, sigma: f64) -> f64 {
        1.0 / (sigma * sigma + self.sigma_data.powi(2)).sqrt()
    }
    /// c_noise = ¼ ln σ.
    pub fn c_noise(&self, sigma: f64) -> f64 {
        0.25 * sigma.ln()
    }
    /// EDM loss weight λ(σ) = (σ² + σ_d²)/(σσ_d)² (= 1/c_out²).
    pub fn loss_weight(&self, sigma: f64) -> f64 {
        (sigma * sigma + self.sigma_data.powi(2)) / (sigma * self.sigma_data).powi(2)
    }
    /// D_θ(x; σ) from a raw network F (called with c_in x and c_noise).
    pub fn denoise(
        &self,
        x: &DVector<f64>,
        sigma: f64,
        f: &dyn Fn(&DVector<f64>, f64) -> DVector<f64>,
    ) -> DVector<f64> {
        x * self.c_skip(sigma) + f(&(x * self.c_in(sigma)), self.c_noise(sigma)) * self.c_out(sigma)
    }
    /// The effective regression target of F: F* = (x₀ − c_skip x)/c_out.
    pub fn effective_target(
        &self,
        x0: &DVector<f64>,
        x: &DVector<f64>,
        sigma: f64,
    ) -> DVector<f64> {
        (x0 - x * self.c_skip(sigma)) / self.c_out(sigma)
    }
}

/// Consistency-model boundary scalings (Song et al. 2023, `get_scalings_for_boundary_condition`, PZ-3):
/// c_skip(t) = σ_d²/((t − ε)² + σ_d²), c_out(t) = σ_d (t − ε)/√(σ_d² + t²), so f_θ(x, ε) = x exactly.
#[derive(Clone, Copy, Debug)]
pub struct ConsistencyScalings {
    pub sigma_data: f64,
    pub t_min: f64,
}

impl ConsistencyScalings {
    pub fn c_skip(&self, t: f64) -> f64 {
        let sd2 = self.sigma_data.powi(2);
        sd2 / ((t - self.t_min).powi(2) + sd2)
    }
    pub fn c_out(&self, t: f64) -> f64 {
        self.sigma_data * (t - self.t_min) / (self.sigma_data.powi(2) + t * t).sqrt()
    }
    /// f_θ(x, t) = c_skip x + c_out F.
    pub fn apply(&self, x: &DVector<f64>, f: &DVector<f64>, t: f64) -> DVector<f64> {
        x * self.c_skip(t) + f * self.c_out(t)
    }
}
