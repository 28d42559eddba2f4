"""Mixed precision: the forward of a training step runs under autocast, its backward outside it.

Lightning runs ``training_step``, and so the ``manual_backward`` inside it, under the precision
plugin's autocast; PyTorch runs backward outside autocast. Inside it, the backward passes that
compute (the kernels' hand-written ones and their recomputations) ran their own products in
bfloat16: gradients rounded to 8 bits where the op's forward computed in float32.
"""

from __future__ import annotations

import numpy as np
import torch

from tsrec.estimators import PGNClassifier
from tsrec.nn.heads import SequenceClassifier


def test_a_mixed_precision_step_runs_its_forward_under_autocast_and_its_backward_outside(monkeypatch):
    seen = {"forward": [], "backward": []}

    class Recorded(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            seen["backward"].append(torch.is_autocast_enabled("cpu"))
            return grad

    forward = SequenceClassifier.forward

    def recorded_forward(self, x):
        seen["forward"].append(torch.is_autocast_enabled("cpu"))
        return Recorded.apply(forward(self, x))

    monkeypatch.setattr(SequenceClassifier, "forward", recorded_forward)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(24, 1, 12)), np.array(["a", "b"] * 12)
    PGNClassifier(hidden=4, max_epochs=2, batch_size=8, precision="bf16-mixed", random_state=0).fit(X, y)
    assert len(seen["backward"]) == 6  # 3 steps an epoch
    assert seen["forward"][0] is True and not any(seen["backward"])
