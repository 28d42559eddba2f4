"""Companion-matrix state-space layers: SpaceTime's encoder SSM and its closed-loop decoder.

``A = S + a e_d^T`` (shift plus a learned last column). :class:`CompanionSSM` runs a bank of them
as causal convolutions with ``K_j = c^T A^j b``; :class:`ClosedLoopSSM` also predicts its own next
input and rolls ``(A + b k^T)^i s`` past the input (SpaceTime's decoder, and Chimera's closed-loop
decoder). See :mod:`tsrec.nn.spacetime` for the model and the choices marked [inferred].
"""

from __future__ import annotations

import torch
from torch import nn

from tsrec.kernels import closed_loop_rollout, companion_kernel, fft_conv
from tsrec.kernels.ssm_kernels.companion import companion_matrix, krylov
from tsrec.nn._checks import check_flag, check_input, check_int, check_ints


def normalize(v: torch.Tensor, order: int) -> torch.Tensor:
    """Divide each row of ``v`` by its L``order`` norm (no-op for order 0 or a near-zero mean norm).

    Dividing ``a`` by its L1 norm keeps every root of ``z^d - sum_i a_i z^i`` in the closed unit
    disc, so the kernel cannot blow up; the official code skips the division when the mean norm
    over kernels is below 1e-4 (e.g. a frozen ``a = 0``).
    """
    if order == 0:
        return v
    norm = torch.linalg.vector_norm(v, ord=order, dim=-1, keepdim=True)
    # chosen on the device: an `if` on the mean would make a GPU wait for it on every forward
    skip = norm.detach().mean() < 1e-4
    return v / torch.where(skip, torch.ones_like(norm), norm)


def kernel_method(order: int) -> str:
    """:func:`companion_kernel`'s method for ``a`` normalised by its L``order`` norm.

    An L1-normalised ``a`` keeps the kernel bounded, where the FFT path is accurate (and, at large
    ``d``, the faster); any other ``a`` may grow, which only Krylov doubling keeps accurate. Named
    here, it spares ``method="auto"`` its host read of ``a`` (a GPU wait on every forward).
    """
    return "fft" if order == 1 else "krylov"


class CompanionSSM(nn.Module):
    """Open-loop companion SSM layer on (batch, time, width): ``n_kernels`` SSMs, each shared by
    ``width // n_kernels`` consecutive channels, plus a per-channel skip ``D`` (initialised to ones).

    Only ``a`` is divided by its norm: that bounds the roots of the companion polynomial, which
    is all stability needs; ``b`` and ``c`` only scale the kernel (as in the official encoder).

    Parameters
    ----------
    width : int
        Channels of the input and output (the last axis).
    n_kernels : int
        Distinct SSMs, each with its own ``a``, ``b``, ``c``; ``width`` must be a multiple of it,
        otherwise a ``ValueError`` is raised.
    state_dim : int
        State size ``d`` of every SSM (the length of ``a``, ``b`` and ``c``).
    norm_order : int, default=1
        Norm dividing each ``a`` (0: no division).
    skip : bool, default=True
        Add the skip term ``D u`` (one learned weight per channel, initialised to ones).

    Examples
    --------
    >>> import torch
    >>> CompanionSSM(width=8, n_kernels=4, state_dim=6)(torch.randn(2, 30, 8)).shape
    torch.Size([2, 30, 8])
    """

    def __init__(self, width: int, n_kernels: int, state_dim: int, norm_order: int = 1, skip: bool = True) -> None:
        super().__init__()
        width, n_kernels, state_dim = check_ints(width=width, n_kernels=n_kernels, state_dim=state_dim)
        norm_order, skip = check_int("norm_order", norm_order, minimum=0), check_flag("skip", skip)
        if width % n_kernels:
            raise ValueError(f"width ({width}) must be a multiple of n_kernels ({n_kernels})")
        self.repeats, self.norm_order = width // n_kernels, norm_order
        self.a, self.b, self.c = (nn.Parameter(torch.randn(n_kernels, state_dim)) for _ in range(3))
        self.D = nn.Parameter(torch.ones(width)) if skip else None

    def abc(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The parameters the kernel is built from.

        Returns
        -------
        tuple of torch.Tensor
            ``a`` divided by its L``norm_order`` norm, ``b`` and ``c``, each ``(n_kernels, state_dim)``.
        """
        return normalize(self.a, self.norm_order), self.b, self.c

    def extra_repr(self) -> str:
        """The constructor's arguments, for the module's repr.

        Returns
        -------
        str
            ``name=value`` pairs, as torch's own layers print them.
        """
        n_kernels, state_dim = self.a.shape
        return (f"width={self.repeats * n_kernels}, n_kernels={n_kernels}, state_dim={state_dim}, "
                f"norm_order={self.norm_order}, skip={self.D is not None}")

    def kernel(self, length: int) -> torch.Tensor:
        """``K_j = c^T A^j b`` for ``j < length``, repeated to one row per channel: ``(width, length)``.

        Parameters
        ----------
        length : int
            Kernel length (the sequence length it convolves).

        Returns
        -------
        torch.Tensor
            The kernels, ``(width, length)``.
        """
        length = check_int("length", length)  # the kernel's own message names its argument L
        kernel = companion_kernel(*self.abc(), length, method=kernel_method(self.norm_order))
        return kernel.repeat_interleave(self.repeats, dim=0)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(batch, time, width) -> the same shape.

        Parameters
        ----------
        u : torch.Tensor
            Input sequence, (batch, time, width).

        Returns
        -------
        torch.Tensor
            The causal convolution with each channel's kernel, plus ``D u`` with ``skip``,
            (batch, time, width).
        """
        n_kernels = self.a.shape[0]
        width = ("width", self.repeats * n_kernels, "width", lambda n: n % n_kernels == 0)  # else it would not build
        check_input("u", u, ("batch", "time", width), device_of=self.a)
        return fft_conv(u, self.kernel(u.shape[1]), D=self.D)


class ClosedLoopSSM(nn.Module):
    """SpaceTime's decoder: ``width`` companion SSMs that also predict their next input ``k^T x``.

    ``forward(u, horizon)`` consumes the lag window ``u`` (batch, lag, width) into the state
    ``s = sum_j A^{lag-1-j} b u_j`` and rolls ``y_i = c^T (A + b k^T)^i s``: no input is read
    after the lag. :meth:`open_loop` gives the same layer's next-step outputs over the lag,
    ``c^T x_{t+1}`` and ``k^T x_{t+1}`` at position ``t`` (for the training losses).

    Parameters
    ----------
    width : int
        Channels; each has its own SSM (``a``, ``b``, ``c`` and the next-input map ``k``).
    state_dim : int
        State size ``d`` of every SSM.
    norm_order : int, default=1
        Norm dividing each of ``a``, ``b``, ``c`` and ``k`` (0: no division).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> decoder = ClosedLoopSSM(width=8, state_dim=6)
    >>> u = torch.randn(2, 30, 8)
    >>> forecast = decoder(u, horizon=5)
    >>> forecast.shape
    torch.Size([2, 5, 8])
    >>> y_next, u_next = decoder.open_loop(u)
    >>> y_next.shape, u_next.shape
    (torch.Size([2, 30, 8]), torch.Size([2, 30, 8]))

    The first closed-loop step is the open-loop prediction after the last input:

    >>> torch.allclose(forecast[:, 0], y_next[:, -1], atol=1e-5)
    True
    """

    def __init__(self, width: int, state_dim: int, norm_order: int = 1) -> None:
        super().__init__()
        width, state_dim = check_ints(width=width, state_dim=state_dim)
        self.norm_order = check_int("norm_order", norm_order, minimum=0)
        self.a, self.b, self.c, self.k = (nn.Parameter(torch.randn(width, state_dim)) for _ in range(4))

    def extra_repr(self) -> str:
        """The constructor's arguments, for the module's repr.

        Returns
        -------
        str
            ``name=value`` pairs, as torch's own layers print them.
        """
        width, state_dim = self.a.shape
        return f"width={width}, state_dim={state_dim}, norm_order={self.norm_order}"

    def abck(self) -> tuple[torch.Tensor, ...]:
        """``(a, b, c, k)``, each divided by its L``norm_order`` norm, each ``(width, state_dim)``.

        Returns
        -------
        tuple of torch.Tensor
            The normalised ``a``, ``b``, ``c`` and ``k``.
        """
        return tuple(normalize(v, self.norm_order) for v in (self.a, self.b, self.c, self.k))

    def final_state(self, u: torch.Tensor) -> torch.Tensor:
        """State after the last input, ``(batch, width, state_dim)``: ``sum_j A^{lag-1-j} b u_j``.

        The basis kernel ``[b, Ab, ..., A^{lag-1} b]`` comes from the kernels' Krylov doubling
        (6x faster here than ``d`` scalar kernels ``e_i^T A^j b`` by FFT).

        Parameters
        ----------
        u : torch.Tensor
            The lag window, (batch, lag, width).

        Returns
        -------
        torch.Tensor
            The state, ``(batch, width, state_dim)``.
        """
        self._check(u)  # public: forward checks again, at the cost of a shape read
        a, b, _, _ = self.abck()
        basis = krylov(companion_matrix(a), b, u.shape[1]).flip(-1)  # [w, :, j] = A^{lag-1-j} b
        # one batched product per channel, (w, b, t) @ (w, t, d); u copied to that layout once
        # (from (b, t, w), matmul would copy it one channel at a time). Copied as (b, w, t), whose
        # (w, b, t) view bmm reads in place: the same values, and 3x faster on a CPU than
        # permute(2, 0, 1).contiguous(), whose copy has no contiguous inner axis on either side
        state = torch.bmm(u.transpose(1, 2).contiguous().transpose(0, 1), basis.to(u.dtype).transpose(1, 2))
        return state.transpose(0, 1)

    def _check(self, u: torch.Tensor) -> None:
        check_input("u", u, ("batch", "lag", ("width", self.a.shape[0], "width")), device_of=self.a)

    def forward(self, u: torch.Tensor, horizon: int) -> torch.Tensor:
        """The ``horizon`` steps (batch, horizon, width) after the lag window ``u`` (batch, lag, width).

        Parameters
        ----------
        u : torch.Tensor
            The lag window, (batch, lag, width).
        horizon : int
            Steps to roll out past the window, >= 1.

        Returns
        -------
        torch.Tensor
            The closed-loop outputs ``c^T (A + b k^T)^i s``, (batch, horizon, width).
        """
        self._check(u)
        horizon = check_int("horizon", horizon)
        a, b, c, k = self.abck()
        return closed_loop_rollout(a, b, c, k, self.final_state(u), horizon)

    def open_loop(self, u: torch.Tensor, next_input: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next-step outputs over the lag window: ``c^T x_{t+1}`` and ``k^T x_{t+1}`` at position ``t``.

        Parameters
        ----------
        u : torch.Tensor
            The lag window, (batch, lag, width).
        next_input : bool, default=True
            Also predict the next input (``k``); False skips its kernel and convolution.

        Returns
        -------
        y_next : torch.Tensor
            The output predicted for step ``t + 1``, (batch, lag, width).
        u_next : torch.Tensor or None
            The input predicted for step ``t + 1`` (the next-input map ``k``), (batch, lag, width);
            None without ``next_input``.
        """
        self._check(u)
        next_input = check_flag("next_input", next_input)
        a, b, c, k = self.abck()
        lag = u.shape[1]
        method = kernel_method(self.norm_order)
        if not next_input:  # a 2-D kernel gives (batch, lag, width) itself: selecting head 0 of a 4-D output
            # costs its backward a zero-filled gradient of the whole output
            return fft_conv(u, companion_kernel(a, b, c, lag, method=method)), None
        kernels = torch.stack([companion_kernel(a, b, v, lag, method=method) for v in (c, k)])
        out = fft_conv(u, kernels)  # (batch, lag, 2, width)
        return out[:, :, 0], out[:, :, 1]
