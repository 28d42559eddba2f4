"""SpaceTime's layers against their defining recurrences, written out as float64 loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.kernels import fft_conv
from tsrec.nn.companion_ssm import ClosedLoopSSM, CompanionSSM, normalize
from tsrec.nn.spacetime import (
    PreprocessSSM,
    SpaceTime,
    SpaceTimeBlock,
    SpaceTimeEncoder,
    difference_kernel,
    ma_residual_kernel,
)


def companion(a: np.ndarray) -> np.ndarray:
    """``S + a e_d^T``: ones below the diagonal, ``a`` in the last column."""
    d = len(a)
    A = np.eye(d, k=-1)
    A[:, -1] += a
    return A


def l1_normalized(v: np.ndarray) -> np.ndarray:
    return v / np.abs(v).sum(axis=-1, keepdims=True)


def test_companion_ssm_layer_is_the_normalised_recurrence():
    torch.manual_seed(0)
    layer = CompanionSSM(width=6, n_kernels=3, state_dim=5).double()
    with torch.no_grad():
        layer.D.normal_()  # a trained skip, not the unit one it starts with
    u = torch.randn(2, 40, 6, dtype=torch.float64)
    out = layer(u).detach().numpy()
    a = l1_normalized(layer.a.detach().numpy())  # only a is normalised; b and c scale the kernel freely
    b, c = layer.b.detach().numpy(), layer.c.detach().numpy()
    D = layer.D.detach().numpy()
    expected = np.zeros_like(out)
    for ch in range(6):
        n = ch // 2  # kernel n serves channels 2n, 2n+1
        A = companion(a[n])
        for i in range(2):
            x = np.zeros(5)
            for t in range(40):
                x = A @ x + b[n] * u[i, t, ch].item()  # the output reads the state after u_t: no delay
                expected[i, t, ch] = c[n] @ x + D[ch] * u[i, t, ch].item()
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)


def test_normalize_divides_by_the_norm_unless_the_mean_norm_is_near_zero():
    v = torch.tensor([[3.0, -1.0], [0.5, 0.5]], requires_grad=True)
    np.testing.assert_allclose(normalize(v, 1).detach().numpy(), l1_normalized(v.detach().numpy()), rtol=1e-6)
    frozen = torch.full((2, 3), 1e-6, requires_grad=True)  # mean L1 norm 3e-6 < 1e-4: left as it is
    out = normalize(frozen, 1)
    assert torch.equal(out, frozen)
    out.sum().backward()
    assert torch.equal(frozen.grad, torch.ones_like(frozen))  # the identity, no gradient through the norm
    assert normalize(v, 0) is v


def test_l1_normalised_ssm_is_stable():
    # with sum |a_i| = 1 every root of z^d - sum a_i z^i lies in the closed unit disc
    torch.manual_seed(1)
    layer = CompanionSSM(width=32, n_kernels=32, state_dim=16).double()
    a = layer.abc()[0].detach().numpy()
    radius = max(np.abs(np.linalg.eigvals(companion(row))).max() for row in a)
    assert radius <= 1 + 1e-9
    raw = max(np.abs(np.linalg.eigvals(companion(row))).max() for row in layer.a.detach().numpy())
    assert raw > 1.2  # N(0, 1) columns without the norm are unstable, so the norm is doing the work


def rollout_loop(dec: ClosedLoopSSM, u: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Explicit float64 loops: open loop over the lag, then feed the predicted input back."""
    a, b, c, k = (l1_normalized(p.detach().numpy()) for p in (dec.a, dec.b, dec.c, dec.k))
    batch, lag, width = u.shape
    y_open, u_open = np.zeros(u.shape), np.zeros(u.shape)
    closed = np.zeros((batch, horizon, width))
    for i in range(batch):
        for w in range(width):
            A, x = companion(a[w]), np.zeros(a.shape[1])
            for t in range(lag):
                x = A @ x + b[w] * u[i, t, w]
                y_open[i, t, w], u_open[i, t, w] = c[w] @ x, k[w] @ x
            for h in range(horizon):
                closed[i, h, w] = c[w] @ x
                u_hat = k[w] @ x  # the layer's own guess of its next input ...
                x = A @ x + b[w] * u_hat  # ... is what it consumes
    return closed, y_open, u_open


def test_closed_loop_decoder_feeds_its_prediction_back():
    torch.manual_seed(2)
    dec = ClosedLoopSSM(width=3, state_dim=6).double()
    u = torch.randn(2, 25, 3, dtype=torch.float64)
    closed, y_open, u_open = rollout_loop(dec, u.numpy(), horizon=9)
    np.testing.assert_allclose(dec(u, 9).detach().numpy(), closed, rtol=1e-9, atol=1e-10)
    got_y, got_u = dec.open_loop(u)
    np.testing.assert_allclose(got_y.detach().numpy(), y_open, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got_u.detach().numpy(), u_open, rtol=1e-9, atol=1e-10)


def test_closed_loop_decoder_continues_an_ar_process_exactly():
    # a = 0, b = e_1 keeps the last d inputs in the state; k = c = AR coefficients make the layer's
    # next-input guess the AR prediction, so the closed loop iterates the AR recursion by itself
    phi = np.array([1.6, -0.9, 0.2])
    dec = ClosedLoopSSM(width=1, state_dim=3, norm_order=0).double()
    with torch.no_grad():
        dec.a.zero_()
        dec.b.copy_(torch.tensor([[1.0, 0.0, 0.0]]))
        dec.c.copy_(torch.tensor(phi)[None])
        dec.k.copy_(torch.tensor(phi)[None])
    series = [0.3, -1.0, 0.5]
    for _ in range(40):
        series.append(phi @ np.array(series[-1:-4:-1]))
    lag = 10
    out = dec(torch.tensor(series[:lag], dtype=torch.float64)[None, :, None], 30)
    np.testing.assert_allclose(out[0, :, 0].detach().numpy(), series[lag : lag + 30], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_difference_kernels_are_repeated_first_differences(order):
    u = torch.randn(1, 30, 1, dtype=torch.float64)
    expected = u[0, :, 0].numpy()
    for _ in range(order):
        expected = np.diff(expected, prepend=0.0)  # u_t - u_{t-1} with zeros before the start
    got = fft_conv(u, difference_kernel(order)[None])
    np.testing.assert_allclose(got[0, :, 0].numpy(), expected, atol=1e-12)


def test_moving_average_residual_kernel():
    u = torch.randn(1, 30, 1, dtype=torch.float64)
    w = 7
    padded = np.concatenate([np.zeros(w - 1), u[0, :, 0].numpy()])
    expected = u[0, :, 0].numpy() - np.array([padded[t : t + w].mean() for t in range(30)])
    got = fft_conv(u, ma_residual_kernel(w)[None])
    np.testing.assert_allclose(got[0, :, 0].numpy(), expected, atol=1e-12)


def test_preprocessing_bank_has_four_differences_and_four_moving_averages():
    torch.manual_seed(3)
    bank = PreprocessSSM(width=16).kernel
    assert not any(p.requires_grad for p in PreprocessSSM(width=16).parameters())
    for channel, row in enumerate(bank):
        kind = channel % 8  # the official (repeat, kernel) channel order
        if kind < 4:
            np.testing.assert_allclose(row[: kind + 1], difference_kernel(kind), atol=1e-7)
            assert not row[kind + 1 :].any()
        else:
            w = int((row != 0).sum())
            assert 4 <= w < 64
            np.testing.assert_allclose(row[:w], ma_residual_kernel(w), atol=1e-7)


def test_every_encoder_ssm_sees_all_eight_filtered_signals():
    # 128 channels, 16 SSMs each shared by 8 consecutive channels: those 8 carry the 8 filter types,
    # and each of the 64 moving-average channels draws its own window
    torch.manual_seed(0)
    bank = PreprocessSSM(width=128).kernel
    groups = bank.view(16, 8, -1)
    differences = torch.stack([torch.nn.functional.pad(difference_kernel(n), (0, 63 - n - 1)) for n in range(4)])
    for group in groups:
        torch.testing.assert_close(group[:4], differences.float())
        assert all(row[0] < 1 and abs(float(row.sum())) < 1e-6 for row in group[4:])  # moving-average residuals
    windows = [int((row != 0).sum()) for row in bank[torch.arange(128) % 8 >= 4]]
    assert len(windows) == 64 and len(set(windows)) > 20  # 64 draws from 60 sizes


def test_encoder_ssm_normalises_only_a_and_starts_with_a_unit_skip():
    torch.manual_seed(1)
    ssm = CompanionSSM(width=8, n_kernels=4, state_dim=6)
    a, b, c = ssm.abc()
    np.testing.assert_allclose(a.abs().sum(-1).detach(), np.ones(4), rtol=1e-6)
    assert torch.equal(b, ssm.b) and torch.equal(c, ssm.c)
    assert torch.equal(ssm.D.detach(), torch.ones(8))


def test_dropout_acts_on_the_mlp_outputs():
    # official MLP: Dropout(y + Linear(GELU(y))), and the block adds the pre-processed input z after it
    torch.manual_seed(2)
    block = SpaceTimeBlock(8, 4, 6, dropout=0.5, norm_order=1, preprocess=True).train()
    u = torch.randn(3, 20, 8)
    z = block.preprocess(u)
    y = block.ssm(z)
    torch.manual_seed(9)
    out = block(u)
    torch.manual_seed(9)
    expected = z + torch.nn.functional.dropout(y + block.mlp(y), 0.5, training=True)
    torch.testing.assert_close(out, expected)
    net = SpaceTime(lookback=12, horizon=4, width=8, n_kernels=4, kernel_dim=5, dropout=0.5)
    assert isinstance(net.head[-1], torch.nn.Dropout)


def test_forecaster_network_is_channel_independent_and_mean_shift_equivariant():
    torch.manual_seed(4)
    net = SpaceTime(lookback=20, horizon=5, width=8, n_kernels=4, kernel_dim=6).eval()
    x = torch.randn(3, 20, 2)
    both = net(x)
    np.testing.assert_allclose(both[..., 1:].detach(), net(x[..., 1:]).detach(), atol=1e-5)
    # the "mean" instance transform: a level shift of the window shifts the forecast by the same amount
    np.testing.assert_allclose((net(x + 3.0) - 3.0).detach(), both.detach(), atol=1e-4)


def test_loss_terms_match_their_definitions():
    torch.manual_seed(5)
    net = SpaceTime(lookback=12, horizon=4, width=4, n_kernels=2, kernel_dim=5, dropout=0.0)
    x, y = torch.randn(2, 12, 1), torch.randn(2, 4, 1)
    terms = net.loss_terms(x, y)
    rmse = lambda p, t: torch.sqrt(torch.mean((p - t) ** 2))
    assert torch.allclose(terms[0], rmse(net(x), y))
    z = net.encoder(x - x.mean(1, keepdim=True))
    y_open, u_next = net.decoder.open_loop(z)
    y_open = net.head(y_open) + x.mean(1, keepdim=True)
    series = torch.cat([x, y], dim=1)
    # first kernel_dim - 1 = 4 positions skipped; position t predicts t + 1, up to the first target
    assert torch.allclose(terms[1], rmse(y_open[:, 4:12], series[:, 5:13]))
    assert torch.allclose(terms[2], rmse(u_next[:, 4:11], z[:, 5:12]))


def test_encoder_pools_over_time_for_the_classifier():
    torch.manual_seed(6)
    enc = SpaceTimeEncoder(3, width=8, n_kernels=4, state_dim=6, n_blocks=2, pool=True).eval()
    x = torch.randn(2, 15, 3)
    pooled = enc(x)
    enc.pool = False
    steps = enc(x)  # (batch, time, width)
    # each step's channels are standardised (pool_norm starts as the identity affine), then averaged
    normed = (steps - steps.mean(-1, keepdim=True)) / torch.sqrt(steps.var(-1, unbiased=False, keepdim=True) + 1e-5)
    assert steps.shape == (2, 15, 8) and pooled.shape == (2, 8)
    torch.testing.assert_close(pooled, normed.mean(dim=1))


def test_a_block_pickled_before_the_official_layout_is_refused_by_name():
    import pickle

    block = SpaceTimeBlock(8, 4, 6, dropout=0.1, norm_order=1, preprocess=True)
    assert isinstance(pickle.loads(pickle.dumps(block)).dropout, torch.nn.Dropout)
    old = dict(block.__dict__)
    old["_modules"] = {k: v for k, v in old["_modules"].items() if k != "dropout"}  # the earlier layout had none
    with pytest.raises(RuntimeError, match="pickled by an earlier tsrec.*fit the estimator again"):
        SpaceTimeBlock.__new__(SpaceTimeBlock).__setstate__(old)


def test_the_preprocessing_bank_filters_a_repeated_series_once(monkeypatch):
    # the encoder hands its first block one series expanded to the width: filtering each copy
    # took the FFT of the same series `width` times
    from tsrec.nn import spacetime as spacetime_module

    torch.manual_seed(0)
    bank = PreprocessSSM(8).double()
    x = torch.randn(3, 40, 1, dtype=torch.float64, requires_grad=True)
    out = bank(x.expand(-1, -1, 8))
    grad, = torch.autograd.grad(out.square().sum(), x)
    copies = bank(x.expand(-1, -1, 8).contiguous())
    torch.testing.assert_close(out, copies, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(grad, torch.autograd.grad(copies.square().sum(), x)[0], rtol=1e-12, atol=1e-12)
    widths, convolve = [], spacetime_module.fft_conv
    monkeypatch.setattr(spacetime_module, "fft_conv", lambda u, k: widths.append(u.shape[-1]) or convolve(u, k))
    bank(x.expand(-1, -1, 8))
    bank(torch.randn(3, 40, 8, dtype=torch.float64))
    assert widths == [1, 8]


@pytest.mark.parametrize("norm_order, dropout", [(1, 0.0), (1, 0.3)])
def test_first_block_on_a_repeated_series_filters_it_with_composite_kernels(norm_order, dropout):
    # the SSM of the first block follows the FIR bank: on one series repeated, each channel's FIR and SSM
    # kernels (with the skip D at tap 0) are convolved first and the series filtered once with the result
    torch.manual_seed(0)
    block = SpaceTimeBlock(16, 4, 6, dropout=dropout, norm_order=norm_order, preprocess=True).double()
    with torch.no_grad():
        block.ssm.D.normal_()  # a trained skip, not the unit one it starts with
    x = torch.randn(3, 70, 1, dtype=torch.float64, requires_grad=True)  # longer than the 63 FIR taps
    params = [x, *block.parameters()]
    torch.manual_seed(1)  # the same dropout masks for both paths: they draw alike
    fused = block(x.expand(-1, -1, 16))
    torch.manual_seed(1)
    two_stage = block(x.expand(-1, -1, 16).contiguous())  # no stride-0 channels: preprocess, then the SSM
    torch.testing.assert_close(fused, two_stage, rtol=1e-12, atol=1e-12)
    weight = torch.randn_like(fused)
    for g_fused, g_two in zip(torch.autograd.grad((fused * weight).sum(), params),
                              torch.autograd.grad((two_stage * weight).sum(), params)):
        torch.testing.assert_close(g_fused, g_two, rtol=1e-11, atol=1e-11)


def test_later_blocks_hold_an_ssm_per_channel_without_preprocessing():
    # the official layout: only the first block filters and shares n_kernels SSMs over the channels; each later
    # block is z = u, y = SSM(u) with one SSM a channel, then u + y + Linear(GELU(y))
    torch.manual_seed(3)
    encoder = SpaceTimeEncoder(None, width=16, n_kernels=4, state_dim=6, n_blocks=3, dropout=0.0).eval()
    assert encoder.blocks[0].ssm.a.shape == (4, 6) and isinstance(encoder.blocks[0].preprocess, PreprocessSSM)
    u = torch.randn(2, 30, 16)
    for block in encoder.blocks[1:]:
        assert block.ssm.a.shape == (16, 6) and isinstance(block.preprocess, torch.nn.Identity)
        y = block.ssm(u)
        torch.testing.assert_close(block(u), u + y + block.mlp[1](torch.nn.functional.gelu(y)))


def test_forecast_is_the_head_on_the_decoder_plus_the_window_mean():
    # head: GELU then Linear (dropout off), on the closed-loop decoder's outputs; the window mean added back
    torch.manual_seed(5)
    net = SpaceTime(lookback=20, horizon=5, width=8, n_kernels=4, kernel_dim=6, dropout=0.0).eval()
    x = torch.randn(2, 20, 1)
    mean = x.mean(dim=1, keepdim=True)
    decoded = net.decoder(net.encoder(x - mean), 5)
    torch.testing.assert_close(net(x), net.head[1](torch.nn.functional.gelu(decoded)) + mean)


@pytest.mark.parametrize("norm_order", [0, 2])
def test_norm_order_reaches_the_encoder_and_the_decoder(norm_order):
    net = SpaceTime(lookback=12, horizon=4, width=8, n_kernels=4, kernel_dim=5, n_blocks=2, norm_order=norm_order)
    assert [block.ssm.norm_order for block in net.encoder.blocks] == [norm_order] * 2
    a, b, c, k = net.decoder.abck()
    torch.testing.assert_close(k, normalize(net.decoder.k, norm_order))
    if norm_order == 2:
        torch.testing.assert_close(torch.linalg.vector_norm(a, dim=-1), torch.ones(8))


@pytest.mark.parametrize("time", [1, 3, 7, 8])
def test_loss_terms_are_finite_on_a_window_shorter_than_the_skip(time):
    """``lookback`` fixes no input length ("any number of steps works"), but the open-loop term sliced
    the lag from ``skip = min(kernel_dim, lookback) - 1``: a shorter window gave an empty slice and a
    silent NaN loss (and NaN gradients in every parameter)."""
    torch.manual_seed(0)
    net = SpaceTime(lookback=24, horizon=4, width=8, n_kernels=2, kernel_dim=8, dropout=0.0)
    terms = net.loss_terms(torch.randn(2, time, 3), torch.randn(2, 4, 3))
    assert torch.isfinite(terms).all(), terms
    terms.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
