//! Benchmark `pg_table` (to be written).
fn main() {}
