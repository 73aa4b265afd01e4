//! DEIS in log ρ (Zhang & Chen 2022, "tAB-DEIS"; diffusers' `logrho`), ρ = σ/α = e^{−λ}; into σ_t = 0 the
//! integrals run to ρ = 0.

use super::{Grid, History, Method, Span};
use crate::algebra::{eps_from_x0, Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::Deis`]: `hist` holds (λ, ε̂); the step uses the last min(order, available, max_order)
/// outputs, ε̂ interpolated by Lagrange polynomials in log ρ and integrated exactly over ρ.
pub(super) struct Deis {
    pub(super) order: usize,
}

impl Method for Deis {
    fn label(&self) -> String {
        format!("deis-{}", self.order)
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn history_len(&self) -> usize {
        self.order.saturating_sub(1)
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
        _noise: &mut N,
    ) -> S {
        let (a_s, sg_s, l_s) = (span.alpha_s, span.sigma_s, span.lambda_s);
        let (a_t, l_t) = (span.alpha_t, span.lambda_t);
        let hist = &mut hist.outputs;
        hist.push((l_s, eps_from_x0(x, &model.denoise(x, a_s, sg_s), a_s, sg_s)));
        let n = hist.len();
        let k = n.min(self.order.max(1)).min(span.max_order);
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
            // Into σ_t = 0 (ρ_t = 0): F_m(u) → 0 as u → −∞ (where e^u u^i would be 0·∞).
            let anti_t = if rho_t == 0.0 { 0.0 } else { anti(rho_t.ln()) };
            (anti_t - anti(rho_s.ln())) / denom
        };
        let mut terms: Vec<(f64, &S)> = vec![(a_t / a_s, x)];
        let coefs: Vec<f64> = (0..k).map(|j| a_t * coef(j)).collect();
        for (j, c) in coefs.iter().enumerate() {
            terms.push((*c, &hist[n - 1 - j].1));
        }
        S::lin(&terms)
    }
}
