//! Run the `reverse` family of claims (see `--list`) and write its evidence under `results/reverse/`.
fn main() {
    diffusion_claims::cli::exit_with(diffusion_claims::cli::main_for(Some("reverse")));
}
