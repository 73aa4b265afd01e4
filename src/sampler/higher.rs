//! The higher-order and EDM samplers of the zoo (CLAIMS §8: HO-2, HO-3, HO-4), written once against
//! [`Algebra`]/[`Denoiser`]/[`Noise`]. Notation of DPM-Solver's code: a step goes from `s` to the earlier
//! `t`, h = λ_t − λ_s > 0 with λ = log(α/σ) (`logsnr`).

use super::History;
use crate::algebra::{eps_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// EDM Euler / Heun step (Karras et al. 2022, Alg. 1) in x̄ = x/α, σ̄ = σ/α; no correction into σ_t = 0.
pub(super) fn edm<S, D>(heun: bool, sch: &dyn Schedule, s: f64, t: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (a_s, sg_s, a_t, sg_t) = (sch.alpha(s), sch.sigma(s), sch.alpha(t), sch.sigma(t));
    let (sb_s, sb_t) = (sg_s / a_s, sg_t / a_t);
    let x0 = model.denoise(x, a_s, sg_s);
    let xbar = S::lin(&[(1.0 / a_s, x)]);
    // d = (x̄ − D(x̄; σ̄_s))/σ̄_s.
    let d = S::lin(&[(1.0 / sb_s, &xbar), (-1.0 / sb_s, &x0)]);
    let pred = S::lin(&[(1.0, &xbar), (sb_t - sb_s, &d)]);
    if !heun || sg_t == 0.0 {
        return S::lin(&[(a_t, &pred)]);
    }
    let x0p = model.denoise(&S::lin(&[(a_t, &pred)]), a_t, sg_t);
    let d2 = S::lin(&[(1.0 / sb_t, &pred), (-1.0 / sb_t, &x0p)]);
    let dt = sb_t - sb_s;
    S::lin(&[(a_t, &xbar), (a_t * 0.5 * dt, &d), (a_t * 0.5 * dt, &d2)])
}

/// (α, σ, λ) at a time.
fn asl(sch: &dyn Schedule, t: f64) -> (f64, f64, f64) {
    (sch.alpha(t), sch.sigma(t), sch.logsnr(t))
}

/// ε̂ at time `u` (one model evaluation).
fn eps_at<S, D>(sch: &dyn Schedule, u: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (a, sg) = (sch.alpha(u), sch.sigma(u));
    eps_from_x0(x, &model.denoise(x, a, sg), a, sg)
}

/// DPM-Solver-2, singlestep, r₁ = ½ (CLAIMS HO-2).
pub(super) fn dpm_solver_2<S, D>(sch: &dyn Schedule, s: f64, t: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let r1 = 0.5;
    let (a_s, _, l_s) = asl(sch, s);
    let (a_t, sg_t, l_t) = asl(sch, t);
    let h = l_t - l_s;
    let s1 = sch.t_of_logsnr(l_s + r1 * h);
    let (a_1, sg_1) = (sch.alpha(s1), sch.sigma(s1));
    let eps_s = eps_at(sch, s, x, model);
    let u = S::lin(&[(a_1 / a_s, x), (-sg_1 * (r1 * h).exp_m1(), &eps_s)]);
    let eps_1 = eps_at(sch, s1, &u, model);
    let c = -sg_t * h.exp_m1();
    // x_t = (α_t/α_s)x − σ_t(e^h−1)ε_s − (1/(2r₁))σ_t(e^h−1)(ε(u) − ε_s).
    S::lin(&[
        (a_t / a_s, x),
        (c * (1.0 - 0.5 / r1), &eps_s),
        (c * 0.5 / r1, &eps_1),
    ])
}

/// DPM-Solver-3, singlestep, r₁ = ⅓, r₂ = ⅔ (CLAIMS HO-2).
pub(super) fn dpm_solver_3<S, D>(sch: &dyn Schedule, s: f64, t: f64, x: &S, model: &D) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (r1, r2) = (1.0 / 3.0, 2.0 / 3.0);
    let (a_s, _, l_s) = asl(sch, s);
    let (a_t, sg_t, l_t) = asl(sch, t);
    let h = l_t - l_s;
    let (s1, s2) = (sch.t_of_logsnr(l_s + r1 * h), sch.t_of_logsnr(l_s + r2 * h));
    let (a_1, sg_1) = (sch.alpha(s1), sch.sigma(s1));
    let (a_2, sg_2) = (sch.alpha(s2), sch.sigma(s2));
    let phi_2 = h.exp_m1() / h - 1.0;
    let phi_22 = (r2 * h).exp_m1() / (r2 * h) - 1.0;
    let eps_s = eps_at(sch, s, x, model);
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

/// DPM-Solver++(2M) with the reverse-noise family's first-order part (noise_level λ), and DPM-Solver++(3M)
/// (λ = 0 only; `d2_factor` 1 is the official code, 2 our corrected D₂ term). `hist` holds (λ, x̂₀) of the previous steps; lower order while it is short, and order 1
/// into σ_t = 0 (h = ∞).
#[allow(clippy::too_many_arguments)]
pub(super) fn dpm_solver_pp_multistep<S, D, N>(
    order: usize,
    d2_factor: f64,
    noise_level: f64,
    sch: &dyn Schedule,
    s: f64,
    t: f64,
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
    debug_assert!(order == 2 || (order == 3 && noise_level == 0.0));
    let (a_s, sg_s, l_s) = asl(sch, s);
    let (a_t, sg_t, l_t) = asl(sch, t);
    let h = l_t - l_s;
    hist.push((l_s, model.denoise(x, a_s, sg_s)));
    let n = hist.len();
    let k = if sg_t == 0.0 { 1 } else { n.min(order) };
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
            let phi1 = (-h).exp_m1();
            let phi2 = phi1 / h + 1.0;
            let phi3 = phi2 / h - 0.5;
            S::lin(&[
                (sg_t / sg_s, x),
                (-a_t * phi1, m0),
                (a_t * phi2, &d1),
                (-a_t * phi3 * d2_factor, &d2),
            ])
        }
    };
    // Keep only what the next step needs.
    if hist.len() >= order {
        hist.remove(0);
    }
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

/// DPM-Solver-2M with noise prediction (multistep, midpoint form of the official code / diffusers
/// `dpmsolver`): `hist` holds (λ, ε̂) of the previous step; order 1 without one or into σ_t = 0.
pub(super) fn dpm_solver_2m<S, D>(
    sch: &dyn Schedule,
    s: f64,
    t: f64,
    x: &S,
    hist: &mut History<S>,
    model: &D,
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (a_s, _, l_s) = asl(sch, s);
    let (a_t, sg_t, l_t) = asl(sch, t);
    let h = l_t - l_s;
    hist.push((l_s, eps_at(sch, s, x, model)));
    let n = hist.len();
    let e0 = &hist[n - 1].1;
    let c = -sg_t * h.exp_m1();
    let out = if n < 2 || sg_t == 0.0 {
        S::lin(&[(a_t / a_s, x), (c, e0)])
    } else {
        let (l1, e1) = (hist[n - 2].0, &hist[n - 2].1);
        let r0 = (l_s - l1) / h;
        S::lin(&[
            (a_t / a_s, x),
            (c * (1.0 + 0.5 / r0), e0),
            (-c * 0.5 / r0, e1),
        ])
    };
    if hist.len() >= 2 {
        hist.remove(0);
    }
    out
}

/// DEIS in log ρ (ρ = σ/α = e^{−λ}): `hist` holds (λ, ε̂); the step uses the last min(order, available)
/// outputs, ε̂ interpolated by Lagrange polynomials in log ρ and integrated exactly over ρ.
#[allow(clippy::too_many_arguments)]
pub(super) fn deis<S, D>(
    order: usize,
    sch: &dyn Schedule,
    s: f64,
    t: f64,
    x: &S,
    hist: &mut History<S>,
    model: &D,
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
{
    let (a_s, _, l_s) = asl(sch, s);
    let (a_t, _, l_t) = asl(sch, t);
    hist.push((l_s, eps_at(sch, s, x, model)));
    let n = hist.len();
    let k = n.min(order.max(1));
    let (rho_s, rho_t) = ((-l_s).exp(), (-l_t).exp());
    // Nodes in u = log ρ, newest first.
    let us: Vec<f64> = (0..k).map(|j| -hist[n - 1 - j].0).collect();
    let coef = |j: usize| -> f64 {
        if k == 1 {
            return rho_t - rho_s;
        }
        // ∫ ℓ_j(log ρ) dρ over [ρ_s, ρ_t]: ℓ_j is a polynomial in u = log ρ of degree k − 1, and
        // ∫ u^m e^u du has a closed form; expand ℓ_j in powers of u.
        let others: Vec<f64> = (0..k).filter(|&i| i != j).map(|i| us[i]).collect();
        let denom: f64 = others.iter().map(|o| us[j] - o).product();
        // Coefficients of Π (u − o) in increasing powers.
        let mut poly = vec![1.0];
        for o in &others {
            let mut next = vec![0.0; poly.len() + 1];
            for (p, c) in poly.iter().enumerate() {
                next[p + 1] += c;
                next[p] -= c * o;
            }
            poly = next;
        }
        // F_m(u) = ∫ u^m e^u du = e^u Σ_{i=0}^{m} (−1)^{m−i} m!/i! u^i.
        let anti = |u: f64| -> f64 {
            poly.iter()
                .enumerate()
                .map(|(m, c)| {
                    let mut sum = 0.0;
                    let mut fact_ratio = 1.0; // m!/i! for i = m, m−1, …
                    for i in (0..=m).rev() {
                        let sign = if (m - i) % 2 == 0 { 1.0 } else { -1.0 };
                        sum += sign * fact_ratio * u.powi(i as i32);
                        fact_ratio *= i as f64;
                    }
                    c * sum * u.exp()
                })
                .sum()
        };
        (anti(rho_t.ln()) - anti(rho_s.ln())) / denom
    };
    let mut terms: Vec<(f64, &S)> = vec![(a_t / a_s, x)];
    let coefs: Vec<f64> = (0..k).map(|j| a_t * coef(j)).collect();
    for (j, c) in coefs.iter().enumerate() {
        terms.push((*c, &hist[n - 1 - j].1));
    }
    let out = S::lin(&terms);
    while hist.len() >= order.max(1) {
        hist.remove(0);
    }
    out
}
