//! Guided fields as denoisers every sampler runs on (CLAIMS §9, GD-1…GD-4, CONV-2; issue 10).
//!
//! A guided field is a score s̃(x, t); a sampler asks for x̂₀, and at fixed x the two are affine in each
//! other (Tweedie: x̂₀ = (x + σ² s̃)/α), so a guided denoiser is the guided score written as x̂₀:
//! - classifier-free guidance [`Cfg`]: x̂₀_w = x̂₀_u + w (x̂₀_c − x̂₀_u), i.e. s̃ = w s_t(x|c) + (1 − w) s_t(x),
//!   with the scale in either convention ([`Convention`], CONV-2: w = 1 + w_HS);
//! - classifier guidance [`ClassifierGuided`] on a mixture whose classes are its components:
//!   s̃ = s_t(x) + w ∇log p(c|x) with the exact time-t classifier p_t(c|x) = r_c(x) (GD-1) or the clean
//!   classifier p₀(c|x) applied to the noisy state x_t ([`Classifier`]).
//!
//! On Gaussian class-conditionals the guided field is affine, so a sampler run on [`MatForm`]s (affine forms
//! with full matrices: the conditional and unconditional covariances need not commute) returns the exact
//! Gaussian output law ([`guided_gaussian_law`]). The tilted target p(x|c)^w p(x)^{1−w}/Z of two Gaussians is
//! Gaussian when its precision w P_c + (1 − w) P_u is positive definite ([`tilted_gaussian`]).

use crate::algebra::{Algebra, Denoiser, Noise};
use crate::law1d::{Density1d, Duals, Law1d};
use crate::quadrature::{gauss_legendre, simpson};
use crate::sampler::Sampler;
use crate::schedule::Schedule;
use crate::target::{Gaussian, Mixture};
use anyhow::{bail, ensure, Result};
use nalgebra::{DMatrix, DVector};

/// How a guidance scale is written (CONV-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// DPM-Solver / McAllester: ε̃ = ε̂_u + w (ε̂_c − ε̂_u); w = 1 is the conditional model, w = 0 the
    /// unconditional one.
    Dpm,
    /// Ho & Salimans (2022): ε̃ = (1 + w_HS) ε̂_c − w_HS ε̂_u; w_HS = 0 is the conditional model.
    HoSalimans,
}

/// The DPM-Solver scale of a Ho–Salimans scale: w = 1 + w_HS (CONV-2).
pub fn dpm_scale(w_hs: f64) -> f64 {
    1.0 + w_hs
}

/// The Ho–Salimans scale of a DPM-Solver scale: w_HS = w − 1 (CONV-2).
pub fn ho_salimans_scale(w: f64) -> f64 {
    w - 1.0
}

/// Classifier-free guidance (GD-2, GD-3): the guided denoiser from a conditional and an unconditional
/// one, `guidance_scale` read in `convention`. Linear in x̂₀, so the same combination holds for ε̂ and the
/// score at fixed x.
#[derive(Clone, Debug)]
pub struct Cfg<C, U> {
    pub cond: C,
    pub uncond: U,
    pub guidance_scale: f64,
    pub convention: Convention,
}

impl<C, U> Cfg<C, U> {
    /// Scale in the DPM-Solver convention (w = 1: the conditional model).
    pub fn new(cond: C, uncond: U, guidance_scale: f64) -> Self {
        Self {
            cond,
            uncond,
            guidance_scale,
            convention: Convention::Dpm,
        }
    }
}

impl<S: Algebra, C: Denoiser<S>, U: Denoiser<S>> Denoiser<S> for Cfg<C, U> {
    fn denoise(&self, x: &S, alpha: f64, sigma: f64) -> S {
        let u = self.uncond.denoise(x, alpha, sigma);
        let c = self.cond.denoise(x, alpha, sigma);
        let w = self.guidance_scale;
        match self.convention {
            // x̂₀_u + w (x̂₀_c − x̂₀_u).
            Convention::Dpm => S::lin(&[(1.0, &u), (w, &S::lin(&[(1.0, &c), (-1.0, &u)]))]),
            // (1 + w_HS) x̂₀_c − w_HS x̂₀_u.
            Convention::HoSalimans => S::lin(&[(1.0 + w, &c), (-w, &u)]),
        }
    }
}

/// Which classifier a classifier-guided field uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classifier {
    /// The exact time-t classifier p_t(c|x) = r_c(x), the responsibility of component c in p_t (GD-1).
    Noisy,
    /// The clean classifier p₀(c|x) evaluated at the noisy state x_t, at every t (what a classifier
    /// trained on clean data does when applied as is; GD-1's bias).
    Clean,
}

/// Classifier guidance on a mixture whose classes are its components (GD-1, GD-4):
/// s̃ = s_t(x) + w ∇log p(c|x), returned as x̂₀ = (x + σ² s̃)/α.
#[derive(Clone, Debug)]
pub struct ClassifierGuided {
    pub data: Mixture,
    pub class: usize,
    pub guidance_scale: f64,
    pub classifier: Classifier,
}

/// ∇_x log p(c|x) of the class posterior of `mix` noised at (α, σ) (α = 1, σ = 0: the clean classifier):
/// g_c − Σ_k r_k g_k with g_k = −C_k⁻¹(x − α μ_k), C_k = α² Σ_k + σ² I, r the class posterior (CLAIMS §2.2).
///
/// # Panics
/// Some C_k singular (a degenerate component at σ = 0).
pub fn log_class_posterior_grad(
    mix: &Mixture,
    class: usize,
    x: &DVector<f64>,
    alpha: f64,
    sigma: f64,
) -> DVector<f64> {
    let d = mix.dim();
    let mut logs = Vec::with_capacity(mix.weights.len());
    let mut grads = Vec::with_capacity(mix.weights.len());
    for ((w, mu), cov) in mix.weights.iter().zip(&mix.means).zip(&mix.covs) {
        let c = cov * (alpha * alpha) + DMatrix::identity(d, d) * (sigma * sigma);
        let chol = nalgebra::Cholesky::new(c).expect("a noised component covariance is PD");
        let r = x - mu * alpha;
        let p_r = chol.solve(&r);
        let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
        logs.push(w.ln() - 0.5 * log_det - 0.5 * r.dot(&p_r));
        grads.push(-p_r);
    }
    let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logs.iter().map(|l| (l - max).exp()).sum();
    let mut out = grads[class].clone();
    for (l, g) in logs.iter().zip(&grads) {
        out.axpy(-(l - max).exp() / total, g, 1.0);
    }
    out
}

/// 1-D: (∂/∂x log p(c|x), ∂²/∂x² log p(c|x)) of the class posterior of the 1-D mixture (weights, means,
/// variances) noised at (α, σ): g = g_c − ḡ, g′ = −1/C_c + Σ_k r_k/C_k − Var_r(g_k) with g_k = −(x − αμ_k)/C_k,
/// ḡ = Σ_k r_k g_k.
pub fn log_class_posterior_grad_1d(
    weights: &[f64],
    means: &[f64],
    vars: &[f64],
    class: usize,
    x: f64,
    alpha: f64,
    sigma: f64,
) -> (f64, f64) {
    // Per component: (log weight·density, g_k, C_k), without allocating (called once a point).
    let comp = |k: usize| {
        let c = alpha * alpha * vars[k] + sigma * sigma;
        let r = x - alpha * means[k];
        (weights[k].ln() - 0.5 * c.ln() - 0.5 * r * r / c, -r / c, c)
    };
    let n = weights.len();
    let max = (0..n).map(|k| comp(k).0).fold(f64::NEG_INFINITY, f64::max);
    let (mut total, mut gbar, mut g2bar, mut inv_c) = (0.0, 0.0, 0.0, 0.0);
    for k in 0..n {
        let (l, g, c) = comp(k);
        let r = (l - max).exp();
        total += r;
        gbar += r * g;
        g2bar += r * g * g;
        inv_c += r / c;
    }
    let (gbar, g2bar, inv_c) = (gbar / total, g2bar / total, inv_c / total);
    let (_, gc, cc) = comp(class);
    (gc - gbar, -1.0 / cc + inv_c - (g2bar - gbar * gbar))
}

impl ClassifierGuided {
    /// (α, σ) at which the classifier is evaluated.
    fn classifier_level(&self, alpha: f64, sigma: f64) -> (f64, f64) {
        match self.classifier {
            Classifier::Noisy => (alpha, sigma),
            Classifier::Clean => (1.0, 0.0),
        }
    }
}

impl Denoiser<DVector<f64>> for ClassifierGuided {
    fn denoise(&self, x: &DVector<f64>, alpha: f64, sigma: f64) -> DVector<f64> {
        if sigma == 0.0 {
            return x / alpha;
        }
        let (ca, cs) = self.classifier_level(alpha, sigma);
        let score = self.data.score(x, alpha, sigma)
            + log_class_posterior_grad(&self.data, self.class, x, ca, cs) * self.guidance_scale;
        (x + score * (sigma * sigma)) / alpha
    }
}

impl Denoiser<Duals> for ClassifierGuided {
    fn denoise(&self, x: &Duals, alpha: f64, sigma: f64) -> Duals {
        assert_eq!(self.data.dim(), 1, "the duals denoiser is 1-D");
        if sigma == 0.0 {
            return Duals::lin(&[(1.0 / alpha, x)]);
        }
        let weights = &self.data.weights;
        let means: Vec<f64> = self.data.means.iter().map(|m| m[0]).collect();
        let vars: Vec<f64> = self.data.covs.iter().map(|c| c[(0, 0)]).collect();
        let uncond = Density1d::mixture(weights.clone(), means.clone(), vars.clone())
            .expect("a valid 1-D mixture");
        let ones = vec![1.0; x.v.len()];
        let (x0, dx0) = uncond.denoise_batch(&x.v, &ones, alpha, sigma);
        let (ca, cs) = self.classifier_level(alpha, sigma);
        let s2 = sigma * sigma;
        let (mut v, mut d) = (Vec::with_capacity(x.v.len()), Vec::with_capacity(x.v.len()));
        for i in 0..x.v.len() {
            let (g, dg) =
                log_class_posterior_grad_1d(weights, &means, &vars, self.class, x.v[i], ca, cs);
            // s_u = (α x̂₀ − x)/σ², s_u′ = (α x̂₀′ − 1)/σ²; x̂₀_guided = (x + σ² s̃)/α.
            let s = (alpha * x0[i] - x.v[i]) / s2 + self.guidance_scale * g;
            let ds = (alpha * dx0[i] - 1.0) / s2 + self.guidance_scale * dg;
            v.push((x.v[i] + s2 * s) / alpha);
            d.push((1.0 + s2 * ds) / alpha * x.d[i]);
        }
        Duals { v, d }
    }
}

/// An affine form with a full matrix: x = c + A ξ, ξ ~ N(0, I_K) (A is d × K). Every sampler is linear with
/// scalar coefficients and a Gaussian denoiser is affine with a full matrix, so on Gaussian data (guided or
/// not, covariances commuting or not) a sampler run on these returns its exact output law N(c, A Aᵀ).
#[derive(Clone, Debug, PartialEq)]
pub struct MatForm {
    pub c: DVector<f64>,
    pub a: DMatrix<f64>,
}

impl MatForm {
    /// N(mean, cov) as c + A ξ with A a symmetric square root of `cov` (PSD).
    ///
    /// # Errors
    /// `cov` not d×d, not finite or not PSD.
    pub fn gaussian(mean: DVector<f64>, cov: &DMatrix<f64>) -> Result<Self> {
        ensure!(
            cov.is_square() && cov.nrows() == mean.len(),
            "covariance must be d×d with d = {}",
            mean.len()
        );
        let a = psd_factor(cov)?;
        Ok(Self { c: mean, a })
    }
    pub fn dim(&self) -> usize {
        self.c.len()
    }
    /// The covariance A Aᵀ.
    pub fn covariance(&self) -> DMatrix<f64> {
        &self.a * self.a.transpose()
    }
    /// x ↦ K x + b.
    pub fn affine(&self, k: &DMatrix<f64>, b: &DVector<f64>) -> Self {
        Self {
            c: k * &self.c + b,
            a: k * &self.a,
        }
    }
}

/// A factor F with F Fᵀ = M for a symmetric PSD M (eigen-decomposition; eigenvalues above −1e-12‖M‖ are
/// clamped to 0).
fn psd_factor(m: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    ensure!(m.iter().all(|v| v.is_finite()), "a non-finite covariance");
    let scale = m.abs().max();
    let eig = nalgebra::SymmetricEigen::new(m.clone());
    let min = eig.eigenvalues.min();
    ensure!(
        min >= -1e-12 * scale,
        "covariance is not positive semi-definite (smallest eigenvalue {min:e})"
    );
    let root = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    Ok(&eig.eigenvectors * DMatrix::from_diagonal(&root))
}

impl Algebra for MatForm {
    /// Σ_i w_i f_i; matrices with fewer columns are zero-padded.
    fn lin(terms: &[(f64, &Self)]) -> Self {
        let d = terms[0].1.dim();
        let k = terms.iter().map(|(_, f)| f.a.ncols()).max().unwrap_or(0);
        let mut c = DVector::zeros(d);
        let mut a = DMatrix::zeros(d, k);
        for (w, f) in terms {
            c.axpy(*w, &f.c, 1.0);
            let n = f.a.ncols();
            if n > 0 {
                let mut block = a.columns_mut(0, n);
                block += &f.a * *w;
            }
        }
        Self { c, a }
    }
}

/// Fresh noise for [`MatForm`]s: each draw adds d new independent components; `rebase` re-expresses the
/// live values jointly in (#live · d) components (a factor of their joint covariance).
pub struct MatFormNoise {
    next: usize,
}

impl MatFormNoise {
    /// A source whose first fresh component comes after the `used` components of the initial state.
    pub fn after(used: usize) -> Self {
        Self { next: used }
    }
}

impl Noise<MatForm> for MatFormNoise {
    fn standard_normal(&mut self, like: &MatForm) -> MatForm {
        let d = like.dim();
        let mut a = DMatrix::zeros(d, self.next + d);
        a.view_mut((0, self.next), (d, d)).fill_with_identity();
        self.next += d;
        MatForm {
            c: DVector::zeros(d),
            a,
        }
    }

    fn rebase(&mut self, live: &mut [&mut MatForm]) {
        let m = live.len();
        let d = live[0].dim();
        let k = live.iter().map(|f| f.a.ncols()).max().unwrap_or(0);
        if k <= m * d {
            self.next = k;
            return;
        }
        let mut stacked = DMatrix::zeros(m * d, k);
        for (p, f) in live.iter().enumerate() {
            let n = f.a.ncols();
            stacked.view_mut((p * d, 0), (d, n)).copy_from(&f.a);
        }
        let g = &stacked * stacked.transpose();
        let f = psd_factor(&g).expect("a Gram matrix is PSD");
        for (p, form) in live.iter_mut().enumerate() {
            form.a = f.rows(p * d, d).into_owned();
        }
        self.next = m * d;
    }
}

/// The exact Gaussian denoiser with a full matrix: x̂₀ = μ + K (x − α μ), K = α Σ (α² Σ + σ² I)⁻¹, in Σ's
/// eigenbasis k_i = α λ_i/(α² λ_i + σ²) (at σ = 0: 1/α where λ_i > 0, 0 where λ_i = 0).
impl Denoiser<MatForm> for Gaussian {
    fn denoise(&self, x: &MatForm, alpha: f64, sigma: f64) -> MatForm {
        let k = self.eigvals.map(|l| match (sigma == 0.0, l > 0.0) {
            (true, true) => 1.0 / alpha,
            (true, false) => 0.0,
            _ => alpha * l / (alpha * alpha * l + sigma * sigma),
        });
        let km = self.matrix_with_spectrum(&k);
        let b = &self.mean - &km * &self.mean * alpha;
        x.affine(&km, &b)
    }
}

/// p(x|c)^w p(x)^{1−w}/Z for Gaussian p(·|c) = `cond`, p = `uncond`: N(P⁻¹(w P_c μ_c + (1−w) P_u μ_u), P⁻¹)
/// with P = w P_c + (1 − w) P_u.
///
/// # Errors
/// Dimensions differ, a singular covariance, or P not positive definite (the tilted density is then not
/// normalisable: it does not exist).
pub fn tilted_gaussian(cond: &Gaussian, uncond: &Gaussian, w: f64) -> Result<Gaussian> {
    ensure!(
        cond.dim() == uncond.dim(),
        "the conditional has dimension {} but the unconditional has {}",
        cond.dim(),
        uncond.dim()
    );
    let precision = |g: &Gaussian, name: &str| -> Result<DMatrix<f64>> {
        let min = g.eigvals.min();
        if min <= 0.0 {
            bail!(
                "the {name} covariance is singular (smallest eigenvalue {min:e}): its density, and so the tilted one, does not exist"
            );
        }
        Ok(g.matrix_with_spectrum(&g.eigvals.map(|l| 1.0 / l)))
    };
    let (pc, pu) = (
        precision(cond, "conditional")?,
        precision(uncond, "unconditional")?,
    );
    let p = &pc * w + &pu * (1.0 - w);
    let p = (&p + p.transpose()) * 0.5;
    let eig = nalgebra::SymmetricEigen::new(p.clone());
    let min = eig.eigenvalues.min();
    let scale = eig.eigenvalues.amax();
    if min <= 1e-12 * scale {
        bail!(
            "the tilted density p(x|c)^w p(x)^(1-w) is not normalisable at w = {w}: its precision w P_c + (1 - w) P_u is not positive definite (smallest eigenvalue {min:e})"
        );
    }
    let inv_eig = eig.eigenvalues.map(|l| 1.0 / l);
    let cov = &eig.eigenvectors * DMatrix::from_diagonal(&inv_eig) * eig.eigenvectors.transpose();
    let mean = &cov * (&pc * &cond.mean * w + &pu * &uncond.mean * (1.0 - w));
    Gaussian::from_covariance(mean, (&cov + cov.transpose()) * 0.5)
}

/// A Gaussian noised at (α, σ): N(α μ, α² Σ + σ² I).
pub fn noised(g: &Gaussian, alpha: f64, sigma: f64) -> Result<Gaussian> {
    // `marginal` returns the mean in the original basis and the spectrum in Σ's eigenbasis.
    let (mean, var) = g.marginal(alpha, sigma);
    Gaussian::from_eigen(mean, var, g.eigvecs.clone())
}

/// The exact output law (mean, covariance) of `sampler` run along `times` with the classifier-free guided
/// field of Gaussian `cond`/`uncond` at scale w (DPM convention), started from the Gaussian whose score is
/// the guided field at `times[0]` (the tilted product of the noised Gaussians, GD-3).
///
/// # Errors
/// Dimensions differ, or the guided field at `times[0]` is not the score of a Gaussian (its precision is
/// not positive definite).
pub fn guided_gaussian_law(
    sampler: Sampler,
    schedule: &dyn Schedule,
    times: &[f64],
    cond: &Gaussian,
    uncond: &Gaussian,
    w: f64,
) -> Result<(DVector<f64>, DMatrix<f64>)> {
    ensure!(times.len() >= 2, "a run needs at least two times");
    let (a, s) = (schedule.alpha(times[0]), schedule.sigma(times[0]));
    let start = tilted_gaussian(&noised(cond, a, s)?, &noised(uncond, a, s)?, w).map_err(|e| {
        anyhow::anyhow!("the guided field at the start time t = {}: {e:#}", times[0])
    })?;
    let x = MatForm::gaussian(start.mean.clone(), &start.covariance())?;
    let k = x.a.ncols();
    let model = Cfg::new(cond.clone(), uncond.clone(), w);
    let out = sampler.run(schedule, times, x, &model, &mut MatFormNoise::after(k));
    let cov = out.covariance();
    Ok((out.c, (&cov + cov.transpose()) * 0.5))
}

/// A 1-D density known up to its normalisation (e.g. the tilted p(x|c)^w p(x)^{1−w}), normalised by
/// Gauss–Legendre quadrature on [lo, hi] (which must hold all but a negligible tail).
pub struct Normalised1d<'f> {
    pub log_unnormalised: &'f dyn Fn(f64) -> f64,
    pub log_z: f64,
    pub lo: f64,
    pub hi: f64,
    pub mean: f64,
    pub var: f64,
}

/// Gauss–Legendre panels for the normalisation and the moments (8 points each; the integrands are
/// analytic and the box spans ~20 standard deviations, so 400 panels reach round-off).
const PANELS: usize = 400;

impl<'f> Normalised1d<'f> {
    pub fn new(log_unnormalised: &'f dyn Fn(f64) -> f64, lo: f64, hi: f64) -> Self {
        // Shift by the log-density at a coarse maximum to avoid overflow.
        let shift = (0..=400)
            .map(|i| log_unnormalised(lo + (hi - lo) * i as f64 / 400.0))
            .fold(f64::NEG_INFINITY, f64::max);
        let p = |y: f64| (log_unnormalised(y) - shift).exp();
        let z = gauss_legendre(&p, lo, hi, PANELS);
        let mean = gauss_legendre(&|y| y * p(y), lo, hi, PANELS) / z;
        let var = gauss_legendre(&|y| (y - mean).powi(2) * p(y), lo, hi, PANELS) / z;
        Self {
            log_unnormalised,
            log_z: z.ln() + shift,
            lo,
            hi,
            mean,
            var,
        }
    }
    pub fn log_pdf(&self, y: f64) -> f64 {
        (self.log_unnormalised)(y) - self.log_z
    }
}

/// Distances of an exact 1-D law to a [`Normalised1d`] density, each with its stated accuracy (the same
/// integral on every other grid point).
#[derive(Clone, Copy, Debug)]
pub struct Distances1d {
    pub w1: f64,
    pub w2: f64,
    pub kl: f64,
    pub error_w1: f64,
    pub error_w2: f64,
    pub error_kl: f64,
}

/// W1 = ∫|F_out − F_ref|, KL(out ‖ ref) = ∫ p_out ln(p_out/p_ref) (Simpson on `n` intervals of [lo, hi],
/// `n` a multiple of 4) and W2² = ∫₀¹ (Q_out − Q_ref)² du (midpoint rule on n quantile levels, the
/// quantiles by linear interpolation of the CDFs on the grid). The reference CDF is accumulated by
/// Gauss–Legendre cell by cell; the output's density and CDF come from the law ([`Law1d::density_on`],
/// [`Law1d::cdf_on`]).
///
/// # Errors
/// `n` not a positive multiple of 4, or a failing law evaluation.
pub fn distances_1d(law: &Law1d, reference: &Normalised1d, n: usize) -> Result<Distances1d> {
    ensure!(
        n >= 4 && n.is_multiple_of(4),
        "n must be a positive multiple of 4"
    );
    let (lo, hi) = (reference.lo, reference.hi);
    let h = (hi - lo) / n as f64;
    let ys: Vec<f64> = (0..=n).map(|j| lo + h * j as f64).collect();
    let p_out = law.density_on(&ys)?;
    let mut f_out = law.cdf_on(&ys)?;
    // A CDF is non-decreasing: remove interpolation wiggles before inverting.
    for j in 1..f_out.len() {
        f_out[j] = f_out[j].max(f_out[j - 1]);
    }
    let p_ref: Vec<f64> = ys.iter().map(|&y| reference.log_pdf(y).exp()).collect();
    let mut f_ref = vec![0.0; n + 1];
    for j in 0..n {
        let cell = gauss_legendre(&|y| reference.log_pdf(y).exp(), ys[j], ys[j + 1], 2);
        f_ref[j + 1] = f_ref[j] + cell;
    }
    let dw: Vec<f64> = f_out
        .iter()
        .zip(&f_ref)
        .map(|(a, b)| (a - b).abs())
        .collect();
    let kl_int: Vec<f64> = p_out
        .iter()
        .zip(&p_ref)
        .map(|(&po, &pr)| {
            if po > 0.0 {
                po * (po.ln() - pr.ln())
            } else {
                0.0
            }
        })
        .collect();
    let half = |v: &[f64]| -> Vec<f64> { v.iter().step_by(2).copied().collect() };
    let quantile = |f: &[f64], u: f64| -> f64 {
        let j = f.partition_point(|&a| a < u).clamp(1, f.len() - 1);
        let (f0, f1) = (f[j - 1], f[j]);
        let t = if f1 > f0 { (u - f0) / (f1 - f0) } else { 0.5 };
        ys[j - 1] + t.clamp(0.0, 1.0) * h
    };
    let w2_at = |m: usize| -> f64 {
        (0..m)
            .map(|k| {
                let u = (k as f64 + 0.5) / m as f64;
                (quantile(&f_out, u) - quantile(&f_ref, u)).powi(2)
            })
            .sum::<f64>()
            .sqrt()
            / (m as f64).sqrt()
    };
    let (w1, kl) = (simpson(&dw, h), simpson(&kl_int, h));
    let (w1h, klh) = (
        simpson(&half(&dw), 2.0 * h),
        simpson(&half(&kl_int), 2.0 * h),
    );
    let (w2, w2h) = (w2_at(n), w2_at(n / 2));
    Ok(Distances1d {
        w1,
        w2,
        kl,
        error_w1: (w1 - w1h).abs(),
        error_w2: (w2 - w2h).abs(),
        error_kl: (kl - klh).abs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algebra::{Form, FormNoise};
    use crate::schedule::{Schedule, VpLinear};

    #[test]
    fn matform_matches_the_diagonal_engine_on_a_gaussian() {
        let g = Gaussian::from_eigen(
            DVector::from_vec(vec![0.5, -1.0]),
            DVector::from_vec(vec![2.0, 0.25]),
            None,
        )
        .unwrap();
        let sch = VpLinear::default();
        let times = crate::sampler::uniform_logsnr(&sch, 1.0, 1e-3, 20).unwrap();
        for sampler in [
            Sampler::Ddim { eta: 0.0 },
            Sampler::Ddim { eta: 1.0 },
            Sampler::DpmSolverPp2M { noise_level: 1.0 },
        ] {
            let (a, s) = (sch.alpha(1.0), sch.sigma(1.0));
            let f = sampler.run(
                &sch,
                &times,
                Form::marginal(&g, a, s),
                &g,
                &mut FormNoise::after(1),
            );
            let n = noised(&g, a, s).unwrap();
            let x = MatForm::gaussian(n.mean.clone(), &n.covariance()).unwrap();
            let m = sampler.run(&sch, &times, x, &g, &mut MatFormNoise::after(2));
            let cov = m.covariance();
            for i in 0..2 {
                assert!((m.c[i] - f.c[i]).abs() < 1e-12, "{sampler:?}");
                assert!((cov[(i, i)] - f.variance()[i]).abs() < 1e-12, "{sampler:?}");
            }
            assert!(cov[(0, 1)].abs() < 1e-12);
        }
    }

    #[test]
    fn tilted_gaussian_closed_form_and_refusal() {
        // CLAIMS GD-3: w = 3, N(1, 1) and N(0, 2): tilted N(1.5, 0.5).
        let g = |m: f64, v: f64| {
            Gaussian::from_eigen(DVector::from_vec(vec![m]), DVector::from_vec(vec![v]), None)
                .unwrap()
        };
        let t = tilted_gaussian(&g(1.0, 1.0), &g(0.0, 2.0), 3.0).unwrap();
        assert!((t.mean[0] - 1.5).abs() < 1e-14 && (t.eigvals[0] - 0.5).abs() < 1e-14);
        // w = 3 with a broader conditional: 3/2 − 2/1 < 0, not normalisable.
        assert!(tilted_gaussian(&g(1.0, 2.0), &g(0.0, 1.0), 3.0)
            .unwrap_err()
            .to_string()
            .contains("not normalisable"));
    }

    #[test]
    fn class_posterior_gradient_1d_matches_nd_and_finite_differences() {
        let mix = Mixture::isotropic(
            vec![0.3, 0.7],
            vec![DVector::from_vec(vec![-2.0]), DVector::from_vec(vec![1.5])],
            &[0.5, 0.2],
        )
        .unwrap();
        let (a, s) = (0.8, 0.6);
        for x in [-3.0, -0.4, 0.7, 2.5] {
            let (g, dg) =
                log_class_posterior_grad_1d(&[0.3, 0.7], &[-2.0, 1.5], &[0.5, 0.2], 0, x, a, s);
            let gn = log_class_posterior_grad(&mix, 0, &DVector::from_vec(vec![x]), a, s)[0];
            assert!((g - gn).abs() < 1e-13);
            let h = 1e-5;
            let fd = (log_class_posterior_grad_1d(
                &[0.3, 0.7],
                &[-2.0, 1.5],
                &[0.5, 0.2],
                0,
                x + h,
                a,
                s,
            )
            .0 - log_class_posterior_grad_1d(
                &[0.3, 0.7],
                &[-2.0, 1.5],
                &[0.5, 0.2],
                0,
                x - h,
                a,
                s,
            )
            .0) / (2.0 * h);
            assert!((dg - fd).abs() < 1e-7);
        }
    }
}
