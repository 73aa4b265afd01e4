//! Claims of the `flowmaps` family (CLAIMS §11; TZ §5, PDM Ch.11 and blog): the PF-ODE flow map Ψ_{s→t},
//! the consistency function f(x, t) = Ψ_{t→0}(x), consistency distillation and training, CTM and mean
//! flows (FM-1 … FM-6; FM-7, the OT question, lives in `wasserstein`). Library code: `crate::flowmap`
//! (closed-form Gaussian flow, reference flow on mixtures through the reference RK4 in λ with Jacobians).

mod common;
mod fm_1;
mod fm_2;
mod fm_3;
mod fm_4;
mod fm_5;
mod fm_6;

use crate::claims::Claim;

const FAMILY: &str = "flowmaps";

pub fn claims() -> Vec<Claim> {
    vec![
        fm_1::claim(),
        fm_2::claim(),
        fm_3::claim(),
        fm_4::claim(),
        fm_5::claim(),
        fm_6::claim(),
    ]
}
