//! Properties of the sampler zoo (issue 3): exactness on point masses, exact laws (forms) against Monte
//! Carlo for the multistep/stochastic samplers, evaluation counts, and orders on a smooth problem.

use diffusion_claims::algebra::{Form, FormNoise, Noise, PcgNoise};
use diffusion_claims::claims::stable_hash;
use diffusion_claims::fixtures::test_gaussian;
use diffusion_claims::metrics::{loglog_slope, mean_ci, w2_commuting};
use diffusion_claims::sampler::exact_law;
use diffusion_claims::sampler::{
    edm_rho, quadratic_t, uniform_logsnr, uniform_t, Counted, Sampler,
};
use diffusion_claims::schedule::{Schedule, VpLinear};
use diffusion_claims::target::Gaussian;
use nalgebra::DVector;
use proptest::prelude::*;

/// Samplers that theory says are exact on point masses (x̂₀ and ε̂ constant along exact paths).
fn point_mass_exact() -> Vec<Sampler> {
    vec![
        Sampler::EdmEuler,
        Sampler::EdmHeun,
        Sampler::DpmSolver2,
        Sampler::DpmSolver3,
        Sampler::DpmSolverPp2M { noise_level: 0.0 },
        Sampler::DpmSolverPp2M { noise_level: 1.0 },
        Sampler::DpmSolverPp2M { noise_level: 0.5 },
        Sampler::DpmSolverPp3M { corrected: false },
        Sampler::DpmSolverPp3M { corrected: true },
        Sampler::ExpIntegrator { noise_level: 1.0 },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// DD-5 extended: on δ_μ every exponential-integrator/EDM sampler gives N(α_t μ, σ_t²) at every grid time.
    #[test]
    fn point_mass_is_exact(mu in -3.0f64..3.0, steps in 1usize..40, which in 0usize..10, grid in 0usize..3) {
        let sch = VpLinear::default();
        let target = Gaussian::point_mass(DVector::from_vec(vec![mu]));
        let sampler = point_mass_exact()[which];
        let times = match grid {
            0 => uniform_t(1.0, 1e-3, steps).unwrap(),
            1 => uniform_logsnr(&sch, 1.0, 1e-3, steps).unwrap(),
            _ => quadratic_t(1.0, 1e-3, steps).unwrap(),
        };
        let x = Form::gaussian(vec![sch.alpha(1.0) * mu], vec![sch.sigma(1.0)]);
        let mut worst: f64 = 0.0;
        sampler.run_observed(&sch, &times, x, &target, &mut FormNoise::after(1), &mut |k, f: &Form| {
            let (a, s) = (sch.alpha(times[k]), sch.sigma(times[k]));
            worst = worst
                .max((f.c[0] - a * mu).abs() / (mu.abs() + 1.0))
                .max((f.variance()[0].sqrt() - s).abs());
        });
        prop_assert!(worst < 1e-11, "{} err {worst:e}", sampler.label());
    }
}

/// EDM grid to σ = 0: Heun on a point mass lands exactly on μ (the last step is the Euler step to σ = 0).
#[test]
fn edm_to_zero_point_mass() {
    let sch = VpLinear::default();
    let mu = 1.3;
    let target = Gaussian::point_mass(DVector::from_vec(vec![mu]));
    for steps in [2usize, 5, 18] {
        let times = edm_rho(&sch, 1.0, 1e-3, steps, 7.0, true).unwrap();
        assert_eq!(*times.last().unwrap(), 0.0);
        for s in [Sampler::EdmEuler, Sampler::EdmHeun] {
            let x = Form::gaussian(vec![sch.alpha(1.0) * mu], vec![sch.sigma(1.0)]);
            let out = s.run(&sch, &times, x, &target, &mut FormNoise::after(1));
            assert!((out.c[0] - mu).abs() < 1e-12 && out.variance()[0] < 1e-24);
        }
    }
}

/// The EDM ρ-grid formula: σ̄ at the grid times follows (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ.
#[test]
fn edm_grid_formula() {
    let sch = VpLinear::default();
    let times = edm_rho(&sch, 1.0, 1e-3, 10, 7.0, false).unwrap();
    let sb = |t: f64| sch.sigma(t) / sch.alpha(t);
    let (hi, lo) = (sb(1.0).powf(1.0 / 7.0), sb(1e-3).powf(1.0 / 7.0));
    for (i, t) in times.iter().enumerate() {
        let expect = (hi + i as f64 / 10.0 * (lo - hi)).powi(7);
        assert!((sb(*t) - expect).abs() <= 1e-9 * expect, "i = {i}");
    }
}

/// `nfe` equals the number of denoiser calls, on every grid.
#[test]
fn nfe_counts_calls() {
    let sch = VpLinear::default();
    let g = Gaussian::from_eigen(
        DVector::from_vec(vec![0.2]),
        DVector::from_vec(vec![0.5]),
        None,
    )
    .unwrap();
    for times in [
        uniform_t(1.0, 1e-3, 7).unwrap(),
        edm_rho(&sch, 1.0, 1e-3, 7, 7.0, true).unwrap(),
    ] {
        for s in Sampler::zoo() {
            let counted = Counted::new(&g);
            let x = Form::gaussian(vec![0.0], vec![1.0]);
            s.run(&sch, &times, x, &counted, &mut FormNoise::after(1));
            assert_eq!(counted.count.get(), s.nfe(&sch, &times), "{}", s.label());
        }
    }
}

/// Exact law by forms vs Monte Carlo moments (full-matrix mixture oracle) within 4 SE, for the new samplers.
#[test]
fn forms_match_monte_carlo() {
    let g = test_gaussian();
    let mix = g.to_mixture();
    let sch = VpLinear::default();
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 8).unwrap();
    let n = 3000;
    for sampler in [
        Sampler::DpmSolverPp2M { noise_level: 1.0 },
        Sampler::DpmSolverPp2M { noise_level: 0.0 },
        Sampler::DpmSolverPp3M { corrected: false },
        Sampler::DpmSolver3,
        Sampler::EdmHeun,
    ] {
        let (m, v) = exact_law(sampler, &sch, &times, &g);
        let finals: Vec<DVector<f64>> = (0..n)
            .map(|p| {
                let mut noise =
                    PcgNoise::seeded(stable_hash(7, &[&sampler.label(), &p.to_string()]));
                let x0 = g.sample(&mut noise.rng);
                let z = noise.standard_normal(&x0);
                let x = x0 * sch.alpha(1.0) + z * sch.sigma(1.0);
                sampler.run(&sch, &times, x, &mix, &mut noise)
            })
            .collect();
        for i in 0..3 {
            let vals: Vec<f64> = finals.iter().map(|x| x[i]).collect();
            let ci = mean_ci(&vals, 0.95).unwrap();
            assert!(
                (ci.mean - m[i]).abs() < 4.0 * ci.se,
                "{} mean[{i}]",
                sampler.label()
            );
            let sq: Vec<f64> = vals.iter().map(|x| (x - ci.mean).powi(2)).collect();
            let cv = mean_ci(&sq, 0.95).unwrap();
            assert!(
                (cv.mean - v[(i, i)]).abs() < 4.0 * cv.se,
                "{} var[{i}]",
                sampler.label()
            );
        }
    }
}

/// Orders of the ODE solvers on a smooth problem (1-D Gaussian, exact law vs p_{t_min}): W2 error slopes.
#[test]
fn orders_on_gaussian() {
    let sch = VpLinear::default();
    let g = Gaussian::from_eigen(
        DVector::from_vec(vec![0.7]),
        DVector::from_vec(vec![0.3]),
        None,
    )
    .unwrap();
    let (m_true, v_true) = g.marginal(sch.alpha(1e-3), sch.sigma(1e-3));
    for (s, k) in [
        (Sampler::DpmSolver1, 1.0),
        (Sampler::DpmSolver2, 2.0),
        (Sampler::DpmSolver3, 3.0),
        (Sampler::DpmSolverPp2M { noise_level: 0.0 }, 2.0),
        (Sampler::DpmSolverPp3M { corrected: false }, 2.0),
        (Sampler::DpmSolverPp3M { corrected: true }, 3.0),
        (Sampler::EdmHeun, 2.0),
    ] {
        let ns = [40.0, 80.0, 160.0];
        let errs: Vec<f64> = ns
            .iter()
            .map(|&n| {
                let times = uniform_logsnr(&sch, 1.0, 1e-3, n as usize).unwrap();
                let (m, v) = exact_law(s, &sch, &times, &g);
                w2_commuting(&[m[0]], &[v[(0, 0)]], &[m_true[0]], &[v_true[0]])
            })
            .collect();
        let fit = loglog_slope(&ns, &errs, 0.95).unwrap();
        // Pre-asymptotically an order-k method may converge faster (super-convergence), never slower.
        assert!(-fit.slope > k - 0.3, "{} slope {}", s.label(), fit.slope);
        if k == 2.0 {
            assert!(
                -fit.slope < 2.3,
                "{} slope {}: not second order",
                s.label(),
                fit.slope
            );
        }
    }
}
