//! Helpers shared by several solver claims: the order runs on the §8 benchmark (HO-2..HO-5), each sampler
//! on its conventional grid ([`Sampler::conventional_grid`]).

use super::data::HO_TABLE;
use crate::algebra::PcgNoise;
use crate::claims::Ctx;
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{ho_mixture, HO_STARTS};
use crate::metrics::loglog_slope;
use crate::ode::reference_lambda_rk4;
use crate::sampler::Sampler;
use crate::schedule::VpLinear;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

/// Orders on the §8 benchmark: for each (sampler, expected order), the errors at N = 10·2^j, a table with
/// the reference values where §8 has them, a figure, and the worst |slope − k| on the last two doublings.
pub(super) struct OrderRun {
    pub(super) table: Table,
    pub(super) figure: Figure,
    pub(super) worst: f64,
    pub(super) worst_what: String,
    pub(super) slopes: Vec<(String, f64, f64, f64, f64)>,
    pub(super) max_log10_ratio: f64,
}

pub(super) fn order_run(
    ns: &[usize],
    samplers: &[(Sampler, f64)],
    title: &str,
) -> Result<OrderRun> {
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let ref_steps = 20_000;
    let refs: Vec<DVector<f64>> = HO_STARTS
        .iter()
        .map(|&x| {
            reference_lambda_rk4(
                &sch,
                &mix,
                &DVector::from_vec(vec![x]),
                1.0,
                1e-3,
                ref_steps,
            )
        })
        .collect();
    let mut table = Table::new(
        "",
        &[
            "sampler",
            "grid",
            "steps",
            "nfe",
            "error",
            "table_value",
            "ratio_to_table",
        ],
    );
    let mut figure = Figure::new(
        "",
        title,
        "steps N",
        "mean |x_N − x_ref| over 5 starting points (data units)",
    )
    .loglog();
    let (mut worst, mut worst_what) = (0.0_f64, String::new());
    let mut slopes = Vec::new();
    let mut max_log10_ratio: f64 = 0.0;
    for &(sampler, k) in samplers {
        let mut errs = Vec::new();
        for (j, &n) in ns.iter().enumerate() {
            let times = sampler.conventional_grid(&sch, 1.0, 1e-3, n)?;
            let err = HO_STARTS
                .iter()
                .zip(&refs)
                .map(|(&x, r)| {
                    let out = sampler.run(
                        &sch,
                        &times,
                        DVector::from_vec(vec![x]),
                        &mix,
                        &mut PcgNoise::seeded(0),
                    );
                    (out[0] - r[0]).abs()
                })
                .sum::<f64>()
                / HO_STARTS.len() as f64;
            let reference = HO_TABLE
                .iter()
                .find(|(l, _)| *l == sampler.label())
                .and_then(|(_, v)| v.get(j).copied());
            let ratio = reference.map(|r| err / r);
            if let Some(r) = ratio {
                max_log10_ratio = max_log10_ratio.max(r.log10().abs());
            }
            table.push(vec![
                sampler.label().into(),
                (if matches!(sampler, Sampler::EdmEuler | Sampler::EdmHeun) {
                    "edm-rho7"
                } else {
                    "uniform-logsnr"
                })
                .into(),
                n.into(),
                sampler.nfe(&sch, &times).into(),
                err.into(),
                reference.map_or("".into(), |r| r.into()),
                ratio.map_or("".into(), |r| r.into()),
            ]);
            errs.push(err);
        }
        let m = ns.len();
        let x: Vec<f64> = ns[m - 3..].iter().map(|&n| n as f64).collect();
        let fit = loglog_slope(&x, &errs[m - 3..], tol::LEVEL)?;
        let order = -fit.slope;
        if (order - k).abs() > worst {
            worst = (order - k).abs();
            worst_what = sampler.label();
        }
        slopes.push((sampler.label(), k, order, -fit.hi, -fit.lo));
        figure = figure.with(Series::line(
            sampler.label(),
            ns.iter().zip(&errs).map(|(&n, &e)| (n as f64, e)).collect(),
        ));
        let (n0, e0) = (ns[m - 1] as f64, errs[m - 1]);
        figure = figure.with(Series::reference(
            format!("slope −{k}"),
            ns.iter()
                .map(|&n| (n as f64, e0 * (n0 / n as f64).powf(k)))
                .collect(),
        ));
    }
    Ok(OrderRun {
        table,
        figure,
        worst,
        worst_what,
        slopes,
        max_log10_ratio,
    })
}

/// Step counts of the order claims: the §8 table's, plus 320 at full scale.
pub(super) fn ho_steps(ctx: &Ctx) -> Vec<usize> {
    ctx.scale
        .pick(vec![10, 20, 40, 80, 160], vec![10, 20, 40, 80, 160, 320])
}

/// Slope table of an [`OrderRun`].
pub(super) fn slope_table(r: &OrderRun) -> Table {
    let mut t = Table::new(
        "slopes",
        &[
            "sampler",
            "expected_order",
            "fitted_order",
            "ci_lo",
            "ci_hi",
        ],
    );
    for (l, k, o, lo, hi) in &r.slopes {
        t.push(vec![
            l.clone().into(),
            (*k).into(),
            (*o).into(),
            (*lo).into(),
            (*hi).into(),
        ]);
    }
    t
}

/// Orders are judged on the last two doublings (fit over three N): an order-k method's error is
/// C h^k (1 + O(h)), so at N ≥ 40 the local slope may differ from k by O(1/N)·(problem constant); the
/// §8 table shows up to 0.18 (DPM-Solver-3 at N = 160). Tolerance 0.25.
pub(super) const ORDER_TOL: f64 = 0.25;

pub(super) fn slopes_text(r: &OrderRun) -> String {
    r.slopes
        .iter()
        .map(|(l, k, o, lo, hi)| format!("{l} {o:.2} [{lo:.2}, {hi:.2}] (expected {k})"))
        .collect::<Vec<_>>()
        .join("; ")
}
