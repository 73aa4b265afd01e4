//! `wasserstein_gaussian` (to be written).
fn main() {
    eprintln!("wasserstein_gaussian: not implemented yet");
    std::process::exit(2);
}
