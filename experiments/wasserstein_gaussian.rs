//! `wasserstein_gaussian`: exact W2 (and KL) errors of diffusion samplers on Gaussian data N(0, diag(λ)),
//! in Pierret & Galerne's setting (ICML 2025; issue 4): VP SDE dx = −βx dt + √(2β) dW, β linear 0.05 → 10,
//! T = 1; sampler grid of N points on [0, T − ε]; init p_T or N(0, I). Laws are exact (the crate's
//! samplers run on affine forms), not Monte Carlo.
use anyhow::{bail, Context, Result};
use clap::Parser;
use diffusion_claims::pg::{self, HeunBudget, Init, PgLaw, PgVp};
use diffusion_claims::spectrum::{read_vector, Check};
use std::path::PathBuf;

/// Exact W2(output, p_data) of diffusion samplers on a Gaussian with a given covariance spectrum.
///
/// Example: wasserstein_gaussian --spectrum cifar10_eigenvalues_2025.npy --scheme em --scheme heun
///          --nfe 1000 --eps 1e-3 --init n0 --csv
#[derive(Parser, Debug)]
#[command(version, about = "Exact W2 of the Pierret-Galerne schemes (EM, EI, Euler, Heun, RK4, DDPM, ...) on your covariance spectrum", long_about = None)]
struct Args {
    /// Covariance eigenvalues: .npy (float32/float64, 1-D) or text (one number per line, # comments).
    /// Zeros are allowed (singular Σ); negative, NaN or infinite values are rejected.
    #[arg(long)]
    spectrum: PathBuf,
    /// Scheme(s): em, ei, ddpm, euler, heun, rk4 (the paper's), ddim, ddim-eta1, dpm-solver-1,
    /// dpm-solver++1. Repeat the flag or separate with commas.
    #[arg(long, required = true, value_delimiter = ',')]
    scheme: Vec<String>,
    /// Number of time grid points N (N − 1 steps), as in the paper.
    #[arg(long, conflicts_with = "nfe")]
    grid_points: Option<usize>,
    /// Budget of score evaluations: N = NFE for one-evaluation schemes, NFE/2 for Heun, NFE/4 for RK4.
    #[arg(long)]
    nfe: Option<usize>,
    /// With --nfe: give Heun N = NFE grid points, as the paper's table does (its bookkeeping bug).
    #[arg(long)]
    heun_table_bug: bool,
    /// Truncation time(s) ε ∈ [0, 1): the sampler stops at forward time ε. Repeatable / comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    eps: Vec<f64>,
    /// Initialisation: pt (exact p_T) or n0 (N(0, I)).
    #[arg(long, value_enum, default_value = "n0")]
    init: Init,
    /// Print CSV (header + one row per scheme and ε) instead of a table.
    #[arg(long)]
    csv: bool,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("wasserstein_gaussian: error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = Args::parse();
    let eig = read_vector(&args.spectrum, Check::NonNegative)
        .with_context(|| format!("reading the spectrum {}", args.spectrum.display()))?;
    let data = pg::data_law(&eig, None)?;
    let (grid, nfe) = match (args.grid_points, args.nfe) {
        (Some(n), None) => (Some(n), None),
        (None, Some(b)) => (None, Some(b)),
        _ => bail!("give exactly one of --grid-points N or --nfe NFE"),
    };
    let sch = PgVp::default();
    let mut rows = Vec::new();
    for name in &args.scheme {
        let scheme = pg::scheme_by_name(name.trim()).with_context(|| {
            format!(
                "unknown scheme {name:?}; known: {}",
                pg::all_schemes()
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let n = match (grid, nfe) {
            (Some(n), _) => n,
            (_, Some(b)) => {
                let hb = if args.heun_table_bug {
                    HeunBudget::TableBug
                } else {
                    HeunBudget::Correct
                };
                pg::grid_points_for_nfe(&scheme, b, hb)
            }
            _ => unreachable!(),
        };
        if n < 2 {
            bail!(
                "{}: {n} grid point(s) means zero steps; need N ≥ 2",
                scheme.name
            );
        }
        for &eps in &args.eps {
            let law = pg::engine_law(&scheme, &data, n, eps, args.init)?;
            let z = vec![0.0; eig.len()];
            let p_eps: Vec<f64> = eig
                .iter()
                .map(|&l| pg::marginal_variance(&sch, l, eps))
                .collect();
            let w2 = law.w2_to(&z, &eig);
            let w2_eps = law.w2_to(&z, &p_eps);
            let kl_eps = law.kl_to(&z, &p_eps);
            let note = match &law {
                PgLaw::Divergent { why } => why.clone(),
                PgLaw::Exact { .. } => String::new(),
            };
            rows.push((
                scheme.name,
                n,
                (n - 1) * scheme.evals_per_step,
                eps,
                w2,
                w2_eps,
                kl_eps,
                note,
            ));
        }
    }
    let init = args.init.name();
    if args.csv {
        println!("scheme,grid_points,nfe,eps,init,w2,w2_to_p_eps,kl_to_p_eps");
        for (s, n, e, eps, w2, w2e, kl, _) in &rows {
            println!(
                "{s},{n},{e},{eps:?},{init},{},{},{}",
                fmt(*w2),
                fmt(*w2e),
                fmt(*kl)
            );
        }
    } else {
        println!(
            "{:<14} {:>11} {:>6} {:>8} {:>4} {:>14} {:>14} {:>14}",
            "scheme",
            "grid_points",
            "nfe",
            "eps",
            "init",
            "W2(out,p_0)",
            "W2(out,p_eps)",
            "KL(out||p_eps)"
        );
        for (s, n, e, eps, w2, w2e, kl, note) in &rows {
            println!(
                "{s:<14} {n:>11} {e:>6} {:>8} {init:>4} {:>14} {:>14} {:>14}{}",
                format!("{eps:e}"),
                fmt(*w2),
                fmt(*w2e),
                fmt(*kl),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("  ({note})")
                }
            );
        }
    }
    Ok(())
}

/// Full round-trip precision; +∞ as `inf`.
fn fmt(v: f64) -> String {
    if v.is_infinite() {
        "inf".into()
    } else {
        format!("{v:?}")
    }
}
