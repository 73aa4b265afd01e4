//! The exact-law engine checks itself (DESIGN 'Exact laws'; CLAIMS §2.3): ENGINE-1 compares the law
//! obtained by running each sampler on affine forms with Monte Carlo and with a direct matrix closed form.

mod engine_1;

use crate::claims::Claim;

const FAMILY: &str = "engine";

pub fn claims() -> Vec<Claim> {
    vec![engine_1::claim()]
}
