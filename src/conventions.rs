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
        Spacing::Linspace => (0..steps)
            .rev()
            .map(|i| {
                let v = if steps == 1 {
                    0.0
                } else {
                    (t - 1.0) * i as f64 / (steps - 1) as f64
                };
                if integer {
                    round_half_even(v)
                } else {
                    v
                }
            })
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
    ensure!(
        out.iter().all(|v| *v >= 0.0 && *v <= t - 1.0),
        "timesteps {out:?} fall outside [0, {}]",
        num_train - 1
    );
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
    /// (noise_level 1, order ≤ 2), midpoint solver type, linspace spacing: timesteps
    /// `round(linspace(0, T−1, N+1))[::-1][:-1]`, σ̄ at them, then 0 or σ̄_min; order warms up 1, 2, (3);
    /// `lower_order_final`: order 1 on the last step when the final σ̄ is 0 or N < 15, order ≤ 2 on the
    /// second to last when N < 15. The 3M update is the library's (see HO-3 on its order).
    DpmSolverPp {
        order: usize,
        noise_level: f64,
        final_sigma_min: bool,
        karras: bool,
    },
    /// `DPMSolverMultistepScheduler` with `algorithm_type` dpmsolver (noise prediction, order ≤ 2), same grid.
    DpmSolver { order: usize, final_sigma_min: bool },
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
}

impl Config {
    /// The steps this configuration runs, as the library runs them.
    pub fn plan(&self) -> Result<Plan> {
        let table = Discrete::new(self.beta);
        let n_train = table.len();
        let abar = |t: i64| -> f64 { table.alphas_cumprod[t as usize] };
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
                    // diffusers adds no noise at t = 0: the fixed-small variance is 0 there anyway.
                    let v = if t == 0.0 {
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
                ensure!(
                    self.spacing == Spacing::Linspace,
                    "DPM-Solver conventions are implemented for linspace spacing only"
                );
                let (sampler, karras) = match self.scheduler {
                    Scheduler::DpmSolverPp {
                        noise_level,
                        karras,
                        ..
                    } => {
                        ensure!(
                            (1..=3).contains(&order) && (noise_level == 0.0 || order <= 2),
                            "dpm-solver++ orders 1–3, sde-dpm-solver++ orders 1–2"
                        );
                        (
                            if order == 3 {
                                Sampler::DpmSolverPp3M { corrected: false }
                            } else {
                                Sampler::DpmSolverPp2M { noise_level }
                            },
                            karras,
                        )
                    }
                    Scheduler::UniPc { .. } => {
                        ensure!((1..=3).contains(&order), "UniPC orders 1–3");
                        (Sampler::UniPc { order }, false)
                    }
                    Scheduler::Deis { .. } => {
                        ensure!((1..=3).contains(&order), "DEIS orders 1–3");
                        (Sampler::Deis { order }, false)
                    }
                    Scheduler::DpmSolverSinglestep { .. } => {
                        ensure!(
                            (1..=3).contains(&order),
                            "dpm-solver++ singlestep orders 1–3"
                        );
                        (Sampler::DpmSolverPpSinglestep { order }, false)
                    }
                    _ => {
                        ensure!(
                            (1..=2).contains(&order),
                            "dpm-solver (noise prediction) multistep orders 1–2"
                        );
                        (Sampler::DpmSolver2M, false)
                    }
                };
                let n = self.steps;
                let sigma_bar: Vec<f64> = table
                    .alphas_cumprod
                    .iter()
                    .map(|a| ((1.0 - a) / a).sqrt())
                    .collect();
                let (ts, sig): (Vec<f64>, Vec<f64>) = if karras {
                    // Karras et al. ρ = 7 between σ̄_min = σ̄(0) and σ̄_max = σ̄(T−1); timesteps by log-σ̄ interpolation.
                    let (lo, hi) = (
                        sigma_bar[0].powf(1.0 / 7.0),
                        sigma_bar[n_train - 1].powf(1.0 / 7.0),
                    );
                    let ramp = |i: usize| {
                        if n == 1 {
                            0.0
                        } else {
                            i as f64 / (n - 1) as f64
                        }
                    };
                    let sig: Vec<f64> =
                        (0..n).map(|i| (hi + ramp(i) * (lo - hi)).powi(7)).collect();
                    let ts = sig
                        .iter()
                        .map(|s| round_half_even(sigma_to_t(*s, &sigma_bar)))
                        .collect();
                    (ts, sig)
                } else {
                    let ts: Vec<f64> = (0..=n)
                        .rev()
                        .map(|i| round_half_even((n_train - 1) as f64 * i as f64 / n as f64))
                        .take(n)
                        .collect();
                    let sig = ts.iter().map(|t| sigma_bar[*t as usize]).collect();
                    (ts, sig)
                };
                for sb in &sig {
                    nodes.push_sigma_bar(*sb);
                }
                let last = match (final_sigma_min, karras) {
                    (false, _) => 0.0,
                    (true, true) => sig[n - 1],
                    (true, false) => sigma_bar[0],
                };
                nodes.push_sigma_bar(last);
                // Singlestep and UniPC follow their own order schedule (the sampler's); the multistep
                // DPM-Solver/DEIS the library's warm-up and `lower_order_final` (order 1 on the last step
                // when the final σ̄ is 0 or N < 15, order ≤ 2 on the second to last when N < 15).
                let times: Vec<f64> = (0..=n).map(|k| k as f64).collect();
                let own = sampler.order_caps(&nodes, &times);
                for (k, &own_k) in own.iter().enumerate() {
                    let max_order = match self.scheduler {
                        Scheduler::DpmSolverSinglestep { .. } | Scheduler::UniPc { .. } => own_k,
                        _ => {
                            let mut o = order.min(k + 1);
                            if k == n - 1 && (!final_sigma_min || n < 15) {
                                o = 1;
                            }
                            if k + 2 == n && n < 15 {
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
                Ok(Plan {
                    nodes,
                    steps,
                    init_noise_sigma: init,
                    init_std,
                    model_timesteps: ts,
                })
            }
        }
    }
}

impl Plan {
    /// Run the plan from `x` (at the first node, in DDPM scale) through every step, in the samplers' one
    /// run loop ([`drive`]). Multistep samplers keep at least their two newest outputs between steps (as
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
        drive(
            &self.nodes,
            &self.steps,
            x,
            model,
            noise,
            &keep,
            &mut |_, _| {},
        )
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
