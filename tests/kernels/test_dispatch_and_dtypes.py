"""Backend choice when a fused kernel cannot take the sizes, and the dtype rules under autocast."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import warnings
from types import SimpleNamespace

import pytest
import torch

from tsrec import kernels as k
from tsrec.kernels import _dispatch
from tsrec.kernels.recurrent.cfc import MAX_UNITS
from _compare import half_errors

GEN = torch.Generator().manual_seed(0)


@pytest.fixture(autouse=True)
def _same_draws_in_any_order():
    """Each test draws the same inputs whichever tests ran before it in its worker (pytest-xdist deals
    them out differently each run): the half-precision tolerances hold for given inputs, not for all."""
    GEN.manual_seed(0)


def rnd(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN).to(dtype)


def test_auto_falls_back_to_torch_when_the_triton_kernel_cannot_take_the_sizes(monkeypatch):
    monkeypatch.setattr(_dispatch, "triton_available", lambda: True)
    monkeypatch.setattr(_dispatch, "triton_import_error", lambda: None)  # as if it imports (it may be absent)
    on_gpu = torch.empty(1, device="meta")
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: self.is_meta))
    assert _dispatch.resolve_backend("auto", on_gpu) == "triton"
    assert _dispatch.resolve_backend("auto", on_gpu, triton_fits=False) == "torch"
    monkeypatch.setenv(_dispatch.ENV_VAR, "auto")
    assert _dispatch.resolve_backend("auto", on_gpu, triton_fits=False) == "torch"


def test_rnn_scan_auto_takes_wide_layers_on_a_gpu(monkeypatch):
    """H = 130 is more than the fused kernel keeps on chip: "auto" must not pick it."""
    picked = []
    original = _dispatch.resolve_backend
    monkeypatch.setattr(_dispatch, "triton_available", lambda: True)
    monkeypatch.setattr(_dispatch, "triton_import_error", lambda: None)  # as if it imports (it may be absent)
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    h100 = SimpleNamespace(shared_memory_per_block_optin=232448)  # the limit is read from the GPU's block
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: h100)
    monkeypatch.setattr(k.recurrent, "resolve_backend", lambda *a, **kw: picked.append(original(*a, **kw)) or "torch")
    k.rnn_scan(rnd(1, 3, 130), 0.05 * rnd(130, 130))
    k.rnn_scan(rnd(1, 3, 8), 0.05 * rnd(8, 8))
    assert picked == ["torch", "triton"]


@pytest.mark.parametrize("units", [2, MAX_UNITS + 1])
def test_the_environment_variable_is_read_whatever_the_sizes(monkeypatch, units):
    width = 3
    leaves = [rnd(1, 2, width), rnd(1, units), rnd(units, width), rnd(width, units), rnd(units), rnd(width, units),
              rnd(units), rnd(width, units), rnd(units)]
    monkeypatch.setenv("TSREC_KERNEL_BACKEND", "bogus")
    with pytest.raises(ValueError, match="TSREC_KERNEL_BACKEND='bogus' is not a kernel backend"):
        k.cfc_scan(*leaves)
    terms, v0 = rnd(1, 2, 2 * units).abs(), rnd(1, units)
    params = [rnd(units).abs() + 1, rnd(units), rnd(units).abs() + 2] + [rnd(units, units).abs() for _ in range(4)]
    with pytest.raises(ValueError, match="TSREC_KERNEL_BACKEND='bogus'"):
        k.ltc_scan(terms, v0, *params)


def selective_inputs(dtype: torch.dtype, param_dtype: torch.dtype) -> tuple[list, dict]:
    u, delta, B, C, z = (rnd(2, 5, 4, dtype=dtype) for _ in range(5))
    A = -rnd(4, 3, dtype=param_dtype).abs()
    options = {"D": rnd(4, dtype=param_dtype), "z": z, "delta_bias": rnd(4, dtype=param_dtype),
               "delta_softplus": True, "initial_state": rnd(2, 4, 3, dtype=param_dtype)}
    return [u, delta, A, B[..., :3], C[..., :3]], options


def test_selective_scan_takes_float32_parameters_with_half_precision_activations():
    args, options = selective_inputs(torch.bfloat16, torch.float32)
    args[1] = args[1].float()  # softplus runs in float32 under CUDA autocast
    names = [n for n, v in options.items() if isinstance(v, torch.Tensor)]

    def fn(backend):
        def run(*xs):
            return k.selective_scan(*xs[:5], **dict(zip(names, xs[5:])), delta_softplus=True, backend=backend)
        return run

    assert fn("torch")(*args, *(options[n] for n in names)).dtype == torch.bfloat16
    errors = half_errors(fn("torch"), fn("naive"), [*args, *(options[n] for n in names)])
    assert max(errors) < 1e-2, errors


@pytest.mark.parametrize("name", ["A", "D", "delta_bias", "initial_state"])
def test_selective_scan_refuses_inputs_wider_than_the_accumulation(name):
    args, options = selective_inputs(torch.float32, torch.float32)
    if name == "A":
        args[2] = args[2].double()
    else:
        options[name] = options[name].double()
    with pytest.raises(TypeError, match=f"{name} has dtype torch.float64 but u has torch.float32"):
        k.selective_scan(*args, **options)


def test_selective_scan_step_needs_a_state():
    u, delta, B, C = rnd(2, 4), rnd(2, 4).abs(), rnd(2, 3), rnd(2, 3)
    with pytest.raises(TypeError, match="state must be a torch.Tensor, got NoneType"):
        k.selective_scan_step(None, u, delta, -rnd(4, 3).abs(), B, C)


def scan2d_inputs(dtype: torch.dtype) -> list:
    x, d1, d2 = rnd(1, 3, 2, 2, dtype=dtype), rnd(1, 3, 2, 2, dtype=dtype).abs(), rnd(1, 3, 2, 2, dtype=dtype).abs()
    A = [-rnd(2, 3).abs() for _ in range(4)]
    return [x, d1, d2, *A, *(rnd(1, 3, 2, 3, dtype=dtype) for _ in range(4))]


def test_scan2d_refuses_inputs_wider_than_the_accumulation():
    args = scan2d_inputs(torch.float32)
    args[1] = args[1].double()
    with pytest.raises(TypeError, match="delta1 has dtype torch.float64 but x has torch.float32"):
        k.scan2d(*args)
    args = scan2d_inputs(torch.float32)
    args[3] = args[3].double()
    with pytest.raises(TypeError, match="A1 has dtype torch.float64"):
        k.scan2d(*args)


def test_scan2d_takes_float32_parameters_with_half_precision_activations():
    args, D = scan2d_inputs(torch.bfloat16), rnd(2)
    args[1] = args[1].float()  # softplus runs in float32 under CUDA autocast
    fn = lambda backend: lambda *xs: k.scan2d(*xs[:-1], D=xs[-1], backend=backend)[0]  # noqa: E731
    assert fn("torch")(*args, D).dtype == torch.bfloat16
    errors = half_errors(fn("torch"), fn("naive"), [*args, D])  # y, then each input's gradient
    assert max(errors) < 1e-2, errors


@pytest.mark.parametrize("backend", ["torch", "naive"])
@pytest.mark.parametrize("method", ["fft", "krylov"])
def test_no_channels_or_heads_give_empty_results_with_zero_gradients(backend, method):
    # as the scans and the other kernel builders do (fft_conv and companion_kernel refused them)
    u, taps = rnd(2, 5, 0).requires_grad_(), rnd(0, 4).requires_grad_()
    y = k.fft_conv(u, taps, D=rnd(0), method="direct" if method == "krylov" else "fft", backend=backend)
    abc = [rnd(0, 3).requires_grad_() for _ in range(3)]
    kernel = k.companion_kernel(*abc, 5, method=method, backend=backend)
    assert tuple(y.shape) == (2, 5, 0) and tuple(kernel.shape) == (0, 5)
    grads = torch.autograd.grad(y.sum() + kernel.sum(), [u, taps, *abc])
    assert all(torch.equal(g, torch.zeros_like(t)) for g, t in zip(grads, [u, taps, *abc]))
    s0 = rnd(4, 0, 3)
    rollout = k.closed_loop_rollout(*(t.detach() for t in abc), rnd(0, 3), s0, 6, backend=backend)
    assert tuple(rollout.shape) == (4, 6, 0)


def test_companion_ops_refuse_an_empty_state():
    for backend in ("torch", "naive"):
        with pytest.raises(ValueError, match=r"the state size d \(last axis\) must be >= 1, got shape \(2, 0\)"):
            k.companion_kernel(torch.rand(2, 0), torch.rand(2, 0), torch.rand(2, 0), 5, backend=backend)


def test_fft_ops_return_empty_results_for_empty_batch_or_heads():
    # the naive loops always did; MKL's FFT and grouped conv1d refuse empty axes on the torch path
    u, taps = rnd(0, 40, 3).requires_grad_(), rnd(3, 40).requires_grad_()
    lam = torch.complex(-rnd(0, 3).abs(), rnd(0, 3))
    results = [
        (k.fft_conv(u, taps), (0, 40, 3)),  # no batch, FFT path (40 taps)
        (k.fft_conv(u, taps[:, :4]), (0, 40, 3)),  # no batch, direct path
        (k.fft_conv(rnd(2, 40, 3), taps.expand(0, 3, 40)), (2, 40, 0, 3)),  # no heads
        (k.nplr_kernel(rnd(0), lam, rnd(0, 3), rnd(0, 3), rnd(0, 3), 8), (0, 8)),  # no heads
    ]
    assert [tuple(y.shape) for y, _ in results] == [shape for _, shape in results]
    grads = torch.autograd.grad(sum(y.sum() for y, _ in results[:3]), [u, taps])
    assert torch.equal(grads[0], torch.zeros_like(u)) and torch.equal(grads[1], torch.zeros_like(taps))


@pytest.fixture
def triton_on_cpu_refused(monkeypatch):
    """Triton 'installed' and no interpreter: a Triton kernel on CPU tensors is refused."""
    monkeypatch.setattr(_dispatch, "triton_available", lambda: True)
    monkeypatch.setattr(_dispatch, "triton_import_error", lambda: None)  # as if it imports (it may be absent)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    return monkeypatch


def test_environment_triton_runs_torch_where_a_call_has_no_triton_kernel(triton_on_cpu_refused):
    """The variable is a default for every op; the calls below have no kernel and once raised."""
    a, b = rnd(1, 4, 2).abs().to(torch.complex64), rnd(1, 4, 2).to(torch.complex64)
    step = lambda x_t, h: torch.tanh(x_t + h)  # noqa: E731
    x, h0, wide_x, wide_W = rnd(1, 4, 2), rnd(1, 2), rnd(1, 3, 130), 0.05 * rnd(130, 130)
    # ops whose GPU path is torch (cuFFT, batched GEMMs)
    ssm, lam, taps = 0.2 * rnd(2, 3), torch.complex(-rnd(2, 3).abs(), rnd(2, 3)), rnd(2, 3)
    no_kernel = {
        "fft_conv": lambda backend: k.fft_conv(x, taps, backend=backend),
        "companion_kernel": lambda backend: k.companion_kernel(ssm, ssm, ssm, 6, backend=backend),
        "closed_loop_rollout": lambda backend: k.closed_loop_rollout(ssm, ssm, ssm, ssm, ssm, 6, backend=backend),
        "s4d_kernel": lambda backend: k.s4d_kernel(ssm[:, 0], ssm - 1, ssm, ssm, 6, backend=backend),
        "nplr_kernel": lambda backend: k.nplr_kernel(ssm[:, 0], lam, ssm, ssm, ssm, 6, backend=backend),
    }
    expected = [k.linear_scan(a, b, backend="torch"), k.recurrent_scan(step, x, h0, backend="torch"),
                k.rnn_scan(wide_x, wide_W, backend="torch"), *(op("torch") for op in no_kernel.values())]
    triton_on_cpu_refused.setenv(_dispatch.ENV_VAR, "triton")
    # first as if a kernel could take the tensors (a GPU's, or the interpreter's): there only the call's
    # own lack of a kernel sends it to torch; then the CPU tensors they are
    for can_take in (lambda tensors: True, _dispatch._triton_can_take):
        triton_on_cpu_refused.setattr(_dispatch, "_triton_can_take", can_take)
        got = [k.linear_scan(a, b), k.recurrent_scan(step, x, h0), k.rnn_scan(wide_x, wide_W),  # H > 128
               *(op("auto") for op in no_kernel.values())]
        for g, e in zip(got, expected):
            assert torch.equal(g, e)
    for name, op in no_kernel.items():  # a demand for the GPU path still needs GPU tensors
        with pytest.raises(ValueError, match="backend='triton' needs CUDA tensors"):
            op("triton")


def test_explicit_triton_names_why_a_call_has_no_triton_kernel(triton_on_cpu_refused):
    a, b = rnd(1, 4, 2).to(torch.complex64), rnd(1, 4, 2).to(torch.complex64)
    with pytest.raises(ValueError, match="complex inputs have no Triton kernel .*use backend='torch' or 'naive'"):
        k.linear_scan(a, b, backend="triton")
    with pytest.raises(ValueError, match="recurrent_scan has no Triton kernel .*use backend='torch' or 'naive'"):
        k.recurrent_scan(lambda x_t, h: x_t + h, rnd(1, 4, 2), rnd(1, 2), backend="triton")


def test_environment_triton_runs_torch_on_cpu_tensors(triton_on_cpu_refused):
    # a default, not a demand: a model moved to the CPU (or an op on CPU tensors beside GPU work)
    # failed partway through its forward pass, while ops without a kernel ran torch
    triton_on_cpu_refused.setenv(_dispatch.ENV_VAR, "triton")
    a, b = rnd(1, 4, 2).abs(), rnd(1, 4, 2)
    u, delta, A, B, C = rnd(1, 5, 3), rnd(1, 5, 3).abs(), -rnd(3, 2).abs(), rnd(1, 5, 2), rnd(1, 5, 2)
    assert torch.equal(k.linear_scan(a, b), k.linear_scan(a, b, backend="torch"))
    assert torch.equal(k.selective_scan(u, delta, A, B, C), k.selective_scan(u, delta, A, B, C, backend="torch"))
    with pytest.raises(ValueError, match="backend='triton' needs CUDA tensors .*use backend='torch'"):
        k.linear_scan(a, b, backend="triton")  # the argument is still a demand
    triton_on_cpu_refused.setattr(_dispatch, "triton_version", lambda: None)
    triton_on_cpu_refused.setattr(_dispatch, "triton_available", lambda: False)
    assert torch.equal(k.linear_scan(a, b), k.linear_scan(a, b, backend="torch"))


def test_environment_triton_that_cannot_run_on_the_gpu_says_to_unset_the_variable(monkeypatch):
    monkeypatch.setenv(_dispatch.ENV_VAR, "triton")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setattr(_dispatch, "triton_version", lambda: None)
    monkeypatch.setattr(_dispatch, "triton_available", lambda: False)
    on_gpu = torch.empty(1, device="meta")
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: self.is_meta))
    with pytest.raises(ValueError, match=r"TSREC_KERNEL_BACKEND=triton needs the triton package; .* or unset it"):
        _dispatch.resolve_backend("auto", on_gpu)


def test_a_triton_older_than_the_kernels_support_is_named_and_auto_runs_torch(monkeypatch):
    # torch 2.4 pins triton 3.0, whose language refuses these kernels ("arange's arguments must be
    # of type tl.constexpr" in the interpreter)
    monkeypatch.setattr(_dispatch, "triton_version", lambda: (3, 0))
    on_gpu = torch.empty(1, device="meta")
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: self.is_meta))
    with pytest.warns(RuntimeWarning, match=r"need triton >= 3\.6, found 3\.0 .*torch >= 2\.10.*torch path on the GPU"):
        assert _dispatch.resolve_backend("auto", on_gpu) == "torch"
    with pytest.raises(ValueError, match=r"^backend='triton': .*need triton >= 3\.6, found 3\.0.*use backend='torch'$"):
        _dispatch.resolve_backend("triton", on_gpu)


def test_the_installed_triton_version_is_read_without_importing_it():
    version = _dispatch.triton_version()
    try:
        import triton
    except ImportError:
        assert version is None
    else:
        assert version == tuple(int(p) for p in triton.__version__.split(".")[:2])


def one_wide(*shapes: int, wide: int) -> list[torch.Tensor]:
    """float32 inputs of the given shapes, the ``wide``-th one float64."""
    g = torch.Generator().manual_seed(0)
    return [torch.rand(*s, generator=g, dtype=torch.float64 if i == wide else torch.float32) / 4
            for i, s in enumerate(shapes)]


# docs/kernels.md, "Dtypes and autocast": the convolution and SSM-kernel ops promote a float32/float64 mix
# (plain torch, autograd's backward), while the scans refuse it with a cast hint
PROMOTING = {
    "fft_conv": lambda wide: k.fft_conv(*one_wide((2, 5, 4), (4, 5), wide=wide)),
    "companion_kernel": lambda wide: k.companion_kernel(*one_wide((2, 4), (2, 4), (2, 4), wide=wide), 6),
    "closed_loop_rollout": lambda wide: k.closed_loop_rollout(*one_wide(*[(2, 4)] * 4, (3, 2, 4), wide=wide), 6),
    "s4d_kernel": lambda wide: k.s4d_kernel(*(t if i != 1 else -t - 0.1 for i, t in
                                              enumerate(one_wide((2,), (2, 3), (2, 3), (2, 3), wide=wide))), 6),
}


@pytest.mark.parametrize("op", sorted(PROMOTING))
@pytest.mark.parametrize("wide", [0, 1])
def test_the_convolution_and_ssm_kernel_ops_promote_a_float32_float64_mix_as_documented(op, wide):
    assert PROMOTING[op](wide).dtype == torch.float64
    assert PROMOTING[op](99).dtype == torch.float32  # no float64 input: float32


def test_the_scans_refuse_a_float32_float64_mix_with_a_cast_hint():
    a, b = one_wide((2, 5, 4), (2, 5, 4), wide=1)
    with pytest.raises(TypeError, match=r"^a has dtype torch.float32 but b has torch.float64; cast it with "
                                        r"\.to\(b.dtype\)$"):
        k.linear_scan(a, b)


@pytest.mark.parametrize("value,expected", [("TORCH", "torch"), (" Naive ", "naive"), ("AUTO", "torch")])
def test_the_environment_variable_is_read_case_blind(monkeypatch, value, expected):
    # _dispatch.env_backend documents "read at each call, case-blind"
    monkeypatch.setenv(_dispatch.ENV_VAR, value)
    assert _dispatch.resolve_backend("auto", torch.zeros(2)) == expected


def test_a_triton_checkout_without_package_metadata_counts_as_the_supported_version(monkeypatch):
    # importable but not installed as a package (a source checkout): taken as MIN_TRITON, not as absent
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a, **kw: object())
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    _dispatch.triton_version.cache_clear()
    try:
        assert _dispatch.triton_version() == _dispatch.MIN_TRITON
        assert _dispatch.triton_available()
    finally:
        _dispatch.triton_version.cache_clear()


def test_auto_on_a_gpu_does_not_blame_a_supported_triton_for_a_call_without_a_kernel(monkeypatch):
    # the "need triton >= 3.6" warning is for an old Triton only, not for a call that has no kernel
    monkeypatch.setattr(_dispatch, "triton_version", lambda: _dispatch.MIN_TRITON)
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: self.is_meta))
    on_gpu = torch.empty(1, device="meta")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _dispatch.resolve_backend("auto", on_gpu, no_triton="complex inputs have no Triton kernel") == "torch"
        assert _dispatch.resolve_backend("auto", on_gpu, triton_fits=False) == "torch"


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("ON", True), ("Yes", True), ("y", True),
                                       ("0", False), ("2", False), (" 1", False), ("false", False), ("", False)])
def test_interpreter_is_read_as_triton_reads_the_variable(monkeypatch, value, on):
    """TRITON_INTERPRET=true runs Triton's interpreter as =1 does: a Triton call on CPU tensors was refused then,
    "needs CUDA tensors (or TRITON_INTERPRET=1 ...)", though the variable was set."""
    monkeypatch.setenv("TRITON_INTERPRET", value)
    assert _dispatch.triton_interpreting() is on


def test_interpreter_values_agree_with_the_installed_triton():
    """The spellings above are Triton's own: its knob and tsrec read each value alike (in a child process, as
    importing triton here would change what other tests see)."""
    pytest.importorskip("triton")  # a dev dependency: skipped visibly, never silently passed
    script = ("import os, triton\nfrom tsrec.kernels._dispatch import triton_interpreting\n"
              "for v in ['1', 'true', 'ON', 'Yes', 'y', '0', '2', ' 1', 'false', 'no', '']:\n"
              "    os.environ['TRITON_INTERPRET'] = v\n"
              "    print(repr(v), triton.knobs.runtime.interpret, triton_interpreting())\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    lines = run.stdout.splitlines()
    assert len(lines) == 11
    assert [line for line in lines if line.split()[-2] != line.split()[-1]] == []
