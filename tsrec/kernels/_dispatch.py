"""Backend choice for every kernel op.

Each public op calls :func:`resolve_backend` once, outside autograd, and then runs the
implementation of that backend. The choice is, in order: the ``backend`` argument when it is not
``"auto"``, the ``TSREC_KERNEL_BACKEND`` environment variable, then ``"triton"`` for CUDA tensors
when Triton imports and ``"torch"`` everywhere else. Triton is never imported here unless a
Triton backend is actually asked for or chosen.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

import torch

BACKENDS = ("auto", "torch", "triton", "naive")
ENV_VAR = "TSREC_KERNEL_BACKEND"


@lru_cache(maxsize=1)
def triton_available() -> bool:
    """Whether the ``triton`` package can be imported (checked without importing it)."""
    return importlib.util.find_spec("triton") is not None


def triton_interpreting() -> bool:
    """Whether Triton kernels run in the CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def resolve_backend(
    backend: str, *tensors: torch.Tensor, has_triton: bool = True, triton_fits: bool = True
) -> str:
    """Return the concrete backend (``"torch"``, ``"triton"`` or ``"naive"``) for an op call.

    Parameters
    ----------
    backend : str
        The caller's choice, one of ``"auto"``, ``"torch"``, ``"triton"``, ``"naive"``.
    *tensors : torch.Tensor
        The op's tensor inputs; their device decides the automatic choice.
    has_triton : bool
        False for ops that have no Triton implementation; ``"auto"`` then never picks Triton and
        an explicit ``"triton"`` raises.
    triton_fits : bool
        False when this call's sizes exceed what the op's Triton kernel keeps on chip; ``"auto"``
        (also through the environment variable) then picks ``"torch"``, and an explicit
        ``"triton"`` is returned for the caller to refuse with its own size message.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown kernel backend {backend!r}; use one of {BACKENDS}")
    if backend == "auto":
        backend = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
        if backend not in BACKENDS:
            raise ValueError(
                f"{ENV_VAR}={backend!r} is not a kernel backend; set it to one of {BACKENDS} "
                "or unset it"
            )
    if backend == "auto":
        on_cuda = any(t.is_cuda for t in tensors if isinstance(t, torch.Tensor))
        return "triton" if (on_cuda and has_triton and triton_fits and triton_available()) else "torch"
    if backend == "triton":
        _check_triton_usable(has_triton, tensors)
    return backend


def _check_triton_usable(has_triton: bool, tensors: tuple) -> None:
    if not has_triton:
        raise ValueError("this op has no Triton kernel; use backend='torch' or 'naive'")
    if not triton_available():
        raise ValueError(
            "backend='triton' needs the triton package; install it (pip install triton) "
            "or use backend='torch'"
        )
    on_cuda = all(t.is_cuda for t in tensors if isinstance(t, torch.Tensor))
    if not (on_cuda or triton_interpreting()):
        raise ValueError(
            "backend='triton' needs CUDA tensors (or TRITON_INTERPRET=1 set before triton is "
            "imported, for tests); move the inputs to a GPU or use backend='torch'"
        )
