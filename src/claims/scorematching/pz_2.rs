//! PZ-2: pointwise identities between the ε, x₀, score and velocity parameterisations (PDM §6.2; CLAIMS §6).

use super::common::{normal_vec, times};
use crate::claims::{Claim, Ctx, Evidence};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::demo_mixture;
use crate::losses::{NoiseLevel, Target};
use crate::schedule::{all_continuous, BetaSchedule, Discrete};
use anyhow::Result;

/// α² + σ² = 1 to round-off marks a variance-preserving schedule (a few ulps of O(1) terms; tol::IDENTITY).
const VP_TOL: f64 = 1e-12;
/// Each side of a pointwise identity is a handful of products and one squared norm: a few hundred ulps
/// (≈ 5e-14), times the cancellation factor of the x̂₀ conversion; 1e-13.
const POINTWISE_REL: f64 = 1e-13;
/// Floor of the per-schedule curve on the log axis (errors that are exactly 0 cannot be drawn).
const PLOT_FLOOR: f64 = 1e-6;

pub(super) fn claim() -> Claim {
    Claim {
        id: "PZ-2",
        family: super::FAMILY,
        source: "PDM §6.2 (≈); CLAIMS §6",
        statement: "Pointwise: ‖ε̂−ε‖² = e^{2λ}‖x̂₀−x₀‖² = σ²‖ŝ − ∇log q_t(x_t|x₀)‖²; ‖v̂_FM − v^cond‖² = (αλ̇)²‖x̂₀−x₀‖² = (σλ̇)²‖ε̂−ε‖²; Salimans–Ho on VP: ‖v̂−v‖² = (1+e^{2λ})‖x̂₀−x₀‖².",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let mix = demo_mixture();
    let mut rng = ctx.rng("points");
    let mut scheds = all_continuous();
    scheds.push(Box::new(Discrete::new(BetaSchedule::Linear)));
    let (nt, np): (usize, usize) = ctx.scale.pick((6, 10), (12, 12));
    let mut table = Table::new(
        "",
        &[
            "schedule",
            "t",
            "point",
            "identity",
            "lhs",
            "rhs",
            "rel_err",
            "cancellation",
            "tolerance",
        ],
    );
    let mut worst: f64 = 0.0;
    let mut worst_what = String::new();
    let mut fig = Figure::new(
        "",
        "PZ-2: largest error/tolerance per schedule",
        "t / T (dimensionless)",
        "max rel_err / (1e-13 · cancellation)",
    )
    .logy();
    for sch in &scheds {
        let mut curve = Vec::new();
        for t in times(sch.as_ref(), nt) {
            let n = NoiseLevel::at(sch.as_ref(), t);
            let (a, s, da, ds) = (n.alpha, n.sigma, n.dalpha, n.dsigma);
            let (lam, ldot) = (sch.logsnr(t), sch.dlogsnr(t));
            let mut tmax: f64 = 0.0;
            for p in 0..np {
                let x0 = mix.sample(&mut rng);
                let e = normal_vec(2, &mut rng);
                let eps_hat = &e + normal_vec(2, &mut rng) * 0.5;
                let x = &x0 * a + &e * s;
                // Predictions by the textbook conversions (not through `Target`).
                let x0_hat = (&x - &eps_hat * s) / a;
                let s_hat = -&eps_hat / s;
                let s_cond = -(&x - &x0 * a) / (s * s);
                let vfm_hat = &x0_hat * da + &eps_hat * ds;
                let vfm = &x0 * da + &e * ds;
                let vsh_hat = &eps_hat * a - &x0_hat * s;
                let vsh = &e * a - &x0 * s;
                let ee = (&eps_hat - &e).norm_squared();
                let xx = (&x0_hat - &x0).norm_squared();
                let ss = (&s_hat - &s_cond).norm_squared();
                let vv = (&vfm_hat - &vfm).norm_squared();
                let hh = (&vsh_hat - &vsh).norm_squared();
                let mut checks = vec![
                    ("eps = exp(2 logsnr) x0", ee, (2.0 * lam).exp() * xx),
                    ("eps = sigma^2 score", ee, s * s * ss),
                    ("v_fm = (alpha dlogsnr)^2 x0", vv, (a * ldot).powi(2) * xx),
                    ("v_fm = (sigma dlogsnr)^2 eps", vv, (s * ldot).powi(2) * ee),
                    (
                        "v_sh = ((alpha^2+sigma^2)/sigma)^2 x0",
                        hh,
                        ((a * a + s * s) / s).powi(2) * xx,
                    ),
                ];
                if (a * a + s * s - 1.0).abs() < VP_TOL {
                    checks.push((
                        "VP: v_sh = (1 + exp(2 logsnr)) x0",
                        hh,
                        (1.0 + (2.0 * lam).exp()) * xx,
                    ));
                }
                // The library's per-target factors c_ε (Target::from_eps_coeffs): ‖pred − target‖² = c_ε²‖ε̂ − ε‖².
                for tg in Target::all() {
                    let pred = tg.from_eps(&x, &eps_hat, &n);
                    let tgt = tg.conditional(&x0, &e, &n);
                    let c = tg.from_eps_coeffs(&n).1;
                    checks.push((tg.name(), (&pred - &tgt).norm_squared(), c * c * ee));
                }
                // x̂₀ − x₀ is a difference of O(‖x‖/α) terms that is O(σ‖ε̂ − ε‖/α): the cancellation factor.
                let cancel = 1.0
                    + (x.norm() + s * eps_hat.norm() + a * x0.norm())
                        / (s * (&eps_hat - &e).norm());
                let tl = POINTWISE_REL * cancel;
                for (what, l, r) in checks {
                    let err = (l - r).abs() / l.abs().max(r.abs());
                    if err / tl > worst {
                        worst = err / tl;
                        worst_what = format!("{} {what} at t={t:.4}", sch.name());
                    }
                    tmax = tmax.max(err / tl);
                    table.push(vec![
                        sch.name().into(),
                        t.into(),
                        p.into(),
                        what.into(),
                        l.into(),
                        r.into(),
                        err.into(),
                        cancel.into(),
                        tl.into(),
                    ]);
                }
            }
            curve.push((t / sch.t_range().1, tmax.max(PLOT_FLOOR)));
        }
        fig = fig.with(Series::line(sch.name(), curve));
    }
    Ok(Evidence::within(
        worst,
        1.0,
        format!("max over 9 schedules (incl. discrete DDPM) × {nt} t × {np} points of rel_err / (1e-13 × cancellation factor 1 + (‖x‖ + σ‖ε̂‖ + α‖x₀‖)/(σ‖ε̂ − ε‖)); worst: {worst_what}"),
    )
    .table(table)
    .figure(fig))
}
