//! Noise schedules: α(t), σ(t), their derivatives, and everything derived from them (CLAIMS §1, §1.1).
//!
//! Time runs data (t = 0) to noise (t = T). A schedule implements four required methods; the drift
//! `f`, the squared diffusion `g2`, the half-log-SNR `logsnr` and its inverse are default methods,
//! written once (FW "Setup"; DPM-Solver `NoiseScheduleVP`).

use std::f64::consts::PI;

/// A conditional Gaussian path x_t = α_t x_0 + σ_t ε (CLAIMS §1).
pub trait Schedule: Send + Sync {
    /// Short name, used in CSVs and on the command line.
    fn name(&self) -> &'static str;
    /// α_t, the signal coefficient of x_t = α_t x₀ + σ_t ε.
    fn alpha(&self, t: f64) -> f64;
    /// σ_t, the noise coefficient of x_t = α_t x₀ + σ_t ε.
    fn sigma(&self, t: f64) -> f64;
    /// dα/dt.
    fn dalpha(&self, t: f64) -> f64;
    /// dσ/dt.
    fn dsigma(&self, t: f64) -> f64;
    /// The interval on which the schedule is used for sampling: (t_min, T).
    fn t_range(&self) -> (f64, f64);

    /// f(t) = α̇/α = d/dt log α (FW-1).
    fn f(&self, t: f64) -> f64 {
        self.dalpha(t) / self.alpha(t)
    }
    /// g²(t) = dσ²/dt − 2 f σ² (FW-1).
    fn g2(&self, t: f64) -> f64 {
        let s = self.sigma(t);
        2.0 * s * self.dsigma(t) - 2.0 * self.f(t) * s * s
    }
    /// λ_t = log(α_t/σ_t), the half-log-SNR (DPM-Solver's `lambda`).
    fn logsnr(&self, t: f64) -> f64 {
        self.alpha(t).ln() - self.sigma(t).ln()
    }
    /// dλ/dt = α̇/α − σ̇/σ.
    fn dlogsnr(&self, t: f64) -> f64 {
        self.f(t) - self.dsigma(t) / self.sigma(t)
    }
    /// t(λ), the inverse of `logsnr` (λ is decreasing). Default: bisection on [0, T] to machine precision.
    fn t_of_logsnr(&self, logsnr: f64) -> f64 {
        let (_, t_max) = self.t_range();
        let (mut lo, mut hi) = (0.0_f64, t_max);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.logsnr(mid) > logsnr {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

/// Song et al.'s VP-SDE with linear β(t) = β₀ + t(β₁ − β₀): α_t = exp(−¼t²(β₁−β₀) − ½tβ₀), σ_t = √(1−α_t²).
#[derive(Clone, Debug)]
pub struct VpLinear {
    pub beta0: f64,
    pub beta1: f64,
}

impl Default for VpLinear {
    fn default() -> Self {
        Self {
            beta0: 0.1,
            beta1: 20.0,
        }
    }
}

impl VpLinear {
    /// log α_t = −¼t²(β₁−β₀) − ½tβ₀.
    pub fn log_alpha(&self, t: f64) -> f64 {
        -0.25 * t * t * (self.beta1 - self.beta0) - 0.5 * t * self.beta0
    }
    pub fn beta(&self, t: f64) -> f64 {
        self.beta0 + t * (self.beta1 - self.beta0)
    }
}

impl Schedule for VpLinear {
    fn name(&self) -> &'static str {
        "vp-linear"
    }
    fn alpha(&self, t: f64) -> f64 {
        self.log_alpha(t).exp()
    }
    fn sigma(&self, t: f64) -> f64 {
        // √(1 − α²) computed as √(−expm1(2 log α)) to keep precision at small t.
        (-(2.0 * self.log_alpha(t)).exp_m1()).sqrt()
    }
    fn dalpha(&self, t: f64) -> f64 {
        -0.5 * self.beta(t) * self.alpha(t)
    }
    fn dsigma(&self, t: f64) -> f64 {
        let a = self.alpha(t);
        0.5 * self.beta(t) * a * a / self.sigma(t)
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-3, 1.0)
    }
    /// Closed form from DPM-Solver: t(λ) = τ / (√(β₀² + τ) + β₀) / (β₁−β₀), τ = 2(β₁−β₀) log(1+e^{−2λ}).
    fn t_of_logsnr(&self, logsnr: f64) -> f64 {
        let tau = 2.0 * (self.beta1 - self.beta0) * (-2.0 * logsnr).exp().ln_1p();
        tau / ((self.beta0 * self.beta0 + tau).sqrt() + self.beta0) / (self.beta1 - self.beta0)
    }
}

/// Sub-VP (Song et al. 2021): same α as VP-linear, σ_t = 1 − α_t².
#[derive(Clone, Debug, Default)]
pub struct SubVp {
    pub vp: VpLinear,
}

impl Schedule for SubVp {
    fn name(&self) -> &'static str {
        "sub-vp"
    }
    fn alpha(&self, t: f64) -> f64 {
        self.vp.alpha(t)
    }
    fn sigma(&self, t: f64) -> f64 {
        -(2.0 * self.vp.log_alpha(t)).exp_m1()
    }
    fn dalpha(&self, t: f64) -> f64 {
        self.vp.dalpha(t)
    }
    fn dsigma(&self, t: f64) -> f64 {
        let a = self.vp.alpha(t);
        self.vp.beta(t) * a * a
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-3, 1.0)
    }
}

/// Variance exploding (NCSN++): α = 1, σ_t = σ_min (σ_max/σ_min)^t. Note σ_0 = σ_min ≠ 0 (CONV-4).
#[derive(Clone, Debug)]
pub struct Ve {
    pub sigma_min: f64,
    pub sigma_max: f64,
}

impl Default for Ve {
    fn default() -> Self {
        Self {
            sigma_min: 0.01,
            sigma_max: 50.0,
        }
    }
}

impl Schedule for Ve {
    fn name(&self) -> &'static str {
        "ve"
    }
    fn alpha(&self, _t: f64) -> f64 {
        1.0
    }
    fn sigma(&self, t: f64) -> f64 {
        self.sigma_min * (self.sigma_max / self.sigma_min).powf(t)
    }
    fn dalpha(&self, _t: f64) -> f64 {
        0.0
    }
    fn dsigma(&self, t: f64) -> f64 {
        self.sigma(t) * (self.sigma_max / self.sigma_min).ln()
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-5, 1.0)
    }
}

/// EDM (Karras et al. 2022): α = 1, σ = t, t ∈ [0.002, 80].
#[derive(Clone, Debug, Default)]
pub struct Edm;

impl Schedule for Edm {
    fn name(&self) -> &'static str {
        "edm"
    }
    fn alpha(&self, _t: f64) -> f64 {
        1.0
    }
    fn sigma(&self, t: f64) -> f64 {
        t
    }
    fn dalpha(&self, _t: f64) -> f64 {
        0.0
    }
    fn dsigma(&self, _t: f64) -> f64 {
        1.0
    }
    fn t_range(&self) -> (f64, f64) {
        (0.002, 80.0)
    }
}

/// Ornstein–Uhlenbeck, dX = −X dt + √2 dB: α = e^{−t}, σ = √(1 − e^{−2t}).
#[derive(Clone, Debug, Default)]
pub struct Ou;

impl Schedule for Ou {
    fn name(&self) -> &'static str {
        "ou"
    }
    fn alpha(&self, t: f64) -> f64 {
        (-t).exp()
    }
    fn sigma(&self, t: f64) -> f64 {
        (-(-2.0 * t).exp_m1()).sqrt()
    }
    fn dalpha(&self, t: f64) -> f64 {
        -(-t).exp()
    }
    fn dsigma(&self, t: f64) -> f64 {
        (-2.0 * t).exp() / self.sigma(t)
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-3, 5.0)
    }
}

/// McAllester's Brownian path z(t) = y + √t ε: α = 1, σ = √t.
#[derive(Clone, Debug, Default)]
pub struct Brownian;

impl Schedule for Brownian {
    fn name(&self) -> &'static str {
        "brownian"
    }
    fn alpha(&self, _t: f64) -> f64 {
        1.0
    }
    fn sigma(&self, t: f64) -> f64 {
        t.sqrt()
    }
    fn dalpha(&self, _t: f64) -> f64 {
        0.0
    }
    fn dsigma(&self, t: f64) -> f64 {
        0.5 / t.sqrt()
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-4, 100.0)
    }
}

/// Rectified flow / linear flow matching path: α = 1 − t, σ = t (singular at t = 1, CONV-5).
#[derive(Clone, Debug, Default)]
pub struct RectifiedFlow;

impl Schedule for RectifiedFlow {
    fn name(&self) -> &'static str {
        "rectified-flow"
    }
    fn alpha(&self, t: f64) -> f64 {
        1.0 - t
    }
    fn sigma(&self, t: f64) -> f64 {
        t
    }
    fn dalpha(&self, _t: f64) -> f64 {
        -1.0
    }
    fn dsigma(&self, _t: f64) -> f64 {
        1.0
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-3, 0.999)
    }
}

/// Continuous cosine VP: α = cos(πt/2), σ = sin(πt/2) (singular at t = 1, CONV-5).
#[derive(Clone, Debug, Default)]
pub struct CosineVp;

impl Schedule for CosineVp {
    fn name(&self) -> &'static str {
        "cosine-vp"
    }
    fn alpha(&self, t: f64) -> f64 {
        (0.5 * PI * t).cos()
    }
    fn sigma(&self, t: f64) -> f64 {
        (0.5 * PI * t).sin()
    }
    fn dalpha(&self, t: f64) -> f64 {
        -0.5 * PI * (0.5 * PI * t).sin()
    }
    fn dsigma(&self, t: f64) -> f64 {
        0.5 * PI * (0.5 * PI * t).cos()
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-3, 0.999)
    }
}

/// Every continuous schedule of CLAIMS §1.1 at its typical constants.
pub fn all_continuous() -> Vec<Box<dyn Schedule>> {
    vec![
        Box::new(VpLinear::default()),
        Box::new(SubVp::default()),
        Box::new(Ve::default()),
        Box::new(Edm),
        Box::new(Ou),
        Box::new(Brownian),
        Box::new(RectifiedFlow),
        Box::new(CosineVp),
    ]
}

/// Look a continuous schedule up by name.
pub fn by_name(name: &str) -> Option<Box<dyn Schedule>> {
    all_continuous().into_iter().find(|s| s.name() == name)
}

/// The β tables of the discrete 1000-step DDPM schedules (Ho et al.; Stable Diffusion; Nichol & Dhariwal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BetaSchedule {
    /// β linear from 1e-4 to 0.02.
    Linear,
    /// √β linear from √0.00085 to √0.012 (Stable Diffusion's "scaled_linear").
    ScaledLinear,
    /// ᾱ(t) = cos²((t/N + 0.008)/1.008 · π/2), β_n = min(1 − ᾱ_{n+1}/ᾱ_n, 0.999) ("squaredcos_cap_v2").
    SquaredCosine,
}

impl BetaSchedule {
    pub fn name(self) -> &'static str {
        match self {
            BetaSchedule::Linear => "ddpm-linear",
            BetaSchedule::ScaledLinear => "ddpm-scaled-linear",
            BetaSchedule::SquaredCosine => "ddpm-cosine",
        }
    }
    pub fn all() -> [BetaSchedule; 3] {
        [
            BetaSchedule::Linear,
            BetaSchedule::ScaledLinear,
            BetaSchedule::SquaredCosine,
        ]
    }
    pub fn by_name(name: &str) -> Option<BetaSchedule> {
        Self::all().into_iter().find(|b| b.name() == name)
    }
}

/// A discrete DDPM schedule: β_n and ᾱ_n = Π_{m≤n}(1 − β_m), n = 0..N−1. α_n (ours) = √ᾱ_n.
#[derive(Clone, Debug)]
pub struct Discrete {
    pub kind: BetaSchedule,
    pub betas: Vec<f64>,
    pub alphas_cumprod: Vec<f64>,
}

impl Discrete {
    /// The standard 1000-step table of `kind`.
    pub fn new(kind: BetaSchedule) -> Self {
        Self::with_steps(kind, 1000)
    }

    pub fn with_steps(kind: BetaSchedule, n: usize) -> Self {
        let lin = |a: f64, b: f64, i: usize| {
            if n == 1 {
                a
            } else {
                a + (b - a) * i as f64 / (n - 1) as f64
            }
        };
        let betas: Vec<f64> = match kind {
            BetaSchedule::Linear => (0..n).map(|i| lin(1e-4, 0.02, i)).collect(),
            BetaSchedule::ScaledLinear => (0..n)
                .map(|i| lin(0.00085_f64.sqrt(), 0.012_f64.sqrt(), i).powi(2))
                .collect(),
            BetaSchedule::SquaredCosine => {
                let abar = |t: f64| ((t + 0.008) / 1.008 * PI / 2.0).cos().powi(2);
                (0..n)
                    .map(|i| {
                        let (t1, t2) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
                        (1.0 - abar(t2) / abar(t1)).min(0.999)
                    })
                    .collect()
            }
        };
        let mut alphas_cumprod = Vec::with_capacity(n);
        let mut prod = 1.0;
        for b in &betas {
            prod *= 1.0 - b;
            alphas_cumprod.push(prod);
        }
        Self {
            kind,
            betas,
            alphas_cumprod,
        }
    }

    pub fn len(&self) -> usize {
        self.betas.len()
    }
    pub fn is_empty(&self) -> bool {
        self.betas.is_empty()
    }
    /// α_n = √ᾱ_n.
    pub fn alpha_n(&self, n: usize) -> f64 {
        self.alphas_cumprod[n].sqrt()
    }
    /// σ_n = √(1 − ᾱ_n).
    pub fn sigma_n(&self, n: usize) -> f64 {
        (1.0 - self.alphas_cumprod[n]).sqrt()
    }
}

/// A discrete table as a schedule in the index time t ∈ [0, N−1]: log ᾱ is interpolated linearly
/// between integers, so α(n) = √ᾱ_n exactly at every integer n and f, g² are piecewise constant.
impl Schedule for Discrete {
    fn name(&self) -> &'static str {
        self.kind.name()
    }
    fn alpha(&self, t: f64) -> f64 {
        (0.5 * self.log_abar(t)).exp()
    }
    fn sigma(&self, t: f64) -> f64 {
        (-self.log_abar(t).exp_m1()).sqrt()
    }
    fn dalpha(&self, t: f64) -> f64 {
        0.5 * self.alpha(t) * self.dlog_abar(t)
    }
    fn dsigma(&self, t: f64) -> f64 {
        -0.5 * self.log_abar(t).exp() * self.dlog_abar(t) / self.sigma(t)
    }
    fn t_range(&self) -> (f64, f64) {
        (0.0, (self.len() - 1) as f64)
    }
}

impl Discrete {
    fn segment(&self, t: f64) -> (usize, f64) {
        let n = self.len();
        let t = t.clamp(0.0, (n - 1) as f64);
        let i = (t.floor() as usize).min(n.saturating_sub(2));
        (i, t - i as f64)
    }
    fn log_abar(&self, t: f64) -> f64 {
        let (i, u) = self.segment(t);
        if self.len() == 1 {
            return self.alphas_cumprod[0].ln();
        }
        (1.0 - u) * self.alphas_cumprod[i].ln() + u * self.alphas_cumprod[i + 1].ln()
    }
    fn dlog_abar(&self, t: f64) -> f64 {
        let (i, _) = self.segment(t);
        if self.len() == 1 {
            return 0.0;
        }
        self.alphas_cumprod[i + 1].ln() - self.alphas_cumprod[i].ln()
    }
}
