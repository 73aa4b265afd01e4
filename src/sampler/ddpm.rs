//! DDPM ancestral sampling (Ho et al. 2020, Alg. 2), the two variances of CONV-7.

use super::{Grid, History, Method, Span};
use crate::algebra::{eps_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// Which variance DDPM ancestral sampling injects (CONV-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdpmVariance {
    /// σ² = β_n ("fixed large", the DDPM code's default).
    Large,
    /// σ² = β̃_n = (1 − ᾱ_{n−1})β_n/(1 − ᾱ_n) ("fixed small", the true posterior variance).
    Small,
}

/// [`super::Sampler::Ddpm`]: x_t = (x_s − β ε̂/σ_s)/√(1−β) + √v z, β = 1 − ᾱ_s/ᾱ_t.
pub(super) struct Ddpm {
    pub(super) variance: DdpmVariance,
}

impl Method for Ddpm {
    fn label(&self) -> String {
        match self.variance {
            DdpmVariance::Large => "ddpm-beta".into(),
            DdpmVariance::Small => "ddpm-beta-tilde".into(),
        }
    }
    fn is_stochastic(&self) -> bool {
        true
    }
    fn grid(&self) -> Grid {
        Grid::UniformT
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
        // 1 − β = ᾱ_s/ᾱ_t directly (recomputing it as 1 − β loses all digits when ᾱ_s ≪ ᾱ_t).
        let keep = (alpha_s * alpha_s) / (alpha_t * alpha_t);
        let beta = 1.0 - keep;
        let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
        let mean = S::lin(&[
            (1.0 / keep.sqrt(), x),
            (-beta / sigma_s / keep.sqrt(), &eps),
        ]);
        let var = match self.variance {
            DdpmVariance::Large => beta,
            DdpmVariance::Small => beta * sigma_t * sigma_t / (sigma_s * sigma_s),
        };
        let z = noise.standard_normal(x);
        S::lin(&[(1.0, &mean), (var.sqrt(), &z)])
    }
}
