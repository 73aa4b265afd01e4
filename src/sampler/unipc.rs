//! UniPC (Zhao et al. 2023) as `UniPCMultistepScheduler` runs it (bh2, predict_x0, corrector on every step
//! after the first, `lower_order_final`): at node i the model output m_i (x̂₀ of the uncorrected state)
//! first corrects the state (UniC of the previous order, from the previous state, the history's anchor),
//! then the predictor UniP of order min(order, N − i, i + 1) steps to node i + 1. λ = ln(α/σ), as the
//! library.

use super::{Anchor, Grid, History, Method, Span};
use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;
use nalgebra::{DMatrix, DVector};

/// [`super::Sampler::UniPc`].
pub(super) struct UniPc {
    pub(super) order: usize,
}

/// The UniPC (B(h) = e^{−h} − 1, data prediction) coefficients as diffusers computes them: for ratios `rks`
/// (r_k = (λ_{s_k} − λ_{s_0})/h, then 1), rows R_i = rks^{i−1} and b_i = h φ_{i+1}(h)·i!/B(h), i = 1..order
/// (h φ_k by the recursion φ_{k+1} = φ_k/(−h) − 1/k!). Returns (R, b, h φ₁, B(h)).
fn system(rks: &[f64], h: f64, order: usize) -> (DMatrix<f64>, DVector<f64>, f64, f64) {
    let hh = -h;
    let h_phi_1 = hh.exp_m1();
    let mut h_phi_k = h_phi_1 / hh - 1.0;
    let b_h = hh.exp_m1();
    let mut factorial = 1.0;
    let r = DMatrix::from_fn(order, rks.len(), |i, k| rks[k].powi(i as i32));
    let mut b = DVector::zeros(order);
    for i in 1..=order {
        b[i - 1] = h_phi_k * factorial / b_h;
        factorial *= (i + 1) as f64;
        h_phi_k = h_phi_k / hh - 1.0 / factorial;
    }
    (r, b, h_phi_1, b_h)
}

fn solve(r: &DMatrix<f64>, b: &DVector<f64>) -> Vec<f64> {
    r.clone()
        .lu()
        .solve(b)
        .expect("UniPC: singular coefficient system")
        .iter()
        .copied()
        .collect()
}

/// x_t = (σ_t/σ_0) x_0 − α_t h φ₁ m₀ − α_t B(h) Σ_k ρ_k (m_k − m₀)/r_k over `others` = [(ρ_k, r_k, m_k)],
/// the m₀ coefficient collecting the −Σ.
fn combine<'a, S: Algebra>(
    base: (f64, &'a S),
    m0: (f64, &'a S),
    a_t: f64,
    b_h: f64,
    others: impl Iterator<Item = (f64, f64, &'a S)>,
) -> S {
    let mut terms: Vec<(f64, &S)> = vec![base, m0];
    let mut c_m0 = 0.0;
    for (rho, rk, m) in others {
        let c = -a_t * b_h * rho / rk;
        terms.push((c, m));
        c_m0 -= c;
    }
    terms[1].0 += c_m0;
    S::lin(&terms)
}

impl Method for UniPc {
    fn label(&self) -> String {
        format!("unipc-{}", self.order)
    }
    fn is_stochastic(&self) -> bool {
        false
    }
    fn history_len(&self) -> usize {
        self.order
    }
    fn grid(&self) -> Grid {
        Grid::UniformLogsnr
    }
    /// `lower_order_final`: order ≤ N − i at step i.
    fn order_caps(&self, _schedule: &dyn Schedule, times: &[f64]) -> Vec<usize> {
        let n = times.len().saturating_sub(1);
        (0..n).map(|i| self.order.min(n - i)).collect()
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
        let (l_i, l_t) = span.ratio_lambdas();
        let m_i = model.denoise(x, span.alpha_s, span.sigma_s);
        let ms = &mut hist.outputs;
        // UniC from the previous node (the anchor) to this one with the new output m_i.
        let x = match &hist.anchor {
            None => x.clone(),
            Some(prev) => {
                let p = prev.order;
                let h = l_i - prev.lambda;
                let newest = ms.len() - 1;
                let rks: Vec<f64> = (1..p)
                    .map(|k| (ms[newest - k].0 - prev.lambda) / h)
                    .chain([1.0])
                    .collect();
                let (r, b, h_phi_1, b_h) = system(&rks, h, p);
                let rhos = if p == 1 { vec![0.5] } else { solve(&r, &b) };
                let a_t = span.alpha_s;
                combine(
                    (span.sigma_s / prev.sigma, &prev.state),
                    (-a_t * h_phi_1, &ms[newest].1),
                    a_t,
                    b_h,
                    (1..p)
                        .map(|k| (rhos[k - 1], rks[k - 1], &ms[newest - k].1))
                        .chain([(rhos[p - 1], 1.0, &m_i)]),
                )
            }
        };
        ms.push((l_i, m_i));
        let this_order = span.max_order.min(self.order).min(ms.len());
        // UniP from this node to the next.
        let h = l_t - l_i;
        let newest = ms.len() - 1;
        let rks: Vec<f64> = (1..this_order)
            .map(|k| (ms[newest - k].0 - l_i) / h)
            .chain([1.0])
            .collect();
        let (r, b, h_phi_1, b_h) = system(&rks, h, this_order);
        let rhos = match this_order {
            1 => Vec::new(),
            2 => vec![0.5],
            _ => {
                let k = this_order - 1;
                solve(
                    &r.view((0, 0), (k, k)).into_owned(),
                    &b.rows(0, k).into_owned(),
                )
            }
        };
        let a_t = span.alpha_t;
        let next = combine(
            (span.sigma_t / span.sigma_s, &x),
            (-a_t * h_phi_1, &ms[newest].1),
            a_t,
            b_h,
            (1..this_order).map(|k| (rhos[k - 1], rks[k - 1], &ms[newest - k].1)),
        );
        hist.anchor = Some(Anchor {
            lambda: l_i,
            sigma: span.sigma_s,
            state: x,
            order: this_order,
        });
        next
    }
}
