"""Chimera's input-dependent 2-D SSM scan over a (time, variate) grid, Roesser form.

Every grid cell ``(t, v)`` of every channel ``d`` carries two diagonal states of size ``N``: the
time-state ``h1`` (carried along time) and the variate-state ``h2`` (carried along variates).
With per-cell step sizes ``delta1`` (time axis) and ``delta2`` (variate axis), diagonal
continuous-time matrices ``A1..A4`` of shape ``(D, N)`` and per-cell ``B1, B2, C1, C2`` of shape
``(N,)`` shared by the channels (Mamba's selective parameters), the scan computes::

    h1[t, v] = exp(delta1[t,v] A1) h1[t-1, v] + exp(delta1[t,v] A2) h2[t-1, v] + delta1[t,v] B1[t,v] x[t,v]
    h2[t, v] = exp(delta2[t,v] A3) h1[t, v-1] + exp(delta2[t,v] A4) h2[t, v-1] + delta2[t,v] B2[t,v] x[t,v]
    y[t, v]  = <C1[t,v], h1[t, v]> + <C2[t,v], h2[t, v]> + D x[t, v]

(products elementwise over ``N``, indices of ``delta``/``x`` also over the channel ``d``). This is
the ZOH discretisation per axis with Mamba's simplified ``B_bar = delta B``, as reconstructed in
the reference notes (papers-extracted §1.1, §7); the paper's own equations were not available.
Boundaries: states at ``v = -1`` are zero; states at ``t = -1`` are ``initial_state`` (zero by
default). ``A2=None`` / ``A3=None`` drop that cross-coupling term (``A2=None`` makes the time
state independent of the variate state). ``reverse_variates=True`` runs the variate recurrence
from the last variate down: ``v - 1`` becomes ``v + 1`` and the zero boundary is at ``v = V``.

Backends
--------
``naive``
    float64 double loop over ``t`` and ``v``: the specification.
``torch``
    anti-diagonal wavefront. Cell ``(t, v)`` depends only on cells of the previous diagonal
    ``s - 1`` (``s = t + v``), so the inputs are skewed once (row ``v`` shifted by ``v`` steps) and
    ``T + V - 1`` steps each update a whole diagonal, vectorised over batch, variates, channels
    and states; inputs are ``unbind``-ed before the loop so backward stays linear.
``triton``
    not implemented: ``backend="triton"`` raises, ``"auto"`` never picks it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_same_shape, check_tensor
from ._dispatch import resolve_backend

State = tuple[torch.Tensor, torch.Tensor]


def scan2d(
    x: torch.Tensor,
    delta1: torch.Tensor,
    delta2: torch.Tensor,
    A1: torch.Tensor,
    A2: torch.Tensor | None,
    A3: torch.Tensor | None,
    A4: torch.Tensor,
    B1: torch.Tensor,
    B2: torch.Tensor,
    C1: torch.Tensor,
    C2: torch.Tensor,
    *,
    D: torch.Tensor | None = None,
    initial_state: State | None = None,
    output_final_state: bool = False,
    reverse_variates: bool = False,
    backend: str = "auto",
) -> tuple[torch.Tensor, State | None]:
    """Run the 2-D selective scan of the module docstring.

    Parameters
    ----------
    x, delta1, delta2 : torch.Tensor
        Shape ``(batch, time, variates, channels)``; ``delta*`` are step sizes (already positive,
        e.g. after softplus).
    A1, A2, A3, A4 : torch.Tensor or None
        Shape ``(channels, N)``: diagonal continuous-time transitions (negative for decay).
        ``A2`` and ``A3`` may be None to drop the cross-coupling.
    B1, B2, C1, C2 : torch.Tensor
        Shape ``(batch, time, variates, N)``: input-dependent input / output vectors.
    D : torch.Tensor, optional
        Shape ``(channels,)``: skip weight.
    initial_state : tuple of two torch.Tensor, optional
        ``(h1, h2)`` at ``t = -1``, each ``(batch, variates, channels, N)``.
    output_final_state : bool
        Also return ``(h1, h2)`` at ``t = time - 1`` (same layout), to continue along time.
    reverse_variates : bool
        Scan the variate axis from the last variate to the first.
    backend : {"auto", "torch", "naive"}
        ``"triton"`` raises: there is no Triton kernel yet.

    Returns
    -------
    y : torch.Tensor
        ``(batch, time, variates, channels)``, dtype of ``x``.
    final_state : tuple of two torch.Tensor or None
        The states at the last time step when ``output_final_state``, else None.
    """
    tensors = _validate(x, delta1, delta2, (A1, A2, A3, A4), (B1, B2, C1, C2), D, initial_state)
    chosen = resolve_backend(backend, *[t for t in tensors if t is not None], has_triton=False)
    work = torch.float64 if (chosen == "naive" or x.dtype == torch.float64) else torch.float32
    args = [None if t is None else t.to(work) for t in tensors]
    init = None if initial_state is None else (args[-2], args[-1])
    inputs, A, BC, Dw = args[0:3], args[3:7], args[7:11], args[11]
    if chosen == "naive":
        y, final = _scan_naive(*inputs, A, BC, init, reverse_variates)
    else:
        y, final = _scan_flipped(inputs, A, BC, init, reverse_variates)
    if Dw is not None:
        y = y + Dw * inputs[0]
    final = tuple(h.to(x.dtype) for h in final) if output_final_state else None
    return y.to(x.dtype), final


def _validate(x, delta1, delta2, A, BC, D, initial_state) -> list:
    x = check_tensor("x", x, ndim=4)
    delta1 = check_tensor("delta1", delta1, ndim=4)
    delta2 = check_tensor("delta2", delta2, ndim=4)
    check_same_shape(x=x, delta1=delta1, delta2=delta2)
    batch, time, nvar, channels = x.shape
    if min(x.shape) < 1:
        raise ValueError(f"x must have every axis >= 1, got shape {tuple(x.shape)}")
    A = [None if a is None else check_tensor(f"A{i + 1}", a, ndim=2) for i, a in enumerate(A)]
    for i in (0, 3):
        if A[i] is None:
            raise TypeError(f"A{i + 1} is required (only A2 and A3 may be None)")
    n_state = A[0].shape[1]
    for i, a in enumerate(A):
        if a is not None and tuple(a.shape) != (channels, n_state):
            raise ValueError(f"A{i + 1} must have shape ({channels}, {n_state}) (channels, N), got {tuple(a.shape)}")
    names = ("B1", "B2", "C1", "C2")
    BC = [check_tensor(n, t, ndim=4) for n, t in zip(names, BC)]
    for n, t in zip(names, BC):
        if tuple(t.shape) != (batch, time, nvar, n_state):
            raise ValueError(f"{n} must have shape {(batch, time, nvar, n_state)} (batch, time, variates, N), got {tuple(t.shape)}")
    if D is not None:
        D = check_tensor("D", D, ndim=1)
        if tuple(D.shape) != (channels,):
            raise ValueError(f"D must have shape ({channels},), got {tuple(D.shape)}")
    init = _validate_state(initial_state, (batch, nvar, channels, n_state))
    out = [x, delta1, delta2, *A, *BC, D, *init]
    devices = {t.device for t in out if t is not None}
    if len(devices) > 1:
        raise ValueError(f"all scan2d inputs must be on one device, got {devices}; move them with .to()")
    return out


def _validate_state(state, shape: tuple[int, ...]) -> list:
    if state is None:
        return [None, None]
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError("initial_state must be a tuple (h1, h2) of the time- and variate-states at t = -1")
    checked = [check_tensor(f"initial_state[{i}]", h, ndim=4) for i, h in enumerate(state)]
    for i, h in enumerate(checked):
        if tuple(h.shape) != shape:
            raise ValueError(f"initial_state[{i}] must have shape {shape} (batch, variates, channels, N), got {tuple(h.shape)}")
    return checked


def _cell(x, d1, d2, A, BC, h1_time, h2_time, h1_var, h2_var) -> State:
    """One Roesser update for a set of cells; per-cell inputs broadcast against ``(..., D, N)``."""
    A1, A2, A3, A4 = A
    B1, B2 = BC[0].unsqueeze(-2), BC[1].unsqueeze(-2)
    d1, d2, x = d1.unsqueeze(-1), d2.unsqueeze(-1), x.unsqueeze(-1)
    h1 = torch.exp(d1 * A1) * h1_time + (d1 * x) * B1
    if A2 is not None:
        h1 = h1 + torch.exp(d1 * A2) * h2_time
    h2 = torch.exp(d2 * A4) * h2_var + (d2 * x) * B2
    if A3 is not None:
        h2 = h2 + torch.exp(d2 * A3) * h1_var
    return h1, h2


def _read(h1, h2, C1, C2) -> torch.Tensor:
    return (h1 * C1.unsqueeze(-2)).sum(-1) + (h2 * C2.unsqueeze(-2)).sum(-1)


def _scan_naive(x, delta1, delta2, A, BC, init, reverse) -> tuple[torch.Tensor, State]:
    """float64 double loop, the specification: time outer, variates inner (in scan order)."""
    batch, time, nvar, channels = x.shape
    zero = x.new_zeros(batch, channels, A[0].shape[1])
    order = range(nvar - 1, -1, -1) if reverse else range(nvar)
    prev = [(zero, zero) if init is None else (init[0][:, v], init[1][:, v]) for v in range(nvar)]
    ys = [[None] * nvar for _ in range(time)]
    for t in range(time):
        cur = [None] * nvar
        neighbour = (zero, zero)  # the variate boundary state
        for v in order:
            cell = (x[:, t, v], delta1[:, t, v], delta2[:, t, v])
            bc = [m[:, t, v] for m in BC]
            cur[v] = _cell(*cell, A, bc, *prev[v], *neighbour)
            ys[t][v] = _read(*cur[v], bc[2], bc[3])
            neighbour = cur[v]
        prev = cur
    y = torch.stack([torch.stack(row, dim=1) for row in ys], dim=1)
    final = (torch.stack([p[0] for p in prev], 1), torch.stack([p[1] for p in prev], 1))
    return y, final


def _scan_flipped(inputs, A, BC, init, reverse) -> tuple[torch.Tensor, State]:
    """Reverse variates by flipping the variate axis around the forward wavefront."""
    if not reverse:
        return _scan_wavefront(*inputs, A, BC, init)
    flip = lambda t, dim: None if t is None else t.flip(dim)  # noqa: E731
    init_f = None if init is None else (flip(init[0], 1), flip(init[1], 1))
    y, (h1, h2) = _scan_wavefront(*[flip(t, 2) for t in inputs], A, [flip(t, 2) for t in BC], init_f)
    return y.flip(2), (h1.flip(1), h2.flip(1))


def skew(z: torch.Tensor) -> torch.Tensor:
    """``(B, T, V, F) -> (B, T+V-1, V, F)`` with ``out[:, t + v, v] = z[:, t, v]``, zeros elsewhere.

    Each ``(v, time)`` row is padded by ``V`` zeros and the flat buffer is re-read with row length
    ``T + V - 1``: row ``v`` then starts ``v`` places later, i.e. is shifted right by ``v``.
    """
    batch, time, nvar, feat = z.shape
    w = F.pad(z.permute(0, 3, 2, 1), (0, nvar))  # (B, F, V, T+V)
    w = w.reshape(batch, feat, nvar * (time + nvar))[..., : nvar * (time + nvar - 1)]
    return w.reshape(batch, feat, nvar, time + nvar - 1).permute(0, 3, 2, 1)


def unskew(z: torch.Tensor, time: int) -> torch.Tensor:
    """Inverse of :func:`skew`: ``(B, S, V, F) -> (B, time, V, F)``, ``out[:, t, v] = z[:, t + v, v]``."""
    batch, steps, nvar, feat = z.shape
    w = F.pad(z.permute(0, 3, 2, 1).reshape(batch, feat, nvar * steps), (0, nvar))
    return w.reshape(batch, feat, nvar, steps + 1)[..., :time].permute(0, 3, 2, 1)


def _scan_wavefront(x, delta1, delta2, A, BC, init) -> tuple[torch.Tensor, State]:
    batch, time, nvar, channels = x.shape
    n_state = A[0].shape[1]
    valid = skew(x.new_ones(1, time, nvar, 1)).unsqueeze(-1)  # (1, S, V, 1, 1)
    # diagonal-major and contiguous, so every step reads dense slices
    diagonals = [skew(t).transpose(0, 1).contiguous().unbind(0) for t in (x, delta1, delta2, *BC)]
    h1 = h2 = x.new_zeros(batch, nvar, channels, n_state)
    rows = torch.arange(nvar, device=x.device).view(1, nvar, 1, 1)
    ys, final1, final2 = [], [], []
    for s, (xs, d1, d2, b1, b2, c1, c2) in enumerate(zip(*diagonals)):
        if init is not None and s < nvar:
            # the cell (t=-1, v=s) is a masked-out pad; put the caller's boundary state there
            at_s = (rows == s).to(x.dtype)
            h1, h2 = h1 + at_s * init[0], h2 + at_s * init[1]
        # the variate neighbour (t, v-1) sat one row up on the previous diagonal
        g1, g2 = _shift_rows(h1), _shift_rows(h2)
        h1, h2 = _cell(xs, d1, d2, A, (b1, b2), h1, h2, g1, g2)
        # zero the pads so cells with t < 0 stay empty and cells with t >= T cannot overflow
        h1, h2 = h1 * valid[:, s], h2 * valid[:, s]
        ys.append(_read(h1, h2, c1, c2))
        if s >= time - 1:
            final1.append(h1[:, s - time + 1])
            final2.append(h2[:, s - time + 1])
    y = unskew(torch.stack(ys, dim=1), time)
    return y, (torch.stack(final1, 1), torch.stack(final2, 1))


def _shift_rows(h: torch.Tensor) -> torch.Tensor:
    """Move every variate row down by one (``out[:, v] = h[:, v-1]``, zero at ``v = 0``)."""
    return F.pad(h, (0, 0, 0, 0, 1, 0))[:, :-1]
