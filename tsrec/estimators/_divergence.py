"""What a fit does when the network's values blow up: one error or warning that names the learning rate.

The estimators hand the networks finite, standardised data, so NaN or inf met inside a network
(or a training loss far above a trivial predictor's) means the weights diverged, not that the
input was bad; these helpers turn the kernels' input-blaming refusal into advice to lower ``lr``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

from tsrec._warn import warn_user
from tsrec.estimators._training import TrainingConfig, TrainingResult
from tsrec.estimators.errors import InputError
from tsrec.kernels._checks import NON_FINITE as KERNEL_NON_FINITE


@contextlib.contextmanager
def divergence_as_error(network: nn.Module, config: TrainingConfig) -> Iterator[None]:
    """Training on finite standardised data: NaN or inf inside the network means the weights diverged.

    A kernel then refuses its input, blaming the input, or the loss goes NaN silently and the
    trained weights are NaN; both become one error that names the learning rate.
    """
    message = (f"training diverged: the network's values overflowed to NaN or inf on finite, standardised data; "
               f"{_advice(config)}")
    with kernel_non_finite_as(lambda: InputError(message)):
        yield
    if not all(bool(torch.isfinite(p).all()) for p in network.parameters()):
        raise InputError(message)


#: a last training loss this many times a trivial predictor's means the fit diverged (or barely trained)
DIVERGED = 10.0


def warn_far_above_baseline(result: TrainingResult, baseline: float, trivial: str, config: TrainingConfig) -> None:
    """Warn when the last epoch's training loss is :data:`DIVERGED` times or more ``baseline``, the
    loss of the ``trivial`` predictor: a fit whose weights grew without overflowing ends there."""
    # not (loss < ...): a NaN loss (weights gone NaN, the best epoch's kept) warns too
    if baseline > 0 and result.train_losses and not result.train_losses[-1] < DIVERGED * baseline:
        warn_user(
            f"training ended at a training loss of {result.train_losses[-1]:.4g}, over {DIVERGED:g} times the "
            f"{baseline:.3g} of {trivial}: the fit diverged (or barely trained); {_advice(config)}",
            RuntimeWarning,
        )


def _advice(config: TrainingConfig) -> str:
    """Lower the learning rate, and a weight decay of 1 or more, which alone can make the weights diverge."""
    advice = f"lower lr (it is {config.lr:g})"
    if config.weight_decay >= 1.0:  # Adam's or AdamW's usual values are 0 to about 0.1
        advice += f" or weight_decay (it is {config.weight_decay:g})"
    return advice


@contextlib.contextmanager
def kernel_non_finite_as(error: Callable[[], Exception]) -> Iterator[None]:
    """A kernel's refusal of NaN or inf (:data:`KERNEL_NON_FINITE`) inside the block becomes ``error()``.

    The estimators hand the networks finite data, so such a NaN arose inside the network, and the
    kernels' advice to clean the input would mislead; other errors pass unchanged.
    """
    try:
        yield
    except ValueError as err:
        if KERNEL_NON_FINITE not in str(err):
            raise
        raise error() from err
