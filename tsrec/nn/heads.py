"""Output heads that turn a sequence encoder into a classifier, and the time pooling of recurrent encoders."""

from __future__ import annotations

import torch
from torch import nn

from tsrec.nn._checks import check_choice, check_ints

POOLS = ("last", "mean")


def check_pool(pool: object) -> str:
    """``pool`` must be one of :data:`POOLS`."""
    return check_choice("pool", pool, POOLS)


def pool_over_time(h: torch.Tensor, pool: str) -> torch.Tensor:
    """(batch, time, width) -> (batch, width): the last step (``"last"``) or the time mean (``"mean"``)."""
    return h[:, -1] if pool == "last" else h.mean(dim=1)


class SequenceClassifier(nn.Module):
    """An encoder (batch, time, channels) -> (batch, hidden), then a linear layer to class logits.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps (batch, time, channels) to one summary vector per sample, (batch, hidden).
    hidden : int
        Width of the encoder's output.
    n_outputs : int
        Number of classes (logits per sample).

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.pgn import PGNEncoder
    >>> net = SequenceClassifier(PGNEncoder(in_features=3, hidden=8, max_len=20), hidden=8, n_outputs=4)
    >>> net(torch.randn(5, 20, 3)).shape
    torch.Size([5, 4])
    """

    def __init__(self, encoder: nn.Module, hidden: int, n_outputs: int) -> None:
        super().__init__()
        if not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module, got {type(encoder).__name__}")
        hidden, n_outputs = check_ints(hidden=hidden, n_outputs=n_outputs)
        self.encoder = encoder
        self.head = nn.Linear(hidden, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (batch, n_outputs).

        Parameters
        ----------
        x : torch.Tensor
            The sequences, (batch, time, channels), as the encoder takes them.

        Returns
        -------
        torch.Tensor
            The logits, (batch, n_outputs).
        """
        h = self.encoder(x)
        hidden = self.head.in_features
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"the encoder must return a tensor (batch, hidden={hidden}), got {type(h).__name__}: "
                            "pass an encoder whose forward returns one summary vector per sample")
        if h.ndim == 3:
            raise ValueError(f"the encoder returned {tuple(h.shape)}, one vector per time step, but the classifier "
                             f"needs one per sample, (batch, hidden={hidden}): build the encoder with pool=True")
        if h.ndim != 2 or h.shape[1] != hidden:
            fix = f"pass hidden={h.shape[1]}" if h.ndim == 2 else "pass an encoder that returns (batch, hidden)"
            raise ValueError(f"the encoder returned {tuple(h.shape)} but the classifier was built with hidden={hidden} "
                             f"and needs (batch, {hidden}): {fix} (the width of the encoder's output)")
        return self.head(h)
