//! Claims of the `wasserstein` family: Pierret & Galerne (ICML 2025), "Diffusion models for Gaussian
//! distributions: exact solutions and Wasserstein errors", reproduced through the exact-law engine
//! (PG-TABLE, PG-FIG1-LEFT, PG-FIG1-RIGHT, PG-PROP, PG-ORDERS), and taken further (PG-DECOMP, PG-BEYOND,
//! FM-7). Published numbers: shared/PIERRET-GALERNE.md. "Reproduced to printed precision" means
//! |computed − printed| ≤ half a unit in the last printed digit (a printed "0" must be exactly 0, "−" = +∞).
//!
//! Where the authors' eigenvalue file is absent the claims run on a synthetic spectrum, say so in their
//! detail, and compare nothing published: their verdict then covers only the checks that do not need the
//! authors' numbers (engine vs recursion, inequalities, orders), and the detail says the comparison was
//! skipped.

use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table, Value};
use crate::metrics::{kl_commuting, loglog_slope, w2_commuting, w2_gaussian};
use crate::metrics::{sqrtm_denman_beavers, w2_bures_db};
use crate::pg::{
    self, engine_law, engine_law_both_inits, engine_path, forward_grid, grid_points_for_nfe,
    marginal_variance, ode_variance_from_n0, paper_schemes, recursion_variance,
    sde_variance_from_n0, w2_centred, HeunBudget, Init, PaperScheme, PgLaw, PgVp, Scheme, T,
};
use crate::schedule::{Schedule, VpLinear};
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "PG-TABLE",
            family: "wasserstein",
            source: "Pierret & Galerne, ICML 2025, ablation table (README 'Table 5'); PIERRET-GALERNE.md",
            statement: "Every cell of the ICML table (EM, EI, DDPM, Euler, Heun*, RK4 × ε ∈ {0,1e-5,1e-4,1e-3} × NFE ∈ {50,250,500,1000} × init p_T/N(0,I), plus the continuous columns) is reproduced to its printed precision by the exact-law engine, '−' cells are +∞, Heun* uses N = NFE grid points (the authors' bug); correctly budgeted Heun (N = NFE/2) matches the recomputed values; the engine agrees with the paper's per-eigenvalue variance recursions.",
            check: pg_table,
        },
        Claim {
            id: "PG-FIG1-LEFT",
            family: "wasserstein",
            source: "Pierret & Galerne, ICML 2025, Fig. 1 left",
            statement: "W2(sampler at forward time t, p_t) along t, NFE 1000, ε = 0, N(0,I): every curve starts at 5.467e-3; continuous SDE 4.86e-4 at t=0.25, 2.03e-4 at 0.5, minimum ≈1.18e-4 near t≈0.68, 6.68e-4 at 0; ODE 6.92e-3, 2.12e-2, 5.29e-2, 7.30e-2 at 0.75, 0.5, 0.25, 0; Euler ends ≈0.167, EM/EI ≈0.16, DDPM ≈0.23 after dipping to ≈7e-4 near t≈0.85; Heun and RK4 lie on the ODE curve.",
            check: pg_fig1_left,
        },
        Claim {
            id: "PG-FIG1-RIGHT",
            family: "wasserstein",
            source: "Pierret & Galerne, ICML 2025, Fig. 1 right",
            statement: "W2(output, p_0) against ε ∈ {0,1e-5,1e-4,1e-3,1e-2}, NFE 1000 (Heun N=500, RK4 N=250), N(0,I): the file's table of values for SDE, ODE, EM, EI, DDPM, Euler, Heun, RK4.",
            check: pg_fig1_right,
        },
        Claim {
            id: "PG-PROP",
            family: "wasserstein",
            source: "Pierret & Galerne, ICML 2025, poster Prop. 2 / slides Prop. 5",
            statement: "W2(p_t^SDE, p_t) ≤ W2(p_t^ODE, p_t) for every t, both samplers exact and started from N(0,I): the SDE is less affected by the initialisation error (per eigenvalue, hence for every spectrum).",
            check: pg_prop,
        },
        Claim {
            id: "PG-ORDERS",
            family: "wasserstein",
            source: "PIERRET-GALERNE.md 'Convergence orders (recomputed)'; classical ODE/SDE theory",
            statement: "The discretisation-only error W2(scheme from p_T, p_ε) decays like N^{−p}: p = 1 for EM, EI, DDPM, Euler; 2 for Heun; 4 for RK4 — once N is large enough that h·max|c| ≲ 1 (the smallest eigenvalues make the ODE stiff near ε and delay the asymptotic regime).",
            check: pg_orders,
        },
        Claim {
            id: "PG-DECOMP",
            family: "wasserstein",
            source: "Pierret & Galerne, ICML 2025 (error sources; conclusions 2 and 4)",
            statement: "The total error W2(output from N(0,I), p_0) splits into initialisation W2(out_N0, out_pT), discretisation W2(out_pT, p_ε) and truncation W2(p_ε, p_0), each exact; total ≤ their sum (triangle inequality); truncation dominates at ε = 1e-3 (every scheme ≥ 0.178 on CIFAR); at equal NFE the SDE schemes (EM, EI, DDPM) have larger discretisation error than Euler and Heun.",
            check: pg_decomp,
        },
        Claim {
            id: "PG-BEYOND",
            family: "wasserstein",
            source: "beyond Pierret & Galerne: μ ≠ 0, non-commuting covariances, KL",
            statement: "With μ ≠ 0 the engine's exact means follow the paper's linear recursions with the offset α_t μ (EM, Euler) and W2 includes the mean term; with a model whose eigenbasis is rotated from the data's, the output law does not commute with Σ and its W2 (Bures, metrics::w2_gaussian) agrees with an independent Denman–Beavers square-root route (and differs from the commuting formula); KL is reported alongside.",
            check: pg_beyond,
        },
        Claim {
            id: "FM-7",
            family: "wasserstein",
            source: "PDM §7.5 (title); Pierret & Galerne Prop. 1 (ODE map Σ_T^{-1/2}Σ_{T-t}^{1/2})",
            statement: "For Gaussian data the exact PF-ODE map Ψ_{s→t} between p_s and p_t is linear, symmetric positive-definite, hence the Monge map: it equals the Bures OT map T = A^{−1/2}(A^{1/2}BA^{1/2})^{1/2}A^{−1/2} (A = Σ_s, B = Σ_t) on a non-diagonal Σ.",
            check: fm7,
        },
    ]
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers.

/// The spectrum the claims run on, and whether it is the authors'.
struct Spec {
    eig: Vec<f64>,
    what: String,
    authors: bool,
    data: crate::target::Gaussian,
}

fn spec() -> Result<Spec> {
    let (eig, what, authors) = pg::pg_spectrum()?;
    let data = pg::data_law(&eig, None)?;
    Ok(Spec {
        eig,
        what,
        authors,
        data,
    })
}

/// Half a unit in the last printed digit of `printed` ("4.78" → 0.005, "6.7E-04" → 5e-6); a printed "0"
/// is exact (0).
pub fn half_unit(printed: &str) -> f64 {
    let (mant, exp) = match printed.find(['E', 'e']) {
        Some(i) => (&printed[..i], printed[i + 1..].parse::<i32>().unwrap_or(0)),
        None => (printed, 0),
    };
    if mant.parse::<f64>().ok() == Some(0.0) && !mant.contains('.') {
        return 0.0;
    }
    let decimals = mant.find('.').map(|i| mant.len() - i - 1).unwrap_or(0) as i32;
    0.5 * 10f64.powi(exp - decimals)
}

/// Printed cell → value ("−"/"-"/"inf" = +∞).
fn printed_value(p: &str) -> f64 {
    match p {
        "−" | "-" | "inf" => f64::INFINITY,
        _ => p.parse().expect("a published number"),
    }
}

/// |computed − printed| in units of the half-unit (0 if equal, +∞ if one is infinite and not the other).
fn miss(computed: f64, printed: &str) -> f64 {
    let p = printed_value(printed);
    if p.is_infinite() || computed.is_infinite() {
        return if p == computed { 0.0 } else { f64::INFINITY };
    }
    let hu = half_unit(printed);
    let d = (computed - p).abs();
    if hu == 0.0 {
        if d == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        // A relative 1e-9 slack for the binary representation of the printed decimal.
        d / (hu * (1.0 + 1e-9))
    }
}

/// Max relative difference between engine and recursion variances (both +∞ counts as agreement).
fn var_rel_diff(engine: &PgLaw, rec: &[f64]) -> f64 {
    match engine {
        PgLaw::Divergent { .. } => {
            if rec.iter().any(|v| v.is_infinite()) {
                0.0
            } else {
                f64::INFINITY
            }
        }
        PgLaw::Exact { variance, .. } => variance
            .iter()
            .zip(rec)
            .map(|(a, b)| {
                if a == b {
                    0.0
                } else {
                    (a - b).abs() / b.abs().max(1e-300)
                }
            })
            .fold(0.0, f64::max),
    }
}

fn scheme(name: &str) -> Scheme {
    pg::scheme_by_name(name).expect("a registered scheme")
}

fn eps_label(eps: f64) -> String {
    if eps == 0.0 {
        "0".into()
    } else {
        format!("{eps:e}")
    }
}

/// Tolerance of engine vs recursion: both are O(N) chains of products of per-step factors, each
/// rounded to a few ulps; the relative error grows like N·u times the conditioning of a factor, which is
/// |1 + hc| small against |hc| where the ODE is stiff. We take 1e-12 · max(1, N/1000) · κ with κ the largest
/// |h c|/|1 + h c| met (stated per cell), and at least tol::IDENTITY.
fn rec_tolerance(steps: usize) -> f64 {
    tol::IDENTITY * (steps as f64 / 1000.0).max(1.0)
}

// ---------------------------------------------------------------------------------------------------
// PG-TABLE.

/// The ICML table as printed: (scheme, ε, continuous p_T, continuous N_0, [NFE 50 p_T, 50 N_0, 250 p_T,
/// 250 N_0, 500 p_T, 500 N_0, 1000 p_T, 1000 N_0]). "" = not printed; "−" = infinite.
#[allow(clippy::type_complexity)]
const ICML: &[(&str, f64, &str, &str, [&str; 8])] = &[
    (
        "em",
        0.0,
        "0",
        "6.7E-04",
        [
            "4.78", "4.78", "0.65", "0.66", "0.32", "0.32", "0.16", "0.16",
        ],
    ),
    (
        "em",
        1e-5,
        "4.1E-03",
        "4.2E-03",
        [
            "4.77", "4.77", "0.66", "0.66", "0.32", "0.32", "0.16", "0.16",
        ],
    ),
    (
        "em",
        1e-4,
        "0.03",
        "0.03",
        [
            "4.76", "4.76", "0.66", "0.66", "0.32", "0.32", "0.17", "0.17",
        ],
    ),
    (
        "em",
        1e-3,
        "0.18",
        "0.18",
        [
            "4.68", "4.68", "0.70", "0.70", "0.40", "0.40", "0.27", "0.27",
        ],
    ),
    (
        "ei",
        0.0,
        "",
        "",
        [
            "2.81", "2.81", "0.57", "0.57", "0.30", "0.30", "0.16", "0.16",
        ],
    ),
    (
        "ei",
        1e-5,
        "",
        "",
        [
            "2.81", "2.81", "0.57", "0.57", "0.30", "0.30", "0.16", "0.16",
        ],
    ),
    (
        "ei",
        1e-4,
        "",
        "",
        [
            "2.82", "2.82", "0.58", "0.58", "0.31", "0.31", "0.17", "0.17",
        ],
    ),
    (
        "ei",
        1e-3,
        "",
        "",
        [
            "2.91", "2.91", "0.67", "0.67", "0.41", "0.41", "0.29", "0.29",
        ],
    ),
    (
        "ddpm",
        0.0,
        "",
        "",
        [
            "6.82", "6.82", "0.97", "0.97", "0.47", "0.47", "0.23", "0.23",
        ],
    ),
    (
        "ddpm",
        1e-5,
        "",
        "",
        [
            "6.82", "6.82", "0.97", "0.97", "0.47", "0.47", "0.24", "0.23",
        ],
    ),
    (
        "ddpm",
        1e-4,
        "",
        "",
        [
            "6.81", "6.81", "0.98", "0.98", "0.47", "0.47", "0.24", "0.24",
        ],
    ),
    (
        "ddpm",
        1e-3,
        "",
        "",
        [
            "6.74", "6.74", "1.00", "1.00", "0.53", "0.53", "0.32", "0.32",
        ],
    ),
    (
        "euler",
        0.0,
        "0",
        "0.07",
        [
            "1.72", "1.78", "0.38", "0.44", "0.20", "0.26", "0.10", "0.17",
        ],
    ),
    (
        "euler",
        1e-5,
        "4.1E-03",
        "0.07",
        [
            "1.72", "1.78", "0.38", "0.44", "0.20", "0.26", "0.10", "0.17",
        ],
    ),
    (
        "euler",
        1e-4,
        "0.03",
        "0.08",
        [
            "1.72", "1.78", "0.38", "0.44", "0.20", "0.26", "0.11", "0.17",
        ],
    ),
    (
        "euler",
        1e-3,
        "0.18",
        "0.19",
        [
            "1.73", "1.79", "0.42", "0.48", "0.27", "0.32", "0.21", "0.25",
        ],
    ),
    (
        "heun",
        0.0,
        "",
        "",
        ["−", "−", "−", "−", "−", "−", "−", "−"],
    ),
    (
        "heun",
        1e-5,
        "",
        "",
        [
            "23.42", "23.42", "2.86", "2.87", "1.05", "1.06", "0.37", "0.38",
        ],
    ),
    (
        "heun",
        1e-4,
        "",
        "",
        [
            "4.68", "4.68", "0.43", "0.44", "0.12", "0.14", "0.03", "0.08",
        ],
    ),
    (
        "heun",
        1e-3,
        "",
        "",
        [
            "0.58", "0.59", "0.13", "0.15", "0.16", "0.18", "0.17", "0.19",
        ],
    ),
    ("rk4", 0.0, "", "", ["−", "−", "−", "−", "−", "−", "−", "−"]),
    (
        "rk4",
        1e-5,
        "",
        "",
        [
            "67.32", "67.32", "5.49", "5.49", "2.11", "2.11", "0.77", "0.77",
        ],
    ),
    (
        "rk4",
        1e-4,
        "",
        "",
        [
            "14.35", "14.35", "0.93", "0.93", "0.29", "0.29", "0.07", "0.10",
        ],
    ),
    (
        "rk4",
        1e-3,
        "",
        "",
        [
            "2.60", "2.60", "0.09", "0.12", "0.15", "0.17", "0.17", "0.19",
        ],
    ),
];

/// Correctly budgeted Heun (N = NFE/2), N(0,I), recomputed in PIERRET-GALERNE.md: (ε, [NFE 50, 250, 500, 1000]).
const HEUN_BUDGETED: &[(f64, [&str; 4])] = &[
    (1e-5, ["56.26", "7.35", "2.87", "1.06"]),
    (1e-4, ["11.72", "1.32", "0.44", "0.14"]),
    (1e-3, ["2.05", "0.147", "0.149", "0.179"]),
];

/// A PG-TABLE job: scheme, ε, NFE, init, printed cell, Heun bookkeeping.
type TableJob = (Scheme, f64, usize, Init, Option<&'static str>, HeunBudget);
type Points = Vec<(f64, f64)>;

/// One computed cell: engine law, W2, recursion W2, agreement.
struct Computed {
    w2: f64,
    w2_rec: f64,
    rel_var: f64,
    steps: usize,
}

fn compare_cell(
    s: &Scheme,
    law: &PgLaw,
    eig: &[f64],
    n: usize,
    eps: f64,
    init: Init,
) -> Result<Computed> {
    let w2 = law.w2_to(&vec![0.0; eig.len()], eig);
    let (w2_rec, rel_var) = match s.paper {
        Some(p) => {
            let rec = recursion_variance(p, eig, n, eps, init)?;
            let w = if rec.iter().any(|v| v.is_infinite()) {
                f64::INFINITY
            } else {
                w2_centred(&rec, eig)
            };
            (w, var_rel_diff(law, &rec))
        }
        None => (f64::NAN, f64::NAN),
    };
    Ok(Computed {
        w2,
        w2_rec,
        rel_var,
        steps: n - 1,
    })
}

fn pg_table(ctx: &Ctx) -> Result<Evidence> {
    let sp = spec()?;
    let nfes: Vec<usize> = ctx.scale.pick(vec![50, 250], pg::TABLE_NFE.to_vec());
    // Cells: (row index into ICML or extra scheme, ε, nfe, init).
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
    if ctx.scale == super::Scale::Full {
        for s in pg::extra_schemes() {
            for eps in pg::TABLE_EPS.into_iter().filter(|e| pg::defined_at(&s, *e)) {
                for nfe in &nfes {
                    for init in [Init::Pt, Init::N0] {
                        jobs.push((s, eps, *nfe, init, None, HeunBudget::TableBug));
                    }
                }
            }
        }
    }
    // Jobs differing only by their initialisation share one engine run (pg::engine_law_both_inits).
    let mut groups: Vec<(Scheme, f64, usize)> = Vec::new();
    for (s, eps, nfe, _, _, hb) in &jobs {
        let key = (*s, *eps, grid_points_for_nfe(s, *nfe, *hb));
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let laws: Vec<(PgLaw, PgLaw)> = groups
        .par_iter()
        .map(|(s, eps, n)| engine_law_both_inits(s, &sp.data, *n, *eps))
        .collect::<Result<_>>()?;
    let results: Vec<Computed> = jobs
        .par_iter()
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
        .collect::<Result<_>>()?;
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
    let (mut worst_miss, mut worst_what, mut compared, mut reproduced) =
        (0.0_f64, String::new(), 0, 0);
    let mut worst_rec = 0.0_f64;
    let mut rec_ok = true;
    let lam_max = sp.eig.iter().cloned().fold(0.0, f64::max);
    let mut fig = Figure::new(
        "",
        "PG-TABLE: W2(output, p_data) vs NFE, ε = 1e-4, N(0,I) (dashed: printed)",
        "NFE",
        "W2 to p_data",
    )
    .loglog();
    let mut curves: std::collections::BTreeMap<String, (Points, Points)> = Default::default();
    for ((s, eps, nfe, init, printed, hb), c) in jobs.iter().zip(&results) {
        let n = grid_points_for_nfe(s, *nfe, *hb);
        if s.paper.is_some() {
            // W2 engine vs recursion (both +∞ in the '−' cells).
            let rel = if c.w2 == c.w2_rec {
                0.0
            } else {
                (c.w2 - c.w2_rec).abs() / c.w2_rec.abs()
            };
            // Conditioning of W2 in relative variance errors: ∂W2/∂(δv_i/v_i) ≤ ½√v_i/W2.
            let kappa = (0.5 * lam_max.sqrt() / c.w2_rec).max(1.0);
            let tol_rec = rec_tolerance(c.steps) * if kappa.is_finite() { kappa } else { 1.0 };
            worst_rec = worst_rec.max(rel / tol_rec * tol::IDENTITY);
            rec_ok &= rel <= tol_rec;
        }
        let (pr, hu, diff, ok) = match printed {
            Some(p) if sp.authors => {
                let m = miss(c.w2, p);
                compared += 1;
                if m <= 1.0 {
                    reproduced += 1;
                }
                if m > worst_miss || worst_what.is_empty() {
                    worst_miss = m;
                    worst_what = format!(
                        "{} ε={} NFE={} {}",
                        s.name,
                        eps_label(*eps),
                        nfe,
                        init.name()
                    );
                }
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

    // Continuous columns: truncation W2(p_ε, p_0) (p_T column), exact SDE (EM rows) and ODE (Euler rows)
    // from N(0,I) (N_0 column).
    let sch = PgVp::default();
    let mut cont = Table::new(
        "continuous",
        &[
            "row",
            "column",
            "eps",
            "w2",
            "printed",
            "half_unit",
            "abs_diff",
            "reproduced",
        ],
    );
    for (name, eps, c_pt, c_n0, _) in ICML {
        if c_pt.is_empty() {
            continue;
        }
        let p_eps: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| marginal_variance(&sch, l, *eps))
            .collect();
        let trunc = w2_centred(&p_eps, &sp.eig);
        let n0: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| {
                if *name == "em" {
                    sde_variance_from_n0(&sch, l, *eps)
                } else {
                    ode_variance_from_n0(&sch, l, *eps)
                }
            })
            .collect();
        let w_n0 = w2_centred(&n0, &sp.eig);
        for (col, w, p) in [("p_T (truncation)", trunc, *c_pt), ("N_0", w_n0, *c_n0)] {
            let which = if *name == "em" { "sde" } else { "ode" };
            let (ok, diff) = if sp.authors {
                let m = miss(w, p);
                compared += 1;
                if m <= 1.0 {
                    reproduced += 1;
                }
                if m > worst_miss {
                    worst_miss = m;
                    worst_what = format!("continuous {which} {col} ε={}", eps_label(*eps));
                }
                (
                    if m <= 1.0 { "yes" } else { "NO" },
                    (w - printed_value(p)).abs(),
                )
            } else {
                ("skipped", f64::NAN)
            };
            cont.push(vec![
                which.into(),
                col.into(),
                (*eps).into(),
                w.into(),
                p.into(),
                half_unit(p).into(),
                if diff.is_nan() {
                    "".into()
                } else {
                    diff.into()
                },
                ok.into(),
            ]);
        }
    }
    // The schedule is Song's VP-linear {0.1, 20} in disguise: same α, σ.
    let song = VpLinear {
        beta0: 0.1,
        beta1: 20.0,
    };
    let sched_err = (0..=1000)
        .map(|k| {
            let t = k as f64 / 1000.0;
            crate::metrics::rel_err(sch.alpha(t), song.alpha(t), 1e-300)
                .max(crate::metrics::rel_err(sch.sigma(t), song.sigma(t), 1e-300))
        })
        .fold(0.0, f64::max);

    let scope = ctx.scale.pick(
        "quick scale: NFE columns 50 and 250 only (all rows, both inits, continuous columns, Heun N=NFE/2 at 50/250)",
        "full table: all 4 NFE columns, plus DDIM(η=0,1), DPM-Solver-1/++1 as extra rows",
    );
    let rec_detail = format!(
        "engine vs the paper's per-eigenvalue recursions (independent code): W2 max relative difference {:.1e} in units of the tolerance 1e-12·max(1, steps/1000)·max(1, ½√λ_max/W2) (round-off per step times W2's conditioning in relative variance errors); '−' cells +∞ by both routes); per-eigenvalue variances max relative difference {:.1e} (reported, not gated: it peaks in stiff Heun/RK4 cells at NFE 50 where the engine's Tweedie score (αx̂₀ − x)/σ² cancels as σ² ≪ α²λ near ε and |h c| ~ 10³); schedule α,σ vs Song VpLinear{{0.1,20}} (same marginals, their β = 2× ours): max rel {:.1e}",
        worst_rec / tol::IDENTITY,
        results.iter().filter(|c| !c.rel_var.is_nan()).map(|c| c.rel_var).fold(0.0, f64::max),
        sched_err
    );
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
            worst_rec,
            tol::IDENTITY,
            format!(
                "PUBLISHED COMPARISON SKIPPED: running on {}; the verdict covers only engine vs recursion and the '−' (+∞) cells; {scope}; {rec_detail}",
                sp.what
            ),
        )
    };
    Ok(ev
        .require(
            rec_ok,
            "engine and recursion W2 disagree beyond their round-off tolerance",
        )
        .require(
            sched_err <= tol::IDENTITY,
            "PgVp differs from VpLinear{0.1,20}",
        )
        .table(table)
        .table(cont)
        .figure(fig))
}

// ---------------------------------------------------------------------------------------------------
// PG-FIG1-LEFT and PG-FIG1-RIGHT.

/// The figure's schemes and grid points at NFE 1000: EM, EI, DDPM, Euler N=1000, Heun N=500, RK4 N=250,
/// then the extra samplers at N=1000.
fn fig1_schemes(with_extras: bool) -> Vec<(Scheme, usize)> {
    let mut v: Vec<(Scheme, usize)> = paper_schemes()
        .into_iter()
        .map(|s| (s, grid_points_for_nfe(&s, 1000, HeunBudget::Correct)))
        .collect();
    if with_extras {
        v.extend(pg::extra_schemes().into_iter().map(|s| (s, 1000)));
    }
    v
}

fn pg_fig1_left(ctx: &Ctx) -> Result<Evidence> {
    let sp = spec()?;
    let sch = PgVp::default();
    let schemes: Vec<(Scheme, usize)> = fig1_schemes(ctx.scale == super::Scale::Full)
        .into_iter()
        .filter(|(s, _)| pg::defined_at(s, 0.0))
        .collect();
    let paths: Vec<Vec<(f64, PgLaw)>> = schemes
        .par_iter()
        .map(|(s, n)| engine_path(s, &sp.data, *n, 0.0, Init::N0))
        .collect::<Result<_>>()?;
    let w2_at = |law: &PgLaw, s: f64| {
        let m = vec![0.0; sp.eig.len()];
        let target: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| marginal_variance(&sch, l, s))
            .collect();
        law.w2_to(&m, &target)
    };
    let cont = |s: f64, sde: bool| {
        let v: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| {
                if sde {
                    sde_variance_from_n0(&sch, l, s)
                } else {
                    ode_variance_from_n0(&sch, l, s)
                }
            })
            .collect();
        let target: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| marginal_variance(&sch, l, s))
            .collect();
        w2_centred(&v, &target)
    };
    let mut table = Table::new("", &["scheme", "grid_points", "k", "t", "w2"]);
    let mut fig = Figure::new(
        "",
        "PG-FIG1-LEFT: W2(sampler at t, p_t), NFE 1000, ε = 0, N(0,I)",
        "forward time t",
        "W2 to p_t",
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
        checks.push((format!("{name} starts (t=T)"), pts[0].1, "5.467e-3".into()));
    }
    for (t, p) in [(0.25, "4.86e-4"), (0.5, "2.03e-4"), (0.0, "6.68e-4")] {
        checks.push((format!("SDE at t={t}"), cont(t, true), p.into()));
    }
    // The SDE minimum, by golden-section search on the closed form.
    let (mut a, mut b) = (0.5_f64, 0.85_f64);
    for _ in 0..100 {
        let (c1, c2) = (b - 0.618_034 * (b - a), a + 0.618_034 * (b - a));
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
        "1.18e-4".into(),
    ));
    checks.push(("SDE argmin (≈0.68)".into(), t_min, "0.68".into()));
    for (t, p) in [
        (0.75, "6.92e-3"),
        (0.5, "2.12e-2"),
        (0.25, "5.29e-2"),
        (0.0, "7.30e-2"),
    ] {
        checks.push((format!("ODE at t={t}"), cont(t, false), p.into()));
    }
    let last = |name: &str| curve(name).last().expect("point").1;
    checks.push(("Euler ends".into(), last("euler"), "0.167".into()));
    checks.push(("EM ends".into(), last("em"), "0.16".into()));
    checks.push(("EI ends".into(), last("ei"), "0.16".into()));
    checks.push(("DDPM ends".into(), last("ddpm"), "0.23".into()));
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
        "7e-4".into(),
    ));
    checks.push((
        "DDPM dip location (figure-read ≈0.85, reported)".into(),
        dip_t,
        "0.85".into(),
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
            .filter(|(t, _)| *t >= 0.05)
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
    let ev = if sp.authors {
        Evidence::within(worst, 1.0, detail)
    } else {
        Evidence::within(
            0.0,
            1.0,
            format!("PUBLISHED COMPARISON SKIPPED (verdict covers nothing published): {detail}"),
        )
    };
    Ok(ev.table(table).table(ctab).figure(fig))
}

/// Fig. 1 right as printed: (ε, [SDE, ODE, EM, EI, DDPM, Euler, Heun N=500, RK4 N=250]).
const FIG1_RIGHT: &[(f64, [&str; 8])] = &[
    (
        0.0,
        [
            "6.68e-4", "0.0730", "0.1599", "0.1596", "0.2342", "0.1671", "inf", "inf",
        ],
    ),
    (
        1e-5,
        [
            "4.19e-3", "0.0731", "0.1607", "0.1607", "0.2347", "0.1675", "1.058", "0.773",
        ],
    ),
    (
        1e-4,
        [
            "0.0259", "0.0775", "0.1683", "0.1706", "0.2398", "0.1714", "0.1403", "0.1035",
        ],
    ),
    (
        1e-3,
        [
            "0.1781", "0.1929", "0.2727", "0.2859", "0.3207", "0.2482", "0.1794", "0.1876",
        ],
    ),
    (
        1e-2,
        [
            "1.355", "1.358", "1.425", "1.449", "1.431", "1.369", "1.358", "1.358",
        ],
    ),
];

fn pg_fig1_right(ctx: &Ctx) -> Result<Evidence> {
    let sp = spec()?;
    let sch = PgVp::default();
    let schemes = fig1_schemes(ctx.scale == super::Scale::Full);
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
        "truncation time ε",
        "W2 to p_0",
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
            Some(p) if sp.authors => {
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
            Some(_) => "skipped",
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
            let v: Vec<f64> = sp
                .eig
                .iter()
                .map(|&l| {
                    if sde {
                        sde_variance_from_n0(&sch, l, eps)
                    } else {
                        ode_variance_from_n0(&sch, l, eps)
                    }
                })
                .collect();
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
    let ev = if sp.authors {
        Evidence::within(worst, 1.0, detail)
    } else {
        Evidence::within(
            0.0,
            1.0,
            format!("PUBLISHED COMPARISON SKIPPED (verdict covers nothing published): {detail}"),
        )
    };
    Ok(ev.table(table).figure(fig))
}

// ---------------------------------------------------------------------------------------------------
// PG-PROP.

/// Variance of a linear scalar SDE dy = a(t) y dt + √(2β) dW in sampler time, dv/dt = 2a v + 2β·noise,
/// integrated by classic RK4 with `steps` steps from v(0) = 1 to sampler time T − s: the independent route
/// to the closed forms λ̃_s (noise = 1, a = β(1 − 2/λ^{T−t})) and λ̂_s (noise = 0, a = β(1 − 1/λ^{T−t})).
fn variance_ode(lambda: f64, s: f64, sde: bool, steps: usize) -> f64 {
    let sch = PgVp::default();
    let k = if sde { 2.0 } else { 1.0 };
    let rhs = |t: f64, v: f64| {
        let u = T - t;
        let b = sch.beta(u);
        let a = b * (1.0 - k / marginal_variance(&sch, lambda, u));
        2.0 * a * v + if sde { 2.0 * b } else { 0.0 }
    };
    let h = (T - s) / steps as f64;
    let mut v = 1.0;
    for i in 0..steps {
        let t = i as f64 * h;
        let k1 = rhs(t, v);
        let k2 = rhs(t + 0.5 * h, v + 0.5 * h * k1);
        let k3 = rhs(t + 0.5 * h, v + 0.5 * h * k2);
        let k4 = rhs(t + h, v + h * k3);
        v += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    v
}

fn pg_prop(ctx: &Ctx) -> Result<Evidence> {
    let sch = PgVp::default();
    let n_l = ctx.scale.pick(60, 400);
    let mut lambdas = vec![0.0];
    lambdas.extend((0..n_l).map(|i| 10f64.powf(-8.0 + 11.0 * i as f64 / (n_l - 1) as f64)));
    let times: Vec<f64> = ctx.scale.pick(
        vec![0.0, 1e-3, 0.1, 0.5, 0.9],
        (0..=100)
            .map(|i| i as f64 / 100.0)
            .chain([1e-3, 1e-5])
            .collect(),
    );
    let mut table = Table::new(
        "",
        &[
            "t",
            "lambda",
            "sde_err_sq",
            "ode_err_sq",
            "sde_minus_ode",
            "holds",
        ],
    );
    let mut worst = f64::NEG_INFINITY;
    let mut worst_what = String::new();
    for &t in &times {
        for &l in &lambdas {
            let ls = marginal_variance(&sch, l, t);
            let e_sde = (sde_variance_from_n0(&sch, l, t).sqrt() - ls.sqrt()).powi(2);
            let e_ode = (ode_variance_from_n0(&sch, l, t).sqrt() - ls.sqrt()).powi(2);
            // Rounding of the two squared errors: a few ulps of ls.
            let slack = 8.0 * f64::EPSILON * ls;
            let excess = (e_sde - e_ode) / slack;
            if excess > worst {
                worst = excess;
                worst_what = format!("t={t}, λ={l:e}");
            }
            table.push(vec![
                t.into(),
                l.into(),
                e_sde.into(),
                e_ode.into(),
                (e_sde - e_ode).into(),
                (if e_sde <= e_ode + slack { "yes" } else { "NO" }).into(),
            ]);
        }
    }
    // The closed forms themselves, against RK4 integration of the variance ODEs (independent route).
    let steps = 20000;
    let mut cf = Table::new(
        "closed-form-vs-rk4",
        &["law", "lambda", "t", "closed_form", "rk4", "rel_err"],
    );
    let mut cf_worst = 0.0_f64;
    for &l in &[0.0, 1e-6, 1e-3, 0.1, 1.0, 50.0, 221.45] {
        for &t in &[1e-2, 0.25, 0.5, 0.9] {
            for sde in [true, false] {
                let c = if sde {
                    sde_variance_from_n0(&sch, l, t)
                } else {
                    ode_variance_from_n0(&sch, l, t)
                };
                let r = variance_ode(l, t, sde, steps);
                let e = crate::metrics::rel_err(r, c, 1e-300);
                cf_worst = cf_worst.max(e);
                cf.push(vec![
                    (if sde { "sde" } else { "ode" }).into(),
                    l.into(),
                    t.into(),
                    c.into(),
                    r.into(),
                    e.into(),
                ]);
            }
        }
    }
    // On the claims' spectrum: W2 SDE vs ODE along t.
    let sp = spec()?;
    let mut fig = Figure::new(
        "",
        "PG-PROP: W2(exact sampler from N(0,I) at t, p_t), SDE ≤ ODE",
        "forward time t",
        "W2 to p_t",
    )
    .logy();
    let (mut s_pts, mut o_pts) = (Vec::new(), Vec::new());
    let mut along_ok = true;
    for k in 0..=ctx.scale.pick(50, 200) {
        let t = k as f64 / ctx.scale.pick(50.0, 200.0);
        let target: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| marginal_variance(&sch, l, t))
            .collect();
        let s: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| sde_variance_from_n0(&sch, l, t))
            .collect();
        let o: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| ode_variance_from_n0(&sch, l, t))
            .collect();
        let (ws, wo) = (w2_centred(&s, &target), w2_centred(&o, &target));
        along_ok &= ws <= wo * (1.0 + 1e-12);
        s_pts.push((t, ws));
        o_pts.push((t, wo));
    }
    let end = (s_pts[0].1, o_pts[0].1);
    fig = fig
        .with(Series::line("SDE", s_pts))
        .with(Series::line("ODE", o_pts));
    // Evidence: worst (e_sde − e_ode) in units of the rounding slack must be ≤ 1.
    Ok(Evidence::within(
        worst.max(0.0),
        1.0,
        format!(
            "{} (t, λ) pairs, λ ∈ {{0}} ∪ [1e-8, 1e3]: SDE squared error ≤ ODE squared error per eigenvalue everywhere (measured = max (e_sde − e_ode)/(8 ulp·λ_t) = {worst:.3} at {worst_what}; ≤ 0 means it holds with room); on {}: W2 at t = 0 SDE {:.4e} vs ODE {:.4e}; closed forms vs RK4 integration of the variance ODE ({steps} steps): max rel err {cf_worst:.1e} (tolerance 1e-9); also a proptest over random spectra/times in tests/wasserstein.rs",
            times.len() * lambdas.len(),
            sp.what,
            end.0,
            end.1
        ),
    )
    .require(along_ok, "W2(SDE) > W2(ODE) somewhere along t on the spectrum")
    .require(cf_worst <= 1e-9, "closed-form laws disagree with the integrated variance ODE")
    .table(table)
    .table(cf)
    .figure(fig))
}

// ---------------------------------------------------------------------------------------------------
// PG-ORDERS.

/// Sample discretisation-only errors at N = 801 printed in PIERRET-GALERNE.md: (ε, scheme, value).
const ORDERS_N801: &[(f64, &str, &str)] = &[
    (1e-3, "em", "0.134"),
    (1e-3, "ei", "0.145"),
    (1e-3, "ddpm", "0.253"),
    (1e-3, "euler", "0.115"),
    (1e-3, "heun", "7.1e-3"),
    (1e-3, "rk4", "1.9e-4"),
    (1e-2, "heun", "5.13e-4"),
    (1e-2, "rk4", "1.32e-7"),
];

/// The stiffness of the PF-ODE near ε: max over eigenvalues and the last step of |c| = β(1/λ^ε − 1); the
/// explicit schemes are in their asymptotic regime once h·max|c| ≲ 1, i.e. N ≳ (T − ε)·max|c|.
fn stiffness(eig: &[f64], eps: f64) -> f64 {
    let sch = PgVp::default();
    let lmin = eig.iter().cloned().fold(f64::INFINITY, f64::min);
    sch.beta(eps) * (1.0 / marginal_variance(&sch, lmin, eps) - 1.0).abs()
}

fn pg_orders(ctx: &Ctx) -> Result<Evidence> {
    let sp = spec()?;
    let sch = PgVp::default();
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
        if e == 1e-3 && ctx.scale == super::Scale::Full {
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
            let target: Vec<f64> = sp
                .eig
                .iter()
                .map(|&l| marginal_variance(&sch, l, *e))
                .collect();
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
        "W2 to p_ε",
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
            let tolerance = (sl - sp_).abs() + 0.05;
            let m = (extrap - order).abs() / tolerance;
            if m > worst {
                worst = m;
                worst_what = format!("{} ε={}", s.name, eps_label(eps));
            }
            let holds_from = pts
                .iter()
                .enumerate()
                .skip(1)
                .find(|(i, _)| local[i - 1..].iter().all(|v| (v - order).abs() <= 0.1))
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
        if ctx.scale == super::Scale::Quick || !sp.authors { " (not compared: quick scale or no authors' file)" } else { "" }
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

// ---------------------------------------------------------------------------------------------------
// PG-DECOMP.

fn pg_decomp(ctx: &Ctx) -> Result<Evidence> {
    let sp = spec()?;
    let sch = PgVp::default();
    let eps_list: Vec<f64> = ctx.scale.pick(vec![1e-3], vec![1e-5, 1e-4, 1e-3, 1e-2]);
    let schemes: Vec<(Scheme, usize)> = fig1_schemes(ctx.scale == super::Scale::Full);
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
        "W2",
    )
    .logy();
    let (mut f_i, mut f_d, mut f_t, mut f_tot) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut trunc_dominates = true;
    let mut not_dominated: Vec<&str> = Vec::new();
    let mut sde_vs_ode = true;
    let mut disc_at: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut min_total_1e3 = f64::INFINITY;
    for (i, ((s, n, eps), (pt, n0))) in jobs.iter().zip(&laws).enumerate() {
        let p_eps: Vec<f64> = sp
            .eig
            .iter()
            .map(|&l| marginal_variance(&sch, l, *eps))
            .collect();
        let (vp, vn) = (pt.variance().unwrap(), n0.variance().unwrap());
        let init_e = w2_centred(vn, vp);
        let disc = w2_centred(vp, &p_eps);
        let trunc = w2_centred(&p_eps, &sp.eig);
        let total = w2_centred(vn, &sp.eig);
        let sum = init_e + disc + trunc;
        let excess = (total - sum) / total.max(1e-300);
        worst_excess = worst_excess.max(excess);
        triangle_ok &= total <= sum * (1.0 + 1e-12);
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
    .require(triangle_ok, "triangle inequality violated");
    if sp.authors {
        ev = ev
            .require(
                min_total_1e3 >= 0.178,
                "some scheme beats 0.178 at ε = 1e-3",
            )
            .require(
                sde_vs_ode,
                "an SDE scheme has less discretisation error than Euler/Heun",
            );
    }
    Ok(ev.table(table).figure(fig))
}

// ---------------------------------------------------------------------------------------------------
// PG-BEYOND.

/// A random orthogonal matrix (QR of a Gaussian matrix) and a random SPD matrix with spectrum `spec`.
fn random_rotation(d: usize, rng: &mut rand_pcg::Pcg64) -> DMatrix<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let g = DMatrix::from_fn(d, d, |_, _| {
        <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
    });
    g.qr().q()
}

fn pg_beyond(ctx: &Ctx) -> Result<Evidence> {
    use rand_distr::{Distribution, StandardNormal};
    let sch = PgVp::default();
    let mut rng = ctx.rng("beyond");
    // (a) Non-centred data on a small spectrum, engine means vs the paper's recursions with offset.
    let eig = vec![4.0, 1.0, 0.25, 1e-2, 1e-4, 0.0];
    let d = eig.len();
    let mu: Vec<f64> = (0..d)
        .map(|_| <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
        .collect();
    let data = pg::data_law(&eig, Some(&mu))?;
    let (n, eps) = (ctx.scale.pick(200, 1000), 1e-3);
    let times = forward_grid(n, eps)?;
    let mut mtab = Table::new(
        "means",
        &[
            "scheme",
            "init",
            "coord",
            "lambda",
            "mu",
            "mean_engine",
            "mean_recursion",
            "rel_err",
            "w2_to_p0",
            "kl_to_p_eps",
        ],
    );
    let mut mean_worst = 0.0_f64;
    for (name, k2) in [("em", 2.0), ("euler", 1.0)] {
        let s = scheme(name);
        for init in [Init::Pt, Init::N0] {
            let law = engine_law(&s, &data, n, eps, init)?;
            let PgLaw::Exact { mean, variance } = &law else {
                anyhow::bail!("unexpected divergence")
            };
            let p_eps: Vec<f64> = eig
                .iter()
                .map(|&l| marginal_variance(&sch, l, eps))
                .collect();
            let mu_eps: Vec<f64> = mu.iter().map(|m| sch.alpha(eps) * m).collect();
            let w2 = w2_commuting(mean, variance, &mu, &eig);
            let kl = kl_commuting(mean, variance, &mu_eps, &p_eps);
            for i in 0..d {
                // m⁺ = m + h b (m − k (m − α_s μ)/λ_s), k = 2 (EM) or 1 (Euler): score = −(x − α_s μ)/λ_s.
                let mut m = match init {
                    Init::Pt => sch.alpha(T) * mu[i],
                    Init::N0 => 0.0,
                };
                for w in times.windows(2) {
                    let (s_, h) = (w[0], w[0] - w[1]);
                    let b = 0.05 + 9.95 * s_;
                    let a_s = (-(0.05 * s_ + 4.975 * s_ * s_)).exp();
                    let lam_s = a_s * a_s * eig[i] + 1.0 - a_s * a_s;
                    m += h * b * (m - k2 * (m - a_s * mu[i]) / lam_s);
                }
                let e = crate::metrics::rel_err(mean[i], m, 1e-12);
                mean_worst = mean_worst.max(e);
                mtab.push(vec![
                    name.into(),
                    init.name().into(),
                    i.into(),
                    eig[i].into(),
                    mu[i].into(),
                    mean[i].into(),
                    m.into(),
                    e.into(),
                    w2.into(),
                    kl.into(),
                ]);
            }
        }
    }
    // (b) Non-commuting: data N(0, Σ) with non-diagonal Σ; the model uses a rotated Σ̃ = R Σ Rᵀ (a score
    // error), so the output law commutes with Σ̃, not Σ: its W2 to the data needs the general Bures formula.
    let dm = 6;
    let q = random_rotation(dm, &mut rng);
    let spec_b = DVector::from_vec(vec![3.0, 1.5, 0.7, 0.2, 0.05, 0.01]);
    let sigma = &q * DMatrix::from_diagonal(&spec_b) * q.transpose();
    let r = random_rotation(dm, &mut rng);
    let small =
        DMatrix::<f64>::identity(dm, dm) * 0.9 + (&r - DMatrix::<f64>::identity(dm, dm)) * 0.1;
    let rot = small.qr().q();
    let sigma_model = &rot * &sigma * rot.transpose();
    let model = crate::target::Gaussian::from_covariance(DVector::zeros(dm), sigma_model.clone())?;
    let data_g = crate::target::Gaussian::from_covariance(DVector::zeros(dm), sigma.clone())?;
    let mut btab = Table::new(
        "bures",
        &[
            "scheme",
            "grid_points",
            "eps",
            "w2_bures_crate",
            "w2_bures_denman_beavers",
            "rel_diff",
            "w2_commuting_formula_wrong",
            "w2_model_law",
            "kl_to_data",
        ],
    );
    let mut bures_worst = 0.0_f64;
    let mut noncommuting_gap = f64::INFINITY;
    for name in ["em", "euler", "ddim"] {
        let s = scheme(name);
        let n_b = ctx.scale.pick(100, 500);
        let law = engine_law(&s, &model, n_b, 1e-3, Init::N0)?;
        let v = law.variance().unwrap();
        let cov = model.matrix_with_spectrum(&DVector::from_column_slice(v));
        let z = DVector::zeros(dm);
        let w_crate = w2_gaussian(&z, &cov, &z, &sigma)?;
        let w_db = w2_bures_db(&z, &cov, &z, &sigma)?;
        let rel = crate::metrics::rel_err(w_crate, w_db, 1e-300);
        bures_worst = bures_worst.max(rel);
        // The commuting formula applied to sorted spectra (wrong here): it is a lower bound, strictly.
        let mut ev_out: Vec<f64> = nalgebra::SymmetricEigen::new(cov.clone())
            .eigenvalues
            .iter()
            .copied()
            .collect();
        let mut ev_dat: Vec<f64> = spec_b.iter().copied().collect();
        ev_out.sort_by(f64::total_cmp);
        ev_dat.sort_by(f64::total_cmp);
        let w_comm = w2_centred(&ev_out, &ev_dat);
        noncommuting_gap = noncommuting_gap.min((w_crate - w_comm) / w_crate);
        let w_model = law.w2_to(&vec![0.0; dm], model.eigvals.as_slice());
        let kl = crate::metrics::kl_gaussian(&z, &cov, &z, &sigma)?;
        let _ = &data_g;
        btab.push(vec![
            name.into(),
            n_b.into(),
            1e-3.into(),
            w_crate.into(),
            w_db.into(),
            rel.into(),
            w_comm.into(),
            w_model.into(),
            kl.into(),
        ]);
    }
    Ok(Evidence::within(
        bures_worst.max(mean_worst),
        tol::FACTORED,
        format!(
            "(a) μ ≠ 0, d = 6 spectrum with a zero: engine means vs the paper's recursion with the offset α_s μ (EM, Euler, both inits): max rel err {mean_worst:.1e}; W2 includes ‖mean − μ‖², KL to p_ε reported; (b) rotated-model score error, d = 6: output covariance does not commute with Σ; metrics::w2_gaussian vs Denman–Beavers Bures: max rel diff {bures_worst:.1e} (tolerance tol::FACTORED = 1e-10: two matrix square roots of well-conditioned 6×6 matrices); the commuting formula on sorted spectra is smaller by ≥ {:.1}% (a strict lower bound, so the general formula is needed)",
            100.0 * noncommuting_gap
        ),
    )
    .require(noncommuting_gap > 1e-6, "the output law commutes with Σ after all")
    .table(mtab)
    .table(btab))
}

// ---------------------------------------------------------------------------------------------------
// FM-7.

fn fm7(ctx: &Ctx) -> Result<Evidence> {
    let sch = PgVp::default();
    let mut rng = ctx.rng("fm7");
    let d = 5;
    let q = random_rotation(d, &mut rng);
    let spec_f = DVector::from_vec(vec![5.0, 1.0, 0.3, 0.02, 1e-3]);
    let sigma = &q * DMatrix::from_diagonal(&spec_f) * q.transpose();
    let id = DMatrix::<f64>::identity(d, d);
    let marg = |t: f64| &sigma * sch.alpha(t).powi(2) + &id * sch.sigma(t).powi(2);
    let pairs: Vec<(f64, f64)> = vec![(1.0, 0.0), (0.8, 0.1), (0.5, 0.2), (0.3, 0.01)];
    let steps = ctx.scale.pick(4000, 16000);
    let mut table = Table::new(
        "",
        &[
            "s",
            "t",
            "steps",
            "rel_diff_pf_vs_bures",
            "asymmetry",
            "min_eigenvalue",
            "pushforward_rel_err",
            "rk4_self_check",
        ],
    );
    let mut worst = 0.0_f64;
    let mut worst_rel = 0.0_f64;
    let mut spd = true;
    // Route A: the PF-ODE dx/dt = (f I + ½ g² Σ_t^{-1}) x integrated as a d×d matrix ODE by RK4 in the
    // original basis (no eigendecomposition); route B: Bures OT map with Denman–Beavers square roots.
    let flow = |s: f64, t: f64, steps: usize| -> Result<DMatrix<f64>> {
        let field = |u: f64, x: &DMatrix<f64>| -> Result<DMatrix<f64>> {
            let inv = marg(u)
                .try_inverse()
                .ok_or_else(|| anyhow::anyhow!("Σ_t singular"))?;
            Ok((&id * sch.f(u) + inv * (0.5 * sch.g2(u))) * x)
        };
        let h = (t - s) / steps as f64;
        let mut x = id.clone();
        let at = |k: f64| (s + (t - s) * k / steps as f64).max(0.0);
        for k in 0..steps {
            let (u, um, u1) = (at(k as f64), at(k as f64 + 0.5), at(k as f64 + 1.0));
            let k1 = field(u, &x)?;
            let k2 = field(um, &(&x + &k1 * (0.5 * h)))?;
            let k3 = field(um, &(&x + &k2 * (0.5 * h)))?;
            let k4 = field(u1, &(&x + &k3 * h))?;
            x += (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0);
        }
        Ok(x)
    };
    for &(s, t) in &pairs {
        let psi = flow(s, t, steps)?;
        let psi_half = flow(s, t, steps / 2)?;
        let self_check = (&psi - &psi_half).norm() / psi.norm();
        let (a, b) = (marg(s), marg(t));
        let (ra, ra_inv) = sqrtm_denman_beavers(&a)?;
        let mid = &ra * &b * &ra;
        let (rm, _) = sqrtm_denman_beavers(&(0.5 * (&mid + mid.transpose())))?;
        let ot = &ra_inv * rm * &ra_inv;
        let rel = (&psi - &ot).norm() / ot.norm();
        let asym = (&psi - psi.transpose()).norm() / psi.norm();
        let sym = 0.5 * (&psi + psi.transpose());
        let min_ev = nalgebra::SymmetricEigen::new(sym).eigenvalues.min();
        let push = (&psi * &a * psi.transpose() - &b).norm() / b.norm();
        spd &= min_ev > 0.0;
        // RK4 error of Ψ ≈ ‖Ψ_h − Ψ_{2h}‖/15; the tolerance adds the whole step-halving difference.
        worst = worst.max(rel / (tol::IDENTITY + self_check));
        worst_rel = worst_rel.max(rel);
        table.push(vec![
            s.into(),
            t.into(),
            steps.into(),
            rel.into(),
            asym.into(),
            min_ev.into(),
            push.into(),
            self_check.into(),
        ]);
    }
    Ok(Evidence::within(
        worst,
        1.0,
        format!(
            "measured = max ‖Ψ − T‖/‖T‖ / (1e-12 + ‖Ψ_h − Ψ_2h‖/‖Ψ_h‖), the identity tolerance plus the RK4 step-halving difference (≈ 15× RK4's own error); d = 5 non-diagonal Σ (spectrum 5 … 1e-3, random rotation), PG schedule, (s, t) ∈ {pairs:?}: PF-ODE map by RK4 on the d×d matrix ODE ({steps} steps, no eigendecomposition; step-halving self-check in the CSV) vs the Bures OT map with Denman–Beavers square roots: max ‖Ψ − T‖/‖T‖ = {worst_rel:.1e}; Ψ symmetric positive definite: {spd}; Ψ Σ_s Ψ = Σ_t"
        ),
    )
    .require(spd, "the PF-ODE map is not positive definite")
    .table(table))
}
