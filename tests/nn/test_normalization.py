"""InstanceNorm and TPGN's own window normalisation against torch.var (float64)."""

from __future__ import annotations

import pytest
import torch

from tsrec.nn.normalization import InstanceNorm
from tsrec.nn.tpgn import TPGN


def _reference(x: torch.Tensor, unbiased: bool, eps: float, detach_mean: bool):
    """(x - mean) / sqrt(var + eps) with torch.var; detach_mean stops gradients through the mean only,
    as S-Mamba's and iTransformer's code (``means = x.mean(1).detach()``, the std of the centred x)."""
    mean = x.mean(dim=1, keepdim=True)
    if detach_mean:
        mean = mean.detach()
    std = torch.sqrt((x - mean).var(dim=1, keepdim=True, unbiased=unbiased) + eps)
    return (x - mean) / std, mean, std


def _with_grad(fn, x: torch.Tensor, weight: torch.Tensor) -> list[torch.Tensor]:
    x = x.clone().requires_grad_(True)
    out = fn(x)
    return [t.detach() for t in out] + [torch.autograd.grad((out[0] * weight).sum(), x)[0]]


@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("detach_mean", [False, True])
@pytest.mark.parametrize("time", [3, 24, 96])  # at 2 steps z is +-1 whatever x: its gradient is rounding
def test_instance_norm_is_torch_var_normalisation(unbiased, detach_mean, time):
    torch.manual_seed(0)
    x = 3.0 + torch.randn(4, time, 3, dtype=torch.float64)
    weight = torch.randn(4, time, 3, dtype=torch.float64)
    norm = InstanceNorm(unbiased=unbiased, eps=1e-5, detach_mean=detach_mean)

    def ours(x):
        z, (mean, std) = norm.normalize(x)
        return z, mean, std

    got = _with_grad(ours, x, weight)
    expected = _with_grad(lambda x: _reference(x, unbiased, 1e-5, detach_mean), x, weight)
    for name, a, b in zip(["z", "mean", "std", "grad"], got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
    if detach_mean:  # the std's gradient is kept: dz/dx is not 1/std elementwise, as with both detached
        assert not torch.allclose(got[3], weight / got[2], rtol=1e-3, atol=0.0)


def test_instance_norm_mean_carries_no_graph_with_detach_mean_and_the_std_does():
    x = torch.randn(2, 10, 3, requires_grad=True)
    _, (mean, std) = InstanceNorm(detach_mean=True).normalize(x)
    assert not mean.requires_grad and std.requires_grad
    _, (mean, std) = InstanceNorm(detach_mean=False).normalize(x)
    assert mean.requires_grad and std.requires_grad


def test_instance_norm_single_step_and_disabled():
    x = torch.randn(2, 1, 3, dtype=torch.float64)
    z, (mean, std) = InstanceNorm(eps=1e-4).normalize(x)  # one step: no spread, std is sqrt(eps)
    torch.testing.assert_close(z, torch.zeros_like(x))
    torch.testing.assert_close(mean, x)
    torch.testing.assert_close(std, torch.full_like(x, 1e-2))
    off = InstanceNorm(enabled=False)
    z, stats = off.normalize(x)
    assert z is x and stats is None and off.denormalize(x, None) is x


@pytest.mark.parametrize("unbiased", [True, False])
def test_instance_norm_round_trip(unbiased):
    x = torch.randn(3, 24, 2, dtype=torch.float64) * 5.0 + 2.0
    norm = InstanceNorm(unbiased=unbiased)
    z, stats = norm.normalize(x)
    torch.testing.assert_close(norm.denormalize(z, stats), x, rtol=1e-12, atol=1e-12)


def test_tpgn_normalisation_is_torch_var_with_a_detached_mean():
    # TPGN's own norm: biased variance, mean detached but the variance not (the reference's code)
    torch.manual_seed(1)
    model = TPGN(lookback=48, horizon=24, n_channels=2, period=24).double()
    x = 3.0 + torch.randn(3, 48, 2, dtype=torch.float64)
    weight = torch.randn(3, 48, 2, dtype=torch.float64)

    def reference(x):
        mean = x.mean(dim=1, keepdim=True).detach()
        std = torch.sqrt(x.sub(mean).var(dim=1, keepdim=True, unbiased=False) + 1e-5)
        return (x - mean) / std, mean, std

    got = _with_grad(model._normalize, x, weight)
    expected = _with_grad(reference, x, weight)
    for name, a, b in zip(["z", "mean", "std", "grad"], got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
    assert not torch.allclose(got[3], weight / got[2])  # the gradient does flow through the std
