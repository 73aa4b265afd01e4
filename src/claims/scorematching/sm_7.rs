//! SM-7: flow matching = conditional flow matching + a θ-independent constant; an ε-built velocity is the
//! (σλ̇)²-weighted ε-loss (FW §8; PDM blog; CLAIMS §5).

use super::common::{
    cond_c, gaussian_setup, mixture_constants, normal_vec, paired_rows, random_affine,
    random_models, times, Draws, PAIRED_COLUMNS,
};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::losses::gaussian as gx;
use crate::losses::{NoiseLevel, Target};
use crate::models::{Mlp, ScoreModel};
use crate::schedule::{all_continuous, Schedule};
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "SM-7",
        family: super::FAMILY,
        source: "FW §8 (title); PDM blog (FM = CFM + C); CLAIMS §5",
        statement: "Flow matching = conditional flow matching + a θ-independent constant; a velocity built from an ε-model satisfies v_θ − v^cond = −σ_t λ̇_t (ε_θ − ε) pointwise, so the velocity loss is the (σλ̇)²-weighted ε-loss.",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let (mut rng, g, nt, k_theta) = gaussian_setup(ctx);
    let d = g.dim();
    let mut exact = Table::new(
        "gaussian",
        &[
            "schedule",
            "t",
            "theta",
            "fm",
            "cfm",
            "fm_minus_cfm",
            "constant",
            "rel_err_constant",
            "eps_loss",
            "cfm_over_eps_loss",
            "weight_sigma_dlogsnr_sq",
            "rel_err_reweight",
            "tolerance",
        ],
    );
    let mut w_exact: f64 = 0.0;
    let mut fig = Figure::new(
        "",
        "SM-7: CFM(θ)/ε-loss(θ) (markers, Gaussian exact) against (σ_t λ̇_t)² (dashed)",
        "t / T (dimensionless)",
        "ratio ((data units/t)²)",
    )
    .logy();
    for sch in all_continuous() {
        let (mut meas, mut theory) = (Vec::new(), Vec::new());
        for t in times(sch.as_ref(), nt) {
            let n = NoiseLevel::at(sch.as_ref(), t);
            let wgt = (n.sigma * sch.dlogsnr(t)).powi(2);
            theory.push((t / sch.t_range().1, wgt));
            // (σλ̇)² × MMSE of ε, with λ̇ from the schedule and the MMSE d − σ² tr C⁻¹.
            // CFM exceeds FM: FM − CFM = −(σλ̇)² (d − σ² tr C⁻¹) ≤ 0.
            let constant = -wgt * (d as f64 - n.sigma.powi(2) * gx::fisher(&g, &n));
            let tl = tol::IDENTITY * cond_c(&g, &n);
            for th in 0..k_theta {
                let model = random_affine(d, &mut rng);
                let fm = gx::marginal_loss(&g, &model, Target::VelocityFm, &n);
                let cfm = gx::conditional_loss(&g, &model, Target::VelocityFm, &n);
                let le = gx::conditional_loss(&g, &model, Target::Eps, &n);
                let e1 = ((fm - cfm) - constant).abs() / (fm.abs() + cfm.abs() + wgt * d as f64);
                let e2 = (cfm - wgt * le).abs() / cfm.abs();
                w_exact = w_exact.max(e1.max(e2) / tl);
                if th == 0 {
                    meas.push((t / sch.t_range().1, cfm / le));
                }
                exact.push(vec![
                    sch.name().into(),
                    t.into(),
                    th.into(),
                    fm.into(),
                    cfm.into(),
                    (fm - cfm).into(),
                    constant.into(),
                    e1.into(),
                    le.into(),
                    (cfm / le).into(),
                    wgt.into(),
                    e2.into(),
                    tl.into(),
                ]);
            }
        }
        if matches!(
            sch.name(),
            "vp-linear" | "rectified-flow" | "edm" | "cosine-vp"
        ) {
            fig = fig
                .with(Series::line(sch.name(), meas))
                .with(Series::reference(format!("{} (σλ̇)²", sch.name()), theory));
        }
    }
    // Pointwise on mixture points, every schedule: v_θ − v^cond = −σλ̇(ε_θ − ε) for v_θ = α̇x̂₀ + σ̇ε_θ.
    let mix = demo_mixture();
    let mut rng = ctx.rng("pointwise");
    let mlp = Mlp::random(2, 16, 2.0, &mut rng);
    let mut point = Table::new("pointwise", &["schedule", "t", "point", "rel_err"]);
    let mut w_point: f64 = 0.0;
    for sch in all_continuous() {
        for t in times(sch.as_ref(), nt) {
            let n = NoiseLevel::at(sch.as_ref(), t);
            let ldot = sch.dlogsnr(t);
            for p in 0..ctx.scale.pick(10usize, 50) {
                let x0 = mix.sample(&mut rng);
                let e = normal_vec(2, &mut rng);
                let x = n.noised(&x0, &e);
                let eps_hat = mlp.score(&x, t);
                let x0_hat = (&x - &eps_hat * n.sigma) / n.alpha;
                let v_hat = &x0_hat * n.dalpha + &eps_hat * n.dsigma;
                let v_cond = &x0 * n.dalpha + &e * n.dsigma;
                let lhs = &v_hat - &v_cond;
                let rhs = (&eps_hat - &e) * (-n.sigma * ldot);
                let scale = n.dalpha.abs() * (x0_hat.norm() + x0.norm() + x.norm() / n.alpha)
                    + (n.dsigma.abs() + (n.sigma * ldot).abs()) * (eps_hat.norm() + e.norm());
                let r = (&lhs - &rhs).norm() / scale;
                w_point = w_point.max(r);
                point.push(vec![sch.name().into(), t.into(), p.into(), r.into()]);
            }
        }
    }
    // Mixture Monte Carlo: MLP velocity models, rectified-flow path; FM − CFM against (σλ̇)²σ²C_t.
    let sch = crate::schedule::RectifiedFlow;
    let n_mc = ctx.scale.pick(3000, 30000);
    let models = random_models(2, ctx.scale.pick(3, 8), ctx.scale.pick(2, 4), &mut rng);
    let names: Vec<String> = models.iter().map(|(n, _)| n.clone()).collect();
    let mut mc = Table::new("mixture", &PAIRED_COLUMNS);
    let mut zmax: f64 = 0.0;
    for t in [0.3, 0.7] {
        let n = NoiseLevel::at(&sch, t);
        let wgt = (n.sigma * sch.dlogsnr(t)).powi(2);
        let (k, qerr) = mixture_constants(&mix, &n, ctx.scale.pick(20, 32))?;
        let dr = Draws::new(&mix, &sch, t, n_mc, &mut rng);
        let v_true: Vec<DVector<f64>> = dr
            .x
            .iter()
            .zip(&dr.score)
            .map(|(x, s)| mix.denoise(x, n.alpha, n.sigma) * n.dalpha - s * (n.sigma * n.dsigma))
            .collect();
        let all: Vec<Vec<f64>> = models
            .iter()
            .map(|(_, m)| {
                (0..n_mc)
                    .map(|i| {
                        let v = m.score(&dr.x[i], t);
                        let vc = Target::VelocityFm.conditional(&dr.x0[i], &dr.eps[i], &n);
                        crate::losses::sq_err(&v, &v_true[i]) - crate::losses::sq_err(&v, &vc)
                    })
                    .collect()
            })
            .collect();
        let expected = -wgt * n.sigma.powi(2) * k.dsm_from_posterior;
        zmax = zmax.max(paired_rows(
            &mut mc,
            &format!("rectified-flow t={t}"),
            &names,
            &all,
            expected,
            wgt * n.sigma.powi(2) * qerr,
        )?);
    }
    Ok(Evidence::within(
        zmax,
        tol::K_SE,
        format!("mixture (rectified flow, t ∈ {{0.3, 0.7}}): max z over {} MLP/RF velocity models of mean(FM − CFM) vs −(σλ̇)²σ²C_t by quadrature (the constant is negative: CFM = FM + (σλ̇)²σ²C_t) (and paired vs the first model), n = {n_mc}; Gaussian exact (8 schedules × {nt} t × {k_theta} θ): FM − CFM = −(σλ̇)²(d − σ²tr C⁻¹) and CFM = (σλ̇)²·ε-loss, max err/tol {w_exact:.3} (tol 1e-12·cond(C_t)); pointwise v_θ − v^cond = −σλ̇(ε_θ − ε): max rel err {w_point:.1e} (relative to the magnitudes of the terms)", models.len()),
    )
    .require(w_exact <= 1.0, "Gaussian exact FM − CFM constant and reweighting")
    .require(w_point <= tol::IDENTITY, "pointwise velocity/ε identity")
    .table(mc)
    .table(exact)
    .table(point)
    .figure(fig))
}
