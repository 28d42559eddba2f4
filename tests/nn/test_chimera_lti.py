"""Chimera's input-independent mode: its global 2-D convolution is the 2-D recurrence with fixed parameters."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

import tsrec.nn.chimera_lti as chimera_lti
from tsrec.kernels import scan2d
from tsrec.nn.chimera import Chimera, Chimera2DSSM, ChimeraEncoder
from tsrec.nn.chimera_lti import causal_conv_2d


def recurrence_with_fixed_params(head: Chimera2DSSM, u: torch.Tensor) -> torch.Tensor:
    """The head's constants broadcast to every cell and scanned by the float64 reference loop."""
    grid = lambda t, size: t.expand(*u.shape[:3], size)  # noqa: E731
    width, n = u.shape[-1], head.d_state
    steps = [grid(floor + F.softplus(b), width) for floor, b in ((head.dt1_floor, head.dt1_bias), (0, head.dt2_bias))]
    y, _ = scan2d(u, *steps, *head.transitions(), *(grid(t, n) for t in head.BC), D=head.D,
                  reverse_variates=head.reverse_variates, backend="naive")
    return y


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape", [(2, 9, 4, 5), (1, 1, 1, 3), (3, 6, 1, 2), (1, 1, 5, 2)])
def test_convolution_equals_the_recurrence_outputs_and_gradients(reverse, shape):
    torch.manual_seed(0)
    head = Chimera2DSSM(shape[-1], d_state=3, reverse_variates=reverse, selective=False).double()
    with torch.no_grad():  # open the A2 coupling, which starts near zero, so that every path counts
        head.A2_log.copy_(torch.log(torch.rand_like(head.A2_log) + 0.3))
    u = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    outputs = (head(u), recurrence_with_fixed_params(head, u))
    weights = torch.randn(shape, dtype=torch.float64)
    grads = [torch.autograd.grad((y * weights).sum(), [u, *head.parameters()], materialize_grads=True)
             for y in outputs]  # one variate or step leaves some transitions unused: zero gradients
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-10, atol=1e-12)
    for fast, reference in zip(*grads):
        torch.testing.assert_close(fast, reference, rtol=1e-9, atol=1e-12)


def test_conv_2d_is_the_double_sum_over_earlier_cells():
    torch.manual_seed(1)
    x, kernel, D = torch.randn(2, 5, 3, 2, dtype=torch.float64), torch.randn(5, 3, 2, dtype=torch.float64), None
    expected = torch.zeros_like(x)
    for t in range(5):
        for v in range(3):
            for dt in range(t + 1):
                for dv in range(v + 1):
                    expected[:, t, v] += kernel[dt, dv] * x[:, t - dt, v - dv]
    torch.testing.assert_close(causal_conv_2d(x, kernel, D), expected, rtol=1e-12, atol=1e-12)
    backward = causal_conv_2d(x, kernel, D, reverse_variates=True)
    torch.testing.assert_close(backward, causal_conv_2d(x.flip(2), kernel, D).flip(2))
    assert not torch.allclose(backward, expected)


def test_the_grid_is_convolved_by_fft_and_scanned_only_for_the_kernel(monkeypatch):
    # the point of the mode: the batch's grid never goes through the sequential 2-D scan
    scanned, convolved = [], []
    real_scan, real_conv = chimera_lti.scan2d, chimera_lti.fft_conv
    monkeypatch.setattr(chimera_lti, "scan2d", lambda x, *a, **k: scanned.append(x.shape) or real_scan(x, *a, **k))
    monkeypatch.setattr(chimera_lti, "fft_conv", lambda u, k, **kw: convolved.append(k.shape) or real_conv(u, k, **kw))
    encoder = ChimeraEncoder(d_model=4, d_state=2, d_ff=4, e_layers=1, selective=False)
    encoder(torch.randn(8, 40, 3))
    assert scanned == [torch.Size([1, 40, 3, 4])] * 4  # 2 heads x 2 variate directions, batch 1
    assert convolved == [torch.Size([4, 40 * 6])] * 4


def test_selective_and_input_independent_modes_differ_and_each_is_causal_in_time():
    torch.manual_seed(2)
    x = torch.randn(2, 12, 3)
    for selective in (True, False):
        net = Chimera(lookback=12, horizon=4, d_model=8, d_state=2, d_ff=8, dropout=0.0, selective=selective).eval()
        encoded = net.encoder(x)
        later_changed = x.clone()
        later_changed[:, 7:] += 1.0
        torch.testing.assert_close(net.encoder(later_changed)[:, :7], encoded[:, :7])
    constants = {name for name, _ in Chimera2DSSM(4, 2, selective=False).named_parameters()}
    assert {"BC", "dt1_bias", "dt2_bias"} <= constants and not any("x_proj" in n for n in constants)


def test_selective_flag_is_checked():
    with pytest.raises(TypeError, match="selective"):
        Chimera2DSSM(4, 2, selective="no")
