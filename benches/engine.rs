//! Benchmark `engine` (to be written).
fn main() {}
