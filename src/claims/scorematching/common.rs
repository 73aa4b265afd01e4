//! Helpers shared by several score-matching claims: random draws, affine and nonlinear models, interior
//! times (SM-1..SM-5, SM-7, PZ-2, PZ-3), common random numbers on the mixture, and the paired Monte Carlo
//! verdict against a quadrature constant (SM-1..SM-4, SM-7).

use crate::claims::Ctx;
use crate::evidence::Table;
use crate::fixtures::random_gaussian;
use crate::losses::gaussian::AffineScore;
use crate::losses::mixture::{constants, MixtureConstants};
use crate::losses::NoiseLevel;
use crate::metrics::{mean_ci, MeanCi};
use crate::models::{Mlp, RandomFeatures, ScoreModel};
use crate::schedule::Schedule;
use crate::target::{Gaussian, Mixture};
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;

/// One N(0, 1) draw.
pub(super) fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// A N(0, I_d) draw.
pub(super) fn normal_vec<R: Rng + ?Sized>(d: usize, rng: &mut R) -> DVector<f64> {
    DVector::from_fn(d, |_, _| normal(&mut *rng))
}

/// A random affine score model −P(x − m): P = I + 0.7·N(0,1) entries (not symmetric), m ~ N(0, I).
pub(super) fn random_affine<R: Rng + ?Sized>(d: usize, rng: &mut R) -> AffineScore {
    let p = DMatrix::identity(d, d) + DMatrix::from_fn(d, d, |_, _| 0.7 * normal(&mut *rng));
    AffineScore {
        p,
        m: normal_vec(d, rng),
    }
}

/// The exact Gaussian part of SM-2 and SM-7: the "gaussian" stream, a random d = 4 Gaussian drawn from it
/// first, and (interior times per schedule, models per time).
pub(super) fn gaussian_setup(ctx: &Ctx) -> (Pcg64, Gaussian, usize, usize) {
    let mut rng = ctx.rng("gaussian");
    let g = random_gaussian(4, &mut rng);
    let (nt, k_theta) = ctx.scale.pick((5, 6), (20, 24));
    (rng, g, nt, k_theta)
}

/// Interior times of a schedule's range (away from the singular ends).
pub(super) fn times(sch: &dyn Schedule, n: usize) -> Vec<f64> {
    let (lo, hi) = sch.t_range();
    (0..n)
        .map(|k| lo + (hi - lo) * (0.02 + 0.93 * k as f64 / (n.max(2) - 1) as f64))
        .collect()
}

/// Condition number of C_t = α²Σ + σ²I.
pub(super) fn cond_c(g: &Gaussian, n: &NoiseLevel) -> f64 {
    let c = g.eigvals.map(|l| n.alpha * n.alpha * l + n.sigma * n.sigma);
    c.max() / c.min()
}

/// Common random numbers on the mixture at one time: x₀, ε, x_t and the exact score ∇log p_t(x_t).
pub(super) struct Draws {
    pub(super) x0: Vec<DVector<f64>>,
    pub(super) eps: Vec<DVector<f64>>,
    pub(super) x: Vec<DVector<f64>>,
    pub(super) score: Vec<DVector<f64>>,
}

impl Draws {
    pub(super) fn new<R: Rng + ?Sized>(
        mix: &Mixture,
        sch: &dyn Schedule,
        t: f64,
        n: usize,
        rng: &mut R,
    ) -> Self {
        Self::at_level(mix, NoiseLevel::at(sch, t), n, rng)
    }
    pub(super) fn at_level<R: Rng + ?Sized>(
        mix: &Mixture,
        noise: NoiseLevel,
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
        Self { x0, eps, x, score }
    }
}

/// The nonlinear models of the Monte Carlo checks: `k_mlp` random MLPs and `k_rf` random-feature models.
pub(super) fn random_models<R: Rng + ?Sized>(
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

/// Mean and confidence interval at tol::LEVEL.
pub(super) fn ci(xs: &[f64]) -> Result<MeanCi> {
    mean_ci(xs, tol::LEVEL)
}

/// z-score of a paired mean against a constant known to `const_err` (quadrature error, added to the SE).
pub(super) fn z_of(m: &MeanCi, expected: f64, const_err: f64) -> f64 {
    (m.mean - expected).abs() / (m.se + const_err).max(f64::MIN_POSITIVE)
}

/// The paired Monte Carlo verdict of "objective A − objective B is the same constant for every θ": per
/// model, the CI of the per-sample difference against the quadrature constant, and the CI of the
/// difference of differences against the first model (common random numbers: the θ-free part cancels).
/// Rows are appended to `table` (columns of [`PAIRED_COLUMNS`]); returns the largest z.
pub(super) fn paired_rows(
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
pub(super) const PAIRED_COLUMNS: [&str; 13] = [
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
pub(super) fn mixture_constants(
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
