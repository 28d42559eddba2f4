"""Half precision: autocast's dtype mix is accepted, and half input is accumulated in float32.

Under autocast activations are half precision while parameters and states stay float32 (CfCCell
passes exactly that to cfc_scan on a GPU); linear_scan, rnn_scan, ltc_scan and cfc_scan once
refused the mix. The cfc_scan and ltc_scan torch paths once ran half input in half precision
(about five times the error of every other path).
"""

from __future__ import annotations

import pytest
import torch

from tsrec import kernels as k
from _compare import half_errors, rel_err

HALF = [torch.bfloat16, torch.float16]


def draw(seed: int):
    g = torch.Generator().manual_seed(seed)
    normal = lambda *s, scale=1.0: scale * torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    positive = lambda *s, scale=1.0: scale * torch.rand(*s, generator=g, dtype=torch.float64)  # noqa: E731
    return normal, positive


def linear_inputs(batch=2, T=70, C=3):
    normal, positive = draw(0)
    return [0.95 * positive(batch, T, C), normal(batch, T, C), normal(batch, C)]


def rnn_inputs(batch=3, T=8, H=5):
    normal, _ = draw(1)
    return [normal(batch, T, 2 * H), normal(H, 2 * H, scale=H ** -0.5), normal(batch, H)]


def cfc_inputs(batch=4, T=8, units=8, width=16):
    normal, _ = draw(2)
    heads = [normal(*shape, scale=width ** -0.5) for shape in [(width, units), (units,)] * 3]
    return [normal(batch, T, width), normal(batch, units, scale=0.5), normal(units, width, scale=0.5 * units ** -0.5),
            *heads]


def ltc_inputs(batch=4, T=8, units=8):
    normal, positive = draw(3)
    cm = positive(units, scale=3.0)
    return [positive(batch, T, 2 * units, scale=0.5), normal(batch, units, scale=0.5), cm,
            positive(units, scale=0.2), cm + positive(units), positive(units, units), normal(units, units),
            positive(units, units, scale=5.0), positive(units, units)]


OPS = {
    "linear_scan": (lambda xs, be: k.linear_scan(xs[0], xs[1], initial_state=xs[2], backend=be), linear_inputs, 2),
    "rnn_scan": (lambda xs, be: k.rnn_scan(xs[0], xs[1], initial_state=xs[2], cell="gated", backend=be),
                 rnn_inputs, 1),
    "cfc_scan": (lambda xs, be: k.cfc_scan(*xs, backend=be), cfc_inputs, 1),
    "ltc_scan": (lambda xs, be: k.ltc_scan(*xs, ode_unfolds=3, backend=be), ltc_inputs, 1),
}


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("backend", ["torch", "naive"])
def test_half_activations_with_float32_parameters(name, backend):
    op, make, n_activations = OPS[name]
    inputs = [x.to(torch.bfloat16 if i < n_activations else torch.float32) for i, x in enumerate(make())]
    assert op(inputs, backend).dtype == torch.bfloat16
    errors = half_errors(lambda *xs: op(xs, backend), lambda *xs: op(xs, "naive"), inputs)  # output, gradients
    assert max(errors) < 1e-2, errors


def recurrences_of_96_steps(name: str) -> list[torch.Tensor]:
    """The audit's case: B=4, T=96, U=8, where half-precision steps drifted 5x further."""
    return cfc_inputs(T=96) if name == "cfc_scan" else ltc_inputs(T=96)


@pytest.mark.parametrize("name", ["cfc_scan", "ltc_scan"])
@pytest.mark.parametrize("dtype", HALF)
def test_torch_path_accumulates_half_input_in_float32(name, dtype):
    op = OPS[name][0]
    half = [x.to(dtype) for x in recurrences_of_96_steps(name)]
    got = op(half, "torch")
    ref = op([x.double() for x in half], "naive")
    assert got.dtype == dtype
    # float32 accumulation rounded once at the end: 2e-3 (bf16) and 2.5e-4 (fp16) here, where
    # half-precision steps gave 1.1e-2 to 1.3e-2 and 1.2e-3 to 1.5e-3
    assert rel_err(got, ref) < (4e-3 if dtype == torch.bfloat16 else 5e-4)
    torch.testing.assert_close(got, op([x.float() for x in half], "torch").to(dtype), rtol=0, atol=0)
