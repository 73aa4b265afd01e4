//! Run the `discrete` family of claims (see `--list`) and write its evidence under `results/discrete/`.
fn main() {
    diffusion_claims::cli::exit_with(diffusion_claims::cli::main_for(Some("discrete")));
}
