"""The NPLR S4 layer: HiPPO-LegS in its eigenbasis, and one system in convolution and step form."""

from __future__ import annotations

import pytest
import torch

from tsrec.nn import MambaBlock
from tsrec.nn.s4 import S4D
from tsrec.nn.s4_nplr import S4NPLR, legs_nplr


def hippo_legs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The real LegS matrix and input vector, entry by entry from their definition."""
    A = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for k in range(i + 1):
            A[i, k] = -(i + 1) if i == k else -((2 * i + 1) * (2 * k + 1)) ** 0.5
    return A, torch.tensor([(2 * i + 1) ** 0.5 for i in range(n)], dtype=torch.float64)


@pytest.mark.parametrize("n", [2, 6, 16])
def test_legs_nplr_is_hippo_legs_in_a_unitary_basis(n):
    # x^H A^k y is basis-free under a unitary change of basis, so the NPLR form (modes and their
    # conjugates, A = Lambda - P P^*) must reproduce it for the LegS A, B and P = sqrt(n + 1/2)
    Lambda, P, B = legs_nplr(n)
    assert Lambda.shape == (n // 2,) and bool((Lambda.real == -0.5).all())
    both = lambda v: torch.cat([v, v.conj()])  # noqa: E731
    A_f = torch.diag(both(Lambda)) - torch.outer(both(P), both(P).conj())
    A, b = hippo_legs(n)
    p = torch.sqrt(torch.arange(n, dtype=torch.float64) + 0.5)
    for k in range(4):
        A_k, A_f_k = torch.linalg.matrix_power(A, k), torch.linalg.matrix_power(A_f, k)
        for (x, y), (x_f, y_f) in [((b, b), (B, B)), ((p, b), (P, B)), ((p, p), (P, P))]:
            got = both(x_f).conj() @ A_f_k @ both(y_f)
            torch.testing.assert_close(got, (x @ A_k @ y).to(got.dtype), rtol=1e-9, atol=1e-9)


def run_steps(layer: S4NPLR, u: torch.Tensor, state) -> tuple[torch.Tensor, torch.Tensor]:
    ys = []
    for t in range(u.shape[1]):
        y, state = layer.step(u[:, t], state)
        ys.append(y)
    return torch.stack(ys, dim=1), state[0]


@pytest.mark.parametrize("length", [5, 12, 31])  # shorter than, equal to and longer than l_max
def test_convolution_step_and_state_are_one_system(length):
    torch.manual_seed(0)
    layer = S4NPLR(channels=3, d_state=8, l_max=12).double()
    u = torch.randn(2, length, 3, dtype=torch.float64)
    _, (_, c) = layer(u[:, :1], return_state=True)
    zero = torch.zeros(2, 3, 4, dtype=torch.complex128)
    stepped, last = run_steps(layer, u, (zero, c))
    y, (state, _) = layer(u, return_state=True)
    torch.testing.assert_close(y, stepped, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(state, last, rtol=1e-9, atol=1e-9)


def test_the_initial_system_is_stable_and_trains():
    torch.manual_seed(1)
    layer = S4NPLR(channels=4, d_state=16, l_max=50)
    A_bar, _ = layer._discrete()
    assert float(torch.linalg.eigvals(A_bar.detach()).abs().max()) < 1.0
    layer(torch.randn(2, 50, 4)).square().mean().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()) and float(p.grad.abs().sum()) > 0, name


@pytest.mark.parametrize("make", [
    lambda: MambaBlock(8, 4),
    lambda: S4D(8, 4),
    lambda: S4NPLR(8, 4, l_max=4),
], ids=["MambaBlock", "S4D", "S4NPLR"])
def test_modules_built_under_a_float64_default_hold_float64_parameters(make):
    # hard-coded float32 tensors gave a mix: "A has dtype torch.float32 but u has torch.float64"
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        module = make()
        assert {p.dtype for p in module.parameters()} == {torch.float64}
        x = torch.randn(2, 6, 8)  # longer than S4NPLR's l_max: its kernel is recomputed for 6 steps
        assert module(x).dtype == torch.float64
    finally:
        torch.set_default_dtype(before)
