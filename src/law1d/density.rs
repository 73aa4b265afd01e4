//! 1-D data laws p₀ with pdf, CDF, survival function, quantiles, the noised marginal p_t at (α, σ) and
//! the denoiser x̂₀(x) = E[x₀ | x_t = x] with its derivative dx̂₀/dx = α Var[x₀ | x_t = x]/σ² (CLAIMS §2.1;
//! issue 9, ENGINE-2).
//!
//! Gaussian mixtures are closed-form. Uniform, Laplace and scaled Beta go through the posterior
//! π(y | x) ∝ p₀(y) N(y; x/α, (σ/α)²): all three are log-concave (Beta with a, b ≥ 1), so π is unimodal;
//! its mode is found by bisection on (log π)′ and the Gauss–Legendre panels are laid from the mode out to
//! where log π has dropped by [`DROP`] (relative truncation e^{−DROP}), split at the density's kinks and
//! geometrically graded towards support ends where the density is not smooth (Beta). This keeps the
//! panels on the posterior's bulk at any σ/α, however sharp the kernel.

use anyhow::{ensure, Result};
use libm::erfc;
use statrs::function::beta::{beta_reg, ln_beta};
use std::f64::consts::{PI, SQRT_2};
use std::sync::OnceLock;

/// Posterior panels end where log π has dropped by this from its mode: e^{−46} ≈ 1e-20 relative mass lost.
pub const DROP: f64 = 46.0;
/// Gauss–Legendre points per panel.
const GL_POINTS: usize = 16;
/// Panels per segment between breakpoints. 16-point Gauss–Legendre on 6 panels integrates e^{−u²/2} over
/// |u| ≤ 19.2 (the bulk after [`DROP`] with a factor-2 overshoot) to ~1e-15; checked against the closed-form
/// truncated-normal mean of a uniform law in the tests.
const PANELS: usize = 6;
/// Geometric grading towards a non-smooth support end: panel ratio and levels (smallest panel 0.15¹⁴ ≈
/// 3e-12 of the first), exponential convergence for y^β endpoint behaviour (Beta with non-integer a, b).
const GRADE_RATIO: f64 = 0.15;
const GRADE_LEVELS: usize = 14;
/// Prior mass left out of the marginal CDF integral on each side (infinite supports).
const PRIOR_TAIL: f64 = 1e-20;

/// A 1-D data law. Construct with [`Density1d::mixture`], [`Density1d::uniform`], [`Density1d::laplace`],
/// [`Density1d::beta`] (which validate), or from a target file ([`crate::target_spec`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Density1d {
    /// Σ_k w_k N(μ_k, v_k), every v_k > 0.
    Mixture {
        weights: Vec<f64>,
        means: Vec<f64>,
        vars: Vec<f64>,
    },
    /// U(low, high).
    Uniform { low: f64, high: f64 },
    /// e^{−|y − location|/scale}/(2 scale).
    Laplace { location: f64, scale: f64 },
    /// low + (high − low) Beta(a, b), a, b ≥ 1.
    Beta { a: f64, b: f64, low: f64, high: f64 },
}

/// Standard normal CDF Φ(z) = ½ erfc(−z/√2), accurate in the lower tail (libm's erfc, within an ulp or
/// two; statrs' is off by ~1e-11 relative already at z = −2).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// n-point Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n from Chebyshev guesses).
fn gauss_legendre_rule() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = GL_POINTS;
        let (mut xs, mut ws) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n {
            let mut x = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for k in 2..=n {
                    let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            xs.push(x);
            ws.push(2.0 / ((1.0 - x * x) * dp * dp));
        }
        (xs, ws)
    })
}

/// Append Gauss–Legendre nodes and weights for [a, b] in `panels` equal panels, geometrically graded
/// towards `a` and/or `b` when asked.
pub(crate) fn push_panels(
    a: f64,
    b: f64,
    panels: usize,
    grade: (bool, bool),
    out: &mut Vec<(f64, f64)>,
) {
    if b <= a {
        return;
    }
    let (xs, ws) = gauss_legendre_rule();
    let mut push = |lo: f64, hi: f64| {
        let (c, r) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        for (x, w) in xs.iter().zip(ws) {
            out.push((c + r * x, r * w));
        }
    };
    let h = (b - a) / panels as f64;
    for p in 0..panels {
        let (lo, hi) = (a + p as f64 * h, a + (p + 1) as f64 * h);
        let first = p == 0 && grade.0;
        let last = p + 1 == panels && grade.1;
        if first || last {
            // Split [lo, hi] at points approaching the graded end geometrically.
            let mut cuts: Vec<f64> = (0..=GRADE_LEVELS)
                .map(|k| GRADE_RATIO.powi(k as i32))
                .collect();
            cuts.push(0.0);
            let f = |u: f64| if first { lo + h * u } else { hi - h * u };
            if first && last {
                // One panel graded at both ends: grade each half.
                let mid = 0.5 * (lo + hi);
                push_panels(lo, mid, 1, (true, false), out);
                push_panels(mid, hi, 1, (false, true), out);
                return;
            }
            for w in cuts.windows(2) {
                let (u, v) = (f(w[0]), f(w[1]));
                push(u.min(v), u.max(v));
            }
        } else {
            push(lo, hi);
        }
    }
}

/// Solve G(x) = target for the CDF (`upper = false`) or the survival function (`upper = true`): Newton on
/// ln G (log-concave tails make it converge from either side), safeguarded by bisection in [lo, hi].
/// `eval(x)` returns (G(x), pdf(x)).
pub(crate) fn invert(
    target: f64,
    upper: bool,
    eval: &dyn Fn(f64) -> (f64, f64),
    mut lo: f64,
    mut hi: f64,
    guess: f64,
) -> f64 {
    if target <= 0.0 {
        return if upper { hi } else { lo };
    }
    let lt = target.ln();
    let mut x = if guess > lo && guess < hi {
        guess
    } else {
        0.5 * (lo + hi)
    };
    for _ in 0..300 {
        let (g, p) = eval(x);
        let h = g.ln() - lt;
        if h == 0.0 {
            return x;
        }
        // Is the root to the right of x?
        if (h > 0.0) == upper {
            lo = x;
        } else {
            hi = x;
        }
        let slope = if upper { -p / g } else { p / g };
        let mut nx = x - h / slope;
        if !(nx > lo && nx < hi) {
            nx = 0.5 * (lo + hi);
        }
        let tol = 4.0 * f64::EPSILON * (1.0 + nx.abs());
        if (nx - x).abs() <= tol || hi - lo <= tol {
            return nx;
        }
        x = nx;
    }
    x
}

/// Posterior summary at one x: log ∫ p₀(y) e^{−(y−c)²/(2w²)} dy, mean and variance of y.
struct Posterior {
    log_z: f64,
    mean: f64,
    var: f64,
}

impl Density1d {
    /// # Errors
    /// Empty or mismatched lists, weights not positive or not summing to 1, a variance not positive.
    pub fn mixture(weights: Vec<f64>, means: Vec<f64>, vars: Vec<f64>) -> Result<Self> {
        ensure!(!weights.is_empty(), "a mixture needs a component");
        ensure!(
            weights.len() == means.len() && means.len() == vars.len(),
            "weights, means and variances differ in number"
        );
        ensure!(
            weights.iter().all(|w| *w > 0.0 && w.is_finite()),
            "mixture weights must be positive"
        );
        let total: f64 = weights.iter().sum();
        ensure!(
            (total - 1.0).abs() <= crate::target_spec::WEIGHT_SUM,
            "mixture weights sum to {total}, not 1"
        );
        ensure!(
            means.iter().all(|m| m.is_finite()),
            "mixture means must be finite"
        );
        ensure!(
            vars.iter().all(|v| *v > 0.0 && v.is_finite()),
            "the 1-D law engine needs every component variance > 0 (a point mass has no density)"
        );
        Ok(Density1d::Mixture {
            weights,
            means,
            vars,
        })
    }
    /// N(mean, var).
    ///
    /// # Errors
    /// var ≤ 0 or non-finite parameters.
    pub fn gaussian(mean: f64, var: f64) -> Result<Self> {
        Self::mixture(vec![1.0], vec![mean], vec![var])
    }
    /// # Errors
    /// low ≥ high or non-finite ends.
    pub fn uniform(low: f64, high: f64) -> Result<Self> {
        ensure!(
            low.is_finite() && high.is_finite() && low < high,
            "uniform: need finite low < high (got {low}, {high})"
        );
        Ok(Density1d::Uniform { low, high })
    }
    /// # Errors
    /// scale ≤ 0 or non-finite parameters.
    pub fn laplace(location: f64, scale: f64) -> Result<Self> {
        ensure!(
            location.is_finite() && scale.is_finite() && scale > 0.0,
            "laplace: need finite location and scale > 0 (got {location}, {scale})"
        );
        Ok(Density1d::Laplace { location, scale })
    }
    /// # Errors
    /// a < 1 or b < 1 (the posterior must stay log-concave for the quadrature denoiser), low ≥ high.
    pub fn beta(a: f64, b: f64, low: f64, high: f64) -> Result<Self> {
        ensure!(
            a.is_finite() && b.is_finite() && a >= 1.0 && b >= 1.0,
            "beta: the quadrature denoiser needs a ≥ 1 and b ≥ 1 (a log-concave law; got a = {a}, b = {b})"
        );
        ensure!(
            low.is_finite() && high.is_finite() && low < high,
            "beta: need finite low < high (got {low}, {high})"
        );
        Ok(Density1d::Beta { a, b, low, high })
    }

    /// (lowest, highest) point of the support (±∞ where unbounded).
    pub fn support(&self) -> (f64, f64) {
        match self {
            Density1d::Mixture { .. } | Density1d::Laplace { .. } => {
                (f64::NEG_INFINITY, f64::INFINITY)
            }
            Density1d::Uniform { low, high } | Density1d::Beta { low, high, .. } => (*low, *high),
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match self {
            Density1d::Mixture { weights, means, .. } => {
                weights.iter().zip(means).map(|(w, m)| w * m).sum()
            }
            Density1d::Uniform { low, high } => 0.5 * (low + high),
            Density1d::Laplace { location, .. } => *location,
            Density1d::Beta { a, b, low, high } => low + (high - low) * a / (a + b),
        }
    }

    /// A finite interval holding all but ~1e-300 of the mass (bracket for quantiles).
    fn bracket(&self) -> (f64, f64) {
        match self {
            Density1d::Mixture { means, vars, .. } => {
                let sd = vars.iter().cloned().fold(0.0, f64::max).sqrt();
                let lo = means.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = means.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                (lo - 40.0 * sd, hi + 40.0 * sd)
            }
            Density1d::Laplace { location, scale } => {
                (location - 700.0 * scale, location + 700.0 * scale)
            }
            _ => self.support(),
        }
    }

    /// A length scale of the law (for search steps).
    fn scale(&self) -> f64 {
        match self {
            Density1d::Mixture { vars, .. } => {
                vars.iter().cloned().fold(f64::INFINITY, f64::min).sqrt()
            }
            Density1d::Laplace { scale, .. } => *scale,
            Density1d::Uniform { low, high } | Density1d::Beta { low, high, .. } => high - low,
        }
    }

    /// ln p₀(y) (−∞ outside the support).
    pub fn log_pdf(&self, y: f64) -> f64 {
        match self {
            Density1d::Mixture {
                weights,
                means,
                vars,
            } => mixture_log_pdf(noised(weights, means, vars, 1.0, 0.0), y),
            Density1d::Uniform { low, high } => {
                if y >= *low && y <= *high {
                    -(high - low).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Density1d::Laplace { location, scale } => {
                -(y - location).abs() / scale - (2.0 * scale).ln()
            }
            Density1d::Beta { a, b, low, high } => {
                if y < *low || y > *high {
                    return f64::NEG_INFINITY;
                }
                let w = high - low;
                let u = (y - low) / w;
                let term = |e: f64, z: f64| if e == 1.0 { 0.0 } else { (e - 1.0) * z.ln() };
                term(*a, u) + term(*b, 1.0 - u) - ln_beta(*a, *b) - w.ln()
            }
        }
    }

    /// p₀(y).
    pub fn pdf(&self, y: f64) -> f64 {
        self.log_pdf(y).exp()
    }

    /// d/dy ln p₀ (one-sided right derivative at a kink; quadrature-route laws only).
    fn dlog_pdf(&self, y: f64) -> f64 {
        match self {
            Density1d::Uniform { .. } => 0.0,
            Density1d::Laplace { location, scale } => {
                if y >= *location {
                    -1.0 / scale
                } else {
                    1.0 / scale
                }
            }
            Density1d::Beta { a, b, low, high } => (a - 1.0) / (y - low) - (b - 1.0) / (high - y),
            Density1d::Mixture { .. } => unreachable!("closed form"),
        }
    }

    /// (F₀(y), 1 − F₀(y)), each accurate in its own tail.
    pub fn cdf_sf(&self, y: f64) -> (f64, f64) {
        match self {
            Density1d::Mixture {
                weights,
                means,
                vars,
            } => mixture_cdf_sf(noised(weights, means, vars, 1.0, 0.0), y),
            Density1d::Uniform { low, high } => {
                let u = ((y - low) / (high - low)).clamp(0.0, 1.0);
                let v = ((high - y) / (high - low)).clamp(0.0, 1.0);
                (u, v)
            }
            Density1d::Laplace { location, scale } => {
                let z = (y - location) / scale;
                if z < 0.0 {
                    let f = 0.5 * z.exp();
                    (f, 1.0 - f)
                } else {
                    let s = 0.5 * (-z).exp();
                    (1.0 - s, s)
                }
            }
            Density1d::Beta { a, b, low, high } => {
                if y <= *low {
                    return (0.0, 1.0);
                }
                if y >= *high {
                    return (1.0, 0.0);
                }
                let w = high - low;
                (
                    beta_reg(*a, *b, (y - low) / w),
                    beta_reg(*b, *a, (high - y) / w),
                )
            }
        }
    }

    /// F₀⁻¹(p), with `guess` a starting point (any value, e.g. the previous quantile).
    pub fn quantile(&self, p: f64, guess: f64) -> f64 {
        let (lo, hi) = self.bracket();
        invert(
            p,
            false,
            &|y| (self.cdf_sf(y).0, self.pdf(y)),
            lo,
            hi,
            guess,
        )
    }

    /// The y with 1 − F₀(y) = q (accurate for q near 0).
    pub fn quantile_upper(&self, q: f64, guess: f64) -> f64 {
        let (lo, hi) = self.bracket();
        invert(q, true, &|y| (self.cdf_sf(y).1, self.pdf(y)), lo, hi, guess)
    }

    /// Quantile from a (F, 1 − F) pair: through whichever tail is smaller.
    pub fn quantile_pair(&self, f: f64, s: f64, guess: f64) -> f64 {
        if f <= s {
            self.quantile(f, guess)
        } else {
            self.quantile_upper(s, guess)
        }
    }

    // ----- the noised marginal p_t and the denoiser -----

    /// ln p_t(x) of x_t = α x₀ + σ z.
    pub fn marginal_log_pdf(&self, x: f64, alpha: f64, sigma: f64) -> f64 {
        if sigma == 0.0 {
            return self.log_pdf(x / alpha) - alpha.ln();
        }
        match self {
            Density1d::Mixture {
                weights,
                means,
                vars,
            } => mixture_log_pdf(noised(weights, means, vars, alpha, sigma), x),
            _ => {
                let w = sigma / alpha;
                self.posterior(x / alpha, w).log_z - 0.5 * (2.0 * PI).ln() - w.ln() - alpha.ln()
            }
        }
    }

    /// (F_t(x), 1 − F_t(x)) of x_t = α x₀ + σ z.
    pub fn marginal_cdf_sf(&self, x: f64, alpha: f64, sigma: f64) -> (f64, f64) {
        if sigma == 0.0 {
            return self.cdf_sf(x / alpha);
        }
        match self {
            Density1d::Mixture {
                weights,
                means,
                vars,
            } => mixture_cdf_sf(noised(weights, means, vars, alpha, sigma), x),
            _ => {
                // F_t(x) = E_{p₀}[Φ((c − y)/w)], c = x/α, w = σ/α, over the prior's bulk, split at the
                // kernel's transition c ± 12w and at the prior's kinks.
                let (c, w) = (x / alpha, sigma / alpha);
                let (lo, hi) = self.prior_bulk();
                let mut cuts = vec![lo, hi, c - 12.0 * w, c, c + 12.0 * w];
                if let Density1d::Laplace { location, .. } = self {
                    cuts.push(*location);
                }
                let nodes = self.segments(&mut cuts, lo, hi);
                let (mut f, mut s) = (0.0, 0.0);
                for (y, wt) in nodes {
                    let p = self.pdf(y);
                    f += wt * p * normal_cdf((c - y) / w);
                    s += wt * p * normal_cdf((y - c) / w);
                }
                (f, s)
            }
        }
    }

    /// Quantile of p_t (for laying the start law's domain).
    pub fn marginal_quantile(&self, p: f64, upper: bool, alpha: f64, sigma: f64) -> f64 {
        let (lo, hi) = self.bracket();
        let spread = 40.0 * sigma;
        let (lo, hi) = (alpha * lo - spread, alpha * hi + spread);
        let eval = |x: f64| {
            let (f, s) = self.marginal_cdf_sf(x, alpha, sigma);
            (
                if upper { s } else { f },
                self.marginal_log_pdf(x, alpha, sigma).exp(),
            )
        };
        invert(p, upper, &eval, lo, hi, alpha * self.mean())
    }

    /// (x̂₀(x), dx̂₀/dx) at noise level (α, σ); (x/α, 1/α) at σ = 0.
    pub fn denoise(&self, x: f64, alpha: f64, sigma: f64) -> (f64, f64) {
        if sigma == 0.0 {
            return (x / alpha, 1.0 / alpha);
        }
        match self {
            Density1d::Mixture { .. } => {
                let (v, d) = self.denoise_batch(&[x], &[1.0], alpha, sigma);
                (v[0], d[0])
            }
            _ => {
                let post = self.posterior(x / alpha, sigma / alpha);
                (post.mean, alpha * post.var / (sigma * sigma))
            }
        }
    }

    /// [`Density1d::denoise`] at a batch of points, tangents `d` multiplied by dx̂₀/dx; a mixture's
    /// per-component constants are computed once per call.
    pub fn denoise_batch(
        &self,
        v: &[f64],
        d: &[f64],
        alpha: f64,
        sigma: f64,
    ) -> (Vec<f64>, Vec<f64>) {
        let (mut out_v, mut out_d) = (Vec::with_capacity(v.len()), Vec::with_capacity(v.len()));
        match self {
            Density1d::Mixture {
                weights,
                means,
                vars,
            } if sigma > 0.0 => {
                // Per component: (ln w − ½ ln C, αμ, 1/C, g = αv/C, μ).
                let consts: Vec<[f64; 5]> = weights
                    .iter()
                    .zip(means)
                    .zip(vars)
                    .map(|((w, m), var)| {
                        let c = alpha * alpha * var + sigma * sigma;
                        [
                            w.ln() - 0.5 * c.ln(),
                            alpha * m,
                            1.0 / c,
                            alpha * var / c,
                            *m,
                        ]
                    })
                    .collect();
                let mut comp = vec![[0.0; 4]; consts.len()];
                for (&x, &dx) in v.iter().zip(d) {
                    let (m, dm) = mixture_posterior(&consts, &mut comp, x);
                    out_v.push(m);
                    out_d.push(dm * dx);
                }
            }
            _ => {
                for (&x, &dx) in v.iter().zip(d) {
                    let (m, dm) = self.denoise(x, alpha, sigma);
                    out_v.push(m);
                    out_d.push(dm * dx);
                }
            }
        }
        (out_v, out_d)
    }

    /// Where p₀ lives up to [`PRIOR_TAIL`] on each side.
    fn prior_bulk(&self) -> (f64, f64) {
        match self {
            Density1d::Laplace { location, scale } => {
                let r = scale * (0.5 / PRIOR_TAIL).ln();
                (location - r, location + r)
            }
            _ => self.support(),
        }
    }

    /// Quadrature nodes on [lo, hi] split at the sorted `cuts` inside it, [`PANELS`] panels per segment,
    /// graded towards a Beta's support ends.
    fn segments(&self, cuts: &mut Vec<f64>, lo: f64, hi: f64) -> Vec<(f64, f64)> {
        cuts.retain(|v| *v >= lo && *v <= hi);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let (s_lo, s_hi) = self.support();
        let rough = matches!(self, Density1d::Beta { .. });
        let mut nodes = Vec::with_capacity(cuts.len() * PANELS * GL_POINTS * 2);
        for w in cuts.windows(2) {
            let grade = (rough && w[0] == s_lo, rough && w[1] == s_hi);
            push_panels(w[0], w[1], PANELS, grade, &mut nodes);
        }
        nodes
    }

    /// The posterior π(y) ∝ p₀(y) e^{−(y−c)²/(2w²)} on the bulk around its mode (module doc).
    fn posterior(&self, c: f64, w: f64) -> Posterior {
        let (s_lo, s_hi) = self.support();
        let g = |y: f64| self.log_pdf(y) - 0.5 * (y - c) * (y - c) / (w * w);
        let dg = |y: f64| self.dlog_pdf(y) - (y - c) / (w * w);
        // Mode: bisection on the decreasing g′ between the kernel centre and the prior's mode.
        let mode = match self {
            Density1d::Uniform { low, high } => c.clamp(*low, *high),
            _ => {
                let prior_mode = match self {
                    Density1d::Laplace { location, .. } => *location,
                    _ => 0.5 * (s_lo + s_hi),
                };
                let (mut lo, mut hi) = match self {
                    Density1d::Laplace { .. } => (c.min(prior_mode), c.max(prior_mode)),
                    _ => (s_lo, s_hi),
                };
                for _ in 0..80 {
                    let mid = 0.5 * (lo + hi);
                    if mid <= lo || mid >= hi {
                        break;
                    }
                    if dg(mid) > 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            }
        };
        let gm = g(mode);
        // Walk out from the mode, doubling, until g has dropped by DROP or the support ends.
        let d0 = w.min(self.scale()) / 8.0;
        let reach = |dir: f64, end: f64| -> f64 {
            let mut d = d0;
            loop {
                let y = mode + dir * d;
                if (dir > 0.0 && y >= end) || (dir < 0.0 && y <= end) {
                    return end;
                }
                if g(y) < gm - DROP {
                    return y;
                }
                d *= 2.0;
            }
        };
        let (lo, hi) = (reach(-1.0, s_lo), reach(1.0, s_hi));
        let mut cuts = vec![lo, mode, hi];
        if let Density1d::Laplace { location, .. } = self {
            cuts.push(*location);
        }
        let nodes = self.segments(&mut cuts, lo, hi);
        let (mut z, mut m1, mut m2) = (0.0, 0.0, 0.0);
        for (y, wt) in nodes {
            let e = wt * (g(y) - gm).exp();
            let u = y - mode;
            z += e;
            m1 += e * u;
            m2 += e * u * u;
        }
        let mu = m1 / z;
        Posterior {
            log_z: gm + z.ln(),
            mean: mode + mu,
            var: (m2 / z - mu * mu).max(0.0),
        }
    }
}

/// A mixture's x̂₀ and dx̂₀/dx at x from per-component constants (ln w − ½ ln C, αμ, 1/C, g, μ), C = α²v + σ²:
/// posterior mean μ̂ = μ + g (x − αμ), log-likelihood slope ℓ′ = −(x − αμ)/C, responsibilities r;
/// x̂₀ = Σ r μ̂ and dx̂₀/dx = Σ r g + Σ r (ℓ′ − ℓ̄′)(μ̂ − x̂₀) (no division by σ²).
fn mixture_posterior(consts: &[[f64; 5]], comp: &mut [[f64; 4]], x: f64) -> (f64, f64) {
    let mut max = f64::NEG_INFINITY;
    for (c, k) in comp.iter_mut().zip(consts) {
        let r = x - k[1];
        let log = k[0] - 0.5 * r * r * k[2];
        max = max.max(log);
        *c = [log, k[4] + k[3] * r, k[3], -r * k[2]];
    }
    let mut z = 0.0;
    for c in comp.iter_mut() {
        c[0] = (c[0] - max).exp();
        z += c[0];
    }
    let (mut mean, mut lbar, mut gbar) = (0.0, 0.0, 0.0);
    for c in comp.iter() {
        let r = c[0] / z;
        mean += r * c[1];
        lbar += r * c[3];
        gbar += r * c[2];
    }
    let cov: f64 = comp
        .iter()
        .map(|c| c[0] / z * (c[3] - lbar) * (c[1] - mean))
        .sum();
    (mean, gbar + cov)
}

/// A mixture noised to (α, σ): its components' (weight, mean α μ, variance α² v + σ²).
fn noised<'m>(
    weights: &'m [f64],
    means: &'m [f64],
    vars: &'m [f64],
    alpha: f64,
    sigma: f64,
) -> impl Iterator<Item = (f64, f64, f64)> + Clone + 'm {
    weights
        .iter()
        .zip(means)
        .zip(vars)
        .map(move |((w, m), v)| (*w, alpha * m, alpha * alpha * v + sigma * sigma))
}

/// ln of Σ w N(x; m, v) over `comps`.
fn mixture_log_pdf(comps: impl Iterator<Item = (f64, f64, f64)> + Clone, x: f64) -> f64 {
    log_sum_exp(
        comps.map(|(w, m, v)| w.ln() - 0.5 * (2.0 * PI * v).ln() - 0.5 * (x - m) * (x - m) / v),
    )
}

/// (F, 1 − F) of Σ w N(m, v) over `comps` at x.
fn mixture_cdf_sf(comps: impl Iterator<Item = (f64, f64, f64)>, x: f64) -> (f64, f64) {
    comps.fold((0.0, 0.0), |(f, s), (w, m, v)| {
        let z = (x - m) / v.sqrt();
        (f + w * normal_cdf(z), s + w * normal_cdf(-z))
    })
}

/// ln Σ e^{l_i}.
fn log_sum_exp(logs: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = logs.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + logs.map(|l| (l - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean of N(c, w²) truncated to [lo, hi]: c + w (φ(α) − φ(β))/(Φ(β) − Φ(α)) (closed form). statrs' erfc
    /// is good to ~1e-11 relative beyond 10 standard deviations, so the cases stay inside that.
    fn truncated_normal_mean(c: f64, w: f64, lo: f64, hi: f64) -> f64 {
        let phi = |z: f64| (-0.5 * z * z).exp() / (2.0 * PI).sqrt();
        let (a, b) = ((lo - c) / w, (hi - c) / w);
        // Mass Φ(b) − Φ(a), through the upper tail when a > 0 (no cancellation).
        let mass = if a > 0.0 {
            normal_cdf(-a) - normal_cdf(-b)
        } else {
            normal_cdf(b) - normal_cdf(a)
        };
        c + w * (phi(a) - phi(b)) / mass
    }

    #[test]
    fn gauss_legendre_rule_is_exact_on_polynomials() {
        let (xs, ws) = gauss_legendre_rule();
        for k in 0..(2 * GL_POINTS) {
            let q: f64 = xs.iter().zip(ws).map(|(x, w)| w * x.powi(k as i32)).sum();
            let exact = if k % 2 == 1 {
                0.0
            } else {
                2.0 / (k as f64 + 1.0)
            };
            assert!((q - exact).abs() < 1e-14, "k = {k}: {q} vs {exact}");
        }
    }

    #[test]
    fn uniform_denoiser_matches_truncated_normal() {
        let u = Density1d::uniform(-1.0, 2.0).unwrap();
        for &(x, alpha, sigma) in &[
            (0.3, 0.9, 0.5),
            (1.9, 1.0, 1e-4),
            (-1.0, 0.99, 1e-3),
            (2.2, 1.0, 0.1),
            (0.0, 0.01, 1.0),
            (-3.0, 1.0, 0.3),
        ] {
            let (c, w) = (x / alpha, sigma / alpha);
            let exact = truncated_normal_mean(c, w, -1.0, 2.0);
            let (m, _) = u.denoise(x, alpha, sigma);
            assert!((m - exact).abs() < 1e-12, "x {x} σ {sigma}: {m} vs {exact}");
        }
    }

    #[test]
    fn denoiser_derivative_matches_central_difference() {
        let laws = [
            Density1d::uniform(-1.0, 2.0).unwrap(),
            Density1d::laplace(0.5, 0.7).unwrap(),
            Density1d::beta(2.5, 1.5, -1.0, 1.0).unwrap(),
            Density1d::mixture(vec![0.3, 0.7], vec![-1.0, 1.0], vec![0.05, 0.2]).unwrap(),
        ];
        let delta = 1e-5;
        for law in &laws {
            for &(x, alpha, sigma) in &[(0.3, 0.9, 0.4), (0.9, 0.99, 0.05), (-2.0, 0.5, 0.8)] {
                let (_, d) = law.denoise(x, alpha, sigma);
                let fd = (law.denoise(x + delta, alpha, sigma).0
                    - law.denoise(x - delta, alpha, sigma).0)
                    / (2.0 * delta);
                assert!(
                    (d - fd).abs() < crate::tol::CENTRAL_DIFF * (1.0 + d.abs()) * 100.0,
                    "{law:?} x {x}: {d} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn marginal_integrates_to_its_cdf() {
        // p_t by the posterior normaliser, F_t by the prior integral: two routes that must agree.
        let laws = [
            Density1d::uniform(-1.0, 2.0).unwrap(),
            Density1d::laplace(0.5, 0.7).unwrap(),
            Density1d::beta(2.0, 3.0, 0.0, 1.0).unwrap(),
        ];
        for law in &laws {
            let (alpha, sigma) = (0.8, 0.3);
            let (a, b) = (-0.4, 1.1);
            let integral = crate::quadrature::gauss_legendre(
                &|x| law.marginal_log_pdf(x, alpha, sigma).exp(),
                a,
                b,
                40,
            );
            let fa = law.marginal_cdf_sf(a, alpha, sigma).0;
            let (fb, sb) = law.marginal_cdf_sf(b, alpha, sigma);
            assert!((integral - (fb - fa)).abs() < 1e-12, "{law:?}");
            assert!((fb + sb - 1.0).abs() < 1e-13, "{law:?}");
        }
    }

    #[test]
    fn quantiles_invert_the_cdf_in_both_tails() {
        let laws = [
            Density1d::mixture(vec![0.3, 0.7], vec![-1.0, 1.0], vec![0.05, 0.2]).unwrap(),
            Density1d::laplace(0.5, 0.7).unwrap(),
            Density1d::beta(2.0, 3.0, 0.0, 1.0).unwrap(),
            Density1d::uniform(-1.0, 2.0).unwrap(),
        ];
        for law in &laws {
            for &p in &[1e-15, 1e-6, 0.3, 0.5] {
                // Newton stops at a step of 4ε(1 + |y|): allow that step's change of F plus 1e-10 relative.
                let allowed =
                    |y: f64| 1e-10 * p + 8.0 * f64::EPSILON * (1.0 + y.abs()) * law.pdf(y);
                let y = law.quantile(p, 0.0);
                assert!((law.cdf_sf(y).0 - p).abs() <= allowed(y), "{law:?} p {p}");
                let z = law.quantile_upper(p, 0.0);
                assert!((law.cdf_sf(z).1 - p).abs() <= allowed(z), "{law:?} q {p}");
            }
        }
    }
}
