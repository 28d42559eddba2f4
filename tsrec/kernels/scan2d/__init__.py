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
    with at most :func:`sweep_limit` variates per batch row (256 at 96 steps, growing a little faster than
    time), a variate sweep (:mod:`.variate_sweep`):
    ``V`` steps, each the whole column's variate state at once and a 1-D linear scan of its time
    state, with a hand-written backward (the same sweep run back, :mod:`.variate_sweep_adjoint`).
    With more variates, an anti-diagonal wavefront (:mod:`.wavefront`). Cell ``(t, v)`` depends only on cells of the
    previous diagonal ``s - 1`` (``s = t + v``), so the inputs are skewed once (each row shifted by
    its index) and ``T + V - 1`` steps each update a whole diagonal, vectorised over batch, the
    diagonal, channels and states; a diagonal is indexed along the shorter of the two axes so that
    few pad cells are computed (``V = 862`` variates with ``T = 96`` costs 96-wide steps, not
    862-wide). Its backward is the adjoint wavefront, written by hand, keeping only the two state
    grids from the forward pass.
``triton``
    GPU kernels (:mod:`.triton_impl`, imported on first use): one program per batch row and
    block of channels walks the cells in scan order with the states in registers, writing the
    two state grids; the backward kernel walks them in reverse with the adjoint recurrence.
    ``"auto"`` picks it for CUDA tensors when triton is installed.
"""

from __future__ import annotations

import torch

from .._autocast import without_autocast
from .._autograd import empty_result
from .._checks import check_finite, check_flag, check_mixed_precision_like, check_same_shape, check_tensor
from .._dispatch import resolve_backend
from .naive import State, scan_naive
from .variate_sweep import scan_variate_sweep
from .wavefront import scan_wavefront

GRID = "(batch, time, variates, channels)"  # the layout of x, delta1 and delta2

__all__ = ["SWEEP_MAX_VARIATES_PER_ROW", "scan2d", "sweep_limit"]

# Measured, fwd+bwd on one core (benchmarks/scan2d_paths.py, results/scan2d_paths*.md): the sweep wins
# with few variates, or with more rows of a batch to fill each of its V sequential steps; the wavefront's
# T + V - 1 diagonals win with many variates in few rows. At T = 96, batch 1 crosses over between 200 and
# 321 variates, batch 2 between 500 and 862; batch 4 and 8 still favour the sweep at 862. The crossover
# grows a little faster than T (the wavefront's diagonals get both more and wider): in one row it lies
# between 32 and 64 variates at T = 24, near 128 at T = 48, near 1300 to 1800 at T = 336
# and above 2600 at T = 720, which SWEEP_MAX_VARIATES_PER_ROW * (T / 96) ** 1.25 follows.
SWEEP_MAX_VARIATES_PER_ROW = 256  # at SWEEP_REFERENCE_TIME steps
SWEEP_REFERENCE_TIME = 96
SWEEP_TIME_EXPONENT = 1.25


def sweep_limit(time: int) -> int:
    """Variates per batch row up to which the torch path runs the variate sweep at ``time`` steps."""
    return round(SWEEP_MAX_VARIATES_PER_ROW * (time / SWEEP_REFERENCE_TIME) ** SWEEP_TIME_EXPONENT)


@without_autocast
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
    A1 : torch.Tensor
        Shape ``(channels, N)``: diagonal continuous-time transitions (negative for decay) of the
        time-axis state.
    A2, A3 : torch.Tensor or None
        Shape ``(channels, N)``: the cross-coupling transitions; None drops the coupling.
    A4 : torch.Tensor
        Shape ``(channels, N)``: the variate-axis state's transitions, as ``A1``.
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
    backend : {"auto", "torch", "triton", "naive"}
        Implementation; ``TSREC_KERNEL_BACKEND`` overrides ``"auto"``. ``"triton"`` needs CUDA
        tensors (or ``TRITON_INTERPRET=1``, for tests).

    Returns
    -------
    y : torch.Tensor
        ``(batch, time, variates, channels)``, dtype of ``x``.
    final_state : tuple of two torch.Tensor or None
        The states at the last time step when ``output_final_state``, else None; in ``x``'s dtype
        (half precision for a half ``x``, where :func:`selective_scan` keeps its state in float32).

    Notes
    -----
    All tensors share ``x``'s device and dtype, except that half precision and float32 may mix,
    either way: float32 parameters beside half-precision activations, or a float32 ``x`` beside
    half-precision ``B`` and ``C``, as a GPU's autocast gives.
    An empty axis (batch, time, variates or channels of 0) gives an empty ``y`` on every backend,
    as the other ops do for an empty batch; no cell is updated, so the final states are the
    initial ones (zeros by default).
    The ``torch`` and ``triton`` backends have first derivatives only: a backward with
    ``create_graph=True`` (e.g. a Hessian) raises; ``backend="naive"`` gives higher orders.
    """
    tensors = _validate(x, delta1, delta2, (A1, A2, A3, A4), (B1, B2, C1, C2), D, initial_state)
    reverse_variates = check_flag("reverse_variates", reverse_variates)  # "no" would read as True
    output_final_state = check_flag("output_final_state", output_final_state)
    chosen = resolve_backend(backend, *[t for t in tensors if t is not None])
    work = torch.float64 if (chosen == "naive" or x.dtype == torch.float64) else torch.float32
    args = [None if t is None else t.to(work) for t in tensors]
    init = None if initial_state is None else (args[-2], args[-1])
    inputs, A, BC, Dw = args[0:3], args[3:7], args[7:11], args[11]
    if chosen == "triton" and A[0].shape[1] == 0:  # no Triton tile is 0 states wide
        chosen = "torch"
    if x.numel() == 0:  # an empty axis: nothing to scan, and the paths' loops and tiles assume cells
        y, final = _scan_empty([t for t in args if t is not None], A[0].shape[1], init)
    elif chosen == "naive":
        y, final = scan_naive(*inputs, A, BC, init, reverse_variates)
    elif chosen == "triton":
        from .triton_impl import scan2d_triton  # lazy: importing tsrec must not import triton

        y, final = scan2d_triton(*inputs, A, BC, init, reverse_variates)
    else:
        y, final = _scan_torch(inputs, A, BC, init, reverse_variates)
    if Dw is not None:
        y = y + Dw * inputs[0]
    final = tuple(h.to(x.dtype) for h in final) if output_final_state else None
    return y.to(x.dtype), final


def _validate(x, delta1, delta2, A, BC, D, initial_state) -> list:
    x = check_tensor("x", x, ndim=4, layout=GRID)
    delta1 = check_tensor("delta1", delta1, ndim=4, layout=GRID)
    delta2 = check_tensor("delta2", delta2, ndim=4, layout=GRID)
    check_same_shape(x=x, delta1=delta1, delta2=delta2)
    batch, time, nvar, channels = x.shape
    A = [None if a is None else check_tensor(f"A{i + 1}", a, ndim=2, layout="(channels, N)")
         for i, a in enumerate(A)]
    for i in (0, 3):
        if A[i] is None:
            raise TypeError(f"A{i + 1} is required (only A2 and A3 may be None)")
    names = ("B1", "B2", "C1", "C2")
    BC = [check_tensor(n, t, ndim=4, layout="(batch, time, variates, N)")
          for n, t in zip(names, BC)]
    n_state = _common_state_size([a for a in A if a is not None], BC)
    for i, a in enumerate(A):
        if a is not None and tuple(a.shape) != (channels, n_state):
            hint = f"; it looks transposed, pass A{i + 1}.T" if tuple(a.shape) == (n_state, channels) else ""
            raise ValueError(f"A{i + 1} must have shape ({channels}, {n_state}) (channels, N), N = {n_state} being "
                             f"the state size of most of A1..A4, B1..C2, got {tuple(a.shape)}{hint}")
    for n, t in zip(names, BC):
        if tuple(t.shape) != (batch, time, nvar, n_state):
            raise ValueError(
                f"{n} must have shape {(batch, time, nvar, n_state)} (batch, time, variates, N), N = {n_state} "
                f"being the state size of most of A1..A4, B1..C2, got {tuple(t.shape)}"
            )
    if D is not None:
        D = check_tensor("D", D, ndim=1, layout="(channels,)")
        if tuple(D.shape) != (channels,):
            raise ValueError(f"D must have shape ({channels},), got {tuple(D.shape)}")
    init = _validate_state(initial_state, (batch, nvar, channels, n_state))
    out = [x, delta1, delta2, *A, *BC, D, *init]
    labels = ["x", "delta1", "delta2", "A1", "A2", "A3", "A4", *names, "D", "initial_state[0]", "initial_state[1]"]
    named = dict(zip(labels, out))
    check_mixed_precision_like("x", x, **named)
    check_finite(**named)
    return out


def _common_state_size(A: list[torch.Tensor], BC: list[torch.Tensor]) -> int:
    """The state size N most of ``A`` and ``BC`` agree on, so that the odd one out is named. A tie goes to B1..C2's
    (per-cell data, which a transposed ``(N, channels)`` A1..A4 outnumbered 4 to 4, and the message then asked
    for A1 of shape (channels, channels)), then to A1's."""
    sizes = [t.shape[-1] for t in A + BC]
    data = [t.shape[-1] for t in BC]
    return max(sizes, key=lambda n: (sizes.count(n), data.count(n), n == sizes[0]))


def _validate_state(state, shape: tuple[int, ...]) -> list:
    if state is None:
        return [None, None]
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError("initial_state must be a tuple (h1, h2) of the time- and variate-states at t = -1")
    checked = [check_tensor(f"initial_state[{i}]", h, ndim=4, layout="(batch, variates, channels, N)")
               for i, h in enumerate(state)]
    for i, h in enumerate(checked):
        if tuple(h.shape) != shape:
            raise ValueError(
                f"initial_state[{i}] must have shape {shape} (batch, variates, channels, N), "
                f"got {tuple(h.shape)}"
            )
    return checked


def _scan_empty(tensors: list[torch.Tensor], n_state: int, init: State | None) -> tuple[torch.Tensor, State]:
    """The result when an axis of ``x`` (``tensors[0]``) is 0: ``y`` is empty and no cell updates the states.

    So the final states are the initial ones (zero by default), empty unless only time is 0; copies,
    so that the caller's state is not returned as an alias. ``y`` stays in the autograd graph of every
    input (``tensors``), so that a backward gives each a zero gradient, as the other ops do.
    """
    x = tensors[0]
    batch, _, nvar, channels = x.shape
    y = empty_result(x.shape, *tensors)
    if init is None:
        zero = x.new_zeros(batch, nvar, channels, n_state)
        return y, (zero, zero.clone())
    return y, (init[0].clone(), init[1].clone())


def _scan_torch(inputs, A, BC, init, reverse) -> tuple[torch.Tensor, State]:
    """Pick the torch path by the number of variates; the wavefront reverses variates by flipping
    that axis (the sweep walks its columns backwards: flipped copies would be kept for backward)."""
    batch, time, nvar, _ = inputs[0].shape
    if nvar <= sweep_limit(time) * batch:
        return scan_variate_sweep(*inputs, A, BC, init, reverse)
    if not reverse:
        return scan_wavefront(*inputs, A, BC, init)
    flip = lambda t, dim: None if t is None else t.flip(dim)  # noqa: E731
    init_f = None if init is None else (flip(init[0], 1), flip(init[1], 1))
    y, (h1, h2) = scan_wavefront(*[flip(t, 2) for t in inputs], A, [flip(t, 2) for t in BC], init_f)
    return y.flip(2), (h1.flip(1), h2.flip(1))
