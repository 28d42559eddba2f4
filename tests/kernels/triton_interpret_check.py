"""Check the Triton kernels against the float64 references, in the CPU interpreter or on a GPU.

Run as a script in a fresh process. By default it sets ``TRITON_INTERPRET=1`` and runs tiny
shapes on CPU (``test_triton_interpret.py`` does this); the flag must be set before triton is
imported, because ``@triton.jit`` reads it when the kernel module loads. With ``--device cuda``
the kernels are compiled for the GPU, the same checks run on CUDA tensors, and GPU-sized shapes
are added, compared with naive or, where its loop takes too long, with the torch path run in
float64 on the same GPU (itself checked against naive by the CPU test suite). Prints one line per
check and exits 1 if any check fails.
"""

import argparse
import os
import sys

PARSER = argparse.ArgumentParser(description="Triton kernels against the references")
PARSER.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="cpu: the Triton interpreter on tiny shapes; cuda: compiled kernels on a GPU")
DEVICE = PARSER.parse_args().device
if DEVICE == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"

import contextlib  # noqa: E402
import importlib  # noqa: E402
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
    cases = [(f32, f32, "a", nan, (1, 69, 36), False), (f32, f32, "b", inf, (0, 0, 0), True),
             (f64, f64, "b", -inf, (1, 40, 3), False), (f64, f64, "a", inf, (0, 5, 33), True),
             (f32, f16, "b", nan, (1, 33, 20), False), (f32, f32, "initial_state", -inf, (1, 36), False),
             (f64, f64, "initial_state", nan, (0, 2), True)]
    checks = []
    with mock.patch.object(module, "check_finite", spy_check), mock.patch.object(triton_impl, "raise_non_finite",
                                                                                  spy_exact):
        for gate_dtype, dtype, name, value, where, reverse in cases:
            x = {"a": leaf(2, 70, 37, dtype=gate_dtype, scale=0.9, positive=True, gen=gen).detach(),
                 "b": leaf(2, 70, 37, dtype=dtype, gen=gen).detach(),
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


def check_ltc(dtype, gen, b=3, T=4, units=5, unfolds=3, pdtype=None):
    """``units`` 5 pads to 8 lanes; ``b`` above the rows per program spans several programs.

    ``pdtype``: the dtype of everything but ``terms`` (the state and the parameters).
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
    fn = lambda be: (ltc_scan(*leaves, ode_unfolds=unfolds, backend=be),)  # noqa: E731
    return compare(f"ltc_scan {dtype} B={b} T={T} U={units} unfolds={unfolds}", fn, leaves, dtype)


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

    ``pdtype``: the dtype of ``A1..A4`` and the initial state.
    """
    grid, small = (b, T, V, d), (b, T, V, n)
    x = leaf(*grid, dtype=dtype, gen=gen)
    deltas = [leaf(*grid, dtype=dtype, scale=0.9, positive=True, gen=gen) for _ in range(2)]
    A = [leaf(d, n, dtype=pdtype or dtype, scale=-1.0, positive=True, gen=gen) for _ in range(4)]
    if not coupled:
        A[1] = A[2] = None
    BC = [leaf(*small, dtype=dtype, gen=gen) for _ in range(4)]
    init = tuple(leaf(b, V, d, n, dtype=pdtype or dtype, gen=gen) for _ in range(2)) if h0 else None
    # without A2 the variate state at t = -1 is unused: naive gives it no gradient at all
    used_init = [] if init is None else list(init) if coupled else [init[0]]
    leaves = [x, *deltas, *[a for a in A if a is not None], *BC, *used_init]

    def fn(be):
        y, last = scan2d(x, *deltas, *A, *BC, initial_state=init, output_final_state=final,
                         reverse_variates=reverse, backend=be)
        return (y, *last) if final else (y,)

    label = f"scan2d {dtype} coupled={coupled} reverse={reverse} h0={h0} final={final} D={d} N={n}"
    return compare(label, fn, leaves, dtype)


def flat(outs) -> list:
    """The tensors of nested tuples of outputs, in order."""
    return [outs] if isinstance(outs, torch.Tensor) else [t for o in outs for t in flat(o)]


def check_long_gain_precision(gen, T=4096) -> list:
    """Long float32 scans, forward, against the torch path's step-by-step error.

    Within a tile, the gain carrying the entering state to step t was a product of up to 16 rounded
    decays exp(delta A): 2.4x (selective) and 2.1x (scan2d) the torch path's error here, 9x on a GPU
    (the audit's 1e-5); exp(cumsum(delta A)) rounds once and must be no further off than the torch path.
    """
    f32, dt = torch.float32, dict(dtype=torch.float32, scale=0.1, positive=True, gen=gen)
    u, B, C = (leaf(1, T, k, dtype=f32, gen=gen) for k in (2, 4, 4))
    delta, A = leaf(1, T, 2, **dt), -leaf(2, 4, **dt)
    cell = (1, T, 1, 2)  # one variate: scan2d's time scan alone
    x, d1, d2 = leaf(*cell, dtype=f32, gen=gen), leaf(*cell, **dt), leaf(*cell, **dt)
    A4 = [-leaf(2, 2, **dt) for _ in range(4)]
    BC = [leaf(*cell, dtype=f32, gen=gen) for _ in range(4)]
    ops = {"selective_scan": lambda be: selective_scan(u, delta, A, B, C, output_final_state=True, backend=be),
           "scan2d": lambda be: scan2d(x, d1, d2, *A4, *BC, output_final_state=True, backend=be)}
    checks = []
    for name, op in ops.items():
        with torch.no_grad():
            ref = flat(op("naive"))
            err = {be: max(rel_err(g, r) for g, r in zip(flat(op(be)), ref)) for be in ("torch", "triton")}
        ok = err["triton"] <= err["torch"]
        print(f"{'ok  ' if ok else 'FAIL'} {name} float32 T={T} forward: max rel err {err['triton']:.2e}, "
              f"torch path {err['torch']:.2e}", flush=True)
        checks.append(ok)
    return checks


def check_no_second_derivatives(gen) -> bool:
    """A Triton backward is a kernel autograd cannot see into: asking for a differentiable gradient
    (create_graph=True, as Hessians do) must fail loudly; it once returned incomplete or zero
    second derivatives without a word."""
    f64 = torch.float64
    a, b = leaf(1, 3, 2, dtype=f64, scale=0.9, positive=True, gen=gen), leaf(1, 3, 2, dtype=f64, gen=gen)
    x, W = leaf(2, 3, 8, dtype=f64, gen=gen), leaf(4, 8, dtype=f64, scale=0.5, gen=gen)
    xz, h0, W_h = leaf(2, 3, 6, dtype=f64, gen=gen), leaf(2, 4, dtype=f64, gen=gen), leaf(4, 6, dtype=f64, gen=gen)
    heads = [leaf(*shape, dtype=f64, scale=0.3, gen=gen) for shape in [(6, 4), (4,)] * 3]
    u, dt = leaf(1, 3, 2, dtype=f64, gen=gen), leaf(1, 3, 2, dtype=f64, positive=True, gen=gen)
    B = leaf(1, 3, 2, dtype=f64, gen=gen)
    A = leaf(2, 2, dtype=f64, scale=-1.0, positive=True, gen=gen)
    terms, v0 = leaf(1, 3, 4, dtype=f64, positive=True, gen=gen), leaf(1, 2, dtype=f64, gen=gen)
    ltc = [leaf(2, dtype=f64, positive=True, gen=gen) + 1, leaf(2, dtype=f64, gen=gen),
           leaf(2, dtype=f64, positive=True, gen=gen) + 2]
    ltc += [leaf(2, 2, dtype=f64, positive=True, gen=gen) for _ in range(4)]
    grid, small = leaf(1, 2, 2, 2, dtype=f64, gen=gen), leaf(1, 2, 2, 2, dtype=f64, gen=gen)
    step = leaf(1, 2, 2, 2, dtype=f64, positive=True, gen=gen)
    cases = {
        "linear_scan": (lambda: linear_scan(a, b, backend="triton"), [a, b]),
        "rnn_scan": (lambda: rnn_scan(x, W, cell="gated", backend="triton"), [x, W]),
        "cfc_scan": (lambda: cfc_scan(xz, h0, W_h, *heads, backend="triton"), [xz, W_h, *heads]),
        "selective_scan": (lambda: selective_scan(u, dt, A, B, B, backend="triton"), [u, B]),
        "ltc_scan": (lambda: ltc_scan(terms, v0, *ltc, ode_unfolds=2, backend="triton"), [terms, *ltc]),
        "scan2d": (lambda: scan2d(grid, step, step, A, A, A, A, small, small, small, small, backend="triton")[0],
                   [grid, small]),
    }
    ok = True
    for name, (run, leaves) in cases.items():
        loss = (run() ** 2).sum()
        try:
            torch.autograd.grad(loss, leaves, create_graph=True)
            refused = False
        except RuntimeError as err:
            refused = "first derivatives only" in str(err) and "backend='naive'" in str(err)
        print(f"{'ok  ' if refused else 'FAIL'} {name}: create_graph=True through the Triton backward is refused",
              flush=True)
        ok &= refused
    return ok


def check_empty_widths(gen) -> bool:
    """Zero channels or states: the torch path's empty results, not a division by a zero tile width."""
    f32 = torch.float32
    cases = {
        "linear_scan, 0 channels": lambda be: linear_scan(leaf(2, 5, 0, dtype=f32, gen=gen),
                                                          leaf(2, 5, 0, dtype=f32, gen=gen), backend=be),
        "selective_scan, 0 states": lambda be: selective_scan(
            *(leaf(2, 5, 4, dtype=f32, gen=gen) for _ in range(2)), leaf(4, 0, dtype=f32, gen=gen),
            *(leaf(2, 5, 0, dtype=f32, gen=gen) for _ in range(2)), backend=be),
        "selective_scan, 0 channels": lambda be: selective_scan(
            *(leaf(2, 5, 0, dtype=f32, gen=gen) for _ in range(2)), leaf(0, 3, dtype=f32, gen=gen),
            *(leaf(2, 5, 3, dtype=f32, gen=gen) for _ in range(2)), backend=be),
    }
    ok = True
    for name, run in cases.items():
        try:
            same = run("triton").shape == run("torch").shape
        except ZeroDivisionError:
            same = False
        print(f"{'ok  ' if same else 'FAIL'} {name} on the triton backend", flush=True)
        ok &= same
    return ok


#: every module that launches Triton kernels, and its kernels
LAUNCHERS = {"linear.triton_impl": ("_scan_kernel",),
             **{m: ("_fwd_kernel", "_bwd_kernel") for m in ("selective.triton_impl", "scan2d.triton_impl",
                                                            "recurrent.triton_impl", "recurrent.ltc_triton",
                                                            "recurrent.cfc_triton")}}


class _GuardProbe:
    """Stands in for ``on_device_of`` (counting how deep a launch runs in it) and for each kernel
    (recording whether it was launched inside it), then launches the real kernel."""

    def __init__(self):
        self.depth, self.launches = 0, {}

    @contextlib.contextmanager
    def guard(self, tensor):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def kernel(self, name, real):
        probe = self

        class Launcher:
            def __getitem__(self, grid):
                def launch(*args, **kwargs):
                    probe.launches.setdefault(name, []).append(probe.depth > 0)
                    return real[grid](*args, **kwargs)
                return launch
        return Launcher()


def check_launches_guarded(gen) -> bool:
    """Triton launches on the current CUDA device, not the tensors': every launch of every kernel
    must run inside ``on_device_of`` (it once ran none, so inputs on cuda:1 met a kernel on cuda:0)."""
    probe = _GuardProbe()
    with contextlib.ExitStack() as stack:
        for path, kernels in LAUNCHERS.items():
            module = importlib.import_module(f"tsrec.kernels.{path}")
            stack.enter_context(mock.patch.object(module, "on_device_of", probe.guard, create=True))
            for k in kernels:
                stack.enter_context(mock.patch.object(module, k, probe.kernel(f"{path}.{k}", getattr(module, k))))
        f64 = torch.float64
        ran = [check_linear(f64, False, True, gen), check_selective(f64, 2, True, gen),
               check_rnn(f64, "gated", True, gen), check_ltc(f64, gen), check_cfc(f64, gen),
               check_scan2d(f64, True, False, True, True, gen=gen)]
    ok = all(ran)
    for name in (f"{path}.{k}" for path, kernels in LAUNCHERS.items() for k in kernels):
        inside = probe.launches.get(name, [])
        good = bool(inside) and all(inside)
        print(f"{'ok  ' if good else 'FAIL'} {name}: {sum(inside)}/{len(inside)} launches inside on_device_of",
              flush=True)
        ok &= good
    return ok


def interpreter_checks(gen) -> list:
    """Tiny shapes: every option of every kernel, float32 and float64, against naive."""
    checks = [check_no_second_derivatives(gen), check_empty_widths(gen), check_launches_guarded(gen)]
    for dtype in (torch.float32, torch.float64):
        for reverse in (False, True):
            checks.append(check_linear(dtype, reverse, h0=not reverse, gen=gen))
        checks.append(check_linear(dtype, True, True, gen=gen))
        checks.append(check_selective(dtype, None, False, gen=gen))
        checks.append(check_selective(dtype, 2, True, gen=gen))
        for cell, h0 in itertools.product(("tanh", "gated"), (False, True)):
            checks.append(check_rnn(dtype, cell, h0=h0, gen=gen))
        for coupled, reverse, h0 in itertools.product((True, False), repeat=3):
            checks.append(check_scan2d(dtype, coupled, reverse, h0, final=h0 or reverse, gen=gen))
    for dtype in (torch.float32, torch.float64):
        checks.append(check_ltc(dtype, gen))
    checks.append(check_ltc(torch.float32, gen, b=70, T=3, units=8, unfolds=6))  # two programs of 64 rows
    for dtype in (torch.float32, torch.float64):
        checks.append(check_cfc(dtype, gen))
    checks.append(check_cfc(torch.float32, gen, b=20, T=3, units=20, width=40))
    for reverse in (False, True):  # several time tiles (the last one partial) and channel blocks
        checks.append(check_linear(torch.float32, reverse, True, gen=gen, shape=(2, 150, 37)))
    checks += check_linear_gate_overflow(gen) + check_long_gain_precision(gen) + check_linear_non_finite()
    checks.append(check_selective(torch.float32, None, True, gen=gen, b=1, T=40, d=40))
    # a state of 64 narrows the float64 tile to one channel per program (three blocks here)
    checks.append(check_selective(torch.float64, 2, True, gen=gen, b=1, T=20, d=6, n=40))
    checks.append(check_scan2d(torch.float32, True, True, True, True, gen=gen, b=1, T=2, V=2, d=40, n=3))
    # several time tiles (the last one partial) down several variate columns, both directions
    checks.append(check_scan2d(torch.float32, True, True, True, True, gen=gen, b=2, T=37, V=3, d=5, n=3))
    checks.append(check_scan2d(torch.float64, False, False, False, True, gen=gen, b=1, T=20, V=4, d=3, n=2))
    # the GPU sizes' reference (the torch path in float64), run here on tiny shapes before a GPU needs it;
    # drawn from a generator of their own, so that every other check keeps its inputs
    own = torch.Generator().manual_seed(1)
    checks.append(check_linear(torch.float32, False, False, gen=own, shape=(2, 70, 5), ref="float64"))
    checks.append(check_selective(torch.float32, None, False, gen=own, b=2, T=20, d=6, n=3, ref="float64"))
    return checks + half_precision_checks(gen)


def half_precision_checks(gen) -> list:
    """One bfloat16 and one float16 case per kernel, with float32 parameters and states as under autocast."""
    f32, checks = torch.float32, []
    for half in (torch.bfloat16, torch.float16):
        checks += [check_linear(half, False, True, gen=gen, pdtype=f32),
                   check_selective(half, None, True, gen=gen, pdtype=f32),
                   check_rnn(half, "gated", True, gen=gen, pdtype=f32),
                   check_rnn(half, "tanh", False, gen=gen, pdtype=f32),
                   check_ltc(half, gen, pdtype=f32),
                   check_cfc(half, gen, pdtype=f32),
                   check_scan2d(half, True, False, True, True, gen=gen, pdtype=f32)]
    # float32 gates, float16 inputs this small: the gate gradient g * h (1e-10) is below float16's
    # smallest subnormal, so it is only right if the adjoint scan and the product stay in float32
    # (no initial state: a float32 one would promote the saved states to float32 and hide it)
    checks.append(check_linear(torch.float16, False, False, gen=gen, gdtype=f32, scale=1e-5))
    return checks


def gpu_checks(gen) -> list:
    """GPU-sized shapes: the benchmark's sizes, against naive where its loop is affordable, else against
    the torch path run in float64 (``ref="float64"`` for float32 inputs; ``ref="torch"`` for float64 ones)."""
    f32 = torch.float32
    checks = [check_linear(f32, rev, True, gen=gen, shape=(4, 1000, 300)) for rev in (False, True)]
    checks.append(check_linear(f32, False, False, gen=gen, shape=(16, 4096, 1024), ref="float64"))
    checks.append(check_linear(torch.float64, True, True, gen=gen, shape=(8, 2048, 256), ref="torch"))
    checks.append(check_selective(f32, None, True, gen=gen, b=2, T=300, d=64, n=16))
    checks.append(check_selective(f32, 4, True, gen=gen, b=2, T=300, d=128, n=16))
    checks.append(check_selective(f32, None, False, gen=gen, b=16, T=720, d=128, n=16, ref="float64"))
    checks.append(check_ltc(f32, gen, b=32, T=96, units=32, unfolds=6))
    checks.append(check_cfc(f32, gen, b=32, T=96, units=32, width=128))
    checks.append(check_rnn(f32, "tanh", False, gen=gen, b=40, T=300, hidden=64))
    checks.append(check_rnn(f32, "gated", True, gen=gen, b=16, T=200, hidden=64))
    checks.append(check_scan2d(f32, True, False, True, True, gen=gen, b=2, T=24, V=7, d=64, n=16))
    return checks


def main() -> int:
    gen = torch.Generator().manual_seed(0)
    checks = interpreter_checks(gen) + (gpu_checks(gen) if DEVICE == "cuda" else [])
    where = "GPU" if DEVICE == "cuda" else "interpreter"
    print(f"{sum(checks)}/{len(checks)} {where} checks passed")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
