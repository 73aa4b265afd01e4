//! Forward-process identities and conventions: the schedule identities of CLAIMS §1.1 and §3 FW-1
//! (CONV-1, FW-1), the ODE and SDE representations of the conditional path (FW-2, FW-3), Fokker–Planck and
//! the continuity equation of the marginals (FW-4, FW-5), the parameterisation round trips of §6 PZ-1
//! (PZ-1), Tweedie to first and second order (FW-6), and the pitfalls of §14: VE's σ_min (CONV-4), α₁ = 0
//! schedules (CONV-5), where solver error is measured (CONV-6).

mod common;
mod conv_1;
mod conv_4;
mod conv_5;
mod conv_6;
mod fw_1;
mod fw_2;
mod fw_3;
mod fw_4;
mod fw_5;
mod fw_6;
mod pz_1;

use crate::claims::Claim;

const FAMILY: &str = "forward";

pub fn claims() -> Vec<Claim> {
    vec![
        conv_1::claim(),
        pz_1::claim(),
        fw_6::claim(),
        fw_1::claim(),
        fw_2::claim(),
        fw_3::claim(),
        fw_4::claim(),
        fw_5::claim(),
        conv_4::claim(),
        conv_5::claim(),
        conv_6::claim(),
    ]
}
