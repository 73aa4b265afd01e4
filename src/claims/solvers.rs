//! Claims of the `solvers` family (to be filled).

use super::Claim;

pub fn claims() -> Vec<Claim> {
    Vec::new()
}
