//! PG-DECOMP (Pierret & Galerne, ICML 2025, error sources): the total error splits exactly into
//! initialisation, discretisation and truncation; the triangle inequality and the paper's conclusions 2
//! and 4 on the authors' spectrum.

use super::common::{fig1_schemes, marginal, Spec};
use super::data::DECOMP_FLOOR_1E3;
use crate::claims::{Claim, Ctx, Evidence, Scale, Verdict};
use crate::evidence::{Figure, Series, Table};
use crate::metrics::kl_commuting;
use crate::pg::{self, engine_law_both_inits, w2_centred, PgLaw, Scheme};
use crate::tol;
use anyhow::Result;
use rayon::prelude::*;

/// Engine components vs the recursions: both are O(N) products of per-step factors (PG-TABLE's
/// `rec_tolerance`, 1e-12 per 1000 steps) and W2 amplifies relative variance errors by ½√λ_max/W2 ≲ 1e2 on
/// the CIFAR spectrum; 1e-9 covers both with margin.
const COMPONENT_TOL: f64 = 1e-9;
/// Denominator floor of a component's relative difference (components are ≥ 1e-4 where nonzero).
const COMPONENT_FLOOR: f64 = 1e-300;

pub(super) fn claim() -> Claim {
    Claim {
    id: "PG-DECOMP",
    family: super::FAMILY,
    source: "Pierret & Galerne, ICML 2025 (error sources; conclusions 2 and 4)",
    statement: "The total error W2(output from N(0,I), p_0) splits into initialisation W2(out_N0, out_pT), discretisation W2(out_pT, p_ε) and truncation W2(p_ε, p_0), each exact; total ≤ their sum (triangle inequality); truncation dominates at ε = 1e-3 (every scheme ≥ 0.178 on CIFAR); at equal NFE the SDE schemes (EM, EI, DDPM) have larger discretisation error than Euler and Heun.",
    check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sp = Spec::load()?;
    let eps_list: Vec<f64> = ctx.scale.pick(vec![1e-3], vec![1e-5, 1e-4, 1e-3, 1e-2]);
    let schemes: Vec<(Scheme, usize)> = fig1_schemes(ctx.scale == Scale::Full);
    let jobs: Vec<(Scheme, usize, f64)> = eps_list
        .iter()
        .flat_map(|e| schemes.iter().map(move |(s, n)| (*s, *n, *e)))
        .filter(|(s, _, e)| pg::defined_at(s, *e))
        .collect();
    let laws: Vec<(PgLaw, PgLaw)> = jobs
        .par_iter()
        .map(|(s, n, e)| engine_law_both_inits(s, &sp.data, *n, *e))
        .collect::<Result<_>>()?;
    let z = vec![0.0; sp.eig.len()];
    let mut table = Table::new(
        "",
        &[
            "scheme",
            "grid_points",
            "eps",
            "init_err",
            "disc_err",
            "trunc_err",
            "sum",
            "total",
            "kl_total_to_p_eps",
            "kl_pt_to_p_eps",
        ],
    );
    let mut triangle_ok = true;
    let mut worst_excess = f64::NEG_INFINITY;
    let mut fig = Figure::new(
        "",
        "PG-DECOMP: error components at NFE 1000, ε = 1e-3, N(0,I) init",
        "scheme index",
        "W2 (data units)",
    )
    .logy();
    let (mut f_i, mut f_d, mut f_t, mut f_tot) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut trunc_dominates = true;
    let mut not_dominated: Vec<&str> = Vec::new();
    let mut sde_vs_ode = true;
    let mut disc_at: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut min_total_1e3 = f64::INFINITY;
    let (mut component_gap, mut checked_components): (f64, usize) = (0.0, 0);
    for (i, ((s, n, eps), (pt, n0))) in jobs.iter().zip(&laws).enumerate() {
        let p_eps = marginal(&sp.eig, *eps);
        let (vp, vn) = (pt.variance().unwrap(), n0.variance().unwrap());
        let init_e = w2_centred(vn, vp);
        let disc = w2_centred(vp, &p_eps);
        let trunc = w2_centred(&p_eps, &sp.eig);
        let total = w2_centred(vn, &sp.eig);
        let sum = init_e + disc + trunc;
        // Each component against the paper's independent per-eigenvalue recursions (both inits).
        if let Some(p) = s.paper {
            let rp = pg::recursion_variance(p, &sp.eig, *n, *eps, pg::Init::Pt)?;
            let rn = pg::recursion_variance(p, &sp.eig, *n, *eps, pg::Init::N0)?;
            for (engine, recursion) in [
                (init_e, w2_centred(&rn, &rp)),
                (disc, w2_centred(&rp, &p_eps)),
                (total, w2_centred(&rn, &sp.eig)),
            ] {
                if engine.is_finite() || recursion.is_finite() {
                    component_gap = component_gap
                        .max((engine - recursion).abs() / recursion.abs().max(COMPONENT_FLOOR));
                }
            }
            checked_components += 3;
        }
        let excess = (total - sum) / total.max(1e-300);
        worst_excess = worst_excess.max(excess);
        // Round-off of W2 sums over the spectrum: relative tol::IDENTITY.
        triangle_ok &= total <= sum * (1.0 + tol::IDENTITY);
        let (kl_tot, kl_pt) = (
            kl_commuting(&z, vn, &z, &p_eps),
            kl_commuting(&z, vp, &z, &p_eps),
        );
        table.push(vec![
            s.name.into(),
            (*n).into(),
            (*eps).into(),
            init_e.into(),
            disc.into(),
            trunc.into(),
            sum.into(),
            total.into(),
            kl_tot.into(),
            kl_pt.into(),
        ]);
        if *eps == 1e-3 {
            let x = i as f64;
            f_i.push((x, init_e));
            f_d.push((x, disc));
            f_t.push((x, trunc));
            f_tot.push((x, total));
            if !(trunc >= disc && trunc >= init_e) {
                trunc_dominates = false;
                not_dominated.push(s.name);
            }
            min_total_1e3 = min_total_1e3.min(total);
            disc_at.insert(s.name, disc);
        }
    }
    for name in ["em", "ei", "ddpm"] {
        for ode in ["euler", "heun"] {
            sde_vs_ode &= disc_at[name] > disc_at[ode];
        }
    }
    fig = fig
        .with(Series::line("initialisation", f_i))
        .with(Series::line("discretisation", f_d))
        .with(Series::line("truncation", f_t))
        .with(Series::line("total", f_tot));
    let concl = format!(
        "at ε = 1e-3: truncation the largest component for every scheme: {trunc_dominates} (exceptions: {not_dominated:?}: their discretisation error exceeds it — 'dominates' holds only in the paper's weaker sense below); smallest total {min_total_1e3:.4} (paper: every scheme ≥ 0.178); discretisation EM/EI/DDPM > Euler/Heun: {sde_vs_ode} ({})",
        disc_at.iter().map(|(k, v)| format!("{k} {v:.3e}")).collect::<Vec<_>>().join(", ")
    );
    let mut ev = Evidence::within(
        worst_excess.max(0.0),
        tol::IDENTITY,
        format!(
            "on {}; NFE 1000 (Heun N=500, RK4 N=250), ε ∈ {eps_list:?}; every component exact (init = W2(out_N0, out_pT), disc = W2(out_pT, p_ε), trunc = W2(p_ε, p_0)); triangle inequality total ≤ sum holds (measured = max (total − sum)/total, must be ≤ 1e-12; worst {worst_excess:.2e}); {concl}; KL(out ‖ p_ε) reported (KL to p_0 is +∞: Σ is singular)",
            sp.what
        ),
    )
    .require(triangle_ok, "triangle inequality violated")
    .require(checked_components > 0, "no component was checked against the recursions")
    .require(
        component_gap <= COMPONENT_TOL,
        "a component differs from the paper's per-eigenvalue recursions",
    );
    ev.detail.push_str(&format!(
        "; {checked_components} components (init, disc, total of the paper's schemes) against the paper's per-eigenvalue recursions: max rel diff {component_gap:.1e} (≤ 1e-9)"
    ));
    if sp.authors {
        ev = ev
            .require(
                min_total_1e3 >= DECOMP_FLOOR_1E3,
                "some scheme beats 0.178 at ε = 1e-3",
            )
            .require(
                sde_vs_ode,
                "an SDE scheme has less discretisation error than Euler/Heun",
            );
        // The paper's 'truncation dominates at ε = 1e-3' as its own verdict: false as stated where a
        // scheme's discretisation error exceeds its truncation error; the weaker sense (every total ≥
        // 0.178, the truncation floor shared by all) is what the gates above hold.
        if ev.verdict == Verdict::Pass && !trunc_dominates {
            ev.verdict = Verdict::Refuted;
            ev.detail.push_str(&format!(
                "; REFUTED as stated: truncation is not the largest component for {not_dominated:?}; it holds in the weaker sense that every scheme's total stays ≥ {DECOMP_FLOOR_1E3}"
            ));
        }
    }
    Ok(ev.table(table).figure(fig))
}
