"""The ops that ``benchmarks/kernels.py`` times: one :class:`Case` per op (sizes, inputs, call,
bytes moved) in :data:`CASES`; ``benchmarks/kernels_gpu.py`` reuses them on a GPU.

To add an op, append a ``Case`` to :data:`CASES`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from tsrec.kernels import (  # noqa: E402
    closed_loop_rollout, companion_kernel, fft_conv, linear_scan, nplr_kernel, rnn_scan, s4d_kernel, scan2d,
    selective_scan,
)
from tsrec.kernels.fft_conv import FFT_THRESHOLD, auto_method  # noqa: E402
from tsrec.kernels.scan2d import sweep_limit  # noqa: E402

SCAN2D_DT1, SCAN2D_DT2 = (1e-3, 1e-2), (0.1, 1.0)  # Chimera's trend-head time steps and variate steps

NAIVE_FWD_MAX = 2**25  # elements (batch*time*channels*state) the naive forward is timed up to
NAIVE_BWD_MAX = 2**31  # batch*channels*state*time**2: the cost of its quadratic backward


@dataclass
class Case:
    """One op to benchmark.

    Attributes
    ----------
    op : str
        Op name shown in the report.
    sizes : list of dict
        Size parameters; ``quick`` marks the sizes run with ``--quick``.
    make : callable
        ``make(size, device) -> dict`` of input tensors (leaves that require grad).
    call : callable
        ``call(inputs, backend) -> torch.Tensor`` output to time (and to backprop its sum).
    nbytes : callable
        ``nbytes(size) -> int``: minimal forward bytes moved (for GB/s).
    work : callable
        ``work(size) -> (forward cost, backward cost)`` used for the naive feasibility limits.
    backends : tuple of str
        Backends other than naive to time on CPU (Triton is added on a GPU).
    notes : list of str, or callable
        Lines after the op's table; a callable gets every timing taken so far (``kernels.RESULTS``)
        and returns them, for notes that state what the timings show.
    """

    op: str
    sizes: list
    make: Callable
    call: Callable
    nbytes: Callable
    work: Callable
    backends: tuple = ("torch",)
    gpu_backends: tuple = ("triton",)
    notes: list | Callable = field(default_factory=list)


def _rand(*shape, device, scale=1.0, positive=False):
    x = torch.rand(*shape, device=device) if positive else torch.randn(*shape, device=device)
    return (scale * x).requires_grad_()


def _linear_make(s, device):
    shape = (s["batch"], s["time"], s["chans"])
    return {"a": _rand(*shape, device=device, scale=0.99, positive=True), "b": _rand(*shape, device=device)}


def _selective_make(s, device):
    b, t, d, n = s["batch"], s["time"], s["chans"], s["state"]
    return {"u": _rand(b, t, d, device=device), "delta": _rand(b, t, d, device=device, scale=0.1, positive=True),
            "A": _rand(d, n, device=device, scale=-1.0, positive=True), "B": _rand(b, t, n, device=device),
            "C": _rand(b, t, n, device=device), "D": _rand(d, device=device)}


def _rnn_make(s, device):
    return {"x": _rand(s["batch"], s["time"], s["chans"], device=device),
            "W": _rand(s["chans"], s["chans"], device=device, scale=s["chans"] ** -0.5)}


def _sizes(grid, quick):
    return [dict(zip(("batch", "time", "chans", "state"), g), quick=g[:3] in quick) for g in grid]


# B*T*C capped at 2**25 (a fwd+bwd then needs ~1.5 GB): the machine's memory is shared
LINEAR_GRID = [(b, t, c, 1) for (b, c) in ((1, 64), (4, 64), (8, 256), (16, 1024)) for t in (96, 720, 2048, 4096)
               if b * t * c <= 2**25]
LINEAR_QUICK = {(1, 96, 64), (1, 2048, 64), (4, 4096, 64), (8, 720, 256), (16, 96, 1024), (16, 720, 1024)}
SELECTIVE_GRID = [(4, 96, 16, 16), (2, 2048, 32, 16), (16, 96, 128, 16), (16, 720, 128, 16), (4, 4096, 64, 16),
                  (32, 336, 512, 16)]
SELECTIVE_QUICK = {(4, 96, 16), (2, 2048, 32), (16, 720, 128)}
RNN_GRID = [(64, 96, 64, 1), (64, 720, 64, 1), (8, 2048, 32, 1)]
RNN_QUICK = {(64, 96, 64), (8, 2048, 32)}


def _elems(s):
    return s["batch"] * s["time"] * s["chans"] * s["state"]


CASES: list[Case] = [
    Case("linear_scan", _sizes(LINEAR_GRID, LINEAR_QUICK), _linear_make,
         lambda x, be: linear_scan(x["a"], x["b"], backend=be),
         nbytes=lambda s: 12 * _elems(s),  # read a, b; write h (fp32)
         work=lambda s: (_elems(s), _elems(s) * s["time"])),
    Case("selective_scan", _sizes(SELECTIVE_GRID, SELECTIVE_QUICK), _selective_make,
         lambda x, be: selective_scan(x["u"], x["delta"], x["A"], x["B"], x["C"], D=x["D"], backend=be),
         nbytes=lambda s: 4 * s["batch"] * s["time"] * (3 * s["chans"] + 2 * s["state"]),  # u, delta, y; B, C
         work=lambda s: (_elems(s), _elems(s) * s["time"])),
    Case("rnn_scan (tanh)", _sizes(RNN_GRID, RNN_QUICK), _rnn_make,
         lambda x, be: rnn_scan(x["x"], x["W"], backend=be),
         nbytes=lambda s: 8 * s["batch"] * s["time"] * s["chans"],  # read x, write h
         work=lambda s: (_elems(s), _elems(s) * s["time"])),
]
# --- other ops (fft_conv, companion_kernel, s4d_kernel, nplr_kernel, scan2d ...)


def _grid(grid, quick, **extra):
    """Size dicts for ops whose axes are not (batch, time, chans, state); extra keys ride along."""
    return [dict(zip(("batch", "time", "chans", "state"), g), quick=g in quick, **extra) for g in grid]


def _conv_make(s, device):
    heads = (s["heads"],) if s.get("heads") else ()  # a 3-D kernel: several outputs per channel
    return {"u": _rand(s["batch"], s["time"], s["chans"], device=device),
            "k": _rand(*heads, s["chans"], s["taps"] or s["time"], device=device, scale=0.05)}


def _stable_companion(heads, d, device, n_vectors):
    a = torch.randn(heads, d, device=device)
    a = (0.9 * a / a.abs().sum(-1, keepdim=True)).requires_grad_()  # roots outside the unit disk
    return [a] + [_rand(heads, d, device=device) for _ in range(n_vectors)]


def _companion_make(s, device):
    return dict(zip("abc", _stable_companion(s["chans"], s["state"], device, 2)), L=s["time"])


def _rollout_make(s, device):
    a, b, c, k = _stable_companion(s["chans"], s["state"], device, 3)
    with torch.no_grad():
        k.mul_(0.1)  # small feedback keeps A + b k^T stable
    s0 = _rand(s["batch"], s["chans"], s["state"], device=device)
    return {"a": a, "b": b, "c": c, "k": k, "s0": s0, "L": s["time"]}


def _s4d_make(s, device):
    h, n = s["chans"], s["state"]
    return {"log_dt": _rand(h, device=device, scale=0.1),
            "A_real": _rand(h, n, device=device, scale=-1.0, positive=True),
            "A_imag": _rand(h, n, device=device, scale=3.0),
            "C": torch.randn(h, n, dtype=torch.complex64, device=device).requires_grad_(), "L": s["time"]}


def _nplr_make(s, device):
    h, m = s["chans"], s["state"]
    lam = torch.complex(-0.5 - torch.rand(h, m, device=device), torch.pi * torch.arange(m, device=device).repeat(h, 1))
    x = {n: torch.randn(h, m, dtype=torch.complex64, device=device).requires_grad_() for n in ("P", "B", "C")}
    return {"log_dt": _rand(h, device=device, scale=-3.0, positive=True), "Lambda": lam.requires_grad_(), **x,
            "L": s["time"]}


def _log_uniform(*shape, low, high, device):
    """Steps drawn log-uniformly in ``[low, high]`` (clamped: float32 rounding may step outside)."""
    log = math.log(low) + (math.log(high) - math.log(low)) * torch.rand(*shape, device=device)
    return log.exp().clamp(low, high)


def _scan2d_make(s, device):
    """A stable 2-D system at Chimera's initial ranges (tsrec/nn/chimera_ssm.py, the trend head).

    ``A1, A3, A4`` S4D-real ``-(1..N)``, the cross term ``A2 = -(4 + n) / dt1_min`` (so that
    ``exp(delta1 A2) <= e^-5``), steps log-uniform in the model's ranges (time ``TREND_DT``, at least
    ``dt1_min`` as the model floors it; variates ``VARIATE_DT``), ``B, C`` of variance 1/3 (the
    selection projection on unit-variance input). Random ``A`` near 0 and steps up to 0.5 (these inputs
    before) made every decay ``exp(delta A)`` near 1, cross terms included: the lattice paths through
    the grid then grew the output to 1e9 at V = 7 and past float32 (NaN) at V = 321.
    """
    grid, small = (s["batch"], s["time"], s["vars"], s["chans"]), (s["batch"], s["time"], s["vars"], s["state"])
    (dt1_min, dt1_max), (dt2_min, dt2_max) = SCAN2D_DT1, SCAN2D_DT2
    n = torch.arange(1, s["state"] + 1, dtype=torch.float32, device=device).repeat(s["chans"], 1)
    x = {"x": _rand(*grid, device=device),
         "delta1": _log_uniform(*grid, low=dt1_min, high=dt1_max, device=device).requires_grad_(),
         "delta2": _log_uniform(*grid, low=dt2_min, high=dt2_max, device=device).requires_grad_()}
    for name, a in (("A1", n), ("A2", (4.0 + n) / dt1_min), ("A3", n), ("A4", n)):
        x[name] = (-a).requires_grad_()
    x.update({name: _rand(*small, device=device, scale=3**-0.5) for name in ("B1", "B2", "C1", "C2")})
    return x


def _scan2d_call(x, be):
    names = ("x", "delta1", "delta2", "A1", "A2", "A3", "A4", "B1", "B2", "C1", "C2")
    return scan2d(*[x[n] for n in names], backend=be)[0]


CONV_GRID = [(16, 96, 128, 1), (16, 720, 128, 1), (4, 2048, 64, 1), (32, 336, 512, 1)]
CONV_QUICK = {(16, 720, 128, 1), (4, 2048, 64, 1)}
KERNEL_GRID = [(1, 96, 16, 64), (1, 720, 128, 64), (1, 2048, 64, 16), (1, 720, 128, 4)]  # time = L, chans = H
KERNEL_QUICK = {(1, 720, 128, 64), (1, 2048, 64, 16)}
# the naive NPLR loop multiplies dense (2N x 2N) matrices L times: LS4's widths (N = 32 modes) and less
NPLR_GRID = [(1, 96, 64, 32), (1, 720, 64, 32), (1, 2048, 16, 16)]
NPLR_QUICK = {(1, 720, 64, 32)}
ROLLOUT_GRID = [(32, 96, 128, 64), (32, 720, 128, 64), (8, 336, 16, 16)]
ROLLOUT_QUICK = {(32, 720, 128, 64)}
SCAN2D_GRID = [(16, 96, 16, 16), (4, 336, 32, 16)]
SCAN2D_QUICK = {(16, 96, 16, 16)}
TORCH_ONLY = {"backends": ("torch",), "gpu_backends": ("torch",)}  # cuFFT/cuBLAS are the GPU path


CONV_64_PATH = "direct conv1d" if auto_method(96, 64) == "direct" else "rFFT"  # what auto runs, in the title
CONV_TAPS_GRID = [dict(batch=16, time=96, chans=128, state=1, taps=taps, quick=taps in (16, 64))
                  for taps in (8, 16, 24, 32, 48, 64, 96)]
# many heads over a large batch (SpaceTime-like: batch 50 x 7 variates), where the direct conv holds up longer
CONV_HEADS_GRID = [dict(batch=350, time=96, chans=128, state=1, taps=taps, heads=8, quick=taps == 48)
                   for taps in (16, 32, 48, 96)]


def _conv_method_call(x, be):
    """``be``: "naive", or the torch path's ``method`` ("direct"/"fft") forced past the auto rule."""
    if be == "naive":
        return fft_conv(x["u"], x["k"], backend="naive")
    return fft_conv(x["u"], x["k"], method=be, backend="torch")


def _conv_work(s):
    reach = min(s["time"], s["taps"] or s["time"])
    return s["batch"] * s["time"] * s["chans"] * reach, s["batch"] * s["chans"] * s["time"] ** 2


def _scan2d_work(s):
    # the naive double loop costs ~20 Python-level ops per cell: weight cells, not elements
    cells = s["time"] * s["vars"]
    return cells * 2**14, cells * 2**20


def _kernel_work(s):
    return s["batch"] * s["chans"] * s["state"] ** 2 * s["time"], s["batch"] * s["chans"] * s["state"] ** 2 * s["time"]


_TAPS_CASES = ("fft_conv (direct conv1d vs rFFT by kernel length)",
               "fft_conv (direct conv1d vs rFFT by kernel length, 8 heads)")


def fft_wins_from(results: list[dict], op: str) -> int | None:
    """The fewest taps from which the rFFT's fwd+bwd beat the direct conv's at every longer kernel timed."""
    both = {(r["taps"], r["backend"]): r["both"] for r in results if r["op"] == op and r["device"] == "cpu"}
    taps = sorted({t for t, _ in both})
    wins = [t for t in taps if both.get((t, "fft"), float("inf")) < both.get((t, "direct"), 0.0)]
    tail = [t for i, t in enumerate(taps) if all(u in wins for u in taps[i:])]
    return tail[0] if tail else None


def conv_threshold_note(results: list[dict]) -> list[str]:
    """What the two direct-vs-rFFT tables show about ``FFT_THRESHOLD``, stated from this run's timings."""
    found = [(op, fft_wins_from(results, op)) for op in _TAPS_CASES]
    shown = ", ".join((f"from {t} taps" if t is not None else "at no length")
                      + f" ({'8 heads' if 'heads' in op else 'one output per channel'})" for op, t in found)
    return [f"`method=\"auto\"` runs the direct conv1d below FFT_THRESHOLD = {FFT_THRESHOLD} taps (after cutting "
            "the kernel to the input) and the rFFT from there (tsrec/kernels/fft_conv.py). In this run the rFFT's "
            f"fwd+bwd beats the direct conv's at every kernel length timed {shown}.", ""]


CASES += [
    Case(f"fft_conv (L_k = T: rFFT when T >= {FFT_THRESHOLD})", _grid(CONV_GRID, CONV_QUICK, taps=None), _conv_make,
         lambda x, be: fft_conv(x["u"], x["k"], backend=be),
         nbytes=lambda s: 4 * (2 * s["batch"] * s["time"] * s["chans"] + s["chans"] * s["time"]),
         work=_conv_work, **TORCH_ONLY),
    Case(f"fft_conv (L_k = 64: {CONV_64_PATH})", _grid(CONV_GRID, CONV_QUICK, taps=64), _conv_make,
         lambda x, be: fft_conv(x["u"], x["k"], backend=be),
         nbytes=lambda s: 4 * (2 * s["batch"] * s["time"] * s["chans"] + 64 * s["chans"]),
         work=_conv_work, **TORCH_ONLY),
    # the auto rule's evidence: both torch paths forced, across kernel lengths at one input size
    Case("fft_conv (direct conv1d vs rFFT by kernel length)", CONV_TAPS_GRID, _conv_make, _conv_method_call,
         nbytes=lambda s: 4 * (2 * s["batch"] * s["time"] * s["chans"] + s["taps"] * s["chans"]),
         work=_conv_work, backends=("direct", "fft"), gpu_backends=("direct", "fft")),
    Case("fft_conv (direct conv1d vs rFFT by kernel length, 8 heads)", CONV_HEADS_GRID, _conv_make, _conv_method_call,
         nbytes=lambda s: 4 * s["batch"] * s["time"] * s["chans"] * (1 + s["heads"]),
         work=lambda s: (NAIVE_FWD_MAX + 1, NAIVE_BWD_MAX + 1),  # the naive loop: minutes here, not timed
         backends=("direct", "fft"), gpu_backends=("direct", "fft"),
         notes=lambda results: conv_threshold_note(results)),
    Case("companion_kernel fft (T = L, C = heads, N = d)", _grid(KERNEL_GRID, KERNEL_QUICK), _companion_make,
         lambda x, be: companion_kernel(x["a"], x["b"], x["c"], x["L"], method="fft", backend=be),
         nbytes=lambda s: 4 * s["chans"] * (3 * s["state"] + s["time"]), work=_kernel_work, **TORCH_ONLY),
    Case("companion_kernel krylov (T = L, C = heads, N = d)", _grid(KERNEL_GRID, KERNEL_QUICK), _companion_make,
         lambda x, be: companion_kernel(x["a"], x["b"], x["c"], x["L"], method="krylov", backend=be),
         nbytes=lambda s: 4 * s["chans"] * (3 * s["state"] + s["time"]), work=_kernel_work, **TORCH_ONLY),
    Case("s4d_kernel (T = L, C = heads, N = modes)", _grid(KERNEL_GRID, KERNEL_QUICK), _s4d_make,
         lambda x, be: s4d_kernel(x["log_dt"], x["A_real"], x["A_imag"], x["C"], x["L"], backend=be),
         nbytes=lambda s: 4 * s["chans"] * (1 + 4 * s["state"] + s["time"]),
         work=lambda s: (s["chans"] * s["state"] * s["time"] * 64, s["chans"] * s["state"] * s["time"] * 64),
         **TORCH_ONLY),
    Case("nplr_kernel (T = L, C = heads, N = modes)", _grid(NPLR_GRID, NPLR_QUICK), _nplr_make,
         lambda x, be: nplr_kernel(*(x[n] for n in ("log_dt", "Lambda", "P", "B", "C")), x["L"], backend=be),
         nbytes=lambda s: 4 * s["chans"] * (1 + 10 * s["state"] + s["time"]),
         work=lambda s: (s["chans"] * s["state"] * s["time"],) * 2,  # naive: linear in L both ways
         **TORCH_ONLY),
    Case("closed_loop_rollout (T = horizon, C = heads, N = d)", _grid(ROLLOUT_GRID, ROLLOUT_QUICK), _rollout_make,
         lambda x, be: closed_loop_rollout(x["a"], x["b"], x["c"], x["k"], x["s0"], x["L"], backend=be),
         nbytes=lambda s: 4 * s["chans"] * (s["state"] * (4 + s["batch"]) + s["batch"] * s["time"]),
         work=_kernel_work, **TORCH_ONLY),
    Case("scan2d (V = 7 variates)", _grid(SCAN2D_GRID, SCAN2D_QUICK, vars=7), _scan2d_make, _scan2d_call,
         nbytes=lambda s: 16 * s["batch"] * s["time"] * s["vars"] * (s["chans"] + s["state"]),
         work=_scan2d_work, gpu_backends=("torch",)),
    Case("scan2d (V = 321 variates)", _grid(SCAN2D_GRID, SCAN2D_QUICK, vars=321), _scan2d_make, _scan2d_call,
         nbytes=lambda s: 16 * s["batch"] * s["time"] * s["vars"] * (s["chans"] + s["state"]),
         work=_scan2d_work, gpu_backends=("torch",),
         notes=["scan2d's torch path sweeps the variates one by one (each a linear_scan over time) up to "
                f"sweep_limit(T) variates per batch row ({sweep_limit(96)} at T = 96, {sweep_limit(720)} at 720), "
                "and beyond runs the anti-diagonal wavefront "
                "(T + V - 1 steps, each min(T, V) cells wide); benchmarks/scan2d_paths.py times the two side by side. "
                "Its Triton kernels are timed on a GPU by benchmarks/kernels_gpu.py "
                "(benchmarks/results/kernels_gpu.md).", ""]),
]
