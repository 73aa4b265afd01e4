//! The lane engine (`diffusion_claims::lanes`) is the Form engine, coordinate by coordinate: for every
//! sampler, schedule, grid and start, on every instruction set the processor has, `lanes::run_exact`
//! returns the very numbers that `Sampler::run` on
//! `Form`s returns (bit for bit; an empty row of a form is a zero row of a lane).

use diffusion_claims::algebra::{Form, FormNoise};
use diffusion_claims::lanes::{run_exact, run_exact_observed, run_exact_with, Simd};
use diffusion_claims::pg::PgVp;
use diffusion_claims::sampler::{DdpmVariance, Sampler};
use diffusion_claims::schedule::{CosineVp, Edm, Schedule, SubVp, VpLinear};
use diffusion_claims::target::Gaussian;
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;

fn every_sampler() -> Vec<Sampler> {
    let mut v = vec![
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::Ddpm(DdpmVariance::Large),
        Sampler::EulerVe,
        Sampler::DpmSolver1,
        Sampler::DpmSolverPp1,
        Sampler::DdpmBetaDt,
        Sampler::HeunT,
        Sampler::Rk4T,
        Sampler::EdmEuler,
        Sampler::EdmHeun,
        Sampler::DpmSolver2,
        Sampler::DpmSolver3,
        Sampler::DpmSolver2M,
    ];
    for eta in [0.0, 0.5, 1.0] {
        v.push(Sampler::Ddim { eta });
        v.push(Sampler::EulerMaruyama { noise_level: eta });
        v.push(Sampler::ExpIntegrator { noise_level: eta });
        v.push(Sampler::ExpIntegratorScore { noise_level: eta });
        v.push(Sampler::DpmSolverPp2M { noise_level: eta });
    }
    for corrected in [false, true] {
        v.push(Sampler::DpmSolverPp3M { corrected });
        v.push(Sampler::DpmSolver3M { corrected });
        v.push(Sampler::SdeDpmSolverPp3M { corrected });
    }
    for order in 1..=3 {
        v.push(Sampler::Deis { order });
    }
    for order in 2..=3 {
        v.push(Sampler::DpmSolverPpSinglestep { order });
        v.push(Sampler::UniPc { order });
    }
    v
}

/// Same numbers (NaN where NaN), an empty form row standing for zeros.
fn assert_same(lanes: &Form, forms: &Form, what: &str) {
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    assert_eq!(lanes.c.len(), forms.c.len(), "{what}: dimension");
    for (i, (a, b)) in lanes.c.iter().zip(&forms.c).enumerate() {
        assert!(same(*a, *b), "{what}: mean {i}: lanes {a:e}, forms {b:e}");
    }
    assert_eq!(lanes.a.len(), forms.a.len(), "{what}: noise components");
    for (k, (ra, rb)) in lanes.a.iter().zip(&forms.a).enumerate() {
        for (i, a) in ra.iter().enumerate() {
            let b = rb.get(i).copied().unwrap_or(0.0);
            assert!(
                same(*a, b),
                "{what}: row {k}, coordinate {i}: lanes {a:e}, forms {b:e}"
            );
        }
    }
}

fn targets() -> Vec<Gaussian> {
    // Seven coordinates (one lane and a padded one), a zero eigenvalue, a non-zero mean.
    let diag = Gaussian::from_eigen(
        DVector::from_vec(vec![0.3, -1.0, 0.0, 2.0, 0.5, -0.2, 1.0]),
        DVector::from_vec(vec![1.0, 0.25, 0.0, 4.0, 1e-4, 0.7, 2.5]),
        None,
    )
    .unwrap();
    let cov = DMatrix::from_row_slice(3, 3, &[1.0, 0.3, 0.1, 0.3, 0.5, 0.0, 0.1, 0.0, 0.2]);
    let full = Gaussian::from_covariance(DVector::from_vec(vec![1.0, -1.0, 0.5]), cov).unwrap();
    vec![diag, full]
}

fn check(sampler: Sampler, sch: &dyn Schedule, times: &[f64], target: &Gaussian, start: Form) {
    let rows = start.a.len();
    let forms = sampler.run(
        sch,
        times,
        start.clone(),
        target,
        &mut FormNoise::after(rows),
    );
    // Every instruction set this processor has: the same bits.
    for simd in Simd::available() {
        let lanes = run_exact_with(simd, sampler, sch, times, &start, target).unwrap();
        let what = format!(
            "{} on {} over {} steps ({simd:?})",
            sampler.label(),
            sch.name(),
            times.len() - 1
        );
        assert_same(&lanes, &forms, &what);
    }
}

#[test]
fn lanes_equal_forms_for_every_sampler_schedule_and_grid() {
    let schedules: Vec<(Box<dyn Schedule>, Vec<f64>)> = vec![
        (Box::new(VpLinear::default()), vec![1e-3, 0.0]),
        (Box::new(CosineVp), vec![1e-3]),
        (Box::new(SubVp::default()), vec![1e-3]),
        (Box::new(Edm), vec![1e-3]),
        // g² stays finite at t = 0, so Heun and RK4 evaluate the closed-form score at σ = 0 (the score op).
        (Box::new(PgVp::default()), vec![1e-3, 0.0]),
    ];
    let mut runs = 0;
    for sampler in every_sampler() {
        for (sch, t_mins) in &schedules {
            let t_max = sch.t_range().1;
            for &t_min in t_mins {
                for steps in [1, 2, 5, 13] {
                    let Ok(times) = sampler.conventional_grid(sch.as_ref(), t_max, t_min, steps)
                    else {
                        continue;
                    };
                    for target in targets() {
                        let (a, s) = (sch.alpha(t_max), sch.sigma(t_max));
                        check(
                            sampler,
                            sch.as_ref(),
                            &times,
                            &target,
                            Form::marginal(&target, a, s),
                        );
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(runs > 500, "only {runs} runs compared");
}

#[test]
fn lanes_start_from_any_form() {
    // Two noise components, one of them an empty (zero) row; a stochastic and a multistep sampler.
    let sch = VpLinear::default();
    let target = &targets()[0];
    let times = sch_times(&sch, 9);
    let start = Form {
        c: vec![0.1; 7],
        a: vec![
            vec![0.9; 7],
            Vec::new(),
            (0..7).map(|i| 0.1 * i as f64).collect(),
        ],
    };
    for sampler in [
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::DpmSolverPp2M { noise_level: 1.0 },
        Sampler::Rk4T,
    ] {
        check(sampler, &sch, &times, target, start.clone());
    }
}

fn sch_times(sch: &dyn Schedule, steps: usize) -> Vec<f64> {
    Sampler::Ddim { eta: 0.0 }
        .conventional_grid(sch, 1.0, 1e-3, steps)
        .unwrap()
}

#[test]
fn lanes_reject_a_mismatched_start() {
    let target = &targets()[0];
    let err = run_exact(
        Sampler::Ddim { eta: 0.0 },
        &VpLinear::default(),
        &[1.0, 0.5],
        &Form::gaussian(vec![0.0; 3], vec![1.0; 3]),
        target,
    )
    .unwrap_err();
    assert!(err.to_string().contains("coordinates"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Random spectra, dimensions and step counts: the two engines agree bit for bit.
    #[test]
    fn lanes_equal_forms_on_random_spectra(
        eig in proptest::collection::vec(0.0f64..5.0, 1..19),
        steps in 1usize..30,
        which in 0usize..40,
    ) {
        let d = eig.len();
        let mean = DVector::from_fn(d, |i, _| (i as f64 * 0.7).sin());
        let target = Gaussian::from_eigen(mean, DVector::from_vec(eig), None).unwrap();
        let all = every_sampler();
        let sampler = all[which % all.len()];
        let sch = VpLinear::default();
        let times = sampler.conventional_grid(&sch, 1.0, 1e-3, steps).unwrap();
        let (a, s) = (sch.alpha(1.0), sch.sigma(1.0));
        check(sampler, &sch, &times, &target, Form::marginal(&target, a, s));
    }
}

#[test]
fn lanes_observe_every_step_as_the_forms_do() {
    let sch = VpLinear::default();
    let target = &targets()[1];
    for sampler in [
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::DpmSolverPp3M { corrected: false },
        Sampler::HeunT,
    ] {
        let times = sampler.conventional_grid(&sch, 1.0, 1e-3, 7).unwrap();
        let x = Form::marginal(target, sch.alpha(1.0), sch.sigma(1.0));
        let mut forms = Vec::new();
        sampler.run_observed(
            &sch,
            &times,
            x.clone(),
            target,
            &mut FormNoise::after(1),
            &mut |k, f: &Form| forms.push((k, f.clone())),
        );
        let mut lanes = Vec::new();
        run_exact_observed(sampler, &sch, &times, &x, target, &mut |k, f| {
            lanes.push((k, f.clone()))
        })
        .unwrap();
        assert_eq!(
            lanes.len(),
            times.len(),
            "{}: one observation per grid time",
            sampler.label()
        );
        for ((kl, fl), (kf, ff)) in lanes.iter().zip(&forms) {
            assert_eq!(kl, kf);
            assert_same(fl, ff, &format!("{} after {kl} steps", sampler.label()));
        }
    }
}
