"""Second derivatives: the hand-written backwards refuse them, the naive references give them.

The torch paths of linear_scan, selective_scan and scan2d (variate sweep and wavefront) once
returned a wrong Hessian (selective_scan, w.r.t. delta) or an all-zero one (wavefront) without a
word, or failed with an unrelated in-place error (linear_scan, the variate sweep).
"""

from __future__ import annotations

import importlib

import pytest
import torch

from tsrec import kernels as k

scan2d_module = importlib.import_module("tsrec.kernels.scan2d")  # the package, not the function it exports

REFUSED = r"first derivatives only .*use backend='naive' for higher-order gradients"


def rnd(*shape: int, seed: int, positive: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    draw = torch.rand if positive else torch.randn
    return draw(*shape, generator=g, dtype=torch.float64)


def linear_case(time: int):
    """T = 70 runs the chunked loop, T = 5 the plain one."""
    def run(backend, a, b):
        return k.linear_scan(a, b, backend=backend)
    return run, [0.9 * rnd(1, time, 2, seed=0, positive=True), rnd(1, time, 2, seed=1)]


def selective_case(time: int):
    """T = 20 spans several checkpoint chunks; delta first: its Hessian was the wrong one."""
    u, B, C = (rnd(1, time, 2, seed=s) for s in (2, 3, 4))
    A = -rnd(2, 2, seed=5, positive=True) - 0.1

    def run(backend, delta, u):
        return k.selective_scan(u, delta, A, B, C, backend=backend)
    return run, [0.5 * rnd(1, time, 2, seed=6, positive=True), u]


def scan2d_case(time: int):
    d1, d2 = (rnd(1, time, 2, 2, seed=s, positive=True) for s in (7, 8))
    A = [-rnd(2, 2, seed=9 + i, positive=True) for i in range(4)]
    BC = [rnd(1, time, 2, 2, seed=13 + i) for i in range(4)]

    def run(backend, x, delta1):
        return k.scan2d(x, delta1, d2, *A, *BC, backend=backend)[0]
    return run, [rnd(1, time, 2, 2, seed=17), d1]


CASES = {"linear_scan": (linear_case, 70), "selective_scan": (selective_case, 20),
         "scan2d sweep": (scan2d_case, 3), "scan2d wavefront": (scan2d_case, 3)}


@pytest.fixture(params=list(CASES))
def torch_case(request, monkeypatch):
    if request.param == "scan2d wavefront":  # the path of more than SWEEP_MAX_VARIATES_PER_ROW variates
        monkeypatch.setattr(scan2d_module, "SWEEP_MAX_VARIATES_PER_ROW", 0)
    make, time = CASES[request.param]
    return make(time)


def test_torch_backward_refuses_create_graph(torch_case):
    run, inputs = torch_case
    leaves = [x.clone().requires_grad_() for x in inputs]
    loss = (run("torch", *leaves) ** 2).sum()
    with pytest.raises(RuntimeError, match=REFUSED):
        torch.autograd.grad(loss, leaves, create_graph=True)
    # a Hessian of a scalar loss (grad_outputs that need no grad) is refused too, not zero or wrong
    with pytest.raises(RuntimeError, match=REFUSED):
        torch.autograd.functional.hessian(lambda x: (run("torch", x, inputs[1]) ** 2).sum(), inputs[0])


def test_torch_first_derivatives_still_match_naive(torch_case):
    run, inputs = torch_case
    grads = {}
    for backend in ("torch", "naive"):
        leaves = [x.clone().requires_grad_() for x in inputs]
        grads[backend] = torch.autograd.grad((run(backend, *leaves) ** 2).sum(), leaves)
    for got, ref in zip(grads["torch"], grads["naive"]):
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["linear_scan", "selective_scan", "scan2d sweep"])
def test_naive_has_second_derivatives(name):
    make, _ = CASES[name]
    run, inputs = make(4)  # tiny: gradgradcheck differentiates numerically per input element
    leaves = [x.clone().requires_grad_() for x in inputs]
    assert torch.autograd.gradgradcheck(lambda *xs: run("naive", *xs), leaves)


@pytest.mark.parametrize("with_skip", [False, True])
def test_fft_conv_backward_is_itself_differentiable(with_skip):
    # fft_conv's backward, unlike the scans', promises higher orders: under create_graph it is rebuilt from
    # differentiable ops. The Hessian test (torch.func, through jvp) never reached that branch: with it
    # skipped, the mixed (u, k) second derivative was wrong by 76 at a norm of 122, without a word.
    u, kernel, skip = rnd(1, 12, 2, seed=20), rnd(2, 12, seed=21), rnd(2, seed=22)
    leaves = [u, kernel, skip] if with_skip else [u, kernel]
    leaves = [x.requires_grad_() for x in leaves]

    def conv(u, kernel, skip=None):
        return k.fft_conv(u, kernel, D=skip, method="fft", backend="torch")
    assert torch.autograd.gradgradcheck(conv, leaves)
