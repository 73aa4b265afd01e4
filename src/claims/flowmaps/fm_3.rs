//! FM-3 (Song et al. 2023, Thm 1; TZ §5, PDM §11.2): with zero consistency-distillation loss on the grid
//! t_1 = ε < … < t_N and a p-th order one-step teacher, sup_{n,x} ‖f_θ(x, t_n) − f(x, t_n)‖ = O((Δt)^p). The
//! zero-loss map is built explicitly by its recursion (`flowmap::cd_zero_loss`, Euler and Heun teachers of
//! the crate) and compared with the exact consistency function (closed form on Gaussians, reference ODE on a
//! 2-D mixture).

use super::common::EPS;
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{demo_mixture, test_gaussian};
use crate::flowmap::{cd_zero_loss, jet_value, reference_flow, GaussianFlow};
use crate::lawnd::{Jets, RefuseNoise};
use crate::metrics::loglog_slope;
use crate::sampler::Sampler;
use crate::schedule::{Schedule, VpLinear};
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;
use rand_distr::{Distribution, StandardNormal};

pub(super) fn claim() -> Claim {
    Claim {
        id: "FM-3",
        family: super::FAMILY,
        source: "Song et al. 2023 Thm 1 (via TZ §5, PDM §11.2); CD target = one teacher step (PDM blog)",
        statement: "If the consistency-distillation loss vanishes on t_1 = ε < … < t_N with a p-th order one-step teacher, f_θ(·, t_n) is the teacher composed n − 1 times and sup_{n,x}‖f_θ(x, t_n) − f(x, t_n)‖ = O((Δt)^p): fitted slope 1 for Euler, 2 for Heun, on Gaussian and 2-D mixture data.",
        check,
    }
}

/// Fractions q of [ε, 1] at which f_θ is compared (grid nodes for every N − 1 divisible by 4), so the exact
/// reference at t = ε + q(1 − ε) is computed once.
const FRACTIONS: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    let intervals: Vec<usize> = ctx
        .scale
        .pick(vec![32, 64, 128, 256], vec![32, 64, 128, 256, 512, 1024]);
    let n_pts = ctx.scale.pick(6, 12);
    let ref_steps = ctx.scale.pick(2000, 3000);
    let g = test_gaussian();
    let gmix = g.to_mixture();
    let fl = GaussianFlow::new(&g, &sch);
    let mix = demo_mixture();
    let teachers = [
        (Sampler::EulerMaruyama { noise_level: 0.0 }, 1.0),
        (Sampler::HeunT, 2.0),
    ];
    let mut rng = ctx.rng("points");
    // Points of p_t at every node time t_q, from shared draws (x₀, z): x = α x₀ + σ z.
    let draws = |m: &Mixture, rng: &mut rand_pcg::Pcg64| -> Vec<(DVector<f64>, DVector<f64>)> {
        (0..n_pts)
            .map(|_| {
                let z = DVector::from_fn(m.dim(), |_, _| StandardNormal.sample(&mut *rng));
                (m.sample(rng), z)
            })
            .collect()
    };
    let node_t: Vec<f64> = FRACTIONS.iter().map(|q| EPS + q * (1.0 - EPS)).collect();
    let mut table = Table::new(
        "",
        &[
            "data",
            "teacher",
            "intervals",
            "dt",
            "sup_error",
            "reference_error",
        ],
    );
    let mut fits = Table::new(
        "slopes",
        &["data", "teacher", "order", "slope", "slope_lo", "slope_hi"],
    );
    let mut fig = Figure::new(
        "",
        "FM-3: zero-loss consistency distillation, sup error vs Δt",
        "step Δt (units of t)",
        "sup_{n,x} |f_θ − f| (data units)",
    )
    .loglog();
    let mut worst_dev = 0.0_f64;
    let mut worst_ref_ratio = 0.0_f64;
    let mut slopes_txt = Vec::new();
    for (label, data) in [("gaussian", &gmix), ("mixture", &mix)] {
        let pts = draws(data, &mut rng);
        // Start states and exact f at each node time.
        let mut starts = Vec::new();
        let mut exact = Vec::new();
        let mut ref_err = 0.0_f64;
        for &t in &node_t {
            let (a, s) = (sch.alpha(t), sch.sigma(t));
            let flat: Vec<f64> = pts
                .iter()
                .flat_map(|(x0, z)| (x0 * a + z * s).iter().copied().collect::<Vec<_>>())
                .collect();
            let ex: Vec<DVector<f64>> = if label == "gaussian" {
                flat.chunks(data.dim())
                    .map(|x| fl.flow_map(&DVector::from_row_slice(x), t, EPS))
                    .collect()
            } else {
                let r = reference_flow(&sch, data, &flat, t, EPS, ref_steps)?;
                ref_err = ref_err.max(r.value_error);
                (0..r.map.len()).map(|p| jet_value(&r.map, p)).collect()
            };
            starts.push(flat);
            exact.push(ex);
        }
        for &(teacher, order) in &teachers {
            let mut dts = Vec::new();
            let mut errs = Vec::new();
            for &m in &intervals {
                let grid: Vec<f64> = (0..=m)
                    .map(|k| EPS + (1.0 - EPS) * k as f64 / m as f64)
                    .collect();
                let mut sup = 0.0_f64;
                for (qi, q) in FRACTIONS.iter().enumerate() {
                    let n = 1 + (q * m as f64).round() as usize;
                    let x = Jets::seeded(data.dim(), starts[qi].clone());
                    let out = cd_zero_loss(teacher, &sch, &grid, n, &x, data, &mut RefuseNoise);
                    for (p, ex) in exact[qi].iter().enumerate() {
                        sup = sup.max((jet_value(&out, p) - ex).amax());
                    }
                }
                let dt = (1.0 - EPS) / m as f64;
                worst_ref_ratio = worst_ref_ratio.max(ref_err / sup);
                table.push(vec![
                    label.into(),
                    teacher.label().into(),
                    m.into(),
                    dt.into(),
                    sup.into(),
                    ref_err.into(),
                ]);
                dts.push(dt);
                errs.push(sup);
            }
            let fit = loglog_slope(&dts, &errs, tol::LEVEL)?;
            worst_dev = worst_dev.max((fit.slope - order).abs());
            slopes_txt.push(format!("{label}/{}: {:.3}", teacher.label(), fit.slope));
            fits.push(vec![
                label.into(),
                teacher.label().into(),
                order.into(),
                fit.slope.into(),
                fit.lo.into(),
                fit.hi.into(),
            ]);
            fig = fig.with(Series::line(
                format!("{label}, {}", teacher.label()),
                dts.iter().copied().zip(errs.iter().copied()).collect(),
            ));
        }
    }
    Ok(Evidence::within(
        worst_dev,
        tol::ORDER,
        format!(
            "measured = max |fitted slope − p| of sup_{{n,x}}|f_θ(x, t_n) − f(x, t_n)| against Δt (n at t = ε + q(1 − ε), q ∈ {FRACTIONS:?}; {n_pts} points of p_{{t_n}}; N − 1 ∈ {intervals:?} uniform steps in t on [ε, 1], ε = {EPS}, VP-linear), f_θ the zero-loss CD map built by its recursion with the crate's Euler (p = 1) and Heun (p = 2) PF-ODE steps, f = Ψ_{{t→ε}} (closed form on the d = 3 Gaussian, reference RK4 in λ with {ref_steps} steps on the 2-D demo mixture); tolerance {} (CLAIMS' fitted-order budget). Slopes: {}. Reference error ≤ {worst_ref_ratio:.1e} of the smallest measured error",
            tol::ORDER,
            slopes_txt.join(", ")
        ),
    )
    .require(
        worst_ref_ratio < 1e-3,
        "the reference consistency function is not accurate enough",
    )
    .table(table)
    .table(fits)
    .figure(fig))
}
