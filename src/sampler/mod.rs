//! Samplers, each written once against [`Algebra`]/[`Denoiser`]/[`Noise`], and their time grids.
//!
//! Reverse dynamics run from the noisiest grid time to the cleanest; a step goes from `s` (later,
//! noisier) to `t < s` (CONV-8: reverse time with positive steps h = s − t). Every update is stated in
//! (α, σ) so the same code serves every schedule of CLAIMS §1.1.

use crate::algebra::{eps_from_x0, score_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;
use std::cell::Cell;

mod grid;
mod higher;
mod law;

pub use grid::{edm_rho, quadratic_t, uniform_logsnr, uniform_t};
pub use law::exact_law;

/// Which variance DDPM ancestral sampling injects (CONV-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdpmVariance {
    /// σ² = β_n ("fixed large", the DDPM code's default).
    Large,
    /// σ² = β̃_n = (1 − ᾱ_{n−1})β_n/(1 − ᾱ_n) ("fixed small", the true posterior variance).
    Small,
}

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
    /// DPM-Solver-1 (Lu et al. 2022): x_t = (α_t/α_s) x_s − σ_t (e^h − 1) ε̂, h = λ_t − λ_s.
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
    /// u = (α_{s₁}/α_s)x − σ_{s₁}(e^{h/2} − 1)ε̂_s, x_t = (α_t/α_s)x − σ_t(e^h − 1)ε̂(u, s₁).
    DpmSolver2,
    /// DPM-Solver-3, singlestep with r₁ = ⅓, r₂ = ⅔ (Lu et al. 2022, Alg. 2; CLAIMS HO-2): φ₂ = (e^h − 1)/h − 1,
    /// φ₂₂ = (e^{r₂h} − 1)/(r₂h) − 1; u₁ = (α_{s₁}/α_s)x − σ_{s₁}(e^{r₁h} − 1)ε̂_s;
    /// u₂ = (α_{s₂}/α_s)x − σ_{s₂}(e^{r₂h} − 1)ε̂_s − (r₂/r₁)σ_{s₂}φ₂₂(ε̂(u₁) − ε̂_s);
    /// x_t = (α_t/α_s)x − σ_t(e^h − 1)ε̂_s − (1/r₂)σ_t φ₂(ε̂(u₂) − ε̂_s).
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
    /// the first step. History holds (λ, ε̂).
    DpmSolver2M,
    /// DEIS, multistep in ρ = σ/α with ε̂ interpolated by a Lagrange polynomial in log ρ through the last
    /// `order` outputs (Zhang & Chen 2022, "tAB-DEIS" in log ρ, as diffusers' `logrho`):
    /// x_t = α_t (x_s/α_s + Σ_j c_j ε̂_j), c_j = ∫_{ρ_s}^{ρ_t} ℓ_j(log ρ) dρ. Order 1 is DDIM.
    Deis { order: usize },
}

/// Model outputs a multistep sampler remembers between steps: (λ, x̂₀) at earlier grid times, oldest first.
pub type History<S> = Vec<(f64, S)>;

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

    /// A stable label for CSVs.
    pub fn label(&self) -> String {
        match self {
            Sampler::Ddpm(DdpmVariance::Large) => "ddpm-beta".into(),
            Sampler::Ddpm(DdpmVariance::Small) => "ddpm-beta-tilde".into(),
            Sampler::Ddim { eta } => format!("ddim-eta{eta}"),
            Sampler::EulerMaruyama { noise_level } if *noise_level == 0.0 => "pf-ode-euler".into(),
            Sampler::EulerMaruyama { noise_level } => format!("em-noise{noise_level}"),
            Sampler::EulerVe => "euler-ve".into(),
            Sampler::DpmSolver1 => "dpm-solver-1".into(),
            Sampler::DpmSolverPp1 => "dpm-solver++1".into(),
            Sampler::DdpmBetaDt => "ddpm-beta-dt".into(),
            Sampler::ExpIntegrator { noise_level } => format!("ei-x0-noise{noise_level}"),
            Sampler::ExpIntegratorScore { noise_level } => format!("ei-score-noise{noise_level}"),
            Sampler::HeunT => "heun-t".into(),
            Sampler::Rk4T => "rk4-t".into(),
            Sampler::EdmEuler => "edm-euler".into(),
            Sampler::EdmHeun => "edm-heun".into(),
            Sampler::DpmSolver2 => "dpm-solver-2".into(),
            Sampler::DpmSolver3 => "dpm-solver-3".into(),
            Sampler::DpmSolverPp2M { noise_level } if *noise_level == 0.0 => {
                "dpm-solver++2m".into()
            }
            Sampler::DpmSolverPp2M { noise_level } if *noise_level == 1.0 => {
                "sde-dpm-solver++2m".into()
            }
            Sampler::DpmSolverPp2M { noise_level } => format!("dpm-solver++2m-noise{noise_level}"),
            Sampler::DpmSolverPp3M { corrected: false } => "dpm-solver++3m".into(),
            Sampler::DpmSolverPp3M { corrected: true } => "dpm-solver++3m-corrected".into(),
            Sampler::DpmSolver2M => "dpm-solver-2m".into(),
            Sampler::Deis { order } => format!("deis-{order}"),
        }
    }

    /// Does the sampler inject noise?
    pub fn is_stochastic(&self) -> bool {
        match self {
            Sampler::Ddpm(_) => true,
            Sampler::Ddim { eta } => *eta != 0.0,
            Sampler::EulerMaruyama { noise_level } => *noise_level != 0.0,
            Sampler::DdpmBetaDt => true,
            Sampler::ExpIntegrator { noise_level }
            | Sampler::ExpIntegratorScore { noise_level }
            | Sampler::DpmSolverPp2M { noise_level } => *noise_level != 0.0,
            Sampler::EdmEuler
            | Sampler::EdmHeun
            | Sampler::DpmSolver2
            | Sampler::DpmSolver3
            | Sampler::DpmSolverPp3M { .. }
            | Sampler::DpmSolver2M
            | Sampler::Deis { .. }
            | Sampler::EulerVe
            | Sampler::DpmSolver1
            | Sampler::DpmSolverPp1
            | Sampler::HeunT
            | Sampler::Rk4T => false,
        }
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

    /// How many past model outputs the sampler keeps (0 for one-step samplers).
    pub fn history_len(&self) -> usize {
        match self {
            Sampler::DpmSolverPp2M { .. } | Sampler::DpmSolver2M => 1,
            Sampler::DpmSolverPp3M { .. } => 2,
            Sampler::Deis { order } => order.saturating_sub(1),
            _ => 0,
        }
    }

    /// Denoiser evaluations of one step from `s` to `t`.
    pub fn nfe_step(&self, schedule: &dyn Schedule, t: f64) -> usize {
        match self {
            Sampler::HeunT | Sampler::DpmSolver2 => 2,
            Sampler::DpmSolver3 => 3,
            Sampler::Rk4T => 4,
            Sampler::EdmHeun if schedule.sigma(t) == 0.0 => 1,
            Sampler::EdmHeun => 2,
            _ => 1,
        }
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
        mut x: S,
        model: &D,
        noise: &mut N,
        observe: &mut dyn FnMut(usize, &S),
    ) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        let mut hist: History<S> = Vec::new();
        observe(0, &x);
        for k in 1..times.len() {
            x = self.step_with(
                schedule,
                times[k - 1],
                times[k],
                &x,
                &mut hist,
                model,
                noise,
            );
            let mut live: Vec<&mut S> = std::iter::once(&mut x)
                .chain(hist.iter_mut().map(|(_, v)| v))
                .collect();
            noise.rebase(&mut live);
            observe(k, &x);
        }
        x
    }

    /// Run from `x` at `times[0]` down to `times.last()`.
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
        self.step_with(schedule, s, t, x, &mut Vec::new(), model, noise)
    }

    /// One step from time `s` to the earlier time `t`; multistep samplers read and update `hist`.
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
        match *self {
            Sampler::EdmEuler | Sampler::EdmHeun => {
                return higher::edm(*self == Sampler::EdmHeun, schedule, s, t, x, model)
            }
            Sampler::DpmSolver2 => return higher::dpm_solver_2(schedule, s, t, x, model),
            Sampler::DpmSolver3 => return higher::dpm_solver_3(schedule, s, t, x, model),
            // The x̂₀-frozen exponential integrator is the first-order step of SDE-DPM-Solver++ (one formula,
            // in `higher::dpm_solver_pp_multistep`, taken with no history).
            Sampler::ExpIntegrator { noise_level } => {
                return higher::dpm_solver_pp_multistep(
                    2,
                    1.0,
                    noise_level,
                    schedule,
                    s,
                    t,
                    x,
                    &mut Vec::new(),
                    model,
                    noise,
                )
            }
            Sampler::DpmSolverPp2M { noise_level } => {
                return higher::dpm_solver_pp_multistep(
                    2,
                    1.0,
                    noise_level,
                    schedule,
                    s,
                    t,
                    x,
                    hist,
                    model,
                    noise,
                )
            }
            Sampler::DpmSolverPp3M { corrected } => {
                let c = if corrected { 2.0 } else { 1.0 };
                return higher::dpm_solver_pp_multistep(
                    3, c, 0.0, schedule, s, t, x, hist, model, noise,
                );
            }
            Sampler::DpmSolver2M => return higher::dpm_solver_2m(schedule, s, t, x, hist, model),
            Sampler::Deis { order } => return higher::deis(order, schedule, s, t, x, hist, model),
            _ => {}
        }
        let (alpha_s, sigma_s) = (schedule.alpha(s), schedule.sigma(s));
        let (alpha_t, sigma_t) = (schedule.alpha(t), schedule.sigma(t));
        match *self {
            Sampler::HeunT => {
                let d1 = pf_velocity(schedule, s, x, model);
                let pred = S::lin(&[(1.0, x), (t - s, &d1)]);
                let d2 = pf_velocity(schedule, t, &pred, model);
                return S::lin(&[(1.0, x), (0.5 * (t - s), &d1), (0.5 * (t - s), &d2)]);
            }
            Sampler::Rk4T => {
                let (h, m) = (t - s, 0.5 * (s + t));
                let k1 = pf_velocity(schedule, s, x, model);
                let k2 = pf_velocity(schedule, m, &S::lin(&[(1.0, x), (0.5 * h, &k1)]), model);
                let k3 = pf_velocity(schedule, m, &S::lin(&[(1.0, x), (0.5 * h, &k2)]), model);
                let k4 = pf_velocity(schedule, t, &S::lin(&[(1.0, x), (h, &k3)]), model);
                return S::lin(&[
                    (1.0, x),
                    (h / 6.0, &k1),
                    (h / 3.0, &k2),
                    (h / 3.0, &k3),
                    (h / 6.0, &k4),
                ]);
            }
            _ => {}
        }
        let x0 = model.denoise(x, alpha_s, sigma_s);
        match *self {
            Sampler::HeunT
            | Sampler::Rk4T
            | Sampler::EdmEuler
            | Sampler::EdmHeun
            | Sampler::DpmSolver2
            | Sampler::DpmSolver3
            | Sampler::DpmSolverPp2M { .. }
            | Sampler::DpmSolverPp3M { .. }
            | Sampler::DpmSolver2M
            | Sampler::ExpIntegrator { .. }
            | Sampler::Deis { .. } => unreachable!("handled above"),
            Sampler::DdpmBetaDt => {
                let beta = schedule.g2(s) * (s - t);
                let score = score_from_x0(x, &x0, alpha_s, sigma_s);
                let sc = 1.0 / (1.0 - beta).sqrt();
                let z = noise.standard_normal(x);
                S::lin(&[(sc, x), (sc * beta, &score), (beta.sqrt(), &z)])
            }
            Sampler::ExpIntegratorScore { noise_level } => {
                let integral = crate::quadrature::gauss_legendre(
                    &|u| schedule.g2(u) / schedule.alpha(u),
                    t,
                    s,
                    8,
                );
                let score = score_from_x0(x, &x0, alpha_s, sigma_s);
                let mean = S::lin(&[
                    (alpha_t / alpha_s, x),
                    (0.5 * (1.0 + noise_level) * alpha_t * integral, &score),
                ]);
                if noise_level == 0.0 {
                    mean
                } else {
                    let var = noise_level
                        * alpha_t
                        * alpha_t
                        * ((sigma_s / alpha_s).powi(2) - (sigma_t / alpha_t).powi(2));
                    let z = noise.standard_normal(x);
                    S::lin(&[(1.0, &mean), (var.max(0.0).sqrt(), &z)])
                }
            }
            Sampler::Ddpm(variance) => {
                let beta = 1.0 - (alpha_s * alpha_s) / (alpha_t * alpha_t);
                let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
                let mean = S::lin(&[
                    (1.0 / (1.0 - beta).sqrt(), x),
                    (-beta / sigma_s / (1.0 - beta).sqrt(), &eps),
                ]);
                let var = match variance {
                    DdpmVariance::Large => beta,
                    DdpmVariance::Small => beta * sigma_t * sigma_t / (sigma_s * sigma_s),
                };
                let z = noise.standard_normal(x);
                S::lin(&[(1.0, &mean), (var.sqrt(), &z)])
            }
            Sampler::Ddim { eta } => {
                let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
                // e^{−2h} = (α_s σ_t / (α_t σ_s))².
                let r = (alpha_s * sigma_t) / (alpha_t * sigma_s);
                let c1 = eta * sigma_t * (1.0 - r * r).max(0.0).sqrt();
                let c2 = (sigma_t * sigma_t - c1 * c1).max(0.0).sqrt();
                if c1 == 0.0 {
                    S::lin(&[(alpha_t, &x0), (c2, &eps)])
                } else {
                    let z = noise.standard_normal(x);
                    S::lin(&[(alpha_t, &x0), (c2, &eps), (c1, &z)])
                }
            }
            Sampler::EulerMaruyama { noise_level } => {
                let h = s - t;
                let (f, g2) = (schedule.f(s), schedule.g2(s));
                let score = score_from_x0(x, &x0, alpha_s, sigma_s);
                let drift_x = 1.0 - h * f;
                let drift_s = h * 0.5 * (1.0 + noise_level) * g2;
                if noise_level == 0.0 {
                    S::lin(&[(drift_x, x), (drift_s, &score)])
                } else {
                    let z = noise.standard_normal(x);
                    S::lin(&[
                        (drift_x, x),
                        (drift_s, &score),
                        ((noise_level * g2 * h).sqrt(), &z),
                    ])
                }
            }
            Sampler::EulerVe => {
                let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
                let xbar_s = S::lin(&[(1.0 / alpha_s, x)]);
                let xbar_t = S::lin(&[
                    (1.0, &xbar_s),
                    (sigma_t / alpha_t - sigma_s / alpha_s, &eps),
                ]);
                S::lin(&[(alpha_t, &xbar_t)])
            }
            Sampler::DpmSolver1 => {
                let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
                let h = (alpha_t / sigma_t).ln() - (alpha_s / sigma_s).ln();
                S::lin(&[(alpha_t / alpha_s, x), (-sigma_t * h.exp_m1(), &eps)])
            }
            Sampler::DpmSolverPp1 => {
                let h = (alpha_t / sigma_t).ln() - (alpha_s / sigma_s).ln();
                S::lin(&[(sigma_t / sigma_s, x), (-alpha_t * (-h).exp_m1(), &x0)])
            }
        }
    }
}

/// The PF-ODE velocity v(x, t) = f x − ½ g² ∇log p_t (PZ-1), from the denoiser.
pub fn pf_velocity<S, D>(schedule: &dyn Schedule, t: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (alpha, sigma) = (schedule.alpha(t), schedule.sigma(t));
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
