"""Tolerances and the error measure every kernel test compares a backend with the reference by."""

from __future__ import annotations

import torch

# float32 within 1e-5 relative, float64 within 1e-10 (complex as their real parts)
TOL = {torch.float32: 1e-5, torch.complex64: 1e-5, torch.float64: 1e-10, torch.complex128: 1e-10}


def rel_err(got: torch.Tensor, ref: torch.Tensor) -> float:
    """Max-abs error relative to the largest reference entry (robust to tiny entries), in double."""
    wide = torch.complex128 if (got.dtype.is_complex or ref.dtype.is_complex) else torch.float64
    got, ref = got.detach().to(wide), ref.detach().to(wide)
    return float((got - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


#: the real dtypes every op is checked in
REAL_DTYPES = [torch.float32, torch.float64]


def outputs_and_grads(fn, inputs: list[torch.Tensor], weight: torch.Tensor):
    """``fn(*inputs)`` and the gradients of ``sum(weight * out)`` with respect to every input."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    grads = torch.autograd.grad((out * weight.to(out.dtype)).sum(), leaves)
    return out, grads
