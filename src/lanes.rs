//! Exact laws in one fused pass per step: the same samplers, the same formulas, recorded once per step
//! and replayed over the coordinates (issue 14, "speed at the flop floor").
//!
//! On Gaussian data in Σ's eigenbasis every coordinate evolves on its own: the denoiser is diagonal, the
//! noise is independent across coordinates, and the rebase is per coordinate. On [`Form`]s a step is a
//! sequence of whole-vector passes, one allocation each. Here the sampler's own step (its `Method`,
//! through the run loop's `advance`) runs once per step on [`Reg`]isters, which record what it computes
//! — linear combinations with scalar coefficients, denoiser and score calls, fresh noise, the rebase of
//! the live values — on a tape. The tape is then executed lane by lane ([`WIDTH`] coordinates at a time,
//! a structure of arrays), every intermediate value in a small register file that stays in cache: one
//! pass over the state per step, no allocation in it, and every scalar of the step computed once.
//!
//! Each coordinate sees the operations of the `Form` route in the same order, so [`run_exact`] returns the
//! very `Form` that [`crate::sampler::Sampler::run`] with [`FormNoise`](crate::algebra::FormNoise) returns,
//! bit for bit (`tests/lanes.rs` checks it for every sampler; a noise row that no value contributes to is
//! a row of zeros here where a `Form` leaves it empty). The recording is faithful because a step's
//! control flow cannot depend on its values: an [`Algebra`] only forms linear combinations.

use crate::algebra::{
    denoiser_affine, marginal_variance, rebase_factor, rebase_rule, score_affine, Algebra,
    Denoiser, Form, Noise,
};
use crate::sampler::{advance, History, Leg, Sampler, Span};
use crate::schedule::Schedule;
use crate::target::Gaussian;
use anyhow::{ensure, Result};
use std::cell::RefCell;
use std::rc::Rc;

/// Coordinates per lane.
pub const WIDTH: usize = 64;

/// Live values (state, history, anchor) a rebase can handle.
const MAX_LIVE: usize = 8;

/// What a step computes, register by register (a register holds one value of the step: its mean row
/// and its `rows` noise rows, per coordinate).
#[derive(Clone, Debug)]
enum Op {
    /// Σ_i w_i r_i, left to right.
    Lin {
        out: usize,
        terms: Vec<(f64, usize)>,
    },
    /// The exact Gaussian x̂₀ at (α, σ).
    Denoise {
        out: usize,
        input: usize,
        alpha: f64,
        sigma: f64,
    },
    /// The exact Gaussian score at (α, σ).
    Score {
        out: usize,
        input: usize,
        alpha: f64,
        sigma: f64,
    },
    /// A fresh standard normal: noise component `component`.
    Noise { out: usize, component: usize },
}

/// One step's operations, the noise rows of every register, and the rebase that closes the step.
#[derive(Debug, Default)]
struct Tape {
    ops: Vec<Op>,
    rows: Vec<usize>,
    /// The live registers handed to the rebase (state first), and whether they are re-expressed in a
    /// fresh basis (`true`) or kept (already short).
    live: Vec<usize>,
    compress: bool,
}

impl Tape {
    fn clear(&mut self) {
        self.ops.clear();
        self.rows.clear();
        self.live.clear();
    }
    fn register(&mut self, rows: usize) -> usize {
        self.rows.push(rows);
        self.rows.len() - 1
    }
}

/// A value of a step being recorded.
#[derive(Clone, Debug)]
pub struct Reg {
    tape: Rc<RefCell<Tape>>,
    id: usize,
    rows: usize,
}

impl Reg {
    fn new(tape: &Rc<RefCell<Tape>>, rows: usize, op: impl FnOnce(usize) -> Option<Op>) -> Self {
        let mut t = tape.borrow_mut();
        let id = t.register(rows);
        if let Some(op) = op(id) {
            t.ops.push(op);
        }
        Reg {
            tape: Rc::clone(tape),
            id,
            rows,
        }
    }
}

impl Algebra for Reg {
    fn lin(terms: &[(f64, &Self)]) -> Self {
        let rows = terms.iter().map(|(_, r)| r.rows).max().unwrap_or(0);
        let terms_ids = terms.iter().map(|(w, r)| (*w, r.id)).collect();
        Reg::new(&terms[0].1.tape, rows, |out| {
            Some(Op::Lin {
                out,
                terms: terms_ids,
            })
        })
    }
}

/// The exact Gaussian denoiser, recorded. The score exists on every coordinate or on none (as
/// [`Gaussian`]'s score on a [`Form`]): where α²λ_min + σ² > 0.
struct Recording {
    lambda_min: f64,
}

impl Denoiser<Reg> for Recording {
    fn denoise(&self, x: &Reg, alpha: f64, sigma: f64) -> Reg {
        Reg::new(&x.tape, x.rows, |out| {
            Some(Op::Denoise {
                out,
                input: x.id,
                alpha,
                sigma,
            })
        })
    }
    fn score(&self, x: &Reg, alpha: f64, sigma: f64) -> Option<Reg> {
        if marginal_variance(alpha, sigma, self.lambda_min) <= 0.0 {
            return None;
        }
        Some(Reg::new(&x.tape, x.rows, |out| {
            Some(Op::Score {
                out,
                input: x.id,
                alpha,
                sigma,
            })
        }))
    }
}

/// Fresh noise numbered as [`FormNoise`](crate::algebra::FormNoise) numbers it; the rebase is recorded
/// with [`FormNoise`](crate::algebra::FormNoise)'s rule (compress only when the live values have more
/// components than there are of them).
struct RecordingNoise {
    next: usize,
}

impl Noise<Reg> for RecordingNoise {
    fn standard_normal(&mut self, like: &Reg) -> Reg {
        let component = self.next;
        self.next += 1;
        Reg::new(&like.tape, component + 1, |out| {
            Some(Op::Noise { out, component })
        })
    }
    fn rebase(&mut self, live: &mut [&mut Reg]) {
        let m = live.len();
        let k_max = live.iter().map(|r| r.rows).max().unwrap_or(0);
        let compress;
        (compress, self.next) = rebase_rule(m, k_max);
        let tape = Rc::clone(&live[0].tape);
        let mut tape = tape.borrow_mut();
        tape.live = live.iter().map(|r| r.id).collect();
        tape.compress = compress;
        if compress {
            live.iter_mut().for_each(|r| r.rows = m);
        }
    }
}

/// A live value between steps, lane-major: lane `l`, row `r` (0 the mean, 1 + k noise component k) is
/// `data[(l (1 + rows) + r) WIDTH ..][..WIDTH]`.
struct Slot {
    rows: usize,
    data: Vec<[f64; WIDTH]>,
}

/// The exact law of `sampler` run along `times` from the form `x` on the Gaussian `target` (in its
/// eigenbasis), fresh noise numbered after `x`'s components: the same [`Form`] as
/// `sampler.run(schedule, times, x, target, &mut FormNoise::after(x.a.len()))`, bit for bit, in one fused
/// pass per step (an empty row of `x` counts as a zero row).
///
/// ```
/// use diffusion_claims::algebra::{Form, FormNoise};
/// use diffusion_claims::lanes::run_exact;
/// use diffusion_claims::sampler::{uniform_t, Sampler};
/// use diffusion_claims::schedule::{Schedule, VpLinear};
/// use diffusion_claims::target::Gaussian;
/// use nalgebra::DVector;
///
/// let target = Gaussian::from_eigen(
///     DVector::from_vec(vec![0.5, -1.0, 0.0]),
///     DVector::from_vec(vec![2.0, 0.25, 1e-3]),
///     None,
/// )
/// .unwrap();
/// let sch = VpLinear::default();
/// let times = uniform_t(1.0, 1e-3, 50).unwrap();
/// let x = Form::marginal(&target, sch.alpha(1.0), sch.sigma(1.0));
/// let sampler = Sampler::EulerMaruyama { noise_level: 1.0 };
/// let fused = run_exact(sampler, &sch, &times, &x, &target).unwrap();
/// let forms = sampler.run(&sch, &times, x, &target, &mut FormNoise::after(1));
/// assert_eq!(fused, forms);
/// ```
pub fn run_exact(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    x: &Form,
    target: &Gaussian,
) -> Result<Form> {
    run_exact_with(Simd::Auto, sampler, schedule, times, x, target)
}

/// [`run_exact`], with `observe(k, x)` seeing the state after `k` steps (as
/// [`Sampler::run_observed`](crate::sampler::Sampler::run_observed); a row no value contributes to is a zero
/// row here, an empty one there).
pub fn run_exact_observed(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    x: &Form,
    target: &Gaussian,
    observe: &mut dyn FnMut(usize, &Form),
) -> Result<Form> {
    run_lanes(
        Simd::Auto,
        sampler,
        schedule,
        times,
        x,
        target,
        Some(observe),
    )
}

/// [`run_exact`] with the replay compiled for `simd` (benchmarks and the cross-instruction-set test).
pub fn run_exact_with(
    simd: Simd,
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    x: &Form,
    target: &Gaussian,
) -> Result<Form> {
    run_lanes(simd, sampler, schedule, times, x, target, None)
}

fn run_lanes(
    simd: Simd,
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    x: &Form,
    target: &Gaussian,
    mut observe: Option<Observer>,
) -> Result<Form> {
    let d = x.dim();
    ensure!(
        d == target.dim(),
        "the start form has {d} coordinates, the target {}",
        target.dim()
    );
    if let Some(observe) = observe.as_mut() {
        observe(0, x);
    }
    if times.len() < 2 {
        return Ok(x.clone()); // no step (as `Sampler::run`)
    }
    let lanes = d.div_ceil(WIDTH);
    let pad = |v: &[f64], fill: f64| -> Vec<[f64; WIDTH]> {
        (0..lanes)
            .map(|l| std::array::from_fn(|j| v.get(l * WIDTH + j).copied().unwrap_or(fill)))
            .collect()
    };
    let mu = pad(target.eigen_mean().as_slice(), 0.0);
    let lambda = pad(target.eigvals.as_slice(), 1.0);
    let model = Recording {
        lambda_min: target.eigvals.iter().copied().fold(f64::INFINITY, f64::min),
    };
    let rows = x.a.len();
    let start_rows: Vec<Vec<[f64; WIDTH]>> = std::iter::once(pad(&x.c, 0.0))
        .chain(x.a.iter().map(|r| pad(r, 0.0)))
        .collect();
    let mut slots = vec![Slot {
        rows,
        data: (0..lanes)
            .flat_map(|l| start_rows.iter().map(move |r| r[l]))
            .collect(),
    }];
    let mut noise = RecordingNoise { next: rows };
    let mut hist: History<Reg> = History::default();
    let keep = |s: Sampler| s.history_len();
    let mut regs: Vec<[f64; WIDTH]> = Vec::new();
    let mut spare: Vec<Slot> = Vec::new();
    let tape = Rc::new(RefCell::new(Tape::default()));
    for (k, (w, max_order)) in times
        .windows(2)
        .zip(sampler.order_caps(schedule, times))
        .enumerate()
    {
        let leg = Leg {
            sampler,
            from: w[0],
            to: w[1],
            max_order,
        };
        let span = Span::new(schedule, leg.from, leg.to, leg.max_order);
        // Record: the live values of the previous step are the registers 0..m.
        tape.borrow_mut().clear();
        let state = Reg::new(&tape, slots[0].rows, |_| None);
        for (v, slot) in hist.live().zip(&slots[1..]) {
            *v = Reg::new(&tape, slot.rows, |_| None);
        }
        let out = advance(
            schedule, &leg, &span, &state, &mut hist, &model, &mut noise, &keep,
        );
        drop(out);
        let tape = tape.borrow();
        ensure!(
            tape.live.len() == hist.live().count() + 1 && tape.live.len() <= MAX_LIVE,
            "{}: {} live values after a step (at most {MAX_LIVE})",
            sampler.label(),
            tape.live.len()
        );
        execute(simd, &tape, &slots, &mu, &lambda, &mut regs, &mut spare);
        std::mem::swap(&mut slots, &mut spare);
        if let Some(observe) = observe.as_mut() {
            observe(k + 1, &to_form(&slots[0], d));
        }
    }
    Ok(to_form(&slots[0], d))
}

/// What sees the state after each step (`run_exact_observed`).
type Observer<'a> = &'a mut dyn FnMut(usize, &Form);

/// A slot's first `d` coordinates as a [`Form`].
fn to_form(slot: &Slot, d: usize) -> Form {
    let stride = 1 + slot.rows;
    let row = |r: usize| -> Vec<f64> {
        slot.data
            .chunks(stride)
            .flat_map(|lane| lane[r])
            .take(d)
            .collect()
    };
    Form {
        c: row(0),
        a: (1..stride).map(row).collect(),
    }
}

/// The instruction set the replay is compiled for. The results are the same bits on every one (IEEE
/// operations in the same order; Rust never contracts a multiply and an add); only the speed differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simd {
    /// The widest the processor has (checked at run time).
    Auto,
    /// x86-64 AVX-512F (falls back to [`Simd::Baseline`] where absent).
    Avx512,
    /// x86-64 AVX2 (falls back to [`Simd::Baseline`] where absent).
    Avx2,
    /// The target's baseline (SSE2 on x86-64).
    Baseline,
}

impl Simd {
    /// The instruction sets this processor can run, widest first (always ends with `Baseline`).
    pub fn available() -> Vec<Simd> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Simd::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                v.push(Simd::Avx2);
            }
        }
        v.push(Simd::Baseline);
        v
    }
}

/// Run one step's tape over every lane ([`execute_lanes`]), compiled for `simd`.
fn execute(
    simd: Simd,
    tape: &Tape,
    slots: &[Slot],
    mu: &[[f64; WIDTH]],
    lambda: &[[f64; WIDTH]],
    regs: &mut Vec<[f64; WIDTH]>,
    next: &mut Vec<Slot>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! compiled_for {
            ($feature:tt) => {{
                #[target_feature(enable = $feature)]
                unsafe fn run(
                    tape: &Tape,
                    slots: &[Slot],
                    mu: &[[f64; WIDTH]],
                    lambda: &[[f64; WIDTH]],
                    regs: &mut Vec<[f64; WIDTH]>,
                    next: &mut Vec<Slot>,
                ) {
                    execute_lanes(tape, slots, mu, lambda, regs, next)
                }
                if std::arch::is_x86_feature_detected!($feature) {
                    // SAFETY: the processor has the feature (checked on the line above).
                    unsafe { run(tape, slots, mu, lambda, regs, next) };
                    return;
                }
            }};
        }
        if matches!(simd, Simd::Auto | Simd::Avx512) {
            compiled_for!("avx512f");
        }
        if matches!(simd, Simd::Auto | Simd::Avx2) {
            compiled_for!("avx2");
        }
    }
    let _ = simd;
    execute_lanes(tape, slots, mu, lambda, regs, next)
}

/// Run one step's tape over every lane: load the live values into registers, apply the operations in
/// order, rebase the live registers coordinate by coordinate, store them as the next step's slots.
#[inline(always)]
fn execute_lanes(
    tape: &Tape,
    slots: &[Slot],
    mu: &[[f64; WIDTH]],
    lambda: &[[f64; WIDTH]],
    regs: &mut Vec<[f64; WIDTH]>,
    next: &mut Vec<Slot>,
) {
    let lanes = mu.len();
    let stride = 1 + tape.rows.iter().copied().max().unwrap_or(0);
    // Every register row is written before it is read: no need to clear the file.
    if regs.len() < tape.rows.len() * stride {
        regs.resize(tape.rows.len() * stride, [0.0; WIDTH]);
    }
    let m = tape.live.len();
    // The next step's slots, in the buffers of the step before (no allocation once they are large enough).
    next.resize_with(m, || Slot {
        rows: 0,
        data: Vec::new(),
    });
    for (slot, &r) in next.iter_mut().zip(&tape.live) {
        slot.rows = if tape.compress { m } else { tape.rows[r] };
        slot.data.clear();
        slot.data.reserve(lanes * (1 + slot.rows));
    }
    for l in 0..lanes {
        for (i, slot) in slots.iter().enumerate() {
            let s = 1 + slot.rows;
            regs[i * stride..i * stride + s].copy_from_slice(&slot.data[l * s..(l + 1) * s]);
        }
        for op in &tape.ops {
            apply(op, &tape.rows, regs, stride, &mu[l], &lambda[l]);
        }
        if tape.compress {
            rebase_lane(&tape.live, &tape.rows, regs, stride, next);
        } else {
            for (&r, slot) in tape.live.iter().zip(next.iter_mut()) {
                slot.data
                    .extend_from_slice(&regs[r * stride..r * stride + 1 + slot.rows]);
            }
        }
    }
}

/// One operation on one lane, exactly as [`Form`]'s algebra and [`Gaussian`]'s denoiser compute it.
#[inline(always)]
fn apply(
    op: &Op,
    rows: &[usize],
    regs: &mut [[f64; WIDTH]],
    stride: usize,
    mu: &[f64; WIDTH],
    lambda: &[f64; WIDTH],
) {
    match op {
        Op::Lin { out, terms } => {
            for r in 0..=rows[*out] {
                // Row r of each term that has one (a row beyond a value's components is absent, as on
                // a `Form`), summed left to right; the output has the most rows, so some term has row r.
                let mut present = terms.iter().filter(|&&(_, t)| r <= rows[t]);
                let Some(&(w0, t0)) = present.next() else {
                    regs[out * stride + r] = [0.0; WIDTH];
                    continue;
                };
                let mut acc = regs[t0 * stride + r];
                for a in acc.iter_mut() {
                    *a *= w0;
                }
                for &(w, t) in present {
                    let v = &regs[t * stride + r];
                    for j in 0..WIDTH {
                        acc[j] += w * v[j];
                    }
                }
                regs[out * stride + r] = acc;
            }
        }
        Op::Denoise {
            out,
            input,
            alpha,
            sigma,
        } => {
            let (mut k, mut b) = ([0.0; WIDTH], [0.0; WIDTH]);
            for j in 0..WIDTH {
                (k[j], b[j]) = denoiser_affine(*alpha, *sigma, lambda[j], mu[j]);
            }
            diag_affine(regs, stride, rows[*input], *input, *out, &k, &b);
        }
        Op::Score {
            out,
            input,
            alpha,
            sigma,
        } => {
            let (mut k, mut b) = ([0.0; WIDTH], [0.0; WIDTH]);
            for j in 0..WIDTH {
                (k[j], b[j]) = score_affine(*alpha, *sigma, lambda[j], mu[j]);
            }
            diag_affine(regs, stride, rows[*input], *input, *out, &k, &b);
        }
        Op::Noise { out, component } => {
            for r in 0..=*component {
                regs[out * stride + r] = [0.0; WIDTH];
            }
            regs[out * stride + 1 + component] = [1.0; WIDTH];
        }
    }
}

/// out = diag(k) input + b: the mean row k c + b, the noise rows a k ([`Form::diag_affine`]).
#[inline(always)]
fn diag_affine(
    regs: &mut [[f64; WIDTH]],
    stride: usize,
    rows: usize,
    input: usize,
    out: usize,
    k: &[f64; WIDTH],
    b: &[f64; WIDTH],
) {
    let mut c = regs[input * stride];
    for j in 0..WIDTH {
        c[j] = k[j] * c[j] + b[j];
    }
    regs[out * stride] = c;
    for r in 1..=rows {
        let mut a = regs[input * stride + r];
        for j in 0..WIDTH {
            a[j] *= k[j];
        }
        regs[out * stride + r] = a;
    }
}

/// [`FormNoise`](crate::algebra::FormNoise)'s rebase on one lane: per coordinate, the Cholesky factor of
/// the live values' Gram matrix ([`rebase_factor`]) becomes their noise rows; the means are kept.
#[inline(always)]
fn rebase_lane(
    live: &[usize],
    rows: &[usize],
    regs: &[[f64; WIDTH]],
    stride: usize,
    next: &mut [Slot],
) {
    let m = live.len();
    if m == 1 {
        // One live value: √(Σ_k a_k²) per coordinate (FormNoise's own one-value case).
        let r = live[0];
        let mut root = [0.0; WIDTH];
        for k in 0..rows[r] {
            let a = &regs[r * stride + 1 + k];
            for j in 0..WIDTH {
                root[j] += a[j] * a[j];
            }
        }
        for v in root.iter_mut() {
            *v = v.sqrt();
        }
        next[0].data.push(regs[r * stride]);
        next[0].data.push(root);
        return;
    }
    let mut new_rows = [[[0.0; WIDTH]; MAX_LIVE]; MAX_LIVE];
    let (mut g, mut l) = ([0.0; MAX_LIVE * MAX_LIVE], [0.0; MAX_LIVE * MAX_LIVE]);
    for j in 0..WIDTH {
        let dot = |p: usize, q: usize| {
            let (rp, rq) = (live[p], live[q]);
            let mut s = 0.0;
            for k in 0..rows[rp].min(rows[rq]) {
                s += regs[rp * stride + 1 + k][j] * regs[rq * stride + 1 + k][j];
            }
            s
        };
        rebase_factor(m, dot, &mut g[..m * m], &mut l[..m * m]);
        for (p, value) in new_rows.iter_mut().take(m).enumerate() {
            for (k, row) in value.iter_mut().take(m).enumerate() {
                row[j] = l[p * m + k];
            }
        }
    }
    for ((&r, slot), value) in live.iter().zip(next.iter_mut()).zip(&new_rows) {
        slot.data.push(regs[r * stride]);
        slot.data.extend_from_slice(&value[..m]);
    }
}
