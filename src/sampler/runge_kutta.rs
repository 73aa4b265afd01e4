//! Runge–Kutta methods on the PF-ODE dx/dt = f x − ½ g² ∇log p in t ([`pf_velocity`]): Heun and RK4.

use super::{pf_velocity, Grid, History, Method, Span};
use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::HeunT`]: explicit trapezoid, the field at both ends of every step.
pub(super) struct HeunT;

impl Method for HeunT {
    fn label(&self) -> String {
        "heun-t".into()
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn nfe_step(&self, _sigma_t: f64) -> usize {
        2
    }
    fn grid(&self) -> Grid {
        Grid::UniformT
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        _hist: &mut History<S>,
        model: &D,
        _noise: &mut N,
    ) -> S {
        let (s, t) = (span.s, span.t);
        let d1 = pf_velocity(schedule, s, x, model);
        let pred = S::lin(&[(1.0, x), (t - s, &d1)]);
        let d2 = pf_velocity(schedule, t, &pred, model);
        S::lin(&[(1.0, x), (0.5 * (t - s), &d1), (0.5 * (t - s), &d2)])
    }
}

/// [`super::Sampler::Rk4T`]: classic RK4, midpoint evaluations at (s + t)/2.
pub(super) struct Rk4T;

impl Method for Rk4T {
    fn label(&self) -> String {
        "rk4-t".into()
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn nfe_step(&self, _sigma_t: f64) -> usize {
        4
    }
    fn grid(&self) -> Grid {
        Grid::UniformT
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        _hist: &mut History<S>,
        model: &D,
        _noise: &mut N,
    ) -> S {
        let (s, t) = (span.s, span.t);
        let (h, m) = (t - s, 0.5 * (s + t));
        let k1 = pf_velocity(schedule, s, x, model);
        let k2 = pf_velocity(schedule, m, &S::lin(&[(1.0, x), (0.5 * h, &k1)]), model);
        let k3 = pf_velocity(schedule, m, &S::lin(&[(1.0, x), (0.5 * h, &k2)]), model);
        let k4 = pf_velocity(schedule, t, &S::lin(&[(1.0, x), (h, &k3)]), model);
        S::lin(&[
            (1.0, x),
            (h / 6.0, &k1),
            (h / 3.0, &k2),
            (h / 3.0, &k3),
            (h / 6.0, &k4),
        ])
    }
}
