//! PR-5: the health report of the whole `diffusers` scheduler matrix (issue 13 item 4; the same report as
//! the `scheduler_report` binary, at a step list and dimension fitted to the main job).

use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series as Line, Table};
use crate::scheduler_report::{flags, full_matrix, run, targets, Cause};
use anyhow::Result;
use std::collections::BTreeMap;

pub(super) fn claim() -> Claim {
    Claim {
        id: "PR-5",
        family: super::FAMILY,
        source: "issue 13 item 4; diffusers 0.42 schedulers (DDPM, DDIM, Euler, EulerAncestral, Heun, DPMSolverMultistep, DPMSolverSinglestep, UniPC, DEIS) on the DDPM tables",
        statement: "Every configuration of the diffusers scheduler matrix, run exactly on a small Gaussian and a CIFAR-like power-law spectrum: every configuration whose error does not decrease towards its floor, blows up, converges to the wrong law, or gets no law is flagged, and every flag has a cause in the library's convention or formula (read from the configuration's own plan) with the setting that avoids it.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    // N = 61: trailing spacing's numpy arange gives 62 timesteps there, the last one −1 (conventions).
    // N = 61: trailing spacing's numpy arange gives 62 timesteps there, the last −1 (see conventions).
    let steps: Vec<usize> = ctx.scale.pick(
        vec![5, 10, 25, 50, 61, 100],
        vec![5, 10, 25, 50, 61, 100, 250],
    );
    let dim = ctx.scale.pick(64, 1024);
    let entries = full_matrix();
    let targets = targets(dim)?;
    let series = run(&entries, &steps, &targets);
    let mut tidy = Table::new(
        "report",
        &[
            "configuration",
            "beta",
            "spacing",
            "scheduler",
            "data",
            "steps",
            "w2",
            "error",
        ],
    );
    let mut flag_table = Table::new(
        "flags",
        &[
            "configuration",
            "data",
            "flag",
            "cause",
            "remedy",
            "w2_last",
            "landing_floor",
            "limit_floor",
            "prior_mismatch",
        ],
    );
    let mut by_cause: BTreeMap<(Cause, &'static str), Vec<usize>> = BTreeMap::new();
    let mut no_law_anywhere = 0;
    for (k, s) in series.iter().enumerate() {
        let e = &entries[s.entry];
        let t = &targets[s.target];
        for (n, w) in steps.iter().zip(&s.w2) {
            let (w2, err) = match w {
                Ok(v) => ((*v).into(), String::new()),
                Err(e) => ("".into(), e.clone()),
            };
            tidy.push(vec![
                e.label.clone().into(),
                e.config.beta.name().into(),
                e.spacing_label.clone().into(),
                e.scheduler_label.clone().into(),
                t.name.into(),
                (*n).into(),
                w2,
                err.into(),
            ]);
        }
        if s.w2.iter().all(|w| w.is_err()) {
            no_law_anywhere += 1;
        }
        for (f, c) in flags(s, e, t) {
            by_cause.entry((c, f.name())).or_default().push(k);
            let last = s.w2.last().and_then(|w| w.as_ref().ok().copied());
            flag_table.push(vec![
                e.label.clone().into(),
                t.name.into(),
                f.name().into(),
                c.name().into(),
                c.remedy().into(),
                last.map(Into::into).unwrap_or_else(|| "".into()),
                finite_or_blank(s.landing_floor),
                finite_or_blank(s.limit_floor),
                finite_or_blank(s.prior_mismatch),
            ]);
        }
    }
    let unexplained: usize = by_cause
        .iter()
        .filter(|((c, _), _)| *c == Cause::Unexplained)
        .map(|(_, v)| v.len())
        .sum();
    let total: usize = by_cause.values().map(Vec::len).sum();
    // Small multiples: per cause, the W2 curves of up to four flagged series (the first ones).
    let mut figures = Vec::new();
    let mut summary = Vec::new();
    for ((cause, flag), ks) in &by_cause {
        let first = &series[ks[0]];
        let e = &entries[first.entry];
        let t = &targets[first.target];
        let vals: Vec<String> = first
            .w2
            .iter()
            .map(|w| match w {
                Ok(v) => format!("{v:.3e}"),
                Err(_) => "none".into(),
            })
            .collect();
        summary.push(format!(
            "{flag}/{}: {} (e.g. {} on {}: W2 at N = {steps:?}: [{}]; landing floor {:.3e}, limit floor {:.3e}; avoid: {})",
            cause.name(),
            ks.len(),
            e.label,
            t.name,
            vals.join(", "),
            first.landing_floor,
            first.limit_floor,
            cause.remedy()
        ));
        let mut fig = Figure::new(
            &format!("{}-{flag}", cause.name()),
            format!("PR-5 {flag} ({}): exact W2 vs steps", cause.name()),
            "steps N",
            "W2(output, data) (data units)",
        )
        .loglog();
        let mut lines = 0;
        for &k in ks.iter().take(4) {
            let s = &series[k];
            let pts: Vec<(f64, f64)> = steps
                .iter()
                .zip(&s.w2)
                .filter_map(|(n, w)| match w {
                    Ok(v) if v.is_finite() && *v > 0.0 => Some((*n as f64, *v)),
                    _ => None,
                })
                .collect();
            if pts.len() >= 2 {
                lines += 1;
                fig = fig.with(Line::line(
                    format!("{} {}", entries[s.entry].label, targets[s.target].name),
                    pts,
                ));
            }
        }
        if lines > 0 {
            figures.push(fig);
        }
    }
    let mut ev = Evidence::within(
        unexplained as f64,
        0.0,
        format!(
            "{} configurations × {} data laws (small d = 4; power-law d = {dim}) × N = {steps:?}: {total} flags, {unexplained} unexplained (must be 0); by flag/cause: {}",
            entries.len(),
            targets.len(),
            summary.join("; ")
        ),
    )
    .require(
        no_law_anywhere <= 2 * 3,
        "only the Karras + σ_min sde-dpmsolver++ configurations of the linear table (orders 1–3, both data laws) get no law at any step count",
    )
    .table(tidy)
    .table(flag_table);
    for f in figures {
        ev = ev.figure(f);
    }
    Ok(ev)
}

fn finite_or_blank(v: f64) -> crate::evidence::Value {
    if v.is_finite() {
        v.into()
    } else {
        "".into()
    }
}
