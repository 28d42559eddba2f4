"""A tensor of the wrong rank is told its axes and the usual fix, and the fix works.

The common slip is one series passed without its batch axis: the message names the layout and
``x.unsqueeze(0)``, and following it gives the op's result for a batch of one.
"""

from __future__ import annotations

import re

import pytest
import torch

from tsrec import kernels as k

GEN = torch.Generator().manual_seed(0)


def rnd(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN)


def neg(*shape: int) -> torch.Tensor:
    return -rnd(*shape).abs()


# op name -> (call given the first input, that input without its batch axis, its name, its layout)
SINGLE_SERIES = {
    "linear_scan": (lambda x: k.linear_scan(x, x), rnd(6, 3).sigmoid(), "a", "(batch, time, channels)"),
    "selective_scan": (lambda u: k.selective_scan(u, rnd(*u.shape).abs(), neg(4, 2), rnd(*u.shape[:-1], 2),
                                                  rnd(*u.shape[:-1], 2)), rnd(6, 4), "u", "(batch, time, D)"),
    "rnn_scan": (lambda x: k.rnn_scan(x, 0.1 * rnd(3, 3)), rnd(6, 3), "x", "(batch, time, H)"),
    "rnn_scan gated": (lambda x: k.rnn_scan(x, 0.1 * rnd(2, 4), cell="gated"), rnd(6, 4), "x", "(batch, time, 2*H)"),
    "fft_conv": (lambda u: k.fft_conv(u, rnd(3, 4)), rnd(6, 3), "u", "(batch, time, channels)"),
    "scan2d": (lambda x: k.scan2d(x, x.abs(), x.abs(), neg(2, 3), None, None, neg(2, 3),
                                  *(rnd(*x.shape[:-1], 3) for _ in range(4)))[0],
               rnd(5, 4, 2), "x", "(batch, time, variates, channels)"),
    "ltc_scan": (lambda t: k.ltc_scan(t, rnd(t.shape[0], 2), rnd(2).abs() + 1, rnd(2), rnd(2).abs() + 1,
                                      *(rnd(2, 2).abs() for _ in range(4))), rnd(6, 4).abs(), "terms",
                 "(batch, time, 2U)"),
}


@pytest.mark.parametrize("op", list(SINGLE_SERIES))
def test_single_series_is_told_to_add_the_batch_axis(op):
    call, single, name, layout = SINGLE_SERIES[op]
    expected = (f"{name} must have {single.ndim + 1} dims {layout}, got shape {tuple(single.shape)}; "
                f"for a single series add the batch axis: {name}.unsqueeze(0)")
    with pytest.raises(ValueError, match=re.escape(expected)) as raised:
        call(single)
    # the other reading of a missing axis: (batch, time) of one channel, as accelerated-scan takes a scan
    axes = layout.strip("()").split(", ")
    other = f"; if its axes are ({', '.join(axes[:-1])}), add the last one: {name}.unsqueeze(-1)"
    assert str(raised.value).endswith(other) == (axes[1] == "time")
    out = call(single.unsqueeze(0))  # the fix the message gives
    assert out.shape[0] == 1 and torch.isfinite(out).all()


def test_state_of_the_wrong_rank_is_told_its_layout():
    a = rnd(2, 5, 3).sigmoid()
    expected = "initial_state must have 2 dims (batch, channels), got shape (2, 1, 3); reshape it to (batch, channels)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        k.linear_scan(a, a, initial_state=rnd(2, 1, 3))
    expected = "state must have 3 dims (batch, D, N), got shape (4, 2); for a single series add the batch axis"
    with pytest.raises(ValueError, match=re.escape(expected)):
        k.selective_scan_step(rnd(4, 2), rnd(1, 4), rnd(1, 4).abs(), neg(4, 2), rnd(1, 2), rnd(1, 2))


def test_kernel_of_the_wrong_rank_is_told_both_layouts():
    with pytest.raises(ValueError, match=re.escape("k must have 2 or 3 dims (channels, L_k) or (heads, channels, L_k), "
                                                   "got shape (4,); reshape it to")):
        k.fft_conv(rnd(2, 6, 3), rnd(4))


@pytest.mark.parametrize("call, expected", [
    # were "a must have 2 dims, got shape (4,)", without the axes
    (lambda: k.companion_kernel(rnd(4), rnd(4), rnd(4), 10), "a must have 2 dims (heads, d), got shape (4,)"),
    (lambda: k.s4d_kernel(torch.tensor(0.1), neg(2, 3), rnd(2, 3), rnd(2, 3), 8),
     "log_dt must have 1 dims (heads,), got shape ()"),
    (lambda: k.s4d_kernel(rnd(2), neg(3), rnd(2, 3), rnd(2, 3), 8),
     "A_real must have 2 dims (heads, N), got shape (3,)"),
    (lambda: k.nplr_kernel(rnd(2), torch.complex(neg(2, 3), rnd(2, 3)), rnd(3), rnd(2, 3), rnd(2, 3), 8),
     "P must have 2 dims (heads, N), got shape (3,)"),
])
def test_ssm_kernel_builders_name_their_axes(call, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        call()


def test_selection_matrices_of_the_wrong_rank_are_told_both_layouts():
    # were "B must have 3 or 4 dims, got shape (2, 3)", without the axes
    u = rnd(2, 5, 4)
    expected = ("B must have 3 or 4 dims (batch, time, N) or (batch, time, groups, N), got shape (5, 2); for a "
                "single series add the batch axis")
    with pytest.raises(ValueError, match=re.escape(expected)) as raised:
        k.selective_scan(u, u.abs(), neg(4, 2), rnd(5, 2), rnd(5, 2))
    assert "unsqueeze(-1)" not in str(raised.value)  # two layouts: no one axis to add last
    with pytest.raises(ValueError, match=re.escape("C_t must have 2 or 3 dims (batch, N) or (batch, groups, N), got "
                                                   "shape (2,)")):
        k.selective_scan_step(rnd(2, 4, 2), rnd(2, 4), rnd(2, 4).abs(), neg(4, 2), rnd(2, 2), rnd(2))
