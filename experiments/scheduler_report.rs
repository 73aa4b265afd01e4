//! `scheduler_report`: the health report of the `diffusers` scheduler matrix (issue 13 item 4; claim PR-5
//! runs the same report in the main job). For every configuration (scheduler × spacing × beta schedule,
//! Karras variants) the exact W2 between the library's output law and the data vs the number of steps, on
//! a small Gaussian and a power-law spectrum; writes a tidy CSV (one row per configuration, data law and
//! step count), the flags with their causes, and a heat map (SVG).

use anyhow::Result;
use clap::Parser;
use diffusion_claims::scheduler_report::{flags, full_matrix, heatmap_svg, run, targets};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Exact W2 to the data of every diffusers scheduler configuration, vs steps; flags and a heat map.
#[derive(Parser, Debug)]
#[command(version, about = "Health report of every diffusers scheduler configuration: exact W2 to the data vs steps on two Gaussians, with flagged configurations and their causes", long_about = None)]
struct Args {
    /// Step counts (comma-separated).
    #[arg(
        long,
        default_value = "5,10,20,50,100,200,500,1000",
        value_delimiter = ','
    )]
    steps: Vec<usize>,
    /// Dimension of the power-law spectrum.
    #[arg(long, default_value_t = 1024)]
    dim: usize,
    /// Output directory (report.csv, flags.csv, heatmap-TARGET.svg, TARGET = small | power-law).
    #[arg(long, default_value = "results/scheduler_report")]
    out: PathBuf,
    /// Only configurations whose label contains this.
    #[arg(long)]
    only: Option<String>,
}

fn main() {
    if let Err(e) = run_main() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn run_main() -> Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !args.steps.is_empty() && args.steps.iter().all(|&n| n >= 1),
        "--steps needs step counts ≥ 1"
    );
    let mut steps = args.steps.clone();
    steps.sort_unstable();
    steps.dedup();
    let entries: Vec<_> = full_matrix()
        .into_iter()
        .filter(|e| {
            args.only
                .as_ref()
                .is_none_or(|o| e.label.contains(o.as_str()))
        })
        .collect();
    let targets = targets(args.dim)?;
    let start = Instant::now();
    let series = run(&entries, &steps, &targets);
    let secs = start.elapsed().as_secs_f64();
    std::fs::create_dir_all(&args.out)?;
    let mut csv = std::fs::File::create(args.out.join("report.csv"))?;
    writeln!(
        csv,
        "configuration,beta,spacing,scheduler,data,steps,w2,error"
    )?;
    for s in &series {
        let e = &entries[s.entry];
        for (n, w) in steps.iter().zip(&s.w2) {
            let (w2, err) = match w {
                Ok(v) => (format!("{v:?}"), String::new()),
                Err(e) => (String::new(), e.replace(['"', '\n'], "'")),
            };
            writeln!(
                csv,
                "{},{},{},{},{},{n},{w2},\"{err}\"",
                e.label,
                e.config.beta.name(),
                e.spacing_label,
                e.scheduler_label,
                targets[s.target].name
            )?;
        }
    }
    let mut fl = std::fs::File::create(args.out.join("flags.csv"))?;
    writeln!(
        fl,
        "configuration,data,flag,cause,remedy,w2_last,landing_floor,limit_floor,prior_mismatch"
    )?;
    let mut count = 0;
    for s in &series {
        let e = &entries[s.entry];
        let t = &targets[s.target];
        for (f, c) in flags(s, e, t) {
            count += 1;
            let last = s.w2.last().and_then(|w| w.as_ref().ok().copied());
            writeln!(
                fl,
                "{},{},{},{},\"{}\",{},{:?},{:?},{:?}",
                e.label,
                t.name,
                f.name(),
                c.name(),
                c.remedy(),
                last.map(|v| format!("{v:?}")).unwrap_or_default(),
                s.landing_floor,
                s.limit_floor,
                s.prior_mismatch
            )?;
        }
    }
    for (ti, t) in targets.iter().enumerate() {
        std::fs::write(
            args.out.join(format!("heatmap-{}.svg", t.name)),
            heatmap_svg(&entries, &series, ti, &steps, t),
        )?;
    }
    println!(
        "{} configurations × {} data laws × {} step counts in {secs:.2} s ({} threads); {count} flags; written to {}",
        entries.len(),
        targets.len(),
        steps.len(),
        rayon::current_num_threads(),
        args.out.display()
    );
    Ok(())
}
