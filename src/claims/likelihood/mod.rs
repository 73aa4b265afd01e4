//! Likelihoods (CLAIMS §10): LK-1 (PF-ODE instantaneous change of variables), LK-2 (Hutchinson's trace
//! estimator), LK-3 (McAllester's I-MMSE likelihood formula), LK-4 (ODE likelihood vs SDE ELBO).
//! The library code is `crate::likelihood`.

mod lk_1;
mod lk_2;
mod lk_3;
mod lk_4;

use crate::claims::Claim;

const FAMILY: &str = "likelihood";

pub fn claims() -> Vec<Claim> {
    vec![lk_1::claim(), lk_2::claim(), lk_3::claim(), lk_4::claim()]
}
