"""The ops only ``benchmarks/kernels_gpu.py`` times: the LTC and CfC recurrences, and Chimera's 2-D
scan at a fixed number of variates (benchmarks/kernels.py's scan2d case sizes them by its own ``vars``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernel_cases as kc  # noqa: E402  (benchmarks/kernel_cases.py: Case and scan2d's inputs)
from tsrec.kernels import cfc_scan, ltc_scan  # noqa: E402


def _ltc_make(size: dict, device) -> dict:
    """The LTC solver's inputs at ncps's initial ranges (units ``chans``, unfolds ``state``)."""
    b, t, u = size["batch"], size["time"], size["chans"]

    def rand(*shape, low=0.0, high=1.0):
        return (low + (high - low) * torch.rand(*shape, device=device)).requires_grad_()

    cm = rand(u, low=2.4, high=3.6)
    return {"terms": rand(b, t, 2 * u, high=0.5), "v0": rand(b, u, low=-0.2, high=0.2), "cm_t": cm,
            "leak_num": rand(u, low=-0.1, high=0.1), "leak_den": rand(u, low=3.0, high=4.0), "w": rand(u, u),
            "w_erev": rand(u, u, low=-1.0), "sigma": rand(u, u, low=3.0, high=8.0), "mu": rand(u, u, low=0.3, high=0.8)}


LTC_CASE = kc.Case(
    "ltc_scan (C = units, N = unfolds)", [], _ltc_make,
    lambda x, be: ltc_scan(**x, ode_unfolds=6, backend=be),
    nbytes=lambda s: 4 * s["batch"] * s["time"] * s["chans"] * (2 + 1 + s["state"]),  # terms; out; states
    work=lambda s: (0, 0))


def _cfc_make(size: dict, device) -> dict:
    """The CfC recurrence's inputs (units ``chans``, backbone width ``state``), Xavier-like scales."""
    b, t, u, z = size["batch"], size["time"], size["chans"], size["state"]
    rand = lambda *shape, scale=1.0: (scale * torch.randn(*shape, device=device)).requires_grad_()  # noqa: E731
    heads = {}
    for name in ("1", "2", "t"):
        heads["W" + name], heads["b" + name] = rand(z, u, scale=(2 / (z + u)) ** 0.5), rand(u, scale=0.1)
    return {"xz": rand(b, t, z), "h0": rand(b, u, scale=0.1), "W_h": rand(u, z, scale=(2 / (z + u)) ** 0.5), **heads}


CFC_CASE = kc.Case(
    "cfc_scan (C = units, N = backbone)", [], _cfc_make, lambda x, be: cfc_scan(**x, backend=be),
    nbytes=lambda s: 4 * s["batch"] * s["time"] * (s["state"] + s["chans"]),  # read xz, write h
    work=lambda s: (0, 0))


def _scan2d_case(n_vars: int) -> kc.Case:
    """Chimera's 2-D scan over ``n_vars`` variates (benchmarks/kernels.py's inputs and byte count)."""
    return kc.Case(
        f"scan2d (V = {n_vars} variates)", [], lambda s, device: kc._scan2d_make({**s, "vars": n_vars}, device),
        kc._scan2d_call, nbytes=lambda s: 16 * s["batch"] * s["time"] * n_vars * (s["chans"] + s["state"]),
        work=lambda s: (0, 0))


# Chimera's default widths (16 channels, state 8): ETTh1's 7 variates, Electricity's 321
SCAN2D_CASES = [_scan2d_case(7), _scan2d_case(321)]
GPU_ONLY_CASES = [LTC_CASE, CFC_CASE, *SCAN2D_CASES]
