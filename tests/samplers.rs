//! Properties of the sampler zoo (issue 3): exactness on point masses, exact laws (forms) against Monte
//! Carlo for the multistep/stochastic samplers, evaluation counts, and orders on a smooth problem.

use diffusion_claims::algebra::{Form, FormNoise, Noise, PcgNoise};
use diffusion_claims::claims::stable_hash;
use diffusion_claims::conventions::{Config, Scheduler, Spacing};
use diffusion_claims::fixtures::test_gaussian;
use diffusion_claims::metrics::{loglog_slope, mean_ci, w2_commuting};
use diffusion_claims::sampler::exact_law;
use diffusion_claims::sampler::{
    edm_rho, quadratic_t, uniform_logsnr, uniform_t, Counted, Grid, Sampler,
};
use diffusion_claims::schedule::{BetaSchedule, Schedule, VpLinear};
use diffusion_claims::target::Gaussian;
use diffusion_claims::target::Mixture;
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
        Sampler::DpmSolverPpSinglestep { order: 2 },
        Sampler::DpmSolverPpSinglestep { order: 3 },
        Sampler::UniPc { order: 2 },
        Sampler::UniPc { order: 3 },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// DD-5 extended: on δ_μ every exponential-integrator/EDM sampler gives N(α_t μ, σ_t²) at every grid time.
    #[test]
    fn point_mass_is_exact(mu in -3.0f64..3.0, steps in 1usize..40, which in 0usize..14, grid in 0usize..3) {
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
        // Round-off budget: a step in σ̄ = σ/α carries the state's rounding (ε·σ̄_s) through a correction
        // divided by σ̄_t and multiplied by the step σ̄_s − σ̄_t (EDM Heun, singlestep and UniPC correctors),
        // so each step contributes ≲ ε(1 + σ̄_s)(1 + σ̄_s/σ̄_t); 64ε per unit as in DD-3/DD-5. Inexact samplers
        // miss point masses by O(h) ≥ 1e-4 on these grids.
        let sbar = |t: f64| sch.sigma(t) / sch.alpha(t);
        let budget: f64 = 64.0 * f64::EPSILON
            * times.windows(2).map(|w| (1.0 + sbar(w[0])) * (1.0 + sbar(w[0]) / sbar(w[1]))).sum::<f64>();
        prop_assert!(worst < budget.max(1e-11), "{} err {worst:e} budget {budget:e}", sampler.label());
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

/// A diagonal Gaussian target (no eigenvectors: its coordinates are its eigen-coordinates).
fn diagonal_target() -> (Vec<f64>, Vec<f64>, Gaussian) {
    let (mu, lam) = (vec![0.5, -1.0, 2.0], vec![2.0, 0.25, 0.0]);
    let g = Gaussian::from_eigen(
        DVector::from_vec(mu.clone()),
        DVector::from_vec(lam.clone()),
        None,
    )
    .unwrap();
    (mu, lam, g)
}

/// α_t x̂₀(x) on a form, with x̂₀ of the Gaussian written out here (not the library's denoiser):
/// x̂₀_i = μ_i + k_i (x_i − α_s μ_i), k_i = α_s λ_i/(α_s² λ_i + σ_s²); returns (mean, variance).
fn alpha_x0(
    mu: &[f64],
    lam: &[f64],
    x: &Form,
    a_s: f64,
    s_s: f64,
    a_t: f64,
) -> (Vec<f64>, Vec<f64>) {
    let var = x.variance();
    (0..mu.len())
        .map(|i| {
            let k = a_s * lam[i] / (a_s * a_s * lam[i] + s_s * s_s);
            (
                a_t * (mu[i] + k * (x.c[i] - a_s * mu[i])),
                a_t * a_t * k * k * var[i],
            )
        })
        .unzip()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.is_finite() && (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g:e}, want {w:e}"
        );
    }
}

/// Issue 8 item 5: the DPM-Solver steps into σ_t = 0 take the limit σ_t(e^h − 1) → α_tσ_s/α_s (no 0·∞ = NaN)
/// and land on α_t x̂₀(x_s), the exact law N(α_t μ, α_t² α_s²λ²/(α_s²λ + σ_s²)) from the exact p_s; the
/// singlestep solvers take that first-order step with one evaluation.
#[test]
fn dpm_solver_steps_into_sigma_zero_land_on_alpha_x0() {
    let sch = VpLinear::default();
    assert_eq!(sch.sigma(0.0), 0.0);
    let (mu, lam, g) = diagonal_target();
    let a_t = sch.alpha(0.0);
    for s in [1.0, 0.3, 0.02] {
        let (a_s, s_s) = (sch.alpha(s), sch.sigma(s));
        let want_mean: Vec<f64> = mu.iter().map(|m| a_t * m).collect();
        let want_var: Vec<f64> = lam
            .iter()
            .map(|l| a_t * a_t * a_s * a_s * l * l / (a_s * a_s * l + s_s * s_s))
            .collect();
        for sampler in [
            Sampler::DpmSolver1,
            Sampler::DpmSolver2,
            Sampler::DpmSolver3,
            Sampler::DpmSolver2M,
        ] {
            let what = format!("{} from t = {s}", sampler.label());
            let counted = Counted::new(&g);
            let x = Form::marginal(&g, a_s, s_s);
            let out = sampler.step(&sch, s, 0.0, &x, &counted, &mut FormNoise::after(1));
            assert_eq!(counted.count.get(), 1, "{what}: evaluations");
            assert_eq!(sampler.nfe_step(&sch, 0.0), 1, "{what}: nfe_step");
            assert_close(&format!("{what} mean"), &out.c, &want_mean, 1e-12);
            assert_close(
                &format!("{what} variance"),
                &out.variance(),
                &want_var,
                1e-12,
            );
            // Plain vectors with the mixture oracle: α_t x̂₀(x_s), finite.
            let mix: Mixture = g.to_mixture();
            let xv = DVector::from_vec(vec![0.3, -0.7, 1.1]);
            let outv = sampler.step(&sch, s, 0.0, &xv, &mix, &mut PcgNoise::seeded(1));
            let want = mix.denoise(&xv, a_s, s_s) * a_t;
            assert_close(
                &format!("{what} vector"),
                outv.as_slice(),
                want.as_slice(),
                1e-12,
            );
        }
    }
}

/// The last step of a run into σ = 0 (multistep history present) also lands on α_t x̂₀ of the state before
/// it, for every noise- and data-prediction DPM-Solver.
#[test]
fn runs_into_sigma_zero_end_on_alpha_x0_of_the_last_state() {
    let sch = VpLinear::default();
    let (mu, lam, g) = diagonal_target();
    let mut times = uniform_logsnr(&sch, 1.0, 1e-3, 9).unwrap();
    times.push(0.0);
    let n = times.len() - 1;
    for sampler in [
        Sampler::DpmSolver1,
        Sampler::DpmSolver2,
        Sampler::DpmSolver3,
        Sampler::DpmSolver2M,
        Sampler::DpmSolverPp2M { noise_level: 0.0 },
        Sampler::DpmSolverPp3M { corrected: false },
    ] {
        let x = Form::marginal(&g, sch.alpha(1.0), sch.sigma(1.0));
        let mut before = None;
        let out = sampler.run_observed(
            &sch,
            &times,
            x,
            &g,
            &mut FormNoise::after(1),
            &mut |k, f| {
                if k == n - 1 {
                    before = Some(f.clone());
                }
            },
        );
        let before = before.unwrap();
        let s = times[n - 1];
        let (m, v) = alpha_x0(
            &mu,
            &lam,
            &before,
            sch.alpha(s),
            sch.sigma(s),
            sch.alpha(0.0),
        );
        assert_close(&format!("{} mean", sampler.label()), &out.c, &m, 1e-10);
        assert_close(
            &format!("{} variance", sampler.label()),
            &out.variance(),
            &v,
            1e-10,
        );
    }
}

/// The singlestep DPM-Solver++ and UniPC variants of the zoo are the formulas the `diffusers` conventions
/// run: the same numbers on the plan's nodes (their order schedules come from the sampler).
#[test]
fn singlestep_and_unipc_variants_are_the_conventions_runs() {
    let (_, _, g) = diagonal_target();
    for scheduler in [
        Scheduler::DpmSolverSinglestep {
            order: 2,
            final_sigma_min: false,
        },
        Scheduler::DpmSolverSinglestep {
            order: 3,
            final_sigma_min: true,
        },
        Scheduler::UniPc {
            order: 2,
            final_sigma_min: true,
        },
        Scheduler::UniPc {
            order: 3,
            final_sigma_min: false,
        },
    ] {
        let steps = 11;
        let plan = Config {
            beta: BetaSchedule::Linear,
            scheduler,
            steps,
            spacing: Spacing::Linspace,
            steps_offset: 0,
        }
        .plan()
        .unwrap();
        let sampler = plan.steps[0].sampler;
        let times: Vec<f64> = (0..=steps).map(|k| k as f64).collect();
        let x = Form::gaussian(vec![0.0; 3], vec![plan.init_std; 3]);
        let ours = sampler.run(&plan.nodes, &times, x.clone(), &g, &mut FormNoise::after(1));
        let theirs = plan.run(x, &g, &mut FormNoise::after(1));
        assert_eq!(ours, theirs, "{}", sampler.label());
        assert!(ours.c.iter().all(|c| c.is_finite()), "{}", sampler.label());
    }
}

/// Properties of the variants outside the zoo, and each sampler's conventional grid.
#[test]
fn sampler_properties() {
    let sch = VpLinear::default();
    for (s, label) in [
        (
            Sampler::DpmSolverPpSinglestep { order: 3 },
            "dpm-solver++3s",
        ),
        (Sampler::UniPc { order: 2 }, "unipc-2"),
    ] {
        assert_eq!(s.label(), label);
        assert!(!s.is_stochastic() && !Sampler::zoo().contains(&s));
        assert_eq!(s.grid(), Grid::UniformLogsnr);
    }
    let mut labels: Vec<String> = Sampler::zoo().iter().map(Sampler::label).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), Sampler::zoo().len(), "zoo labels are unique");
    assert_eq!(
        Sampler::EdmHeun
            .conventional_grid(&sch, 1.0, 1e-3, 6)
            .unwrap(),
        edm_rho(&sch, 1.0, 1e-3, 6, 7.0, false).unwrap()
    );
    assert_eq!(
        Sampler::HeunT
            .conventional_grid(&sch, 1.0, 1e-3, 6)
            .unwrap(),
        uniform_t(1.0, 1e-3, 6).unwrap()
    );
    assert_eq!(
        Sampler::DpmSolver3
            .conventional_grid(&sch, 1.0, 1e-3, 6)
            .unwrap(),
        uniform_logsnr(&sch, 1.0, 1e-3, 6).unwrap()
    );
    // The singlestep order schedule: groups [1, 2], lower order at the end, order 1 into σ = 0.
    let s2 = Sampler::DpmSolverPpSinglestep { order: 2 };
    let mut times = uniform_logsnr(&sch, 1.0, 1e-3, 6).unwrap();
    assert_eq!(s2.order_caps(&sch, &times), vec![1, 2, 1, 2, 1, 1]);
    times.pop();
    times.push(0.0);
    assert_eq!(
        Sampler::DpmSolverPpSinglestep { order: 3 }.order_caps(&sch, &times),
        vec![1, 2, 3, 1, 2, 1]
    );
    assert_eq!(
        Sampler::UniPc { order: 3 }.order_caps(&sch, &times),
        vec![3, 3, 3, 3, 2, 1]
    );
}

/// The samplers exact on a point mass δ_μ (x̂₀ = μ and ε̂ constant along exact paths), run into σ = 0
/// from the exact p_1, land on μ with no spread: the σ_t = 0 limits of every formula, with history present.
/// (Not here: Euler–Maruyama, DDPM-β and the score-frozen integrators are not exact on δ_μ; Heun/RK4 in t
/// evaluate the PF-ODE field f x − ½g²∇log p, singular at σ = 0.)
#[test]
fn point_mass_runs_into_sigma_zero_land_on_mu() {
    let sch = VpLinear::default();
    let mu = 0.8;
    let target = Gaussian::point_mass(DVector::from_vec(vec![mu]));
    let mut samplers = point_mass_exact();
    samplers.extend([
        Sampler::Ddpm(diffusion_claims::sampler::DdpmVariance::Small),
        Sampler::Ddim { eta: 0.0 },
        Sampler::Ddim { eta: 1.0 },
        Sampler::EulerVe,
        Sampler::DpmSolver1,
        Sampler::DpmSolverPp1,
        Sampler::DpmSolver2M,
        Sampler::Deis { order: 2 },
        Sampler::Deis { order: 3 },
    ]);
    let mut failed = Vec::new();
    for sampler in samplers {
        let mut times = uniform_logsnr(&sch, 1.0, 1e-3, 7).unwrap();
        times.push(0.0);
        let x = Form::gaussian(vec![sch.alpha(1.0) * mu], vec![sch.sigma(1.0)]);
        let out = sampler.run(&sch, &times, x, &target, &mut FormNoise::after(1));
        let (m, v) = (out.c[0], out.variance()[0]);
        if !((m - sch.alpha(0.0) * mu).abs() < 1e-12 && v.abs() < 1e-24) {
            failed.push(format!("{}: mean {m:e} variance {v:e}", sampler.label()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
