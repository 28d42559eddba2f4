"""Triton helpers shared by the tiled scan kernels (imported only by ``triton_impl`` modules).

A tile holds consecutive time steps along axis 0 (``lane``). Each step is the affine map
``h -> a h + b``; composing maps is associative, so ``tl.associative_scan`` with
:func:`compose_affine` turns a tile of ``(a, b)`` into every step's ``(gain, local)`` with
``h_t = local_t + gain_t h_in``; where the gates are decays ``exp(delta A)``, :func:`tile_gain`
gives the gain with one rounding instead, and :func:`carried` applies it.
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


@triton.jit
def tile_gain(delta, A, REVERSE: tl.constexpr):
    """``exp(sum of delta A)`` over a tile's steps up to ``t`` (from ``t`` to the end when ``REVERSE``):
    the factor carrying a tile's entering state to step ``t``; ``delta`` ``[CHUNK, BLOCK_D, 1]``, ``A``
    ``[BLOCK_D, N]``.

    Summed and exponentiated once: the same gain as a product of rounded ``exp(delta A)`` (the one
    ``tl.associative_scan`` gives) drifted from float64 2x to 9x further than the step-by-step loop.
    The sum runs over the whole ``[CHUNK, BLOCK_D, N]`` tile: summing the smaller ``delta`` tile
    alone gave wrong gains on an H200 where that tile has fewer values than the program has threads.
    ``exp2`` of a pre-scaled ``A`` saves a multiply per value (with ``exp`` the selective forward at
    ``N = 64`` spilled on sm_90).
    """
    return tl.exp2(tl.cumsum(delta * (A * 1.4426950408889634)[None, :, :], axis=0, reverse=REVERSE))


@triton.jit
def carried(gain, state):
    """``gain * state``, the entering state's share of each step, with a state of exactly 0 giving 0.

    A growing mode (``delta A > 0``) overflows its tile gain to inf within a tile while its state may
    still be 0 (no input yet, or none ever); inf * 0 would be NaN where the step-by-step loop stays 0.
    A nonzero state times an infinite gain is inf. The loop overflows there too unless the state is
    tiny (1e-30 grown by e^90 is finite): the gain is formed before the product, so such a state
    reaches inf here a few steps early.
    """
    return tl.where(state == 0.0, 0.0, gain * state)
