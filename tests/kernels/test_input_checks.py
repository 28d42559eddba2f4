"""The NaN/inf check: one read of a value per op call (a GPU waits on each), exact culprit named; the other
input checks the ops share (complex input, shapes, a length too long for memory)."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from tsrec import kernels as k
from tsrec.kernels import _checks, _memory
from tsrec.kernels._checks import check_finite, check_same_shape

GEN = torch.Generator().manual_seed(0)


def rnd(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN)


def l1_unit(*shape: int) -> torch.Tensor:
    x = rnd(*shape)
    return x / x.abs().sum(-1, keepdim=True)


def neg(*shape: int) -> torch.Tensor:
    return -rnd(*shape).abs()


# every op with all its optional inputs given, so that each one is checked
CALLS = {
    "selective_scan": lambda: k.selective_scan(rnd(2, 5, 4), rnd(2, 5, 4).abs(), neg(4, 3), rnd(2, 5, 3), rnd(2, 5, 3),
                                               D=rnd(4), z=rnd(2, 5, 4), delta_bias=rnd(4), initial_state=rnd(2, 4, 3),
                                               backend="torch"),
    "linear_scan": lambda: k.linear_scan(rnd(2, 5, 4).abs(), rnd(2, 5, 4), initial_state=rnd(2, 4), backend="torch"),
    "rnn_scan": lambda: k.rnn_scan(rnd(2, 5, 4), rnd(4, 4), initial_state=rnd(2, 4), backend="torch"),
    "fft_conv": lambda: k.fft_conv(rnd(2, 5, 4), rnd(4, 5), D=rnd(4)),
    "scan2d": lambda: k.scan2d(rnd(1, 3, 2, 2), rnd(1, 3, 2, 2).abs(), rnd(1, 3, 2, 2).abs(), neg(2, 3), neg(2, 3),
                               neg(2, 3), neg(2, 3), *(rnd(1, 3, 2, 3) for _ in range(4)), D=rnd(2),
                               initial_state=(rnd(1, 2, 2, 3), rnd(1, 2, 2, 3)), backend="torch"),
    "cfc_scan": lambda: k.cfc_scan(rnd(2, 5, 3), rnd(2, 4), rnd(4, 3), rnd(3, 4), rnd(4), rnd(3, 4), rnd(4),
                                   rnd(3, 4), rnd(4), backend="torch"),
    "ltc_scan": lambda: k.ltc_scan(rnd(2, 5, 8).abs(), rnd(2, 4), rnd(4).abs() + 1, rnd(4), rnd(4).abs() + 2,
                                   *(rnd(4, 4).abs() for _ in range(4)), backend="torch"),
    # the finiteness verdict and method="auto"'s "a is L1-bounded" share the read (an unbounded a
    # reads each input again, to name a non-finite one or else to take Krylov)
    "companion_kernel": lambda: k.companion_kernel(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), 6),
    # the finiteness and the "no mode at 0" verdicts share the read
    "s4d_kernel": lambda: k.s4d_kernel(rnd(2), neg(2, 3), rnd(2, 3), rnd(2, 3), 6, B=rnd(2, 3)),
    # likewise the finiteness and the "every mode stable" verdicts
    "nplr_kernel": lambda: k.nplr_kernel(rnd(2), torch.complex(neg(2, 3), rnd(2, 3)), rnd(2, 3), rnd(2, 3),
                                         rnd(2, 3), 6),
    "closed_loop_rollout": lambda: k.closed_loop_rollout(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), rnd(2, 4),
                                                         rnd(3, 2, 4), 6),
    "nplr_discrete": lambda: k.nplr_discrete(rnd(2), torch.complex(neg(2, 3), rnd(2, 3)), rnd(2, 3), rnd(2, 3)),
}


@pytest.mark.parametrize("op", sorted(CALLS))
def test_an_op_reads_one_value_to_check_all_its_inputs(op, monkeypatch):
    reads = []
    original = torch.Tensor.__bool__
    monkeypatch.setattr(torch.Tensor, "__bool__", lambda self: reads.append(1) or original(self))
    CALLS[op]()
    assert len(reads) == 1


@pytest.mark.parametrize("op", sorted(CALLS))
def test_a_sparse_input_is_refused_with_the_dense_fix(op, monkeypatch):
    # it passed the checks and failed deep inside torch (a bare NotImplementedError listing dispatch keys)
    dense_op = getattr(k, op)
    monkeypatch.setattr(k, op, lambda first, *args, **kwargs: dense_op(first.to_sparse(), *args, **kwargs))
    with pytest.raises(TypeError, match=r"must be a dense tensor, got layout torch.sparse_coo; pass .*\.to_dense\(\)"):
        CALLS[op]()


def test_the_first_non_finite_tensor_is_named():
    with pytest.raises(ValueError, match="^b contains NaN or inf"):
        check_finite(a=torch.ones(3), b=torch.tensor([1.0, float("inf")]), c=torch.tensor([float("nan")]))
    # +inf and -inf in different tensors are each caught (their sums are not added together)
    with pytest.raises(ValueError, match="^a contains NaN or inf"):
        check_finite(a=torch.tensor([float("inf")]), b=torch.tensor([-float("inf")]))


def test_a_sum_that_overflows_is_not_mistaken_for_bad_input():
    big = torch.full((4,), 3e38)  # finite float32 values whose sum is inf
    check_finite(x=big, y=None, z=torch.zeros(2))
    kernel = k.s4d_kernel(torch.zeros(2), neg(2, 3), rnd(2, 3), torch.full((2, 3), 3e38), 4)
    assert kernel.shape == (2, 4)  # (heads, L); no error: the values were finite


S4D_REFUSAL = r"^A has a mode with A_real >= 0, .*; keep A_real < 0 \(e.g. -exp\(log_A_real\)\)$"


def test_a_mode_at_zero_is_refused_with_finite_inputs():
    A_real = neg(2, 3)
    A_real[1, 2] = 0.0
    A_imag = rnd(2, 3)
    A_imag[1, 2] = 0.0
    with pytest.raises(ValueError, match=S4D_REFUSAL):
        k.s4d_kernel(torch.zeros(2), A_real, A_imag, rnd(2, 3), 4)


@pytest.mark.parametrize("A_real", [torch.rand(3, 2) * 10 + 1, torch.tensor([[-1.0, 0.0]] * 3),
                                    torch.full((3, 2), -0.0)])
def test_a_mode_with_a_real_part_of_zero_or_more_is_refused_as_nplr_kernel_refuses_it(A_real):
    # A_real > 0 returned a kernel of NaN and inf without a word; 0 with A_imag != 0 an unstable one
    with pytest.raises(ValueError, match=S4D_REFUSAL):
        k.s4d_kernel(torch.zeros(3), A_real, torch.ones(3, 2), rnd(3, 2), 200)


def complex_(*shape: int) -> torch.Tensor:
    return torch.complex(rnd(*shape), rnd(*shape))


# ops that take real tensors only, each given one complex input
REAL_ONLY = {
    "selective_scan": lambda: k.selective_scan(complex_(2, 5, 4), rnd(2, 5, 4).abs(), neg(4, 3), rnd(2, 5, 3),
                                               rnd(2, 5, 3)),
    "fft_conv": lambda: k.fft_conv(complex_(2, 5, 4), rnd(4, 5)),
    "companion_kernel": lambda: k.companion_kernel(l1_unit(2, 4), complex_(2, 4), rnd(2, 4), 6),
    "scan2d": lambda: k.scan2d(complex_(1, 3, 2, 2), rnd(1, 3, 2, 2).abs(), rnd(1, 3, 2, 2).abs(), neg(2, 3), None,
                               None, neg(2, 3), *(rnd(1, 3, 2, 3) for _ in range(4))),
    "rnn_scan": lambda: k.rnn_scan(complex_(2, 5, 4), rnd(4, 4)),
}


@pytest.mark.parametrize("op", sorted(REAL_ONLY))
def test_complex_input_to_a_real_op_is_refused_without_a_lossy_cast(op):
    # the fix offered was ".float()", which drops the imaginary part without a word
    with pytest.raises(TypeError, match="complex input is not supported") as caught:
        REAL_ONLY[op]()
    assert ".float()" not in str(caught.value)


def test_a_shape_mismatch_names_both_tensors_and_the_fix():
    with pytest.raises(ValueError, match=r"^c has shape \(3,\) but a has \(2,\); a, b and c must have the same shape$"):
        check_same_shape(a=rnd(2), b=rnd(2), c=rnd(3))
    check_same_shape(a=rnd(2, 3), b=rnd(2, 3))
    check_same_shape()  # nothing to compare


# every kernel builder that takes a length, at L = 100,000: a few MB each, more than the 1 MiB machine below
LONG = {
    "companion_kernel fft": lambda: k.companion_kernel(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), 10**5, method="fft"),
    "companion_kernel krylov": lambda: k.companion_kernel(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), 10**5,
                                                          method="krylov"),
    "companion_kernel naive": lambda: k.companion_kernel(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), 10**5, backend="naive"),
    "closed_loop_rollout": lambda: k.closed_loop_rollout(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), rnd(2, 4),
                                                         rnd(3, 2, 4), 10**5),
    "s4d_kernel": lambda: k.s4d_kernel(rnd(2), neg(2, 3) - 0.1, rnd(2, 3), rnd(2, 3), 10**5),
    "nplr_kernel": lambda: k.nplr_kernel(rnd(2), torch.complex(neg(2, 3) - 0.1, rnd(2, 3)), rnd(2, 3), rnd(2, 3),
                                         rnd(2, 3), 10**5),
}


@pytest.mark.parametrize("op", sorted(LONG))
def test_a_length_too_long_for_memory_is_refused_with_the_gib_and_the_fix(op, monkeypatch):
    # companion_kernel(a, b, c, L=10**9) ran for minutes and grew to many GB; the check reads the sizes only
    monkeypatch.setattr(_checks, "physical_memory", lambda: 2**20, raising=False)  # a 1 MiB machine
    monkeypatch.setattr(_checks, "ALWAYS_FITS", 0)  # checked at any size
    with pytest.raises(ValueError, match=r"^L=100,000 needs at least [\d.]+ GiB for the \(.*100,000.*\) .* more than "
                                         r"the 0.000977 GiB of memory this process may use; pass a shorter L"):
        LONG[op]()


def test_the_memory_check_passes_what_fits_and_skips_meta_tensors(monkeypatch):
    monkeypatch.setattr(_checks, "physical_memory", lambda: 2**20, raising=False)
    monkeypatch.setattr(_checks, "ALWAYS_FITS", 0)
    assert k.companion_kernel(l1_unit(2, 4), rnd(2, 4), rnd(2, 4), 1000).shape == (2, 1000)
    meta = torch.empty(2, 4, device="meta")  # shapes only: nothing is allocated, so any length passes
    assert k.companion_kernel(meta, meta, meta, 10**5).shape == (2, 10**5)


def test_a_networks_everyday_kernel_reads_no_memory_figure(monkeypatch):
    # every forward of SpaceTime or LS4 builds kernels: the figure (cgroup files, about 20 us) is read only
    # for calls that could come near it
    def unread():
        raise AssertionError("physical_memory was read")

    monkeypatch.setattr(_checks, "physical_memory", unread, raising=False)
    assert k.companion_kernel(l1_unit(16, 64), rnd(16, 64), rnd(16, 64), 720).shape == (16, 720)
    with pytest.raises(AssertionError, match="was read"):
        k.companion_kernel(l1_unit(16, 64), rnd(16, 64), rnd(16, 64), 10**7)


def test_a_cuda_tensors_memory_is_its_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: SimpleNamespace(total_memory=80 * 2**30))
    assert _checks.device_memory(torch.device("cuda:0")) == (80 * 2**30, "cuda:0 has")


def test_the_memory_figure_has_one_copy_which_the_estimators_read():
    from tsrec.estimators import _horizon

    assert _horizon.physical_memory is _memory.physical_memory
    assert not (Path(_horizon.__file__).parents[1] / "_memory.py").exists()  # tsrec/_memory.py, the old copy


@pytest.mark.parametrize("L", [0, -3])
def test_a_length_below_one_is_refused(L):
    with pytest.raises(ValueError, match=rf"L must be a positive int \(the kernel length\), got {L}"):
        _checks.check_length(L, "the kernel length")
    assert _checks.check_length(1, "the kernel length") == 1  # one step is a kernel


def test_half_precision_complex_is_told_to_cast_to_complex64():
    # the hint said "complex input is not supported here ... pass the real and imaginary parts as separate real
    # inputs", but linear_scan takes complex64 and complex128
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "ComplexHalf support is experimental"
        x = torch.ones(1, 3, 2, dtype=torch.complex32)
    with pytest.raises(TypeError, match=r"got dtype torch\.complex32; .*\.to\(torch\.complex64\)"):
        k.linear_scan(x, x)


def test_scan2d_names_the_state_size_of_b_and_c_when_every_a_is_transposed():
    # 4 A's of (N, channels) against 4 B/C of N: the tie went to A1's last axis, and the message asked for
    # A1 of shape (channels, channels), an N no B or C has
    grid, bc, a = torch.ones(2, 5, 3, 4), torch.ones(2, 5, 3, 2), -torch.ones(2, 4)
    with pytest.raises(ValueError, match=r"A1 must have shape \(4, 2\) .* got \(2, 4\); it looks transposed, "
                                         r"pass A1\.T"):
        k.scan2d(grid, grid, grid, a, a, a, a, bc, bc, bc, bc)


GRID = torch.ones(2, 5, 3, 4)  # (batch, time, variates, channels)
A2N, BC2, BC3 = -torch.ones(4, 2), torch.ones(2, 5, 3, 2), torch.ones(2, 5, 3, 3)


def test_the_state_size_most_tensors_have_wins_over_most_of_b_and_c():
    # A1..A4 and C2 have N = 2, B1, B2 and C1 have 3: five against three, so B1 is the one named
    with pytest.raises(ValueError, match=r"^B1 must have shape \(2, 5, 3, 2\) .*got \(2, 5, 3, 3\)$"):
        k.scan2d(GRID, GRID, GRID, A2N, A2N, A2N, A2N, BC3, BC3, BC3, BC2)


def test_a_full_tie_goes_to_a1s_state_size():
    # A1 and B2, C1 have N = 3; A4 and B1, C2 have 2 (A2, A3 None): 3 against 3 in all and 2 against 2 among
    # B1..C2, so A1's N = 3 is taken and A4 is named
    with pytest.raises(ValueError, match=r"^A4 must have shape \(4, 3\) \(channels, N\)"):
        k.scan2d(GRID, GRID, GRID, -torch.ones(4, 3), None, None, A2N, BC2, BC3, BC3, BC2)


def test_a_float64_input_beside_half_precision_is_told_float32_too():
    # the fix was .to(b.dtype) alone: a cast to half precision, where float32 is taken and keeps more
    a, b = torch.rand(1, 3, 2, dtype=torch.float64), torch.ones(1, 3, 2, dtype=torch.float16)
    with pytest.raises(TypeError, match=r"a has dtype torch\.float64 but b has torch\.float16; cast it with "
                                        r"\.float\(\) \(float32 is taken beside b's half precision\) or "
                                        r"\.to\(b\.dtype\)$"):
        k.linear_scan(a, b)
    assert k.linear_scan(a.float(), b).dtype == torch.float16


def test_two_shapes_that_differ_are_named_with_and():
    with pytest.raises(ValueError, match=r"^b has shape \(3,\) but a has \(2,\); a and b must have the same shape$"):
        check_same_shape(a=rnd(2), b=rnd(3))


def test_the_memory_bound_is_the_memory_itself(monkeypatch):
    """A call needing exactly the memory passes; 4 bytes more (one float32) are refused."""
    monkeypatch.setattr(_checks, "ALWAYS_FITS", 0)
    monkeypatch.setattr(_checks, "device_memory", lambda device: (2**30, "this process may use"))
    ref = torch.zeros(1)
    _checks.check_fits_in_memory(ref, 2**28, torch.float32, 10, lambda: "the kernel")
    with pytest.raises(ValueError, match=r"^L=10 needs at least 1 GiB for the kernel, more than the 1 GiB of memory"):
        _checks.check_fits_in_memory(ref, 2**28 + 1, torch.float32, 10, lambda: "the kernel")


def test_half_precision_beside_a_float64_reference_is_refused():
    """float32 takes half precision beside it (autocast's mix); float64 does not, as no autocast gives that mix."""
    _checks.check_mixed_precision_like("x", rnd(2), h=rnd(2).half())
    with pytest.raises(TypeError, match=r"^h has dtype torch.float16 but x has torch.float64; cast it with "
                                        r"\.to\(x\.dtype\)$"):
        _checks.check_mixed_precision_like("x", rnd(2).double(), h=rnd(2).half())


def test_a_complex_tensor_beside_a_real_reference_is_told_to_cast_the_reference_up():
    with pytest.raises(TypeError, match=r"^b has dtype torch.complex64 but a has torch.float32; cast a to the "
                                        r"complex dtype with a\.to\(b\.dtype\)$"):
        _checks.check_like("a", rnd(2), b=rnd(2).to(torch.complex64))


@pytest.mark.parametrize("dtype, accumulated", [
    (torch.float16, torch.float32), (torch.bfloat16, torch.float32), (torch.float32, torch.float32),
    (torch.float64, torch.float64), (torch.complex64, torch.complex64), (torch.complex128, torch.complex128)])
def test_kernels_accumulate_half_precision_in_float32_and_keep_the_rest(dtype, accumulated):
    assert _checks.compute_dtype(dtype) is accumulated


@pytest.mark.parametrize("limit, expected", [("1000\n", 1000), ("max\n", None)])
def test_a_containers_memory_limit_caps_the_machines_and_max_means_none(tmp_path, monkeypatch, limit, expected):
    """The lower of the machine's memory and its cgroup's limit; a limit of "max" (none) leaves the machine's."""
    (tmp_path / "memory.max").write_text(limit)
    monkeypatch.setattr(_memory, "_CGROUP_LIMITS", (str(tmp_path / "memory.max"), str(tmp_path / "absent")))
    machine = _memory.os.sysconf("SC_PAGE_SIZE") * _memory.os.sysconf("SC_PHYS_PAGES")
    assert _memory.physical_memory() == (machine if expected is None else expected)
