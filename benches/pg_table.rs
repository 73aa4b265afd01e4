//! Bench `pg_table`: the whole ICML 2025 table of Pierret & Galerne (every discrete cell: 6 schemes × 4 ε
//! × 4 NFE × 2 initialisations, Heun with the table's N = NFE) through the exact-law engine, on the
//! authors' spectrum (or the synthetic one if absent). Repeated runs; min and median wall time.
use diffusion_claims::pg;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let reps: usize = std::env::var("PG_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let (eig, what, _) = pg::pg_spectrum()?;
    let data = pg::data_law(&eig, None)?;
    let cells = pg::table_cells(&pg::paper_schemes(), pg::HeunBudget::TableBug);
    let steps: usize = cells.iter().map(|c| c.grid_points - 1).sum();
    println!(
        "pg_table: {} cells, {} steps in all, d = {}, on {what}; threads = {}",
        cells.len(),
        steps,
        eig.len(),
        rayon::current_num_threads()
    );
    if std::env::var("PG_BENCH_SCHEMES").is_ok() {
        for s in pg::all_schemes() {
            let t0 = Instant::now();
            let l = pg::engine_law(&s, &data, 1000, 1e-3, pg::Init::N0)?;
            let dt = t0.elapsed().as_secs_f64();
            println!(
                "{:>14}: N = 1000: {:.4} s, w2 = {}",
                s.name,
                dt,
                l.w2_to(&vec![0.0; eig.len()], &eig)
            );
        }
    }
    let mut times = Vec::new();
    let mut check = 0.0;
    for _ in 0..reps {
        let t0 = Instant::now();
        let w = pg::table_w2(&cells, &data)?;
        times.push(t0.elapsed().as_secs_f64());
        check = w.iter().filter(|v| v.is_finite()).sum::<f64>();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "pg_table: min {:.4} s, median {:.4} s over {reps} runs (sum of finite W2 = {check:.6})",
        times[0],
        times[reps / 2]
    );
    Ok(())
}
