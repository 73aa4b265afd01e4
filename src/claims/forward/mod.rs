//! Forward-process identities: the schedule identities of CLAIMS §1.1 and §3 FW-1 (CONV-1), the
//! parameterisation round trips of §6 PZ-1 (PZ-1), and Tweedie to first and second order, §3 FW-6 (FW-6).

mod common;
mod conv_1;
mod fw_6;
mod pz_1;

use crate::claims::Claim;

const FAMILY: &str = "forward";

pub fn claims() -> Vec<Claim> {
    vec![conv_1::claim(), pz_1::claim(), fw_6::claim()]
}
