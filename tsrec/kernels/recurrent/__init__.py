"""Sequential loops for nonlinear recurrences (LTC, CfC and friends), which no scan can split.

Two entry points:

- :func:`recurrent_scan` runs any Python step function ``h_t = step_fn(x_t, h_{t-1})`` as a tight
  torch loop; autograd differentiates it. It has no Triton backend: an arbitrary Python
  function cannot be compiled into a kernel.
- :func:`rnn_scan` runs the fixed cell family of :mod:`.cells` (``"tanh"`` and the CfC-like
  ``"gated"`` cell) and has a fused Triton kernel for GPUs, with the whole time loop and the
  state on chip.
- :func:`ltc_scan` (:mod:`.ltc`) runs the LTC neuron's fused ODE solver and :func:`cfc_scan`
  (:mod:`.cfc`) the CfC cell's recurrence, each with fused Triton forward and adjoint kernels
  for GPUs (the LTC and CfC models' time loops).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._autocast import without_autocast
from .._checks import check_device, check_finite, check_flag, check_mixed_precision_like, check_shape, check_tensor
from .._dispatch import resolve_backend
from .._launch import block_shared_memory
from .cells import CELLS, triton_hidden_limit
from .cfc import cfc_scan
from .ltc import ltc_scan
from .naive import recurrent_scan_naive, rnn_scan_naive
from .torch_impl import recurrent_scan_torch, rnn_scan_torch

__all__ = ["cfc_scan", "ltc_scan", "recurrent_scan", "rnn_scan"]


def _checked_step(step_fn: Callable, h0: torch.Tensor) -> Callable:
    """Wrap ``step_fn`` so a wrong return value fails at the first step with a clear message."""
    checked = False

    def step(x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        nonlocal checked
        h_new = step_fn(x_t, h)
        if not checked:
            if not isinstance(h_new, torch.Tensor) or h_new.shape != h0.shape:
                got = tuple(h_new.shape) if isinstance(h_new, torch.Tensor) else type(h_new).__name__
                raise ValueError(f"step_fn must return the new state with h0's shape {tuple(h0.shape)}, got {got}")
            checked = True
        return h_new

    return step


def recurrent_scan(
    step_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    h0: torch.Tensor,
    *,
    reverse: bool = False,
    output_final_state: bool = False,
    backend: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Run ``h_t = step_fn(x_t, h_{t-1})`` over the time axis of ``x``.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(x_t, h) -> h_new`` with ``x_t`` ``(batch, features)`` and ``h`` shaped like
        ``h0``; any torch code (weights captured by closure get gradients through autograd).
    x : torch.Tensor
        ``(batch, time, features)`` inputs.
    h0 : torch.Tensor
        ``(batch, ...)`` initial state.
    reverse : bool, default False
        Run from the last step to the first.
    output_final_state : bool, default False
        Also return the last state computed.
    backend : {"auto", "torch", "naive"}
        ``"torch"`` unbinds time once (linear-time backward); ``"naive"`` indexes per step.
        ``TSREC_KERNEL_BACKEND=triton`` runs ``"torch"``: there is no Triton kernel.

    Returns
    -------
    h : torch.Tensor
        ``(batch, time, ...)`` all states.
    h_T : torch.Tensor
        Final state, only when ``output_final_state``.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable, got {type(step_fn).__name__}")
    check_tensor("x", x, ndim=3, layout="(batch, time, features)")
    check_tensor("h0", h0)
    check_device("x", x, h0=h0)  # h0's dtype is step_fn's business, its device is not: it would fail unnamed
    check_finite(x=x, h0=h0)
    if h0.ndim < 1 or h0.shape[0] != x.shape[0]:
        raise ValueError(f"h0 must have the batch size of x ({x.shape[0]}) as dim 0, got shape {tuple(h0.shape)}")
    if x.shape[1] == 0:
        raise ValueError("x has an empty time axis (dim 1); pass at least one time step")
    reverse = check_flag("reverse", reverse)  # "no" would read as True and run backwards
    output_final_state = check_flag("output_final_state", output_final_state)
    which = resolve_backend(backend, x, h0, no_triton="recurrent_scan has no Triton kernel (a Python step function "
                                                      "cannot be compiled into one)")
    run = recurrent_scan_naive if which == "naive" else recurrent_scan_torch
    h = run(_checked_step(step_fn, h0), x, h0, reverse)
    if not output_final_state:
        return h
    return h, (h[:, 0] if reverse else h[:, -1])


@without_autocast
def rnn_scan(
    x: torch.Tensor,
    W: torch.Tensor,
    *,
    initial_state: torch.Tensor | None = None,
    cell: str = "tanh",
    output_final_state: bool = False,
    backend: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Fused recurrent loop of a cell from the documented family (see :mod:`.cells`).

    Parameters
    ----------
    x : torch.Tensor
        ``(batch, time, K*H)`` input projections, already multiplied out by the caller
        (``K = 1`` for ``"tanh"``, ``2`` for ``"gated"``).
    W : torch.Tensor
        ``(H, K*H)`` recurrent weights; ``x``'s dtype, or float32 beside half precision either
        way (as under autocast; the same for ``initial_state``).
    initial_state : torch.Tensor, optional
        ``(batch, H)`` start state; zeros when omitted.
    cell : {"tanh", "gated"}
        ``"tanh"``: ``h = tanh(x_t + h W)``; ``"gated"``: ``[p, q] = x_t + h W``,
        ``h = (1 - sigmoid(p)) h + sigmoid(p) tanh(q)``.
    output_final_state : bool, default False
        Also return the final state ``(batch, H)``.
    backend : {"auto", "torch", "triton", "naive"}
        ``"triton"`` is the fused GPU kernel (``H <= 128`` on an H100/H200, 64 on an A100, gated
        ``H <= 64``: :func:`.cells.triton_hidden_limit` of the GPU's shared memory); ``"auto"``
        picks it for CUDA tensors when triton is installed and ``H`` fits.

    Returns
    -------
    h : torch.Tensor
        ``(batch, time, H)`` in ``x``'s dtype.
    h_T : torch.Tensor
        Final state, only when ``output_final_state``.
    """
    if not isinstance(cell, str) or cell not in CELLS:  # a list failed on "unhashable type"
        raise ValueError(f"unknown cell {cell!r}; use one of {sorted(CELLS)}")
    width = "H" if CELLS[cell] == 1 else f"{CELLS[cell]}*H"
    check_tensor("x", x, ndim=3, layout=f"(batch, time, {width})")
    check_tensor("W", W, ndim=2, layout=f"(H, {width})")
    hidden = W.shape[0]
    check_shape("W", W, (hidden, CELLS[cell] * hidden), f"(H, {CELLS[cell]}*H) for cell {cell!r}")
    check_shape("x", x, (x.shape[0], x.shape[1], CELLS[cell] * hidden), f"(batch, time, {CELLS[cell]}*H)")
    if x.shape[1] == 0:
        raise ValueError("x has an empty time axis (dim 1); pass at least one time step")
    if initial_state is not None:
        check_tensor("initial_state", initial_state, ndim=2, layout="(batch, H)")
        check_shape("initial_state", initial_state, (x.shape[0], hidden), "(batch, H)")
    check_mixed_precision_like("x", x, W=W, initial_state=initial_state)
    check_finite(x=x, W=W, initial_state=initial_state)
    output_final_state = check_flag("output_final_state", output_final_state)
    fits = hidden <= triton_hidden_limit(cell, block_shared_memory(x))
    which = resolve_backend(backend, x, W, triton_fits=fits)
    if which == "triton" and (x.numel() == 0 or hidden == 0):  # nothing to scan, and no tile is 0 units wide
        which = "torch"
    if which == "naive":
        h = rnn_scan_naive(cell, x, W, initial_state)
    elif which == "triton":
        from .triton_impl import rnn_scan_triton  # lazy: importing tsrec must not import triton

        h = rnn_scan_triton(cell, x, W, initial_state)
    else:
        h = rnn_scan_torch(cell, x, W, initial_state)
    return (h, h[:, -1]) if output_final_state else h
