"""Guard for the hand-written backward passes (torch and Triton) that have first derivatives only."""

from __future__ import annotations

import functools

import torch

FIRST_ORDER_ONLY = (
    "tsrec's hand-written kernel backward has first derivatives only (backward was called with "
    "create_graph=True, e.g. for a Hessian); use backend='naive' for higher-order gradients"
)


def first_order_only(backward):
    """Wrap an autograd ``backward`` whose adjoint autograd cannot differentiate correctly.

    A Triton kernel is invisible to autograd, and the torch backwards recompute from states they
    saved as constants (or write into buffers in place), so with ``create_graph=True`` (e.g.
    ``torch.autograd.functional.hessian``) second derivatives would come back incomplete, zero or
    as an unrelated internal error; they are refused instead. The naive backends are plain
    autograd and have them.
    """

    @functools.wraps(backward)
    def checked(ctx, *grads):
        if torch.is_grad_enabled():  # autograd runs backward in grad mode exactly when create_graph=True
            raise RuntimeError(FIRST_ORDER_ONLY)
        return backward(ctx, *grads)

    return checked


def empty_result(shape: tuple[int, ...], *inputs: torch.Tensor) -> torch.Tensor:
    """Zeros of ``shape`` (which holds no element, or whose inputs had none) that stay in the inputs'
    autograd graph: a backward gives each input a zero gradient instead of leaving it out."""
    return inputs[0].new_zeros(shape) + sum(t.sum() for t in inputs) * 0
