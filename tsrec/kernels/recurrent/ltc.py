"""The LTC neuron's fused ODE solver run over a sequence (Hasani et al., AAAI-21, Eq. 3).

For every input step ``t``, ``ode_unfolds`` semi-implicit Euler updates of the state ``v``
(``batch, U``)::

    g_bij = sigmoid(sigma_ij (v_bi - mu_ij))                          (synapse i -> j)
    v_bj <- (num_btj + cm_j v_bj + sum_i g_bij w_erev_ij) / (den_btj + sum_i g_bij w_ij)

with ``num = leak_num + sensory_num_t`` and ``den = leak_den + sensory_den_t + epsilon``: the
input synapses' terms ``terms = [sensory_num, sensory_den]`` (``batch, time, 2U``) are constant
within a step, so the caller computes them for the whole sequence at once. The parameters are
passed already transformed (``cm_t = softplus(C) * unfolds``, ``w = softplus(w)``, ...), so
every backend differentiates the same function of the same tensors.

Irregular sampling: ``elapsed`` ``(batch, time)`` gives each step's length in unit steps. The
solver's step is then ``elapsed / unfolds``, so the step's capacitance is ``cm_t / elapsed``
wherever ``cm_t`` enters (the ``cm_j v_bj`` term and ``leak_den = cm_t + g_leak``): a long gap
lets the state relax further towards its input-driven equilibrium (the paper's ODE, Eq. 1).

Backends: ``naive`` (float64 loop, the specification), ``torch`` (the loop on torch ops with a
hand-written adjoint, ``ltc_adjoint``; the LTC model's CPU path) and ``triton`` (one kernel for
the whole sequence with the state and the ``U x U`` synapse parameters on chip, and a
hand-written adjoint kernel; ``U <= MAX_UNITS``). Both adjoints are the one written out in
``ltc_triton``'s docstring.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

from .._autocast import without_autocast
from .._checks import (
    ArgumentTypeError,
    check_finite,
    check_finite_and_valid,
    check_length,
    check_mixed_precision_like,
    check_shape,
    check_tensor,
    compute_dtype,
)
from .._dispatch import resolve_backend
from .ltc_adjoint import LTCAdjoint, solve
from .naive import ltc_scan_naive

MAX_UNITS = 64  # the Triton kernels keep (batch rows x U x U) synapse tiles in registers


def _loop(
    terms: torch.Tensor, v0: torch.Tensor, params: Sequence[torch.Tensor], ode_unfolds: int, epsilon: float,
    elapsed: torch.Tensor | None,
) -> torch.Tensor:
    rates = None if elapsed is None else elapsed.reciprocal()
    if torch.is_grad_enabled() and any(x.requires_grad for x in (terms, v0, *params)):
        return LTCAdjoint.apply(terms, v0, ode_unfolds, epsilon, rates, *params)[0]
    return solve(terms, v0, params, ode_unfolds, epsilon, rates=rates)


def _check_elapsed(elapsed: torch.Tensor, terms: torch.Tensor) -> None:
    """``elapsed`` ``(batch, time)``, data (not differentiated), on ``terms``'s device; values checked later."""
    check_tensor("elapsed", elapsed, ndim=2, layout="(batch, time)")
    check_shape("elapsed", elapsed, tuple(terms.shape[:2]), "(batch, time): one length per step of terms")
    if elapsed.requires_grad:
        raise ValueError("elapsed requires grad, but ltc_scan does not differentiate the steps' lengths (they are "
                         "data: the time between observations); pass elapsed.detach()")


def _invalid_lengths(elapsed: torch.Tensor, cm_t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A 0-dim bool, not read: a length <= 0, or one so short that ``cm_t / elapsed`` overflows ``dtype``, the
    compute dtype (a gap 1e-40 gave NaN states in float32 with no error)."""
    if not (elapsed.numel() and cm_t.numel()):
        return torch.zeros((), dtype=torch.bool, device=elapsed.device)
    shortest = elapsed.detach().min().to(dtype)
    return (shortest <= 0) | ~torch.isfinite(cm_t.detach().abs().max().to(shortest.dtype) / shortest)


@without_autocast
def ltc_scan(
    terms: torch.Tensor,
    v0: torch.Tensor,
    cm_t: torch.Tensor,
    leak_num: torch.Tensor,
    leak_den: torch.Tensor,
    w: torch.Tensor,
    w_erev: torch.Tensor,
    sigma: torch.Tensor,
    mu: torch.Tensor,
    *,
    ode_unfolds: int = 6,
    epsilon: float = 1e-8,
    elapsed: torch.Tensor | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    """All states ``(batch, time, U)`` of the LTC solver of the module docstring.

    Parameters
    ----------
    terms : torch.Tensor
        ``(batch, time, 2U)`` input-synapse numerator and denominator terms.
    v0 : torch.Tensor
        ``(batch, U)`` initial state.
    cm_t, leak_num, leak_den : torch.Tensor
        ``(U,)`` capacitance over the solver step, ``g_leak V_leak`` and ``cm_t + g_leak``.
    w, w_erev, sigma, mu : torch.Tensor
        ``(U, U)`` synapse weights (positive), weights times reversal potentials, slopes, centres.
    ode_unfolds : int, default 6
        Solver updates per input step (a NumPy integer too, e.g. from a parameter grid).
    epsilon : float, default 1e-8
        Added to the denominator.
    elapsed : torch.Tensor or None, default None
        ``(batch, time)`` length of each step in unit steps (the time since the previous
        observation), each > 0; None: every step is 1. Not differentiated.
    backend : {"auto", "torch", "triton", "naive"}
        ``"triton"``: the fused GPU kernels (``U <= MAX_UNITS``); ``"auto"`` picks them for CUDA
        tensors when triton is installed and ``U`` fits.

    Returns
    -------
    torch.Tensor
        ``(batch, time, U)`` states after each input step, dtype of ``terms``.

    Notes
    -----
    All tensors (``elapsed`` too) share ``terms``'s device and dtype, except that they may be
    float32 beside half precision (as under autocast); half precision is computed in float32.
    """
    named = {"terms": terms, "v0": v0, "cm_t": cm_t, "leak_num": leak_num, "leak_den": leak_den, "w": w,
             "w_erev": w_erev, "sigma": sigma, "mu": mu}
    for name, tensor in named.items():
        check_tensor(name, tensor)
    check_tensor("terms", terms, ndim=3, layout="(batch, time, 2U)")
    check_tensor("v0", v0, ndim=2, layout="(batch, U)")
    units = v0.shape[1]
    if v0.shape[0] != terms.shape[0]:  # the batch size is terms's: a wrong v0 was blamed on terms
        raise ValueError(f"v0 has batch size {v0.shape[0]} but terms has {terms.shape[0]}; pass one initial "
                         f"state per series of terms, v0 of shape ({terms.shape[0]}, U)")
    check_shape("terms", terms, (v0.shape[0], terms.shape[1], 2 * units), "(batch, time, 2U)")
    for name, p in (("cm_t", cm_t), ("leak_num", leak_num), ("leak_den", leak_den)):
        check_shape(name, p, (units,), "(U,)")
    for name, p in (("w", w), ("w_erev", w_erev), ("sigma", sigma), ("mu", mu)):
        check_shape(name, p, (units, units), "(U, U)")
    if terms.shape[1] == 0:
        raise ValueError("terms has an empty time axis (dim 1); pass at least one time step")
    ode_unfolds = check_length(ode_unfolds, "solver updates per input step", name="ode_unfolds")
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):  # a 0-dim tensor too
        raise ArgumentTypeError(f"epsilon must be a Python number >= 0 (added to the solver's denominator), got "
                                f"{type(epsilon).__name__} {epsilon!r}; pass a float")
    if not 0 <= epsilon < math.inf:
        raise ValueError(f"epsilon must be a finite number >= 0 (added to the solver's denominator), got {epsilon!r}")
    epsilon = float(epsilon)
    if elapsed is not None:
        _check_elapsed(elapsed, terms)
    check_mixed_precision_like("terms", terms, elapsed=elapsed, **{k: v for k, v in named.items() if k != "terms"})
    if elapsed is None:
        check_finite(**named)
    else:  # one read of the device for both checks
        wide = compute_dtype(terms.dtype)
        check_finite_and_valid({**named, "elapsed": elapsed}, _invalid_lengths(elapsed, cm_t, wide),
                               "elapsed holds a step length <= 0, or one so short that cm_t / elapsed overflows "
                               f"{str(wide).removeprefix('torch.')}; every step's length (the time since the "
                               "previous observation) must be > 0: drop or merge repeated time stamps"
                               + ("" if wide == torch.float64 else ", or compute in float64"))
    params = (cm_t, leak_num, leak_den, w, w_erev, sigma, mu)
    which = resolve_backend(backend, terms, v0, *params, triton_fits=units <= MAX_UNITS)
    if which == "triton" and terms.numel() == 0:  # nothing to solve, and no Triton tile is 0 units wide
        which = "torch"
    if which == "triton":
        if units > MAX_UNITS:
            raise ValueError(f"the Triton LTC kernel keeps U <= {MAX_UNITS} on chip, got U={units}; "
                             "use backend='torch'")
        from .ltc_triton import ltc_scan_triton  # lazy: importing tsrec must not import triton

        return ltc_scan_triton(terms, v0, params, ode_unfolds, epsilon, elapsed)
    # float64 is the specification; the torch path accumulates half precision in float32
    wide = torch.float64 if which == "naive" else compute_dtype(terms.dtype)
    terms_w, v0_w, *params_w = (x.to(wide) for x in (terms, v0, *params))
    elapsed_w = None if elapsed is None else elapsed.to(wide)
    run = ltc_scan_naive if which == "naive" else _loop
    if torch.compiler.is_compiling():  # eager: traced, the loop unrolled its time steps (1.5 s of compiling each)
        run = torch.compiler.disable(run)  # made here, not at import: importing dynamo is slow
    return run(terms_w, v0_w, params_w, ode_unfolds, epsilon, elapsed_w).to(terms.dtype)
