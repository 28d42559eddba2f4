"""linear_scan: every CPU backend against the float64 loop, gradients, properties, bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrec.kernels import linear_scan, linear_scan_step
from tsrec.kernels.linear import torch_impl
from _compare import TOL, half_errors, rel_err


def make(shape, dtype, seed=0, h0=True):
    g = torch.Generator().manual_seed(seed)
    real = torch.float64 if not dtype.is_complex else torch.complex128
    # |a| < 1 keeps the recurrence stable, as real models do
    a = 0.95 * torch.rand(shape, generator=g, dtype=torch.float64)
    if dtype.is_complex:
        a = a * torch.exp(2j * torch.pi * torch.rand(shape, generator=g, dtype=torch.float64))
    b = torch.randn(shape, generator=g, dtype=real)
    s = torch.randn(shape[0], shape[2], generator=g, dtype=real) if h0 else None
    leaves = [x.to(dtype).requires_grad_() for x in (a, b) + ((s,) if h0 else ())]
    return leaves


def run(backend, leaves, reverse):
    a, b, *rest = leaves
    h, hT = linear_scan(a, b, initial_state=rest[0] if rest else None, reverse=reverse,
                        output_final_state=True, backend=backend)
    # touch both outputs so the final-state gradient path is exercised
    loss = (h * h.conj()).real.sum() + (hT * torch.arange(1, hT.shape[1] + 1)).real.sum()
    return [h, hT, *torch.autograd.grad(loss, leaves)]


@pytest.mark.parametrize("dtype", list(TOL))
@pytest.mark.parametrize("shape", [(2, 1, 3), (3, 17, 5), (2, 300, 3)])  # last one: chunked path
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("h0", [False, True])
def test_torch_matches_naive(dtype, shape, reverse, h0):
    leaves = make(shape, dtype, h0=h0)
    ref = run("naive", leaves, reverse)
    got = run("torch", leaves, reverse)
    for name, x, r in zip(["h", "h_T", "da", "db", "dh0"], got, ref):
        assert x.dtype == r.dtype
        assert rel_err(x, r) < TOL[dtype], name


@pytest.mark.parametrize("force_chunk", [False, True])
@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_gradcheck(monkeypatch, force_chunk, dtype):
    if force_chunk:  # run the chunked loop on a tiny input
        monkeypatch.setattr(torch_impl, "CHUNK_MIN_TIME", 1)
    for reverse in (False, True):
        a, b, s = make((2, 11, 2), dtype)
        fn = lambda a, b, s: linear_scan(a, b, initial_state=s, reverse=reverse,  # noqa: E731
                                         output_final_state=True, backend="torch")
        assert torch.autograd.gradcheck(fn, (a, b, s))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("T", [9, 64])  # 64: the chunked loop
def test_half_precision_accumulates_in_float32(dtype, T):
    a, b, s = (x.detach().to(dtype) for x in make((2, T, 4), torch.float32))
    h = linear_scan(a, b, backend="torch")
    assert h.dtype == dtype
    fn = lambda backend: lambda a, b, s: linear_scan(a, b, initial_state=s, backend=backend)  # noqa: E731
    errors = half_errors(fn("torch"), fn("naive"), [a, b, s])  # h, then da, db, dh0
    assert max(errors) < (1e-2 if dtype == torch.bfloat16 else 2e-3), errors


@pytest.mark.parametrize("backend", ["torch", "naive"])
@pytest.mark.parametrize("reverse", [False, True])
def test_half_precision_final_state_is_the_last_row_in_bs_dtype(backend, reverse):
    a, b, s = (x.detach().to(torch.bfloat16) for x in make((2, 6, 3), torch.float32))
    h, last = linear_scan(a, b, initial_state=s.float(), reverse=reverse, output_final_state=True, backend=backend)
    assert last.dtype == torch.bfloat16 and torch.equal(last, h[:, 0 if reverse else -1])
    # fed back as the next call's initial state it is taken, as float32 is
    assert linear_scan(a, b, initial_state=last, reverse=reverse, backend=backend).dtype == torch.bfloat16


def test_step_matches_scan():
    a, b, s = (x.detach() for x in make((2, 5, 3), torch.float64))
    h = linear_scan(a, b, initial_state=s, backend="naive")
    state = s
    for t in range(5):
        state = linear_scan_step(state, a[:, t], b[:, t])
    assert rel_err(state, h[:, -1]) < 1e-12


def test_env_override(monkeypatch):
    monkeypatch.setenv("TSREC_KERNEL_BACKEND", "naive")
    a, b = (x.detach() for x in make((1, 4, 2), torch.float32, h0=False))
    assert torch.equal(linear_scan(a, b), linear_scan(a, b, backend="naive"))


def overflowing_gates(case: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Gates > 1 whose running product overflows float32 inside one chunk, where the state is 0
    (or lifts it back after an underflow, "lifted", which dropped the state carried in).

    The chunked path (T >= 64, few rows) added ``prod * carry`` = inf * 0 = NaN there and carried
    the NaN into every later chunk, where the step-by-step recurrence is finite.
    """
    if case == "lifted":  # product 1e-60 underflows to 0, then gates of 1e30 lift the state back
        a, b = torch.ones(1, 256, 1), torch.zeros(1, 256, 1)  # chunks of 16: step 15 ends the first
        b[0, 15], a[0, 16:18], a[0, 18:20] = 1e30, 1e-30, 1e30  # the second chunk's product lost that state
        return a, b
    if case == "lifted negative":  # the same with gates of -1e-30 and -1e30, above 1 in magnitude only
        a, b = torch.ones(1, 64, 1), torch.zeros(1, 64, 1)  # chunks of 8: step 7 ends the first
        b[0, 7], a[0, 9:11], a[0, 11:13] = 1e30, -1e-30, -1e30
        return a, b
    if case == "lifted complex":  # the same with gates of 1e25 i, above 1 in magnitude, not in real part
        a, b = torch.full((1, 64, 1), 0.5 + 0j), torch.zeros(1, 64, 1, dtype=torch.complex64)  # chunks of 8
        b[0, 7], a[0, 8:12, 0] = 1e15, torch.tensor([1e-25, 1e-25, 1e25j, 1e25j])
        return a, b
    if case == "zero state":  # the audit's repro: 17**32 > float32 max, no input yet
        a, b = torch.full((1, 1024, 1), 0.9), torch.randn(1, 1024, 1, generator=torch.Generator().manual_seed(0))
        a[0, :32], b[0, :32] = 17.0, 0.0
    else:  # "reset": a tiny state grows to 1e9, the product to inf, then a zero gate makes NaN
        a, b = torch.full((1, 256, 1), 0.5), torch.ones(1, 256, 1)
        b[0, :4], a[0, 1:4], a[0, 4] = 1e-30, 1e13, 0.0
    return a, b


@pytest.mark.parametrize("case", ["zero state", "reset", "lifted", "lifted negative", "lifted complex"])
@pytest.mark.parametrize("reverse", [False, True])
def test_chunked_path_survives_overflowing_gate_products(case, reverse):
    a, b = (x.flip(1) if reverse else x for x in overflowing_gates(case))
    ref = linear_scan(a, b, reverse=reverse, backend="naive")
    assert torch.isfinite(ref).all()
    assert rel_err(linear_scan(a, b, reverse=reverse, backend="torch"), ref) < TOL[torch.float32]


@pytest.mark.parametrize("reverse", [False, True])
def test_chunked_backward_survives_overflowing_gate_products(reverse):
    # a reset gate, then 63 gates of 17 with no input and no loss weight: state and adjoint are
    # exactly 0 there, and the gate products of a forward chunk and of an adjoint chunk overflow
    g = torch.Generator().manual_seed(1)
    a, b, w = torch.full((1, 1024, 1), 0.9), torch.randn(1, 1024, 1, generator=g), torch.randn(1, 1024, 1, generator=g)
    a[0, 960], a[0, 961:], b[0, 960:], w[0, 960:] = 0.0, 17.0, 0.0, 0.0
    a, b, w = (x.flip(1) if reverse else x for x in (a, b, w))
    outs = {}
    for backend in ("naive", "torch"):
        leaves = [a.clone().requires_grad_(), b.clone().requires_grad_()]
        h = linear_scan(*leaves, reverse=reverse, backend=backend)
        outs[backend] = [h, *torch.autograd.grad((h * w).sum(), leaves)]
    for name, got, ref in zip(["h", "da", "db"], outs["torch"], outs["naive"]):
        assert torch.isfinite(ref).all(), name
        assert rel_err(got, ref) < TOL[torch.float32], name


# ---- properties (hypothesis) ----

SETTINGS = settings(max_examples=20, deadline=None)
dims = st.tuples(st.integers(1, 3), st.integers(2, 40), st.integers(1, 4))


@SETTINGS
@given(shape=dims, cut=st.floats(0.05, 0.95), seed=st.integers(0, 10_000), chunk=st.booleans())
def test_split_with_carried_state_equals_whole(shape, cut, seed, chunk):
    a, b, s = (x.detach() for x in make(shape, torch.float64, seed=seed))
    old = torch_impl.CHUNK_MIN_TIME
    torch_impl.CHUNK_MIN_TIME = 1 if chunk else 10**9
    try:
        k = max(1, min(shape[1] - 1, int(cut * shape[1])))
        whole = linear_scan(a, b, initial_state=s, backend="torch")
        h1, mid = linear_scan(a[:, :k], b[:, :k], initial_state=s, output_final_state=True, backend="torch")
        h2 = linear_scan(a[:, k:], b[:, k:], initial_state=mid, backend="torch")
    finally:
        torch_impl.CHUNK_MIN_TIME = old
    assert rel_err(torch.cat([h1, h2], 1), whole) < 1e-12


@SETTINGS
@given(shape=dims, seed=st.integers(0, 10_000), backend=st.sampled_from(["torch", "naive"]))
def test_reverse_is_flip_scan_flip(shape, seed, backend):
    a, b, s = (x.detach() for x in make(shape, torch.float64, seed=seed))
    rev = linear_scan(a, b, initial_state=s, reverse=True, backend=backend)
    flipped = linear_scan(a.flip(1), b.flip(1), initial_state=s, backend=backend).flip(1)
    assert rel_err(rev, flipped) < 1e-12


@SETTINGS
@given(shape=dims, seed=st.integers(0, 10_000))
def test_unit_gate_is_cumsum_and_zero_gate_is_identity(shape, seed):
    _, b, _ = (x.detach() for x in make(shape, torch.float64, seed=seed))
    assert rel_err(linear_scan(torch.ones_like(b), b, backend="torch"), b.cumsum(1)) < 1e-12
    assert torch.equal(linear_scan(torch.zeros_like(b), b, backend="torch"), b)


# ---- bad input ----

def _ab():
    return torch.rand(2, 4, 3), torch.randn(2, 4, 3)


@pytest.mark.parametrize(
    "mutate, exc, match",
    [
        (lambda a, b: (a, b[:, :3]), ValueError, r"b has shape \(2, 3, 3\) but a has \(2, 4, 3\); a and b must have"),
        (lambda a, b: (a.double(), b), TypeError, "dtype"),
        # was "cast it with .float()", which a float64 b then refused
        (lambda a, b: (a.long(), b), TypeError, r"a must be a floating or complex tensor, got dtype torch.int64; cast "
                                                r"it to the floating dtype of the other inputs, e\.g\. \.float\(\)$"),
        (lambda a, b: (a, b.clone().index_fill_(1, torch.tensor([1]), float("nan"))), ValueError, "b contains NaN"),
        (lambda a, b: (a[0], b[0]), ValueError, "a must have 3 dims"),
        (lambda a, b: (a[:, :0], b[:, :0]), ValueError, "empty time axis"),
        (lambda a, b: (a.numpy(), b), TypeError, "torch.Tensor"),
    ],
)
@pytest.mark.parametrize("backend", ["torch", "naive"])  # the specification refuses them too
def test_bad_inputs(mutate, exc, match, backend):
    a, b = mutate(*_ab())
    with pytest.raises(exc, match=match):
        linear_scan(a, b, backend=backend)


def test_complex_with_real_names_the_cast_that_keeps_the_imaginary_part():
    a, b = _ab()
    # was "cast it with .to(b.dtype)", which turns the complex a real
    lossless = r"a has dtype torch.complex64 .*; cast b to the complex dtype with b\.to\(a\.dtype\)"
    with pytest.raises(TypeError, match=lossless):
        linear_scan(a.cfloat(), b)
    # the other way round casting the real one to the reference's complex dtype loses nothing
    with pytest.raises(TypeError, match=r"a has dtype torch.float32 .*; cast it with \.to\(b\.dtype\)"):
        linear_scan(a, b.cfloat())


def test_bad_initial_state_and_backend():
    a, b = _ab()
    with pytest.raises(ValueError, match=r"initial_state must have shape \(2, 3\)"):
        linear_scan(a, b, initial_state=torch.zeros(2, 4))
    with pytest.raises(ValueError, match="unknown kernel backend"):
        linear_scan(a, b, backend="cuda")
    with pytest.raises(ValueError, match=r"unknown kernel backend 'Torch'; .* \(lower case: 'torch'\)"):
        linear_scan(a, b, backend="Torch")
    with pytest.raises(ValueError, match="use backend='torch'"):
        linear_scan(a.cfloat(), b.cfloat(), backend="triton")
    with pytest.raises(ValueError, match="CUDA tensors"):
        linear_scan(a, b, backend="triton")
    with pytest.raises(ValueError, match="b_t has shape .* but state has .*; state, a_t and b_t must have the same"):
        linear_scan_step(torch.zeros(2, 3), a[:, 0], b[:, 0, :2])
    with pytest.raises(TypeError, match=r"a_t has dtype torch.float32 but state has torch.float64; cast it"):
        linear_scan_step(torch.zeros(2, 3, dtype=torch.float64), a[:, 0], b[:, 0])
    with pytest.raises(ValueError, match="b_t contains NaN or inf"):
        linear_scan_step(torch.zeros(2, 3), a[:, 0], torch.full_like(b[:, 0], float("nan")))


@pytest.mark.parametrize("time", [70, 300])  # both lengths leave padding in the last chunk
def test_chunked_output_is_contiguous_like_the_loop(time):
    # the chunked path returned a slice of its padded buffer: h.view(-1, C) failed on torch only
    a, b = make((2, time, 3), torch.float32, h0=False)
    for backend in ("naive", "torch"):
        h = linear_scan(a, b, backend=backend)
        assert h.is_contiguous(), (backend, h.stride())
        assert h.view(-1, 3).shape == (2 * time, 3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.complex64])
@pytest.mark.parametrize("shape", [(0, 64, 8), (4, 100, 0)])  # no rows, at the chunked path's length
def test_empty_batch_or_channels_give_empty_results(dtype, shape):
    # the chunked path reduced over the gates (aminmax) and failed on an empty tensor
    for backend in ("naive", "torch"):
        a, b, s = make(shape, dtype)
        h, last = linear_scan(a, b, initial_state=s, output_final_state=True, backend=backend)
        assert h.shape == shape and last.shape == (shape[0], shape[2])
        grads = torch.autograd.grad(h.real.sum(), (a, b, s), allow_unused=True)
        assert all(g is None or g.shape == x.shape for g, x in zip(grads, (a, b, s)))


@pytest.mark.parametrize("reverse", [False, True])
def test_backward_of_growing_gates_keeps_the_chunked_path(monkeypatch, reverse):
    # the adjoint's shifted-in gate was 0, which made every gate product 0: with any gate above 1,
    # the chunked backward took it for a lifted underflow and fell back to the plain loop (37x slower)
    a = torch.full((1, 256, 4), 1.0001, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, 256, 4, dtype=torch.float64, requires_grad=True)
    ref = torch.autograd.grad(linear_scan(a, b, reverse=reverse, backend="naive").sum(), (a, b))

    def no_loop(*args):
        raise AssertionError("the plain loop ran")

    monkeypatch.setattr(torch_impl, "_loop_scan", no_loop)
    got = torch.autograd.grad(linear_scan(a, b, reverse=reverse, backend="torch").sum(), (a, b))
    assert all(rel_err(g, r) < 1e-12 for g, r in zip(got, ref))


@pytest.mark.parametrize("time", [100, 70])  # not multiples of the chunk length: the last chunk is padded
def test_growing_gates_keep_the_chunked_forward_where_the_last_chunk_is_padded(monkeypatch, time):
    # the padding's gate is 1 (state unchanged): a 0 there would make a product 0, which with a gate
    # above 1 the underflow check takes for a lifted one, and sends the scan to the plain loop
    g = torch.Generator().manual_seed(0)
    a = torch.empty(2, time, 3).uniform_(0.9, 1.05, generator=g)
    b = torch.randn(2, time, 3, generator=g)
    ref = linear_scan(a, b, backend="naive")

    def no_loop(*args):
        raise AssertionError("the plain loop ran")

    monkeypatch.setattr(torch_impl, "_loop_scan", no_loop)
    assert rel_err(linear_scan(a, b, backend="torch"), ref) < TOL[torch.float32]
