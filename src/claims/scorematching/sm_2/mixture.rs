//! SM-2 (b): on the 2-D mixture with nonlinear models, paired Monte Carlo of DSM − ESM against C_t from
//! quadrature, and the three quadrature routes to C_t against each other.

use super::super::common::{mixture_constants, paired_rows, random_models, Draws, PAIRED_COLUMNS};
use crate::claims::Ctx;
use crate::evidence::Table;
use crate::losses::{dsm_sample, esm_sample, NoiseLevel};
use crate::schedule::VpLinear;
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use rand::Rng;

/// The Monte Carlo part: its tables, the largest z, the route disagreement in units of its tolerance
/// (quadrature error + tol::IDENTITY·d/σ²), the times and the number of models.
pub(super) struct Paired {
    pub(super) mc: Table,
    pub(super) constants: Table,
    pub(super) zmax: f64,
    pub(super) route_err: f64,
    pub(super) t_mc: Vec<f64>,
    pub(super) n_models: usize,
}

pub(super) fn paired<R: Rng + ?Sized>(
    ctx: &Ctx,
    mix: &Mixture,
    sch: &VpLinear,
    n_mc: usize,
    panels: usize,
    rng: &mut R,
) -> Result<Paired> {
    let models = random_models(2, ctx.scale.pick(3, 8), ctx.scale.pick(2, 6), rng);
    let names: Vec<String> = models.iter().map(|(n, _)| n.clone()).collect();
    let mut mc = Table::new("mixture", &PAIRED_COLUMNS);
    let mut zmax: f64 = 0.0;
    let mut mix_consts = Table::new(
        "mixture-constant",
        &[
            "t",
            "sigma",
            "mass",
            "fisher",
            "c_fisher",
            "c_posterior",
            "c_laplacian",
            "quadrature_err",
        ],
    );
    let mut route_err: f64 = 0.0;
    let t_mc = ctx
        .scale
        .pick(vec![0.1, 0.4], vec![0.05, 0.1, 0.2, 0.4, 0.7]);
    for &t in &t_mc {
        let n = NoiseLevel::at(sch, t);
        let (k, qerr) = mixture_constants(mix, &n, panels)?;
        route_err = route_err.max(
            (k.dsm_from_fisher - k.dsm_from_posterior)
                .abs()
                .max((k.dsm_from_laplacian - k.dsm_from_posterior).abs())
                / (qerr + tol::IDENTITY * mix.dim() as f64 / (n.sigma * n.sigma)),
        );
        mix_consts.push(vec![
            t.into(),
            n.sigma.into(),
            k.mass.into(),
            k.fisher.into(),
            k.dsm_from_fisher.into(),
            k.dsm_from_posterior.into(),
            k.dsm_from_laplacian.into(),
            qerr.into(),
        ]);
        let draws = Draws::new(mix, sch, t, n_mc, rng);
        let all: Vec<Vec<f64>> = models
            .iter()
            .map(|(_, m)| {
                (0..n_mc)
                    .map(|i| {
                        let s = m.score(&draws.x[i], t);
                        dsm_sample(&s, &draws.eps[i], n.sigma) - esm_sample(&s, &draws.score[i])
                    })
                    .collect()
            })
            .collect();
        zmax = zmax.max(paired_rows(
            &mut mc,
            &format!("vp-linear t={t}"),
            &names,
            &all,
            k.dsm_from_posterior,
            qerr,
        )?);
    }

    Ok(Paired {
        mc,
        constants: mix_consts,
        zmax,
        route_err,
        t_mc,
        n_models: models.len(),
    })
}
