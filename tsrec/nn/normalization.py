"""Per-window instance normalisation shared by the forecasting networks."""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import check_dtype, check_flag, check_input, check_positive, check_shape


class InstanceNorm(nn.Module):
    """Normalise each window over time, per sample and channel, and undo it on the output.

    Parameters
    ----------
    unbiased : bool, default=True
        Divide the variance by ``L - 1`` (CycleNet's choice) instead of ``L`` (TPGN, iTransformer).
    eps : float, default=1e-5
        Added to the variance before the square root.
    detach_mean : bool, default=False
        Stop gradients through the mean, not the std (the variant of the Non-stationary
        Transformer's code, which iTransformer and S-Mamba reuse).
    enabled : bool, default=True
        False makes both directions the identity, so a network with a ``norm`` switch calls
        them unconditionally.

    Examples
    --------
    >>> import torch
    >>> norm = InstanceNorm()
    >>> x = torch.randn(2, 24, 3)
    >>> z, stats = norm.normalize(x)
    >>> torch.allclose(norm.denormalize(z, stats), x, atol=1e-5)
    True
    """

    def __init__(
        self, unbiased: bool = True, eps: float = 1e-5, detach_mean: bool = False, enabled: bool = True
    ) -> None:
        super().__init__()
        # a string such as "no" would read as True
        self.unbiased, self.enabled = check_flag("unbiased", unbiased), check_flag("enabled", enabled)
        self.eps = check_positive("eps", eps)
        self.detach_mean = check_flag("detach_mean", detach_mean)

    def normalize(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """Return the normalised ``x`` (batch, time, channels) and the (mean, std) to undo it.

        Parameters
        ----------
        x : torch.Tensor
            Windows, (batch, time, channels); statistics are taken over time.

        Returns
        -------
        x_normalized : torch.Tensor
            ``(x - mean) / std``, the shape of ``x``; ``x`` itself when not ``enabled``.
        stats : tuple of torch.Tensor or None
            ``(mean, std)``, each (batch, 1, channels), for :meth:`denormalize`; None when not
            ``enabled``.
        """
        check_input("x", x, ("batch", "time", "channels"))
        if not self.enabled:
            return x, None
        mean = x.mean(dim=1, keepdim=True)
        if self.detach_mean:
            mean = mean.detach()
        centered = x - mean
        if x.shape[1] > 1:
            # two passes (the mean, then the squares about it) rather than Tensor.var, whose
            # reduction over the time axis of a (batch, time, channels) window is much slower on a
            # CPU than mean and sum; the centred window is needed for the output anyway
            var = centered.square().sum(dim=1, keepdim=True) / (x.shape[1] - int(self.unbiased))
        else:
            var = torch.zeros_like(mean)
        std = torch.sqrt(var + self.eps)
        return centered / std, (mean, std)

    def denormalize(self, y: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        """Map a normalised output (batch, horizon, channels) back to the input scale.

        Parameters
        ----------
        y : torch.Tensor
            A normalised output, (batch, horizon, channels), with the batch and channels of the
            window ``stats`` came from (any horizon); on the stats' device.
        stats : tuple of torch.Tensor or None
            The ``(mean, std)`` that :meth:`normalize` returned; None returns ``y`` unchanged.

        Returns
        -------
        torch.Tensor
            ``y * std + mean``.
        """
        if stats is None:
            return y
        mean, std = _check_stats(stats)
        # the stats' batch and channels: a y of batch 1 would otherwise broadcast over the batch silently
        dims = (("batch", mean.shape[0]), "horizon", ("channels", mean.shape[2]))
        window = "the batch and channels of the window that stats were taken of"
        try:
            check_shape("y", y, dims)
        except ValueError as error:
            if y.ndim == 3:
                raise ValueError(f"{error} ({window})") from None
            raise ValueError(f"y must have shape ({mean.shape[0]}, horizon, {mean.shape[2]}) (batch, horizon, "
                             f"channels), {window}; got {tuple(y.shape)}, {y.ndim} dims: pass y of 3 dims "
                             f"with {mean.shape[0]} rows and {mean.shape[2]} channels") from None
        check_dtype("y", y)
        if y.device != mean.device:
            raise ValueError(f"y is on {y.device} but stats are on {mean.device}: move y with y.to('{mean.device}')")
        return y * std + mean


def _check_stats(stats: object) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(mean, std)`` pair of :meth:`InstanceNorm.normalize`, each (batch, 1, channels)."""
    fix = "pass the stats that normalize(x) returned with the normalised x, or None when it returned None"
    if not (isinstance(stats, (tuple, list)) and len(stats) == 2):
        what = f"{type(stats).__name__} of length {len(stats)}" if isinstance(stats, (tuple, list)) else (
            type(stats).__name__)
        raise TypeError(f"stats must be the (mean, std) pair that normalize returned, got a {what}: {fix}")
    mean, std = stats
    check_input("stats[0] (the mean)", mean, ("batch", ("time", 1), "channels"))
    check_input("stats[1] (the std)", std, (("batch", mean.shape[0]), ("time", 1), ("channels", mean.shape[2])))
    return mean, std
