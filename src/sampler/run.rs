//! The one run loop: every sampler run (the zoo's, the exact laws', the `diffusers` conventions') goes
//! through [`drive`], which owns the [`History`] and hands the live values to [`Noise::rebase`].

use super::{History, Sampler, Span};
use crate::algebra::{Algebra, Denoiser, Noise};
use crate::schedule::Schedule;

/// One step of a run: the sampler, its two grid times and the highest order it may take there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leg {
    pub sampler: Sampler,
    pub from: f64,
    pub to: f64,
    pub max_order: usize,
}

/// Run `x` along `legs`: each step sees the [`Span`] of its two times (computed once) and the history;
/// after it the history keeps the newest `keep(sampler)` outputs, and the state with every live history
/// value is rebased (exact laws stay exact, forms stay short). `observe(k, x)` sees the state after `k`
/// steps.
pub fn drive<S, D, N>(
    schedule: &dyn Schedule,
    legs: &[Leg],
    mut x: S,
    model: &D,
    noise: &mut N,
    keep: &dyn Fn(Sampler) -> usize,
    observe: &mut dyn FnMut(usize, &S),
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
    N: Noise<S> + ?Sized,
{
    let mut hist: History<S> = History::default();
    observe(0, &x);
    for (k, leg) in legs.iter().enumerate() {
        let span = Span::new(schedule, leg.from, leg.to, leg.max_order);
        x = advance(schedule, leg, &span, &x, &mut hist, model, noise, keep);
        observe(k + 1, &x);
    }
    x
}

/// One step of a run: the sampler's step along `span`, the history trimmed to `keep`, then the state and
/// every live history value rebased together (no allocation when the history holds nothing).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn advance<S, D, N>(
    schedule: &dyn Schedule,
    leg: &Leg,
    span: &Span,
    x: &S,
    hist: &mut History<S>,
    model: &D,
    noise: &mut N,
    keep: &dyn Fn(Sampler) -> usize,
) -> S
where
    S: Algebra,
    D: Denoiser<S> + ?Sized,
    N: Noise<S> + ?Sized,
{
    let mut x = leg.sampler.step_span(schedule, span, x, hist, model, noise);
    hist.trim(keep(leg.sampler));
    if hist.is_empty() {
        noise.rebase(&mut [&mut x]);
    } else {
        let mut live: Vec<&mut S> = std::iter::once(&mut x).chain(hist.live()).collect();
        noise.rebase(&mut live);
    }
    x
}
