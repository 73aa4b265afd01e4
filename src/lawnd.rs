//! KL(output ‖ p₀) of deterministic samplers in d = 2 and 3 by tensor quadrature (issue 9, item 3).
//!
//! A deterministic sampler is a map Φ of x_T. It runs once on [`Jets`], a batch of points in R^d each
//! carrying its d×d Jacobian: `lin` acts on values and Jacobians alike, and the denoiser maps
//! (x, J) ↦ (x̂₀(x), x̂₀′(x) J) with x̂₀′(x) = (α/σ²) Cov[x₀ | x_t = x] (Tweedie's second identity). Started
//! from tensor Gauss–Legendre nodes x over the exact start law p_T (the data's marginal at `times[0]`) with
//! J = I, the sampler's own code returns Φ(x) and Φ′(x). By the change of variables y = Φ(x),
//!
//!   KL(out ‖ p_ref) = ∫ p_T(x) [ln p_T(x) − ln |det Φ′(x)| − ln p_ref(Φ(x))] dx,
//!
//! valid when Φ is a diffeomorphism onto its image (then det Φ′ has one sign; [`KlNd::orientation_preserving`]
//! says whether det Φ′ > 0 at every node; if it is not, the value is not the output's KL).
//!
//! The domain is an axis-aligned box: per axis the union over the components k of p_T of
//! m_k,i ± [`HALF_WIDTH`]·√C_k,ii (C_k = α_T² Σ_k + σ_T² I). The start mass outside it is at most
//! 2d·Φ̄([`HALF_WIDTH`]) ≈ 6.8e-19 (d = 3): [`START_TAIL`]. Each axis carries `panels` panels of 8-point
//! Gauss–Legendre; the whole computation runs at `panels` and `2·panels` and the finer value is returned
//! with the difference as its stated accuracy ([`KlNd::error`]).

use crate::algebra::{Algebra, Denoiser, Noise};
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use crate::target::Mixture;
use anyhow::{bail, ensure, Context, Result};
use nalgebra::DMatrix;

/// Half-width of the box per axis, in the components' marginal standard deviations.
pub const HALF_WIDTH: f64 = 9.0;
/// Bound on the start mass left out of the box per dimension: 2·Φ̄(9) (the total is d times this).
pub const START_TAIL: f64 = 2.26e-19;
/// Gauss–Legendre points per panel.
pub const GL_POINTS: usize = 8;
/// Quadrature nodes pushed through the sampler at once (bounds memory: ~(1 + d)·d·8 bytes a node a state).
const CHUNK: usize = 1 << 15;

/// Values and Jacobians at a batch of points in R^`dim`.
#[derive(Clone, Debug, PartialEq)]
pub struct Jets {
    pub dim: usize,
    /// Values, point after point (`len·dim`).
    pub v: Vec<f64>,
    /// Jacobians ∂v_r/∂x_c, row-major, point after point (`len·dim²`).
    pub j: Vec<f64>,
}

impl Jets {
    /// The points `v` (flattened, `dim` coordinates each) with identity Jacobians.
    pub fn seeded(dim: usize, v: Vec<f64>) -> Self {
        assert!(
            dim > 0 && v.len().is_multiple_of(dim),
            "points are not {dim}-vectors"
        );
        let n = v.len() / dim;
        let mut j = vec![0.0; n * dim * dim];
        for p in 0..n {
            for r in 0..dim {
                j[p * dim * dim + r * dim + r] = 1.0;
            }
        }
        Self { dim, v, j }
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.v.len() / self.dim
    }
    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }
    /// Value of point `p`.
    pub fn value(&self, p: usize) -> &[f64] {
        &self.v[p * self.dim..(p + 1) * self.dim]
    }
    /// Jacobian of point `p` (row-major).
    pub fn jacobian(&self, p: usize) -> &[f64] {
        let dd = self.dim * self.dim;
        &self.j[p * dd..(p + 1) * dd]
    }
}

impl Algebra for Jets {
    fn lin(terms: &[(f64, &Self)]) -> Self {
        let (c0, x0) = terms[0];
        let mut v: Vec<f64> = x0.v.iter().map(|a| c0 * a).collect();
        let mut j: Vec<f64> = x0.j.iter().map(|a| c0 * a).collect();
        for (c, x) in &terms[1..] {
            for (o, a) in v.iter_mut().zip(&x.v) {
                *o += c * a;
            }
            for (o, a) in j.iter_mut().zip(&x.j) {
                *o += c * a;
            }
        }
        Self { dim: x0.dim, v, j }
    }
}

/// The noise of a deterministic route: drawing from it is a bug (the route refuses stochastic samplers
/// up front), so it panics.
pub struct RefuseNoise;

impl Noise<Jets> for RefuseNoise {
    fn standard_normal(&mut self, _like: &Jets) -> Jets {
        panic!(
            "lawnd: a sampler drew noise; only deterministic samplers have a map Φ to push through"
        )
    }
}

/// One mixture component at a noise level (α, σ): C = α²Σ + σ²I.
struct Component {
    /// ln w − ½ ln det(2π C).
    log_norm: f64,
    /// α μ.
    m: Vec<f64>,
    /// μ.
    mu: Vec<f64>,
    /// C⁻¹, row-major.
    c_inv: Vec<f64>,
    /// Σ C⁻¹, row-major: μ̂ = μ + α Σ C⁻¹ (x − αμ), Cov[x₀ | x, k] = σ² Σ C⁻¹.
    gain: Vec<f64>,
}

/// The components of `mix` noised at (α, σ); an error where some C is not positive definite.
fn components(mix: &Mixture, alpha: f64, sigma: f64) -> Result<Vec<Component>> {
    let d = mix.dim();
    mix.weights
        .iter()
        .zip(&mix.means)
        .zip(&mix.covs)
        .map(|((w, mu), cov)| {
            let c = cov * (alpha * alpha) + DMatrix::identity(d, d) * (sigma * sigma);
            let chol = nalgebra::Cholesky::new(c).with_context(|| {
                format!("α²Σ + σ²I is not positive definite at (α, σ) = ({alpha}, {sigma})")
            })?;
            let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
            let c_inv = chol.inverse();
            let gain = cov * &c_inv;
            let row_major = |m: &DMatrix<f64>| -> Vec<f64> {
                (0..d)
                    .flat_map(|r| (0..d).map(move |c| (r, c)))
                    .map(|(r, c)| m[(r, c)])
                    .collect()
            };
            Ok(Component {
                log_norm: w.ln() - 0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det),
                m: (mu * alpha).iter().copied().collect(),
                mu: mu.iter().copied().collect(),
                c_inv: row_major(&c_inv),
                gain: row_major(&gain),
            })
        })
        .collect()
}

/// ln w_k + ln N(x; m_k, C_k) per component into `logs`, and r = x − m_k into `res` (k·d + i).
fn component_logs(comps: &[Component], x: &[f64], logs: &mut [f64], res: &mut [f64]) {
    let d = x.len();
    for (k, c) in comps.iter().enumerate() {
        let r = &mut res[k * d..(k + 1) * d];
        for i in 0..d {
            r[i] = x[i] - c.m[i];
        }
        let mut q = 0.0;
        for a in 0..d {
            let row = &c.c_inv[a * d..(a + 1) * d];
            let s: f64 = row.iter().zip(r.iter()).map(|(u, v)| u * v).sum();
            q += r[a] * s;
        }
        logs[k] = c.log_norm - 0.5 * q;
    }
}

/// In place: logs → responsibilities; returns the log-sum-exp.
fn normalise(logs: &mut [f64]) -> f64 {
    let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = logs.iter().map(|l| (l - max).exp()).sum();
    let lse = max + sum.ln();
    logs.iter_mut().for_each(|l| *l = (*l - lse).exp());
    lse
}

/// ln p(x) of `mix` noised at (α, σ), at the flattened points `xs`.
///
/// # Errors
/// α²Σ_k + σ²I not positive definite for some component.
pub fn log_density_batch(mix: &Mixture, alpha: f64, sigma: f64, xs: &[f64]) -> Result<Vec<f64>> {
    let d = mix.dim();
    let comps = components(mix, alpha, sigma)?;
    let (mut logs, mut res) = (vec![0.0; comps.len()], vec![0.0; comps.len() * d]);
    Ok(xs
        .chunks(d)
        .map(|x| {
            component_logs(&comps, x, &mut logs, &mut res);
            normalise(&mut logs)
        })
        .collect())
}

/// x̂₀ from the mixture's posterior, Jacobian (α/σ²) Cov[x₀ | x] · J (at σ = 0: x/α and J/α).
impl Denoiser<Jets> for Mixture {
    fn denoise(&self, x: &Jets, alpha: f64, sigma: f64) -> Jets {
        let d = x.dim;
        assert_eq!(d, self.dim(), "lawnd: state and data dimensions differ");
        if sigma == 0.0 {
            return Jets::lin(&[(1.0 / alpha, x)]);
        }
        let comps =
            components(self, alpha, sigma).expect("σ > 0 makes α²Σ + σ²I positive definite");
        let nk = comps.len();
        let dd = d * d;
        let (mut logs, mut res) = (vec![0.0; nk], vec![0.0; nk * d]);
        let mut muhat = vec![0.0; nk * d];
        let mut jac = vec![0.0; dd];
        let mut out = Jets {
            dim: d,
            v: vec![0.0; x.v.len()],
            j: vec![0.0; x.j.len()],
        };
        let s2 = sigma * sigma;
        for p in 0..x.len() {
            let xp = x.value(p);
            component_logs(&comps, xp, &mut logs, &mut res);
            normalise(&mut logs);
            // μ̂_k = μ_k + α gain_k r_k; x̂₀ = Σ ρ_k μ̂_k.
            let xhat = &mut out.v[p * d..(p + 1) * d];
            for (k, c) in comps.iter().enumerate() {
                let r = &res[k * d..(k + 1) * d];
                for a in 0..d {
                    let row = &c.gain[a * d..(a + 1) * d];
                    let s: f64 = row.iter().zip(r).map(|(u, v)| u * v).sum();
                    let m = c.mu[a] + alpha * s;
                    muhat[k * d + a] = m;
                    xhat[a] += logs[k] * m;
                }
            }
            // x̂₀′ = Σ ρ_k [α gain_k + (α/σ²)(μ̂_k − x̂₀)(μ̂_k − x̂₀)ᵀ].
            jac.iter_mut().for_each(|v| *v = 0.0);
            for (k, c) in comps.iter().enumerate() {
                let rho = logs[k];
                if rho == 0.0 {
                    continue;
                }
                for a in 0..d {
                    let da = muhat[k * d + a] - xhat[a];
                    for b in 0..d {
                        let db = muhat[k * d + b] - xhat[b];
                        jac[a * d + b] += rho * alpha * (c.gain[a * d + b] + da * db / s2);
                    }
                }
            }
            let jin = x.jacobian(p);
            let jout = &mut out.j[p * dd..(p + 1) * dd];
            for a in 0..d {
                for b in 0..d {
                    let mut s = 0.0;
                    for c in 0..d {
                        s += jac[a * d + c] * jin[c * d + b];
                    }
                    jout[a * d + b] = s;
                }
            }
        }
        out
    }
}

/// det of a row-major 2×2 or 3×3 matrix.
fn det(m: &[f64], d: usize) -> f64 {
    match d {
        2 => m[0] * m[3] - m[1] * m[2],
        3 => {
            m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
                + m[2] * (m[3] * m[7] - m[4] * m[6])
        }
        _ => unreachable!("d ∈ {{2, 3}} is checked up front"),
    }
}

/// The law KL is measured to: `law` noised at (α, σ) (p₀ itself: α = 1, σ = 0, which needs Σ_k ≻ 0).
#[derive(Clone, Copy)]
pub struct Reference<'a> {
    pub law: &'a Mixture,
    pub alpha: f64,
    pub sigma: f64,
}

/// KL(out ‖ p_ref) of a deterministic sampler on d = 2 or 3 mixture data.
#[derive(Clone, Debug, PartialEq)]
pub struct KlNd {
    /// KL at 2·panels per axis.
    pub kl: f64,
    /// |KL(panels) − KL(2·panels)|: the stated quadrature accuracy.
    pub error: f64,
    /// det Φ′ > 0 at every node of both runs (if not, `kl` is not the output's KL).
    pub orientation_preserving: bool,
    /// min det Φ′ over the nodes of both runs.
    pub min_det: f64,
    /// Start mass the finer quadrature sees (1 up to the tail and quadrature error).
    pub mass: f64,
    /// Nodes of the finer run ((16·panels)^d).
    pub nodes: usize,
    /// Start mass outside the box, bounded: d·[`START_TAIL`].
    pub tail: f64,
}

/// One resolution: (KL, min det, mass).
fn kl_at(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    data: &Mixture,
    reference: Reference,
    panels: usize,
) -> Result<(f64, f64, f64)> {
    use crate::quadrature::{GL8_NODES as X, GL8_WEIGHTS as W};
    let d = data.dim();
    let (a_t, s_t) = (schedule.alpha(times[0]), schedule.sigma(times[0]));
    // Per-axis nodes and weights on the box.
    let axes: Vec<(Vec<f64>, Vec<f64>)> = (0..d)
        .map(|i| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (mu, cov) in data.means.iter().zip(&data.covs) {
                let sd = (a_t * a_t * cov[(i, i)] + s_t * s_t).sqrt();
                lo = lo.min(a_t * mu[i] - HALF_WIDTH * sd);
                hi = hi.max(a_t * mu[i] + HALF_WIDTH * sd);
            }
            let h = (hi - lo) / panels as f64;
            let (mut x, mut w) = (Vec::new(), Vec::new());
            for p in 0..panels {
                let c = lo + (p as f64 + 0.5) * h;
                let r = 0.5 * h;
                for (xi, wi) in X.iter().zip(W) {
                    x.extend([c - r * xi, c + r * xi]);
                    w.extend([wi * r, wi * r]);
                }
            }
            (x, w)
        })
        .collect();
    let n_axis = axes[0].0.len();
    let total = n_axis.pow(d as u32);
    let (mut kl, mut mass, mut min_det) = (0.0, 0.0, f64::INFINITY);
    let mut start = 0;
    while start < total {
        let end = (start + CHUNK).min(total);
        let mut pts = Vec::with_capacity((end - start) * d);
        let mut wts = Vec::with_capacity(end - start);
        for idx in start..end {
            let (mut rest, mut w) = (idx, 1.0);
            for (x, wa) in &axes {
                let k = rest % n_axis;
                rest /= n_axis;
                pts.push(x[k]);
                w *= wa[k];
            }
            wts.push(w);
        }
        let log_pt = log_density_batch(data, a_t, s_t, &pts)?;
        let out = sampler.run(
            schedule,
            times,
            Jets::seeded(d, pts),
            data,
            &mut RefuseNoise,
        );
        let log_ref = log_density_batch(reference.law, reference.alpha, reference.sigma, &out.v)?;
        for p in 0..out.len() {
            let det_j = det(out.jacobian(p), d);
            min_det = min_det.min(det_j);
            let pt = log_pt[p].exp();
            if pt == 0.0 {
                continue;
            }
            let m = wts[p] * pt;
            mass += m;
            kl += m * (log_pt[p] - det_j.abs().ln() - log_ref[p]);
        }
        start = end;
    }
    Ok((kl, min_det, mass))
}

/// KL(out ‖ p₀) of `sampler` run along `times` from the exact p_T on `data` (d = 2 or 3), p₀ = `data`
/// (its covariances must be positive definite): [`kl_output_vs`] with the reference p₀.
///
/// # Errors
/// As [`kl_output_vs`].
pub fn kl_output(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    data: &Mixture,
    panels: usize,
) -> Result<KlNd> {
    let reference = Reference {
        law: data,
        alpha: 1.0,
        sigma: 0.0,
    };
    kl_output_vs(sampler, schedule, times, data, reference, panels)
}

/// KL(out ‖ reference) of `sampler` run along `times` from the exact marginal of `data` at `times[0]`,
/// by tensor Gauss–Legendre at `panels` and `2·panels` panels per axis (module doc).
///
/// # Errors
/// d ∉ {2, 3}, a stochastic sampler, fewer than 2 times, zero panels, reference of another dimension, a
/// start or reference law without a density (some α²Σ_k + σ²I singular).
pub fn kl_output_vs(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    data: &Mixture,
    reference: Reference,
    panels: usize,
) -> Result<KlNd> {
    let d = data.dim();
    if !(2..=3).contains(&d) {
        bail!("lawnd covers d = 2 and 3 (got d = {d}); d = 1 is law1d's");
    }
    if sampler.is_stochastic() {
        bail!(
            "{} is stochastic: lawnd pushes a deterministic map Φ through the quadrature",
            sampler.label()
        );
    }
    ensure!(
        times.len() >= 2,
        "a run needs at least 2 times (got {})",
        times.len()
    );
    ensure!(panels >= 1, "at least one panel per axis");
    ensure!(
        reference.law.dim() == d,
        "reference law of dimension {} against data of dimension {d}",
        reference.law.dim()
    );
    let (k0, det0, _) = kl_at(sampler, schedule, times, data, reference, panels)?;
    let (k1, det1, mass) = kl_at(sampler, schedule, times, data, reference, 2 * panels)?;
    // The coarse nodes are not a subset of the fine ones: the sign check covers both runs.
    let min_det = det0.min(det1);
    Ok(KlNd {
        kl: k1,
        error: (k1 - k0).abs(),
        orientation_preserving: min_det > 0.0,
        min_det,
        mass,
        nodes: (2 * panels * GL_POINTS).pow(d as u32),
        tail: d as f64 * START_TAIL,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;

    fn mix() -> Mixture {
        let m = |a: f64, b: f64, c: f64| DVector::from_vec(vec![a, b, c]);
        let c = |a: f64, r: f64| {
            DMatrix::from_row_slice(3, 3, &[a, r, 0.0, r, 0.5, -0.1, 0.0, -0.1, 0.3])
        };
        Mixture::new(
            vec![0.4, 0.6],
            vec![m(-1.0, 0.5, 0.2), m(1.5, -0.5, 0.0)],
            vec![c(0.4, 0.1), c(0.2, -0.05)],
        )
        .unwrap()
    }

    #[test]
    fn denoiser_matches_the_mixture_and_its_jacobian_matches_finite_differences() {
        let mix = mix();
        let (alpha, sigma) = (0.8, 0.6);
        let x = [0.3, -0.2, 0.9];
        let out =
            <Mixture as Denoiser<Jets>>::denoise(&mix, &Jets::seeded(3, x.to_vec()), alpha, sigma);
        let direct = Mixture::denoise(&mix, &DVector::from_row_slice(&x), alpha, sigma);
        let cov = mix.posterior_covariance(&DVector::from_row_slice(&x), alpha, sigma);
        for a in 0..3 {
            assert!((out.v[a] - direct[a]).abs() < 1e-13);
            for b in 0..3 {
                let want = alpha / (sigma * sigma) * cov[(a, b)];
                assert!((out.j[a * 3 + b] - want).abs() < 1e-12);
                // Central difference of Mixture::denoise along e_b.
                let h = 1e-5;
                let mut xp = x;
                let mut xm = x;
                xp[b] += h;
                xm[b] -= h;
                let fd = (Mixture::denoise(&mix, &DVector::from_row_slice(&xp), alpha, sigma)[a]
                    - Mixture::denoise(&mix, &DVector::from_row_slice(&xm), alpha, sigma)[a])
                    / (2.0 * h);
                assert!((out.j[a * 3 + b] - fd).abs() < 1e-8, "{a},{b}");
            }
        }
        let lp = log_density_batch(&mix, alpha, sigma, &x).unwrap()[0];
        let want = mix.log_density(&DVector::from_row_slice(&x), alpha, sigma);
        assert!((lp - want).abs() < 1e-13);
    }

    #[test]
    fn refuses_what_it_does_not_cover() {
        let sch = crate::schedule::VpLinear::default();
        let mix = mix();
        let times = [1.0, 0.5];
        assert!(kl_output(Sampler::Ddim { eta: 1.0 }, &sch, &times, &mix, 1).is_err());
        assert!(kl_output(Sampler::Ddim { eta: 0.0 }, &sch, &times[..1], &mix, 1).is_err());
        let one =
            Mixture::isotropic(vec![1.0], vec![DVector::from_vec(vec![0.0])], &[1.0]).unwrap();
        assert!(kl_output(Sampler::Ddim { eta: 0.0 }, &sch, &times, &one, 1).is_err());
    }
}
