//! The grid route for one-step stochastic samplers (issue 9, ENGINE-2): the density is carried on nodes
//! x_i with quadrature weights w_i and values p_i; a step x ↦ m(x) + c(x) z maps it to
//! p′(y) = Σ_i w_i p_i N(y; m_i, c_i²) on a fresh uniform grid covering the mass (trimmed at
//! [`GRID_TAIL`], widened by [`WINDOW`] kernel widths), spaced min(c, c_next/m′)/κ so both this kernel and
//! the next one span κ points. The sum is the trapezoid rule in x of an analytic integrand, so its error
//! is ~e^{−2π²r²} with r the kernel width in source spacings (reported as `resolution`). A step with
//! c ≡ 0 moves the nodes (x ← m, w ← w m′, p ← p/m′). The final CDF is the same sum with Φ in place of N.

use super::{Distances, Duals, Problem, Pushed, TangentNoise};
use crate::law1d::density::normal_cdf;
use anyhow::{ensure, Result};
use std::f64::consts::PI;

/// Mass trimmed off each side when refitting the grid range.
pub const GRID_TAIL: f64 = 1e-16;
/// Kernel half-width in standard deviations: e^{−9²/2} ≈ 2.6e-18 of a node's mass falls outside.
pub const WINDOW: f64 = 9.0;
/// Fewest grid points (resolves the density when the kernel is wide).
const MIN_POINTS: f64 = 256.0;
/// Most grid points; beyond, the kernel is too narrow for this route.
const MAX_POINTS: f64 = 4.0e6;
/// Probe points for the next step's kernel width.
const PROBE: usize = 33;

/// A propagated law: final nodes, weights, density and CDF pair, normalised.
pub(super) struct Final {
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub p: Vec<f64>,
    pub f: Vec<f64>,
    pub s: Vec<f64>,
    pub monotone: bool,
    pub resolution: f64,
}

impl Final {
    pub fn distances(&self, data: &super::Density1d) -> Distances {
        let ones = vec![1.0; self.y.len()];
        super::distances(
            data,
            &Pushed {
                w: &self.w,
                p: &self.p,
                f: &self.f,
                s: &self.s,
                phi: &self.y,
                dphi: &ones,
            },
        )
    }
}

/// One step's kernel at `x`: (m, c, m′), from two runs of the sampler's `step` on duals.
fn kernel(problem: &Problem, s: f64, t: f64, x: &[f64]) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let step = |tangent_x: f64, tangent_z: f64| -> Result<Duals> {
        let mut noise = TangentNoise::new(tangent_z * problem.noise_scale);
        let out = problem.sampler.step(
            problem.schedule,
            s,
            t,
            &Duals::seeded(x.to_vec(), tangent_x),
            problem.model,
            &mut noise,
        );
        ensure!(
            noise.draws <= 1,
            "{} drew noise {} times in one step: not a one-step Gaussian kernel",
            problem.sampler.label(),
            noise.draws
        );
        Ok(out)
    };
    let with_noise = step(0.0, 1.0)?;
    let slope = step(1.0, 0.0)?;
    Ok((
        with_noise.v,
        with_noise.d.iter().map(|c| c.abs()).collect(),
        slope.d,
    ))
}

/// (min c, max m′) of step k over `PROBE` points of [lo, hi]; None if k is past the end.
fn probe(problem: &Problem, k: usize, lo: f64, hi: f64) -> Result<Option<(f64, f64)>> {
    if k >= problem.times.len() {
        return Ok(None);
    }
    let xs: Vec<f64> = (0..PROBE)
        .map(|i| lo + (hi - lo) * i as f64 / (PROBE - 1) as f64)
        .collect();
    let (_, c, dm) = kernel(problem, problem.times[k - 1], problem.times[k], &xs)?;
    let cmin = c.iter().cloned().fold(f64::INFINITY, f64::min);
    let mp = dm.iter().map(|d| d.abs()).fold(0.0, f64::max).max(1e-300);
    Ok(Some((cmin, mp)))
}

/// Grid spacing for a range: both the kernel just applied (c_now) and the next (c/m′) span κ points.
fn spacing(range: f64, c_now: f64, next: Option<(f64, f64)>, kappa: f64) -> Result<f64> {
    let mut width = if c_now > 0.0 { c_now } else { f64::INFINITY };
    if let Some((c, mp)) = next {
        if c > 0.0 {
            width = width.min(c / mp);
        }
    }
    let h = (width / kappa).min(range / MIN_POINTS);
    ensure!(
        range / h <= MAX_POINTS,
        "the kernel width {width:e} needs more than {MAX_POINTS:e} grid points on a range of {range}: \
         too narrow for the grid route"
    );
    Ok(h)
}

/// Index range [i, j] of the nodes holding all but `GRID_TAIL` of the mass on each side.
fn trimmed(wp: &[f64]) -> (usize, usize) {
    let total: f64 = wp.iter().sum();
    let (mut acc, mut i) = (0.0, 0);
    while i + 1 < wp.len() && acc + wp[i] < GRID_TAIL * total {
        acc += wp[i];
        i += 1;
    }
    let (mut acc, mut j) = (0.0, wp.len() - 1);
    while j > i && acc + wp[j] < GRID_TAIL * total {
        acc += wp[j];
        j -= 1;
    }
    (i, j)
}

/// Σ_i wp_i N(y_j; m_i, c_i²) on y_j = y0 + j h, j < n; per source the Gaussian is walked by the
/// recurrence g_{j+1} = g_j r_j, r_{j+1} = r_j e^{−δ²} (δ = h/c): three exponentials per source.
fn gaussian_sum(wp: &[f64], m: &[f64], c: &[f64], y0: f64, h: f64, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for i in 0..wp.len() {
        if wp[i] == 0.0 {
            continue;
        }
        let ci = c[i];
        let lo = ((m[i] - WINDOW * ci - y0) / h).ceil().max(0.0) as usize;
        let hi = ((m[i] + WINDOW * ci - y0) / h).floor();
        if hi < 0.0 || lo >= n {
            continue;
        }
        let hi = (hi as usize).min(n - 1);
        let delta = h / ci;
        let u = (y0 + lo as f64 * h - m[i]) / ci;
        let mut g = (-0.5 * u * u).exp();
        let mut r = (-u * delta - 0.5 * delta * delta).exp();
        let q = (-delta * delta).exp();
        let norm = wp[i] / (ci * (2.0 * PI).sqrt());
        for o in &mut out[lo..=hi] {
            *o += norm * g;
            g *= r;
            r *= q;
        }
    }
    out
}

/// (F, S) at the points `ys` of Σ_i wp_i N(m_i, c_i²): sources beyond the window count whole.
fn cdf_sum(wp: &[f64], m: &[f64], c: &[f64], ys: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..wp.len()).collect();
    order.sort_by(|&a, &b| m[a].total_cmp(&m[b]));
    let ms: Vec<f64> = order.iter().map(|&i| m[i]).collect();
    let mut prefix = vec![0.0; order.len() + 1];
    for (k, &i) in order.iter().enumerate() {
        prefix[k + 1] = prefix[k] + wp[i];
    }
    let total = prefix[order.len()];
    let cmax = c.iter().cloned().fold(0.0, f64::max);
    let (mut f, mut s) = (Vec::with_capacity(ys.len()), Vec::with_capacity(ys.len()));
    for &y in ys {
        let a = ms.partition_point(|&v| v < y - WINDOW * cmax);
        let b = ms.partition_point(|&v| v <= y + WINDOW * cmax);
        let (mut fy, mut sy) = (prefix[a], total - prefix[b]);
        for &i in &order[a..b] {
            let z = (y - m[i]) / c[i];
            fy += wp[i] * normal_cdf(z);
            sy += wp[i] * normal_cdf(-z);
        }
        f.push(fy);
        s.push(sy);
    }
    (f, s)
}

/// Carry the start law through every step of a one-step stochastic sampler at grid factor `kappa`.
pub(super) fn propagate(problem: &Problem, kappa: f64) -> Result<Final> {
    let times = problem.times;
    let (lo, hi) = problem.start_domain(GRID_TAIL);
    let h0 = spacing(hi - lo, 0.0, probe(problem, 1, lo, hi)?, kappa)?;
    let n0 = ((hi - lo) / h0).ceil() as usize + 1;
    let mut x: Vec<f64> = (0..n0).map(|j| lo + j as f64 * h0).collect();
    let mut w = vec![h0; n0];
    let mut p: Vec<f64> = x.iter().map(|&v| problem.start_log_pdf(v).exp()).collect();
    // The CDF pair at the nodes, once known (after a pushforward that follows a kernel step).
    let mut cdf: Option<(Vec<f64>, Vec<f64>)> = None;
    // The last kernel step: (source masses, m, c) to evaluate the CDF from.
    let mut last: Option<(Vec<f64>, Vec<f64>, Vec<f64>)> = None;
    let (mut monotone, mut resolution) = (true, f64::INFINITY);
    for k in 1..times.len() {
        let (m, c, dm) = kernel(problem, times[k - 1], times[k], &x)?;
        let wp: Vec<f64> = w.iter().zip(&p).map(|(a, b)| a * b).collect();
        if c.iter().all(|&v| v == 0.0) {
            // Deterministic step: move the nodes; the CDF pair moves with them.
            if cdf.is_none() {
                cdf = Some(match &last {
                    Some((lwp, lm, lc)) => cdf_sum(lwp, lm, lc, &x),
                    None => x.iter().map(|&v| problem.start_cdf_sf(v)).unzip(),
                });
            }
            monotone &= dm.iter().all(|&d| d > 0.0);
            for i in 0..x.len() {
                w[i] *= dm[i];
                p[i] /= dm[i];
            }
            x = m;
            continue;
        }
        let (i, j) = trimmed(&wp);
        let peak = wp.iter().cloned().fold(0.0, f64::max);
        for q in i..=j {
            if wp[q] > 1e-14 * peak && c[q] > 0.0 {
                resolution = resolution.min(c[q] / (w[q] * dm[q].abs()));
            }
        }
        let cmax = c[i..=j].iter().cloned().fold(0.0, f64::max);
        let cmin = c[i..=j].iter().cloned().fold(f64::INFINITY, f64::min);
        let mlo = m[i..=j].iter().cloned().fold(f64::INFINITY, f64::min);
        let mhi = m[i..=j].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let (ylo, yhi) = (mlo - WINDOW * cmax, mhi + WINDOW * cmax);
        let h = spacing(yhi - ylo, cmin, probe(problem, k + 1, ylo, yhi)?, kappa)?;
        let n = ((yhi - ylo) / h).ceil() as usize + 1;
        p = gaussian_sum(&wp, &m, &c, ylo, h, n);
        x = (0..n).map(|q| ylo + q as f64 * h).collect();
        w = vec![h; n];
        cdf = None;
        last = Some((wp, m, c));
    }
    let (f, s) = match cdf {
        Some(pair) => pair,
        None => match &last {
            Some((lwp, lm, lc)) => cdf_sum(lwp, lm, lc, &x),
            None => unreachable!("a stochastic sampler takes a kernel step"),
        },
    };
    let total: f64 = w.iter().zip(&p).map(|(a, b)| a * b).sum();
    Ok(Final {
        p: p.iter().map(|v| v / total).collect(),
        f: f.iter().map(|v| v / total).collect(),
        s: s.iter().map(|v| v / total).collect(),
        y: x,
        w,
        monotone,
        resolution,
    })
}
