//! diffusion-claims: a research-verification harness for the theory of diffusion models.
//!
//! Layers, bottom to top (an arrow only points down): [`schedule`] → [`target`] → [`algebra`] →
//! [`sampler`] → [`metrics`] → [`claims`] → [`report`] → [`cli`]. See `docs/DESIGN.md`.

pub mod algebra;
pub mod claims;
pub mod cli;
pub mod conventions;
pub mod evidence;
pub mod fixtures;
pub mod flowmap;
pub mod law1d;
pub mod lawnd;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod ode;
pub mod pg;
pub mod quadrature;
pub mod report;
pub mod sampler;
pub mod schedule;
pub mod spectrum;
pub mod target;
pub mod target_spec;
pub mod tol;
