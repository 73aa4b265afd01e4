//! Claims of the `scorematching` family that need no training objective: SM-6 (efficiency of score
//! matching vs MLE), PZ-2 (per-sample loss-weight identities), PZ-3 (EDM preconditioning, CM boundary).

use super::Claim;

pub fn claims() -> Vec<Claim> {
    Vec::new()
}
