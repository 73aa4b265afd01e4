//! DPM-Solver++ singlestep as `DPMSolverSinglestepScheduler` runs it (dpmsolver++, midpoint), with the
//! intermediate points on the grid: at step i of order k the model is called at node i on the current
//! state; the update restarts from the group's first node g = i − k + 1 (state x_g, the history's anchor)
//! with the outputs m at nodes g..=i:
//! k = 1: x = (σ_t/σ_g) x_g − α_t(e^{−h} − 1) m_g;
//! k = 2: D1 = (m_i − m_g)/r0, x = (σ_t/σ_g) x_g − α_t(e^{−h} − 1)(m_g + ½ D1);
//! k = 3: D1 = (m_i − m_g)/r0, x = (σ_t/σ_g) x_g − α_t(e^{−h} − 1) m_g + α_t((e^{−h} − 1)/h + 1) D1,
//! with h = λ_t − λ_g and r0 = (λ_i − λ_g)/h (λ = ln(α/σ), as the library).

use super::{Anchor, Grid, History, Method, Span};
use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// [`super::Sampler::DpmSolverPpSinglestep`].
pub(super) struct DpmSolverPpSinglestep {
    pub(super) order: usize,
}

/// `DPMSolverSinglestepScheduler.get_order_list` with `lower_order_final` (which the library forces on), and
/// order 1 on the last step when the final σ is 0.
fn order_list(steps: usize, order: usize, final_zero: bool) -> Vec<usize> {
    let rep = |pat: &[usize], times: usize| -> Vec<usize> {
        pat.iter()
            .copied()
            .cycle()
            .take(pat.len() * times)
            .collect()
    };
    let mut o = match order {
        3 => match steps % 3 {
            0 => [
                rep(&[1, 2, 3], (steps / 3).saturating_sub(1)),
                vec![1, 2],
                vec![1],
            ]
            .concat(),
            1 => [rep(&[1, 2, 3], steps / 3), vec![1]].concat(),
            _ => [rep(&[1, 2, 3], steps / 3), vec![1, 2]].concat(),
        },
        2 => match steps % 2 {
            0 => [rep(&[1, 2], (steps / 2).saturating_sub(1)), vec![1, 1]].concat(),
            _ => [rep(&[1, 2], steps / 2), vec![1]].concat(),
        },
        _ => vec![1; steps],
    };
    o.truncate(steps);
    if final_zero {
        if let Some(last) = o.last_mut() {
            *last = 1;
        }
    }
    o
}

impl Method for DpmSolverPpSinglestep {
    fn label(&self) -> String {
        format!("dpm-solver++{}s", self.order)
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
    fn order_caps(&self, schedule: &dyn Schedule, times: &[f64]) -> Vec<usize> {
        let final_zero = times.last().is_some_and(|&t| schedule.sigma(t) == 0.0);
        order_list(times.len().saturating_sub(1), self.order, final_zero)
    }
    // Continues the current group while it is shorter than min(order, `max_order`), else starts a new one.
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
        let in_group = hist.anchor.is_some() && hist.outputs.len() < span.max_order.min(self.order);
        if !in_group {
            hist.anchor = Some(Anchor {
                lambda: l_i,
                sigma: span.sigma_s,
                state: x.clone(),
                order: 1,
            });
            hist.outputs.clear();
        }
        hist.outputs
            .push((l_i, model.denoise(x, span.alpha_s, span.sigma_s)));
        let ms = &hist.outputs;
        let k = ms.len();
        let Some(g) = &hist.anchor else {
            unreachable!("a group always has its first state")
        };
        let (a_t, s_t) = (span.alpha_t, span.sigma_t);
        let h = l_t - g.lambda;
        let e = (-h).exp_m1();
        let (m_g, m_i) = (&ms[0].1, &ms[k - 1].1);
        let r0 = (l_i - g.lambda) / h;
        match k {
            1 => S::lin(&[(s_t / g.sigma, &g.state), (-a_t * e, m_g)]),
            2 => S::lin(&[
                (s_t / g.sigma, &g.state),
                (-a_t * e * (1.0 - 0.5 / r0), m_g),
                (-a_t * e * 0.5 / r0, m_i),
            ]),
            _ => {
                let c = a_t * (e / h + 1.0) / r0;
                S::lin(&[(s_t / g.sigma, &g.state), (-a_t * e - c, m_g), (c, m_i)])
            }
        }
    }
}
