//! DDPM/DDIM (CLAIMS §7): DD-1 (the η-family preserves q(x_t|x₀)), DD-2 (η = 1 ≡ DDPM-β̃), DD-3 (η = 0 ≡
//! Euler in (σ̄, x̄) ≡ DPM-Solver-1 ≡ DPM-Solver++1; ≡ plain Euler for affine schedules), DD-4 (DDPM vs
//! Euler–Maruyama of the reverse SDE), DD-5 (point mass), DD-6 (one ε-model, every η; the η trade-off).

mod common;
mod dd_1;
mod dd_2;
mod dd_3;
mod dd_4;
mod dd_5;
mod dd_6;

use crate::claims::Claim;

const FAMILY: &str = "discrete";

pub fn claims() -> Vec<Claim> {
    vec![
        dd_1::claim(),
        dd_2::claim(),
        dd_3::claim(),
        dd_4::claim(),
        dd_5::claim(),
        dd_6::claim(),
    ]
}
