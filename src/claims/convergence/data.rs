//! Published bounds of the convergence family, with the constants the sources leave implicit set to 1
//! (the "≲" of the theorems), so that each bound can be evaluated and its slack measured.

/// Chen et al. (2023, Thm 2; TZ §4) for the OU forward process, step h, horizon T, score L-Lipschitz, data
/// second moment m₂² = E‖x₀‖², score error ε: TV ≲ √KL(p₀‖γ) e^{−T} + (L√(dh) + L m₂ h)√T + ε√T.
/// Returns the discretisation term (L√(dh) + L m₂ h)√T with the hidden constant 1.
pub fn chen_tv_discretisation(l: f64, d: f64, h: f64, m2: f64, t: f64) -> f64 {
    (l * (d * h).sqrt() + l * m2 * h) * t.sqrt()
}

/// Benton et al. (2024, Thm 1): KL(q_δ ‖ p̂) ≲ ε² + κ² d N + κ d T + (d + m₂²) e^{−2T} with N steps of the
/// exponential-then-linear grid of step parameter κ. Returns the discretisation terms κ²dN + κdT (constant 1).
pub fn benton_kl_discretisation(kappa: f64, d: f64, steps: f64, t: f64) -> f64 {
    kappa * kappa * d * steps + kappa * d * t
}

/// Li et al. (2024; TZ §5): published TV upper-bound exponents in the number of steps N (up to log and d
/// factors): ODE-type samplers O(1/N), SDE-type (DDPM) O(1/√N).
pub const LI_ODE_EXPONENT: f64 = -1.0;
pub const LI_SDE_EXPONENT: f64 = -0.5;
