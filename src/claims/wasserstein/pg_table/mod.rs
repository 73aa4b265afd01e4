//! PG-TABLE (Pierret & Galerne, ICML 2025, ablation table; PIERRET-GALERNE.md): every printed cell by the
//! exact-law engine, to printed precision; sub-questions: the discrete cells (`cells`), the engine against
//! the paper's recursions (`recursion`), the continuous columns (`continuous`), and the schedule's
//! identity with Song's VP-linear (here).

mod cells;
mod continuous;
mod recursion;

use super::common::Spec;
use crate::claims::{Claim, Ctx, Evidence};
use crate::pg::{self, PgVp};
use crate::schedule::{Schedule, VpLinear};
use crate::tol;
use anyhow::Result;

pub(super) fn claim() -> Claim {
    Claim {
    id: "PG-TABLE",
    family: super::FAMILY,
    source: "Pierret & Galerne, ICML 2025, ablation table (README 'Table 5'); PIERRET-GALERNE.md",
    statement: "Every cell of the ICML table (EM, EI, DDPM, Euler, Heun*, RK4 × ε ∈ {0,1e-5,1e-4,1e-3} × NFE ∈ {50,250,500,1000} × init p_T/N(0,I), plus the continuous columns) is reproduced to its printed precision by the exact-law engine, '−' cells are +∞, Heun* uses N = NFE grid points (the authors' bug); correctly budgeted Heun (N = NFE/2) matches the recomputed values; the engine agrees with the paper's per-eigenvalue variance recursions.",
    check,
    }
}

/// The printed-cell comparisons so far: the worst miss (in half-units) and where, how many compared and
/// how many reproduced.
#[derive(Default)]
struct Tally {
    worst_miss: f64,
    worst_what: String,
    compared: usize,
    reproduced: usize,
}

impl Tally {
    /// One printed cell compared, `m` half-units off; `what` names it if it is the worst so far.
    fn note(&mut self, m: f64, what: impl FnOnce() -> String) {
        self.compared += 1;
        if m <= 1.0 {
            self.reproduced += 1;
        }
        if m > self.worst_miss || self.worst_what.is_empty() {
            self.worst_miss = m;
            self.worst_what = what();
        }
    }
}

/// Max relative difference of α and σ between the PG schedule and Song's VP-linear {0.1, 20} on a grid of
/// 1001 times: the same marginals (their β is twice ours).
fn song_schedule_gap() -> f64 {
    let sch = PgVp::default();
    let song = VpLinear {
        beta0: 0.1,
        beta1: 20.0,
    };
    (0..=1000)
        .map(|k| {
            let t = k as f64 / 1000.0;
            crate::metrics::rel_err(sch.alpha(t), song.alpha(t), 1e-300)
                .max(crate::metrics::rel_err(sch.sigma(t), song.sigma(t), 1e-300))
        })
        .fold(0.0, f64::max)
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sp = Spec::load()?;
    let nfes: Vec<usize> = ctx.scale.pick(vec![50, 250], pg::TABLE_NFE.to_vec());
    let mut tally = Tally::default();
    let cells = cells::run(ctx.scale, &nfes, &sp, &mut tally)?;
    let cont = continuous::run(&sp, &mut tally);
    let sched_err = song_schedule_gap();

    let scope = ctx.scale.pick(
        "quick scale: NFE columns 50 and 250 only (all rows, both inits, continuous columns, Heun N=NFE/2 at 50/250)",
        "full table: all 4 NFE columns, plus DDIM(η=0,1), DPM-Solver-1/++1 as extra rows",
    );
    let rec_detail = format!(
        "engine vs the paper's per-eigenvalue recursions (independent code): W2 max relative difference {:.1e} in units of the tolerance 1e-12·max(1, steps/1000)·max(1, ½√λ_max/W2) (round-off per step times W2's conditioning in relative variance errors); '−' cells +∞ by both routes); per-eigenvalue variances max relative difference {:.1e} (reported, not gated: it peaks in stiff Heun/RK4 cells at NFE 50 where the engine's Tweedie score (αx̂₀ − x)/σ² cancels as σ² ≪ α²λ near ε and |h c| ~ 10³); schedule α,σ vs Song VpLinear{{0.1,20}} (same marginals, their β = 2× ours): max rel {:.1e}",
        cells.worst_rec / tol::IDENTITY,
        cells.worst_rel_var,
        sched_err
    );
    let Tally {
        worst_miss,
        worst_what,
        compared,
        reproduced,
    } = tally;
    let ev = if sp.authors {
        Evidence::within(
            worst_miss,
            1.0,
            format!(
                "on {}; {scope}; {reproduced}/{compared} printed cells reproduced to half a unit of their last printed digit (measured = worst |computed − printed| / half-unit, at {worst_what}; '0' exact, '−' = +∞ explicitly, never NaN); {rec_detail}",
                sp.what
            ),
        )
    } else {
        Evidence::within(
            cells.worst_rec,
            tol::IDENTITY,
            format!(
                "PUBLISHED COMPARISON SKIPPED: running on {}; the verdict covers only engine vs recursion and the '−' (+∞) cells; {scope}; {rec_detail}",
                sp.what
            ),
        )
    };
    Ok(ev
        .require(
            cells.rec_ok,
            "engine and recursion W2 disagree beyond their round-off tolerance",
        )
        .require(
            sched_err <= tol::IDENTITY,
            "PgVp differs from VpLinear{0.1,20}",
        )
        .table(cells.table)
        .table(cont)
        .figure(cells.fig))
}
