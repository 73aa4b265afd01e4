//! The command line shared by `reproduce` and the per-family binaries.

use crate::claims::{registry, Claim, Scale, Verdict};
use crate::report::{write_all, Outcome};
use anyhow::{bail, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// Run claims of diffusion-claims and write their evidence (CSV, SVG, summary.csv, REPORT.md).
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// quick: seconds per claim (CI); full: paper-figure resolution.
    #[arg(long, value_enum, default_value = "full")]
    pub scale: Scale,
    /// Master seed; every random stream is derived from (seed, claim id, stream name).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Output directory.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Run only these claim ids (e.g. --only DD-3 DD-5). Writes their CSV/SVG files and prints their
    /// rows; summary.csv and REPORT.md are left untouched.
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
    /// List the claims (id, family, source, statement) and exit.
    #[arg(long)]
    pub list: bool,
    /// Worker threads (0 = one per core; results do not depend on it).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write CSVs, summary.csv and REPORT.md but no SVG figures (used for the committed regression evidence).
    #[arg(long)]
    pub no_figures: bool,
}

/// The default master seed.
pub const DEFAULT_SEED: u64 = 20251130;

/// Run `claims` on a pool of `threads` threads (0 = rayon's default); outcomes come back in input order.
pub fn run_claims(
    claims: &[Claim],
    scale: Scale,
    seed: u64,
    threads: usize,
    progress: bool,
) -> Result<Vec<Outcome>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let bar = if progress {
        let b = ProgressBar::new(claims.len() as u64);
        b.set_style(ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
        )?);
        b
    } else {
        ProgressBar::hidden()
    };
    let outcomes: Vec<Outcome> = pool.install(|| {
        claims
            .par_iter()
            .map(|c| {
                let start = Instant::now();
                let evidence = c.run_caught(scale, seed);
                bar.inc(1);
                bar.set_message(c.id);
                Outcome {
                    claim: c.clone(),
                    evidence,
                    seconds: start.elapsed().as_secs_f64(),
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    Ok(outcomes)
}

/// Select claims by family (None = all) and ids (empty = all); unknown ids are an error.
pub fn select(family: Option<&str>, only: &[String]) -> Result<Vec<Claim>> {
    let all: Vec<Claim> = registry()
        .into_iter()
        .filter(|c| family.is_none_or(|f| c.family == f))
        .collect();
    for id in only {
        if !all.iter().any(|c| c.id == id) {
            let known: Vec<&str> = all.iter().map(|c| c.id).collect();
            bail!("unknown claim id {id:?}; known: {}", known.join(", "));
        }
    }
    Ok(all
        .into_iter()
        .filter(|c| only.is_empty() || only.iter().any(|o| o == c.id))
        .collect())
}

/// The whole program of `reproduce` (family = None) and of a family binary. Returns the exit code.
pub fn main_for(family: Option<&str>) -> Result<i32> {
    let args = Args::parse();
    let claims = select(family, &args.only)?;
    if args.list {
        for c in &claims {
            println!(
                "{:<12} {:<14} {:<40} {}",
                c.id, c.family, c.source, c.statement
            );
        }
        return Ok(0);
    }
    if claims.is_empty() {
        bail!("no claims selected");
    }
    let start = Instant::now();
    let mut outcomes = run_claims(&claims, args.scale, args.seed, args.threads, true)?;
    let bin = family
        .map(|f| f.to_string())
        .unwrap_or_else(|| "reproduce".into());
    let command = format!(
        "cargo run --release --bin {bin} -- --scale {} --seed {}",
        args.scale.name(),
        args.seed
    );
    if args.no_figures {
        for o in outcomes.iter_mut() {
            o.evidence.figures.clear();
        }
    }
    if args.only.is_empty() {
        write_all(&args.out, &outcomes, &command)?;
    } else {
        let mut files = Vec::new();
        for o in &outcomes {
            files.extend(crate::report::render_outcome(o)?);
        }
        for (rel, bytes) in files {
            crate::report::write_atomic(&args.out.join(rel), &bytes)?;
        }
    }
    let (mut failed, mut skipped) = (0, 0);
    for o in &outcomes {
        let e = &o.evidence;
        failed += usize::from(e.verdict == Verdict::Fail);
        skipped += usize::from(e.verdict == Verdict::Skipped);
        println!(
            "{:<18} {:<12} {:<18} measured {:>12.4e}  expected {:>12.4e}  tol {:>9.2e}  {:.2}s  {}",
            e.verdict.name(),
            o.claim.id,
            o.claim.family,
            e.measured,
            e.expected,
            e.tolerance,
            o.seconds,
            e.detail
        );
    }
    println!(
        "{} claims in {:.1}s, {} FAIL, {} SKIPPED; evidence in {}",
        outcomes.len(),
        start.elapsed().as_secs_f64(),
        failed,
        skipped,
        args.out.display()
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `main` of every claims binary: print errors clearly and exit non-zero.
pub fn exit_with(result: Result<i32>) -> ! {
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

/// Sampler names of the exact-law tools on continuous schedules (as `sampler_law` spells them), with
/// their parameters (--eta, --order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplerName {
    /// DDPM ancestral sampling (Ho et al. 2020), variance β̃ (fixed-small).
    Ddpm,
    /// DDIM(η) (Song et al. 2021); η by --eta.
    Ddim,
    /// Euler on the PF-ODE in t.
    Euler,
    /// Ancestral Euler = DDIM(η=1) in σ̄.
    EulerAncestral,
    /// DPM-Solver (noise prediction, singlestep), order 1–3 by --order.
    DpmSolver,
    /// DPM-Solver++ (data prediction, multistep 1/2M/3M), order by --order.
    #[value(name = "dpm-solver++")]
    DpmSolverPp,
    /// SDE-DPM-Solver++ (order 1: one-step; order 2: multistep).
    #[value(name = "sde-dpm-solver++")]
    SdeDpmSolverPp,
    /// DEIS (log ρ, multistep), order 1–3 by --order.
    Deis,
    /// EDM Euler in σ̄ (Karras et al. 2022).
    EdmEuler,
    /// EDM Heun in σ̄.
    EdmHeun,
    /// Euler–Maruyama of the reverse SDE.
    Em,
    /// Heun on the PF-ODE in t.
    Heun,
    /// RK4 on the PF-ODE in t.
    Rk4,
}

/// The [`Sampler`](crate::sampler::Sampler) of a name on a continuous schedule (the mapping of
/// `sampler_law`'s continuous route).
///
/// # Errors
/// An order the sampler does not have.
pub fn continuous_sampler(
    name: SamplerName,
    eta: f64,
    order: usize,
    ddpm_variance: crate::sampler::DdpmVariance,
) -> Result<crate::sampler::Sampler> {
    use crate::sampler::Sampler;
    Ok(match (name, order) {
        (SamplerName::Ddpm, _) => Sampler::Ddpm(ddpm_variance),
        (SamplerName::Ddim, _) => Sampler::Ddim { eta },
        (SamplerName::Euler, _) => Sampler::EulerMaruyama { noise_level: 0.0 },
        (SamplerName::EulerAncestral, _) => Sampler::Ddim { eta: 1.0 },
        (SamplerName::DpmSolver, 1) => Sampler::DpmSolver1,
        (SamplerName::DpmSolver, 2) => Sampler::DpmSolver2,
        (SamplerName::DpmSolver, 3) => Sampler::DpmSolver3,
        (SamplerName::DpmSolverPp, 1) => Sampler::DpmSolverPp1,
        (SamplerName::DpmSolverPp, 2) => Sampler::DpmSolverPp2M { noise_level: 0.0 },
        (SamplerName::DpmSolverPp, 3) => Sampler::DpmSolverPp3M { corrected: false },
        (SamplerName::SdeDpmSolverPp, 1) => Sampler::ExpIntegrator { noise_level: 1.0 },
        (SamplerName::SdeDpmSolverPp, 2) => Sampler::DpmSolverPp2M { noise_level: 1.0 },
        (SamplerName::Deis, k) if (1..=3).contains(&k) => Sampler::Deis { order: k },
        (SamplerName::EdmEuler, _) => Sampler::EdmEuler,
        (SamplerName::EdmHeun, _) => Sampler::EdmHeun,
        (SamplerName::Em, _) => Sampler::EulerMaruyama { noise_level: 1.0 },
        (SamplerName::Heun, _) => Sampler::HeunT,
        (SamplerName::Rk4, _) => Sampler::Rk4T,
        (s, k) => bail!("{s:?} of order {k} is not available"),
    })
}
