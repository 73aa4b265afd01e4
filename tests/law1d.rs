//! ENGINE-2 (issue 9): the 1-D quadrature law engine against independent routes: the affine-form engine
//! on Gaussian data, Monte Carlo on a mixture, and the exact marginal p_{t_min} for a fine PF-ODE solve.

use diffusion_claims::algebra::{Noise, PcgNoise};
use diffusion_claims::law1d::{output_law, output_law_vs, Accuracy, Density1d, Route, Start};
use diffusion_claims::metrics::{kl_commuting, loglog_slope, w2_commuting};
use diffusion_claims::sampler::{edm_rho, exact_law, uniform_logsnr, DdpmVariance, Sampler};
use diffusion_claims::schedule::{Schedule, VpLinear};
use diffusion_claims::target::Mixture;
use diffusion_claims::tol;
use nalgebra::DVector;

/// Map route on Gaussian data: Φ is affine, so the integrands are polynomials times a Gaussian and 16-point
/// Gauss–Legendre on 64 panels over ±8.5σ is exact to round-off; what remains is the quantile solve (a
/// Newton step of 4ε(1 + |y|)) and f64 sums of ~1000 terms: ~1e-13 on W2² of O(1) quantities. W2 itself
/// is a square root, so its error is that over 2 W2 (W2 ≳ 1e-4 here): 1e-9 with margin.
const MAP_VS_FORMS: f64 = 1e-9;
/// Grid route on Gaussian data: the kernel sums are spectrally accurate (resolution r ≥ 3 gives e^{−2π²·9});
/// the remaining error is the CDF/quantile round-off on ~1e4 grid points and the grid's mass trimming
/// (1e-16 per side per step, 50 steps): measured ≤ 1.1e-13 (W2, KL); stated with margin.
const GRID_VS_FORMS: f64 = 1e-8;

/// Grid route density between grid points: cubic Lagrange interpolation, error h⁴ p⁗/128 relative
/// ~ (1/κ)⁴ (c/s)⁴ with κ = 6 points per kernel width c ≪ the law's width s: measured ≤ 9e-13; stated with margin.
const GRID_DENSITY: f64 = 1e-8;

fn vp() -> VpLinear {
    VpLinear::default()
}

/// Closed-form W2 and KL of the affine-form engine's exact law N(m, c) to N(μ, v), and that law's pdf.
fn form_distances(
    sampler: Sampler,
    sch: &dyn Schedule,
    times: &[f64],
    mu: f64,
    v: f64,
) -> (f64, f64, impl Fn(f64) -> f64) {
    let g = diffusion_claims::target::Gaussian::from_eigen(
        DVector::from_vec(vec![mu]),
        DVector::from_vec(vec![v]),
        None,
    )
    .unwrap();
    let (m, c) = exact_law(sampler, sch, times, &g);
    let (m, c) = (m[0], c[(0, 0)]);
    (
        w2_commuting(&[m], &[c], &[mu], &[v]),
        kl_commuting(&[m], &[c], &[mu], &[v]),
        move |y: f64| {
            (-0.5 * (y - m) * (y - m) / c).exp() / (2.0 * std::f64::consts::PI * c).sqrt()
        },
    )
}

/// Output density at a few points against the forms' Gaussian pdf, relative.
fn density_gap(law: &diffusion_claims::law1d::Law1d, pdf: impl Fn(f64) -> f64) -> f64 {
    let ys = [-1.0, 0.0, 0.7, 1.5, 2.5];
    let got = law.density_on(&ys).unwrap();
    ys.iter()
        .zip(&got)
        .map(|(y, g)| (g - pdf(*y)).abs() / pdf(*y))
        .fold(0.0, f64::max)
}

#[test]
fn gaussian_data_map_route_equals_forms() {
    let sch = vp();
    let (mu, v) = (0.7, 0.5);
    let data = Density1d::gaussian(mu, v).unwrap();
    let logsnr = uniform_logsnr(&sch, 1.0, 1e-3, 12).unwrap();
    let edm = edm_rho(&sch, 1.0, 1e-3, 12, 7.0, false).unwrap();
    let samplers = [
        Sampler::Ddim { eta: 0.0 },
        Sampler::DpmSolver1,
        Sampler::DpmSolver2,
        Sampler::DpmSolver3,
        Sampler::DpmSolverPp2M { noise_level: 0.0 },
        Sampler::DpmSolverPp3M { corrected: false },
        Sampler::Deis { order: 3 },
        Sampler::HeunT,
        Sampler::Rk4T,
        Sampler::EdmEuler,
        Sampler::EdmHeun,
        Sampler::EulerMaruyama { noise_level: 0.0 },
    ];
    let acc = Accuracy {
        panels: 32,
        ..Accuracy::default()
    };
    for s in samplers {
        let times = if matches!(s, Sampler::EdmEuler | Sampler::EdmHeun) {
            &edm
        } else {
            &logsnr
        };
        let law = output_law(s, &sch, times, &data, Start::Marginal, acc).unwrap();
        let (w2, kl, pdf) = form_distances(s, &sch, times, mu, v);
        assert_eq!(law.route, Route::Map);
        let gap = density_gap(&law, pdf);
        assert!(gap <= MAP_VS_FORMS, "{}: density off by {gap:e}", s.label());
        assert!(law.monotone, "{}", s.label());
        let (dw, dk) = ((law.w2 - w2).abs(), (law.kl - kl).abs());
        eprintln!(
            "{:>16}: W2 {:.6e} (forms {:.6e}, diff {:.1e}, n/2n {:.1e}); KL {:.6e} (diff {:.1e})",
            s.label(),
            law.w2,
            w2,
            dw,
            law.error.w2,
            law.kl,
            dk
        );
        assert!(dw <= MAP_VS_FORMS, "{}: W2 {} vs {}", s.label(), law.w2, w2);
        assert!(dk <= MAP_VS_FORMS, "{}: KL {} vs {}", s.label(), law.kl, kl);
    }
}

#[test]
fn gaussian_data_grid_route_equals_forms() {
    let sch = vp();
    let (mu, v) = (0.7, 0.5);
    let data = Density1d::gaussian(mu, v).unwrap();
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 50).unwrap();
    for s in [
        Sampler::Ddpm(DdpmVariance::Small),
        Sampler::Ddpm(DdpmVariance::Large),
        Sampler::Ddim { eta: 0.5 },
        Sampler::EulerMaruyama { noise_level: 1.0 },
        Sampler::ExpIntegrator { noise_level: 1.0 },
    ] {
        let law = output_law(s, &sch, &times, &data, Start::Marginal, Accuracy::default()).unwrap();
        let (w2, kl, pdf) = form_distances(s, &sch, &times, mu, v);
        assert_eq!(law.route, Route::Grid);
        let gap = density_gap(&law, pdf);
        eprintln!("  density by cubic interpolation: relative gap {gap:.1e}");
        assert!(gap <= GRID_DENSITY, "{}: density off by {gap:e}", s.label());
        let (dw, dk) = ((law.w2 - w2).abs(), (law.kl - kl).abs());
        eprintln!(
            "{:>16}: W2 {:.6e} (forms {:.6e}, diff {:.1e}, κ/2κ {:.1e}); KL diff {:.1e}; {} points, r {:.2}",
            s.label(),
            law.w2,
            w2,
            dw,
            law.error.w2,
            dk,
            law.nodes,
            law.resolution
        );
        assert!(
            dw <= GRID_VS_FORMS,
            "{}: W2 {} vs {}",
            s.label(),
            law.w2,
            w2
        );
        assert!(
            dk <= GRID_VS_FORMS,
            "{}: KL {} vs {}",
            s.label(),
            law.kl,
            kl
        );
    }
}

#[test]
fn multistep_stochastic_sampler_is_refused() {
    let sch = vp();
    let data = Density1d::gaussian(0.0, 1.0).unwrap();
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 10).unwrap();
    let err = output_law(
        Sampler::DpmSolverPp2M { noise_level: 1.0 },
        &sch,
        &times,
        &data,
        Start::Marginal,
        Accuracy::default(),
    )
    .err()
    .expect("SDE-DPM-Solver++2M must be refused");
    assert!(err.to_string().contains("stays Monte Carlo"), "{err}");
}

/// Monte Carlo on the crate's `Mixture` (its own denoiser, PCG noise): output mean, variance and CDF at
/// fixed points agree with the quadrature law within K_SE standard errors.
#[test]
fn mixture_agrees_with_monte_carlo() {
    let sch = vp();
    let (w, m, v) = (vec![0.3, 0.7], vec![-1.5, 1.0], vec![0.1, 0.3]);
    let data = Density1d::mixture(w.clone(), m.clone(), v.clone()).unwrap();
    let mix = Mixture::isotropic(
        w,
        m.iter().map(|&x| DVector::from_vec(vec![x])).collect(),
        &v,
    )
    .unwrap();
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 10).unwrap();
    let n = 100_000;
    let points = [-2.0, -1.0, 0.0, 0.5, 1.5];
    for s in [
        Sampler::Ddim { eta: 0.0 },
        Sampler::Ddpm(DdpmVariance::Small),
    ] {
        let law = output_law(s, &sch, &times, &data, Start::Marginal, Accuracy::default()).unwrap();
        let (mean, var) = law.mean_var();
        let cdf = law.cdf_on(&points).unwrap();
        let mut rng = PcgNoise::seeded(7);
        let (a, sg) = (sch.alpha(1.0), sch.sigma(1.0));
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let x0 = mix.sample(&mut rng.rng);
            let z = rng.standard_normal(&x0);
            let x = x0 * a + z * sg;
            out.push(s.run(&sch, &times, x, &mix, &mut rng)[0]);
        }
        let mc_mean = out.iter().sum::<f64>() / n as f64;
        let mc_var = out.iter().map(|y| (y - mc_mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let m4 = out.iter().map(|y| (y - mc_mean).powi(4)).sum::<f64>() / n as f64;
        let z_mean = (mc_mean - mean) / (mc_var / n as f64).sqrt();
        let z_var = (mc_var - var) / ((m4 - mc_var * mc_var) / n as f64).sqrt();
        eprintln!("{}: mean z {z_mean:.2}, variance z {z_var:.2}", s.label());
        assert!(z_mean.abs() < tol::K_SE && z_var.abs() < tol::K_SE);
        for (y, f) in points.iter().zip(&cdf) {
            let hits = out.iter().filter(|&&o| o <= *y).count() as f64 / n as f64;
            let se = (f * (1.0 - f) / n as f64).sqrt();
            let z = (hits - f) / se;
            eprintln!("  CDF({y}) exact {f:.5}, MC {hits:.5}, z {z:.2}");
            assert!(z.abs() < tol::K_SE, "{}: CDF({y})", s.label());
        }
    }
}

/// The exact-score PF-ODE solved by RK4 maps p_T to p_{t_min} exactly in the limit: W2 to the closed-form
/// p_{t_min} (a mixture with means α μ_k and variances α² v_k + σ²) falls like steps^{−4}.
#[test]
fn rk4_pf_ode_converges_to_the_exact_marginal() {
    let sch = vp();
    let (w, m, v) = (vec![0.3, 0.7], vec![-1.5, 1.0], vec![0.1, 0.3]);
    let data = Density1d::mixture(w.clone(), m.clone(), v.clone()).unwrap();
    let t_min = 1e-2;
    let (a, s) = (sch.alpha(t_min), sch.sigma(t_min));
    let reference = Density1d::mixture(
        w,
        m.iter().map(|x| a * x).collect(),
        v.iter().map(|x| a * a * x + s * s).collect(),
    )
    .unwrap();
    let steps = [8.0, 16.0, 32.0, 64.0];
    let mut w2s = Vec::new();
    for &n in &steps {
        let times = uniform_logsnr(&sch, 1.0, t_min, n as usize).unwrap();
        let law = output_law_vs(
            Sampler::Rk4T,
            &sch,
            &times,
            &data,
            &reference,
            Start::Marginal,
            Accuracy {
                panels: 64,
                ..Accuracy::default()
            },
        )
        .unwrap();
        eprintln!("RK4 {n} steps: W2 {:.3e} (±{:.1e})", law.w2, law.error.w2);
        // The quadrature resolves W2 far below its size (measured: n/2n difference ≤ 4e-10).
        assert!(law.error.w2 < 1e-3 * law.w2);
        w2s.push(law.w2);
    }
    let fit = loglog_slope(&steps, &w2s, tol::LEVEL).unwrap();
    eprintln!("slope {:.2} [{:.2}, {:.2}]", fit.slope, fit.lo, fit.hi);
    assert!((fit.slope + 4.0).abs() <= tol::ORDER, "slope {}", fit.slope);
}

/// Quadrature-denoiser laws (uniform, Laplace, Beta) on both routes and both starts: the routes resolve
/// their own W2 (n/2n or κ/2κ difference far below W2), the output mean is near the data mean, and KL is
/// +∞ honestly where Gaussian tails leave a bounded support.
#[test]
fn quadrature_laws_on_both_routes() {
    let sch = vp();
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 10).unwrap();
    let laws = [
        Density1d::uniform(-1.0, 1.0).unwrap(),
        Density1d::laplace(0.3, 0.5).unwrap(),
        Density1d::beta(2.0, 3.0, 0.0, 2.0).unwrap(),
    ];
    for data in &laws {
        for s in [
            Sampler::Ddim { eta: 0.0 },
            Sampler::Ddpm(DdpmVariance::Small),
        ] {
            for start in [Start::Marginal, Start::Prior] {
                let law = output_law(s, &sch, &times, data, start, Accuracy::default()).unwrap();
                let (mean, _) = law.mean_var();
                eprintln!(
                    "{data:?} {} {start:?}: W2 {:.4e} ± {:.1e}, KL {:.3e}, TV {:.3e}, mean {mean:.4} vs {:.4}",
                    s.label(),
                    law.w2,
                    law.error.w2,
                    law.kl,
                    law.tv,
                    data.mean()
                );
                assert!(law.monotone);
                assert!(law.w2 > 0.0 && law.error.w2 < 1e-3 * law.w2);
                assert!((mean - data.mean()).abs() < 0.2);
                if data.support().0.is_finite() && s.is_stochastic() {
                    assert_eq!(law.kl, f64::INFINITY);
                }
            }
        }
    }
}
