"""Triton helpers shared by the tiled scan kernels (imported only by ``triton_impl`` modules).

A tile holds consecutive time steps along axis 0 (``lane``). Each step is the affine map
``h -> a h + b``; composing maps is associative, so ``tl.associative_scan`` with
:func:`compose_affine` turns a tile of ``(a, b)`` into every step's ``(gain, local)`` with
``h_t = local_t + gain_t h_in``.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl


def first_order_only(backward):
    """Wrap an autograd ``backward`` whose adjoint comes from a Triton kernel autograd cannot see.

    With ``create_graph=True`` (higher-order gradients, e.g. ``torch.autograd.functional.hessian``)
    autograd would record only the torch parts of the backward, so second derivatives would come
    back incomplete or zero without a word; they are refused instead.
    """

    @functools.wraps(backward)
    def checked(ctx, *grads):
        if torch.is_grad_enabled():  # autograd runs backward in grad mode exactly when create_graph=True
            raise RuntimeError(
                "tsrec's Triton kernels have first derivatives only (backward was called with "
                "create_graph=True); use backend='torch' for higher-order gradients"
            )
        return backward(ctx, *grads)

    return checked


@triton.jit
def compose_affine(a_first, b_first, a_then, b_then):
    # h -> a_then (a_first h + b_first) + b_then
    return a_then * a_first, a_then * b_first + b_then


@triton.jit
def tile_row(x, lane, k):
    """Row ``k`` of a ``[CHUNK, ...]`` tile (a masked sum: registers cannot be indexed)."""
    return tl.sum(tl.where(lane[:, None, None] == k, x, 0.0), axis=0)
