"""LTC and CfC cells: the fused solver's equation, bounded states, liquid time constants."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from tsrec.kernels import recurrent_scan
from tsrec.nn.liquid import LiquidEncoder, LiquidForecaster
from tsrec.nn.ltc import CfCCell, LTCCell, lecun_tanh
import tsrec.nn.ltc as ltc_module


def fused_step_by_hand(cell: LTCCell, x: torch.Tensor, v: torch.Tensor, elapsed: float = 1.0) -> torch.Tensor:
    """Paper Eq. 3 in conductance form, one neuron and one synapse at a time (the specification)."""
    p = {name: t.detach().double() for name, t in cell.named_parameters()}
    x = x.double() * p["input_w"] + p["input_b"]
    v = v.double().clone()
    batch, m, n = v.shape[0], cell.input_size, cell.units
    c = F.softplus(p["cm"]) * cell.ode_unfolds / elapsed
    g = F.softplus(p["gleak"])
    for _ in range(cell.ode_unfolds):
        new = torch.empty_like(v)
        for b in range(batch):
            for j in range(n):
                num, den = c[j] * v[b, j] + g[j] * p["vleak"][j], c[j] + g[j]
                for i in range(n):
                    a = F.softplus(p["w"][i, j]) * torch.sigmoid(p["sigma"][i, j] * (v[b, i] - p["mu"][i, j]))
                    num, den = num + a * p["erev"][i, j], den + a
                for k in range(m):
                    s = torch.sigmoid(p["sensory_sigma"][k, j] * (x[b, k] - p["sensory_mu"][k, j]))
                    a = F.softplus(p["sensory_w"][k, j]) * s
                    num, den = num + a * p["sensory_erev"][k, j], den + a
                new[b, j] = num / (den + cell.epsilon)
        v = new
    return v


@pytest.mark.parametrize("unfolds, epsilon", [(1, 1e-8), (3, 1e-8), (2, 0.0)])
def test_ltc_step_is_the_fused_solver_equation(unfolds, epsilon):
    """epsilon=0 is allowed, as ltc_scan allows it: cm and gleak keep the denominator > 0."""
    torch.manual_seed(0)
    cell = LTCCell(input_size=3, units=4, ode_unfolds=unfolds, epsilon=epsilon).double()
    x, v = torch.randn(2, 3, dtype=torch.float64), torch.rand(2, 4, dtype=torch.float64) - 0.5
    torch.testing.assert_close(cell(x, v), fused_step_by_hand(cell, x, v), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(cell(x, v, elapsed=0.5), fused_step_by_hand(cell, x, v, 0.5), rtol=1e-12, atol=1e-12)


def test_ltc_state_stays_within_leak_and_reversal_potentials():
    """Theorem 2: every fused step is a convex combination, so no input drives the state out."""
    torch.manual_seed(1)
    cell = LTCCell(input_size=2, units=8)
    with torch.no_grad():
        cell.erev.mul_(3.0)  # reversal potentials of +-3 make the bound well away from the leaks
    x = 100.0 * torch.randn(4, 300, 2)  # inputs far outside any training range
    states = LiquidEncoder(cell).states(x).detach()
    potentials = torch.cat([cell.vleak, cell.erev.flatten(), cell.sensory_erev.flatten(), torch.zeros(1)]).detach()
    low, high = float(potentials.min()), float(potentials.max())
    assert states.min() >= low - 1e-5 and states.max() <= high + 1e-5
    assert states.abs().max() > 1.0  # the bound is reached for, not trivially satisfied


def _decay_factor(cell: LTCCell, x: torch.Tensor) -> float:
    """alpha in v' = alpha v + (1 - alpha) v_eq, read off two start states (one neuron, one unfold)."""
    v0, v1 = torch.zeros(1, 1), torch.full((1, 1), 0.1)
    with torch.no_grad():
        return float((cell(x, v1) - cell(x, v0)) / 0.1)


def test_ltc_time_constant_shortens_with_input_drive():
    """Theorem 1: tau_sys = tau / (1 + tau f) shrinks as the input synapses open, within (0, tau]."""
    torch.manual_seed(2)
    cell = LTCCell(input_size=1, units=1, ode_unfolds=1)
    with torch.no_grad():
        cell.w.fill_(-30.0)  # no recurrent synapse (softplus(-30) ~ 1e-13): the step is affine in v
        cell.sensory_mu.fill_(0.5)
        cell.sensory_sigma.fill_(8.0)
    quiet, driven = _decay_factor(cell, torch.tensor([[-2.0]])), _decay_factor(cell, torch.tensor([[3.0]]))
    c, g = float(F.softplus(cell.cm.detach())), float(F.softplus(cell.gleak.detach()))  # c = C / elapsed
    assert quiet == pytest.approx(c / (c + g), rel=1e-3)  # closed input synapse: the leak time constant
    assert 0.0 < driven < quiet < 1.0  # an open synapse speeds the neuron up


def test_cfc_pure_mode_is_the_closed_form():
    torch.manual_seed(3)
    cell = CfCCell(input_size=2, units=3, backbone_units=5, mode="pure")
    with torch.no_grad():
        cell.w_tau.copy_(torch.tensor([0.1, -0.2, 0.3]))
        cell.A.copy_(torch.tensor([1.0, 0.5, -1.0]))
    x, h = torch.randn(4, 2), torch.randn(4, 3)
    z = lecun_tanh(cell.backbone[0](torch.cat([x, h], dim=1)))
    f = cell.ff1(z)
    expected = -cell.A * torch.exp(-2.0 * (cell.w_tau.abs() + f.abs())) * f + cell.A
    torch.testing.assert_close(cell(x, h, elapsed=2.0), expected)


def test_cfc_time_gate_interpolates_between_its_heads():
    torch.manual_seed(4)
    cell = CfCCell(input_size=2, units=3, backbone_units=5)
    x, h = torch.randn(4, 2), torch.randn(4, 3)
    z = lecun_tanh(cell.backbone[0](torch.cat([x, h], dim=1)))
    ff1, ff2 = torch.tanh(cell.ff1(z)), torch.tanh(cell.ff2(z))
    with torch.no_grad():
        cell.time_a.weight.zero_()
        cell.time_b.weight.zero_()
        cell.time_a.bias.fill_(1.0)
        cell.time_b.bias.fill_(-40.0)
    torch.testing.assert_close(cell(x, h, elapsed=1.0), ff1)  # gate closed early on
    torch.testing.assert_close(cell(x, h, elapsed=80.0), ff2)  # and open once enough time has passed
    gate = torch.sigmoid(torch.tensor(1.0 * 40.0 - 40.0))
    torch.testing.assert_close(cell(x, h, elapsed=40.0), ff1 * (1 - gate) + gate * ff2)



def test_cfc_no_gate_adds_the_gated_second_head_to_the_first():
    torch.manual_seed(5)
    cell = CfCCell(input_size=2, units=3, backbone_units=5, mode="no_gate")
    x, h = torch.randn(4, 2), torch.randn(4, 3)
    z = lecun_tanh(cell.backbone[0](torch.cat([x, h], dim=1)))
    ff1, ff2 = torch.tanh(cell.ff1(z)), torch.tanh(cell.ff2(z))
    gate = torch.sigmoid(cell.time_a(z) * 3.0 + cell.time_b(z))
    torch.testing.assert_close(cell(x, h, elapsed=3.0), ff1 + gate * ff2)
    assert not torch.allclose(cell(x, h, elapsed=3.0), ff1 * (1 - gate) + gate * ff2)  # not the default's blend


def test_ltc_cell_starts_in_ncps_ranges_with_two_thirds_excitatory_synapses():
    torch.manual_seed(0)
    cell = LTCCell(input_size=40, units=60)
    ranges = {"gleak": (0.001, 1.0), "vleak": (-0.2, 0.2), "cm": (0.4, 0.6), "w": (0.001, 1.0),
              "sigma": (3.0, 8.0), "mu": (0.3, 0.8), "sensory_w": (0.001, 1.0), "sensory_sigma": (3.0, 8.0),
              "sensory_mu": (0.3, 0.8)}
    for name, (low, high) in ranges.items():
        values = getattr(cell, name).detach()
        assert low <= values.min() and values.max() <= high, name
        assert values.max() - values.min() > 0.9 * (high - low), name  # drawn over the range, not a constant
    for name in ("erev", "sensory_erev"):
        signs = getattr(cell, name).detach()
        assert set(signs.unique().tolist()) == {-1.0, 1.0}
        assert (signs > 0).float().mean().item() == pytest.approx(2 / 3, abs=0.03), name
    assert cell.input_w.detach().eq(1).all() and cell.input_b.detach().eq(0).all()


def test_cfc_cell_weights_are_xavier_and_biases_pytorch_default():
    torch.manual_seed(0)
    cell = CfCCell(input_size=30, units=40, backbone_units=50)
    for name, weight in cell.named_parameters():
        if weight.dim() == 2:  # Xavier-uniform: bound sqrt(6 / (fan_in + fan_out)), variance bound^2 / 3
            bound = (6.0 / sum(weight.shape)) ** 0.5
            assert weight.abs().max() <= bound, name
            assert weight.var().item() == pytest.approx(bound**2 / 3, rel=0.15), name
        else:  # nn.Linear's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            fan_in = dict(cell.named_parameters())[name.replace("bias", "weight")].shape[1]
            assert weight.abs().max() <= fan_in**-0.5, name


@pytest.mark.parametrize("make", [lambda: LTCCell(2, 5, ode_unfolds=2), lambda: CfCCell(2, 5, backbone_units=6),
                                  lambda: CfCCell(2, 5, backbone_units=6, mode="pure")], ids=["ltc", "cfc", "cfc-pure"])
def test_encoder_is_the_shared_recurrent_loop_and_trains_every_parameter(make):
    torch.manual_seed(5)
    encoder = LiquidEncoder(make())
    x = torch.randn(3, 7, 2)
    expected = recurrent_scan(encoder.cell, x, torch.zeros(3, 5), backend="naive")
    torch.testing.assert_close(encoder.states(x), expected)
    encoder(x).square().sum().backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        if name.endswith(("erev",)):
            continue  # sign parameters get gradients too, checked finite above
        assert parameter.grad.abs().sum() > 0, name


def test_ltc_neurons_forget_within_a_few_steps_at_initialisation():
    # why LTCClassifier pools over time: the recurrent conductances dwarf the capacitance, so the
    # last state hardly depends on inputs more than a few steps back (the paper's own warning on
    # long dependencies); measured 7.6e-5 four steps back, 6.6e-12 ten steps back
    torch.manual_seed(0)
    encoder = LiquidEncoder(LTCCell(1, 32))
    x = torch.randn(16, 40, 1, requires_grad=True)
    encoder(x).sum().backward()
    sensitivity = x.grad.abs().mean(dim=(0, 2))
    assert sensitivity[-5] < 1e-3 * sensitivity[-1]
    assert sensitivity[-11] < 1e-9 * sensitivity[-1]


def test_encoder_summaries_are_the_last_state_or_the_time_mean():
    torch.manual_seed(7)
    cell = CfCCell(2, 5, backbone_units=6)
    x = torch.randn(3, 7, 2)
    states = LiquidEncoder(cell).states(x)
    torch.testing.assert_close(LiquidEncoder(cell, "last")(x), states[:, -1])
    torch.testing.assert_close(LiquidEncoder(cell, "mean")(x), states.mean(dim=1))
    with pytest.raises(ValueError, match="pool must be one of"):
        LiquidEncoder(cell, "max")


def test_forecaster_output_is_back_on_the_input_scale():
    torch.manual_seed(6)
    net = LiquidForecaster(horizon=3, n_channels=2, units=4, cell="cfc", backbone_units=4)
    x = torch.randn(5, 12, 2)
    shifted = net(x * 10.0 + 100.0)
    torch.testing.assert_close(shifted, net(x) * 10.0 + 100.0, rtol=1e-4, atol=1e-3)
    # the encoder reads each window at zero mean and unit population variance, as the docstring says
    seen, encode = [], net.encoder.forward
    net.encoder.forward = lambda window: seen.append(window) or encode(window)
    net(x)
    torch.testing.assert_close(seen[0].mean(dim=1), torch.zeros(5, 2), rtol=0, atol=1e-5)
    torch.testing.assert_close(seen[0].var(dim=1, unbiased=False), torch.ones(5, 2), rtol=1e-4, atol=1e-4)


def _cfc_states_and_grads(cell: CfCCell, x: torch.Tensor, h0: torch.Tensor, scan) -> list[torch.Tensor]:
    """States, then the gradients of a fixed weighting of them for x, h0 and every parameter."""
    x, h0 = x.clone().requires_grad_(True), h0.clone().requires_grad_(True)
    states = scan(x, h0)
    weight = torch.linspace(-1.0, 1.0, states.numel(), dtype=states.dtype).view_as(states)
    leaves = [x, h0, *cell.parameters()]
    return [states.detach(), *torch.autograd.grad((states * weight).sum(), leaves)]


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_cfc_scan_is_the_module_loop(dtype, tol):
    # the default cell's CPU scan batches the input part and the three heads; the module-by-module
    # loop over forward (the cell's definition) must give the same states and gradients
    torch.manual_seed(8)
    cell = CfCCell(input_size=3, units=5, backbone_units=7).to(dtype)
    x, h0 = torch.randn(4, 30, 3, dtype=dtype), torch.randn(4, 5, dtype=dtype)
    fast = _cfc_states_and_grads(cell, x, h0, cell.scan)
    loop = _cfc_states_and_grads(cell, x, h0, lambda x, h0: recurrent_scan(cell, x, h0))
    names = ["states", "x", "h0", *(name for name, _ in cell.named_parameters())]
    for name, a, b in zip(names, fast, loop, strict=True):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol * float(b.abs().max()), msg=name)


@pytest.mark.parametrize("kwargs, fast", [({}, True), ({"mode": "no_gate"}, False), ({"mode": "pure"}, False),
                                          ({"backbone_layers": 2}, False)])
def test_cfc_scan_runs_the_fused_kernel_only_for_the_default_cell(monkeypatch, kwargs, fast):
    torch.manual_seed(9)
    cell = CfCCell(input_size=2, units=4, backbone_units=6, **kwargs).double()
    calls = []
    real = ltc_module.cfc_scan
    monkeypatch.setattr(ltc_module, "cfc_scan", lambda *args: calls.append(1) or real(*args))
    x, h0 = torch.randn(3, 9, 2, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(cell.scan(x, h0), recurrent_scan(cell, x, h0, backend="naive"),
                               rtol=1e-12, atol=1e-12)
    assert bool(calls) == fast


def test_cfc_scan_refuses_nan_input_like_the_loop():
    cell = CfCCell(input_size=2, units=4, backbone_units=6)
    x = torch.randn(2, 5, 2)
    x[1, 3, 0] = float("nan")
    with pytest.raises(ValueError, match="contains NaN"):
        cell.scan(x, torch.zeros(2, 4))


def test_make_cell_builds_the_kind_asked_with_its_own_arguments():
    cfc = ltc_module.make_cell("cfc", 3, 4, backbone_units=8, mode="pure")
    assert isinstance(cfc, CfCCell) and cfc.mode == "pure"
    assert [layer.out_features for layer in cfc.backbone] == [8]
    ltc = ltc_module.make_cell("ltc", 3, 4, ode_unfolds=2)
    assert isinstance(ltc, LTCCell) and ltc.ode_unfolds == 2
