"""The cases of ``triton_interpret_check.py``: each runs one kernel on the triton backend and on a
reference, outputs and gradients, and prints one line.

Importing this module reads the script's ``--device`` flag and, for the CPU, sets
``TRITON_INTERPRET=1`` before anything imports triton (``@triton.jit`` reads it when a kernel
module loads), so it must be imported before torch and tsrec's kernels.
"""

import argparse
import os

PARSER = argparse.ArgumentParser(description="Triton kernels against the references")
PARSER.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="cpu: the Triton interpreter on tiny shapes; cuda: compiled kernels on a GPU")
DEVICE = PARSER.parse_args().device
if DEVICE == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"

import itertools  # noqa: E402
from unittest import mock  # noqa: E402

import torch  # noqa: E402

from tsrec.kernels import cfc_scan, linear_scan, ltc_scan, rnn_scan, scan2d, selective_scan  # noqa: E402
from _compare import TOL, rel_err  # noqa: E402


def outputs_and_grads(fn, backend, leaves):
    """``fn(backend)``'s outputs, then the gradient of the sum of their squares for every leaf."""
    outs = fn(backend)
    loss = sum((o.double() ** 2).sum() for o in outs)
    return list(outs) + list(torch.autograd.grad(loss, leaves))


def upcast(leaves):
    """float64 copies of ``leaves``, new leaves that require grad (for ``ref="float64"``)."""
    return [t.detach().double().requires_grad_() for t in leaves]


def compare(label, fn, leaves, dtype, ref="naive"):
    """Outputs and gradients of every leaf, the reference backend against triton.

    ``ref="float64"`` (GPU sizes, where the naive loop takes too long): the reference is the torch
    path in float64 on the same inputs upcast, ``fn("torch", upcast(leaves))``, so ``fn`` also takes
    the tensors to run on. One rule for every check: triton's error against a float64 computation
    (the naive loop runs in float64) within ``tolerance(dtype)``. The float32 torch path was no
    reference but another float32 result, rounded its own way: on an H200, selective_scan
    (16, 720, 128, 16) read 1.24e-5 against it, over 1e-5, with nothing to say which side was off.
    The torch path's float32 error is printed beside triton's, for the record; it does not decide.
    """
    if ref == "float64":
        wide = upcast(leaves)
        want = outputs_and_grads(lambda be: fn(be, wide), "torch", wide)
        err = {be: max(rel_err(g, r) for g, r in zip(outputs_and_grads(fn, be, leaves), want))
               for be in ("torch", "triton")}
        ok = err["triton"] < tolerance(dtype)
        print(f"{'ok  ' if ok else 'FAIL'} {label} vs torch float64: max rel err {err['triton']:.2e} "
              f"(torch path {err['torch']:.2e})", flush=True)
        return ok
    res = {backend: outputs_and_grads(fn, backend, leaves) for backend in (ref, "triton")}
    worst = max(rel_err(g, r) for g, r in zip(res["triton"], res[ref]))
    ok = worst < tolerance(dtype)
    print(f"{'ok  ' if ok else 'FAIL'} {label} vs {ref}: max rel err {worst:.2e}", flush=True)
    return ok


def tolerance(dtype):
    """bfloat16 keeps 8 bits: outputs and gradients are rounded to it on both sides."""
    return TOL.get(dtype, 2e-2)


def leaf(*shape, dtype, scale=1.0, positive=False, gen):
    draw = torch.rand if positive else torch.randn
    x = draw(*shape, generator=gen, dtype=torch.float64)
    return (scale * x).to(device=DEVICE, dtype=dtype).requires_grad_()


def check_linear(dtype, reverse, h0, gen, shape=(2, 9, 5), ref="naive", pdtype=None, gdtype=None, scale=1.0):
    """``shape`` (batch, time, channels); time > 64 spans tiles, channels > 32 channel blocks.

    ``pdtype``: the initial state's dtype (float32 with half-precision gates and inputs, as under autocast);
    ``gdtype``: the gates' (float32 beside half-precision inputs is autocast's other mix); ``scale``: the inputs'.
    """
    a = leaf(*shape, dtype=gdtype or dtype, scale=0.99, positive=True, gen=gen)
    b = leaf(*shape, dtype=dtype, scale=scale, gen=gen)
    s = leaf(shape[0], shape[2], dtype=pdtype or dtype, scale=scale, gen=gen) if h0 else None
    leaves = [a, b] + ([s] if h0 else [])

    def fn(be, tensors=leaves):
        a, b, *s = tensors
        return linear_scan(a, b, initial_state=s[0] if s else None, reverse=reverse, output_final_state=True,
                           backend=be)

    label = f"linear_scan {dtype} gates={gdtype or dtype} scale={scale:g} reverse={reverse} h0={h0} shape={shape}"
    return compare(label, fn, leaves, dtype, ref)


def gate_segments(segments, gen, batch=2, chans=3):
    """Gates and inputs ``(batch, T, chans)`` in float32 from ``(steps, gate, inputs)`` runs: ``gate``
    None draws gates in (0, 1); ``inputs`` False leaves the inputs 0."""
    a, b = [], []
    for steps, gate, inputs in segments:
        shape = (batch, steps, chans)
        a.append(torch.rand(shape, generator=gen, dtype=torch.float64) if gate is None else torch.full(shape, gate))
        b.append(torch.randn(shape, generator=gen, dtype=torch.float64) if inputs else torch.zeros(shape))
    return torch.cat(a, 1).to(DEVICE, torch.float32), torch.cat(b, 1).to(DEVICE, torch.float32)


def check_linear_gate_overflow(gen) -> list:
    """Gates of 1000 overflow their float32 product within any tile of 16 steps or more (1e3**13 >
    3.4e38) while the state they scale is exactly 0: the step-by-step recurrence is finite, but the tile
    scan added ``gain * carried state`` = inf * 0 = NaN, in the forward (first case) or the adjoint scan
    (second: the adjoint of steps 0..64 is 0, cut off by the gate 0 at step 65). Both directions, two
    tiles or more. (Gates of 5 did this in 64-step tiles, 5**56 > 3.4e38, and no longer in 32-step ones.)"""
    cases = {"forward": [(58, 1e3, False), (1, 0.0, False), (69, None, True)],
             "adjoint": [(1, 0.0, False), (64, 1e3, False), (1, 0.0, True), (62, None, True)]}
    checks = []
    for (name, segments), reverse in itertools.product(cases.items(), (False, True)):
        a, b = (x.flip(1) if reverse else x for x in gate_segments(segments, gen))
        a, b = a.requires_grad_(), b.requires_grad_()
        fn = lambda be: linear_scan(a, b, reverse=reverse, output_final_state=True, backend=be)  # noqa: E731
        checks.append(compare(f"linear_scan float32 gate product overflow in the {name} reverse={reverse}",
                              fn, [a, b], torch.float32))
    return checks


def check_growing_modes(gen, T=40) -> list:
    """A growing mode beside a decaying one: ``delta A`` of 6 to 9 a step, so its gain over a 16-step
    tile overflows float32, while its state stays exactly 0 (its B and C columns are 0). The step-by-step
    loop is finite; selective_scan's and scan2d's tiles added ``gain * carried state`` = inf * 0 = NaN
    from the second tile on, in the forward and in the adjoint scan (``linear_scan`` was fixed before)."""
    f32 = torch.float32

    def drawn(*shape, low=0.0, high=1.0):
        x = low + (high - low) * torch.rand(*shape, generator=gen, dtype=torch.float64)
        return x.to(DEVICE, f32).requires_grad_()

    def modes(d):  # (d, 2): column 0 grows (delta A >= 6), column 1 decays
        A = torch.stack([torch.full((d,), 6.0, dtype=torch.float64), -torch.rand(d, generator=gen,
                                                                                   dtype=torch.float64)], -1)
        return A.to(DEVICE, f32).requires_grad_()

    def second_mode_only(*shape):  # B or C: 0 for the growing mode, so its state stays 0
        x = torch.randn(*shape, 2, generator=gen, dtype=torch.float64) * torch.tensor([0.0, 1.0], dtype=torch.float64)
        return x.to(DEVICE, f32).requires_grad_()

    u, delta, A = drawn(2, T, 3, low=-1.0), drawn(2, T, 3, low=1.0, high=1.5), modes(3)
    B, C = second_mode_only(2, T), second_mode_only(2, T)
    selective = lambda be: selective_scan(u, delta, A, B, C, output_final_state=True, backend=be)  # noqa: E731
    x, d1, d2 = drawn(1, T, 2, 3, low=-1.0), drawn(1, T, 2, 3, low=1.0, high=1.5), drawn(1, T, 2, 3)
    A1, A4 = modes(3), -drawn(3, 2)
    B1, C1, B2, C2 = second_mode_only(1, T, 2), second_mode_only(1, T, 2), drawn(1, T, 2, 2), drawn(1, T, 2, 2)
    leaves2d = [x, d1, d2, A1, A4, B1, C1, B2, C2]

    def two_d(be):
        y, last = scan2d(x, d1, d2, A1, None, None, A4, B1, B2, C1, C2, output_final_state=True, backend=be)
        return (y, *last)

    return [compare("selective_scan float32 growing mode with a zero state", selective, [u, delta, A, B, C], f32),
            compare("scan2d float32 growing mode with a zero state", two_d, leaves2d, f32)]


def check_linear_non_finite() -> list:
    """The Triton forward checks ``a``, ``b`` and ``initial_state`` for NaN and inf as it reads them, in
    place of a check that read them once more before the launch: each bad value, in any input, in the
    first tile, a partial last tile or a second channel block, either direction, float32, float64, and
    float16 (float32 gates beside it, as under autocast), is refused naming its tensor; the op itself
    checks nothing then; finite values (up to float max) never reach the exact check, and states that
    overflow from finite inputs reach it but are returned, as on the torch path."""
    import tsrec.kernels.linear as module  # noqa: PLC0415
    from tsrec.kernels.linear import triton_impl  # noqa: PLC0415

    gen = torch.Generator().manual_seed(2)  # its own: every other check keeps its inputs
    op_checked, exact = [], []
    real_check, real_exact = module.check_finite, triton_impl.raise_non_finite
    spy_check = lambda **tensors: op_checked.append(tensors) or real_check(**tensors)  # noqa: E731
    spy_exact = lambda tensors: exact.append(tensors) or real_exact(tensors)  # noqa: E731
    nan, inf = float("nan"), float("inf")
    f32, f64, f16 = torch.float32, torch.float64, torch.float16
    cases = [(f32, f32, "a", nan, (1, 39, 36), False), (f32, f32, "b", inf, (0, 0, 0), True),
             (f64, f64, "b", -inf, (1, 38, 3), False), (f64, f64, "a", inf, (0, 5, 33), True),
             (f32, f16, "b", nan, (1, 33, 20), False), (f32, f32, "initial_state", -inf, (1, 36), False),
             (f64, f64, "initial_state", nan, (0, 2), True)]
    checks = []
    with mock.patch.object(module, "check_finite", spy_check), mock.patch.object(triton_impl, "raise_non_finite",
                                                                                  spy_exact):
        for gate_dtype, dtype, name, value, where, reverse in cases:
            x = {"a": leaf(2, 40, 37, dtype=gate_dtype, scale=0.9, positive=True, gen=gen).detach(),
                 "b": leaf(2, 40, 37, dtype=dtype, gen=gen).detach(),
                 "initial_state": leaf(2, 37, dtype=gate_dtype, gen=gen).detach()}
            x[name][where] = value
            try:
                linear_scan(**x, reverse=reverse, backend="triton")
                refused = ""
            except ValueError as err:
                refused = str(err)
            ok = refused.startswith(f"{name} contains NaN or inf")
            print(f"{'ok  ' if ok else 'FAIL'} linear_scan {dtype} (gates {gate_dtype}) {name}[{where}] = {value} "
                  f"reverse={reverse}: refused by the Triton forward ({refused or 'not refused'})", flush=True)
            checks.append(ok)
        flagged = len(exact)
        big = torch.full((2, 40, 3), torch.finfo(f32).max, device=DEVICE)
        h = linear_scan(torch.zeros_like(big), big, initial_state=big[:, 0], backend="triton")
        unchecked = len(exact) - flagged
        # gates of 2 double 1e38 past float32's max: inf states from finite inputs
        h_over = linear_scan(torch.full_like(big, 2.0), torch.full_like(big, 1e38), backend="triton")
    ok = bool((h == big).all()) and not op_checked and flagged == len(cases) and unchecked == 0
    overflow_ok = bool(torch.isinf(h_over[:, -1]).all()) and len(exact) == flagged + 1
    print(f"{'ok  ' if ok else 'FAIL'} linear_scan float32 max passes the Triton check without the exact check "
          f"({unchecked} exact checks); the op itself checked {len(op_checked)} times", flush=True)
    print(f"{'ok  ' if overflow_ok else 'FAIL'} linear_scan states overflowing from finite inputs are returned "
          f"after {len(exact) - flagged - unchecked} exact check", flush=True)
    return checks + [ok, overflow_ok]


def check_selective(dtype, groups, extras, gen, b=2, T=7, d=4, n=3, ref="naive", pdtype=None):
    """Defaults are tiny; ``T > 16`` spans time tiles (checkpoints) and ``d > 16`` several channel blocks.

    ``pdtype``: the dtype of ``A``, ``D``, ``delta_bias`` and the initial state (parameters).
    """
    bc = (b, T, n) if groups is None else (b, T, groups, n)
    p = pdtype or dtype
    x = dict(u=leaf(b, T, d, dtype=dtype, gen=gen), delta=leaf(b, T, d, dtype=dtype, scale=0.5, positive=True, gen=gen),
             A=leaf(d, n, dtype=p, scale=-1.0, positive=True, gen=gen), B=leaf(*bc, dtype=dtype, gen=gen),
             C=leaf(*bc, dtype=dtype, gen=gen))
    kw = dict(D=leaf(d, dtype=p, gen=gen), z=leaf(b, T, d, dtype=dtype, gen=gen),
              delta_bias=leaf(d, dtype=p, scale=0.1, gen=gen),
              initial_state=leaf(b, d, n, dtype=p, gen=gen)) if extras else {}
    names, leaves = [*x, *kw], [*x.values(), *kw.values()]

    def fn(be, tensors=leaves):
        return selective_scan(**dict(zip(names, tensors)), delta_softplus=extras, output_final_state=True, backend=be)

    label = f"selective_scan {dtype} groups={groups} extras={extras} B={b} T={T} D={d} N={n}"
    ok = compare(label, fn, leaves, dtype, ref)
    with torch.no_grad():  # inference: the forward kernel skips its checkpoints
        want = fn("torch", upcast(leaves)) if ref == "float64" else fn(ref)
        worst = max(rel_err(g, r) for g, r in zip(fn("triton"), want))
    against = "torch float64" if ref == "float64" else ref
    print(f"{'ok  ' if worst < tolerance(dtype) else 'FAIL'} {label} no_grad vs {against}: max rel err {worst:.2e}",
          flush=True)
    return ok and worst < tolerance(dtype)


def check_rnn(dtype, cell, h0, gen, b=3, T=6, hidden=5, pdtype=None):
    """``pdtype``: the dtype of the weights and the initial state."""
    k = 1 if cell == "tanh" else 2
    x = leaf(b, T, hidden * k, dtype=dtype, gen=gen)
    W = leaf(hidden, hidden * k, dtype=pdtype or dtype, scale=hidden ** -0.5, gen=gen)
    s = leaf(b, hidden, dtype=pdtype or dtype, gen=gen) if h0 else None
    leaves = [x, W] + ([s] if h0 else [])
    fn = lambda be: rnn_scan(x, W, initial_state=s, cell=cell, output_final_state=True, backend=be)  # noqa: E731
    return compare(f"rnn_scan {dtype} cell={cell} h0={h0} B={b} T={T} H={hidden}", fn, leaves, dtype)


def check_ltc(dtype, gen, b=3, T=4, units=5, unfolds=3, pdtype=None, irregular=False):
    """``units`` 5 pads to 8 lanes; ``b`` above the rows per program spans several programs.

    ``pdtype``: the dtype of everything but ``terms`` (the state and the parameters);
    ``irregular``: steps of lengths 0.1 to 4.1 (``elapsed``, data, not differentiated).
    """
    p = pdtype or dtype
    terms = leaf(b, T, 2 * units, dtype=dtype, scale=0.5, positive=True, gen=gen)
    v0 = leaf(b, units, dtype=p, scale=0.5, gen=gen)
    cm, ln, g = (leaf(units, dtype=p, scale=s, positive=True, gen=gen) for s in (3.0, 0.2, 1.0))
    ld = (cm.detach() + g.detach()).requires_grad_()
    w = leaf(units, units, dtype=p, positive=True, gen=gen)
    w_erev = leaf(units, units, dtype=p, gen=gen)
    sigma = leaf(units, units, dtype=p, scale=5.0, positive=True, gen=gen)
    mu = leaf(units, units, dtype=p, positive=True, gen=gen)
    leaves = [terms, v0, cm, ln, ld, w, w_erev, sigma, mu]
    elapsed = leaf(b, T, dtype=dtype, scale=4.0, positive=True, gen=gen).detach() + 0.1 if irregular else None
    fn = lambda be, xs=leaves: (ltc_scan(*xs, ode_unfolds=unfolds, elapsed=elapsed, backend=be),)  # noqa: E731
    label = f"ltc_scan {dtype} B={b} T={T} U={units} unfolds={unfolds}{' irregular' if irregular else ''}"
    return compare(label, fn, leaves, dtype)


def check_cfc(dtype, gen, b=3, T=4, units=5, width=12, pdtype=None):
    """``units`` and ``width`` pad to 16 lanes; ``b`` above 16 rows spans several programs.

    The weights keep the recurrence contracting: at T = 96 with unit-gain weights the float32
    recurrence drifts chaotically from the float64 reference (1e-2 to 3e-1 on the torch path too).
    ``pdtype``: the dtype of everything but ``xz`` (the state and the parameters).
    """
    p = pdtype or dtype
    xz, h0 = leaf(b, T, width, dtype=dtype, gen=gen), leaf(b, units, dtype=p, scale=0.5, gen=gen)
    W_h = leaf(units, width, dtype=p, scale=0.5 * units ** -0.5, gen=gen)
    heads = [leaf(*shape, dtype=p, scale=width ** -0.5, gen=gen) for shape in [(width, units), (units,)] * 3]
    leaves = [xz, h0, W_h, *heads]
    fn = lambda be: (cfc_scan(*leaves, backend=be),)  # noqa: E731
    return compare(f"cfc_scan {dtype} B={b} T={T} U={units} Z={width}", fn, leaves, dtype)


def check_scan2d(dtype, coupled, reverse, h0, final, gen, b=2, T=4, V=3, d=3, n=2, pdtype=None):
    """Defaults are tiny; ``d > 16`` spans channel blocks (block sums of the B/C gradients), ``T > 16`` time tiles.

    ``coupled``: both cross terms A2 and A3 (True), neither (False), or one of them ("A2" or "A3").
    ``pdtype``: the dtype of ``A1..A4`` and the initial state.
    """
    grid, small = (b, T, V, d), (b, T, V, n)
    x = leaf(*grid, dtype=dtype, gen=gen)
    deltas = [leaf(*grid, dtype=dtype, scale=0.9, positive=True, gen=gen) for _ in range(2)]
    A = [leaf(d, n, dtype=pdtype or dtype, scale=-1.0, positive=True, gen=gen) for _ in range(4)]
    if coupled in (False, "A3"):
        A[1] = None
    if coupled in (False, "A2"):
        A[2] = None
    BC = [leaf(*small, dtype=dtype, gen=gen) for _ in range(4)]
    init = tuple(leaf(b, V, d, n, dtype=pdtype or dtype, gen=gen) for _ in range(2)) if h0 else None
    # without A2 the variate state at t = -1 is unused: naive gives it no gradient at all
    used_init = [] if init is None else list(init) if A[1] is not None else [init[0]]
    leaves = [x, *deltas, *[a for a in A if a is not None], *BC, *used_init]

    def fn(be):
        y, last = scan2d(x, *deltas, *A, *BC, initial_state=init, output_final_state=final,
                         reverse_variates=reverse, backend=be)
        return (y, *last) if final else (y,)

    label = f"scan2d {dtype} coupled={coupled} reverse={reverse} h0={h0} final={final} D={d} N={n}"
    return compare(label, fn, leaves, dtype)


def check_scan2d_final_h2(dtype, gen, b=1, T=3, V=3, d=2, n=2):
    """The gradient through the final variate state alone: the backward gets none for the other."""
    grid, small = (b, T, V, d), (b, T, V, n)
    x = leaf(*grid, dtype=dtype, gen=gen)
    deltas = [leaf(*grid, dtype=dtype, scale=0.9, positive=True, gen=gen) for _ in range(2)]
    A = [leaf(d, n, dtype=dtype, scale=-1.0, positive=True, gen=gen) for _ in range(4)]
    BC = [leaf(*small, dtype=dtype, gen=gen) for _ in range(4)]
    # C1 and C2 read the states into y, so they cannot reach a final state: naive gives them no gradient
    leaves = [x, *deltas, *A, *BC[:2]]
    fn = lambda be: (scan2d(x, *deltas, *A, *BC, output_final_state=True, backend=be)[1][1],)  # noqa: E731
    return compare(f"scan2d {dtype} final variate state alone", fn, leaves, dtype)


def flat(outs) -> list:
    """The tensors of nested tuples of outputs, in order."""
    return [outs] if isinstance(outs, torch.Tensor) else [t for o in outs for t in flat(o)]
