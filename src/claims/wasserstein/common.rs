//! Helpers shared by several `wasserstein` claims: the spectrum they run on (authors' or synthetic), the
//! printed-precision comparison ("reproduced to printed precision", PIERRET-GALERNE.md), the figure's
//! scheme set, and the exact continuous laws on a whole spectrum.

use crate::evidence::Evidence;
use crate::pg::{
    self, grid_points_for_nfe, marginal_variance, ode_variance_from_n0, paper_schemes,
    sde_variance_from_n0, HeunBudget, PgVp, Scheme,
};
use crate::spectrum::{read_pg_spectrum, PgSpectrum};
use crate::target::Gaussian;
use anyhow::Result;

/// Relative slack on a half-unit for the binary representation of the printed decimal: a decimal like
/// 0.005 is not exact in binary (≈1e-16 relative); 1e-9 covers it with room and moves no verdict.
const PRINTED_SLACK: f64 = 1e-9;

/// The spectrum a claim runs on, and whether it is the authors'.
pub(super) struct Spec {
    pub(super) eig: Vec<f64>,
    pub(super) what: String,
    pub(super) authors: bool,
    pub(super) data: Gaussian,
}

impl Spec {
    /// The authors' spectrum if supplied, else [`pg::synthetic_spectrum`] (said in `what`).
    ///
    /// # Errors
    /// `PG_EIGENVALUES` set but unreadable: the claim FAILs with the reason rather than fall back.
    pub(super) fn load() -> Result<Spec> {
        match read_pg_spectrum()? {
            PgSpectrum::Found { values, path } => Self::authors(values, &path),
            PgSpectrum::Absent(why) => Self::on(
                pg::synthetic_spectrum(),
                format!("a SYNTHETIC power-law spectrum (d = 3072, 9 zeros) because {why}"),
                false,
            ),
        }
    }

    /// The authors' spectrum, or `Err` with SKIPPED evidence (and its reason) where it is absent: for the
    /// claims that compare nothing but published numbers (PG-FIG1-LEFT, PG-FIG1-RIGHT).
    ///
    /// # Errors
    /// `PG_EIGENVALUES` set but unreadable (a FAIL, not a skip).
    pub(super) fn authors_or_skip(id: &str) -> Result<std::result::Result<Spec, Evidence>> {
        match read_pg_spectrum()? {
            PgSpectrum::Found { values, path } => Self::authors(values, &path).map(Ok),
            PgSpectrum::Absent(why) => Ok(Err(Evidence::skipped(format!(
                "{id} compares only the authors' published numbers, which need their CIFAR-10 spectrum: {why}; set PG_EIGENVALUES=/path/to/cifar10_eigenvalues_2025.npy"
            )))),
        }
    }

    fn authors(eig: Vec<f64>, path: &std::path::Path) -> Result<Spec> {
        let what = format!("the authors' CIFAR-10 spectrum ({})", path.display());
        Self::on(eig, what, true)
    }

    fn on(eig: Vec<f64>, what: String, authors: bool) -> Result<Spec> {
        let data = pg::data_law(&eig, None)?;
        Ok(Spec {
            eig,
            what,
            authors,
            data,
        })
    }
}

/// The variances of p_t per eigenvalue of `eig` (PG schedule).
pub(super) fn marginal(eig: &[f64], t: f64) -> Vec<f64> {
    let sch = PgVp::default();
    eig.iter().map(|&l| marginal_variance(&sch, l, t)).collect()
}

/// The variances of the exact reverse SDE (`sde`) or PF-ODE from N(0, I), at forward time t, per
/// eigenvalue of `eig` (PG closed forms).
pub(super) fn exact_from_n0(eig: &[f64], t: f64, sde: bool) -> Vec<f64> {
    let sch = PgVp::default();
    eig.iter()
        .map(|&l| {
            if sde {
                sde_variance_from_n0(&sch, l, t)
            } else {
                ode_variance_from_n0(&sch, l, t)
            }
        })
        .collect()
}

/// Half a unit in the last printed digit of `printed` ("4.78" → 0.005, "6.7E-04" → 5e-6); a printed "0"
/// is exact (0).
pub fn half_unit(printed: &str) -> f64 {
    let (mant, exp) = match printed.find(['E', 'e']) {
        Some(i) => (&printed[..i], printed[i + 1..].parse::<i32>().unwrap_or(0)),
        None => (printed, 0),
    };
    if mant.parse::<f64>().ok() == Some(0.0) && !mant.contains('.') {
        return 0.0;
    }
    let decimals = mant.find('.').map(|i| mant.len() - i - 1).unwrap_or(0) as i32;
    0.5 * 10f64.powi(exp - decimals)
}

/// Printed cell → value ("−"/"-"/"inf" = +∞).
pub(super) fn printed_value(p: &str) -> f64 {
    match p {
        "−" | "-" | "inf" => f64::INFINITY,
        _ => p.parse().expect("a published number"),
    }
}

/// |computed − printed| in units of the half-unit (0 if equal, +∞ if one is infinite and not the other).
pub(super) fn miss(computed: f64, printed: &str) -> f64 {
    let p = printed_value(printed);
    if p.is_infinite() || computed.is_infinite() {
        return if p == computed { 0.0 } else { f64::INFINITY };
    }
    let hu = half_unit(printed);
    let d = (computed - p).abs();
    if hu == 0.0 {
        if d == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        d / (hu * (1.0 + PRINTED_SLACK))
    }
}

/// A registered scheme by name.
pub(super) fn scheme(name: &str) -> Scheme {
    pg::scheme_by_name(name).expect("a registered scheme")
}

/// ε as the tables print it ("0", else scientific).
pub(super) fn eps_label(eps: f64) -> String {
    if eps == 0.0 {
        "0".into()
    } else {
        format!("{eps:e}")
    }
}

/// The figure's schemes and grid points at NFE 1000 (PG-FIG1-LEFT/RIGHT, PG-DECOMP): EM, EI, DDPM, Euler
/// N=1000, Heun N=500, RK4 N=250, then the extra samplers at N=1000.
pub(super) fn fig1_schemes(with_extras: bool) -> Vec<(Scheme, usize)> {
    let mut v: Vec<(Scheme, usize)> = paper_schemes()
        .into_iter()
        .map(|s| (s, grid_points_for_nfe(&s, 1000, HeunBudget::Correct)))
        .collect();
    if with_extras {
        v.extend(pg::extra_schemes().into_iter().map(|s| (s, 1000)));
    }
    v
}
