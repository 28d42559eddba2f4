"""AR-Net (Triebe et al., 2019): auto-regression fitted by SGD, with a sparsity regulariser.

The linear AR-Net is one map from ``n_lags`` past values to ``horizon`` future values; its weights
are the AR coefficients. Optional hidden ReLU layers give the non-linear variant. Weights are
shared over variates (each variate is an independent AR process with the same coefficients).
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

from tsrec.nn._checks import check_input, check_int, check_ints, check_positive


def sparsity_penalty(weight: torch.Tensor, c1: float = 3.0, c2: float = 3.0) -> torch.Tensor:
    """AR-Net's smooth L0 proxy, averaged over all weights.

    R(w) = mean( 2 / (1 + exp(-c1 * |w|^(1/c2))) - 1 ); it maps 0 to 0 and saturates towards 1,
    so small weights are pushed to zero while large ones are barely penalised. ``c1`` and ``c2``
    must be finite numbers > 0 (``c2 = 0`` divides by zero; ``c1 < 0`` rewards small weights).
    """
    hint = " (the paper's penalty uses c1=3.0, c2=3.0)"
    c1, c2 = check_positive("c1", c1, hint), check_positive("c2", c2, hint)
    # |w|^(1/c2) has an infinite slope at 0: clamp for the gradient, then zero exact zeros
    magnitude = weight.abs().clamp_min(1e-12).pow(1.0 / c2) * (weight != 0)
    return (2.0 / (1.0 + torch.exp(-c1 * magnitude)) - 1.0).mean()


def sparsity_lambda(sparsity: float | None) -> float:
    """Full regularisation strength for an estimated sparsity ``s`` (fraction of non-zero lags).

    The paper-era rule: lambda = 0.02 * (1/s - 1), and 0 when no sparsity is assumed (s = 1 or None).

    Parameters
    ----------
    sparsity : float or None
        Expected fraction of non-zero lags in (0, 1], as :class:`~tsrec.estimators.ARNetForecaster`
        takes it; None or 1 turns the regulariser off.

    Returns
    -------
    float
        The regularisation strength lambda, >= 0.
    """
    if sparsity is None:
        return 0.0
    ok = isinstance(sparsity, numbers.Real) and not isinstance(sparsity, bool) and 0.0 < sparsity <= 1.0
    if not ok:
        raise ValueError(f"sparsity must be in (0, 1] or None, got {sparsity!r}: pass the expected fraction of "
                         "non-zero lags, or 1 or None for no sparsity regulariser")
    if sparsity == 1.0:
        return 0.0
    return 0.02 * (1.0 / sparsity - 1.0)


class ARNet(nn.Module):
    """AR-Net network: (batch, n_lags, channels) -> (batch, horizon, channels).

    Parameters
    ----------
    n_lags : int
        AR order ``p`` (the lookback).
    horizon : int
        Number of steps forecast directly.
    hidden_layers : tuple of int, default=()
        Widths of optional hidden ReLU layers; empty gives the interpretable linear AR-Net.

    Examples
    --------
    >>> import torch
    >>> net = ARNet(n_lags=10, horizon=2)
    >>> net(torch.randn(4, 10, 3)).shape
    torch.Size([4, 2, 3])
    >>> net.coefficients().shape
    torch.Size([2, 10])
    """

    uses_position = False

    def __init__(self, n_lags: int, horizon: int, hidden_layers: tuple[int, ...] = ()) -> None:
        super().__init__()
        n_lags, horizon = check_ints(n_lags=n_lags, horizon=horizon)
        if not isinstance(hidden_layers, (tuple, list)):
            raise ValueError(f"hidden_layers must be a tuple of layer widths, got {hidden_layers!r}: "
                             "pass e.g. hidden_layers=(64,), or () for the linear AR-Net")
        hidden_layers = tuple(check_int("each width in hidden_layers", w) for w in hidden_layers)
        widths = [n_lags, *hidden_layers, horizon]
        layers: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(w_in, w_out))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        self.layers = nn.Sequential(*layers)
        self.is_linear = not hidden_layers

    @property
    def first_layer(self) -> nn.Linear:
        """The layer whose weights the sparsity regulariser acts on (the AR weights when linear)."""
        return self.layers[0]

    def forward(self, x: torch.Tensor, position: torch.Tensor | None = None) -> torch.Tensor:
        """Forecast; the input columns are oldest first, so weight column j is lag ``n_lags - j``.

        Parameters
        ----------
        x : torch.Tensor
            The last ``n_lags`` values of each channel, oldest first: (batch, n_lags, channels).
        position : torch.Tensor or None, default=None
            Ignored: the network reads no time positions (``uses_position`` is False).

        Returns
        -------
        torch.Tensor
            The forecast, (batch, horizon, channels).
        """
        layer = self.first_layer
        check_input("x", x, ("batch", ("n_lags", layer.in_features, "n_lags"), "channels"), layer.weight)
        return self.layers(x.transpose(1, 2)).transpose(1, 2)

    def regularization(self, c1: float = 3.0, c2: float = 3.0) -> torch.Tensor:
        """The sparsity penalty on the first layer's weights (:func:`sparsity_penalty`; ``c1, c2 > 0``).

        Parameters
        ----------
        c1, c2 : float, default=3.0
            Shape constants of the penalty (the paper's 3.0), finite and > 0.

        Returns
        -------
        torch.Tensor
            The penalty, a scalar in [0, 1).
        """
        return sparsity_penalty(self.first_layer.weight, c1, c2)

    def coefficients(self) -> torch.Tensor:
        """AR coefficients in AR order, lag 1 first (linear AR-Net only).

        Returns
        -------
        torch.Tensor
            The weights of shape (horizon, n_lags), detached: column ``k`` multiplies ``y_{t-k-1}``.
        """
        if not self.is_linear:
            raise AttributeError("AR coefficients exist only for the linear AR-Net (hidden_layers=())")
        return self.first_layer.weight.detach().flip(-1)
