//! Claims of the `reverse` family (to be filled).

use super::Claim;

pub fn claims() -> Vec<Claim> {
    Vec::new()
}
