"""The CfC cell's recurrence over a sequence (Hasani et al., 2022; ncps's default mode, unit steps).

With one LeCun-tanh backbone layer whose input part ``xz_t = x_t W_x + b`` the caller computes
for the whole sequence at once, every step is::

    z  = 1.7159 tanh(0.666 (xz_t + h W_h))                     (batch, Z)
    f1 = tanh(z W_1 + b_1),  f2 = tanh(z W_2 + b_2),  g = sigmoid(z W_t + b_t)
    h <- f1 (1 - g) + g f2

(``W_t = W_a + W_b`` and ``b_t = b_a + b_b``: the time gate ``t_a * elapsed + t_b`` at
``elapsed = 1``). Backends: ``naive`` (float64 loop), ``torch`` (the loop on torch ops) and
``triton``: one kernel walks the sequence with the state and ``W_h`` on chip; the adjoint kernel
walks it back and writes the per-step gradients of the pre-activations, from which the weight
gradients are a few batched matrix products in torch (the FlashRNN split: only the sequential
part is a kernel).
"""

from __future__ import annotations

import math

import torch

from .._autocast import without_autocast
from .._checks import check_finite, check_mixed_precision_like, check_shape, check_tensor, compute_dtype
from .._dispatch import resolve_backend
from .._launch import HOPPER_BLOCK_SHARED, block_shared_memory, shared_memory_text
from .naive import cfc_scan_naive

MAX_UNITS, MAX_BACKBONE = 64, 256  # what the Triton kernels keep on chip, each alone
# and together: the shared memory (bytes) the larger of the two kernels asks per tile (tile_side(U),
# tile_side(Z)), in float32 and in float64 (None: not run there); sm_80 and sm_90 ask the same (the
# larger of Triton 3.6's and 3.9's: 3.6 asks 224 KiB for float64 32 x 128, 3.9 208). The tiles are
# those of at most 4096 values (float64: at most 32 x 128; 64 x 256 asked 608 KiB, float64 64 x 64 232
# KiB); a GPU runs those whose figure fits its block: an H100/H200's 227 KiB all but float64 16 x 256,
# an A100's 163 KiB those of at most 2048 values (ncps's default 32 x 128 asks 176 KiB).
# tests/kernels/test_triton_compile.py holds every launch the rule admits to its figure and block.
TILE_SHARED_BYTES = {
    (16, 16): (19456, 30720), (16, 32): (30720, 45056), (16, 64): (53248, 73728), (16, 128): (98304, 131072),
    (16, 256): (188416, None), (32, 16): (38912, 69632), (32, 32): (57344, 90112), (32, 64): (98304, 131072),
    (32, 128): (180224, 229376), (64, 16): (75776, None), (64, 32): (110592, None), (64, 64): (180224, None),
}


def tile_side(n: int) -> int:
    """A kernel tile's side for ``n`` units or backbone values: a power of two, at least 16 (tl.dot's least)."""
    return max(16, 1 << (n - 1).bit_length())


def fitting_tiles(dtype: torch.dtype, block_shared: int = HOPPER_BLOCK_SHARED) -> list[tuple[int, int]]:
    """The tiles the Triton CfC kernels run in ``dtype`` on a GPU whose block has ``block_shared`` bytes."""
    column = int(dtype == torch.float64)
    return [tile for tile, asked in TILE_SHARED_BYTES.items() if (asked[column] or math.inf) <= block_shared]


def triton_fits(units: int, width: int, dtype: torch.dtype = torch.float32,
                block_shared: int = HOPPER_BLOCK_SHARED) -> bool:
    """Whether the Triton CfC kernels run ``units`` neurons over a backbone of ``width`` in ``dtype`` on a GPU
    whose block has ``block_shared`` bytes of shared memory (:func:`tsrec.kernels._launch.block_shared_memory`)."""
    return (tile_side(units), tile_side(width)) in fitting_tiles(dtype, block_shared)


def _too_large(units: int, width: int, dtype: torch.dtype, xz: torch.Tensor) -> str:
    """Why the Triton CfC kernels refuse these sizes on ``xz``'s GPU."""
    tiles = fitting_tiles(dtype, block_shared_memory(xz))
    most = max((u * z for u, z in tiles), default=0)
    largest = ", ".join(f"{u} x {z}" for u, z in tiles if u * z == most) or "none"
    return (f"the Triton CfC kernels keep U <= {MAX_UNITS} and Z <= {MAX_BACKBONE} on chip, with the two rounded up "
            f"to powers of two (at least 16) to a tile whose kernels fit {shared_memory_text(xz)}: in "
            f"{str(dtype).removeprefix('torch.')} at most {most} values ({largest}), got U={units}, Z={width}; "
            "use backend='torch'")


def lecun_tanh(x: torch.Tensor) -> torch.Tensor:
    """LeCun's scaled tanh, 1.7159 tanh(0.666 x) (ncps's constants)."""
    return 1.7159 * torch.tanh(0.666 * x)


def cfc_step(
    xz_t: torch.Tensor,
    h: torch.Tensor,
    W_h: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
    Wt: torch.Tensor,
    bt: torch.Tensor,
) -> torch.Tensor:
    """One step of the module docstring on torch ops."""
    z = lecun_tanh(torch.addmm(xz_t, h, W_h))
    f1, f2 = torch.tanh(torch.addmm(b1, z, W1)), torch.tanh(torch.addmm(b2, z, W2))
    gate = torch.sigmoid(torch.addmm(bt, z, Wt))
    return f1 * (1.0 - gate) + gate * f2


@without_autocast
def cfc_scan(
    xz: torch.Tensor,
    h0: torch.Tensor,
    W_h: torch.Tensor,
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
    Wt: torch.Tensor,
    bt: torch.Tensor,
    *,
    backend: str = "auto",
) -> torch.Tensor:
    """All states ``(batch, time, U)`` of the CfC recurrence of the module docstring.

    Parameters
    ----------
    xz : torch.Tensor
        ``(batch, time, Z)`` input part of the backbone's pre-activation, bias included.
    h0 : torch.Tensor
        ``(batch, U)`` initial state.
    W_h : torch.Tensor
        ``(U, Z)`` state part of the backbone weights.
    W1, b1 : torch.Tensor
        ``(Z, U)`` weight and ``(U,)`` bias of the first head.
    W2, b2 : torch.Tensor
        ``(Z, U)`` weight and ``(U,)`` bias of the second head.
    Wt, bt : torch.Tensor
        ``(Z, U)`` weight and ``(U,)`` bias of the time gate at unit steps (``W_a + W_b``,
        ``b_a + b_b``).
    backend : {"auto", "torch", "triton", "naive"}, default="auto"
        ``"triton"``: the fused GPU kernels (``U <= 64``, ``Z <= 256``, in tiles that fit the GPU's
        shared memory, see :func:`triton_fits`); ``"auto"`` picks them for CUDA tensors when triton
        is installed and the sizes fit.

    Returns
    -------
    torch.Tensor
        ``(batch, time, U)``, dtype of ``xz``.

    Notes
    -----
    All tensors share ``xz``'s device and dtype, except that they may be float32 beside half
    precision, either way (as under autocast); half precision is computed in float32.
    """
    named = {"xz": xz, "h0": h0, "W_h": W_h, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "Wt": Wt, "bt": bt}
    for name, tensor in named.items():
        check_tensor(name, tensor)
    check_tensor("xz", xz, ndim=3, layout="(batch, time, Z)")
    check_tensor("h0", h0, ndim=2, layout="(batch, U)")
    (batch, n_steps, width), units = xz.shape, h0.shape[1]
    check_shape("h0", h0, (batch, units), "(batch, U)")
    check_shape("W_h", W_h, (units, width), "(U, Z)")
    for name, p in (("W1", W1), ("W2", W2), ("Wt", Wt)):
        check_shape(name, p, (width, units), "(Z, U)")
    for name, p in (("b1", b1), ("b2", b2), ("bt", bt)):
        check_shape(name, p, (units,), "(U,)")
    if n_steps == 0:
        raise ValueError("xz has an empty time axis (dim 1); pass at least one time step")
    check_mixed_precision_like("xz", xz, **{k: v for k, v in named.items() if k != "xz"})
    check_finite(**named)
    params = (W_h, W1, b1, W2, b2, Wt, bt)
    kernel_dtype = compute_dtype(xz.dtype)
    fits = triton_fits(units, width, kernel_dtype, block_shared_memory(xz))
    which = resolve_backend(backend, xz, h0, *params, triton_fits=fits)
    if which == "triton" and (xz.shape[0] == 0 or units == 0 or width == 0):  # no tile is 0 units or rows wide
        which = "torch"
    if which == "triton":
        if not fits:
            raise ValueError(_too_large(units, width, kernel_dtype, xz))
        from .cfc_triton import cfc_scan_triton  # lazy: importing tsrec must not import triton

        return cfc_scan_triton(xz, h0, params)
    # float64 is the specification; the torch path accumulates half precision in float32
    wide = torch.float64 if which == "naive" else compute_dtype(xz.dtype)
    xz_w, h, params = xz.to(wide), h0.to(wide), [p.to(wide) for p in params]
    if which == "naive":
        return cfc_scan_naive(xz_w, h, params).to(xz.dtype)
    return _fused_heads_loop(xz_w, h, *params).to(xz.dtype)


def _fused_heads_loop(xz, h, W_h, W1, b1, W2, b2, Wt, bt) -> torch.Tensor:
    """The torch path: :func:`cfc_step` with the three heads as one ``addmm`` per step.

    On a CPU a step is a handful of small products whose per-call overhead dominates, so the
    heads share one product and one ``tanh`` covers both ``f`` heads; the same function as
    :func:`cfc_step` up to float rounding (another summation order in float32).
    """
    units = h.shape[1]
    W_heads, b_heads = torch.cat([W1, W2, Wt], dim=1), torch.cat([b1, b2, bt])
    out = []
    for xz_t in xz.unbind(1):
        z = lecun_tanh(torch.addmm(xz_t, h, W_h))
        heads = torch.addmm(b_heads, z, W_heads)  # [f1 | f2 | gate] pre-activations
        f = torch.tanh(heads[:, : 2 * units])
        gate = torch.sigmoid(heads[:, 2 * units :])
        h = f[:, :units] * (1.0 - gate) + gate * f[:, units:]
        out.append(h)
    return torch.stack(out, dim=1)
