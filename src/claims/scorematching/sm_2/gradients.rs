//! SM-2 (c): equal gradients, ∇_θ DSM = ∇_θ ESM, for MLPs (analytic parameter Jacobian) on the mixture,
//! projected on three random directions and on the mean ESM gradient.

use super::super::common::{ci, normal_vec, z_of, Draws};
use crate::claims::Ctx;
use crate::evidence::Table;
use crate::losses::NoiseLevel;
use crate::models::{Mlp, ScoreModel};
use crate::schedule::VpLinear;
use crate::target::Mixture;
use anyhow::Result;
use nalgebra::DVector;
use rand::Rng;

/// The gradient table at time `t_g` and its largest z of mean(∇DSM − ∇ESM)·u against 0.
pub(super) fn gradients<R: Rng + ?Sized>(
    ctx: &Ctx,
    mix: &Mixture,
    sch: &VpLinear,
    t_g: f64,
    n_mc: usize,
    rng: &mut R,
) -> Result<(Table, f64)> {
    let ng = NoiseLevel::at(sch, t_g);
    let draws = Draws::new(mix, sch, t_g, n_mc, rng);
    let mut grads = Table::new(
        "gradients",
        &[
            "model",
            "direction",
            "n",
            "grad_esm_mean",
            "grad_esm_se",
            "grad_dsm_mean",
            "grad_dsm_se",
            "diff_mean",
            "diff_se",
            "z",
        ],
    );
    let mut zgrad: f64 = 0.0;
    for mi in 0..ctx.scale.pick(3, 6) {
        let m = Mlp::random(2, 16, 2.0, rng);
        let np = m.n_params();
        let mut dirs: Vec<DVector<f64>> = (0..3).map(|_| normal_vec(np, rng).normalize()).collect();
        let mut per: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); dirs.len() + 1];
        let mut g_esm_all = Vec::with_capacity(n_mc);
        let mut g_dsm_all = Vec::with_capacity(n_mc);
        for i in 0..n_mc {
            let s = m.score(&draws.x[i], t_g);
            let jt = m.param_jacobian(&draws.x[i], t_g).transpose();
            g_esm_all.push(&jt * ((&s - &draws.score[i]) * 2.0));
            g_dsm_all.push(&jt * ((&s + &draws.eps[i] / ng.sigma) * 2.0));
        }
        // The fourth direction: the normalised mean ESM gradient (the direction a trainer follows).
        let mean_esm = g_esm_all.iter().fold(DVector::zeros(np), |a, b| a + b) / n_mc as f64;
        dirs.push(mean_esm.normalize());
        for (k, u) in dirs.iter().enumerate() {
            for i in 0..n_mc {
                per[k].0.push(u.dot(&g_esm_all[i]));
                per[k].1.push(u.dot(&g_dsm_all[i]));
            }
            let ce = ci(&per[k].0)?;
            let cd = ci(&per[k].1)?;
            let diff: Vec<f64> = per[k].1.iter().zip(&per[k].0).map(|(a, b)| a - b).collect();
            let cdiff = ci(&diff)?;
            let z = z_of(&cdiff, 0.0, 0.0);
            zgrad = zgrad.max(z);
            let label = if k < 3 {
                format!("random-{k}")
            } else {
                "mean-esm-gradient".into()
            };
            grads.push(vec![
                format!("mlp-{mi}").into(),
                label.into(),
                n_mc.into(),
                ce.mean.into(),
                ce.se.into(),
                cd.mean.into(),
                cd.se.into(),
                cdiff.mean.into(),
                cdiff.se.into(),
                z.into(),
            ]);
        }
    }
    Ok((grads, zgrad))
}
