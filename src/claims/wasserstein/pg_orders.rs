//! PG-ORDERS (PIERRET-GALERNE.md "Convergence orders (recomputed)"): the discretisation-only error
//! decays like N^{−p} (p = 1, 2, 4) once N is past the stiffness of the smallest eigenvalues.

use super::common::{eps_label, marginal, miss, Spec};
use super::data::ORDERS_N801;
use crate::claims::{Claim, Ctx, Evidence, Scale};
use crate::evidence::{Figure, Series, Table, Value};
use crate::metrics::loglog_slope;
use crate::pg::{engine_law, marginal_variance, paper_schemes, Init, PaperScheme, PgVp, Scheme, T};
use crate::tol;
use anyhow::Result;
use rayon::prelude::*;

/// Slack on the extrapolated slope beyond the last increment |s_last − s_prev|: the pre-asymptotic term
/// roughly halves per doubling, so what is left after extrapolation is a fraction of the last increment;
/// 0.05 covers the remainder and the fit's round-off.
const SLOPE_SLACK: f64 = 0.05;

/// Band around p within which every later local slope must lie for the order to "hold from" a given N
/// (reported in the fits CSV, not gated): twice [`SLOPE_SLACK`].
const HOLDS_BAND: f64 = 0.1;

pub(super) fn claim() -> Claim {
    Claim {
    id: "PG-ORDERS",
    family: super::FAMILY,
    source: "PIERRET-GALERNE.md 'Convergence orders (recomputed)'; classical ODE/SDE theory",
    statement: "The discretisation-only error W2(scheme from p_T, p_ε) decays like N^{−p}: p = 1 for EM, EI, DDPM, Euler; 2 for Heun; 4 for RK4 — once N is large enough that h·max|c| ≲ 1 (the smallest eigenvalues make the ODE stiff near ε and delay the asymptotic regime).",
    check,
    }
}

/// The stiffness of the PF-ODE near ε: max over eigenvalues and the last step of |c| = β(1/λ^ε − 1); the
/// explicit schemes are in their asymptotic regime once h·max|c| ≲ 1, i.e. N ≳ (T − ε)·max|c|.
fn stiffness(eig: &[f64], eps: f64) -> f64 {
    let sch = PgVp::default();
    let lmin = eig.iter().cloned().fold(f64::INFINITY, f64::min);
    sch.beta(eps) * (1.0 / marginal_variance(&sch, lmin, eps) - 1.0).abs()
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sp = Spec::load()?;
    let ns: Vec<usize> = ctx.scale.pick(
        vec![101, 201, 401],
        vec![51, 101, 201, 401, 801, 1601, 3201],
    );
    let eps_list: Vec<f64> = ctx.scale.pick(vec![1e-2], vec![1e-2, 1e-3]);
    let schemes = paper_schemes();
    let mut jobs: Vec<(Scheme, f64, usize)> = Vec::new();
    // At ε = 1e-3 the stiffness (N* ≈ 545) delays the asymptotic regime: go further in N at full scale.
    let ns_for = |e: f64| -> Vec<usize> {
        let mut v = ns.clone();
        if e == 1e-3 && ctx.scale == Scale::Full {
            v.extend([6401, 12801]);
        }
        v
    };
    for e in &eps_list {
        for s in &schemes {
            for n in ns_for(*e) {
                jobs.push((*s, *e, n));
            }
        }
    }
    let errs: Vec<f64> = jobs
        .par_iter()
        .map(|(s, e, n)| {
            let target = marginal(&sp.eig, *e);
            engine_law(s, &sp.data, *n, *e, Init::Pt)
                .map(|l| l.w2_to(&vec![0.0; sp.eig.len()], &target))
        })
        .collect::<Result<_>>()?;
    let mut table = Table::new(
        "",
        &[
            "scheme",
            "eps",
            "grid_points",
            "w2_discretisation",
            "local_slope",
        ],
    );
    let mut fits = Table::new(
        "fits",
        &[
            "scheme",
            "eps",
            "order",
            "n_from",
            "n_to",
            "slope",
            "slope_lo",
            "slope_hi",
            "last_local_slope",
            "extrapolated_slope",
            "stiffness_n",
            "holds_from_n",
        ],
    );
    let mut fig = Figure::new(
        "",
        "PG-ORDERS: discretisation error W2(scheme from p_T, p_ε) vs grid points",
        "grid points N",
        "W2 to p_ε (data units)",
    )
    .loglog();
    let (mut worst, mut worst_what) = (0.0_f64, String::new());
    let mut printed_worst = 0.0_f64;
    for &eps in &eps_list {
        let n_stiff = (T - eps) * stiffness(&sp.eig, eps);
        for s in &schemes {
            let order = match s.paper {
                Some(PaperScheme::Heun) => 2.0,
                Some(PaperScheme::Rk4) => 4.0,
                _ => 1.0,
            };
            let pts: Vec<(f64, f64)> = jobs
                .iter()
                .zip(&errs)
                .filter(|((js, je, _), _)| js.name == s.name && *je == eps)
                .map(|((_, _, n), w)| (*n as f64, *w))
                .collect();
            let local: Vec<f64> = pts
                .windows(2)
                .map(|w| -(w[1].1 / w[0].1).ln() / ((w[1].0 - 1.0) / (w[0].0 - 1.0)).ln())
                .collect();
            for (i, (n, w)) in pts.iter().enumerate() {
                let ls = if i == 0 { f64::NAN } else { local[i - 1] };
                table.push(vec![
                    s.name.into(),
                    eps.into(),
                    (*n as usize).into(),
                    (*w).into(),
                    if ls.is_nan() { "".into() } else { ls.into() },
                ]);
                if let Some((_, _, p)) = ORDERS_N801
                    .iter()
                    .find(|(e, nm, _)| *e == eps && *nm == s.name)
                {
                    if *n as usize == 801 && sp.authors {
                        printed_worst = printed_worst.max(miss(*w, p));
                    }
                }
            }
            // Fit over the last three points (steps = N − 1); the local slope moves towards p by a
            // pre-asymptotic term that roughly halves per doubling, so the last increment bounds what is left:
            // extrapolated = s_last + (s_last − s_prev), tolerance |s_last − s_prev| + 0.05.
            let tail = &pts[pts.len() - 3..];
            let fit = loglog_slope(
                &tail.iter().map(|p| p.0 - 1.0).collect::<Vec<_>>(),
                &tail.iter().map(|p| p.1).collect::<Vec<_>>(),
                tol::LEVEL,
            )?;
            let (sl, sp_) = (local[local.len() - 1], local[local.len() - 2]);
            let extrap = sl + (sl - sp_);
            let tolerance = (sl - sp_).abs() + SLOPE_SLACK;
            let m = (extrap - order).abs() / tolerance;
            if m > worst {
                worst = m;
                worst_what = format!("{} ε={}", s.name, eps_label(eps));
            }
            let holds_from = pts
                .iter()
                .enumerate()
                .skip(1)
                .find(|(i, _)| {
                    local[i - 1..]
                        .iter()
                        .all(|v| (v - order).abs() <= HOLDS_BAND)
                })
                .map(|(i, _)| pts[i - 1].0 as usize);
            fits.push(vec![
                s.name.into(),
                eps.into(),
                order.into(),
                (tail[0].0 as usize).into(),
                (tail[2].0 as usize).into(),
                (-fit.slope).into(),
                (-fit.hi).into(),
                (-fit.lo).into(),
                sl.into(),
                extrap.into(),
                n_stiff.into(),
                holds_from
                    .map(|n| Value::Int(n as i64))
                    .unwrap_or_else(|| "beyond range".into()),
            ]);
            fig = fig.with(Series::line(
                format!("{} ε={}", s.name, eps_label(eps)),
                pts,
            ));
        }
    }
    let detail = format!(
        "on {}; N ∈ {ns:?}, ε ∈ {eps_list:?}, init p_T; order accepted when the extrapolated local slope 2s_last − s_prev is within |s_last − s_prev| + 0.05 of p (measured = worst ratio, {worst_what}); stiffness: N* = (T−ε)·β_ε/λ_ε(λ_min) = {} at ε=1e-2{}: below N* the smallest eigenvalues make h|c| > 1 and the explicit schemes are pre-asymptotic (Heun's order 2 at ε = 1e-3 only from N ≈ 400, per the file); N=801 sample values vs the file: worst miss {printed_worst:.2} half-units{}",
        sp.what,
        ((T - 1e-2) * stiffness(&sp.eig, 1e-2)).round(),
        if eps_list.contains(&1e-3) { format!(", {} at ε=1e-3", ((T - 1e-3) * stiffness(&sp.eig, 1e-3)).round()) } else { String::new() },
        if ctx.scale == Scale::Quick || !sp.authors { " (not compared: quick scale or no authors' file)" } else { "" }
    );
    Ok(Evidence::within(worst, 1.0, detail)
        .require(
            printed_worst <= 1.0,
            "N = 801 sample errors differ from the file's printed values",
        )
        .table(table)
        .table(fits)
        .figure(fig))
}
