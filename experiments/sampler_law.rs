//! `sampler_law`: the exact output law of a sampler configuration on a Gaussian target N(μ, diag(λ)), or
//! on a target file (`--target`): Gaussian (any covariance, through the affine-form engine in Σ's
//! eigenbasis) or 1-D non-Gaussian (mixture, uniform, Laplace, beta; through the quadrature engine `law1d`).
//!
//! On the discrete DDPM tables (`ddpm-linear`, `ddpm-scaled-linear`, `ddpm-cosine`) the samplers run with
//! the `diffusers` conventions (timestep spacing, set_alpha_to_one, variance type, final sigma, initial
//! noise scale), cross-checked against the library in float64. On continuous schedules they run on a grid
//! uniform in λ = log(α/σ) (or in t) from the schedule's T to its t_min.

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, ValueEnum};
use diffusion_claims::algebra::{Form, FormNoise};
use diffusion_claims::conventions::{beta_by_name, Config, Scheduler, Spacing};
use diffusion_claims::law1d::{output_law, Accuracy, Start};
use diffusion_claims::metrics::{kl_commuting, w2_commuting};
use diffusion_claims::sampler::{uniform_logsnr, uniform_t, DdpmVariance, Sampler};
use diffusion_claims::schedule;
use diffusion_claims::spectrum::{read_file_or_list, Check};
use diffusion_claims::target::Gaussian;
use diffusion_claims::target_spec::TargetSpec;
use nalgebra::DVector;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SamplerName {
    /// DDPM ancestral sampling (Ho et al. 2020); variance by --variance.
    Ddpm,
    /// DDIM(η) (Song et al. 2021); η by --eta.
    Ddim,
    /// Euler: diffusers' EulerDiscrete (Euler in σ̄) on DDPM tables; Euler on the PF-ODE in t otherwise.
    Euler,
    /// Ancestral Euler (k-diffusion / diffusers EulerAncestralDiscrete) = DDIM(η=1) in σ̄.
    EulerAncestral,
    /// DPM-Solver (noise prediction, singlestep), order 1–3 by --order (continuous schedules).
    DpmSolver,
    /// DPM-Solver++ (data prediction, multistep 1/2M/3M), order by --order.
    #[value(name = "dpm-solver++")]
    DpmSolverPp,
    /// SDE-DPM-Solver++ (multistep, order 1–2).
    #[value(name = "sde-dpm-solver++")]
    SdeDpmSolverPp,
    /// DEIS (log ρ, multistep), order by --order.
    Deis,
    /// UniPC (bh2, data prediction) with diffusers' conventions, order by --order (DDPM tables).
    Unipc,
    /// EDM Euler in σ̄ (Karras et al. 2022) (continuous schedules).
    EdmEuler,
    /// EDM Heun in σ̄ (continuous schedules).
    EdmHeun,
    /// Euler–Maruyama of the reverse SDE (continuous schedules).
    Em,
    /// Heun: diffusers' HeunDiscrete (EDM Heun in σ̄) on DDPM tables; Heun on the PF-ODE in t otherwise.
    Heun,
    /// RK4 on the PF-ODE in t (continuous schedules).
    Rk4,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Variance {
    FixedSmall,
    FixedLarge,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FinalSigmas {
    Zero,
    SigmaMin,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Grid {
    UniformLogsnr,
    UniformT,
}

/// Exact output law (mean, variance per coordinate) of a diffusion sampler on a Gaussian target, with
/// its W2 and KL to the target.
#[derive(Parser, Debug)]
#[command(version, about = "Exact output law of a sampler configuration (continuous schedules or diffusers' conventions) on a Gaussian or 1-D target, and its W2/KL to the data", long_about = None)]
struct Args {
    /// Target mean: a .npy/.txt file or a comma-separated list (default: zeros).
    #[arg(long)]
    mean: Option<String>,
    /// Target covariance eigenvalues (Σ = diag(λ)): a .npy/.txt file or a comma-separated list; zeros allowed.
    #[arg(
        long,
        allow_hyphen_values = true,
        required_unless_present = "target",
        conflicts_with = "target"
    )]
    eigenvalues: Option<String>,
    /// Target specification file (JSON, one key naming the kind): {"gaussian": {"mean", "covariance" or
    /// "eigenvalues"}}, {"mixture": {"weights", "means", "covariances"}}, and in 1-D {"uniform": {"low",
    /// "high"}}, {"laplace": {"location", "scale"}}, {"beta": {"a", "b", "low", "high"}}. Gaussian targets
    /// go through the affine-form engine (coordinates of Σ's eigenbasis); 1-D non-Gaussian targets through
    /// the quadrature engine on continuous schedules (exact W1, W2, KS, TV, KL to the target). Multistep
    /// stochastic samplers (SDE-DPM-Solver++ 2M) have no exact 1-D law: they stay Monte Carlo.
    #[arg(long, conflicts_with = "mean")]
    target: Option<std::path::PathBuf>,
    /// 1-D non-Gaussian target: write the output density on a grid (CSV x,density) to this file.
    #[arg(long, requires = "target")]
    density: Option<std::path::PathBuf>,
    /// ddpm-linear | ddpm-scaled-linear | ddpm-cosine (diffusers conventions), or a continuous schedule:
    /// vp-linear | sub-vp | ve | edm | ou | brownian | rectified-flow | cosine-vp.
    #[arg(long, default_value = "ddpm-linear")]
    schedule: String,
    #[arg(long, value_enum)]
    sampler: SamplerName,
    /// Number of sampling steps (≥ 1).
    #[arg(long)]
    steps: usize,
    /// DDIM η ∈ [0, 1].
    #[arg(long, default_value_t = 0.0)]
    eta: f64,
    /// Solver order (DPM-Solver family, UniPC, DEIS: 1–3).
    #[arg(long, default_value_t = 1)]
    order: usize,
    /// Timestep spacing of the DDPM tables (default: the library's default for the scheduler — leading for
    /// ddpm/ddim, linspace for the σ-schedulers and DPM-Solver++).
    #[arg(long, value_enum)]
    spacing: Option<Spacing>,
    /// diffusers' steps_offset (leading spacing).
    #[arg(long, default_value_t = 0)]
    steps_offset: usize,
    /// DDIM: ᾱ = 1 after the last step (true) or ᾱ_0 (false).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    set_alpha_to_one: bool,
    /// DDIM: use the correct previous timestep (the next grid timestep) instead of diffusers' t − ⌊T/N⌋.
    #[arg(long)]
    consistent_prev: bool,
    /// DDPM variance: fixed-small (β̃) or fixed-large (β).
    #[arg(long, value_enum, default_value = "fixed-small")]
    variance: Variance,
    /// Last sigma 0 or σ_min (Euler, DPM-Solver family, UniPC; default zero — DEIS: always sigma-min).
    #[arg(long, value_enum)]
    final_sigmas: Option<FinalSigmas>,
    /// Third-order DPM-Solver updates (dpm-solver, dpm-solver++, sde-dpm-solver++ at --order 3): the
    /// corrected D₂ term derived from the variation-of-constants formula instead of the library's update
    /// (which is what diffusers runs, and the default).
    #[arg(long)]
    corrected: bool,
    /// dpm-solver++ on DDPM tables: diffusers' DPMSolverSinglestepScheduler instead of the multistep one
    /// (it has linspace spacing only).
    #[arg(long)]
    singlestep: bool,
    /// DPM-Solver(++) multistep on DDPM tables: Karras et al.'s σ grid (use_karras_sigmas; the spacing is then
    /// ignored, as the library ignores it).
    #[arg(long)]
    karras: bool,
    /// Continuous schedules: grid uniform in λ or in t.
    #[arg(long, value_enum, default_value = "uniform-logsnr")]
    grid: Grid,
    /// Print CSV (coord,mean,variance,target_mean,target_variance; 1-D non-Gaussian targets: quantity,value
    /// rows w1, w2, ks, tv, kl, ...) instead of a table.
    #[arg(long)]
    csv: bool,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn run() -> Result<()> {
    let args = Args::parse();
    let spec = match &args.target {
        Some(path) => Some(
            TargetSpec::from_file(path).with_context(|| format!("--target {}", path.display()))?,
        ),
        None => None,
    };
    let (mean, eig) = match &spec {
        Some(spec) if spec.kind() == "gaussian" => {
            let g = spec.to_gaussian()?;
            (
                g.eigen_mean().as_slice().to_vec(),
                g.eigvals.as_slice().to_vec(),
            )
        }
        Some(spec) => return run_1d(&args, spec),
        None => {
            let eig = read_file_or_list(
                args.eigenvalues.as_deref().unwrap_or_default(),
                Check::NonNegative,
            )
            .context("--eigenvalues")?;
            let mean = match &args.mean {
                Some(m) => read_file_or_list(m, Check::Finite).context("--mean")?,
                None => vec![0.0; eig.len()],
            };
            (mean, eig)
        }
    };
    ensure!(
        mean.len() == eig.len(),
        "--mean has {} entries but --eigenvalues has {}",
        mean.len(),
        eig.len()
    );
    ensure!(args.steps >= 1, "--steps must be at least 1");
    ensure!(
        (0.0..=1.0).contains(&args.eta),
        "--eta must be in [0, 1] (got {})",
        args.eta
    );
    let target = Gaussian::from_eigen(
        DVector::from_vec(mean.clone()),
        DVector::from_vec(eig.clone()),
        None,
    )?;

    let (out_mean, out_var) = if args.schedule.starts_with("ddpm-") {
        let scheduler = match args.sampler {
            SamplerName::Ddpm => Scheduler::Ddpm {
                variance: match args.variance {
                    Variance::FixedSmall => DdpmVariance::Small,
                    Variance::FixedLarge => DdpmVariance::Large,
                },
            },
            SamplerName::Ddim => Scheduler::Ddim { eta: args.eta, set_alpha_to_one: args.set_alpha_to_one, consistent_prev: args.consistent_prev },
            SamplerName::Euler => Scheduler::Euler { final_sigma_min: matches!(args.final_sigmas, Some(FinalSigmas::SigmaMin)) },
            SamplerName::EulerAncestral => Scheduler::EulerAncestral,
            SamplerName::Heun => Scheduler::Heun,
            SamplerName::Deis => Scheduler::Deis { order: args.order, final_sigma_min: args.final_sigmas.is_none_or(|f| matches!(f, FinalSigmas::SigmaMin)) },
            SamplerName::Unipc => Scheduler::UniPc { order: args.order, final_sigma_min: matches!(args.final_sigmas, Some(FinalSigmas::SigmaMin)) },
            SamplerName::DpmSolverPp if args.singlestep => Scheduler::DpmSolverSinglestep { order: args.order, final_sigma_min: matches!(args.final_sigmas, Some(FinalSigmas::SigmaMin)) },
            SamplerName::DpmSolverPp => Scheduler::DpmSolverPp { order: args.order, noise_level: 0.0, final_sigma_min: matches!(args.final_sigmas, Some(FinalSigmas::SigmaMin)), karras: args.karras, corrected: args.corrected },
            SamplerName::SdeDpmSolverPp => Scheduler::DpmSolverPp { order: args.order, noise_level: 1.0, final_sigma_min: matches!(args.final_sigmas, Some(FinalSigmas::SigmaMin)), karras: args.karras, corrected: args.corrected },
            SamplerName::DpmSolver => Scheduler::DpmSolver { order: args.order, final_sigma_min: matches!(args.final_sigmas, Some(FinalSigmas::SigmaMin)), karras: args.karras, corrected: args.corrected },
            other => bail!("sampler {other:?} is not available with the diffusers conventions of {} yet (ddpm, ddim, euler, euler-ancestral, heun, dpm-solver, dpm-solver++, sde-dpm-solver++, deis, unipc are)", args.schedule),
        };
        let default_spacing = match scheduler {
            Scheduler::Ddpm { .. } | Scheduler::Ddim { .. } => Spacing::Leading,
            _ => Spacing::Linspace,
        };
        let config = Config {
            beta: beta_by_name(&args.schedule)?,
            scheduler,
            steps: args.steps,
            spacing: args.spacing.unwrap_or(default_spacing),
            steps_offset: args.steps_offset,
        };
        config.exact_law(&target)?
    } else {
        let sampler = continuous_sampler(&args)?;
        let (sch, times) = continuous_grid(&args)?;
        let t_max = times[0];
        // Start from the usual prior N(0, σ_T² I).
        let x = Form::gaussian(vec![0.0; eig.len()], vec![sch.sigma(t_max); eig.len()]);
        let out = sampler.run(sch.as_ref(), &times, x, &target, &mut FormNoise::after(1));
        (out.c.clone(), out.variance())
    };
    ensure!(
        out_mean.iter().chain(&out_var).all(|v| v.is_finite()),
        "the output law is not finite (a step evaluated the score where it is undefined)"
    );
    let w2 = w2_commuting(&out_mean, &out_var, &mean, &eig);
    let kl = kl_commuting(&out_mean, &out_var, &mean, &eig);
    if args.csv {
        println!("coord,mean,variance,target_mean,target_variance");
        for i in 0..eig.len() {
            println!(
                "{i},{:?},{:?},{:?},{:?}",
                out_mean[i], out_var[i], mean[i], eig[i]
            );
        }
    } else {
        println!(
            "{:>6} {:>22} {:>22} {:>14} {:>14}",
            "coord", "mean", "variance", "target mean", "target var"
        );
        for i in 0..eig.len() {
            println!(
                "{i:>6} {:>22.15e} {:>22.15e} {:>14.6e} {:>14.6e}",
                out_mean[i], out_var[i], mean[i], eig[i]
            );
        }
        println!("W2(output, target) = {w2:.6e}");
        println!("KL(output ‖ target) = {kl:.6e}");
    }
    Ok(())
}

/// The sampler of a continuous schedule: the one name-to-sampler mapping is `cli::continuous_sampler`.
fn continuous_sampler(args: &Args) -> Result<Sampler> {
    use diffusion_claims::cli::SamplerName as Continuous;
    let name = match args.sampler {
        SamplerName::Ddpm => Continuous::Ddpm,
        SamplerName::Ddim => Continuous::Ddim,
        SamplerName::Euler => Continuous::Euler,
        SamplerName::EulerAncestral => Continuous::EulerAncestral,
        SamplerName::DpmSolver => Continuous::DpmSolver,
        SamplerName::DpmSolverPp => Continuous::DpmSolverPp,
        SamplerName::SdeDpmSolverPp => Continuous::SdeDpmSolverPp,
        SamplerName::Deis => Continuous::Deis,
        SamplerName::EdmEuler => Continuous::EdmEuler,
        SamplerName::EdmHeun => Continuous::EdmHeun,
        SamplerName::Em => Continuous::Em,
        SamplerName::Heun => Continuous::Heun,
        SamplerName::Rk4 => Continuous::Rk4,
        SamplerName::Unipc => bail!(
            "Unipc of order {} is not available on a continuous schedule (it runs with diffusers' conventions on the DDPM tables)",
            args.order
        ),
    };
    let variance = match args.variance {
        Variance::FixedSmall => DdpmVariance::Small,
        Variance::FixedLarge => DdpmVariance::Large,
    };
    diffusion_claims::cli::continuous_sampler(name, args.eta, args.order, variance)
}

/// The continuous schedule and the time grid (the same as the Gaussian route's).
fn continuous_grid(args: &Args) -> Result<(Box<dyn schedule::Schedule>, Vec<f64>)> {
    let sch = schedule::by_name(&args.schedule)
        .with_context(|| format!("unknown schedule {:?}", args.schedule))?;
    let (t_min, t_max) = sch.t_range();
    let times = match args.grid {
        Grid::UniformLogsnr => uniform_logsnr(sch.as_ref(), t_max, t_min, args.steps)?,
        Grid::UniformT => uniform_t(t_max, t_min, args.steps)?,
    };
    Ok((sch, times))
}

/// A 1-D non-Gaussian target: the exact law by quadrature from the prior N(0, σ_T²).
fn run_1d(args: &Args, spec: &TargetSpec) -> Result<()> {
    ensure!(
        spec.dim() == 1,
        "--target: a {}-dimensional {} has no exact law here (non-Gaussian targets: 1-D only)",
        spec.dim(),
        spec.kind()
    );
    ensure!(args.steps >= 1, "--steps must be at least 1");
    ensure!(
        (0.0..=1.0).contains(&args.eta),
        "--eta must be in [0, 1] (got {})",
        args.eta
    );
    ensure!(
        !args.schedule.starts_with("ddpm-"),
        "--target {}: the quadrature engine runs on continuous schedules (vp-linear, ...), not the diffusers conventions of {}",
        spec.kind(),
        args.schedule
    );
    let data = spec.to_density1d()?;
    let sampler = continuous_sampler(args)?;
    let (sch, times) = continuous_grid(args)?;
    let law = output_law(
        sampler,
        sch.as_ref(),
        &times,
        &data,
        Start::Prior,
        Accuracy::default(),
    )?;
    let (m, v) = law.mean_var();
    let rows: Vec<(&str, f64)> = vec![
        ("w1", law.w1),
        ("w2", law.w2),
        ("ks", law.ks),
        ("tv", law.tv),
        ("kl", law.kl),
        ("mean", m),
        ("variance", v),
        ("target_mean", data.mean()),
        ("stated_error_w2", law.error.w2),
        ("stated_error_kl", law.error.kl),
        ("monotone", if law.monotone { 1.0 } else { 0.0 }),
        ("nodes", law.nodes as f64),
    ];
    if let Some(path) = &args.density {
        let sd = v.sqrt();
        let xs: Vec<f64> = (0..=400)
            .map(|i| m - 6.0 * sd + 12.0 * sd * i as f64 / 400.0)
            .collect();
        let ps = law.density_on(&xs)?;
        let mut text = String::from("x,density\n");
        for (x, p) in xs.iter().zip(&ps) {
            text.push_str(&format!("{x:?},{p:?}\n"));
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).with_context(|| format!("--density {}", path.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("--density {}", path.display()))?;
    }
    if args.csv {
        println!("quantity,value");
        for (q, v) in rows {
            println!("{q},{v:?}");
        }
    } else {
        println!(
            "{} on a 1-D {} target, {} steps ({:?} route, {} nodes):",
            sampler.label(),
            spec.kind(),
            args.steps,
            law.route,
            law.nodes
        );
        for (q, v) in rows {
            println!("{q:>16} = {v:.6e}");
        }
    }
    Ok(())
}
