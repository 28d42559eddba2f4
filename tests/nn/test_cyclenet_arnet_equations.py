"""CycleNet and AR-Net against their papers' equations, written out in float64 NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tsrec.nn.arnet import ARNet, sparsity_penalty
from tsrec.nn.cyclenet import CycleNet


def cyclenet_reference(x: np.ndarray, p: int, Q: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                       hidden: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """One window (L, D): RevIN with the unbiased variance + 1e-5, remove Q at the window's phase,
    Linear over time (MLP: a ReLU layer ``hidden = (weight, bias)`` first), add Q at the horizon's
    phase (wrapping around when H > W), undo RevIN."""
    L, W = len(x), len(Q)
    steps = p + np.arange(L + len(bias)) if np.ndim(p) == 0 else np.asarray(p)  # or every step's position
    mean, std = x.mean(0), np.sqrt(x.var(0, ddof=1) + 1e-5)
    residual = (x - mean) / std - Q[steps[:L] % W]
    if hidden is not None:
        residual = np.maximum(hidden[0] @ residual + hidden[1][:, None], 0.0)  # (d_model, D)
    y = weight @ residual + bias[:, None]  # (H, D)
    y = y + Q[steps[L:] % W]
    return y * std + mean


def test_cyclenet_is_its_equations_with_a_horizon_longer_than_the_cycle():
    torch.manual_seed(0)
    L, H, D, W = 7, 12, 3, 5  # H > W: the horizon's cycle wraps around
    net = CycleNet(L, H, D, W).double()
    with torch.no_grad():
        net.cycle.data.normal_()  # Q starts at zeros; a trained cycle is what the test needs
    x = torch.randn(4, L, D, dtype=torch.float64) * 3 + 1
    position = torch.tensor([0, 3, 11, 1000])
    out = net(x, position).detach().numpy()
    Q, weight, bias = (t.detach().numpy() for t in (net.cycle.data, net.backbone.weight, net.backbone.bias))
    for i, p in enumerate(position.tolist()):
        np.testing.assert_allclose(out[i], cyclenet_reference(x[i].numpy(), p, Q, weight, bias), rtol=1e-10, atol=1e-10)


def test_cyclenet_reads_each_steps_own_position_when_given():
    # wall-clock positions of zoned stamps skip an hour in spring and repeat one in autumn: with the
    # first position alone, every step after the change read the cycle one step off
    torch.manual_seed(2)
    L, H, D, W = 6, 4, 2, 5
    net = CycleNet(L, H, D, W).double()
    with torch.no_grad():
        net.cycle.data.normal_()
    x = torch.randn(3, L, D, dtype=torch.float64)
    steps = torch.tensor([[0, 1, 2, 4, 5, 6, 7, 8, 9, 10],  # an hour skipped
                          [7, 8, 8, 9, 10, 11, 12, 13, 14, 15],  # an hour repeated
                          list(range(3, 13))])
    out = net(x, steps).detach().numpy()
    Q, weight, bias = (t.detach().numpy() for t in (net.cycle.data, net.backbone.weight, net.backbone.bias))
    for i in range(3):
        np.testing.assert_allclose(out[i], cyclenet_reference(x[i].numpy(), steps[i].numpy(), Q, weight, bias),
                                   rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(net(x[2:], steps[2:]), net(x[2:], torch.tensor([3])), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"position must have shape \(3,\), .* or \(3, 10\) indices of every step"):
        net(x, steps[:, :9])


def test_cyclenet_mlp_is_its_equations():
    torch.manual_seed(1)
    L, H, D, W = 8, 6, 2, 4
    net = CycleNet(L, H, D, W, backbone="mlp", d_model=5).double()
    with torch.no_grad():
        net.cycle.data.normal_()
    x = torch.randn(3, L, D, dtype=torch.float64) * 2 - 1
    position = torch.tensor([0, 2, 7])
    out = net(x, position).detach().numpy()
    first, _, second = net.backbone
    hidden = (first.weight.detach().numpy(), first.bias.detach().numpy())
    Q, weight, bias = (t.detach().numpy() for t in (net.cycle.data, second.weight, second.bias))
    for i, p in enumerate(position.tolist()):
        expected = cyclenet_reference(x[i].numpy(), p, Q, weight, bias, hidden)
        np.testing.assert_allclose(out[i], expected, rtol=1e-10, atol=1e-10)


def test_cyclenet_linear_has_the_papers_parameter_count_and_a_zero_cycle_at_start():
    L, H, D, W = 96, 96, 7, 24
    net = CycleNet(L, H, D, W)
    assert sum(p.numel() for p in net.parameters()) == L * H + H + W * D
    assert not net.cycle.data.any()


def test_cyclenet_statistics_carry_gradients():
    # the paper's RevIN does not detach the mean and std: with a zero backbone the output is
    # (bias + Q_out) * std + mean, whose gradient wrt x comes through the statistics alone; a
    # detached mean (or std) drops its term from the gradient
    net = CycleNet(6, 2, 1, 3).double()
    with torch.no_grad():
        net.backbone.weight.zero_()
        net.cycle.data.copy_(torch.tensor([[0.3], [-0.2], [0.5]], dtype=torch.float64))
    x = torch.randn(1, 6, 1, dtype=torch.float64, requires_grad=True)
    net(x, torch.tensor([0])).sum().backward()
    raw = x.detach().clone().requires_grad_()
    std = torch.sqrt(raw.var(dim=1, unbiased=True) + 1e-5)
    out_cycle = net.cycle.data[[0, 1]]  # outputs at positions 6, 7: phases 6 mod 3, 7 mod 3
    ((net.backbone.bias.detach()[:, None] + out_cycle) * std + raw.mean(dim=1)).sum().backward()
    torch.testing.assert_close(x.grad, raw.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("c1", "c2"), [(3.0, 3.0), (3.0, 1.0), (1.0, 5.0)])  # unequal: c1 and c2 not swapped
def test_arnet_penalty_is_the_papers_formula(c1, c2):
    w = torch.tensor([[0.0, 1e-3, -0.05, 0.3, -2.0]], dtype=torch.float64)
    expected = np.mean(2.0 / (1.0 + np.exp(-c1 * np.abs(w.numpy()) ** (1.0 / c2))) - 1.0)
    np.testing.assert_allclose(sparsity_penalty(w, c1, c2).item(), expected, rtol=1e-12)
    net = ARNet(5, 1, ()).double()
    with torch.no_grad():
        net.first_layer.weight.copy_(w)
    np.testing.assert_allclose(net.regularization(c1, c2).item(), expected, rtol=1e-12)


def test_arnet_penalty_falls_on_the_lag_weights_with_hidden_layers_too():
    # the first layer reads the lags; a deeper layer's weights are not AR coefficients
    net = ARNet(6, 1, (4,)).double()
    assert net.first_layer is net.layers[0]
    expected = sparsity_penalty(net.layers[0].weight).item()
    assert expected != pytest.approx(sparsity_penalty(net.layers[-1].weight).item(), rel=1e-3)
    np.testing.assert_allclose(net.regularization().item(), expected, rtol=1e-12)


@pytest.mark.parametrize(("c1", "c2", "bad"), [(3.0, 0.0, "c2"), (3.0, -1.0, "c2"), (-1.0, 3.0, "c1"), (0, 3.0, "c1"),
                                               (math.inf, 3.0, "c1"), (3.0, math.nan, "c2"), (True, 3.0, "c1")])
def test_arnet_penalty_refuses_constants_that_are_not_positive(c1, c2, bad: str) -> None:
    """c2 = 0 divided by zero (ZeroDivisionError), and c1 < 0 rewarded small weights, silently."""
    net = ARNet(5, 1)
    message = rf"{bad} must be a finite number > 0.0, got .*\(the paper's penalty uses c1=3.0, c2=3.0\)"
    with pytest.raises(ValueError, match=message):
        net.regularization(c1, c2)
    with pytest.raises(ValueError, match=message):
        sparsity_penalty(net.first_layer.weight, c1, c2)
    assert net.regularization(np.float64(2.0), 4).item() > 0  # NumPy and int constants still pass
