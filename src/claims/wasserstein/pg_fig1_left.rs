//! PG-FIG1-LEFT (Pierret & Galerne, ICML 2025, Fig. 1 left): W2(sampler at t, p_t) along t at NFE 1000,
//! ε = 0, from N(0, I), against the values read in PIERRET-GALERNE.md. SKIPPED without the authors'
//! spectrum (it compares nothing else).

use super::common::{exact_from_n0, fig1_schemes, half_unit, marginal, miss, Spec};
use super::data::{
    FIG1_LEFT_DDPM_DIP, FIG1_LEFT_ENDS, FIG1_LEFT_ODE, FIG1_LEFT_SDE, FIG1_LEFT_SDE_MIN,
    FIG1_LEFT_START,
};
use crate::claims::{Claim, Ctx, Evidence, Scale};
use crate::evidence::{Figure, Series, Table};
use crate::pg::{self, engine_path, w2_centred, Init, PgLaw, Scheme, T};
use anyhow::Result;
use rayon::prelude::*;

/// Golden-section ratio (√5 − 1)/2 of the search for the SDE curve's minimum.
const GOLDEN: f64 = 0.618_034;

/// "Heun and RK4 lie on the ODE curve" is measured on t ≥ this (reported, not gated): both end at +∞ at
/// t = 0 (score at σ = 0 on a zero eigenvalue), so the gap is taken away from the end.
const ON_CURVE_FROM: f64 = 0.05;

pub(super) fn claim() -> Claim {
    Claim {
    id: "PG-FIG1-LEFT",
    family: super::FAMILY,
    source: "Pierret & Galerne, ICML 2025, Fig. 1 left",
    statement: "W2(sampler at forward time t, p_t) along t, NFE 1000, ε = 0, N(0,I): every curve starts at 5.467e-3; continuous SDE 4.86e-4 at t=0.25, 2.03e-4 at 0.5, minimum ≈1.18e-4 near t≈0.68, 6.68e-4 at 0; ODE 6.92e-3, 2.12e-2, 5.29e-2, 7.30e-2 at 0.75, 0.5, 0.25, 0; Euler ends ≈0.167, EM/EI ≈0.16, DDPM ≈0.23 after dipping to ≈7e-4 near t≈0.85; Heun and RK4 lie on the ODE curve.",
    check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sp = match Spec::authors_or_skip("PG-FIG1-LEFT")? {
        Ok(sp) => sp,
        Err(skipped) => return Ok(skipped),
    };
    let schemes: Vec<(Scheme, usize)> = fig1_schemes(ctx.scale == Scale::Full)
        .into_iter()
        .filter(|(s, _)| pg::defined_at(s, 0.0))
        .collect();
    let paths: Vec<Vec<(f64, PgLaw)>> = schemes
        .par_iter()
        .map(|(s, n)| engine_path(s, &sp.data, *n, 0.0, Init::N0))
        .collect::<Result<_>>()?;
    let w2_at = |law: &PgLaw, s: f64| {
        let m = vec![0.0; sp.eig.len()];
        law.w2_to(&m, &marginal(&sp.eig, s))
    };
    let cont =
        |s: f64, sde: bool| w2_centred(&exact_from_n0(&sp.eig, s, sde), &marginal(&sp.eig, s));
    let mut table = Table::new("", &["scheme", "grid_points", "k", "t", "w2"]);
    let mut fig = Figure::new(
        "",
        "PG-FIG1-LEFT: W2(sampler at t, p_t), NFE 1000, ε = 0, N(0,I)",
        "forward time t (T = 1)",
        "W2 to p_t (data units)",
    )
    .logy();
    let mut curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for ((s, n), path) in schemes.iter().zip(&paths) {
        let pts: Vec<(f64, f64)> = path.iter().map(|(t, l)| (*t, w2_at(l, *t))).collect();
        let stride = ctx.scale.pick(10, 1).min(pts.len());
        for (k, (t, w)) in pts.iter().enumerate() {
            if k % stride == 0 || k + 1 == pts.len() {
                table.push(vec![
                    s.name.into(),
                    (*n).into(),
                    k.into(),
                    (*t).into(),
                    (*w).into(),
                ]);
            }
        }
        curves.push((s.name.to_string(), pts));
    }
    let fine = ctx.scale.pick(2000, 20000);
    let mut sde_pts = Vec::new();
    let mut ode_pts = Vec::new();
    for k in 0..=fine {
        let t = T * k as f64 / fine as f64;
        sde_pts.push((t, cont(t, true)));
        ode_pts.push((t, cont(t, false)));
    }
    for (name, pts) in [("sde (exact)", &sde_pts), ("ode (exact)", &ode_pts)] {
        for (k, (t, w)) in pts.iter().enumerate() {
            if k % ctx.scale.pick(20, 100) == 0 {
                table.push(vec![
                    name.into(),
                    "".into(),
                    k.into(),
                    (*t).into(),
                    (*w).into(),
                ]);
            }
        }
    }
    for (name, pts) in &curves {
        fig = fig.with(Series::line(name.clone(), pts.clone()));
    }
    fig = fig
        .with(Series::reference("SDE exact", sde_pts.clone()))
        .with(Series::reference("ODE exact", ode_pts.clone()));

    // The checks: (what, computed, printed).
    let mut checks: Vec<(String, f64, String)> = Vec::new();
    let curve = |name: &str| &curves.iter().find(|(n, _)| n == name).expect("curve").1;
    for (name, pts) in &curves {
        checks.push((
            format!("{name} starts (t=T)"),
            pts[0].1,
            FIG1_LEFT_START.into(),
        ));
    }
    for (t, p) in FIG1_LEFT_SDE {
        checks.push((format!("SDE at t={t}"), cont(t, true), p.into()));
    }
    // The SDE minimum, by golden-section search on the closed form.
    let (mut a, mut b) = (0.5_f64, 0.85_f64);
    for _ in 0..100 {
        let (c1, c2) = (b - GOLDEN * (b - a), a + GOLDEN * (b - a));
        if cont(c1, true) < cont(c2, true) {
            b = c2;
        } else {
            a = c1;
        }
    }
    let t_min = 0.5 * (a + b);
    checks.push((
        "SDE minimum value".into(),
        cont(t_min, true),
        FIG1_LEFT_SDE_MIN.0.into(),
    ));
    checks.push((
        "SDE argmin (≈0.68)".into(),
        t_min,
        FIG1_LEFT_SDE_MIN.1.into(),
    ));
    for (t, p) in FIG1_LEFT_ODE {
        checks.push((format!("ODE at t={t}"), cont(t, false), p.into()));
    }
    let last = |name: &str| curve(name).last().expect("point").1;
    for (what, name, p) in FIG1_LEFT_ENDS {
        checks.push((what.into(), last(name), p.into()));
    }
    checks.push((
        "Heun ends (ε=0, zero eigenvalues)".into(),
        last("heun"),
        "−".into(),
    ));
    checks.push((
        "RK4 ends (ε=0, zero eigenvalues)".into(),
        last("rk4"),
        "−".into(),
    ));
    let (dip_t, dip_w) =
        curve("ddpm")
            .iter()
            .filter(|(t, _)| *t > 0.5)
            .fold((0.0, f64::INFINITY), |acc, (t, w)| {
                if *w < acc.1 {
                    (*t, *w)
                } else {
                    acc
                }
            });
    // Figure-read (the file: "about 7e-4 around t ≈ 0.85, in the figure"): reported, not gated; the
    // minimum is flat (7.0e-4 at 0.85 vs 6.93e-4 at 0.84), so a plot reading cannot pin its location.
    checks.push((
        "DDPM dip value (figure-read, reported)".into(),
        dip_w,
        FIG1_LEFT_DDPM_DIP.0.into(),
    ));
    checks.push((
        "DDPM dip location (figure-read ≈0.85, reported)".into(),
        dip_t,
        FIG1_LEFT_DDPM_DIP.1.into(),
    ));

    let mut ctab = Table::new(
        "checks",
        &["check", "computed", "printed", "half_unit", "within"],
    );
    let (mut worst, mut worst_what) = (0.0_f64, String::new());
    for (what, v, p) in &checks {
        let m = miss(*v, p);
        let gated = !what.contains("reported");
        if gated && m > worst {
            worst = m;
            worst_what = what.clone();
        }
        ctab.push(vec![
            what.as_str().into(),
            (*v).into(),
            p.as_str().into(),
            half_unit(p).into(),
            (if !gated {
                "reported"
            } else if m <= 1.0 {
                "yes"
            } else {
                "NO"
            })
            .into(),
        ]);
    }
    // "Heun and RK4 lie on top of the ODE curve": the largest relative gap on t ≥ 0.05 (reported).
    let gap = |name: &str| {
        curve(name)
            .iter()
            .filter(|(t, _)| *t >= ON_CURVE_FROM)
            .map(|(t, w)| (w - cont(*t, false)).abs() / cont(*t, false))
            .fold(0.0, f64::max)
    };
    let (gh, gr) = (gap("heun"), gap("rk4"));
    let detail = format!(
        "on {}; {} checks (2 figure-read DDPM-dip values reported only: dip {dip_w:.3e} at t = {dip_t:.3}), worst |computed − printed|/half-unit = {worst:.2} ({worst_what}); SDE minimum {:.4e} at t = {t_min:.4}; Heun/RK4 vs exact ODE curve, max relative gap on t ≥ 0.05: {gh:.2e} / {gr:.2e}; Heun and RK4 end at +∞ (score at σ = 0 on a zero eigenvalue, detected explicitly)",
        sp.what,
        checks.len(),
        cont(t_min, true)
    );
    Ok(Evidence::within(worst, 1.0, detail)
        .table(table)
        .table(ctab)
        .figure(fig))
}
