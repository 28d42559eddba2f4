"""Torch modes that fits and predictions set for themselves, whatever the caller's.

``precision`` says what a network computes in. A caller's ``torch.autocast`` block would
override it: an AR-Net fitted inside a bfloat16 autocast block forecast 1.1 away from the same
fit outside, and predicting inside one moved forecasts by 1e-3. Lightning's own mixed-precision
autocast (``precision="bf16-mixed"``) is entered inside, in each training step, and still applies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def caller_autocast_off() -> Iterator[None]:
    """Turn off a caller's CPU and CUDA autocast for the block."""
    with torch.autocast("cpu", enabled=False), torch.autocast("cuda", enabled=False):
        yield


@contextlib.contextmanager
def predicting() -> Iterator[None]:
    """No gradients and no caller's autocast: a prediction in ``precision``'s dtype."""
    with torch.no_grad(), caller_autocast_off():
        yield
