"""Seeded fits that leave the caller's random state alone and take turns across threads."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import torch

from tsrec.estimators._modes import caller_autocast_off

# torch's global generator (dropout, weight initialisation) and the logger levels and flags that
# Lightning changes are process-wide, so fits in threads of one process (joblib's threading
# backend, sktime's evaluate) take turns: otherwise a fit's random draws depend on the others'.
# A fit started in the same thread (e.g. from a callback) nests; one started in another thread
# and awaited from inside a fit would wait for ever, so fits must not do that.
_FIT_LOCK = threading.RLock()


def _new_fit_lock() -> None:
    # a child forked while another thread was fitting would inherit the lock as held
    global _FIT_LOCK
    _FIT_LOCK = threading.RLock()


os.register_at_fork(after_in_child=_new_fit_lock)


def fit_lock() -> threading.RLock:
    """The lock fits take turns under (this process's: a forked child makes its own). Code that
    changes process-wide settings around a fit, such as ``warnings.catch_warnings`` (which is not
    thread-safe), takes it too, so that another thread's fit neither sees nor undoes the change."""
    return _FIT_LOCK


@contextlib.contextmanager
def seeded(seed: int, gpu: bool = False) -> Iterator[None]:
    """Seed torch inside a forked RNG so the caller's global random state is left untouched.

    Holds the process-wide fit lock: fits started from several threads run one at a time.
    Networks built inside are float32 whatever the caller's ``torch.set_default_dtype`` (the
    ``precision`` parameter says what they compute in; a float64 default gave float64 weights
    that float32 batches could not meet).

    ``gpu``: whether the block may run on a CUDA GPU. CUDA's generators are forked and seeded only
    then, or where CUDA has started already: forking them starts CUDA, and a process forked after
    that (``multiprocessing``'s default on Linux) cannot start it again, so every CPU fit or load
    in such a child failed on a machine with a GPU.

    A caller's autocast is off inside (:mod:`tsrec.estimators._modes`).
    """
    cuda = torch.cuda.is_initialized() or (gpu and torch.cuda.is_available())
    devices = list(range(torch.cuda.device_count())) if cuda else []
    with _FIT_LOCK, torch.random.fork_rng(devices=devices), _default_dtype(torch.float32), caller_autocast_off():
        if cuda:
            torch.manual_seed(seed)
        else:  # torch.manual_seed would queue a CUDA seed that a later start of CUDA would apply
            torch.random.default_generator.manual_seed(seed)
            if torch.backends.mps.is_available():
                torch.mps.manual_seed(seed)
        yield


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def uses_gpu(config) -> bool:
    """Whether a fit of this training configuration may run on a CUDA GPU (``"auto"`` picks one)."""
    return not (isinstance(config.accelerator, str) and config.accelerator.lower() in ("cpu", "mps"))
