"""Convolution kernel of S4's normal-plus-low-rank (NPLR) SSM, bilinear-discretised.

Per head ``h`` the continuous state matrix is ``A = Lambda - P P^*`` with ``Lambda`` diagonal
complex (``M`` modes) and a rank-1 term; HiPPO-LegS takes this form in its eigenbasis, and tying
the low-rank factors (``Q = P``) keeps ``A`` dissipative whenever ``Re(Lambda) < 0``. The modes
stand for conjugate pairs: the real system acts on ``2M`` complex states ``[x; conj(x)]`` with

    Lambda_f = [Lambda; conj(Lambda)],  p = [P; conj(P)],  B_f = [B; conj(B)],  C_f = [C; conj(C)],
    A_f = diag(Lambda_f) - p p^H.

The bilinear (Tustin) discretisation with step ``dt = exp(log_dt)``

    A_bar = (I - dt/2 A_f)^{-1} (I + dt/2 A_f),   B_bar = dt (I - dt/2 A_f)^{-1} B_f,
    x_l = A_bar x_{l-1} + B_bar u_l,   y_l = C^T x_l,

has the real impulse response ``K_l = C^T A_bar^l B_bar``. As in S4 the learned output vector is
``C_tilde`` with ``C^T = C_tilde^T (I - A_bar^L)^{-1}``: then the truncated generating function
``sum_{l<L} K_l z^l`` at the roots of unity ``z^L = 1`` is ``C_tilde^T (I - A_bar z)^{-1} B_bar``,
a rational function that needs no matrix power. With ``a = 1 - z`` and ``b = dt (1 + z) / 2``,

    (I - A_bar z)^{-1} B_bar = dt (a I - b A_f)^{-1} B_f,

and ``a I - b A_f = D + b p p^H`` with ``D = diag(a - b Lambda_f)``, so the Woodbury identity gives

    K_hat(z) = dt [ k(C, B) - b k(C, p) k(p^*, B) / (1 + b k(p^*, p)) ],
    k(v, w) = sum_n v_n w_n / (a - b Lambda_n)   over all 2M modes (Cauchy sums),

and the kernel is the inverse real FFT of ``K_hat`` at ``z_k = exp(-2 pi i k / L)``. This form
stays finite at ``z = -1`` (S4's ``2/(1+z)`` prefactor does not). The naive backend builds
``A_bar`` densely in complex128 and runs the recurrence, the specification of both.
"""

from __future__ import annotations

import math

import torch

from .._autocast import without_autocast
from .._autograd import empty_result
from .._checks import check_device, check_finite_and_valid, check_fits_in_memory, check_length, check_tensor
from .diagonal import working_dtypes


@without_autocast
def nplr_kernel(
    log_dt: torch.Tensor,
    Lambda: torch.Tensor,
    P: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    L: int,
    *,
    backend: str = "auto",
) -> torch.Tensor:
    """S4's NPLR kernel ``K_l = C^T A_bar^l B_bar``, ``l < L``, from ``C_tilde`` (see the module docstring).

    Parameters
    ----------
    log_dt : torch.Tensor
        Shape ``(heads,)``: log step size.
    Lambda : torch.Tensor
        Shape ``(heads, M)``, complex: the diagonal part, real parts ``< 0``.
    P, B, C : torch.Tensor
        Shape ``(heads, M)``, real or complex: the low-rank factor, the input vector and
        ``C_tilde``, the output vector of length ``L``'s truncated generating function.
    L : int
        Kernel length (``>= 1``); ``C_tilde`` is defined relative to it.
    backend : {"auto", "torch", "triton", "naive"}
        torch: Cauchy sums at the ``L // 2 + 1`` roots of unity, a rank-1 Woodbury correction and
        an inverse real FFT, ``O(M L)`` per head; naive: the dense complex128 recurrence (the
        specification); ``"triton"`` runs the torch path (cuFFT and elementwise work).

    Returns
    -------
    torch.Tensor
        Real kernel of shape ``(heads, L)``, float64 when any input is double precision, else float32.

    Examples
    --------
    >>> import torch
    >>> lam = torch.complex(-0.5 * torch.ones(2, 3), torch.arange(3.0).repeat(2, 1))
    >>> P, B, C = torch.ones(2, 3), torch.ones(2, 3), torch.randn(2, 3, dtype=torch.cfloat)
    >>> nplr_kernel(torch.full((2,), -2.0), lam, P, B, C, 16).shape
    torch.Size([2, 16])
    """
    log_dt, Lambda, P, B, C = _validate(log_dt, Lambda, P, B, C)
    L = check_length(L)
    chosen, out_dtype, real, cplx = working_dtypes(backend, log_dt, Lambda, P, B, C)
    heads, modes = Lambda.shape
    # at least: the naive loop's steps and their stack; the Cauchy sums' (H, M, L // 2 + 1) complex denominators
    # and their reciprocals (measured peak at M = 4: 19x the output)
    values = 2 * heads * L if chosen == "naive" else 4 * heads * modes * (L // 2 + 1)
    check_fits_in_memory(Lambda, values, real, L, lambda: f"the ({heads}, {L:,}) kernel and its working tensors")
    dt = torch.exp(log_dt.to(real))
    Lambda, P, B, C = (t.to(cplx) for t in (Lambda, P, B, C))
    if chosen == "naive":
        kernel = _recurrence_naive(dt, Lambda, P, B, C, L)
    else:
        kernel = _cauchy_woodbury(dt, Lambda, P, B, C, L)
    return kernel.to(out_dtype)


@without_autocast
def nplr_discrete(log_dt: torch.Tensor, Lambda: torch.Tensor, P: torch.Tensor,
                  B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense bilinear discretisation ``(A_bar, B_bar)`` of the ``2M``-state NPLR system.

    The system of :func:`nplr_kernel` (see the module docstring) as matrices, for recurrent use:
    the state after a prefix, or ``C_tilde`` at another length. The first ``M`` states are the
    modes, the rest their conjugates. Inputs are checked as :func:`nplr_kernel` checks them; the
    result is in the complex dtype that ``Lambda``, ``P`` and ``B`` promote to (no cast to a
    working precision, unlike :func:`nplr_kernel`).

    Parameters
    ----------
    log_dt : torch.Tensor
        Shape ``(heads,)``, real: log step size.
    Lambda : torch.Tensor
        Shape ``(heads, M)``, complex: the diagonal part, real parts ``< 0``.
    P, B : torch.Tensor
        Shape ``(heads, M)``, real or complex: the low-rank factor and the input vector.

    Returns
    -------
    A_bar : torch.Tensor
        Shape ``(heads, 2M, 2M)``, complex: ``(I - dt/2 A_f)^{-1} (I + dt/2 A_f)``.
    B_bar : torch.Tensor
        Shape ``(heads, 2M)``, complex: ``dt (I - dt/2 A_f)^{-1} B_f``.

    Raises
    ------
    TypeError
        An input that is not a floating tensor, or a real ``Lambda``.
    ValueError
        Wrong ranks or shapes, inputs on different devices, NaN or inf, or a mode with
        ``Re(Lambda) >= 0``.

    Examples
    --------
    >>> import torch
    >>> lam = torch.complex(-0.5 * torch.ones(2, 3), torch.arange(3.0).repeat(2, 1))
    >>> A_bar, B_bar = nplr_discrete(torch.full((2,), -2.0), lam, torch.ones(2, 3), torch.ones(2, 3))
    >>> A_bar.shape, B_bar.shape
    (torch.Size([2, 6, 6]), torch.Size([2, 6]))
    """
    log_dt, Lambda, P, B = _validate(log_dt, Lambda, P, B)
    # one dtype for both solves: Lambda and P make the matrix, Lambda and B the right-hand side,
    # and a float64 B with a complex64 Lambda and float32 P gave them different ones
    dtype = torch.promote_types(torch.promote_types(Lambda.dtype, P.dtype), B.dtype)
    return _discrete(log_dt, Lambda.to(dtype), P.to(dtype), B.to(dtype))


def _discrete(log_dt: torch.Tensor, Lambda: torch.Tensor, P: torch.Tensor,
              B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`nplr_discrete` without the checks, for inputs already checked (the naive kernel)."""
    dt = torch.exp(log_dt).to(Lambda.dtype)[:, None, None]
    p = _with_conjugates(P)
    A = torch.diag_embed(_with_conjugates(Lambda)) - p.unsqueeze(-1) * p.conj().unsqueeze(-2)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    left = eye - dt / 2 * A
    A_bar = torch.linalg.solve(left, eye + dt / 2 * A)
    B_bar = torch.linalg.solve(left, dt[..., 0] * _with_conjugates(B))
    return A_bar, B_bar


def _with_conjugates(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, x.conj()], dim=-1)


def _cauchy_woodbury(dt, Lambda, P, B, C, L: int) -> torch.Tensor:
    """The generating function at ``L // 2 + 1`` roots of unity, then ``irfft``."""
    k = torch.arange(L // 2 + 1, device=dt.device, dtype=dt.dtype)
    z = torch.exp(torch.complex(torch.zeros_like(k), -2.0 * math.pi * k / L))  # (F,)
    a = 1.0 - z
    b = dt.unsqueeze(-1) * (1.0 + z) / 2.0  # (H, F)
    # numerators of the four Cauchy sums k(C,B), k(C,p), k(p*,B), k(p*,p) on the first M modes
    v = torch.stack([C * B, C * P, P.conj() * B, P.conj() * P])  # (4, H, M)
    sums = _cauchy(v, Lambda, a, b) + _cauchy(v.conj(), Lambda.conj(), a, b)  # (4, H, F)
    k_cb, k_cp, k_pb, k_pp = sums.unbind(0)
    k_hat = dt.unsqueeze(-1) * (k_cb - b * k_cp * k_pb / (1.0 + b * k_pp))
    if k_hat.shape[0] == 0:  # no heads: MKL's FFT refuses an empty axis
        return empty_result((0, L), k_hat.real)
    return torch.fft.irfft(k_hat, n=L, dim=-1)


def _cauchy(v: torch.Tensor, Lambda: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``sum_n v_n / (a - b Lambda_n)`` for each head and frequency: (4, H, M) -> (4, H, F)."""
    denominator = a - b.unsqueeze(1) * Lambda.unsqueeze(-1)  # (H, M, F)
    return torch.einsum("shm,hmf->shf", v, 1.0 / denominator)


def _recurrence_naive(dt, Lambda, P, B, C, L: int) -> torch.Tensor:
    """``C = (I - A_bar^L)^{-T} C_tilde`` from a loop of ``L`` products, then ``K_l = C^T A_bar^l B_bar``."""
    A_bar, B_bar = _discrete(torch.log(dt), Lambda, P, B)
    eye = torch.eye(A_bar.shape[-1], dtype=A_bar.dtype, device=A_bar.device).expand_as(A_bar)
    power = eye
    for _ in range(L):
        power = power @ A_bar
    c = torch.linalg.solve((eye - power).transpose(-1, -2), _with_conjugates(C))
    outs, x = [], B_bar
    for _ in range(L):
        outs.append((c * x).sum(-1).real)
        x = (A_bar @ x.unsqueeze(-1)).squeeze(-1)
    return torch.stack(outs, dim=-1)


def _validate(log_dt, Lambda, P, B, C=None):
    """The inputs, checked; ``C`` is None for :func:`nplr_discrete`, which has no output vector."""
    log_dt = check_tensor("log_dt", log_dt, ndim=1, layout="(heads,)")
    Lambda = check_tensor("Lambda", Lambda, ndim=2, allow_complex=True, layout="(heads, N)")
    P = check_tensor("P", P, ndim=2, allow_complex=True, layout="(heads, N)")
    B = check_tensor("B", B, ndim=2, allow_complex=True, layout="(heads, N)")
    given = {"log_dt": log_dt, "Lambda": Lambda, "P": P, "B": B}
    if C is not None:
        given["C"] = C = check_tensor("C", C, ndim=2, allow_complex=True, layout="(heads, N)")
    if not Lambda.is_complex():
        raise TypeError(f"Lambda must be complex (real and imaginary parts of the modes), got {Lambda.dtype}")
    shape = tuple(Lambda.shape)
    for name, t in given.items():
        if name not in ("log_dt", "Lambda") and tuple(t.shape) != shape:
            raise ValueError(f"{name} must have the shape of Lambda {shape} (heads, M), got {tuple(t.shape)}")
    if tuple(log_dt.shape) != shape[:1]:
        raise ValueError(f"log_dt must have shape ({shape[0]},) (one step per head), got {tuple(log_dt.shape)}")
    check_device("log_dt", log_dt, **given)
    # both verdicts in one read: on a GPU each read waits for the device
    check_finite_and_valid(given, (Lambda.real >= 0).any(),
                           "Lambda has a mode with real part >= 0; keep Re(Lambda) < 0 (e.g. -exp(log_real))")
    return (log_dt, Lambda, P, B) if C is None else (log_dt, Lambda, P, B, C)
