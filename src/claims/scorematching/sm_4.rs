//! SM-4: sliced score matching = ½·ISM for isotropic probes, and the single-probe variance of vᵀAv
//! (TZ §3, Song et al. 2019; CLAIMS §5).

use super::common::{ci, paired_rows, random_affine, random_models, z_of, Draws, PAIRED_COLUMNS};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, random_gaussian};
use crate::losses::gaussian as gx;
use crate::losses::{ism_sample, ssm_sample, NoiseLevel, Probe};
use crate::models::{Mlp, ScoreModel};
use crate::schedule::VpLinear;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "SM-4",
        family: super::FAMILY,
        source: "TZ §3 (Song et al. 2019, sliced SM); CLAIMS §5",
        statement: "Sliced score matching E[vᵀ∇s v + ½(vᵀs)²] = ½·ISM for probes with E[vvᵀ] = I; single-probe variance of vᵀAv is 2‖A_sym‖_F² (Gaussian) and 2(‖A_sym‖_F² − ΣA_ii²) (Rademacher).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    // (a) Gaussian exact: SSM = ½ ISM for every θ (expectation over probes taken in closed form).
    let mut rng = ctx.rng("gaussian");
    let g = random_gaussian(4, &mut rng);
    let n = NoiseLevel::at(&VpLinear::default(), 0.3);
    let mut w_exact: f64 = 0.0;
    for _ in 0..ctx.scale.pick(10, 50) {
        let m = random_affine(4, &mut rng);
        let (a, b) = (gx::ssm(&g, &m, &n), gx::ism(&g, &m, &n));
        w_exact = w_exact.max((a - 0.5 * b).abs() / (a.abs() + b.abs() + 2.0 * m.p.trace().abs()));
    }
    // (b) Mixture, nonlinear models: per-sample SSM with one probe against ½ ISM (paired, unbiased).
    let mix = demo_mixture();
    let sch = VpLinear::default();
    let t = 0.4;
    let n_mc = ctx.scale.pick(4000, 40000);
    let mut rng = ctx.rng("mixture");
    let dr = Draws::new(&mix, &sch, t, n_mc, &mut rng);
    let models = random_models(2, ctx.scale.pick(3, 8), ctx.scale.pick(2, 4), &mut rng);
    let names: Vec<String> = models.iter().map(|(n, _)| n.clone()).collect();
    let mut mc = Table::new("", &PAIRED_COLUMNS);
    let mut zmax: f64 = 0.0;
    for probe in [Probe::Gaussian, Probe::Rademacher] {
        let probes: Vec<DVector<f64>> = (0..n_mc).map(|_| probe.draw(2, &mut rng)).collect();
        let all: Vec<Vec<f64>> = models
            .iter()
            .map(|(_, m)| {
                (0..n_mc)
                    .map(|i| {
                        let (s, j) = m.eval(&dr.x[i], t);
                        ssm_sample(&s, &j, &probes[i]) - 0.5 * ism_sample(&s, &j)
                    })
                    .collect()
            })
            .collect();
        zmax = zmax.max(paired_rows(
            &mut mc,
            &format!("unbiased {} probe: SSM - ISM/2", probe.name()),
            &names,
            &all,
            0.0,
            0.0,
        )?);
    }
    // (c) Single-probe variance of vᵀAv at fixed points (A = the MLP's Jacobian), as the mean of
    // (vᵀAv − tr A)² around the known mean tr A (unbiased; no skew from an estimated mean). In 2-D a
    // Rademacher probe gives (vᵀAv − tr A)² = 4(A_sym,12)² exactly, so its SE is 0: the tolerance adds
    // 1e-12 × the formula for round-off.
    let mlp = Mlp::random(2, 16, 2.0, &mut rng);
    let n_probe: usize = ctx.scale.pick(10000, 100000);
    let mut var_t = Table::new(
        "variance",
        &[
            "point",
            "probe",
            "probes",
            "variance_mean",
            "variance_se",
            "formula",
            "z",
            "fro_sym_sq",
            "diag_sq",
        ],
    );
    let mut zvar: f64 = 0.0;
    let mut order_ok = true;
    for p in 0..3 {
        let x = &dr.x[p];
        let (_, a) = mlp.eval(x, t);
        let tr = a.trace();
        let mut measured = Vec::new();
        for probe in [Probe::Gaussian, Probe::Rademacher] {
            let sq: Vec<f64> = (0..n_probe)
                .map(|_| {
                    let u = probe.draw(2, &mut rng);
                    (u.dot(&(&a * &u)) - tr).powi(2)
                })
                .collect();
            let c = ci(&sq)?;
            let formula = probe.trace_variance(&a);
            let z = z_of(&c, formula, tol::IDENTITY * formula);
            zvar = zvar.max(z);
            measured.push((c.mean, c.se));
            let sym = (&a + a.transpose()) * 0.5;
            var_t.push(vec![
                p.into(),
                probe.name().into(),
                n_probe.into(),
                c.mean.into(),
                c.se.into(),
                formula.into(),
                z.into(),
                sym.norm_squared().into(),
                a.diagonal().norm_squared().into(),
            ]);
        }
        // Rademacher ≤ Gaussian (strictly unless A's diagonal vanishes).
        order_ok &= measured[1].0 < measured[0].0 + tol::K_SE * (measured[0].1 + measured[1].1);
    }
    // (d) The variance of the M-probe average falls as 1/M (figure).
    let x = &dr.x[0];
    let (_, a) = mlp.eval(x, t);
    let mut fig = Figure::new(
        "",
        "SM-4: variance of the M-probe trace estimate (markers) vs formula/M (dashed)",
        "probes M",
        "variance (1/data units⁴)",
    )
    .loglog();
    let reps = ctx.scale.pick(2000, 20000);
    for probe in [Probe::Gaussian, Probe::Rademacher] {
        let (mut meas, mut theory) = (Vec::new(), Vec::new());
        for mm in [1usize, 2, 4, 8, 16] {
            let vals: Vec<f64> = (0..reps)
                .map(|_| {
                    (0..mm)
                        .map(|_| {
                            let u = probe.draw(2, &mut rng);
                            u.dot(&(&a * &u))
                        })
                        .sum::<f64>()
                        / mm as f64
                })
                .collect();
            let m = vals.iter().sum::<f64>() / reps as f64;
            meas.push((
                mm as f64,
                vals.iter().map(|q| (q - m).powi(2)).sum::<f64>() / (reps - 1) as f64,
            ));
            theory.push((mm as f64, probe.trace_variance(&a) / mm as f64));
        }
        fig = fig
            .with(Series::line(probe.name(), meas))
            .with(Series::reference(
                format!("{} formula/M", probe.name()),
                theory,
            ));
    }
    Ok(Evidence::within(
        zmax.max(zvar),
        tol::K_SE,
        format!("max z: SSM − ½ISM per sample (one probe, {} models, Gaussian and Rademacher, n = {n_mc}, VP t = {t}) vs 0 and paired vs the first model; single-probe variance E(vᵀAv − tr A)² (3 points × 2 probe types, {n_probe} probes) vs 2‖A_sym‖_F² / 2(‖A_sym‖_F² − ΣA_ii²): max z {zvar:.2}; Rademacher ≤ Gaussian: {order_ok}; Gaussian exact SSM = ½ISM rel err {w_exact:.1e}", models.len()),
    )
    .require(w_exact <= tol::IDENTITY, "Gaussian exact SSM = ½ ISM")
    .require(order_ok, "Rademacher variance ≤ Gaussian variance")
    .table(mc)
    .table(var_t)
    .figure(fig))
}
