//! SM-2 (e): the figures: the objectives along a random line in θ (Gaussian, exact; parallel curves) and
//! the constant C_t against t (Gaussian closed form, mixture quadrature).

use super::super::common::{normal, normal_vec, random_affine};
use crate::claims::Ctx;
use crate::evidence::{Figure, Series};
use crate::losses::gaussian::{self as gx, AffineScore};
use crate::losses::mixture::constants;
use crate::losses::{NoiseLevel, Target};
use crate::schedule::VpLinear;
use crate::target::{Gaussian, Mixture};
use anyhow::Result;
use nalgebra::DMatrix;
use rand::Rng;

/// ESM, ISM, 2·SSM, DSM and the ε-loss/σ² along a random line θ₀ + uδ of affine models (VP, t = 0.3).
pub(super) fn line<R: Rng + ?Sized>(g: &Gaussian, sch: &VpLinear, rng: &mut R) -> Figure {
    let d = g.dim();
    let n_line = NoiseLevel::at(sch, 0.3);
    let m0 = random_affine(d, &mut *rng);
    let dp = DMatrix::from_fn(d, d, |_, _| normal(&mut *rng));
    let dm = normal_vec(d, &mut *rng);
    let mut series: Vec<(&str, Vec<(f64, f64)>)> = vec![
        ("ESM", vec![]),
        ("ISM", vec![]),
        ("2·SSM", vec![]),
        ("DSM", vec![]),
        ("ε-loss/σ²", vec![]),
    ];
    for k in 0..=20 {
        let u = (k as f64 - 10.0) / 10.0;
        let model = AffineScore {
            p: &m0.p + &dp * u,
            m: &m0.m + &dm * u,
        };
        let vals = [
            gx::esm(g, &model, &n_line),
            gx::ism(g, &model, &n_line),
            2.0 * gx::ssm(g, &model, &n_line),
            gx::dsm(g, &model, &n_line),
            gx::conditional_loss(g, &model, Target::Eps, &n_line) / n_line.sigma.powi(2),
        ];
        for (s, v) in series.iter_mut().zip(vals) {
            s.1.push((u, v));
        }
    }
    let mut line = Figure::new("line", "SM-2: objectives along a random line in θ (Gaussian d=4, VP t=0.3, exact): parallel curves", "u (dimensionless; θ = θ₀ + u·δ)", "objective (1/data units²)");
    for (name, pts) in series {
        line = line.with(Series::line(name, pts));
    }
    line
}

/// C_t, d/σ² and E‖∇log p_t‖² against t for the Gaussian (closed form) and the mixture (quadrature).
pub(super) fn constant(
    ctx: &Ctx,
    g: &Gaussian,
    mix: &Mixture,
    sch: &VpLinear,
    panels: usize,
) -> Result<Figure> {
    let d = g.dim();
    let (mut c_pts, mut big_pts, mut f_pts) = (vec![], vec![], vec![]);
    for k in 0..60 {
        let t = 10f64.powf(-3.0 + 3.0 * k as f64 / 59.0);
        let n = NoiseLevel::at(sch, t);
        c_pts.push((t, gx::dsm_constant_posterior(g, &n)));
        big_pts.push((t, d as f64 / (n.sigma * n.sigma)));
        f_pts.push((t, gx::fisher(g, &n)));
    }
    let mut mix_c = vec![];
    let mut mix_f = vec![];
    for k in 0..ctx.scale.pick(4, 12) {
        let t = 10f64.powf(-2.0 + 2.0 * k as f64 / (ctx.scale.pick(4, 12) - 1) as f64);
        let n = NoiseLevel::at(sch, t);
        let kc = constants(mix, &n, panels)?;
        mix_c.push((t, kc.dsm_from_posterior));
        mix_f.push((t, kc.fisher));
    }
    Ok(Figure::new(
        "constant",
        "SM-2: the DSM − ESM constant C_t (VP-linear)",
        "t (T = 1)",
        "value (1/data units²)",
    )
    .loglog()
    .with(Series::line("C_t, Gaussian d=4", c_pts))
    .with(Series::reference("d/σ_t², Gaussian", big_pts))
    .with(Series::line("E‖∇log p_t‖², Gaussian", f_pts))
    .with(Series::line("C_t, 2-D mixture (quadrature)", mix_c))
    .with(Series::line(
        "E‖∇log p_t‖², 2-D mixture (quadrature)",
        mix_f,
    )))
}
