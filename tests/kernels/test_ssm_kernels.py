"""companion_kernel, closed_loop_rollout and s4d_kernel against float64 loops and known systems."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrec.kernels.fft_conv import fft_conv
from tsrec.kernels.ssm_kernels import closed_loop_rollout, companion_kernel, s4d_kernel
from tsrec.kernels.ssm_kernels.companion import auto_method, companion_matrix
from _compare import TOL, outputs_and_grads, rel_err


def companion_params(heads, d, seed=0, dtype=torch.float64, extra=0):
    """Stable ``a`` (L1 norm 0.9, all roots of Q outside the unit disk) and random vectors."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(heads, d, generator=g, dtype=torch.float64)
    a = 0.9 * a / a.abs().sum(-1, keepdim=True)
    rest = [torch.randn(heads, d, generator=g, dtype=torch.float64) for _ in range(2 + extra)]
    return [t.to(dtype) for t in (a, *rest)]


# ---------------------------------------------------------------------------- companion kernel


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", ["krylov", "fft"])
@pytest.mark.parametrize("d, L", [(1, 9), (5, 3), (6, 40)])
def test_companion_matches_naive_with_grads(dtype, method, d, L):
    params = companion_params(3, d, dtype=dtype)
    weight = torch.randn(3, L, dtype=torch.float64)
    fast, fast_g = outputs_and_grads(
        lambda a, b, c: companion_kernel(a, b, c, L, method=method, backend="torch"), params, weight
    )
    ref, ref_g = outputs_and_grads(
        lambda a, b, c: companion_kernel(a, b, c, L, backend="naive"), [p.double() for p in params], weight
    )
    assert fast.shape == (3, L) and fast.dtype == dtype
    assert rel_err(fast, ref) < TOL[dtype]
    for g, r in zip(fast_g, ref_g):
        assert rel_err(g, r) < TOL[dtype]


@pytest.mark.parametrize("method", ["krylov", "fft"])
def test_companion_gradcheck(method):
    params = [p.requires_grad_(True) for p in companion_params(2, 3, seed=3)]
    assert torch.autograd.gradcheck(lambda a, b, c: companion_kernel(a, b, c, 7, method=method), params)


def ar_impulse_response(phi: list[float], L: int) -> list[float]:
    """h_0 = 1, h_j = sum_m phi_m h_{j-m}: the response of an AR(p) recursion to a unit impulse."""
    h = []
    for j in range(L):
        h.append((1.0 if j == 0 else 0.0) + sum(p * h[j - m] for m, p in enumerate(phi, 1) if j - m >= 0))
    return h


@settings(max_examples=20, deadline=None)
@given(
    phi=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=6),
    L=st.integers(1, 60),
    method=st.sampled_from(["krylov", "fft"]),
)
def test_companion_reproduces_ar_impulse_response(phi, L, method):
    # keep the recursion stable: sum |phi| < 1
    scale = 0.95 / max(1.0, sum(abs(p) for p in phi))
    phi = [p * scale for p in phi]
    d = len(phi)
    h = torch.tensor(ar_impulse_response(phi, max(L, d)), dtype=torch.float64)
    # Cayley-Hamilton: the last column holds the AR coefficients in reverse (a_m = phi_{d-m}),
    # b = e_0 walks through the basis (A^j e_0 = e_j for j < d), c = the first d responses.
    a = torch.tensor(phi[::-1], dtype=torch.float64).unsqueeze(0)
    b = torch.zeros(1, d, dtype=torch.float64)
    b[0, 0] = 1.0
    c = h[:d].unsqueeze(0)
    K = companion_kernel(a, b, c, L, method=method)
    torch.testing.assert_close(K[0], h[:L], rtol=1e-9, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(heads=st.integers(1, 3), d=st.integers(1, 8), L=st.integers(1, 80), seed=st.integers(0, 2**16))
def test_krylov_equals_fft(heads, d, L, seed):
    a, b, c = companion_params(heads, d, seed=seed)
    krylov = companion_kernel(a, b, c, L, method="krylov")
    fft = companion_kernel(a, b, c, L, method="fft")
    assert rel_err(fft, krylov) < 1e-9


def test_auto_keeps_a_growing_kernel_accurate():
    # an unnormalised a (SpaceTime's norm_order=0 or 2 allows one) with a root outside the unit
    # circle: the FFT path's rounding is relative to each product's largest coefficient, and the
    # kernel grows ~1.06**720, so in float32 it lost every digit (error 2x the kernel's size)
    a = torch.tensor([[0.16, -0.17, 0.25, -0.53]])
    assert torch.linalg.eigvals(companion_matrix(a.double())).abs().max() > 1.05
    b, c = torch.randn(2, 1, 4, generator=torch.Generator().manual_seed(0)).unbind(0)
    ref = companion_kernel(a, b, c, 720, backend="naive")
    assert auto_method(a) == "krylov" and auto_method(a / a.abs().sum()) == "fft"
    assert rel_err(companion_kernel(a, b, c, 720), ref) < TOL[torch.float32]
    # asked for by name, the FFT path still runs such an a, and says what it costs
    with pytest.warns(RuntimeWarning, match=r"method='fft' with an a whose sum_i \|a_i\| exceeds 1 in some head: "
                                            r"its kernel may grow, and the FFT path then loses its digits") as caught:
        fast = companion_kernel(a, b, c, 720, method="fft")
    assert caught[0].filename == __file__  # points at the caller's line
    assert rel_err(fast, ref) > 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an L1-normalised a (SpaceTime's default) is the FFT path's case
        companion_kernel(a / a.abs().sum(), b, c, 720, method="fft")
        # ... also where float32 rounding puts its sum a little above 1
        g = torch.Generator().manual_seed(0)
        rounded = next(a for a in (x / x.abs().sum(-1, keepdim=True) for x in torch.randn(200, 1, 8, generator=g))
                       if a.abs().sum() > 1)
        assert auto_method(rounded) == "fft"
        companion_kernel(rounded, torch.ones(1, 8), torch.ones(1, 8), 16, method="fft")
    leaves = [x.clone().requires_grad_() for x in (a, b, c)]
    weight = torch.randn(1, 720, generator=torch.Generator().manual_seed(1)) / ref.abs()  # every tap counts
    grads = [torch.autograd.grad((companion_kernel(*leaves, 720, backend=be) * weight).sum(), leaves)
             for be in ("torch", "naive")]
    for got, want in zip(*grads):
        assert rel_err(got, want) < 1e-4  # the gradients sum over 720 growing taps
    with pytest.raises(ValueError, match="^c contains NaN"):  # the choice's read still checks the inputs
        companion_kernel(a, b, torch.full_like(c, float("nan")), 720)


# ---------------------------------------------------------------------------- closed loop


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rollout_matches_naive_with_grads(dtype):
    a, b, c, k = companion_params(3, 5, seed=4, dtype=dtype, extra=1)
    k = 0.1 * k
    s0 = torch.randn(2, 3, 5, dtype=dtype)
    weight = torch.randn(2, 30, 3, dtype=torch.float64)
    fast, fast_g = outputs_and_grads(
        lambda *p: closed_loop_rollout(*p, 30, backend="torch"), [a, b, c, k, s0], weight
    )
    ref, ref_g = outputs_and_grads(
        lambda *p: closed_loop_rollout(*p, 30, backend="naive"),
        [t.double() for t in (a, b, c, k, s0)],
        weight,
    )
    assert fast.shape == (2, 30, 3) and fast.dtype == dtype
    assert rel_err(fast, ref) < TOL[dtype]
    for g, r in zip(fast_g, ref_g):
        assert rel_err(g, r) < TOL[dtype]


def test_rollout_gradcheck():
    params = companion_params(2, 3, seed=5, extra=1)
    s0 = torch.randn(2, 2, 3, dtype=torch.float64)
    inputs = [t.requires_grad_(True) for t in (*params, s0)]
    assert torch.autograd.gradcheck(lambda *p: closed_loop_rollout(*p, 6), inputs)


def test_rollout_is_the_feedback_recursion_and_reduces_to_the_kernel():
    a, b, c, k = companion_params(2, 4, seed=6, extra=1)
    s0 = torch.randn(2, 4, dtype=torch.float64)
    y = closed_loop_rollout(a, b, c, k, s0, 12)
    # the decoder as a recursion: feed the prediction u = k.x back, x <- shift(x) + a x_{d-1} + b u
    x, expected = s0, []
    for _ in range(12):
        expected.append((c * x).sum(-1))
        u = (k * x).sum(-1, keepdim=True)
        shifted = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=-1)
        x = shifted + a * x[:, -1:] + b * u
    torch.testing.assert_close(y, torch.stack(expected), rtol=1e-10, atol=1e-10)
    # without feedback, starting from b, the roll-out is the open-loop kernel
    no_feedback = closed_loop_rollout(a, b, c, torch.zeros_like(k), b, 12)
    torch.testing.assert_close(no_feedback.T, companion_kernel(a, b, c, 12), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------- S4D kernel


def s4d_params(heads, n, seed=0, dtype=torch.float64, with_b=True):
    g = torch.Generator().manual_seed(seed)
    log_dt = torch.rand(heads, generator=g, dtype=torch.float64) * 2 - 3
    A_real = -0.5 - torch.rand(heads, n, generator=g, dtype=torch.float64)
    jitter = torch.rand(heads, n, generator=g, dtype=torch.float64)
    A_imag = torch.pi * torch.arange(n, dtype=torch.float64) + jitter
    cplx = torch.complex128 if dtype == torch.float64 else torch.complex64
    C = torch.randn(heads, n, generator=g, dtype=torch.complex128).to(cplx)
    B = torch.randn(heads, n, generator=g, dtype=torch.complex128).to(cplx) if with_b else None
    return log_dt.to(dtype), A_real.to(dtype), A_imag.to(dtype), C, B


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("with_b", [True, False])
def test_s4d_matches_naive_with_grads(dtype, with_b):
    log_dt, A_real, A_imag, C, B = s4d_params(3, 4, dtype=dtype, with_b=with_b)
    inputs = [log_dt, A_real, A_imag, C] + ([B] if with_b else [])
    weight = torch.randn(3, 25, dtype=torch.float64)

    def run(backend):
        return lambda ld, ar, ai, c, *b: s4d_kernel(ld, ar, ai, c, 25, B=b[0] if b else None, backend=backend)

    fast, fast_g = outputs_and_grads(run("torch"), inputs, weight)
    wide = [t.to(torch.complex128 if t.is_complex() else torch.float64) for t in inputs]
    ref, ref_g = outputs_and_grads(run("naive"), wide, weight)
    assert fast.shape == (3, 25) and fast.dtype == dtype
    assert rel_err(fast, ref) < TOL[dtype]
    for g, r in zip(fast_g, ref_g):
        assert rel_err(g, r) < TOL[dtype]


def test_s4d_gradcheck():
    inputs = [t.requires_grad_(True) for t in s4d_params(2, 2, seed=7)]
    fn = lambda ld, ar, ai, c, b: s4d_kernel(ld, ar, ai, c, 5, B=b)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("log_dt_value", [20.0, 89.0, 800.0])
def test_s4d_huge_steps_reach_the_zoh_limit_with_finite_grads(log_dt_value):
    # dt -> inf: A_bar -> 0 and B_bar -> -B / A, so K_0 = 2 Re(-C B / A) and every later tap is 0;
    # exp(log_dt) overflowed float32 above 88.7 (float64 above 709) and made the torch path NaN
    log_dt, A_real, A_imag, C, B = s4d_params(2, 3, dtype=torch.float32)
    inputs = [torch.full_like(log_dt, log_dt_value), A_real, A_imag]
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    kernel = s4d_kernel(*leaves, C, 6, B=B, backend="torch")
    kernel.sum().backward()
    limit = 2 * (-C * B / torch.complex(A_real, A_imag)).sum(-1).real
    torch.testing.assert_close(kernel[:, 0], limit, rtol=1e-5, atol=1e-6)
    assert torch.equal(kernel[:, 1:], torch.zeros(2, 5))
    assert all(torch.isfinite(t.grad).all() for t in leaves)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), L=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_s4d_kernel_is_the_zoh_recurrence(n, L, seed):
    log_dt, A_real, A_imag, C, B = s4d_params(2, n, seed=seed)
    u = torch.randn(1, L, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    # step the discretised diagonal SSM: x <- A_bar x + B_bar u_l, y_l = 2 Re(C x)
    A = torch.complex(A_real, A_imag)
    dt = torch.exp(log_dt).unsqueeze(-1)
    A_bar, B_bar = torch.exp(dt * A), (torch.exp(dt * A) - 1) / A * B
    x, ys = torch.zeros(2, n, dtype=torch.complex128), []
    for l in range(L):
        x = A_bar * x + B_bar * u[0, l].unsqueeze(-1)
        ys.append(2 * (C * x).sum(-1).real)
    K = s4d_kernel(log_dt, A_real, A_imag, C, L, B=B)
    torch.testing.assert_close(fft_conv(u, K)[0], torch.stack(ys), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------- bad input


def test_bad_inputs():
    a, b, c = companion_params(2, 3)
    with pytest.raises(ValueError, match=r"b has shape \(2, 2\) but a has \(2, 3\); a, b and c must have the same"):
        companion_kernel(a, b[:, :2], c, 5)
    with pytest.raises(ValueError, match="L must be a positive int"):
        companion_kernel(a, b, c, 0)
    with pytest.raises(ValueError, match="L must be a positive int"):
        companion_kernel(a, b, c, True)
    with pytest.raises(ValueError, match="a contains NaN"):
        companion_kernel(torch.full_like(a, float("inf")), b, c, 5)
    with pytest.raises(ValueError, match="method must be"):
        companion_kernel(a, b, c, 5, method="cauchy")
    with pytest.raises(TypeError, match="b must be a floating"):
        companion_kernel(a, b.long(), c, 5)
    with pytest.raises(ValueError, match="s0 must have shape"):
        closed_loop_rollout(a, b, c, c, torch.zeros(4, 3), 5)
    log_dt, A_real, A_imag, C, B = s4d_params(2, 3)
    with pytest.raises(ValueError, match="mode with A_real >= 0"):
        s4d_kernel(log_dt, torch.zeros_like(A_real), torch.zeros_like(A_imag), C, 5)
    with pytest.raises(ValueError, match="log_dt must have shape"):
        s4d_kernel(log_dt[:1], A_real, A_imag, C, 5)
    with pytest.raises(ValueError, match="C must have the shape"):
        s4d_kernel(log_dt, A_real, A_imag, C[:, :2], 5)
    with pytest.raises(TypeError, match="A_real must be a floating"):
        s4d_kernel(log_dt, A_real.to(torch.complex128), A_imag, C, 5)
