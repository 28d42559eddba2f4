"""cfc_scan (the CfC cell's recurrence over a sequence) on CPU: torch against naive and the model's cell."""

from __future__ import annotations

import pytest
import torch

from tsrec.kernels import cfc_scan
from tsrec.kernels.recurrent.cfc import MAX_UNITS
from tsrec.nn.ltc import CfCCell
from _compare import REAL_DTYPES, TOL, rel_err


def make(batch=3, T=6, units=5, width=7, dtype=torch.float64, seed=0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *s, scale=1.0: scale * torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    leaves = [rnd(batch, T, width), rnd(batch, units, scale=0.5), rnd(units, width, scale=units ** -0.5)]
    leaves += [rnd(*shape, scale=0.3) for shape in [(width, units), (units,)] * 3]
    return [x.to(dtype).requires_grad_() for x in leaves]


def run(backend, leaves):
    h = cfc_scan(*leaves, backend=backend)
    return [h, *torch.autograd.grad((h ** 2).sum(), leaves)]


@pytest.mark.parametrize("dtype", REAL_DTYPES)
def test_torch_matches_naive(dtype):
    leaves = make(dtype=dtype)
    for got, ref in zip(run("torch", leaves), run("naive", leaves)):
        assert rel_err(got, ref) < TOL[dtype]


def test_gradcheck():
    leaves = make(batch=2, T=3, units=3, width=4)
    assert torch.autograd.gradcheck(lambda *xs: cfc_scan(*xs, backend="torch"), leaves)


def test_same_function_as_the_models_cell():
    # CfCCell (default mode, one backbone layer, unit steps) written as the op's arguments
    torch.manual_seed(0)
    cell = CfCCell(input_size=3, units=5, backbone_units=8).double()
    x, h0 = torch.randn(4, 7, 3, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
    xz, *params = cell.fused_scan_args(x)  # what CfCCell.scan passes on a GPU
    h = cfc_scan(xz, h0, *params)
    states, state = [], h0
    for t in range(7):
        state = cell(x[:, t], state)
        states.append(state)
    torch.testing.assert_close(h, torch.stack(states, dim=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "index,value,match",
    [
        (0, torch.zeros(3, 6), r"xz must have 3 dims \(batch, time, Z\), got shape \(3, 6\)"),
        (1, torch.zeros(2, 5), r"h0 must have shape \(3, 5\)"),
        (2, torch.zeros(5, 6), r"W_h must have shape \(5, 7\)"),
        (3, torch.zeros(7, 4), r"W1 must have shape \(7, 5\)"),
        (8, torch.zeros(4), r"bt must have shape \(5,\)"),
        (0, torch.zeros(3, 0, 7), "empty time axis"),
        (0, torch.full((3, 6, 7), float("inf")), "xz contains NaN or inf"),
        (3, torch.full((7, 5), float("nan")), "W1 contains NaN or inf"),
        (6, torch.full((5,), float("inf")), "b2 contains NaN or inf"),
    ],
)
def test_bad_inputs(index, value, match):
    leaves = [x.detach() for x in make()]
    leaves[index] = value.double()
    with pytest.raises(ValueError, match=match):
        cfc_scan(*leaves)


@pytest.mark.parametrize(("units", "width", "dtype"), [
    (MAX_UNITS + 1, 12, torch.float32), (64, 256, torch.float32), (32, 256, torch.float32), (64, 64, torch.float64),
])
def test_wide_layers_are_refused_by_the_fused_kernel(monkeypatch, units, width, dtype):
    # each alone within its limit, 64 x 256 asked 608 KiB of shared memory: more than an H200 gives a block
    pytest.importorskip("triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # lets backend="triton" accept CPU tensors
    leaves = [x.detach() for x in make(batch=1, T=2, units=units, width=width, dtype=dtype)]
    with pytest.raises(ValueError, match=rf"keep U <= {MAX_UNITS} and Z <= 256 on chip, .* at most 4096 .*, "
                                         rf"got U={units}, Z={width}; use backend='torch'"):
        cfc_scan(*leaves, backend="triton")


def test_weights_must_be_tensors():
    leaves = [x.detach() for x in make()]
    leaves[3] = leaves[3].tolist()
    with pytest.raises(TypeError, match="W1 must be a torch.Tensor, got list"):
        cfc_scan(*leaves)
