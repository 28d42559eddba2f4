"""Triton helpers shared by the tiled scan kernels (imported only by ``triton_impl`` modules).

A tile holds consecutive time steps along axis 0 (``lane``). Each step is the affine map
``h -> a h + b``; composing maps is associative, so ``tl.associative_scan`` with
:func:`compose_affine` turns a tile of ``(a, b)`` into every step's ``(gain, local)`` with
``h_t = local_t + gain_t h_in``.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def compose_affine(a_first, b_first, a_then, b_then):
    # h -> a_then (a_first h + b_first) + b_then
    return a_then * a_first, a_then * b_first + b_then


@triton.jit
def tile_row(x, lane, k):
    """Row ``k`` of a ``[CHUNK, ...]`` tile (a masked sum: registers cannot be indexed)."""
    return tl.sum(tl.where(lane[:, None, None] == k, x, 0.0), axis=0)
