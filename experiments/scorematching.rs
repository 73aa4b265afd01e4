//! Run the `scorematching` family of claims (see `--list`) and write its evidence under `results/scorematching/`.
fn main() {
    diffusion_claims::cli::exit_with(diffusion_claims::cli::main_for(Some("scorematching")));
}
