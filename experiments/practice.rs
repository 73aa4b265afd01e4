//! Run the `practice` family of claims (see `--list`) and write its evidence under `results/practice/`.
fn main() {
    diffusion_claims::cli::exit_with(diffusion_claims::cli::main_for(Some("practice")));
}
