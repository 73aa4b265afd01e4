#!/usr/bin/env python3
"""Recompute the Pierret & Galerne ICML 2025 ablation table with plain numpy.

Paper: E. Pierret, B. Galerne, "Diffusion models for Gaussian distributions: exact solutions and
Wasserstein errors", ICML 2025, arXiv:2405.14250. The conventions and the published table are the ones
written down in /work/shared/PIERRET-GALERNE.md. This is a standalone cross-check of the Rust harness:
it imports nothing from it and shares no code with the authors' notebook.

Model: p_data = N(0, Sigma), and only the eigenvalues lam_i of Sigma are used. Forward VP SDE with a
factor-2 convention, beta_t = beta_min + (beta_max - beta_min) t with beta_min = 0.05, beta_max = 10, T = 1,
B_t = beta_min t + (beta_max - beta_min) t^2 / 2, and per eigenvalue lam^t = e^{-2 B_t} lam + 1 - e^{-2 B_t}.

Every sampler is linear in (y_k, z_k) with coefficients that are functions of Sigma, so in Sigma's
eigenbasis the variance of each coordinate follows a scalar recursion v_{k+1} = m_k(lam)^2 v_k + q_k.
The sampler grid is t_k = (T - eps) k / (N - 1), k = 0..N-1 (N points, N - 1 steps, h = (T - eps)/(N - 1));
scores and beta are taken at forward time T - t_k. Schemes (a_k = lam^{T - t_k}, b_k = beta(T - t_k),
c(t) = beta_{T-t} (1 - 1/lam^{T-t}) the per-eigenvalue PF-ODE drift):

  EM     v+ = (1 + h b_k (1 - 2/a_k))^2 v + 2 h b_k
  EI     v+ = (1 + g1 (1 - 2/a_k))^2 v + 2 g2,  g1 = e^{dB} - 1, g2 = (e^{2 dB} - 1)/2,
         dB = B_{T-t_k} - B_{T-t_{k+1}}
  DDPM   v+ = (1 - bD/a_k)^2 / (1 - bD) v + bD,  bD = 2 h b_k (as the authors' code does)
  Euler  v+ = (1 + h c(t_k))^2 v
  Heun   v+ = (1 + h/2 c(t_k) + h/2 c(t_{k+1}) (1 + h c(t_k)))^2 v
  RK4    classic RK4 on dy = c(t) y dt, midpoints t_k + h/2

Initialisations: "p_T" (v_0 = lam^T, the exact law) and "N_0" (v_0 = 1). Output:
W2(output, p_data) = sqrt(sum_i (sqrt(v_i) - sqrt(lam_i))^2), i.e. truncation error included. Heun and RK4
evaluate the score at the final forward time eps; at eps = 0 that is Sigma^{-1} itself, so the cell is
infinite ("-" in the paper) as soon as Sigma has a zero eigenvalue.

NFE bookkeeping as in the published table: N = NFE grid points for EM, EI, DDPM, Euler, and also for
Heun (the table loop's bug: about 2 NFE evaluations); N = NFE // 4 for RK4.

Continuous columns: "SDE" (printed in the EM rows) and "ODE" (printed in the Euler rows). With p_T both
equal W2(p_eps, p_0); from N(0, I) the SDE law is lam_eps + e^{-2(B_T - B_eps)} lam_eps^2/lam_T (1/lam_T - 1)
and the ODE law is lam_eps / lam_T.

Output: the table on stdout (4 significant digits; cells whose value does not round to the published
string are flagged with '!'), a check of every published cell at its printed precision, and the wall time
of the whole table computation (time.perf_counter, spectrum loading excluded), min and median over
--repeat runs. --csv PATH writes `scheme,eps,nfe,grid_points,init,w2`, one row per cell (discrete schemes,
then the continuous SDE/ODE cells with empty nfe and grid_points); infinities are written `inf`.
--json-timing PATH writes {"min_s", "median_s", "numpy", ...}. --strict exits 1 if a published cell
is not reproduced.

Spectrum: --spectrum PATH, else $PG_EIGENVALUES, else
/work/shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy (read with numpy.load, cast to float64).
The published-cell check is only meaningful for that (the authors') spectrum.

Requirements: numpy (see scripts/requirements-numpy.txt).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:  # pragma: no cover
    sys.exit("numpy is missing: python3 -m pip install -r scripts/requirements-numpy.txt")

# --- Model constants (PIERRET-GALERNE.md, "Conventions") -------------------------------------------------
T = 1.0
BETA_MIN = 0.1 / 2
BETA_MAX = 20.0 / 2

SCHEMES = ("EM", "EI", "DDPM", "Euler", "Heun", "RK4")
EPS_VALUES = (0.0, 1e-5, 1e-4, 1e-3)
NFE_VALUES = (50, 250, 500, 1000)
INITS = ("p_T", "N_0")
BLOCK = 16  # steps whose coefficients are computed together (speed only; results do not depend on it)
DEFAULT_SPECTRUM = "/work/shared/data/pierret-galerne/cifar10_eigenvalues_2025.npy"


def beta(s):
    """beta at forward time s."""
    return BETA_MIN + (BETA_MAX - BETA_MIN) * s


def big_b(s):
    """B_s = int_0^s beta_u du."""
    return BETA_MIN * s + 0.5 * (BETA_MAX - BETA_MIN) * s * s


def lam_at(lam, s):
    """Eigenvalues of Sigma_s = e^{-2B_s} Sigma + (1 - e^{-2B_s}) I; broadcasts lam against s."""
    two_b = 2.0 * big_b(s)
    return np.exp(-two_b) * lam - np.expm1(-two_b)


def grid_points(scheme: str, nfe: int) -> int:
    """N for a budget of `nfe` evaluations, as the published table does it (Heun: N = NFE, the bug)."""
    return nfe // 4 if scheme == "RK4" else nfe


def step_coefficients(scheme: str, lam, t, h: float):
    """Coefficients of v_{k+1} = m2[k] * v_k + q[k] for the steps t[0] -> t[1] -> ... -> t[-1].

    `t` holds consecutive sampler times t_k of the grid (a block of it), `h` the step. Returns (m2, q,
    singular): m2 has shape (len(t)-1, d), q shape (len(t)-1,), and `singular` tells whether the scheme
    evaluates the score at a zero eigenvalue (only possible at forward time 0, i.e. eps = 0).
    Vectorised over steps and eigenvalues.
    """
    n = len(t)
    s = T - t  # forward times T - t_k
    a = lam_at(lam[None, :], s[:, None])  # (n, d): lam^{T - t_k}
    b = beta(s)
    zeros = np.zeros(n - 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if scheme == "EM":
            m = 1.0 + (h * b[:-1])[:, None] * (1.0 - 2.0 / a[:-1])
            return m * m, 2.0 * h * b[:-1], bool(np.any(a[:-1] == 0.0))
        if scheme == "EI":
            db = big_b(s[:-1]) - big_b(s[1:])
            g1, g2 = np.expm1(db), 0.5 * np.expm1(2.0 * db)
            m = 1.0 + g1[:, None] * (1.0 - 2.0 / a[:-1])
            return m * m, 2.0 * g2, bool(np.any(a[:-1] == 0.0))
        if scheme == "DDPM":
            bd = 2.0 * h * b[:-1]
            m = 1.0 - bd[:, None] / a[:-1]
            return m * m / (1.0 - bd)[:, None], bd, bool(np.any(a[:-1] == 0.0))
        # ODE schemes: c(t) = beta_{T-t} (1 - 1/lam^{T-t}).
        c = b[:, None] * (1.0 - 1.0 / a)
        if scheme == "Euler":
            m = 1.0 + h * c[:-1]
            return m * m, zeros, bool(np.any(a[:-1] == 0.0))
        if scheme == "Heun":
            m = 1.0 + 0.5 * h * c[:-1] + 0.5 * h * c[1:] * (1.0 + h * c[:-1])
            return m * m, zeros, bool(np.any(a == 0.0))
        if scheme == "RK4":
            s_mid = T - (t[:-1] + 0.5 * h)
            a_mid = lam_at(lam[None, :], s_mid[:, None])
            c_mid = beta(s_mid)[:, None] * (1.0 - 1.0 / a_mid)
            k1 = c[:-1]
            k2 = c_mid * (1.0 + 0.5 * h * k1)
            k3 = c_mid * (1.0 + 0.5 * h * k2)
            k4 = c[1:] * (1.0 + h * k3)
            m = 1.0 + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            singular = bool(np.any(a == 0.0) or np.any(a_mid == 0.0))
            return m * m, zeros, singular
    raise ValueError(f"unknown scheme {scheme!r}")


def w2_to_data(v, lam):
    """W2 between centred co-diagonal Gaussians with eigenvalues v (..., d) and lam (d,)."""
    return np.sqrt(np.sum((np.sqrt(v) - np.sqrt(lam)) ** 2, axis=-1))


def run_scheme(scheme: str, lam, n: int, eps: float, block: int = BLOCK):
    """W2(output, p_data) of `scheme` on n grid points stopped at eps, for (p_T, N_0) initialisations."""
    h = (T - eps) / (n - 1)
    t = (T - eps) * np.arange(n) / (n - 1)  # sampler times t_k = (T - eps) k / (N - 1)
    v = np.stack([lam_at(lam, T), np.ones_like(lam)])  # rows: v_0 for p_T, N_0
    for k0 in range(0, n - 1, block):  # blocks of steps keep the (steps, d) temporaries cache-sized
        m2, q, singular = step_coefficients(scheme, lam, t[k0 : k0 + block + 1], h)
        if singular:
            return (np.inf, np.inf)
        for k in range(len(q)):
            v = m2[k] * v + q[k]
    w = w2_to_data(v, lam)
    return (float(w[0]), float(w[1]))


def continuous(lam, eps: float):
    """W2(output, p_data) of the exact SDE and ODE samplers stopped at eps: {(kind, init): w2}."""
    lam_eps, lam_t = lam_at(lam, eps), lam_at(lam, T)
    trunc = float(w2_to_data(lam_eps, lam))
    damp = np.exp(-2.0 * (big_b(T) - big_b(eps)))
    sde_n0 = lam_eps + damp * lam_eps**2 / lam_t * (1.0 / lam_t - 1.0)
    ode_n0 = lam_eps / lam_t
    return {
        ("SDE", "p_T"): trunc,
        ("SDE", "N_0"): float(w2_to_data(sde_n0, lam)),
        ("ODE", "p_T"): trunc,
        ("ODE", "N_0"): float(w2_to_data(ode_n0, lam)),
    }


def compute_table(lam):
    """Every cell of the ICML table: list of dicts (scheme, eps, nfe, grid_points, init, w2)."""
    cells = []
    for scheme in SCHEMES:
        for eps in EPS_VALUES:
            for nfe in NFE_VALUES:
                n = grid_points(scheme, nfe)
                for init, w in zip(INITS, run_scheme(scheme, lam, n, eps)):
                    cells.append(dict(scheme=scheme, eps=eps, nfe=nfe, grid_points=n, init=init, w2=w))
    for eps in EPS_VALUES:
        for (kind, init), w in continuous(lam, eps).items():
            cells.append(dict(scheme=kind, eps=eps, nfe=None, grid_points=None, init=init, w2=w))
    return cells


# --- The published table (PIERRET-GALERNE.md, "ICML 2025 ablation table"), cells as printed -----------
# Per row: Cont. p_T, Cont. N_0, then (p_T, N_0) for NFE = 50, 250, 500, 1000. "" = not printed,
# "-" = infinite. The continuous cells of the EM rows are the SDE, those of the Euler rows the ODE.
PUBLISHED = {
    ("EM", 0.0): "0 6.7E-04 | 4.78 4.78 0.65 0.66 0.32 0.32 0.16 0.16",
    ("EM", 1e-5): "4.1E-03 4.2E-03 | 4.77 4.77 0.66 0.66 0.32 0.32 0.16 0.16",
    ("EM", 1e-4): "0.03 0.03 | 4.76 4.76 0.66 0.66 0.32 0.32 0.17 0.17",
    ("EM", 1e-3): "0.18 0.18 | 4.68 4.68 0.70 0.70 0.40 0.40 0.27 0.27",
    ("EI", 0.0): "| 2.81 2.81 0.57 0.57 0.30 0.30 0.16 0.16",
    ("EI", 1e-5): "| 2.81 2.81 0.57 0.57 0.30 0.30 0.16 0.16",
    ("EI", 1e-4): "| 2.82 2.82 0.58 0.58 0.31 0.31 0.17 0.17",
    ("EI", 1e-3): "| 2.91 2.91 0.67 0.67 0.41 0.41 0.29 0.29",
    ("DDPM", 0.0): "| 6.82 6.82 0.97 0.97 0.47 0.47 0.23 0.23",
    ("DDPM", 1e-5): "| 6.82 6.82 0.97 0.97 0.47 0.47 0.24 0.23",
    ("DDPM", 1e-4): "| 6.81 6.81 0.98 0.98 0.47 0.47 0.24 0.24",
    ("DDPM", 1e-3): "| 6.74 6.74 1.00 1.00 0.53 0.53 0.32 0.32",
    ("Euler", 0.0): "0 0.07 | 1.72 1.78 0.38 0.44 0.20 0.26 0.10 0.17",
    ("Euler", 1e-5): "4.1E-03 0.07 | 1.72 1.78 0.38 0.44 0.20 0.26 0.10 0.17",
    ("Euler", 1e-4): "0.03 0.08 | 1.72 1.78 0.38 0.44 0.20 0.26 0.11 0.17",
    ("Euler", 1e-3): "0.18 0.19 | 1.73 1.79 0.42 0.48 0.27 0.32 0.21 0.25",
    ("Heun", 0.0): "| - - - - - - - -",
    ("Heun", 1e-5): "| 23.42 23.42 2.86 2.87 1.05 1.06 0.37 0.38",
    ("Heun", 1e-4): "| 4.68 4.68 0.43 0.44 0.12 0.14 0.03 0.08",
    ("Heun", 1e-3): "| 0.58 0.59 0.13 0.15 0.16 0.18 0.17 0.19",
    ("RK4", 0.0): "| - - - - - - - -",
    ("RK4", 1e-5): "| 67.32 67.32 5.49 5.49 2.11 2.11 0.77 0.77",
    ("RK4", 1e-4): "| 14.35 14.35 0.93 0.93 0.29 0.29 0.07 0.10",
    ("RK4", 1e-3): "| 2.60 2.60 0.09 0.12 0.15 0.17 0.17 0.19",
}
CONTINUOUS_ROW = {"EM": "SDE", "Euler": "ODE"}


def published_cells():
    """{(scheme, eps, nfe or None, init): printed string}; nfe None for the continuous SDE/ODE cells."""
    out = {}
    for (scheme, eps), row in PUBLISHED.items():
        cont, disc = (part.split() for part in row.split("|"))
        for init, printed in zip(INITS, cont):
            out[(CONTINUOUS_ROW[scheme], eps, None, init)] = printed
        for i, printed in enumerate(disc):
            out[(scheme, eps, NFE_VALUES[i // 2], INITS[i % 2])] = printed
    return out


def rounds_to(value: float, printed: str) -> bool:
    """Whether `value` rounds to the printed cell at its printed precision ("-" = infinite)."""
    if printed == "-":
        return value == np.inf
    if not np.isfinite(value):
        return False
    if "E" in printed:
        digits = len(printed.split("E")[0].partition(".")[2])
        return f"{value:.{digits}E}" == printed
    digits = len(printed.partition(".")[2])
    return f"{value:.{digits}f}" == printed


def check(cells):
    """Compare every published cell: (number compared, {key: (computed, printed)} for the mismatches)."""
    computed = {(c["scheme"], c["eps"], c["nfe"], c["init"]): c["w2"] for c in cells}
    pub = published_cells()
    misses = {key: (computed[key], printed) for key, printed in pub.items()
              if not rounds_to(computed[key], printed)}
    return len(pub), misses


# --- Output ----------------------------------------------------------------------------------------------
def fmt(w: float) -> str:
    return "-" if w == np.inf else f"{w:.4g}"


def print_table(cells, flagged):
    by_key = {(c["scheme"], c["eps"], c["nfe"], c["init"]): c["w2"] for c in cells}
    header = ["scheme", "eps", "Cont.p_T", "Cont.N_0"] + [f"{n} {i}" for n in NFE_VALUES for i in INITS]
    rows = [header]
    for scheme in SCHEMES:
        for eps in EPS_VALUES:
            row = [scheme + ("*" if scheme == "Heun" else ""), f"{eps:g}"]
            kind = CONTINUOUS_ROW.get(scheme)
            keys = [(kind, eps, None, i) if kind else None for i in INITS]
            keys += [(scheme, eps, n, i) for n in NFE_VALUES for i in INITS]
            for key in keys:
                row.append("" if key is None else fmt(by_key[key]) + ("!" if key in flagged else ""))
            rows.append(row)
    widths = [max(len(r[j]) for r in rows) for j in range(len(header))]
    for r in rows:
        print("  ".join(x.rjust(w) for x, w in zip(r, widths)))
    print("* Heun with N = NFE grid points, as in the published table; RK4 with N = NFE // 4.")


def write_csv(path, cells):
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["scheme", "eps", "nfe", "grid_points", "init", "w2"])
        for c in cells:
            nfe, n = ("", "") if c["nfe"] is None else (c["nfe"], c["grid_points"])
            out.writerow([c["scheme"], f"{c['eps']:g}", nfe, n, c["init"], repr(float(c["w2"]))])  # "inf"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spectrum", default=os.environ.get("PG_EIGENVALUES") or DEFAULT_SPECTRUM,
                    help="eigenvalues of Sigma (.npy); default $PG_EIGENVALUES, else %(default)s")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of the whole table (default 5)")
    ap.add_argument("--csv", metavar="PATH", help="write scheme,eps,nfe,grid_points,init,w2")
    ap.add_argument("--json-timing", metavar="PATH", help='write {"min_s", "median_s", "numpy"}')
    ap.add_argument("--strict", action="store_true", help="exit 1 if a published cell is not reproduced")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    try:
        lam = np.asarray(np.load(args.spectrum), dtype=np.float64).ravel()
    except OSError as e:
        sys.exit(f"cannot read the spectrum {args.spectrum}: {e}")
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        sys.exit(f"{args.spectrum}: expected finite non-negative eigenvalues")
    print(f"spectrum: {args.spectrum} (d = {lam.size}, trace {lam.sum():.4f}, "
          f"{int(np.sum(lam == 0))} zero eigenvalues)")

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cells = compute_table(lam)
        times.append(time.perf_counter() - t0)
    t_min, t_med = min(times), statistics.median(times)

    compared, misses = check(cells)
    print()
    print_table(cells, set(misses))
    print()
    print(f"published cells reproduced at their printed precision: {compared - len(misses)}/{compared}")
    for key, (value, printed) in misses.items():
        scheme, eps, nfe, init = key
        where = f"{scheme} eps={eps:g} {'continuous' if nfe is None else f'NFE={nfe}'} {init}"
        print(f"  MISMATCH {where}: computed {value:.6g}, printed {printed}")
    if misses:
        print("  (the published cells refer to the authors' CIFAR-10 spectrum, cifar10_eigenvalues_2025.npy)")
    n_disc = sum(c["nfe"] is not None for c in cells)
    steps = sum(c["grid_points"] - 1 for c in cells if c["nfe"] is not None and c["init"] == "p_T")
    print(f"timing of the whole table ({n_disc} discrete cells = {steps} steps x 2 inits, "
          f"+ {len(cells) - n_disc} continuous cells; spectrum loading excluded): "
          f"min {t_min:.4f} s, median {t_med:.4f} s over {args.repeat} runs (numpy {np.__version__})")

    if args.csv:
        write_csv(args.csv, cells)
    if args.json_timing:
        with open(args.json_timing, "w") as f:
            json.dump({"min_s": t_min, "median_s": t_med, "numpy": np.__version__,
                       "repeat": args.repeat, "times_s": times}, f, indent=2)
            f.write("\n")
    return 1 if (args.strict and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
