//! Distances between laws and the statistics a verdict rests on (CLAIMS §2.4).

use anyhow::{anyhow, ensure, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Symmetric PSD square root through the symmetric eigendecomposition (negative round-off clamped).
pub fn sqrtm_psd(a: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    let eig = SymmetricEigen::try_new(a.clone(), 1e-15, 10_000)
        .ok_or_else(|| anyhow!("eigendecomposition did not converge"))?;
    let root = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    Ok(&eig.eigenvectors * DMatrix::from_diagonal(&root) * eig.eigenvectors.transpose())
}

/// W2 between N(m1, V1) and N(m2, V2) (Bures): W2² = ‖m1 − m2‖² + tr(V1 + V2 − 2(V2^{1/2} V1 V2^{1/2})^{1/2}).
pub fn w2_gaussian(
    m1: &DVector<f64>,
    v1: &DMatrix<f64>,
    m2: &DVector<f64>,
    v2: &DMatrix<f64>,
) -> Result<f64> {
    ensure!(
        m1.len() == m2.len() && v1.nrows() == m1.len() && v2.nrows() == m2.len(),
        "dimension mismatch in W2"
    );
    let r2 = sqrtm_psd(v2)?;
    let sym = &r2 * v1 * &r2;
    let cross = sqrtm_psd(&(0.5 * (&sym + sym.transpose())))?;
    let w2sq = (m1 - m2).norm_squared() + v1.trace() + v2.trace() - 2.0 * cross.trace();
    Ok(w2sq.max(0.0).sqrt())
}

/// W2 between Gaussians whose covariances share an eigenbasis: given means and eigenvalues in that basis,
/// W2² = ‖m1 − m2‖² + Σ_i (√v1_i − √v2_i)².
pub fn w2_commuting(m1: &[f64], v1: &[f64], m2: &[f64], v2: &[f64]) -> f64 {
    let mean: f64 = m1.iter().zip(m2).map(|(a, b)| (a - b) * (a - b)).sum();
    let cov: f64 = v1
        .iter()
        .zip(v2)
        .map(|(a, b)| (a.max(0.0).sqrt() - b.max(0.0).sqrt()).powi(2))
        .sum();
    (mean + cov).sqrt()
}

/// KL(N(m1, V1) ‖ N(m2, V2)) = ½[tr(V2⁻¹V1) + (m2−m1)ᵀV2⁻¹(m2−m1) − d + ln(det V2/det V1)].
pub fn kl_gaussian(
    m1: &DVector<f64>,
    v1: &DMatrix<f64>,
    m2: &DVector<f64>,
    v2: &DMatrix<f64>,
) -> Result<f64> {
    let d = m1.len();
    let c2 = nalgebra::Cholesky::new(v2.clone())
        .ok_or_else(|| anyhow!("KL: the second covariance is not positive definite"))?;
    let c1 = nalgebra::Cholesky::new(v1.clone())
        .ok_or_else(|| anyhow!("KL: the first covariance is not positive definite"))?;
    let dm = m2 - m1;
    let logdet = |c: &nalgebra::Cholesky<f64, nalgebra::Dyn>| {
        2.0 * c.l().diagonal().iter().map(|v| v.ln()).sum::<f64>()
    };
    let tr = c2.solve(v1).trace();
    Ok(0.5 * (tr + dm.dot(&c2.solve(&dm)) - d as f64 + logdet(&c2) - logdet(&c1)))
}

/// KL between Gaussians sharing an eigenbasis (means and eigenvalues in that basis); +∞ if a variance of
/// the second law is 0 where the first is not.
pub fn kl_commuting(m1: &[f64], v1: &[f64], m2: &[f64], v2: &[f64]) -> f64 {
    let mut kl = 0.0;
    for i in 0..m1.len() {
        let (a, b) = (v1[i], v2[i]);
        let dm = m2[i] - m1[i];
        if a == b && dm == 0.0 {
            continue;
        }
        if b <= 0.0 || a <= 0.0 {
            return f64::INFINITY;
        }
        kl += 0.5 * (a / b + dm * dm / b - 1.0 + (b / a).ln());
    }
    kl
}

/// Exact W2 between the empirical laws of two 1-D samples (of any sizes): the L² distance between
/// their quantile functions, integrated piecewise exactly.
pub fn w2_empirical_1d(x: &[f64], y: &[f64]) -> Result<f64> {
    ensure!(
        !x.is_empty() && !y.is_empty(),
        "empirical W2 needs non-empty samples"
    );
    ensure!(
        x.iter().chain(y).all(|v| v.is_finite()),
        "empirical W2: non-finite sample"
    );
    let mut a = x.to_vec();
    let mut b = y.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut u, mut acc) = (0usize, 0usize, 0.0f64, 0.0f64);
    while i < a.len() && j < b.len() {
        let next = (((i + 1) as f64) / n).min(((j + 1) as f64) / m);
        acc += (next - u) * (a[i] - b[j]).powi(2);
        u = next;
        if ((i + 1) as f64) / n <= next {
            i += 1;
        }
        if ((j + 1) as f64) / m <= next {
            j += 1;
        }
    }
    Ok(acc.sqrt())
}

/// Sliced W2 between a sample `x` and a reference law given, for each direction θ_j, by quantiles of
/// its projection ⟨θ_j, ·⟩ (exact ones, or another sample's): √(mean_j W2²(⟨θ_j, x⟩, q_j)), each term by
/// [`w2_empirical_1d`].
pub fn sliced_w2(
    x: &[DVector<f64>],
    directions: &[DVector<f64>],
    quantiles: &[Vec<f64>],
) -> Result<f64> {
    ensure!(
        directions.len() == quantiles.len() && !directions.is_empty(),
        "sliced W2: {} directions but {} quantile sets",
        directions.len(),
        quantiles.len()
    );
    let mut acc = 0.0;
    for (th, q) in directions.iter().zip(quantiles) {
        let px: Vec<f64> = x.iter().map(|v| v.dot(th)).collect();
        acc += w2_empirical_1d(&px, q)?.powi(2);
    }
    Ok((acc / directions.len() as f64).sqrt())
}

/// Principal square root of an SPD matrix by the Denman–Beavers iteration (Y → A^{1/2}, Z → A^{−1/2}),
/// independent of any eigendecomposition. Returns (A^{1/2}, A^{−1/2}).
pub fn sqrtm_denman_beavers(a: &DMatrix<f64>) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let n = a.nrows();
    let mut y = a.clone();
    let mut z = DMatrix::<f64>::identity(n, n);
    for _ in 0..100 {
        let yi = y
            .clone()
            .try_inverse()
            .ok_or_else(|| anyhow::anyhow!("Denman–Beavers: singular iterate"))?;
        let zi = z
            .clone()
            .try_inverse()
            .ok_or_else(|| anyhow::anyhow!("Denman–Beavers: singular iterate"))?;
        let y1 = (&y + zi) * 0.5;
        let z1 = (&z + yi) * 0.5;
        let change = (&y1 - &y).norm() / y1.norm();
        y = y1;
        z = z1;
        if change < 1e-15 {
            break;
        }
    }
    Ok((y, z))
}

/// Bures W2 through Denman–Beavers square roots: W2² = ‖m1 − m2‖² + tr A + tr B − 2 tr (A^{1/2} B A^{1/2})^{1/2}.
pub fn w2_bures_db(
    m1: &DVector<f64>,
    a: &DMatrix<f64>,
    m2: &DVector<f64>,
    b: &DMatrix<f64>,
) -> Result<f64> {
    let (_, rm) = bures_roots_db(a, b)?;
    Ok(
        ((m1 - m2).norm_squared() + a.trace() + b.trace() - 2.0 * rm.trace())
            .max(0.0)
            .sqrt(),
    )
}

/// The Bures OT (Monge) map from N(·, A) to N(·, B) through Denman–Beavers square roots:
/// T = A^{−1/2}(A^{1/2} B A^{1/2})^{1/2} A^{−1/2} (FM-7's independent route to the PF-ODE map).
pub fn bures_ot_map_db(a: &DMatrix<f64>, b: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    let (ra_inv, rm) = bures_roots_db(a, b)?;
    Ok(&ra_inv * rm * &ra_inv)
}

/// (A^{−1/2}, (A^{1/2} B A^{1/2})^{1/2}) by Denman–Beavers, the middle matrix symmetrised.
fn bures_roots_db(a: &DMatrix<f64>, b: &DMatrix<f64>) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let (ra, ra_inv) = sqrtm_denman_beavers(a)?;
    let mid = &ra * b * &ra;
    let (rm, _) = sqrtm_denman_beavers(&(0.5 * (&mid + mid.transpose())))?;
    Ok((ra_inv, rm))
}

/// A mean with its standard error and a two-sided Student-t confidence interval.
#[derive(Clone, Copy, Debug)]
pub struct MeanCi {
    pub mean: f64,
    pub se: f64,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
}

/// Mean, standard error and `level` confidence interval of a sample (n ≥ 2).
pub fn mean_ci(xs: &[f64], level: f64) -> Result<MeanCi> {
    let n = xs.len();
    ensure!(n >= 2, "a confidence interval needs at least two values");
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)?.inverse_cdf(0.5 + level / 2.0);
    Ok(MeanCi {
        mean,
        se,
        lo: mean - t * se,
        hi: mean + t * se,
        n,
    })
}

/// A least-squares line y = a + b x with the standard error and confidence interval of the slope.
#[derive(Clone, Copy, Debug)]
pub struct SlopeFit {
    pub slope: f64,
    pub intercept: f64,
    pub se: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Fit y = a + b x by least squares; the interval is Student-t at `level` (n − 2 degrees of freedom).
/// With n = 2 points the fit is exact and the interval is the point.
pub fn fit_line(x: &[f64], y: &[f64], level: f64) -> Result<SlopeFit> {
    let n = x.len();
    ensure!(
        n >= 2 && y.len() == n,
        "a slope fit needs at least two (x, y) pairs"
    );
    ensure!(
        x.iter().chain(y).all(|v| v.is_finite()),
        "slope fit: non-finite value"
    );
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    ensure!(sxx > 0.0, "slope fit: all x equal");
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    if n == 2 {
        return Ok(SlopeFit {
            slope,
            intercept,
            se: 0.0,
            lo: slope,
            hi: slope,
        });
    }
    let rss: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - intercept - slope * a).powi(2))
        .sum();
    let se = (rss / (n - 2) as f64 / sxx).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 2) as f64)?.inverse_cdf(0.5 + level / 2.0);
    Ok(SlopeFit {
        slope,
        intercept,
        se,
        lo: slope - t * se,
        hi: slope + t * se,
    })
}

/// The slope of log y against log x (a convergence order when x is a step count or step size).
pub fn loglog_slope(x: &[f64], y: &[f64], level: f64) -> Result<SlopeFit> {
    ensure!(
        x.iter().chain(y).all(|v| *v > 0.0),
        "log-log fit needs positive values"
    );
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    fit_line(&lx, &ly, level)
}

/// Relative error |a − b| / max(|b|, floor).
pub fn rel_err(a: f64, b: f64, floor: f64) -> f64 {
    (a - b).abs() / b.abs().max(floor)
}
