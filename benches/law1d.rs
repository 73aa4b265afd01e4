//! Issue 9's speed targets for the 1-D law engine (ENGINE-2), one core, std::time:
//! a deterministic sampler with 1000 steps on a 3-component mixture, W2 accurate to 1e-8 (target ≤ 0.1 s);
//! a one-step stochastic sampler with 1000 steps, W2 accurate to 1e-6 (target ≤ 2 s).
//! The accuracy is the route's own n-vs-2n difference, printed with the time.

use diffusion_claims::law1d::{output_law, Accuracy, Density1d, Start};
use diffusion_claims::sampler::{uniform_logsnr, uniform_t, DdpmVariance, Sampler};
use diffusion_claims::schedule::VpLinear;
use std::time::Instant;

fn main() {
    let sch = VpLinear::default();
    let data = Density1d::mixture(
        vec![0.2, 0.5, 0.3],
        vec![-2.0, 0.0, 1.5],
        vec![0.1, 0.3, 0.05],
    )
    .expect("valid mixture");
    let cases = [
        (
            Sampler::Ddim { eta: 0.0 },
            uniform_logsnr(&sch, 1.0, 1e-3, 1000),
            1e-8,
        ),
        (
            Sampler::DpmSolverPp2M { noise_level: 0.0 },
            uniform_logsnr(&sch, 1.0, 1e-3, 1000),
            1e-8,
        ),
        (
            Sampler::Ddpm(DdpmVariance::Small),
            uniform_t(1.0, 1e-3, 1000),
            1e-6,
        ),
        (
            Sampler::EulerMaruyama { noise_level: 1.0 },
            uniform_t(1.0, 1e-3, 1000),
            1e-6,
        ),
    ];
    for (sampler, times, target) in cases {
        let times = times.expect("valid grid");
        let acc = Accuracy::default();
        let reps = 3;
        let start = Instant::now();
        let mut law = None;
        for _ in 0..reps {
            law =
                Some(output_law(sampler, &sch, &times, &data, Start::Marginal, acc).expect("law"));
        }
        let secs = start.elapsed().as_secs_f64() / reps as f64;
        let law = law.expect("ran");
        println!(
            "{:>16}, 1000 steps: {:.3} s; W2 {:.6e} ± {:.1e} (target {:.0e}), KL {:.3e}, {} nodes, monotone {}",
            sampler.label(),
            secs,
            law.w2,
            law.error.w2,
            target,
            law.kl,
            law.nodes,
            law.monotone
        );
    }
}
