//! A sampler written outside the crate, run on the crate's numbers: its exact output law on Gaussian
//! data, its W2 to the data, and its order of convergence — with no Monte Carlo.
//!
//! The step below is DDIM(η) (Song et al. 2021) in the notation of CLAIMS §1: from the noisier time s to
//! t, with x̂₀ = D(x_s) and ε̂ = (x_s − α_s x̂₀)/σ_s,
//!   x_t = α_t x̂₀ + √(σ_t² − c²) ε̂ + c z,   c = η σ_t √(1 − r²),   r = α_s σ_t / (α_t σ_s).
//! It is written once, against `Algebra` (linear combinations), `Denoiser` (x̂₀) and `Noise` (fresh
//! N(0, I) draws). Run on `Form`s with `FormNoise` it returns the exact law; run on vectors with
//! `PcgNoise` it is an ordinary Monte Carlo sampler.
//!
//! `cargo run --release --example own_sampler`

use diffusion_claims::algebra::{eps_from_x0, Algebra, Denoiser, Form, FormNoise, Noise, PcgNoise};
use diffusion_claims::metrics::{loglog_slope, w2_commuting};
use diffusion_claims::sampler::{uniform_t, Sampler};
use diffusion_claims::schedule::{Schedule, VpLinear};
use diffusion_claims::target::Gaussian;
use nalgebra::DVector;

/// One DDIM(η) step from `s` to `t < s`: the user's code, generic over the kind of number.
fn my_ddim_step<S: Algebra, D: Denoiser<S>, N: Noise<S>>(
    sch: &dyn Schedule,
    eta: f64,
    (s, t): (f64, f64),
    x: &S,
    model: &D,
    noise: &mut N,
) -> S {
    let (alpha_s, sigma_s) = (sch.alpha(s), sch.sigma(s));
    let (alpha_t, sigma_t) = (sch.alpha(t), sch.sigma(t));
    let x0 = model.denoise(x, alpha_s, sigma_s);
    let eps = eps_from_x0(x, &x0, alpha_s, sigma_s);
    let r = alpha_s * sigma_t / (alpha_t * sigma_s);
    let c = eta * sigma_t * (1.0 - r * r).max(0.0).sqrt();
    let keep = (sigma_t * sigma_t - c * c).max(0.0).sqrt();
    if c == 0.0 {
        return S::lin(&[(alpha_t, &x0), (keep, &eps)]);
    }
    let z = noise.standard_normal(x);
    S::lin(&[(alpha_t, &x0), (keep, &eps), (c, &z)])
}

/// The user's sampling loop: one step per grid interval, rebasing the noise at every boundary (exact
/// laws stay exact; forms stay short).
fn my_sampler<S: Algebra, D: Denoiser<S>, N: Noise<S>>(
    sch: &dyn Schedule,
    eta: f64,
    times: &[f64],
    mut x: S,
    model: &D,
    noise: &mut N,
) -> S {
    for w in times.windows(2) {
        x = my_ddim_step(sch, eta, (w[0], w[1]), &x, model, noise);
        noise.rebase(&mut [&mut x]);
    }
    x
}

fn main() -> anyhow::Result<()> {
    // Data: N(μ, diag(λ)) in 4 dimensions (a Gaussian in its eigenbasis).
    let mu = vec![0.5, -1.0, 0.0, 2.0];
    let lam = vec![0.05, 0.25, 1.0, 4.0];
    let target = Gaussian::from_eigen(
        DVector::from_vec(mu.clone()),
        DVector::from_vec(lam.clone()),
        None,
    )?;
    let sch = VpLinear::default();
    let (t_max, t_min) = (1.0, 1e-3);

    // The exact marginal p_{t_min} the sampler aims at (its W2 to the data is the truncation error alone).
    let (m_end, v_end) = target.marginal(sch.alpha(t_min), sch.sigma(t_min));
    let (m_end, v_end) = (m_end.as_slice().to_vec(), v_end.as_slice().to_vec());
    println!("steps,eta,w2_to_data,w2_to_p_tmin,gap_to_crate_ddim");
    for eta in [0.0, 1.0] {
        let (mut steps_list, mut w2s) = (Vec::new(), Vec::new());
        for steps in [10, 20, 40, 80, 160] {
            let times = uniform_t(t_max, t_min, steps)?;
            let start = || Form::marginal(&target, sch.alpha(t_max), sch.sigma(t_max));
            // The user's sampler, exact law (the start p_T uses one noise component).
            let out = my_sampler(
                &sch,
                eta,
                &times,
                start(),
                &target,
                &mut FormNoise::after(1),
            );
            let w2 = w2_commuting(&out.c, &out.variance(), &mu, &lam);
            let w2_disc = w2_commuting(&out.c, &out.variance(), &m_end, &v_end);
            // The crate's own DDIM(η) on the same grid: the two laws must agree to round-off.
            let reference =
                Sampler::Ddim { eta }.run(&sch, &times, start(), &target, &mut FormNoise::after(1));
            let gap = w2_commuting(&out.c, &out.variance(), &reference.c, &reference.variance());
            assert!(
                gap < 1e-10,
                "the user's DDIM differs from the crate's: {gap:e}"
            );
            println!("{steps},{eta},{w2:.6e},{w2_disc:.6e},{gap:.1e}");
            steps_list.push(steps as f64);
            w2s.push(w2_disc);
        }
        // DDIM(η) is a first-order method: W2 to p_{t_min} ∝ steps^{-1}.
        let fit = loglog_slope(&steps_list, &w2s, 0.95)?;
        println!(
            "eta = {eta}: W2 to p_tmin decays like steps^{:.3} (95% CI [{:.3}, {:.3}])",
            fit.slope, fit.lo, fit.hi
        );
    }

    // The same function, unchanged, as a Monte Carlo sampler on vectors.
    let times = uniform_t(t_max, t_min, 40)?;
    let mix = target.to_mixture();
    let mut noise = PcgNoise::seeded(7);
    let n = 2000;
    let mut mean0 = 0.0;
    for _ in 0..n {
        let (m, v) = target.marginal(sch.alpha(t_max), sch.sigma(t_max));
        let z = noise.standard_normal(&m);
        let x_t = DVector::from_fn(4, |i, _| m[i] + v[i].sqrt() * z[i]);
        let x = my_sampler(&sch, 1.0, &times, x_t, &mix, &mut noise);
        mean0 += x[3] / n as f64;
    }
    println!("Monte Carlo (η = 1, {n} paths): mean of coordinate 4 = {mean0:.3} (data: 2.0)");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_runs() {
        super::main().unwrap();
    }
}
