"""Tests for tsrec.nn.pgn: shapes, causality, the O(1) gradient path, TPGN checks and learning."""

from __future__ import annotations

import math

import pytest
import torch

import tsrec.nn.pgn as pgn_module
from tsrec.errors import FlagError
from tsrec.nn.pgn import PGNEncoder, PGNLayer
from tsrec.nn.timefeatures import calendar_features
from tsrec.nn.tpgn import TPGN


@pytest.mark.parametrize(
    ("batch", "time", "feats", "hidden", "max_len"),
    [pytest.param(2, 37, 3, 5, 37, id="B2-T37-F3-H5"), pytest.param(1, 1, 1, 4, 9, id="B1-T1-F1-H4")],
)
def test_pgn_layer_shape(batch: int, time: int, feats: int, hidden: int, max_len: int) -> None:
    torch.manual_seed(42)
    out = PGNLayer(feats, hidden, max_len)(torch.randn(batch, time, feats))
    assert out.shape == (batch, time, hidden)


def test_pgn_layer_matches_paper_equations() -> None:
    """A plain loop over Eq. 1 (float64) agrees with the convolutional layer."""
    torch.manual_seed(42)
    layer = PGNLayer(3, 4, max_len=11).double()
    x = torch.randn(2, 11, 3, dtype=torch.float64)
    w, b = layer.hie.weight, layer.hie.bias  # [d, F, K], tap j = lag K - j
    k = w.shape[-1]
    hist = torch.stack(
        [
            b + sum((w[..., k - lag] @ x[:, t - lag].T).T for lag in range(1, t + 1)) if t else b.expand(2, 4)
            for t in range(11)
        ],
        dim=1,
    )
    z = torch.cat([x, hist], dim=-1) @ layer.gate.weight[0] + layer.gate.bias[0]
    gate, cand = torch.sigmoid(z[..., :4]), torch.tanh(z[..., 4:])
    torch.testing.assert_close(layer(x), gate * hist + (1 - gate) * cand)


def test_pgn_layer_is_causal() -> None:
    torch.manual_seed(42)
    layer = PGNLayer(2, 8, max_len=30)
    x = torch.randn(3, 30, 2)
    y = x.clone()
    y[:, 17:] = torch.randn(3, 13, 2) * 10
    out_x, out_y = layer(x), layer(y)
    torch.testing.assert_close(out_x[:, :17], out_y[:, :17])
    assert not torch.allclose(out_x[:, 17:], out_y[:, 17:])


def test_pgn_layer_short_input_equals_left_zero_padding() -> None:
    """The causally truncated kernel gives what the full kernel gives on a zero-padded input."""
    torch.manual_seed(42)
    layer = PGNLayer(3, 6, max_len=40)
    x = torch.randn(2, 13, 3)
    padded = torch.cat([torch.zeros(2, 27, 3), x], dim=1)
    torch.testing.assert_close(layer.history(x), layer.history(padded)[:, 27:])


@pytest.mark.parametrize("time", [1, 2, 4, 17, 32, 33])
@pytest.mark.parametrize("max_len", [33, 40])
def test_pgn_dense_history_equals_the_convolution(monkeypatch: pytest.MonkeyPatch, time: int, max_len: int) -> None:
    """Up to 32 steps HIE is a block-Toeplitz matmul: the convolution's outputs and gradients."""
    torch.manual_seed(43)
    layer = PGNLayer(6, 9, max_len=max_len, groups=3).double()
    x = torch.randn(4, time, 6, dtype=torch.float64)
    weight = torch.randn(4, time, 9, dtype=torch.float64)

    def history_and_grads() -> list[torch.Tensor]:
        xi = x.clone().requires_grad_(True)
        h = layer.history(xi)
        leaves = [xi, layer.hie.weight, layer.hie.bias]
        # one step has no history: H is the bias alone, so x and the taps get zero gradients
        grads = torch.autograd.grad((h * weight).sum(), leaves, allow_unused=True, materialize_grads=True)
        return [h.detach(), *grads]

    assert (time <= pgn_module._DENSE_HIE_MAX_LEN) == (time <= 32)
    fast = history_and_grads()  # dense up to 32 steps, the convolution at 33
    monkeypatch.setattr(pgn_module, "_DENSE_HIE_MAX_LEN", 0)  # every length by the convolution
    for a, b in zip(fast, history_and_grads(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("time", "dense"), [(2, True), (32, True), (33, False)])
def test_pgn_history_path_by_length(monkeypatch: pytest.MonkeyPatch, time: int, dense: bool) -> None:
    calls = []
    real = PGNLayer._dense_history
    monkeypatch.setattr(PGNLayer, "_dense_history", lambda self, x: calls.append(1) or real(self, x))
    PGNLayer(2, 4, max_len=40)(torch.randn(1, time, 2))
    assert bool(calls) == dense


def test_pgn_layer_rejects_longer_input() -> None:
    with pytest.raises(ValueError, match="max_len >= 12"):
        PGNLayer(1, 4, max_len=10)(torch.randn(1, 12, 1))


def test_pgn_layer_groups_are_independent() -> None:
    torch.manual_seed(42)
    layer = PGNLayer(4, 6, max_len=8, groups=2)
    x = torch.randn(2, 8, 4)
    y = x.clone()
    y[..., 2:] += 1.0  # perturb group 2's inputs only
    torch.testing.assert_close(layer(x)[..., :3], layer(y)[..., :3])
    assert (layer(x)[..., 3:] - layer(y)[..., 3:]).abs().min() > 0  # ...which moves every output of group 2


def _first_input_grad(make: object, time: int, seeds: int = 4) -> float:
    """Mean |d out_last / d x_0| over seeds and batch items, in float64 (no underflow)."""
    total = 0.0
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = make(time).double()
        x = torch.randn(8, time, 4, dtype=torch.float64, requires_grad=True)
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        out[:, -1].sum().backward()
        total += x.grad[:, 0].abs().mean().item()
    return total / seeds


def test_pgn_gradient_path_does_not_decay_with_length() -> None:
    """PGN's first-to-last gradient barely changes from 32 to 512 steps; a GRU's vanishes."""
    pgn = [_first_input_grad(lambda t: PGNLayer(4, 32, max_len=t), t) for t in (32, 512)]
    gru = [_first_input_grad(lambda t: torch.nn.GRU(4, 32, batch_first=True), t) for t in (32, 512)]
    # PGN: the lag-511 tap is initialised ~1/sqrt(fan_in), so a factor ~sqrt(16) ~ 4 is expected.
    assert pgn[1] > 0 and pgn[0] / pgn[1] < 10
    assert gru[1] == 0 or gru[0] / gru[1] > 1e6


@pytest.mark.parametrize("pool", ["last", "mean"])
def test_pgn_encoder_shape_and_single_sample(pool: str) -> None:
    torch.manual_seed(42)
    enc = PGNEncoder(6, 16, max_len=25, n_layers=2, dropout=0.1, pool=pool)
    enc.train()
    out = enc(torch.randn(1, 25, 6))  # LayerNorm: one sample in training mode works
    assert out.shape == (1, 16)
    out.sum().backward()


def test_pgn_encoder_rejects_bad_pool() -> None:
    with pytest.raises(ValueError, match="pool"):
        PGNEncoder(1, 4, 10, pool="max")


def test_tpgn_shapes_and_parameter_count() -> None:
    torch.manual_seed(42)
    model = TPGN(168, 48, n_channels=3, period=24, hidden=32, n_time_features=4)
    out = model(torch.randn(5, 168, 3), torch.randn(5, 168, 4))
    assert out.shape == (5, 48, 3)
    # Per-variable counts of the reference, with T = 1 + c_t, R = 7, R_f = 2, d = 32, P = 24.
    t, r, rf, d, p = 5, 7, 2, 32, 24
    per_var = (
        (t * (r - 1) * d + d)
        + ((t + d) * 2 * d + 2 * d)
        + (d * r * d + d)
        + (t * p * d + d)
        + (d * r * d + d)
        + (2 * d * rf + rf)
    )
    assert sum(q.numel() for q in model.parameters()) == 3 * per_var


def test_tpgn_channels_are_independent() -> None:
    torch.manual_seed(42)
    model = TPGN(48, 24, n_channels=2, period=12)
    x = torch.randn(2, 48, 2)
    y = x.clone()
    y[..., 1] = torch.randn(2, 48)
    torch.testing.assert_close(model(x)[..., 0], model(y)[..., 0])
    assert (model(x)[..., 1] - model(y)[..., 1]).abs().min() > 0  # channel 1's forecast follows its input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lookback": 100, "horizon": 24}, "lookback=100 is not a multiple of period=24; use lookback=96 or 120"),
        ({"lookback": 96, "horizon": 30}, "horizon=30 is not a multiple of period=24; use horizon=24 or 48"),
        ({"lookback": 96, "horizon": 10}, "use horizon=24$"),
        ({"lookback": 24, "horizon": 24}, "fewer than 2 periods"),
        # 24 spans one period: it named 24 or 48, and 24 was then refused
        ({"lookback": 30, "horizon": 24}, "lookback=30 is not a multiple of period=24; use lookback=48$"),
        ({"lookback": 60, "horizon": 24}, "use lookback=48 or 72$"),
    ],
)
def test_tpgn_period_errors(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TPGN(n_channels=1, period=24, **kwargs)


def test_tpgn_input_errors() -> None:
    model = TPGN(48, 24, n_channels=1, period=24)
    with pytest.raises(ValueError, match=r"\(batch, 48, 1\)"):
        model(torch.randn(2, 47, 1))
    with pytest.raises(ValueError, match="n_time_features=0"):
        model(torch.randn(2, 48, 1), torch.randn(2, 48, 4))


def test_tpgn_learns_noisy_sine_better_than_repeat_last() -> None:
    period, lookback, horizon = 12, 48, 24
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)

    def batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        phase = torch.rand(n, 1, generator=gen) * 2 * math.pi
        level = torch.randn(n, 1, generator=gen)
        t = torch.arange(lookback + horizon, dtype=torch.float32)
        series = level + torch.sin(2 * math.pi * t / period + phase)
        series = series + 0.1 * torch.randn(series.shape, generator=gen)
        return series[:, :lookback, None], series[:, lookback:, None]

    model = TPGN(lookback, horizon, n_channels=1, period=period, hidden=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        x, y = batch(32)
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = batch(256)
    with torch.no_grad():
        mse = torch.nn.functional.mse_loss(model(x), y).item()
    naive = torch.nn.functional.mse_loss(x[:, -1:].expand_as(y), y).item()
    assert mse < 0.1 * naive, (mse, naive)


def _grouped_by_hand(layer: torch.nn.Module, c: int, v: torch.Tensor) -> torch.Tensor:
    """Variable c's own affine map in one of TPGN's per-variable (grouped) linear layers."""
    return v @ layer.weight[c] + layer.bias[c]


def _pgn_by_hand(pgn: PGNLayer, c: int, seq: torch.Tensor) -> torch.Tensor:
    """PGN Eq. 1 with variable c's weights down one column's rows, seq [R, F] -> [R, d].

    HIE: H_r = b_h + sum over lags 1..r of W_h[lag] x_{r-lag}, i.e. only strictly earlier rows; the
    kernel has R - 1 taps and tap j holds lag R - 1 - j (the layout noted in PGNLayer.__init__). Then one
    gate: G = sigmoid(.), C = tanh(.) of one map of [x_r, H_r], out = G * H + (1 - G) * C.
    Variable c owns HIE outputs c*d .. (c+1)*d - 1 and gate group c.
    """
    d = pgn.hidden // pgn.groups
    w, b = pgn.hie.weight[c * d:(c + 1) * d], pgn.hie.bias[c * d:(c + 1) * d]  # [d, F, R-1], [d]
    taps = w.shape[-1]
    out = []
    for r in range(len(seq)):
        h = b + sum(w[..., taps - lag] @ seq[r - lag] for lag in range(1, r + 1))  # row 0: the bias alone
        z = _grouped_by_hand(pgn.gate, c, torch.cat([seq[r], h]))
        gate = torch.sigmoid(z[:d])
        out.append(gate * h + (1 - gate) * torch.tanh(z[d:]))
    return torch.stack(out)


def _tpgn_by_hand(model: TPGN, series: torch.Tensor, marks: torch.Tensor | None = None) -> torch.Tensor:
    """TPGN's forecast of one window, series [L, C] (time features marks [L, c_t]) -> [horizon, C].

    Written from the paper's 2-D layout with explicit loops over variables c, rows r and columns p.
    Each variable runs alone on its own weights (index c of every layer), with its own normalisation
    statistics; the time features sit beside every variable's value at each step, un-normalised, and
    so enter both branches: the PGN's HIE and gate (long term) and each row's patch (short term).
    """
    P, R, d = model.period, model.rows, model.hidden
    forecast = torch.empty(model.horizon, model.n_channels, dtype=series.dtype)
    for c in range(model.n_channels):
        v = series[:, c]
        mean = v.mean()
        std = torch.sqrt(((v - mean) ** 2).mean() + 1e-5)
        if model.norm:
            v = (v - mean) / std
        steps = v[:, None] if marks is None else torch.cat([v[:, None], marks], dim=1)  # [L, 1 + c_t]
        z = [[steps[r * P + p] for p in range(P)] for r in range(R)]  # row r, column p = time r*P + p
        # short term: a row's patch is its P steps one after another, each [value, marks...]
        rows = [_grouped_by_hand(model.linear_row, c, torch.cat(z[r])) for r in range(R)]
        short = _grouped_by_hand(model.linear_col, c, torch.cat(rows))  # all rows -> one global vector
        for p in range(P):
            column = torch.stack([z[r][p] for r in range(R)])  # [R, 1 + c_t], one column down the rows
            long = _grouped_by_hand(model.linear_long, c, _pgn_by_hand(model.pgn, c, column).reshape(R * d))
            out = _grouped_by_hand(model.head, c, torch.cat([short, long]))  # R_f values for column p
            for r_f in range(model.out_rows):
                forecast[r_f * P + p, c] = out[r_f]
        if model.norm:
            forecast[:, c] = forecast[:, c] * std + mean
    return forecast


def _tpgn_marks(kind: str | None, batch: int, lookback: int) -> torch.Tensor | None:
    """Time features as TPGN's timeF input, in [-0.5, 0.5]: none, random, or hourly calendar fields.

    Random marks vary in every field and step, so a feature or step mix-up cannot hide; calendar
    marks (hour, weekday, day of month, day of year) are what the estimators feed, most of them
    nearly constant over a short window.
    """
    if kind is None:
        return None
    if kind == "random":
        return torch.rand(batch, lookback, 3, dtype=torch.float64) - 0.5
    first = torch.randint(0, 500_000, (batch, 1))  # hours since 1970: any day, week and year
    return calendar_features(first + torch.arange(lookback), 3600 * 10**9).double()


@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("marks", [None, "random", "calendar"])
def test_tpgn_follows_its_two_dimensional_layout(norm: bool, n_channels: int, marks: str | None) -> None:
    torch.manual_seed(3)
    x_mark = _tpgn_marks(marks, 2, 20)
    width = 0 if x_mark is None else x_mark.shape[-1]
    model = TPGN(20, 10, n_channels=n_channels, period=5, hidden=3, norm=norm, n_time_features=width).double()
    # each variable its own level and scale, so shared normalisation statistics would show
    scale, level = torch.arange(1.0, n_channels + 1, dtype=torch.float64), torch.randn(n_channels, dtype=torch.float64)
    x = torch.randn(2, 20, n_channels, dtype=torch.float64) * scale + level
    # R = 4 rows: HIE runs its dense path here; test_pgn_dense_history_equals_the_convolution ties it to conv1d
    with torch.no_grad():
        got = model(x, x_mark)
        for i in range(2):
            want = _tpgn_by_hand(model, x[i], None if x_mark is None else x_mark[i])
            torch.testing.assert_close(got[i], want, rtol=1e-12, atol=1e-12)


def test_tpgn_refuses_a_string_norm_flag() -> None:
    # "no" read as True: the network normalised
    with pytest.raises(FlagError, match="norm must be True or False, got 'no'"):
        TPGN(lookback=48, horizon=24, n_channels=1, period=24, norm="no")
