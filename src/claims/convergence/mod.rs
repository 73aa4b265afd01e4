//! Convergence of samplers (CLAIMS §12, TZ §4–5): initialisation (CV-1), score error (CV-2, CV-5) and
//! discretisation (CV-3, CV-4) — each bound shown holding, how tight it is, and where the observed rate
//! beats it, on data where the truth is exact (Gaussian forms, exact 1-D laws).
//!
//! The reverse-noise family, in reverse time τ = T − t (CONV-8):
//! dY = −[f Y − ((1+λ)/2) g² (∇log p_t(Y) + δ_t)] dτ + √λ g dW, λ = `noise_level`, δ the score error.

mod common;
mod cv_1;
mod cv_2;
mod cv_3;
mod cv_4;
mod cv_5;
mod data;

use crate::claims::Claim;

const FAMILY: &str = "convergence";

pub fn claims() -> Vec<Claim> {
    vec![
        cv_1::claim(),
        cv_2::claim(),
        cv_3::claim(),
        cv_4::claim(),
        cv_5::claim(),
    ]
}
