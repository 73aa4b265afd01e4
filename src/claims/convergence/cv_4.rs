//! CV-4: ODE-type vs SDE-type samplers — observed rates in the number of steps N against the published
//! upper-bound exponents (Li et al. 2024: ODE O(1/N), SDE O(1/√N) in TV).

use super::data::{LI_ODE_EXPONENT, LI_SDE_EXPONENT};
use crate::algebra::PcgNoise;
use crate::claims::{Claim, Ctx, Evidence, Verdict};
use crate::evidence::{Figure, Series, Table};
use crate::fixtures::{density_1d, mixture_1d, HO_STARTS};
use crate::law1d::{output_law_vs, Accuracy, Start};
use crate::metrics::loglog_slope;
use crate::ode::reference_lambda_rk4;
use crate::sampler::{DdpmVariance, Sampler};
use crate::schedule::{Schedule, VpLinear};
use crate::tol;
use anyhow::Result;
use nalgebra::DVector;

pub(super) fn claim() -> Claim {
    Claim {
        id: "CV-4",
        family: super::FAMILY,
        source: "TZ §5 (ODE samplers) [GK: Chen et al. 2023 'PF-ODE is provably fast'; Li et al. 2024]; CLAIMS §12",
        statement: "With exact scores on a 1-D mixture: DDIM's pathwise and TV error ∝ 1/N, DDPM's distributional (TV) error ∝ 1/N (weak order 1); the published exponents (ODE 1/N, SDE 1/√N) are upper bounds — tight for the ODE, loose for the SDE (report, don't fail).",
        check,
    }
}

fn check(ctx: &Ctx) -> Result<Evidence> {
    let vp = VpLinear::default();
    let (t_max, t_min) = (1.0, 1e-3);
    let mix = mixture_1d();
    let data = density_1d(&mix, 1.0, 0.0)?;
    let reference = density_1d(&mix, vp.alpha(t_min), vp.sigma(t_min))?;
    let counts: Vec<usize> = ctx
        .scale
        .pick(vec![10, 20, 40, 80], vec![10, 20, 40, 80, 160, 320]);
    let samplers = [
        (Sampler::Ddim { eta: 0.0 }, LI_ODE_EXPONENT),
        (Sampler::Ddpm(DdpmVariance::Small), LI_SDE_EXPONENT),
        (Sampler::Ddpm(DdpmVariance::Large), LI_SDE_EXPONENT),
        (Sampler::EulerMaruyama { noise_level: 1.0 }, LI_SDE_EXPONENT),
    ];
    let mut tab = Table::new(
        "laws",
        &["sampler", "steps", "tv", "kl", "w2", "law_accuracy_tv"],
    );
    let mut fits = Table::new(
        "fits",
        &[
            "sampler",
            "metric",
            "slope_in_n",
            "lo",
            "hi",
            "expected",
            "published_bound_exponent",
            "slack_in_exponent",
        ],
    );
    let mut fig = Figure::new(
        "tv",
        "CV-4: TV to p_tmin vs N, 1-D mixture, VP-linear, exact 1-D laws; published exponents as slopes",
        "steps N",
        "TV (dimensionless)",
    )
    .loglog();
    let mut ok_rates = true;
    let mut ok_bound_exp = true;
    let mut txt = Vec::new();
    for (sampler, bound_exp) in samplers {
        let (mut ns, mut tvs, mut kls, mut w2s) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &n in &counts {
            let times = sampler.conventional_grid(&vp, t_max, t_min, n)?;
            let law = output_law_vs(
                sampler,
                &vp,
                &times,
                &data,
                &reference,
                Start::Marginal,
                Accuracy::default(),
            )?;
            tab.push(vec![
                sampler.label().into(),
                n.into(),
                law.tv.into(),
                law.kl.into(),
                law.w2.into(),
                law.error.tv.into(),
            ]);
            ns.push(n as f64);
            tvs.push(law.tv);
            kls.push(law.kl);
            w2s.push(law.w2);
        }
        for (metric, ys, expected) in [("tv", &tvs, -1.0), ("kl", &kls, -2.0), ("w2", &w2s, -1.0)] {
            let fit = loglog_slope(&ns, ys, tol::LEVEL)?;
            let (bexp, slack) = if metric == "tv" {
                (bound_exp.into(), (bound_exp - fit.slope).into())
            } else {
                ("".into(), "".into())
            };
            if metric == "tv" {
                // Checked: the observed TV decays at least as fast as the published exponent, and at 1/N
                // (CLAIMS' expectation, pre-asymptotic tolerance).
                ok_bound_exp &= fit.slope <= bound_exp + tol::ORDER;
                if !sampler.is_stochastic() {
                    ok_rates &= (fit.slope - expected).abs() <= tol::ORDER;
                }
                txt.push(format!(
                    "{} {:.3} (bound {bound_exp})",
                    sampler.label(),
                    fit.slope
                ));
            }
            fits.push(vec![
                sampler.label().into(),
                metric.into(),
                fit.slope.into(),
                fit.lo.into(),
                fit.hi.into(),
                expected.into(),
                bexp,
                slack,
            ]);
        }
        let (x0, y0) = (ns[0], tvs[0]);
        fig = fig
            .with(Series::line(
                sampler.label(),
                ns.iter().copied().zip(tvs.iter().copied()).collect(),
            ))
            .with(Series::reference(
                format!("N^{bound_exp} through {}'s first point", sampler.label()),
                ns.iter()
                    .map(|&n| (n, y0 * (n / x0).powf(bound_exp)))
                    .collect(),
            ));
    }

    // Pathwise error of DDIM against the reference RK4 in λ from the same starting points.
    let model = mix.clone();
    let mut path = Table::new("pathwise", &["steps", "max_abs_error"]);
    let (mut pn, mut pe) = (Vec::new(), Vec::new());
    let refs: Vec<f64> = HO_STARTS
        .iter()
        .map(|&x| {
            reference_lambda_rk4(
                &vp,
                &model,
                &DVector::from_element(1, x),
                t_max,
                t_min,
                20_000,
            )[0]
        })
        .collect();
    for &n in &counts {
        let times = Sampler::Ddim { eta: 0.0 }.conventional_grid(&vp, t_max, t_min, n)?;
        let err = HO_STARTS
            .iter()
            .zip(&refs)
            .map(|(&x, r)| {
                let out = Sampler::Ddim { eta: 0.0 }.run(
                    &vp,
                    &times,
                    DVector::from_element(1, x),
                    &model,
                    &mut PcgNoise::seeded(0),
                );
                (out[0] - r).abs()
            })
            .fold(0.0, f64::max);
        path.push(vec![n.into(), err.into()]);
        pn.push(n as f64);
        pe.push(err);
    }
    let path_fit = loglog_slope(&pn, &pe, tol::LEVEL)?;
    let path_fig = Figure::new(
        "pathwise",
        "CV-4: DDIM pathwise error vs N (same start, reference RK4 in λ)",
        "steps N",
        "max |x_N − x_ref| (data units)",
    )
    .loglog()
    .with(Series::line(
        "DDIM",
        pn.iter().copied().zip(pe.iter().copied()).collect(),
    ))
    .with(Series::reference(
        "1/N",
        pn.iter().map(|&n| (n, pe[0] * pn[0] / n)).collect(),
    ));

    let mut ev = Evidence::within(
        (path_fit.slope + 1.0).abs(),
        tol::ORDER,
        format!(
            "1-D three-mode mixture, VP-linear t ∈ [1e-3, 1], exact 1-D laws to p_tmin: fitted TV slopes in N: {}; DDIM pathwise order {:.3} (expected −1 ± {}); the ODE bound exponent −1 is tight, the SDE exponent −½ is loose by ≈ ½ (report, don't fail)",
            txt.join(", "),
            path_fit.slope,
            tol::ORDER
        ),
    )
    .require(ok_bound_exp, "an observed TV decays slower than the published upper-bound exponent")
    .require(ok_rates, "DDIM's TV rate is not 1/N");
    if ev.verdict == Verdict::Pass {
        ev.detail
            .push_str("; DDIM decays at 1/N like its bound; the SDE samplers decay faster than their bound's 1/√N (CLAIMS' 1/N for DDPM is reported in the fits, not checked)");
    }
    Ok(ev
        .table(tab)
        .table(fits)
        .table(path)
        .figure(fig)
        .figure(path_fig))
}
