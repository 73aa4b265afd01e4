//! Benchmark of the exact-law engine (issue: foundation, item 10): the exact output law of DDIM(η=0)
//! and of Euler–Maruyama (reverse SDE) on a 3072-dimensional Gaussian, 1000 steps, one thread.
//! Run with `cargo bench --bench engine`. Prints min and median wall time over repeated runs, for the fused
//! engine on every instruction set this processor has and for the vector (Form) route.

use diffusion_claims::algebra::{Form, FormNoise};
use diffusion_claims::lanes::{run_exact_with, Simd};
use diffusion_claims::sampler::{uniform_t, Sampler};
use diffusion_claims::schedule::{Schedule, VpLinear};
use diffusion_claims::target::Gaussian;
use nalgebra::DVector;
use std::time::Instant;

/// The floor a step cannot go below: per coordinate, the exact Gaussian denoiser's gain
/// k = αλ/(α²λ + σ²) (one IEEE division), and for stochastic samplers the rebase's √ (one square root).
/// Times 1000 passes of each over the 3072 coordinates (vectorised by the compiler as the engine is).
fn floors(eigvals: &[f64]) {
    let (mut div, mut sqrt) = (f64::INFINITY, f64::INFINITY);
    let mut out = vec![0.0; eigvals.len()];
    for _ in 0..30 {
        let t0 = Instant::now();
        for step in 0..1000 {
            let (a, s) = (1.0 - step as f64 * 1e-4, 0.5 + step as f64 * 1e-4);
            for (o, l) in out.iter_mut().zip(eigvals) {
                *o = a * l / (a * a * l + s * s);
            }
            std::hint::black_box(&out);
        }
        div = div.min(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        for step in 0..1000 {
            let a = 1.0 + step as f64 * 1e-4;
            for (o, l) in out.iter_mut().zip(eigvals) {
                *o = (a + l).sqrt();
            }
            std::hint::black_box(&out);
        }
        sqrt = sqrt.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "floor: one division per coordinate-step: {:.2} ms; one square root: {:.2} ms (d={}, 1000 steps)",
        div * 1e3,
        sqrt * 1e3,
        eigvals.len()
    );
}

fn main() {
    let d = 3072;
    // A power-law spectrum λ_i = i^{-1.5} (CIFAR-like decay), mean 0.1.
    let eigvals = DVector::from_fn(d, |i, _| ((i + 1) as f64).powf(-1.5));
    let target = Gaussian::from_eigen(DVector::from_element(d, 0.1), eigvals, None).unwrap();
    floors(target.eigvals.as_slice());
    let sch = VpLinear::default();
    let times = uniform_t(1.0, 1e-3, 1000).unwrap();
    let repeats = 30;
    for (sampler, route) in [
        Sampler::Ddim { eta: 0.0 },
        Sampler::EulerMaruyama { noise_level: 1.0 },
        Sampler::Ddpm(diffusion_claims::sampler::DdpmVariance::Small),
    ]
    .into_iter()
    .flat_map(|s| {
        Simd::available()
            .into_iter()
            .map(Some)
            .chain([None])
            .map(move |r| (s, r))
    }) {
        let mut secs = Vec::new();
        let mut check = 0.0;
        for _ in 0..repeats {
            let (a, s) = (sch.alpha(1.0), sch.sigma(1.0));
            let x = Form::gaussian(
                target.eigen_mean().iter().map(|m| a * m).collect(),
                target
                    .eigvals
                    .iter()
                    .map(|l| (a * a * l + s * s).sqrt())
                    .collect(),
            );
            let start = Instant::now();
            let out = if let Some(simd) = route {
                run_exact_with(simd, sampler, &sch, &times, &x, &target).unwrap()
            } else {
                sampler.run(&sch, &times, x, &target, &mut FormNoise::after(1))
            };
            secs.push(start.elapsed().as_secs_f64());
            check += out.variance()[0];
        }
        secs.sort_by(f64::total_cmp);
        println!(
            "{:<22} {:<8} d={d} steps=1000: min {:8.2} ms  median {:8.2} ms  (over {repeats} runs; checksum {check:.6})",
            sampler.label(),
            route.map_or("forms".to_string(), |simd| format!("{simd:?}")),
            secs[0] * 1e3,
            secs[repeats / 2] * 1e3
        );
    }
}
