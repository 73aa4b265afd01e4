//! ENGINE-2's panel in d = 2 (issue 9 item 3): KL(output ‖ p₀) through the Jacobian determinant of Φ
//! (`lawnd`, duals with a d×d tangent) and tensor Gauss–Legendre over x_T, against the affine-form engine on
//! a non-diagonal 2-D Gaussian, and its convergence on the 2-D demo mixture.

use crate::evidence::Table;
use crate::fixtures::demo_mixture;
use crate::lawnd::{kl_output, kl_output_vs, Reference};
use crate::metrics::kl_gaussian;
use crate::sampler::{exact_law, uniform_logsnr, Sampler};
use crate::schedule::{Schedule, VpLinear};
use crate::target::Gaussian;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};

/// Gauss–Legendre panels per axis (8 points each) over p_T's ±9σ box: on Gaussian data Φ is affine, the
/// integrand is p_T times a quadratic, and 8 panels resolve p_T to round-off (n vs 2n ≲ 1e-11).
const PANELS: usize = 8;
/// The mixture run is measured at t_min = 0.4, where Φ has no thin transition layers (at small t_min the
/// uniform tensor grid resolves them poorly; `lawnd` states that through its n vs 2n error).
const MIXTURE_T_MIN: f64 = 0.4;

/// What the panel found: (max |KL − KL_forms| and stated error on the Gaussian, KL(10)/KL(20) of RK4 on
/// the mixture, its stated relative error).
pub(super) struct Plane {
    pub(super) gaussian_gap: f64,
    pub(super) rk4_ratio: f64,
    pub(super) mixture_rel_error: f64,
}

pub(super) fn plane_panel(table: &mut Table) -> Result<Plane> {
    let sch = VpLinear::default();
    let g = Gaussian::from_covariance(
        DVector::from_vec(vec![0.7, -0.4]),
        DMatrix::from_row_slice(2, 2, &[1.2, 0.45, 0.45, 0.5]),
    )?;
    let mix = g.to_mixture();
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 10)?;
    let mut gaussian_gap: f64 = 0.0;
    for s in [
        Sampler::Ddim { eta: 0.0 },
        Sampler::DpmSolver2,
        Sampler::DpmSolverPp2M { noise_level: 0.0 },
        Sampler::HeunT,
    ] {
        let (m, c) = exact_law(s, &sch, &times, &g);
        let forms = kl_gaussian(&m, &c, &g.mean, &g.covariance())?;
        let nd = kl_output(s, &sch, &times, &mix, PANELS)?;
        let gap = (nd.kl - forms).abs();
        gaussian_gap = gaussian_gap.max(gap).max(nd.error);
        if !nd.orientation_preserving {
            gaussian_gap = f64::INFINITY;
        }
        table.push(vec![
            "gaussian-2d".into(),
            s.label().into(),
            10usize.into(),
            nd.kl.into(),
            forms.into(),
            nd.error.into(),
        ]);
    }
    // RK4 on the demo mixture against the exact marginal at t_min: KL falls like (h⁴)² = h⁸.
    let data = demo_mixture();
    let reference = Reference {
        law: &data,
        alpha: sch.alpha(MIXTURE_T_MIN),
        sigma: sch.sigma(MIXTURE_T_MIN),
    };
    let mut kls = Vec::new();
    let mut mixture_rel_error: f64 = 0.0;
    for steps in [10usize, 20] {
        let times = uniform_logsnr(&sch, 1.0, MIXTURE_T_MIN, steps)?;
        let nd = kl_output_vs(Sampler::Rk4T, &sch, &times, &data, reference, 2 * PANELS)?;
        mixture_rel_error = mixture_rel_error.max(nd.error / nd.kl);
        table.push(vec![
            "demo-mixture-2d (to p_t_min, t_min = 0.4)".into(),
            Sampler::Rk4T.label().into(),
            steps.into(),
            nd.kl.into(),
            "".into(),
            nd.error.into(),
        ]);
        kls.push(nd.kl);
    }
    Ok(Plane {
        gaussian_gap,
        rk4_ratio: kls[0] / kls[1],
        mixture_rel_error,
    })
}

pub(super) fn plane_table() -> Table {
    Table::new(
        "plane",
        &[
            "data",
            "sampler",
            "steps",
            "kl_jacobian_route",
            "kl_forms",
            "stated_error",
        ],
    )
}
