//! DPM-Solver in the noise prediction (Lu et al. 2022; CLAIMS HO-2): the first-order step, the singlestep
//! solvers of orders 2 and 3, and the multistep 2M. Notation of DPM-Solver's code: a step goes from `s` to
//! the earlier `t`, h = λ_t − λ_s > 0 with λ = log(α/σ). Into σ_t = 0 (h = ∞) every one of them takes the
//! first-order step with the limit σ_t(e^h − 1) → α_tσ_s/α_s ([`Span::sigma_expm1`]), which lands on
//! α_t x̂₀(x_s).

use super::{Grid, History, Method, Span};
use crate::algebra::{eps_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// ε̂ at time `u` (one model evaluation).
fn eps_at<S, D>(sch: &dyn Schedule, u: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (a, sg) = (sch.alpha(u), sch.sigma(u));
    eps_from_x0(x, &model.denoise(x, a, sg), a, sg)
}

/// The first-order step x_t = (α_t/α_s) x − σ_t(e^h − 1) ε̂_s.
fn first_order<S: Algebra>(span: &Span, h: f64, x: &S, eps_s: &S) -> S {
    S::lin(&[
        (span.alpha_t / span.alpha_s, x),
        (-span.sigma_expm1(h), eps_s),
    ])
}

/// [`super::Sampler::DpmSolver1`] (h from ln(α/σ), as the official code).
pub(super) struct DpmSolver1;

impl Method for DpmSolver1 {
    fn label(&self) -> String {
        "dpm-solver-1".into()
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
        let (alpha_s, sigma_s) = (span.alpha_s, span.sigma_s);
        let x0 = model.denoise(x, alpha_s, sigma_s);
        let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
        let (l_s, l_t) = span.ratio_lambdas();
        first_order(span, l_t - l_s, x, &eps)
    }
}

/// [`super::Sampler::DpmSolver2`]: singlestep, r₁ = ½.
pub(super) struct DpmSolver2;

impl Method for DpmSolver2 {
    fn label(&self) -> String {
        "dpm-solver-2".into()
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn nfe_step(&self, sigma_t: f64) -> usize {
        if sigma_t == 0.0 {
            1
        } else {
            2
        }
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        sch: &dyn Schedule,
        span: &Span,
        x: &S,
        _hist: &mut History<S>,
        model: &D,
        _noise: &mut N,
    ) -> S {
        let r1 = 0.5;
        let (a_s, l_s, a_t, h) = (span.alpha_s, span.lambda_s, span.alpha_t, span.h);
        let eps_s = eps_at(sch, span.s, x, model);
        if span.sigma_t == 0.0 {
            return first_order(span, h, x, &eps_s);
        }
        let s1 = sch.t_of_logsnr(l_s + r1 * h);
        let (a_1, sg_1) = (sch.alpha(s1), sch.sigma(s1));
        let u = S::lin(&[(a_1 / a_s, x), (-sg_1 * (r1 * h).exp_m1(), &eps_s)]);
        let eps_1 = eps_at(sch, s1, &u, model);
        let c = -span.sigma_expm1(h);
        // x_t = (α_t/α_s)x − σ_t(e^h−1)ε_s − (1/(2r₁))σ_t(e^h−1)(ε(u) − ε_s).
        S::lin(&[
            (a_t / a_s, x),
            (c * (1.0 - 0.5 / r1), &eps_s),
            (c * 0.5 / r1, &eps_1),
        ])
    }
}

/// [`super::Sampler::DpmSolver3`]: singlestep, r₁ = ⅓, r₂ = ⅔.
pub(super) struct DpmSolver3;

impl Method for DpmSolver3 {
    fn label(&self) -> String {
        "dpm-solver-3".into()
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn nfe_step(&self, sigma_t: f64) -> usize {
        if sigma_t == 0.0 {
            1
        } else {
            3
        }
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        sch: &dyn Schedule,
        span: &Span,
        x: &S,
        _hist: &mut History<S>,
        model: &D,
        _noise: &mut N,
    ) -> S {
        let (r1, r2) = (1.0 / 3.0, 2.0 / 3.0);
        let (a_s, l_s, a_t, sg_t, h) = (
            span.alpha_s,
            span.lambda_s,
            span.alpha_t,
            span.sigma_t,
            span.h,
        );
        if sg_t == 0.0 {
            let eps_s = eps_at(sch, span.s, x, model);
            return first_order(span, h, x, &eps_s);
        }
        let (s1, s2) = (sch.t_of_logsnr(l_s + r1 * h), sch.t_of_logsnr(l_s + r2 * h));
        let (a_1, sg_1) = (sch.alpha(s1), sch.sigma(s1));
        let (a_2, sg_2) = (sch.alpha(s2), sch.sigma(s2));
        let phi_2 = h.exp_m1() / h - 1.0;
        let phi_22 = (r2 * h).exp_m1() / (r2 * h) - 1.0;
        let eps_s = eps_at(sch, span.s, x, model);
        let u1 = S::lin(&[(a_1 / a_s, x), (-sg_1 * (r1 * h).exp_m1(), &eps_s)]);
        let eps_1 = eps_at(sch, s1, &u1, model);
        let c22 = -(r2 / r1) * sg_2 * phi_22;
        let u2 = S::lin(&[
            (a_2 / a_s, x),
            (-sg_2 * (r2 * h).exp_m1() - c22, &eps_s),
            (c22, &eps_1),
        ]);
        let eps_2 = eps_at(sch, s2, &u2, model);
        let c3 = -(1.0 / r2) * sg_t * phi_2;
        S::lin(&[
            (a_t / a_s, x),
            (-sg_t * h.exp_m1() - c3, &eps_s),
            (c3, &eps_2),
        ])
    }
}

/// [`super::Sampler::DpmSolver2M`]: multistep, midpoint form of the official code / diffusers `dpmsolver`;
/// `hist` holds (λ, ε̂) of the previous step; order 1 without one, at `max_order` 1, or into σ_t = 0.
pub(super) struct DpmSolver2M;

impl Method for DpmSolver2M {
    fn label(&self) -> String {
        "dpm-solver-2m".into()
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn history_len(&self) -> usize {
        1
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        sch: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        _noise: &mut N,
    ) -> S {
        let (a_s, l_s, a_t, h) = (span.alpha_s, span.lambda_s, span.alpha_t, span.h);
        let outs = &mut hist.outputs;
        outs.push((l_s, eps_at(sch, span.s, x, model)));
        let n = outs.len();
        let e0 = &outs[n - 1].1;
        if n.min(span.max_order) < 2 || span.sigma_t == 0.0 {
            return first_order(span, h, x, e0);
        }
        let c = -span.sigma_expm1(h);
        let (l1, e1) = (outs[n - 2].0, &outs[n - 2].1);
        let r0 = (l_s - l1) / h;
        S::lin(&[
            (a_t / a_s, x),
            (c * (1.0 + 0.5 / r0), e0),
            (-c * 0.5 / r0, e1),
        ])
    }
}

/// [`super::Sampler::DpmSolver3M`]: multistep of order ≤ 3 with noise prediction, diffusers'
/// `algorithm_type="dpmsolver"` third-order update (orders 1 and 2 as [`DpmSolver2M`]): with r₀ = h₀/h,
/// r₁ = h₁/h, D₁₀ = (ε₀ − ε₁)/r₀, D₁₁ = (ε₁ − ε₂)/r₁, D₁ = D₁₀ + r₀/(r₀ + r₁)(D₁₀ − D₁₁),
/// D₂ = (D₁₀ − D₁₁)/(r₀ + r₁):
/// x_t = (α_t/α_s)x − σ_t(e^h − 1)ε₀ − σ_t((e^h − 1)/h − 1)D₁ − c σ_t((e^h − 1 − h)/h² − ½)D₂.
/// The variation-of-constants formula x_t = (α_t/α_s)x − σ_t∫₀^h e^{h−u} ε(λ_s + u) du needs
/// σ_t(e^h − 1 − h − h²/2)ε'' and D₂ ≈ ½h²ε'': c = 2 (`corrected`); the library has c = 1, an O(h³) local
/// error (the same slip as DPM-Solver++(3M), HO-3).
pub(super) struct DpmSolver3M {
    pub(super) corrected: bool,
}

impl Method for DpmSolver3M {
    fn label(&self) -> String {
        if self.corrected {
            "dpm-solver-3m-corrected".into()
        } else {
            "dpm-solver-3m".into()
        }
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn history_len(&self) -> usize {
        2
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        sch: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S {
        let n = hist.outputs.len() + 1;
        if n.min(span.max_order) < 3 || span.sigma_t == 0.0 {
            return DpmSolver2M.step(sch, span, x, hist, model, noise);
        }
        let (a_s, l_s, a_t, sg_t, h) = (
            span.alpha_s,
            span.lambda_s,
            span.alpha_t,
            span.sigma_t,
            span.h,
        );
        let outs = &mut hist.outputs;
        outs.push((l_s, eps_at(sch, span.s, x, model)));
        let (e0, (l1, e1), (l2, e2)) = (
            &outs[n - 1].1,
            (outs[n - 2].0, &outs[n - 2].1),
            (outs[n - 3].0, &outs[n - 3].1),
        );
        let (r0, r1) = ((l_s - l1) / h, (l1 - l2) / h);
        let d10 = S::lin(&[(1.0 / r0, e0), (-1.0 / r0, e1)]);
        let d11 = S::lin(&[(1.0 / r1, e1), (-1.0 / r1, e2)]);
        let d1 = S::lin(&[(1.0 + r0 / (r0 + r1), &d10), (-r0 / (r0 + r1), &d11)]);
        let d2 = S::lin(&[(1.0 / (r0 + r1), &d10), (-1.0 / (r0 + r1), &d11)]);
        let em1 = h.exp_m1();
        let c = if self.corrected { 2.0 } else { 1.0 };
        S::lin(&[
            (a_t / a_s, x),
            (-sg_t * em1, e0),
            (-sg_t * (em1 / h - 1.0), &d1),
            (-c * sg_t * ((em1 - h) / (h * h) - 0.5), &d2),
        ])
    }
}
