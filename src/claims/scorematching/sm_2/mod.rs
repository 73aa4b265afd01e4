//! SM-2: denoising score matching = explicit score matching + C_t, independent of θ, hence equal gradients
//! and equal minimisers (PDM blog, boxed identity; TZ §3; FW §4, Vincent 2011; CLAIMS §5). One file per
//! sub-question: (a) `gaussian`, exact on every schedule; (b) `mixture`, paired Monte Carlo against C_t by
//! quadrature; (c) `gradients`; (d) `minimisers`; (e) `figures`.

mod figures;
mod gaussian;
mod gradients;
mod minimisers;
mod mixture;

use super::common::gaussian_setup;
use crate::claims::{Claim, Ctx, Evidence};
use crate::fixtures::demo_mixture;
use crate::losses::NoiseLevel;
use crate::schedule::VpLinear;
use crate::tol;
use anyhow::Result;

pub(super) fn claim() -> Claim {
    Claim {
        id: "SM-2",
        family: super::FAMILY,
        source: "PDM blog (boxed identity); TZ §3; FW §4 (Vincent 2011); CLAIMS §5",
        statement: "Denoising score matching = explicit SM + C_t, C_t = d/σ² − E‖∇log p_t‖² = (α²/σ⁴)E tr Cov[x₀|x_t] = d/σ² + E[Δlog p_t] ≥ 0, independent of θ; hence equal gradients and equal minimisers (the projection of the true score).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let (mut rng, g, nt, k_theta) = gaussian_setup(ctx);
    let gaussian::Exact {
        table: exact,
        worst: worst_exact,
        worst_what,
    } = gaussian::exact(&g, nt, k_theta, &mut rng);

    let mix = demo_mixture();
    let sch = VpLinear::default();
    let n_mc = ctx.scale.pick(3000, 30000);
    let panels = ctx.scale.pick(20, 32);
    let mut rng = ctx.rng("mixture");
    let mixture::Paired {
        mc,
        constants: mix_consts,
        zmax,
        route_err,
        t_mc,
        n_models,
    } = mixture::paired(ctx, &mix, &sch, n_mc, panels, &mut rng)?;

    let t_g = 0.4;
    let (grads, zgrad) = gradients::gradients(ctx, &mix, &sch, t_g, n_mc, &mut rng)?;

    let mins = minimisers::minimisers(&mix, &NoiseLevel::at(&sch, t_g), t_g, panels, &mut rng)?;

    let line = figures::line(&g, &sch, &mut rng);
    let cfig = figures::constant(ctx, &g, &mix, &sch, panels)?;

    Ok(Evidence::within(
        zmax.max(zgrad),
        tol::K_SE,
        format!(
            "mixture (VP-linear, t ∈ {t_mc:?}): max z of mean(DSM−ESM) vs quadrature C_t and of paired Δ vs the first model over {} models, n = {n_mc}; gradients: max z of ∇DSM−∇ESM projected on 4 directions ({zgrad:.2}); Gaussian exact (8 schedules × {nt} t × {k_theta} θ, d=4, full Σ): max err/tol {worst_exact:.3} (θ-independence relative to |DSM|+|ESM|, routes relative to d/σ², hand formulas; tol 1e-12·cond(C_t)) {worst_what}; mixture routes agree to {route_err:.2} × (quadrature err + 1e-12·d/σ²); minimisers (random features, K={}): rhs rel err {:.1e}, θ rel err {:.1e} (tol: 10×quadrature err {:.1e} × cond(G) {:.1e})",
            n_models, mins.features, mins.rhs_err, mins.th_err, mins.q_err, mins.kappa_g
        ),
    )
    .require(worst_exact <= 1.0, "Gaussian exact θ-independence, routes and hand formulas")
    .require(route_err <= 1.0, "the three quadrature routes to C_t agree")
    .require(mins.ok, "DSM and ESM minimisers coincide")
    .table(mc)
    .table(exact)
    .table(mix_consts)
    .table(grads)
    .table(mins.table)
    .figure(line)
    .figure(cfig))
}
