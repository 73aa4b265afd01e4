//! `sampler_law` (to be written).
fn main() {
    eprintln!("sampler_law: not implemented yet");
    std::process::exit(2);
}
