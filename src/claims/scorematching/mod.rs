//! Score matching and the family of training objectives (CLAIMS §5–6, issue 5): SM-1 (explicit = implicit
//! SM), SM-2 (denoising SM), SM-3 (ε-prediction), SM-4 (sliced SM), SM-5 (ISM minimiser = MLE), SM-6
//! (efficiency of SM vs MLE), SM-7 (flow matching), PZ-2 (pointwise parameterisation identities), PZ-3
//! (EDM preconditioning).
//!
//! Two routes everywhere: exact closed forms on Gaussian data with affine models (`losses::gaussian`),
//! and paired Monte Carlo (common random numbers) on a 2-D Gaussian mixture with nonlinear models
//! (`models`), whose constants come from 2-D quadrature (`losses::mixture`), not from Monte Carlo.

mod common;
mod data;
mod pz_2;
mod pz_3;
mod sm_1;
mod sm_2;
mod sm_3;
mod sm_4;
mod sm_5;
mod sm_6;
mod sm_7;

use crate::claims::Claim;

const FAMILY: &str = "scorematching";

pub fn claims() -> Vec<Claim> {
    vec![
        sm_1::claim(),
        sm_2::claim(),
        sm_3::claim(),
        sm_4::claim(),
        sm_5::claim(),
        sm_6::claim(),
        sm_7::claim(),
        pz_2::claim(),
        pz_3::claim(),
    ]
}
