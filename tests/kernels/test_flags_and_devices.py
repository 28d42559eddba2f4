"""On/off flags that are no bool, a state on another device and a cell name that is no string are refused by name.

Before the kernel input audit, ``reverse="no"`` read as True and scanned backwards (a silent wrong result),
``recurrent_scan`` with ``h0`` on another device than ``x`` failed inside torch ("Tensor on device meta is
not on the expected device cpu!") and ``rnn_scan(cell=["tanh"])`` on "unhashable type: 'list'".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pytest
import torch

from tsrec import kernels as k

GEN = torch.Generator().manual_seed(0)


def rnd(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN)


def neg(*shape: int) -> torch.Tensor:
    return -rnd(*shape).abs()


def tanh_step(x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x_t + h)


def scan2d(**flags: object) -> tuple:
    return k.scan2d(rnd(1, 3, 2, 2), rnd(1, 3, 2, 2).abs(), rnd(1, 3, 2, 2).abs(), *(neg(2, 3) for _ in range(4)),
                    *(rnd(1, 3, 2, 3) for _ in range(4)), backend="torch", **flags)


def selective_scan_step(**flags: object) -> tuple:
    return k.selective_scan_step(rnd(2, 4, 3), rnd(2, 4), rnd(2, 4).abs(), neg(4, 3), rnd(2, 3), rnd(2, 3), **flags)


# (op, flag): every boolean keyword of the public ops
FLAGGED: list[tuple[Callable, str]] = [
    (lambda **f: k.linear_scan(rnd(2, 5, 4).abs(), rnd(2, 5, 4), backend="torch", **f), "reverse"),
    (lambda **f: k.linear_scan(rnd(2, 5, 4).abs(), rnd(2, 5, 4), backend="torch", **f), "output_final_state"),
    (lambda **f: k.selective_scan(rnd(2, 5, 4), rnd(2, 5, 4).abs(), neg(4, 3), rnd(2, 5, 3), rnd(2, 5, 3),
                                  backend="torch", **f), "delta_softplus"),
    (lambda **f: k.selective_scan(rnd(2, 5, 4), rnd(2, 5, 4).abs(), neg(4, 3), rnd(2, 5, 3), rnd(2, 5, 3),
                                  backend="torch", **f), "output_final_state"),
    (selective_scan_step, "delta_softplus"),
    (scan2d, "reverse_variates"),
    (scan2d, "output_final_state"),
    (lambda **f: k.recurrent_scan(tanh_step, rnd(2, 5, 4), rnd(2, 4), backend="torch", **f), "reverse"),
    (lambda **f: k.recurrent_scan(tanh_step, rnd(2, 5, 4), rnd(2, 4), backend="torch", **f), "output_final_state"),
    (lambda **f: k.rnn_scan(rnd(2, 5, 4), rnd(4, 4), backend="torch", **f), "output_final_state"),
]
IDS = [f"{i}-{flag}" for i, (_, flag) in enumerate(FLAGGED)]


@pytest.mark.parametrize("value", ["no", None, 0, 1])
@pytest.mark.parametrize(("op", "flag"), FLAGGED, ids=IDS)
def test_a_flag_that_is_no_bool_is_refused_by_name(op, flag, value):
    # "no" read as True: reverse="no" scanned backwards without a word
    with pytest.raises(TypeError, match=rf"{flag} must be True or False, got {value!r}"):
        op(**{flag: value})


@pytest.mark.parametrize(("op", "flag"), FLAGGED, ids=IDS)
def test_a_numpy_bool_flag_is_taken_as_the_bool(op, flag):
    results = []
    for value in (np.bool_(True), True):
        GEN.manual_seed(0)  # the same inputs for both calls
        results.append(op(**{flag: value}))
    numpy_flag, plain = (r if isinstance(r, tuple) else (r,) for r in results)
    assert len(numpy_flag) == len(plain)
    for got, expected in zip(numpy_flag, plain):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_recurrent_scan_names_a_state_on_another_device():
    with pytest.raises(ValueError, match=r"h0 is on meta but x is on cpu; move it with .to\(x.device\)"):
        k.recurrent_scan(tanh_step, rnd(2, 5, 4), torch.zeros(2, 4, device="meta"))


def _on_meta(x: torch.Tensor) -> torch.Tensor:
    return x.to("meta")


MODES = torch.complex(-0.5 * torch.ones(2, 3), torch.ones(2, 3))
KERNEL_BUILDERS_WITH_AN_INPUT_ON_META = {
    # fft_conv and the roll-out returned a CPU tensor of the right shape from a meta input (values of nothing)
    "fft_conv": (lambda: k.fft_conv(rnd(1, 8, 2), _on_meta(rnd(2, 4))), "k", "u"),
    "closed_loop_rollout": (lambda: k.closed_loop_rollout(
        0.1 * rnd(2, 3), rnd(2, 3), rnd(2, 3), torch.zeros(2, 3), _on_meta(rnd(4, 2, 3)), 5), "s0", "a"),
    # the others failed inside torch, naming neither the input nor the fix
    "companion_kernel": (lambda: k.companion_kernel(0.1 * rnd(2, 3), rnd(2, 3), _on_meta(rnd(2, 3)), 6), "c", "a"),
    "s4d_kernel": (lambda: k.s4d_kernel(torch.zeros(2), neg(2, 3), rnd(2, 3), _on_meta(rnd(2, 3)), 8), "C", "log_dt"),
    "nplr_kernel": (lambda: k.nplr_kernel(torch.zeros(2), MODES, rnd(2, 3).cfloat(), rnd(2, 3).cfloat(),
                                          _on_meta(rnd(2, 3).cfloat()), 8), "C", "log_dt"),
}


@pytest.mark.parametrize("op", KERNEL_BUILDERS_WITH_AN_INPUT_ON_META)
def test_kernel_builders_name_an_input_on_another_device(op):
    call, moved, reference = KERNEL_BUILDERS_WITH_AN_INPUT_ON_META[op]
    with pytest.raises(ValueError, match=rf"^{moved} is on meta but {reference} is on cpu; move it with "
                                         rf"\.to\({reference}\.device\)$"):
        call()


def test_recurrent_scan_still_takes_a_state_of_another_float_dtype():
    # h0's dtype is the step function's business (here it promotes): only its device is checked
    h = k.recurrent_scan(tanh_step, rnd(2, 5, 4), torch.zeros(2, 4, dtype=torch.float64))
    assert h.dtype == torch.float64


def test_rnn_scan_names_a_cell_that_is_no_string():
    with pytest.raises(ValueError, match=r"unknown cell \['tanh'\]; use one of \['gated', 'tanh'\]"):
        k.rnn_scan(rnd(2, 5, 4), rnd(4, 4), cell=["tanh"])


class _Device:
    """Stands in for a tensor on a second GPU (this machine has none): only ``.device`` is read."""

    device = torch.device("cuda", 1)


def test_triton_launches_are_guarded_onto_the_tensors_gpu(monkeypatch):
    # Triton launches on the current CUDA device: a tensor on cuda:1 was read by a kernel on cuda:0
    from tsrec.kernels._launch import on_device_of

    entered = []
    monkeypatch.setattr(torch.cuda, "device", lambda dev: entered.append(dev) or contextlib.nullcontext())
    with on_device_of(_Device()):
        pass
    assert entered == [torch.device("cuda", 1)]


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_the_launch_guard_is_a_no_op_off_cuda(monkeypatch, device):
    # the interpreter runs the kernels on CPU tensors, where torch.cuda.device would raise without a GPU
    from tsrec.kernels._launch import on_device_of

    monkeypatch.setattr(torch.cuda, "device", lambda dev: pytest.fail(f"entered torch.cuda.device({dev})"))
    with on_device_of(torch.zeros(1, device=device)):
        pass
