"""ltc_scan (the LTC neuron's fused ODE solver over a sequence) on CPU: torch against naive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tsrec.kernels import ltc_scan
from tsrec.kernels.recurrent.ltc import MAX_UNITS
from _compare import REAL_DTYPES, TOL, rel_err


def make(batch=3, T=6, units=5, dtype=torch.float64, seed=0) -> list[torch.Tensor]:
    """Leaves in the solver's ranges: positive terms, weights, slopes and capacitances."""
    g = torch.Generator().manual_seed(seed)
    pos = lambda *s, scale=1.0: scale * torch.rand(*s, generator=g, dtype=torch.float64)  # noqa: E731
    cm = pos(units, scale=3.0) + 0.5
    leaves = [pos(batch, T, 2 * units, scale=0.5), 0.5 * torch.randn(batch, units, generator=g, dtype=torch.float64),
              cm, 0.2 * torch.randn(units, generator=g, dtype=torch.float64), cm + pos(units),
              pos(units, units), torch.randn(units, units, generator=g, dtype=torch.float64),
              pos(units, units, scale=5.0) + 3.0, pos(units, units)]
    return [x.to(dtype).requires_grad_() for x in leaves]


def run(backend, leaves, unfolds=3):
    h = ltc_scan(*leaves, ode_unfolds=unfolds, backend=backend)
    return [h, *torch.autograd.grad((h ** 2).sum(), leaves)]


@pytest.mark.parametrize("dtype", REAL_DTYPES)
@pytest.mark.parametrize("unfolds", [1, 6])
def test_torch_matches_naive(dtype, unfolds):
    leaves = make(dtype=dtype)
    for got, ref in zip(run("torch", leaves, unfolds), run("naive", leaves, unfolds)):
        assert rel_err(got, ref) < TOL[dtype]


def test_gradcheck():
    leaves = make(batch=2, T=3, units=3)
    fn = lambda *xs: ltc_scan(*xs, ode_unfolds=2, backend="torch")  # noqa: E731
    assert torch.autograd.gradcheck(fn, leaves)


def test_scanning_in_two_parts_carries_the_state():
    terms, v0, *params = make(T=8)
    whole = ltc_scan(terms, v0, *params)
    first = ltc_scan(terms[:, :5], v0, *params)
    second = ltc_scan(terms[:, 5:], first[:, -1], *params)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole, rtol=0, atol=1e-12)


def test_states_stay_within_the_potentials_range():
    # the paper's Theorem 2: every update is a convex combination of v, V_leak/g and E (bounded)
    terms, v0, cm, ln, ld, w, w_erev, sigma, mu = make(T=30, units=6)
    erev = torch.sign(w_erev.detach())  # reversal potentials +-1
    leak_v = torch.full((6,), 0.1, dtype=torch.float64)
    g = ld.detach() - cm.detach()
    h = ltc_scan(torch.zeros_like(terms), v0.detach().clamp(-1, 1), cm.detach(), g * leak_v, ld.detach(), w.detach(),
                 w.detach() * erev, sigma.detach(), mu.detach())
    assert h.abs().max() <= 1.0 + 1e-12


@pytest.mark.parametrize(
    "change,error,match",
    [
        ({0: torch.zeros(3, 6, 9)}, ValueError, r"terms must have shape \(3, 6, 10\)"),
        ({1: torch.zeros(3, 4)}, ValueError, r"terms must have shape \(3, 6, 8\)"),
        # a wrong batch in v0 is v0's to fix (it was blamed on terms)
        ({1: torch.zeros(2, 5)}, ValueError, r"v0 has batch size 2 but terms has 3; .* v0 of shape \(3, U\)"),
        ({5: torch.zeros(5, 4)}, ValueError, r"w must have shape \(5, 5\)"),
        ({2: torch.zeros(4)}, ValueError, r"cm_t must have shape \(5,\)"),
        ({0: torch.zeros(3, 0, 10)}, ValueError, "empty time axis"),
        ({0: torch.full((3, 6, 10), float("nan"))}, ValueError, "terms contains NaN or inf"),
        ({5: torch.full((5, 5), float("inf"))}, ValueError, "w contains NaN or inf"),
        ({4: torch.full((5,), float("nan"))}, ValueError, "leak_den contains NaN or inf"),
    ],
)
def test_bad_inputs(change, error, match):
    leaves = [x.detach() for x in make()]
    for index, value in change.items():
        leaves[index] = value.double()
    with pytest.raises(error, match=match):
        ltc_scan(*leaves)


def test_bad_unfolds_and_backends():
    leaves = [x.detach() for x in make()]
    with pytest.raises(ValueError, match="ode_unfolds must be a positive int"):
        ltc_scan(*leaves, ode_unfolds=0)
    with pytest.raises(ValueError, match="unknown kernel backend"):
        ltc_scan(*leaves, backend="cuda")
    for epsilon in (float("nan"), float("inf"), -1e-9):
        with pytest.raises(ValueError, match=r"epsilon must be a finite number >= 0 .*got"):
            ltc_scan(*leaves, epsilon=epsilon)
    # a wrong type is a TypeError, and still the ValueError it was before
    for epsilon, kind in (("1e-8", "str"), (True, "bool"), (torch.tensor(1e-8), "Tensor")):
        with pytest.raises(TypeError, match=rf"epsilon must be a Python number >= 0 .*got {kind} .*; pass a float"):
            ltc_scan(*leaves, epsilon=epsilon)
        with pytest.raises(ValueError):
            ltc_scan(*leaves, epsilon=epsilon)
    pytest.importorskip("triton")
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        ltc_scan(*leaves, backend="triton")


def test_wide_layers_are_refused_by_the_fused_kernel(monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # lets backend="triton" accept CPU tensors
    leaves = [x.detach() for x in make(batch=1, T=2, units=MAX_UNITS + 1)]
    with pytest.raises(ValueError, match=f"keeps U <= {MAX_UNITS} on chip, got U={MAX_UNITS + 1}"):
        ltc_scan(*leaves, backend="triton")


def test_weights_must_be_tensors():
    leaves = [x.detach() for x in make()]
    leaves[7] = leaves[7].tolist()
    with pytest.raises(TypeError, match="sigma must be a torch.Tensor, got list"):
        ltc_scan(*leaves)


def test_numpy_integer_unfolds_are_integers():
    # e.g. from a parameter grid over np.arange(...); they were refused as "not an integer"
    leaves = [x.detach() for x in make()]
    assert torch.equal(ltc_scan(*leaves, ode_unfolds=np.int64(2)), ltc_scan(*leaves, ode_unfolds=2))
    for value in (True, 2.0, np.float64(2.0)):
        with pytest.raises(ValueError, match="ode_unfolds must be a positive int"):
            ltc_scan(*leaves, ode_unfolds=value)
    # wrong types are TypeErrors (and ValueErrors, as before), a whole float is told the fix
    with pytest.raises(TypeError, match=r"ode_unfolds must be a positive int .*got 2.0 of type float; pass int\(2.0\)"):
        ltc_scan(*leaves, ode_unfolds=2.0)
    with pytest.raises(TypeError, match=r"got '2' of type str$"):
        ltc_scan(*leaves, ode_unfolds="2")
    with pytest.raises(TypeError, match=r"got True of type bool$"):  # not told int(True)
        ltc_scan(*leaves, ode_unfolds=True)


@pytest.mark.parametrize("kind", ["forecaster", "classifier"])
def test_liquid_estimators_fit_with_numpy_integer_unfolds(monkeypatch, kind):
    import pandas as pd

    from tsrec.estimators.ltc import LTCClassifier, LTCForecaster
    from tsrec.nn import ltc as nn_ltc

    seen = []
    original = nn_ltc.ltc_scan
    monkeypatch.setattr(nn_ltc, "ltc_scan", lambda *a, **kw: seen.append(kw["ode_unfolds"]) or original(*a, **kw))
    small = dict(units=3, ode_unfolds=np.int64(2), max_epochs=1, random_state=0, batch_size=8)
    if kind == "forecaster":
        LTCForecaster(lookback=6, horizon=2, **small).fit(pd.Series(np.sin(np.arange(40) / 4.0)))
    else:
        X = np.random.default_rng(0).normal(size=(8, 1, 6)).astype(np.float32)
        LTCClassifier(**small).fit(X, np.arange(8) % 2)
    assert seen and all(type(value) is int and value == 2 for value in seen)  # converted, not passed raw


@pytest.fixture(params=["kept", "recomputed"])
def ltc_adjoint(request, monkeypatch):
    """The torch backward either reads the states entering each solver update, kept by the forward,
    or recomputes them from the step's first state."""
    from tsrec.kernels.recurrent import ltc_adjoint

    if request.param == "recomputed":
        monkeypatch.setattr(ltc_adjoint, "KEEP_UPDATES_BELOW_BYTES", 0)
    return ltc_adjoint


def saved_bytes(leaves, fn=None, unfolds=3):
    """Bytes autograd keeps for the backward of ``fn`` (the torch path; each storage counted once)."""
    kept = {}

    def pack(t):
        kept[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        (fn or (lambda *xs: ltc_scan(*xs, ode_unfolds=unfolds, backend="torch")))(*leaves)
    return sum(kept.values())


@pytest.mark.parametrize("dtype", REAL_DTYPES)
@pytest.mark.parametrize("unfolds", [1, 3])
def test_the_adjoint_matches_naive_with_and_without_kept_updates(ltc_adjoint, dtype, unfolds):
    leaves = make(T=10, dtype=dtype)
    for got, ref in zip(run("torch", leaves, unfolds), run("naive", leaves, unfolds)):
        assert rel_err(got, ref) < TOL[dtype]


def test_the_adjoint_keeps_no_synapse_activations(ltc_adjoint):
    batch, steps, units, unfolds = 4, 64, 16, 3
    leaves = make(batch=batch, T=steps, units=units)
    inputs_and_states = sum(x.nbytes for x in leaves) + batch * steps * units * 8
    updates = ltc_adjoint.trail_bytes(leaves[0], unfolds) if ltc_adjoint.KEEP_UPDATES_BELOW_BYTES else 0
    assert saved_bytes(leaves) == inputs_and_states + updates
    # autograd through the same loop keeps two (batch, U, U) activations per solver update: U x more
    solve = lambda *xs: ltc_adjoint.solve(xs[0], xs[1], xs[2:], unfolds, 1e-8)  # noqa: E731
    assert saved_bytes(leaves, solve) > 10 * saved_bytes(leaves)


def test_the_adjoint_has_second_derivatives():
    leaves = make(batch=2, T=5, units=3)
    assert torch.autograd.gradgradcheck(lambda *xs: ltc_scan(*xs, ode_unfolds=2, backend="torch"), leaves)


def gradients_and_curvature(leaves, raw_w, backend):
    """First gradients taken with create_graph=True, and a Hessian-vector product, for parameters
    derived as the LTC cell derives them (w_erev made from w, w = softplus of a raw weight)."""
    terms, v0, cm, leak_num, leak_den, _, erev, sigma, mu = leaves
    w = torch.nn.functional.softplus(raw_w)
    h = ltc_scan(terms, v0, cm, leak_num, leak_den, w, w * erev, sigma, mu, ode_unfolds=2, backend=backend)
    wrt = [terms, v0, raw_w, erev, sigma]
    grads = torch.autograd.grad((h ** 2).sum(), wrt, create_graph=True)
    curvature = torch.autograd.grad(sum((g * g.detach()).sum() for g in grads), wrt)
    return [*grads, *curvature]


def test_create_graph_counts_each_path_once():
    leaves = make(batch=2, T=10, units=3)
    raw_w = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_()
    for a, b in zip(gradients_and_curvature(leaves, raw_w, "torch"), gradients_and_curvature(leaves, raw_w, "naive")):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("frozen", ["inputs", "parameters"])
def test_only_inputs_that_need_gradients_get_them(ltc_adjoint, frozen):
    terms, v0, *params = make(T=9)
    if frozen == "inputs":  # e.g. a cell whose input part is frozen
        leaves, wrt = [terms.detach(), v0.detach(), *params], params
    else:  # e.g. an attribution of a trained cell's states to its inputs
        leaves = [terms, v0, *(p.detach() for p in params)]
        wrt = [terms, v0]
    got = torch.autograd.grad((ltc_scan(*leaves, ode_unfolds=3) ** 2).sum(), wrt)
    ref = torch.autograd.grad((ltc_scan(*leaves, ode_unfolds=3, backend="naive") ** 2).sum(), wrt)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_the_states_returned_are_the_callers_to_change(ltc_adjoint):
    leaves = make()
    states = ltc_scan(*leaves, ode_unfolds=3, backend="torch")
    expected = torch.autograd.grad((2 * states).sum(), leaves, retain_graph=True)
    states.mul_(2)  # in place: the backward reads its own copy of the states
    for got, ref in zip(torch.autograd.grad(states.sum(), leaves), expected):
        torch.testing.assert_close(got, ref, rtol=0, atol=0)


def test_parameter_gradients_do_not_share_storage():
    terms, v0, *params = make()
    (ltc_scan(terms, v0, *params, ode_unfolds=2, backend="torch") ** 2).sum().backward()
    storages = {p.grad.untyped_storage().data_ptr() for p in params}
    assert len(storages) == len(params)  # saving or changing one .grad leaves the others alone


@pytest.mark.parametrize("transform", ["grad", "vjp", "jacrev"])
def test_torch_func_transforms_differentiate_the_adjoint(ltc_adjoint, transform):
    # vjp and jacrev (not grad) failed in the create_graph fallback, which took autograd.grad, where
    # nothing outside the transform required grad
    leaves = [x.detach() for x in make(T=4)]

    def scan(backend):
        return lambda terms, v0: ltc_scan(terms, v0, *leaves[2:], ode_unfolds=2, backend=backend)

    def apply(fn):
        if transform == "grad":
            return torch.func.grad(lambda *xs: (fn(*xs) ** 2).sum(), argnums=(0, 1))(*leaves[:2])
        if transform == "vjp":
            out, pullback = torch.func.vjp(fn, *leaves[:2])
            return pullback(torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape))
        return torch.func.jacrev(fn, argnums=(0, 1))(*leaves[:2])
    for a, b in zip(apply(scan("torch")), apply(scan("naive"))):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_long_sequences_recompute_the_updates_and_short_ones_keep_them():
    from tsrec.kernels.recurrent import ltc_adjoint

    # LTC(units=32) on 1024 steps of 16 series keeps 24 MiB (autograd through the loop: 768 MiB of activations)
    assert ltc_adjoint.trail_bytes(torch.empty(16, 1024, 64), 6) == 24 * 2**20 < ltc_adjoint.KEEP_UPDATES_BELOW_BYTES
    huge = torch.empty(1024, 2048, 128)  # 64 units, batch 1024, 2048 steps: 6 GiB
    assert ltc_adjoint.trail_bytes(huge, 6) > ltc_adjoint.KEEP_UPDATES_BELOW_BYTES


LTC_EMPTY_TRITON = """
import torch
from tsrec.kernels import ltc_scan
e = torch.rand
for batch, units in ((2, 0), (0, 3)):
    vectors, matrices = (e(units) for _ in range(3)), (e(units, units) for _ in range(4))
    args = (e(batch, 3, 2 * units), e(batch, units), *vectors, *matrices)
    assert ltc_scan(*args, backend="triton").shape == (batch, 3, units)
print("ok")
"""


def test_empty_layers_and_batches_on_the_triton_backend():
    # U = 0 was a ZeroDivisionError sizing the Triton tiles (backend="auto" on CUDA picks them too)
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("TSREC_KERNEL_BACKEND", None)
    proc = subprocess.run([sys.executable, "-c", LTC_EMPTY_TRITON], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout + proc.stderr


def test_a_trail_of_other_length_than_ode_unfolds_is_refused():
    # the solver loop runs once per kept update: a trail of 2 would have solved 2 updates, not 3
    from tsrec.kernels.recurrent import ltc_adjoint

    terms, v0, *params = (leaf.detach() for leaf in make(batch=2, T=1, units=4))
    num, den = ltc_adjoint.step_constants(terms[:, 0], params, 1e-8)
    trail = v0.new_empty(2, 2, *v0.shape)
    with pytest.raises(ValueError, match="trail holds 2 updates, but ode_unfolds is 3"):
        ltc_adjoint.solve_step(num, den, v0, params, 3, trail)
    kept = ltc_adjoint.solve_step(num, den, v0, params, 2, trail)
    torch.testing.assert_close(kept, ltc_adjoint.solve_step(num, den, v0, params, 2), rtol=0, atol=0)
    torch.testing.assert_close(trail[0, 0], v0, rtol=0, atol=0)  # the first update's entering state


@pytest.mark.parametrize("backend", ["torch", "naive"])
def test_compiling_keeps_the_time_loop_out_of_the_graph(backend):
    # traced, the loop unrolled every step and solver update: compiling took 1.5 s a time step (a lookback of
    # 720, some 18 minutes); kept out of the graph, the traced graphs do not grow with the length
    import torch._dynamo

    def traced_nodes(T: int) -> tuple[int, list[torch.Tensor]]:
        torch._dynamo.reset()
        nodes = []

        def count(gm, example_inputs):
            nodes.append(len(gm.graph.nodes))
            return gm.forward

        leaves = make(batch=2, T=T, units=3)
        compiled = torch.compile(lambda *xs: ltc_scan(*xs, ode_unfolds=2, backend=backend), backend=count)
        h = compiled(*leaves)
        got = [h, *torch.autograd.grad((h ** 2).sum(), leaves)]
        for g, r in zip(got, run(backend, leaves, unfolds=2)):
            torch.testing.assert_close(g, r, rtol=0, atol=0)
        return sum(nodes)

    assert traced_nodes(2) == traced_nodes(12)
