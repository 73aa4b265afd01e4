//! EDM Euler and Heun (Karras et al. 2022, Alg. 1; HO-4) in x̄ = x/α, σ̄ = σ/α; no correction into σ_t = 0.

use super::{Grid, History, Method, Span};
use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::EdmEuler`] (`heun: false`) and [`super::Sampler::EdmHeun`] (`heun: true`).
pub(super) struct Edm {
    pub(super) heun: bool,
}

impl Method for Edm {
    fn label(&self) -> String {
        if self.heun {
            "edm-heun".into()
        } else {
            "edm-euler".into()
        }
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn nfe_step(&self, sigma_t: f64) -> usize {
        if self.heun && sigma_t != 0.0 {
            2
        } else {
            1
        }
    }
    fn grid(&self) -> Grid {
        Grid::EdmRho7
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        _schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        _hist: &mut History<S>,
        model: &D,
        _noise: &mut N,
    ) -> S {
        let (a_s, sg_s, a_t, sg_t) = (span.alpha_s, span.sigma_s, span.alpha_t, span.sigma_t);
        let (sb_s, sb_t) = (sg_s / a_s, sg_t / a_t);
        let x0 = model.denoise(x, a_s, sg_s);
        let xbar = S::lin(&[(1.0 / a_s, x)]);
        // d = (x̄ − D(x̄; σ̄_s))/σ̄_s.
        let d = S::lin(&[(1.0 / sb_s, &xbar), (-1.0 / sb_s, &x0)]);
        let pred = S::lin(&[(1.0, &xbar), (sb_t - sb_s, &d)]);
        if !self.heun || sg_t == 0.0 {
            return S::lin(&[(a_t, &pred)]);
        }
        let x0p = model.denoise(&S::lin(&[(a_t, &pred)]), a_t, sg_t);
        let d2 = S::lin(&[(1.0 / sb_t, &pred), (-1.0 / sb_t, &x0p)]);
        let dt = sb_t - sb_s;
        S::lin(&[(a_t, &xbar), (a_t * 0.5 * dt, &d), (a_t * 0.5 * dt, &d2)])
    }
}
