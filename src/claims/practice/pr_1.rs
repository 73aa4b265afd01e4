//! PR-1: Diffusers-convention runs give the library's exact output law (committed float64 reference).

use super::data::{config_of, read_rows, reference_dir};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::reference_target;
use crate::tol;
use anyhow::Result;

pub(super) fn claim() -> Claim {
    Claim {
        id: "PR-1",
        family: super::FAMILY,
        source: "diffusers 0.42.1 schedulers (float64), tests/data/diffusers",
        statement: "The crate's DDPM/DDIM/Euler/EulerAncestral runs with diffusers' conventions (spacing, steps_offset, set_alpha_to_one, variance type, final sigma, init_noise_sigma) give the library's exact output law to 1e-10 relative.",
        check,
    }
}

fn check(_ctx: &Ctx) -> Result<Evidence> {
    let dir = reference_dir();
    if !dir.join("laws.csv").exists() {
        // The reference is committed with the crate: its absence is a broken checkout (FAIL), not a
        // missing optional input (SKIPPED).
        return Ok(Evidence::broken(format!(
            "reference data absent at {} (committed with the crate; restore tests/data/diffusers)",
            dir.display()
        )));
    }
    let target = reference_target();
    let laws = read_rows(&dir.join("laws.csv"))?;
    let mut table = Table::new(
        "",
        &[
            "config",
            "scheduler",
            "coord",
            "mean_ours",
            "mean_diffusers",
            "variance_ours",
            "variance_diffusers",
            "rel_err",
        ],
    );
    let mut worst: f64 = 0.0;
    let (mut checked, mut skipped, mut incomplete) = (Vec::new(), Vec::new(), Vec::new());
    let mut fig = Figure::new(
        "",
        "PR-1: exact output variance, crate vs diffusers (float64)",
        "diffusers variance (data units²)",
        "crate variance (data units²)",
    )
    .loglog();
    let mut pts = Vec::new();
    for row in read_rows(&dir.join("configs.csv"))? {
        let id = row["config"].clone();
        let Some(config) = config_of(&row) else {
            skipped.push(id);
            continue;
        };
        let (mean, var) = config.plan()?.exact_law(&target);
        let rows: Vec<_> = laws.iter().filter(|l| l["config"] == id).collect();
        if rows.len() != mean.len() {
            incomplete.push(format!("{id} ({} rows)", rows.len()));
        }
        for l in rows {
            let i: usize = l["coord"].parse()?;
            let (m, v): (f64, f64) = (l["mean"].parse()?, l["variance"].parse()?);
            // Relative error with an absolute floor of 1e-15 on the unit scale of the data (coordinate 0's
            // variance is round-off, or diffusers' 1e-20 clamp).
            let err = ((mean[i] - m).abs() / (m.abs().max(mean[i].abs()) + 1e-5))
                .max((var[i] - v).abs() / (v.abs().max(var[i].abs()) + 1e-5));
            worst = worst.max(err);
            if v > 1e-12 {
                pts.push((v, var[i]));
            }
            table.push(vec![
                id.clone().into(),
                row["scheduler"].clone().into(),
                i.into(),
                mean[i].into(),
                m.into(),
                var[i].into(),
                v.into(),
                err.into(),
            ]);
        }
        checked.push(id);
    }
    fig = fig.with(Series::scatter("coordinates × configurations", pts.clone()));
    let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.0).fold(0.0, f64::max);
    fig = fig.with(Series::reference("y = x", vec![(lo, lo), (hi, hi)]));
    Ok(Evidence::within(
        worst,
        tol::FACTORED,
        format!(
            "max relative error (floor 1e-5·|value| + 1e-15 absolute on O(1) data) over {} configurations × 4 coordinates; not yet implemented with diffusers conventions: {}; configurations without one reference row per coordinate: {incomplete:?}",
            checked.len(),
            skipped.len()
        ),
    )
    .require(checked.len() >= 20, "too few configurations compared")
    .require(skipped.is_empty(), "a reference configuration has no implementation")
    .require(incomplete.is_empty(), "a configuration has not one reference row per coordinate")
    .table(table)
    .figure(fig))
}
