//! Published numbers of the `wasserstein` family (Pierret & Galerne, ICML 2025), as printed in
//! shared/PIERRET-GALERNE.md: the ablation table (PG-TABLE), Fig. 1 (PG-FIG1-LEFT/RIGHT), the recomputed
//! orders' sample values (PG-ORDERS) and the truncation floor (PG-DECOMP). Cells are strings so that their
//! printed precision (`common::half_unit`) travels with them; "−" is +∞.

/// The ICML table as printed: (scheme, ε, continuous p_T, continuous N_0, [NFE 50 p_T, 50 N_0, 250 p_T,
/// 250 N_0, 500 p_T, 500 N_0, 1000 p_T, 1000 N_0]). "" = not printed; "−" = infinite.
#[allow(clippy::type_complexity)]
pub(super) const ICML: &[(&str, f64, &str, &str, [&str; 8])] = &[
    (
        "em",
        0.0,
        "0",
        "6.7E-04",
        [
            "4.78", "4.78", "0.65", "0.66", "0.32", "0.32", "0.16", "0.16",
        ],
    ),
    (
        "em",
        1e-5,
        "4.1E-03",
        "4.2E-03",
        [
            "4.77", "4.77", "0.66", "0.66", "0.32", "0.32", "0.16", "0.16",
        ],
    ),
    (
        "em",
        1e-4,
        "0.03",
        "0.03",
        [
            "4.76", "4.76", "0.66", "0.66", "0.32", "0.32", "0.17", "0.17",
        ],
    ),
    (
        "em",
        1e-3,
        "0.18",
        "0.18",
        [
            "4.68", "4.68", "0.70", "0.70", "0.40", "0.40", "0.27", "0.27",
        ],
    ),
    (
        "ei",
        0.0,
        "",
        "",
        [
            "2.81", "2.81", "0.57", "0.57", "0.30", "0.30", "0.16", "0.16",
        ],
    ),
    (
        "ei",
        1e-5,
        "",
        "",
        [
            "2.81", "2.81", "0.57", "0.57", "0.30", "0.30", "0.16", "0.16",
        ],
    ),
    (
        "ei",
        1e-4,
        "",
        "",
        [
            "2.82", "2.82", "0.58", "0.58", "0.31", "0.31", "0.17", "0.17",
        ],
    ),
    (
        "ei",
        1e-3,
        "",
        "",
        [
            "2.91", "2.91", "0.67", "0.67", "0.41", "0.41", "0.29", "0.29",
        ],
    ),
    (
        "ddpm",
        0.0,
        "",
        "",
        [
            "6.82", "6.82", "0.97", "0.97", "0.47", "0.47", "0.23", "0.23",
        ],
    ),
    (
        "ddpm",
        1e-5,
        "",
        "",
        [
            "6.82", "6.82", "0.97", "0.97", "0.47", "0.47", "0.24", "0.23",
        ],
    ),
    (
        "ddpm",
        1e-4,
        "",
        "",
        [
            "6.81", "6.81", "0.98", "0.98", "0.47", "0.47", "0.24", "0.24",
        ],
    ),
    (
        "ddpm",
        1e-3,
        "",
        "",
        [
            "6.74", "6.74", "1.00", "1.00", "0.53", "0.53", "0.32", "0.32",
        ],
    ),
    (
        "euler",
        0.0,
        "0",
        "0.07",
        [
            "1.72", "1.78", "0.38", "0.44", "0.20", "0.26", "0.10", "0.17",
        ],
    ),
    (
        "euler",
        1e-5,
        "4.1E-03",
        "0.07",
        [
            "1.72", "1.78", "0.38", "0.44", "0.20", "0.26", "0.10", "0.17",
        ],
    ),
    (
        "euler",
        1e-4,
        "0.03",
        "0.08",
        [
            "1.72", "1.78", "0.38", "0.44", "0.20", "0.26", "0.11", "0.17",
        ],
    ),
    (
        "euler",
        1e-3,
        "0.18",
        "0.19",
        [
            "1.73", "1.79", "0.42", "0.48", "0.27", "0.32", "0.21", "0.25",
        ],
    ),
    (
        "heun",
        0.0,
        "",
        "",
        ["−", "−", "−", "−", "−", "−", "−", "−"],
    ),
    (
        "heun",
        1e-5,
        "",
        "",
        [
            "23.42", "23.42", "2.86", "2.87", "1.05", "1.06", "0.37", "0.38",
        ],
    ),
    (
        "heun",
        1e-4,
        "",
        "",
        [
            "4.68", "4.68", "0.43", "0.44", "0.12", "0.14", "0.03", "0.08",
        ],
    ),
    (
        "heun",
        1e-3,
        "",
        "",
        [
            "0.58", "0.59", "0.13", "0.15", "0.16", "0.18", "0.17", "0.19",
        ],
    ),
    ("rk4", 0.0, "", "", ["−", "−", "−", "−", "−", "−", "−", "−"]),
    (
        "rk4",
        1e-5,
        "",
        "",
        [
            "67.32", "67.32", "5.49", "5.49", "2.11", "2.11", "0.77", "0.77",
        ],
    ),
    (
        "rk4",
        1e-4,
        "",
        "",
        [
            "14.35", "14.35", "0.93", "0.93", "0.29", "0.29", "0.07", "0.10",
        ],
    ),
    (
        "rk4",
        1e-3,
        "",
        "",
        [
            "2.60", "2.60", "0.09", "0.12", "0.15", "0.17", "0.17", "0.19",
        ],
    ),
];

/// Correctly budgeted Heun (N = NFE/2), N(0,I), recomputed in PIERRET-GALERNE.md: (ε, [NFE 50, 250, 500, 1000]).
pub(super) const HEUN_BUDGETED: &[(f64, [&str; 4])] = &[
    (1e-5, ["56.26", "7.35", "2.87", "1.06"]),
    (1e-4, ["11.72", "1.32", "0.44", "0.14"]),
    (1e-3, ["2.05", "0.147", "0.149", "0.179"]),
];
/// Fig. 1 left as read in PIERRET-GALERNE.md (NFE 1000, ε = 0, N(0,I)): where every curve starts (t = T).
pub(super) const FIG1_LEFT_START: &str = "5.467e-3";
/// Fig. 1 left: the exact SDE curve (t, W2 to p_t).
pub(super) const FIG1_LEFT_SDE: [(f64, &str); 3] =
    [(0.25, "4.86e-4"), (0.5, "2.03e-4"), (0.0, "6.68e-4")];
/// Fig. 1 left: the exact SDE curve's minimum value and its location.
pub(super) const FIG1_LEFT_SDE_MIN: (&str, &str) = ("1.18e-4", "0.68");
/// Fig. 1 left: the exact ODE curve (t, W2 to p_t).
pub(super) const FIG1_LEFT_ODE: [(f64, &str); 4] = [
    (0.75, "6.92e-3"),
    (0.5, "2.12e-2"),
    (0.25, "5.29e-2"),
    (0.0, "7.30e-2"),
];
/// Fig. 1 left: where the discrete curves end (t = 0): Euler, EM, EI, DDPM.
pub(super) const FIG1_LEFT_ENDS: [(&str, &str, &str); 4] = [
    ("Euler ends", "euler", "0.167"),
    ("EM ends", "em", "0.16"),
    ("EI ends", "ei", "0.16"),
    ("DDPM ends", "ddpm", "0.23"),
];
/// Fig. 1 left, read off the figure: the DDPM dip (value, location).
pub(super) const FIG1_LEFT_DDPM_DIP: (&str, &str) = ("7e-4", "0.85");

/// Fig. 1 right as printed: (ε, [SDE, ODE, EM, EI, DDPM, Euler, Heun N=500, RK4 N=250]).
pub(super) const FIG1_RIGHT: &[(f64, [&str; 8])] = &[
    (
        0.0,
        [
            "6.68e-4", "0.0730", "0.1599", "0.1596", "0.2342", "0.1671", "inf", "inf",
        ],
    ),
    (
        1e-5,
        [
            "4.19e-3", "0.0731", "0.1607", "0.1607", "0.2347", "0.1675", "1.058", "0.773",
        ],
    ),
    (
        1e-4,
        [
            "0.0259", "0.0775", "0.1683", "0.1706", "0.2398", "0.1714", "0.1403", "0.1035",
        ],
    ),
    (
        1e-3,
        [
            "0.1781", "0.1929", "0.2727", "0.2859", "0.3207", "0.2482", "0.1794", "0.1876",
        ],
    ),
    (
        1e-2,
        [
            "1.355", "1.358", "1.425", "1.449", "1.431", "1.369", "1.358", "1.358",
        ],
    ),
];

/// Sample discretisation-only errors at N = 801 printed in PIERRET-GALERNE.md: (ε, scheme, value).
pub(super) const ORDERS_N801: &[(f64, &str, &str)] = &[
    (1e-3, "em", "0.134"),
    (1e-3, "ei", "0.145"),
    (1e-3, "ddpm", "0.253"),
    (1e-3, "euler", "0.115"),
    (1e-3, "heun", "7.1e-3"),
    (1e-3, "rk4", "1.9e-4"),
    (1e-2, "heun", "5.13e-4"),
    (1e-2, "rk4", "1.32e-7"),
];

/// PG-DECOMP's statement: at ε = 1e-3 every scheme's total W2 to p_0 is at least this on CIFAR (Fig. 1
/// right: the exact SDE's 0.1781 is the smallest).
pub(super) const DECOMP_FLOOR_1E3: f64 = 0.178;
