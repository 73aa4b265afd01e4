//! Samplers of the reverse-noise family in t, from the score (RV-1..RV-3; Pierret & Galerne's schemes):
//! Euler–Maruyama, DDPM with β_step = g²Δt, and the score-frozen exponential integrator.

use super::{Grid, History, Method, Span};
use crate::algebra::{score_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::EulerMaruyama`]: x_t = x_s − h [f x_s − ((1+λ)/2) g² ∇log p_s] + √(λ g² h) z.
pub(super) struct EulerMaruyama {
    pub(super) noise_level: f64,
}

impl Method for EulerMaruyama {
    fn label(&self) -> String {
        if self.noise_level == 0.0 {
            "pf-ode-euler".into()
        } else {
            format!("em-noise{}", self.noise_level)
        }
    }
    fn is_stochastic(&self) -> bool {
        self.noise_level != 0.0
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
        noise: &mut N,
    ) -> S {
        let (s, t, alpha_s, sigma_s) = (span.s, span.t, span.alpha_s, span.sigma_s);
        let noise_level = self.noise_level;
        let x0 = model.denoise(x, alpha_s, sigma_s);
        let h = s - t;
        let (f, g2) = (schedule.f(s), schedule.g2(s));
        let score = score_from_x0(x, &x0, alpha_s, sigma_s);
        let drift_x = 1.0 - h * f;
        let drift_s = h * 0.5 * (1.0 + noise_level) * g2;
        if noise_level == 0.0 {
            S::lin(&[(drift_x, x), (drift_s, &score)])
        } else {
            let z = noise.standard_normal(x);
            S::lin(&[
                (drift_x, x),
                (drift_s, &score),
                ((noise_level * g2 * h).sqrt(), &z),
            ])
        }
    }
}

/// [`super::Sampler::DdpmBetaDt`]: x_t = (x_s + β_step ∇log p_s)/√(1 − β_step) + √β_step z, β_step = g²(s)(s − t).
pub(super) struct DdpmBetaDt;

impl Method for DdpmBetaDt {
    fn label(&self) -> String {
        "ddpm-beta-dt".into()
    }
    fn is_stochastic(&self) -> bool {
        true
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
        noise: &mut N,
    ) -> S {
        let (s, t, alpha_s, sigma_s) = (span.s, span.t, span.alpha_s, span.sigma_s);
        let x0 = model.denoise(x, alpha_s, sigma_s);
        let beta = schedule.g2(s) * (s - t);
        let score = score_from_x0(x, &x0, alpha_s, sigma_s);
        let sc = 1.0 / (1.0 - beta).sqrt();
        let z = noise.standard_normal(x);
        S::lin(&[(sc, x), (sc * beta, &score), (beta.sqrt(), &z)])
    }
}

/// [`super::Sampler::ExpIntegratorScore`]: x_t = (α_t/α_s) x_s + ((1+λ)/2) α_t (∫_t^s g²/α du) ∇log p_s
/// + α_t √(λ (σ̄_s² − σ̄_t²)) z.
pub(super) struct ExpIntegratorScore {
    pub(super) noise_level: f64,
}

impl Method for ExpIntegratorScore {
    fn label(&self) -> String {
        format!("ei-score-noise{}", self.noise_level)
    }
    fn is_stochastic(&self) -> bool {
        self.noise_level != 0.0
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
        noise: &mut N,
    ) -> S {
        let (s, t) = (span.s, span.t);
        let (alpha_s, sigma_s, alpha_t, sigma_t) =
            (span.alpha_s, span.sigma_s, span.alpha_t, span.sigma_t);
        let noise_level = self.noise_level;
        let x0 = model.denoise(x, alpha_s, sigma_s);
        let integral =
            crate::quadrature::gauss_legendre(&|u| schedule.g2(u) / schedule.alpha(u), t, s, 8);
        let score = score_from_x0(x, &x0, alpha_s, sigma_s);
        let mean = S::lin(&[
            (alpha_t / alpha_s, x),
            (0.5 * (1.0 + noise_level) * alpha_t * integral, &score),
        ]);
        if noise_level == 0.0 {
            mean
        } else {
            let var = noise_level
                * alpha_t
                * alpha_t
                * ((sigma_s / alpha_s).powi(2) - (sigma_t / alpha_t).powi(2));
            let z = noise.standard_normal(x);
            S::lin(&[(1.0, &mean), (var.max(0.0).sqrt(), &z)])
        }
    }
}
