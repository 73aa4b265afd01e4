//! Nonlinear score models with analytic input Jacobians (for ISM/SSM divergences) and analytic parameter
//! Jacobians (for loss gradients): a random-feature model (linear in its parameters) and a one-hidden-layer
//! tanh MLP (SM-1…SM-4, SM-7). Parameters θ are random; nothing here is trained.

use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// A time-dependent score model s_θ(x, t): R^d → R^d.
pub trait ScoreModel: Send + Sync {
    fn dim(&self) -> usize;
    fn n_params(&self) -> usize;
    /// θ, flattened.
    fn params(&self) -> DVector<f64>;
    /// Replace θ (same length as [`ScoreModel::params`]).
    fn set_params(&mut self, theta: &DVector<f64>);
    /// s_θ(x, t) and its input Jacobian ∂s_θ/∂x (analytic).
    fn eval(&self, x: &DVector<f64>, t: f64) -> (DVector<f64>, DMatrix<f64>);
    /// The parameter Jacobian ∂s_θ(x, t)/∂θ, d × n_params (analytic).
    fn param_jacobian(&self, x: &DVector<f64>, t: f64) -> DMatrix<f64>;
    /// s_θ(x, t).
    fn score(&self, x: &DVector<f64>, t: f64) -> DVector<f64> {
        self.eval(x, t).0
    }
}

fn normal_matrix<R: Rng + ?Sized>(r: usize, c: usize, scale: f64, rng: &mut R) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |_, _| {
        scale * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng)
    })
}

/// Random Fourier features s_θ(x, t) = W φ(x, t), φ_j = cos(ω_jᵀx + κ_j t + b_j); θ = W (d × K,
/// column-major). Linear in θ: the least-squares minimisers of SM-2 are exact.
#[derive(Clone, Debug)]
pub struct RandomFeatures {
    /// K × d frequencies.
    pub omega: DMatrix<f64>,
    /// K time frequencies.
    pub kappa: DVector<f64>,
    /// K phases.
    pub phase: DVector<f64>,
    /// d × K output weights (the parameters).
    pub weights: DMatrix<f64>,
}

impl RandomFeatures {
    /// K features with frequencies N(0, freq²), time frequencies N(0, 1), phases U[0, 2π), weights
    /// N(0, weight²/K).
    pub fn random<R: Rng + ?Sized>(
        d: usize,
        k: usize,
        freq: f64,
        weight: f64,
        rng: &mut R,
    ) -> Self {
        let omega = normal_matrix(k, d, freq, rng);
        let kappa = DVector::from_fn(k, |_, _| StandardNormal.sample(&mut *rng));
        let phase = DVector::from_fn(k, |_, _| {
            2.0 * std::f64::consts::PI * rand::RngExt::random::<f64>(&mut *rng)
        });
        let weights = normal_matrix(d, k, weight / (k as f64).sqrt(), rng);
        Self {
            omega,
            kappa,
            phase,
            weights,
        }
    }
    /// The phases at time t: b_j + κ_j t.
    pub fn phases_at(&self, t: f64) -> DVector<f64> {
        &self.phase + &self.kappa * t
    }
    /// φ(x, t).
    pub fn features(&self, x: &DVector<f64>, t: f64) -> DVector<f64> {
        (&self.omega * x + self.phases_at(t)).map(f64::cos)
    }
}

impl ScoreModel for RandomFeatures {
    fn dim(&self) -> usize {
        self.weights.nrows()
    }
    fn n_params(&self) -> usize {
        self.weights.len()
    }
    fn params(&self) -> DVector<f64> {
        DVector::from_column_slice(self.weights.as_slice())
    }
    fn set_params(&mut self, theta: &DVector<f64>) {
        let (d, k) = self.weights.shape();
        self.weights = DMatrix::from_column_slice(d, k, theta.as_slice());
    }
    fn eval(&self, x: &DVector<f64>, t: f64) -> (DVector<f64>, DMatrix<f64>) {
        let arg = &self.omega * x + self.phases_at(t);
        let phi = arg.map(f64::cos);
        let dphi = arg.map(|a| -a.sin()); // ∂φ_j/∂x = −sin(·) ω_j
        let jac = &self.weights * DMatrix::from_diagonal(&dphi) * &self.omega;
        (&self.weights * phi, jac)
    }
    fn param_jacobian(&self, x: &DVector<f64>, t: f64) -> DMatrix<f64> {
        let (d, k) = self.weights.shape();
        let phi = self.features(x, t);
        let mut j = DMatrix::zeros(d, d * k);
        for c in 0..k {
            for i in 0..d {
                j[(i, i + d * c)] = phi[c];
            }
        }
        j
    }
}

/// One-hidden-layer tanh network s_θ(x, t) = W₂ tanh(W₁ [x; t] + b₁) + b₂; θ = (W₁, b₁, W₂, b₂)
/// flattened column-major in that order.
#[derive(Clone, Debug)]
pub struct Mlp {
    /// H × (d + 1).
    pub w1: DMatrix<f64>,
    pub b1: DVector<f64>,
    /// d × H.
    pub w2: DMatrix<f64>,
    pub b2: DVector<f64>,
}

impl Mlp {
    /// Random weights: W₁ ~ N(0, scale²/(d+1)), b₁ ~ N(0, 1), W₂ ~ N(0, scale²/H), b₂ ~ N(0, 0.25).
    pub fn random<R: Rng + ?Sized>(d: usize, hidden: usize, scale: f64, rng: &mut R) -> Self {
        Self {
            w1: normal_matrix(hidden, d + 1, scale / ((d + 1) as f64).sqrt(), rng),
            b1: normal_matrix(hidden, 1, 1.0, rng).column(0).into_owned(),
            w2: normal_matrix(d, hidden, scale / (hidden as f64).sqrt(), rng),
            b2: normal_matrix(d, 1, 0.5, rng).column(0).into_owned(),
        }
    }
    fn input(x: &DVector<f64>, t: f64) -> DVector<f64> {
        let d = x.len();
        DVector::from_fn(d + 1, |i, _| if i < d { x[i] } else { t })
    }
    fn hidden(&self, x: &DVector<f64>, t: f64) -> (DVector<f64>, DVector<f64>) {
        let u = Self::input(x, t);
        let h = (&self.w1 * &u + &self.b1).map(f64::tanh);
        (u, h)
    }
}

impl ScoreModel for Mlp {
    fn dim(&self) -> usize {
        self.w2.nrows()
    }
    fn n_params(&self) -> usize {
        self.w1.len() + self.b1.len() + self.w2.len() + self.b2.len()
    }
    fn params(&self) -> DVector<f64> {
        let mut v = Vec::with_capacity(self.n_params());
        v.extend_from_slice(self.w1.as_slice());
        v.extend_from_slice(self.b1.as_slice());
        v.extend_from_slice(self.w2.as_slice());
        v.extend_from_slice(self.b2.as_slice());
        DVector::from_vec(v)
    }
    fn set_params(&mut self, theta: &DVector<f64>) {
        let (hh, di) = self.w1.shape();
        let d = self.w2.nrows();
        let s = theta.as_slice();
        let (a, rest) = s.split_at(hh * di);
        let (b, rest) = rest.split_at(hh);
        let (c, e) = rest.split_at(d * hh);
        self.w1 = DMatrix::from_column_slice(hh, di, a);
        self.b1 = DVector::from_column_slice(b);
        self.w2 = DMatrix::from_column_slice(d, hh, c);
        self.b2 = DVector::from_column_slice(e);
    }
    fn eval(&self, x: &DVector<f64>, t: f64) -> (DVector<f64>, DMatrix<f64>) {
        let d = x.len();
        let (_, h) = self.hidden(x, t);
        let gate = h.map(|v| 1.0 - v * v);
        let jac = &self.w2 * DMatrix::from_diagonal(&gate) * self.w1.columns(0, d);
        (&self.w2 * h + &self.b2, jac)
    }
    fn param_jacobian(&self, x: &DVector<f64>, t: f64) -> DMatrix<f64> {
        let d = self.w2.nrows();
        let (hh, di) = self.w1.shape();
        let (u, h) = self.hidden(x, t);
        let mut j = DMatrix::zeros(d, self.n_params());
        let off_b1 = hh * di;
        let off_w2 = off_b1 + hh;
        let off_b2 = off_w2 + d * hh;
        for q in 0..hh {
            let g = 1.0 - h[q] * h[q];
            for i in 0..d {
                let back = self.w2[(i, q)] * g; // ∂s_i/∂z_q
                for k in 0..di {
                    j[(i, q + hh * k)] = back * u[k];
                }
                j[(i, off_b1 + q)] = back;
                j[(i, off_w2 + i + d * q)] = h[q];
            }
        }
        for i in 0..d {
            j[(i, off_b2 + i)] = 1.0;
        }
        j
    }
}
