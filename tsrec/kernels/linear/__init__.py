"""First-order linear recurrence ``h_t = a_t * h_{t-1} + b_t`` over ``(batch, time, channels)``.

Backends: ``naive`` (float64 loop, the specification), ``torch`` (loop or chunked loop with a
reverse-scan backward, any device) and ``triton`` (GPU kernel, real dtypes only).
"""

from __future__ import annotations

import torch

from .._autocast import without_autocast
from .._checks import (
    check_finite,
    check_flag,
    check_like,
    check_mixed_precision_like,
    check_same_shape,
    check_shape,
    check_tensor,
)
from .._dispatch import resolve_backend
from .naive import linear_scan_naive
from .torch_impl import linear_scan_torch

__all__ = ["linear_scan", "linear_scan_step"]

SEQ = "(batch, time, channels)"


def _validate(a: object, b: object, initial_state: object) -> None:
    check_tensor("a", a, ndim=3, allow_complex=True, layout=SEQ)
    check_tensor("b", b, ndim=3, allow_complex=True, layout=SEQ)
    check_same_shape(a=a, b=b)
    if a.shape[1] == 0:
        raise ValueError("a and b have an empty time axis (dim 1); pass at least one time step")
    if initial_state is not None:
        check_tensor("initial_state", initial_state, ndim=2, allow_complex=True, layout="(batch, channels)")
        check_shape("initial_state", initial_state, (a.shape[0], a.shape[2]), "(batch, channels)")
    check_mixed_precision_like("b", b, a=a, initial_state=initial_state)


@without_autocast
def linear_scan(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    initial_state: torch.Tensor | None = None,
    reverse: bool = False,
    output_final_state: bool = False,
    backend: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Scan ``h_t = a_t * h_{t-1} + b_t`` elementwise over channels.

    Parameters
    ----------
    a : torch.Tensor
        Gates, ``(batch, time, channels)``, real or complex.
    b : torch.Tensor
        Inputs, same shape and dtype as ``a`` (half precision and float32 may mix, either way, as
        under autocast).
    initial_state : torch.Tensor, optional
        ``(batch, channels)`` state before the first step (before the last one when
        ``reverse``); zeros when omitted; ``b``'s dtype, or float32 when that is half precision.
        Gradients flow into it.
    reverse : bool, default False
        Run from the last time step to the first: ``h_t = a_t * h_{t+1} + b_t``.
    output_final_state : bool, default False
        Also return the state after the last step processed (gradients flow through it).
    backend : {"auto", "torch", "triton", "naive"}
        Implementation; ``TSREC_KERNEL_BACKEND`` overrides ``"auto"``.

    Returns
    -------
    h : torch.Tensor
        All states, ``(batch, time, channels)``, dtype of ``b``.
    h_T : torch.Tensor
        Final state ``(batch, channels)``, only when ``output_final_state``: the last row of ``h``
        (the first when ``reverse``), so in ``b``'s dtype also for half precision, unlike
        ``selective_scan``'s float32 state; ``initial_state`` takes it back either way.

    Notes
    -----
    The ``torch`` and ``triton`` backends have first derivatives only: a backward with
    ``create_graph=True`` (e.g. a Hessian) raises; ``backend="naive"`` gives higher orders.
    """
    _validate(a, b, initial_state)
    reverse = check_flag("reverse", reverse)  # "no" would read as True and scan backwards
    output_final_state = check_flag("output_final_state", output_final_state)
    extra = () if initial_state is None else (initial_state,)
    no_triton = "complex inputs have no Triton kernel (linear_scan's takes real dtypes)" if a.is_complex() else None
    which = resolve_backend(backend, a, b, *extra, no_triton=no_triton)
    if which == "triton" and b.numel() == 0:  # nothing to scan, and no Triton tile is 0 channels wide
        which = "torch"
    if which != "triton":  # the Triton kernel checks its inputs as it reads them: a check here would read them twice
        check_finite(a=a, b=b, initial_state=initial_state)
    if which == "naive":
        h = linear_scan_naive(a, b, initial_state, reverse)
    elif which == "triton":
        from .triton_impl import linear_scan_triton  # lazy: importing tsrec must not import triton

        h = linear_scan_triton(a, b, initial_state, reverse, check_finite=True)
    else:
        h = linear_scan_torch(a, b, initial_state, reverse)
    if not output_final_state:
        return h
    return h, (h[:, 0] if reverse else h[:, -1])


@without_autocast
def linear_scan_step(state: torch.Tensor, a_t: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
    """One recurrent step ``a_t * state + b_t`` for roll-outs, all ``(batch, channels)``.

    Parameters
    ----------
    state, a_t, b_t : torch.Tensor
        Current state, gate and input of one time step, one shape and dtype.

    Returns
    -------
    torch.Tensor
        The new state.
    """
    for name, x in (("state", state), ("a_t", a_t), ("b_t", b_t)):
        check_tensor(name, x, ndim=2, allow_complex=True, layout="(batch, channels)")
    check_same_shape(state=state, a_t=a_t, b_t=b_t)
    check_like("state", state, a_t=a_t, b_t=b_t)
    check_finite(state=state, a_t=a_t, b_t=b_t)
    return torch.addcmul(b_t, a_t, state)
