//! Named tolerances, in one place (statrs' `prec.rs` idea). Each says where it comes from.

/// Algebraic identities evaluated in f64 with a few dozen operations: a few hundred ulps (CLAIMS §2.4: 1e-12).
pub const IDENTITY: f64 = 1e-12;
/// Identities through a matrix factorisation (Cholesky/eigen) of a well-conditioned small matrix.
pub const FACTORED: f64 = 1e-10;
/// Second-order central differences with step δ = 1e-5 on O(1) smooth functions: O(δ²) ≈ 1e-10 truncation
/// plus ε/δ ≈ 1e-11 round-off; relative.
pub const CENTRAL_DIFF: f64 = 1e-7;
/// Composite Gauss–Legendre quadrature of smooth integrands (CLAIMS §2.4: 1e-9).
pub const QUADRATURE: f64 = 1e-9;
/// Monte Carlo: pass if |difference| < K_SE standard errors (CLAIMS §2.4).
pub const K_SE: f64 = 4.0;
/// Confidence level of fitted slopes and means.
pub const LEVEL: f64 = 0.95;
/// Fitted convergence orders: |slope − order| ≤ ORDER over a geometric sweep of step counts. Pre-asymptotic
/// curvature of the error curves of CLAIMS §2.4 moves fitted slopes by up to ~0.2.
pub const ORDER: f64 = 0.25;
/// Two quantities the mathematics predicts to differ must differ by more than this: far above the round-off
/// of O(1) quantities (1e-13) and far below the differences the claims measure (≥ 1e-4).
pub const DISCRIMINATES: f64 = 1e-6;
/// RK4 on the scalar moment ODEs (thousands of steps in log t): truncation O(h⁴) ≈ 1e-12, with a thousandfold
/// margin for the stiff end near t → 0.
pub const MOMENT_ODE: f64 = 1e-9;
