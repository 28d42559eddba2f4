"""LTC and CfC cells over irregularly sampled sequences: ``elapsed`` (batch, time) gives each step's length.

The specification is the cell's single step with one number ``elapsed`` for one sample (tied to the
paper's equations in test_ltc.py); a scan over per-sample, per-step lengths must equal it step by step.
"""

from __future__ import annotations

import pytest
import torch

from tsrec.nn.liquid import LiquidEncoder
from tsrec.nn.ltc import CfCCell, LTCCell


def cells() -> dict:
    torch.manual_seed(0)
    return {"ltc": LTCCell(input_size=3, units=4, ode_unfolds=3).double(),
            **{f"cfc-{mode}": CfCCell(input_size=3, units=4, backbone_units=8, mode=mode).double()
               for mode in ("default", "no_gate", "pure")},
            "cfc-deep": CfCCell(input_size=3, units=4, backbone_units=8, backbone_layers=2).double()}


def data(batch=3, T=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, T, 3, generator=g, dtype=torch.float64)
    elapsed = 0.1 + 3.0 * torch.rand(batch, T, generator=g, dtype=torch.float64)
    return x, elapsed, 0.3 * torch.randn(batch, 4, generator=g, dtype=torch.float64)


def one_sample_at_a_time(cell, x, elapsed, h0):
    """Every sample alone, every step with its own length as a Python number."""
    rows = []
    for b in range(x.shape[0]):
        h, states = h0[b:b + 1], []
        for t in range(x.shape[1]):
            h = cell(x[b:b + 1, t], h, elapsed=float(elapsed[b, t]))
            states.append(h)
        rows.append(torch.cat(states))
    return torch.stack(rows)


@pytest.mark.parametrize("name", ["ltc", "cfc-default", "cfc-no_gate", "cfc-pure", "cfc-deep"])
def test_a_scan_over_irregular_steps_is_the_cell_stepped_with_each_length(name):
    cell = cells()[name]
    x, elapsed, h0 = data()
    with torch.no_grad():
        torch.testing.assert_close(cell.scan(x, h0, elapsed), one_sample_at_a_time(cell, x, elapsed, h0),
                                   rtol=1e-12, atol=1e-12)
        assert (cell.scan(x, h0, elapsed) - cell.scan(x, h0)).abs().max() > 1e-3  # the lengths matter


@pytest.mark.parametrize("name", ["ltc", "cfc-default", "cfc-pure"])
def test_one_length_per_sample_in_a_single_step(name):
    # batch == units: a (batch,) tensor broadcast against the units was ncps's timespan bug
    cell = cells()[name]
    x, elapsed, h0 = data(batch=4, T=1)
    per_sample = cell(x[:, 0], h0, elapsed=elapsed[:, 0])
    torch.testing.assert_close(per_sample, one_sample_at_a_time(cell, x, elapsed, h0)[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
def test_unit_lengths_are_the_regular_scan(name):
    # the default CfC cell takes its fused kernel without lengths and a loop with them: the same function
    cell = cells()[name]
    x, _, h0 = data()
    ones = torch.ones(x.shape[:2], dtype=torch.int64)  # whole numbers (e.g. differences of integer stamps) too
    torch.testing.assert_close(cell.scan(x, h0, ones), cell.scan(x, h0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
def test_the_encoder_passes_the_lengths_and_training_reaches_every_parameter(name):
    cell = cells()[name]
    x, elapsed, _ = data()
    encoder = LiquidEncoder(cell, pool="mean")
    summary = encoder(x, elapsed)
    torch.testing.assert_close(summary, cell.scan(x, x.new_zeros(3, 4), elapsed).mean(dim=1))
    summary.square().sum().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in cell.parameters())


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
@pytest.mark.parametrize(
    "elapsed, error, match",
    [
        (torch.ones(3, 4), ValueError, r"elapsed must have shape \(3, 5\)"),
        (torch.ones(3, 5, 1), ValueError, "elapsed must have shape"),
        ([[1.0] * 5] * 3, TypeError, r"elapsed must be a torch.Tensor of shape \(3, 5\).*torch.as_tensor\(elapsed\)"),
        (torch.zeros(3, 5), ValueError, r"finite lengths > 0 .*got 0.0; drop or merge repeated time stamps"),
        (torch.full((3, 5), float("inf")), ValueError, "got inf"),
        (torch.ones(3, 5, dtype=torch.bool), TypeError, "elapsed must hold real numbers"),
    ],
)
def test_bad_lengths_are_refused(name, elapsed, error, match):
    cell = cells()[name]
    x, _, h0 = data()
    with pytest.raises(error, match=match):
        cell.scan(x, h0, elapsed)


def test_a_step_length_per_sample_must_be_one_per_sample():
    cell = cells()["cfc-default"]
    x, _, h0 = data(batch=4, T=1)
    with pytest.raises(ValueError, match=r"elapsed must have shape \(4,\) \(batch,\)"):
        cell(x[:, 0], h0, elapsed=torch.ones(4, 1))
    with pytest.raises(ValueError, match="finite lengths > 0"):
        cell(x[:, 0], h0, elapsed=torch.tensor([1.0, 0.0, 1.0, 1.0]))


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
def test_lengths_requiring_grad_are_refused_not_dropped(name):
    cell = cells()[name]
    x, elapsed, h0 = data()
    with pytest.raises(ValueError, match=r"do not differentiate the steps' lengths .*elapsed.detach\(\)"):
        cell.scan(x, h0, elapsed.requires_grad_())


def test_an_encoder_without_the_length_channel_is_told_so():
    encoder = LiquidEncoder(cells()["ltc"], elapsed_channel=True)
    with pytest.raises(ValueError, match=r"x must have 4 channels: the cell's input_size=3 features and, last, each "
                                         r"step's length \(elapsed_channel=True\), got 3"):
        encoder(data()[0])


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
def test_a_0_dim_length_is_one_number_for_the_batch(name):
    cell = cells()[name]
    x, _, h0 = data(batch=4, T=1)
    torch.testing.assert_close(cell(x[:, 0], h0, elapsed=torch.tensor(2.5)), cell(x[:, 0], h0, elapsed=2.5))


def test_an_encoder_reads_the_lengths_from_the_last_channel_when_told():
    cell = cells()["ltc"]
    x, elapsed, _ = data()
    with_channel = LiquidEncoder(cell, pool="mean", elapsed_channel=True)
    torch.testing.assert_close(with_channel(torch.cat([x, elapsed[..., None]], dim=-1)),
                               LiquidEncoder(cell, pool="mean")(x, elapsed), rtol=0, atol=0)
    with pytest.raises(ValueError, match="reads each step's length from x's last channel"):
        with_channel(torch.cat([x, elapsed[..., None]], dim=-1), elapsed)


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
def test_lengths_on_another_device_are_named(name):
    cell = cells()[name]
    x, elapsed, h0 = data()
    with pytest.raises(ValueError, match=r"elapsed is on meta but the network's parameters are on cpu"):
        cell.scan(x, h0, elapsed.to("meta"))
    with pytest.raises(ValueError, match=r"elapsed is on meta but the network's parameters are on cpu"):
        cell(x[:, 0], h0, elapsed=elapsed[:, 0].to("meta"))


@pytest.mark.parametrize("name", ["ltc", "cfc-default"])
def test_a_cell_on_the_meta_device_takes_lengths_there(name):
    cell = cells()[name].to("meta")
    x, elapsed, h0 = (t.to("meta") for t in data())
    assert cell.scan(x, h0, elapsed).shape == (3, 5, 4)  # shapes only: the values cannot be read


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_an_elapsed_channel_that_is_no_flag_is_refused(flag):
    with pytest.raises(ValueError, match=r"elapsed_channel must be True or False, got"):
        LiquidEncoder(cells()["ltc"], elapsed_channel=flag)


# ---- elapsed given otherwise: from x's last channel, as a 0-dim tensor -------------------------------

_CELLS = [lambda: LTCCell(3, 4, ode_unfolds=2), lambda: CfCCell(3, 4, backbone_units=5)]


@pytest.mark.parametrize("make", _CELLS)
def test_elapsed_channel_takes_an_input_that_requires_grad(make):
    """The encoder reads the lengths from x's own last channel: an x that requires grad (an upstream
    layer's output, input attributions) must not be refused as an ``elapsed`` that requires grad,
    which the user never passed; the features get their gradient, the lengths (data) a zero one."""
    torch.manual_seed(0)
    enc = LiquidEncoder(make(), elapsed_channel=True)
    x = torch.cat([torch.randn(2, 6, 3), torch.rand(2, 6, 1) + 0.5], -1).requires_grad_(True)
    out = enc(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert grad[..., :-1].abs().sum() > 0
    assert torch.equal(grad[..., -1], torch.zeros_like(grad[..., -1]))
    expected = LiquidEncoder(enc.cell)(x[..., :-1].detach(), elapsed=x[..., -1].detach())
    torch.testing.assert_close(out.detach(), expected, rtol=0, atol=0)


@pytest.mark.parametrize("make", _CELLS)
def test_step_refuses_a_zero_dim_elapsed_that_requires_grad(make):
    """A (batch,) elapsed that requires grad is refused (the lengths are not differentiated); a 0-dim
    one, one number for the batch, was read with .item() and its gradient silently dropped."""
    cell = make()
    with pytest.raises(ValueError, match="elapsed requires grad"):
        cell(torch.randn(2, 3), torch.zeros(2, 4), elapsed=torch.tensor(2.0, requires_grad=True))


@pytest.mark.parametrize("make", _CELLS)
def test_step_takes_a_zero_dim_meta_elapsed(make):
    """Meta tensors pass through for shapes; a 0-dim meta elapsed failed in Tensor.item()."""
    cell = make().to("meta")
    x, h = torch.randn(2, 3, device="meta"), torch.zeros(2, 4, device="meta")
    assert cell(x, h, elapsed=torch.tensor(2.0, device="meta")).shape == (2, 4)


@pytest.mark.parametrize("make", _CELLS)
def test_step_zero_dim_elapsed_matches_the_float(make):
    """A 0-dim tensor is the same number as the float (the fix keeps that path)."""
    torch.manual_seed(0)
    cell, x, h = make(), torch.randn(2, 3), torch.randn(2, 4)
    torch.testing.assert_close(cell(x, h, elapsed=torch.tensor(2.5)), cell(x, h, elapsed=2.5), rtol=0, atol=0)
