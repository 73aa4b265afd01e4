//! PG-TABLE, the discrete cells: every (scheme, ε, NFE, init) cell of the ICML table and the correctly
//! budgeted Heun row, by the exact-law engine, against the printed value and the paper's recursion.

use super::recursion::{compare_cell, rec_gap, Computed};
use super::Tally;
use crate::claims::wasserstein::common::{eps_label, half_unit, miss, printed_value, scheme, Spec};
use crate::claims::wasserstein::data::{HEUN_BUDGETED, ICML};
use crate::claims::Scale;
use crate::evidence::{Figure, Series, Table};
use crate::pg::{
    self, engine_law_both_inits, grid_points_for_nfe, HeunBudget, Init, PaperScheme, PgLaw, Scheme,
};
use crate::tol;
use anyhow::Result;
use rayon::prelude::*;

/// A PG-TABLE job: scheme, ε, NFE, init, printed cell, Heun bookkeeping.
type TableJob = (Scheme, f64, usize, Init, Option<&'static str>, HeunBudget);
type Points = Vec<(f64, f64)>;

/// What the discrete cells leave: their table and figure, and the engine-vs-recursion summary.
pub(super) struct Cells {
    pub(super) table: Table,
    pub(super) fig: Figure,
    /// Worst W2 engine-vs-recursion difference in units of its tolerance, times tol::IDENTITY.
    pub(super) worst_rec: f64,
    pub(super) rec_ok: bool,
    /// Worst per-eigenvalue variance difference engine vs recursion (reported, not gated).
    pub(super) worst_rel_var: f64,
}

/// The jobs at this scale: the ICML rows and the budgeted Heun row at the NFE columns `nfes`, and at full
/// scale the extra samplers (no published value).
fn jobs(scale: Scale, nfes: &[usize]) -> Vec<TableJob> {
    let mut jobs: Vec<TableJob> = Vec::new();
    for (name, eps, _, _, cells) in ICML {
        for (j, nfe) in pg::TABLE_NFE.iter().enumerate() {
            if !nfes.contains(nfe) {
                continue;
            }
            for (k, init) in [Init::Pt, Init::N0].into_iter().enumerate() {
                jobs.push((
                    scheme(name),
                    *eps,
                    *nfe,
                    init,
                    Some(cells[2 * j + k]),
                    HeunBudget::TableBug,
                ));
            }
        }
    }
    for (eps, cells) in HEUN_BUDGETED {
        for (j, nfe) in pg::TABLE_NFE.iter().enumerate() {
            if nfes.contains(nfe) {
                jobs.push((
                    scheme("heun"),
                    *eps,
                    *nfe,
                    Init::N0,
                    Some(cells[j]),
                    HeunBudget::Correct,
                ));
            }
        }
    }
    // Beyond the paper: the extra samplers in the same table (no published value), full scale only.
    if scale == Scale::Full {
        for s in pg::extra_schemes() {
            for eps in pg::TABLE_EPS.into_iter().filter(|e| pg::defined_at(&s, *e)) {
                for nfe in nfes {
                    for init in [Init::Pt, Init::N0] {
                        jobs.push((s, eps, *nfe, init, None, HeunBudget::TableBug));
                    }
                }
            }
        }
    }
    jobs
}

/// Every job's engine law compared with the recursion; jobs differing only by their initialisation share
/// one engine run (pg::engine_law_both_inits).
fn compute(jobs: &[TableJob], sp: &Spec) -> Result<Vec<Computed>> {
    let mut groups: Vec<(Scheme, f64, usize)> = Vec::new();
    for (s, eps, nfe, _, _, hb) in jobs {
        let key = (*s, *eps, grid_points_for_nfe(s, *nfe, *hb));
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let laws: Vec<(PgLaw, PgLaw)> = groups
        .par_iter()
        .map(|(s, eps, n)| engine_law_both_inits(s, &sp.data, *n, *eps))
        .collect::<Result<_>>()?;
    jobs.par_iter()
        .map(|(s, eps, nfe, init, _, hb)| {
            let n = grid_points_for_nfe(s, *nfe, *hb);
            let g = groups
                .iter()
                .position(|k| *k == (*s, *eps, n))
                .expect("grouped");
            let law = if *init == Init::Pt {
                &laws[g].0
            } else {
                &laws[g].1
            };
            compare_cell(s, law, &sp.eig, n, *eps, *init)
        })
        .collect()
}

/// The discrete cells at the NFE columns `nfes`; printed comparisons (authors' spectrum only) go to
/// `tally`.
pub(super) fn run(scale: Scale, nfes: &[usize], sp: &Spec, tally: &mut Tally) -> Result<Cells> {
    let jobs = jobs(scale, nfes);
    let results = compute(&jobs, sp)?;
    let mut table = Table::new(
        "",
        &[
            "scheme",
            "heun_budget",
            "eps",
            "nfe",
            "init",
            "grid_points",
            "w2_engine",
            "w2_recursion",
            "max_rel_var_engine_vs_recursion",
            "printed",
            "half_unit",
            "abs_diff",
            "reproduced",
        ],
    );
    let mut worst_rec = 0.0_f64;
    let mut rec_ok = true;
    let lam_max = sp.eig.iter().cloned().fold(0.0, f64::max);
    let mut fig = Figure::new(
        "",
        "PG-TABLE: W2(output, p_data) vs NFE, ε = 1e-4, N(0,I) (dashed: printed)",
        "NFE (denoiser evaluations)",
        "W2 to p_data (data units)",
    )
    .loglog();
    let mut curves: std::collections::BTreeMap<String, (Points, Points)> = Default::default();
    for ((s, eps, nfe, init, printed, hb), c) in jobs.iter().zip(&results) {
        let n = grid_points_for_nfe(s, *nfe, *hb);
        if s.paper.is_some() {
            let (rel, tol_rec) = rec_gap(c, lam_max);
            worst_rec = worst_rec.max(rel / tol_rec * tol::IDENTITY);
            rec_ok &= rel <= tol_rec;
        }
        let (pr, hu, diff, ok) = match printed {
            Some(p) if sp.authors => {
                let m = miss(c.w2, p);
                tally.note(m, || {
                    format!(
                        "{} ε={} NFE={} {}",
                        s.name,
                        eps_label(*eps),
                        nfe,
                        init.name()
                    )
                });
                let d = if c.w2.is_infinite() && printed_value(p).is_infinite() {
                    0.0
                } else {
                    (c.w2 - printed_value(p)).abs()
                };
                (
                    p.to_string(),
                    half_unit(p),
                    d,
                    if m <= 1.0 { "yes" } else { "NO" },
                )
            }
            Some(p) => (p.to_string(), half_unit(p), f64::INFINITY, "skipped"),
            None => (String::new(), 0.0, 0.0, "no published value"),
        };
        let hb_name = if s.paper == Some(PaperScheme::Heun) {
            if *hb == HeunBudget::TableBug {
                "N=NFE (table)"
            } else {
                "N=NFE/2"
            }
        } else {
            ""
        };
        table.push(vec![
            s.name.into(),
            hb_name.into(),
            (*eps).into(),
            (*nfe).into(),
            init.name().into(),
            n.into(),
            c.w2.into(),
            if c.w2_rec.is_nan() {
                "".into()
            } else {
                c.w2_rec.into()
            },
            if c.rel_var.is_nan() {
                "".into()
            } else {
                c.rel_var.into()
            },
            pr.into(),
            hu.into(),
            if diff.is_infinite() {
                "".into()
            } else {
                diff.into()
            },
            ok.into(),
        ]);
        if *eps == 1e-4 && *init == Init::N0 && *hb == HeunBudget::TableBug {
            let e = curves.entry(s.name.to_string()).or_default();
            e.0.push((*nfe as f64, c.w2));
            if let Some(p) = printed {
                e.1.push((*nfe as f64, printed_value(p)));
            }
        }
    }
    for (name, (pts, printed)) in curves {
        fig = fig.with(Series::line(name.clone(), pts));
        if !printed.is_empty() {
            fig = fig.with(Series::reference(format!("{name} printed"), printed));
        }
    }
    Ok(Cells {
        table,
        fig,
        worst_rec,
        rec_ok,
        worst_rel_var: results
            .iter()
            .filter(|c| !c.rel_var.is_nan())
            .map(|c| c.rel_var)
            .fold(0.0, f64::max),
    })
}
