//! `guidance`: the exact output law of classifier-free guided sampling (CLAIMS GD-3), compared with the
//! tilted target p(x|c)^w p(x)^{1−w}/Z and with the conditional p(x|c).
//!
//! The class-conditional (`--cond`) and unconditional (`--uncond`) laws are target files (the JSON of
//! `sampler_law --target`). Two Gaussians (any dimension, any covariances): the guided field is affine, the
//! sampler runs on affine forms with full matrices and the output law is an exact Gaussian, started from the
//! Gaussian whose score is the guided field at the start time. 1-D mixtures (or a mixture and a 1-D Gaussian):
//! the exact 1-D law engine, started from the sampler's usual prior N(0, σ_T²), the tilted density normalised
//! by quadrature.

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use diffusion_claims::cli::{continuous_sampler, SamplerName};
use diffusion_claims::guidance::{
    distances_1d, guided_gaussian_law, tilted_gaussian, Cfg, Normalised1d,
};
use diffusion_claims::law1d::{output_law_model, Accuracy, Density1d};
use diffusion_claims::metrics::{kl_gaussian, w2_gaussian};
use diffusion_claims::sampler::{uniform_logsnr, Sampler};
use diffusion_claims::schedule::{self, Schedule};
use diffusion_claims::target_spec::TargetSpec;

/// Exact output law of classifier-free guided sampling, with its distance to the tilted target
/// p(x|c)^w p(x)^(1−w)/Z and to the conditional p(x|c), for each guidance scale w (w = 1: the conditional
/// model; Ho–Salimans' w_HS = w − 1).
#[derive(Parser, Debug)]
#[command(version, about = "Exact output law of guided sampling (classifier-free guidance at scales w) against the tilted target p(x|c)^w p(x)^(1-w)/Z, on Gaussian targets in any dimension or 1-D mixtures", long_about = None)]
struct Args {
    /// Class-conditional law p(x|c): a target file ({"gaussian": ...} in any dimension, or a 1-D
    /// {"mixture": ...}).
    #[arg(long)]
    cond: std::path::PathBuf,
    /// Unconditional law p(x): a target file of the same dimension.
    #[arg(long)]
    uncond: std::path::PathBuf,
    /// Guidance scales, comma-separated (DPM-Solver convention: ε̃ = ε̂_u + w(ε̂_c − ε̂_u)), e.g. 1,1.5,3.
    #[arg(long, allow_hyphen_values = true)]
    w: String,
    /// A continuous schedule: vp-linear | sub-vp | ve | edm | ou | brownian | rectified-flow | cosine-vp.
    #[arg(long, default_value = "vp-linear")]
    schedule: String,
    #[arg(long, value_enum)]
    sampler: SamplerName,
    /// Number of sampling steps (≥ 1), on a grid uniform in λ = log(α/σ).
    #[arg(long)]
    steps: usize,
    /// DDIM η ∈ [0, 1].
    #[arg(long, default_value_t = 0.0)]
    eta: f64,
    /// Solver order (DPM-Solver family, DEIS).
    #[arg(long, default_value_t = 2)]
    order: usize,
    /// Start time (default: the schedule's T).
    #[arg(long)]
    t_start: Option<f64>,
    /// End time (default: the schedule's t_min).
    #[arg(long)]
    t_end: Option<f64>,
    /// Print tidy CSV rows w,sampler,steps,quantity,value (quantities mean and variance in 1-D,
    /// trace_covariance, w2_to_tilted, kl_to_tilted, w2_to_conditional, kl_to_conditional; a blank value
    /// where the tilted density does not exist).
    #[arg(long)]
    csv: bool,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

/// The guidance scales of `--w`.
fn parse_scales(text: &str) -> Result<Vec<f64>> {
    let ws = text
        .split(',')
        .map(|s| {
            let v: f64 = s
                .trim()
                .parse()
                .with_context(|| format!("--w: {s:?} is not a number"))?;
            ensure!(v.is_finite(), "--w: {s:?} is not finite");
            Ok(v)
        })
        .collect::<Result<Vec<f64>>>()?;
    ensure!(!ws.is_empty(), "--w is empty");
    Ok(ws)
}

/// One output row: a quantity and its value (None: blank, with the reason printed on stderr).
type Row = (String, Option<f64>);

fn run() -> Result<()> {
    let args = Args::parse();
    let ws = parse_scales(&args.w)?;
    ensure!(args.steps >= 1, "--steps must be at least 1");
    ensure!(
        (0.0..=1.0).contains(&args.eta),
        "--eta must be in [0, 1] (got {})",
        args.eta
    );
    let cond = TargetSpec::from_file(&args.cond)
        .with_context(|| format!("--cond {}", args.cond.display()))?;
    let uncond = TargetSpec::from_file(&args.uncond)
        .with_context(|| format!("--uncond {}", args.uncond.display()))?;
    ensure!(
        cond.dim() == uncond.dim(),
        "dimension mismatch: --cond has dimension {} but --uncond has {}",
        cond.dim(),
        uncond.dim()
    );
    let sch = schedule::by_name(&args.schedule).with_context(|| {
        format!(
            "unknown schedule {:?} (continuous schedules: vp-linear, sub-vp, ve, edm, ou, brownian, rectified-flow, cosine-vp)",
            args.schedule
        )
    })?;
    let sampler = continuous_sampler(
        args.sampler,
        args.eta,
        args.order,
        diffusion_claims::sampler::DdpmVariance::Small,
    )?;
    let (t_min, t_max) = sch.t_range();
    let (t1, t0) = (args.t_start.unwrap_or(t_max), args.t_end.unwrap_or(t_min));
    ensure!(
        t1.is_finite() && t0.is_finite() && t1 > t0 && t0 >= 0.0,
        "need --t-start > --t-end ≥ 0 (got {t1} and {t0})"
    );
    let times = uniform_logsnr(sch.as_ref(), t1, t0, args.steps)?;
    let gaussian = cond.kind() == "gaussian" && uncond.kind() == "gaussian";
    if !gaussian {
        ensure!(
            cond.dim() == 1,
            "a {}/{} pair of dimension {} has no exact law here: mixtures go through the exact 1-D engine (1-D only); Gaussians in any dimension",
            cond.kind(),
            uncond.kind(),
            cond.dim()
        );
    }
    let mut out: Vec<(f64, Vec<Row>)> = Vec::new();
    for &w in &ws {
        let rows = if gaussian {
            gaussian_rows(&cond, &uncond, w, sampler, sch.as_ref(), &times)?
        } else {
            mixture_rows(&cond, &uncond, w, sampler, sch.as_ref(), &times)?
        };
        out.push((w, rows));
    }
    let label = sampler.label();
    if args.csv {
        println!("w,sampler,steps,quantity,value");
        for (w, rows) in &out {
            for (q, v) in rows {
                let v = v.map_or(String::new(), |v| format!("{v:?}"));
                println!("{w:?},{label},{},{q},{v}", args.steps);
            }
        }
    } else {
        println!(
            "{label}, {} steps on {} from t = {t1} to {t0}:",
            args.steps, args.schedule
        );
        for (w, rows) in &out {
            println!("w = {w} (Ho–Salimans w_HS = {}):", w - 1.0);
            for (q, v) in rows {
                match v {
                    Some(v) => println!("  {q:>20} = {v:.6e}"),
                    None => println!("  {q:>20} = (none)"),
                }
            }
        }
    }
    Ok(())
}

/// Two Gaussians: the exact Gaussian output law (affine forms with full matrices).
fn gaussian_rows(
    cond: &TargetSpec,
    uncond: &TargetSpec,
    w: f64,
    sampler: Sampler,
    sch: &dyn Schedule,
    times: &[f64],
) -> Result<Vec<Row>> {
    let (c, u) = (cond.to_gaussian()?, uncond.to_gaussian()?);
    let (m, v) =
        guided_gaussian_law(sampler, sch, times, &c, &u, w).with_context(|| format!("w = {w}"))?;
    ensure!(
        m.iter().chain(v.iter()).all(|x| x.is_finite()),
        "w = {w}: the output law is not finite (a step evaluated the field where it is undefined)"
    );
    let mut rows: Vec<Row> = Vec::new();
    if c.dim() == 1 {
        rows.push(("mean".into(), Some(m[0])));
        rows.push(("variance".into(), Some(v[(0, 0)])));
    }
    rows.push(("trace_covariance".into(), Some(v.trace())));
    match tilted_gaussian(&c, &u, w) {
        Ok(t) => {
            rows.push(("tilted_mean_norm".into(), Some(t.mean.norm())));
            rows.push((
                "w2_to_tilted".into(),
                Some(w2_gaussian(&m, &v, &t.mean, &t.covariance())?),
            ));
            rows.push((
                "kl_to_tilted".into(),
                Some(kl_gaussian(&m, &v, &t.mean, &t.covariance())?),
            ));
        }
        Err(e) => {
            eprintln!("note: w = {w}: {e:#}; w2_to_tilted and kl_to_tilted are blank");
            rows.push(("w2_to_tilted".into(), None));
            rows.push(("kl_to_tilted".into(), None));
        }
    }
    rows.push((
        "w2_to_conditional".into(),
        Some(w2_gaussian(&m, &v, &c.mean, &c.covariance())?),
    ));
    let kl_c = if c.eigvals.min() > 0.0 {
        Some(kl_gaussian(&m, &v, &c.mean, &c.covariance())?)
    } else {
        None
    };
    rows.push(("kl_to_conditional".into(), kl_c));
    Ok(rows)
}

/// Quadrature grid intervals for the 1-D distances.
const GRID: usize = 2000;

/// 1-D laws with a mixture: the exact 1-D engine from the prior N(0, σ_T²).
fn mixture_rows(
    cond: &TargetSpec,
    uncond: &TargetSpec,
    w: f64,
    sampler: Sampler,
    sch: &dyn Schedule,
    times: &[f64],
) -> Result<Vec<Row>> {
    let (c, u) = (cond.to_density1d()?, uncond.to_density1d()?);
    let comps = |d: &Density1d| -> Result<(Vec<f64>, Vec<f64>)> {
        match d {
            Density1d::Mixture { means, vars, .. } => Ok((means.clone(), vars.clone())),
            _ => bail!("not a mixture"),
        }
    };
    let ((mc, vc), (mu, vu)) = (comps(&c)?, comps(&u)?);
    ensure!(
        vc.iter().chain(&vu).all(|v| *v > 0.0),
        "the exact 1-D engine needs positive component variances"
    );
    let sigma_t = sch.sigma(times[0]);
    let start = (Density1d::gaussian(0.0, sigma_t * sigma_t)?, 1.0, 0.0);
    let model = Cfg::new(c.clone(), u.clone(), w);
    let law = output_law_model(sampler, sch, times, &model, start, &c, Accuracy::default())
        .with_context(|| format!("w = {w}"))?;
    let (m, v) = law.mean_var();
    let mut rows: Vec<Row> = vec![
        ("mean".into(), Some(m)),
        ("variance".into(), Some(v)),
        ("trace_covariance".into(), Some(v)),
    ];
    // The tilted density's tails: ln p ~ −y²/(2 v_max) for a mixture, so the tilted log-density has the
    // quadratic coefficient a = w/(2 v_c,max) + (1 − w)/(2 v_u,max); it is normalisable iff a > 0.
    let (vcm, vum) = (
        vc.iter().cloned().fold(0.0, f64::max),
        vu.iter().cloned().fold(0.0, f64::max),
    );
    let a = w / (2.0 * vcm) + (1.0 - w) / (2.0 * vum);
    if a > 0.0 {
        let sd = vcm.max(vum).sqrt().max((0.5 / a).sqrt());
        let lo = mc.iter().chain(&mu).cloned().fold(f64::INFINITY, f64::min) - 12.0 * sd;
        let hi = mc
            .iter()
            .chain(&mu)
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max)
            + 12.0 * sd;
        let log_tilted = |y: f64| w * c.log_pdf(y) + (1.0 - w) * u.log_pdf(y);
        let tilted = Normalised1d::new(&log_tilted, lo, hi);
        let d = distances_1d(&law, &tilted, GRID)?;
        rows.push(("tilted_mean".into(), Some(tilted.mean)));
        rows.push(("tilted_variance".into(), Some(tilted.var)));
        rows.push(("w2_to_tilted".into(), Some(d.w2)));
        rows.push(("kl_to_tilted".into(), Some(d.kl)));
        rows.push(("w1_to_tilted".into(), Some(d.w1)));
    } else {
        eprintln!(
            "note: w = {w}: the tilted density p(x|c)^w p(x)^(1-w) is not normalisable (its log-density grows like {:.3} y² in the tails); w2_to_tilted and kl_to_tilted are blank",
            -a
        );
        rows.push(("w2_to_tilted".into(), None));
        rows.push(("kl_to_tilted".into(), None));
    }
    rows.push(("w2_to_conditional".into(), Some(law.w2)));
    rows.push(("kl_to_conditional".into(), Some(law.kl)));
    rows.push(("stated_error_w2_to_conditional".into(), Some(law.error.w2)));
    Ok(rows)
}
