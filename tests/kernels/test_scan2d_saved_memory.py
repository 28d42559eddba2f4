"""What scan2d's torch path keeps for backward: the bulk of a Chimera training step's memory.

Each tensor kept is a (batch, time, channels, N) grid per variate column. Autograd through the
variate sweep's column operations kept 7.6 grids a column at Chimera's defaults, and 6.5 once the
time neighbour's term multiplied views of a state instead of a shifted copy; the hand-written
backward keeps the two states and the two time decays, and recomputes the variate decays (4.6 with
the inputs).
"""

from __future__ import annotations

import pytest
import torch

from tsrec import kernels as k

BATCH, TIME, VARIATES, CHANNELS, N = 2, 16, 7, 16, 8  # Chimera's defaults but batch and time


def _inputs() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    draw = lambda *shape, low=None: (  # noqa: E731
        (torch.rand(*shape, generator=g) + 0.1) if low else torch.randn(*shape, generator=g)).requires_grad_()
    grid = (BATCH, TIME, VARIATES, CHANNELS)
    inputs = [draw(*grid), draw(*grid, low=True), draw(*grid, low=True)]
    A = [(-draw(CHANNELS, N, low=True)).detach().requires_grad_() for _ in range(4)]
    return inputs + A, [draw(BATCH, TIME, VARIATES, N) for _ in range(4)]


def _grids_kept_a_column(reverse: bool) -> float:
    """Bytes of the distinct storages autograd keeps for backward, in grids a variate column."""
    inputs, BC = _inputs()
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        kept[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y, _ = k.scan2d(*inputs, *BC, reverse_variates=reverse, backend="torch")
    y.sum().backward()  # the graph kept is the one backward runs
    grid = BATCH * TIME * CHANNELS * N * 4
    return sum(kept.values()) / grid / VARIATES


@pytest.mark.parametrize("reverse", [False, True])
def test_the_variate_sweep_keeps_its_states_and_time_decays(reverse):
    assert _grids_kept_a_column(reverse) < 5.0
