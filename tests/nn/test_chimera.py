"""Chimera's network: the 2-D selective recurrence of one head, a layer's gated sum of its four heads,
causality of each variate direction, the heads' steps."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from tsrec.nn.chimera import SEASONAL_DT, TREND_DT, Chimera, Chimera2DSSM, ChimeraLayer, ChimeraMixer, recompute_scans


def roesser_by_hand(head: Chimera2DSSM, u: torch.Tensor) -> torch.Tensor:
    """The head's 2-D SSM, one cell at a time in float64, B/C/steps computed here from its weights."""
    p = {name: t.detach().double() for name, t in head.named_parameters()}
    u = u.double()
    r, n = head.dt_rank, head.d_state
    proj = u @ p["x_proj.weight"].T
    d1 = head.dt1_floor + F.softplus(proj[..., :r] @ p["dt1_proj.weight"].T + p["dt1_proj.bias"])
    d2 = F.softplus(proj[..., r:2 * r] @ p["dt2_proj.weight"].T + p["dt2_proj.bias"])
    B1, B2, C1, C2 = proj[..., 2 * r:].split(n, dim=-1)
    A1, A2, A3, A4 = (-torch.exp(p[f"A{i}_log"]) for i in range(1, 5))
    batch, time, nvar, width = u.shape
    order = range(nvar - 1, -1, -1) if head.reverse_variates else range(nvar)
    step = 1 if head.reverse_variates else -1  # where the previous variate sits
    y = torch.zeros_like(u)
    for b in range(batch):
        h1 = torch.zeros(time, nvar, width, n, dtype=torch.float64)
        h2 = torch.zeros_like(h1)
        for t in range(time):
            for v in order:
                a, c = d1[b, t, v, :, None], d2[b, t, v, :, None]
                xin = u[b, t, v, :, None]
                prev_t1 = h1[t - 1, v] if t > 0 else 0.0
                prev_t2 = h2[t - 1, v] if t > 0 else 0.0
                inside = 0 <= v + step < nvar
                prev_v1 = h1[t, v + step] if inside else 0.0
                prev_v2 = h2[t, v + step] if inside else 0.0
                h1[t, v] = torch.exp(a * A1) * prev_t1 + torch.exp(a * A2) * prev_t2 + a * B1[b, t, v] * xin
                h2[t, v] = torch.exp(c * A3) * prev_v1 + torch.exp(c * A4) * prev_v2 + c * B2[b, t, v] * xin
                y[b, t, v] = (h1[t, v] * C1[b, t, v]).sum(-1) + (h2[t, v] * C2[b, t, v]).sum(-1) + p["D"] * u[b, t, v]
    return y


def test_one_head_is_the_2d_roesser_recurrence():
    torch.manual_seed(0)
    for reverse in (False, True):
        head = Chimera2DSSM(d_model=5, d_state=3, dt1_range=SEASONAL_DT, reverse_variates=reverse).double()
        with torch.no_grad():  # cross terms of a visible size, so an error in them would show
            head.A2_log.fill_(0.5)
        u = torch.randn(2, 6, 4, 5, dtype=torch.float64)
        torch.testing.assert_close(head(u), roesser_by_hand(head, u), rtol=1e-9, atol=1e-10)


def test_a_layer_sums_its_four_heads_gates_them_by_the_input_and_adds_residuals():
    # the third head: silu(W_g u) times the sum of trend and seasonal heads, each direction, by hand in float64
    torch.manual_seed(1)
    layer = ChimeraLayer(d_model=5, d_state=3, d_ff=7, dropout=0.0).double().eval()
    mixer = layer.mixer
    heads = [*mixer.trend, *mixer.seasonal]
    assert [h.reverse_variates for h in heads] == [False, True, False, True]
    assert [h.dt1_floor.item() for h in heads] == pytest.approx([TREND_DT[0]] * 2 + [SEASONAL_DT[0]] * 2, rel=1e-6)
    x = torch.randn(2, 6, 4, 5, dtype=torch.float64)
    with torch.no_grad():
        u = F.layer_norm(x, (5,), layer.norm1.weight, layer.norm1.bias)
        summed = sum(roesser_by_hand(head, u) for head in heads)
        gate = F.silu(u @ mixer.gate.weight.T + mixer.gate.bias)
        mixed = x + (summed * gate) @ mixer.out_proj.weight.T + mixer.out_proj.bias
        torch.testing.assert_close(layer(x), mixed + layer.mlp(layer.norm2(mixed)), rtol=1e-9, atol=1e-10)
        mixer.gate.weight.zero_()
        mixer.gate.bias.zero_()  # silu(0) = 0 closes the gate: only the output projection's bias is left
        torch.testing.assert_close(mixer(u), mixer.out_proj.bias.expand_as(u), rtol=0, atol=0)


def _change(fn, u: torch.Tensor, t0: int, v0: int) -> torch.Tensor:
    bumped = u.clone()
    bumped[0, t0, v0] += torch.linspace(-1.0, 2.0, u.shape[-1], dtype=u.dtype)  # not constant: LayerNorm removes that
    with torch.no_grad():
        return (fn(bumped) - fn(u)).abs().sum(-1)[0]  # (time, variates)


def test_each_variate_direction_reads_only_the_past_and_its_own_side():
    torch.manual_seed(1)
    layer = ChimeraLayer(d_model=6, d_state=3, d_ff=8, dropout=0.0).double().eval()
    mixer = layer.mixer
    forward = lambda u: mixer.trend[0](u) + mixer.seasonal[0](u)  # noqa: E731
    backward = lambda u: mixer.trend[1](u) + mixer.seasonal[1](u)  # noqa: E731
    u = torch.randn(1, 9, 5, 6, dtype=torch.float64)
    t0, v0 = 4, 2
    time_idx, var_idx = torch.meshgrid(torch.arange(9), torch.arange(5), indexing="ij")
    fwd, bwd = _change(forward, u, t0, v0), _change(backward, u, t0, v0)
    later = time_idx >= t0
    assert fwd[~(later & (var_idx >= v0))].max() == 0  # earlier times or earlier variates: untouched
    assert bwd[~(later & (var_idx <= v0))].max() == 0  # backward: later variates untouched
    assert fwd[later & (var_idx >= v0)].min() > 0 and bwd[later & (var_idx <= v0)].min() > 0
    # the whole layer (gate, MLP, both directions) is causal in time and mixes every variate
    whole = _change(layer, u, t0, v0)
    assert whole[:t0].max() == 0 and whole[t0:].min() > 0


def test_trend_head_starts_with_smaller_time_steps_than_seasonal_head():
    torch.manual_seed(2)
    layer = ChimeraLayer(d_model=64, d_state=4, d_ff=8, dropout=0.0)
    zero = torch.zeros(1, 1, 1, 64)
    steps = {name: [h.selective_params(zero)["delta1"] for h in getattr(layer.mixer, name)]
             for name in ("trend", "seasonal")}
    for name, (low, high) in (("trend", TREND_DT), ("seasonal", SEASONAL_DT)):
        for delta1 in steps[name]:
            assert low * (1 - 1e-4) <= delta1.min() and delta1.max() <= high * (1 + 1e-4)
            assert delta1.max() / delta1.min() > 3  # spread log-uniformly over the range
    assert max(d.max() for d in steps["trend"]) < min(d.min() for d in steps["seasonal"])


def test_forecaster_network_shapes_and_denormalises():
    torch.manual_seed(3)
    net = Chimera(lookback=10, horizon=4, d_model=8, d_state=2, d_ff=8, e_layers=2, dropout=0.0).eval()
    x = torch.randn(3, 10, 2)
    shifted = net(x * 5.0 + 100.0)  # instance norm: the forecast follows scale and level of the window
    torch.testing.assert_close(shifted, net(x) * 5.0 + 100.0, rtol=1e-4, atol=1e-3)
    assert shifted.shape == (3, 4, 2)


def test_closed_loop_decoder_rolls_on_past_the_horizon_and_linear_head_refuses_to():
    torch.manual_seed(4)
    net = Chimera(lookback=10, horizon=4, d_model=8, d_state=2, d_ff=8, dropout=0.0, decoder="closed_loop",
                  decoder_dim=6).eval()
    x = torch.randn(3, 10, 2)
    long = net(x, steps=13)
    assert long.shape == (3, 13, 2)
    torch.testing.assert_close(long[:, :4], net(x))  # one roll-out: the first steps do not depend on the length
    torch.testing.assert_close(net(x * 5.0 + 100.0, steps=13), long * 5.0 + 100.0, rtol=1e-4, atol=1e-3)
    linear = Chimera(lookback=10, horizon=4, d_model=8, d_state=2, d_ff=8)
    with pytest.raises(ValueError, match="horizon=4"):
        linear(x, steps=8)
    with pytest.raises(ValueError, match="decoder"):
        Chimera(lookback=10, horizon=4, decoder="loop")


def test_parameters_take_the_default_dtype():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:  # every parameter in float64, so the scan's dtype check passes without .double()
        head = Chimera2DSSM(d_model=4, d_state=2)
        assert {p.dtype for p in head.parameters()} == {torch.float64}
        assert head(torch.randn(2, 3, 5, 4)).dtype == torch.float64
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("selective", [True, False])
def test_heads_stay_bounded_at_the_start_on_wide_grids(selective):
    # the 2-D recurrence sums every lattice path through the grid: an input-dependent time step
    # that dips below the head's range opened the A2 coupling, and one head's output grew with the
    # number of variates (2.7e3 at 7, 9e7 at 21, 7e27 at 321, lookback 96)
    torch.manual_seed(0)
    layer = ChimeraLayer(d_model=16, d_state=8, d_ff=8, dropout=0.0, selective=selective)
    for n_var in (7, 21, 321):
        u = layer.norm1(torch.randn(1, 96, n_var, 16))
        with torch.no_grad():
            largest = max(head(u).abs().max().item() for head in (*layer.mixer.trend, *layer.mixer.seasonal))
        assert largest < 50, (n_var, largest)  # measured at most 4.3, 7 to 862 variates
    steps = layer.mixer.trend[0].selective_params(u)["delta1"] if selective else None
    assert steps is None or steps.min() >= TREND_DT[0]


def test_a_network_saved_or_pickled_before_the_step_floor_keeps_its_forecasts():
    import pickle

    torch.manual_seed(4)
    net = Chimera(lookback=12, horizon=3, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=0.0).eval()
    x = torch.randn(2, 12, 3)
    old_state = {k: v for k, v in net.state_dict().items() if not k.endswith("dt1_floor")}
    heads = [m for m in net.modules() if isinstance(m, Chimera2DSSM)]
    for head in heads:  # what an earlier tsrec computed: the step without a floor
        head.dt1_floor.zero_()
    before = net(x)
    fresh = Chimera(lookback=12, horizon=3, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=0.0).eval()
    fresh.load_state_dict(old_state)
    torch.testing.assert_close(fresh(x), before, rtol=0, atol=0)
    for head in heads:  # a pickle of the earlier module had neither the buffer nor the flag
        del head._buffers["dt1_floor"], head.selective
    unpickled = pickle.loads(pickle.dumps(net))
    torch.testing.assert_close(unpickled(x), before, rtol=0, atol=0)
    assert all(h.dt1_floor.item() == 0 and h.selective for h in unpickled.modules() if isinstance(h, Chimera2DSSM))
    in_float64 = pickle.loads(pickle.dumps(net.double()))  # the missing floor takes the network's dtype
    assert {t.dtype for t in in_float64.state_dict().values()} == {torch.float64}


def test_loading_only_some_modules_keeps_the_floor_of_the_others():
    torch.manual_seed(5)
    net = Chimera(lookback=12, horizon=3, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=0.0).eval()
    x = torch.randn(2, 12, 3)
    before = net(x)
    net.load_state_dict({k: v for k, v in net.state_dict().items() if k.startswith("head.")}, strict=False)
    torch.testing.assert_close(net(x), before, rtol=0, atol=0)
    assert all(h.dt1_floor.item() > 0 for h in net.modules() if isinstance(h, Chimera2DSSM))


def test_a_non_strict_load_of_the_parameters_alone_keeps_the_floor_and_lists_it_missing():
    # it read as a network saved before the floor, set the floor to 0 and listed nothing missing
    torch.manual_seed(0)
    saved = Chimera(lookback=6, horizon=2, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=0.0).eval()
    torch.manual_seed(1)
    net = Chimera(lookback=6, horizon=2, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=0.0).eval()
    result = net.load_state_dict(dict(saved.named_parameters()), strict=False)
    assert sorted(result.missing_keys) == sorted(k for k, _ in net.named_buffers() if k.endswith("dt1_floor"))
    x = torch.randn(2, 6, 3)
    torch.testing.assert_close(net(x), saved(x), rtol=0, atol=0)



def test_recomputed_scans_give_the_same_forecast_and_gradients_and_keep_fewer_tensors():
    torch.manual_seed(0)
    net = Chimera(lookback=12, horizon=4, d_model=8, d_state=4, d_ff=8, e_layers=2, dropout=0.0)
    x = torch.randn(3, 12, 5)

    def run() -> tuple[torch.Tensor, list[torch.Tensor], int]:
        net.zero_grad()
        kept = []  # the tensors autograd keeps for backward, as its saved-tensor hook sees them
        with torch.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t.numel()) or t, lambda t: t):
            out = net(x)
        out.square().sum().backward()
        return out.detach(), [p.grad.clone() for p in net.parameters()], sum(kept)

    plain_out, plain_grads, plain_kept = run()
    assert recompute_scans(net) is net
    assert all(m.recompute_scans for m in net.modules() if isinstance(m, ChimeraMixer))
    out, grads, kept = run()
    assert torch.equal(out, plain_out) and all(torch.equal(a, b) for a, b in zip(grads, plain_grads))
    assert kept < plain_kept / 3  # the heads' state grids are not kept, only their inputs
    with torch.no_grad():
        assert torch.equal(net(x), plain_out)
    assert not any(m.recompute_scans for m in recompute_scans(net, False).modules() if isinstance(m, ChimeraMixer))
    with pytest.raises(ValueError, match="enabled must be True or False"):
        recompute_scans(net, "yes")
