"""Argument checks of LS4's sampling (:class:`tsrec.nn.ls4.LS4`): seeds, generators and the steps
a caller keeps."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch

from tsrec.nn._checks import check_int


#: the seeds :meth:`torch.Generator.manual_seed` takes (read as an unsigned 64-bit number)
SEED_RANGE = (-(2**63), 2**64 - 1)


def check_seed(seed: object) -> int:
    """An integer seed that :meth:`torch.Generator.manual_seed` takes (``forward`` fails on another)."""
    seed = check_int("seed", seed, None)
    low, high = SEED_RANGE
    if not low <= seed <= high:
        raise ValueError(f"seed must be an integer from -2**63 to 2**64 - 1 (the seeds torch.Generator.manual_seed "
                         f"takes), got {seed!r}: pass a seed in that range, e.g. seed % 2**64")
    return seed


def check_generator(generator: object) -> None:
    """Refuse a ``generator`` that is neither a :class:`torch.Generator` nor None (torch's global one)."""
    if generator is None or isinstance(generator, torch.Generator):
        return
    seed = " (not a seed)" if isinstance(generator, numbers.Integral) and not isinstance(generator, bool) else ""
    raise TypeError(f"generator must be a torch.Generator or None{seed}, got {type(generator).__name__}: pass "
                    "net.generator(x.device) or torch.Generator(device=x.device).manual_seed(seed)")


def wanted_steps(n_steps: int, steps: Sequence[int] | None) -> list[bool]:
    """For each of ``n_steps`` steps whether :meth:`LS4.sample` returns it."""
    if steps is None:
        return [True] * n_steps
    try:
        given = None if isinstance(steps, (str, bytes)) else list(steps)
    except TypeError:  # not iterable: an int, most likely, meant as one step
        given = None
    if given is None:
        one = isinstance(steps, numbers.Integral) and not isinstance(steps, bool)
        fix = f"pass steps=[{steps}] for that one step" if one else "pass e.g. steps=[1, 5]"
        raise TypeError(f"steps must be a sequence of step numbers from 1 to n_steps={n_steps} (or None for all), "
                        f"got {type(steps).__name__}: {fix}")
    asked = [check_int("steps", k) for k in given]
    if not asked or any(b <= a for a, b in zip(asked, asked[1:])) or asked[-1] > n_steps:
        raise ValueError(f"steps must be increasing steps from 1 to n_steps={n_steps}, got {given!r}; "
                         "sort them, drop repeats, or raise n_steps")
    wanted = [False] * n_steps
    for k in asked:
        wanted[k - 1] = True
    return wanted
