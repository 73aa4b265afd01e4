#!/usr/bin/env python3
"""Exact output laws of `diffusers` samplers on a Gaussian target (reference data).

Target law: x0 ~ N(MU, diag(LAM)) in d = 4 coordinates, with a zero eigenvalue
(LAM[0] = 0, singular data).  For the DDPM marginal

    x_t = sqrt(abar) x0 + sqrt(1 - abar) eps

the exact (Bayes-optimal) noise predictor is affine per coordinate:

    eps_hat(x; abar) = sqrt(1 - abar) (x - sqrt(abar) MU) / (abar LAM + 1 - abar).

We run each scheduler *unchanged* (its own `set_timesteps`, `scale_model_input`
and `step`) with this oracle as the "model", and obtain the output law exactly:
every step is linear in (sample, model_output, noise) with scalar coefficients
(clip_sample=False, thresholding=False), so the state is kept as an affine form
in independent standard normals, a tensor of shape (R, d):

    row 0      constant part (the mean),
    row k >= 1 coefficient of the k-th independent N(0,1) variable (one
               independent variable per coordinate).

The oracle maps row 0 affinely and rows >= 1 linearly (slope only).  Injected
noise is a unit tensor in a fresh row (passed as `variance_noise` where `step`
accepts it, otherwise by replacing the module-level `randn_tensor` of the
scheduler module).  The initial sample is row1 = init_noise_sigma, i.e.
x_T ~ N(0, init_noise_sigma^2 I).  Output: mean = row 0, variance = sum of
squares of rows >= 1.  Each stochastic scheduler is validated once against a
Monte Carlo run (--mc-samples, default 200000).

Which abar the oracle uses:
  * DDPM / DDIM: abar = scheduler.alphas_cumprod[t] at the integer timestep t
    passed to the model.
  * sigma-parameterised schedulers (Euler, Heun, EulerAncestral, DPMSolver
    multistep/singlestep, UniPC, DEIS): abar = 1 / (1 + sigma^2) with
    sigma = scheduler.sigmas[scheduler.step_index] at the time of the model
    call (after `scale_model_input`; the step index is initialised with the
    scheduler's own `_init_step_index` if `scale_model_input` did not).  This
    is exactly the sigma the scheduler itself uses to convert the model output
    (for fractional "linspace" timesteps or Karras sigmas it differs from
    alphas_cumprod at round(t)).  For Euler/Heun/EulerAncestral the model sees
    the scaled input x / sqrt(1 + sigma^2), a DDPM-scale sample.

Precision: torch default dtype is float64 and the scheduler modules hard-code
float32 in many places (betas, sigmas, timesteps, and `sample.to(float32)`
inside `step`).  In the default "float64" mode the names `np` and `torch`
inside each scheduler module are replaced, while that scheduler is built and
run, by thin proxies whose `float32` attribute is float64; everything else is
the unmodified diffusers code.  Each config is also run with the library as
shipped (precision="native", float32 internals), only to quantify the float32
effect (float32_effect.csv).

Outputs (in --out): laws.csv, configs.csv, grids.csv, mc_validation.csv,
float32_effect.csv.  See README.md there.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import inspect
import math
import os
import sys

import numpy as np
import torch

import diffusers

torch.set_default_dtype(torch.float64)

LAM = [0.0, 0.01, 0.25, 4.0]
MU = [0.5, -1.0, 0.0, 2.0]
D = len(LAM)

BETAS = {
    "linear": dict(beta_schedule="linear", beta_start=1e-4, beta_end=0.02),
    "scaled": dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
    "cos": dict(beta_schedule="squaredcos_cap_v2"),
}

MODULES = {
    "DDPMScheduler": "scheduling_ddpm",
    "DDIMScheduler": "scheduling_ddim",
    "DPMSolverMultistepScheduler": "scheduling_dpmsolver_multistep",
    "DPMSolverSinglestepScheduler": "scheduling_dpmsolver_singlestep",
    "EulerDiscreteScheduler": "scheduling_euler_discrete",
    "HeunDiscreteScheduler": "scheduling_heun_discrete",
    "EulerAncestralDiscreteScheduler": "scheduling_euler_ancestral_discrete",
    "UniPCMultistepScheduler": "scheduling_unipc_multistep",
    "DEISMultistepScheduler": "scheduling_deis_multistep",
}
SIGMA_BASED = set(MODULES) - {"DDPMScheduler", "DDIMScheduler"}
STOCHASTIC_NOTE = "stochastic"

# Every parameter that any config sets; one column each in configs.csv.
PARAM_COLUMNS = [
    "beta_schedule", "beta_start", "beta_end", "num_train_timesteps", "steps",
    "timestep_spacing", "steps_offset", "set_alpha_to_one", "eta", "variance_type",
    "algorithm_type", "solver_order", "solver_type", "final_sigmas_type",
    "lower_order_final", "use_karras_sigmas", "predict_x0", "solver_p",
]


def build_configs():
    """Return a list of (config_id, class_name, init_kwargs, steps, step_kwargs)."""
    cfgs = []

    def add(cid, cls, beta, steps, step_kwargs=None, **kw):
        init = dict(BETAS[beta], num_train_timesteps=1000, prediction_type="epsilon", **kw)
        if cls in ("DDPMScheduler", "DDIMScheduler"):
            init.update(clip_sample=False, thresholding=False)
        elif cls in ("DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler",
                     "UniPCMultistepScheduler", "DEISMultistepScheduler"):
            init.update(thresholding=False)
        cfgs.append((cid, cls, init, steps, step_kwargs or {}))

    # DDPM
    for sp, s, vt in [("leading", 1000, "fixed_small"), ("leading", 1000, "fixed_large"),
                      ("leading", 50, "fixed_small"), ("trailing", 50, "fixed_small"),
                      ("linspace", 50, "fixed_small"), ("trailing", 50, "fixed_large")]:
        add(f"ddpm-linear-{sp}-s{s}-{vt.split('_')[1]}", "DDPMScheduler", "linear", s,
            timestep_spacing=sp, variance_type=vt)
    add("ddpm-cos-trailing-s50-small", "DDPMScheduler", "cos", 50,
        timestep_spacing="trailing", variance_type="fixed_small")
    add("ddpm-scaled-trailing-s50-small", "DDPMScheduler", "scaled", 50,
        timestep_spacing="trailing", variance_type="fixed_small")

    # DDIM
    for beta, sp, s, eta, a1, off in [
        ("linear", "leading", 50, 0.0, True, 0),
        ("linear", "leading", 50, 1.0, True, 0),
        ("linear", "trailing", 50, 0.0, True, 0),
        ("linear", "linspace", 50, 0.0, True, 0),
        ("linear", "leading", 50, 0.0, False, 0),
        ("linear", "leading", 10, 0.0, True, 1),
        ("linear", "trailing", 10, 1.0, True, 0),
        ("linear", "linspace", 10, 1.0, True, 0),
        ("scaled", "leading", 50, 0.0, False, 1),
        ("cos", "trailing", 10, 0.0, True, 0),
    ]:
        cid = f"ddim-{beta}-{sp}-s{s}-eta{eta:g}-a1{str(a1).lower()}" + (f"-off{off}" if off else "")
        add(cid, "DDIMScheduler", beta, s, dict(eta=eta), timestep_spacing=sp,
            set_alpha_to_one=a1, steps_offset=off)

    # DPM-Solver multistep (default timestep_spacing linspace, lower_order_final default True)
    for beta, alg, order, s, fin, karras in [
        ("linear", "dpmsolver++", 1, 25, "zero", False),
        ("linear", "dpmsolver++", 2, 25, "zero", False),
        ("linear", "dpmsolver++", 3, 25, "zero", False),
        ("linear", "dpmsolver++", 2, 10, "sigma_min", False),
        ("linear", "dpmsolver++", 3, 10, "zero", False),
        ("linear", "dpmsolver", 2, 25, "sigma_min", False),
        ("linear", "dpmsolver", 2, 10, "sigma_min", False),
        ("linear", "sde-dpmsolver++", 1, 25, "zero", False),
        ("linear", "sde-dpmsolver++", 2, 25, "zero", False),
        ("linear", "sde-dpmsolver++", 2, 10, "sigma_min", False),
        ("scaled", "dpmsolver++", 2, 25, "zero", True),
        ("cos", "dpmsolver++", 2, 10, "zero", False),
    ]:
        name = {"dpmsolver++": "dpmpp", "dpmsolver": "dpm", "sde-dpmsolver++": "sdedpmpp"}[alg]
        cid = f"{name}-{beta}-o{order}-s{s}-{fin.replace('_', '')}" + ("-karras" if karras else "")
        add(cid, "DPMSolverMultistepScheduler", beta, s, algorithm_type=alg, solver_order=order,
            final_sigmas_type=fin, use_karras_sigmas=karras)

    # DPM-Solver singlestep
    add("dpmss-linear-o2-s10-zero", "DPMSolverSinglestepScheduler", "linear", 10,
        algorithm_type="dpmsolver++", solver_order=2, final_sigmas_type="zero")
    add("dpmss-linear-o3-s25-zero", "DPMSolverSinglestepScheduler", "linear", 25,
        algorithm_type="dpmsolver++", solver_order=3, final_sigmas_type="zero")

    # Euler / Heun / Euler ancestral
    for cls, short in [("EulerDiscreteScheduler", "euler"), ("HeunDiscreteScheduler", "heun"),
                       ("EulerAncestralDiscreteScheduler", "eulera")]:
        for sp, s in [("linspace", 10), ("linspace", 50), ("leading", 50), ("trailing", 50)]:
            if cls == "HeunDiscreteScheduler" and (sp, s) == ("linspace", 50):
                continue
            add(f"{short}-linear-{sp}-s{s}", cls, "linear", s, timestep_spacing=sp)
    add("euler-scaled-leading-s50-off1", "EulerDiscreteScheduler", "scaled", 50,
        timestep_spacing="leading", steps_offset=1)

    # Bonus
    add("unipc-linear-o2-s10", "UniPCMultistepScheduler", "linear", 10, solver_order=2)
    add("unipc-linear-o3-s25", "UniPCMultistepScheduler", "linear", 25, solver_order=3)
    add("deis-linear-o2-s25", "DEISMultistepScheduler", "linear", 25, solver_order=2)
    add("deis-linear-o3-s10", "DEISMultistepScheduler", "linear", 10, solver_order=3)
    return cfgs


MATRIX_STEPS = [1, 2, 3, 4, 5, 7, 10, 14, 15, 25, 50, 100]
MATRIX_STEPS_EDGE = [499, 500, 999, 1000]  # where leading/linspace grids repeat timesteps (subset of schedulers)


def matrix_schedulers():
    """Every scheduler configuration of the matrix (issue 13): (short name, class, init kwargs, step kwargs,
    spacing-dependent).  The spacing and beta schedule are added by build_matrix."""
    out = []
    for vt in ("fixed_small", "fixed_large"):
        out.append((f"ddpm-{vt.split('_')[1]}", "DDPMScheduler", dict(variance_type=vt), {}))
    for eta in (0.0, 1.0):
        for a1 in (True, False):
            out.append((f"ddim-eta{eta:g}-a1{str(a1).lower()}", "DDIMScheduler", dict(set_alpha_to_one=a1),
                        dict(eta=eta)))
    for fin in ("zero", "sigma_min"):
        out.append((f"euler-{fin.replace('_', '')}", "EulerDiscreteScheduler", dict(final_sigmas_type=fin), {}))
    out.append(("eulera", "EulerAncestralDiscreteScheduler", {}, {}))
    out.append(("heun", "HeunDiscreteScheduler", {}, {}))
    for alg, short in (("dpmsolver++", "dpmpp"), ("sde-dpmsolver++", "sdedpmpp"), ("dpmsolver", "dpm")):
        for fin in ("zero", "sigma_min"):
            for order in (1, 2, 3):
                if alg == "dpmsolver" and fin == "zero" and order != 2:
                    continue  # the library refuses this pair: one representative is enough
                out.append((f"{short}-o{order}-{fin.replace('_', '')}", "DPMSolverMultistepScheduler",
                            dict(algorithm_type=alg, solver_order=order, final_sigmas_type=fin), {}))
    for fin in ("zero", "sigma_min"):
        for order in (1, 2, 3):
            out.append((f"dpmss-o{order}-{fin.replace('_', '')}", "DPMSolverSinglestepScheduler",
                        dict(algorithm_type="dpmsolver++", solver_order=order, final_sigmas_type=fin), {}))
            out.append((f"unipc-o{order}-{fin.replace('_', '')}", "UniPCMultistepScheduler",
                        dict(solver_order=order, final_sigmas_type=fin), {}))
    for order in (1, 2, 3):
        out.append((f"deis-o{order}", "DEISMultistepScheduler", dict(solver_order=order), {}))
    return out


def karras_schedulers():
    out = []
    for alg, short in (("dpmsolver++", "dpmpp"), ("sde-dpmsolver++", "sdedpmpp"), ("dpmsolver", "dpm")):
        for fin in ("zero", "sigma_min"):
            if alg == "dpmsolver" and fin == "zero":
                continue
            for order in (1, 2, 3):
                out.append((f"{short}-o{order}-{fin.replace('_', '')}-karras", "DPMSolverMultistepScheduler",
                            dict(algorithm_type=alg, solver_order=order, final_sigmas_type=fin,
                                 use_karras_sigmas=True), {}))
    return out


SPACINGS = [("leading", 0), ("leading", 1), ("trailing", 0), ("linspace", 0)]


def build_matrix(steps_list=None, edge=True):
    """The whole matrix: every scheduler of matrix_schedulers() under every spacing (leading with
    steps_offset 0 and 1, trailing, linspace) on the three beta schedules, Karras variants once per beta
    schedule, at every step count of MATRIX_STEPS (and the edge step counts for one scheduler per class)."""
    cfgs = []

    def add(cid, cls, beta, steps, step_kwargs, **kw):
        init = dict(BETAS[beta], num_train_timesteps=1000, prediction_type="epsilon", **kw)
        if cls in ("DDPMScheduler", "DDIMScheduler"):
            init.update(clip_sample=False, thresholding=False)
        elif cls in ("DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler",
                     "UniPCMultistepScheduler", "DEISMultistepScheduler"):
            init.update(thresholding=False)
        cfgs.append((cid, cls, init, steps, step_kwargs))

    steps_list = steps_list or MATRIX_STEPS
    edge_names = {"ddpm-small", "ddim-eta0-a1false", "euler-zero", "heun", "dpmpp-o2-zero", "dpmpp-o3-sigmamin",
                  "sdedpmpp-o3-sigmamin", "unipc-o2-zero", "deis-o3", "dpm-o3-sigmamin"}
    for beta in ("linear", "scaled", "cos"):
        for sp, off in SPACINGS:
            tag = sp + (f"{off}" if sp == "leading" else "")
            for name, cls, kw, skw in matrix_schedulers():
                kw = dict(kw)
                if cls == "DPMSolverSinglestepScheduler":
                    if sp != "linspace":
                        if sp == "trailing":  # one representative: the library has no such option
                            kw["timestep_spacing"] = sp
                        else:
                            continue
                else:
                    kw.update(timestep_spacing=sp, steps_offset=off)
                counts = list(steps_list) + (MATRIX_STEPS_EDGE if edge and beta == "linear" and name in edge_names else [])
                for n in counts:
                    add(f"m-{beta}-{tag}-{name}-s{n}", cls, beta, n, dict(skw), **kw)
        for name, cls, kw, skw in karras_schedulers():
            for n in steps_list:
                add(f"m-{beta}-karras-{name}-s{n}", cls, beta, n, dict(skw), **kw)
    return cfgs


def library_grid_status(sch, cls_name):
    """'zero-length-step' when the library's own grid repeats a noise level between consecutive steps."""
    if cls_name in SIGMA_BASED:
        sig = [float(v) for v in sch.sigmas]
        if cls_name == "HeunDiscreteScheduler":
            sig = sig[::2] + ([sig[-1]] if len(sig) % 2 == 0 else [])
        if any(a == b for a, b in zip(sig, sig[1:])):
            return "zero-length-step"
    return ""


def run_matrix(out_dir, only=None):
    cfgs = [c for c in build_matrix() if only is None or only in c[0]]
    rows_cfg, rows_law = [], []
    for cfg in cfgs:
        cid, cls_name, init, steps, step_kwargs = cfg
        status, note, mean, var, info, grid = "ok", "", None, None, None, None
        try:
            mean, var, grid, info = run(cfg)
            if not (torch.isfinite(mean).all() and torch.isfinite(var).all()):
                status = "nan"
        except Exception as exc:  # the library refuses the configuration
            status = "raises"
            note = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]
        if status != "raises":
            module = importlib.import_module(f"diffusers.schedulers.{MODULES[cls_name]}")
            with patched(module, "float64", None):
                sch = getattr(diffusers, cls_name)(**init)
                sch.set_timesteps(steps)
                zl = library_grid_status(sch, cls_name)
            if zl:
                note = zl
        p = {k: init.get(k, "") for k in PARAM_COLUMNS}
        p["steps"] = steps
        p["eta"] = step_kwargs.get("eta", "")
        timesteps = ""
        if grid is not None:
            ts = [r["timestep"] for r in grid if r.get("phase", "") != "heun-corrector"]
            timesteps = ";".join(fmt(float(t)) for t in ts) if steps <= 100 else ""
        rows_cfg.append([cid, cls_name] + [fmt(p[k]) for k in PARAM_COLUMNS]
                        + [f17(info["init_noise_sigma"]) if info else "", info["n_calls"] if info else "",
                           status, note, timesteps])
        if status == "ok":
            for j in range(D):
                rows_law.append([cid, j, f17(mean[j]), f17(var[j])])
        print(f"{cid:50s} {status} {note}", file=sys.stderr)
    with open(os.path.join(out_dir, "matrix_configs.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "scheduler"] + PARAM_COLUMNS + ["init_noise_sigma", "model_calls", "status", "note",
                                                              "timesteps"])
        w.writerows(rows_cfg)
    with open(os.path.join(out_dir, "matrix_laws.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "coord", "mean", "variance"])
        w.writerows(rows_law)


# ----------------------------------------------------------------------------- precision


class _Proxy:
    """Delegates to a module but maps the attribute `float32` to float64."""

    def __init__(self, mod, f64):
        object.__setattr__(self, "_mod", mod)
        object.__setattr__(self, "_f64", f64)

    def __getattr__(self, name):
        if name == "float32":
            return self._f64
        return getattr(self._mod, name)


@contextlib.contextmanager
def patched(module, precision, noise_fn):
    """Temporarily patch a scheduler module: float64 proxies and/or noise source."""
    saved = {k: module.__dict__[k] for k in ("np", "torch", "randn_tensor") if k in module.__dict__}
    try:
        if precision == "float64":
            module.np = _Proxy(np, np.float64)
            module.torch = _Proxy(torch, torch.float64)
        if noise_fn is not None and "randn_tensor" in saved:
            module.randn_tensor = noise_fn
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


# ----------------------------------------------------------------------------- oracle

LAM_T = torch.tensor(LAM, dtype=torch.float64)
MU_T = torch.tensor(MU, dtype=torch.float64)


def eps_hat(x, abar, affine_rows):
    """Exact noise predictor; rows listed in affine_rows get the constant term."""
    abar = float(abar)
    slope = math.sqrt(1.0 - abar) / (abar * LAM_T + 1.0 - abar)
    out = slope * x
    shift = slope * math.sqrt(abar) * MU_T
    if affine_rows == "all":
        out = out - shift
    else:
        out[0] = out[0] - shift
    return out


def as_float(v):
    return float(v.item()) if torch.is_tensor(v) else float(v)


def run(cfg, precision="float64", mode="exact", n_mc=0, seed=0):
    """Run one config. mode 'exact' -> (mean, var, grid, info); 'mc' -> samples."""
    cid, cls_name, init, steps, step_kwargs = cfg
    module = importlib.import_module(f"diffusers.schedulers.{MODULES[cls_name]}")
    cls = getattr(diffusers, cls_name)

    rows = steps * 2 + 4  # enough fresh rows for one noise draw per step call
    counter = {"next": 2}
    gen = torch.Generator().manual_seed(seed) if mode == "mc" else None

    def fresh_noise(shape, generator=None, device=None, dtype=None, layout=None):
        if mode == "mc":
            return torch.randn(shape, generator=gen, dtype=torch.float64)
        z = torch.zeros(shape, dtype=torch.float64)
        z[counter["next"]] = 1.0
        counter["next"] += 1
        return z

    with patched(module, precision, fresh_noise):
        sch = cls(**init)
        sch.set_timesteps(steps)
        if mode == "exact":
            x = torch.zeros(rows, D, dtype=torch.float64)
            x[1] = as_float(sch.init_noise_sigma)
            affine = "row0"
        else:
            x = torch.randn(n_mc, D, generator=gen, dtype=torch.float64) * as_float(sch.init_noise_sigma)
            affine = "all"
        accepts_vn = "variance_noise" in inspect.signature(sch.step).parameters
        grid = []
        timesteps = list(sch.timesteps)
        for call, t in enumerate(timesteps):
            inp = sch.scale_model_input(x, t)
            rec = dict(call=call, timestep=as_float(t))
            if cls_name in SIGMA_BASED:
                if sch.step_index is None:
                    sch._init_step_index(t)
                si = sch.step_index
                sigma = as_float(sch.sigmas[si])
                if cls_name == "HeunDiscreteScheduler" and not sch.state_in_first_order:
                    sigma_to = sigma  # corrector call: evaluated at the target sigma
                    rec["phase"] = "heun-corrector"
                else:
                    sigma_to = as_float(sch.sigmas[si + 1])
                    rec["phase"] = "heun-predictor" if cls_name == "HeunDiscreteScheduler" else ""
                abar = 1.0 / (1.0 + sigma * sigma)
                rec.update(step_index=si, sigma=sigma, sigma_prev=sigma_to,
                           alpha_cumprod=abar, alpha_cumprod_prev=1.0 / (1.0 + sigma_to * sigma_to))
                if cls_name == "DPMSolverMultistepScheduler":
                    rec["order"] = dpm_multistep_order(sch, si)
                elif cls_name == "DPMSolverSinglestepScheduler":
                    rec["order"] = sch.order_list[si]
            else:
                ti = int(t)
                abar = as_float(sch.alphas_cumprod[ti])
                if cls_name == "DDPMScheduler":
                    pt = int(sch.previous_timestep(ti))
                    aprev = as_float(sch.alphas_cumprod[pt]) if pt >= 0 else as_float(sch.one)
                else:
                    pt = ti - sch.config.num_train_timesteps // sch.num_inference_steps
                    aprev = as_float(sch.alphas_cumprod[pt]) if pt >= 0 else as_float(sch.final_alpha_cumprod)
                rec.update(step_index=call, prev_timestep=pt, alpha_cumprod=abar, alpha_cumprod_prev=aprev,
                           sigma=math.sqrt((1 - abar) / abar), sigma_prev=math.sqrt((1 - aprev) / aprev))
            grid.append(rec)
            out = eps_hat(inp, abar, affine)
            kw = dict(step_kwargs)
            if accepts_vn and mode == "exact":
                kw["variance_noise"] = fresh_noise(x.shape)
            elif mode == "mc" and "generator" in inspect.signature(sch.step).parameters:
                kw["generator"] = gen
            x = sch.step(out, t, x, **kw).prev_sample
            assert x.dtype == torch.float64
        info = dict(init_noise_sigma=as_float(sch.init_noise_sigma), n_calls=len(timesteps),
                    rows_used=counter["next"], arrays_dtype={
                        k: str(getattr(sch, k).dtype) for k in ("betas", "alphas_cumprod", "sigmas", "timesteps")
                        if torch.is_tensor(getattr(sch, k, None))})
    if mode == "mc":
        return x
    if counter["next"] > rows:
        raise RuntimeError(f"{cid}: noise rows overflow")
    return x[0].clone(), (x[1:] ** 2).sum(0), grid, info


def dpm_multistep_order(sch, si):
    """Replicates DPMSolverMultistepScheduler.step's order choice (for grids.csv)."""
    c = sch.config
    n = len(sch.timesteps)
    lof = si == n - 1 and (c.euler_at_final or (c.lower_order_final and n < 15) or c.final_sigmas_type == "zero")
    los = si == n - 2 and c.lower_order_final and n < 15
    lon = sch.lower_order_nums
    if c.solver_order == 1 or lon < 1 or lof:
        return 1
    if c.solver_order == 2 or lon < 2 or los:
        return 2
    return 3


# ----------------------------------------------------------------------------- output


def fmt(v):
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return repr(v) if not v.is_integer() or abs(v) >= 1e16 else f"{v:.1f}"
    return str(v)


def f17(v):
    return format(float(v), ".17g")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "diffusers"))
    ap.add_argument("--mc-samples", type=int, default=200_000)
    ap.add_argument("--skip-mc", action="store_true")
    ap.add_argument("--only", default=None, help="substring filter on config ids (debugging)")
    ap.add_argument("--matrix", action="store_true",
                    help="write only the whole-matrix reference (matrix_configs.csv, matrix_laws.csv)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.matrix:
        run_matrix(args.out, args.only)
        return

    cfgs = [c for c in build_configs() if args.only is None or args.only in c[0]]
    ids = [c[0] for c in cfgs]
    assert len(ids) == len(set(ids)), "duplicate config ids"

    laws, grids, cfg_rows, f32rows = [], [], [], []
    for cfg in cfgs:
        cid, cls_name, init, steps, step_kwargs = cfg
        mean, var, grid, info = run(cfg)
        try:
            mean32, var32, _, info32 = run(cfg, precision="native")
            note = ""
        except RuntimeError as exc:  # e.g. UniPC: float32 sigmas vs float64 default dtype
            note = f"fails with default dtype float64 ({str(exc).splitlines()[0]}); rerun with default float32"
            torch.set_default_dtype(torch.float32)
            try:
                mean32, var32, _, info32 = run(cfg, precision="native")
            finally:
                torch.set_default_dtype(torch.float64)
        for j in range(D):
            laws.append([cid, j, f17(mean[j]), f17(var[j])])
        for r in grid:
            grids.append([cid, r["call"], r["step_index"], fmt(r["timestep"]), r.get("prev_timestep", ""),
                          f17(r["alpha_cumprod"]), f17(r["alpha_cumprod_prev"]), f17(r["sigma"]),
                          f17(r["sigma_prev"]), r.get("phase", ""), r.get("order", "")])
        p = {k: init.get(k, "") for k in PARAM_COLUMNS}
        p["steps"] = steps
        p["eta"] = step_kwargs.get("eta", "")
        # record scheduler defaults that matter (read back from the config)
        sch_cfg = getattr(diffusers, cls_name)(**init).config
        for k in ("timestep_spacing", "steps_offset", "set_alpha_to_one", "variance_type", "algorithm_type",
                  "solver_order", "solver_type", "final_sigmas_type", "lower_order_final", "use_karras_sigmas",
                  "predict_x0", "solver_p"):
            if k in sch_cfg and p[k] == "":
                p[k] = sch_cfg[k]
        cfg_rows.append([cid, cls_name] + [fmt(p[k]) for k in PARAM_COLUMNS]
                        + [f17(info["init_noise_sigma"]), info["n_calls"]])
        dm = (mean - mean32).abs().max().item()
        dva = (var - var32).abs().max().item()
        dvr = ((var - var32).abs() / var)[1:].max().item()  # coords with LAM > 0
        f32rows.append([cid, f"{dm:.3e}", f"{dva:.3e}", f"{dvr:.3e}", f17(info32["init_noise_sigma"]),
                        ";".join(f"{k}={v}" for k, v in info32["arrays_dtype"].items()), note])
        print(f"{cid:40s} mean={[round(float(m), 5) for m in mean]} var={[round(float(v), 6) for v in var]}",
              file=sys.stderr)

    with open(os.path.join(args.out, "laws.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "coord", "mean", "variance"])
        w.writerows(laws)
    with open(os.path.join(args.out, "configs.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "scheduler"] + PARAM_COLUMNS + ["init_noise_sigma", "model_calls"])
        w.writerows(cfg_rows)
    with open(os.path.join(args.out, "grids.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "call", "step_index", "timestep", "prev_timestep", "alpha_cumprod",
                    "alpha_cumprod_prev", "sigma", "sigma_prev", "phase", "order"])
        w.writerows(grids)
    with open(os.path.join(args.out, "float32_effect.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "max_abs_mean_diff", "max_abs_var_diff", "max_rel_var_diff_coords123", "native_init_noise_sigma",
                    "native_array_dtypes", "note"])
        w.writerows(f32rows)

    if args.skip_mc:
        return
    # Monte Carlo validation of the affine-form trick, once per stochastic scheduler.
    mc_ids = ["ddpm-linear-leading-s50-small", "ddpm-linear-trailing-s50-large", "ddim-linear-trailing-s10-eta1-a1true",
              "sdedpmpp-linear-o2-s10-sigmamin", "eulera-linear-linspace-s10"]
    mc_rows = []
    by_id = {c[0]: c for c in cfgs}
    for cid in mc_ids:
        if cid not in by_id:
            continue
        mean, var, _, _ = run(by_id[cid])
        xs = run(by_id[cid], mode="mc", n_mc=args.mc_samples, seed=12345)
        n = xs.shape[0]
        m_mc, v_mc = xs.mean(0), xs.var(0, unbiased=True)
        for j in range(D):
            # absolute floor 1e-12: coordinate 0 (LAM = 0) may have a variance that is pure round-off
            se_m = max(math.sqrt(float(var[j]) / n), 1e-12)
            se_v = max(float(var[j]) * math.sqrt(2.0 / (n - 1)), 1e-12)
            zm = (float(m_mc[j]) - float(mean[j])) / se_m
            zv = (float(v_mc[j]) - float(var[j])) / se_v
            mc_rows.append([cid, j, n, f17(mean[j]), f17(m_mc[j]), f"{zm:.3f}", f17(var[j]), f17(v_mc[j]),
                            f"{zv:.3f}", str(abs(zm) < 5 and abs(zv) < 5).lower()])
            print(f"MC {cid} coord {j}: z_mean={zm:.2f} z_var={zv:.2f}", file=sys.stderr)
    with open(os.path.join(args.out, "mc_validation.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["config", "coord", "samples", "exact_mean", "mc_mean", "z_mean", "exact_variance",
                    "mc_variance", "z_variance", "within_5se"])
        w.writerows(mc_rows)
    if not all(r[-1] == "true" for r in mc_rows):
        sys.exit("Monte Carlo validation failed")


if __name__ == "__main__":
    main()
