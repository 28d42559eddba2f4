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

import torch

from .._autocast import without_autocast
from .._checks import check_finite, check_mixed_precision_like, check_shape, check_tensor, compute_dtype
from .._dispatch import resolve_backend
from .naive import cfc_scan_naive

MAX_UNITS, MAX_BACKBONE = 64, 256  # what the Triton kernels keep on chip, each alone
# and together: the tiles, each side a power of two of at least 16, of at most 4096 values (float64: at
# most 32 x 128). At 32 x 128 (ncps's default) the backward asks 176 KiB of shared memory (float32;
# float64 208), at 64 x 256 it asked 608 KiB, and in float64 64 x 64 232 KiB: more than the 227 KiB an
# H100/H200 gives a block (tests/kernels/test_triton_compile.py)
MAX_TILE = 4096
MAX_FLOAT64_TILE = (32, 128)


def tile_side(n: int) -> int:
    """A kernel tile's side for ``n`` units or backbone values: a power of two, at least 16 (tl.dot's least)."""
    return max(16, 1 << (n - 1).bit_length())


def triton_fits(units: int, width: int, dtype: torch.dtype = torch.float32) -> bool:
    """Whether the Triton CfC kernels run ``units`` neurons over a backbone of ``width`` in ``dtype``."""
    tile = (tile_side(units), tile_side(width))
    if dtype == torch.float64 and (tile[0] > MAX_FLOAT64_TILE[0] or tile[1] > MAX_FLOAT64_TILE[1]):
        return False
    return units <= MAX_UNITS and width <= MAX_BACKBONE and tile[0] * tile[1] <= MAX_TILE


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
        ``"triton"``: the fused GPU kernels (``U <= 64``, ``Z <= 256``, see :func:`triton_fits`);
        ``"auto"`` picks them for CUDA tensors when triton is installed and the sizes fit.

    Returns
    -------
    torch.Tensor
        ``(batch, time, U)``, dtype of ``xz``.

    Notes
    -----
    All tensors share ``xz``'s device and dtype, except that they may be float32 when ``xz`` is
    half precision (as under autocast); half precision is computed in float32.
    """
    named = {"xz": xz, "h0": h0, "W_h": W_h, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "Wt": Wt, "bt": bt}
    for name, tensor in named.items():
        check_tensor(name, tensor, finite=False)
    check_tensor("xz", xz, ndim=3, finite=False)
    check_tensor("h0", h0, ndim=2, finite=False)
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
    fits = triton_fits(units, width, compute_dtype(xz.dtype))
    which = resolve_backend(backend, xz, h0, *params, triton_fits=fits)
    if which == "triton":
        if not fits:
            raise ValueError(f"the Triton CfC kernels keep U <= {MAX_UNITS} and Z <= {MAX_BACKBONE} on chip, with the "
                             f"two rounded up to powers of two (at least 16) multiplying to at most {MAX_TILE} (in "
                             f"float64 at most {MAX_FLOAT64_TILE[0]} x {MAX_FLOAT64_TILE[1]}), got U={units}, "
                             f"Z={width}; use backend='torch'")
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
