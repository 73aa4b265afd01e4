//! Numerical quadrature (one place for it).

/// Composite Simpson rule on equally spaced samples `values` (an odd count) with spacing `h`.
pub fn simpson(values: &[f64], h: f64) -> f64 {
    let n = values.len() - 1;
    let mut s = values[0] + values[n];
    for (i, v) in values.iter().enumerate().take(n).skip(1) {
        s += if i % 2 == 1 { 4.0 * v } else { 2.0 * v };
    }
    s * h / 3.0
}

/// Cumulative trapezoid rule on equally spaced samples `values` with spacing `h`: entry k is the integral
/// from the first node to node k (entry 0 is 0).
pub fn cumulative_trapezoid(values: &[f64], h: f64) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    for k in 1..values.len() {
        out[k] = out[k - 1] + 0.5 * h * (values[k - 1] + values[k]);
    }
    out
}

/// The positive nodes of the 8-point Gauss–Legendre rule on [−1, 1] (the rule is symmetric).
pub const GL8_NODES: [f64; 4] = [
    0.183_434_642_495_649_8,
    0.525_532_409_916_329,
    0.796_666_477_413_626_7,
    0.960_289_856_497_536_3,
];
/// The weights of [`GL8_NODES`] (each node ±x carries the same weight).
pub const GL8_WEIGHTS: [f64; 4] = [
    0.362_683_783_378_362,
    0.313_706_645_877_887_3,
    0.222_381_034_453_374_5,
    0.101_228_536_290_376_3,
];

/// Composite 8-point Gauss–Legendre quadrature of `f` on [a, b] with `panels` panels.
pub fn gauss_legendre(f: &dyn Fn(f64) -> f64, a: f64, b: f64, panels: usize) -> f64 {
    use self::{GL8_NODES as X, GL8_WEIGHTS as W};
    let h = (b - a) / panels as f64;
    let mut sum = 0.0;
    for p in 0..panels {
        let (lo, hi) = (a + p as f64 * h, a + (p + 1) as f64 * h);
        let (c, r) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        for (x, w) in X.iter().zip(W) {
            sum += w * r * (f(c - r * x) + f(c + r * x));
        }
    }
    sum
}

/// Adaptive composite Gauss–Legendre on [a, b]: a panel is accepted when its 8-point value and the sum of
/// its two halves agree to `tol` (absolute, halved with each bisection) or to round-off, else it is
/// bisected (at most `depth` times). Returns (integral, estimated error = Σ of the accepted panels' differences).
pub fn adaptive_gauss_legendre(
    f: &dyn Fn(f64) -> f64,
    a: f64,
    b: f64,
    tol: f64,
    depth: usize,
) -> (f64, f64) {
    let whole = gauss_legendre(f, a, b, 1);
    let halves = gauss_legendre(f, a, b, 2);
    let diff = (whole - halves).abs();
    // Accept at the requested tolerance or at round-off (a few ulps of the panel's value): asking for less
    // than round-off would bisect to the depth limit for nothing.
    if diff <= tol || diff <= 8.0 * f64::EPSILON * halves.abs() || depth == 0 {
        return (halves, diff);
    }
    let m = 0.5 * (a + b);
    let (l, el) = adaptive_gauss_legendre(f, a, m, 0.5 * tol, depth - 1);
    let (r, er) = adaptive_gauss_legendre(f, m, b, 0.5 * tol, depth - 1);
    (l + r, el + er)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_trapezoid_is_exact_on_linear_integrands() {
        // f(x) = 2x + 1 on [0, 2], h = 0.25: the trapezoid rule is exact, ∫₀ˣ f = x² + x.
        let h = 0.25;
        let vals: Vec<f64> = (0..9).map(|k| 2.0 * (h * k as f64) + 1.0).collect();
        let cum = cumulative_trapezoid(&vals, h);
        assert_eq!(cum.len(), 9);
        for (k, c) in cum.iter().enumerate() {
            let x = h * k as f64;
            assert!((c - (x * x + x)).abs() < 1e-14, "{k}: {c}");
        }
        assert!(cumulative_trapezoid(&[], h).is_empty());
    }

    #[test]
    fn adaptive_gauss_legendre_integrates_a_peaked_integrand() {
        // ∫₀¹ 1/(1e-4 + x²) dx = 100 atan(100): a peak of width 1e-2 at 0.
        let (v, err) = adaptive_gauss_legendre(&|x| 1.0 / (1e-4 + x * x), 0.0, 1.0, 1e-12, 40);
        let exact = 100.0 * 100.0_f64.atan();
        assert!((v - exact).abs() < 1e-10 * exact, "{v} {exact}");
        assert!(err < 1e-10, "{err}");
    }
}
