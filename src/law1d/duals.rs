//! A third kind of number for the samplers (issue 9, ENGINE-2): a batch of forward-mode duals
//! (value, tangent). `lin` acts on both alike, the denoiser maps (v, d) ↦ (x̂₀(v), x̂₀′(v) d), so running
//! any deterministic sampler from (x_T, 1) returns (Φ(x_T), Φ′(x_T)) from the sampler's own code.
//! With tangent 0 and a noise whose draw is (0, 1), one step of a one-step stochastic sampler returns its
//! Gaussian kernel's mean m(x) in `v` and its noise coefficient c(x) in `d`.

use super::Density1d;
use crate::algebra::{Algebra, Denoiser, Noise};

/// Values `v` and tangents `d` at a batch of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Duals {
    pub v: Vec<f64>,
    pub d: Vec<f64>,
}

impl Duals {
    /// The points `v` with every tangent equal to `d`.
    pub fn seeded(v: Vec<f64>, d: f64) -> Self {
        let n = v.len();
        Self { v, d: vec![d; n] }
    }
}

impl Algebra for Duals {
    fn lin(terms: &[(f64, &Self)]) -> Self {
        let (c0, x0) = terms[0];
        let mut v: Vec<f64> = x0.v.iter().map(|a| c0 * a).collect();
        let mut d: Vec<f64> = x0.d.iter().map(|a| c0 * a).collect();
        for (c, x) in &terms[1..] {
            for (o, a) in v.iter_mut().zip(&x.v) {
                *o += c * a;
            }
            for (o, a) in d.iter_mut().zip(&x.d) {
                *o += c * a;
            }
        }
        Self { v, d }
    }
}

impl Denoiser<Duals> for Density1d {
    fn denoise(&self, x: &Duals, alpha: f64, sigma: f64) -> Duals {
        let (v, d) = self.denoise_batch(&x.v, &x.d, alpha, sigma);
        Duals { v, d }
    }
}

/// Noise whose every draw is the constant dual (0, `tangent`), counting draws.
pub struct TangentNoise {
    pub tangent: f64,
    pub draws: usize,
}

impl TangentNoise {
    pub fn new(tangent: f64) -> Self {
        Self { tangent, draws: 0 }
    }
}

impl Noise<Duals> for TangentNoise {
    fn standard_normal(&mut self, like: &Duals) -> Duals {
        self.draws += 1;
        Duals {
            v: vec![0.0; like.v.len()],
            d: vec![self.tangent; like.v.len()],
        }
    }
}
