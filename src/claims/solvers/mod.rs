//! Higher-order ODE solvers (CLAIMS §8): HO-1 (variation of constants), HO-2 (DPM-Solver-k order k),
//! HO-3 (DPM-Solver++ multistep orders), HO-3-CFG (DPM-Solver-3 vs ++(2M) under classifier-free guidance),
//! HO-4 (EDM Euler/Heun on the ρ-grid), HO-5 (DEIS orders), WP-1 (work–precision of the whole zoo). The benchmark of §8: 1-D GMM π = (0.3, 0.7), μ = (−2, 1.5), σ² = (0.09, 0.25), VP-linear
//! (0.1, 20), from t = 1 to t = 10⁻³, error = mean |x_N − x_ref| over 5 starting points, reference RK4 in λ
//! with 2·10⁴ steps.

mod common;
mod data;
mod ho_1;
mod ho_2;
mod ho_3;
mod ho_3_cfg;
mod ho_4;
mod ho_5;
mod wp_1;

use crate::claims::Claim;

const FAMILY: &str = "solvers";

pub fn claims() -> Vec<Claim> {
    vec![
        ho_1::claim(),
        ho_2::claim(),
        ho_3::claim(),
        ho_3_cfg::claim(),
        ho_4::claim(),
        ho_5::claim(),
        wp_1::claim(),
    ]
}
