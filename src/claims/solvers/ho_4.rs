//! HO-4: EDM Euler is order 1 and EDM Heun order 2 on the ρ = 7 grid; EDM Euler is DDIM(η = 0).

use super::common::{ho_steps, order_run, slope_table, slopes_text, ORDER_TOL};
use crate::algebra::PcgNoise;
use crate::claims::{Claim, Ctx, Evidence};
use crate::fixtures::{ho_mixture, HO_STARTS};
use crate::sampler::{edm_rho, Sampler};
use crate::schedule::VpLinear;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "HO-4",
        family: super::FAMILY,
        source: "Karras et al. 2022 (EDM) Alg. 1 and code; CLAIMS §8 table",
        statement: "On the EDM ρ = 7 grid in σ̄, EDM Euler is order 1 and EDM Heun order 2; EDM Euler is DDIM(η = 0) on the same grid.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let r = order_run(
        &ho_steps(ctx),
        &[(Sampler::EdmEuler, 1.0), (Sampler::EdmHeun, 2.0)],
        "HO-4: EDM Euler and Heun on the ρ = 7 grid in σ̄ (§8 GMM)",
    )?;
    // EDM Euler = DDIM(η = 0) on the same grid, pointwise (d = ε̂).
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let mut same: f64 = 0.0;
    for n in [5usize, 20, 80] {
        let times = edm_rho(&sch, 1.0, 1e-3, n, 7.0, false)?;
        for &x in &HO_STARTS {
            let x = DVector::from_vec(vec![x]);
            let a = Sampler::EdmEuler.run(&sch, &times, x.clone(), &mix, &mut PcgNoise::seeded(0));
            let b = Sampler::Ddim { eta: 0.0 }.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(0));
            let budget = 64.0 * f64::EPSILON * crate::sampler::first_order_roundoff(&sch, &times);
            same = same.max((a[0] - b[0]).abs() / a[0].abs().max(1.0) / budget);
        }
    }
    Ok(Evidence::within(
        r.worst,
        ORDER_TOL,
        format!(
            "max |fitted order − k| (worst {}; tolerance {ORDER_TOL}); {}; EDM Euler vs DDIM(η=0) on the same ρ-grid: max difference {same:.2} round-off budgets (64ε Σκ, must be ≤ 1); §8 table cells within a factor 10^{:.2}",
            r.worst_what,
            slopes_text(&r),
            r.max_log10_ratio
        ),
    )
    .require(same <= 1.0, "EDM Euler differs from DDIM(η=0) on the same grid")
    .table(r.table.clone())
    .table(slope_table(&r))
    .figure(r.figure))
}
