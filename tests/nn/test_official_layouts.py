"""Where the official codes of S-Mamba and Chimera normalise and drop out, pinned.

Swapping a dropout for an identity, or leaving the normalisation on with ``norm=False``, passes
every shape and equivalence test, so each is checked here against a hand-written expression.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tsrec.nn import LS4, SMamba, SMambaTokens
from tsrec.nn.chimera import Chimera, ChimeraLayer
from tsrec.nn.smamba import SMambaLayer

P = 0.3  # a dropout rate that zeroes some of every layer's outputs


def smamba(norm: bool) -> SMamba:
    torch.manual_seed(0)
    return SMamba(lookback=16, horizon=4, n_channels=2, d_model=8, d_ff=8, d_state=2, e_layers=1, dropout=0.0,
                  norm=norm).double().eval()


def chimera(norm: bool) -> Chimera:
    torch.manual_seed(0)
    return Chimera(lookback=16, horizon=4, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=0.0,
                   norm=norm).double().eval()


@pytest.mark.parametrize("make, detached_mean", [(smamba, True), (chimera, False)], ids=["SMamba", "Chimera"])
def test_forecast_and_input_gradient_follow_the_official_normalisation(make, detached_mean):
    # both codes: subtract the lookback's mean (S-Mamba detaches it), divide by sqrt(biased var + 1e-5),
    # forecast, then undo both on the forecast
    net, bare = make(True), make(False)
    x = (5 * torch.randn(3, 16, 2, dtype=torch.float64) + 40).requires_grad_()
    mean = x.mean(1, keepdim=True)
    mean = mean.detach() if detached_mean else mean
    centred = x - mean
    std = torch.sqrt(torch.var(centred, dim=1, keepdim=True, unbiased=False) + 1e-5)
    expected = bare(centred / std) * std + mean
    out = net(x)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)
    weight = torch.randn_like(out)
    got, want = (torch.autograd.grad((y * weight).sum(), x, retain_graph=True)[0] for y in (out, expected))
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("make", [smamba, chimera], ids=["SMamba", "Chimera"])
def test_norm_false_leaves_the_level_to_the_network(make):
    x = torch.randn(3, 16, 2, dtype=torch.float64)
    with torch.no_grad():
        moved = {norm: make(norm)(x + 100) - make(norm)(x) for norm in (True, False)}
    torch.testing.assert_close(moved[True], torch.full_like(moved[True], 100.0))  # shift-equivariant
    assert (moved[False] - 100).abs().max() > 1  # the raw level reaches the layers


def test_ls4_loss_takes_its_statistics_from_the_lookback_only():
    # the horizon's level must not leak into the statistics: a forecast never sees it
    torch.manual_seed(2)
    net = LS4(n_channels=1, horizon=4, z_dim=3, d_model=8, d_state=6, n_layers=1, lookback=8,
              instance_norm=True).double()
    x = torch.randn(2, 12, 1, dtype=torch.float64)
    x[:, 8:] += 50.0
    lookback = x[:, :8]
    mean = lookback.mean(1, keepdim=True)
    std = torch.sqrt(torch.var(lookback, dim=1, keepdim=True, unbiased=False) + 1e-5)
    terms = net.terms((x - mean) / std, torch.Generator().manual_seed(0))
    expected = terms["kl"].mean(dim=(1, 2)).mean() + terms["nll"].mean(dim=1).sum(dim=-1).mean()
    torch.testing.assert_close(net.loss(x, torch.Generator().manual_seed(0)), expected)


def _dropout(x: torch.Tensor) -> torch.Tensor:
    return F.dropout(x, P, training=True)


def test_smamba_layer_drops_inside_and_after_the_feed_forward_not_after_the_mixer():
    # official EncoderLayer: x = norm1(x + mixer(x)); y = drop(conv2(drop(gelu(conv1(x))))); norm2(x + y)
    torch.manual_seed(0)
    layer = SMambaLayer(d_model=8, d_ff=16, d_state=2, dropout=P).double().train()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    torch.manual_seed(1)
    out = layer(x)
    torch.manual_seed(1)
    first, second = layer.ffn[0], layer.ffn[3]
    h = layer.norm1(x + layer.mixer(x))
    expected = layer.norm2(h + _dropout(second(_dropout(F.gelu(first(h))))))
    torch.testing.assert_close(out, expected)


def test_smamba_tokens_drop_the_embedding():
    # official DataEmbedding_inverted: dropout(Linear(series)) before the first layer
    torch.manual_seed(0)
    tokens = SMambaTokens(length=6, d_model=8, d_ff=8, d_state=2, e_layers=1, dropout=P).double().train()
    series = torch.randn(2, 6, 3, dtype=torch.float64)
    torch.manual_seed(1)
    out = tokens(series)
    torch.manual_seed(1)
    h = _dropout(tokens.embed[0](series.transpose(1, 2)))
    expected = tokens.final_norm(tokens.layers[0](h))
    torch.testing.assert_close(out, expected)


def test_chimera_layer_drops_the_mixer_and_mlp_outputs_and_inside_the_mlp():
    torch.manual_seed(0)
    layer = ChimeraLayer(d_model=8, d_state=2, d_ff=16, dropout=P).double().train()
    x = torch.randn(2, 5, 3, 8, dtype=torch.float64)
    torch.manual_seed(1)
    out = layer(x)
    torch.manual_seed(1)
    h = x + _dropout(layer.mixer(layer.norm1(x)))
    first, second = layer.mlp[0], layer.mlp[3]
    expected = h + _dropout(second(_dropout(F.gelu(first(layer.norm2(h))))))
    torch.testing.assert_close(out, expected)


def test_chimera_closed_loop_head_drops_after_its_gelu():
    torch.manual_seed(0)
    net = Chimera(lookback=8, horizon=2, d_model=8, d_state=2, d_ff=8, e_layers=1, dropout=P,
                  decoder="closed_loop", decoder_dim=4).double().train()
    h = torch.randn(4, 3, 8, dtype=torch.float64)
    torch.manual_seed(1)
    out = net.head(h)
    torch.manual_seed(1)
    torch.testing.assert_close(out, net.head[-1](_dropout(F.gelu(h))))
