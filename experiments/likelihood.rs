//! `likelihood`: log p₀ at given points of a target file by one of three routes (CLAIMS §10, LK-1/LK-3):
//! the probability-flow ODE with the instantaneous change of variables, McAllester's I-MMSE formula, or
//! the target's closed form.

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, ValueEnum};
use diffusion_claims::law1d::Density1d;
use diffusion_claims::likelihood::{
    immse_neg_log_density, log_normal_iso, ode_log_likelihood, ode_start_time, ImmseQuadrature,
    NormalRule,
};
use diffusion_claims::schedule::{self, Schedule};
use diffusion_claims::target::Mixture;
use diffusion_claims::target_spec::TargetSpec;
use nalgebra::DVector;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Method {
    /// PF-ODE from the point at t ≈ 0 to the schedule's T, RK4 on (x, ∫∇·v dt) jointly, --steps steps on a
    /// grid quadratic in t; needs the exact score and its Jacobian: gaussian and mixture targets (any
    /// dimension, positive-definite covariances).
    Ode,
    /// McAllester's I-MMSE formula −ln p₀(y) = E[−ln p_T(y + √τ_T ε)] + ∫₀^{τ_T} (E‖y − ŷ‖² − dτ)/(2τ²) dτ in
    /// VE-ised variables (τ = σ²/α²), --steps Gauss–Legendre panels in log τ; needs the exact denoiser:
    /// gaussian (any dimension, per eigen-coordinate), mixture (dimension ≤ 3), and 1-D uniform, laplace,
    /// beta (denoiser by quadrature).
    Immse,
    /// The target's own density: every kind (gaussian and mixture with positive-definite covariances).
    ClosedForm,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Ode => "ode",
            Method::Immse => "immse",
            Method::ClosedForm => "closed-form",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Prior {
    /// The exact p_T of the target at the schedule's T.
    Exact,
    /// N(0, I) in place of p_T (the usual VP prior; error → 0 as α_T → 0).
    StandardNormal,
}

/// log p₀ at each point of --points by the PF-ODE (`ode`), McAllester's I-MMSE formula (`immse`) or the
/// closed form (`closed-form`).
#[derive(Parser, Debug)]
#[command(version, about = "log p0 at your points by the PF-ODE (RK4 on state and log-det), McAllester's I-MMSE formula or the closed form", long_about = None)]
struct Args {
    /// Target specification file (JSON, one key naming the kind): {"gaussian": {"mean", "covariance" or
    /// "eigenvalues"}}, {"mixture": {"weights", "means", "covariances"}}, and in 1-D {"uniform": {"low",
    /// "high"}}, {"laplace": {"location", "scale"}}, {"beta": {"a", "b", "low", "high"}}.
    #[arg(long)]
    target: PathBuf,
    /// Points file: one point per line, d comma-separated numbers (d = the target's dimension), no header.
    #[arg(long)]
    points: PathBuf,
    /// Continuous schedule: vp-linear | sub-vp | ve | edm | ou | brownian | rectified-flow | cosine-vp. T is
    /// the end of its range. `ode` needs α(0) = 1, σ(0) = 0 (not ve); `closed-form` ignores it.
    #[arg(long)]
    schedule: String,
    #[arg(long, value_enum)]
    method: Method,
    /// ode: RK4 steps; immse: Gauss–Legendre panels in log τ (8 nodes each); closed-form: ignored (≥ 1).
    #[arg(long)]
    steps: usize,
    /// The law at T used by ode and immse.
    #[arg(long, value_enum, default_value = "exact")]
    prior: Prior,
    /// Print CSV `point,method,log_density` (point = 0-based index of the point in the file).
    #[arg(long)]
    csv: bool,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

/// The points of a file: one per non-empty line, `d` comma-separated finite numbers.
fn read_points(path: &Path, d: usize) -> Result<Vec<DVector<f64>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--points: cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        ensure!(
            fields.len() == d,
            "--points {} line {}: {} numbers, but the target has dimension {d}",
            path.display(),
            i + 1,
            fields.len()
        );
        let mut v = DVector::zeros(d);
        for (j, f) in fields.iter().enumerate() {
            let x: f64 = f.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--points {} line {}: field {} ({f:?}) is not a number",
                    path.display(),
                    i + 1,
                    j + 1
                )
            })?;
            ensure!(
                x.is_finite(),
                "--points {} line {}: field {} is {x}, not a finite number",
                path.display(),
                i + 1,
                j + 1
            );
            v[j] = x;
        }
        out.push(v);
    }
    ensure!(!out.is_empty(), "--points {}: no points", path.display());
    Ok(out)
}

/// A gaussian or mixture target as a `Mixture`, its covariances checked positive definite (the density
/// and the score at t = 0 need Σ_k⁻¹).
fn mixture_pd(spec: &TargetSpec, what: &str) -> Result<Mixture> {
    let mix = spec.to_mixture()?;
    for (k, c) in mix.covs.iter().enumerate() {
        let min = nalgebra::SymmetricEigen::new(c.clone()).eigenvalues.min();
        ensure!(
            min > 0.0,
            "{what} needs positive-definite covariances; component {k} has smallest eigenvalue {min:e} (the density at t = 0 does not exist)"
        );
    }
    Ok(mix)
}

fn run() -> Result<()> {
    let args = Args::parse();
    let spec = TargetSpec::from_file(&args.target)
        .with_context(|| format!("--target {}", args.target.display()))?;
    ensure!(args.steps >= 1, "--steps must be at least 1");
    let sch = schedule::by_name(&args.schedule).with_context(|| {
        format!(
            "unknown schedule {:?} (continuous schedules: vp-linear, sub-vp, ve, edm, ou, brownian, rectified-flow, cosine-vp)",
            args.schedule
        )
    })?;
    let d = spec.dim();
    let points = read_points(&args.points, d)?;
    let values = match args.method {
        Method::ClosedForm => closed_form(&spec, &points)?,
        Method::Ode => ode(&spec, sch.as_ref(), &points, &args)?,
        Method::Immse => immse(&spec, sch.as_ref(), &points, &args)?,
    };
    if args.csv {
        println!("point,method,log_density");
        for (i, v) in values.iter().enumerate() {
            println!("{i},{},{v:?}", args.method.name());
        }
    } else {
        println!(
            "log p0 of a {}-dimensional {} target by {} (schedule {}, {} steps, prior {:?}):",
            d,
            spec.kind(),
            args.method.name(),
            sch.name(),
            args.steps,
            args.prior
        );
        for (i, (p, v)) in points.iter().zip(&values).enumerate() {
            let coords: Vec<String> = p.iter().map(|x| format!("{x}")).collect();
            println!("{i:>5}  ({})  {v:.12e}", coords.join(", "));
        }
    }
    Ok(())
}

fn closed_form(spec: &TargetSpec, points: &[DVector<f64>]) -> Result<Vec<f64>> {
    match spec {
        TargetSpec::Gaussian(_) | TargetSpec::Mixture(_) => {
            let mix = mixture_pd(spec, "--method closed-form")?;
            Ok(points
                .iter()
                .map(|p| mix.log_density(p, 1.0, 0.0))
                .collect())
        }
        _ => {
            let dens = spec.to_density1d()?;
            Ok(points.iter().map(|p| dens.log_pdf(p[0])).collect())
        }
    }
}

/// ln π(x_T) for the chosen prior at the schedule's T.
fn log_prior(mix: &Mixture, prior: Prior, x: &DVector<f64>, alpha: f64, sigma: f64) -> f64 {
    match prior {
        Prior::Exact => mix.log_density(x, alpha, sigma),
        Prior::StandardNormal => log_normal_iso(x, 1.0),
    }
}

fn ode(
    spec: &TargetSpec,
    sch: &dyn Schedule,
    points: &[DVector<f64>],
    args: &Args,
) -> Result<Vec<f64>> {
    let mix = match spec {
        TargetSpec::Gaussian(_) | TargetSpec::Mixture(_) => mixture_pd(spec, "--method ode")?,
        _ => bail!(
            "--method ode needs the exact score and its Jacobian, available for gaussian and mixture targets; a {} target supports --method immse or closed-form",
            spec.kind()
        ),
    };
    let t_end = sch.t_range().1;
    let t0 = ode_start_time(sch, t_end).with_context(|| {
        format!(
            "--method ode: schedule {} has α(0) = {}, σ(0) = {}: its t = 0 marginal is not the data law (use --method immse or closed-form)",
            sch.name(),
            sch.alpha(0.0),
            sch.sigma(0.0)
        )
    })?;
    let (a, s) = (sch.alpha(t_end), sch.sigma(t_end));
    points
        .iter()
        .map(|p| {
            ode_log_likelihood(sch, &mix, p, t0, t_end, args.steps, &|x| {
                log_prior(&mix, args.prior, x, a, s)
            })
        })
        .collect()
}

fn immse(
    spec: &TargetSpec,
    sch: &dyn Schedule,
    points: &[DVector<f64>],
    args: &Args,
) -> Result<Vec<f64>> {
    let t_end = sch.t_range().1;
    let (a_t, s_t) = (sch.alpha(t_end), sch.sigma(t_end));
    let tau_max = (s_t / a_t).powi(2);
    // The prior in VE-ised variables z = x/α: −ln π^z(z) = −ln π(α_T z) − d ln α_T.
    let std_normal =
        |z: &DVector<f64>| -log_normal_iso(&(z * a_t), 1.0) - z.len() as f64 * a_t.ln();
    let quad = |d: usize| ImmseQuadrature {
        panels: args.steps,
        tau_min: 1e-8,
        normal: match d {
            1 => NormalRule::legendre(10.0, 60),
            2 => NormalRule::hermite(48),
            _ => NormalRule::hermite(16),
        },
    };
    // 1-D laws (the law1d engine's denoiser), one per coordinate.
    let one_d = |dens: &Density1d, y: f64| -> f64 {
        let yv = DVector::from_element(1, y);
        immse_neg_log_density(
            &|z, tau| DVector::from_element(1, dens.denoise(z[0], 1.0, tau.sqrt()).0),
            &|z| match args.prior {
                Prior::Exact => -dens.marginal_log_pdf(z[0], 1.0, tau_max.sqrt()),
                Prior::StandardNormal => std_normal(z),
            },
            &yv,
            tau_max,
            &quad(1),
        )
    };
    match spec {
        TargetSpec::Gaussian(_) => {
            // Independent coordinates in Σ's eigenbasis; N(0, I) and p_T factorise there.
            let g = spec.to_gaussian()?;
            if let Some((i, l)) = g.eigvals.iter().enumerate().find(|(_, l)| **l <= 0.0) {
                bail!("--method immse needs a positive-definite covariance; eigenvalue {i} is {l}");
            }
            let laws = g
                .eigen_mean()
                .iter()
                .zip(g.eigvals.iter())
                .map(|(m, l)| Density1d::gaussian(*m, *l))
                .collect::<Result<Vec<_>>>()?;
            Ok(points
                .iter()
                .map(|p| {
                    let y = g.to_eigen(p);
                    -laws
                        .iter()
                        .zip(y.iter())
                        .map(|(law, yi)| one_d(law, *yi))
                        .sum::<f64>()
                })
                .collect())
        }
        TargetSpec::Mixture(_) => {
            let mix = mixture_pd(spec, "--method immse")?;
            let d = mix.dim();
            ensure!(
                d <= 3,
                "--method immse on a mixture uses a tensor quadrature over ε, for dimension ≤ 3 (this target has {d})"
            );
            let q = quad(d);
            Ok(points
                .iter()
                .map(|y| {
                    -immse_neg_log_density(
                        &|z, tau| mix.denoise(z, 1.0, tau.sqrt()),
                        &|z| match args.prior {
                            Prior::Exact => -mix.log_density(z, 1.0, tau_max.sqrt()),
                            Prior::StandardNormal => std_normal(z),
                        },
                        y,
                        tau_max,
                        &q,
                    )
                })
                .collect())
        }
        _ => {
            let dens = spec.to_density1d()?;
            Ok(points.iter().map(|p| -one_d(&dens, p[0])).collect())
        }
    }
}
