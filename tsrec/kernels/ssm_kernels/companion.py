"""SpaceTime's companion SSM: its convolution kernel and its closed-loop (input-free) roll-out.

Conventions (one independent SSM per head ``h``, state size ``d``):

- ``A = S + a e_{d-1}^T`` where ``S`` is the lower shift (``S e_i = e_{i+1}``) and ``a`` (per head)
  is the learned last column, so ``(A x)_0 = a_0 x_{d-1}`` and ``(A x)_i = x_{i-1} + a_i x_{d-1}``.
  Its characteristic polynomial is ``z^d - sum_i a_i z^i``.
- Kernel: ``K_j = c^T A^j b`` for ``j < L`` (starts at ``A^0``: no one-step delay).
- Closed loop: ``y_i = c^T (A + b k^T)^i s0`` for ``i < L``.

Algorithms (all differentiable with plain autograd):

``krylov``
    repeated squaring: ``X <- [X, P X]``, ``P <- P^2`` until ``L`` columns, ``ceil(log2 L)``
    batched ``d x d`` matmuls; ``O(d^3 log L + d^2 L)`` per head.
``fft``
    the transfer function ``c^T (I - zA)^{-1} b`` of a companion matrix is a ratio of polynomials
    ``N(z) / Q(z)``: by Sherman-Morrison on ``I - zA = (I - zS) - z a e_{d-1}^T`` (``S`` nilpotent,
    so ``(I - zS)^{-1} = sum_{m<d} z^m S^m``) one gets, with ``q(u, v)(z) = sum_{m<d} z^m u^T S^m v``
    (a length-``d`` cross-correlation),

        N(z) = q(c, b) Q(z) + z q(c, a) q(e, b),    Q(z) = 1 - z q(e, a) = 1 - sum_i a_i z^{d-i}.

    ``K_0..K_{L-1}`` are the first ``L`` Taylor coefficients of ``N / Q``. Rather than evaluating
    at the ``L``-th roots of unity, which needs ``c^T (I - A^L)`` and hence a dense matrix power,
    ``1 / Q mod z^L`` is found by Newton iteration (each step doubles the number of exact
    coefficients) and multiplied by ``N``; every product is an rFFT product, so the cost is
    ``O((d + L) log(d + L))`` per head and no ``d x d`` matrix is formed.
``naive``
    float64 loop of dense matrix-vector products: the specification.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch

from .._autocast import without_autocast
from .._autograd import empty_result, refuse_vmap
from .._checks import (check_device, check_finite, check_fits_in_memory, check_length, check_same_shape, check_tensor,
                       finite_verdict, raise_non_finite)
from .._dispatch import caller_level
from ..fft_conv import fast_fft_len, route_to_torch

METHODS = ("auto", "krylov", "fft")


@without_autocast
def companion_kernel(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor,
    L: int,
    *,
    method: Literal["auto", "krylov", "fft"] = "auto",
    backend: str = "auto",
) -> torch.Tensor:
    """Convolution kernel ``K_j = c^T A^j b`` (``j < L``) of a companion SSM, per head.

    Parameters
    ----------
    a, b, c : torch.Tensor
        Shape ``(heads, d)``: the last column of ``A``, the input and the output vectors.
    L : int
        Kernel length (``>= 1``).
    method : {"auto", "krylov", "fft"}
        Torch-path algorithm (module docstring). ``"auto"`` is ``"fft"`` where every head has
        ``sum_i |a_i| <= 1`` (SpaceTime's default L1-normalised ``a``), else ``"krylov"``; see
        :func:`auto_method`. ``"fft"`` for an ``a`` past that bound warns: a kernel that grows
        loses every digit on that path (float32, spectral radius 1.06, ``L = 720``: errors 4 to 19
        times the kernel's peak), where Krylov stays within 5.3e-6 of it. Ignored by the naive backend.
    backend : {"auto", "torch", "triton", "naive"}
        ``"triton"`` runs the torch path: these are batched GEMMs/FFTs that cuBLAS/cuFFT already do.

    Returns
    -------
    torch.Tensor
        Shape ``(heads, L)``, the real dtype the inputs promote to (computed in float32 or wider).
    """
    a, b, c = _check_abc(a=a, b=b, c=c, finite=False)
    L = check_length(L, "the kernel/horizon length")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    chosen = route_to_torch(backend, a, b, c)
    if chosen == "naive":
        check_finite(a=a, b=b, c=c)
    else:
        method = _check_finite_and_resolve(method, a=a, b=b, c=c)
    out_dtype, work = _dtypes(chosen, a, b, c)
    heads, d = a.shape
    check_fits_in_memory(a, _kernel_values(chosen, method, heads, d, L), work, L,
                         lambda: f"the ({heads}, {L:,}) kernel and its working tensors")
    a, b, c = a.to(work), b.to(work), c.to(work)
    if chosen == "naive":
        kernel = _rollout_naive(companion_matrix(a), b, c, L)
    elif a.shape[0] == 0:  # no heads: MKL's FFT refuses an empty batch
        kernel = empty_result((0, L), a, b, c)
    elif method == "krylov":
        kernel = torch.einsum("hd,hdl->hl", c, krylov(companion_matrix(a), b, L))
    else:
        kernel = _kernel_fft(a, b, c, L)
    return kernel.to(out_dtype)


@without_autocast
def closed_loop_rollout(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor,
    k: torch.Tensor,
    s0: torch.Tensor,
    L: int,
    *,
    backend: str = "auto",
) -> torch.Tensor:
    """Input-free roll-out ``y_i = c^T (A + b k^T)^i s0`` (``i < L``) of SpaceTime's decoder.

    Feeding the layer's own prediction ``u_i = k^T x_i`` back as input gives
    ``x_{i+1} = (A + b k^T) x_i``; ``s0`` is the state after the last observed input.

    Parameters
    ----------
    a, b, c, k : torch.Tensor
        Shape ``(heads, d)``: companion last column, input, output and feedback vectors.
    s0 : torch.Tensor
        Initial states, shape ``(..., heads, d)`` (any leading batch axes).
    L : int
        Horizon (``>= 1``).
    backend : {"auto", "torch", "triton", "naive"}
        The torch path runs Krylov doubling on the *left* vector, ``W[:, :, i] = (M^T)^i c``,
        which does not depend on the batch, then contracts with ``s0``; ``"triton"`` runs it too.

    Returns
    -------
    torch.Tensor
        Shape ``(..., L, heads)`` (time before heads, as everywhere in tsrec).
    """
    a, b, c, k = _check_abc(a=a, b=b, c=c, k=k, finite=False)
    L = check_length(L, "the kernel/horizon length")
    s0 = check_tensor("s0", s0)
    if s0.ndim < 2 or tuple(s0.shape[-2:]) != tuple(a.shape):
        raise ValueError(
            f"s0 must have shape (..., {a.shape[0]}, {a.shape[1]}) (heads, d), got {tuple(s0.shape)}"
        )
    check_device("a", a, s0=s0)
    check_finite(a=a, b=b, c=c, k=k, s0=s0)  # one read of the device for all five
    chosen = route_to_torch(backend, a, b, c, k, s0)
    out_dtype, work = _dtypes(chosen, a, b, c, k, s0)
    (heads, d), batch = a.shape, math.prod(s0.shape[:-2])
    sizes = (*s0.shape[:-2], L, heads)
    check_fits_in_memory(a, _rollout_values(chosen, batch, heads, d, L), work, L,
                         lambda: f"the ({', '.join(f'{n:,}' for n in sizes)}) roll-out and its working tensors")
    a, b, c, k, s0 = (t.to(work) for t in (a, b, c, k, s0))
    closed = companion_matrix(a) + b.unsqueeze(-1) * k.unsqueeze(-2)
    if chosen == "naive":
        y = _rollout_naive(closed, s0, c, L)
    else:
        left = krylov(closed.transpose(-1, -2), c, L)  # (H, d, L): rows of (M)^i seen from c
        y = torch.einsum("...hd,hdl->...hl", s0, left)
    return y.movedim(-1, -2).to(out_dtype)


def _kernel_values(chosen: str, method: str, heads: int, d: int, L: int) -> int:
    """The values :func:`companion_kernel` holds at once at least (a lower bound, for :func:`check_fits_in_memory`): the
    naive loop's steps and their stack; Krylov's columns as its last doubling concatenates them (measured peak:
    8.3x the output at ``d = 4``); the FFT path's last product, two spectra and theirs of about ``L`` complex
    values each, and the output (measured: 8.9x the output)."""
    if chosen == "naive":
        return 2 * heads * L
    return 2 * heads * d * L if method == "krylov" else 7 * heads * L


def _rollout_values(chosen: str, batch: int, heads: int, d: int, L: int) -> int:
    """The values :func:`closed_loop_rollout` holds at once at least: the naive loop's steps and their stack, or
    the Krylov columns as their last doubling concatenates them, then beside the roll-out."""
    if chosen == "naive":
        return 2 * batch * heads * L
    return max(2 * heads * d * L, heads * d * L + batch * heads * L)


#: Slack on ``sum_i |a_i| <= 1`` for the rounding of an L1 normalisation (a few float32 ulps
#: summed over ``d``); roots then lie within ``|z| <= 1 + 1e-4``, a growth of at most ``e`` over
#: 10,000 steps.
L1_SLACK = 1e-4


def auto_method(a: torch.Tensor) -> str:
    """``method="auto"``'s choice: ``"fft"`` when every head has ``sum_i |a_i| <= 1``, else ``"krylov"``.

    Then ``|z|^d <= sum_i |a_i| |z|^i`` bounds every root of ``z^d - sum_i a_i z^i`` by ``|z| <= 1``
    (roots on the circle are simple), so the kernel stays bounded. The FFT path's rounding is
    relative to the largest coefficient of each polynomial product: on CPU it is as fast as Krylov
    at ``d = 4`` and 20x faster at ``d = 64``, ``L = 720``. In float32 it stays within 4e-6 of
    the float64 reference (relative to the kernel's peak) for such ``a`` at ``L = 720``; roots on
    the circle itself (``a = e_0``: a periodic kernel; ``a = -e_{d-1}``) lose more as ``L`` grows,
    3e-6 at ``L = 720`` and up to 3e-5 at ``L = 4000`` where Krylov keeps 5e-8 -- pass
    ``method="krylov"`` for long kernels from such ``a``. A kernel that grows (a root outside the circle, as
    an unnormalised ``a`` may have) loses every digit -- at spectral radius 1.06 and ``L = 720``
    its float32 errors were 4 to 19 times the kernel's peak -- where Krylov's powers stay within 5.3e-6 of it.
    One host read of ``a`` (a GPU waits for it); :func:`companion_kernel` shares it with its input check.
    """
    return "fft" if bool(l1_bounded(a)) else "krylov"


def l1_bounded(a: torch.Tensor) -> torch.Tensor:
    """0-dim bool tensor, not read: every head has ``sum_i |a_i| <= 1`` (within :data:`L1_SLACK`)."""
    return (a.detach().abs().sum(-1) <= 1.0 + L1_SLACK).all()


def _check_finite_and_resolve(method: str, **vectors: torch.Tensor) -> str:
    """Refuse NaN/inf in ``vectors`` and resolve ``method="auto"`` (:func:`auto_method`); warn where
    ``"fft"`` is asked for an ``a`` whose kernel may grow, which that path computes with no digit left.

    Finite inputs with a bounded ``a`` (the usual case) cost one read for both answers; only a
    ``False`` verdict reads each tensor, to name a non-finite one or else to take Krylov.
    """
    refuse_vmap(*vectors.values())  # before the reads below, which vmap fails on with PyTorch's own message
    if method == "krylov" or vectors["a"].is_meta:  # meta tensors carry no values: either method
        check_finite(**vectors)
        return "fft" if method == "auto" else method
    if bool(finite_verdict(*vectors.values()) & l1_bounded(vectors["a"])):
        return "fft"
    raise_non_finite(vectors)
    if method == "fft":
        warnings.warn(
            "method='fft' with an a whose sum_i |a_i| exceeds 1 in some head: its kernel may grow, and the FFT "
            "path then loses its digits; pass method='auto' (Krylov for such a) or 'krylov', or normalise a",
            RuntimeWarning, stacklevel=caller_level())
        return "fft"
    return "krylov"


def companion_matrix(a: torch.Tensor) -> torch.Tensor:
    """Dense ``(heads, d, d)`` matrix ``S + a e_{d-1}^T`` (shift on the sub-diagonal)."""
    d = a.shape[-1]
    shift = torch.diag(torch.ones(d - 1, dtype=a.dtype, device=a.device), diagonal=-1)
    last = torch.zeros(d, dtype=a.dtype, device=a.device)
    last[-1] = 1.0
    return shift + a.unsqueeze(-1) * last


def krylov(M: torch.Tensor, x0: torch.Tensor, L: int) -> torch.Tensor:
    """Columns ``[x0, M x0, ..., M^{L-1} x0]`` by repeated squaring.

    ``M``: ``(H, d, d)``; ``x0``: ``(..., H, d)``. Returns ``(..., H, d, L)``.
    """
    cols = x0.unsqueeze(-1)
    power = M
    while cols.shape[-1] < L:
        need = L - cols.shape[-1]
        cols = torch.cat([cols, power @ cols[..., :need]], dim=-1)
        if cols.shape[-1] < L:
            power = power @ power
    return cols


def _rollout_naive(M: torch.Tensor, x0: torch.Tensor, c: torch.Tensor, L: int) -> torch.Tensor:
    """Reference loop ``out[..., h, i] = c_h . (M_h^i x0_h)`` with one mat-vec per step."""
    outs, state = [], x0
    for _ in range(L):
        outs.append((c * state).sum(-1))
        state = (M @ state.unsqueeze(-1)).squeeze(-1)
    return torch.stack(outs, dim=-1)


def _kernel_fft(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, L: int) -> torch.Tensor:
    """First ``L`` Taylor coefficients of ``c^T (I - zA)^{-1} b = N(z) / Q(z)`` (module docstring)."""
    d = a.shape[-1]
    # q(u, v)_m = sum_i u_{i+m} v_i is entry d-1+m of the full product u * flip(v).
    cross = poly_mul(torch.stack([c, c]), torch.stack([b, a]).flip(-1))[..., d - 1 : 2 * d - 1]
    q_cb, q_ca = cross[0], cross[1]
    q_eb, q_ea = b.flip(-1), a.flip(-1)  # e = e_{d-1} picks v_{d-1-m}
    ones = torch.ones_like(a[..., :1])
    Q = torch.cat([ones, -q_ea], dim=-1)  # 1 - z q(e, a), degree d
    rank_one = torch.cat([torch.zeros_like(ones), poly_mul(q_ca, q_eb)], dim=-1)
    N = poly_mul(q_cb, Q)[..., : 2 * d] + rank_one
    inv_q = series_inverse(Q[..., :L], L)
    return poly_mul(N[..., :L], inv_q)[..., :L]


def poly_mul(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Full linear convolution of coefficient vectors along the last axis, via rFFT."""
    size = p.shape[-1] + q.shape[-1] - 1
    n = fast_fft_len(size)
    prod = torch.fft.rfft(p, n=n) * torch.fft.rfft(q, n=n)
    return torch.fft.irfft(prod, n=n)[..., :size]


def series_inverse(Q: torch.Tensor, L: int) -> torch.Tensor:
    """First ``L`` coefficients of ``1 / Q(z)`` for ``Q_0 = 1``, by Newton doubling.

    With ``g`` exact to ``m`` terms, ``Q g = 1 + O(z^m)`` and ``g <- g - g (Q g - 1)`` is exact to
    ``2m``; only the new coefficients ``m..2m-1`` are appended, so the low ones keep their rounding.
    """
    g = torch.ones_like(Q[..., :1])
    while g.shape[-1] < L:
        m = g.shape[-1]
        m2 = min(2 * m, L)
        residual = poly_mul(Q[..., :m2], g)[..., m:m2]  # coefficients m..m2-1 of Q g
        g = torch.cat([g, -poly_mul(g, residual)[..., : m2 - m]], dim=-1)
    return g


def _check_abc(finite: bool = True, **vectors: object) -> tuple[torch.Tensor, ...]:
    checked = {name: check_tensor(name, v, ndim=2, layout="(heads, d)") for name, v in vectors.items()}
    check_same_shape(**checked)
    first_name, first = next(iter(checked.items()))
    if first.shape[1] < 1:  # no heads is an empty result, as in the other kernel builders
        raise ValueError(f"the state size d (last axis) must be >= 1, got shape {tuple(first.shape)}")
    check_device(first_name, first, **checked)
    if finite:
        check_finite(**checked)
    return tuple(checked.values())


def _dtypes(chosen: str, *tensors: torch.Tensor) -> tuple[torch.dtype, torch.dtype]:
    """(output dtype, working dtype): float64 for naive, else at least float32."""
    out = tensors[0].dtype
    for t in tensors[1:]:
        out = torch.promote_types(out, t.dtype)
    work = torch.float64 if (chosen == "naive" or out == torch.float64) else torch.float32
    return out, work
