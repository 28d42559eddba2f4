"""ltc_scan over steps of different lengths (``elapsed``, irregular sampling) on CPU: torch against naive,
and the solver's time scale: a step of length e is e unit steps of the same input."""

from __future__ import annotations

import pytest
import torch

from tsrec.kernels import ltc_scan
from tsrec.kernels.recurrent import ltc_adjoint
from _compare import REAL_DTYPES, TOL, rel_err
from test_ltc_scan import make


def lengths(batch=3, T=6, seed=1, dtype=torch.float64) -> torch.Tensor:
    """Step lengths from 0.1 to 4.1 unit steps, different for every series and step."""
    g = torch.Generator().manual_seed(seed)
    return (0.1 + 4.0 * torch.rand(batch, T, generator=g, dtype=torch.float64)).to(dtype)


def run(backend, leaves, elapsed, unfolds=3):
    h = ltc_scan(*leaves, ode_unfolds=unfolds, elapsed=elapsed, backend=backend)
    return [h, *torch.autograd.grad((h ** 2).sum(), leaves)]


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "recomputed"])
@pytest.mark.parametrize("dtype", REAL_DTYPES)
@pytest.mark.parametrize("unfolds", [1, 4])
def test_torch_matches_naive_on_steps_of_different_lengths(monkeypatch, kept, dtype, unfolds):
    if not kept:  # the backward recomputes each step's updates instead of reading them
        monkeypatch.setattr(ltc_adjoint, "KEEP_UPDATES_BELOW_BYTES", 0)
    leaves, elapsed = make(dtype=dtype), lengths(dtype=dtype)
    for got, ref in zip(run("torch", leaves, elapsed, unfolds), run("naive", leaves, elapsed, unfolds)):
        assert rel_err(got, ref) < TOL[dtype]


def test_gradcheck_and_gradgradcheck_on_steps_of_different_lengths():
    leaves, elapsed = make(batch=2, T=3, units=3), lengths(batch=2, T=3)
    fn = lambda *xs: ltc_scan(*xs, ode_unfolds=2, elapsed=elapsed, backend="torch")  # noqa: E731
    assert torch.autograd.gradcheck(fn, leaves)
    assert torch.autograd.gradgradcheck(fn, leaves)  # create_graph=True reruns the loop with the same lengths


@pytest.mark.parametrize("backend", ["torch", "naive"])
def test_unit_lengths_are_the_default(backend):
    leaves = make()
    ones = torch.ones(3, 6, dtype=torch.float64)
    for got, ref in zip(run(backend, leaves, ones), run(backend, leaves, None)):
        torch.testing.assert_close(got, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("backend", ["torch", "naive"])
def test_a_step_of_length_two_is_two_unit_steps_of_the_same_input(backend):
    # the fused solver's step is elapsed / ode_unfolds: one step of 2 time units with 6 updates takes
    # the same 6 updates of 1/3 as two unit steps of 3 updates each, when the input holds (cm_t is the
    # capacitance times ode_unfolds, the caller's transform: twice as large for 6 updates)
    terms, v0, cm, ln, ld, *synapses = make(T=1)
    long_step = ltc_scan(terms, v0, 2 * cm, ln, ld + cm, *synapses, ode_unfolds=6,
                         elapsed=torch.full((3, 1), 2.0, dtype=torch.float64), backend=backend)
    two_steps = ltc_scan(terms.repeat(1, 2, 1), v0, cm, ln, ld, *synapses, ode_unfolds=3, backend=backend)
    torch.testing.assert_close(long_step[:, 0], two_steps[:, 1], rtol=1e-12, atol=1e-12)
    assert (long_step[:, 0] - two_steps[:, 0]).abs().max() > 1e-3  # and unlike one unit step


def test_a_long_gap_reaches_the_inputs_equilibrium():
    # as elapsed grows the capacitance cm_t / elapsed vanishes: the state ends at the fixed point of the
    # update without it, v = N(v) / D(v), whatever it started from (a short gap stays near its start)
    terms, v0, cm, ln, ld, w, w_erev, sigma, mu = (x.detach() for x in make(T=1, units=4))
    gap = torch.full((3, 1), 1e7, dtype=torch.float64)
    settled = ltc_scan(terms, v0, cm, ln, ld, w, w_erev, sigma, mu, ode_unfolds=40, elapsed=gap)[:, 0]
    gate = torch.sigmoid(sigma * (settled[:, :, None] - mu))
    numerator = ln + terms[:, 0, :4] + (gate * w_erev).sum(1)
    denominator = ld - cm + terms[:, 0, 4:] + (gate * w).sum(1)
    torch.testing.assert_close(numerator / denominator, settled, rtol=1e-6, atol=1e-6)
    from_elsewhere = ltc_scan(terms, -v0, cm, ln, ld, w, w_erev, sigma, mu, ode_unfolds=40, elapsed=gap)[:, 0]
    torch.testing.assert_close(from_elsewhere, settled, rtol=1e-6, atol=1e-6)
    brief = ltc_scan(terms, v0, cm, ln, ld, w, w_erev, sigma, mu, elapsed=torch.full((3, 1), 1e-4,
                                                                                       dtype=torch.float64))[:, 0]
    assert (brief - v0).abs().max() < 1e-3 < (settled - v0).abs().max()


def test_only_the_lengths_of_each_series_own_steps_matter():
    leaves = [x.detach() for x in make()]
    elapsed = lengths()
    changed = elapsed.clone()
    changed[1, 3] = 0.5 if elapsed[1, 3] > 1 else 3.0
    before, after = ltc_scan(*leaves, elapsed=elapsed), ltc_scan(*leaves, elapsed=changed)
    torch.testing.assert_close(after[[0, 2]], before[[0, 2]], rtol=0, atol=0)  # other series untouched
    torch.testing.assert_close(after[1, :3], before[1, :3], rtol=0, atol=0)  # earlier steps untouched
    assert (after[1, 3:] - before[1, 3:]).abs().min() > 0


@pytest.mark.parametrize(
    "elapsed, error, match",
    [
        ([[1.0] * 6] * 3, TypeError, "elapsed must be a torch.Tensor, got list"),
        (torch.ones(3, 5), ValueError, r"elapsed must have shape \(3, 6\) .*one length per step of terms"),
        (torch.ones(18), ValueError, r"elapsed must have 2 dims.*\(batch, time\)"),
        (torch.zeros(3, 6), ValueError,
         r"step length <= 0, or one so short .*float64; .*drop or merge repeated time stamps$"),
        (-torch.ones(3, 6), ValueError, "step length <= 0"),
        (torch.full((3, 6), float("nan")), ValueError, "elapsed contains NaN or inf"),
        (torch.ones(3, 6, dtype=torch.int64), TypeError, "elapsed must be a floating tensor"),
        (torch.ones(3, 6, requires_grad=True), ValueError, r"does not differentiate .*pass elapsed.detach\(\)"),
    ],
)
def test_bad_lengths_are_refused(elapsed, error, match):
    leaves = [x.detach() for x in make()]
    if isinstance(elapsed, torch.Tensor) and elapsed.is_floating_point():
        elapsed = elapsed.double().detach().requires_grad_(elapsed.requires_grad)
    with pytest.raises(error, match=match):
        ltc_scan(*leaves, elapsed=elapsed)


def test_a_length_so_short_that_the_capacitance_overflows_is_refused():
    # cm_t / 1e-40 is inf in float32 (then NaN states, with no error); float64 holds it
    leaves = [x.detach() for x in make()]
    tiny = torch.full((3, 6), 1e-40, dtype=torch.float64)
    assert torch.isfinite(ltc_scan(*leaves, elapsed=tiny)).all()
    with pytest.raises(ValueError, match="so short that cm_t / elapsed overflows float32; .*compute in float64"):
        ltc_scan(*(x.float() for x in leaves), elapsed=tiny.float())
    empty = [x[:0] if i < 2 else x for i, x in enumerate(leaves)]  # no series: nothing to read
    assert ltc_scan(*empty, elapsed=tiny[:0]).shape == (0, 6, 5)


def test_lengths_in_another_float_dtype_are_refused():
    leaves = [x.detach() for x in make()]
    with pytest.raises(TypeError, match="elapsed"):
        ltc_scan(*leaves, elapsed=torch.ones(3, 6, dtype=torch.float32))


def test_lengths_beside_a_cell_of_no_units_are_read():
    # units=0: no capacitance to scale; the overflow check must not take the max of an empty cm_t
    leaves = [x.detach() for x in make(units=0)]
    assert ltc_scan(*leaves, elapsed=torch.full((3, 6), 2.0, dtype=torch.float64)).shape == (3, 6, 0)


def test_an_overflow_is_found_for_a_capacitance_of_either_sign():
    # cm_t's largest magnitude decides: a small positive max beside a large negative entry overflows too
    leaves = [x.detach().float() for x in make()]
    leaves[2] = torch.tensor([1e-10, -1.0, 1e-10, 1e-10, 1e-10])
    with pytest.raises(ValueError, match="overflows float32"):
        ltc_scan(*leaves, elapsed=torch.full((3, 6), 1e-39, dtype=torch.float32))


def test_half_precision_lengths_are_read_as_the_float32_computation_reads_them():
    # half precision computes in float32: the rates 1 / elapsed too, not in the half dtype
    leaves = [x.detach() for x in make(dtype=torch.float32)]
    elapsed = torch.tensor([[3.0, 7.0, 0.3, 11.0, 1.7, 9.0]] * 3)
    half = [x.to(torch.float16) for x in leaves]
    got = ltc_scan(*half, elapsed=elapsed.to(torch.float16), backend="torch")
    ref = ltc_scan(*(x.float() for x in half), elapsed=elapsed.to(torch.float16).float(), backend="torch")
    torch.testing.assert_close(got, ref.to(torch.float16), rtol=0, atol=0)


def test_create_graph_gives_the_same_gradients_on_steps_of_different_lengths():
    # create_graph=True reruns the loop for torch.func.vjp: it must rerun it with the same lengths
    # (gradgradcheck alone cannot tell: it differentiates whatever first derivative the rerun gives)
    leaves = make(batch=2, T=4, units=3)
    elapsed = torch.tensor([[0.3, 2.0, 4.0, 1.0], [1.5, 0.2, 3.0, 0.7]], dtype=torch.float64)
    loss = lambda: (ltc_scan(*leaves, ode_unfolds=2, elapsed=elapsed, backend="torch") ** 2).sum()  # noqa: E731
    plain = torch.autograd.grad(loss(), leaves)
    again = torch.autograd.grad(loss(), leaves, create_graph=True)
    for a, b in zip(again, plain):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    by_func = torch.func.grad(lambda *xs: (ltc_scan(*xs, ode_unfolds=2, elapsed=elapsed, backend="torch") ** 2).sum(),
                              argnums=tuple(range(len(leaves))))(*(x.detach() for x in leaves))
    for a, b in zip(by_func, plain):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
