//! Reverse dynamics (CLAIMS §4): RV-1 (reverse SDE), RV-2 (McAllester's reverse-noise family and the slide's
//! noise scaling), RV-3 (probability-flow ODE), RV-4 (Gaussian reverse conditionals), RV-5 (temperature).
//!
//! The reverse-noise family, in reverse time τ = T − t (CONV-8):
//! dY = −[f Y − ((1+λ)/2) g² ∇log p_t(Y)] dτ + √λ g dW, λ = `noise_level`.

mod common;
mod rv_1;
mod rv_2;
mod rv_3;
mod rv_4;
mod rv_5;

use crate::claims::Claim;

const FAMILY: &str = "reverse";

pub fn claims() -> Vec<Claim> {
    vec![
        rv_1::claim(),
        rv_2::claim(),
        rv_3::claim(),
        rv_4::claim(),
        rv_5::claim(),
    ]
}
