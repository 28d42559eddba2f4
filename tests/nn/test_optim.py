"""S4's optimiser rule (the state-space parameters train at min(1e-3, lr) without weight decay) and
the engine's choice between Adam's L2 weight decay and AdamW's decoupled decay."""

from __future__ import annotations

import pytest
import torch

from tsrec.estimators._engine import TrainingConfig, TrainingModule
from tsrec.nn import LS4, CycleNet
from tsrec.nn.optim import optimizer_groups
from tsrec.nn.s4 import S4D
from tsrec.nn.s4_nplr import S4NPLR


@pytest.mark.parametrize("mode", ["nplr", "diag"])
@pytest.mark.parametrize("lr", [1e-2, 3e-4])
def test_the_ssm_parameters_of_every_s4_layer_are_grouped_apart(mode, lr):
    net = LS4(n_channels=2, horizon=3, z_dim=2, d_model=4, d_state=4, n_layers=2, s4_mode=mode)
    layers = [m for m in net.modules() if isinstance(m, (S4D, S4NPLR))]
    assert len(layers) == 3 * 2 + 2 * 2  # three stacks of two, two heads of two units
    rest, ssm = optimizer_groups(net, lr=lr, weight_decay=0.1)
    expected = {id(p) for layer in layers for p in layer.ssm_parameters()}
    assert {id(p) for p in ssm["params"]} == expected
    assert ssm["lr"] == min(1e-3, lr) and ssm["weight_decay"] == 0.0
    assert len(rest["params"]) + len(ssm["params"]) == len(list(net.parameters()))
    assert not expected & {id(p) for p in rest["params"]}


def test_a_network_without_s4_layers_is_one_group():
    groups = optimizer_groups(CycleNet(lookback=8, horizon=2, n_channels=3, cycle_length=4), lr=1e-2, weight_decay=0.1)
    # the rate and decay asked for, not the optimiser's defaults (weight_decay was unused, AdamW's 0.01 instead)
    assert len(groups) == 1 and groups[0]["lr"] == 1e-2 and groups[0]["weight_decay"] == 0.1


@pytest.mark.parametrize(("lr", "ssm_lr"), [(1e-2, 1e-3), (1e-4, 1e-4)])
def test_the_training_engine_uses_the_groups(lr, ssm_lr):
    # the SSM group's rate is capped at 1e-3, never raised to it: a lower lr reaches both groups
    net = LS4(n_channels=1, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1)
    module = TrainingModule(net, loss_fn=lambda *a: None, config=TrainingConfig(lr=lr, weight_decay=0.1))
    optimizer = module.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    assert [(g["lr"], g["weight_decay"]) for g in optimizer.param_groups] == [(lr, 0.1), (ssm_lr, 0.0)]
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(net.parameters()))
    assert type(optimizer) is torch.optim.Adam


@pytest.mark.parametrize("decoupled", [False, True])
def test_weight_decay_is_an_l2_gradient_term_or_decoupled_as_asked(decoupled):
    # with a zero loss gradient, Adam's L2 term is the whole gradient, so its normalised step is
    # about lr; AdamW shrinks the weight by lr * weight_decay, whatever the gradient
    net = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.constant_(net.weight, 2.0)
    config = TrainingConfig(lr=0.1, weight_decay=0.01, decoupled_weight_decay=decoupled)
    optimizer = TrainingModule(net, loss_fn=lambda *a: None, config=config).configure_optimizers()
    assert type(optimizer) is (torch.optim.AdamW if decoupled else torch.optim.Adam)
    net.weight.grad = torch.zeros_like(net.weight)
    optimizer.step()
    expected = 2.0 * (1 - 0.1 * 0.01) if decoupled else 2.0 - 0.1
    assert net.weight.item() == pytest.approx(expected, rel=1e-6)
