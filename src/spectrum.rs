//! Reading covariance spectra (and other 1-D arrays) from .npy files or plain text, with validation.

use anyhow::{bail, ensure, Context, Result};
use std::path::Path;

/// What values a 1-D array may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Any finite value (a mean vector).
    Finite,
    /// Finite and ≥ 0 (a covariance spectrum; zeros mean a singular Σ).
    NonNegative,
}

/// Read a 1-D array of numbers: `.npy` (float32 or float64, little or big endian, 1-D) or plain text
/// (one number per line; blank lines and lines starting with `#` are skipped).
///
/// # Errors
/// Missing or unreadable file, malformed .npy, a shape that is not 1-D, an unsupported dtype, an empty
/// array, or a value that fails `check` (negative, NaN or infinite), with its index.
pub fn read_vector(path: &Path, check: Check) -> Result<Vec<f64>> {
    let values = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        read_npy(path)?
    } else {
        read_text(path)?
    };
    validate(&values, check).with_context(|| format!("in {}", path.display()))?;
    Ok(values)
}

/// Parse a comma-separated list of numbers (e.g. `--eigenvalues 1,0.5,0`).
pub fn parse_list(text: &str, check: Check) -> Result<Vec<f64>> {
    let values: Vec<f64> = text
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<f64>()
                .with_context(|| format!("{s:?} is not a number"))
        })
        .collect::<Result<_>>()?;
    validate(&values, check)?;
    Ok(values)
}

/// A file path if it exists, else a comma-separated list.
pub fn read_file_or_list(arg: &str, check: Check) -> Result<Vec<f64>> {
    let p = Path::new(arg);
    if p.exists() {
        read_vector(p, check)
    } else if arg.ends_with(".npy") || arg.ends_with(".txt") {
        bail!("file {arg} does not exist")
    } else {
        parse_list(arg, check)
    }
}

fn validate(values: &[f64], check: Check) -> Result<()> {
    ensure!(!values.is_empty(), "the array is empty");
    for (i, v) in values.iter().enumerate() {
        if v.is_nan() {
            bail!("value {i} is NaN");
        }
        if v.is_infinite() {
            bail!("value {i} is infinite");
        }
        if check == Check::NonNegative && *v < 0.0 {
            bail!("value {i} is {v} < 0: a covariance spectrum must be non-negative");
        }
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            l.parse::<f64>().with_context(|| {
                format!("{}: line {}: {l:?} is not a number", path.display(), i + 1)
            })
        })
        .collect()
}

fn read_npy(path: &Path) -> Result<Vec<f64>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .with_context(|| format!("{} is not a valid .npy file", path.display()))?;
    let shape = npy.shape().to_vec();
    ensure!(
        shape.len() == 1,
        "{}: expected a 1-D array, found shape {shape:?}",
        path.display()
    );
    ensure!(
        npy.order() == npyz::Order::C || shape.len() == 1,
        "unsupported memory order"
    );
    let dtype = npy.dtype();
    let descr = match &dtype {
        npyz::DType::Plain(t) => t.to_string(),
        other => bail!(
            "{}: unsupported dtype {other:?} (need float32 or float64)",
            path.display()
        ),
    };
    let values: Vec<f64> = match descr.as_str() {
        "<f8" | ">f8" => npy
            .into_vec::<f64>()
            .with_context(|| format!("{}: truncated or malformed data", path.display()))?,
        "<f4" | ">f4" => npy
            .into_vec::<f32>()
            .with_context(|| format!("{}: truncated or malformed data", path.display()))?
            .into_iter()
            .map(f64::from)
            .collect(),
        other => bail!(
            "{}: unsupported dtype {other} (need float32 or float64)",
            path.display()
        ),
    };
    ensure!(
        values.len() as u64 == shape[0],
        "{}: header says {} values, found {}",
        path.display(),
        shape[0],
        values.len()
    );
    Ok(values)
}

/// `PG_EIGENVALUES`, where set and non-empty (an empty value counts as unset).
fn pg_eigenvalues_var() -> Option<String> {
    std::env::var("PG_EIGENVALUES")
        .ok()
        .filter(|p| !p.is_empty())
}

/// The authors' CIFAR-10 spectrum (Pierret & Galerne), located by the environment variable
/// `PG_EIGENVALUES` (unset or empty: by the relative path
/// `../shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy`). `Err` (with the reason) where it is
/// absent or `PG_EIGENVALUES` names no file; [`read_pg_spectrum`] tells the two apart.
pub fn pg_spectrum_path() -> std::result::Result<std::path::PathBuf, String> {
    if let Some(p) = pg_eigenvalues_var() {
        let path = std::path::PathBuf::from(&p);
        return if path.exists() {
            Ok(path)
        } else {
            Err(format!("PG_EIGENVALUES={p} does not exist"))
        };
    }
    let default =
        std::path::PathBuf::from("../shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy");
    if default.exists() {
        Ok(default)
    } else {
        Err("PG_EIGENVALUES is not set and ../shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy is absent".into())
    }
}

/// The authors' spectrum, or why it was not supplied.
#[derive(Clone, Debug)]
pub enum PgSpectrum {
    /// Read (and validated) from `path`.
    Found {
        values: Vec<f64>,
        path: std::path::PathBuf,
    },
    /// Not supplied (`PG_EIGENVALUES` unset or empty, default path absent): the reason.
    Absent(String),
}

/// Read the authors' spectrum ([`pg_spectrum_path`]).
///
/// # Errors
/// `PG_EIGENVALUES` is set but its file is missing or malformed, or the default file is malformed: a
/// supplied input that cannot be read is an error, never a silent fallback.
pub fn read_pg_spectrum() -> Result<PgSpectrum> {
    if let Some(p) = pg_eigenvalues_var() {
        let path = std::path::PathBuf::from(&p);
        let values = read_vector(&path, Check::NonNegative)
            .with_context(|| format!("PG_EIGENVALUES={p} is set but unreadable"))?;
        return Ok(PgSpectrum::Found { values, path });
    }
    match pg_spectrum_path() {
        Ok(path) => Ok(PgSpectrum::Found {
            values: read_vector(&path, Check::NonNegative)?,
            path,
        }),
        Err(why) => Ok(PgSpectrum::Absent(why)),
    }
}
