"""Per-epoch learning-rate factors (for ``LambdaLR``) of the models' reference repositories.

The LTSF repositories (CycleNet, S-Mamba, TPGN) call ``adjust_learning_rate(optimizer, epoch + 1,
args)`` *after* each epoch, so the rate a rule gives for 1-based epoch k is the rate of the next
epoch. Written per 0-based epoch e, as ``LambdaLR`` counts them, a rule ``lr * f ** (k - s)``
therefore trains epoch e at ``f ** max(e - s, 0)``: one more epoch at the full rate than the
rule's formula suggests.
"""

from __future__ import annotations


def _decay_after(epoch: int, factor: float, start: int) -> float:
    return factor ** max(epoch - start, 0)


def type1_schedule(epoch: int) -> float:
    """S-Mamba's ``type1``: two epochs at the full rate, then halved after every epoch."""
    return _decay_after(epoch, 0.5, 1)


def type3_schedule(epoch: int) -> float:
    """CycleNet's ``type3``: four epochs at the full rate, then x0.8 after every epoch."""
    return _decay_after(epoch, 0.8, 3)


def type4_schedule(epoch: int) -> float:
    """TPGN's ``type4``: two epochs at the full rate, then x0.9 after every epoch."""
    return _decay_after(epoch, 0.9, 1)


def step_decay(epoch: int) -> float:
    """AR-Net's ``StepLR(step_size=1, gamma=0.9)``, stepped after every epoch: x0.9 from epoch 2."""
    return _decay_after(epoch, 0.9, 0)
