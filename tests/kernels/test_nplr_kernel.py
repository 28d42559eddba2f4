"""nplr_kernel (S4's Cauchy + Woodbury kernel) against the dense recurrence, closed forms and bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrec.kernels.ssm_kernels import nplr_discrete, nplr_kernel
from _compare import TOL, outputs_and_grads, rel_err


def nplr_params(heads, modes, seed=0, dtype=torch.float64):
    """Stable modes (real parts in [-1.5, -0.1]), spread frequencies, random complex P, B, C_tilde."""
    g = torch.Generator().manual_seed(seed)
    cplx = torch.complex128 if dtype == torch.float64 else torch.complex64
    log_dt = (torch.rand(heads, generator=g, dtype=torch.float64) * 3 - 4).to(dtype)
    real = -0.1 - 1.4 * torch.rand(heads, modes, generator=g, dtype=torch.float64)
    imag = torch.pi * torch.arange(modes, dtype=torch.float64) + torch.rand(heads, modes, generator=g,
                                                                              dtype=torch.float64)
    rest = [torch.randn(heads, modes, generator=g, dtype=torch.complex128).to(cplx) for _ in range(3)]
    return [log_dt, torch.complex(real, imag).to(cplx), *rest]


def widened(inputs):
    return [t.to(torch.complex128 if t.is_complex() else torch.float64) for t in inputs]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("modes, L", [(1, 2), (3, 8), (4, 25)])  # at L = 1 no output depends on dt
def test_matches_the_dense_recurrence_with_grads(dtype, modes, L):
    inputs = nplr_params(3, modes, dtype=dtype)
    weight = torch.randn(3, L, dtype=torch.float64)
    fast, fast_g = outputs_and_grads(lambda *a: nplr_kernel(*a, L, backend="torch"), inputs, weight)
    ref, ref_g = outputs_and_grads(lambda *a: nplr_kernel(*a, L, backend="naive"), widened(inputs), weight)
    assert fast.shape == (3, L) and fast.dtype == dtype
    assert rel_err(fast, ref) < TOL[dtype]
    # a head's log_dt gradient is a weighted sum of every tap's dK_l/dlog_dt, and in these systems
    # it comes out up to 72x smaller than the sum of its terms' magnitudes: float32 keeps that many
    # fewer digits of it (worst relative error over 300 weightings: 2.9e-5)
    assert rel_err(fast_g[0], ref_g[0]) < TOL[dtype] * (10 if dtype == torch.float32 else 1)
    for g, r in zip(fast_g[1:], ref_g[1:]):
        assert rel_err(g, r) < TOL[dtype]


def test_gradcheck():
    inputs = [t.requires_grad_(True) for t in nplr_params(2, 2, seed=5)]
    assert torch.autograd.gradcheck(lambda *a: nplr_kernel(*a, 6), inputs)


def test_without_the_low_rank_term_it_is_the_bilinear_diagonal_ssm():
    log_dt, Lambda, _, B, C_tilde = nplr_params(2, 3, seed=1)
    L = 17
    dt = torch.exp(log_dt).unsqueeze(-1)
    A_bar = (1 + dt / 2 * Lambda) / (1 - dt / 2 * Lambda)
    B_bar = dt * B / (1 - dt / 2 * Lambda)
    C = C_tilde / (1 - A_bar**L)  # C_tilde = C (I - A_bar^L) for a diagonal A_bar
    expected = torch.stack([2 * (C * A_bar**l * B_bar).sum(-1).real for l in range(L)], dim=-1)
    got = nplr_kernel(log_dt, Lambda, torch.zeros_like(B), B, C_tilde, L)
    torch.testing.assert_close(got, expected, rtol=1e-11, atol=1e-11)


@settings(max_examples=15, deadline=None)
@given(modes=st.integers(1, 4), L=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_doubling_the_length_keeps_the_system(modes, L, seed):
    # S4's length doubling: C_tilde_2L = (I + A_bar^L)^T C_tilde_L describes the same SSM, so the
    # first L taps of the 2L kernel are the L kernel (the Cauchy path at two sets of roots of unity)
    log_dt, Lambda, P, B, C = nplr_params(2, modes, seed=seed)
    A_bar, _ = nplr_discrete(log_dt, Lambda, P, B)
    full = torch.cat([C, C.conj()], dim=-1)
    eye = torch.eye(2 * modes, dtype=A_bar.dtype)
    doubled = ((eye + torch.linalg.matrix_power(A_bar, L)).transpose(-1, -2) @ full.unsqueeze(-1))[..., :modes, 0]
    short = nplr_kernel(log_dt, Lambda, P, B, C, L)
    torch.testing.assert_close(nplr_kernel(log_dt, Lambda, P, B, doubled, 2 * L)[:, :L], short,
                               rtol=1e-9, atol=1e-9 * float(short.abs().max()))


def test_the_dense_system_is_real():
    # the modes and their conjugates make a real system: its impulse response has no imaginary part
    log_dt, Lambda, P, B, C = nplr_params(2, 3, seed=2)
    A_bar, B_bar = nplr_discrete(log_dt, Lambda, P, B)
    swap = torch.cat([torch.arange(3, 6), torch.arange(3)])
    torch.testing.assert_close(A_bar[:, swap][:, :, swap], A_bar.conj())
    torch.testing.assert_close(B_bar[:, swap], B_bar.conj())


def test_bad_inputs():
    log_dt, Lambda, P, B, C = nplr_params(2, 3)
    with pytest.raises(ValueError, match="real part >= 0"):
        nplr_kernel(log_dt, torch.complex(Lambda.real.abs(), Lambda.imag), P, B, C, 5)
    for zero in (0.0, -0.0):  # a mode on the axis does not decay either
        on_axis = torch.complex(Lambda.real.index_fill(1, torch.tensor([0]), zero), Lambda.imag)
        with pytest.raises(ValueError, match="real part >= 0"):
            nplr_kernel(log_dt, on_axis, P, B, C, 5)
    with pytest.raises(TypeError, match="Lambda must be complex"):
        nplr_kernel(log_dt, Lambda.real, P, B, C, 5)
    with pytest.raises(ValueError, match="P must have the shape of Lambda"):
        nplr_kernel(log_dt, Lambda, P[:, :2], B, C, 5)
    with pytest.raises(ValueError, match="log_dt must have shape"):
        nplr_kernel(log_dt[:1], Lambda, P, B, C, 5)
    with pytest.raises(ValueError, match="B contains NaN"):
        nplr_kernel(log_dt, Lambda, P, torch.full_like(B, float("nan")), C, 5)
    with pytest.raises(ValueError, match="L must be a positive int"):
        nplr_kernel(log_dt, Lambda, P, B, C, 0)
    with pytest.raises(TypeError, match="C must be a floating or complex"):
        nplr_kernel(log_dt, Lambda, P, B, C.real.long(), 5)


@pytest.mark.parametrize("wide", ["P", "B"])
def test_nplr_discrete_promotes_mixed_precisions(wide):
    # one float64 vector beside a complex64 Lambda gave the two solves different dtypes ("linalg.solve:
    # Expected A and B to have the same dtype"); the result is in the dtype they promote to
    log_dt, Lambda, P, B, _ = nplr_params(2, 3)
    exact = nplr_discrete(log_dt, Lambda, P.real, B.real)
    narrow = {"P": P.real.float(), "B": B.real.float(), wide: {"P": P, "B": B}[wide].real}
    A_bar, B_bar = nplr_discrete(log_dt.float(), Lambda.to(torch.complex64), narrow["P"], narrow["B"])
    assert A_bar.dtype == B_bar.dtype == torch.complex128
    torch.testing.assert_close(A_bar, exact[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(B_bar, exact[1], rtol=1e-5, atol=1e-6)


def test_nplr_discrete_checks_its_inputs_like_the_kernel():
    # exported from tsrec.kernels: bad input is named, not a torch RuntimeError from inside solve
    log_dt, Lambda, P, B, _ = nplr_params(2, 3)
    with pytest.raises(ValueError, match="real part >= 0"):
        nplr_discrete(log_dt, torch.complex(Lambda.real.abs(), Lambda.imag), P, B)
    with pytest.raises(TypeError, match="Lambda must be complex"):
        nplr_discrete(log_dt, Lambda.real, P, B)
    with pytest.raises(ValueError, match="B must have the shape of Lambda"):
        nplr_discrete(log_dt, Lambda, P, B[:1])
    with pytest.raises(ValueError, match="P must have 2 dims"):
        nplr_discrete(log_dt, Lambda, P[0], B)
    with pytest.raises(ValueError, match="log_dt must have shape"):
        nplr_discrete(log_dt[:1], Lambda, P, B)
    with pytest.raises(ValueError, match="log_dt contains NaN"):
        nplr_discrete(torch.full_like(log_dt, float("inf")), Lambda, P, B)
    with pytest.raises(TypeError, match="B must be a torch.Tensor"):
        nplr_discrete(log_dt, Lambda, P, B.tolist())


def test_nplr_discrete_is_unchanged_by_its_checks():
    # the checked entry point computes exactly what the naive kernel's unchecked one does, in the
    # dtype the inputs promote to (real P and B too)
    from tsrec.kernels.ssm_kernels.nplr import _discrete

    for dtype in (torch.float32, torch.float64):
        log_dt, Lambda, P, B, _ = nplr_params(3, 4, dtype=dtype)
        for p, b in ((P, B), (P.real, B.real)):
            got, expected = nplr_discrete(log_dt, Lambda, p, b), _discrete(log_dt, Lambda, p, b)
            for g, e in zip(got, expected):
                assert g.dtype == Lambda.dtype and torch.equal(g, e)
