//! Shared pieces of the convergence family: a score with a bias, the continuous-time moments of the
//! reverse-noise family on Gaussian data (the harness's reference for CV-1/CV-2), the contraction rate B,
//! an expanding (contractive) forward design, Benton et al.'s step grid and exact Gaussian distances.

use crate::algebra::{Denoiser, Form};
use crate::quadrature::gauss_legendre;
use crate::schedule::Schedule;
use crate::target::Gaussian;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// A score error constant in x: either a bias δ of the score itself, or a bias e of the noise
/// prediction ε̂ (score bias −e/σ, the usual "network error" normalisation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bias {
    Score(f64),
    Eps(f64),
}

impl Bias {
    /// The score bias δ at noise level σ.
    pub fn delta(self, sigma: f64) -> f64 {
        match self {
            Bias::Score(d) => d,
            Bias::Eps(e) => -e / sigma,
        }
    }
    pub fn label(self) -> String {
        match self {
            Bias::Score(d) => format!("score{d}"),
            Bias::Eps(e) => format!("eps{e}"),
        }
    }
}

/// The exact Gaussian denoiser with a score bias: x̂₀ + σ²δ/α, so that the score (α x̂₀ − x)/σ² of the
/// sampler becomes ∇log p + δ on every coordinate.
pub struct Biased<'a> {
    pub inner: &'a Gaussian,
    pub bias: Bias,
}

impl Denoiser<Form> for Biased<'_> {
    fn denoise(&self, x: &Form, alpha: f64, sigma: f64) -> Form {
        let mut out = self.inner.denoise(x, alpha, sigma);
        let shift = sigma * sigma * self.bias.delta(sigma) / alpha;
        out.c.iter_mut().for_each(|c| *c += shift);
        out
    }
}

/// The contraction rate of the reverse-noise family on one eigen-direction of Gaussian data with
/// eigenvalue `lam`: B(t) = f + ((1+λ)/2) g²/c, c = α² lam + σ² (CLAIMS CV-5).
pub fn rate_b(sch: &dyn Schedule, lam: f64, noise_level: f64, t: f64) -> f64 {
    let (a, s) = (sch.alpha(t), sch.sigma(t));
    sch.f(t) + 0.5 * (1.0 + noise_level) * sch.g2(t) / (a * a * lam + s * s)
}

/// exp(−∫_{t0}^{t1} B) in closed form: B = −λ f + ((1+λ)/2) d/dt ln c (from ċ = 2fc + g²), so the factor is
/// (α₁/α₀)^λ (c₀/c₁)^{(1+λ)/2}.
pub fn contraction_closed(sch: &dyn Schedule, lam: f64, noise_level: f64, t0: f64, t1: f64) -> f64 {
    let c = |t: f64| sch.alpha(t).powi(2) * lam + sch.sigma(t).powi(2);
    (sch.alpha(t1) / sch.alpha(t0)).powf(noise_level)
        * (c(t0) / c(t1)).powf(0.5 * (1.0 + noise_level))
}

/// ∫_{t0}^{t1} F(t) dt (0 < t0 < t1) by Gauss–Legendre in ln t: the integrands vary on the scale of t near 0.
pub fn integrate_in_logsnr(
    _sch: &dyn Schedule,
    t0: f64,
    t1: f64,
    panels: usize,
    f: &dyn Fn(f64) -> f64,
) -> f64 {
    // In u = ln t (t0 > 0): λ is not usable for the expanding design, whose λ(t) flattens towards a finite
    // limit (1/|λ̇| nearly singular at its noisy end).
    gauss_legendre(
        &|u| {
            let t = u.exp();
            f(t) * t
        },
        t0.ln(),
        t1.ln(),
        panels,
    )
}

/// exp(−∫_{t0}^{t1} B) by quadrature in ln t (the independent route to [`contraction_closed`]).
pub fn contraction_quadrature(
    sch: &dyn Schedule,
    lam: f64,
    noise_level: f64,
    t0: f64,
    t1: f64,
    panels: usize,
) -> f64 {
    (-integrate_in_logsnr(sch, t0, t1, panels, &|t| rate_b(sch, lam, noise_level, t))).exp()
}

/// The output bias of a score bias: b_out = ∫_{t0}^{t1} ((1+λ)/2) g² δ(t) exp(−∫_{t0}^{t} B) dt (CV-5), by
/// quadrature in ln t with the inner factor in closed form.
pub fn output_bias_quadrature(
    sch: &dyn Schedule,
    lam: f64,
    noise_level: f64,
    bias: Bias,
    t0: f64,
    t1: f64,
    panels: usize,
) -> f64 {
    integrate_in_logsnr(sch, t0, t1, panels, &|t| {
        0.5 * (1.0 + noise_level)
            * sch.g2(t)
            * bias.delta(sch.sigma(t))
            * contraction_closed(sch, lam, noise_level, t0, t)
    })
}

/// ∫_{t0}^{t1} g² δ(t)² dt by Gauss–Legendre in ln t: the score-error term of the Girsanov bound per
/// coordinate.
pub fn girsanov_integral(sch: &dyn Schedule, bias: Bias, t0: f64, t1: f64, panels: usize) -> f64 {
    let integrand = |u: f64| {
        let t = u.exp();
        sch.g2(t) * bias.delta(sch.sigma(t)).powi(2) * t
    };
    gauss_legendre(&integrand, t0.ln(), t1.ln(), panels)
}

/// Mean and variance of one eigen-coordinate (data N(mu, lam)) under the continuous reverse-noise family
/// with a biased score, from (m, v) at `t_max` to `t_min`: in reverse time τ,
/// dm/dτ = −B m + ((1+λ)/2) g² (α mu/c + δ), dv/dτ = −2B v + λ g², by classic RK4 in τ (`steps` steps).
/// The harness's continuous-time reference, independent of the samplers.
#[allow(clippy::too_many_arguments)]
pub fn reverse_moments(
    sch: &dyn Schedule,
    mu: f64,
    lam: f64,
    noise_level: f64,
    bias: Option<Bias>,
    start: (f64, f64),
    t_max: f64,
    t_min: f64,
    steps: usize,
) -> (f64, f64) {
    let k = 0.5 * (1.0 + noise_level);
    let field = |t: f64, m: f64, v: f64| {
        let (a, s, g2) = (sch.alpha(t), sch.sigma(t), sch.g2(t));
        let c = a * a * lam + s * s;
        let b = sch.f(t) + k * g2 / c;
        let delta = bias.map_or(0.0, |bi| bi.delta(s));
        (
            -b * m + k * g2 * (a * mu / c + delta),
            -2.0 * b * v + noise_level * g2,
        )
    };
    let h = (t_max - t_min) / steps as f64;
    let (mut m, mut v) = start;
    for i in 0..steps {
        let t = t_max - h * i as f64;
        let k1 = field(t, m, v);
        let k2 = field(t - 0.5 * h, m + 0.5 * h * k1.0, v + 0.5 * h * k1.1);
        let k3 = field(t - 0.5 * h, m + 0.5 * h * k2.0, v + 0.5 * h * k2.1);
        let k4 = field(t - h, m + h * k3.0, v + h * k3.1);
        m += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
        v += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
    }
    (m, v)
}

/// KL(N(m1, v1) ‖ N(m2, v2)) of one coordinate, written with expm1/ln_1p so that nearly equal laws keep
/// their relative precision: ½[(r − 1 − ln r) + (m1 − m2)²/v2], r = v1/v2.
pub fn kl_1d(m1: f64, v1: f64, m2: f64, v2: f64) -> f64 {
    let x = (v1 - v2) / v2;
    0.5 * ((x - x.ln_1p()) + (m1 - m2).powi(2) / v2)
}

/// Exact TV between N(0, a I_d) and N(0, b I_d): the densities cross at r² = d ab ln(b/a)/(b − a), and
/// TV = |F_{χ²_d}(r²/a) − F_{χ²_d}(r²/b)|.
pub fn tv_isotropic_centred(d: usize, a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    let r2 = d as f64 * a * b * (b / a).ln() / (b - a);
    let chi = ChiSquared::new(d as f64).expect("d ≥ 1");
    (chi.cdf(r2 / a) - chi.cdf(r2 / b)).abs()
}

/// An expanding forward design (Tang & Zhao's contractive DPMs): dx = θ x dt + η dW, so α = e^{θt},
/// σ² = (η²/2θ)(e^{2θt} − 1), f = θ > 0 and g² = η²: the forward process expands, the backward contracts.
#[derive(Clone, Debug)]
pub struct Expanding {
    pub theta: f64,
    pub eta2: f64,
    pub t_max: f64,
}

impl Schedule for Expanding {
    fn name(&self) -> &'static str {
        "expanding"
    }
    fn alpha(&self, t: f64) -> f64 {
        (self.theta * t).exp()
    }
    fn sigma(&self, t: f64) -> f64 {
        (self.eta2 / (2.0 * self.theta) * (2.0 * self.theta * t).exp_m1()).sqrt()
    }
    fn dalpha(&self, t: f64) -> f64 {
        self.theta * (self.theta * t).exp()
    }
    fn dsigma(&self, t: f64) -> f64 {
        0.5 * self.eta2 * (2.0 * self.theta * t).exp() / self.sigma(t)
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-6, self.t_max)
    }
}

/// Benton et al. (2024)'s exponential-then-linear grid in forward time from `t_max` down to `delta`: steps
/// of κ while t > 1, then t ← t/(1 + κ) (step κ t_{k+1} ≤ κ min(1, t)) down to δ (the last step shortened).
pub fn benton_grid(t_max: f64, delta: f64, kappa: f64) -> Vec<f64> {
    let mut times = vec![t_max];
    let mut t = t_max;
    while t > 1.0 + 1e-12 {
        t = (t - kappa).max(1.0);
        times.push(t);
    }
    while t > delta * (1.0 + 1e-12) {
        t = (t / (1.0 + kappa)).max(delta);
        times.push(t);
    }
    times
}

/// err_finest / (C / N_finest), C = max err_k N_k over the sweep without its two finest runs: ≈ 1 (or less) for
/// a first-order error (errors that change sign pre-asymptotically are allowed); a formula off by a constant
/// gives ≥ N_finest/N_(third finest) = 4 on a doubling sweep.
pub fn first_order_excess(ns: &[f64], errs: &[f64]) -> f64 {
    let k = ns.len().saturating_sub(2).max(1);
    let c = ns[..k]
        .iter()
        .zip(errs)
        .map(|(n, e)| n * e)
        .fold(0.0, f64::max);
    let n1 = ns[ns.len() - 1];
    errs[errs.len() - 1] / (c / n1)
}

/// Signed first-order test on a doubling sweep (CV-5). A first-order error is e_N = c₁/N + c₂/N² + O(N⁻³),
/// so D_N = N·e_N = c₁ + c₂/N + … and its successive differences Δ_k = D_{N_{k+1}} − D_{N_k} = −c₂/(2N_k) + …
/// halve at each doubling; a formula off by a constant k gives D_N = kN + …, whose differences double. The
/// returned ratio |Δ_last| / |Δ_prev| is ≈ ½ for a first-order error and ≈ 2 for a wrong limit; 1 (the
/// geometric midpoint) separates them. Sign changes of e_N are harmless (D_N is used signed). When both
/// differences are at round-off (≤ `floor`), the error has already converged: returns 0.
pub fn first_order_drift(ns: &[f64], errs: &[f64], floor: f64) -> f64 {
    let n = ns.len();
    assert!(n >= 3, "first_order_drift needs three step counts");
    let d: Vec<f64> = ns.iter().zip(errs).map(|(n, e)| n * e).collect();
    let (last, prev) = ((d[n - 1] - d[n - 2]).abs(), (d[n - 2] - d[n - 3]).abs());
    if last <= floor && prev <= floor {
        return 0.0;
    }
    last / prev.max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Ou, VpLinear};

    #[test]
    fn contraction_closed_form_matches_quadrature() {
        let vp = VpLinear::default();
        for (lam, nl) in [(0.1, 0.0), (2.0, 1.0), (0.5, 3.0)] {
            let a = contraction_closed(&vp, lam, nl, 1e-3, 1.0);
            let b = contraction_quadrature(&vp, lam, nl, 1e-3, 1.0, 64);
            assert!((a - b).abs() < 1e-10 * a, "{a} {b}");
        }
        let ex = Expanding {
            theta: 1.0,
            eta2: 3.0,
            t_max: 2.0,
        };
        let a = contraction_closed(&ex, 0.3, 1.0, 1e-3, 2.0);
        let b = contraction_quadrature(&ex, 0.3, 1.0, 1e-3, 2.0, 64);
        assert!((a - b).abs() < 1e-10 * a, "{a} {b}");
    }

    #[test]
    fn stationary_ou_moments_have_the_closed_form() {
        // OU, data N(0, 1), score bias δ: mean ((1+λ)/λ) δ (1 − e^{−λT}), variance 1.
        const T_MIN: f64 = 1e-6;
        let (nl, t, d) = (0.7, 2.0, 0.1);
        let (m, v) = reverse_moments(
            &Ou,
            0.0,
            1.0,
            nl,
            Some(Bias::Score(d)),
            (0.0, 1.0),
            t,
            T_MIN,
            4000,
        );
        // Ou's g² is 0/0 at t = 0 (σ'σ with σ = 0): stop at T_MIN; the stationary mean follows the duration.
        let exact = (1.0 + nl) / nl * d * (1.0 - (-nl * (t - T_MIN)).exp());
        assert!((m - exact).abs() < 1e-12, "{m} {exact}");
        assert!((v - 1.0).abs() < 1e-12);
    }

    #[test]
    fn isotropic_tv_is_symmetric_and_small_for_close_laws() {
        let a = tv_isotropic_centred(4, 1.0, 1.2);
        let b = tv_isotropic_centred(4, 1.2, 1.0);
        assert!((a - b).abs() < 1e-14 && a > 0.0 && a < 1.0);
        // d = 1 against direct quadrature of ½∫|p − q|.
        let (va, vb) = (1.0_f64, 1.7_f64);
        let pdf =
            |x: f64, v: f64| (-0.5 * x * x / v).exp() / (2.0 * std::f64::consts::PI * v).sqrt();
        let q = 0.5 * gauss_legendre(&|x| (pdf(x, va) - pdf(x, vb)).abs(), -20.0, 20.0, 4000);
        assert!((tv_isotropic_centred(1, va, vb) - q).abs() < 1e-6, "{q}");
    }

    #[test]
    fn benton_grid_steps_are_bounded_by_kappa_min_one_t() {
        let g = benton_grid(5.0, 1e-3, 0.1);
        assert_eq!(g[0], 5.0);
        assert_eq!(*g.last().unwrap(), 1e-3);
        for w in g.windows(2) {
            assert!(w[0] - w[1] <= 0.1 * w[0].min(1.0) + 1e-12);
        }
    }
}
