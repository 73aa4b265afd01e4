//! Claims of the `wasserstein` family: Pierret & Galerne (ICML 2025), "Diffusion models for Gaussian
//! distributions: exact solutions and Wasserstein errors", reproduced through the exact-law engine
//! (PG-TABLE, PG-FIG1-LEFT, PG-FIG1-RIGHT, PG-PROP, PG-ORDERS), and taken further (PG-DECOMP, PG-BEYOND,
//! FM-7). Published numbers: `data.rs` (from shared/PIERRET-GALERNE.md). "Reproduced to printed
//! precision" means |computed − printed| ≤ half a unit in the last printed digit (a printed "0" must be
//! exactly 0, "−" = +∞).
//!
//! Without the authors' eigenvalue file (`PG_EIGENVALUES` unset or empty): PG-FIG1-LEFT/RIGHT, which
//! compare nothing else, are SKIPPED with the reason; the others run on a synthetic spectrum, say so in
//! their detail, and judge only what needs no published number (engine vs recursion, inequalities,
//! orders). `PG_EIGENVALUES` set but unreadable is a FAIL, never a fallback.

mod common;
mod data;
mod fm_7;
mod pg_beyond;
mod pg_decomp;
mod pg_fig1_left;
mod pg_fig1_right;
mod pg_orders;
mod pg_prop;
mod pg_table;

pub use common::half_unit;

use crate::claims::Claim;

const FAMILY: &str = "wasserstein";

pub fn claims() -> Vec<Claim> {
    vec![
        pg_table::claim(),
        pg_fig1_left::claim(),
        pg_fig1_right::claim(),
        pg_prop::claim(),
        pg_orders::claim(),
        pg_decomp::claim(),
        pg_beyond::claim(),
        fm_7::claim(),
    ]
}
