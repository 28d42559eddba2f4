"""S-Mamba's network: the Mamba block's recurrence, bidirectional token mixing, the token layout."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from tsrec.nn.smamba import BidirectionalMamba, MambaBlock, SMamba


def mamba_by_hand(block: MambaBlock, h: torch.Tensor) -> torch.Tensor:
    """mamba_ssm's block, one token and one channel at a time, in float64 (the specification)."""
    p = {name: t.detach().double() for name, t in block.named_parameters()}
    h = h.double()
    batch, length, _ = h.shape
    x, z = (h @ p["in_proj.weight"].T).chunk(2, dim=-1)
    d_inner, n, r = x.shape[-1], block.d_state, block.dt_rank
    conv_w, conv_b = p["conv.weight"][:, 0], p["conv.bias"]  # (d_inner, width)
    width = conv_w.shape[1]
    padded = torch.cat([x.new_zeros(batch, width - 1, d_inner), x], dim=1)
    x = F.silu(torch.stack([(padded[:, t:t + width] * conv_w.T).sum(1) + conv_b for t in range(length)], dim=1))
    proj = x @ p["x_proj.weight"].T
    delta = F.softplus(proj[..., :r] @ p["dt_proj.weight"].T + p["dt_proj.bias"])
    B, C = proj[..., r:r + n], proj[..., r + n:]
    A = -torch.exp(p["A_log"])
    y = torch.zeros_like(x)
    for b in range(batch):
        state = torch.zeros(d_inner, n, dtype=torch.float64)
        for t in range(length):
            for d in range(d_inner):
                state[d] = torch.exp(delta[b, t, d] * A[d]) * state[d] + delta[b, t, d] * x[b, t, d] * B[b, t]
                y[b, t, d] = (state[d] * C[b, t]).sum() + p["D"][d] * x[b, t, d]
    return (y * F.silu(z)) @ p["out_proj.weight"].T


def test_mamba_block_is_the_selective_recurrence():
    torch.manual_seed(0)
    block = MambaBlock(d_model=6, d_state=3).double()
    h = torch.randn(2, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(block(h), mamba_by_hand(block, h), rtol=1e-10, atol=1e-10)


def test_mamba_block_at_s_mambas_state_size_trains_as_the_float64_reference(monkeypatch):
    # the torch scan holds each state (batch, N, channels); at S-Mamba's N = 2, over 11 tokens (a chunk of
    # 8 and one of 3), the block's output and every gradient equal the float64 loop's (the naive backend)
    torch.manual_seed(3)
    block = MambaBlock(d_model=8, d_state=2).double()
    with torch.no_grad():
        block.D.normal_()  # not the unit skip it starts with
    h = torch.randn(3, 11, 8, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(3, 11, 8, dtype=torch.float64)
    leaves = [h, *block.parameters()]

    def outputs(backend: str) -> list[torch.Tensor]:
        monkeypatch.setenv("TSREC_KERNEL_BACKEND", backend)
        out = block(h)
        return [out, *torch.autograd.grad((out * weight).sum(), leaves)]

    for got, ref in zip(outputs("torch"), outputs("naive"), strict=True):
        torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)


def test_mamba_initialisation_follows_mamba_ssm():
    torch.manual_seed(1)
    block = MambaBlock(d_model=32, d_state=4)
    torch.testing.assert_close(-torch.exp(block.A_log), -torch.arange(1.0, 5.0).repeat(32, 1))
    dt = F.softplus(block.dt_proj.bias.detach())
    assert dt.min() >= 1e-3 - 1e-6 and dt.max() <= 0.1 + 1e-6
    assert block.dt_rank == 2 and torch.equal(block.D.detach(), torch.ones(32))
    # S-Mamba's settings: a width-2 depthwise conv, expand 1, in both directions of every layer
    net = SMamba(lookback=12, horizon=4, n_channels=3, d_model=8, d_state=2, d_ff=8, e_layers=2)
    blocks = [b for layer in net.encoder.layers for b in (layer.mixer.forward_block, layer.mixer.backward_block)]
    assert [(b.conv.kernel_size, b.conv.groups, b.conv.in_channels) for b in blocks] == [((2,), 8, 8)] * 4


def test_the_two_directions_read_the_tokens_from_opposite_ends():
    torch.manual_seed(2)
    mixer = BidirectionalMamba(d_model=8, d_state=2)
    x = torch.randn(1, 5, 8)
    bumped = x.clone()
    bumped[0, 2] += 1.0
    forward_change = (mixer.forward_block(bumped) - mixer.forward_block(x)).abs().sum(-1)[0]
    backward_change = (mixer.backward_block(bumped.flip(1)).flip(1) - mixer.backward_block(x.flip(1)).flip(1))
    backward_change = backward_change.abs().sum(-1)[0]
    assert torch.all(forward_change[:2] == 0) and torch.all(forward_change[2:] > 0)
    assert torch.all(backward_change[3:] == 0) and torch.all(backward_change[:3] > 0)
    both = (mixer(bumped) - mixer(x)).abs().sum(-1)[0]
    assert torch.all(both > 0)  # every token hears of the change
    # the sum of the two blocks' outputs, each with its own weights
    torch.testing.assert_close(mixer(x), mixer.forward_block(x) + mixer.backward_block(x.flip(1)).flip(1))
    assert mixer.forward_block.in_proj.weight.data_ptr() != mixer.backward_block.in_proj.weight.data_ptr()


def test_each_variate_forecast_hears_every_variate_and_the_calendar_tokens():
    torch.manual_seed(3)
    net = SMamba(lookback=16, horizon=4, n_channels=3, d_model=8, d_ff=8, n_time_features=2).eval()
    x, marks = torch.randn(2, 16, 3), torch.rand(2, 16, 2) - 0.5
    base = net(x, marks)
    assert base.shape == (2, 4, 3)
    bumped = x.clone()
    bumped[:, :, 0] += torch.linspace(0, 1, 16)
    changed = (net(bumped, marks) - base).abs().amax(dim=(0, 1))
    # variate 0's history moves the forecasts of variates 1 and 2 too (a little at init: Mamba's steps start small)
    assert torch.all(changed > 1e-6)
    assert (net(x, marks + 0.3) - base).abs().max() > 1e-4


def test_forecasts_come_back_on_the_input_scale():
    torch.manual_seed(4)
    net = SMamba(lookback=12, horizon=3, n_channels=2, d_model=8, d_ff=8).eval()
    x = torch.randn(3, 12, 2)
    torch.testing.assert_close(net(x * 5.0 - 7.0), net(x) * 5.0 - 7.0, rtol=1e-4, atol=1e-3)


def test_pooled_tokens_are_the_mean_of_the_forecaster_tokens():
    from tsrec.nn.smamba import SMambaTokens

    torch.manual_seed(5)
    tokens = SMambaTokens(length=10, d_model=8, d_ff=8).eval()
    pooled = SMambaTokens(length=10, d_model=8, d_ff=8, pool=True).eval()
    pooled.load_state_dict(tokens.state_dict())
    x = torch.randn(3, 10, 4)
    assert tokens(x).shape == (3, 4, 8)
    torch.testing.assert_close(pooled(x), tokens(x).mean(dim=1))


def _smamba_by_hand(net: SMamba, x: torch.Tensor, marks: torch.Tensor) -> torch.Tensor:
    """S-Mamba's forecast of one sample, from the paper's layout: each variate's whole normalised
    lookback is one token (then one token per calendar feature), the layers mix the tokens, and
    each variate's token is projected to its horizon. The mixer and feed-forward are blocks."""
    mean = x.mean(dim=0)
    std = torch.sqrt(((x - mean) ** 2).mean(dim=0) + 1e-5)  # population variance
    normed = (x - mean) / std
    series = [normed[:, j] for j in range(x.shape[1])] + [marks[:, j] for j in range(marks.shape[1])]
    embed = net.encoder.embed[0]
    tokens = torch.stack([embed.weight @ s + embed.bias for s in series])  # (tokens, d_model)
    for layer in net.encoder.layers:
        tokens = layer.norm1(tokens + layer.mixer(tokens[None])[0])  # post-norm residuals
        tokens = layer.norm2(tokens + layer.ffn(tokens))
    tokens = net.encoder.final_norm(tokens)
    forecast = torch.stack([net.project.weight @ tokens[j] + net.project.bias for j in range(x.shape[1])], dim=1)
    return forecast * std + mean


def test_smamba_forecasts_from_variate_tokens():
    torch.manual_seed(6)
    net = SMamba(lookback=16, horizon=4, n_channels=3, d_model=8, d_ff=8, n_time_features=2).double().eval()
    x, marks = torch.randn(2, 16, 3, dtype=torch.float64) * 3 + 2, torch.rand(2, 16, 2, dtype=torch.float64) - 0.5
    got = net(x, marks)
    for i in range(2):
        torch.testing.assert_close(got[i], _smamba_by_hand(net, x[i], marks[i]), rtol=1e-10, atol=1e-10)
