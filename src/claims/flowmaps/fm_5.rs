use crate::claims::{Claim, Ctx, Evidence};
use anyhow::Result;
pub(super) fn claim() -> Claim {
    Claim {
        id: "FM-5",
        family: super::FAMILY,
        source: "",
        statement: "",
        check,
    }
}
fn check(_ctx: &Ctx) -> Result<Evidence> {
    Ok(Evidence::skipped("todo"))
}
