"""Kernel ops run with ``torch.autocast`` off and choose their compute dtype themselves.

Under autocast the matrix products inside a torch path ran in half precision: the outputs lost
their float32 accuracy (a closed-loop roll-out 7e-2 off relative to float64, against 7e-7), a
cell mixing half- and single-precision results failed (``torch.lerp``), and a hand-written backward,
which autograd runs outside autocast, met the half-precision tensors its forward had saved. Each
op already computes half-precision input in float32 (``_checks.compute_dtype``), which is what
autocast's callers are promised. The hand-written backward passes get the same guard
(:func:`without_autocast` on ``backward``): autograd runs them in the caller's thread, so a
``backward()`` called inside an autocast block ran their matrix products in half precision too
(the 2-D and selective scans' gradients 4e-3 off relative, where they are exact without autocast).
Backward passes that autograd derives from a torch path's own operations are rounded by autocast
as any PyTorch module's are (PyTorch advises against backward under autocast).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TypeVar

import torch

Op = TypeVar("Op", bound=Callable)

#: device types whose autocast state torch keeps and the kernels run on
_AUTOCAST_DEVICES = ("cpu", "cuda")


def without_autocast(op: Op) -> Op:
    """``op`` run with autocast turned off on the devices of its tensor arguments (for an autograd
    ``backward``, the gradients it is given; with none, on every device)."""

    @functools.wraps(op)
    def run(*args, **kwargs):
        kinds = {t.device.type for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor)}
        # no tensor at all (a backward handed only None gradients): off wherever it is on
        kinds = kinds or set(_AUTOCAST_DEVICES)
        active = [kind for kind in _AUTOCAST_DEVICES if kind in kinds and torch.is_autocast_enabled(kind)]
        if not active:
            return op(*args, **kwargs)
        with contextlib.ExitStack() as stack:
            for kind in active:
                stack.enter_context(torch.autocast(kind, enabled=False))
            return op(*args, **kwargs)

    return run  # type: ignore[return-value]
