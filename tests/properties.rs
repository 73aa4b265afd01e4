//! Property tests (proptest) of the foundation: schedule identities, parameterisation round trips,
//! Bures W2 (symmetry, identity, triangle inequality, commuting formula), and the exact-law algebra.

use diffusion_claims::algebra::{Algebra, Form, FormNoise, Noise};
use diffusion_claims::metrics::{w2_commuting, w2_gaussian};
use diffusion_claims::schedule::{all_continuous, Schedule};
use diffusion_claims::target::Mixture;
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;

fn schedule(i: usize) -> Box<dyn Schedule> {
    all_continuous().into_iter().nth(i % 8).unwrap()
}

/// A random orthogonal matrix from the QR factorisation of a matrix of the given entries.
fn orthogonal(d: usize, entries: &[f64]) -> DMatrix<f64> {
    let a = DMatrix::from_fn(d, d, |i, j| {
        entries[(i * d + j) % entries.len()] + if i == j { 2.0 } else { 0.0 }
    });
    a.qr().q()
}

fn spd(d: usize, entries: &[f64], spectrum: &[f64]) -> DMatrix<f64> {
    let q = orthogonal(d, entries);
    &q * DMatrix::from_diagonal(&DVector::from_fn(d, |i, _| spectrum[i % spectrum.len()]))
        * q.transpose()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// CONV-1: g² = −2σ²λ̇ with λ̇ by central differences (independent of the default g² formula),
    /// and t(λ(t)) = t.
    #[test]
    fn schedule_identities(i in 0usize..8, u in 0.05f64..0.9) {
        let s = schedule(i);
        let (t_min, t_max) = s.t_range();
        let t = t_min + u * (t_max - t_min);
        let delta = 1e-5 * t.clamp(1e-2, 1.0);
        let dl = (s.logsnr(t + delta) - s.logsnr(t - delta)) / (2.0 * delta);
        let g2 = s.g2(t);
        prop_assert!(g2 >= 0.0, "g² < 0: λ must be non-increasing");
        prop_assert!((g2 + 2.0 * s.sigma(t).powi(2) * dl).abs() <= 1e-6 * g2.abs().max(1e-12), "{} at t={t}", s.name());
        let back = s.t_of_logsnr(s.logsnr(t));
        prop_assert!((back - t).abs() <= 1e-11 * t_max.max(1.0), "{}: t(λ(t)) = {back} ≠ {t}", s.name());
    }

    /// PZ-1: ε̂ ↔ x̂₀ ↔ score round trips on a random 2-component mixture.
    #[test]
    fn parameterisation_round_trip(i in 0usize..8, u in 0.05f64..0.9, m in prop::collection::vec(-3.0f64..3.0, 6), v in 0.05f64..2.0) {
        let s = schedule(i);
        let (t_min, t_max) = s.t_range();
        let t = t_min + u * (t_max - t_min);
        let (a, sg) = (s.alpha(t), s.sigma(t));
        let mix = Mixture::isotropic(vec![0.4, 0.6], vec![DVector::from_vec(vec![m[0], m[1]]), DVector::from_vec(vec![m[2], m[3]])], &[v, 0.5 * v]).unwrap();
        let x = DVector::from_vec(vec![m[4] * a + sg, m[5] * a - sg]);
        let x0 = mix.denoise(&x, a, sg);
        let score = mix.score(&x, a, sg);
        let eps = -&score * sg;
        let scale = x.norm() + a * x0.norm() + sg * eps.norm();
        prop_assert!(((&x - &eps * sg) / a - &x0).norm() <= 1e-12 * scale / a);
        prop_assert!(((&x0 * a - &x) / (sg * sg) - &score).norm() <= 1e-12 * scale / (sg * sg));
    }

    /// Bures W2: symmetric, zero on equal laws, triangle inequality, and equal to the commuting formula
    /// when the covariances share an eigenbasis.
    #[test]
    fn bures_w2(e in prop::collection::vec(-1.0f64..1.0, 9), l1 in prop::collection::vec(0.0f64..3.0, 3),
                l2 in prop::collection::vec(0.0f64..3.0, 3), l3 in prop::collection::vec(0.01f64..3.0, 3),
                m in prop::collection::vec(-2.0f64..2.0, 9)) {
        let d = 3;
        let (m1, m2, m3) = (DVector::from_column_slice(&m[0..3]), DVector::from_column_slice(&m[3..6]), DVector::from_column_slice(&m[6..9]));
        let v1 = spd(d, &e, &l1);
        let rev: Vec<f64> = e.iter().rev().cloned().collect();
        let v2 = spd(d, &rev, &l2);
        let v3 = spd(d, &e[3..], &l3);
        let a = w2_gaussian(&m1, &v1, &m2, &v2).unwrap();
        let b = w2_gaussian(&m2, &v2, &m1, &v1).unwrap();
        prop_assert!((a - b).abs() <= 1e-7 * (1.0 + a), "asymmetric: {a} vs {b}");
        prop_assert!(w2_gaussian(&m1, &v1, &m1, &v1).unwrap() <= 1e-6);
        let c = w2_gaussian(&m1, &v1, &m3, &v3).unwrap() ;
        let d13 = w2_gaussian(&m3, &v3, &m2, &v2).unwrap();
        prop_assert!(a <= c + d13 + 1e-7, "triangle: {a} > {c} + {d13}");
        // Commuting covariances: same eigenbasis q.
        let q = orthogonal(d, &e);
        let c1 = &q * DMatrix::from_diagonal(&DVector::from_column_slice(&l1)) * q.transpose();
        let c2 = &q * DMatrix::from_diagonal(&DVector::from_column_slice(&l2)) * q.transpose();
        let general = w2_gaussian(&m1, &c1, &m2, &c2).unwrap();
        let (e1, e2) = (q.transpose() * &m1, q.transpose() * &m2);
        let commuting = w2_commuting(e1.as_slice(), &l1, e2.as_slice(), &l2);
        prop_assert!((general - commuting).abs() <= 1e-6 * (1.0 + commuting), "{general} vs {commuting}");
    }

    /// The exact-law algebra: rebasing live forms preserves every variance and covariance.
    #[test]
    fn rebase_preserves_joint_law(c in prop::collection::vec(-2.0f64..2.0, 12)) {
        let mut noise = FormNoise::after(0);
        let base = Form::constant(vec![c[0], c[1]]);
        let z1 = noise.standard_normal(&base);
        let z2 = noise.standard_normal(&base);
        let z3 = noise.standard_normal(&base);
        let mut x = Form::lin(&[(1.0, &base), (c[2], &z1), (c[3], &z2), (c[4], &z3)]);
        let mut y = Form::lin(&[(c[5], &z1), (c[6], &z2)]);
        let mut w = Form::lin(&[(c[7], &x), (c[8], &y)]); // linearly dependent on x, y
        let cov = |p: &Form, q: &Form| -> Vec<f64> {
            (0..2).map(|i| p.a.iter().zip(&q.a).map(|(u, v)| u[i] * v[i]).sum()).collect()
        };
        let before = [cov(&x, &x), cov(&x, &y), cov(&y, &y), cov(&w, &x), cov(&w, &w)];
        noise.rebase(&mut [&mut x, &mut y, &mut w]);
        let after = [cov(&x, &x), cov(&x, &y), cov(&y, &y), cov(&w, &x), cov(&w, &w)];
        for (b, a) in before.iter().zip(&after) {
            for (u, v) in b.iter().zip(a) {
                prop_assert!((u - v).abs() <= 1e-12 * (1.0 + u.abs()), "{u} vs {v}");
            }
        }
        prop_assert!(x.a.len() <= 3 && y.a.len() <= 3 && w.a.len() <= 3);
        prop_assert_eq!(x.mean(), &[c[0], c[1]][..]);
    }
}
