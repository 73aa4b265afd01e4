//! DDIM(η) (Song et al. 2021; DD-1) and Euler in the VE-ised variables (DD-3): first-order samplers in
//! the noise prediction.

use super::{Grid, History, Method, Span};
use crate::algebra::{eps_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::Ddim`]: x_t = α_t x̂₀ + √(σ_t² − c₁²) ε̂ + c₁ z, c₁ = η σ_t √(1 − e^{−2h}).
pub(super) struct Ddim {
    pub(super) eta: f64,
}

impl Method for Ddim {
    fn label(&self) -> String {
        format!("ddim-eta{}", self.eta)
    }
    fn is_stochastic(&self) -> bool {
        self.eta != 0.0
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        _schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        _hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S {
        let (alpha_s, sigma_s, alpha_t, sigma_t) =
            (span.alpha_s, span.sigma_s, span.alpha_t, span.sigma_t);
        let x0 = model.denoise(x, alpha_s, sigma_s);
        let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
        // e^{−2h} = (α_s σ_t / (α_t σ_s))².
        let r = (alpha_s * sigma_t) / (alpha_t * sigma_s);
        let c1 = self.eta * sigma_t * (1.0 - r * r).max(0.0).sqrt();
        let c2 = (sigma_t * sigma_t - c1 * c1).max(0.0).sqrt();
        if c1 == 0.0 {
            S::lin(&[(alpha_t, &x0), (c2, &eps)])
        } else {
            let z = noise.standard_normal(x);
            S::lin(&[(alpha_t, &x0), (c2, &eps), (c1, &z)])
        }
    }
}

/// [`super::Sampler::EulerVe`]: x̄_t = x̄_s + (σ̄_t − σ̄_s) ε̂ in σ̄ = σ/α, x̄ = x/α.
pub(super) struct EulerVe;

impl Method for EulerVe {
    fn label(&self) -> String {
        "euler-ve".into()
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
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
        let (alpha_s, sigma_s, alpha_t, sigma_t) =
            (span.alpha_s, span.sigma_s, span.alpha_t, span.sigma_t);
        let x0 = model.denoise(x, alpha_s, sigma_s);
        let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
        let xbar_s = S::lin(&[(1.0 / alpha_s, x)]);
        let xbar_t = S::lin(&[
            (1.0, &xbar_s),
            (sigma_t / alpha_t - sigma_s / alpha_s, &eps),
        ]);
        S::lin(&[(alpha_t, &xbar_t)])
    }
}
