//! Property-based test of a schedule of your own against the forward-process identities (CLAIMS §1 and
//! FW-1), with proptest.
//!
//! The user's schedule: a VP process with quadratic β(t) = β₀ + β₁t², so that
//!   α_t = exp(−½(β₀t + β₁t³/3)),   σ_t = √(1 − α_t²).
//! What must hold for every t (each checked against an independent route, never the crate's own formula):
//!   (1) VP: α² + σ² = 1;  (2) f = d log α/dt = −β/2 (closed form) and α̇ = central difference of α;
//!   (3) g² = dσ²/dt − 2fσ² equals β (VP);  (4) σ_t² = α_t² ∫₀ᵗ g²/α² (Gauss–Legendre quadrature);
//!   (5) t(λ) inverts λ(t) = log(α/σ).
//!
//! `cargo run --release --example schedule_proptest`

use diffusion_claims::quadrature::gauss_legendre;
use diffusion_claims::schedule::Schedule;
use diffusion_claims::tol;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// The user's schedule.
struct QuadraticBetaVp {
    beta0: f64,
    beta1: f64,
}

impl QuadraticBetaVp {
    fn beta(&self, t: f64) -> f64 {
        self.beta0 + self.beta1 * t * t
    }
}

impl Schedule for QuadraticBetaVp {
    fn name(&self) -> &'static str {
        "quadratic-beta-vp"
    }
    fn alpha(&self, t: f64) -> f64 {
        (-0.5 * (self.beta0 * t + self.beta1 * t.powi(3) / 3.0)).exp()
    }
    fn sigma(&self, t: f64) -> f64 {
        (-(-(self.beta0 * t + self.beta1 * t.powi(3) / 3.0)).exp_m1()).sqrt()
    }
    fn dalpha(&self, t: f64) -> f64 {
        -0.5 * self.beta(t) * self.alpha(t)
    }
    fn dsigma(&self, t: f64) -> f64 {
        let a = self.alpha(t);
        0.5 * self.beta(t) * a * a / self.sigma(t)
    }
    fn t_range(&self) -> (f64, f64) {
        (1e-3, 1.0)
    }
}

fn check(ok: bool, what: String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(what))
    }
}

fn main() {
    let sch = QuadraticBetaVp {
        beta0: 0.1,
        beta1: 20.0,
    };
    // A deterministic runner: the same cases on every run.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let result = runner.run(&(0.01f64..1.0), |t| {
        let (a, s) = (sch.alpha(t), sch.sigma(t));
        check(
            (a * a + s * s - 1.0).abs() <= tol::IDENTITY,
            format!("(1) α² + σ² = {} at t = {t}", a * a + s * s),
        )?;
        check(
            (sch.f(t) + 0.5 * sch.beta(t)).abs() <= tol::IDENTITY * sch.beta(t),
            format!(
                "(2) f = {} but −β/2 = {} at t = {t}",
                sch.f(t),
                -0.5 * sch.beta(t)
            ),
        )?;
        let d = 1e-5;
        let fd = (sch.alpha(t + d) - sch.alpha(t - d)) / (2.0 * d);
        check(
            (sch.dalpha(t) - fd).abs() <= tol::CENTRAL_DIFF * sch.dalpha(t).abs().max(1.0),
            format!(
                "(2) α̇ = {} but the central difference is {fd} at t = {t}",
                sch.dalpha(t)
            ),
        )?;
        check(
            (sch.g2(t) - sch.beta(t)).abs() <= 1e-10 * sch.beta(t),
            format!("(3) g² = {} but β = {} at t = {t}", sch.g2(t), sch.beta(t)),
        )?;
        let integral = gauss_legendre(&|u| sch.g2(u) / sch.alpha(u).powi(2), 0.0, t, 16);
        check(
            (a * a * integral - s * s).abs() <= tol::QUADRATURE * (s * s).max(1e-3),
            format!(
                "(4) α²∫g²/α² = {} but σ² = {} at t = {t}",
                a * a * integral,
                s * s
            ),
        )?;
        let back = sch.t_of_logsnr(sch.logsnr(t));
        check(
            (back - t).abs() <= 1e-12,
            format!("(5) t(λ(t)) = {back} at t = {t}"),
        )?;
        Ok(())
    });
    match result {
        Ok(()) => println!("quadratic-beta-vp: 256 random times, identities (1)–(5) hold"),
        Err(e) => panic!("the schedule breaks an identity: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_runs() {
        super::main();
    }
}
