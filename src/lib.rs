//! diffusion-claims: a research-verification harness for the theory of diffusion models.
//!
//! Each claim of the tutorials (catalogued in CLAIMS.md: `DD-3`, `SM-2`, `PG-TABLE`, …) is checked
//! numerically by an independent route and leaves evidence (verdict, tidy CSV, SVG); `cargo run --release`
//! runs them all. As a library, the crate gives any sampler written against three small interfaces an
//! **exact output law**:
//!
//! - [`algebra::Algebra`] (linear combinations Σ cᵢxᵢ), [`algebra::Denoiser`] (x̂₀(x; α, σ)) and
//!   [`algebra::Noise`] (fresh N(0, I) draws) are all a sampler step needs;
//! - run on [`algebra::Form`]s (affine forms in independent standard normals) on Gaussian data, the same
//!   code returns the exact Gaussian law of its output ([`sampler::exact_law`]), hence exact W2/KL
//!   ([`metrics`]);
//! - run on forward-mode duals on 1-D data (mixtures, uniform, Laplace, beta), it gives the exact output
//!   density by quadrature ([`law1d::output_law`]); in d = 2, 3, the KL of deterministic samplers
//!   ([`lawnd`]);
//! - run on vectors with a seeded PCG stream, it is ordinary Monte Carlo on any target.
//!
//! Schedules follow CLAIMS §1: x_t = α_t x₀ + σ_t ε, λ_t = log(α_t/σ_t) ([`schedule::Schedule`]).
//!
//! ```
//! use diffusion_claims::algebra::{Form, FormNoise};
//! use diffusion_claims::metrics::w2_commuting;
//! use diffusion_claims::sampler::{uniform_logsnr, Sampler};
//! use diffusion_claims::schedule::{Schedule, VpLinear};
//! use diffusion_claims::target::Gaussian;
//! use nalgebra::DVector;
//!
//! // Data N(μ, diag(λ)); DPM-Solver-2 vs DDIM at 10 steps, exact W2 to the data.
//! let (mu, lam) = (vec![1.0, -2.0], vec![0.1, 3.0]);
//! let data = Gaussian::from_eigen(DVector::from_vec(mu.clone()), DVector::from_vec(lam.clone()), None)?;
//! let sch = VpLinear::default();
//! let times = uniform_logsnr(&sch, 1.0, 1e-3, 10)?;
//! let w2 = |sampler: Sampler| {
//!     let start = Form::marginal(&data, sch.alpha(1.0), sch.sigma(1.0));
//!     let out = sampler.run(&sch, &times, start, &data, &mut FormNoise::after(1));
//!     w2_commuting(&out.c, &out.variance(), &mu, &lam)
//! };
//! assert!(w2(Sampler::DpmSolver2) < w2(Sampler::Ddim { eta: 0.0 }));
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Runnable examples: `examples/own_sampler.rs` (a sampler written outside the crate),
//! `examples/own_claim.rs` (a claim of your own, evidence on disk), `examples/schedule_proptest.rs`
//! (your schedule against the forward-process identities).
//!
//! Layers, bottom to top (an arrow only points down): [`schedule`] → [`target`] → [`algebra`] →
//! [`sampler`] → [`metrics`] → [`claims`] → [`report`] → [`cli`]. See `docs/DESIGN.md`.

pub mod algebra;
pub mod claims;
pub mod cli;
pub mod conventions;
pub mod evidence;
pub mod finetune;
pub mod fixtures;
pub mod flowmap;
pub mod guidance;
pub mod lanes;
pub mod law1d;
pub mod lawnd;
pub mod likelihood;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod ode;
pub mod pg;
pub mod plot_style;
pub mod quadrature;
pub mod report;
pub mod sampler;
pub mod schedule;
pub mod scheduler_report;
pub mod spectrum;
pub mod target;
pub mod target_spec;
pub mod tol;
