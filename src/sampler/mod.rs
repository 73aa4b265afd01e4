//! Samplers, each written once against [`Algebra`]/[`Denoiser`]/[`Noise`], and their time grids.
//!
//! Reverse dynamics run from the noisiest grid time to the cleanest; a step goes from `s` (later,
//! noisier) to `t < s` (CONV-8: reverse time with positive steps h = s − t). Every update is stated in
//! (α, σ) so the same code serves every schedule of CLAIMS §1.1.
//!
//! Layout: one file per sampler (or tightly coupled family) holds its step and its properties (label,
//! evaluations per step, history length, stochastic or not, its conventional grid) as an implementation
//! of `Method`; [`Sampler`] is the public catalogue and `with_method!` its one exhaustive dispatch (no
//! wildcard arm: a new variant makes the compiler list every place it must appear); [`run::drive`] is the
//! one run loop (history, rebase), shared with the `diffusers` conventions.

use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;
use anyhow::Result;
use std::cell::Cell;

mod ddim;
mod ddpm;
mod deis;
mod dpm_solver;
mod dpm_solver_pp;
mod edm;
mod grid;
mod law;
mod run;
mod runge_kutta;
mod score_sde;
mod singlestep;
mod unipc;

pub use ddpm::DdpmVariance;
pub use grid::{edm_rho, quadratic_t, uniform_logsnr, uniform_t, Grid};
pub use law::exact_law;
pub(crate) use run::advance;
pub use run::{drive, Leg};

/// A sampler of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Ho et al. (2020), Alg. 2: x_t = (x_s − β ε̂/σ_s)/√(1−β) + √v z, β = 1 − ᾱ_s/ᾱ_t (VP schedules only).
    Ddpm(DdpmVariance),
    /// Song et al. DDIM(η): x_t = α_t x̂₀ + √(σ_t² − c₁²) ε̂ + c₁ z, c₁ = η σ_t √(1 − e^{−2h}) (DD-1; for VP
    /// this is DDIM's σ_t(η) = η√((1−ᾱ_{t−1})/(1−ᾱ_t))√(1−ᾱ_t/ᾱ_{t−1})).
    Ddim { eta: f64 },
    /// Euler–Maruyama of McAllester's reverse-noise family (RV-2) in reverse time:
    /// x_t = x_s − h [f x_s − ((1+λ)/2) g² ∇log p_s] + √(λ g² h) z, λ = `noise_level`.
    /// λ = 1 is the reverse SDE (RV-1), λ = 0 Euler on the probability-flow ODE (RV-3).
    EulerMaruyama { noise_level: f64 },
    /// Euler in the VE-ised variables (σ̄ = σ/α, x̄ = x/α): x̄_t = x̄_s + (σ̄_t − σ̄_s) ε̂ (DD-3).
    EulerVe,
    /// DPM-Solver-1 (Lu et al. 2022): x_t = (α_t/α_s) x_s − σ_t (e^h − 1) ε̂, h = λ_t − λ_s; into σ_t = 0 the
    /// limit σ_t(e^h − 1) → α_t σ_s/α_s (x_t = α_t x̂₀).
    DpmSolver1,
    /// DPM-Solver++(1) (Lu et al. 2022b), data prediction: x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) x̂₀.
    DpmSolverPp1,
    /// DDPM with β_step = g²(s)(s − t) in Ho's update (Pierret & Galerne's code: β^D_k = 2Δt β(T − t_k)):
    /// x_t = (x_s + β_step ∇log p_s)/√(1 − β_step) + √β_step z.
    DdpmBetaDt,
    /// Exponential integrator of the reverse-noise family with x̂₀ frozen over the step (exact in λ;
    /// = SDE-DPM-Solver++1 at noise_level 1, DPM-Solver++1 at 0):
    /// x_t = (α_t/α_s) e^{−(1+λ)h} x_s + α_t (1 − e^{−(1+λ)h}) x̂₀ + σ_t √(1 − e^{−2λh}) z, h = λ_t − λ_s.
    ExpIntegrator { noise_level: f64 },
    /// Exponential integrator with the score frozen (Song et al.; Pierret & Galerne's "EI"): the linear
    /// drift f x is integrated exactly, x_t = (α_t/α_s) x_s + ((1+λ)/2) α_t (∫_t^s g²/α du) ∇log p_s +
    /// α_t √(λ (σ̄_s² − σ̄_t²)) z, σ̄ = σ/α. The integral is by 8-point Gauss–Legendre on 8 panels.
    ExpIntegratorScore { noise_level: f64 },
    /// Heun (explicit trapezoid) on the PF-ODE dx/dt = f x − ½ g² ∇log p in t; evaluates the field at
    /// both ends of every step, the last one included (Pierret & Galerne's Heun).
    HeunT,
    /// Classic RK4 on the PF-ODE in t (midpoint evaluations at (s + t)/2).
    Rk4T,
    /// EDM Euler (Karras et al. 2022, Alg. 1 without the correction) in the VE-ised variables
    /// x̄ = x/α, σ̄ = σ/α: d = (x̄ − D(x̄; σ̄_s))/σ̄_s, x̄_t = x̄_s + (σ̄_t − σ̄_s) d (HO-4). Pointwise this is
    /// DDIM(η=0) (d = ε̂); it differs from it only through the grid it is run on ([`edm_rho`]).
    EdmEuler,
    /// EDM Heun (Karras et al. 2022, Alg. 1): the Euler predictor x̄' above, then, unless σ_t = 0,
    /// d' = (x̄' − D(x̄'; σ̄_t))/σ̄_t and x̄_t = x̄_s + (σ̄_t − σ̄_s)(d + d')/2 (HO-4; 2 NFE a step, 1 into σ = 0).
    EdmHeun,
    /// DPM-Solver-2, singlestep with r₁ = ½ (Lu et al. 2022, Alg. 1; CLAIMS HO-2): s₁ = t(λ_s + h/2),
    /// u = (α_{s₁}/α_s)x − σ_{s₁}(e^{h/2} − 1)ε̂_s, x_t = (α_t/α_s)x − σ_t(e^h − 1)ε̂(u, s₁). Into σ_t = 0
    /// (h = ∞, the intermediate point at σ = 0 too) the DPM-Solver-1 step (1 NFE).
    DpmSolver2,
    /// DPM-Solver-3, singlestep with r₁ = ⅓, r₂ = ⅔ (Lu et al. 2022, Alg. 2; CLAIMS HO-2): φ₂ = (e^h − 1)/h − 1,
    /// φ₂₂ = (e^{r₂h} − 1)/(r₂h) − 1; u₁ = (α_{s₁}/α_s)x − σ_{s₁}(e^{r₁h} − 1)ε̂_s;
    /// u₂ = (α_{s₂}/α_s)x − σ_{s₂}(e^{r₂h} − 1)ε̂_s − (r₂/r₁)σ_{s₂}φ₂₂(ε̂(u₁) − ε̂_s);
    /// x_t = (α_t/α_s)x − σ_t(e^h − 1)ε̂_s − (1/r₂)σ_t φ₂(ε̂(u₂) − ε̂_s). Into σ_t = 0 the DPM-Solver-1 step.
    DpmSolver3,
    /// DPM-Solver++(2M), multistep in the data prediction (Lu et al. 2022b, Alg. 2; official code
    /// `multistep_dpm_solver_second_update`, solver_type "dpmsolver"), generalised to the reverse-noise
    /// family: with φ = 1 − e^{−(1+λ)h}, r₀ = h₀/h, D₁ = (x̂₀⁽ⁱ⁾ − x̂₀⁽ⁱ⁻¹⁾)/r₀,
    /// x_t = (α_t/α_s)e^{−(1+λ)h} x + α_t φ x̂₀⁽ⁱ⁾ + ½ α_t φ D₁ + σ_t √(1 − e^{−2λh}) z.
    /// λ = `noise_level` = 0 is DPM-Solver++(2M); λ = 1 is SDE-DPM-Solver++(2M) (Lu et al. 2022b §5; diffusers'
    /// "sde-dpmsolver++", midpoint). Other λ: our interpolation (first-order part = [`Sampler::ExpIntegrator`]).
    /// The first step has no history and is first order.
    DpmSolverPp2M { noise_level: f64 },
    /// DPM-Solver++(3M) (Lu et al. 2022b; official code `multistep_dpm_solver_third_update`): with
    /// r₀ = h₀/h, r₁ = h₁/h, D₁₀ = (m₀ − m₁)/r₀, D₁₁ = (m₁ − m₂)/r₁, D₁ = D₁₀ + r₀/(r₀ + r₁)(D₁₀ − D₁₁),
    /// D₂ = (D₁₀ − D₁₁)/(r₀ + r₁), φ₁ = e^{−h} − 1, φ₂ = φ₁/h + 1, φ₃ = φ₂/h − ½:
    /// x_t = (σ_t/σ_s)x − α_tφ₁ m₀ + α_tφ₂ D₁ − c α_tφ₃ D₂, c = 1 (`corrected = false`, the official code
    /// and diffusers). Taylor expansion of the data form (HO-1) needs −α_tφ₃h²x̂₀'' and D₂ ≈ ½h²x̂₀'', i.e.
    /// c = 2 (`corrected = true`); with c = 1 the local error is O(h³) and the method is second order
    /// (HO-3 measures it). The first two steps use orders 1 and 2.
    DpmSolverPp3M { corrected: bool },
    /// DPM-Solver-2M, multistep with noise prediction (Lu et al. 2022; diffusers `algorithm_type="dpmsolver"`,
    /// midpoint): x_t = (α_t/α_s) x − σ_t (e^h − 1) ε₀ − ½ σ_t (e^h − 1) (ε₀ − ε₁)/r₀, r₀ = h₀/h; order 1 on
    /// the first step and into σ_t = 0. History holds (λ, ε̂).
    DpmSolver2M,
    /// DPM-Solver-3M, multistep with noise prediction, as diffusers' `algorithm_type="dpmsolver"` runs it at
    /// `solver_order=3` (warm-up 1, 2, 3; order 1 into σ_t = 0); `corrected` doubles the D₂ term (see
    /// `dpm_solver::DpmSolver3M`: the library's update is second order). History holds (λ, ε̂).
    DpmSolver3M { corrected: bool },
    /// SDE-DPM-Solver++(3M) as diffusers' `sde-dpmsolver++` runs it at `solver_order=3` (orders 1, 2 as
    /// [`Sampler::DpmSolverPp2M`] at noise level 1); `corrected` replaces the library's D₂ coefficient by the
    /// one of the variation-of-constants formula (see `dpm_solver_pp::multistep`).
    SdeDpmSolverPp3M { corrected: bool },
    /// DEIS, multistep in ρ = σ/α with ε̂ interpolated by a Lagrange polynomial in log ρ through the last
    /// `order` outputs (Zhang & Chen 2022, "tAB-DEIS" in log ρ, as diffusers' `logrho`):
    /// x_t = α_t (x_s/α_s + Σ_j c_j ε̂_j), c_j = ∫_{ρ_s}^{ρ_t} ℓ_j(log ρ) dρ. Order 1 is DDIM.
    Deis { order: usize },
    /// DPM-Solver++(2S)/(3S) as `DPMSolverSinglestepScheduler` runs it (dpmsolver++, midpoint), with the
    /// intermediate points on the grid: the steps are grouped by the library's order list ([1, 2, …] or
    /// [1, 2, 3, …], lower order at the end, order 1 into σ = 0); a group of order k restarts from its first
    /// node with the model outputs at the k grid nodes it crossed. Not in [`Sampler::zoo`].
    DpmSolverPpSinglestep { order: usize },
    /// UniPC (Zhao et al. 2023) as `UniPCMultistepScheduler` runs it: UniP predictor + UniC corrector,
    /// B(h) = e^{−h} − 1 ("bh2"), data prediction, `lower_order_final`. Not in [`Sampler::zoo`].
    UniPc { order: usize },
}

/// Everything a sampler is, in one place: its properties and its step. One implementation per
/// [`Sampler`] variant (or family), dispatched by `with_method!`.
pub(crate) trait Method {
    /// A stable label for CSVs.
    fn label(&self) -> String;
    /// Does the sampler inject noise?
    fn is_stochastic(&self) -> bool;
    /// How many past model outputs the sampler keeps between steps. Default: none (a one-step sampler).
    fn history_len(&self) -> usize {
        0
    }
    /// Denoiser evaluations of one step into a state of noise level `sigma_t`. Default: one.
    fn nfe_step(&self, _sigma_t: f64) -> usize {
        1
    }
    /// The grid the sampler is conventionally run on.
    fn grid(&self) -> Grid;
    /// The highest order each step of a run along `times` may take (multistep warm-up is the step's own
    /// business; this is the schedule-wide part, e.g. the library's order list). Default: no limit.
    fn order_caps(&self, _schedule: &dyn Schedule, times: &[f64]) -> Vec<usize> {
        vec![usize::MAX; times.len().saturating_sub(1)]
    }
    /// One step along `span`; multistep samplers read `hist` and push their new model output (the run loop
    /// trims it to [`Method::history_len`]).
    fn step<S, D, N>(
        &self,
        schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized;
}

/// Binds `$m` to the [`Method`] of a [`Sampler`] and evaluates `$body`: the one exhaustive dispatch.
macro_rules! with_method {
    ($sampler:expr, |$m:ident| $body:expr) => {
        match $sampler {
            Sampler::Ddpm(variance) => {
                let $m = ddpm::Ddpm { variance };
                $body
            }
            Sampler::Ddim { eta } => {
                let $m = ddim::Ddim { eta };
                $body
            }
            Sampler::EulerVe => {
                let $m = ddim::EulerVe;
                $body
            }
            Sampler::EulerMaruyama { noise_level } => {
                let $m = score_sde::EulerMaruyama { noise_level };
                $body
            }
            Sampler::DdpmBetaDt => {
                let $m = score_sde::DdpmBetaDt;
                $body
            }
            Sampler::ExpIntegratorScore { noise_level } => {
                let $m = score_sde::ExpIntegratorScore { noise_level };
                $body
            }
            Sampler::HeunT => {
                let $m = runge_kutta::HeunT;
                $body
            }
            Sampler::Rk4T => {
                let $m = runge_kutta::Rk4T;
                $body
            }
            Sampler::EdmEuler => {
                let $m = edm::Edm { heun: false };
                $body
            }
            Sampler::EdmHeun => {
                let $m = edm::Edm { heun: true };
                $body
            }
            Sampler::DpmSolver1 => {
                let $m = dpm_solver::DpmSolver1;
                $body
            }
            Sampler::DpmSolver2 => {
                let $m = dpm_solver::DpmSolver2;
                $body
            }
            Sampler::DpmSolver3 => {
                let $m = dpm_solver::DpmSolver3;
                $body
            }
            Sampler::DpmSolver2M => {
                let $m = dpm_solver::DpmSolver2M;
                $body
            }
            Sampler::DpmSolver3M { corrected } => {
                let $m = dpm_solver::DpmSolver3M { corrected };
                $body
            }
            Sampler::SdeDpmSolverPp3M { corrected } => {
                let $m = dpm_solver_pp::SdeDpmSolverPp3M { corrected };
                $body
            }
            Sampler::DpmSolverPp1 => {
                let $m = dpm_solver_pp::DpmSolverPp1;
                $body
            }
            Sampler::ExpIntegrator { noise_level } => {
                let $m = dpm_solver_pp::ExpIntegrator { noise_level };
                $body
            }
            Sampler::DpmSolverPp2M { noise_level } => {
                let $m = dpm_solver_pp::DpmSolverPp2M { noise_level };
                $body
            }
            Sampler::DpmSolverPp3M { corrected } => {
                let $m = dpm_solver_pp::DpmSolverPp3M { corrected };
                $body
            }
            Sampler::Deis { order } => {
                let $m = deis::Deis { order };
                $body
            }
            Sampler::DpmSolverPpSinglestep { order } => {
                let $m = singlestep::DpmSolverPpSinglestep { order };
                $body
            }
            Sampler::UniPc { order } => {
                let $m = unipc::UniPc { order };
                $body
            }
        }
    };
}

/// The per-step quantities, computed once: the two ends s (from) and t (to), α, σ and λ = log(α/σ)
/// (`Schedule::logsnr`) at both, h = λ_t − λ_s, and the highest order the step may take.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub s: f64,
    pub t: f64,
    pub alpha_s: f64,
    pub sigma_s: f64,
    pub lambda_s: f64,
    pub alpha_t: f64,
    pub sigma_t: f64,
    pub lambda_t: f64,
    pub h: f64,
    pub max_order: usize,
}

impl Span {
    pub fn new(schedule: &dyn Schedule, s: f64, t: f64, max_order: usize) -> Self {
        let (lambda_s, lambda_t) = (schedule.logsnr(s), schedule.logsnr(t));
        Self {
            s,
            t,
            alpha_s: schedule.alpha(s),
            sigma_s: schedule.sigma(s),
            lambda_s,
            alpha_t: schedule.alpha(t),
            sigma_t: schedule.sigma(t),
            lambda_t,
            h: lambda_t - lambda_s,
            max_order,
        }
    }
    /// λ at both ends as ln(α/σ) (one rounding away from `logsnr`'s ln α − ln σ): the route DPM-Solver-1/++1
    /// and the diffusers-matched singlestep/UniPC formulas take.
    pub fn ratio_lambdas(&self) -> (f64, f64) {
        (
            (self.alpha_s / self.sigma_s).ln(),
            (self.alpha_t / self.sigma_t).ln(),
        )
    }
    /// σ_t (e^h − 1) for a given h (the noise-prediction coefficient), with its limit α_t σ_s/α_s at σ_t = 0
    /// (h = ∞, where the product would be 0·∞).
    pub fn sigma_expm1(&self, h: f64) -> f64 {
        if self.sigma_t == 0.0 {
            self.alpha_t * self.sigma_s / self.alpha_s
        } else {
            self.sigma_t * h.exp_m1()
        }
    }
}

/// What a sampler remembers between steps: model outputs (λ, x̂₀ or ε̂) at earlier grid times, oldest
/// first, and for restarting/correcting samplers (singlestep groups, UniPC) an earlier state.
pub struct History<S> {
    pub outputs: Vec<(f64, S)>,
    pub anchor: Option<Anchor<S>>,
}

/// An earlier state with λ and σ of its grid time, and the order of the step taken from it.
pub struct Anchor<S> {
    pub lambda: f64,
    pub sigma: f64,
    pub state: S,
    pub order: usize,
}

impl<S> Default for History<S> {
    fn default() -> Self {
        Self {
            outputs: Vec::new(),
            anchor: None,
        }
    }
}

impl<S> History<S> {
    /// Keep the newest `keep` outputs (and the anchor only if anything is kept).
    pub fn trim(&mut self, keep: usize) {
        let n = self.outputs.len();
        if n > keep {
            self.outputs.drain(..n - keep);
        }
        if keep == 0 {
            self.anchor = None;
        }
    }
    /// Does the history hold nothing (no output, no anchor)?
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty() && self.anchor.is_none()
    }
    /// Every value the history holds, for [`Noise::rebase`]: the anchor's state, then the outputs.
    pub fn live(&mut self) -> impl Iterator<Item = &mut S> {
        self.anchor
            .iter_mut()
            .map(|a| &mut a.state)
            .chain(self.outputs.iter_mut().map(|(_, v)| v))
    }
}

/// A denoiser wrapper that counts evaluations (to check [`Sampler::nfe`]).
pub struct Counted<'a, D: ?Sized> {
    pub inner: &'a D,
    pub count: Cell<usize>,
}

impl<'a, D: ?Sized> Counted<'a, D> {
    pub fn new(inner: &'a D) -> Self {
        Self {
            inner,
            count: Cell::new(0),
        }
    }
}

impl<S, D: Denoiser<S> + ?Sized> Denoiser<S> for Counted<'_, D> {
    fn denoise(&self, x: &S, alpha: f64, sigma: f64) -> S {
        self.count.set(self.count.get() + 1);
        self.inner.denoise(x, alpha, sigma)
    }
    fn score(&self, x: &S, alpha: f64, sigma: f64) -> Option<S> {
        self.count.set(self.count.get() + 1);
        self.inner.score(x, alpha, sigma)
    }
}

impl Sampler {
    /// The samplers of the foundation issue with their conventional parameters.
    pub fn foundation_set() -> Vec<Sampler> {
        vec![
            Sampler::Ddpm(DdpmVariance::Large),
            Sampler::Ddpm(DdpmVariance::Small),
            Sampler::Ddim { eta: 0.0 },
            Sampler::Ddim { eta: 0.5 },
            Sampler::Ddim { eta: 1.0 },
            Sampler::EulerMaruyama { noise_level: 1.0 },
            Sampler::EulerMaruyama { noise_level: 0.0 },
            Sampler::EulerVe,
            Sampler::DpmSolver1,
            Sampler::DpmSolverPp1,
        ]
    }

    /// Every sampler of the zoo (HO-*, WP-1), ODE and SDE, with conventional parameters.
    pub fn zoo() -> Vec<Sampler> {
        vec![
            Sampler::Ddpm(DdpmVariance::Small),
            Sampler::Ddim { eta: 0.0 },
            Sampler::EulerMaruyama { noise_level: 1.0 },
            Sampler::EulerMaruyama { noise_level: 0.0 },
            Sampler::ExpIntegrator { noise_level: 1.0 },
            Sampler::HeunT,
            Sampler::Rk4T,
            Sampler::EdmEuler,
            Sampler::EdmHeun,
            Sampler::DpmSolver2,
            Sampler::DpmSolver3,
            Sampler::DpmSolverPp2M { noise_level: 0.0 },
            Sampler::DpmSolverPp3M { corrected: false },
            Sampler::DpmSolverPp3M { corrected: true },
            Sampler::DpmSolverPp2M { noise_level: 1.0 },
            Sampler::Deis { order: 2 },
            Sampler::Deis { order: 3 },
        ]
    }

    /// A stable label for CSVs.
    pub fn label(&self) -> String {
        with_method!(*self, |m| m.label())
    }

    /// Does the sampler inject noise?
    pub fn is_stochastic(&self) -> bool {
        with_method!(*self, |m| m.is_stochastic())
    }

    /// How many past model outputs the sampler keeps (0 for one-step samplers).
    pub fn history_len(&self) -> usize {
        with_method!(*self, |m| m.history_len())
    }

    /// The grid the sampler is conventionally run on (see [`Grid`]).
    pub fn grid(&self) -> Grid {
        with_method!(*self, |m| m.grid())
    }

    /// `steps + 1` times of the sampler's conventional grid from `t_max` down to `t_min`: EDM ρ = 7 in σ̄ for
    /// EDM, uniform in t for the t-samplers (Euler–Maruyama, Heun/RK4 in t, DDPM), uniform in λ otherwise.
    pub fn conventional_grid(
        &self,
        schedule: &dyn Schedule,
        t_max: f64,
        t_min: f64,
        steps: usize,
    ) -> Result<Vec<f64>> {
        self.grid().times(schedule, t_max, t_min, steps)
    }

    /// The highest order of each step of a run along `times` (`usize::MAX`: no limit beyond the sampler's).
    pub fn order_caps(&self, schedule: &dyn Schedule, times: &[f64]) -> Vec<usize> {
        with_method!(*self, |m| m.order_caps(schedule, times))
    }

    /// Denoiser evaluations of one step from `s` to `t`.
    pub fn nfe_step(&self, schedule: &dyn Schedule, t: f64) -> usize {
        let sigma_t = schedule.sigma(t);
        with_method!(*self, |m| m.nfe_step(sigma_t))
    }

    /// Denoiser evaluations (NFE) of a run along `times`.
    pub fn nfe(&self, schedule: &dyn Schedule, times: &[f64]) -> usize {
        times[1..].iter().map(|&t| self.nfe_step(schedule, t)).sum()
    }

    /// Run from `x` at `times[0]` down to `times.last()`; `observe(k, x)` sees the state at `times[k]`.
    /// Multistep samplers carry their [`History`]; at every step boundary the state and the history are
    /// handed together to [`Noise::rebase`] (exact laws stay exact, forms stay short).
    pub fn run_observed<S, D, N>(
        &self,
        schedule: &dyn Schedule,
        times: &[f64],
        x: S,
        model: &D,
        noise: &mut N,
        observe: &mut dyn FnMut(usize, &S),
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        let legs: Vec<Leg> = times
            .windows(2)
            .zip(self.order_caps(schedule, times))
            .map(|(w, max_order)| Leg {
                sampler: *self,
                from: w[0],
                to: w[1],
                max_order,
            })
            .collect();
        drive(
            schedule,
            &legs,
            x,
            model,
            noise,
            &|s| s.history_len(),
            observe,
        )
    }

    /// Run from `x` at `times[0]` down to `times.last()`.
    ///
    /// On Gaussian data, run on [`Form`](crate::algebra::Form)s with [`FormNoise`](crate::algebra::FormNoise),
    /// the output is the exact law of the sampler's output. One DDIM(η = 0) step from the exact p_1 into
    /// σ = 0 maps x ~ N(α_1μ, α_1²λ + σ_1²) to α_0 x̂₀(x) = μ + k(x − α_1μ), k = α_1λ/(α_1²λ + σ_1²), so its
    /// output has standard deviation α_1λ/√(α_1²λ + σ_1²) against the data's √λ:
    ///
    /// ```
    /// use diffusion_claims::algebra::{Form, FormNoise};
    /// use diffusion_claims::metrics::w2_commuting;
    /// use diffusion_claims::sampler::Sampler;
    /// use diffusion_claims::schedule::{Schedule, VpLinear};
    /// use diffusion_claims::target::Gaussian;
    /// use nalgebra::DVector;
    ///
    /// let (mu, lam) = (vec![0.5, -1.0], vec![2.0_f64, 0.25]);
    /// let target = Gaussian::from_eigen(DVector::from_vec(mu.clone()), DVector::from_vec(lam.clone()), None)
    ///     .unwrap();
    /// let sch = VpLinear::default();
    /// let (a, s) = (sch.alpha(1.0), sch.sigma(1.0));
    /// let x = Form::marginal(&target, a, s);
    /// let out = Sampler::Ddim { eta: 0.0 }.run(&sch, &[1.0, 0.0], x, &target, &mut FormNoise::after(1));
    /// let w2 = w2_commuting(&out.c, &out.variance(), &mu, &lam);
    /// let closed = lam
    ///     .iter()
    ///     .map(|l| (l.sqrt() - a * l / (a * a * l + s * s).sqrt()).powi(2))
    ///     .sum::<f64>()
    ///     .sqrt();
    /// assert!((w2 - closed).abs() < 1e-12 * closed);
    /// ```
    pub fn run<S, D, N>(
        &self,
        schedule: &dyn Schedule,
        times: &[f64],
        x: S,
        model: &D,
        noise: &mut N,
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        self.run_observed(schedule, times, x, model, noise, &mut |_, _| {})
    }

    /// One step from time `s` to the earlier time `t`, with no history (a multistep sampler then takes
    /// its first, lower-order step).
    pub fn step<S, D, N>(
        &self,
        schedule: &dyn Schedule,
        s: f64,
        t: f64,
        x: &S,
        model: &D,
        noise: &mut N,
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        self.step_with(schedule, s, t, x, &mut History::default(), model, noise)
    }

    /// One step from time `s` to the earlier time `t`; multistep samplers read and update `hist` (trimmed
    /// to [`Sampler::history_len`] afterwards).
    #[allow(clippy::too_many_arguments)]
    pub fn step_with<S, D, N>(
        &self,
        schedule: &dyn Schedule,
        s: f64,
        t: f64,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        let span = Span::new(schedule, s, t, usize::MAX);
        let out = self.step_span(schedule, &span, x, hist, model, noise);
        hist.trim(self.history_len());
        out
    }

    /// One step along a precomputed [`Span`] (the run loop's entry).
    pub(crate) fn step_span<S, D, N>(
        &self,
        schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        with_method!(*self, |m| m.step(schedule, span, x, hist, model, noise))
    }
}

/// The PF-ODE velocity v(x, t) = f x − ½ g² ∇log p_t (PZ-1), from the denoiser.
pub fn pf_velocity<S, D>(schedule: &dyn Schedule, t: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (alpha, sigma) = (schedule.alpha(t), schedule.sigma(t));
    if sigma == 0.0 {
        // Tweedie's score is 0/0 at σ = 0: the closed-form one where the denoiser has it (issue 13 item 5).
        if let Some(score) = model.score(x, alpha, sigma) {
            return S::lin(&[(schedule.f(t), x), (-0.5 * schedule.g2(t), &score)]);
        }
    }
    let x0 = model.denoise(x, alpha, sigma);
    // f x − ½g² s with s = (α x̂₀ − x)/σ² (`score_from_x0`), as one linear combination.
    let c = 0.5 * schedule.g2(t) / (sigma * sigma);
    S::lin(&[(schedule.f(t) + c, x), (-c * alpha, &x0)])
}

/// Round-off budget of a first-order run along `times`, in units of ε·‖x‖: Σ_k κ_k with
/// κ_k = 1 + (α_t/α_s)(1 + σ_s) + (σ_t/σ_s)(1 + α_s), the sizes of the coefficients that the noise-form
/// (DPM-Solver-1: α_t/α_s and σ_t(e^h − 1) = α_tσ_s/α_s − σ_t) and the data-form (DPM-Solver++1: σ_t/σ_s and
/// α_t(1 − e^{−h}) = α_t − σ_tα_s/σ_s) updates combine. Near α_s → 0 or σ_s → 0 these forms cancel
/// catastrophically, and identities between them hold only to this budget.
pub fn first_order_roundoff(schedule: &dyn Schedule, times: &[f64]) -> f64 {
    times
        .windows(2)
        .map(|w| {
            let (a_s, s_s, a_t, s_t) = (
                schedule.alpha(w[0]),
                schedule.sigma(w[0]),
                schedule.alpha(w[1]),
                schedule.sigma(w[1]),
            );
            1.0 + (a_t / a_s) * (1.0 + s_s) + (s_t / s_s) * (1.0 + a_s)
        })
        .sum()
}
