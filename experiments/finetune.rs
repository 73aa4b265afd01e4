//! Run the `finetune` family of claims (see `--list`) and write its evidence under `results/finetune/`.
fn main() {
    diffusion_claims::cli::exit_with(diffusion_claims::cli::main_for(Some("finetune")));
}
