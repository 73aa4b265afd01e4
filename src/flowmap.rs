//! Flow maps of the probability-flow ODE (CLAIMS §11; PDM blog, TZ §5): Ψ_{s→t}(x_s) = x_s + ∫_s^t v du.
//!
//! - [`GaussianFlow`]: the closed form on Gaussian data (CLAIMS §2.1), Ψ_{s→t}(x) = m_t + C_t^{1/2}C_s^{−1/2}(x − m_s),
//!   its Jacobian, its derivative in the start time, the velocity v = α̇μ + A_t(x − m_t) and the consistency
//!   function f(x, t) = Ψ_{t→0}(x), all in Σ's eigenbasis (coordinates are independent there).
//! - [`reference_flow`]: the numerical flow map on any mixture, by the crate's reference integrator
//!   ([`crate::ode::reference_lambda_rk4`], RK4 in λ) run on [`Jets`], so the Jacobian ∂Ψ/∂x (the variational
//!   equation) comes with the value; its own error estimate is the step-halving difference.
//! - Consistency-model pieces: the zero-loss consistency-distillation map [`cd_zero_loss`] (the recursion
//!   f_θ(x, t_1) = x, f_θ(x, t_{n+1}) = f_θ(Φ(x; t_{n+1} → t_n), t_n) with a one-step teacher Φ) and the
//!   one-sample denoiser [`OneSample`] behind the consistency-training target (FM-4).
//! - CTM and mean flows (VE/EDM coordinates, α = 1, σ = t): [`ctm_g`], [`ctm_big_g`], [`mean_velocity`].

use crate::algebra::{Algebra, Denoiser, Noise};
use crate::lawnd::Jets;
use crate::ode::reference_lambda_rk4;
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use crate::target::{Gaussian, Mixture};
use anyhow::{ensure, Result};
use nalgebra::{DMatrix, DVector};

/// The exact PF-ODE flow of Gaussian data N(μ, Σ) under a schedule (CLAIMS §2.1).
pub struct GaussianFlow<'a> {
    pub target: &'a Gaussian,
    pub schedule: &'a dyn Schedule,
}

impl<'a> GaussianFlow<'a> {
    pub fn new(target: &'a Gaussian, schedule: &'a dyn Schedule) -> Self {
        Self { target, schedule }
    }

    /// C_t = α_t²λ_i + σ_t² per eigen-coordinate.
    fn var(&self, t: f64) -> DVector<f64> {
        let (a, s) = (self.schedule.alpha(t), self.schedule.sigma(t));
        self.target.eigvals.map(|l| a * a * l + s * s)
    }

    /// Ψ_{s→t}(x) = m_t + C_t^{1/2} C_s^{−1/2} (x − m_s).
    pub fn flow_map(&self, x: &DVector<f64>, s: f64, t: f64) -> DVector<f64> {
        let (cs, ct) = (self.var(s), self.var(t));
        let mu = self.target.eigen_mean();
        let (a_s, a_t) = (self.schedule.alpha(s), self.schedule.alpha(t));
        let y = self.target.to_eigen(x);
        let out = DVector::from_fn(y.len(), |i, _| {
            a_t * mu[i] + (ct[i] / cs[i]).sqrt() * (y[i] - a_s * mu[i])
        });
        self.target.from_eigen_coords(&out)
    }

    /// The consistency function f(x, t) = Ψ_{t→0}(x) = μ + Σ^{1/2} C_t^{−1/2}(x − m_t) (needs α_0 = 1, σ_0 = 0).
    pub fn consistency(&self, x: &DVector<f64>, t: f64) -> DVector<f64> {
        self.flow_map(x, t, 0.0)
    }

    /// ∂Ψ_{s→t}/∂x = V diag(√(C_t/C_s)) Vᵀ.
    pub fn jacobian(&self, s: f64, t: f64) -> DMatrix<f64> {
        let (cs, ct) = (self.var(s), self.var(t));
        self.target
            .matrix_with_spectrum(&DVector::from_fn(cs.len(), |i, _| (ct[i] / cs[i]).sqrt()))
    }

    /// ∂_s Ψ_{s→t}(x) by calculus on the closed form: C_t^{1/2}[−½ C_s^{−3/2} Ċ_s (x − m_s) − C_s^{−1/2} ṁ_s].
    pub fn d_start(&self, x: &DVector<f64>, s: f64, t: f64) -> DVector<f64> {
        let (cs, ct) = (self.var(s), self.var(t));
        let sch = self.schedule;
        let (a, sg, da, ds) = (sch.alpha(s), sch.sigma(s), sch.dalpha(s), sch.dsigma(s));
        let mu = self.target.eigen_mean();
        let lam = &self.target.eigvals;
        let y = self.target.to_eigen(x);
        let out = DVector::from_fn(y.len(), |i, _| {
            let cdot = 2.0 * a * da * lam[i] + 2.0 * sg * ds;
            ct[i].sqrt()
                * (-0.5 * cs[i].powf(-1.5) * cdot * (y[i] - a * mu[i])
                    - cs[i].powf(-0.5) * da * mu[i])
        });
        self.target.from_eigen_coords(&out)
    }

    /// The PF-ODE velocity v(x, t) = α̇_t μ + A_t (x − m_t), A_t = (α α̇ Σ + σ σ̇ I) C_t^{−1} (CLAIMS §2.1).
    pub fn velocity(&self, x: &DVector<f64>, t: f64) -> DVector<f64> {
        let sch = self.schedule;
        let (a, sg, da, ds) = (sch.alpha(t), sch.sigma(t), sch.dalpha(t), sch.dsigma(t));
        let c = self.var(t);
        let mu = self.target.eigen_mean();
        let lam = &self.target.eigvals;
        let y = self.target.to_eigen(x);
        let out = DVector::from_fn(y.len(), |i, _| {
            da * mu[i] + (a * da * lam[i] + sg * ds) / c[i] * (y[i] - a * mu[i])
        });
        self.target.from_eigen_coords(&out)
    }
}

/// The PF-ODE velocity of mixture data from the mixture's own score (not its denoiser):
/// v(x, t) = f(t) x − ½ g²(t) ∇log p_t(x) (CLAIMS §2.2, FW §3).
pub fn mixture_velocity(
    mix: &Mixture,
    schedule: &dyn Schedule,
    x: &DVector<f64>,
    t: f64,
) -> DVector<f64> {
    let (a, s) = (schedule.alpha(t), schedule.sigma(t));
    x * schedule.f(t) - mix.score(x, a, s) * (0.5 * schedule.g2(t))
}

/// A numerical flow map with its error estimate.
#[derive(Clone, Debug)]
pub struct RefFlow {
    /// Ψ_{s→t} at every point with its Jacobian, from `steps` RK4 steps in λ.
    pub map: Jets,
    /// max over points and coordinates of |Ψ_steps − Ψ_{steps/2}| (about 15× RK4's own error).
    pub value_error: f64,
    /// The same for the Jacobian entries.
    pub jacobian_error: f64,
}

/// Ψ_{s→t} of `mix` at the points `xs` (flattened, `mix.dim()` coordinates each) by the reference RK4 in λ
/// ([`reference_lambda_rk4`]) on [`Jets`]: values and Jacobians (the variational equation) at `steps` and
/// `steps/2` steps, the difference as the stated error. s and t must have finite λ (σ, α > 0).
///
/// # Errors
/// Fewer than 2 steps, points not of the mixture's dimension, non-finite λ at s or t.
pub fn reference_flow(
    schedule: &dyn Schedule,
    mix: &Mixture,
    xs: &[f64],
    s: f64,
    t: f64,
    steps: usize,
) -> Result<RefFlow> {
    let d = mix.dim();
    ensure!(steps >= 2, "the reference flow needs at least 2 steps");
    ensure!(
        !xs.is_empty() && xs.len().is_multiple_of(d),
        "points are not {d}-vectors"
    );
    ensure!(
        schedule.logsnr(s).is_finite() && schedule.logsnr(t).is_finite(),
        "the reference flow runs in λ: λ must be finite at s = {s} and t = {t}"
    );
    let start = Jets::seeded(d, xs.to_vec());
    let fine = reference_lambda_rk4(schedule, mix, &start, s, t, steps);
    let coarse = reference_lambda_rk4(schedule, mix, &start, s, t, steps / 2);
    let maxdiff = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max)
    };
    Ok(RefFlow {
        value_error: maxdiff(&fine.v, &coarse.v),
        jacobian_error: maxdiff(&fine.j, &coarse.j),
        map: fine,
    })
}

/// The zero-loss consistency-distillation map at grid node `n` (FM-3; Song et al. 2023, Thm 1): on the grid
/// `grid` = t_1 < … < t_N (t_1 = ε), f_θ(x, t_1) = x and f_θ(x, t_{k+1}) = f_θ(Φ(x; t_{k+1} → t_k), t_k), so
/// f_θ(x, t_n) is the teacher's one-step map Φ composed n − 1 times, written here as that recursion (one
/// step of the crate's `teacher` at a time; `n` is 1-based).
///
/// `noise` is never drawn from (the teacher is deterministic); any source of the state's type will do.
///
/// # Panics
/// `n` outside 1..=grid.len(), or a stochastic teacher.
pub fn cd_zero_loss<S, D, N>(
    teacher: Sampler,
    schedule: &dyn Schedule,
    grid: &[f64],
    n: usize,
    x: &S,
    model: &D,
    noise: &mut N,
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
    N: Noise<S> + ?Sized,
{
    assert!((1..=grid.len()).contains(&n), "node {n} is not on the grid");
    assert!(
        !teacher.is_stochastic(),
        "a consistency-distillation teacher is an ODE solver"
    );
    let mut y = x.clone();
    for k in (1..n).rev() {
        y = teacher.run(schedule, &[grid[k], grid[k - 1]], y, model, noise);
    }
    y
}

/// The one-sample "denoiser" x̂₀ ≡ x₀ of consistency training (FM-4): its score (α x₀ − x)/σ² is the
/// one-sample estimator −(x_t − x₀)/t² in VE/EDM coordinates.
pub struct OneSample(pub DVector<f64>);

impl Denoiser<DVector<f64>> for OneSample {
    fn denoise(&self, _x: &DVector<f64>, _alpha: f64, _sigma: f64) -> DVector<f64> {
        self.0.clone()
    }
}

/// CTM's g from a flow-map value (VE/EDM coordinates, PDM blog): Ψ_{s→t}(x) = (t/s)x + (1 − t/s) g, i.e.
/// g(x, s, t) = (sΨ − t x)/(s − t) (s ≠ t).
pub fn ctm_g(psi: &DVector<f64>, x: &DVector<f64>, s: f64, t: f64) -> DVector<f64> {
    (psi * s - x * t) / (s - t)
}

/// CTM's G(x, s, t) = (t/s)x + (1 − t/s) g (G(x, s, s) = x whatever g).
pub fn ctm_big_g(g: &DVector<f64>, x: &DVector<f64>, s: f64, t: f64) -> DVector<f64> {
    x * (t / s) + g * (1.0 - t / s)
}

/// The mean (average) velocity h(x, s, t) = (Ψ_{s→t}(x) − x)/(t − s) (MeanFlow; PDM blog), s ≠ t.
pub fn mean_velocity(psi: &DVector<f64>, x: &DVector<f64>, s: f64, t: f64) -> DVector<f64> {
    (psi - x) / (t - s)
}

impl GaussianFlow<'_> {
    /// CTM's g(x, s, t) in EDM coordinates (α = 1, σ = t) from the closed form without cancellation, so
    /// that t = s is allowed: per eigen-coordinate, with r = (t − s)(t + s)/C_s = C_t/C_s − 1,
    /// g = x − s(t + s)(x − μ)/(C_s(1 + √(1 + r))). At t = s it is x − s²(x − μ)/C_s, the denoiser.
    ///
    /// # Panics
    /// If the schedule is not EDM-like (α ≠ 1 or σ(t) ≠ t at s or t).
    pub fn ctm_g_edm(&self, x: &DVector<f64>, s: f64, t: f64) -> DVector<f64> {
        let sch = self.schedule;
        assert!(
            sch.alpha(s) == 1.0 && sch.alpha(t) == 1.0 && sch.sigma(s) == s && sch.sigma(t) == t,
            "ctm_g_edm needs VE/EDM coordinates (α = 1, σ = t)"
        );
        let cs = self.var(s);
        let mu = self.target.eigen_mean();
        let y = self.target.to_eigen(x);
        let out = DVector::from_fn(y.len(), |i, _| {
            let r = (t - s) * (t + s) / cs[i];
            y[i] - s * (t + s) * (y[i] - mu[i]) / (cs[i] * (1.0 + (1.0 + r).sqrt()))
        });
        self.target.from_eigen_coords(&out)
    }
}

/// The Jacobian of point `p` of a [`Jets`] as a matrix.
pub fn jet_jacobian(j: &Jets, p: usize) -> DMatrix<f64> {
    DMatrix::from_row_slice(j.dim, j.dim, j.jacobian(p))
}

/// The value of point `p` of a [`Jets`] as a vector.
pub fn jet_value(j: &Jets, p: usize) -> DVector<f64> {
    DVector::from_row_slice(j.value(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{demo_mixture, test_gaussian};
    use crate::schedule::{Edm, VpLinear};

    #[test]
    fn gaussian_flow_map_is_a_semigroup_and_its_velocity_and_start_derivative_match_differences() {
        let g = test_gaussian();
        let sch = VpLinear::default();
        let fl = GaussianFlow::new(&g, &sch);
        let x = DVector::from_vec(vec![0.3, -1.2, 2.0]);
        let (s, u, t) = (0.9, 0.4, 0.05);
        let two = fl.flow_map(&fl.flow_map(&x, s, u), u, t);
        assert!((two - fl.flow_map(&x, s, t)).amax() < 1e-13);
        // v = ∂_t Ψ_{s→t}(x) at t = s, and ∂_s Ψ_{s→t} = −J v (the flow is constant along trajectories).
        let h = 1e-5;
        let fd = (fl.flow_map(&x, s, s + h) - fl.flow_map(&x, s, s - h)) / (2.0 * h);
        assert!((&fd - fl.velocity(&x, s)).amax() < 1e-8, "{fd}");
        let fd = (fl.flow_map(&x, s + h, t) - fl.flow_map(&x, s - h, t)) / (2.0 * h);
        assert!((&fd - fl.d_start(&x, s, t)).amax() < 1e-8);
        let jv = fl.jacobian(s, t) * fl.velocity(&x, s);
        assert!((fl.d_start(&x, s, t) + jv).amax() < 1e-12);
    }

    #[test]
    fn reference_flow_matches_the_gaussian_closed_form_with_its_jacobian() {
        let g = test_gaussian();
        let sch = VpLinear::default();
        let fl = GaussianFlow::new(&g, &sch);
        let x = [0.3, -1.2, 2.0];
        let r = reference_flow(&sch, &g.to_mixture(), &x, 0.8, 0.01, 2000).unwrap();
        let want = fl.flow_map(&DVector::from_row_slice(&x), 0.8, 0.01);
        assert!((jet_value(&r.map, 0) - want).amax() < 1e-10);
        assert!((jet_jacobian(&r.map, 0) - fl.jacobian(0.8, 0.01)).amax() < 1e-10);
        assert!(r.value_error < 1e-9 && r.jacobian_error < 1e-9);
    }

    #[test]
    fn mixture_velocity_is_the_time_derivative_of_the_reference_flow() {
        let mix = demo_mixture();
        let sch = VpLinear::default();
        let x = [0.4, -0.7];
        let s = 0.5;
        // Central difference with h = 1e-4: O(h²) ≈ 1e-7 truncation (the h = 1e-3 difference is 1.2e-5).
        let h = 1e-4;
        let f = |t| jet_value(&reference_flow(&sch, &mix, &x, s, t, 400).unwrap().map, 0);
        let fd = (f(s + h) - f(s - h)) / (2.0 * h);
        let v = mixture_velocity(&mix, &sch, &DVector::from_row_slice(&x), s);
        assert!((&fd - &v).amax() < 1e-6, "{fd} {v}");
    }

    #[test]
    fn ctm_g_edm_agrees_with_the_generic_g_and_is_the_denoiser_at_t_equal_s() {
        let g = test_gaussian();
        let fl = GaussianFlow::new(&g, &Edm);
        let x = DVector::from_vec(vec![1.0, 0.5, -2.0]);
        let (s, t) = (1.3, 0.7);
        let generic = ctm_g(&fl.flow_map(&x, s, t), &x, s, t);
        assert!((generic - fl.ctm_g_edm(&x, s, t)).amax() < 1e-13);
        let d = g.to_mixture().denoise(&x, 1.0, s);
        assert!((fl.ctm_g_edm(&x, s, s) - d).amax() < 1e-14);
        let big = ctm_big_g(&fl.ctm_g_edm(&x, s, t), &x, s, t);
        assert!((big - fl.flow_map(&x, s, t)).amax() < 1e-13);
        assert!((ctm_big_g(&x.map(|v| v * 7.0), &x, s, s) - &x).amax() == 0.0);
    }
}
