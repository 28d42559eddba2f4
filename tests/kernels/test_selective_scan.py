"""selective_scan: torch path against the float64 loop, gradients, step API, properties, bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrec.kernels import linear_scan, selective_scan, selective_scan_step
from _compare import REAL_DTYPES, TOL, half_errors, rel_err

NAMES = ["u", "delta", "A", "B", "C", "D", "z", "delta_bias", "initial_state"]


def make(batch=2, T=9, dim=4, N=3, groups=None, dtype=torch.float64, seed=0, extras=True, h0=True):
    """Random inputs as a name -> tensor dict (None for absent options)."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    bc = (batch, T, N) if groups is None else (batch, T, groups, N)
    x = {
        "u": r(batch, T, dim),
        "delta": 0.5 * torch.rand(batch, T, dim, generator=g, dtype=torch.float64),
        "A": -torch.rand(dim, N, generator=g, dtype=torch.float64) - 0.1,
        "B": r(*bc), "C": r(*bc),
        "D": r(dim) if extras else None, "z": r(batch, T, dim) if extras else None,
        "delta_bias": 0.1 * r(dim) if extras else None,
        "initial_state": r(batch, dim, N) if h0 else None,
    }
    return {k: None if v is None else v.to(dtype).requires_grad_() for k, v in x.items()}


def run(backend, x, softplus):
    tensors = {k: v for k, v in x.items() if k not in ("u", "delta", "A", "B", "C")}
    y, hT = selective_scan(x["u"], x["delta"], x["A"], x["B"], x["C"], **tensors,
                           delta_softplus=softplus, output_final_state=True, backend=backend)
    leaves = [v for v in x.values() if v is not None and v.requires_grad]
    grads = torch.autograd.grad((y ** 2).sum() + (hT * 0.5).sum(), leaves)
    return [y, hT, *grads]


@pytest.mark.parametrize("dtype", REAL_DTYPES)
@pytest.mark.parametrize("groups", [None, 1, 2])
@pytest.mark.parametrize("extras,softplus,h0", [(False, False, False), (True, True, True), (True, False, False)])
@pytest.mark.parametrize("T", [1, 9, 70])  # 70 spans several checkpoint chunks
def test_torch_matches_naive(dtype, groups, extras, softplus, h0, T):
    x = make(T=T, groups=groups, dtype=dtype, extras=extras, h0=h0)
    ref, got = run("naive", x, softplus), run("torch", x, softplus)
    for i, (g_, r_) in enumerate(zip(got, ref)):
        assert rel_err(g_, r_) < TOL[dtype], i


@pytest.mark.parametrize("dim,groups", [(2, None), (4, 2), (6, 3)])
def test_square_states_as_s_mamba_holds_them_match_naive(dim, groups):
    # the torch path holds each state as (batch, G, N, D/G); with N = D/G (S-Mamba's N = 2 at one
    # channel a group) a missed transpose of A, the start state, the final state or A's gradient
    # keeps every shape, so only the values tell. 11 steps as S-Mamba's 11 tokens: a chunk of 8 and 3
    x = make(batch=3, T=11, dim=dim, N=dim // (groups or 1), groups=groups, seed=5)
    with torch.no_grad():
        x["A"].copy_(-torch.rand_like(x["A"]) * torch.arange(1.0, x["A"].shape[1] + 1, dtype=torch.float64) - 0.1)
    weights = torch.Generator().manual_seed(6)
    w_y, w_h = (torch.randn(shape, generator=weights, dtype=torch.float64) for shape in ((3, 11, dim), (3, dim, dim)))
    w_h = w_h[..., : x["A"].shape[1]]  # weighted, not summed: the gradient of h_T must reach each entry as it is

    def outputs(backend):
        core = [x[k] for k in ("u", "delta", "A", "B", "C")]
        y, hT = selective_scan(*core, D=x["D"], z=x["z"], delta_bias=x["delta_bias"], delta_softplus=True,
                               initial_state=x["initial_state"], output_final_state=True, backend=backend)
        return [y, hT, *torch.autograd.grad((y * w_y).sum() + (hT * w_h).sum(), list(x.values()))]

    ref, got = outputs("naive"), outputs("torch")
    for i, (g_, r_) in enumerate(zip(got, ref)):  # y, h_T and the gradients of all nine inputs
        assert rel_err(g_, r_) < 1e-12, i
    assert got[1].is_contiguous()  # the final state as (batch, D, N) in memory, as Mamba's returns it: .view works


@pytest.mark.parametrize("groups", [None, 2])
def test_gradcheck(groups):
    x = make(batch=1, T=10, dim=4, N=2, groups=groups)
    keys = [k for k, v in x.items() if v is not None]

    def fn(*args):
        kw = dict(zip(keys, args))
        core = [kw.pop(k) for k in ("u", "delta", "A", "B", "C")]
        return selective_scan(*core, **kw, delta_softplus=True, output_final_state=True, backend="torch")

    assert torch.autograd.gradcheck(fn, tuple(x[k] for k in keys))


@pytest.mark.parametrize("wanted", [("u",), ("delta",), ("A",), ("B",), ("C",), ("initial_state",), ("u", "C"),
                                    ("delta_bias", "B")])
def test_gradients_of_some_inputs_match_naive_and_the_rest_are_not_computed(wanted):
    # the backward skips the products of inputs that need no gradient (u alone took as long as all)
    from tsrec.kernels.selective import torch_impl

    x = {k: None if v is None else v.detach().requires_grad_(k in wanted) for k, v in make(T=20).items()}
    ref, got = run("naive", x, True), run("torch", x, True)
    assert len(got) == 2 + len(wanted)
    for g_, r_ in zip(got, ref):
        assert rel_err(g_, r_) < TOL[torch.float64]
    core = {"u": 0, "delta": 1, "A": 2, "B": 3, "C": 4, "initial_state": 5, "delta_bias": 1}
    needs = tuple(i in {core[k] for k in wanted} for i in range(6))
    u, delta, B, C = (x[k].detach().reshape(2, 20, 1, *x[k].shape[2:]) for k in ("u", "delta", "B", "C"))
    A = x["A"].detach()[None]
    starts = torch_impl._forward(u, delta, A, B, C, None, 8)[2]
    grads = torch_impl._backward(u, delta, A, B, C, starts, torch.ones_like(u), None, 8, needs)
    assert [g is not None for g in grads] == list(needs)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_output_dtype(dtype):
    x = make(T=12, dtype=torch.float32, extras=False, h0=False)
    core = [x[k].detach().to(dtype) for k in ("u", "delta", "A", "B", "C")]
    y, hT = selective_scan(*core, output_final_state=True, backend="torch")
    assert y.dtype == dtype and hT.dtype == torch.float32
    fn = lambda backend: lambda *xs: selective_scan(*xs, backend=backend)  # noqa: E731
    errors = half_errors(fn("torch"), fn("naive"), core)  # y, then du, ddelta, dA, dB, dC
    assert max(errors) < (1e-2 if dtype == torch.bfloat16 else 2e-3), errors


@pytest.mark.parametrize("groups", [None, 2])
def test_step_matches_scan(groups):
    x = {k: None if v is None else v.detach() for k, v in make(T=6, groups=groups).items()}
    y, hT = selective_scan(x["u"], x["delta"], x["A"], x["B"], x["C"], D=x["D"], z=x["z"],
                           delta_bias=x["delta_bias"], delta_softplus=True, initial_state=x["initial_state"],
                           output_final_state=True, backend="naive")
    state = x["initial_state"]
    for t in range(6):
        y_t, state = selective_scan_step(state, x["u"][:, t], x["delta"][:, t], x["A"], x["B"][:, t], x["C"][:, t],
                                         D=x["D"], z_t=x["z"][:, t], delta_bias=x["delta_bias"], delta_softplus=True)
        assert rel_err(y_t, y[:, t]) < 1e-12
    assert rel_err(state, hT) < 1e-12


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_step_keeps_its_state_in_float32_for_half_inputs(dtype):
    # a half-precision state would round away the small updates of a long recurrent roll-out
    x = {k: None if v is None else v.detach() for k, v in make(T=1).items()}
    state = x["initial_state"].float()
    y_t, new = selective_scan_step(state, x["u"][:, 0].to(dtype), x["delta"][:, 0].to(dtype), x["A"].float(),
                                   x["B"][:, 0].to(dtype), x["C"][:, 0].to(dtype), delta_softplus=True)
    assert y_t.dtype == dtype and new.dtype == torch.float32


SETTINGS = settings(max_examples=20, deadline=None)


@SETTINGS
@given(batch=st.integers(1, 2), T=st.integers(1, 30), dim=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_one_state_unit_readout_is_linear_scan(batch, T, dim, seed):
    x = make(batch=batch, T=T, dim=dim, N=1, seed=seed, extras=False)
    u, delta, A, s = (x[k].detach() for k in ("u", "delta", "A", "initial_state"))
    ones = torch.ones(batch, T, 1, dtype=u.dtype)
    y = selective_scan(u, delta, A, ones, ones, initial_state=s, backend="torch")
    ref = linear_scan(torch.exp(delta * A[:, 0]), delta * u, initial_state=s[..., 0], backend="naive")
    assert rel_err(y, ref) < 1e-12


@SETTINGS
@given(T=st.integers(2, 40), cut=st.floats(0.05, 0.95), seed=st.integers(0, 10_000), groups=st.sampled_from([None, 2]))
def test_split_with_carried_state_equals_whole(T, cut, seed, groups):
    x = {k: None if v is None else v.detach() for k, v in make(T=T, groups=groups, seed=seed).items()}
    k = max(1, min(T - 1, int(cut * T)))
    core = ("u", "delta", "B", "C", "z")

    def part(sl, state):
        p = {n: x[n][:, sl] for n in core}
        return selective_scan(p["u"], p["delta"], x["A"], p["B"], p["C"], D=x["D"], z=p["z"],
                              delta_bias=x["delta_bias"], initial_state=state, output_final_state=True,
                              backend="torch")

    y_all, h_all = part(slice(None), x["initial_state"])
    y1, mid = part(slice(0, k), x["initial_state"])
    y2, h2 = part(slice(k, None), mid)
    assert rel_err(torch.cat([y1, y2], 1), y_all) < 1e-12
    assert rel_err(h2, h_all) < 1e-12


def _args():
    x = make(extras=False, h0=False)
    return [x[k].detach() for k in ("u", "delta", "A", "B", "C")]


@pytest.mark.parametrize(
    "index, bad, match",
    [
        (1, lambda t: t[:, :5], r"delta has shape \(2, 5, 4\) but u has \(2, 9, 4\); u and delta must have"),
        (2, lambda t: t[:, :2], r"A must have shape \(4, 2\)|B must have shape"),
        # A given as (N, D): N was read from the bad A itself ("must have shape (4, 4)", got (3, 4))
        (2, lambda t: t.T, r"A must have shape \(D, N\) = \(4, N\) with N = 3 from B's .*got \(3, 4\); .* A\.T"),
        (2, lambda t: t[:3], r"A must have shape \(D, N\) = \(4, N\) with N = 3 from B's .*got \(3, 3\)$"),
        # C grouped (G = 1) with B not: was "shapes must match" with no fix
        (4, lambda t: t[:, :, None], r"B and C must have the same layout, got B \(2, 9, 3\), C \(2, 9, 1, 3\); give "
                                    r"them both \(batch, time, N\) or both \(batch, time, groups, N\)"),
        # a real cast would drop the imaginary part: not the fix to suggest
        (0, lambda t: t.cfloat(), "u must be a floating .* complex input is not supported"),
        (3, lambda t: t[..., :2], "B must have shape"),
        (3, lambda t: t[:, :, None].expand(2, 9, 3, 3), "does not divide D=4"),
        (3, lambda t: t[:, :, None][:, :, :0], "B has 0 groups, which does not divide D=4"),  # was a ZeroDivisionError
        (0, lambda t: t.float(), "dtype"),
        (2, lambda t: t.cfloat(), "A must be a floating"),
        (0, lambda t: t.clone().fill_(float("inf")), "u contains NaN or inf"),
    ],
)
def test_bad_inputs(index, bad, match):
    args = _args()
    args[index] = bad(args[index])
    with pytest.raises((ValueError, TypeError), match=match):
        selective_scan(*args)


def test_channel_first_inputs_as_mambas_cuda_op_takes_them_are_named():
    # (batch, D, time) and (batch, N, time): the message blamed A ("must have shape (5, N) ... got (4, 3)")
    u, delta, A, B, C = _args()
    with pytest.raises(ValueError, match=r"^the inputs look channel-first \(batch, D, time\).*time-major: pass u, "
                                         r"delta and z as \.transpose\(1, 2\), and B and C as \(batch, time, N\)$"):
        selective_scan(u.transpose(1, 2), delta.transpose(1, 2), A, B.transpose(1, 2), C.transpose(1, 2))
    # A transposed, with as many time steps as states: still told A.T, not a channel-first layout
    u, delta, B, C = (torch.randn(2, 16, *rest, dtype=torch.float64) for rest in ((32,), (32,), (16,), (16,)))
    A = -torch.rand(32, 16, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"got \(16, 32\); it looks transposed, pass A\.T$"):
        selective_scan(u, delta.abs(), A.T, B, C)


def test_bad_options():
    u, delta, A, B, C = _args()
    with pytest.raises(ValueError, match=r"D must have shape \(4,\)"):
        selective_scan(u, delta, A, B, C, D=torch.ones(3, dtype=u.dtype))
    with pytest.raises(ValueError, match=r"initial_state must have shape \(2, 4, 3\)"):
        selective_scan(u, delta, A, B, C, initial_state=torch.zeros(2, 4, 2, dtype=u.dtype))
    with pytest.raises(ValueError, match=r"z must have shape"):
        selective_scan(u, delta, A, B, C, z=u[:, :3])
    # no time steps: named (the chunk length's log2 failed on "math domain error")
    with pytest.raises(ValueError, match=r"^u has an empty time axis \(dim 1\); pass at least one time step$"):
        selective_scan(u[:, :0], delta[:, :0], A, B[:, :0], C[:, :0])
    # the one-step update names its own arguments
    state = torch.zeros(2, 4, 3, dtype=u.dtype)
    with pytest.raises(ValueError, match=r"^state must have shape \(2, 4, 3\)"):
        selective_scan_step(state[..., :2], u[:, 0], delta[:, 0], A, B[:, 0], C[:, 0])
    with pytest.raises(ValueError, match="^state contains NaN or inf"):
        selective_scan_step(state + float("nan"), u[:, 0], delta[:, 0], A, B[:, 0], C[:, 0])
    with pytest.raises(ValueError, match="^u_t contains NaN or inf"):
        selective_scan_step(state, u[:, 0] + float("inf"), delta[:, 0], A, B[:, 0], C[:, 0])
    with pytest.raises(ValueError, match="^delta_t must have 2 dims"):
        selective_scan_step(state, u[:, 0], delta[0, 0], A, B[:, 0], C[:, 0])
    with pytest.raises(ValueError, match=r"^B_t must have shape"):
        selective_scan_step(state, u[:, 0], delta[:, 0], A, B[:, 0, :2], C[:, 0])
    with pytest.raises(ValueError, match=r"^z_t must have shape"):
        selective_scan_step(state, u[:, 0], delta[:, 0], A, B[:, 0], C[:, 0], z_t=u[:, 0, :3])


D64 = torch.float64


def _time_major(time, dim, n_state):
    u, delta, B, C = (torch.randn(2, time, size, dtype=D64) for size in (dim, dim, n_state, n_state))
    return u, delta.abs(), B, C


def test_an_a_whose_wrong_d_equals_the_time_steps_is_told_its_shape():
    # u (2, 16, 32) is time-major; A (16, 8) has D = 16, the time length, but B's axis 1 is time, not N = 8
    u, delta, B, C = _time_major(16, 32, 8)
    with pytest.raises(ValueError, match=r"^A must have shape \(D, N\) = \(32, N\) with N = 8 from B's .*"
                                         r"got \(16, 8\)$"):
        selective_scan(u, delta, -torch.rand(16, 8, dtype=D64), B, C)


def test_an_a_of_the_wrong_d_with_as_many_time_steps_as_states_is_told_its_shape():
    # B (2, 16, 16): its axis 1 (time) equals N, but u's axis 1 is no D of A's (8)
    u, delta, B, C = _time_major(16, 32, 16)
    with pytest.raises(ValueError, match=r"^A must have shape \(D, N\) = \(32, N\) with N = 16 from B's .*"
                                         r"got \(8, 16\)$"):
        selective_scan(u, delta, -torch.rand(8, 16, dtype=D64), B, C)


def test_a_step_state_of_u_ts_shape_is_told_the_state_axis():
    # a (batch, D) state was told to add a batch axis: state.unsqueeze(0) would give (1, batch, D)
    u, delta = torch.randn(2, 4, dtype=D64), torch.rand(2, 4, dtype=D64)
    A, B = -torch.rand(4, 3, dtype=D64), torch.randn(2, 3, dtype=D64)
    with pytest.raises(ValueError, match=r"^state has u_t's shape \(2, 4\) \(batch, D\) but holds N = 3 values a "
                                         r"channel .*torch\.zeros\(2, 4, 3\) to start$"):
        selective_scan_step(torch.zeros(2, 4, dtype=D64), u, delta, A, B, B)
    y, state = selective_scan_step(torch.zeros(2, 4, 3, dtype=D64), u, delta, A, B, B)  # as the message says
    assert y.shape == (2, 4) and state.shape == (2, 4, 3)
