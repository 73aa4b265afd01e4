//! SM-2 (d): equal minimisers for a model linear in θ (random features at fixed t): the DSM normal
//! equations in closed form (Gram matrix, Stein's lemma on ε) against the ESM normal equations with
//! E[φ ∇log p_tᵀ] by quadrature.

use crate::evidence::Table;
use crate::losses::mixture::Grid2;
use crate::losses::NoiseLevel;
use crate::models::RandomFeatures;
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rand::Rng;

/// `q_err` (`panels` vs 2·`panels`) estimates the coarser rule's error, an upper bound for the finer rule
/// used here when the rule converges; a factor 10 covers an estimate that is small by chance.
const QUADRATURE_MARGIN: f64 = 10.0;

/// The minimiser comparison: its table, whether all three comparisons are within tolerance, and the numbers
/// the verdict quotes.
pub(super) struct Minimisers {
    pub(super) table: Table,
    pub(super) ok: bool,
    pub(super) features: usize,
    pub(super) rhs_err: f64,
    pub(super) th_err: f64,
    pub(super) q_err: f64,
    pub(super) kappa_g: f64,
}

pub(super) fn minimisers<R: Rng + ?Sized>(
    mix: &Mixture,
    ng: &NoiseLevel,
    t_g: f64,
    panels: usize,
    rng: &mut R,
) -> Result<Minimisers> {
    let rf = RandomFeatures::random(2, 10, 0.7, 1.0, rng);
    let ph = rf.phases_at(t_g);
    let kf = ph.len();
    let om = |j: usize| rf.omega.row(j).transpose();
    let mut gram = DMatrix::zeros(kf, kf);
    let mut b_dsm = DMatrix::zeros(kf, 2);
    for i in 0..kf {
        for j in 0..kf {
            let (cp, _) = mix.trig_moments(&(om(i) + om(j)), ph[i] + ph[j], ng.alpha, ng.sigma);
            let (cm, _) = mix.trig_moments(&(om(i) - om(j)), ph[i] - ph[j], ng.alpha, ng.sigma);
            gram[(i, j)] = 0.5 * (cp + cm);
        }
        // E[φ_i(x_t)(−ε/σ)] = ω_i E sin(ω_iᵀx_t + b_i) (Stein's lemma in ε).
        let (_, sn) = mix.trig_moments(&om(i), ph[i], ng.alpha, ng.sigma);
        b_dsm.set_row(i, &(om(i) * sn).transpose());
    }
    let quad_rhs = |panels: usize| -> Result<(DMatrix<f64>, DMatrix<f64>)> {
        let grid = Grid2::new(mix, ng, panels)?;
        let v = grid.expect_vec(2 * kf + kf * kf, &|x| {
            let phi = rf.features(x, t_g);
            let sc = mix.score(x, ng.alpha, ng.sigma);
            let mut out = DVector::zeros(2 * kf + kf * kf);
            for i in 0..kf {
                out[i] = phi[i] * sc[0];
                out[kf + i] = phi[i] * sc[1];
                for j in 0..kf {
                    out[2 * kf + i + kf * j] = phi[i] * phi[j];
                }
            }
            out
        });
        let b = DMatrix::from_fn(kf, 2, |i, c| v[c * kf + i]);
        let gq = DMatrix::from_fn(kf, kf, |i, j| v[2 * kf + i + kf * j]);
        Ok((b, gq))
    };
    let (b_esm, gram_q) = quad_rhs(2 * panels)?;
    let (b_esm_coarse, _) = quad_rhs(panels)?;
    let q_err = (&b_esm - &b_esm_coarse).norm() / b_esm.norm();
    let gram_err = (&gram - &gram_q).norm() / gram.norm();
    let svd = gram.clone().svd(false, false);
    let kappa_g = svd.singular_values.max() / svd.singular_values.min();
    let lu = gram.clone().lu();
    let th_dsm = lu.solve(&b_dsm).expect("Gram matrix invertible");
    let th_esm = lu.solve(&b_esm).expect("Gram matrix invertible");
    let rhs_err = (&b_dsm - &b_esm).norm() / b_esm.norm();
    let th_err = (&th_dsm - &th_esm).norm() / th_esm.norm();
    let rhs_tol = q_err.max(tol::IDENTITY) * QUADRATURE_MARGIN;
    let th_tol = rhs_tol * kappa_g;
    let mut mins = Table::new("minimisers", &["quantity", "value", "tolerance"]);
    for (q, v, tl) in [
        ("features", kf as f64, f64::NAN),
        ("gram_closed_form_vs_quadrature_rel_err", gram_err, rhs_tol),
        ("rhs_dsm_stein_vs_esm_quadrature_rel_err", rhs_err, rhs_tol),
        ("quadrature_err_estimate", q_err, f64::NAN),
        ("gram_condition_number", kappa_g, f64::NAN),
        ("theta_dsm_vs_theta_esm_rel_err", th_err, th_tol),
        ("theta_esm_norm", th_esm.norm(), f64::NAN),
    ] {
        mins.push(vec![
            q.into(),
            v.into(),
            if tl.is_nan() { "".into() } else { tl.into() },
        ]);
    }
    let mins_ok = gram_err <= rhs_tol && rhs_err <= rhs_tol && th_err <= th_tol;
    Ok(Minimisers {
        table: mins,
        ok: mins_ok,
        features: kf,
        rhs_err,
        th_err,
        q_err,
        kappa_g,
    })
}
