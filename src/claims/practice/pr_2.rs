//! PR-2: Which diffusers schedulers coincide exactly (DDPM, DDIM(η), Euler(Ancestral)) and under which spacings.

use crate::claims::{Claim, Ctx, Evidence};
use crate::conventions::{Config, Scheduler, Spacing};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::reference_target;
use crate::metrics::w2_commuting;
use crate::sampler::{first_order_roundoff, DdpmVariance};
use crate::schedule::BetaSchedule;
use crate::tol;
use anyhow::Result;

pub(super) fn claim() -> Claim {
    Claim {
        id: "PR-2",
        family: super::FAMILY,
        source: "DDIM paper §4.1 (η = 1 is DDPM); diffusers DDPMScheduler/DDIMScheduler/Euler(Ancestral)DiscreteScheduler",
        statement: "With set_alpha_to_one, DDPM(fixed_small) ≡ DDIM(η=1) ≡ EulerAncestral and Euler ≡ DDIM(η=0) exactly under leading spacing and under trailing when N divides 1000; not under linspace (nor trailing with N ∤ 1000), where DDIM's previous timestep t − ⌊1000/N⌋ is not the next grid timestep.",
        check,
    }
}

fn check(_ctx: &Ctx) -> Result<Evidence> {
    let target = reference_target();
    let mut table = Table::new(
        "",
        &[
            "beta_schedule",
            "spacing",
            "steps",
            "pair",
            "expected_equal",
            "w2_between",
            "roundoff_budget",
        ],
    );
    let mut worst_eq: f64 = 0.0;
    let mut min_neq = f64::INFINITY;
    let mut fig = Figure::new(
        "",
        "PR-2: W2 between DDPM(fixed_small) and DDIM(η=1), diffusers conventions",
        "steps N",
        "W2 between the two output laws (data units)",
    )
    .loglog();
    let mut ancestral_err: f64 = 0.0;
    for beta in BetaSchedule::all() {
        for spacing in [Spacing::Leading, Spacing::Trailing, Spacing::Linspace] {
            let mut curve = Vec::new();
            for steps in [10usize, 20, 25, 30, 50, 100] {
                let cfg = |scheduler| Config {
                    beta,
                    scheduler,
                    steps,
                    spacing,
                    steps_offset: 0,
                };
                let ddpm = cfg(Scheduler::Ddpm {
                    variance: DdpmVariance::Small,
                })
                .plan()?;
                let mut ddim1 = cfg(Scheduler::Ddim {
                    eta: 1.0,
                    set_alpha_to_one: true,
                    consistent_prev: false,
                })
                .plan()?;
                let mut ddim0 = cfg(Scheduler::Ddim {
                    eta: 0.0,
                    set_alpha_to_one: true,
                    consistent_prev: false,
                })
                .plan()?;
                let ancestral = cfg(Scheduler::EulerAncestral).plan()?;
                let euler = cfg(Scheduler::Euler {
                    final_sigma_min: false,
                })
                .plan()?;
                // DDIM's previous timestep t − ⌊T/N⌋ equals the next grid timestep at every step?
                let ts = crate::conventions::timesteps(spacing, 1000, steps, 0, true)?;
                let ratio = (1000 / steps) as f64;
                let consistent = ts.windows(2).all(|w| w[1] == w[0] - ratio)
                    && ts.last().is_some_and(|t| *t - ratio < 0.0);
                // σ-schedulers use fractional timesteps under linspace; their start N(0, init_noise_sigma²) in x̄
                // may differ from DDIM's N(0, I) (PR-4), so DDIM is started from the same law for these pairs.
                let sigma_consistent = consistent && spacing != Spacing::Linspace;
                let l_ddpm = ddpm.exact_law(&target);
                let l_ddim1 = ddim1.exact_law(&target);
                ddim1.init_std = ancestral.init_std;
                let l_ddim1_same_start = ddim1.exact_law(&target);
                ddim0.init_std = euler.init_std;
                let l_ddim0_same_start = ddim0.exact_law(&target);
                // EulerAncestral runs as DDIM(η=1) on σ̄ nodes in the crate; check that reading against
                // k-diffusion's σ_up/σ_down update written out independently (integer timesteps only).
                if spacing != Spacing::Linspace {
                    let reference = ancestral_reference(
                        beta,
                        spacing,
                        steps,
                        &target,
                        ancestral.init_noise_sigma,
                    )?;
                    let ours = ancestral.exact_law(&target);
                    for i in 0..ours.0.len() {
                        ancestral_err = ancestral_err
                            .max((ours.0[i] - reference.0[i]).abs() / (1.0 + reference.0[i].abs()))
                            .max((ours.1[i] - reference.1[i]).abs() / (1.0 + reference.1[i]));
                    }
                }
                let pairs = [
                    (
                        "ddpm-small vs ddim-eta1",
                        w2_between(&l_ddpm, &l_ddim1),
                        consistent,
                        roundoff(&ddpm),
                    ),
                    (
                        "euler-ancestral vs ddim-eta1 (same start)",
                        w2_between(&ancestral.exact_law(&target), &l_ddim1_same_start),
                        sigma_consistent,
                        roundoff(&ddim1),
                    ),
                    (
                        "euler vs ddim-eta0 (same start)",
                        w2_between(&euler.exact_law(&target), &l_ddim0_same_start),
                        sigma_consistent,
                        roundoff(&ddim0),
                    ),
                ];
                for (name, w, eq, budget) in pairs {
                    if eq {
                        worst_eq = worst_eq.max(w / budget);
                    } else {
                        min_neq = min_neq.min(w);
                    }
                    table.push(vec![
                        beta.name().into(),
                        spacing.name().into(),
                        steps.into(),
                        name.into(),
                        (if eq { "yes" } else { "no" }).into(),
                        w.into(),
                        budget.into(),
                    ]);
                }
                curve.push((steps as f64, pairs[0].1.max(1e-16)));
            }
            if beta == BetaSchedule::Linear {
                fig = fig.with(Series::line(format!("{} spacing", spacing.name()), curve));
            }
        }
    }
    Ok(Evidence::within(
        worst_eq,
        1.0,
        format!("max W2 between laws that must be equal, in units of the round-off budget 64ε Σκ (3 tables × 3 spacings × 6 step counts); the smallest W2 between laws predicted to differ is {min_neq:.2e} (must exceed 1e-6); EulerAncestral's exact law vs k-diffusion's σ_up/σ_down update written out per coordinate (leading and trailing): max rel err {ancestral_err:.1e} (≤ 1e-10)"),
    )
    .require(ancestral_err <= tol::FACTORED, "EulerAncestral is not k-diffusion's ancestral step")
    .require(min_neq > tol::DISCRIMINATES, "a pair predicted to differ came out equal")
    .table(table)
    .figure(fig))
}

/// EulerAncestral's output law on the diagonal Gaussian `target` by k-diffusion's update written out in
/// σ̄ = √((1 − ᾱ)/ᾱ) at the integer timesteps (final σ̄ = 0): d = (x̄ − D(x̄))/σ̄_s, σ_up =
/// √(σ̄_t²(σ̄_s² − σ̄_t²)/σ̄_s²), σ_down = √(σ̄_t² − σ_up²), x̄_t = x̄_s + (σ_down − σ̄_s) d + σ_up z, with the
/// Gaussian denoiser D(x̄) = μ + λ(x̄ − μ)/(λ + σ̄²); start N(0, init_noise_sigma²). Per coordinate
/// (mean, variance) of x̄ = x₀ at the end.
fn ancestral_reference(
    beta: BetaSchedule,
    spacing: Spacing,
    steps: usize,
    target: &crate::target::Gaussian,
    init: f64,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let abar = crate::schedule::Discrete::new(beta).alphas_cumprod;
    let ts = crate::conventions::timesteps(spacing, 1000, steps, 0, true)?;
    let mut sbar: Vec<f64> = ts
        .iter()
        .map(|&t| ((1.0 - abar[t as usize]) / abar[t as usize]).sqrt())
        .collect();
    sbar.push(0.0);
    let (mu, lam) = (target.eigen_mean(), &target.eigvals);
    Ok((0..lam.len())
        .map(|k| {
            let (mut m, mut v) = (0.0, init * init);
            for w in sbar.windows(2) {
                let (s, t) = (w[0], w[1]);
                let up = (t * t * (s * s - t * t) / (s * s)).sqrt();
                let down = (t * t - up * up).max(0.0).sqrt();
                // x̄ − μ ↦ a (x̄ − μ) + σ_up z with a = 1 + (σ_down − σ̄_s) σ̄_s/(λ + σ̄_s²).
                let a = 1.0 + (down - s) * s / (lam[k] + s * s);
                m = mu[k] + a * (m - mu[k]);
                v = a * a * v + up * up;
            }
            (m, v)
        })
        .unzip())
}

fn w2_between(a: &(Vec<f64>, Vec<f64>), b: &(Vec<f64>, Vec<f64>)) -> f64 {
    w2_commuting(&a.0, &a.1, &b.0, &b.1)
}

/// The round-off budget of a plan: 64 ε Σ_k κ_k over its steps (`sampler::first_order_roundoff`).
fn roundoff(plan: &crate::conventions::Plan) -> f64 {
    64.0 * f64::EPSILON
        * plan
            .steps
            .iter()
            .map(|l| first_order_roundoff(&plan.nodes, &[l.from, l.to]))
            .sum::<f64>()
}
