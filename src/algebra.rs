//! What a sampler computes on (DESIGN "Exact laws: one sampler, two kinds of numbers").
//!
//! A sampler only forms linear combinations of states with scalar coefficients, asks a denoiser for
//! x̂₀, and draws standard normal noise. Written against [`Algebra`], [`Denoiser`] and [`Noise`], it runs
//! on two kinds of values:
//! - `DVector<f64>` with noise from a seeded PCG stream ([`PcgNoise`]): Monte Carlo, any target;
//! - [`Form`], an affine form c + Σ_k a_k ξ_k in independent standard normals, per coordinate of Σ's
//!   eigenbasis ([`FormNoise`]): on Gaussian data the same code returns the exact law of its output.
//!
//! Forms stay short: at a step boundary the sampler hands its live values to [`Noise::rebase`], which
//! re-expresses them jointly in a fresh basis of their own size (a Cholesky factor of their small
//! covariance), so the cost is linear in the number of steps.

use nalgebra::DVector;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;

use crate::target::{Gaussian, Mixture};

/// A vector space over f64: enough for every sampler in the catalogue.
pub trait Algebra: Clone {
    /// Σ_i c_i x_i (at least one term).
    fn lin(terms: &[(f64, &Self)]) -> Self;
}

/// A source of independent standard normal values shaped like a state.
pub trait Noise<S> {
    /// A fresh draw z ~ N(0, I), independent of every earlier draw, shaped like `like`.
    fn standard_normal(&mut self, like: &S) -> S;
    /// Re-express the live values of a sampler in a fresh basis (no-op for plain vectors).
    fn rebase(&mut self, _live: &mut [&mut S]) {}
}

/// The data model a sampler queries: x̂₀(x) at noise level (α, σ). ε̂ and the score follow (PZ-1).
pub trait Denoiser<S> {
    /// x̂₀(x) = E[x₀ | α x₀ + σ ε = x] for the exact model (or a network's estimate of it).
    fn denoise(&self, x: &S, alpha: f64, sigma: f64) -> S;
    /// The score ∇log p_t(x) in closed form, where the denoiser knows one that stays finite at σ = 0
    /// (Tweedie's (αx̂₀ − x)/σ² is 0/0 there). Default: none. Samplers use it only at σ = 0 (issue 13
    /// item 5: Heun and RK4 evaluating the field at ε = 0).
    fn score(&self, _x: &S, _alpha: f64, _sigma: f64) -> Option<S> {
        None
    }
}

/// ε̂ = (x − α x̂₀)/σ (PZ-1).
pub fn eps_from_x0<S: Algebra>(x: &S, x0: &S, alpha: f64, sigma: f64) -> S {
    S::lin(&[(1.0 / sigma, x), (-alpha / sigma, x0)])
}

/// ∇log p = (α x̂₀ − x)/σ² (Tweedie, FW-6).
pub fn score_from_x0<S: Algebra>(x: &S, x0: &S, alpha: f64, sigma: f64) -> S {
    S::lin(&[(-1.0 / (sigma * sigma), x), (alpha / (sigma * sigma), x0)])
}

impl Algebra for DVector<f64> {
    fn lin(terms: &[(f64, &Self)]) -> Self {
        let mut out = terms[0].1 * terms[0].0;
        for (c, x) in &terms[1..] {
            out.axpy(*c, x, 1.0);
        }
        out
    }
}

/// Seeded standard normal vectors from a PCG64 stream.
pub struct PcgNoise {
    pub rng: Pcg64,
}

impl PcgNoise {
    /// A PCG64 stream from `seed` (same seed, same draws, on every platform).
    pub fn seeded(seed: u64) -> Self {
        Self {
            rng: Pcg64::seed_from_u64(seed),
        }
    }
}

impl Noise<DVector<f64>> for PcgNoise {
    fn standard_normal(&mut self, like: &DVector<f64>) -> DVector<f64> {
        DVector::from_fn(like.len(), |_, _| StandardNormal.sample(&mut self.rng))
    }
}

/// Monte Carlo oracle on mixtures (a Gaussian is converted with [`Gaussian::to_mixture`]).
impl Denoiser<DVector<f64>> for Mixture {
    fn denoise(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        if sigma == 0.0 {
            return x / alpha;
        }
        Mixture::denoise(self, x, alpha, sigma)
    }
}

/// An affine form per coordinate of Σ's eigenbasis: x_i = c_i + Σ_k `a[k]_i` ξ_{k,i}, with all ξ
/// independent standard normals (independent across coordinates too). An empty row `a[k]` is a zero row.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub c: Vec<f64>,
    pub a: Vec<Vec<f64>>,
}

impl Form {
    /// The deterministic value `c`.
    pub fn constant(c: Vec<f64>) -> Self {
        Self { c, a: Vec::new() }
    }
    /// c + diag(s) ξ with one noise component: the law N(c, diag(s²)).
    pub fn gaussian(c: Vec<f64>, std: Vec<f64>) -> Self {
        Self { c, a: vec![std] }
    }
    pub fn dim(&self) -> usize {
        self.c.len()
    }
    /// The exact noised marginal p = N(α μ, α² λ + σ²) of a Gaussian, per coordinate of its eigenbasis, with
    /// one noise component (CLAIMS §2.1): the usual exact start p_T of a sampler.
    pub fn marginal(target: &Gaussian, alpha: f64, sigma: f64) -> Self {
        let (mean, var) = target.marginal(alpha, sigma);
        let mean = target.to_eigen(&mean);
        Self::gaussian(
            mean.iter().copied().collect(),
            var.iter().map(|v| v.sqrt()).collect(),
        )
    }
    /// The exact mean of every coordinate.
    pub fn mean(&self) -> &[f64] {
        &self.c
    }
    /// The exact variance of every coordinate: Σ_k `a[k]_i`².
    pub fn variance(&self) -> Vec<f64> {
        let mut v = vec![0.0; self.dim()];
        for ak in &self.a {
            for (vi, a) in v.iter_mut().zip(ak) {
                *vi += a * a;
            }
        }
        v
    }
    /// x ↦ diag(k) x + b (the shape of every Gaussian denoiser in the eigenbasis).
    pub fn diag_affine(&self, k: &[f64], b: &[f64]) -> Form {
        let c = self
            .c
            .iter()
            .zip(k)
            .zip(b)
            .map(|((c, k), b)| k * c + b)
            .collect();
        let a = self
            .a
            .iter()
            .map(|ak| ak.iter().zip(k).map(|(a, k)| a * k).collect())
            .collect();
        Form { c, a }
    }
}

impl Algebra for Form {
    /// Σ_i w_i f_i, row by row; an empty row stands for a zero row and is skipped.
    fn lin(terms: &[(f64, &Self)]) -> Self {
        let d = terms[0].1.dim();
        let mut rows: Vec<(f64, &[f64])> = Vec::with_capacity(terms.len());
        rows.extend(terms.iter().map(|(w, f)| (*w, f.c.as_slice())));
        let mut c = combine_rows(&rows, d);
        if c.is_empty() {
            c = vec![0.0; d];
        }
        let nk = terms.iter().map(|(_, f)| f.a.len()).max().unwrap_or(0);
        let a = (0..nk)
            .map(|k| {
                rows.clear();
                rows.extend(
                    terms
                        .iter()
                        .filter_map(|(w, f)| f.a.get(k).map(|r| (*w, r.as_slice()))),
                );
                combine_rows(&rows, d)
            })
            .collect();
        Form { c, a }
    }
}

/// Σ_j w_j r_j over the non-empty rows (an empty row is a zero row), summed left to right, in one pass
/// over the coordinates for up to four rows (the engine's hot loop: `benches/engine.rs`). An empty row
/// comes back when every row is empty.
fn combine_rows(rows: &[(f64, &[f64])], d: usize) -> Vec<f64> {
    let live: Vec<(f64, &[f64])> = rows
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|&(w, r)| (w, &r[..d]))
        .collect();
    match live.as_slice() {
        [] => Vec::new(),
        [(w0, r0)] => r0.iter().map(|v| w0 * v).collect(),
        [(w0, r0), (w1, r1)] => r0.iter().zip(*r1).map(|(a, b)| w0 * a + w1 * b).collect(),
        [(w0, r0), (w1, r1), (w2, r2)] => r0
            .iter()
            .zip(*r1)
            .zip(*r2)
            .map(|((a, b), c)| w0 * a + w1 * b + w2 * c)
            .collect(),
        [(w0, r0), (w1, r1), (w2, r2), (w3, r3)] => r0
            .iter()
            .zip(*r1)
            .zip(*r2)
            .zip(*r3)
            .map(|(((a, b), c), e)| w0 * a + w1 * b + w2 * c + w3 * e)
            .collect(),
        [(w0, r0), rest @ ..] => {
            let mut out: Vec<f64> = r0.iter().map(|v| w0 * v).collect();
            for (w, r) in rest {
                for (o, v) in out.iter_mut().zip(r.iter()) {
                    *o += w * v;
                }
            }
            out
        }
    }
}

/// Fresh noise for forms: each draw is a new independent component; `rebase` compresses.
#[derive(Default)]
pub struct FormNoise {
    next: usize,
}

impl FormNoise {
    /// A source whose first fresh component comes after the `used` components of the initial state.
    pub fn after(used: usize) -> Self {
        Self { next: used }
    }
}

impl Noise<Form> for FormNoise {
    fn standard_normal(&mut self, like: &Form) -> Form {
        let d = like.dim();
        let mut a = vec![Vec::new(); self.next + 1];
        a[self.next] = vec![1.0; d];
        self.next += 1;
        Form { c: vec![0.0; d], a }
    }

    /// Per coordinate, the m live forms have coefficient rows A (m × K) and covariance G = A Aᵀ; write
    /// G = L Lᵀ (Cholesky, zero columns where G is singular) and replace A by L: same joint law, m components.
    fn rebase(&mut self, live: &mut [&mut Form]) {
        let m = live.len();
        let d = live[0].dim();
        let k_max = live.iter().map(|f| f.a.len()).max().unwrap_or(0);
        let compress;
        (compress, self.next) = rebase_rule(m, k_max);
        if !compress {
            return;
        }
        if m == 1 {
            // One live value: x_i = c_i + √(Σ_k a_ki²) ξ_i.
            let f = &mut *live[0];
            let mut root = vec![0.0; d];
            for ak in &f.a {
                for (r, a) in root.iter_mut().zip(ak) {
                    *r += a * a;
                }
            }
            root.iter_mut().for_each(|r| *r = r.sqrt());
            f.a = vec![root];
            return;
        }
        let mut new_a = vec![vec![vec![0.0; d]; m]; m];
        let mut g = vec![0.0; m * m];
        let mut l = vec![0.0; m * m];
        for i in 0..d {
            let dot = |p: usize, q: usize| {
                let (fp, fq) = (&live[p].a, &live[q].a);
                let mut s = 0.0;
                for k in 0..fp.len().min(fq.len()) {
                    if !fp[k].is_empty() && !fq[k].is_empty() {
                        s += fp[k][i] * fq[k][i];
                    }
                }
                s
            };
            rebase_factor(m, dot, &mut g, &mut l);
            for (p, fa) in new_a.iter_mut().enumerate() {
                for (k, row) in fa.iter_mut().enumerate() {
                    row[i] = l[p * m + k];
                }
            }
        }
        for (f, a) in live.iter_mut().zip(new_a) {
            f.a = a;
        }
    }
}

/// The rebase rule at a step boundary, for m live values whose forms have at most `k_max` noise
/// components: re-express them in a fresh basis of m components only when that is shorter (k_max > m;
/// deterministic samplers never do). Returns (compress?, the next fresh component). Shared by
/// [`FormNoise`] and the lanes' recording.
pub(crate) fn rebase_rule(m: usize, k_max: usize) -> (bool, usize) {
    if k_max > m {
        (true, m)
    } else {
        (false, k_max)
    }
}

/// The rebase formula at one coordinate: the m live values' coefficient rows A give G = A Aᵀ
/// (`dot(p, q)` = row p · row q), and its Cholesky factor L (zero columns where G is singular, relative
/// tolerance 1e-14) replaces A: same joint law, m components. Shared by [`FormNoise`] and the lanes.
#[inline(always)]
pub(crate) fn rebase_factor(
    m: usize,
    dot: impl Fn(usize, usize) -> f64,
    g: &mut [f64],
    l: &mut [f64],
) {
    for p in 0..m {
        for q in 0..=p {
            g[p * m + q] = dot(p, q);
        }
    }
    let scale = (0..m).map(|p| g[p * m + p]).fold(0.0, f64::max);
    cholesky_psd(g, l, m, 1e-14 * scale);
}

/// Lower Cholesky factor of a symmetric positive semi-definite m×m matrix (row-major, lower triangle
/// read); pivots below `tol` give a zero column (the live values are then linearly dependent).
fn cholesky_psd(g: &[f64], l: &mut [f64], m: usize, tol: f64) {
    l.iter_mut().for_each(|v| *v = 0.0);
    for j in 0..m {
        let mut diag = g[j * m + j];
        for k in 0..j {
            diag -= l[j * m + k] * l[j * m + k];
        }
        if diag <= tol {
            continue;
        }
        let ljj = diag.sqrt();
        l[j * m + j] = ljj;
        for i in j + 1..m {
            let mut s = g[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            l[i * m + j] = s / ljj;
        }
    }
}

/// The gain k = α λ / (α² λ + σ²) of the exact Gaussian denoiser x̂₀ = μ + k (x − α μ) on an eigen-
/// coordinate of variance λ (CLAIMS §2.1); at σ = 0 its limit, 1/α where λ > 0 and 0 where λ = 0 (the data
/// sit at μ there). The one place of the formula (through [`denoiser_affine`]).
#[inline(always)]
pub fn denoiser_gain(alpha: f64, sigma: f64, lambda: f64) -> f64 {
    if sigma == 0.0 {
        if lambda > 0.0 {
            1.0 / alpha
        } else {
            0.0
        }
    } else {
        alpha * lambda / (alpha * alpha * lambda + sigma * sigma)
    }
}

/// The exact Gaussian denoiser on an eigen-coordinate (mean μ, variance λ) as x̂₀ = k x + b:
/// k = [`denoiser_gain`], b = (1 − kα) μ. Called by [`Form`]s and [`crate::lanes`].
#[inline(always)]
pub fn denoiser_affine(alpha: f64, sigma: f64, lambda: f64, mu: f64) -> (f64, f64) {
    let k = denoiser_gain(alpha, sigma, lambda);
    (k, (1.0 - k * alpha) * mu)
}

/// The variance α² λ + σ² of the noised marginal p_t on an eigen-coordinate of variance λ.
#[inline(always)]
pub fn marginal_variance(alpha: f64, sigma: f64, lambda: f64) -> f64 {
    alpha * alpha * lambda + sigma * sigma
}

/// The exact score on an eigen-coordinate (mean μ, variance λ), −(x − α μ)/v with v = α² λ + σ², as
/// k x + b: k = −1/v, b = α μ / v. Called by [`Form`]s and [`crate::lanes`].
#[inline(always)]
pub fn score_affine(alpha: f64, sigma: f64, lambda: f64, mu: f64) -> (f64, f64) {
    let v = marginal_variance(alpha, sigma, lambda);
    (-1.0 / v, alpha * mu / v)
}

/// The exact Gaussian denoiser in Σ's eigenbasis: x̂₀_i = μ_i + k_i (x_i − α μ_i),
/// k_i = α λ_i / (α² λ_i + σ²) ([`denoiser_gain`], CLAIMS §2.1).
impl Denoiser<Form> for Gaussian {
    fn denoise(&self, x: &Form, alpha: f64, sigma: f64) -> Form {
        let rotated;
        let mu = match &self.eigvecs {
            None => &self.mean,
            Some(_) => {
                rotated = self.eigen_mean();
                &rotated
            }
        };
        let (k, b): (Vec<f64>, Vec<f64>) = self
            .eigvals
            .iter()
            .zip(mu.iter())
            .map(|(l, m)| denoiser_affine(alpha, sigma, *l, *m))
            .unzip();
        x.diag_affine(&k, &b)
    }
    /// ∇log p_t(x) = −(x − αμ)/(α²λ + σ²) per eigen-coordinate (p_t = N(αμ, α²Λ + σ²I)); none where
    /// α²λ + σ² = 0 (a zero eigenvalue at σ = 0: the score is infinite there).
    fn score(&self, x: &Form, alpha: f64, sigma: f64) -> Option<Form> {
        if self
            .eigvals
            .iter()
            .any(|l| marginal_variance(alpha, sigma, *l) <= 0.0)
        {
            return None;
        }
        let mu = match &self.eigvecs {
            None => self.mean.clone(),
            Some(_) => self.eigen_mean(),
        };
        let (k, b): (Vec<f64>, Vec<f64>) = self
            .eigvals
            .iter()
            .zip(mu.iter())
            .map(|(l, m)| score_affine(alpha, sigma, *l, *m))
            .unzip();
        Some(x.diag_affine(&k, &b))
    }
}
