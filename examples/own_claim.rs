//! A claim of your own, checked by the crate's machinery and written as evidence (CSV, SVG, summary.csv,
//! REPORT.md) to a results folder.
//!
//! The claim: "DDIM (η = 0) is a first-order method", measured as the exact W2 between its output law
//! and the exact marginal p_{t_min} on a 2-d Gaussian, at 16 … 512 steps, with the fitted log-log slope and
//! its 95 % interval. The expectation (−1) comes from the theory, not from the code under test; the
//! verdict is PASS when the slope is within `tol::ORDER` (0.25: the pre-asymptotic curvature of such
//! error curves) of −1 — a second-order method (slope −2) or a broken one (no decay) fails.
//!
//! `cargo run --release --example own_claim -- /tmp/my-results` (default: target/own-claim-results)

use diffusion_claims::algebra::{Form, FormNoise};
use diffusion_claims::claims::{Claim, Ctx, Evidence, Scale};
use diffusion_claims::evidence::{Figure, Series, Table};
use diffusion_claims::metrics::{loglog_slope, w2_commuting};
use diffusion_claims::report::{write_all, Outcome};
use diffusion_claims::sampler::{uniform_logsnr, Sampler};
use diffusion_claims::schedule::{CosineVp, Schedule};
use diffusion_claims::target::Gaussian;
use diffusion_claims::tol;
use nalgebra::DVector;
use std::path::PathBuf;

fn check(ctx: &Ctx) -> anyhow::Result<Evidence> {
    let target = Gaussian::from_eigen(
        DVector::from_vec(vec![1.0, -0.5]),
        DVector::from_vec(vec![0.3, 2.0]),
        None,
    )?;
    let sch = CosineVp;
    let (t_min, t_max) = sch.t_range();
    let (m_end, v_end) = target.marginal(sch.alpha(t_min), sch.sigma(t_min));
    let steps: Vec<usize> = match ctx.scale {
        Scale::Quick => vec![16, 32, 64, 128],
        Scale::Full => vec![16, 32, 64, 128, 256, 512],
    };
    let mut table = Table::new("", &["steps", "w2_to_p_tmin"]);
    let mut points = Vec::new();
    for &n in &steps {
        let times = uniform_logsnr(&sch, t_max, t_min, n)?;
        let x = Form::marginal(&target, sch.alpha(t_max), sch.sigma(t_max));
        let out =
            Sampler::Ddim { eta: 0.0 }.run(&sch, &times, x, &target, &mut FormNoise::after(1));
        let w2 = w2_commuting(&out.c, &out.variance(), m_end.as_slice(), v_end.as_slice());
        table.push(vec![(n as f64).into(), w2.into()]);
        points.push((n as f64, w2));
    }
    let (x, y): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let fit = loglog_slope(&x, &y, 0.95)?;
    let order1: Vec<(f64, f64)> = x.iter().map(|&n| (n, y[0] * x[0] / n)).collect();
    let figure = Figure::new(
        "",
        "DDIM(η = 0): exact W2 to p_tmin",
        "steps N",
        "W2 (data units)",
    )
    .loglog()
    .with(Series::line("DDIM (exact law)", points))
    .with(Series::reference("order 1 (∝ 1/N)", order1));
    Ok(Evidence::close(
        fit.slope,
        -1.0,
        tol::ORDER,
        format!(
            "fitted slope {:.3}, 95% CI [{:.3}, {:.3}] (tolerance tol::ORDER: pre-asymptotic curvature)",
            fit.slope, fit.lo, fit.hi
        ),
    )
    .table(table)
    .figure(figure))
}

fn main() -> anyhow::Result<()> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("OWN_CLAIM_OUT").ok())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/own-claim-results"));
    let claim = Claim {
        id: "MY-1",
        family: "mine",
        source: "my paper, Prop. 1",
        statement: "DDIM (η = 0) converges at order 1 in the number of steps (exact W2 to p_tmin).",
        check,
    };
    let start = std::time::Instant::now();
    let evidence = claim.run_caught(Scale::Full, 1);
    println!(
        "{}: {} — {}",
        claim.id,
        evidence.verdict.name(),
        evidence.detail
    );
    let ok = evidence.verdict == diffusion_claims::claims::Verdict::Pass;
    let outcome = Outcome {
        claim,
        evidence,
        seconds: start.elapsed().as_secs_f64(),
    };
    for p in write_all(&out, &[outcome], "cargo run --release --example own_claim")? {
        println!("wrote {}", p.display());
    }
    anyhow::ensure!(ok, "the claim did not pass");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_runs_and_writes_its_evidence() {
        let dir = std::env::temp_dir().join("diffusion-claims-own-claim-example");
        let _ = std::fs::remove_dir_all(&dir);
        std::env::set_var("OWN_CLAIM_OUT", &dir);
        super::main().unwrap();
        for f in ["mine/MY-1.csv", "mine/MY-1.svg", "summary.csv", "REPORT.md"] {
            assert!(dir.join(f).is_file(), "{f} missing");
        }
    }
}
