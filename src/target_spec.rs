//! Target specification files (issue 9, item 1): one JSON object with one key naming the kind.
//!
//! ```json
//! {"gaussian": {"mean": [0, 1], "covariance": [[1, 0], [0, 2]]}}
//! {"gaussian": {"mean": [0, 1], "eigenvalues": [1, 2]}}
//! {"mixture": {"weights": [0.3, 0.7], "means": [[-1], [1]], "covariances": [[[0.1]], [[0.2]]]}}
//! {"uniform": {"low": -1, "high": 1}}
//! {"laplace": {"location": 0, "scale": 1}}
//! {"beta": {"a": 2, "b": 5, "low": 0, "high": 1}}
//! ```
//!
//! The last three are 1-D only; their denoisers are computed by quadrature ([`crate::law1d`]). Every check
//! names the offending field.

use crate::law1d::Density1d;
use crate::target::{Gaussian, Mixture};
use anyhow::{anyhow, bail, ensure, Context, Result};
use nalgebra::{DMatrix, DVector};
use serde::Deserialize;
use std::path::Path;

/// Weights must sum to 1 within this: a few ulps per weight of a hand-written decimal list
/// (0.1 + 0.2 + 0.7 is off by 1.1e-16), with room for twenty-odd components.
pub const WEIGHT_SUM: f64 = 1e-12;
/// Symmetry of a covariance, relative to its largest entry: exact for hand-written files, round-off for
/// files written by a program that formed A Aᵀ (the same bound as [`Gaussian::from_covariance`]).
pub const SYMMETRY: f64 = 1e-12;

/// A parsed target file. One variant per kind; unknown keys are rejected.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetSpec {
    Gaussian(GaussianSpec),
    Mixture(MixtureSpec),
    Uniform(UniformSpec),
    Laplace(LaplaceSpec),
    Beta(BetaSpec),
}

/// N(mean, covariance), or N(mean, diag(eigenvalues)): exactly one of the two.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GaussianSpec {
    pub mean: Vec<f64>,
    #[serde(default)]
    pub covariance: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    pub eigenvalues: Option<Vec<f64>>,
}

/// Σ_k weights_k N(means_k, covariances_k).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MixtureSpec {
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    pub covariances: Vec<Vec<Vec<f64>>>,
}

/// U(low, high), 1-D.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UniformSpec {
    pub low: f64,
    pub high: f64,
}

/// Laplace(location, scale), density e^{−|x − location|/scale}/(2 scale), 1-D.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LaplaceSpec {
    pub location: f64,
    pub scale: f64,
}

/// low + (high − low) B with B ~ Beta(a, b), 1-D.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BetaSpec {
    pub a: f64,
    pub b: f64,
    pub low: f64,
    pub high: f64,
}

fn finite(field: &str, v: f64) -> Result<()> {
    ensure!(
        v.is_finite(),
        "`{field}` is {v}: it must be a finite number"
    );
    Ok(())
}

fn finite_all(field: &str, v: &[f64]) -> Result<()> {
    for (i, x) in v.iter().enumerate() {
        finite(&format!("{field}[{i}]"), *x)?;
    }
    Ok(())
}

/// A d×d matrix from rows, checked finite, square of size `d` and symmetric; PSD is checked by the caller.
fn matrix(field: &str, rows: &[Vec<f64>], d: usize) -> Result<DMatrix<f64>> {
    ensure!(
        rows.len() == d,
        "`{field}` has {} rows but the mean has dimension {d}",
        rows.len()
    );
    for (i, r) in rows.iter().enumerate() {
        ensure!(
            r.len() == d,
            "`{field}[{i}]` has {} entries but the mean has dimension {d}",
            r.len()
        );
        finite_all(&format!("{field}[{i}]"), r)?;
    }
    let m = DMatrix::from_fn(d, d, |i, j| rows[i][j]);
    let scale = m.abs().max().max(f64::MIN_POSITIVE);
    let asym = (&m - m.transpose()).abs().max();
    ensure!(
        asym <= SYMMETRY * scale,
        "`{field}` is not symmetric (max |Σ − Σᵀ| = {asym:e})"
    );
    Ok(m)
}

/// A symmetric matrix's smallest eigenvalue must be ≥ −1e-12‖Σ‖ (the bound of [`Gaussian::from_covariance`]).
fn check_psd(field: &str, m: &DMatrix<f64>) -> Result<()> {
    let scale = m.abs().max();
    let min = nalgebra::SymmetricEigen::new(m.clone()).eigenvalues.min();
    ensure!(
        min >= -SYMMETRY * scale,
        "`{field}` is not positive semi-definite (smallest eigenvalue {min:e})"
    );
    Ok(())
}

impl TargetSpec {
    /// Parse and validate a JSON target.
    ///
    /// # Errors
    /// Malformed JSON, an unknown or missing key, or a value failing [`TargetSpec::validate`].
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Self> {
        let spec: TargetSpec =
            serde_json::from_str(text).map_err(|e| anyhow!("target file: {e}"))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Read, parse and validate a JSON target file.
    ///
    /// # Errors
    /// As [`TargetSpec::from_str`], or the file cannot be read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading target file {}", path.display()))?;
        Self::from_str(&text).with_context(|| format!("in target file {}", path.display()))
    }

    /// The kind's key in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            TargetSpec::Gaussian(_) => "gaussian",
            TargetSpec::Mixture(_) => "mixture",
            TargetSpec::Uniform(_) => "uniform",
            TargetSpec::Laplace(_) => "laplace",
            TargetSpec::Beta(_) => "beta",
        }
    }

    /// The dimension of the data.
    pub fn dim(&self) -> usize {
        match self {
            TargetSpec::Gaussian(g) => g.mean.len(),
            TargetSpec::Mixture(m) => m.means.first().map_or(0, Vec::len),
            _ => 1,
        }
    }

    /// Every check of the module doc: finite numbers, dimensions, symmetric PSD covariances, positive
    /// weights summing to 1, low < high, positive scale and shape parameters.
    ///
    /// # Errors
    /// The first failing check, naming its field.
    pub fn validate(&self) -> Result<()> {
        match self {
            TargetSpec::Gaussian(g) => {
                let d = g.mean.len();
                ensure!(d > 0, "`gaussian.mean` is empty");
                finite_all("gaussian.mean", &g.mean)?;
                match (&g.covariance, &g.eigenvalues) {
                    (Some(c), None) => {
                        let m = matrix("gaussian.covariance", c, d)?;
                        check_psd("gaussian.covariance", &m)?;
                    }
                    (None, Some(l)) => {
                        ensure!(
                            l.len() == d,
                            "`gaussian.eigenvalues` has {} entries but the mean has dimension {d}",
                            l.len()
                        );
                        finite_all("gaussian.eigenvalues", l)?;
                        if let Some((i, v)) = l.iter().enumerate().find(|(_, v)| **v < 0.0) {
                            bail!("`gaussian.eigenvalues[{i}]` is {v} < 0: a variance must be ≥ 0");
                        }
                    }
                    (Some(_), Some(_)) => {
                        bail!("`gaussian` has both `covariance` and `eigenvalues`: give one")
                    }
                    (None, None) => {
                        bail!("`gaussian` needs `covariance` or `eigenvalues`")
                    }
                }
            }
            TargetSpec::Mixture(m) => {
                let k = m.weights.len();
                ensure!(k > 0, "`mixture.weights` is empty");
                ensure!(
                    m.means.len() == k,
                    "`mixture.means` has {} components but `mixture.weights` has {k}",
                    m.means.len()
                );
                ensure!(
                    m.covariances.len() == k,
                    "`mixture.covariances` has {} components but `mixture.weights` has {k}",
                    m.covariances.len()
                );
                finite_all("mixture.weights", &m.weights)?;
                if let Some((i, w)) = m.weights.iter().enumerate().find(|(_, w)| **w <= 0.0) {
                    bail!("`mixture.weights[{i}]` is {w}: weights must be positive");
                }
                let total: f64 = m.weights.iter().sum();
                ensure!(
                    (total - 1.0).abs() <= WEIGHT_SUM,
                    "`mixture.weights` sum to {total}, not 1"
                );
                let d = m.means[0].len();
                ensure!(d > 0, "`mixture.means[0]` is empty");
                for (i, (mu, c)) in m.means.iter().zip(&m.covariances).enumerate() {
                    ensure!(
                        mu.len() == d,
                        "`mixture.means[{i}]` has dimension {} but `mixture.means[0]` has {d}",
                        mu.len()
                    );
                    finite_all(&format!("mixture.means[{i}]"), mu)?;
                    let field = format!("mixture.covariances[{i}]");
                    let cm = matrix(&field, c, d)?;
                    check_psd(&field, &cm)?;
                }
            }
            TargetSpec::Uniform(u) => {
                finite("uniform.low", u.low)?;
                finite("uniform.high", u.high)?;
                ensure!(
                    u.low < u.high,
                    "`uniform.low` ({}) must be below `uniform.high` ({})",
                    u.low,
                    u.high
                );
            }
            TargetSpec::Laplace(l) => {
                finite("laplace.location", l.location)?;
                finite("laplace.scale", l.scale)?;
                ensure!(
                    l.scale > 0.0,
                    "`laplace.scale` is {}: it must be positive",
                    l.scale
                );
            }
            TargetSpec::Beta(b) => {
                for (f, v) in [
                    ("beta.a", b.a),
                    ("beta.b", b.b),
                    ("beta.low", b.low),
                    ("beta.high", b.high),
                ] {
                    finite(f, v)?;
                }
                ensure!(b.a > 0.0, "`beta.a` is {}: it must be positive", b.a);
                ensure!(b.b > 0.0, "`beta.b` is {}: it must be positive", b.b);
                ensure!(
                    b.low < b.high,
                    "`beta.low` ({}) must be below `beta.high` ({})",
                    b.low,
                    b.high
                );
            }
        }
        Ok(())
    }

    /// The crate's [`Gaussian`] (a `gaussian` target only).
    ///
    /// # Errors
    /// Another kind, or an invalid spec.
    pub fn to_gaussian(&self) -> Result<Gaussian> {
        self.validate()?;
        let TargetSpec::Gaussian(g) = self else {
            bail!("a {} target is not Gaussian", self.kind());
        };
        let mean = DVector::from_vec(g.mean.clone());
        match (&g.covariance, &g.eigenvalues) {
            (Some(c), _) => {
                Gaussian::from_covariance(mean, matrix("gaussian.covariance", c, g.mean.len())?)
            }
            (_, Some(l)) => Gaussian::from_eigen(mean, DVector::from_vec(l.clone()), None),
            _ => unreachable!("validated"),
        }
    }

    /// The crate's [`Mixture`] (a `gaussian` target as one component, or a `mixture`).
    ///
    /// # Errors
    /// A 1-D-only kind, or an invalid spec.
    pub fn to_mixture(&self) -> Result<Mixture> {
        match self {
            TargetSpec::Gaussian(_) => Ok(self.to_gaussian()?.to_mixture()),
            TargetSpec::Mixture(m) => {
                self.validate()?;
                let d = m.means[0].len();
                let covs = m
                    .covariances
                    .iter()
                    .enumerate()
                    .map(|(i, c)| matrix(&format!("mixture.covariances[{i}]"), c, d))
                    .collect::<Result<Vec<_>>>()?;
                let means = m
                    .means
                    .iter()
                    .map(|v| DVector::from_vec(v.clone()))
                    .collect();
                Mixture::new(m.weights.clone(), means, covs)
            }
            _ => bail!(
                "a {} target has no Gaussian-mixture form (use `to_density1d`)",
                self.kind()
            ),
        }
    }

    /// The 1-D data law for [`crate::law1d`] (any kind in dimension 1).
    ///
    /// # Errors
    /// Dimension above 1, a degenerate (zero-variance) component, or an invalid spec.
    pub fn to_density1d(&self) -> Result<Density1d> {
        self.validate()?;
        ensure!(
            self.dim() == 1,
            "the 1-D law engine needs a 1-D target; this {} target has dimension {}",
            self.kind(),
            self.dim()
        );
        match self {
            TargetSpec::Gaussian(_) | TargetSpec::Mixture(_) => {
                let m = self.to_mixture()?;
                Density1d::mixture(
                    m.weights.clone(),
                    m.means.iter().map(|v| v[0]).collect(),
                    m.covs.iter().map(|c| c[(0, 0)]).collect(),
                )
            }
            TargetSpec::Uniform(u) => Density1d::uniform(u.low, u.high),
            TargetSpec::Laplace(l) => Density1d::laplace(l.location, l.scale),
            TargetSpec::Beta(b) => Density1d::beta(b.a, b.b, b.low, b.high),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", TargetSpec::from_str(text).unwrap_err())
    }

    #[test]
    fn parses_every_kind() {
        let g = TargetSpec::from_str(
            r#"{"gaussian": {"mean": [0, 1], "covariance": [[1, 0.5], [0.5, 2]]}}"#,
        )
        .unwrap();
        assert_eq!(g.to_gaussian().unwrap().dim(), 2);
        let e = TargetSpec::from_str(r#"{"gaussian": {"mean": [3], "eigenvalues": [2]}}"#).unwrap();
        assert_eq!(e.to_density1d().unwrap().mean(), 3.0);
        let m = TargetSpec::from_str(
            r#"{"mixture": {"weights": [0.3, 0.7], "means": [[-1], [1]], "covariances": [[[0.1]], [[0.2]]]}}"#,
        )
        .unwrap();
        assert_eq!(m.to_mixture().unwrap().weights.len(), 2);
        assert!((m.to_density1d().unwrap().mean() - 0.4).abs() < 1e-15);
        for text in [
            r#"{"uniform": {"low": -1, "high": 1}}"#,
            r#"{"laplace": {"location": 0, "scale": 1}}"#,
            r#"{"beta": {"a": 2, "b": 5, "low": 0, "high": 1}}"#,
        ] {
            let s = TargetSpec::from_str(text).unwrap();
            assert!(s.to_density1d().is_ok());
            assert!(s
                .to_mixture()
                .unwrap_err()
                .to_string()
                .contains("no Gaussian-mixture form"));
        }
    }

    #[test]
    fn rejects_unknown_and_missing_keys() {
        assert!(err(r#"{"gaussian": {"mean": [0], "variance": [1]}}"#)
            .contains("unknown field `variance`"));
        assert!(err(r#"{"cauchy": {"location": 0}}"#).contains("unknown variant `cauchy`"));
        assert!(err(r#"{"uniform": {"low": 0}}"#).contains("missing field `high`"));
        assert!(err(r#"{"gaussian": {"mean": [0]}}"#).contains("`covariance` or `eigenvalues`"));
        assert!(
            err(r#"{"gaussian": {"mean": [0], "eigenvalues": [1], "covariance": [[1]]}}"#)
                .contains("both")
        );
        assert!(err(
            r#"{"uniform": {"low": 0, "high": 1}, "laplace": {"location": 0, "scale": 1}}"#
        )
        .contains("target file"));
    }

    #[test]
    fn rejects_bad_covariances() {
        assert!(
            err(r#"{"gaussian": {"mean": [0, 0], "covariance": [[1, 2], [2, 1]]}}"#)
                .contains("`gaussian.covariance` is not positive semi-definite")
        );
        assert!(
            err(r#"{"gaussian": {"mean": [0, 0], "covariance": [[1, 0.1], [0, 1]]}}"#)
                .contains("`gaussian.covariance` is not symmetric")
        );
        assert!(
            err(r#"{"gaussian": {"mean": [0, 0], "covariance": [[1, 0], [0, 1], [0, 0]]}}"#)
                .contains("`gaussian.covariance` has 3 rows")
        );
        assert!(err(r#"{"gaussian": {"mean": [0, 0], "eigenvalues": [1]}}"#)
            .contains("`gaussian.eigenvalues` has 1 entries"));
        assert!(err(r#"{"gaussian": {"mean": [0], "eigenvalues": [-1]}}"#)
            .contains("`gaussian.eigenvalues[0]` is -1"));
        assert!(err(
            r#"{"mixture": {"weights": [0.5, 0.5], "means": [[0], [1]], "covariances": [[[1]], [[-1]]]}}"#
        )
        .contains("`mixture.covariances[1]` is not positive semi-definite"));
    }

    #[test]
    fn rejects_bad_mixtures() {
        assert!(err(r#"{"mixture": {"weights": [0.5, 0.6], "means": [[0], [1]], "covariances": [[[1]], [[1]]]}}"#)
            .contains("`mixture.weights` sum to 1.1"));
        assert!(err(r#"{"mixture": {"weights": [1.5, -0.5], "means": [[0], [1]], "covariances": [[[1]], [[1]]]}}"#)
            .contains("`mixture.weights[1]` is -0.5"));
        assert!(err(r#"{"mixture": {"weights": [0.5, 0.5], "means": [[0], [1, 2]], "covariances": [[[1]], [[1]]]}}"#)
            .contains("`mixture.means[1]` has dimension 2"));
        assert!(err(
            r#"{"mixture": {"weights": [0.5, 0.5], "means": [[0], [1]], "covariances": [[[1]]]}}"#
        )
        .contains("`mixture.covariances` has 1 components"));
        assert!(err(r#"{"mixture": {"weights": [0.5, 0.5], "means": [[0], [1]], "covariances": [[[1]], [[1, 0]]]}}"#)
            .contains("`mixture.covariances[1][0]` has 2 entries"));
        let two_d =
            TargetSpec::from_str(r#"{"gaussian": {"mean": [0, 0], "eigenvalues": [1, 1]}}"#)
                .unwrap();
        assert!(two_d
            .to_density1d()
            .unwrap_err()
            .to_string()
            .contains("dimension 2"));
    }

    #[test]
    fn rejects_bad_1d_parameters() {
        assert!(err(r#"{"uniform": {"low": 1, "high": 1}}"#)
            .contains("`uniform.low` (1) must be below"));
        assert!(err(r#"{"laplace": {"location": 0, "scale": 0}}"#).contains("`laplace.scale` is 0"));
        assert!(err(r#"{"beta": {"a": 0, "b": 1, "low": 0, "high": 1}}"#).contains("`beta.a` is 0"));
        assert!(
            err(r#"{"beta": {"a": 1, "b": -2, "low": 0, "high": 1}}"#).contains("`beta.b` is -2")
        );
        assert!(err(r#"{"beta": {"a": 1, "b": 2, "low": 2, "high": 1}}"#)
            .contains("`beta.low` (2) must be below"));
        // JSON has no NaN; a spec built in code is checked all the same.
        let nan = TargetSpec::Laplace(LaplaceSpec {
            location: f64::NAN,
            scale: 1.0,
        });
        assert!(format!("{}", nan.validate().unwrap_err()).contains("`laplace.location` is NaN"));
        let inf = TargetSpec::Gaussian(GaussianSpec {
            mean: vec![f64::INFINITY],
            covariance: None,
            eigenvalues: Some(vec![1.0]),
        });
        assert!(format!("{}", inf.validate().unwrap_err()).contains("`gaussian.mean[0]` is inf"));
        assert!(err(r#"{"uniform": {"low": 0, "high": 1e999}}"#).contains("target file"));
    }
}
