//! Published reference numbers of the solver family: the error table of CLAIMS §8.

/// The §8 reference table: (label, errors at N = 10, 20, 40, 80, 160).
pub(super) const HO_TABLE: [(&str, [f64; 5]); 6] = [
    (
        "dpm-solver-1",
        [2.28e-1, 9.62e-2, 4.55e-2, 2.22e-2, 1.10e-2],
    ),
    (
        "dpm-solver-2",
        [7.27e-2, 1.20e-2, 2.75e-3, 6.53e-4, 1.59e-4],
    ),
    (
        "dpm-solver-3",
        [7.25e-3, 4.30e-4, 3.43e-5, 3.49e-6, 3.85e-7],
    ),
    (
        "dpm-solver++2m",
        [8.54e-2, 1.55e-2, 3.15e-3, 7.79e-4, 1.93e-4],
    ),
    ("edm-euler", [3.02e-1, 1.07e-1, 4.90e-2, 2.36e-2, 1.16e-2]),
    ("edm-heun", [1.82e-1, 2.90e-2, 5.95e-3, 1.35e-3, 3.23e-4]),
];
