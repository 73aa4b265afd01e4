//! The conventions practitioners actually run: the 1000-step DDPM tables driven the way the `diffusers`
//! schedulers drive them (timestep spacing, `set_alpha_to_one`, where the last step lands, DDPM variance
//! fixed-small/large, the initial noise scale of σ-parameterised samplers), expressed as a grid of
//! (α, σ) nodes and a list of steps between nodes, so that the crate's samplers run them unchanged.
//!
//! Reference: diffusers 0.42 `DDPMScheduler`, `DDIMScheduler`, `EulerDiscreteScheduler`,
//! `EulerAncestralDiscreteScheduler` (`set_timesteps`, `step`, `init_noise_sigma`); the spacings are
//! Table 2 of Lin et al. 2024 ("Common diffusion noise schedules and sample steps are flawed").
//! Cross-checked against the library in float64 by `scripts/diffusers_reference.py`
//! (reference numbers in `tests/data/diffusers/`).

use crate::algebra::{Algebra, Denoiser, Form, FormNoise, Noise};
use crate::sampler::{drive, DdpmVariance, Leg, Sampler};
use crate::schedule::{BetaSchedule, Discrete, Schedule};
use crate::target::Gaussian;
use anyhow::{bail, ensure, Result};

/// How inference timesteps are picked among the training steps (Lin et al. 2024, Table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Spacing {
    /// `arange(0, N) · ⌊T/N⌋` reversed, plus `steps_offset` (never reaches T − 1).
    Leading,
    /// `round(arange(T, 0, −T/N)) − 1` (starts at T − 1).
    Trailing,
    /// `linspace(0, T − 1, N)` reversed (rounded for DDPM/DDIM, fractional for σ-schedulers).
    Linspace,
}

impl Spacing {
    pub fn name(self) -> &'static str {
        match self {
            Spacing::Leading => "leading",
            Spacing::Trailing => "trailing",
            Spacing::Linspace => "linspace",
        }
    }
}

/// numpy's `round` (half to even) — diffusers rounds with numpy.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// Inference timesteps (descending) as the schedulers compute them; `integer` rounds linspace
/// (DDPM/DDIM) or keeps it fractional (Euler-type schedulers).
pub fn timesteps(
    spacing: Spacing,
    num_train: usize,
    steps: usize,
    steps_offset: usize,
    integer: bool,
) -> Result<Vec<f64>> {
    ensure!(
        steps >= 1,
        "the number of inference steps must be at least 1 (got {steps})"
    );
    ensure!(
        steps <= num_train,
        "{steps} inference steps exceed the {num_train} training steps"
    );
    let t = num_train as f64;
    let out: Vec<f64> = match spacing {
        Spacing::Linspace => linspace(0.0, t - 1.0, steps)
            .into_iter()
            .rev()
            .map(|v| if integer { round_half_even(v) } else { v })
            .collect(),
        Spacing::Leading => {
            let ratio = num_train / steps;
            (0..steps)
                .rev()
                .map(|i| (i * ratio + steps_offset) as f64)
                .collect()
        }
        Spacing::Trailing => {
            // numpy: arange(T, 0, −T/N) has ⌈T/(T/N)⌉ entries T − k·(T/N).
            let ratio = t / steps as f64;
            let len = (t / ratio).ceil() as usize;
            (0..len)
                .map(|k| round_half_even(t - k as f64 * ratio) - 1.0)
                .collect()
        }
    };
    // Trailing spacing: numpy's arange(T, 0, −T/N) has N + 1 entries for 61 values of N ≤ 1000 (N = 61, 103,
    // 121, …, 499, …), the last one rounding to 0, so the library's last timestep is −1 (kept: each
    // scheduler reads it as the library does).
    // Leading spacing with steps_offset may pass T − 1: the σ-schedulers interpolate (np.interp clamps),
    // DDPM/DDIM index the table (IndexError).
    ensure!(
        out.iter().all(|v| *v
            >= if spacing == Spacing::Trailing {
                -1.0
            } else {
                0.0
            }
            && (*v <= t - 1.0 || !integer)),
        "timesteps {out:?} fall outside [0, {}]",
        num_train - 1
    );
    Ok(out)
}

/// numpy's `linspace(start, stop, num)`: `arange(num) · step + start` with step = (stop − start)/(num − 1),
/// the last value set to `stop` (so the roundings match numpy's, which the integer timesteps depend on).
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    (0..num)
        .map(|i| {
            if i + 1 == num {
                stop
            } else {
                i as f64 * step + start
            }
        })
        .collect()
}

/// Inference timesteps (descending, integers) of the multistep family (`DPMSolverMultistepScheduler`,
/// `UniPCMultistepScheduler`, `DEISMultistepScheduler`; `DPMSolverSinglestepScheduler` has linspace only):
/// linspace `round(linspace(0, T − 1, N + 1))[::-1][:-1]`; leading `arange(0, N + 1)·⌊T/(N + 1)⌋` reversed
/// without its last entry, plus `steps_offset` (all zero — zero-length steps — once N + 1 > T); trailing
/// `round(arange(T, 0, −T/N)) − 1` (as the single-step schedulers). A timestep past T − 1 (leading with
/// `steps_offset`) is kept: the library's σ̄ lookup (`np.interp`) clamps it to the last one.
pub fn multistep_timesteps(
    spacing: Spacing,
    num_train: usize,
    steps: usize,
    steps_offset: usize,
) -> Result<Vec<f64>> {
    ensure!(
        steps >= 1,
        "the number of inference steps must be at least 1 (got {steps})"
    );
    let out: Vec<f64> = match spacing {
        Spacing::Linspace => linspace(0.0, (num_train - 1) as f64, steps + 1)
            .into_iter()
            .rev()
            .take(steps)
            .map(round_half_even)
            .collect(),
        Spacing::Leading => {
            let ratio = num_train / (steps + 1);
            (1..=steps)
                .rev()
                .map(|i| (i * ratio + steps_offset) as f64)
                .collect()
        }
        Spacing::Trailing => timesteps(Spacing::Trailing, num_train, steps, 0, true)?,
    };
    Ok(out)
}

/// diffusers' `_sigma_to_t`: the (fractional) timestep of σ̄ by linear interpolation of log σ̄ over the table.
fn sigma_to_t(sigma: f64, sigma_bar: &[f64]) -> f64 {
    let ls = sigma.max(1e-10).ln();
    let logs: Vec<f64> = sigma_bar.iter().map(|s| s.ln()).collect();
    let n = logs.len();
    let low = logs
        .iter()
        .filter(|l| ls - **l >= 0.0)
        .count()
        .saturating_sub(1)
        .min(n - 2);
    let (lo, hi) = (logs[low], logs[low + 1]);
    let w = ((lo - ls) / (lo - hi)).clamp(0.0, 1.0);
    (1.0 - w) * low as f64 + w * (low + 1) as f64
}

/// A schedule given by explicit nodes: time k (an integer) has (α_k, σ_k). Only node-based samplers
/// (DDPM, DDIM, Euler in σ̄, DPM-Solver) may run on it: its derivatives are NaN.
#[derive(Clone, Debug)]
pub struct NodeSchedule {
    pub alphas: Vec<f64>,
    pub sigmas: Vec<f64>,
}

impl NodeSchedule {
    fn push_abar(&mut self, abar: f64) -> usize {
        self.alphas.push(abar.sqrt());
        self.sigmas.push((1.0 - abar).max(0.0).sqrt());
        self.alphas.len() - 1
    }
    /// A node at VE-ised noise level σ̄ = σ/α: α = 1/√(1+σ̄²), σ = σ̄ α.
    fn push_sigma_bar(&mut self, sigma_bar: f64) -> usize {
        let a = 1.0 / (1.0 + sigma_bar * sigma_bar).sqrt();
        self.alphas.push(a);
        self.sigmas.push(sigma_bar * a);
        self.alphas.len() - 1
    }
    fn node(&self, t: f64) -> usize {
        let k = t.round();
        assert!(
            k >= 0.0 && (k as usize) < self.alphas.len() && (t - k).abs() < 1e-9,
            "NodeSchedule evaluated off its nodes at t = {t}"
        );
        k as usize
    }
}

impl Schedule for NodeSchedule {
    fn name(&self) -> &'static str {
        "nodes"
    }
    fn alpha(&self, t: f64) -> f64 {
        self.alphas[self.node(t)]
    }
    fn sigma(&self, t: f64) -> f64 {
        self.sigmas[self.node(t)]
    }
    fn dalpha(&self, _t: f64) -> f64 {
        f64::NAN
    }
    fn dsigma(&self, _t: f64) -> f64 {
        f64::NAN
    }
    fn t_range(&self) -> (f64, f64) {
        (0.0, (self.alphas.len() - 1) as f64)
    }
}

/// A `diffusers` scheduler configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scheduler {
    /// `DDPMScheduler` with `variance_type` fixed_small (β̃) or fixed_large (β); previous timestep = the next
    /// grid timestep (−1 after the last), ᾱ = 1 there; no noise is added at t = 0.
    Ddpm { variance: DdpmVariance },
    /// `DDIMScheduler(η)`: previous timestep = t − ⌊T/N⌋ (the library's rule, whatever the spacing; with
    /// `consistent_prev` = true, the correct rule: the next grid timestep); ᾱ_prev = 1 (`set_alpha_to_one`)
    /// or ᾱ_0 when the previous timestep is negative.
    Ddim {
        eta: f64,
        set_alpha_to_one: bool,
        consistent_prev: bool,
    },
    /// `EulerDiscreteScheduler`: Euler in σ̄ = √((1−ᾱ)/ᾱ) at (possibly fractional, linearly interpolated)
    /// timesteps, then σ̄ = 0 (or σ̄_min); initial x̄ ~ N(0, init_noise_sigma²) with init_noise_sigma = σ̄_max
    /// (linspace, trailing) or √(σ̄_max² + 1) (leading).
    Euler { final_sigma_min: bool },
    /// `EulerAncestralDiscreteScheduler` (k-diffusion's ancestral Euler; σ_up, σ_down), same grid conventions.
    EulerAncestral,
    /// `HeunDiscreteScheduler`: EDM Heun in σ̄ on the Euler grid (plain Euler on the step into σ̄ = 0).
    Heun,
    /// `DPMSolverMultistepScheduler` with `algorithm_type` dpmsolver++ (noise_level 0) or sde-dpmsolver++
    /// (noise_level 1), orders 1–3, midpoint solver type; timesteps by [`multistep_timesteps`] (or Karras
    /// et al.'s σ̄ ramp, whatever the spacing), σ̄ at them, then 0 or σ̄_min; order warms up 1, 2, (3);
    /// `lower_order_final`: order 1 on the last step when the final σ̄ is 0 or N < 15, order ≤ 2 on the
    /// second to last when N < 15. The third-order updates are the library's (`corrected` = false; see HO-3
    /// and PR-6 on their order) or the derived ones (`corrected` = true).
    DpmSolverPp {
        order: usize,
        noise_level: f64,
        final_sigma_min: bool,
        karras: bool,
        corrected: bool,
    },
    /// `DPMSolverMultistepScheduler` with `algorithm_type` dpmsolver (noise prediction, orders 1–3; the
    /// library refuses final σ̄ = 0 for it), same grid.
    DpmSolver {
        order: usize,
        final_sigma_min: bool,
        karras: bool,
        corrected: bool,
    },
    /// `DPMSolverSinglestepScheduler` (dpmsolver++, midpoint), same grid: the steps are grouped by the
    /// library's order list ([1, 2, …] or [1, 2, 3, …], lower order at the end, order 1 into σ̄ = 0); a group
    /// of order k restarts from its first node with the model outputs at the k grid nodes it crossed
    /// (DPM-Solver++(2S)/(3S) with intermediate points on the grid).
    DpmSolverSinglestep { order: usize, final_sigma_min: bool },
    /// `UniPCMultistepScheduler` (UniP predictor + UniC corrector, B(h) = e^{−h} − 1 "bh2", data
    /// prediction), same grid; `lower_order_final`.
    UniPc { order: usize, final_sigma_min: bool },
    /// `DEISMultistepScheduler` (log-ρ DEIS, `Sampler::Deis`), same grid, always landing at σ̄_min.
    Deis { order: usize, final_sigma_min: bool },
}

/// A full practitioner configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    pub beta: BetaSchedule,
    pub scheduler: Scheduler,
    pub steps: usize,
    pub spacing: Spacing,
    pub steps_offset: usize,
}

/// What a configuration runs: nodes, the sampler and node pair of every step, the initial law's scale.
pub struct Plan {
    pub nodes: NodeSchedule,
    /// Every step: the sampler, from node, to node, and the highest order it may take (the library's
    /// order schedule).
    pub steps: Vec<Leg>,
    /// x̄_T ~ N(0, init_noise_sigma²) in the scheduler's own variable (DDPM/DDIM: x itself, 1).
    pub init_noise_sigma: f64,
    /// The standard deviation of x_T in DDPM scale: init_noise_sigma (DDPM/DDIM) or α_T·init_noise_sigma
    /// (σ-schedulers, whose variable is x̄ = x/α).
    pub init_std: f64,
    /// The timestep of each step's model call.
    pub model_timesteps: Vec<f64>,
    /// What the library returns is the state times this factor: 1/α at the last node for the Euler-type
    /// schedulers (their sample is x̄ = x/α; 1 when the final σ̄ is 0, √(1 + σ̄_min²) at σ̄_min), 1 otherwise.
    pub output_scale: f64,
}

impl Config {
    /// The steps this configuration runs, as the library runs them.
    pub fn plan(&self) -> Result<Plan> {
        let table = Discrete::new(self.beta);
        let n_train = table.len();
        // torch indexing: timestep −1 (trailing spacing, see [`timesteps`]) reads the last entry, ᾱ_{T−1}.
        let abar = |t: i64| -> f64 { table.alphas_cumprod[t.rem_euclid(n_train as i64) as usize] };
        let mut nodes = NodeSchedule {
            alphas: Vec::new(),
            sigmas: Vec::new(),
        };
        let mut steps = Vec::new();
        match self.scheduler {
            Scheduler::Ddpm { variance } => {
                let ts = timesteps(self.spacing, n_train, self.steps, self.steps_offset, true)?;
                for (i, &t) in ts.iter().enumerate() {
                    let prev = ts.get(i + 1).copied().unwrap_or(-1.0);
                    let s = nodes.push_abar(abar(t as i64));
                    let e = nodes.push_abar(if prev >= 0.0 { abar(prev as i64) } else { 1.0 });
                    // diffusers adds no noise at t ≤ 0: the fixed-small variance is 0 there anyway.
                    let v = if t <= 0.0 {
                        DdpmVariance::Small
                    } else {
                        variance
                    };
                    steps.push(Leg {
                        sampler: Sampler::Ddpm(v),
                        from: s as f64,
                        to: e as f64,
                        max_order: 1,
                    });
                }
                Ok(Plan {
                    nodes,
                    steps,
                    init_noise_sigma: 1.0,
                    init_std: 1.0,
                    model_timesteps: ts,
                    output_scale: 1.0,
                })
            }
            Scheduler::Ddim {
                eta,
                set_alpha_to_one,
                consistent_prev,
            } => {
                ensure!(
                    (0.0..=1.0).contains(&eta),
                    "eta must be in [0, 1] (got {eta})"
                );
                let ts = timesteps(self.spacing, n_train, self.steps, self.steps_offset, true)?;
                let ratio = (n_train / self.steps) as f64;
                let final_abar = if set_alpha_to_one {
                    1.0
                } else {
                    table.alphas_cumprod[0]
                };
                for (i, &t) in ts.iter().enumerate() {
                    let prev = if consistent_prev {
                        ts.get(i + 1).copied().unwrap_or(-1.0)
                    } else {
                        t - ratio
                    };
                    let s = nodes.push_abar(abar(t as i64));
                    let e = nodes.push_abar(if prev >= 0.0 {
                        abar(prev as i64)
                    } else {
                        final_abar
                    });
                    steps.push(Leg {
                        sampler: Sampler::Ddim { eta },
                        from: s as f64,
                        to: e as f64,
                        max_order: 1,
                    });
                }
                Ok(Plan {
                    nodes,
                    steps,
                    init_noise_sigma: 1.0,
                    init_std: 1.0,
                    model_timesteps: ts,
                    output_scale: 1.0,
                })
            }
            Scheduler::DpmSolverPp {
                order,
                final_sigma_min,
                ..
            }
            | Scheduler::DpmSolver {
                order,
                final_sigma_min,
                ..
            }
            | Scheduler::DpmSolverSinglestep {
                order,
                final_sigma_min,
            }
            | Scheduler::Deis {
                order,
                final_sigma_min,
            }
            | Scheduler::UniPc {
                order,
                final_sigma_min,
            } => {
                let karras = match self.scheduler {
                    Scheduler::DpmSolverPp { karras, .. } | Scheduler::DpmSolver { karras, .. } => {
                        karras
                    }
                    _ => false,
                };
                ensure!(
                    (1..=3).contains(&order),
                    "solver_order must be 1, 2 or 3 (got {order})"
                );
                let sampler = match self.scheduler {
                    Scheduler::DpmSolverPp {
                        noise_level,
                        corrected,
                        ..
                    } => {
                        ensure!(
                            noise_level == 0.0 || noise_level == 1.0,
                            "DPMSolverMultistepScheduler runs dpmsolver++ (noise level 0) or sde-dpmsolver++ (1), not noise level {noise_level}"
                        );
                        match (order, noise_level == 0.0) {
                            (3, true) => Sampler::DpmSolverPp3M { corrected },
                            (3, false) => Sampler::SdeDpmSolverPp3M { corrected },
                            _ => Sampler::DpmSolverPp2M { noise_level },
                        }
                    }
                    Scheduler::UniPc { .. } => Sampler::UniPc { order },
                    Scheduler::Deis { .. } => {
                        ensure!(
                            final_sigma_min,
                            "DEISMultistepScheduler has no final_sigmas_type: it always lands at σ̄_min"
                        );
                        Sampler::Deis { order }
                    }
                    Scheduler::DpmSolverSinglestep { .. } => {
                        ensure!(
                            self.spacing == Spacing::Linspace,
                            "DPMSolverSinglestepScheduler has no timestep_spacing option (it always spaces by linspace; from_config drops the key): {} spacing does not exist for it",
                            self.spacing.name()
                        );
                        Sampler::DpmSolverPpSinglestep { order }
                    }
                    Scheduler::DpmSolver { corrected, .. } => {
                        ensure!(
                            final_sigma_min,
                            "DPMSolverMultistepScheduler refuses final_sigmas_type=\"zero\" with algorithm_type=\"dpmsolver\" (use sigma_min)"
                        );
                        if order == 3 {
                            Sampler::DpmSolver3M { corrected }
                        } else {
                            Sampler::DpmSolver2M
                        }
                    }
                    _ => unreachable!(),
                };
                let n = self.steps;
                ensure!(n >= 1, "the number of inference steps must be at least 1");
                let sigma_bar: Vec<f64> = table
                    .alphas_cumprod
                    .iter()
                    .map(|a| ((1.0 - a) / a).sqrt())
                    .collect();
                let (ts, sig): (Vec<f64>, Vec<f64>) = if karras {
                    // Karras et al. ρ = 7 between σ̄_min = σ̄(0) and σ̄_max = σ̄(T−1) (`_convert_to_karras`,
                    // numpy's operations: linspace ramp, `**` as pow); timesteps by log-σ̄ interpolation,
                    // rounded (truncated by the int64 cast on squaredcos_cap_v2). The spacing is ignored (as the library does).
                    let rho = 7.0_f64;
                    let (lo, hi) = (
                        sigma_bar[0].powf(1.0 / rho),
                        sigma_bar[n_train - 1].powf(1.0 / rho),
                    );
                    let sig: Vec<f64> = linspace(0.0, 1.0, n)
                        .iter()
                        .map(|r| (hi + r * (lo - hi)).powf(rho))
                        .collect();
                    let ts = sig
                        .iter()
                        .map(|s| {
                            let t = sigma_to_t(*s, &sigma_bar);
                            if self.beta == BetaSchedule::SquaredCosine {
                                t.trunc() // not rounded, then cast to int64 (truncated)
                            } else {
                                round_half_even(t)
                            }
                        })
                        .collect();
                    (ts, sig)
                } else {
                    let ts = multistep_timesteps(self.spacing, n_train, n, self.steps_offset)?;
                    // np.interp clamps a timestep past the table (leading spacing with steps_offset).
                    let sig = ts
                        .iter()
                        .map(|t| sigma_bar[(*t as usize).min(n_train - 1)])
                        .collect();
                    (ts, sig)
                };
                for sb in &sig {
                    nodes.push_sigma_bar(*sb);
                }
                let last = if final_sigma_min { sigma_bar[0] } else { 0.0 };
                nodes.push_sigma_bar(last);
                // Singlestep and UniPC follow their own order schedule (the sampler's); the multistep
                // DPM-Solver/DEIS the library's warm-up and `lower_order_final` (order 1 on the last step
                // when the final σ̄ is 0 or N < 15, order ≤ 2 on the second to last when N < 15).
                let m = ts.len();
                let times: Vec<f64> = (0..=m).map(|k| k as f64).collect();
                let own = sampler.order_caps(&nodes, &times);
                for (k, &own_k) in own.iter().enumerate() {
                    let max_order = match self.scheduler {
                        // The library's `lower_order_final` defaults to False for singlestep and is
                        // switched on only when the final σ̄ is 0 or N is not a multiple of the order:
                        // otherwise the plain list [1, 2, (3)] repeated, no lowering at the end.
                        Scheduler::DpmSolverSinglestep { .. }
                            if final_sigma_min && m.is_multiple_of(order) =>
                        {
                            k % order + 1
                        }
                        Scheduler::DpmSolverSinglestep { .. } | Scheduler::UniPc { .. } => own_k,
                        _ => {
                            let mut o = order.min(k + 1);
                            if k == m - 1 && (!final_sigma_min || m < 15) {
                                o = 1;
                            }
                            if k + 2 == m && m < 15 {
                                o = o.min(2);
                            }
                            o
                        }
                    };
                    steps.push(Leg {
                        sampler,
                        from: k as f64,
                        to: (k + 1) as f64,
                        max_order,
                    });
                }
                Ok(Plan {
                    nodes,
                    steps,
                    init_noise_sigma: 1.0,
                    init_std: 1.0,
                    model_timesteps: ts,
                    output_scale: 1.0,
                })
            }
            Scheduler::Euler { .. } | Scheduler::EulerAncestral | Scheduler::Heun => {
                let ts = timesteps(self.spacing, n_train, self.steps, self.steps_offset, false)?;
                let sigma_bar: Vec<f64> = table
                    .alphas_cumprod
                    .iter()
                    .map(|a| ((1.0 - a) / a).sqrt())
                    .collect();
                // np.interp(timesteps, arange(T), sigmas): linear interpolation in σ̄.
                let interp = |t: f64| {
                    // np.interp clamps outside the table (timestep −1 of trailing spacing reads σ̄_0).
                    let t = t.clamp(0.0, (n_train - 1) as f64);
                    let i = (t.floor() as usize).min(n_train - 1);
                    if i + 1 >= n_train {
                        sigma_bar[n_train - 1]
                    } else {
                        let u = t - i as f64;
                        sigma_bar[i] + u * (sigma_bar[i + 1] - sigma_bar[i])
                    }
                };
                let mut sig: Vec<f64> = ts.iter().map(|t| interp(*t)).collect();
                let last = match self.scheduler {
                    Scheduler::Euler {
                        final_sigma_min: true,
                    } => sigma_bar[0],
                    _ => 0.0,
                };
                sig.push(last);
                for s in &sig {
                    nodes.push_sigma_bar(*s);
                }
                let sampler = match self.scheduler {
                    Scheduler::EulerAncestral => Sampler::Ddim { eta: 1.0 },
                    Scheduler::Heun => Sampler::EdmHeun,
                    _ => Sampler::EulerVe,
                };
                for k in 0..ts.len() {
                    steps.push(Leg {
                        sampler,
                        from: k as f64,
                        to: (k + 1) as f64,
                        max_order: 1,
                    });
                }
                let max = sig.iter().cloned().fold(0.0, f64::max);
                let init = match self.spacing {
                    Spacing::Linspace | Spacing::Trailing => max,
                    Spacing::Leading => (max * max + 1.0).sqrt(),
                };
                let init_std = nodes.alphas[0] * init;
                let output_scale = 1.0 / nodes.alphas[nodes.alphas.len() - 1];
                Ok(Plan {
                    nodes,
                    steps,
                    init_noise_sigma: init,
                    init_std,
                    model_timesteps: ts,
                    output_scale,
                })
            }
        }
    }
}

impl Config {
    /// The exact output law (per eigen-coordinate mean and variance) on a Gaussian target, or an error where
    /// the library itself produces no number: a zero-length step (two equal consecutive σ̄ of the library's
    /// own grid) that a later update divides by (h = 0 in r = h_prev/h), giving NaN.
    pub fn exact_law(&self, target: &Gaussian) -> Result<(Vec<f64>, Vec<f64>)> {
        let plan = self.plan()?;
        // UniPC's coefficient system is singular on a zero-length step (diffusers: NaN or an error).
        if matches!(self.scheduler, Scheduler::UniPc { .. }) {
            let zero = plan.zero_length_steps();
            ensure!(
                zero.is_empty(),
                "{self:?}: the library's own grid has zero-length steps (steps {zero:?}); UniPC's coefficient system is then singular (diffusers returns NaN or fails) — use fewer steps or another timestep_spacing"
            );
        }
        let (mean, var) = plan.exact_law(target);
        if mean.iter().chain(&var).all(|v| v.is_finite()) {
            return Ok((mean, var));
        }
        let zero: Vec<String> = plan
            .zero_length_steps()
            .iter()
            .map(|&k| {
                format!(
                    "step {k} (timestep {} → σ̄ {:e} again)",
                    plan.model_timesteps.get(k).copied().unwrap_or(f64::NAN),
                    plan.nodes.sigmas[k] / plan.nodes.alphas[k]
                )
            })
            .collect();
        if zero.is_empty() {
            bail!("{self:?}: the output law is not finite (the library's update overflows)")
        }
        bail!(
            "{self:?}: the library's own grid has zero-length (or backward) steps ({}); its update then divides by h = 0 (or takes √(1 − e^{{−2h}}) of h < 0) and diffusers returns NaN — use fewer steps, another timestep_spacing, or final σ̄ zero with Karras σ̄",
            zero.join(", ")
        )
    }
}

impl Plan {
    /// Steps whose far end is not less noisy than the near one: zero-length (the library's grid repeats a
    /// timestep) or backward (Karras' last σ̄ rounds below σ̄_min, then the final σ̄_min is a step up).
    pub fn zero_length_steps(&self) -> Vec<usize> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                let (a, b) = (l.from as usize, l.to as usize);
                self.nodes.sigmas[a] * self.nodes.alphas[b]
                    <= self.nodes.sigmas[b] * self.nodes.alphas[a]
            })
            .map(|(k, _)| k)
            .collect()
    }

    /// Run the plan from `x` (at the first node, in DDPM scale) through every step, in the samplers' one
    /// run loop ([`drive`]), and return what the library returns (times [`Plan::output_scale`]). Multistep samplers keep at least their two newest outputs between steps (as
    /// the library's buffer; the step itself uses no more than its order allows); every live value is
    /// rebased.
    pub fn run<S, D, N>(&self, x: S, model: &D, noise: &mut N) -> S
    where
        S: Algebra,
        D: Denoiser<S> + ?Sized,
        N: Noise<S> + ?Sized,
    {
        let keep = |s: Sampler| match s.history_len() {
            0 => 0,
            k => k.max(2),
        };
        let out = drive(
            &self.nodes,
            &self.steps,
            x,
            model,
            noise,
            &keep,
            &mut |_, _| {},
        );
        if self.output_scale == 1.0 {
            out
        } else {
            S::lin(&[(self.output_scale, &out)])
        }
    }

    /// The exact output law on a Gaussian target, per eigen-coordinate: (mean, variance), from
    /// x_T ~ N(0, init_std² I) as the library starts.
    pub fn exact_law(&self, target: &Gaussian) -> (Vec<f64>, Vec<f64>) {
        let x = Form::gaussian(vec![0.0; target.dim()], vec![self.init_std; target.dim()]);
        let out = self.run(x, target, &mut FormNoise::after(1));
        (out.c.clone(), out.variance())
    }
}

/// Parse a `diffusers`-style beta schedule name.
pub fn beta_by_name(name: &str) -> Result<BetaSchedule> {
    match name {
        "linear" | "ddpm-linear" => Ok(BetaSchedule::Linear),
        "scaled_linear" | "scaled-linear" | "ddpm-scaled-linear" => Ok(BetaSchedule::ScaledLinear),
        "squaredcos_cap_v2" | "cosine" | "ddpm-cosine" => Ok(BetaSchedule::SquaredCosine),
        other => {
            bail!("unknown beta schedule {other:?} (linear, scaled_linear, squaredcos_cap_v2)")
        }
    }
}

/// One configuration of the whole matrix (issue 13), without its step count: a stable label, the scheduler,
/// the spacing and steps_offset, the beta schedule.
#[derive(Clone, Debug)]
pub struct MatrixEntry {
    pub label: String,
    pub scheduler_label: String,
    pub spacing_label: String,
    pub config: Config,
}

impl MatrixEntry {
    /// The configuration at `steps` inference steps.
    pub fn at(&self, steps: usize) -> Config {
        Config {
            steps,
            ..self.config
        }
    }
}

/// The schedulers of the matrix (as scripts/diffusers_reference.py's `matrix_schedulers`): label and
/// scheduler; the Karras variants separately ([`karras_schedulers`]).
pub fn matrix_schedulers() -> Vec<(String, Scheduler)> {
    let mut out = Vec::new();
    for (v, name) in [
        (DdpmVariance::Small, "small"),
        (DdpmVariance::Large, "large"),
    ] {
        out.push((format!("ddpm-{name}"), Scheduler::Ddpm { variance: v }));
    }
    for eta in [0.0, 1.0] {
        for a1 in [true, false] {
            out.push((
                format!("ddim-eta{eta}-a1{a1}"),
                Scheduler::Ddim {
                    eta,
                    set_alpha_to_one: a1,
                    consistent_prev: false,
                },
            ));
        }
    }
    for (fin, name) in [(false, "zero"), (true, "sigmamin")] {
        out.push((
            format!("euler-{name}"),
            Scheduler::Euler {
                final_sigma_min: fin,
            },
        ));
    }
    out.push(("eulera".into(), Scheduler::EulerAncestral));
    out.push(("heun".into(), Scheduler::Heun));
    let fins = [(false, "zero"), (true, "sigmamin")];
    for (noise_level, name) in [(0.0, "dpmpp"), (1.0, "sdedpmpp")] {
        for (fin, fname) in fins {
            for order in 1..=3 {
                out.push((
                    format!("{name}-o{order}-{fname}"),
                    Scheduler::DpmSolverPp {
                        order,
                        noise_level,
                        final_sigma_min: fin,
                        karras: false,
                        corrected: false,
                    },
                ));
            }
        }
    }
    for order in 1..=3 {
        out.push((
            format!("dpm-o{order}-sigmamin"),
            Scheduler::DpmSolver {
                order,
                final_sigma_min: true,
                karras: false,
                corrected: false,
            },
        ));
    }
    for (fin, fname) in fins {
        for order in 1..=3 {
            out.push((
                format!("dpmss-o{order}-{fname}"),
                Scheduler::DpmSolverSinglestep {
                    order,
                    final_sigma_min: fin,
                },
            ));
            out.push((
                format!("unipc-o{order}-{fname}"),
                Scheduler::UniPc {
                    order,
                    final_sigma_min: fin,
                },
            ));
        }
    }
    for order in 1..=3 {
        out.push((
            format!("deis-o{order}"),
            Scheduler::Deis {
                order,
                final_sigma_min: true,
            },
        ));
    }
    out
}

/// The Karras-σ̄ variants of `DPMSolverMultistepScheduler` (spacing-independent).
pub fn karras_schedulers() -> Vec<(String, Scheduler)> {
    matrix_schedulers()
        .into_iter()
        .filter_map(|(name, s)| match s {
            Scheduler::DpmSolverPp {
                order,
                noise_level,
                final_sigma_min,
                ..
            } => Some((
                format!("{name}-karras"),
                Scheduler::DpmSolverPp {
                    order,
                    noise_level,
                    final_sigma_min,
                    karras: true,
                    corrected: false,
                },
            )),
            Scheduler::DpmSolver {
                order,
                final_sigma_min,
                ..
            } => Some((
                format!("{name}-karras"),
                Scheduler::DpmSolver {
                    order,
                    final_sigma_min,
                    karras: true,
                    corrected: false,
                },
            )),
            _ => None,
        })
        .collect()
}

/// The whole matrix on one beta schedule: every scheduler under leading (steps_offset 0 and 1), trailing
/// and linspace spacing (DPMSolverSinglestep under linspace only: it has no other), then the Karras
/// variants once.
pub fn matrix(beta: BetaSchedule) -> Vec<MatrixEntry> {
    let spacings = [
        (Spacing::Leading, 0, "leading0"),
        (Spacing::Leading, 1, "leading1"),
        (Spacing::Trailing, 0, "trailing"),
        (Spacing::Linspace, 0, "linspace"),
    ];
    let mut out = Vec::new();
    let entry = |name: &str, s: Scheduler, sp: Spacing, off: usize, sp_label: &str| MatrixEntry {
        label: format!("{}-{sp_label}-{name}", beta.name()),
        scheduler_label: name.to_string(),
        spacing_label: sp_label.to_string(),
        config: Config {
            beta,
            scheduler: s,
            steps: 1,
            spacing: sp,
            steps_offset: off,
        },
    };
    for (sp, off, sp_label) in spacings {
        for (name, s) in matrix_schedulers() {
            if matches!(s, Scheduler::DpmSolverSinglestep { .. }) && sp != Spacing::Linspace {
                continue;
            }
            out.push(entry(&name, s, sp, off, sp_label));
        }
    }
    for (name, s) in karras_schedulers() {
        out.push(entry(&name, s, Spacing::Linspace, 0, "karras"));
    }
    out
}
