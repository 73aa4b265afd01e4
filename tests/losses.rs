//! Integration tests of `losses` and `models` (issue 5: SM-1…SM-7, PZ-2, PZ-3).

use diffusion_claims::fixtures::random_gaussian;
use diffusion_claims::losses::gaussian::{self as gx, AffineScore};
use diffusion_claims::losses::{
    dsm_sample, esm_sample, ism_sample, EdmPrecond, NoiseLevel, Target, TimeDistribution,
};
use diffusion_claims::metrics::mean_ci;
use diffusion_claims::models::{Mlp, RandomFeatures, ScoreModel};
use diffusion_claims::schedule::{all_continuous, VpLinear};
use diffusion_claims::target::Gaussian;
use diffusion_claims::tol;
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;

fn normal_vec(d: usize, rng: &mut Pcg64) -> DVector<f64> {
    DVector::from_fn(d, |_, _| StandardNormal.sample(&mut *rng))
}

fn random_affine(d: usize, rng: &mut Pcg64) -> AffineScore {
    AffineScore {
        p: DMatrix::identity(d, d)
            + DMatrix::from_fn(d, d, |_, _| {
                0.7 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
            }),
        m: normal_vec(d, rng),
    }
}

/// Every (objective A, objective B) pair whose difference should not depend on θ: (name, A, B).
fn differences(g: &Gaussian, model: &AffineScore, n: &NoiseLevel) -> Vec<(String, f64, f64)> {
    let mut out = vec![
        (
            "DSM − ESM".to_string(),
            gx::dsm(g, model, n),
            gx::esm(g, model, n),
        ),
        (
            "ESM − ISM".to_string(),
            gx::esm(g, model, n),
            gx::ism(g, model, n),
        ),
        (
            "ISM − 2 SSM".to_string(),
            gx::ism(g, model, n),
            2.0 * gx::ssm(g, model, n),
        ),
    ];
    for tg in Target::all() {
        out.push((
            format!("conditional − marginal {}", tg.name()),
            gx::conditional_loss(g, model, tg, n),
            gx::marginal_loss(g, model, tg, n),
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// θ-independence of every objective difference (SM-1/2/3/4/7), exact evaluation, for random θ,
    /// random Gaussian data (full Σ, spectrum in [0.05, 5], so cond(C_t) ≤ cond(Σ) ≤ 100), random schedule
    /// and interior time. Tolerance 1e-10 relative to |A| + |B| of both θ: 1e-12 (a few hundred ulps of
    /// the d×d products) × cond(C_t) ≤ 100.
    #[test]
    fn objective_differences_do_not_depend_on_theta(
        seed in any::<u64>(),
        d in 1usize..6,
        sched in 0usize..8,
        u in 0.05f64..0.95,
    ) {
        let mut rng = Pcg64::seed_from_u64(seed);
        let g = random_gaussian(d, &mut rng);
        let sch = &all_continuous()[sched];
        let (lo, hi) = sch.t_range();
        let t = lo + (hi - lo) * u;
        let n = NoiseLevel::at(sch.as_ref(), t);
        let (m1, m2) = (random_affine(d, &mut rng), random_affine(d, &mut rng));
        for ((name, a1, b1), (_, a2, b2)) in differences(&g, &m1, &n).into_iter().zip(differences(&g, &m2, &n)) {
            let scale = a1.abs() + b1.abs() + a2.abs() + b2.abs();
            let err = ((a1 - b1) - (a2 - b2)).abs() / scale;
            prop_assert!(err <= 1e-10, "{name}: {} vs {} (rel {err:e}) on {} t={t}", a1 - b1, a2 - b2, sch.name());
        }
        // And the DSM constant equals C_t (route: posterior covariance trace).
        let c = gx::dsm_constant_posterior(&g, &n);
        let (a, b) = (gx::dsm(&g, &m1, &n), gx::esm(&g, &m1, &n));
        prop_assert!(((a - b) - c).abs() <= 1e-10 * (a.abs() + b.abs()));
    }
}

/// Negative test: the claims can fail. A wrong constant (d/σ², the DSM target's variance alone) is far
/// from DSM − ESM, and the sign as CLAIMS SM-7 writes it (FM = CFM + C with C ≥ 0) is false: FM < CFM.
#[test]
fn wrong_constants_are_detected() {
    let mut rng = Pcg64::seed_from_u64(3);
    let g = random_gaussian(3, &mut rng);
    let n = NoiseLevel::at(&VpLinear::default(), 0.4);
    let m = random_affine(3, &mut rng);
    let diff = gx::dsm(&g, &m, &n) - gx::esm(&g, &m, &n);
    let wrong = 3.0 / n.sigma.powi(2);
    assert!((diff - wrong).abs() > 1e3 * tol::IDENTITY * wrong);
    let fm = gx::marginal_loss(&g, &m, Target::VelocityFm, &n);
    let cfm = gx::conditional_loss(&g, &m, Target::VelocityFm, &n);
    assert!(fm < cfm, "FM {fm} should be below CFM {cfm}");
}

/// The closed forms agree with Monte Carlo on Gaussian data (4 SE): DSM, ESM, ISM, conditional FM.
#[test]
fn closed_forms_match_monte_carlo() {
    let mut rng = Pcg64::seed_from_u64(11);
    let d = 3;
    let g = random_gaussian(d, &mut rng);
    let sch = VpLinear::default();
    let t = 0.3;
    let n = NoiseLevel::at(&sch, t);
    let model = random_affine(d, &mut rng);
    let mix = g.to_mixture();
    let (mut ds, mut es, mut is, mut fm) = (vec![], vec![], vec![], vec![]);
    for _ in 0..20000 {
        let x0 = g.sample(&mut rng);
        let e = normal_vec(d, &mut rng);
        let x = n.noised(&x0, &e);
        let s = model.score(&x);
        ds.push(dsm_sample(&s, &e, n.sigma));
        es.push(esm_sample(&s, &mix.score(&x, n.alpha, n.sigma)));
        is.push(ism_sample(&s, &model.jacobian()));
        let v = Target::VelocityFm.from_eps(&x, &(-&s * n.sigma), &n);
        fm.push((v - Target::VelocityFm.conditional(&x0, &e, &n)).norm_squared());
    }
    for (name, xs, exact) in [
        ("DSM", ds, gx::dsm(&g, &model, &n)),
        ("ESM", es, gx::esm(&g, &model, &n)),
        ("ISM", is, gx::ism(&g, &model, &n)),
        (
            "CFM",
            fm,
            gx::conditional_loss(&g, &model, Target::VelocityFm, &n),
        ),
    ] {
        let c = mean_ci(&xs, tol::LEVEL).unwrap();
        assert!(
            (c.mean - exact).abs() < tol::K_SE * c.se,
            "{name}: MC {} ± {} vs exact {exact}",
            c.mean,
            c.se
        );
    }
}

/// A prediction derived from the true ε is the conditional target, for every target and schedule (PZ-1/PZ-2).
#[test]
fn prediction_from_true_eps_is_the_conditional_target() {
    let mut rng = Pcg64::seed_from_u64(5);
    for sch in all_continuous() {
        let (lo, hi) = sch.t_range();
        let t = 0.5 * (lo + hi);
        let n = NoiseLevel::at(sch.as_ref(), t);
        let x0 = normal_vec(2, &mut rng);
        let e = normal_vec(2, &mut rng);
        let x = n.noised(&x0, &e);
        for tg in Target::all() {
            let a = tg.from_eps(&x, &e, &n);
            let b = tg.conditional(&x0, &e, &n);
            let scale = x.norm() + a.norm() + b.norm();
            assert!(
                (a - b).norm() <= 1e-13 * scale,
                "{} {}",
                sch.name(),
                tg.name()
            );
        }
    }
}

fn central_jacobian(f: &dyn Fn(&DVector<f64>) -> DVector<f64>, x: &DVector<f64>) -> DMatrix<f64> {
    let h = 1e-5;
    let out = f(x).len();
    let mut j = DMatrix::zeros(out, x.len());
    for k in 0..x.len() {
        let mut xp = x.clone();
        let mut xm = x.clone();
        xp[k] += h;
        xm[k] -= h;
        j.set_column(k, &((f(&xp) - f(&xm)) / (2.0 * h)));
    }
    j
}

fn check_jacobians<M: ScoreModel + Clone>(m: M, rng: &mut Pcg64) {
    for _ in 0..5 {
        let x = normal_vec(3, rng);
        let t = 0.37;
        let (_, jac) = m.eval(&x, t);
        let num = central_jacobian(&|y| m.score(y, t), &x);
        assert!((&jac - &num).norm() <= tol::CENTRAL_DIFF * (1.0 + jac.norm()));
        let theta = m.params();
        let pj = m.param_jacobian(&x, t);
        let nump = central_jacobian(
            &|th| {
                let mut p = m.clone();
                p.set_params(th);
                p.score(&x, t)
            },
            &theta,
        );
        assert!((&pj - &nump).norm() <= tol::CENTRAL_DIFF * (1.0 + pj.norm()));
    }
    // set_params ∘ params is the identity.
    let mut m2 = m.clone();
    m2.set_params(&m.params());
    assert_eq!(m2.params(), m.params());
}

/// The analytic input and parameter Jacobians of both models agree with central differences
/// (tolerance `tol::CENTRAL_DIFF`, relative to the Jacobian's size).
#[test]
fn analytic_jacobians_match_central_differences() {
    let mut rng = Pcg64::seed_from_u64(9);
    let mlp = Mlp::random(3, 8, 2.0, &mut rng);
    let rf = RandomFeatures::random(3, 12, 0.8, 3.0, &mut rng);
    check_jacobians(mlp, &mut rng);
    check_jacobians(rf, &mut rng);
}

/// E_t by the quadrature of `TimeDistribution::expect` agrees with sampling (4 SE), and integrates 1 to 1.
#[test]
fn time_distributions_expect_matches_sampling() {
    let mut rng = Pcg64::seed_from_u64(1);
    let f = |t: f64| (3.0 * t).sin() + t * t;
    for td in [
        TimeDistribution::Uniform { lo: 1e-3, hi: 1.0 },
        TimeDistribution::LogitNormal {
            mean: 0.3,
            std: 1.2,
            lo: 0.0,
            hi: 1.0,
        },
        TimeDistribution::DiscreteSteps { n: 1000 },
    ] {
        let g = |t: f64| match td {
            TimeDistribution::DiscreteSteps { n } => f(t / n as f64),
            _ => f(t),
        };
        let exact = td.expect(&g, 64);
        assert!((td.expect(&|_| 1.0, 64) - 1.0).abs() < 1e-12);
        let xs: Vec<f64> = (0..20000).map(|_| g(td.sample(&mut rng))).collect();
        let c = mean_ci(&xs, tol::LEVEL).unwrap();
        assert!((c.mean - exact).abs() < tol::K_SE * c.se, "{}", td.name());
    }
}

/// EDM: λ(σ) c_out(σ)² = 1 and c_skip + c_out²/σ_d² = 1 (PZ-3 algebra), over the EDM range.
#[test]
fn edm_scalings() {
    let pre = EdmPrecond { sigma_data: 0.5 };
    for k in 0..50 {
        let s = 0.002 * (80.0f64 / 0.002).powf(k as f64 / 49.0);
        assert!((pre.loss_weight(s) * pre.c_out(s).powi(2) - 1.0).abs() < 1e-14);
        let identity = pre.c_skip(s) + pre.c_out(s).powi(2) / pre.sigma_data.powi(2);
        assert!((identity - 1.0).abs() < 1e-14);
    }
}
