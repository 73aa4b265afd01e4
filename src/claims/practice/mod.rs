//! Practitioner conventions (issue 3 item 2; CLAIMS §7 and the pitfalls of §14): the `diffusers` schedulers
//! as they run, against the committed float64 reference of the library (PR-1), the equivalences that do
//! and do not hold (PR-2), DDIM's previous-timestep rule under linspace spacing (PR-3), and where the last
//! step lands and how the first starts (PR-4).

mod data;
mod pr_1;
mod pr_2;
mod pr_3;
mod pr_4;
mod pr_5;
mod pr_6;

pub use data::config_of;

use crate::claims::Claim;

const FAMILY: &str = "practice";

pub fn claims() -> Vec<Claim> {
    vec![
        pr_1::claim(),
        pr_2::claim(),
        pr_3::claim(),
        pr_4::claim(),
        pr_5::claim(),
        pr_6::claim(),
    ]
}
