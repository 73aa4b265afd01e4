//! Score matching and the family of training objectives (issue 5): SM-1…SM-7, PZ-2, PZ-3.
//!
//! Two routes everywhere: exact closed forms on Gaussian data with affine models (`losses::gaussian`),
//! and paired Monte Carlo (common random numbers) on a 2-D Gaussian mixture with nonlinear models
//! (`models`), whose constants come from 2-D quadrature (`losses::mixture`), not from Monte Carlo.

use super::forward::demo_mixture;
use super::{Claim, Ctx, Evidence, Verdict};
use crate::losses::gaussian::{self as gx, AffineScore};
use crate::losses::mixture::{constants, Grid2, MixtureConstants};
use crate::losses::{
    dsm_sample, esm_sample, ism_sample, ssm_sample, ConsistencyScalings, EdmPrecond, NoiseLevel,
    Probe, Target, TimeDistribution, Weighting,
};
use crate::metrics::{mean_ci, MeanCi};
use crate::models::{Mlp, RandomFeatures, ScoreModel};
use crate::report::{Figure, Series, Table};
use crate::schedule::{all_continuous, BetaSchedule, Discrete, Schedule, VpLinear};
use crate::target::{Gaussian, Mixture};
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "SM-1",
            family: "scorematching",
            source: "TZ §3 (Hyvärinen 2005); CLAIMS §5",
            statement: "Explicit = implicit score matching + constant: E‖s_θ − ∇log p‖² = E[‖s_θ‖² + 2∇·s_θ] + E‖∇log p‖² for every θ (Gaussian: the constant is tr C⁻¹; mixture: the Fisher information).",
            check: sm1,
        },
        Claim {
            id: "SM-2",
            family: "scorematching",
            source: "PDM blog (boxed identity); TZ §3; FW §4 (Vincent 2011); CLAIMS §5",
            statement: "Denoising score matching = explicit SM + C_t, C_t = d/σ² − E‖∇log p_t‖² = (α²/σ⁴)E tr Cov[x₀|x_t] = d/σ² + E[Δlog p_t] ≥ 0, independent of θ; hence equal gradients and equal minimisers (the projection of the true score).",
            check: sm2,
        },
        Claim {
            id: "SM-3",
            family: "scorematching",
            source: "FW abstract: \"the standard noise-prediction objective is equivalent to score matching up to an additive constant independent of the model parameters\"; PDM blog",
            statement: "The noise-prediction objective is equivalent to score matching up to an additive constant independent of the model parameters: E_t[w‖ε_θ − ε‖²] = E_t[wσ² J_ESM,t(θ)] + E_t[wσ²C_t] for every weighting w and time distribution; the minimum per t is the MMSE d − σ²E‖∇log p_t‖².",
            check: sm3,
        },
        Claim {
            id: "SM-4",
            family: "scorematching",
            source: "TZ §3 (Song et al. 2019, sliced SM); CLAIMS §5",
            statement: "Sliced score matching E[vᵀ∇s v + ½(vᵀs)²] = ½·ISM for probes with E[vvᵀ] = I; single-probe variance of vᵀAv is 2‖A_sym‖_F² (Gaussian) and 2(‖A_sym‖_F² − ΣA_ii²) (Rademacher).",
            check: sm4,
        },
        Claim {
            id: "SM-5",
            family: "scorematching",
            source: "TZ ≈§3 (Hyvärinen 2005); CLAIMS §5",
            statement: "For the Gaussian family s(x) = −P(x − m), P symmetric, the empirical ISM is minimised by m̂ = x̄ and the unique solution of SP + PS = 2I, P̂ = S⁻¹: the MLE.",
            check: sm5,
        },
        Claim {
            id: "SM-6",
            family: "scorematching",
            source: "TZ abstract (score-matching efficiency); Koehler–Heckett–Risteski 2023; CLAIMS §5",
            statement: "For p_θ ∝ h e^{θx}, h = exp(−(x²−a²)²/4), the asymptotic variance ratio SM/MLE is R = J·Var ≥ 1: 1.371, 2.214, 25.74, 156.8 (θ = 0, a = 0…3) and 1.407, 2.233, 13.56, 30.69 (θ = 0.5).",
            check: sm6,
        },
        Claim {
            id: "SM-7",
            family: "scorematching",
            source: "FW §8 (title); PDM blog (FM = CFM + C); CLAIMS §5",
            statement: "Flow matching = conditional flow matching + a θ-independent constant; a velocity built from an ε-model satisfies v_θ − v^cond = −σ_t λ̇_t (ε_θ − ε) pointwise, so the velocity loss is the (σλ̇)²-weighted ε-loss.",
            check: sm7,
        },
        Claim {
            id: "PZ-2",
            family: "scorematching",
            source: "PDM §6.2 (≈); CLAIMS §6",
            statement: "Pointwise: ‖ε̂−ε‖² = e^{2λ}‖x̂₀−x₀‖² = σ²‖ŝ − ∇log q_t(x_t|x₀)‖²; ‖v̂_FM − v^cond‖² = (αλ̇)²‖x̂₀−x₀‖² = (σλ̇)²‖ε̂−ε‖²; Salimans–Ho on VP: ‖v̂−v‖² = (1+e^{2λ})‖x̂₀−x₀‖².",
            check: pz2,
        },
        Claim {
            id: "PZ-3",
            family: "scorematching",
            source: "EDM code (Karras et al. 2022); consistency-model scalings (Song et al. 2023); PDM App. D.6 (≈)",
            statement: "EDM preconditioning: for data with E[x₀x₀ᵀ] = σ_d²I the effective target F* and the input c_in x have unit variance per dimension, c_skip = argmin_c E‖x₀ − c x‖² with minimum c_out² per dimension, λ c_out² = 1; the consistency-model scalings give f_θ(x, ε) = x exactly.",
            check: pz3,
        },
    ]
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers.

fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

fn normal_vec<R: Rng + ?Sized>(d: usize, rng: &mut R) -> DVector<f64> {
    DVector::from_fn(d, |_, _| normal(&mut *rng))
}

/// A random Gaussian N(μ, Σ) in R^d with a full covariance (random rotation, spectrum log-uniform on
/// [0.05, 5]).
pub fn random_gaussian<R: Rng + ?Sized>(d: usize, rng: &mut R) -> Gaussian {
    let a = DMatrix::from_fn(d, d, |_, _| normal(&mut *rng));
    let q = a.qr().q();
    let eig = DVector::from_fn(d, |_, _| {
        (0.05f64.ln() + (100.0f64).ln() * rand::RngExt::random::<f64>(&mut *rng)).exp()
    });
    let cov = &q * DMatrix::from_diagonal(&eig) * q.transpose();
    let cov = (&cov + cov.transpose()) * 0.5;
    Gaussian::from_covariance(normal_vec(d, rng), cov).expect("random SPD covariance")
}

/// A random affine score model −P(x − m): P = I + 0.7·N(0,1) entries (not symmetric), m ~ N(0, I).
fn random_affine<R: Rng + ?Sized>(d: usize, rng: &mut R) -> AffineScore {
    let p = DMatrix::identity(d, d) + DMatrix::from_fn(d, d, |_, _| 0.7 * normal(&mut *rng));
    AffineScore {
        p,
        m: normal_vec(d, rng),
    }
}

/// Interior times of a schedule's range (away from the singular ends).
fn times(sch: &dyn Schedule, n: usize) -> Vec<f64> {
    let (lo, hi) = sch.t_range();
    (0..n)
        .map(|k| lo + (hi - lo) * (0.02 + 0.93 * k as f64 / (n.max(2) - 1) as f64))
        .collect()
}

/// Condition number of C_t = α²Σ + σ²I.
fn cond_c(g: &Gaussian, n: &NoiseLevel) -> f64 {
    let c = g.eigvals.map(|l| n.alpha * n.alpha * l + n.sigma * n.sigma);
    c.max() / c.min()
}

/// Common random numbers on the mixture at one time: x₀, ε, x_t and the exact score ∇log p_t(x_t).
struct Draws {
    t: f64,
    noise: NoiseLevel,
    x0: Vec<DVector<f64>>,
    eps: Vec<DVector<f64>>,
    x: Vec<DVector<f64>>,
    score: Vec<DVector<f64>>,
}

impl Draws {
    fn new<R: Rng + ?Sized>(
        mix: &Mixture,
        sch: &dyn Schedule,
        t: f64,
        n: usize,
        rng: &mut R,
    ) -> Self {
        let noise = NoiseLevel::at(sch, t);
        Self::at_level(mix, noise, t, n, rng)
    }
    fn at_level<R: Rng + ?Sized>(
        mix: &Mixture,
        noise: NoiseLevel,
        t: f64,
        n: usize,
        rng: &mut R,
    ) -> Self {
        let d = mix.dim();
        let x0: Vec<_> = (0..n).map(|_| mix.sample(rng)).collect();
        let eps: Vec<_> = (0..n).map(|_| normal_vec(d, rng)).collect();
        let x: Vec<_> = x0
            .iter()
            .zip(&eps)
            .map(|(a, e)| noise.noised(a, e))
            .collect();
        let score = x
            .iter()
            .map(|xi| mix.score(xi, noise.alpha, noise.sigma))
            .collect();
        Self {
            t,
            noise,
            x0,
            eps,
            x,
            score,
        }
    }
}

/// The nonlinear models of the Monte Carlo checks: `k_mlp` random MLPs and `k_rf` random-feature models.
fn random_models<R: Rng + ?Sized>(
    d: usize,
    k_mlp: usize,
    k_rf: usize,
    rng: &mut R,
) -> Vec<(String, Box<dyn ScoreModel>)> {
    let mut out: Vec<(String, Box<dyn ScoreModel>)> = Vec::new();
    for k in 0..k_mlp {
        out.push((format!("mlp-{k}"), Box::new(Mlp::random(d, 16, 2.0, rng))));
    }
    for k in 0..k_rf {
        out.push((
            format!("rf-{k}"),
            Box::new(RandomFeatures::random(d, 24, 0.8, 3.0, rng)),
        ));
    }
    out
}

fn ci(xs: &[f64]) -> Result<MeanCi> {
    mean_ci(xs, tol::LEVEL)
}

/// z-score of a paired mean against a constant known to `const_err` (quadrature error, added to the SE).
fn z_of(m: &MeanCi, expected: f64, const_err: f64) -> f64 {
    (m.mean - expected).abs() / (m.se + const_err).max(f64::MIN_POSITIVE)
}

/// The paired Monte Carlo verdict of "objective A − objective B is the same constant for every θ": per
/// model, the CI of the per-sample difference against the quadrature constant, and the CI of the
/// difference of differences against the first model (common random numbers: the θ-free part cancels).
/// Rows are appended to `table` (columns of [`paired_columns`]); returns the largest z.
fn paired_rows(
    table: &mut Table,
    key: &str,
    names: &[String],
    diffs: &[Vec<f64>],
    expected: f64,
    const_err: f64,
) -> Result<f64> {
    let mut zmax: f64 = 0.0;
    for (k, (name, df)) in names.iter().zip(diffs).enumerate() {
        let c = ci(df)?;
        let z = z_of(&c, expected, const_err);
        let dd: Vec<f64> = df.iter().zip(&diffs[0]).map(|(a, b)| a - b).collect();
        let (dd_mean, dd_se, z_pair) = if k == 0 {
            (0.0, 0.0, 0.0)
        } else {
            let c2 = ci(&dd)?;
            (c2.mean, c2.se, z_of(&c2, 0.0, 0.0))
        };
        zmax = zmax.max(z).max(z_pair);
        table.push(vec![
            key.into(),
            name.as_str().into(),
            df.len().into(),
            c.mean.into(),
            c.se.into(),
            c.lo.into(),
            c.hi.into(),
            expected.into(),
            const_err.into(),
            z.into(),
            dd_mean.into(),
            dd_se.into(),
            z_pair.into(),
        ]);
    }
    Ok(zmax)
}

/// Columns of the tables written by [`paired_rows`].
const PAIRED_COLUMNS: [&str; 13] = [
    "case",
    "model",
    "n",
    "diff_mean",
    "diff_se",
    "diff_lo",
    "diff_hi",
    "constant",
    "constant_err",
    "z_vs_constant",
    "diff_minus_first_mean",
    "diff_minus_first_se",
    "z_vs_first",
];

/// Mixture constants with their quadrature error (difference between `panels` and 2·`panels`).
fn mixture_constants(
    mix: &Mixture,
    n: &NoiseLevel,
    panels: usize,
) -> Result<(MixtureConstants, f64)> {
    let a = constants(mix, n, panels)?;
    let b = constants(mix, n, 2 * panels)?;
    let err = (a.fisher - b.fisher)
        .abs()
        .max((a.dsm_from_posterior - b.dsm_from_posterior).abs())
        .max((a.mass - b.mass).abs() * b.fisher);
    Ok((b, err))
}

// ---------------------------------------------------------------------------------------------------
// SM-1.

fn sm1(ctx: &Ctx) -> Result<Evidence> {
    let mut rng = ctx.rng("gaussian");
    let k_theta: usize = ctx.scale.pick(8, 32);
    // (a) Gaussian data, exact: ESM − ISM against tr C⁻¹ from a Cholesky inverse (Mixture Hessian).
    let mut exact = Table::new(
        "gaussian",
        &[
            "case",
            "d",
            "sigma",
            "theta",
            "esm",
            "ism",
            "esm_minus_ism",
            "fisher_cholesky",
            "rel_err",
            "tolerance",
        ],
    );
    let mut worst_exact: f64 = 0.0;
    for (case, d) in [(0usize, 2usize), (1, 5), (2, 8)] {
        let g = random_gaussian(d, &mut rng);
        for sigma in [0.0, 0.1, 1.0] {
            let n = NoiseLevel {
                alpha: 1.0,
                sigma,
                dalpha: 0.0,
                dsigma: 0.0,
            };
            let mix = g.to_mixture();
            let fisher = -mix.hessian_log_density(&g.mean, 1.0, sigma).trace();
            let tolerance = tol::IDENTITY * cond_c(&g, &n);
            for th in 0..k_theta as usize {
                let model = random_affine(d, &mut rng);
                let (e, i) = (gx::esm(&g, &model, &n), gx::ism(&g, &model, &n));
                let err = ((e - i) - fisher).abs() / (e.abs() + i.abs() + fisher);
                worst_exact = worst_exact.max(err / tolerance);
                exact.push(vec![
                    case.into(),
                    d.into(),
                    sigma.into(),
                    th.into(),
                    e.into(),
                    i.into(),
                    (e - i).into(),
                    fisher.into(),
                    err.into(),
                    tolerance.into(),
                ]);
            }
        }
    }
    // (b) The 2-D mixture (the data law itself, α = 1, σ = 0), nonlinear models, paired Monte Carlo.
    let mix = demo_mixture();
    let n0 = NoiseLevel {
        alpha: 1.0,
        sigma: 0.0,
        dalpha: 0.0,
        dsigma: 0.0,
    };
    let panels = ctx.scale.pick(28, 48);
    let f1 = Grid2::new(&mix, &n0, panels)?.expect(&|x| mix.score(x, 1.0, 0.0).norm_squared());
    let f2 = Grid2::new(&mix, &n0, 2 * panels)?.expect(&|x| mix.score(x, 1.0, 0.0).norm_squared());
    let quad_err = (f1 - f2).abs();
    let n_mc = ctx.scale.pick(4000, 40000);
    let mut rng = ctx.rng("mixture");
    let draws = Draws::at_level(&mix, n0, 0.0, n_mc, &mut rng);
    let models = random_models(2, ctx.scale.pick(4, 12), ctx.scale.pick(3, 8), &mut rng);
    let mut mc = Table::new("mixture", &PAIRED_COLUMNS);
    let mut names = Vec::new();
    let mut all = Vec::new();
    for (name, m) in &models {
        let df: Vec<f64> = draws
            .x
            .iter()
            .zip(&draws.score)
            .map(|(x, s_true)| {
                let (s, j) = m.eval(x, 0.0);
                esm_sample(&s, s_true) - ism_sample(&s, &j)
            })
            .collect();
        names.push(name.clone());
        all.push(df);
    }
    let zmax = paired_rows(&mut mc, "data alpha=1 sigma=0", &names, &all, f2, quad_err)?;
    let diffs: Vec<f64> = all
        .iter()
        .map(|d| d.iter().sum::<f64>() / d.len() as f64)
        .collect();
    // (c) Along a random line in θ-space (MLP, common random numbers): parallel curves.
    let mut base = Mlp::random(2, 16, 2.0, &mut rng);
    let theta0 = base.params();
    let dir = normal_vec(theta0.len(), &mut rng).normalize() * (theta0.norm() * 0.5);
    let (mut ce, mut ci_, mut cs) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..=10 {
        let u = -1.0 + 0.2 * k as f64;
        base.set_params(&(&theta0 + &dir * u));
        let (mut e, mut i) = (0.0, 0.0);
        for (x, s_true) in draws.x.iter().zip(&draws.score) {
            let (s, j) = base.eval(x, 0.0);
            e += esm_sample(&s, s_true);
            i += ism_sample(&s, &j);
        }
        let nn = draws.x.len() as f64;
        ce.push((u, e / nn));
        ci_.push((u, i / nn));
        cs.push((u, i / nn + f2));
    }
    let fig = Figure::new(
        "line",
        "SM-1: ESM and ISM along a random line in θ (MLP, 2-D mixture, common random numbers)",
        "u (θ = θ₀ + u·δ)",
        "objective",
    )
    .with(Series::line("ESM", ce))
    .with(Series::line("ISM", ci_))
    .with(Series::reference("ISM + E‖∇log p‖² (quadrature)", cs));
    let spread = diffs.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - diffs.iter().cloned().fold(f64::INFINITY, f64::min);
    Ok(Evidence::within(
        zmax,
        tol::K_SE,
        format!("mixture: max over {} models of |mean(ESM−ISM) − E‖∇log p‖²|/(SE + quadrature err) and of the paired |Δ(ESM−ISM) vs the first model|/SE, n = {n_mc} paired samples, Fisher information by quadrature = {f2:.6} (± {quad_err:.1e}); spread of the paired means across θ {spread:.3e}; Gaussian exact: max rel_err/tolerance = {worst_exact:.3} (tolerance 1e-12·cond(C), relative to |ESM|+|ISM|+tr C⁻¹)", models.len()),
    )
    .require(worst_exact <= 1.0, "Gaussian exact ESM − ISM = tr C⁻¹")
    .table(mc)
    .table(exact)
    .figure(fig))
}

// STUBS-BEGIN
fn sm2(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn sm3(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn sm4(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn sm5(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn sm6(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn sm7(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn pz2(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
fn pz3(_: &Ctx) -> Result<Evidence> {
    anyhow::bail!("todo")
}
// STUBS-END
