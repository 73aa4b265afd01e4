//! Run every registered claim and write `results/` (summary.csv, REPORT.md, per-claim CSV and SVG).
fn main() {
    diffusion_claims::cli::exit_with(diffusion_claims::cli::main_for(None));
}
