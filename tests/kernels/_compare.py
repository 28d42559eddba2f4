"""Tolerances and the error measure every kernel test compares a backend with the reference by."""

from __future__ import annotations

import math

import torch

# float32 within 1e-5 relative, float64 within 1e-10 (complex as their real parts)
TOL = {torch.float32: 1e-5, torch.complex64: 1e-5, torch.float64: 1e-10, torch.complex128: 1e-10}


def rel_err(got: torch.Tensor, ref: torch.Tensor) -> float:
    """Max-abs error relative to the largest reference entry (robust to tiny entries), in double.

    A NaN anywhere gives inf, never NaN: NaN compares False with everything, so ``max`` over a
    list of errors skipped it (a NaN gradient after a finite output passed the interpreter check).
    """
    wide = torch.complex128 if (got.dtype.is_complex or ref.dtype.is_complex) else torch.float64
    got, ref = got.detach().to(wide), ref.detach().to(wide)
    err = float((got - ref).abs().max() / ref.abs().max().clamp_min(1e-30))
    return math.inf if math.isnan(err) else err


#: the real dtypes every op is checked in
REAL_DTYPES = [torch.float32, torch.float64]


def outputs_and_grads(fn, inputs: list[torch.Tensor], weight: torch.Tensor):
    """``fn(*inputs)`` and the gradients of ``sum(weight * out)`` with respect to every input."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    grads = torch.autograd.grad((out * weight.to(out.dtype)).sum(), leaves)
    return out, grads


def half_errors(fast, naive, inputs: list[torch.Tensor], seed: int = 0) -> list[float]:
    """``fast`` on half-precision ``inputs`` against ``naive`` on the same values in float64.

    Returns the relative errors (:func:`rel_err`) of the output, then of each input's gradient
    (of a fixed random weighting of the output), and checks that every gradient comes back in
    its input's dtype. ``inputs`` may mix dtypes (float32 parameters beside half activations).
    """
    results = []
    for fn, xs in ((fast, inputs), (naive, [x.double() for x in inputs])):
        leaves = [x.detach().clone().requires_grad_() for x in xs]
        out = fn(*leaves)
        weight = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        results.append([out, *torch.autograd.grad((out.double() * weight).sum(), leaves)])
    (out, *grads), (ref, *ref_grads) = results
    assert all(g.dtype == x.dtype for g, x in zip(grads, inputs)), [g.dtype for g in grads]
    return [rel_err(got, want) for got, want in zip([out, *grads], [ref, *ref_grads])]
