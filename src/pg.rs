//! Pierret & Galerne (ICML 2025), "Diffusion models for Gaussian distributions: exact solutions and
//! Wasserstein errors": their setting, run through the exact-law engine (issue 4; claims PG-*).
//!
//! * Forward SDE dx = −β_t x dt + √(2β_t) dW, β linear from 0.05 to 10 on [0, T = 1] ([`PgVp`]). Its
//!   marginals are x_t = e^{−B_t} x_0 + √(1 − e^{−2B_t}) z, B_t = ∫_0^t β: the same α, σ as Song's
//!   `VpLinear { beta0: 0.1, beta1: 20 }` (their β is twice this one, and their α = exp(−½∫β)).
//! * Sampler grid: N points t_k = (T − ε) k/(N − 1) in sampler time, i.e. forward times T − t_k
//!   ([`forward_grid`]), N − 1 steps, initialised from p_T or N(0, I) ([`Init`]).
//! * Schemes ([`Scheme`]) are crate [`Sampler`]s run on [`Form`]s with the exact [`Gaussian`] denoiser:
//!   EM, EI, DDPM (β^D_k = 2Δt β(T − t_k)), Euler, Heun, RK4 as in the paper, plus samplers it does not
//!   cover (DDIM, DPM-Solver-1/++1; add more to [`extra_schemes`]).
//! * [`recursion_variance`] is an independent per-eigenvalue implementation of the paper's variance
//!   recursions (PIERRET-GALERNE.md, "Schemes"), written without the engine, the schedule trait or the
//!   samplers, to check the engine against.
//! * [`sde_variance_from_n0`], [`ode_variance_from_n0`], [`marginal_variance`]: the closed-form laws of
//!   the continuous samplers.

use crate::algebra::Form;
use crate::metrics::{kl_commuting, w2_commuting};
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use crate::target::Gaussian;
use anyhow::{bail, ensure, Result};
use nalgebra::DVector;

/// The paper's horizon T.
pub const T: f64 = 1.0;

/// The paper's VP schedule (PG "Conventions"): β_t = β_min + (β_max − β_min) t, B_t = ∫_0^t β,
/// α = e^{−B_t}, σ = √(1 − e^{−2B_t}), f = −β_t, g² = 2β_t.
#[derive(Clone, Debug)]
pub struct PgVp {
    pub beta_min: f64,
    pub beta_max: f64,
}

impl Default for PgVp {
    /// β_min = 0.1/2, β_max = 20/2 (Song's constants halved, the paper's factor-2 convention).
    fn default() -> Self {
        Self {
            beta_min: 0.05,
            beta_max: 10.0,
        }
    }
}

impl PgVp {
    /// β_t.
    pub fn beta(&self, t: f64) -> f64 {
        self.beta_min + (self.beta_max - self.beta_min) * t
    }
    /// B_t = β_min t + (β_max − β_min) t²/2.
    pub fn big_b(&self, t: f64) -> f64 {
        self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t
    }
}

impl Schedule for PgVp {
    fn name(&self) -> &'static str {
        "pg-vp"
    }
    fn alpha(&self, t: f64) -> f64 {
        (-self.big_b(t)).exp()
    }
    fn sigma(&self, t: f64) -> f64 {
        (-(-2.0 * self.big_b(t)).exp_m1()).sqrt()
    }
    fn dalpha(&self, t: f64) -> f64 {
        -self.beta(t) * self.alpha(t)
    }
    fn dsigma(&self, t: f64) -> f64 {
        let a = self.alpha(t);
        self.beta(t) * a * a / self.sigma(t)
    }
    fn t_range(&self) -> (f64, f64) {
        (0.0, T)
    }
    /// f = −β_t in closed form (the default α̇/α equals it up to rounding).
    fn f(&self, t: f64) -> f64 {
        -self.beta(t)
    }
    /// g² = 2β_t in closed form: finite at t = 0, where the default 2σσ̇ − 2fσ² is 0·∞.
    fn g2(&self, t: f64) -> f64 {
        2.0 * self.beta(t)
    }
    /// λ = −B − ½ log(1 − e^{−2B}) inverted: B = ½ log(1 + e^{−2λ}), then the quadratic in t.
    fn t_of_logsnr(&self, logsnr: f64) -> f64 {
        let b = 0.5 * (-2.0 * logsnr).exp().ln_1p();
        let a = 0.5 * (self.beta_max - self.beta_min);
        2.0 * b / (self.beta_min + (self.beta_min * self.beta_min + 4.0 * a * b).sqrt())
    }
}

/// How the sampler is initialised (PG "Initialisations").
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Init {
    /// y_0 ~ p_T = N(α_T μ, Σ_T): no initialisation error.
    Pt,
    /// y_0 ~ N(0, I).
    N0,
}

impl Init {
    pub fn name(self) -> &'static str {
        match self {
            Init::Pt => "pt",
            Init::N0 => "n0",
        }
    }
}

/// The paper's six schemes, for the independent recursion (PG "Schemes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperScheme {
    Em,
    Ei,
    Ddpm,
    Euler,
    Heun,
    Rk4,
}

/// A scheme of the PG tables: a crate sampler with its bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scheme {
    /// Short name (command line, CSVs).
    pub name: &'static str,
    pub sampler: Sampler,
    /// Score evaluations per step (NFE = evals_per_step × steps).
    pub evals_per_step: usize,
    /// Does a step evaluate the score at its end time (so at the final time ε on the last step)?
    pub evaluates_end: bool,
    /// The paper's scheme, if it is one (then [`recursion_variance`] checks it).
    pub paper: Option<PaperScheme>,
}

/// EM, EI, DDPM, Euler, Heun, RK4 as in the paper's code.
pub fn paper_schemes() -> Vec<Scheme> {
    let s = |name, sampler, evals_per_step, evaluates_end, paper| Scheme {
        name,
        sampler,
        evals_per_step,
        evaluates_end,
        paper: Some(paper),
    };
    vec![
        s(
            "em",
            Sampler::EulerMaruyama { noise_level: 1.0 },
            1,
            false,
            PaperScheme::Em,
        ),
        s(
            "ei",
            Sampler::ExpIntegratorScore { noise_level: 1.0 },
            1,
            false,
            PaperScheme::Ei,
        ),
        s("ddpm", Sampler::DdpmBetaDt, 1, false, PaperScheme::Ddpm),
        s(
            "euler",
            Sampler::EulerMaruyama { noise_level: 0.0 },
            1,
            false,
            PaperScheme::Euler,
        ),
        s("heun", Sampler::HeunT, 2, true, PaperScheme::Heun),
        s("rk4", Sampler::Rk4T, 4, true, PaperScheme::Rk4),
    ]
}

/// Samplers the paper does not cover, run on the same grids (one evaluation per step at the left end).
/// Add new single-step samplers here; give multi-evaluation ones their `evals_per_step`.
pub fn extra_schemes() -> Vec<Scheme> {
    let s = |name, sampler| Scheme {
        name,
        sampler,
        evals_per_step: 1,
        evaluates_end: false,
        paper: None,
    };
    vec![
        s("ddim", Sampler::Ddim { eta: 0.0 }),
        s("ddim-eta1", Sampler::Ddim { eta: 1.0 }),
        s("dpm-solver-1", Sampler::DpmSolver1),
        s("dpm-solver++1", Sampler::DpmSolverPp1),
    ]
}

/// Every scheme: the paper's, then the extras.
pub fn all_schemes() -> Vec<Scheme> {
    let mut v = paper_schemes();
    v.extend(extra_schemes());
    v
}

/// Can `scheme` run to truncation time ε? (DPM-Solver steps in log-SNR, infinite at σ = 0.)
pub fn defined_at(scheme: &Scheme, eps: f64) -> bool {
    !(matches!(scheme.sampler, Sampler::DpmSolver1 | Sampler::DpmSolverPp1)
        && PgVp::default().sigma(eps) == 0.0)
}

/// Look a scheme up by name.
pub fn scheme_by_name(name: &str) -> Option<Scheme> {
    all_schemes().into_iter().find(|s| s.name == name)
}

/// How Heun's NFE is turned into grid points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeunBudget {
    /// N = NFE grid points, as the paper's table loop does (≈ 2·NFE evaluations: the authors' bug).
    TableBug,
    /// N = NFE/2 grid points (as in the paper's figures).
    Correct,
}

/// Grid points N for a budget of `nfe` evaluations under the paper's bookkeeping: N = NFE for
/// one-evaluation schemes, NFE/4 for RK4, NFE (table) or NFE/2 (figures) for Heun.
pub fn grid_points_for_nfe(scheme: &Scheme, nfe: usize, heun: HeunBudget) -> usize {
    if scheme.paper == Some(PaperScheme::Heun) && heun == HeunBudget::TableBug {
        nfe
    } else {
        nfe / scheme.evals_per_step
    }
}

/// Forward times T − t_k of the sampler grid t_k = (T − ε) k/(N − 1), k = 0..N−1 (N points, N − 1 steps),
/// from T down to ε.
pub fn forward_grid(grid_points: usize, eps: f64) -> Result<Vec<f64>> {
    ensure!(
        grid_points >= 2,
        "a grid needs at least 2 points (1 step); got {grid_points}"
    );
    ensure!(
        eps.is_finite() && (0.0..T).contains(&eps),
        "the truncation time ε must lie in [0, T) (got {eps})"
    );
    let n1 = (grid_points - 1) as f64;
    Ok((0..grid_points)
        .map(|k| T - (T - eps) * k as f64 / n1)
        .collect())
}

/// The Gaussian data law N(μ, diag(λ)) of the paper (μ = 0 there), in its eigenbasis.
pub fn data_law(eigvals: &[f64], mean: Option<&[f64]>) -> Result<Gaussian> {
    let d = eigvals.len();
    let mean = match mean {
        Some(m) => DVector::from_column_slice(m),
        None => DVector::zeros(d),
    };
    Gaussian::from_eigen(mean, DVector::from_column_slice(eigvals), None)
}

/// The exact law of a run, per eigen-coordinate, or the reason it diverges.
#[derive(Clone, Debug, PartialEq)]
pub enum PgLaw {
    /// N(mean, diag(variance)) in Σ's eigenbasis.
    Exact { mean: Vec<f64>, variance: Vec<f64> },
    /// The scheme evaluates the score at σ = 0 on a zero eigenvalue: infinite, so W2 = KL = +∞ (the
    /// table's "−" cells).
    Divergent { why: String },
}

impl PgLaw {
    /// W2 to N(mean, diag(variance)) (same eigenbasis); +∞ when divergent.
    pub fn w2_to(&self, mean: &[f64], variance: &[f64]) -> f64 {
        match self {
            PgLaw::Exact {
                mean: m,
                variance: v,
            } => w2_commuting(m, v, mean, variance),
            PgLaw::Divergent { .. } => f64::INFINITY,
        }
    }
    /// KL(law ‖ N(mean, diag(variance))); +∞ when divergent or when the reference is singular.
    pub fn kl_to(&self, mean: &[f64], variance: &[f64]) -> f64 {
        match self {
            PgLaw::Exact {
                mean: m,
                variance: v,
            } => kl_commuting(m, v, mean, variance),
            PgLaw::Divergent { .. } => f64::INFINITY,
        }
    }
    pub fn variance(&self) -> Option<&[f64]> {
        match self {
            PgLaw::Exact { variance, .. } => Some(variance),
            PgLaw::Divergent { .. } => None,
        }
    }
}

/// Does this run ask for the score at forward time ε where σ_ε = 0? Then: divergent when a zero
/// eigenvalue exists (score = −x/0); otherwise the run is computed with the Gaussian's closed-form score
/// −(x − μ)/λ (Tweedie's (αx̂₀ − x)/σ² is 0/0 there).
fn check_final_evaluation(
    scheme: &Scheme,
    data: &Gaussian,
    eps: f64,
    times: &[f64],
) -> Result<Option<PgLaw>> {
    let h = times[0] - times[1];
    let sch = PgVp::default();
    if matches!(scheme.sampler, Sampler::DpmSolver1 | Sampler::DpmSolverPp1)
        && sch.sigma(eps) == 0.0
    {
        bail!(
            "{} steps in log-SNR, which is +∞ at σ = 0 (ε = {eps}): undefined there; use ε > 0",
            scheme.name
        );
    }
    let sch = PgVp::default();
    if scheme.sampler == Sampler::DdpmBetaDt {
        // The DDPM step divides by √(1 − β^D) with β^D = 2Δt β(T − t_k) ≤ 2Δt β_max: it needs β^D < 1.
        ensure!(
            2.0 * h * sch.beta(T) < 1.0,
            "DDPM with β^D = 2Δt β needs 2Δt β_max < 1, i.e. N − 1 > 2 β_max (T − ε) ≈ {:.1} steps (got Δt = {:.4})",
            2.0 * sch.beta(T) * (T - eps),
            h
        );
    }
    if scheme.evaluates_end && sch.sigma(eps) == 0.0 {
        if let Some(i) = data.eigvals.iter().position(|l| *l == 0.0) {
            return Ok(Some(PgLaw::Divergent {
                why: format!(
                    "{} evaluates the score at forward time ε = {eps}, where σ = 0 and eigenvalue #{i} is 0: the score −x/λ is infinite",
                    scheme.name
                ),
            }));
        }
        // No zero eigenvalue: the Gaussian denoiser's closed-form score −(x − μ)/λ is finite at σ = 0
        // (Tweedie's (αx̂₀ − x)/σ² would be 0/0): the run goes on (issue 13 item 5).
    }
    Ok(None)
}

/// The initial state as a form: p_T = N(α_T μ, α_T² λ + σ_T²) or N(0, 1), per coordinate.
fn initial_form(data: &Gaussian, init: Init) -> Form {
    let sch = PgVp::default();
    let (a, s) = (sch.alpha(T), sch.sigma(T));
    match init {
        Init::Pt => Form::marginal(data, a, s),
        Init::N0 => Form::gaussian(vec![0.0; data.dim()], vec![1.0; data.dim()]),
    }
}

/// The exact law of `scheme` on the PG grid with `grid_points` points stopped at ε, from `init`, through
/// the exact-law engine (the crate's sampler on forms with the exact Gaussian denoiser).
pub fn engine_law(
    scheme: &Scheme,
    data: &Gaussian,
    grid_points: usize,
    eps: f64,
    init: Init,
) -> Result<PgLaw> {
    let times = forward_grid(grid_points, eps)?;
    if let Some(div) = check_final_evaluation(scheme, data, eps, &times)? {
        return Ok(div);
    }
    let out = crate::lanes::run_exact(
        scheme.sampler,
        &PgVp::default(),
        &times,
        &initial_form(data, init),
        data,
    )?;
    let variance = out.variance();
    ensure!(
        variance.iter().chain(&out.c).all(|v| !v.is_nan()),
        "{} produced NaN on the grid N = {grid_points}, ε = {eps}",
        scheme.name
    );
    Ok(PgLaw::Exact {
        mean: out.c,
        variance,
    })
}

/// As [`engine_law`], with the law at every grid point: `(forward time, law)` for k = 0..N−1 (the last
/// one divergent where the final evaluation is).
pub fn engine_path(
    scheme: &Scheme,
    data: &Gaussian,
    grid_points: usize,
    eps: f64,
    init: Init,
) -> Result<Vec<(f64, PgLaw)>> {
    let times = forward_grid(grid_points, eps)?;
    let div = check_final_evaluation(scheme, data, eps, &times)?;
    let run_times = if div.is_some() {
        &times[..times.len() - 1]
    } else {
        &times[..]
    };
    let mut path = Vec::with_capacity(times.len());
    crate::lanes::run_exact_observed(
        scheme.sampler,
        &PgVp::default(),
        run_times,
        &initial_form(data, init),
        data,
        &mut |k, x: &Form| {
            path.push((
                run_times[k],
                PgLaw::Exact {
                    mean: x.c.clone(),
                    variance: x.variance(),
                },
            ))
        },
    )?;
    if let Some(d) = div {
        path.push((eps, d));
    }
    Ok(path)
}

/// Eigenvalue of Σ_s = e^{−2B_s} Σ + (1 − e^{−2B_s}) I (PG "Marginal covariance").
pub fn marginal_variance(sch: &PgVp, lambda: f64, s: f64) -> f64 {
    let e = (-2.0 * sch.big_b(s)).exp();
    e * lambda - (-2.0 * sch.big_b(s)).exp_m1()
}

/// Continuous reverse SDE from N(0, I), stopped at forward time s:
/// λ̃_s = λ_s + e^{−2(B_T − B_s)} λ_s²/λ_T (1/λ_T − 1) (PG "Laws of the continuous samplers").
pub fn sde_variance_from_n0(sch: &PgVp, lambda: f64, s: f64) -> f64 {
    let (ls, lt) = (
        marginal_variance(sch, lambda, s),
        marginal_variance(sch, lambda, T),
    );
    let e = (-2.0 * (sch.big_b(T) - sch.big_b(s))).exp();
    ls + e * ls * ls / lt * (1.0 / lt - 1.0)
}

/// Continuous PF-ODE from N(0, I), stopped at forward time s: λ̂_s = λ_s/λ_T.
pub fn ode_variance_from_n0(sch: &PgVp, lambda: f64, s: f64) -> f64 {
    marginal_variance(sch, lambda, s) / marginal_variance(sch, lambda, T)
}

/// W2 between centred laws with per-eigenvalue variances (PG "Bures–Wasserstein formula used").
pub fn w2_centred(v1: &[f64], v2: &[f64]) -> f64 {
    let z = vec![0.0; v1.len()];
    w2_commuting(&z, v1, &z, v2)
}

/// The paper's per-eigenvalue variance recursion v_{k+1} = m_k² v_k + q_k (PG "Schemes" table), written
/// directly from the paper's formulas with its own β and B (no schedule trait, no sampler, no forms): the
/// independent route against which the engine is checked. Returns the final variance per eigenvalue
/// (+∞ where a scheme meets an infinite score).
pub fn recursion_variance(
    scheme: PaperScheme,
    eigvals: &[f64],
    grid_points: usize,
    eps: f64,
    init: Init,
) -> Result<Vec<f64>> {
    ensure!(grid_points >= 2, "a grid needs at least 2 points");
    let (bmin, bmax) = (0.05_f64, 10.0_f64);
    let beta = |s: f64| bmin + (bmax - bmin) * s;
    let bb = |s: f64| bmin * s + 0.5 * (bmax - bmin) * s * s;
    // λ^s = e^{−2B_s} λ + (1 − e^{−2B_s}): per forward time, the pair (e^{−2B_s}, 1 − e^{−2B_s}).
    let decay = |s: f64| {
        let e = -(-2.0 * bb(s)).exp_m1();
        (1.0 - e, e)
    };
    let h = (T - eps) / (grid_points - 1) as f64;
    let tk = |k: usize| (T - eps) * k as f64 / (grid_points - 1) as f64;
    let (dt, et) = decay(T);
    let mut v: Vec<f64> = eigvals
        .iter()
        .map(|&l| match init {
            Init::Pt => dt * l + et,
            Init::N0 => 1.0,
        })
        .collect();
    for k in 0..grid_points - 1 {
        let (t0, t1) = (tk(k), tk(k + 1));
        let tm = t0 + 0.5 * h;
        let (d0, e0) = decay(T - t0);
        let (d1, e1) = decay(T - t1);
        let (dm, em) = decay(T - tm);
        let (b0, b1, bm) = (beta(T - t0), beta(T - t1), beta(T - tm));
        // c(t) = β_{T−t}(1 − 1/λ^{T−t}) (sampler time t).
        let c = |b: f64, d: f64, e: f64, l: f64| b * (1.0 - 1.0 / (d * l + e));
        let db = bb(T - t0) - bb(T - t1);
        let (g1, g2) = (db.exp() - 1.0, 0.5 * ((2.0 * db).exp() - 1.0));
        for (vi, &l) in v.iter_mut().zip(eigvals) {
            let a = d0 * l + e0;
            *vi = match scheme {
                PaperScheme::Em => (1.0 + h * b0 * (1.0 - 2.0 / a)).powi(2) * *vi + 2.0 * h * b0,
                PaperScheme::Ei => (1.0 + g1 * (1.0 - 2.0 / a)).powi(2) * *vi + 2.0 * g2,
                PaperScheme::Ddpm => {
                    let bd = 2.0 * h * b0;
                    (1.0 - bd / a).powi(2) / (1.0 - bd) * *vi + bd
                }
                PaperScheme::Euler => (1.0 + h * c(b0, d0, e0, l)).powi(2) * *vi,
                PaperScheme::Heun => {
                    let (c0, c1) = (c(b0, d0, e0, l), c(b1, d1, e1, l));
                    (1.0 + 0.5 * h * c0 + 0.5 * h * c1 * (1.0 + h * c0)).powi(2) * *vi
                }
                PaperScheme::Rk4 => {
                    let k1 = c(b0, d0, e0, l);
                    let k2 = c(bm, dm, em, l) * (1.0 + 0.5 * h * k1);
                    let k3 = c(bm, dm, em, l) * (1.0 + 0.5 * h * k2);
                    let k4 = c(b1, d1, e1, l) * (1.0 + h * k3);
                    (1.0 + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)).powi(2) * *vi
                }
            };
        }
    }
    // A score evaluated at λ = 0, σ = 0 is −∞ (c = −∞): the variance is +∞, never NaN.
    Ok(v.into_iter()
        .map(|x| if x.is_nan() { f64::INFINITY } else { x })
        .collect())
}

/// A synthetic stand-in for the authors' CIFAR-10 spectrum, used where their file is absent (and said
/// so): d = 3072, λ_i = 221.45 · (i + 1)^{−2} clipped at 1e-6, with the last 9 set to exactly 0.
pub fn synthetic_spectrum() -> Vec<f64> {
    let d = 3072;
    (0..d)
        .map(|i| {
            if i >= d - 9 {
                0.0
            } else {
                (221.45 * ((i + 1) as f64).powf(-2.0)).max(1e-6)
            }
        })
        .collect()
}

/// The authors' spectrum if supplied ([`crate::spectrum::read_pg_spectrum`]), else [`synthetic_spectrum`]
/// (for benches and tools; the claims SKIP instead). Returns (eigenvalues, description, is_authors_file).
///
/// # Errors
/// `PG_EIGENVALUES` set but unreadable, or a malformed file.
pub fn pg_spectrum() -> Result<(Vec<f64>, String, bool)> {
    Ok(match crate::spectrum::read_pg_spectrum()? {
        crate::spectrum::PgSpectrum::Found { values, path } => (
            values,
            format!("the authors' CIFAR-10 spectrum ({})", path.display()),
            true,
        ),
        crate::spectrum::PgSpectrum::Absent(why) => (
            synthetic_spectrum(),
            format!("a SYNTHETIC power-law spectrum (d = 3072, 9 zeros) because {why}"),
            false,
        ),
    })
}

/// The ICML table's NFE columns.
pub const TABLE_NFE: [usize; 4] = [50, 250, 500, 1000];
/// The ICML table's truncation times.
pub const TABLE_EPS: [f64; 4] = [0.0, 1e-5, 1e-4, 1e-3];

/// One cell of a PG table: a scheme at a budget, truncation time and initialisation.
#[derive(Clone, Copy, Debug)]
pub struct Cell {
    pub scheme: Scheme,
    pub eps: f64,
    pub nfe: usize,
    pub init: Init,
    pub grid_points: usize,
}

/// Every discrete cell of the ICML table for `schemes` (rows scheme × ε, columns NFE × init), with the
/// grid points of `heun`'s bookkeeping.
pub fn table_cells(schemes: &[Scheme], heun: HeunBudget) -> Vec<Cell> {
    let mut cells = Vec::new();
    for scheme in schemes {
        for eps in TABLE_EPS {
            for nfe in TABLE_NFE {
                for init in [Init::Pt, Init::N0] {
                    cells.push(Cell {
                        scheme: *scheme,
                        eps,
                        nfe,
                        init,
                        grid_points: grid_points_for_nfe(scheme, nfe, heun),
                    });
                }
            }
        }
    }
    cells
}

/// The exact laws from p_T and from N(0, I) of one scheme on one grid, from ONE engine run (centred data
/// only). The scheme is linear: y_N = M y_0 + (noise), per coordinate, with M and the injected variance Q
/// independent of y_0. Running the engine from y_0 ~ N(1, 1) gives the exact law N(M, M² + Q); then
/// p_T gives N(0, M² λ_T + Q) and N(0, I) gives N(0, M² + Q). Half the work of two runs, still exact.
pub fn engine_law_both_inits(
    scheme: &Scheme,
    data: &Gaussian,
    grid_points: usize,
    eps: f64,
) -> Result<(PgLaw, PgLaw)> {
    ensure!(
        data.mean.iter().all(|m| *m == 0.0),
        "the two-initialisation run needs centred data (μ = 0)"
    );
    let times = forward_grid(grid_points, eps)?;
    if let Some(div) = check_final_evaluation(scheme, data, eps, &times)? {
        return Ok((div.clone(), div));
    }
    let d = data.dim();
    let out = crate::lanes::run_exact(
        scheme.sampler,
        &PgVp::default(),
        &times,
        &Form::gaussian(vec![1.0; d], vec![1.0; d]),
        data,
    )?;
    let var = out.variance();
    ensure!(
        var.iter().chain(&out.c).all(|v| !v.is_nan()),
        "{} produced NaN on the grid N = {grid_points}, ε = {eps}",
        scheme.name
    );
    let sch = PgVp::default();
    let (a, s) = (sch.alpha(T), sch.sigma(T));
    let (mut v_pt, mut v_n0) = (Vec::with_capacity(d), Vec::with_capacity(d));
    for ((m, v), l) in out.c.iter().zip(&var).zip(data.eigvals.iter()) {
        let m2 = m * m;
        let q = (v - m2).max(0.0);
        v_pt.push(m2 * (a * a * l + s * s) + q);
        v_n0.push(m2 + q);
    }
    let law = |variance| PgLaw::Exact {
        mean: vec![0.0; d],
        variance,
    };
    Ok((law(v_pt), law(v_n0)))
}

/// W2(output, p_data) of every cell through the engine, in parallel (rayon; collected in order, so the
/// result does not depend on the thread count). Cells that differ only by their initialisation share one
/// engine run ([`engine_law_both_inits`]) when the data are centred.
pub fn table_w2(cells: &[Cell], data: &Gaussian) -> Result<Vec<f64>> {
    use rayon::prelude::*;
    let m0: Vec<f64> = data.eigen_mean().iter().copied().collect();
    let v0: Vec<f64> = data.eigvals.iter().copied().collect();
    let centred = m0.iter().all(|m| *m == 0.0);
    // Group cells by (scheme, ε, grid points).
    let mut groups: Vec<(Cell, Vec<usize>)> = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| {
            centred && g.scheme == c.scheme && g.eps == c.eps && g.grid_points == c.grid_points
        }) {
            Some((_, idx)) => idx.push(i),
            None => groups.push((*c, vec![i])),
        }
    }
    let per_group: Vec<Vec<(usize, f64)>> = groups
        .par_iter()
        .map(|(g, idx)| -> Result<Vec<(usize, f64)>> {
            if idx.len() == 1 {
                let c = &cells[idx[0]];
                let l = engine_law(&c.scheme, data, c.grid_points, c.eps, c.init)?;
                return Ok(vec![(idx[0], l.w2_to(&m0, &v0))]);
            }
            let (pt, n0) = engine_law_both_inits(&g.scheme, data, g.grid_points, g.eps)?;
            Ok(idx
                .iter()
                .map(|&i| {
                    let l = if cells[i].init == Init::Pt { &pt } else { &n0 };
                    (i, l.w2_to(&m0, &v0))
                })
                .collect())
        })
        .collect::<Result<_>>()?;
    let mut out = vec![f64::NAN; cells.len()];
    for (i, w) in per_group.into_iter().flatten() {
        out[i] = w;
    }
    Ok(out)
}
