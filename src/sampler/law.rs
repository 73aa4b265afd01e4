//! Exact output laws on Gaussian data: a sampler run on [`Form`]s from the exact p_T.

use super::Sampler;
use crate::algebra::Form;
use crate::schedule::Schedule;
use crate::target::Gaussian;
use nalgebra::{DMatrix, DVector};

/// The exact law of `sampler` on `target`, started from the exact p_T at `times[0]` and run along
/// `times`: (mean, covariance) in the original basis.
///
/// DDIM(η = 1) and DDPM with the posterior variance β̃ are the same kernel (DD-2), so their exact laws
/// agree to round-off on any grid, while both differ from the data law at a few steps:
///
/// ```
/// use diffusion_claims::metrics::w2_gaussian;
/// use diffusion_claims::sampler::{exact_law, uniform_t, DdpmVariance, Sampler};
/// use diffusion_claims::schedule::VpLinear;
/// use diffusion_claims::target::Gaussian;
/// use nalgebra::{DMatrix, DVector};
///
/// let cov = DMatrix::from_row_slice(2, 2, &[1.0, 0.3, 0.3, 0.5]);
/// let target = Gaussian::from_covariance(DVector::from_vec(vec![1.0, -1.0]), cov.clone()).unwrap();
/// let sch = VpLinear::default();
/// let times = uniform_t(1.0, 1e-3, 10).unwrap();
/// let (m1, c1) = exact_law(Sampler::Ddim { eta: 1.0 }, &sch, &times, &target);
/// let (m2, c2) = exact_law(Sampler::Ddpm(DdpmVariance::Small), &sch, &times, &target);
/// assert!(w2_gaussian(&m1, &c1, &m2, &c2).unwrap() < 1e-6);
/// assert!(w2_gaussian(&m1, &c1, &target.mean, &cov).unwrap() > 1e-3);
/// ```
pub fn exact_law(
    sampler: Sampler,
    sch: &dyn Schedule,
    times: &[f64],
    target: &Gaussian,
) -> (DVector<f64>, DMatrix<f64>) {
    let (a, s) = (sch.alpha(times[0]), sch.sigma(times[0]));
    let x = Form::marginal(target, a, s);
    // The fused engine: the same numbers as `sampler.run(sch, times, x, target, &mut FormNoise::after(1))`.
    let out = crate::lanes::run_exact(sampler, sch, times, &x, target)
        .expect("the start form is built from the target");
    let mean = target.from_eigen_coords(&DVector::from_vec(out.c.clone()));
    (
        mean,
        target.matrix_with_spectrum(&DVector::from_vec(out.variance())),
    )
}
