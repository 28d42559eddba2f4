"""Check the Triton kernels against the float64 references, in the CPU interpreter or on a GPU.

Run as a script in a fresh process. By default it sets ``TRITON_INTERPRET=1`` and runs tiny
shapes on CPU (``test_triton_interpret.py`` does this); the flag must be set before triton is
imported, because ``@triton.jit`` reads it when the kernel module loads. With ``--device cuda``
the kernels are compiled for the GPU, the same checks run on CUDA tensors, and GPU-sized shapes
are added, compared with naive or, where its loop takes too long, with the torch path run in
float64 on the same GPU (itself checked against naive by the CPU test suite). Prints one line per
check and exits 1 if any check fails. The cases themselves are in ``_interpret_cases.py`` (the
launch guard's in ``_guard_cases.py``).
"""

import importlib
import itertools
import sys
from unittest import mock

from _interpret_cases import (  # first: it sets TRITON_INTERPRET for the CPU before triton is imported
    DEVICE, check_cfc, check_growing_modes, check_linear, check_linear_gate_overflow, check_linear_non_finite,
    check_ltc, check_rnn, check_scan2d, check_scan2d_final_h2, check_selective, flat, leaf, rel_err, tolerance,
)

import torch  # noqa: E402

from _guard_cases import check_launches_guarded  # noqa: E402
from tsrec.kernels import cfc_scan, linear_scan, ltc_scan, rnn_scan, scan2d, selective_scan  # noqa: E402


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
    """Zero channels, states or units: the torch path's empty results and zero gradients, forward and
    backward, not a division by a zero tile width or a reshape of nothing."""
    f32 = torch.float32

    def leaves(*shapes):
        return [leaf(*shape, dtype=f32, gen=gen) for shape in shapes]

    def cfc(be, units, width):
        return cfc_scan(*leaves((2, 3, width), (2, units), (units, width)),
                        *(t for _ in range(3) for t in leaves((width, units), (units,))), backend=be)

    cases = {
        "linear_scan, 0 channels": lambda be: linear_scan(*leaves((2, 5, 0), (2, 5, 0)), backend=be),
        "selective_scan, 0 states": lambda be: selective_scan(
            *leaves((2, 5, 4), (2, 5, 4), (4, 0), (2, 5, 0), (2, 5, 0)), backend=be),
        "selective_scan, 0 channels": lambda be: selective_scan(
            *leaves((2, 5, 0), (2, 5, 0), (0, 3), (2, 5, 3), (2, 5, 3)), backend=be),
        "rnn_scan tanh, 0 units": lambda be: rnn_scan(*leaves((2, 3, 0), (0, 0)), backend=be),
        "rnn_scan gated, 0 units": lambda be: rnn_scan(*leaves((2, 3, 0), (0, 0)), cell="gated", backend=be),
        "cfc_scan, 0 units": lambda be: cfc(be, 0, 3),
        "cfc_scan, 0 backbone": lambda be: cfc(be, 2, 0),
        "scan2d, 0 states": lambda be: scan2d(*leaves(*[(1, 2, 2, 2)] * 3, *[(2, 0)] * 4, *[(1, 2, 2, 0)] * 4),
                                              backend=be)[0],
    }

    def outcome(run, backend):
        y = run(backend)
        y.sum().backward()  # the backward of an empty or all-zero-width result too
        return y.shape

    ok = True
    for name, run in cases.items():
        try:
            same = outcome(run, "triton") == outcome(run, "torch")
        except (ZeroDivisionError, RuntimeError) as err:
            print(f"     {type(err).__name__}: {err}", flush=True)
            same = False
        print(f"{'ok  ' if same else 'FAIL'} {name} on the triton backend", flush=True)
        ok &= same
    return ok


def check_linear_chained(gen) -> list:
    """The chained linear-scan kernel (``CHAINED``, off until timed on a GPU) as the walking one is
    checked: several time tiles (the last partial) and channel blocks, both directions, an initial state,
    half precision, gate overflow and non-finite inputs, against naive, with its default tile and a
    small one; float64 walks. Its float32 states and gradients also equal the walk's (bit for bit in the
    interpreter), every program takes one ticket and publishes its links, and a wait that never ends gives up."""
    from tsrec.kernels.linear import triton_impl  # noqa: PLC0415 - imports triton

    f32 = torch.float32
    print("linear_scan, chained kernel:", flush=True)
    with mock.patch.object(triton_impl, "CHAINED", True):
        checks = [check_linear(f32, reverse, True, gen=gen, shape=(2, 40, 133)) for reverse in (False, True)]
        checks.append(check_linear(torch.bfloat16, False, True, gen=gen, pdtype=f32, shape=(2, 40, 133)))
        checks.append(check_linear(torch.float64, True, True, gen=gen, shape=(2, 40, 5)))  # over one tile: walks
        checks += check_linear_gate_overflow(gen) + check_linear_non_finite()
        with mock.patch.multiple(triton_impl, CHAIN_BLOCK_C=8, CHAIN_CHUNK_T=8):  # 3 blocks x 5 tiles
            checks += [check_linear(f32, reverse, True, gen=gen, shape=(2, 40, 20)) for reverse in (False, True)]
    # 128 channels: compiled for a GPU, a multiple of 16 lets Triton spread a chained tile's steps over lanes
    a, b = leaf(2, 72, 128, dtype=f32, scale=0.99, positive=True, gen=gen), leaf(2, 72, 128, dtype=f32, gen=gen)
    s = leaf(2, 128, dtype=f32, gen=gen)
    runs, made = {}, []
    for chained in (False, True):
        with mock.patch.object(triton_impl, "CHAINED", chained), \
                mock.patch.object(triton_impl, "_new_links", lambda n, device: made.append(torch.zeros(
                    n, dtype=torch.int64, device=device)) or made[-1]):
            h = linear_scan(a, b, initial_state=s, reverse=True, backend="triton")
            runs[chained] = [h, *torch.autograd.grad(h, (a, b, s), torch.ones_like(h))]
    # the interpreter scans a tile step by step whatever its layout: bit for bit. On a GPU the chained tile
    # spreads its steps over lanes here, which the walk's does not: the same within float32's rounding
    worst = max(rel_err(x, y) for x, y in zip(runs[True], runs[False]))
    same = worst == 0 if DEVICE == "cpu" else worst < tolerance(f32)
    print(f"{'ok  ' if same else 'FAIL'} chained states and gradients against the walk's: max rel err {worst:.1e} "
          f"({'bit for bit' if DEVICE == 'cpu' else 'float32 tolerance'})", flush=True)
    # forward and adjoint: 3 tiles of 32 steps (the last partial) x 4 blocks of 32 channels x 2 rows, one ticket each
    counted = len(made) == 2 and all(int(links[0]) == 24 and bool((links[1:] >> 32 == 1).all()) for links in made)
    print(f"{'ok  ' if counted else 'FAIL'} every chained program took one ticket and published all its links "
          f"({[int(links[0]) for links in made]} tickets)", flush=True)
    return checks + [same, counted, check_chain_gives_up()]


def check_chain_gives_up() -> bool:
    """Tickets that start at tile 1 leave tile 0's links unpublished: tile 1 must stop polling after
    ``SPIN_LIMIT`` tries, flag it, continue from NaN (states after a give-up are NaN, never plausible)
    and still publish its links; a launch that meets the flag set stops polling within 256 polls: its
    limit here, 2**30 polls, would hang the check (and fail it by the caller's timeout), not slow it. And a
    forward whose chained kernel gave up raises: the op reads the flag."""
    from tsrec.kernels.linear import triton_impl  # noqa: PLC0415 - imports triton

    b = torch.zeros(1, 8, 4, device=DEVICE)
    out, flags = torch.empty_like(b), torch.zeros(2, dtype=torch.int32, device=DEVICE)
    published = []
    for limit in (3, 2**30):
        links = torch.zeros(1 + 2 * 4, dtype=torch.int64, device=DEVICE)
        links[0] = 1  # the next ticket: tile 1 of the two 4-step tiles
        triton_impl._chain_kernel[(1,)](b + 1, b, b, out, flags, flags[1:], links, 1, 8, 4, HAS_H0=False,
                                        REVERSE=False, GATE_SHIFT=0, CHECK=False, BLOCK=4, CHUNK=4,
                                        SPIN_LIMIT=limit, num_warps=1)
        flags.tolist()  # waits for the launch
        published.append(int(links[0]) == 2 and bool((links[5:] >> 32 == 1).all()) and not (links[1:5] >> 32).any())
    nan_after = bool(out[0, 4:].isnan().all()) and not out[0, :4].isnan().any()  # tile 0's rows were never written
    raised, real = False, triton_impl._chain_kernel

    class GivesUp:  # the real kernel, then its give-up flag set, as a program that gave up sets it
        def __getitem__(self, grid):
            def launch(*args, **kwargs):
                real[grid](*args, **kwargs)
                args[5].fill_(1)
            return launch

    with mock.patch.multiple(triton_impl, CHAINED=True, _chain_kernel=GivesUp()):
        try:
            linear_scan(torch.rand(1, 70, 4, device=DEVICE), torch.randn(1, 70, 4, device=DEVICE), backend="triton")
        except RuntimeError as err:
            raised = "waited too long" in str(err)
    ok = int(flags[1]) == 1 and all(published) and nan_after and raised
    print(f"{'ok  ' if ok else 'FAIL'} a chained program gives up on a link that never comes (flag {int(flags[1])}, "
          f"published {published}, NaN after {nan_after}, raised {raised})",
          flush=True)
    return ok


def check_backward_under_autocast(gen) -> list:
    """Each kernel's backward called inside a CPU bfloat16 autocast block, against naive (float64,
    which autocast leaves alone): the hand-written backwards turn autocast off as their forwards do.
    The gated RNN's parameter gradients, matrix products in its torch wrapper, were 3e-3 off before."""
    cases = importlib.import_module("_interpret_cases")
    plain = cases.outputs_and_grads

    def backward_inside_autocast(fn, backend, leaves):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return plain(fn, backend, leaves)

    f32 = torch.float32
    print("backward called inside autocast:", flush=True)
    with mock.patch.object(cases, "outputs_and_grads", backward_inside_autocast):
        return [check_linear(f32, False, True, gen=gen), check_selective(f32, None, True, gen=gen),
                check_rnn(f32, "gated", True, gen=gen), check_rnn(f32, "tanh", True, gen=gen),
                check_ltc(f32, gen), check_cfc(f32, gen), check_scan2d(f32, True, False, True, True, gen=gen)]


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
        checks.append(check_ltc(dtype, gen, irregular=True))
    checks.append(check_ltc(torch.float32, gen, b=70, T=3, units=8, unfolds=6))  # two programs of 64 rows
    # rows capped at 64 where 2 units would take 1024: three programs, the last partial (its own generator)
    checks.append(check_ltc(torch.float32, torch.Generator().manual_seed(5), b=130, T=2, units=2, unfolds=2))
    for dtype in (torch.float32, torch.float64):
        checks.append(check_cfc(dtype, gen))
    checks.append(check_cfc(torch.float32, gen, b=20, T=3, units=20, width=40))
    for reverse in (False, True):  # several time tiles (the last one partial) and channel blocks (the last partial)
        checks.append(check_linear(torch.float32, reverse, True, gen=gen, shape=(2, 40, 133)))
    checks += check_linear_gate_overflow(gen) + check_long_gain_precision(gen) + check_linear_non_finite()
    checks += check_growing_modes(torch.Generator().manual_seed(4))  # its own: every other check keeps its inputs
    checks += check_linear_chained(torch.Generator().manual_seed(3))  # its own: every other check keeps its inputs
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
    # rows past one program of 16 (BLOCK_B); either cross term alone; the final variate state alone
    more = torch.Generator().manual_seed(6)
    checks += [check_rnn(torch.float32, cell, h0, gen=more, b=17) for cell, h0 in (("gated", True), ("tanh", False))]
    checks += [check_scan2d(torch.float64, alone, False, True, True, gen=more, b=1, T=3, V=3, d=2, n=2)
               for alone in ("A2", "A3")]
    checks.append(check_scan2d_final_h2(torch.float64, more))
    return checks + half_precision_checks(gen) + check_backward_under_autocast(gen)


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
    checks.append(check_ltc(f32, gen, b=32, T=96, units=32, unfolds=6, irregular=True))
    checks.append(check_cfc(f32, gen, b=32, T=96, units=32, width=128))
    checks.append(check_rnn(f32, "tanh", False, gen=gen, b=40, T=300, hidden=64))
    checks.append(check_rnn(f32, "gated", True, gen=gen, b=16, T=200, hidden=64))
    checks.append(check_scan2d(f32, True, False, True, True, gen=gen, b=2, T=24, V=7, d=64, n=16))
    return checks + gpu_chained_checks(gen)


def gpu_chained_checks(gen) -> list:
    """The chained linear-scan kernel where thousands of its programs wait on each other at once (the
    interpreter runs them one after another), at its default tile and a 4-warp one; last, and each
    caught, so that a chained kernel that fails cannot cost the checks before it."""
    impl = importlib.import_module("tsrec.kernels.linear.triton_impl")
    checks = []
    for tile in ({}, {"CHAIN_BLOCK_C": 512, "CHAIN_CHUNK_T": 16, "CHAIN_WARPS": 4}):
        for reverse in (False, True):
            try:
                with mock.patch.multiple(impl, CHAINED=True, **tile):
                    checks.append(check_linear(torch.float32, reverse, True, gen=gen, shape=(16, 4096, 1024),
                                               ref="float64"))
            except RuntimeError as err:
                print(f"FAIL chained linear_scan {tile or 'default tile'} reverse={reverse}: {err}", flush=True)
                checks.append(False)
    return checks


def main() -> int:
    gen = torch.Generator().manual_seed(0)
    checks = interpreter_checks(gen) + (gpu_checks(gen) if DEVICE == "cuda" else [])
    where = "GPU" if DEVICE == "cuda" else "interpreter"
    print(f"{sum(checks)}/{len(checks)} {where} checks passed")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
