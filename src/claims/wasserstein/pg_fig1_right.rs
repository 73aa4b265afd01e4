//! PG-FIG1-RIGHT (Pierret & Galerne, ICML 2025, Fig. 1 right): W2(output, p_0) against ε at NFE 1000
//! from N(0, I), against the file's table of values. SKIPPED without the authors' spectrum (it compares
//! nothing else).

use super::common::{eps_label, exact_from_n0, fig1_schemes, half_unit, miss, Spec};
use super::data::FIG1_RIGHT;
use crate::claims::{Claim, Ctx, Evidence, Scale};
use crate::evidence::{Figure, Series, Table};
use crate::pg::{self, engine_law, w2_centred, Init, Scheme};
use anyhow::Result;
use rayon::prelude::*;

pub(super) fn claim() -> Claim {
    Claim {
    id: "PG-FIG1-RIGHT",
    family: super::FAMILY,
    source: "Pierret & Galerne, ICML 2025, Fig. 1 right",
    statement: "W2(output, p_0) against ε ∈ {0,1e-5,1e-4,1e-3,1e-2}, NFE 1000 (Heun N=500, RK4 N=250), N(0,I): the file's table of values for SDE, ODE, EM, EI, DDPM, Euler, Heun, RK4.",
    check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sp = match Spec::authors_or_skip("PG-FIG1-RIGHT")? {
        Ok(sp) => sp,
        Err(skipped) => return Ok(skipped),
    };
    let schemes = fig1_schemes(ctx.scale == Scale::Full);
    let eps_list: Vec<f64> = ctx.scale.pick(
        vec![1e-4, 1e-3, 1e-2],
        FIG1_RIGHT.iter().map(|r| r.0).collect(),
    );
    let jobs: Vec<(Scheme, usize, f64)> = eps_list
        .iter()
        .flat_map(|e| schemes.iter().map(move |(s, n)| (*s, *n, *e)))
        .filter(|(s, _, e)| pg::defined_at(s, *e))
        .collect();
    let w2s: Vec<f64> = jobs
        .par_iter()
        .map(|(s, n, e)| {
            engine_law(s, &sp.data, *n, *e, Init::N0)
                .map(|l| l.w2_to(&vec![0.0; sp.eig.len()], &sp.eig))
        })
        .collect::<Result<_>>()?;
    let mut table = Table::new(
        "",
        &[
            "scheme",
            "grid_points",
            "eps",
            "w2",
            "printed",
            "half_unit",
            "reproduced",
        ],
    );
    let mut fig = Figure::new(
        "",
        "PG-FIG1-RIGHT: W2(output, p_0) vs ε, NFE 1000, N(0,I) (ε = 0 plotted at 1e-6)",
        "truncation time ε (units of t)",
        "W2 to p_0 (data units)",
    )
    .loglog();
    let (mut worst, mut worst_what, mut compared) = (0.0_f64, String::new(), 0);
    let names = ["sde", "ode", "em", "ei", "ddpm", "euler", "heun", "rk4"];
    let mut series: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    let mut record = |name: &str, n: usize, eps: f64, w: f64, table: &mut Table| {
        let printed = FIG1_RIGHT
            .iter()
            .find(|r| r.0 == eps)
            .and_then(|r| names.iter().position(|x| *x == name).map(|i| r.1[i]));
        let ok = match printed {
            Some(p) => {
                let m = miss(w, p);
                compared += 1;
                if m > worst {
                    worst = m;
                    worst_what = format!("{name} ε={}", eps_label(eps));
                }
                if m <= 1.0 {
                    "yes"
                } else {
                    "NO"
                }
            }
            None => "no published value",
        };
        table.push(vec![
            name.into(),
            n.into(),
            eps.into(),
            w.into(),
            printed.unwrap_or("").into(),
            printed.map(half_unit).unwrap_or(0.0).into(),
            ok.into(),
        ]);
        series
            .entry(name.to_string())
            .or_default()
            .push((eps.max(1e-6), w));
    };
    for &eps in &eps_list {
        for (name, sde) in [("sde", true), ("ode", false)] {
            let v = exact_from_n0(&sp.eig, eps, sde);
            record(name, 0, eps, w2_centred(&v, &sp.eig), &mut table);
        }
    }
    for ((s, n, e), w) in jobs.iter().zip(&w2s) {
        record(s.name, *n, *e, *w, &mut table);
    }
    for (name, pts) in series {
        fig = fig.with(Series::line(name, pts));
    }
    let scope = ctx.scale.pick(
        "quick scale: ε ∈ {1e-4, 1e-3, 1e-2} (paper schemes)",
        "all five ε, plus DDIM/DPM-Solver rows",
    );
    let detail = format!(
        "on {}; {scope}; {compared} printed values compared, worst |computed − printed|/half-unit = {worst:.2} ({worst_what}); Heun and RK4 at ε = 0 are +∞ explicitly",
        sp.what
    );
    Ok(Evidence::within(worst, 1.0, detail)
        .table(table)
        .figure(fig))
}
