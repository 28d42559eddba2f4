"""Batched output gradients (autograd's own vmap) through the hand-written backwards: a failure explained with
the fix, a backward that runs batched left to run; torch.func.hessian over ltc_scan refused with the fix."""

from __future__ import annotations

import pytest
import torch

from tsrec.kernels import linear_scan, ltc_scan, scan2d, selective_scan
from tsrec.kernels._autograd import batched_grads_explained

D64 = torch.float64
GEN = torch.Generator().manual_seed(0)


def _r(*shape):
    return torch.randn(*shape, dtype=D64, generator=GEN)


A, X = torch.rand(1, 3, 2, dtype=D64, generator=GEN) * 0.9, _r(1, 3, 2)
U, DELTA, A_S, B_S = _r(1, 3, 2), _r(1, 3, 2).abs(), -_r(2, 2).abs(), _r(1, 3, 2)
GRID = [_r(1, 3, 2, 2), _r(1, 3, 2, 2).abs(), _r(1, 3, 2, 2).abs()] + [-_r(2, 2).abs() for _ in range(4)] + [
    _r(1, 3, 2, 2) for _ in range(4)]
LTC = [torch.cat([_r(1, 3, 2), _r(1, 3, 2).abs()], -1), _r(1, 2), _r(2).abs() * 6, _r(2), _r(2).abs() * 7,
       _r(2, 2).abs(), _r(2, 2), _r(2, 2), _r(2, 2)]

CALLS = {  # one differentiable input each, through the op's torch path (a written-out backward)
    "linear_scan": (lambda a: linear_scan(a, X, backend="torch"), A),
    "selective_scan": (lambda A: selective_scan(U, DELTA, A, B_S, B_S, backend="torch"), A_S),
    "scan2d": (lambda x: scan2d(x, *GRID[1:], backend="torch")[0], GRID[0]),
    "ltc_scan": (lambda w: ltc_scan(*LTC[:5], w, *LTC[6:], backend="torch"), LTC[5]),
}


@pytest.mark.parametrize("op", list(CALLS))
def test_vectorized_jacobian_is_refused_with_the_way_out(op):
    # PyTorch's messages: "Batching rule not implemented for aten::addcmul.out" / "vmap: aten::addcmul_(self, ...)
    # is not possible", naming neither the op nor vectorize=False
    call, x = CALLS[op]
    torch.autograd.functional.jacobian(call, x)  # the plain Jacobian runs
    with pytest.raises(RuntimeError, match=r"cannot run on batched output gradients .* vectorize=False"):
        torch.autograd.functional.jacobian(call, x, vectorize=True)


def test_ltc_scans_jacrev_still_runs():
    """torch.func's jacrev batches at its own level, which ltc_scan's adjoint takes: not refused."""
    call, x = CALLS["ltc_scan"]
    naive = torch.autograd.functional.jacobian(lambda w: ltc_scan(*LTC[:5], w, *LTC[6:], backend="naive"), x)
    torch.testing.assert_close(torch.func.jacrev(call)(x), naive)


def test_a_backward_that_runs_on_batched_gradients_is_left_to_run():
    """selective_scan's gradient of u alone batches: its vectorized Jacobian is the naive one's."""
    def call(backend):
        return lambda u: selective_scan(u, DELTA, A_S, B_S, B_S, backend=backend)

    torch.testing.assert_close(torch.autograd.functional.jacobian(call("torch"), U, vectorize=True),
                               torch.autograd.functional.jacobian(call("naive"), U))


def test_torch_func_hessian_over_ltc_scan_names_the_way_out():
    # PyTorch's message: "You tried to vmap over LTCAdjoint, but it does not have vmap support"
    call, x = CALLS["ltc_scan"]
    with pytest.raises(RuntimeError, match=r"no forward-mode AD \(torch\.func\.jvp, jacfwd.*backend='naive'"):
        torch.func.hessian(lambda w: call(w).sum())(x)
    assert torch.autograd.functional.hessian(lambda w: call(w).sum(), x).shape == (2, 2, 2, 2)


def test_ltc_scans_forward_mode_runs_and_matches_naive():
    """docs/kernels.md: jvp and jacfwd run on ltc_scan's torch path (hessian, forward over its adjoint, does not)."""
    call, x = CALLS["ltc_scan"]
    naive = lambda w: ltc_scan(*LTC[:5], w, *LTC[6:], backend="naive")  # noqa: E731
    torch.testing.assert_close(torch.func.jacfwd(call)(x), torch.func.jacfwd(naive)(x))
    tangent = torch.ones_like(x)
    torch.testing.assert_close(torch.func.jvp(call, (x,), (tangent,))[1], torch.func.jvp(naive, (x,), (tangent,))[1])


@pytest.mark.parametrize("grads", [(torch.ones(2),), (None, torch.ones(2))], ids=["tensor", "with-none"])
def test_an_error_on_plain_gradients_keeps_its_own_message(grads):
    # "out of memory" or a shape error in a backward is no batching failure: told as it was
    with pytest.raises(RuntimeError, match=r"^boom$"), batched_grads_explained(grads):
        raise RuntimeError("boom")
