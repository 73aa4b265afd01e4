//! LK-2: Hutchinson's estimator vᵀJv of tr J for the PF-ODE Jacobian J = f I − ½g²∇²log p_t is unbiased,
//! with variance 2‖J‖²_F (Gaussian probes) and 2(‖J‖²_F − Σ J_ii²) (Rademacher probes).

use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::Table;
use crate::fixtures::{demo_mixture, test_gaussian};
use crate::likelihood::{hutchinson_variance, pf_velocity, NormalRule, Probe};
use crate::schedule::{Schedule, VpLinear};
use crate::target::Mixture;
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};

pub(super) fn claim() -> Claim {
    Claim {
        id: "LK-2",
        family: super::FAMILY,
        source: "PDM (≈ Ch.5, neural ODEs) [GK]; CLAIMS §10",
        statement: "For E[vvᵀ] = I, E[vᵀJv] = tr J; for the PF-ODE J = ∇v = f I − ½g²∇²log p_t (symmetric), Var = 2‖J‖²_F with Gaussian probes and 2(‖J‖²_F − Σ J_ii²) with Rademacher probes.",
        check,
    }
}

/// J of the PF-ODE velocity by central differences of v (δ = 1e-5): an independent route to the Jacobian.
fn jacobian_fd(sch: &dyn Schedule, mix: &Mixture, x: &DVector<f64>, t: f64) -> DMatrix<f64> {
    let d = x.len();
    let delta = 1e-5;
    let mut j = DMatrix::zeros(d, d);
    for c in 0..d {
        let mut e = DVector::zeros(d);
        e[c] = delta;
        let col = (pf_velocity(sch, mix, &(x + &e), t).0 - pf_velocity(sch, mix, &(x - &e), t).0)
            / (2.0 * delta);
        j.set_column(c, &col);
    }
    j
}

/// Sample mean and variance of the estimator, with the standard errors of both (the variance's from the
/// sample fourth central moment: Var(s²) ≈ (m₄ − s⁴)/n).
fn moments(xs: &[f64]) -> (f64, f64, f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    (m, (v / n).sqrt(), v, ((m4 - v * v).max(0.0) / n).sqrt())
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    let n: usize = ctx.scale.pick(20_000, 200_000);
    let g = test_gaussian().to_mixture();
    let cases: Vec<(&str, Mixture, DVector<f64>, f64)> = vec![
        (
            "mixture-2d",
            demo_mixture(),
            DVector::from_vec(vec![0.3, -0.4]),
            0.3,
        ),
        (
            "mixture-2d",
            demo_mixture(),
            DVector::from_vec(vec![-1.5, 1.0]),
            0.7,
        ),
        (
            "gaussian-3d",
            g,
            DVector::from_vec(vec![0.2, -0.5, 1.0]),
            0.5,
        ),
    ];
    let mut table = Table::new(
        "",
        &[
            "target",
            "t",
            "probe",
            "probes",
            "trace",
            "variance_formula",
            "variance_exact_enumeration",
            "mean_mc",
            "z_mean",
            "variance_mc",
            "z_variance",
        ],
    );
    let (mut max_z, mut max_exact, mut max_fd, mut max_asym): (f64, f64, f64, f64) =
        (0.0, 0.0, 0.0, 0.0);
    for (ci, (name, mix, x, t)) in cases.iter().enumerate() {
        let (a, s) = (sch.alpha(*t), sch.sigma(*t));
        let d = x.len();
        let j = DMatrix::identity(d, d) * sch.f(*t)
            - mix.hessian_log_density(x, a, s) * (0.5 * sch.g2(*t));
        let scale = j.amax();
        max_asym = max_asym.max((&j - j.transpose()).amax() / scale);
        max_fd = max_fd.max((&j - jacobian_fd(&sch, mix, x, *t)).amax() / scale);
        // tr J equals the divergence the likelihood code integrates.
        let div = pf_velocity(&sch, mix, x, *t).1;
        max_exact = max_exact.max((div - j.trace()).abs() / scale);
        for probe in [Probe::Gaussian, Probe::Rademacher] {
            let formula = match probe {
                Probe::Gaussian => 2.0 * j.norm_squared(),
                Probe::Rademacher => 2.0 * (j.norm_squared() - j.diagonal().norm_squared()),
            };
            // Exact law of vᵀJv: Rademacher by enumerating the 2^d sign vectors, Gaussian by a 3-node
            // Gauss–Hermite tensor rule (exact for the degree-4 polynomial (vᵀJv)²).
            let (e1, e2) = match probe {
                Probe::Rademacher => {
                    let (mut s1, mut s2) = (0.0, 0.0);
                    for mask in 0..(1usize << d) {
                        let v =
                            DVector::from_fn(d, |i, _| if mask >> i & 1 == 1 { -1.0 } else { 1.0 });
                        let q = v.dot(&(&j * &v));
                        s1 += q;
                        s2 += q * q;
                    }
                    let m = (1usize << d) as f64;
                    (s1 / m, s2 / m)
                }
                Probe::Gaussian => {
                    let gh = NormalRule::hermite(3);
                    (
                        gh.expect(d, &mut |v| v.dot(&(&j * v))),
                        gh.expect(d, &mut |v| v.dot(&(&j * v)).powi(2)),
                    )
                }
            };
            let exact_var = e2 - e1 * e1;
            max_exact = max_exact
                .max((e1 - j.trace()).abs() / scale)
                .max((exact_var - formula).abs() / formula.max(scale * scale))
                .max((hutchinson_variance(&j, probe) - formula).abs() / formula.max(scale * scale));
            let mut rng = ctx.rng(&format!("{ci}-{}", probe.name()));
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let v = probe.draw(d, &mut rng);
                    v.dot(&(&j * &v))
                })
                .collect();
            let (m, se_m, v, se_v) = moments(&xs);
            let z_m = (m - j.trace()) / se_m;
            // d = 2 Rademacher: vᵀJv takes two values, s² is not asymptotically normal (its error is
            // −σ²χ²₁/n) and the exact enumeration above is the check; no z-score.
            let two_point = probe == Probe::Rademacher && d == 2;
            let z_v = (v - formula) / se_v;
            max_z = max_z.max(z_m.abs());
            if !two_point {
                max_z = max_z.max(z_v.abs());
            }
            table.push(vec![
                (*name).into(),
                (*t).into(),
                probe.name().into(),
                n.into(),
                j.trace().into(),
                formula.into(),
                exact_var.into(),
                m.into(),
                z_m.into(),
                v.into(),
                if two_point { "".into() } else { z_v.into() },
            ]);
        }
    }
    let ev = Evidence::within(
        max_z,
        tol::K_SE,
        format!(
            "{n} probes per case (3 (x, t) cases on VP-linear × 2 probe kinds; 10 z-scores at {} SE, family-wise false alarm ≈ 10 × 6e-5; the two d = 2 Rademacher variances are two-point laws, judged by enumeration only): max |z| = {max_z:.2} for the mean vs tr J and the sample variance vs the formula (its SE from the sample fourth moment); the formulas against the exact law of vᵀJv (Rademacher: all 2^d sign vectors; Gaussian: 3-node Gauss–Hermite, exact for degree 4): max relative difference {max_exact:.1e} (≤ {:e}); J symmetric to {max_asym:.1e}; J vs central differences of v: {max_fd:.1e} (≤ {:e})",
            tol::K_SE,
            tol::IDENTITY,
            tol::CENTRAL_DIFF
        ),
    )
    .require(max_exact <= tol::IDENTITY, "variance formulas vs the exact law")
    .require(max_asym <= tol::IDENTITY, "J symmetric")
    .require(max_fd <= tol::CENTRAL_DIFF, "J vs central differences");
    Ok(ev.table(table))
}
