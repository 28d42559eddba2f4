"""Mamba-1 selective scan in time-major layout, with a one-step update for roll-outs.

``delta' = softplus(delta + delta_bias)`` (both optional), ``h_t = exp(delta'_t A) h_{t-1} +
delta'_t u_t B_t`` with ``h`` of shape ``(batch, D, N)``, ``y_t = <h_t, C_t> + D u_t``, then
``y_t * silu(z_t)``. Backends: ``naive`` (float64 loop), ``torch`` (streaming loop with a
checkpointed hand-written backward), ``triton`` (GPU kernels).
"""

from __future__ import annotations

import torch

from .._autocast import without_autocast
from .._checks import (
    check_finite,
    check_flag,
    check_mixed_precision_like,
    check_same_shape,
    check_shape,
    check_tensor,
    compute_dtype,
)
from .._dispatch import resolve_backend
from .common import finish_output, prepare_delta
from .naive import selective_scan_naive
from .torch_impl import selective_scan_torch

__all__ = ["selective_scan", "selective_scan_step"]


def _check_BC(u_shape: tuple, A: torch.Tensor, **mats: torch.Tensor) -> None:
    """B and C: ``(batch, time, N)`` or ``(batch, time, G, N)`` with D divisible by G."""
    lead, n_state = tuple(u_shape[:-1]), A.shape[1]
    axes = ", ".join(("batch", "time")[: len(lead)])  # the one-step update has no time axis
    layouts = {}
    for name, M in mats.items():
        check_tensor(name, M, ndim=(len(lead) + 1, len(lead) + 2), layout=f"({axes}, N) or ({axes}, groups, N)")
        layouts[name] = M.ndim
        groups = M.shape[-2] if M.ndim == len(lead) + 2 else 1
        if tuple(M.shape[: len(lead)]) != lead or M.shape[-1] != n_state:
            raise ValueError(
                f"{name} must have shape {lead + (n_state,)} or {lead + ('G', n_state)} "
                f"(N={n_state} from A), got {tuple(M.shape)}"
            )
        if groups == 0 or u_shape[-1] % groups:  # 0 groups failed on "integer modulo by zero"
            raise ValueError(f"{name} has {groups} groups, which does not divide D={u_shape[-1]}; use a divisor of D")
    if len(set(layouts.values())) > 1:  # the backends read B and C with one layout
        shown = ", ".join(f"{name} {tuple(M.shape)}" for name, M in mats.items())
        raise ValueError(f"{' and '.join(mats)} must have the same layout, got {shown}; give them both "
                         f"({axes}, N) or both ({axes}, groups, N)")
    check_same_shape(**mats)


def _check_A(A: torch.Tensor, u_shape: tuple, B: object, B_name: str, step: bool) -> None:
    """A is ``(D, N)``; N is named from B's last axis, since a wrong A cannot tell its own N."""
    dim = u_shape[-1]
    if A.shape[0] == dim:
        return
    n_state = B.shape[-1] if isinstance(B, torch.Tensor) and B.ndim else None
    n_text = "N" if n_state is None else f"N) with N = {n_state} from {B_name}'s last axis, i.e. ({dim}, {n_state}"
    hint = "; it looks transposed, pass A.T" if tuple(A.shape) == (n_state, dim) else ""
    channel_first = isinstance(B, torch.Tensor) and B.ndim == 3 and B.shape[1] == A.shape[-1]
    if not step and not hint and u_shape[1] == A.shape[0] and channel_first:  # Mamba's CUDA op's layout
        # led by the layout: an N read from a channel-first B's last axis (its time) means nothing
        raise ValueError(f"the inputs look channel-first (batch, D, time), as Mamba's CUDA op takes them: u has shape "
                         f"{tuple(u_shape)}, whose axis 1 has A's D = {A.shape[0]} (A is {tuple(A.shape)}); "
                         "selective_scan is time-major: pass u, delta and z as .transpose(1, 2), and B and C as "
                         "(batch, time, N)")
    raise ValueError(f"A must have shape (D, N) = ({dim}, {n_text}), got {tuple(A.shape)}{hint}")


def _refuse_state_without_n(state: object, u_t: object, A: object) -> None:
    """A state of ``u_t``'s shape ``(batch, D)`` lacks the state axis: told the shape with N, not (as the
    rank check would) to add a batch axis."""
    tensors = all(isinstance(t, torch.Tensor) for t in (state, u_t, A))
    if tensors and state.ndim == 2 and state.shape == u_t.shape and A.ndim == 2:
        shape = (*u_t.shape, A.shape[-1])
        raise ValueError(f"state has u_t's shape {tuple(state.shape)} (batch, D) but holds N = {A.shape[-1]} values a "
                         f"channel (A's last axis): pass one of shape (batch, D, N) = {shape}, e.g. torch.zeros{shape} "
                         "to start")


def _layout(step: bool, last: str) -> str:
    """The axes of a sequence input, or of the one-step update's (no time axis)."""
    return f"(batch, {last})" if step else f"(batch, time, {last})"


#: what the one-step update calls the arguments of the sequence op, for its messages
_STEP_NAMES = {"u": "u_t", "delta": "delta_t", "B": "B_t", "C": "C_t", "z": "z_t", "initial_state": "state"}


def _validate(u, delta, A, B, C, D, z, delta_bias, initial_state, step: bool = False) -> None:
    """Shape, dtype and finiteness checks; ``step`` drops the time axis (and names the step's arguments)."""
    rank = 2 if step else 3
    given = {"u": u, "delta": delta, "A": A, "B": B, "C": C, "D": D, "z": z, "delta_bias": delta_bias,
             "initial_state": initial_state}
    n = {key: _STEP_NAMES.get(key, key) if step else key for key in given}
    check_tensor(n["u"], u, ndim=rank, layout=_layout(step, "D"))
    check_tensor(n["delta"], delta, ndim=rank, layout=_layout(step, "D"))
    check_tensor("A", A, ndim=2, layout="(D, N)")
    check_same_shape(**{n["u"]: u, n["delta"]: delta})
    if not step and u.shape[1] == 0:
        raise ValueError("u has an empty time axis (dim 1); pass at least one time step")
    _check_A(A, tuple(u.shape), B, n["B"], step)
    _check_BC(tuple(u.shape), A, **{n["B"]: B, n["C"]: C})
    for key, shape in (("D", (u.shape[-1],)), ("delta_bias", (u.shape[-1],)), ("z", tuple(u.shape))):
        if given[key] is not None:
            check_tensor(n[key], given[key])
            check_shape(n[key], given[key], shape)
    if initial_state is not None:
        check_tensor(n["initial_state"], initial_state, ndim=3, layout="(batch, D, N)")
        check_shape(n["initial_state"], initial_state, (u.shape[0], u.shape[-1], A.shape[1]), "(batch, D, N)")
    named = {n[key]: value for key, value in given.items()}
    check_mixed_precision_like(n["u"], u, **{key: value for key, value in named.items() if key != n["u"]})
    check_finite(**named)


@without_autocast
def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    *,
    D: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
    initial_state: torch.Tensor | None = None,
    output_final_state: bool = False,
    backend: str = "auto",
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Selective state-space scan (Mamba-1), time-major.

    Parameters
    ----------
    u : torch.Tensor
        Input ``(batch, time, D)``.
    delta : torch.Tensor
        Step sizes ``(batch, time, D)``.
    A : torch.Tensor
        Real ``(D, N)`` diagonal state matrix (typically negative).
    B, C : torch.Tensor
        ``(batch, time, N)``, or grouped ``(batch, time, G, N)`` shared by ``D/G`` channels.
    D : torch.Tensor, optional
        Skip weights ``(D,)``: adds ``D * u``.
    z : torch.Tensor, optional
        Gate ``(batch, time, D)``: multiplies the output by ``silu(z)``.
    delta_bias : torch.Tensor, optional
        ``(D,)`` added to ``delta`` before the optional softplus.
    delta_softplus : bool, default False
        Apply ``softplus`` to the (biased) step sizes.
    initial_state : torch.Tensor, optional
        ``(batch, D, N)`` state before the first step; gradients flow into it.
    output_final_state : bool, default False
        Also return the final state (gradients flow through it).
    backend : {"auto", "torch", "triton", "naive"}
        Implementation; ``TSREC_KERNEL_BACKEND`` overrides ``"auto"``.

    Returns
    -------
    y : torch.Tensor
        ``(batch, time, D)`` in ``u``'s dtype.
    h_T : torch.Tensor
        ``(batch, D, N)`` final state (float32 for half inputs), only when ``output_final_state``.

    Notes
    -----
    All tensors share ``u``'s device and dtype, except that half precision and float32 may mix,
    either way: float32 parameters beside half-precision activations, or a float32 ``u`` beside
    half-precision ``delta``, ``B`` or ``C`` (as under autocast).
    The ``torch`` and ``triton`` backends have first derivatives only: a backward with
    ``create_graph=True`` (e.g. a Hessian) raises; ``backend="naive"`` gives higher orders.
    """
    _validate(u, delta, A, B, C, D, z, delta_bias, initial_state)
    delta_softplus = check_flag("delta_softplus", delta_softplus)  # "no" would read as True
    output_final_state = check_flag("output_final_state", output_final_state)
    args = (u, delta, A, B, C, D, z, delta_bias, delta_softplus, initial_state)
    which = resolve_backend(backend, u, delta, A, B, C)
    if which == "triton" and (u.numel() == 0 or A.numel() == 0):  # no Triton tile is 0 channels or states wide
        which = "torch"
    if which == "naive":
        y, hT = selective_scan_naive(*args)
    elif which == "triton":
        from .triton_impl import selective_scan_triton  # lazy: importing tsrec must not import triton

        y, hT = selective_scan_triton(*args)
    else:
        y, hT = selective_scan_torch(*args)
    return (y, hT) if output_final_state else y


@without_autocast
def selective_scan_step(
    state: torch.Tensor,
    u_t: torch.Tensor,
    delta_t: torch.Tensor,
    A: torch.Tensor,
    B_t: torch.Tensor,
    C_t: torch.Tensor,
    *,
    D: torch.Tensor | None = None,
    z_t: torch.Tensor | None = None,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advance the selective SSM by one step (recurrent inference).

    Parameters
    ----------
    state : torch.Tensor
        ``(batch, D, N)`` current state.
    u_t, delta_t : torch.Tensor
        ``(batch, D)`` input and step size of this step.
    A : torch.Tensor
        ``(D, N)``.
    B_t, C_t : torch.Tensor
        ``(batch, N)`` or grouped ``(batch, G, N)``.
    D, z_t, delta_bias, delta_softplus
        As in :func:`selective_scan`, without the time axis.

    Returns
    -------
    y_t : torch.Tensor
        ``(batch, D)`` output in ``u_t``'s dtype.
    new_state : torch.Tensor
        ``(batch, D, N)`` in the accumulation dtype.
    """
    _refuse_state_without_n(state, u_t, A)
    check_tensor("state", state, ndim=3, layout="(batch, D, N)")
    _validate(u_t, delta_t, A, B_t, C_t, D, z_t, delta_bias, state, step=True)
    delta_softplus = check_flag("delta_softplus", delta_softplus)
    wide = compute_dtype(u_t.dtype)
    u_w, dt, A_w, B_w, C_w = (x.to(wide) for x in (u_t, delta_t, A, B_t, C_t))
    dt = prepare_delta(dt, None if delta_bias is None else delta_bias.to(wide), delta_softplus)
    if B_w.ndim == 2:
        B_w, C_w = B_w[:, None], C_w[:, None]
    per_group = u_t.shape[1] // B_w.shape[1]
    B_d, C_d = B_w.repeat_interleave(per_group, 1), C_w.repeat_interleave(per_group, 1)
    new_state = torch.exp(dt[..., None] * A_w) * state.to(wide) + (dt * u_w)[..., None] * B_d
    y = (new_state * C_d).sum(-1)
    y = finish_output(y, u_w, None if D is None else D.to(wide), None if z_t is None else z_t.to(wide))
    return y.to(u_t.dtype), new_state
