"""fft_conv: torch paths against the float64 loop, gradients, properties and bad input."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrec.kernels.fft_conv import FFT_THRESHOLD, auto_method, fast_fft_len, fft_conv
from _compare import TOL, half_errors, outputs_and_grads, rel_err

# the module itself: tsrec.kernels' attribute fft_conv is the function of the same name
fft_conv_module = importlib.import_module("tsrec.kernels.fft_conv")


def make(batch, time, channels, taps, heads, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, time, channels, generator=g, dtype=torch.float64)
    shape = (channels, taps) if heads is None else (heads, channels, taps)
    k = torch.randn(*shape, generator=g, dtype=torch.float64) / taps**0.5
    D = torch.randn(*shape[:-1], generator=g, dtype=torch.float64)
    return u.to(dtype), k.to(dtype), D.to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])  # auto: direct up to 9 taps, FFT at 40
@pytest.mark.parametrize("heads", [None, 3])
@pytest.mark.parametrize("taps", [1, 9, 40])
def test_torch_matches_naive_with_grads(dtype, method, heads, taps):
    u, k, D = make(2, 23, 4, taps, heads, dtype)
    out_shape = (2, 23, 4) if heads is None else (2, 23, heads, 4)
    weight = torch.randn(out_shape, dtype=torch.float64)
    fast, fast_g = outputs_and_grads(
        lambda u, k, D: fft_conv(u, k, D=D, method=method, backend="torch"), [u, k, D], weight
    )
    ref, ref_g = outputs_and_grads(
        lambda u, k, D: fft_conv(u, k, D=D, backend="naive"), [u.double(), k.double(), D.double()], weight
    )
    assert fast.shape == out_shape and fast.dtype == dtype
    assert rel_err(fast, ref) < TOL[dtype]
    for g, r in zip(fast_g, ref_g):
        assert rel_err(g, r) < TOL[dtype]


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("heads", [None, 2])
def test_gradcheck(method, heads):
    u, k, D = make(1, 6, 2, 4, heads, torch.float64, seed=1)
    inputs = [t.requires_grad_(True) for t in (u, k, D)]
    fn = lambda u, k, D: fft_conv(u, k, D=D, method=method, backend="torch")  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs)


@settings(max_examples=20, deadline=None)
@given(
    time=st.integers(1, 420),
    long_kernel=st.booleans(),
    taps_small=st.integers(1, FFT_THRESHOLD),
    taps_extra=st.integers(1, 100),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_auto_equals_numpy_convolution(time, long_kernel, taps_small, taps_extra, channels, seed):
    # both sides of the direct/FFT threshold, against an independent oracle
    taps = FFT_THRESHOLD + taps_extra if long_kernel else taps_small
    u, k, _ = make(1, time, channels, taps, None, torch.float64, seed=seed)
    y = fft_conv(u, k, backend="torch")
    for c in range(channels):
        expected = np.convolve(u[0, :, c].numpy(), k[c].numpy())[:time]
        np.testing.assert_allclose(y[0, :, c].numpy(), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("backend", ["naive", "torch"])
@pytest.mark.parametrize("heads", [None, 3])
def test_skip_adds_d_times_the_same_step_input(backend, heads):
    # the skip term is added after dispatch, so comparing backends with each other cannot see it
    u, k, D = make(2, 17, 4, 5, heads, torch.float64)
    gap = fft_conv(u, k, D=D, backend=backend) - fft_conv(u, k, backend=backend)
    expected = D * u if heads is None else D * u.unsqueeze(2)  # D[(h,) c] * u[b, t, c]
    torch.testing.assert_close(gap, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "time, taps, heads, expected",
    [
        (50, 1, None, "direct"),
        (50, FFT_THRESHOLD - 1, None, "direct"),
        (50, FFT_THRESHOLD, None, "fft"),  # where the rFFT was measured faster fwd+bwd, with or without heads
        (50, FFT_THRESHOLD, 3, "fft"),  # heads do not enter the rule
        (50, FFT_THRESHOLD - 1, 3, "direct"),
        (FFT_THRESHOLD - 1, 200, None, "direct"),  # the kernel is cut to the input first
        (FFT_THRESHOLD, 200, None, "fft"),
        (400, 400, None, "fft"),
    ],
)
def test_auto_dispatch_rule(monkeypatch, time, taps, heads, expected):
    # the rule: direct conv below FFT_THRESHOLD visible taps (32), rFFT from there; explicit methods win
    assert FFT_THRESHOLD == 32  # the measured choice (see the constant's comment); change both together
    assert auto_method(time, taps) == expected
    calls = []
    for name in ("direct", "fft"):
        real = getattr(fft_conv_module, f"_conv_{name}")
        monkeypatch.setattr(fft_conv_module, f"_conv_{name}",
                            lambda u, k, name=name, real=real: calls.append(name) or real(u, k))
    u, k, _ = make(2, time, 3, taps, heads, torch.float32)
    fft_conv(u, k)
    fft_conv(u, k, method="direct")
    fft_conv(u, k, method="fft")
    fft_conv(u, k, backend="naive")  # the naive loop takes neither path
    assert calls == [expected, "direct", "fft"]


def test_kernel_longer_than_input_and_single_tap():
    u, k, _ = make(2, 5, 3, 12, None, torch.float64)
    assert rel_err(fft_conv(u, k, method="fft"), fft_conv(u, k[:, :5], backend="naive")) < 1e-12
    # taps past the input's length touch no output: exactly zero gradient, and no larger FFT
    long_k = k.detach().clone().requires_grad_()
    fft_conv(u, long_k, method="fft").sum().backward()
    assert (long_k.grad[:, 5:] == 0).all() and (long_k.grad[:, :5] != 0).any()
    one = k[:, :1]
    assert rel_err(fft_conv(u, one), u * one[:, 0]) < 1e-12


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_half_inputs_keep_dtype_and_accumulate_in_float32(dtype, method):
    u, k, D = (x.to(dtype) for x in make(2, 40, 3, 32, None, torch.float32))
    assert fft_conv(u, k, method=method).dtype == dtype
    fast = lambda u, k, D: fft_conv(u, k, D=D, method=method, backend="torch")  # noqa: E731
    naive = lambda u, k, D: fft_conv(u, k, D=D, backend="naive")  # noqa: E731
    errors = half_errors(fast, naive, [u, k, D])  # y, then du, dk, dD
    assert max(errors) < (1e-2 if dtype == torch.bfloat16 else 2e-3), errors


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_the_output_takes_the_promoted_dtype_of_u_k_and_d(method):
    u, k, D = make(2, 40, 3, 40, None, torch.float32)
    assert fft_conv(u, k, D=D.double(), method=method).dtype == torch.float64  # D alone is wider
    assert fft_conv(u, k.double(), method=method).dtype == torch.float64
    assert fft_conv(u, k, D=D, method=method).dtype == torch.float32


def test_env_override_and_triton_route(monkeypatch):
    u, k, _ = make(1, 30, 2, 8, None, torch.float32)
    monkeypatch.setenv("TSREC_KERNEL_BACKEND", "naive")
    overridden = fft_conv(u, k)
    assert overridden.dtype == torch.float32
    assert torch.equal(overridden, fft_conv(u, k, backend="naive"))
    assert not torch.equal(overridden, fft_conv(u, k, backend="torch"))  # so the override chose naive
    monkeypatch.delenv("TSREC_KERNEL_BACKEND")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="triton"):
        fft_conv(u, k, backend="triton")  # CPU tensors: no GPU for the cuFFT route


def test_fast_fft_len():
    assert [fast_fft_len(n) for n in (1, 7, 11, 97, 1025)] == [1, 8, 12, 100, 1080]
    # odd 2,3,5-smooth lengths are skipped for the next even one: a real FFT of odd length is slow
    assert [fast_fft_len(n) for n in (2, 3, 671, 721, 1871)] == [2, 4, 720, 750, 1920]


def test_fast_fft_len_is_the_least_even_smooth_length_however_far():
    # the search upwards by 2 took minutes near 1e12 (a meta-tensor companion_kernel of L = 10**12), where
    # such lengths are far apart; the reference lists every even 2,3,5-smooth number below 4e12
    limit, smooth = 4 * 10**12, []
    for a in range(1, limit.bit_length()):
        for b in range(0, 27):
            for c in range(0, 19):
                value = 2**a * 3**b * 5**c
                if value < limit:
                    smooth.append(value)
    smooth.sort()
    for n in [3, 4, 1000, 10**6 + 1, 999_999_937, 10**12 + 1, 1_234_567_890_123, 2 * 10**12 - 7]:
        assert fast_fft_len(n) == next(m for m in smooth if m >= n), n


@pytest.mark.parametrize("method, heads", [("direct", 0), ("fft", 0), ("fft", 2)])
def test_torch_path_returns_contiguous_output(method, heads):
    # both paths compute along time; a permuted view made every later elementwise op (and its
    # backward) several times slower, e.g. SpaceTime's GELU backward 37 ms instead of 2.4 ms
    u = torch.randn(3, 40, 5)
    k = torch.randn(*((heads,) if heads else ()), 5, 40)
    y = fft_conv(u, k, D=torch.ones(k.shape[:-1]), method=method, backend="torch")
    assert y.is_contiguous()
    assert torch.allclose(y, fft_conv(u.double(), k.double(), D=torch.ones(k.shape[:-1]), backend="naive").float(),
                          atol=1e-4)


@pytest.mark.parametrize(
    "u, k, kwargs, error, match",
    [
        (torch.zeros(2, 5), torch.zeros(3, 4), {}, ValueError, "u must have 3 dims"),
        (torch.zeros(2, 5, 3), torch.zeros(2, 4), {}, ValueError, "k must have 3 channels"),
        (torch.zeros(2, 5, 3, dtype=torch.int64), torch.zeros(3, 4), {}, TypeError, "u must be a floating"),
        (torch.zeros(2, 5, 3), [[0.0]], {}, TypeError, "k must be a torch.Tensor"),
        (torch.full((2, 5, 3), float("nan")), torch.zeros(3, 4), {}, ValueError, "u contains NaN"),
        (torch.zeros(2, 5, 3), torch.zeros(3, 4), {"D": torch.zeros(4)}, ValueError, "D must have shape"),
        (torch.zeros(2, 5, 3), torch.zeros(3, 4), {"method": "fast"}, ValueError, "method must be"),
        (torch.zeros(2, 5, 3), torch.zeros(3, 4), {"backend": "cuda"}, ValueError, "unknown kernel backend"),
        (torch.zeros(2, 0, 3), torch.zeros(3, 4), {}, ValueError, "time >= 1"),
    ],
)
def test_bad_input(u, k, kwargs, error, match):
    with pytest.raises(error, match=match):
        fft_conv(u, k, **kwargs)
