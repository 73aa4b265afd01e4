//! DPM-Solver++ in the data prediction (Lu et al. 2022b; CLAIMS HO-2, HO-3): the first-order step, the
//! x̂₀-frozen exponential integrator of the reverse-noise family (= SDE-DPM-Solver++1 at noise level 1),
//! and the multistep 2M (with noise) and 3M, written once in [`multistep`].

use super::{Grid, History, Method, Span};
use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::DpmSolverPp1`]: x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) x̂₀ (h from ln(α/σ)).
pub(super) struct DpmSolverPp1;

impl Method for DpmSolverPp1 {
    fn label(&self) -> String {
        "dpm-solver++1".into()
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
        let x0 = model.denoise(x, span.alpha_s, span.sigma_s);
        let (l_s, l_t) = span.ratio_lambdas();
        let h = l_t - l_s;
        S::lin(&[
            (span.sigma_t / span.sigma_s, x),
            (-span.alpha_t * (-h).exp_m1(), &x0),
        ])
    }
}

/// [`super::Sampler::ExpIntegrator`]: the first-order step of [`multistep`] (one formula).
pub(super) struct ExpIntegrator {
    pub(super) noise_level: f64,
}

impl Method for ExpIntegrator {
    fn label(&self) -> String {
        format!("ei-x0-noise{}", self.noise_level)
    }
    fn is_stochastic(&self) -> bool {
        self.noise_level != 0.0
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        _schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S {
        multistep(1, 1.0, self.noise_level, span, x, hist, model, noise)
    }
}

/// [`super::Sampler::DpmSolverPp2M`].
pub(super) struct DpmSolverPp2M {
    pub(super) noise_level: f64,
}

impl Method for DpmSolverPp2M {
    fn label(&self) -> String {
        if self.noise_level == 0.0 {
            "dpm-solver++2m".into()
        } else if self.noise_level == 1.0 {
            "sde-dpm-solver++2m".into()
        } else {
            format!("dpm-solver++2m-noise{}", self.noise_level)
        }
    }
    fn is_stochastic(&self) -> bool {
        self.noise_level != 0.0
    }
    fn history_len(&self) -> usize {
        1
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        _schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S {
        multistep(2, 1.0, self.noise_level, span, x, hist, model, noise)
    }
}

/// [`super::Sampler::DpmSolverPp3M`]: `corrected` doubles the D₂ term.
pub(super) struct DpmSolverPp3M {
    pub(super) corrected: bool,
}

impl Method for DpmSolverPp3M {
    fn label(&self) -> String {
        if self.corrected {
            "dpm-solver++3m-corrected".into()
        } else {
            "dpm-solver++3m".into()
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
        _schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S {
        let c = if self.corrected { 2.0 } else { 1.0 };
        multistep(3, c, 0.0, span, x, hist, model, noise)
    }
}

/// [`super::Sampler::SdeDpmSolverPp3M`]: diffusers' third-order `sde-dpmsolver++` update (`corrected`: the
/// D₂ coefficient derived from the SDE's variation-of-constants formula instead).
pub(super) struct SdeDpmSolverPp3M {
    pub(super) corrected: bool,
}

impl Method for SdeDpmSolverPp3M {
    fn label(&self) -> String {
        if self.corrected {
            "sde-dpm-solver++3m-corrected".into()
        } else {
            "sde-dpm-solver++3m".into()
        }
    }
    fn is_stochastic(&self) -> bool {
        true
    }
    fn history_len(&self) -> usize {
        2
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    fn step<S: Algebra, D: Denoiser<S> + ?Sized, N: Noise<S> + ?Sized>(
        &self,
        _schedule: &dyn Schedule,
        span: &Span,
        x: &S,
        hist: &mut History<S>,
        model: &D,
        noise: &mut N,
    ) -> S {
        let c = if self.corrected { 2.0 } else { 1.0 };
        multistep(3, c, 1.0, span, x, hist, model, noise)
    }
}

/// DPM-Solver++ multistep of order ≤ `order` with the reverse-noise family's first-order part (noise_level
/// λ; order 3 only at λ ∈ {0, 1}); `d2_factor` 1 is the official 3M code, 2 our corrected D₂ term.
///
/// At λ = 1 (SDE-DPM-Solver++, diffusers' `sde-dpmsolver++` third-order update) the step is
/// x_t = (σ_t/σ_s)e^{−h} x + α_t(1 − e^{−2h}) D₀ + α_t(1 − (1 − e^{−2h})/(2h)) D₁ + α_t c₂ D₂ + noise, where
/// the variation-of-constants formula x_t = (σ_t/σ_s)e^{−h}x + 2α_t∫₀^h e^{−2(h−u)} x̂₀(λ_s + u) du gives,
/// with D₂ ≈ ½h²x̂₀'', c₂ = 2[(1 − e^{−2h} − 2h)/(2h)² + ½] = 2h/3 + O(h²) (`d2_factor` 2); the library
/// has c₂ = (1 − e^{−2h} − 2h)/(2h)² − ½ → −1 as h → 0 (`d2_factor` 1): an O(h²) local error.
/// `hist` holds (λ, x̂₀) of the previous steps; lower order while it is short or `span.max_order` says so,
/// and order 1 into σ_t = 0 (h = ∞).
#[allow(clippy::too_many_arguments)]
fn multistep<S, D, N>(
    order: usize,
    d2_factor: f64,
    noise_level: f64,
    span: &Span,
    x: &S,
    hist: &mut History<S>,
    model: &D,
    noise: &mut N,
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
    N: Noise<S> + ?Sized,
{
    debug_assert!(order <= 2 || noise_level == 0.0 || noise_level == 1.0);
    let (a_s, sg_s, l_s) = (span.alpha_s, span.sigma_s, span.lambda_s);
    let (a_t, sg_t, h) = (span.alpha_t, span.sigma_t, span.h);
    let hist = &mut hist.outputs;
    hist.push((l_s, model.denoise(x, a_s, sg_s)));
    let n = hist.len();
    let k = if sg_t == 0.0 {
        1
    } else {
        n.min(order).min(span.max_order)
    };
    let m0 = &hist[n - 1].1;
    let decay = (-(1.0 + noise_level) * h).exp();
    let phi = -(-(1.0 + noise_level) * h).exp_m1();
    let out = match k {
        1 => S::lin(&[(a_t / a_s * decay, x), (a_t * phi, m0)]),
        2 => {
            let (l1, m1) = (&hist[n - 2].0, &hist[n - 2].1);
            let r0 = (l_s - l1) / h;
            let c = 0.5 * a_t * phi / r0;
            S::lin(&[(a_t / a_s * decay, x), (a_t * phi + c, m0), (-c, m1)])
        }
        _ => {
            let (l1, m1) = (hist[n - 2].0, &hist[n - 2].1);
            let (l2, m2) = (hist[n - 3].0, &hist[n - 3].1);
            let (r0, r1) = ((l_s - l1) / h, (l1 - l2) / h);
            let d10 = S::lin(&[(1.0 / r0, m0), (-1.0 / r0, m1)]);
            let d11 = S::lin(&[(1.0 / r1, m1), (-1.0 / r1, m2)]);
            let d1 = S::lin(&[(1.0 + r0 / (r0 + r1), &d10), (-r0 / (r0 + r1), &d11)]);
            let d2 = S::lin(&[(1.0 / (r0 + r1), &d10), (-1.0 / (r0 + r1), &d11)]);
            if noise_level == 0.0 {
                let phi1 = (-h).exp_m1();
                let phi2 = phi1 / h + 1.0;
                let phi3 = phi2 / h - 0.5;
                S::lin(&[
                    (sg_t / sg_s, x),
                    (-a_t * phi1, m0),
                    (a_t * phi2, &d1),
                    (-a_t * phi3 * d2_factor, &d2),
                ])
            } else {
                // diffusers' sde-dpmsolver++ third-order update; the corrected D₂ coefficient flips the
                // sign of the ½ and doubles the bracket (see above).
                let e2 = (-2.0 * h).exp();
                let c1 = (1.0 - e2) / (-2.0 * h) + 1.0;
                let bracket = (1.0 - e2 - 2.0 * h) / ((2.0 * h) * (2.0 * h));
                let c2 = if d2_factor == 1.0 {
                    bracket - 0.5
                } else {
                    d2_factor * (bracket + 0.5)
                };
                S::lin(&[
                    (sg_t / sg_s * (-h).exp(), x),
                    (a_t * (1.0 - e2), m0),
                    (a_t * c1, &d1),
                    (a_t * c2, &d2),
                ])
            }
        }
    };
    if noise_level == 0.0 || sg_t == 0.0 {
        out
    } else {
        let z = noise.standard_normal(x);
        S::lin(&[
            (1.0, &out),
            (sg_t * (-(-2.0 * noise_level * h).exp_m1()).sqrt(), &z),
        ])
    }
}
