//! Exact output laws on Gaussian data: a sampler run on [`Form`]s from the exact p_T.

use super::Sampler;
use crate::algebra::{Form, FormNoise};
use crate::schedule::Schedule;
use crate::target::Gaussian;
use nalgebra::{DMatrix, DVector};

/// The exact law of `sampler` on `target`, started from the exact p_T at `times[0]` and run along
/// `times`: (mean, covariance) in the original basis.
pub fn exact_law(
    sampler: Sampler,
    sch: &dyn Schedule,
    times: &[f64],
    target: &Gaussian,
) -> (DVector<f64>, DMatrix<f64>) {
    let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
    let x = Form::marginal(target, a, s);
    let out = sampler.run(sch, times, x, target, &mut FormNoise::after(1));
    let mean = target.from_eigen_coords(&DVector::from_vec(out.c.clone()));
    (
        mean,
        target.matrix_with_spectrum(&DVector::from_vec(out.variance())),
    )
}
