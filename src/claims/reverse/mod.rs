//! Reverse dynamics (CLAIMS §4): RV-1 (reverse SDE), RV-2 (McAllester's reverse-noise family and the slide's
//! noise scaling), RV-3 (probability-flow ODE), RV-4 (Gaussian reverse conditionals), RV-5 (temperature).
//!
//! The reverse-noise family, in reverse time τ = T − t (CONV-8):
//! dY = −[f Y − ((1+λ)/2) g² ∇log p_t(Y)] dτ + √λ g dW, λ = `noise_level`.

use crate::algebra::{Form, FormNoise, PcgNoise};
use crate::claims::{Claim, Ctx, Evidence, Verdict};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::ho_mixture;
use crate::metrics::{loglog_slope, mean_ci, w2_commuting};
use crate::sampler::{uniform_logsnr, uniform_t, Sampler};
use crate::schedule::{Brownian, Schedule, VpLinear};
use crate::target::{Gaussian, Mixture};
use crate::tol;
use anyhow::Result;
use nalgebra::{DMatrix, DVector};
use rand_distr::{Distribution, StandardNormal};
use statrs::distribution::{ContinuousCDF, Normal};

pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "RV-1",
            family: "reverse",
            source: "TZ §2; FW §3; PDM 'three dynamics'; Anderson 1982; CLAIMS §4",
            statement: "Started from p_T, the reverse SDE dY = [−fY + g²∇log p]dτ + g dW has marginal p_{T−τ}: Gaussian moment ODE exact; Euler–Maruyama is weak order 1 (exact laws); on a GMM its output matches p_{t_min}.",
            check: rv1,
        },
        Claim {
            id: "RV-2",
            family: "reverse",
            source: "McA abstract and slides ('z(t−Δt) = z + ((1+λ)/2)((E[y|t,z]−z)/t)Δt + λ ε √Δt'); CLAIMS §4, CONV-3",
            statement: "Every noise level λ ≥ 0 of dx = [f x − ((1+λ)/2)g²∇log p]dt + √λ g dW̄ shares the marginals p_t — with noise variance λΔt; the slide's λε√Δt (variance λ²Δt) does not.",
            check: rv2,
        },
        Claim {
            id: "RV-3",
            family: "reverse",
            source: "McA slides (Fokker–Planck analysis); PDM blog PF-ODE; CLAIMS §4",
            statement: "The PF-ODE dx/dt = f x − ½g²∇log p integrated backward from p_T gives p_t: exact Gaussian flow map (RK4 error slope −4), and on a 1-D GMM the pushed samples follow p_{t_min} (KS).",
            check: rv3,
        },
        Claim {
            id: "RV-4",
            family: "reverse",
            source: "McA slides (VAE analysis, reverse-time probabilities); CLAIMS §4",
            statement: "q(x_s|x_t,x₀) = N((α_{t|s}σ_s²/σ_t²)x_t + (α_sσ_{t|s}²/σ_t²)x₀, σ_{t|s}²σ_s²/σ_t²); the Gaussian approximation N(z + (Δt/t)(ŷ−z), Δt) of the true reverse kernel has per-step KL O(Δt²) and summed KL O(Δt).",
            check: rv4,
        },
        Claim {
            id: "RV-5",
            family: "reverse",
            source: "McA guidance slides (temperature-adjusted reverse diffusion); CLAIMS §4",
            statement: "Scaling only the injected noise by β^{−1/2} (λ = 1 drift) does not sample pop^β: Gaussian output N(μ, (1−1/β)s⁴/(s²+T) + s²/β); on a separated GMM the mode weights differ from pop^β's.",
            check: rv5,
        },
    ]
}

/// The reverse-time moment ODE of a 1-D Gaussian N(μ, s²) under the λ-family, integrated by RK4 in τ:
/// dm/dτ = −f m − ((1+λ)/2)g²(m − m_t)/C_t, dV/dτ = −2(f + ((1+λ)/2)g²/C_t)V + c g², where c is the
/// injected variance per unit g²dτ (λ for the family; λ² for the slide). Starts at the exact p_T.
#[allow(clippy::too_many_arguments)]
fn moment_ode(
    sch: &dyn Schedule,
    mu: f64,
    s2: f64,
    t_max: f64,
    t_min: f64,
    noise_level: f64,
    injected: f64,
    steps: usize,
) -> (f64, f64) {
    let drift = |t: f64, m: f64, v: f64| {
        let (a, sg) = (sch.alpha(t), sch.sigma(t));
        let c = a * a * s2 + sg * sg;
        let (f, g2) = (sch.f(t), sch.g2(t));
        let k = f + 0.5 * (1.0 + noise_level) * g2 / c;
        (
            -f * m - 0.5 * (1.0 + noise_level) * g2 * (m - a * mu) / c,
            -2.0 * k * v + injected * g2,
        )
    };
    // Integrate in u = log t (t from t_max to t_min) for the Brownian path's wide range: dτ = −t du.
    let (u0, u1) = (t_max.ln(), t_min.ln());
    let h = (u1 - u0) / steps as f64;
    let (a, sg) = (sch.alpha(t_max), sch.sigma(t_max));
    let (mut m, mut v) = (a * mu, a * a * s2 + sg * sg);
    let f = |u: f64, m: f64, v: f64| {
        let t = u.exp();
        let (dm, dv) = drift(t, m, v);
        (-t * dm, -t * dv)
    };
    for k in 0..steps {
        let u = u0 + h * k as f64;
        let k1 = f(u, m, v);
        let k2 = f(u + 0.5 * h, m + 0.5 * h * k1.0, v + 0.5 * h * k1.1);
        let k3 = f(u + 0.5 * h, m + 0.5 * h * k2.0, v + 0.5 * h * k2.1);
        let k4 = f(u + h, m + h * k3.0, v + h * k3.1);
        m += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
        v += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
    }
    (m, v)
}

/// Exact mean and variance of a 1-D mixture's p_t.
fn mixture_moments(mix: &Mixture, alpha: f64, sigma: f64) -> (f64, f64) {
    let mean: f64 = mix
        .weights
        .iter()
        .zip(&mix.means)
        .map(|(w, m)| w * alpha * m[0])
        .sum();
    let second: f64 = mix
        .weights
        .iter()
        .zip(&mix.means)
        .zip(&mix.covs)
        .map(|((w, m), c)| w * ((alpha * m[0]).powi(2) + alpha * alpha * c[(0, 0)] + sigma * sigma))
        .sum();
    (mean, second - mean * mean)
}

/// Monte Carlo of `sampler` on the 1-D §8 GMM from exact p_T samples, at `steps` and `2·steps`; returns per
/// statistic (mean, variance) the |MC(2N) − exact| / (4 SE + |MC(N) − MC(2N)|) ratio (≤ 1 passes: k = 4
/// standard errors plus a Richardson bound on the remaining O(h) bias), and a table row set.
fn gmm_marginal_check(
    ctx: &Ctx,
    sampler: Sampler,
    steps: usize,
    n: usize,
    table: &mut Table,
) -> Result<f64> {
    let sch = VpLinear::default();
    let mix = ho_mixture();
    let (t_max, t_min) = (1.0, 1e-3);
    let (m_true, v_true) = mixture_moments(&mix, sch.alpha(t_min), sch.sigma(t_min));
    let mut stats = Vec::new();
    for mult in [1usize, 2] {
        let times = uniform_logsnr(&sch, t_max, t_min, steps * mult)?;
        let mut rng = ctx.rng(&format!("{}-{mult}", sampler.label()));
        let outs: Vec<f64> = (0..n)
            .map(|p| {
                let x0 = mix.sample(&mut rng);
                let z: f64 = StandardNormal.sample(&mut rng);
                let x = x0 * sch.alpha(t_max) + DVector::from_element(1, z * sch.sigma(t_max));
                let seed = crate::claims::stable_hash(
                    ctx.seed,
                    &[ctx.id, &sampler.label(), &mult.to_string(), &p.to_string()],
                );
                sampler.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(seed))[0]
            })
            .collect();
        let mc = mean_ci(&outs, tol::LEVEL)?;
        let sq: Vec<f64> = outs.iter().map(|x| (x - mc.mean).powi(2)).collect();
        let vc = mean_ci(&sq, tol::LEVEL)?;
        stats.push((mc, vc));
    }
    let mut worst: f64 = 0.0;
    for (name, exact, coarse, fine) in [
        ("mean", m_true, stats[0].0, stats[1].0),
        ("variance", v_true, stats[0].1, stats[1].1),
    ] {
        let ratio =
            (fine.mean - exact).abs() / (tol::K_SE * fine.se + (coarse.mean - fine.mean).abs());
        worst = worst.max(ratio);
        table.push(vec![
            sampler.label().into(),
            name.into(),
            (2 * steps).into(),
            n.into(),
            exact.into(),
            fine.mean.into(),
            fine.se.into(),
            coarse.mean.into(),
            ratio.into(),
        ]);
    }
    Ok(worst)
}

fn gmm_table() -> Table {
    Table::new(
        "gmm",
        &[
            "sampler",
            "statistic",
            "steps",
            "paths",
            "exact",
            "monte_carlo",
            "standard_error",
            "monte_carlo_half_steps",
            "ratio_to_bound",
        ],
    )
}

fn rv1(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    // (1) Gaussian moment ODE (λ = 1) against the closed form C_t = α²s² + σ².
    let mut ode_err: f64 = 0.0;
    for (mu, s2) in [(0.5, 0.3), (-1.0, 2.0), (0.0, 0.01)] {
        let (m, v) = moment_ode(&sch, mu, s2, 1.0, 1e-3, 1.0, 1.0, 4000);
        let (a, sg) = (sch.alpha(1e-3), sch.sigma(1e-3));
        ode_err = ode_err
            .max((m - a * mu).abs())
            .max((v - (a * a * s2 + sg * sg)).abs() / (a * a * s2 + sg * sg));
    }
    // (2) Euler–Maruyama and the exponential integrator, exact laws (forms), W2 vs steps: weak order 1.
    let g = Gaussian::from_eigen(
        DVector::from_vec(vec![0.5, -1.0]),
        DVector::from_vec(vec![0.3, 2.0]),
        None,
    )?;
    let (m_true, v_true) = g.marginal(sch.alpha(1e-3), sch.sigma(1e-3));
    let mut table = Table::new("", &["sampler", "steps", "w2_exact_law"]);
    let mut fig = Figure::new(
        "",
        "RV-1: reverse SDE discretisations, exact W2 to p_{t_min} (Gaussian)",
        "steps",
        "W2",
    )
    .loglog();
    let mut slopes = Vec::new();
    let ns = [20.0, 40.0, 80.0, 160.0, 320.0];
    for s in [
        Sampler::EulerMaruyama { noise_level: 1.0 },
        Sampler::ExpIntegrator { noise_level: 1.0 },
    ] {
        let mut errs = Vec::new();
        for &n in &ns {
            let times = if matches!(s, Sampler::EulerMaruyama { .. }) {
                uniform_t(1.0, 1e-3, n as usize)?
            } else {
                uniform_logsnr(&sch, 1.0, 1e-3, n as usize)?
            };
            let (a, sg) = (sch.alpha(1.0), sch.sigma(1.0));
            let x = Form::marginal(&g, a, sg);
            let out = s.run(&sch, &times, x, &g, &mut FormNoise::after(1));
            let w2 = w2_commuting(
                &out.c,
                &out.variance(),
                m_true.as_slice(),
                v_true.as_slice(),
            );
            table.push(vec![s.label().into(), (n as usize).into(), w2.into()]);
            errs.push(w2);
        }
        let fit = loglog_slope(&ns[2..], &errs[2..], tol::LEVEL)?;
        slopes.push((s.label(), -fit.slope));
        fig = fig.with(Series::line(
            s.label(),
            ns.iter().copied().zip(errs).collect(),
        ));
    }
    // (3) GMM, Monte Carlo.
    let mut gt = gmm_table();
    let n = ctx.scale.pick(2000, 20_000);
    let gmm = gmm_marginal_check(
        ctx,
        Sampler::ExpIntegrator { noise_level: 1.0 },
        ctx.scale.pick(50, 200),
        n,
        &mut gt,
    )?;
    let worst_slope = slopes
        .iter()
        .map(|(_, s)| (s - 1.0).abs())
        .fold(0.0, f64::max);
    Ok(Evidence::within(
        ode_err,
        1e-9,
        format!(
            "Gaussian moment ODE (RK4 in log t, 4000 steps) vs closed form: max error {ode_err:.1e} (tolerance 1e-9: RK4 truncation); exact-law W2 slopes (last three N of 20..320) {:?} (weak order 1: |slope − 1| ≤ 0.25, got {worst_slope:.2}); 1-D GMM ({n} paths, SDE exponential integrator): |MC − exact| / (4 SE + Richardson bias bound) = {gmm:.2} (≤ 1)",
            slopes.iter().map(|(l, s)| format!("{l} {s:.2}")).collect::<Vec<_>>()
        ),
    )
    .require(worst_slope <= 0.25, "a reverse-SDE discretisation is not weak order 1")
    .require(gmm <= 1.0, "GMM marginal not reproduced")
    .table(table)
    .table(gt)
    .figure(fig))
}

/// ∂_t log p_t(x) of a 1-D-or-more mixture from the closed form (component means α μ_k, covariances
/// α²Σ_k + σ²I), independently of the Fokker–Planck operator.
fn dt_log_density(mix: &Mixture, sch: &dyn Schedule, t: f64, x: &DVector<f64>) -> f64 {
    let (a, sg, da, ds) = (sch.alpha(t), sch.sigma(t), sch.dalpha(t), sch.dsigma(t));
    let r = mix.class_posterior(x, a, sg);
    let d = x.len();
    let mut out = 0.0;
    for ((rk, mu), cov) in r.iter().zip(&mix.means).zip(&mix.covs) {
        let c = cov * (a * a) + DMatrix::identity(d, d) * (sg * sg);
        let cdot = cov * (2.0 * a * da) + DMatrix::identity(d, d) * (2.0 * sg * ds);
        let ci = c.try_inverse().expect("positive definite");
        let u = &ci * (x - mu * a);
        let dlogn = u.dot(&(mu * da)) + 0.5 * u.dot(&(&cdot * &u)) - 0.5 * (&ci * &cdot).trace();
        out += rk * dlogn;
    }
    out
}

fn rv2(ctx: &Ctx) -> Result<Evidence> {
    let levels = [0.0, 0.25, 0.5, 1.0, 2.0, 5.0];
    // (a) Fokker–Planck residual, analytic, on the 2-D demo mixture: R/p = ∂_t log p + f(d + x·s)
    //     − ((1+λ)/2) g²(tr H + |s|²) + (λ/2) g²(tr H + |s|²), relative to the largest term.
    let mix = crate::fixtures::demo_mixture();
    let mut fp_worst: f64 = 0.0;
    let mut fp = Table::new(
        "fokker-planck",
        &[
            "schedule",
            "t",
            "point",
            "noise_level",
            "residual_over_p",
            "scale",
        ],
    );
    let mut rng = ctx.rng("fp");
    for sch in crate::schedule::all_continuous() {
        let (t_min, t_max) = sch.t_range();
        for &t in &[t_min * 10.0, 0.3 * t_max, 0.8 * t_max] {
            let (a, sg) = (sch.alpha(t), sch.sigma(t));
            for p in 0..4usize {
                let x = mix.sample(&mut rng) * a
                    + DVector::from_fn(2, |_, _| StandardNormal.sample(&mut rng)) * sg;
                let s = mix.score(&x, a, sg);
                let h = mix.hessian_log_density(&x, a, sg);
                let lap = h.trace() + s.norm_squared();
                let dt = dt_log_density(&mix, sch.as_ref(), t, &x);
                let (f, g2) = (sch.f(t), sch.g2(t));
                let drift = f * (2.0 + x.dot(&s));
                for &l in &levels {
                    let terms = [dt, drift, -0.5 * (1.0 + l) * g2 * lap, 0.5 * l * g2 * lap];
                    let r: f64 = terms.iter().sum();
                    let scale = terms.iter().map(|v| v.abs()).fold(1e-300, f64::max);
                    fp_worst = fp_worst.max(r.abs() / scale);
                    fp.push(vec![
                        sch.name().into(),
                        t.into(),
                        p.into(),
                        l.into(),
                        r.into(),
                        scale.into(),
                    ]);
                }
            }
        }
    }
    // (b) Gaussian moment ODE (RK4) for every λ.
    let sch = VpLinear::default();
    let mut ode_err: f64 = 0.0;
    let mut moments = Table::new(
        "moment-ode",
        &[
            "noise_level",
            "mean",
            "variance",
            "exact_mean",
            "exact_variance",
        ],
    );
    let (a, sg) = (sch.alpha(1e-3), sch.sigma(1e-3));
    for &l in &levels {
        let (m, v) = moment_ode(&sch, 0.5, 0.3, 1.0, 1e-3, l, l, 8000);
        ode_err = ode_err
            .max((m - 0.5 * a).abs())
            .max((v - (a * a * 0.3 + sg * sg)).abs() / (a * a * 0.3 + sg * sg));
        moments.push(vec![
            l.into(),
            m.into(),
            v.into(),
            (0.5 * a).into(),
            (a * a * 0.3 + sg * sg).into(),
        ]);
    }
    // (c) GMM Monte Carlo for several λ (exponential integrator of the family).
    let mut gt = gmm_table();
    let n = ctx.scale.pick(1000, 10_000);
    let mut gmm: f64 = 0.0;
    for &l in &[0.0, 0.5, 1.0, 2.0] {
        gmm = gmm.max(gmm_marginal_check(
            ctx,
            Sampler::ExpIntegrator { noise_level: l },
            ctx.scale.pick(40, 100),
            n,
            &mut gt,
        )?);
    }
    // (d) The slide's noise scaling: Brownian σ² = t, pop N(0, 1), exact start p_T, T = 100.
    let br = Brownian;
    let mut slide = Table::new(
        "slide",
        &[
            "noise_level",
            "injected_variance",
            "output_variance_ode",
            "output_variance_closed_form",
            "source_value",
        ],
    );
    let reported = [(0.25, 0.4866), (0.5, 0.5498), (2.0, 1.9999)];
    let mut slide_err: f64 = 0.0;
    let mut true_err: f64 = 0.0;
    let mut slide_min_dev = f64::INFINITY;
    for &(l, src) in &reported {
        // Closed form of dV/du = (1+λ)V/u − c, u = 1 + t: V(1) = c/λ + (1 − c/λ)(1+T)^{−λ}.
        for (name, c) in [("lambda^2 dt (slide)", l * l), ("lambda dt (true)", l)] {
            let (_, v) = moment_ode(&br, 0.0, 1.0, 100.0, 1e-9, l, c, 20_000);
            let closed = c / l + (1.0 - c / l) * 101f64.powf(-l);
            if c == l {
                true_err = true_err.max((v - 1.0).abs());
            } else {
                slide_err = slide_err.max((v - src).abs());
                slide_min_dev = slide_min_dev.min((v - 1.0).abs());
            }
            slide.push(vec![
                l.into(),
                name.into(),
                v.into(),
                closed.into(),
                (if c == l { 1.0 } else { src }).into(),
            ]);
        }
    }
    let true_ok = fp_worst <= 1e-12 && ode_err <= 1e-9 && gmm <= 1.0 && true_err <= 1e-6;
    let mut ev = Evidence::close(
        slide_min_dev,
        0.0,
        1e-6,
        format!(
            "TRUE version (noise variance λΔt) PASSES: FP residual over 8 schedules × 3 t × 4 points × λ∈{levels:?}: max {fp_worst:.1e} of the largest term (tolerance 1e-12); Gaussian moment ODE (RK4) max error {ode_err:.1e} (1e-9); 1-D GMM Monte Carlo λ∈{{0,.5,1,2}}: ratio to (4 SE + Richardson bias) {gmm:.2} (≤ 1); Brownian/N(0,1)/T=100 output variance with λΔt noise: |V − 1| ≤ {true_err:.1e}. SLIDE version (λε√Δt, variance λ²Δt) REFUTED: output variances in the Δt → 0 limit (RK4 on the moment ODE; closed form c/λ + (1 − c/λ)(1+T)^{{−λ}}, c = λ²) {:?} (source 0.4866/0.5498/1.9999, max |diff| {slide_err:.1e}), min |V − 1| = {slide_min_dev:.3} (headline; 0 would mean marginals preserved)",
            slide.rows.iter().filter(|r| r[1].as_f64().is_none() && r[3].as_f64() != Some(1.0)).map(|r| r[2].as_f64().unwrap_or(f64::NAN)).collect::<Vec<_>>()
        ),
    );
    if true_ok && slide_err <= 1e-4 && slide_min_dev > 0.1 {
        ev.verdict = Verdict::Refuted;
    } else {
        ev.verdict = Verdict::Fail;
    }
    Ok(ev.table(slide).table(fp).table(moments).table(gt))
}

fn rv3(ctx: &Ctx) -> Result<Evidence> {
    let sch = VpLinear::default();
    // (1) Gaussian flow map Ψ_{T→t}(x) = m_t + √(C_t/C_T)(x − m_T) vs RK4 in t.
    let (mu, s2) = (0.7, 0.4);
    let g = Gaussian::from_eigen(
        DVector::from_vec(vec![mu]),
        DVector::from_vec(vec![s2]),
        None,
    )?
    .to_mixture();
    let (t0, t1) = (1.0, 0.05);
    let c = |t: f64| sch.alpha(t).powi(2) * s2 + sch.sigma(t).powi(2);
    let ns = [25.0, 50.0, 100.0, 200.0];
    let mut table = Table::new("", &["steps", "max_abs_error"]);
    let mut errs = Vec::new();
    for &n in &ns {
        let times = uniform_t(t0, t1, n as usize)?;
        let mut e: f64 = 0.0;
        for x in [-2.0, 0.0, 1.5] {
            let out = Sampler::Rk4T.run(
                &sch,
                &times,
                DVector::from_vec(vec![x]),
                &g,
                &mut PcgNoise::seeded(0),
            )[0];
            let exact = sch.alpha(t1) * mu + (c(t1) / c(t0)).sqrt() * (x - sch.alpha(t0) * mu);
            e = e.max((out - exact).abs());
        }
        table.push(vec![(n as usize).into(), e.into()]);
        errs.push(e);
    }
    let fit = loglog_slope(&ns, &errs, tol::LEVEL)?;
    // (2) 1-D GMM: DPM-Solver-3 (200 steps) from exact p_T samples; KS against the exact CDF of p_{t_min}.
    let mix = ho_mixture();
    let n = ctx.scale.pick(2000, 20_000);
    let mut rng = ctx.rng("gmm");
    let times = uniform_logsnr(&sch, 1.0, 1e-3, 200)?;
    let mut outs: Vec<f64> = (0..n)
        .map(|_| {
            let x0 = mix.sample(&mut rng)[0];
            let z: f64 = StandardNormal.sample(&mut rng);
            let x = DVector::from_element(1, x0 * sch.alpha(1.0) + z * sch.sigma(1.0));
            Sampler::DpmSolver3.run(&sch, &times, x, &mix, &mut PcgNoise::seeded(0))[0]
        })
        .collect();
    outs.sort_by(f64::total_cmp);
    let (a, sg) = (sch.alpha(1e-3), sch.sigma(1e-3));
    let cdf = |x: f64| -> f64 {
        mix.weights
            .iter()
            .zip(&mix.means)
            .zip(&mix.covs)
            .map(|((w, m), cv)| {
                w * Normal::new(a * m[0], (a * a * cv[(0, 0)] + sg * sg).sqrt())
                    .map(|d| d.cdf(x))
                    .unwrap_or(f64::NAN)
            })
            .sum()
    };
    let ks = outs
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n as f64)
                .abs()
                .max(((i + 1) as f64 / n as f64 - f).abs())
        })
        .fold(0.0, f64::max);
    let ks_crit = 1.949 / (n as f64).sqrt(); // Kolmogorov 0.1% critical value.
    Ok(Evidence::close(
        -fit.slope,
        4.0,
        0.25,
        format!("RK4-in-t PF-ODE vs the exact Gaussian flow map (t 1 → 0.05): error slope {:.2} [{:.2}, {:.2}] (expected −4 ± 0.25); 1-D GMM, {n} exact p_T samples through DPM-Solver-3 (200 steps): KS = {ks:.4} vs 0.1% critical value {ks_crit:.4}", fit.slope, fit.lo, fit.hi),
    )
    .require(ks <= ks_crit, "GMM PF-ODE output does not follow p_{t_min}")
    .table(table))
}

/// KL(exact reverse kernel ‖ Gaussian approximation) for one step z at t → t − Δt on the Brownian path, 1-D
/// mixture data, by Gauss–Legendre quadrature over ±12 standard deviations.
fn kernel_kl(mix: &Mixture, z: f64, t: f64, dt: f64) -> f64 {
    let x = DVector::from_element(1, z);
    let r = mix.class_posterior(&x, 1.0, t.sqrt());
    // y | z, k ~ N(μ̂_k, v̂_k); z' | z, y ~ N(z + (Δt/t)(y − z), Δt(1 − Δt/t)).
    let comps: Vec<(f64, f64, f64)> = r
        .iter()
        .zip(&mix.means)
        .zip(&mix.covs)
        .map(|((rk, m), c)| {
            let v0 = c[(0, 0)];
            let vk = v0 * t / (v0 + t);
            let mk = m[0] + v0 / (v0 + t) * (z - m[0]);
            (
                *rk,
                z + dt / t * (mk - z),
                dt * (1.0 - dt / t) + (dt / t).powi(2) * vk,
            )
        })
        .collect();
    let yhat: f64 = r
        .iter()
        .zip(&comps)
        .map(|(rk, _)| *rk)
        .zip(mix.means.iter().zip(&mix.covs))
        .map(|(rk, (m, c))| {
            let v0 = c[(0, 0)];
            rk * (m[0] + v0 / (v0 + t) * (z - m[0]))
        })
        .sum();
    let (qm, qv) = (z + dt / t * (yhat - z), dt);
    let logn = |x: f64, m: f64, v: f64| {
        -0.5 * ((x - m).powi(2) / v + (2.0 * std::f64::consts::PI * v).ln())
    };
    let sd = dt.sqrt();
    crate::quadrature::gauss_legendre(
        &|y| {
            let p: f64 = comps
                .iter()
                .map(|(w, m, v)| w * logn(y, *m, *v).exp())
                .sum();
            if p <= 0.0 {
                0.0
            } else {
                p * (p.ln() - logn(y, qm, qv))
            }
        },
        qm - 12.0 * sd,
        qm + 12.0 * sd,
        64,
    )
}

fn rv4(ctx: &Ctx) -> Result<Evidence> {
    let _ = ctx;
    // (a) exact posterior vs brute-force Gaussian conditioning of (x_s, x_t) given x₀ (3×3 joint).
    let mut post_err: f64 = 0.0;
    let mut post = Table::new(
        "posterior",
        &[
            "schedule", "s", "t", "coef_x_t", "coef_x0", "variance", "rel_err",
        ],
    );
    for sch in crate::schedule::all_continuous() {
        let (t_min, t_max) = sch.t_range();
        for &(fs, ft) in &[(0.2, 0.5), (0.5, 0.6), (0.05, 0.9)] {
            let (s, t) = (t_min + fs * (t_max - t_min), t_min + ft * (t_max - t_min));
            let (a_s, s_s, a_t, s_t) = (sch.alpha(s), sch.sigma(s), sch.alpha(t), sch.sigma(t));
            let a_ts = a_t / a_s;
            let s_ts2 = s_t * s_t - a_ts * a_ts * s_s * s_s;
            let (cx, c0, var) = (
                a_ts * s_s * s_s / (s_t * s_t),
                a_s * s_ts2 / (s_t * s_t),
                s_ts2 * s_s * s_s / (s_t * s_t),
            );
            // Brute force: x₀ ~ N(0, 1), x_s = a_s x₀ + s_s e₁, x_t = a_ts x_s + √s_ts2 e₂; condition x_s on (x₀, x_t).
            let (e1, e2) = (s_s * s_s, s_ts2);
            let joint = DMatrix::from_row_slice(
                3,
                3,
                &[
                    1.0,
                    a_s,
                    a_ts * a_s,
                    a_s,
                    a_s * a_s + e1,
                    a_ts * (a_s * a_s + e1),
                    a_ts * a_s,
                    a_ts * (a_s * a_s + e1),
                    a_ts * a_ts * (a_s * a_s + e1) + e2,
                ],
            );
            let idx = [0usize, 2];
            let kk = DMatrix::from_fn(2, 2, |i, j| joint[(idx[i], idx[j])]);
            let kx = DMatrix::from_fn(1, 2, |_, j| joint[(1, idx[j])]);
            let w = &kx
                * kk.try_inverse()
                    .ok_or_else(|| anyhow::anyhow!("singular"))?;
            let v = joint[(1, 1)] - (&w * kx.transpose())[(0, 0)];
            let e = ((w[(0, 1)] - cx).abs() / cx.abs().max(1e-300))
                .max((w[(0, 0)] - c0).abs() / c0.abs().max(1e-300))
                .max((v - var).abs() / var);
            post_err = post_err.max(e);
            post.push(vec![
                sch.name().into(),
                s.into(),
                t.into(),
                cx.into(),
                c0.into(),
                var.into(),
                e.into(),
            ]);
        }
    }
    // (b) per-step KL vs Δt; (c) summed over a grid from t = 1 to 0.1.
    let mix = Mixture::isotropic(
        vec![0.3, 0.7],
        vec![DVector::from_vec(vec![-2.0]), DVector::from_vec(vec![1.5])],
        &[0.09, 0.25],
    )?;
    let dts = [0.04, 0.02, 0.01, 0.005, 0.0025];
    let mut table = Table::new("", &["kind", "dt", "kl"]);
    let per: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let k = [-1.0, 0.0, 1.0]
                .iter()
                .map(|&z| kernel_kl(&mix, z, 0.5, dt))
                .sum::<f64>()
                / 3.0;
            table.push(vec!["per-step (t = 0.5)".into(), dt.into(), k.into()]);
            k
        })
        .collect();
    let summed: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            let steps = (0.9 / dt).round() as usize;
            let k: f64 = (0..steps)
                .map(|i| {
                    let t = 1.0 - i as f64 * dt;
                    let sd = (0.25 + t).sqrt();
                    [-sd, 0.0, sd]
                        .iter()
                        .map(|&z| kernel_kl(&mix, z, t, dt))
                        .sum::<f64>()
                        / 3.0
                })
                .sum();
            table.push(vec!["summed (t 1 → 0.1)".into(), dt.into(), k.into()]);
            k
        })
        .collect();
    let f1 = loglog_slope(&dts, &per, tol::LEVEL)?;
    let f2 = loglog_slope(&dts, &summed, tol::LEVEL)?;
    let fig = Figure::new(
        "",
        "RV-4: KL of McAllester's Gaussian reverse kernel",
        "Δt",
        "KL",
    )
    .loglog()
    .with(Series::line(
        "per step (t = 0.5, 3 points)",
        dts.iter().copied().zip(per.iter().copied()).collect(),
    ))
    .with(Series::line(
        "summed over t from 1 to 0.1",
        dts.iter().copied().zip(summed.iter().copied()).collect(),
    ));
    Ok(Evidence::within(
        post_err,
        tol::FACTORED,
        format!("exact posterior vs brute-force 3×3 Gaussian conditioning over 8 schedules × 3 (s, t): max rel err {post_err:.1e} (tolerance 1e-10: a 2×2 inverse); per-step KL slope {:.2} [{:.2}, {:.2}] (expected +2 ± 0.25); summed KL slope {:.2} [{:.2}, {:.2}] (expected +1 ± 0.25); 1-D GMM, Brownian path, quadrature 64×8-point GL", f1.slope, f1.lo, f1.hi, f2.slope, f2.lo, f2.hi),
    )
    .require((f1.slope - 2.0).abs() <= 0.25, "per-step KL slope is not 2")
    .require((f2.slope - 1.0).abs() <= 0.25, "summed KL slope is not 1")
    .table(post)
    .table(table)
    .figure(fig))
}

fn rv5(ctx: &Ctx) -> Result<Evidence> {
    let br = Brownian;
    let t_max = 100.0;
    // (1) Gaussian: moment ODE with λ = 1 drift and injected variance 1/β vs the closed form.
    let mut gauss = Table::new(
        "gaussian",
        &[
            "beta",
            "variance_ode",
            "variance_closed_form",
            "pop_beta_variance",
        ],
    );
    let mut g_err: f64 = 0.0;
    for (beta, src) in [(2.0, 0.50495), (4.0, 0.25743)] {
        let (_, v) = moment_ode(&br, 0.0, 1.0, t_max, 1e-9, 1.0, 1.0 / beta, 20_000);
        let closed = (1.0 - 1.0 / beta) / (1.0 + t_max) + 1.0 / beta;
        g_err = g_err
            .max((v - closed).abs())
            .max((closed - src).abs() - 5e-6);
        gauss.push(vec![
            beta.into(),
            v.into(),
            closed.into(),
            (1.0 / beta).into(),
        ]);
    }
    // (2) Separated GMM: simulate the temperature-scaled diffusion; compare the left-mode mass with pop^β's.
    let beta = 2.0;
    let mix = Mixture::isotropic(
        vec![0.3, 0.7],
        vec![DVector::from_vec(vec![-3.0]), DVector::from_vec(vec![3.0])],
        &[0.25, 0.25],
    )?;
    let n: usize = ctx.scale.pick(1000, 10_000);
    let steps: usize = ctx.scale.pick(300, 1000);
    let times = uniform_logsnr(&br, t_max, 1e-3, steps)?;
    let mut rng = ctx.rng("paths");
    let outs: Vec<f64> = (0..n)
        .map(|_| {
            let z0: f64 = StandardNormal.sample(&mut rng);
            let mut z = mix.sample(&mut rng)[0] + z0 * t_max.sqrt();
            for w in times.windows(2) {
                let (s, t) = (w[0], w[1]);
                let dt = s - t;
                let yhat = mix.denoise(&DVector::from_element(1, z), 1.0, s.sqrt())[0];
                let e: f64 = StandardNormal.sample(&mut rng);
                z += (yhat - z) / s * dt + e * (dt / beta).sqrt();
            }
            z
        })
        .collect();
    let left: Vec<f64> = outs
        .iter()
        .map(|&z| if z < 0.0 { 1.0 } else { 0.0 })
        .collect();
    let ci = mean_ci(&left, tol::LEVEL)?;
    // pop^β normalised by quadrature.
    let dens = |y: f64| {
        mix.log_density(&DVector::from_element(1, y), 1.0, 0.0_f64.max(1e-12))
            .mul_add(beta, 0.0)
            .exp()
    };
    let z_left = crate::quadrature::gauss_legendre(&dens, -12.0, 0.0, 200);
    let z_right = crate::quadrature::gauss_legendre(&dens, 0.0, 12.0, 200);
    let target_left = z_left / (z_left + z_right);
    let z_score = (ci.mean - target_left) / ci.se;
    let mut ev = Evidence::within(
        g_err,
        1e-6,
        format!("Gaussian (Brownian, s² = 1, T = 100): moment ODE vs closed form (1−1/β)s⁴/(s²+T) + s²/β and the source's 0.50495/0.25743: max diff {g_err:.1e} (tolerance 1e-6; ≠ pop^β variance 1/β by 0.005 at T = 100); separated GMM π = (0.3, 0.7), μ = ±3, s² = 0.25, β = 2, {n} paths × {steps} EM steps: left-mode mass {:.4} ± {:.4} vs pop^β's {target_left:.4} (quadrature): z = {z_score:.1} (≫ 4: not pop^β, as the slide says)", ci.mean, ci.se),
    )
    .require(z_score.abs() > tol::K_SE, "temperature-scaled diffusion looks like pop^β on the GMM");
    if ev.verdict == Verdict::Pass {
        ev.detail
            .push_str("; the statement 'this is not P^β' holds");
    }
    let mut gm = Table::new(
        "gmm",
        &[
            "beta",
            "paths",
            "steps",
            "left_mass_mc",
            "standard_error",
            "left_mass_pop_beta",
            "z",
        ],
    );
    gm.push(vec![
        beta.into(),
        n.into(),
        steps.into(),
        ci.mean.into(),
        ci.se.into(),
        target_left.into(),
        z_score.into(),
    ]);
    Ok(ev.table(gauss).table(gm))
}
