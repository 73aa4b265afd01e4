//! Helpers shared by the guidance claims: the test beds, the guided Gaussian moment ODE (an integrator
//! independent of the samplers), the tilted densities normalised by quadrature, distances of an exact 1-D
//! law to a density given by its log-pdf, and Monte Carlo on batches of 2-D points.

use crate::algebra::{Denoiser, Noise};
use crate::law1d::{Density1d, Law1d};
use crate::lawnd::{log_density_batch, Jets};
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use crate::target::Mixture;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;

/// The guidance scales of the sweeps (DPM convention; w = 1 is the conditional model).
pub(super) const SCALES: [f64; 5] = [1.0, 1.5, 3.0, 5.0, 8.0];

/// The scales of a sweep at `scale`: all of [`SCALES`] at full scale; 1, 3, 8 at quick scale (runtime).
pub(super) fn scales(scale: crate::claims::Scale) -> Vec<f64> {
    scale.pick(vec![1.0, 3.0, 8.0], SCALES.to_vec())
}

/// Resolution of the exact 1-D laws of the guidance claims: half the engine's default (their stated
/// accuracy, ≲ 1e-4, is reported beside every distance and is far below the O(0.1) distances measured).
pub(super) const ACCURACY: crate::law1d::Accuracy = crate::law1d::Accuracy {
    panels: 16,
    kappa: 2.0,
};

/// The ODE and SDE samplers of the sweeps: DPM-Solver++(2M) and the exponential integrator of the reverse
/// SDE (SDE-DPM-Solver++1, one-step, so the exact 1-D law engine takes it).
pub(super) const ODE: Sampler = Sampler::DpmSolverPp2M { noise_level: 0.0 };
pub(super) const SDE: Sampler = Sampler::ExpIntegrator { noise_level: 1.0 };

/// The 2-class 1-D mixture of GD-1/3/4 (class = component): unequal weights and variances, modes 3 apart.
pub(super) fn mixture_1d() -> Mixture {
    Mixture::isotropic(
        vec![0.4, 0.6],
        vec![DVector::from_vec(vec![-1.5]), DVector::from_vec(vec![1.5])],
        &[0.4, 0.8],
    )
    .expect("valid 1-D mixture")
}

/// The class guided towards (component 0: N(−1.5, 0.4)).
pub(super) const CLASS: usize = 0;

/// The 2-D three-mode mixture (PDM's four_predictions modes, CLAIMS §2.2) with isotropic variance 0.3.
pub(super) fn mixture_2d() -> Mixture {
    let v = |a: f64, b: f64| DVector::from_vec(vec![a, b]);
    Mixture::isotropic(
        vec![0.35, 0.35, 0.30],
        vec![v(-2.2, 1.8), v(2.2, 0.8), v(0.0, -2.4)],
        &[0.3, 0.3, 0.3],
    )
    .expect("valid 2-D mixture")
}

/// Component `k` of `mix` as its own one-component mixture: the class-conditional p(x|c = k).
pub(super) fn component(mix: &Mixture, k: usize) -> Mixture {
    Mixture::new(
        vec![1.0],
        vec![mix.means[k].clone()],
        vec![mix.covs[k].clone()],
    )
    .expect("a component is a valid law")
}

/// The 1-D [`Density1d`] of a 1-D mixture noised at (α, σ).
pub(super) fn density(mix: &Mixture, alpha: f64, sigma: f64) -> Result<Density1d> {
    crate::fixtures::density_1d(mix, alpha, sigma)
}

/// The reverse-time moment ODE of the λ-family (λ = `noise_level`) driven by the CFG field of two 1-D
/// Gaussians N(μ_c, s_c²), N(μ_u, s_u²): the field is −P_t(x − M_t) with P_t = w/C_c + (1 − w)/C_u,
/// P_t M_t = w α μ_c/C_c + (1 − w) α μ_u/C_u, C = α²s² + σ², so in τ = T − t
/// dm/dτ = −f m − ((1+λ)/2) g² P_t (m − M_t), dV/dτ = −2(f + ((1+λ)/2) g² P_t) V + λ g².
/// Starts at N(M_T, 1/P_T); RK4 in u = log t from `t_max` to `t_min`.
#[allow(clippy::too_many_arguments)]
pub(super) fn guided_moment_ode(
    sch: &dyn Schedule,
    w: f64,
    cond: (f64, f64),
    uncond: (f64, f64),
    t_max: f64,
    t_min: f64,
    noise_level: f64,
    steps: usize,
) -> (f64, f64) {
    let field = |t: f64| {
        let (a, s) = (sch.alpha(t), sch.sigma(t));
        let (cc, cu) = (a * a * cond.1 + s * s, a * a * uncond.1 + s * s);
        let p = w / cc + (1.0 - w) / cu;
        let pm = w * a * cond.0 / cc + (1.0 - w) * a * uncond.0 / cu;
        (p, pm / p)
    };
    let k = 0.5 * (1.0 + noise_level);
    let rhs = |u: f64, m: f64, v: f64| {
        let t = u.exp();
        let (p, big_m) = field(t);
        let (f, g2) = (sch.f(t), sch.g2(t));
        let dm = -f * m - k * g2 * p * (m - big_m);
        let dv = -2.0 * (f + k * g2 * p) * v + noise_level * g2;
        // dτ = −dt = −t du.
        (-t * dm, -t * dv)
    };
    let (p0, m0) = field(t_max);
    let (mut m, mut v) = (m0, 1.0 / p0);
    let (u0, u1) = (t_max.ln(), t_min.ln());
    let h = (u1 - u0) / steps as f64;
    for i in 0..steps {
        let u = u0 + h * i as f64;
        let k1 = rhs(u, m, v);
        let k2 = rhs(u + 0.5 * h, m + 0.5 * h * k1.0, v + 0.5 * h * k1.1);
        let k3 = rhs(u + 0.5 * h, m + 0.5 * h * k2.0, v + 0.5 * h * k2.1);
        let k4 = rhs(u + h, m + h * k3.0, v + h * k3.1);
        m += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
        v += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
    }
    (m, v)
}

pub(super) use crate::guidance::Normalised1d as Normalised;

/// W1 and KL of an exact 1-D law to a normalised density with their stated accuracies:
/// (w1, kl, |Δw1|, |Δkl|) ([`crate::guidance::distances_1d`]).
pub(super) fn distances_to(
    law: &Law1d,
    reference: &Normalised,
    n: usize,
) -> Result<(f64, f64, f64, f64)> {
    let d = crate::guidance::distances_1d(law, reference, n)?;
    Ok((d.w1, d.kl, d.error_w1, d.error_kl))
}

/// Standard normal noise for a batch of 2-D points (zero Jacobians): Monte Carlo on [`Jets`].
pub(super) struct JetsNoise {
    pub rng: Pcg64,
}

impl Noise<Jets> for JetsNoise {
    fn standard_normal(&mut self, like: &Jets) -> Jets {
        Jets {
            dim: like.dim,
            v: (0..like.v.len())
                .map(|_| StandardNormal.sample(&mut self.rng))
                .collect(),
            j: vec![0.0; like.j.len()],
        }
    }
}

/// Run `sampler` on `n` paths started from draws of `start` noised at (α_T, σ_T) = schedule at
/// `times[0]`, with the denoiser `model`; the output points (flattened).
pub(super) fn monte_carlo_2d<D: Denoiser<Jets>>(
    sampler: Sampler,
    sch: &dyn Schedule,
    times: &[f64],
    start: &Mixture,
    model: &D,
    n: usize,
    rng: &mut Pcg64,
) -> Vec<f64> {
    let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
    let mut pts = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let x0 = start.sample(rng);
        for i in 0..2 {
            let z: f64 = StandardNormal.sample(rng);
            pts.push(a * x0[i] + s * z);
        }
    }
    let mut noise = JetsNoise {
        rng: rand::SeedableRng::seed_from_u64(rand::RngExt::random::<u64>(rng)),
    };
    sampler
        .run(sch, times, Jets::seeded(2, pts), model, &mut noise)
        .v
}

/// Mean (2-vector) and E‖y − mean‖² of the 2-D density ∝ exp(`log_unnormalised`) by tensor Gauss–Legendre
/// on the box [lo, hi]² (`panels` panels of 8 points per axis).
pub(super) fn moments_2d(
    log_unnormalised: &dyn Fn(&[f64]) -> Vec<f64>,
    lo: f64,
    hi: f64,
    panels: usize,
) -> ([f64; 2], f64) {
    use crate::quadrature::{GL8_NODES as X, GL8_WEIGHTS as W};
    let h = (hi - lo) / panels as f64;
    let (mut x, mut wt) = (Vec::new(), Vec::new());
    for p in 0..panels {
        let (c, r) = (lo + (p as f64 + 0.5) * h, 0.5 * h);
        for (xi, wi) in X.iter().zip(W) {
            x.extend([c - r * xi, c + r * xi]);
            wt.extend([wi * r, wi * r]);
        }
    }
    let mut pts = Vec::with_capacity(2 * x.len() * x.len());
    let mut ws = Vec::with_capacity(x.len() * x.len());
    for (a, wa) in x.iter().zip(&wt) {
        for (b, wb) in x.iter().zip(&wt) {
            pts.extend([*a, *b]);
            ws.push(wa * wb);
        }
    }
    let logs = log_unnormalised(&pts);
    let shift = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let p: Vec<f64> = logs
        .iter()
        .zip(&ws)
        .map(|(l, w)| w * (l - shift).exp())
        .collect();
    let z: f64 = p.iter().sum();
    let mut m = [0.0; 2];
    for (k, pk) in p.iter().enumerate() {
        m[0] += pk * pts[2 * k];
        m[1] += pk * pts[2 * k + 1];
    }
    m[0] /= z;
    m[1] /= z;
    let mut spread = 0.0;
    for (k, pk) in p.iter().enumerate() {
        spread += pk * ((pts[2 * k] - m[0]).powi(2) + (pts[2 * k + 1] - m[1]).powi(2));
    }
    (m, spread / z)
}

/// ln p(y|c)^w p(y)^{1−w} (unnormalised) of a 2-D mixture and its component `class`, at flattened points.
pub(super) fn log_tilted_2d(mix: &Mixture, class: usize, w: f64, pts: &[f64]) -> Vec<f64> {
    let cond = component(mix, class);
    let lc = log_density_batch(&cond, 1.0, 0.0, pts).expect("PD components");
    let lu = log_density_batch(mix, 1.0, 0.0, pts).expect("PD components");
    lc.iter()
        .zip(&lu)
        .map(|(c, u)| w * c + (1.0 - w) * u)
        .collect()
}
