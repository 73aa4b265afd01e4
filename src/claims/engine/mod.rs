//! The exact-law engine checks itself (DESIGN 'Exact laws'; CLAIMS §2.3): ENGINE-1 compares the law
//! obtained by running each sampler on affine forms with Monte Carlo and with a direct matrix closed form;
//! ENGINE-2 checks the 1-D quadrature law (`law1d`) against the forms, Monte Carlo and itself.

mod engine_1;
mod engine_2;
mod engine_2_plane;

use crate::claims::Claim;

const FAMILY: &str = "engine";

pub fn claims() -> Vec<Claim> {
    vec![engine_1::claim(), engine_2::claim()]
}
