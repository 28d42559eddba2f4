"""recurrent_scan (generic step function) and rnn_scan (fused cell family) on CPU."""

from __future__ import annotations

import math

import pytest
import torch

from tsrec.kernels import recurrent_scan, rnn_scan
from _compare import REAL_DTYPES, TOL, rel_err


def make(cell, batch=3, T=8, H=5, dtype=torch.float64, h0=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    k = 1 if cell == "tanh" else 2
    x = torch.randn(batch, T, k * H, generator=g, dtype=torch.float64)
    W = 0.5 * torch.randn(H, k * H, generator=g, dtype=torch.float64)
    s = torch.randn(batch, H, generator=g, dtype=torch.float64) if h0 else None
    return [t.to(dtype).requires_grad_() for t in (x, W) + ((s,) if h0 else ())]


def run(backend, cell, leaves):
    x, W, *rest = leaves
    h, hT = rnn_scan(x, W, initial_state=rest[0] if rest else None, cell=cell,
                     output_final_state=True, backend=backend)
    return [h, hT, *torch.autograd.grad((h ** 2).sum() + hT.sum(), leaves)]


@pytest.mark.parametrize("dtype", REAL_DTYPES)
@pytest.mark.parametrize("cell", ["tanh", "gated"])
@pytest.mark.parametrize("h0", [False, True])
def test_rnn_torch_matches_naive(dtype, cell, h0):
    leaves = make(cell, dtype=dtype, h0=h0)
    for got, ref in zip(run("torch", cell, leaves), run("naive", cell, leaves)):
        assert rel_err(got, ref) < TOL[dtype]


@pytest.mark.parametrize("cell", ["tanh", "gated"])
def test_rnn_gradcheck(cell):
    leaves = make(cell, batch=2, T=4, H=3)
    fn = lambda x, W, s: rnn_scan(x, W, initial_state=s, cell=cell, backend="torch")  # noqa: E731
    assert torch.autograd.gradcheck(fn, tuple(leaves))


def _cfc_like_step(W):
    """A step function of the kind LTC/CfC will pass (closure over weights)."""
    def step(x_t, h):
        return h + 0.1 * (torch.tanh(x_t @ W) - h)
    return step


@pytest.mark.parametrize("reverse", [False, True])
def test_generic_torch_matches_naive_and_gradcheck(reverse):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 7, 3, generator=g, dtype=torch.float64, requires_grad=True)
    W = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 4, generator=g, dtype=torch.float64, requires_grad=True)
    outs = {}
    for backend in ("naive", "torch"):
        h, hT = recurrent_scan(_cfc_like_step(W), x, h0, reverse=reverse, output_final_state=True, backend=backend)
        outs[backend] = [h, hT, *torch.autograd.grad(h.sum() + hT.pow(2).sum(), (x, W, h0))]
    for got, ref in zip(outs["torch"], outs["naive"]):
        assert rel_err(got, ref) < 1e-12
    fn = lambda x, W, h0: recurrent_scan(_cfc_like_step(W), x, h0, reverse=reverse)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, W, h0))


def test_generic_matches_fused_cell():
    x, W, s = (t.detach() for t in make("tanh"))
    fused = rnn_scan(x, W, initial_state=s, backend="torch")
    generic = recurrent_scan(lambda x_t, h: torch.tanh(x_t + h @ W), x, s)
    assert rel_err(generic, fused) < 1e-12


@pytest.mark.parametrize("backend", ["naive", "torch"])
def test_gated_cell_by_hand(backend):
    # one unit, two steps: [p, q] = x_t + h W, s = sigmoid(p), h <- (1 - s) h + s tanh(q)
    x = torch.tensor([[[0.3, -0.7], [1.1, 0.4]]], dtype=torch.float64)
    W = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    h, expected = 0.8, []
    for p_in, q_in in ((0.3, -0.7), (1.1, 0.4)):
        p, q = p_in + 0.5 * h, q_in - 2.0 * h
        gate = 1 / (1 + math.exp(-p))
        h = (1 - gate) * h + gate * math.tanh(q)
        expected.append(h)
    got = rnn_scan(x, W, initial_state=torch.tensor([[0.8]], dtype=torch.float64), cell="gated", backend=backend)
    assert got.flatten().tolist() == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("backend", ["naive", "torch"])
def test_reverse_scan_by_hand(backend):
    # h_t = h_{t+1} / 2 + x_t from the last step back: torch was only compared with naive, so a
    # ``reverse`` both ignored passed; the final state of a reversed scan is its first row
    x = torch.arange(1.0, 5.0, dtype=torch.float64).reshape(1, 4, 1)
    h, h_final = recurrent_scan(lambda x_t, h: 0.5 * h + x_t, x, torch.zeros(1, 1, dtype=torch.float64),
                                reverse=True, output_final_state=True, backend=backend)
    assert h.flatten().tolist() == [3.25, 4.5, 5.0, 4.0]
    assert h_final.flatten().tolist() == [3.25]


def test_bad_inputs():
    x, W, s = (t.detach() for t in make("tanh"))
    with pytest.raises(ValueError, match="unknown cell"):
        rnn_scan(x, W, cell="lstm")
    with pytest.raises(ValueError, match=r"W must have shape \(5, 10\)"):
        rnn_scan(x, W, cell="gated")
    with pytest.raises(ValueError, match=r"x must have shape"):
        rnn_scan(x[..., :4], W)
    with pytest.raises(TypeError, match="dtype"):
        rnn_scan(x, W.float())
    with pytest.raises(ValueError, match=r"initial_state must have shape \(3, 5\)"):
        rnn_scan(x, W, initial_state=s[:2])
    with pytest.raises(ValueError, match="x contains NaN"):
        rnn_scan(x * float("nan"), W)
    with pytest.raises(TypeError, match="step_fn must be callable"):
        recurrent_scan(None, x, s)
    with pytest.raises(ValueError, match="step_fn must return the new state"):
        recurrent_scan(lambda x_t, h: h[:, :2], x, s)
    with pytest.raises(ValueError, match="batch size"):
        recurrent_scan(lambda x_t, h: h, x, s[:2])
    with pytest.raises(ValueError, match="no Triton kernel"):
        recurrent_scan(lambda x_t, h: h, x, s, backend="triton")
    # an empty time axis is named (it failed inside torch.stack)
    with pytest.raises(ValueError, match=r"x has an empty time axis \(dim 1\); pass at least one time step"):
        rnn_scan(x[:, :0], W)
    with pytest.raises(ValueError, match=r"x has an empty time axis \(dim 1\); pass at least one time step"):
        recurrent_scan(lambda x_t, h: h, x[:, :0], s)


def test_the_triton_rnn_refuses_a_gated_cell_wider_than_a_blocks_shared_memory():
    # at H = 128 the gated kernel asked 272 KiB of shared memory, which an H200 refused (227 KiB a block)
    pytest.importorskip("triton")
    from tsrec.kernels.recurrent.triton_impl import rnn_scan_triton

    x, W = torch.randn(2, 3, 2 * 128), torch.randn(128, 2 * 128)
    with pytest.raises(ValueError, match="keeps H <= 64 on chip for cell 'gated', got H=128; use backend='torch'"):
        rnn_scan_triton("gated", x, W, None)
