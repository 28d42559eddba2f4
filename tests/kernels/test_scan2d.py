"""scan2d: both torch paths (variate sweep, wavefront) against the float64 double loop, gradients,
reductions and bad input."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrec.kernels.scan2d import scan2d
from tsrec.kernels.scan2d.wavefront import skew, unskew
from _compare import TOL, half_errors, rel_err
from _docs import PAGES

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["x", "delta1", "delta2", "A1", "A2", "A3", "A4", "B1", "B2", "C1", "C2"]


def make(batch=2, time=5, nvar=4, channels=3, n=2, seed=0, dtype=torch.float64):
    """Inputs as a dict, plus D and an initial state; A's negative, deltas in (0.1, 1)."""
    g = torch.Generator().manual_seed(seed)
    grid, small = (batch, time, nvar, channels), (batch, time, nvar, n)
    p = {"x": torch.randn(*grid, generator=g, dtype=torch.float64)}
    for name in ("delta1", "delta2"):
        p[name] = 0.1 + 0.9 * torch.rand(*grid, generator=g, dtype=torch.float64)
    for name in ("A1", "A2", "A3", "A4"):
        p[name] = -0.3 - torch.rand(channels, n, generator=g, dtype=torch.float64)
    for name in ("B1", "B2", "C1", "C2"):
        p[name] = torch.randn(*small, generator=g, dtype=torch.float64)
    D = torch.randn(channels, generator=g, dtype=torch.float64)
    init = tuple(torch.randn(batch, nvar, channels, n, generator=g, dtype=torch.float64) for _ in range(2))
    return {k: v.to(dtype) for k, v in p.items()}, D.to(dtype), tuple(h.to(dtype) for h in init)


def call(p, **kwargs):
    return scan2d(*[p[name] for name in NAMES], **kwargs)


TORCH_PATHS = ["sweep", "wavefront"]
# the subpackage, not the function of the same name that tsrec.kernels exports
scan2d_module = importlib.import_module("tsrec.kernels.scan2d")


@contextmanager
def torch_path(name: str):
    """Force the torch backend's path whatever the number of variates."""
    limit = 10**9 if name == "sweep" else 0
    with mock.patch.object(scan2d_module, "SWEEP_MAX_VARIATES_PER_ROW", limit):
        yield


@pytest.fixture(params=TORCH_PATHS)
def path(request):
    with torch_path(request.param):
        yield request.param


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dropped", [(), ("A2", "A3"), ("A2",), ("A3",)])  # the cross-couplings left out
@pytest.mark.parametrize("with_state", [True, False])
# diagonals along variates / along time; one step; one variate; the adjoint's chunked reverse scan (T >= 64)
@pytest.mark.parametrize("time, nvar", [(5, 4), (3, 6), (1, 3), (4, 1), (70, 2)])
def test_torch_paths_match_naive_with_grads(dtype, reverse, dropped, with_state, time, nvar, path):
    p, D, init = make(time=time, nvar=nvar, dtype=dtype)
    if not with_state:  # the zero state at t = -1 takes another branch of both backwards
        init = ()
    for name in dropped:
        p[name] = None
    keys = [k for k, v in p.items() if v is not None]
    weights = [torch.randn(2, time, nvar, 3), torch.randn(2, nvar, 3, 2), torch.randn(2, nvar, 3, 2)]

    def run(values, backend):
        leaves = [v.detach().clone().requires_grad_(True) for v in values]
        q = dict(p, **dict(zip(keys, leaves[: len(keys)])))
        n_state = len(init)
        state = tuple(leaves[len(leaves) - n_state:]) or None
        y, final = call(q, D=leaves[len(keys)], initial_state=state, output_final_state=True,
                        reverse_variates=reverse, backend=backend)
        outs = (y, *final)
        loss = sum((o * w.to(o.dtype)).sum() for o, w in zip(outs, weights))
        # without A2 the variate state at t = -1 is unused: its gradient is zero
        return outs, torch.autograd.grad(loss, leaves, allow_unused=True, materialize_grads=True)

    values = [p[k] for k in keys] + [D, *init]
    fast, fast_g = run(values, "torch")
    ref, ref_g = run([v.double() for v in values], "naive")
    assert fast[0].dtype == dtype and fast[0].shape == (2, time, nvar, 3)
    for f, r in zip(fast + fast_g, ref + ref_g):
        assert rel_err(f, r) < TOL[dtype] or (f.abs().max() == 0 and r.abs().max() == 0)


@pytest.mark.parametrize("reverse, time, nvar", [(False, 3, 2), (True, 2, 3)])
def test_gradcheck(reverse, time, nvar, path):
    p, D, init = make(batch=1, time=time, nvar=nvar, channels=2, n=2, seed=1)
    values = [v.requires_grad_(True) for v in (*p.values(), D, *init)]

    def fn(*vals):
        y, final = scan2d(*vals[:11], D=vals[11], initial_state=vals[12:], output_final_state=True,
                          reverse_variates=reverse, backend="torch")
        return y, *final

    assert torch.autograd.gradcheck(fn, values)


def linear_scan_ref(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h_t = a_t h_{t-1} + b_t along axis 1 (loop), h_{-1} = 0."""
    h, out = torch.zeros_like(b[:, 0]), []
    for t in range(b.shape[1]):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return torch.stack(out, dim=1)


@settings(max_examples=20, deadline=None)
@given(time=st.integers(1, 12), n=st.integers(1, 3), seed=st.integers(0, 2**16),
       backend=st.sampled_from(["torch", "naive"]), path=st.sampled_from(TORCH_PATHS))
def test_one_variate_is_a_linear_scan(time, n, seed, backend, path):
    p, _, _ = make(batch=2, time=time, nvar=1, channels=2, n=n, seed=seed)
    with torch_path(path):
        y, _ = call(p, backend=backend)
    # with one variate the variate state is only its input: h2_t = delta2 B2 x, and the time state
    # is a 1-D scan with decay exp(delta1 A1) and input exp(delta1 A2) h2_{t-1} + delta1 B1 x.
    x, d1, d2 = (p[k][:, :, 0, :, None] for k in ("x", "delta1", "delta2"))
    B1, B2, C1, C2 = (p[k][:, :, 0, None, :] for k in ("B1", "B2", "C1", "C2"))
    h2 = d2 * x * B2
    h2_prev = torch.cat([torch.zeros_like(h2[:, :1]), h2[:, :-1]], dim=1)
    h1 = linear_scan_ref(torch.exp(d1 * p["A1"]), torch.exp(d1 * p["A2"]) * h2_prev + d1 * x * B1)
    expected = (h1 * C1).sum(-1) + (h2 * C2).sum(-1)
    torch.testing.assert_close(y[:, :, 0], expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(time=st.integers(1, 6), nvar=st.integers(1, 6), seed=st.integers(0, 2**16),
       backend=st.sampled_from(["torch", "naive"]), coupled=st.booleans(), path=st.sampled_from(TORCH_PATHS))
def test_reverse_variates_is_flip_scan_flip(time, nvar, seed, backend, coupled, path):
    p, D, init = make(batch=1, time=time, nvar=nvar, channels=2, n=2, seed=seed)
    if not coupled:
        p["A2"] = None
    with torch_path(path):
        y, (h1, h2) = call(
            p, D=D, initial_state=init, output_final_state=True, reverse_variates=True, backend=backend
        )
    flipped = {k: (v.flip(2) if v is not None and v.ndim == 4 else v) for k, v in p.items()}
    yf, (f1, f2) = call(flipped, D=D, initial_state=tuple(h.flip(1) for h in init), output_final_state=True,
                        backend="naive")
    torch.testing.assert_close(y, yf.flip(2), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close((h1, h2), (f1.flip(1), f2.flip(1)), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", ["torch", "naive"])
@pytest.mark.parametrize("nvar", [2, 5])
def test_split_in_time_with_final_state(backend, nvar, path):
    p, _, _ = make(time=7, nvar=nvar, seed=2)
    full, _ = call(p, backend=backend)
    first = {k: (v[:, :3] if v.ndim == 4 else v) for k, v in p.items()}
    second = {k: (v[:, 3:] if v.ndim == 4 else v) for k, v in p.items()}
    y1, state = call(first, output_final_state=True, backend=backend)
    y2, _ = call(second, initial_state=state, backend=backend)
    torch.testing.assert_close(torch.cat([y1, y2], dim=1), full, rtol=1e-10, atol=1e-10)


def test_decoupled_time_state_is_two_1d_scans(path):
    # A2 = None: time scan per variate first, then a variate scan fed by the time states
    p, _, _ = make(time=6, nvar=5, seed=3)
    p["A2"] = None
    y, _ = call(p)
    x, d1, d2 = (p[k][..., None] for k in ("x", "delta1", "delta2"))
    B1, B2, C1, C2 = (p[k][..., None, :] for k in ("B1", "B2", "C1", "C2"))
    h1 = linear_scan_ref(torch.exp(d1 * p["A1"]), d1 * x * B1)  # along time (axis 1)
    h1_prev_var = torch.cat([torch.zeros_like(h1[:, :, :1]), h1[:, :, :-1]], dim=2)
    b2 = torch.exp(d2 * p["A3"]) * h1_prev_var + d2 * x * B2
    h2 = linear_scan_ref(torch.exp(d2 * p["A4"]).transpose(1, 2), b2.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(y, (h1 * C1).sum(-1) + (h2 * C2).sum(-1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", ["naive", "torch"])
def test_skip_adds_d_times_the_same_cells_input(backend):
    # the skip term is added after dispatch, so comparing backends with each other cannot see it
    p, D, _ = make()
    gap = call(p, D=D, backend=backend)[0] - call(p, backend=backend)[0]
    torch.testing.assert_close(gap, D * p["x"], rtol=1e-12, atol=1e-12)


def test_skew_roundtrip():
    z = torch.randn(2, 5, 3, 4)
    s = skew(z)
    assert s.shape == (2, 7, 3, 4)
    assert torch.equal(s[:, 1 + 2, 2], z[:, 1, 2]) and torch.equal(s[:, 0, 1], torch.zeros(2, 4))
    assert torch.equal(unskew(s, 5), z)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_inputs_against_float64(path, dtype):
    p, D, _ = make(dtype=torch.float32)
    p = {name: v.to(dtype) if v.ndim == 4 else v for name, v in p.items()}  # A1..A4 stay float32
    y, final = call(p, output_final_state=True)
    assert y.dtype == dtype and [h.dtype for h in final] == [dtype, dtype]  # the states too, not float32
    fn = lambda backend: lambda *xs: scan2d(*xs[:-1], D=xs[-1], backend=backend)[0]  # noqa: E731
    errors = half_errors(fn("torch"), fn("naive"), [*(p[name] for name in NAMES), D])  # y, then every gradient
    assert max(errors) < (1e-2 if dtype == torch.bfloat16 else 2e-3), errors


def test_backend_errors(monkeypatch):
    p, _, _ = make(dtype=torch.float32)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    # CPU tensors outside the interpreter (or no triton installed): refused with the fix named
    with pytest.raises(ValueError, match="backend='triton' needs"):
        call(p, backend="triton")
    monkeypatch.setenv("TSREC_KERNEL_BACKEND", "bogus")
    with pytest.raises(ValueError, match="TSREC_KERNEL_BACKEND"):
        call(p)


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda p: p.update(x=p["x"][0]), ValueError, "x must have 4 dims"),
        (lambda p: p.update(delta1=p["delta1"][:, :3]), ValueError, "delta1 has shape .* but x has .* the same shape"),
        (lambda p: p.update(A4=None), TypeError, "A4 is required"),
        (lambda p: p.update(B2=p["B2"][..., :1]), ValueError, "B2 must have shape"),
        # the odd one out is named, whichever it is (B1 was taken as the reference: B2 got the blame)
        (lambda p: p.update(B1=p["B1"][..., :1]), ValueError, r"B1 must have shape \(2, 5, 4, 2\)"),
        (lambda p: p.update(A1=p["A1"][:, :1]), ValueError, r"A1 must have shape \(3, 2\)"),
        (lambda p: p.update(C1=p["C1"].long()), TypeError, "C1 must be a floating"),
        (lambda p: p["delta2"].__setitem__((0, 0, 0, 0), float("nan")), ValueError, "delta2 contains NaN"),
    ],
)
def test_bad_input(change, error, match):
    p, _, _ = make()
    change(p)
    with pytest.raises(error, match=match):
        call(p)


def test_bad_state_and_skip():
    p, D, init = make()
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape"):
        call(p, initial_state=(init[0], init[1][:, :2]))
    with pytest.raises(TypeError, match="initial_state must be a tuple"):
        call(p, initial_state=init[0])
    with pytest.raises(ValueError, match="D must have shape"):
        call(p, D=D[:2])


@pytest.mark.parametrize("empty_axis", [0, 1, 2, 3])  # batch (as every other op allows), time, variates, channels
@pytest.mark.parametrize("backend", ["torch", "naive"])
@pytest.mark.parametrize("with_state", [False, True])
def test_empty_axis_gives_empty_output(empty_axis, backend, with_state, path):
    # was "x must have every axis >= 1"; an empty batch is what a data loader's last split can give
    sizes = dict(zip(("batch", "time", "nvar", "channels"), [2, 3, 4, 3]))
    sizes[list(sizes)[empty_axis]] = 0
    p, D, init = make(**sizes)
    leaves = [t.requires_grad_(True) for t in (*p.values(), D, *init)]
    y, final = call(p, D=D, initial_state=init if with_state else None, output_final_state=True, backend=backend)
    assert y.shape == p["x"].shape and y.is_contiguous()
    # no cell is updated: the states at the last (no) time step are the initial ones
    expected = init if with_state else tuple(torch.zeros_like(h) for h in init)
    torch.testing.assert_close(final, expected, rtol=0, atol=0)
    if with_state and empty_axis == 1:  # copies, as documented: an in-place edit leaves the caller's alone
        assert all(f.data_ptr() != h.data_ptr() for f, h in zip(final, init))
    loss = y.sum() + final[0].sum() + final[1].sum()
    # every input stays in the graph and gets a zero gradient, as in the other ops (an unused one raises);
    # the initial states pass through to the final ones
    grads = torch.autograd.grad(loss, leaves if with_state else leaves[:-2])
    for leaf, grad in zip(leaves[:-2], grads):
        torch.testing.assert_close(grad, torch.zeros_like(leaf), rtol=0, atol=0)
    if with_state:
        torch.testing.assert_close(grads[-2:], tuple(torch.ones_like(h) for h in init), rtol=0, atol=0)


SCAN2D_EMPTY_TRITON = """
import torch
from tsrec.kernels import scan2d
r = torch.randn
for shape in ((0, 2, 3, 2), (1, 2, 0, 2)):
    x = r(*shape); A = -r(2, 3).abs(); Bm = r(*shape[:3], 3)
    y, (h1, h2) = scan2d(x, x.abs(), x.abs(), A, None, None, A, Bm, Bm, Bm, Bm, output_final_state=True,
                         backend="triton")
    assert y.shape == shape and h1.shape == h2.shape == (shape[0], shape[2], 2, 3), (y.shape, h1.shape)
print("ok")
"""


def test_empty_batch_on_triton_backend():
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(ROOT)}
    env.pop("TSREC_KERNEL_BACKEND", None)
    proc = subprocess.run([sys.executable, "-c", SCAN2D_EMPTY_TRITON], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout + proc.stderr


def test_wavefront_output_is_contiguous():
    # the wavefront's y was unskew's permuted view; the sweep's is contiguous, and ops after the
    # scan (and their backward) run slower on a permuted view
    p, D, _ = make(time=3, nvar=5)
    for reverse in (False, True):
        with torch_path("wavefront"):
            y, _ = call(p, reverse_variates=reverse, backend="torch")
        assert y.is_contiguous(), y.stride()


def test_one_variate_keeps_cross_variate_decays_in_the_graph(path):
    # with one variate A3 and A4 act on nothing; the sweep dropped them from the graph (grad None,
    # and autograd.grad on them alone raised), where naive gives them a zero gradient
    p, _, _ = make(time=3, nvar=1)
    for name in ("A3", "A4"):
        p[name].requires_grad_()
    for backend in ("naive", "torch"):
        y, _ = call(p, backend=backend)
        grads = torch.autograd.grad(y.sum(), [p["A3"], p["A4"]])
        assert all(torch.equal(g, torch.zeros_like(g)) for g in grads), backend


DOC_PATH = re.compile(r"(?<!from )\btsrec\.kernels(?:\.\w+)+")
DOC_IMPORT = re.compile(r"from (tsrec\.kernels[\w.]*) import (\w+)")


def _kernel_docs() -> list[Path]:
    return [*sorted((ROOT / "tsrec" / "kernels").rglob("*.py")), *PAGES]


def test_documented_kernel_paths_resolve():
    # tsrec.kernels.scan2d and .fft_conv are the functions, hiding their modules as attributes, so
    # a dotted path such as tsrec.kernels.scan2d.SWEEP_MAX_VARIATES_PER_ROW cited in a docstring failed
    import tsrec.kernels

    seen = 0
    for path in _kernel_docs():
        text = path.read_text()
        for dotted in DOC_PATH.findall(text):
            obj, parts = tsrec, dotted.split(".")
            for i, part in enumerate(parts[1:], start=2):
                if not hasattr(obj, part):  # a submodule no test has imported yet is no attribute
                    with contextlib.suppress(ImportError):
                        importlib.import_module(".".join(parts[:i]))
                assert hasattr(obj, part), f"{path.name} cites {dotted}, which does not resolve"
                obj = getattr(obj, part)
            seen += 1
        for module, name in DOC_IMPORT.findall(text):
            assert hasattr(importlib.import_module(module), name), f"{path.name}: from {module} import {name}"
            seen += 1
    assert seen > 5 and tsrec.kernels.scan2d is scan2d


# (batch, time, variates) where a permuted (variates, batch, time, channels) buffer is contiguous
@pytest.mark.parametrize("shape", [(2, 3, 1), (1, 1, 3)])
def test_output_can_be_changed_in_place(shape, path):
    batch, time, nvar = shape
    p, _, _ = make(batch=batch, time=time, nvar=nvar)
    y, _ = call({k: v.requires_grad_() for k, v in p.items()}, backend="torch")
    y.mul_(2)  # a view of a buffer the scan filled would refuse this
    y.sum().backward()
    assert p["x"].grad is not None and torch.isfinite(p["x"].grad).all()


@pytest.mark.parametrize("batch, time, nvar, expected", [
    (1, 96, 256, "sweep"), (1, 96, 321, "wavefront"), (4, 96, 862, "sweep"),
    # measured (benchmarks/results/scan2d_paths_by_time.md, scan2d_crossover.md): at 336 steps the sweep was
    # 2.6x faster at 500 variates in one row, which the old fixed limit of 256 a row sent to the wavefront;
    # at 24 steps the wavefront was 1.3x faster at 128, which it sent to the sweep
    (1, 336, 500, "sweep"), (1, 720, 1900, "sweep"), (1, 24, 128, "wavefront"), (1, 336, 1800, "wavefront"),
])
def test_the_torch_path_follows_the_measured_crossover(batch, time, nvar, expected):
    chosen = []

    def record(name):
        def run(*args, **kwargs):
            chosen.append(name)
            raise RuntimeError("stop before computing")
        return run

    p, _, _ = make(batch=batch, time=time, nvar=nvar, channels=1, n=1, dtype=torch.float32)
    with mock.patch.object(scan2d_module, "scan_variate_sweep", record("sweep")), \
            mock.patch.object(scan2d_module, "scan_wavefront", record("wavefront")), \
            pytest.raises(RuntimeError, match="stop before computing"):
        call(p, backend="torch")
    assert chosen == [expected]
