//! Guidance (CLAIMS §9, §14): GD-1 (classifier guidance with the exact time-t classifier is exact at
//! w = 1), GD-2 (CFG = classifier guidance with the implicit classifier), GD-3 (CFG does not sample the
//! tilted density; ODE and SDE differ), GD-4 (nor does scaled classifier guidance), CONV-2 (the two scale
//! conventions). The guided fields are `crate::guidance`'s.

mod common;
mod conv_2;
mod gd_1;
mod gd_2;
mod gd_3;
mod gd_4;

use crate::claims::Claim;

const FAMILY: &str = "guidance";

pub fn claims() -> Vec<Claim> {
    vec![
        gd_1::claim(),
        gd_2::claim(),
        gd_3::claim(),
        gd_4::claim(),
        conv_2::claim(),
    ]
}
