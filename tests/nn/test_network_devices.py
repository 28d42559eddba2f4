"""An input on another device than the network's parameters is refused by name, with the fix.

Before the nn input audit, torch refused it without naming the input ("Tensor on device cpu is not on
the expected device meta!", "META device type not an accelerator."), and ClosedLoopSSM returned a
CPU tensor of garbage for a ``meta`` input (``torch.bmm`` of a meta and a CPU tensor gives one).
``meta`` stands in for a GPU here: torch refuses to mix it with the CPU as it refuses CUDA.
"""

from __future__ import annotations

import pytest
import torch

from tsrec.nn import (ARNet, CfCCell, ClosedLoopSSM, CompanionSSM, CycleNet, LiquidEncoder, LiquidForecaster, LS4,
                      LTCCell, MambaBlock, SMamba, SpaceTime)

META = torch.device("meta")


def on_meta(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, device=META)


# (id, call, name of the input refused)
CASES = [
    ("arnet", lambda: ARNet(6, 2)(on_meta(2, 6, 1)), "x"),
    ("cyclenet", lambda: CycleNet(6, 2, 3, 4)(on_meta(2, 6, 3), torch.arange(2)), "x"),
    ("liquid-ltc", lambda: LiquidForecaster(2, 3, units=4)(on_meta(2, 6, 3)), "x"),
    ("liquid-cfc", lambda: LiquidForecaster(2, 3, units=4, cell="cfc", backbone_units=8)(on_meta(2, 6, 3)), "x"),
    ("liquid-encoder", lambda: LiquidEncoder(LTCCell(3, 4))(on_meta(2, 6, 3)), "x"),
    ("smamba", lambda: SMamba(6, 2, 3, d_model=8, d_ff=8)(on_meta(2, 6, 3)), "x"),
    ("spacetime", lambda: SpaceTime(6, 2, width=8, n_kernels=4, kernel_dim=4)(on_meta(2, 6, 1)), "x"),
    ("ls4", lambda: LS4(3, 2, lookback=6, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=2)(on_meta(2, 6, 3)),
     "x"),
    ("mamba-block", lambda: MambaBlock(3)(on_meta(2, 6, 3)), "h"),
    ("companion", lambda: CompanionSSM(3, 3, 4)(on_meta(2, 6, 3)), "u"),
    ("closed-loop", lambda: ClosedLoopSSM(3, 4)(on_meta(2, 6, 3), 2), "u"),
    ("cfc-step-state", lambda: CfCCell(3, 4, backbone_units=8)(torch.randn(2, 3), on_meta(2, 4)), "h"),
    ("ltc-scan-state", lambda: LTCCell(3, 4).scan(torch.randn(2, 6, 3), on_meta(2, 4)), "v"),
]


@pytest.mark.parametrize(("call", "name"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_an_input_on_another_device_is_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"{name} is on meta but the network's parameters are on cpu: move {name} "
                                         rf"with {name}.to\('cpu'\) or the network with .to\('meta'\)"):
        call()


def test_a_network_on_the_input_device_still_runs():
    net = ClosedLoopSSM(3, 4).to(META)
    assert net(on_meta(2, 6, 3), 2).is_meta
    # LS4's forecast drew from a generator on the input's device: "META device type not an accelerator"
    ls4 = LS4(3, 2, lookback=6, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=2).eval().to(META)
    forecast = ls4(on_meta(2, 6, 3))
    assert forecast.is_meta and forecast.shape == (2, 2, 3)


def test_cyclenet_takes_positions_on_the_cpu_and_refuses_them_elsewhere():
    # CPU indices may index tensors on any device (an estimator may keep its positions there)
    net = CycleNet(6, 2, 3, 4)
    assert net(torch.randn(2, 6, 3), torch.arange(2)).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="position is on meta but the network's parameters are on cpu"):
        net(torch.randn(2, 6, 3), torch.arange(2, device=META))


def test_ls4_names_an_input_that_is_no_tensor():
    net = LS4(3, 2, lookback=6, z_dim=2, d_model=8, d_state=4, n_layers=1, n_samples=2)
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor .* got list: convert it with torch.as_tensor"):
        net([[0.0] * 3] * 6)
