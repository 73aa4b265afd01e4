//! The health report of the practitioner conventions (issue 13 item 4; claim PR-5, binary
//! `scheduler_report`): for every configuration of the `diffusers` matrix ([`conventions::matrix`]) the
//! exact W2 between the library's output law and the data, against the number of steps, on two Gaussians
//! (a small well-conditioned one and a CIFAR-like power-law spectrum), and the flags: a configuration whose
//! error does not decrease towards its floor, blows up, converges to the wrong law, or gets no law at all
//! (the library refuses or returns NaN). Every flag carries its cause, found from the configuration's own
//! plan (not from the W2 numbers), and the exact numbers that show it.

use crate::conventions::{self, MatrixEntry, Plan, Scheduler, Spacing};
use crate::metrics::w2_commuting;
use crate::schedule::BetaSchedule;
use crate::target::Gaussian;
use anyhow::Result;
use nalgebra::DVector;
use rayon::prelude::*;

/// A data law of the report.
pub struct ReportTarget {
    pub name: &'static str,
    pub mean: Vec<f64>,
    pub eig: Vec<f64>,
    pub gaussian: Gaussian,
}

impl ReportTarget {
    fn new(name: &'static str, mean: Vec<f64>, eig: Vec<f64>) -> Result<Self> {
        let gaussian = Gaussian::from_eigen(
            DVector::from_vec(mean.clone()),
            DVector::from_vec(eig.clone()),
            None,
        )?;
        Ok(Self {
            name,
            mean,
            eig,
            gaussian,
        })
    }
    /// W2 between N(0, I) (doing nothing) and the data: the scale a blow-up is measured against.
    pub fn w2_noise(&self) -> f64 {
        let d = self.eig.len();
        w2_commuting(&vec![0.0; d], &vec![1.0; d], &self.mean, &self.eig)
    }
}

/// The two data laws: a small well-conditioned Gaussian (d = 4, eigenvalues 0.5–2, mean of size 1) and a
/// CIFAR-like power-law spectrum λ_i = 221.45 (i + 1)^{−2} (total variance 768/3072 per pixel on [−1, 1]
/// images, as the synthetic spectrum of PG), full rank, zero mean, in dimension `dim`.
pub fn targets(dim: usize) -> Result<Vec<ReportTarget>> {
    Ok(vec![
        ReportTarget::new("small", vec![0.5, -1.0, 0.0, 1.0], vec![0.5, 0.8, 1.2, 2.0])?,
        ReportTarget::new(
            "power-law",
            vec![0.0; dim],
            (0..dim)
                .map(|i| 221.45 * ((i + 1) as f64).powi(-2))
                .collect(),
        )?,
    ])
}

/// One configuration on one data law: W2 at every step count (or the library's refusal), and the
/// reference numbers of the largest step count.
pub struct Series {
    pub entry: usize,
    pub target: usize,
    pub w2: Vec<std::result::Result<f64, String>>,
    /// W2 between the data and the exact marginal at the node the library lands on, in the library's
    /// output scale (the best any sampler landing there can do).
    pub landing_floor: f64,
    /// W2 between the library's initial law N(0, init_std² I) and the exact marginal at its first node.
    pub prior_mismatch: f64,
    /// W2 between the data and the exact probability-flow image of the library's initial law at its last
    /// node (output scale): where an infinitely fine deterministic solver from the library's start lands.
    /// Per coordinate x ↦ α_L μ + √(v_L/v_0)(x − α_0 μ), v = α²λ + σ².
    pub limit_floor: f64,
    /// Timesteps −1 (trailing spacing's extra entry) at some step count.
    pub minus_one_at: Vec<usize>,
    /// ... at the largest step count.
    pub minus_one_last: bool,
}

fn marginal_w2(plan: &Plan, node: usize, scale: f64, t: &ReportTarget) -> (Vec<f64>, Vec<f64>) {
    let (a, s) = (plan.nodes.alphas[node], plan.nodes.sigmas[node]);
    let m = t.mean.iter().map(|m| scale * a * m).collect();
    let v = t
        .eig
        .iter()
        .map(|l| scale * scale * (a * a * l + s * s))
        .collect();
    (m, v)
}

/// Run the report: every (entry, target) pair over every step count, in parallel with an
/// order-preserving collect (deterministic whatever the thread count).
pub fn run(entries: &[MatrixEntry], steps: &[usize], targets: &[ReportTarget]) -> Vec<Series> {
    let pairs: Vec<(usize, usize)> = (0..entries.len())
        .flat_map(|e| (0..targets.len()).map(move |t| (e, t)))
        .collect();
    pairs
        .par_iter()
        .map(|&(e, ti)| {
            let t = &targets[ti];
            let entry = &entries[e];
            let mut minus_one_at = Vec::new();
            let w2 = steps
                .iter()
                .map(|&n| {
                    let cfg = entry.at(n);
                    if let Ok(plan) = cfg.plan() {
                        if plan.model_timesteps.contains(&-1.0) {
                            minus_one_at.push(n);
                        }
                    }
                    cfg.exact_law(&t.gaussian)
                        .map(|(m, v)| w2_commuting(&m, &v, &t.mean, &t.eig))
                        .map_err(|e| format!("{e:#}"))
                })
                .collect();
            let n_max = *steps.last().expect("steps");
            let (landing_floor, prior_mismatch, limit_floor) = match entry.at(n_max).plan() {
                Ok(plan) => {
                    let last = plan.nodes.alphas.len() - 1;
                    let (m, v) = marginal_w2(&plan, last, plan.output_scale, t);
                    let landing = w2_commuting(&m, &v, &t.mean, &t.eig);
                    let (m0, v0) = marginal_w2(&plan, 0, 1.0, t);
                    let d = t.eig.len();
                    let prior = w2_commuting(
                        &vec![0.0; d],
                        &vec![plan.init_std * plan.init_std; d],
                        &m0,
                        &v0,
                    );
                    let (m_l, v_l) = marginal_w2(&plan, last, plan.output_scale, t);
                    let s2 = plan.init_std * plan.init_std;
                    let (lm, lv): (Vec<f64>, Vec<f64>) = (0..d)
                        .map(|i| {
                            let r = (v_l[i] / v0[i]).sqrt();
                            (m_l[i] - r * m0[i], r * r * s2)
                        })
                        .unzip();
                    let limit = w2_commuting(&lm, &lv, &t.mean, &t.eig);
                    (landing, prior, limit)
                }
                Err(_) => (f64::NAN, f64::NAN, f64::NAN),
            };
            Series {
                entry: e,
                target: ti,
                w2,
                landing_floor,
                prior_mismatch,
                limit_floor,
                minus_one_last: minus_one_at.contains(&n_max),
                minus_one_at,
            }
        })
        .collect()
}

/// Why a configuration is flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    /// The library refuses the configuration or returns NaN at some step count.
    NoLaw,
    /// W2 above twice W2(N(0, I), data) at some step count, or not finite.
    BlowsUp,
    /// W2 rises by more than 1% between consecutive step counts while above 1.5× its final value.
    NotDecreasing,
    /// W2 has stalled (the last step-count increase gains < 20%) above 1.5× the landing floor
    /// + 1e-3·W2(N(0, I), data).
    WrongLaw,
}

impl Flag {
    pub fn name(self) -> &'static str {
        match self {
            Flag::NoLaw => "no-law",
            Flag::BlowsUp => "blows-up",
            Flag::NotDecreasing => "not-decreasing",
            Flag::WrongLaw => "wrong-law",
        }
    }
}

/// The cause of a flag, read from the configuration (its plan), not from the W2 numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// Trailing spacing's numpy arange yields N + 1 timesteps, the last −1 (DDPM/DDIM: ᾱ_{T−1}; σ-schedulers:
    /// a zero-length step).
    TrailingMinusOne,
    /// The library's own grid has a zero-length or backward step (NaN for multistep solvers): leading
    /// spacing of the multistep family at N + 1 > T, a repeated σ̄, Karras' last σ̄ below σ̄_min.
    ZeroLengthStep,
    /// The library refuses the configuration (e.g. leading spacing past the table with steps_offset).
    Refused,
    /// The first model call is not at pure noise: x_T ~ N(0, init²) misses the marginal there (leading
    /// spacing; ᾱ_{T−1} = 4.0e-5 / 4.7e-3 on the linear / scaled-linear tables), and the flow carries the
    /// mismatch to the output amplified by √(v_L/v_0) (≈ √λ on large eigenvalues): the limit floor.
    PriorMismatch,
    /// The last step lands at σ̄_min or ᾱ_0 (final_sigmas_type="sigma_min", DEIS, set_alpha_to_one=False).
    Landing,
    /// DDIM's previous timestep t − ⌊T/N⌋ ignores linspace spacing (PR-3).
    DdimPrevRule,
    /// diffusers' third-order `sde-dpmsolver++` update: its D₂ coefficient tends to −1 as h → 0 instead of
    /// 0 (PR-6), an O(h²) local error.
    SdeThirdOrder,
    /// DPM-Solver multistep (order ≥ 2) landing at σ̄_min: `lower_order_final` lowers the last step only
    /// for N < 15 (or a final σ̄ of 0), so from N = 15 the long last jump (σ̄ of the last timestep → σ̄_min)
    /// extrapolates the model outputs with a small step ratio r₀ = h₀/h.
    LongLastStep,
    /// The squaredcos_cap_v2 table ends at ᾱ_{T−1} = 2.4e-9 (σ̄_max ≈ 2·10⁴; betas clipped at 0.999): the
    /// first steps span orders of magnitude of σ̄ (diffusers' lambda_min_clipped exists for this).
    CosineFirstStep,
    /// No cause found.
    Unexplained,
}

impl Cause {
    pub fn name(self) -> &'static str {
        match self {
            Cause::TrailingMinusOne => "trailing-minus-one",
            Cause::ZeroLengthStep => "zero-length-step",
            Cause::Refused => "refused",
            Cause::PriorMismatch => "prior-mismatch",
            Cause::Landing => "landing",
            Cause::DdimPrevRule => "ddim-prev-rule",
            Cause::SdeThirdOrder => "sde-third-order",
            Cause::LongLastStep => "long-last-step",
            Cause::CosineFirstStep => "cosine-first-step",
            Cause::Unexplained => "unexplained",
        }
    }
    /// What avoids it.
    pub fn remedy(self) -> &'static str {
        match self {
            Cause::TrailingMinusOne => "a step count whose arange has N entries, or linspace spacing",
            Cause::ZeroLengthStep => "fewer steps than the grid can separate, trailing/linspace spacing, final σ̄ zero with Karras σ̄",
            Cause::Refused => "a configuration the library accepts",
            Cause::PriorMismatch => "trailing spacing (first call at T − 1), and on scaled_linear rescale_betas_zero_snr",
            Cause::Landing => "final_sigmas_type=\"zero\" / set_alpha_to_one=True",
            Cause::DdimPrevRule => "trailing or leading spacing for DDIM (or DDPM/Euler-ancestral under linspace)",
            Cause::SdeThirdOrder => "solver_order=2 for sde-dpmsolver++ (or the corrected update, --corrected)",
            Cause::LongLastStep => "final_sigmas_type=\"zero\" (first-order last step) or euler_at_final=True",
            Cause::CosineFirstStep => "lambda_min_clipped=-5.1 (DPM-Solver family) or a linear/scaled-linear table",
            Cause::Unexplained => "",
        }
    }
}

/// The flags of one series and their causes.
pub fn flags(s: &Series, entry: &MatrixEntry, t: &ReportTarget) -> Vec<(Flag, Cause)> {
    let scale = t.w2_noise();
    let mut out = Vec::new();
    let finite: Vec<f64> =
        s.w2.iter()
            .filter_map(|w| w.as_ref().ok().copied())
            .collect();
    let is_ddim_linspace = matches!(entry.config.scheduler, Scheduler::Ddim { .. })
        && entry.config.spacing == Spacing::Linspace;
    if let Some(Err(e)) = s.w2.iter().find(|w| w.is_err()) {
        let cause = if e.contains("zero-length") {
            Cause::ZeroLengthStep
        } else {
            Cause::Refused
        };
        out.push((Flag::NoLaw, cause));
    }
    let sde3 = matches!(
        entry.config.scheduler,
        Scheduler::DpmSolverPp {
            order: 3,
            noise_level,
            corrected: false,
            ..
        } if noise_level != 0.0
    );
    let tol = 1e-3 * scale;
    let long_last = matches!(
        entry.config.scheduler,
        Scheduler::DpmSolverPp { order, final_sigma_min: true, .. }
            | Scheduler::DpmSolver { order, final_sigma_min: true, .. } if order >= 2
    );
    let explain = |at_minus_one: bool, value: f64| -> Cause {
        if at_minus_one {
            Cause::TrailingMinusOne
        } else if is_ddim_linspace {
            Cause::DdimPrevRule
        } else if sde3 {
            Cause::SdeThirdOrder
        } else if s.limit_floor > 1.5 * s.landing_floor + tol && value <= 2.0 * s.limit_floor + tol
        {
            Cause::PriorMismatch
        } else if s.landing_floor > tol && value <= 1.5 * s.landing_floor.max(s.limit_floor) + tol {
            Cause::Landing
        } else if long_last {
            Cause::LongLastStep
        } else if entry.config.beta == BetaSchedule::SquaredCosine {
            Cause::CosineFirstStep
        } else {
            Cause::Unexplained
        }
    };
    let blow =
        s.w2.iter()
            .enumerate()
            .find(|(_, w)| matches!(w, Ok(v) if !v.is_finite() || *v > 2.0 * scale));
    if let Some((k, _)) = blow {
        let v = s.w2[k].as_ref().map(|v| *v).unwrap_or(f64::INFINITY);
        out.push((Flag::BlowsUp, explain(!s.minus_one_at.is_empty(), v)));
    }
    if let Some(&last) = finite.last() {
        let rising = s.w2.windows(2).any(|w| match (&w[0], &w[1]) {
            (Ok(a), Ok(b)) => *b > a * 1.01 && *b > 1.5 * last,
            _ => false,
        });
        if rising {
            out.push((
                Flag::NotDecreasing,
                explain(!s.minus_one_at.is_empty(), last),
            ));
        }
        // Stalled: the last doubling-or-more of the step count gains less than 20%, yet the error is
        // above 1.5× the landing floor (+1e-3 of the noise's W2).
        let stalled = match (s.w2.len() >= 2).then(|| &s.w2[s.w2.len() - 2]) {
            Some(Ok(prev)) => last > 0.8 * prev,
            _ => false,
        };
        if matches!(s.w2.last(), Some(Ok(_)))
            && stalled
            && last > 1.5 * s.landing_floor + 1e-3 * scale
        {
            out.push((Flag::WrongLaw, explain(s.minus_one_last, last)));
        }
    }
    out
}

/// Every entry of the matrix on the three beta schedules.
pub fn full_matrix() -> Vec<MatrixEntry> {
    BetaSchedule::all()
        .into_iter()
        .flat_map(conventions::matrix)
        .collect()
}

/// A heat map (SVG, hand-written rectangles): one row per configuration, one column per step count, colour
/// log10(W2 / W2(N(0, I), data)) from green (small) to red (≥ the noise's W2); grey: no law.
pub fn heatmap_svg(
    entries: &[MatrixEntry],
    series: &[Series],
    target: usize,
    steps: &[usize],
    t: &ReportTarget,
) -> String {
    let rows: Vec<&Series> = series.iter().filter(|s| s.target == target).collect();
    let (cw, ch, left, top) = (46.0, 9.0, 330.0, 40.0);
    let width = left + cw * steps.len() as f64 + 20.0;
    let height = top + ch * rows.len() as f64 + 40.0;
    let scale = t.w2_noise();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"8\">\n<text x=\"4\" y=\"14\" font-size=\"12\">exact W2(output, data) / W2(N(0,I), data) on the {} Gaussian (log colour: green 1e-4, red ≥ 1; grey: no law)</text>\n",
        t.name
    );
    for (j, n) in steps.iter().enumerate() {
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\">N={n}</text>\n",
            left + cw * j as f64 + 4.0,
            top - 4.0
        );
    }
    for (i, s) in rows.iter().enumerate() {
        let y = top + ch * i as f64;
        svg += &format!(
            "<text x=\"2\" y=\"{:.1}\">{}</text>\n",
            y + ch - 1.5,
            entries[s.entry].label
        );
        for (j, w) in s.w2.iter().enumerate() {
            let fill = match w {
                Ok(v) if v.is_finite() => {
                    let r = ((v / scale).max(1e-4).log10() + 4.0) / 4.0; // 0 at 1e-4, 1 at 1
                    let r = r.clamp(0.0, 1.0);
                    format!(
                        "rgb({},{},60)",
                        (255.0 * r).round(),
                        (200.0 * (1.0 - r)).round()
                    )
                }
                _ => "rgb(160,160,160)".to_string(),
            };
            svg += &format!(
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{cw}\" height=\"{ch}\" fill=\"{fill}\"/>\n",
                left + cw * j as f64
            );
        }
    }
    svg += "</svg>\n";
    svg
}
