//! SM-2 (a): on Gaussian data with affine models, exactly and on every schedule, DSM − ESM is the same C_t
//! for every θ, the three routes to C_t agree, and the library agrees with the hand formulas of CLAIMS.

use super::super::common::{cond_c, random_affine, times};
use crate::evidence::Table;
use crate::losses::gaussian::{self as gx, AffineScore};
use crate::losses::NoiseLevel;
use crate::schedule::all_continuous;
use crate::target::Gaussian;
use crate::tol;
use nalgebra::DMatrix;
use rand::Rng;

/// A check is named in the verdict once its error reaches this fraction of its tolerance.
const WORTH_NAMING: f64 = 0.5;

/// DSM and ESM written out as in CLAIMS SM-2 (independent of the generic residual evaluator):
/// DSM = α² tr(PΣPᵀ) + ‖I/σ − σP‖_F² + ‖P(m_t − m)‖², ESM = tr(D C Dᵀ) + ‖P(m − m_t)‖², D = C⁻¹ − P.
fn sm2_hand(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> (f64, f64) {
    let d = g.dim();
    let sig = g.covariance();
    let c = &sig * (n.alpha * n.alpha) + DMatrix::identity(d, d) * (n.sigma * n.sigma);
    let c_inv = c.clone().cholesky().expect("C_t is SPD").inverse();
    let p = &model.p;
    let shift = p * (&g.mean * n.alpha - &model.m);
    let dsm = n.alpha * n.alpha * (p * &sig * p.transpose()).trace()
        + (DMatrix::identity(d, d) / n.sigma - p * n.sigma).norm_squared()
        + shift.norm_squared();
    let dm = &c_inv - p;
    let esm = (&dm * &c * dm.transpose()).trace() + shift.norm_squared();
    (dsm, esm)
}

/// The exact Gaussian part: its table, the largest error/tolerance, and where it is (if worth naming).
pub(super) struct Exact {
    pub(super) table: Table,
    pub(super) worst: f64,
    pub(super) worst_what: String,
}

/// `k_theta` random affine models at `nt` interior times of every continuous schedule (tolerance
/// tol::IDENTITY × cond(C_t)).
pub(super) fn exact<R: Rng + ?Sized>(
    g: &Gaussian,
    nt: usize,
    k_theta: usize,
    rng: &mut R,
) -> Exact {
    let d = g.dim();
    let mut exact = Table::new(
        "gaussian",
        &[
            "schedule",
            "t",
            "sigma",
            "theta",
            "esm",
            "dsm",
            "dsm_minus_esm",
            "c_fisher",
            "c_posterior",
            "c_laplacian",
            "rel_err_theta",
            "rel_err_routes",
            "rel_err_hand",
            "tolerance",
        ],
    );
    let (mut w_theta, mut w_routes, mut w_hand): (f64, f64, f64) = (0.0, 0.0, 0.0);
    let mut worst_what = String::new();
    for sch in all_continuous() {
        for t in times(sch.as_ref(), nt) {
            let n = NoiseLevel::at(sch.as_ref(), t);
            let (c1, c2, c3) = (
                gx::dsm_constant_fisher(g, &n),
                gx::dsm_constant_posterior(g, &n),
                gx::dsm_constant_laplacian(g, &n),
            );
            let kappa = cond_c(g, &n);
            let tolerance = tol::IDENTITY * kappa;
            // Routes 1 and 3 cancel d/σ² against tr C⁻¹: their error is relative to d/σ².
            let big = d as f64 / (n.sigma * n.sigma);
            let routes = ((c1 - c2).abs().max((c3 - c2).abs())) / big;
            for th in 0..k_theta {
                let model = random_affine(d, rng);
                let (e, ds) = (gx::esm(g, &model, &n), gx::dsm(g, &model, &n));
                let (dh, eh) = sm2_hand(g, &model, &n);
                let r_theta = ((ds - e) - c2).abs() / (ds.abs() + e.abs());
                let r_hand = ((dh - ds).abs() / ds.abs()).max((eh - e).abs() / e.abs());
                for (w, r, what) in [
                    (&mut w_theta, r_theta, "DSM − ESM = C_t"),
                    (&mut w_routes, routes, "three routes to C_t"),
                    (&mut w_hand, r_hand, "CLAIMS hand formulas"),
                ] {
                    if r / tolerance > *w {
                        *w = r / tolerance;
                        if r / tolerance > WORTH_NAMING {
                            worst_what = format!("{} {what} at t={t:.4}", sch.name());
                        }
                    }
                }
                exact.push(vec![
                    sch.name().into(),
                    t.into(),
                    n.sigma.into(),
                    th.into(),
                    e.into(),
                    ds.into(),
                    (ds - e).into(),
                    c1.into(),
                    c2.into(),
                    c3.into(),
                    r_theta.into(),
                    routes.into(),
                    r_hand.into(),
                    tolerance.into(),
                ]);
            }
        }
    }
    Exact {
        table: exact,
        worst: w_theta.max(w_routes).max(w_hand),
        worst_what,
    }
}
