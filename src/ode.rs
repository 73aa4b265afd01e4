//! The reference ODE integrator: classic RK4 on the probability-flow ODE, generic over the algebra and
//! kept apart from the samplers under test (a claim that compares a sampler with it compares two
//! independent codes).

use crate::algebra::{Algebra, Denoiser};
use crate::schedule::Schedule;

/// Reference PF-ODE solution by classic RK4 in λ on dx/dλ = (d log σ/dλ) x + α x̂₀(x) (the PF-ODE
/// dx/dt = f x − ½g²∇log p divided by dλ/dt; CLAIMS §2.4: RK4 in λ with ≥ 2·10⁴ steps, error ~1e-9),
/// from `x` at time `t0` to time `t1` in `steps` equal steps of λ.
pub fn reference_lambda_rk4<S, D>(
    sch: &dyn Schedule,
    model: &D,
    x: &S,
    t0: f64,
    t1: f64,
    steps: usize,
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (l0, l1) = (sch.logsnr(t0), sch.logsnr(t1));
    let field = |l: f64, x: &S| {
        let t = sch.t_of_logsnr(l);
        let (a, s) = (sch.alpha(t), sch.sigma(t));
        let dlog_sigma = sch.dsigma(t) / s / sch.dlogsnr(t);
        S::lin(&[(dlog_sigma, x), (a, &model.denoise(x, a, s))])
    };
    let h = (l1 - l0) / steps as f64;
    let mut x = x.clone();
    for k in 0..steps {
        let l = l0 + h * k as f64;
        let k1 = field(l, &x);
        let k2 = field(l + 0.5 * h, &S::lin(&[(1.0, &x), (0.5 * h, &k1)]));
        let k3 = field(l + 0.5 * h, &S::lin(&[(1.0, &x), (0.5 * h, &k2)]));
        let k4 = field(l + h, &S::lin(&[(1.0, &x), (h, &k3)]));
        let sum = S::lin(&[(1.0, &k1), (2.0, &k2), (2.0, &k3), (1.0, &k4)]);
        x = S::lin(&[(1.0, &x), (h / 6.0, &sum)]);
    }
    x
}
