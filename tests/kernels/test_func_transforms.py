"""torch.func transforms: refused with tsrec's message where the kernels cannot run under them."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch.func import grad, vmap

from tsrec.kernels import (companion_kernel, fft_conv, linear_scan, ltc_scan, nplr_kernel, s4d_kernel, scan2d,
                           selective_scan)

A, B = torch.rand(2, 5, 3, dtype=torch.float64) * 0.9, torch.randn(2, 5, 3, dtype=torch.float64)


VMAPPED = {  # each op called on one slice of a batch that vmap adds
    "linear_scan": (lambda x: linear_scan(A[:1], x[None]), B),
    "fft_conv": (lambda x: fft_conv(x[None], B[0].T), B),
    # the SSM kernel builders read their inputs through other checks (an ensemble of layers under vmap)
    "companion_kernel": (lambda a: companion_kernel(a, B[0, :2], B[0, 2:4], 8), 0.1 * B[:, :2]),
    "s4d_kernel": (lambda log_dt: s4d_kernel(log_dt, -A[0, :3, :2], B[0, :3, :2], B[0, :3, :2], 8), B[:, 0]),
    "nplr_kernel": (lambda log_dt: nplr_kernel(log_dt, torch.complex(-A[0, :3, :2] - 0.1, B[0, :3, :2]),
                                               B[0, :3, :2], B[0, :3, :2], B[0, :3, :2], 8), B[:, 0]),
}


@pytest.mark.parametrize("op", list(VMAPPED))
def test_vmap_is_refused_with_the_batch_dimension_as_the_way_out(op):
    # PyTorch's message: "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow"
    call, batch = VMAPPED[op]
    call(batch[0])  # the inputs are valid without vmap
    with pytest.raises(RuntimeError, match=r"do not run under torch\.func\.vmap .*stack the inputs and call it once"):
        vmap(call)(batch)


def test_grad_through_a_hand_written_backward_names_the_op_and_the_naive_backend():
    # PyTorch's message: "In order to use an autograd.Function with functorch transforms ... setup_context"
    with pytest.raises(RuntimeError, match=r"^linear_scan's torch path .* use backend='naive' there"):
        grad(lambda x: linear_scan(A, x, backend="torch").sum())(B)
    u, delta = torch.randn(1, 4, 2, dtype=torch.float64), torch.rand(1, 4, 2, dtype=torch.float64)
    A_s, B_s = -torch.rand(2, 3, dtype=torch.float64), torch.randn(1, 4, 3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"^selective_scan's torch path"):
        grad(lambda x: selective_scan(x, delta, A_s, B_s, B_s, backend="torch").sum())(u)
    x, ones = torch.randn(1, 3, 2, 2, dtype=torch.float64), torch.ones(1, 3, 2, 2, dtype=torch.float64)
    A2d, BC = -torch.ones(2, 2, dtype=torch.float64), torch.randn(1, 3, 2, 2, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"^scan2d's torch path"):
        grad(lambda v: scan2d(v, ones, ones, A2d, None, None, A2d, BC, BC, BC, BC, backend="torch")[0].sum())(x)
    # the naive path is plain autograd: torch.func's gradient is autograd's
    expected = torch.autograd.grad(linear_scan(A, B.requires_grad_(), backend="naive").sum(), B)[0]
    torch.testing.assert_close(grad(lambda x: linear_scan(A, x, backend="naive").sum())(B.detach()), expected)


def test_fft_convs_written_out_backward_runs_under_grad_and_jacrev():
    # an autograd Function in setup_context form: torch.func's transforms differentiate through it
    from torch.func import jacrev

    u, k = torch.randn(1, 40, 2, dtype=torch.float64), torch.randn(3, 2, 40, dtype=torch.float64)
    fast = jacrev(lambda u, k: fft_conv(u, k, method="fft", backend="torch"), argnums=(0, 1))(u, k)
    naive = jacrev(lambda u, k: fft_conv(u, k, backend="naive"), argnums=(0, 1))(u, k)
    for got, expected in zip(fast, naive):
        torch.testing.assert_close(got, expected)
    total = grad(lambda x: fft_conv(x, k, method="fft", backend="torch").sum())(u)
    torch.testing.assert_close(total, naive[0].sum(dim=(0, 1, 2, 3)))


def test_fft_conv_keeps_forward_mode_derivatives():
    # plain autograd had them; the written-out backward lost them (jvp, jacfwd, hessian, forward_ad) until
    # it got a jvp and a generated vmap rule
    import torch.autograd.forward_ad as fw
    from torch.func import hessian, jacfwd, jvp

    u, k = torch.randn(1, 40, 2, dtype=torch.float64), torch.randn(3, 2, 40, dtype=torch.float64)
    du, dk = torch.randn_like(u), torch.randn_like(k)

    def fast(u, k):
        return fft_conv(u, k, method="fft", backend="torch")

    def naive(u, k):
        return fft_conv(u, k, backend="naive")

    torch.testing.assert_close(jvp(fast, (u, k), (du, dk))[1], jvp(naive, (u, k), (du, dk))[1])
    for got, expected in zip(jacfwd(fast, argnums=(0, 1))(u, k), jacfwd(naive, argnums=(0, 1))(u, k)):
        torch.testing.assert_close(got, expected)
    torch.testing.assert_close(hessian(lambda x: (fast(x, k) ** 2).sum())(u),
                               hessian(lambda x: (naive(x, k) ** 2).sum())(u))
    with fw.dual_level():
        tangent = fw.unpack_dual(fast(fw.make_dual(u, du), k)).tangent
    torch.testing.assert_close(tangent, jvp(naive, (u, k), (du, torch.zeros_like(k)))[1])


def _ltc_leaves(T: int = 3, units: int = 2) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    pos = lambda *s: torch.rand(*s, generator=g, dtype=torch.float64) + 0.5  # noqa: E731
    return [pos(1, T, 2 * units), torch.zeros(1, units, dtype=torch.float64), pos(units), pos(units), pos(units) + 1,
            pos(units, units), pos(units, units), pos(units, units), pos(units, units)]


FORWARD_AD = {  # each op's torch path, a function of one tensor
    "linear_scan": (lambda x: linear_scan(A, x, backend="torch"), B),
    "selective_scan": (lambda x: selective_scan(x, torch.rand(1, 4, 2, dtype=torch.float64), -torch.ones(2, 3,
                       dtype=torch.float64), torch.ones(1, 4, 3, dtype=torch.float64), torch.ones(1, 4, 3,
                       dtype=torch.float64), backend="torch"), torch.randn(1, 4, 2, dtype=torch.float64)),
    "ltc_scan": (lambda x: ltc_scan(x, *_ltc_leaves()[1:], ode_unfolds=2, backend="torch"), _ltc_leaves()[0]),
    # scan2d's two torch paths: the variate sweep (few variates) and the wavefront (SWEEP_MAX_VARIATES_PER_ROW 0)
    **dict.fromkeys(["scan2d-sweep", "scan2d-wavefront"], (lambda x: scan2d(
        x, torch.ones_like(x), torch.ones_like(x), -torch.ones(2, 2, dtype=torch.float64), None, None,
        -torch.ones(2, 2, dtype=torch.float64), *[torch.ones(1, 3, 2, 2, dtype=torch.float64)] * 4,
        backend="torch")[0], torch.randn(1, 3, 2, 2, dtype=torch.float64))),
}


@pytest.mark.parametrize("op", list(FORWARD_AD))
def test_forward_mode_ad_through_a_written_out_backward_says_to_use_the_naive_backend(op, monkeypatch):
    # PyTorch's message: "You must implement the jvp function for custom autograd.Function to use it with forward
    # mode AD" (torch.func.jvp is refused before, by name, or runs without the Function: ltc_scan's plain solve)
    import torch.autograd.forward_ad as forward_ad

    if op == "scan2d-wavefront":  # the module, not the function tsrec.kernels exports under its name
        monkeypatch.setattr(importlib.import_module("tsrec.kernels.scan2d"), "SWEEP_MAX_VARIATES_PER_ROW", 0)
    call, x = FORWARD_AD[op]
    with forward_ad.dual_level(), pytest.raises(RuntimeError, match=r"^tsrec's kernel ops with a written-out "
                                                                    r"backward have no forward-mode AD .*use "
                                                                    r"backend='naive' there"):
        call(forward_ad.make_dual(x.clone().requires_grad_(), torch.ones_like(x)))
