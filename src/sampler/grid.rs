//! Time grids (CLAIMS §8, HO-4): every grid runs from the noisiest time `times[0]` down to the cleanest.

use crate::schedule::Schedule;
use anyhow::{ensure, Result};

/// The grid a sampler is conventionally run on ([`super::Sampler::conventional_grid`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grid {
    /// Uniform in t ([`uniform_t`]): the t-samplers (Euler–Maruyama, Heun/RK4 in t, DDPM).
    UniformT,
    /// Uniform in λ ([`uniform_logsnr`]): DPM-Solver's grid, for the exponential integrators.
    UniformLogsnr,
    /// EDM's ρ = 7 in σ̄ ([`edm_rho`], ending at t_min): EDM Euler/Heun.
    EdmRho7,
}

impl Grid {
    /// `steps + 1` times from `t_max` down to `t_min`.
    pub fn times(
        self,
        schedule: &dyn Schedule,
        t_max: f64,
        t_min: f64,
        steps: usize,
    ) -> Result<Vec<f64>> {
        match self {
            Grid::UniformT => uniform_t(t_max, t_min, steps),
            Grid::UniformLogsnr => uniform_logsnr(schedule, t_max, t_min, steps),
            Grid::EdmRho7 => edm_rho(schedule, t_max, t_min, steps, 7.0, false),
        }
    }
}

/// `steps + 1` times uniform in t, from `t_max` down to `t_min`.
pub fn uniform_t(t_max: f64, t_min: f64, steps: usize) -> Result<Vec<f64>> {
    ensure!(
        steps >= 1,
        "the number of steps must be at least 1 (got {steps})"
    );
    ensure!(
        t_max > t_min,
        "the grid must run from a later to an earlier time (t_max {t_max} ≤ t_min {t_min})"
    );
    Ok((0..=steps)
        .map(|k| t_max + (t_min - t_max) * k as f64 / steps as f64)
        .collect())
}

/// `steps + 1` times uniform in λ = log(α/σ), from `t_max` down to `t_min` (DPM-Solver's grid).
pub fn uniform_logsnr(
    schedule: &dyn Schedule,
    t_max: f64,
    t_min: f64,
    steps: usize,
) -> Result<Vec<f64>> {
    ensure!(
        steps >= 1,
        "the number of steps must be at least 1 (got {steps})"
    );
    ensure!(
        t_max > t_min,
        "the grid must run from a later to an earlier time"
    );
    let (l0, l1) = (schedule.logsnr(t_max), schedule.logsnr(t_min));
    let mut times: Vec<f64> = (0..=steps)
        .map(|k| schedule.t_of_logsnr(l0 + (l1 - l0) * k as f64 / steps as f64))
        .collect();
    times[0] = t_max;
    times[steps] = t_min;
    Ok(times)
}

/// `steps + 1` times quadratic in t (DDIM's "quadratic" skip): t_k = t_min + (t_max − t_min)(1 − k/N)²,
/// dense near the data end.
pub fn quadratic_t(t_max: f64, t_min: f64, steps: usize) -> Result<Vec<f64>> {
    ensure!(steps >= 1, "the number of steps must be at least 1");
    ensure!(
        t_max > t_min,
        "the grid must run from a later to an earlier time"
    );
    Ok((0..=steps)
        .map(|k| {
            let u = 1.0 - k as f64 / steps as f64;
            t_min + (t_max - t_min) * u * u
        })
        .collect())
}

/// The EDM ρ-grid (Karras et al. 2022, eq. 5; HO-4) in σ̄ = σ/α from σ̄(t_max) down to σ̄(t_min):
/// σ̄_i = (σ̄_max^{1/ρ} + i/(M−1)(σ̄_min^{1/ρ} − σ̄_max^{1/ρ}))^ρ, mapped to times through t(λ = −ln σ̄).
/// With `to_zero`, M = `steps` points and a last step to σ = 0 (t = 0; EDM's σ_N = 0); otherwise
/// M = `steps + 1` points ending at t_min.
///
/// # Errors
/// Fewer than 1 step (2 with `to_zero`), t_max ≤ t_min, or `to_zero` on a schedule with σ(0) ≠ 0.
pub fn edm_rho(
    schedule: &dyn Schedule,
    t_max: f64,
    t_min: f64,
    steps: usize,
    rho: f64,
    to_zero: bool,
) -> Result<Vec<f64>> {
    ensure!(
        steps > usize::from(to_zero),
        "too few steps for the EDM grid ({steps})"
    );
    ensure!(
        t_max > t_min,
        "the grid must run from a later to an earlier time"
    );
    ensure!(rho > 0.0, "ρ must be positive");
    ensure!(
        !to_zero || schedule.sigma(0.0) == 0.0,
        "σ(0) ≠ 0 for {}: the grid cannot end at σ = 0",
        schedule.name()
    );
    let sbar = |t: f64| schedule.sigma(t) / schedule.alpha(t);
    let (hi, lo) = (sbar(t_max).powf(1.0 / rho), sbar(t_min).powf(1.0 / rho));
    let m = if to_zero { steps } else { steps + 1 };
    let mut times: Vec<f64> = (0..m)
        .map(|i| {
            let sb = (hi + i as f64 / (m - 1) as f64 * (lo - hi)).powf(rho);
            schedule.t_of_logsnr(-sb.ln())
        })
        .collect();
    times[0] = t_max;
    times[m - 1] = t_min;
    if to_zero {
        times.push(0.0);
    }
    Ok(times)
}
