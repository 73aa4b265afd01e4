//! The practice family's reference numbers: the committed float64 outputs of the `diffusers` schedulers
//! (tests/data/diffusers, made by scripts/diffusers_reference.py), where they are, how to read them, and
//! which crate configuration a row of configs.csv is.

use crate::conventions::{Config, Scheduler, Spacing};
use crate::sampler::DdpmVariance;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The committed reference of the library (made by scripts/diffusers_reference.py).
pub(super) fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/diffusers")
}

pub(super) fn read_rows(path: &std::path::Path) -> Result<Vec<BTreeMap<String, String>>> {
    let mut r = csv::Reader::from_path(path)?;
    let headers = r.headers()?.clone();
    Ok(r.records()
        .map(|rec| {
            rec.map(|rec| {
                headers
                    .iter()
                    .zip(rec.iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
        })
        .collect::<std::result::Result<_, _>>()?)
}

/// The configuration of a configs.csv row (scripts/diffusers_reference.py), where the crate implements
/// that scheduler with the library's conventions; `None` otherwise.
pub fn config_of(row: &BTreeMap<String, String>) -> Option<Config> {
    let spacing = match row.get("timestep_spacing")?.as_str() {
        "leading" => Spacing::Leading,
        "trailing" => Spacing::Trailing,
        "linspace" | "" => Spacing::Linspace,
        _ => return None,
    };
    let final_sigma_min = row
        .get("final_sigmas_type")
        .is_some_and(|v| v == "sigma_min");
    let scheduler = match row.get("scheduler")?.as_str() {
        "DDPMScheduler" => Scheduler::Ddpm {
            variance: if row["variance_type"] == "fixed_large" {
                DdpmVariance::Large
            } else {
                DdpmVariance::Small
            },
        },
        "DDIMScheduler" => Scheduler::Ddim {
            eta: row["eta"].parse().ok()?,
            set_alpha_to_one: row["set_alpha_to_one"] == "true",
            consistent_prev: false,
        },
        "EulerDiscreteScheduler" => Scheduler::Euler { final_sigma_min },
        "EulerAncestralDiscreteScheduler" => Scheduler::EulerAncestral,
        "HeunDiscreteScheduler" => Scheduler::Heun,
        "DPMSolverSinglestepScheduler"
            if row
                .get("algorithm_type")
                .is_none_or(|a| a == "dpmsolver++" || a.is_empty()) =>
        {
            Scheduler::DpmSolverSinglestep {
                order: row["solver_order"].parse().ok()?,
                final_sigma_min,
            }
        }
        "UniPCMultistepScheduler"
            if row
                .get("solver_type")
                .is_none_or(|v| v == "bh2" || v.is_empty()) =>
        {
            Scheduler::UniPc {
                order: row["solver_order"].parse().ok()?,
                final_sigma_min,
            }
        }
        "DEISMultistepScheduler" => Scheduler::Deis {
            order: row["solver_order"].parse().ok()?,
            final_sigma_min: true,
        },
        "DPMSolverMultistepScheduler" => {
            let order = row["solver_order"].parse().ok()?;
            let karras = row.get("use_karras_sigmas").is_some_and(|v| v == "true");
            match row.get("algorithm_type")?.as_str() {
                "dpmsolver++" => Scheduler::DpmSolverPp {
                    order,
                    noise_level: 0.0,
                    final_sigma_min,
                    karras,
                    corrected: false,
                },
                "sde-dpmsolver++" => Scheduler::DpmSolverPp {
                    order,
                    noise_level: 1.0,
                    final_sigma_min,
                    karras,
                    corrected: false,
                },
                "dpmsolver" => Scheduler::DpmSolver {
                    order,
                    final_sigma_min,
                    karras,
                    corrected: false,
                },
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Config {
        beta: crate::conventions::beta_by_name(&row["beta_schedule"]).ok()?,
        scheduler,
        steps: row["steps"].parse().ok()?,
        spacing,
        steps_offset: row
            .get("steps_offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    })
}
