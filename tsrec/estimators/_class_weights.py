"""Class weights of a classifier's training and validation loss: scikit-learn's ``class_weight``
(None, ``"balanced"`` or a dict of label -> weight); "balanced" is read by scikit-learn's ``compute_class_weight``.

The loss is the weighted mean of the samples' cross-entropies, sum(w * loss) / sum(w), as
PyTorch's ``cross_entropy(weight=...)`` and scikit-learn's weighted log loss take it. The weights
are rescaled so that a training sample weighs 1 on average: a weighted mean does not change with a
common factor, and the engine's epoch means (sums of batch losses times their weight) then count
in samples as they do without weights.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch import nn

from tsrec.errors import ParameterError
from tsrec.estimators.errors import InputError

EXAMPLE = "e.g. class_weight='balanced' or class_weight={'rare': 10.0}"


def check_class_weight(class_weight: object) -> None:
    """None, ``"balanced"`` or a dict of labels to finite weights >= 0 (before the data; a weight of
    0 leaves a class out of the loss, and :func:`class_weights` refuses training samples all of weight 0)."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    if not isinstance(class_weight, dict):  # scikit-learn's clone and checks take no other Mapping
        raise ParameterError(f"class_weight must be None, 'balanced' or a dict of class label -> weight, got "
                             f"{class_weight!r}; {EXAMPLE}")
    for label, weight in class_weight.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not _finite(weight) or weight < 0:
            raise ParameterError(f"class_weight[{label!r}] must be a finite number >= 0, got {weight!r}; {EXAMPLE}")


def _finite(weight: numbers.Real) -> bool:
    """A finite number, also as a float (math.isfinite raised OverflowError for 10**400)."""
    try:
        return math.isfinite(float(weight))
    except OverflowError:
        return False


def class_weights(class_weight: object, classes: np.ndarray, y: np.ndarray, train: np.ndarray) -> torch.Tensor | None:
    """The weight of each class (in the order of ``classes``) for encoded labels ``y``, rescaled so
    that the training samples ``train`` weigh 1 on average; None without weights."""
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        check_class_labels(class_weight, classes)
        # by hand: scikit-learn's compute_class_weight looks a class up as int(label) where it can, so a
        # UCR set's labels '1', '2' were looked up as 1, 2 and {'2': 5.0} was refused
        weights = np.array([float(class_weight.get(label, 1.0)) for label in classes.tolist()])
    else:
        weights = compute_class_weight(class_weight, classes=classes, y=classes[y])
    total = weights[y[train]].sum()
    if total == 0:
        raise InputError(f"class_weight={class_weight!r} weighs every training sample 0 (their classes are "
                         f"{classes[np.unique(y[train])].tolist()}), so they teach nothing; give them a weight above 0")
    return torch.as_tensor(weights * len(train) / total)


def check_class_labels(class_weight: dict, classes: np.ndarray) -> None:
    """Every label a dict names must be a class of ``y``: scikit-learn's error named the classes
    the dict leaves out instead, which may rightly weigh 1."""
    known = set(classes.tolist())
    unknown = [label for label in class_weight if label not in known]
    if unknown:
        raise InputError(f"class_weight names {unknown!r}, which y does not have as classes; its classes are "
                         f"{classes.tolist()!r} (labels left out of class_weight weigh 1)")


class WeightedClassLoss:
    """Cross-entropy of one batch weighted by class (``weight``, one per class), and the batch's
    total weight, which the engine counts in place of its samples. A batch of weight 0 has loss 0."""

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight

    def __call__(self, network: nn.Module, batch) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        logits = network(x)
        sample_weight = self.weight.to(device=logits.device, dtype=logits.dtype)[y]
        losses = nn.functional.cross_entropy(logits, y, reduction="none")
        total = sample_weight.sum()
        # a batch of weight 0 only (a class weighed 0): no gradient, not the 0/0 of cross_entropy(weight=)
        # the weight stays on the device (the engine reads it once an epoch: no wait for the GPU a batch)
        return (sample_weight * losses).sum() / total.clamp_min(torch.finfo(total.dtype).tiny), total.detach()
