"""tsrec.nn input checks added in session 70 (InstanceNorm.denormalize's y and stats, the squeeze
hint): behaviours a mutation round found unpinned."""

from __future__ import annotations

import pytest
import torch

from tsrec.nn import InstanceNorm, LTCCell


def _normalized(batch: int = 2, channels: int = 3):
    norm = InstanceNorm()
    _, stats = norm.normalize(torch.randn(batch, 12, channels))
    return norm, stats


def test_denormalize_refuses_a_y_of_integers():
    # y * std + mean would turn it into floats silently
    norm, stats = _normalized()
    with pytest.raises(TypeError, match=r"y has dtype torch\.int64 but the network computes in floating point: "
                                        r"cast y with y\.float\(\)"):
        norm.denormalize(torch.ones(2, 4, 3, dtype=torch.long), stats)


@pytest.mark.parametrize("which, match", [
    (lambda m, s: (m, s[:1]), r"stats\[1\] \(the std\) must have shape \(2, 1, 3\).*got \(1, 1, 3\): pass stats\[1\] "
                              r"\(the std\) with batch 2"),  # would broadcast the first window's std
    (lambda m, s: (m, s[..., :1]), r"stats\[1\] \(the std\) must have shape \(2, 1, 3\).*got \(2, 1, 1\)"),
    (lambda m, s: (m.expand(2, 4, 3), s), r"stats\[0\] \(the mean\) must have shape \(batch, 1, channels\).*"
                                          r"got \(2, 4, 3\)"),  # would tie y's horizon to 4
])
def test_denormalize_refuses_stats_that_are_not_one_windows(which, match):
    norm, stats = _normalized()
    with pytest.raises(ValueError, match=match):
        norm.denormalize(torch.randn(2, 4, 3), which(*stats))


@pytest.mark.parametrize("shape", [(2, 3), (2, 1, 1), (3, 1)])
def test_squeeze_is_suggested_only_where_it_gives_the_shape(shape):
    # (2, 3) and (3, 1) squeezed are no (2,) and (2, 1, 1) squeezed at -1 is still 2-dim

    with pytest.raises(ValueError, match=r"elapsed must have shape \(2,\) \(batch,\)") as refused:
        LTCCell(3, 4)(torch.randn(2, 3), torch.zeros(2, 4), torch.ones(*shape))
    assert "squeeze" not in str(refused.value) and str(refused.value).endswith("pass a 1-dim tensor")


def test_one_step_is_named_in_the_singular():
    norm, (mean, std) = _normalized()
    with pytest.raises(ValueError, match=r"pass stats\[0\] \(the mean\) of 1 step$"):
        norm.denormalize(torch.randn(2, 4, 3), (mean.expand(2, 4, 3), std))
