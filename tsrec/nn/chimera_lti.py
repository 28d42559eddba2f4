"""Chimera's input-independent mode: the 2-D SSM as one global convolution over (time, variate).

With ``B``, ``C`` and the steps fixed (learned, not functions of the input), the Roesser
recurrence of :func:`tsrec.kernels.scan2d` is shift-invariant on the grid, so its output is a
convolution, causal along time and along the scanned variate direction::

    y[t, v] = sum_{t' <= t, v' <= v} K[t - t', v - v'] x[t', v'] + D x[t, v]

The paper trains this mode as a global convolution for speed ("with input-independent
parameters the bi-directional recurrence equals a global convolution"). Here ``K`` is the
recurrence's impulse response, computed by ``scan2d`` itself on a grid holding a single 1 (the
kernel then matches the recurrence by construction, and its gradients come from the scan's
backward), and the 2-D convolution is one 1-D :func:`tsrec.kernels.fft_conv` over the grid
flattened row by row, each time step's row zero-padded to ``2V`` variates: a lag that would run
past the first variate lands in the padding, where ``K`` is zero, so nothing wraps between time
steps. The backward variate direction flips the variates around the same kernel.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from tsrec.kernels import fft_conv, scan2d


def impulse_response_2d(time: int, variates: int, steps: tuple[torch.Tensor, torch.Tensor],
                        A: tuple[torch.Tensor | None, ...], BC: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The kernel ``K`` (time, variates, channels) of a 2-D SSM with fixed parameters.

    Parameters
    ----------
    time, variates : int
        Extent of the kernel (the grid it will be convolved with).
    steps : tuple of torch.Tensor
        ``(delta1, delta2)``, each (channels,), positive.
    A : tuple of torch.Tensor or None
        ``(A1, A2, A3, A4)``, each (channels, N) (A2, A3 may be None), as for ``scan2d``.
    BC : tuple of torch.Tensor
        ``(B1, B2, C1, C2)``, each (N,), shared by the channels.
    """
    delta1, delta2 = steps
    channels, n_state = A[0].shape
    impulse = delta1.new_zeros(1, time, variates, channels)
    impulse[0, 0, 0] = 1.0
    grid = lambda t, size: t.expand(1, time, variates, size)  # noqa: E731 - one value for every cell
    kernel, _ = scan2d(impulse, grid(delta1, channels), grid(delta2, channels), *A,
                       *(grid(t, n_state) for t in BC))
    return kernel[0]


def causal_conv_2d(x: torch.Tensor, kernel: torch.Tensor, D: torch.Tensor | None = None,
                   reverse_variates: bool = False) -> torch.Tensor:
    """``y[t, v] = sum K[t - t', v - v'] x[t', v'] (+ D x)`` over (batch, time, variates, channels).

    Causal along time and along the variates (from the last variate down with
    ``reverse_variates``); ``kernel`` is (time, variates, channels) for the same grid.
    """
    if reverse_variates:
        return causal_conv_2d(x.flip(2), kernel, D).flip(2)
    batch, time, variates, channels = x.shape
    rows = F.pad(x, (0, 0, 0, variates)).reshape(batch, time * 2 * variates, channels)
    taps = F.pad(kernel, (0, 0, 0, variates)).reshape(time * 2 * variates, channels).T
    y = fft_conv(rows, taps, D=D)
    return y.reshape(batch, time, 2 * variates, channels)[:, :, :variates]
