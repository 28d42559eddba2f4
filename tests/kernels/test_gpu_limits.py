"""What a GPU allows a Triton launch, and what a broken Triton costs, checked on a CPU.

- Shared memory: an A100 gives a block 163 KiB, an H100/H200 227 KiB. The tanh RNN kernel at
  H = 128 and the CfC kernels at ncps's 32 x 128 ask 176 KiB, so the size limits that pick the
  Triton path must be those of the GPU the tensors are on (before, one H100 rule served every GPU
  and an A100 refused those launches).
- Grid axes: CUDA takes 65535 programs on axes 1 and 2; the selective and 2-D scans put their
  channel blocks there, and a block of one channel reached it at 65536 channels.
- Import: a Triton that is installed but fails to import made every automatic GPU call fail.

The GPU is faked: ``is_cuda`` and the device's properties are patched, and the kernels are
recorded (:mod:`_triton_aot`) or never reached.
"""

from __future__ import annotations

import importlib.abc
import sys
import warnings
from types import SimpleNamespace

import pytest
import torch

from tsrec import kernels as k
from tsrec.kernels import _dispatch, _launch
from tsrec.kernels.recurrent import cfc as cfc_module
from tsrec.kernels.recurrent.cells import triton_hidden_limit
from tsrec.kernels.recurrent.cfc import triton_fits

A100, H100, RTX4090 = 166912, 232448, 101376  # opt-in shared memory of one block, bytes
GEN = torch.Generator().manual_seed(0)
MAX_GRID_YZ = 65535


def rnd(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN)


@pytest.fixture
def fake_gpu(monkeypatch):
    """Every tensor reads as a CUDA tensor of a GPU with a supported Triton; returns a setter of its
    shared memory per block (an H100's until set)."""
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    monkeypatch.setattr(_dispatch, "triton_available", lambda: True)
    monkeypatch.setattr(_dispatch, "triton_version", lambda: _dispatch.MIN_TRITON)
    monkeypatch.setattr(_dispatch, "triton_import_error", lambda: None)  # as if it imports (it may be absent)
    monkeypatch.delenv(_dispatch.ENV_VAR, raising=False)

    def set_shared(optin: int) -> None:
        props = SimpleNamespace(shared_memory_per_block_optin=optin, shared_memory_per_block=49152)
        monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: props)

    set_shared(H100)
    return set_shared


# --- shared memory ------------------------------------------------------------------------------


@pytest.mark.parametrize(("shared", "tanh", "gated"), [(H100, 128, 64), (A100, 64, 64), (RTX4090, 64, 32)])
def test_the_rnn_kernel_runs_the_largest_hidden_size_the_gpus_block_holds(shared, tanh, gated):
    assert (triton_hidden_limit("tanh", shared), triton_hidden_limit("gated", shared)) == (tanh, gated)


@pytest.mark.parametrize(("units", "width", "dtype", "on_h100", "on_a100"), [
    (32, 128, torch.float32, True, False),  # ncps's default: 176 KiB
    (64, 64, torch.float32, True, False),
    (16, 256, torch.float32, True, False),
    (32, 64, torch.float32, True, True),
    (64, 32, torch.float32, True, True),
    (32, 128, torch.float64, True, False),  # 208 KiB
    (16, 128, torch.float64, True, True),
    (64, 64, torch.float64, False, False),  # 232 KiB: not even an H100
])
def test_the_cfc_kernels_run_the_tiles_the_gpus_block_holds(units, width, dtype, on_h100, on_a100):
    assert (triton_fits(units, width, dtype, H100), triton_fits(units, width, dtype, A100)) == (on_h100, on_a100)


def test_the_block_is_read_from_the_tensors_gpu(monkeypatch):
    props = SimpleNamespace(shared_memory_per_block_optin=A100, shared_memory_per_block=49152)
    asked = []
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: asked.append(device) or props)
    x = torch.zeros(1)
    assert _launch.block_shared_memory(x) == H100  # off CUDA (the interpreter): no device to ask
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    assert _launch.block_shared_memory(x) == A100 and asked == [x.device]
    del props.shared_memory_per_block_optin  # ROCm's properties have no opt-in figure
    assert _launch.block_shared_memory(x) == 49152


def spy_backend(monkeypatch, module) -> list:
    """Record what ``module``'s backend choice returns, and run torch whatever it is."""
    picked, original = [], module.resolve_backend
    monkeypatch.setattr(module, "resolve_backend", lambda *a, **kw: picked.append(original(*a, **kw)) or "torch")
    return picked


def cfc_inputs(units: int, width: int) -> list:
    return [rnd(1, 2, width), rnd(1, units), rnd(units, width), *([rnd(width, units), rnd(units)] * 3)]


def test_auto_runs_torch_on_an_a100_where_a_launch_would_ask_too_much_shared_memory(fake_gpu, monkeypatch):
    # an A100 refused these launches (OutOfResources): 176 KiB each, the block has 163
    rnn_picked, cfc_picked = spy_backend(monkeypatch, k.recurrent), spy_backend(monkeypatch, cfc_module)
    for shared in (H100, A100):
        fake_gpu(shared)
        k.rnn_scan(rnd(1, 3, 128), 0.05 * rnd(128, 128))
        k.cfc_scan(*cfc_inputs(32, 128))
    assert rnn_picked == ["triton", "torch"] and cfc_picked == ["triton", "torch"]


def test_an_explicit_triton_call_too_large_for_the_gpu_names_the_limit_and_the_device(fake_gpu):
    pytest.importorskip("triton")  # the RNN refusal is the Triton module's own
    fake_gpu(A100)
    rnn = (r"^with the 163 KiB of shared memory a block has on cpu, the fused Triton RNN kernel keeps H <= 64 on chip "
           r"for cell 'tanh', got H=128; use backend='torch'$")
    with pytest.raises(ValueError, match=rnn):
        k.rnn_scan(rnd(1, 3, 128), 0.05 * rnd(128, 128), backend="triton")
    cfc = (r"fit the 163 KiB of shared memory a block has on cpu: in float32 at most 2048 values "
           r"\(16 x 128, 32 x 64, 64 x 32\), got U=32, Z=128; use backend='torch'$")
    with pytest.raises(ValueError, match=cfc):
        k.cfc_scan(*cfc_inputs(32, 128), backend="triton")


# --- grid axes ----------------------------------------------------------------------------------


def assert_launchable(grids: list) -> None:
    """Every grid within CUDA's limits: 2**31 - 1 programs on axis 0, 65535 on axes 1 and 2."""
    assert grids
    for grid in grids:
        assert grid[0] <= 2**31 - 1 and all(n <= MAX_GRID_YZ for n in grid[1:]), grid


def test_the_linear_scan_launches_more_than_65535_channel_blocks():
    pytest.importorskip("triton")
    from _triton_aot import recorded_launches
    from tsrec.kernels.linear import triton_impl as impl

    blocks = MAX_GRID_YZ + 3
    a, b = torch.ones(2, 1, impl.BLOCK_C * blocks), torch.zeros(2, 1, impl.BLOCK_C * blocks)
    with recorded_launches(impl, ("_scan_kernel",)) as calls:
        impl.linear_scan_triton(a, b, check_finite=True)
    assert_launchable(calls.grids)
    assert calls.grids == [(2 * blocks,)]  # every (batch row, channel block) once


@pytest.mark.parametrize("batch, units, rows, programs", [(3, 2, 4, 1), (130, 1, 64, 3), (130, 8, 64, 3),
                                                         (5, 20, 4, 2)])
def test_an_ltc_program_takes_no_more_rows_than_the_batch_needs_nor_64(batch, units, rows, programs):
    # rows were 4096 // U_pad**2 whatever the batch: 1024 rows, 1021 masked, for 3 series of 2 units
    pytest.importorskip("triton")
    from _triton_aot import recorded_launches
    from tsrec.kernels.recurrent import ltc_triton

    params = [torch.ones(units)] * 3 + [torch.ones(units, units)] * 4
    with recorded_launches(ltc_triton, ("_fwd_kernel",)) as calls:
        ltc_triton.ltc_scan_triton(torch.ones(batch, 2, 2 * units), torch.zeros(batch, units), params, 2, 1e-8)
    assert [kwargs["BB"] for _, _, kwargs in calls] == [rows] and calls.grids == [(programs,)]


def test_the_selective_scan_launches_a_layer_of_more_than_65535_channel_blocks():
    pytest.importorskip("triton")
    from _triton_aot import recorded_launches
    from tsrec.kernels.selective import triton_impl as impl

    channels, n_state = MAX_GRID_YZ + 3, 128  # float32, N > 64: one channel per program
    u, delta = torch.zeros(1, 16, channels), torch.ones(1, 16, channels)
    A, B, C = -torch.ones(channels, n_state), torch.zeros(1, 16, n_state), torch.zeros(1, 16, n_state)
    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        impl.selective_scan_triton(u, delta, A, B, C)
    assert_launchable(calls.grids)
    assert calls.grids == [(channels,)]  # every channel block, each once


def test_the_2d_scan_launches_a_layer_of_more_than_65535_channel_blocks():
    pytest.importorskip("triton")
    from _triton_aot import recorded_launches
    from tsrec.kernels.scan2d import triton_impl as impl

    channels, n_state = MAX_GRID_YZ + 3, 32  # float32, N > 16: one channel per program
    x = torch.zeros(2, 16, 1, channels)
    A = [-torch.ones(channels, n_state)] * 4
    BC = [torch.zeros(2, 16, 1, n_state)] * 4
    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        impl.scan2d_triton(x, x, x, A, BC, None, False)
    assert_launchable(calls.grids)
    assert calls.grids == [(2 * channels,)]


@pytest.mark.parametrize(("n_state", "launches"), [(16, 1), (128, 16)])
def test_the_selective_backward_keeps_its_partial_sums_within_8_times_u(n_state, launches):
    # one channel a block at N = 128: the partial sums of gB and gC were (batch, T, G, D, N), 128 times u
    pytest.importorskip("triton")
    from _triton_aot import recorded_launches
    from tsrec.kernels.selective import triton_impl as impl

    T, channels = 16, 1024
    u, delta = torch.zeros(1, T, channels, requires_grad=True), torch.ones(1, T, channels)
    A, B, C = -torch.ones(channels, n_state), torch.zeros(1, T, n_state), torch.zeros(1, T, n_state)
    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        y, _ = impl.selective_scan_triton(u, delta, A, B, C)
        y.sum().backward()
    backward = [args for kernel, args, _ in calls if kernel.fn.__name__ == "_bwd_kernel"]
    assert len(backward) == launches
    for args in backward:
        assert args[11].numel() == args[12].numel() <= 8 * T * channels  # gB's and gC's partial sums
    blocks = [(args[-1], args[-2]) for args in backward]  # (first block, blocks) of each launch
    n_blocks = impl._config(T, n_state, channels, torch.float32, backward=True)[3]
    assert [first for first, _ in blocks] == list(range(0, n_blocks, blocks[0][1]))
    assert sum(count for _, count in blocks) == n_blocks  # every channel block once


def test_the_host_launch_arithmetic_agrees_with_tritons():
    triton = pytest.importorskip("triton")
    for n in [*range(0, 70), 127, 128, 129, 4095, 4096, 4097, 2**31 - 1, 2**40 + 3]:
        assert _launch.next_power_of_2(n) == triton.next_power_of_2(n), n
        for d in (1, 7, 16, 32, 128):
            assert _launch.cdiv(n, d) == triton.cdiv(n, d), (n, d)


def test_a_grid_beyond_cudas_programs_is_refused_by_name():
    assert _launch.flat_grid(3, 4, 5) == (60,)
    with pytest.raises(ValueError, match=r"needs 2147483648 Triton programs \(65536 x 32768\), more than the "
                                         r"2147483647 a CUDA grid launches; split the batch or use backend='torch'"):
        _launch.flat_grid(65536, 32768)


# --- a Triton that fails to import --------------------------------------------------------------

def linear_call():
    a, b = rnd(2, 5, 3).abs(), rnd(2, 5, 3)
    return lambda backend: k.linear_scan(a, b, backend=backend)


def selective_call():
    args = [rnd(1, 4, 2), rnd(1, 4, 2).abs(), -rnd(2, 3).abs(), rnd(1, 4, 3), rnd(1, 4, 3)]
    return lambda backend: k.selective_scan(*args, backend=backend)


def scan2d_call():
    args = [rnd(1, 3, 2, 2), rnd(1, 3, 2, 2).abs(), rnd(1, 3, 2, 2).abs(), *(-rnd(2, 3).abs() for _ in range(4)),
            *(rnd(1, 3, 2, 3) for _ in range(4))]
    return lambda backend: k.scan2d(*args, backend=backend)[0]


def rnn_call():
    x, W = rnd(1, 4, 3), 0.3 * rnd(3, 3)
    return lambda backend: k.rnn_scan(x, W, backend=backend)


def ltc_call():
    args = [rnd(1, 3, 4).abs(), rnd(1, 2), rnd(2).abs() + 1, rnd(2), rnd(2).abs() + 2,
            *(rnd(2, 2).abs() for _ in range(4))]
    return lambda backend: k.ltc_scan(*args, backend=backend)


def cfc_call():
    args = cfc_inputs(3, 5)
    return lambda backend: k.cfc_scan(*args, backend=backend)


#: op: a maker of a call of it on fixed inputs, ``call(backend)``
OPS = {"linear_scan": linear_call, "selective_scan": selective_call, "scan2d": scan2d_call, "rnn_scan": rnn_call,
       "ltc_scan": ltc_call, "cfc_scan": cfc_call}
IMPORT_CHECK = _dispatch.triton_import_error  # the real one; fake_gpu stubs it


@pytest.fixture
def import_attempts(monkeypatch):
    """The real check of ``import triton`` (after fake_gpu's stub), its per-process memory cleared around the test."""
    monkeypatch.setattr(_dispatch, "triton_import_error", IMPORT_CHECK)
    IMPORT_CHECK.cache_clear()
    yield
    IMPORT_CHECK.cache_clear()


class _BrokenTriton(importlib.abc.MetaPathFinder):
    """Makes ``import triton`` raise as a broken install's does (RuntimeError: its own set-up check)."""

    def find_spec(self, name, path, target=None):
        if name == "triton" or name.startswith("triton."):
            raise RuntimeError("libcuda.so cannot be found (a broken triton for this test)")


def break_triton(monkeypatch, how: str) -> None:
    """Make ``import triton`` fail: absent (ImportError) or raising as a broken install does."""
    if how == "ImportError":
        monkeypatch.setitem(sys.modules, "triton", None)  # "import of triton halted; None in sys.modules"
        return
    for name in [m for m in sys.modules if m == "triton" or m.startswith("triton.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_BrokenTriton(), *sys.meta_path])


@pytest.mark.parametrize(("how", "error"), [("ImportError", "ModuleNotFoundError"), ("RuntimeError", "RuntimeError")])
@pytest.mark.parametrize("op", list(OPS))
def test_auto_runs_torch_with_a_warning_when_triton_fails_to_import(fake_gpu, import_attempts, monkeypatch, op, how,
                                                                      error):
    call = OPS[op]()
    expected = call("torch")
    break_triton(monkeypatch, how)
    for setting in ("auto", "triton"):  # the variable is a default, as "auto" is
        monkeypatch.setenv(_dispatch.ENV_VAR, setting)
        with pytest.warns(RuntimeWarning, match=rf"^importing triton failed \({error}: .*\); running the torch path"
                          ) as caught:
            got = call("auto")
        assert torch.equal(got, expected)
        # it names the line that called the op (through the op's wrappers), here a line of this file
        assert {w.filename for w in caught if "importing triton" in str(w.message)} == {__file__}


@pytest.mark.parametrize("op", list(OPS))
def test_an_explicit_triton_call_says_why_triton_failed_to_import(fake_gpu, import_attempts, monkeypatch, op):
    call = OPS[op]()
    break_triton(monkeypatch, "RuntimeError")
    with pytest.raises(ValueError, match=r"^backend='triton': importing triton failed \(RuntimeError: libcuda.so "
                                         r"cannot be found .*\); repair the triton install .* or use backend='torch'$"):
        call("triton")


def test_the_failed_import_is_tried_once(fake_gpu, import_attempts, monkeypatch):
    call = OPS["selective_scan"]()
    break_triton(monkeypatch, "RuntimeError")
    tried = []
    finder = sys.meta_path[0]
    counted = lambda name, *a: tried.append(name) or _BrokenTriton.find_spec(finder, name, None)  # noqa: E731
    monkeypatch.setattr(finder, "find_spec", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        call("auto")
        call("auto")
    assert tried.count("triton") == 1, tried


def test_a_broken_tsrec_kernel_module_is_not_taken_for_a_broken_triton(fake_gpu, import_attempts, monkeypatch):
    # only `import triton` falls back: a tsrec module that fails to import is a bug, and torch must not hide it
    pytest.importorskip("triton")
    monkeypatch.setitem(sys.modules, "tsrec.kernels.selective.triton_impl", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning either
        with pytest.raises(ImportError, match="tsrec.kernels.selective.triton_impl"):
            OPS["selective_scan"]()("auto")


def test_an_error_inside_a_kernel_launch_is_not_taken_for_a_broken_install(fake_gpu, import_attempts, monkeypatch):
    # only the import falls back: a launch that fails is a bug, and torch must not hide it
    pytest.importorskip("triton")
    from tsrec.kernels.selective import triton_impl

    def failing_launch(*args, **kwargs):
        raise RuntimeError("an illegal memory access was encountered")

    monkeypatch.setattr(triton_impl, "selective_scan_triton", failing_launch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning either
        with pytest.raises(RuntimeError, match="illegal memory access"):
            selective_call()("auto")
