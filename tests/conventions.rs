//! The practitioner conventions against the committed `diffusers` reference numbers
//! (tests/data/diffusers, made by scripts/diffusers_reference.py in float64): the exact output law of
//! every configuration we implement agrees to 1e-10 relative (absolute floor 1e-15 on the unit scale of the
//! data, for coordinate 0 whose variance is round-off or diffusers' 1e-20 variance clamp).

use diffusion_claims::conventions::{beta_by_name, Config, Scheduler, Spacing};
use diffusion_claims::sampler::DdpmVariance;
use diffusion_claims::target::Gaussian;
use nalgebra::DVector;
use std::collections::BTreeMap;
use std::path::Path;

type Row = BTreeMap<String, String>;

fn read(path: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The configuration a row of configs.csv describes, if the crate implements that scheduler.
pub fn config_of(row: &Row) -> Option<Config> {
    let spacing = match row["timestep_spacing"].as_str() {
        "leading" => Spacing::Leading,
        "trailing" => Spacing::Trailing,
        "linspace" => Spacing::Linspace,
        _ => return None,
    };
    let scheduler = match row["scheduler"].as_str() {
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
        "EulerDiscreteScheduler" => Scheduler::Euler {
            final_sigma_min: row["final_sigmas_type"] == "sigma_min",
        },
        "EulerAncestralDiscreteScheduler" => Scheduler::EulerAncestral,
        _ => return None,
    };
    Some(Config {
        beta: beta_by_name(&row["beta_schedule"]).ok()?,
        scheduler,
        steps: row["steps"].parse().ok()?,
        spacing,
        steps_offset: row["steps_offset"].parse().unwrap_or(0),
    })
}

fn data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diffusers")
}

#[test]
fn exact_laws_match_diffusers_float64() {
    let target = Gaussian::from_eigen(
        DVector::from_vec(vec![0.5, -1.0, 0.0, 2.0]),
        DVector::from_vec(vec![0.0, 0.01, 0.25, 4.0]),
        None,
    )
    .unwrap();
    let laws = read(&data().join("laws.csv"));
    let mut checked = Vec::new();
    let mut skipped = Vec::new();
    let mut problems = Vec::new();
    for row in read(&data().join("configs.csv")) {
        let id = row["config"].clone();
        let Some(config) = config_of(&row) else {
            skipped.push(id);
            continue;
        };
        let plan = config.plan().unwrap();
        let init: f64 = row["init_noise_sigma"].parse().unwrap();
        assert!(
            (plan.init_noise_sigma - init).abs() <= 1e-12 * init,
            "{id}: init_noise_sigma {} vs {init}",
            plan.init_noise_sigma
        );
        let (mean, var) = plan.exact_law(&target);
        for l in laws.iter().filter(|l| l["config"] == id) {
            let i: usize = l["coord"].parse().unwrap();
            let (m, v): (f64, f64) = (l["mean"].parse().unwrap(), l["variance"].parse().unwrap());
            for (what, a, b) in [("mean", mean[i], m), ("variance", var[i], v)] {
                if (a - b).abs() > 1e-10 * a.abs().max(b.abs()) + 1e-15 {
                    problems.push(format!(
                        "{id} coord {i} {what}: ours {a:e} vs diffusers {b:e}"
                    ));
                }
            }
        }
        checked.push(id);
    }
    println!(
        "checked {} configurations; not implemented here: {}",
        checked.len(),
        skipped.join(", ")
    );
    assert!(
        checked.len() >= 20,
        "too few configurations checked: {checked:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn timesteps_match_diffusers() {
    let grids = read(&data().join("grids.csv"));
    for row in read(&data().join("configs.csv")) {
        let id = row["config"].clone();
        let Some(config) = config_of(&row) else {
            continue;
        };
        let plan = config.plan().unwrap();
        let theirs: Vec<f64> = grids
            .iter()
            .filter(|g| g["config"] == id)
            .map(|g| g["timestep"].parse().unwrap())
            .collect();
        assert_eq!(plan.model_timesteps.len(), theirs.len(), "{id}");
        for (a, b) in plan.model_timesteps.iter().zip(&theirs) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{id}: timestep {a} vs {b}"
            );
        }
    }
}
