//! Claims of the `wasserstein` family (to be filled).

use super::Claim;

pub fn claims() -> Vec<Claim> {
    Vec::new()
}
