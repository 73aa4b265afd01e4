//! Exact 1-D output laws of the crate's samplers by quadrature, no Monte Carlo (issue 9, ENGINE-2).
//!
//! - Deterministic samplers: the output is a map Φ of x_T. The sampler runs once on [`Duals`] from
//!   Gauss–Legendre nodes over p_T with tangent 1, giving Φ and Φ′ from its own code; then, with F_T the
//!   start CDF and Q₀ the data quantile,
//!   W2² = ∫ (Φ − Q₀∘F_T)² p_T, W1 = ∫ |Φ − Q₀∘F_T| p_T, KS = sup |F_T − F₀∘Φ|,
//!   TV = ½∫ |p_T − p₀(Φ)Φ′|, KL(out ‖ p₀) = ∫ p_T ln(p_T/(Φ′ p₀(Φ))) (+∞ where p₀(Φ) = 0).
//!   These formulas assume Φ increasing: [`Law1d::monotone`] says whether Φ′ > 0 at every node (if not,
//!   W1/W2 are the costs of one coupling, upper bounds, and TV/KL are not the output's).
//! - One-step stochastic samplers: each step is x ↦ m(x) + c(x) z. m and c come from the sampler's own
//!   `step` on [`Duals`] (tangent 0, noise (0, 1)); the density is carried on a grid refitted every step,
//!   p_{k+1}(y) = Σ_i w_i p_k(x_i) N(y; m(x_i), c(x_i)²), whose spacing resolves the kernel
//!   (module `stochastic`). A step with c ≡ 0 pushes the grid forward deterministically.
//! - Multistep stochastic samplers (SDE-DPM-Solver++ 2M) keep noise in their history: refused, they stay
//!   Monte Carlo.
//!
//! Every result is computed at two resolutions (n and 2n panels, or grid factor κ and 2κ); the finer
//! one is returned and the difference is reported as its accuracy ([`Law1d::error`]).

mod density;
mod duals;
mod stochastic;

pub use density::{normal_cdf, Density1d, DROP};
pub use duals::{Duals, TangentNoise};

use crate::algebra::Denoiser;
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use anyhow::{bail, ensure, Result};

/// Start-law mass left out of the deterministic route's domain on each side: the integrands are bounded
/// by p_T·O(1), so the truncation is ~1e-17 absolute.
pub const START_TAIL: f64 = 1e-17;

/// The law of x_T the sampler starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The data law's exact marginal p_T at `times[0]` (the affine-form engine's start).
    Marginal,
    /// The prior N(0, σ_T²).
    Prior,
}

/// Resolution of the two routes; each runs at this and at double resolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// Gauss–Legendre panels (16 points each) over p_T's domain (deterministic route).
    pub panels: usize,
    /// Grid points per kernel standard deviation (stochastic route).
    pub kappa: f64,
}

impl Default for Accuracy {
    fn default() -> Self {
        Self {
            panels: 32,
            kappa: 3.0,
        }
    }
}

/// Distances from the output law to the data law p₀.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distances {
    pub w1: f64,
    pub w2: f64,
    pub ks: f64,
    pub tv: f64,
    pub kl: f64,
}

impl Distances {
    /// |self − other| per field (0 where both are +∞).
    fn diff(&self, o: &Distances) -> Distances {
        let d = |a: f64, b: f64| if a == b { 0.0 } else { (a - b).abs() };
        Distances {
            w1: d(self.w1, o.w1),
            w2: d(self.w2, o.w2),
            ks: d(self.ks, o.ks),
            tv: d(self.tv, o.tv),
            kl: d(self.kl, o.kl),
        }
    }
}

/// Which route computed the law.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Φ and Φ′ by duals, integrals by Gauss–Legendre over p_T.
    Map,
    /// Density propagated on a grid through Gaussian kernels.
    Grid,
}

/// The sampler, its time grid and the laws: what a route needs.
#[derive(Clone)]
struct Problem<'a> {
    sampler: Sampler,
    schedule: &'a dyn Schedule,
    times: &'a [f64],
    /// The denoiser the sampler queries (the data law's own, unless [`output_law_model`] says otherwise).
    model: &'a dyn Denoiser<Duals>,
    /// The law distances are measured to (p₀ unless [`output_law_vs`] says otherwise).
    reference: &'a Density1d,
    /// p_T as (law, α, σ): the data law noised, or N(0, σ_T²) at σ = 0.
    start: (Density1d, f64, f64),
    /// Factor on every injected noise draw (1: the sampler as written).
    noise_scale: f64,
}

impl Problem<'_> {
    fn start_log_pdf(&self, x: f64) -> f64 {
        let (law, a, s) = &self.start;
        law.marginal_log_pdf(x, *a, *s)
    }
    fn start_cdf_sf(&self, x: f64) -> (f64, f64) {
        let (law, a, s) = &self.start;
        law.marginal_cdf_sf(x, *a, *s)
    }
    /// [lower, upper] start quantiles at `tail`.
    fn start_domain(&self, tail: f64) -> (f64, f64) {
        let (law, a, s) = &self.start;
        (
            law.marginal_quantile(tail, false, *a, *s),
            law.marginal_quantile(tail, true, *a, *s),
        )
    }
    /// Run the (deterministic) sampler from `x` with tangent 1: (Φ, Φ′).
    fn map(&self, x: Vec<f64>) -> Result<Duals> {
        let mut noise = TangentNoise::new(0.0);
        let out = self.sampler.run(
            self.schedule,
            self.times,
            Duals::seeded(x, 1.0),
            self.model,
            &mut noise,
        );
        ensure!(
            noise.draws == 0,
            "{} drew noise on the deterministic route",
            self.sampler.label()
        );
        Ok(out)
    }
}

enum Repr<'a> {
    /// Nodes x, Φ(x), and the start's mass w·p_T at each node.
    Map {
        problem: Problem<'a>,
        x: Vec<f64>,
        phi: Vec<f64>,
        mass: Vec<f64>,
    },
    /// Final grid y, density, mass w·p, CDF.
    Grid {
        y: Vec<f64>,
        p: Vec<f64>,
        mass: Vec<f64>,
        f: Vec<f64>,
    },
}

/// The exact output law of a sampler on 1-D data, with its distances to p₀.
pub struct Law1d<'a> {
    /// W1(out, p₀).
    pub w1: f64,
    /// W2(out, p₀).
    pub w2: f64,
    /// Kolmogorov–Smirnov sup |F_out − F₀|.
    pub ks: f64,
    /// Total variation ½∫|p_out − p₀|.
    pub tv: f64,
    /// KL(out ‖ p₀) (+∞ when the output has mass where p₀ has none).
    pub kl: f64,
    /// |distances at resolution n − distances at 2n|: the stated accuracy.
    pub error: Distances,
    /// Φ′ > 0 at every node (deterministic), m′ > 0 at every pushed node (stochastic).
    pub monotone: bool,
    /// min Φ′ over the nodes (deterministic route; NaN on the grid route).
    pub min_slope: f64,
    /// Stochastic route: min over steps and mass-carrying nodes of c/(spacing·m′), the kernel width in
    /// source spacings (the grid sum's error is ~e^{−2π²r²}); +∞ on the map route.
    pub resolution: f64,
    /// Nodes of the finer run (quadrature nodes or final grid points).
    pub nodes: usize,
    pub route: Route,
    repr: Option<Repr<'a>>,
}

impl<'a> Law1d<'a> {
    /// The finer run's distances `d1` with their difference to the coarser `d0`; the route fills the rest.
    fn new(d0: Distances, d1: Distances, route: Route, resolution: f64) -> Self {
        Law1d {
            w1: d1.w1,
            w2: d1.w2,
            ks: d1.ks,
            tv: d1.tv,
            kl: d1.kl,
            error: d1.diff(&d0),
            monotone: true,
            min_slope: f64::NAN,
            resolution,
            nodes: 0,
            route,
            repr: None,
        }
    }

    fn repr(&self) -> &Repr<'a> {
        self.repr.as_ref().expect("set by output_law")
    }

    /// The distances as one record.
    pub fn distances(&self) -> Distances {
        Distances {
            w1: self.w1,
            w2: self.w2,
            ks: self.ks,
            tv: self.tv,
            kl: self.kl,
        }
    }

    /// The output density at the points `ys`. Map route: Φ inverted by Newton on the sampler run on duals
    /// (p_out(y) = p_T(x)/Φ′(x), Φ(x) = y); 0 outside Φ's range over the domain. Grid route: cubic
    /// Lagrange interpolation of the final grid.
    ///
    /// # Errors
    /// A sampler run that fails (map route).
    pub fn density_on(&self, ys: &[f64]) -> Result<Vec<f64>> {
        match self.repr() {
            Repr::Grid { y, p, .. } => Ok(ys.iter().map(|&v| interpolate(y, p, v)).collect()),
            Repr::Map { problem, .. } => Ok(self
                .invert(ys)?
                .into_iter()
                .map(|inv| inv.map_or(0.0, |(x, slope)| problem.start_log_pdf(x).exp() / slope))
                .collect()),
        }
    }

    /// The output CDF at the points `ys` (map route: F_T(Φ⁻¹(y)); grid route: interpolated).
    ///
    /// # Errors
    /// A sampler run that fails (map route).
    pub fn cdf_on(&self, ys: &[f64]) -> Result<Vec<f64>> {
        match self.repr() {
            Repr::Grid { y, f, .. } => Ok(ys
                .iter()
                .map(|&v| {
                    if v < y[0] {
                        0.0
                    } else if v > y[y.len() - 1] {
                        1.0
                    } else {
                        interpolate(y, f, v)
                    }
                })
                .collect()),
            Repr::Map { problem, phi, .. } => Ok(self
                .invert(ys)?
                .into_iter()
                .zip(ys)
                .map(|(inv, &y)| match inv {
                    Some((x, _)) => problem.start_cdf_sf(x).0,
                    None if y <= phi[0] => 0.0,
                    None => 1.0,
                })
                .collect()),
        }
    }

    /// Mean and variance of the output law, by the route's quadrature.
    pub fn mean_var(&self) -> (f64, f64) {
        let (pts, mass) = match self.repr() {
            Repr::Map { phi, mass, .. } => (phi, mass),
            Repr::Grid { y, mass, .. } => (y, mass),
        };
        let total: f64 = mass.iter().sum();
        let mean = pts.iter().zip(mass).map(|(y, m)| y * m).sum::<f64>() / total;
        let var = pts
            .iter()
            .zip(mass)
            .map(|(y, m)| (y - mean) * (y - mean) * m)
            .sum::<f64>()
            / total;
        (mean, var)
    }

    /// Map route: for each y inside Φ's range, (x, Φ′(x)) with Φ(x) = y, by Newton on the sampler run on
    /// duals from linear interpolation of Φ⁻¹ on the nodes.
    fn invert(&self, ys: &[f64]) -> Result<Vec<Option<(f64, f64)>>> {
        let Repr::Map {
            problem, x, phi, ..
        } = self.repr()
        else {
            unreachable!("map route only")
        };
        let (lo, hi) = (phi[0], phi[phi.len() - 1]);
        let inside: Vec<usize> = (0..ys.len())
            .filter(|&i| ys[i] > lo && ys[i] < hi)
            .collect();
        let mut out = vec![None; ys.len()];
        if inside.is_empty() {
            return Ok(out);
        }
        let target: Vec<f64> = inside.iter().map(|&i| ys[i]).collect();
        // Bracket each target between consecutive nodes (Φ increasing on them), so Newton stays in the
        // bracket and falls back to bisection when a step would leave it (a plain Newton iteration can
        // jump to the far side of a steep stretch of Φ and return a wrong root, unnoticed).
        let mut bracket: Vec<(f64, f64)> = target
            .iter()
            .map(|&v| {
                let j = phi.partition_point(|&a| a <= v).clamp(1, phi.len() - 1);
                (x[j - 1], x[j])
            })
            .collect();
        let mut xs: Vec<f64> = target.iter().map(|&v| interp_linear(phi, x, v)).collect();
        let mut run = problem.map(xs.clone())?;
        for _ in 0..100 {
            // Converged points stay where they are (a bisection from an exact root would leave it).
            let worst = (0..xs.len())
                .map(|i| (run.v[i] - target[i]).abs() / (1.0 + target[i].abs()))
                .fold(0.0, f64::max);
            if worst < 1e-14 {
                break;
            }
            for (i, xi) in xs.iter_mut().enumerate() {
                let r = run.v[i] - target[i];
                let (lo, hi) = &mut bracket[i];
                if r > 0.0 {
                    *hi = *xi;
                } else {
                    *lo = *xi;
                }
                let nx = *xi - r / run.d[i];
                *xi = if nx >= *lo && nx <= *hi {
                    nx
                } else {
                    0.5 * (*lo + *hi)
                };
            }
            run = problem.map(xs.clone())?;
        }
        for (k, &i) in inside.iter().enumerate() {
            out[i] = Some((xs[k], run.d[k]));
        }
        Ok(out)
    }
}

/// The exact output law of `sampler` run along `times` on the 1-D data law `data`, from `start`.
///
/// One DDIM(η = 0) step from the exact p_1 into σ = 0 on N(m, v) is the affine map
/// x ↦ m + k(x − α_1 m), k = α_1 v/(α_1² v + σ_1²), so the output is N(m, k²(α_1² v + σ_1²)) and
/// W2 = |√v − k√(α_1² v + σ_1²)|; the quadrature route reproduces it to its stated accuracy:
///
/// ```
/// use diffusion_claims::law1d::{output_law, Accuracy, Density1d, Start};
/// use diffusion_claims::sampler::Sampler;
/// use diffusion_claims::schedule::{Schedule, VpLinear};
///
/// let (m, v) = (0.5, 2.0);
/// let data = Density1d::gaussian(m, v).unwrap();
/// let sch = VpLinear::default();
/// let law = output_law(Sampler::Ddim { eta: 0.0 }, &sch, &[1.0, 0.0], &data, Start::Marginal,
///     Accuracy::default()).unwrap();
/// let (a, s) = (sch.alpha(1.0), sch.sigma(1.0));
/// let sd_out = a * v / (a * a * v + s * s).sqrt();
/// assert!((law.w2 - (v.sqrt() - sd_out).abs()).abs() < 1e-9);
/// ```
///
/// # Errors
/// A multistep stochastic sampler (stays Monte Carlo), fewer than two times, or a stochastic step that
/// draws noise more than once.
pub fn output_law<'a>(
    sampler: Sampler,
    schedule: &'a dyn Schedule,
    times: &'a [f64],
    data: &'a Density1d,
    start: Start,
    accuracy: Accuracy,
) -> Result<Law1d<'a>> {
    output_law_vs(sampler, schedule, times, data, data, start, accuracy)
}

/// [`output_law`] with the distances measured to `reference` instead of p₀ (e.g. the exact p_{t_min}
/// that an exact solver reaches).
///
/// # Errors
/// As [`output_law`].
pub fn output_law_vs<'a>(
    sampler: Sampler,
    schedule: &'a dyn Schedule,
    times: &'a [f64],
    data: &'a Density1d,
    reference: &'a Density1d,
    start: Start,
    accuracy: Accuracy,
) -> Result<Law1d<'a>> {
    output_law_noise_scaled(
        sampler, schedule, times, data, reference, start, accuracy, 1.0,
    )
}

/// [`output_law_vs`] with every noise draw of the sampler multiplied by `noise_scale` (a sampler whose
/// injected variance is scaled, e.g. temperature-scaled diffusion, RV-5, without a new sampler).
///
/// # Errors
/// As [`output_law`].
#[allow(clippy::too_many_arguments)]
pub fn output_law_noise_scaled<'a>(
    sampler: Sampler,
    schedule: &'a dyn Schedule,
    times: &'a [f64],
    data: &'a Density1d,
    reference: &'a Density1d,
    start: Start,
    accuracy: Accuracy,
    noise_scale: f64,
) -> Result<Law1d<'a>> {
    ensure!(times.len() >= 2, "a run needs at least two times");
    if sampler.is_stochastic() && sampler.history_len() > 0 {
        bail!(
            "{}: a multistep stochastic sampler carries its injected noise in its history, so one step is \
             not a Gaussian kernel of the current state alone; its law stays Monte Carlo",
            sampler.label()
        );
    }
    let (a, s) = (schedule.alpha(times[0]), schedule.sigma(times[0]));
    let start = match start {
        Start::Marginal => (data.clone(), a, s),
        Start::Prior => (Density1d::gaussian(0.0, s * s)?, 1.0, 0.0),
    };
    output_law_started(
        sampler,
        schedule,
        times,
        data,
        reference,
        start,
        accuracy,
        noise_scale,
    )
}

/// [`output_law_noise_scaled`] from any start law: x_T = α x + σ z with x ~ `start.0`, (α, σ) =
/// (`start.1`, `start.2`) — e.g. another law's noised marginal (a fine-tuned sampler started from the
/// pretrained p_T, RL-3).
///
/// # Errors
/// As [`output_law`].
#[allow(clippy::too_many_arguments)]
pub fn output_law_started<'a>(
    sampler: Sampler,
    schedule: &'a dyn Schedule,
    times: &'a [f64],
    data: &'a Density1d,
    reference: &'a Density1d,
    start: (Density1d, f64, f64),
    accuracy: Accuracy,
    noise_scale: f64,
) -> Result<Law1d<'a>> {
    ensure!(times.len() >= 2, "a run needs at least two times");
    if sampler.is_stochastic() && sampler.history_len() > 0 {
        bail!(
            "{}: a multistep stochastic sampler carries its injected noise in its history; its law stays \
             Monte Carlo",
            sampler.label()
        );
    }
    let problem = Problem {
        sampler,
        schedule,
        times,
        model: data,
        reference,
        start,
        noise_scale,
    };
    solve(problem, accuracy)
}

/// The exact output law of `sampler` run along `times` with the denoiser `model` (any field on duals: a
/// guided one, GD-1…GD-4), started from `start` = (law, α, σ), i.e. the law noised at (α, σ) (α = 1, σ = 0:
/// the law itself), with distances measured to `reference`. [`output_law_vs`] is this with the data law's
/// own denoiser and start.
///
/// # Errors
/// As [`output_law`].
#[allow(clippy::too_many_arguments)]
pub fn output_law_model<'a>(
    sampler: Sampler,
    schedule: &'a dyn Schedule,
    times: &'a [f64],
    model: &'a dyn Denoiser<Duals>,
    start: (Density1d, f64, f64),
    reference: &'a Density1d,
    accuracy: Accuracy,
) -> Result<Law1d<'a>> {
    ensure!(times.len() >= 2, "a run needs at least two times");
    if sampler.is_stochastic() && sampler.history_len() > 0 {
        bail!(
            "{}: a multistep stochastic sampler carries its injected noise in its history, so one step is \
             not a Gaussian kernel of the current state alone; its law stays Monte Carlo",
            sampler.label()
        );
    }
    let problem = Problem {
        sampler,
        schedule,
        times,
        model,
        reference,
        start,
        noise_scale: 1.0,
    };
    solve(problem, accuracy)
}

/// Both routes of the module doc on a set-up problem.
fn solve(problem: Problem<'_>, accuracy: Accuracy) -> Result<Law1d<'_>> {
    let (sampler, reference) = (problem.sampler, problem.reference);
    if sampler.is_stochastic() {
        let coarse = stochastic::propagate(&problem, accuracy.kappa)?;
        let fine = stochastic::propagate(&problem, 2.0 * accuracy.kappa)?;
        let (d0, d1) = (coarse.distances(reference), fine.distances(reference));
        let mut law = Law1d::new(d0, d1, Route::Grid, fine.resolution);
        law.monotone = fine.monotone;
        law.nodes = fine.y.len();
        law.repr = Some(Repr::Grid {
            mass: fine.w.iter().zip(&fine.p).map(|(a, b)| a * b).collect(),
            y: fine.y,
            p: fine.p,
            f: fine.f,
        });
        Ok(law)
    } else {
        let (lo, hi) = problem.start_domain(START_TAIL);
        let coarse = map_route(&problem, &layout(&problem, lo, hi, accuracy.panels)?)?;
        let fine = map_route(&problem, &layout(&problem, lo, hi, 2 * accuracy.panels)?)?;
        let (x, phi, min_slope, mass) = (fine.1, fine.2, fine.3, fine.4);
        let mut law = Law1d::new(coarse.0, fine.0, Route::Map, f64::INFINITY);
        law.monotone = min_slope > 0.0;
        law.min_slope = min_slope;
        law.nodes = x.len();
        law.repr = Some(Repr::Map {
            problem,
            x,
            phi,
            mass,
        });
        Ok(law)
    }
}

/// The map route on the panels between `cuts`: (distances, nodes, Φ at the nodes, min Φ′, start mass w·p_T).
type MapRun = (Distances, Vec<f64>, Vec<f64>, f64, Vec<f64>);
fn map_route(problem: &Problem, cuts: &[f64]) -> Result<MapRun> {
    let mut nodes = Vec::with_capacity(cuts.len() * 16);
    for c in cuts.windows(2) {
        density::push_panels(c[0], c[1], 1, (false, false), &mut nodes);
    }
    let (x, w): (Vec<f64>, Vec<f64>) = nodes.into_iter().unzip();
    let out = problem.map(x.clone())?;
    let p: Vec<f64> = x.iter().map(|&v| problem.start_log_pdf(v).exp()).collect();
    let (f, s): (Vec<f64>, Vec<f64>) = x.iter().map(|&v| problem.start_cdf_sf(v)).unzip();
    let min_slope = out.d.iter().cloned().fold(f64::INFINITY, f64::min);
    let dist = distances(
        problem.reference,
        &Pushed {
            w: &w,
            p: &p,
            f: &f,
            s: &s,
            phi: &out.v,
            dphi: &out.d,
        },
    );
    let mass = w.iter().zip(&p).map(|(a, b)| a * b).collect();
    Ok((dist, x, out.v, min_slope, mass))
}

/// Pilot points for the panel layout.
const PILOT: usize = 513;

/// Panel boundaries on [lo, hi] equidistributing the arc lengths of Φ and of the optimal map T to the
/// reference (in units of the domain and of their ranges), from a pilot run on [`PILOT`] points: a mixture's transport map is steep between its modes,
/// and equal panels there would need many times the nodes.
fn layout(problem: &Problem, lo: f64, hi: f64, panels: usize) -> Result<Vec<f64>> {
    let xs: Vec<f64> = (0..PILOT)
        .map(|i| lo + (hi - lo) * i as f64 / (PILOT - 1) as f64)
        .collect();
    let pilot = problem.map(xs.clone())?;
    let range = (pilot.v[PILOT - 1] - pilot.v[0])
        .abs()
        .max(f64::MIN_POSITIVE);
    // The optimal map T = Q_ref∘F_T to the reference law enters W1/W2 as Φ − T: where it is steep (the
    // reference's valleys) and Φ is not (a few steps put Φ's jump elsewhere), panels must follow T too.
    let mut guess = problem.reference.mean();
    let t: Vec<f64> = xs
        .iter()
        .map(|&x| {
            let (f, s) = problem.start_cdf_sf(x);
            let q = problem.reference.quantile_pair(f, s, guess);
            if q.is_finite() {
                guess = q;
            }
            q
        })
        .collect();
    let t_range = (t[PILOT - 1] - t[0]).abs();
    let t_scale = if t_range.is_finite() && t_range > 0.0 {
        (hi - lo) / t_range
    } else {
        0.0
    };
    // Chord lengths, not the trapezoid of |Φ′|: a jump narrower than the pilot spacing still counts fully.
    let mut cum = vec![0.0; PILOT];
    for i in 1..PILOT {
        let dx = xs[i] - xs[i - 1];
        let dphi = (pilot.v[i] - pilot.v[i - 1]) * (hi - lo) / range;
        let dt = (t[i] - t[i - 1]) * t_scale;
        let dt = if dt.is_finite() { dt } else { 0.0 };
        cum[i] = cum[i - 1] + (dx * dx + dphi * dphi + dt * dt).sqrt();
    }
    let total = cum[PILOT - 1];
    let mut cuts: Vec<f64> = (0..=panels)
        .map(|k| interp_linear(&cum, &xs, total * k as f64 / panels as f64))
        .collect();
    cuts[0] = lo;
    cuts[panels] = hi;
    Ok(cuts)
}

/// A law on nodes (quadrature weights `w`, density `p`, CDF pair `f`, `s`) pushed through an increasing
/// map with values `phi` and slopes `dphi`.
pub(crate) struct Pushed<'b> {
    pub w: &'b [f64],
    pub p: &'b [f64],
    pub f: &'b [f64],
    pub s: &'b [f64],
    pub phi: &'b [f64],
    pub dphi: &'b [f64],
}

/// The module doc's integrals. TV adds ½ of p₀'s mass beyond Φ's range over the nodes.
pub(crate) fn distances(data: &Density1d, l: &Pushed) -> Distances {
    let (mut w1, mut w2sq, mut ks, mut tv, mut kl) = (0.0, 0.0, 0.0f64, 0.0, 0.0);
    let mut guess = data.mean();
    for i in 0..l.w.len() {
        let (wi, pi, yi) = (l.w[i], l.p[i], l.phi[i]);
        let q0 = data.quantile_pair(l.f[i], l.s[i], guess);
        if q0.is_finite() {
            guess = q0;
        }
        let e = yi - q0;
        w1 += wi * pi * e.abs();
        w2sq += wi * pi * e * e;
        let (f0, s0) = data.cdf_sf(yi);
        ks = ks.max(if l.f[i] <= l.s[i] {
            (l.f[i] - f0).abs()
        } else {
            (l.s[i] - s0).abs()
        });
        let log_p0 = data.log_pdf(yi);
        let out = log_p0.exp() * l.dphi[i];
        tv += 0.5 * wi * (pi - out).abs();
        if pi > 0.0 {
            kl += if log_p0 == f64::NEG_INFINITY || l.dphi[i] <= 0.0 {
                f64::INFINITY
            } else {
                wi * pi * (pi.ln() - l.dphi[i].ln() - log_p0)
            };
        }
    }
    let n = l.phi.len();
    tv += 0.5 * (data.cdf_sf(l.phi[0]).0 + data.cdf_sf(l.phi[n - 1]).1);
    Distances {
        w1,
        w2: w2sq.sqrt(),
        ks,
        tv,
        kl,
    }
}

/// Linear interpolation of (xs → ys) at v, xs increasing.
fn interp_linear(xs: &[f64], ys: &[f64], v: f64) -> f64 {
    let j = xs.partition_point(|&a| a <= v).clamp(1, xs.len() - 1);
    let t = (v - xs[j - 1]) / (xs[j] - xs[j - 1]);
    ys[j - 1] + t * (ys[j] - ys[j - 1])
}

/// Cubic Lagrange interpolation through the four nodes around v (0 outside [xs₀, xs_last]).
fn interpolate(xs: &[f64], ys: &[f64], v: f64) -> f64 {
    let n = xs.len();
    if v < xs[0] || v > xs[n - 1] || n < 4 {
        return if n < 4 && v >= xs[0] && v <= xs[n - 1] {
            interp_linear(xs, ys, v)
        } else {
            0.0
        };
    }
    let j = xs.partition_point(|&a| a <= v).clamp(2, n - 2) - 2;
    let mut out = 0.0;
    for a in j..j + 4 {
        let mut l = 1.0;
        for b in j..j + 4 {
            if a != b {
                l *= (v - xs[b]) / (xs[a] - xs[b]);
            }
        }
        out += l * ys[a];
    }
    out
}
