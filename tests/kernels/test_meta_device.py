"""Every op on ``meta`` tensors (shapes, no values): outputs and gradients of the right shapes.

The NaN/inf checks once read values from meta tensors and failed with "Tensor.item() cannot be
called on meta tensors"; meta tensors carry no values, so the checks skip them and shape
inference (and meta-device model construction) works.
"""

from __future__ import annotations

import importlib

import pytest
import torch

from tsrec import kernels as k

scan2d_module = importlib.import_module("tsrec.kernels.scan2d")  # the package, not the function


def inputs(*shapes, complex_from: int = 99, positive: bool = True) -> list[torch.Tensor]:
    """CPU tensors in every op's valid range (positive, small); shapes from ``complex_from`` on complex."""
    g = torch.Generator().manual_seed(0)
    out = []
    for i, shape in enumerate(shapes):
        dtype = torch.complex64 if i >= complex_from else torch.float32
        x = 0.1 + 0.5 * torch.rand(*shape, generator=g, dtype=dtype)
        out.append(x if positive else x - 0.3)
    return out


def s4d(ld, ar, ai, c, b):
    return k.s4d_kernel(ld - 3, -ar, ai, c, 25, B=b)


def nplr(ld, lam, p, b, c):
    return k.nplr_kernel(ld - 3, -lam.real + 1j * lam.imag, p, b, c, 25)


CASES = {
    "linear_scan": (lambda a, b, s: k.linear_scan(a, b, initial_state=s), [(2, 5, 3), (2, 5, 3), (2, 3)]),
    "linear_scan chunked": (lambda a, b: k.linear_scan(a, b, reverse=True), [(2, 100, 3), (2, 100, 3)]),
    "linear_scan_step": (k.linear_scan_step, [(2, 3), (2, 3), (2, 3)]),
    "selective_scan": (lambda u, dt, A, B, C, D: k.selective_scan(u, dt, -A, B, C, D=D, delta_softplus=True),
                       [(2, 5, 3), (2, 5, 3), (3, 2), (2, 5, 2), (2, 5, 2), (3,)]),
    "selective_scan_step": (lambda s, u, dt, A, B, C: k.selective_scan_step(s, u, dt, -A, B, C)[0],
                            [(2, 3, 2), (2, 3), (2, 3), (3, 2), (2, 2), (2, 2)]),
    "rnn_scan": (lambda x, W: k.rnn_scan(x, W, cell="gated"), [(2, 5, 6), (3, 6)]),
    "recurrent_scan": (lambda x, h: k.recurrent_scan(lambda x_t, s: torch.tanh(x_t + s), x, h), [(2, 5, 3), (2, 3)]),
    "cfc_scan": (k.cfc_scan, [(2, 5, 4), (2, 3), (3, 4), (4, 3), (3,), (4, 3), (3,), (4, 3), (3,)]),
    "ltc_scan": (k.ltc_scan, [(2, 5, 6), (2, 3), (3,), (3,), (3,), (3, 3), (3, 3), (3, 3), (3, 3)]),
    "fft_conv": (k.fft_conv, [(2, 5, 3), (3, 4)]),
    "fft_conv by FFT": (lambda u, kk: k.fft_conv(u, kk, method="fft"), [(2, 5, 3), (2, 3, 4)]),
    "companion_kernel": (lambda a, b, c: k.companion_kernel(a, b, c, 5), [(2, 3)] * 3),
    "closed_loop_rollout": (lambda a, b, c, kk, s: k.closed_loop_rollout(a, b, c, kk, s, 7),
                            [(3, 5)] * 4 + [(2, 3, 5)]),
    "s4d_kernel": (s4d, [(3,), (3, 4), (3, 4), (3, 4), (3, 4)], 3),
    "nplr_kernel": (nplr, [(3,), (3, 4), (3, 4), (3, 4), (3, 4)], 1),
    "scan2d": (lambda x, d1, d2, *rest: k.scan2d(x, d1, d2, *(-a for a in rest[:4]), *rest[4:])[0],
               [(1, 3, 2, 2)] * 3 + [(2, 2)] * 4 + [(1, 3, 2, 2)] * 4),
}


@pytest.mark.parametrize("name", list(CASES))
def test_ops_compute_shapes_on_meta(name):
    op, shapes, *complex_from = CASES[name]
    cpu = inputs(*shapes, complex_from=complex_from[0] if complex_from else 99)
    expected = op(*cpu)
    meta = [x.to("meta").requires_grad_() for x in cpu]
    out = op(*meta)
    assert out.is_meta and out.shape == expected.shape and out.dtype == expected.dtype
    grads = torch.autograd.grad(out.abs().sum(), meta, allow_unused=True)
    cpu_leaves = [x.detach().requires_grad_() for x in cpu]
    cpu_grads = torch.autograd.grad(op(*cpu_leaves).abs().sum(), cpu_leaves, allow_unused=True)
    assert [g is None for g in grads] == [g is None for g in cpu_grads]  # the same inputs get gradients
    assert all(g is None or (g.is_meta and g.shape == x.shape) for g, x in zip(grads, meta))


@pytest.mark.parametrize("grad", [False, True])
def test_scan2d_wavefront_on_meta(monkeypatch, grad):
    monkeypatch.setattr(scan2d_module, "SWEEP_MAX_VARIATES_PER_ROW", 0)  # the path of many variates
    x, *rest = (t.to("meta") for t in inputs(*([(1, 3, 2, 2)] * 3 + [(2, 2)] * 4 + [(1, 3, 2, 2)] * 4)))
    with torch.set_grad_enabled(grad):
        y, (h1, h2) = k.scan2d(x.requires_grad_(grad), *rest, output_final_state=True)
    assert y.is_meta and y.shape == (1, 3, 2, 2) and h1.shape == h2.shape == (1, 2, 2, 2)
