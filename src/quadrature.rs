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

/// Composite 8-point Gauss–Legendre quadrature of `f` on [a, b] with `panels` panels.
pub fn gauss_legendre(f: &dyn Fn(f64) -> f64, a: f64, b: f64, panels: usize) -> f64 {
    const X: [f64; 4] = [
        0.183_434_642_495_649_8,
        0.525_532_409_916_329,
        0.796_666_477_413_626_7,
        0.960_289_856_497_536_3,
    ];
    const W: [f64; 4] = [
        0.362_683_783_378_362,
        0.313_706_645_877_887_3,
        0.222_381_034_453_374_5,
        0.101_228_536_290_376_3,
    ];
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
