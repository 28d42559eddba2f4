"""Per-window instance normalisation shared by the forecasting networks."""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import check_flag, check_input, check_positive


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
            A normalised output, (batch, horizon, channels).
        stats : tuple of torch.Tensor or None
            The ``(mean, std)`` that :meth:`normalize` returned; None returns ``y`` unchanged.

        Returns
        -------
        torch.Tensor
            ``y * std + mean``.
        """
        if stats is None:
            return y
        mean, std = stats
        return y * std + mean
