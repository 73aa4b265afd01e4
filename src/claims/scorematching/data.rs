//! Published reference numbers of the score-matching family: the efficiency table of SM-6.

/// SM-6 (TZ abstract; Koehler–Heckett–Risteski 2023; CLAIMS §5): the asymptotic variance ratio SM/MLE
/// R = J·Var of the double-well tilt family, as (θ, a, printed R, unit of its last printed digit).
pub(super) const SM6_TABLE: [(f64, f64, f64, f64); 8] = [
    (0.0, 0.0, 1.371, 1e-3),
    (0.0, 1.0, 2.214, 1e-3),
    (0.0, 2.0, 25.74, 1e-2),
    (0.0, 3.0, 156.8, 1e-1),
    (0.5, 0.0, 1.407, 1e-3),
    (0.5, 1.0, 2.233, 1e-3),
    (0.5, 2.0, 13.56, 1e-2),
    (0.5, 3.0, 30.69, 1e-2),
];
