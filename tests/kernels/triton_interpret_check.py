"""Run the Triton kernels in the CPU interpreter against the float64 references.

Run as a script in a fresh process (``test_triton_interpret.py`` does): the interpreter flag
must be set before triton is imported, because ``@triton.jit`` reads it when the kernel module
loads. Prints one line per check and exits 1 on the first mismatch.
"""

import os

os.environ["TRITON_INTERPRET"] = "1"

import itertools  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

from tsrec.kernels import linear_scan, rnn_scan, scan2d, selective_scan  # noqa: E402
from _compare import TOL, rel_err  # noqa: E402


def compare(label, fn, leaves, dtype):
    """Outputs and gradients of every leaf, naive against triton."""
    res = {}
    for backend in ("naive", "triton"):
        outs = fn(backend)
        loss = sum((o.double() ** 2).sum() for o in outs)
        res[backend] = list(outs) + list(torch.autograd.grad(loss, leaves))
    worst = max(rel_err(g, r) for g, r in zip(res["triton"], res["naive"]))
    ok = worst < TOL[dtype]
    print(f"{'ok  ' if ok else 'FAIL'} {label}: max rel err {worst:.2e}")
    return ok


def leaf(*shape, dtype, scale=1.0, positive=False, gen):
    x = torch.rand(*shape, generator=gen, dtype=torch.float64) if positive else torch.randn(*shape, generator=gen, dtype=torch.float64)
    return (scale * x).to(dtype).requires_grad_()


def check_linear(dtype, reverse, h0, gen):
    a, b = leaf(2, 9, 5, dtype=dtype, scale=0.9, positive=True, gen=gen), leaf(2, 9, 5, dtype=dtype, gen=gen)
    s = leaf(2, 5, dtype=dtype, gen=gen) if h0 else None
    leaves = [a, b] + ([s] if h0 else [])
    fn = lambda be: linear_scan(a, b, initial_state=s, reverse=reverse, output_final_state=True, backend=be)  # noqa: E731
    return compare(f"linear_scan {dtype} reverse={reverse} h0={h0}", fn, leaves, dtype)


def check_selective(dtype, groups, extras, gen, b=2, T=7, d=4):
    """Defaults are tiny; ``T > 32`` spans checkpoint chunks and ``d > 32`` several channel blocks."""
    bc = (b, T, 3) if groups is None else (b, T, groups, 3)
    x = dict(u=leaf(b, T, d, dtype=dtype, gen=gen), delta=leaf(b, T, d, dtype=dtype, scale=0.5, positive=True, gen=gen),
             A=leaf(d, 3, dtype=dtype, scale=-1.0, positive=True, gen=gen), B=leaf(*bc, dtype=dtype, gen=gen),
             C=leaf(*bc, dtype=dtype, gen=gen))
    kw = dict(D=leaf(d, dtype=dtype, gen=gen), z=leaf(b, T, d, dtype=dtype, gen=gen),
              delta_bias=leaf(d, dtype=dtype, scale=0.1, gen=gen), initial_state=leaf(b, d, 3, dtype=dtype, gen=gen)) if extras else {}
    leaves = list(x.values()) + list(kw.values())
    fn = lambda be: selective_scan(**x, **kw, delta_softplus=extras, output_final_state=True, backend=be)  # noqa: E731
    return compare(f"selective_scan {dtype} groups={groups} extras={extras} T={T} D={d}", fn, leaves, dtype)


def check_rnn(dtype, cell, h0, gen):
    k = 1 if cell == "tanh" else 2
    x, W = leaf(3, 6, 5 * k, dtype=dtype, gen=gen), leaf(5, 5 * k, dtype=dtype, scale=0.5, gen=gen)
    s = leaf(3, 5, dtype=dtype, gen=gen) if h0 else None
    leaves = [x, W] + ([s] if h0 else [])
    fn = lambda be: rnn_scan(x, W, initial_state=s, cell=cell, output_final_state=True, backend=be)  # noqa: E731
    return compare(f"rnn_scan {dtype} cell={cell} h0={h0}", fn, leaves, dtype)


def check_scan2d(dtype, coupled, reverse, h0, final, gen, b=2, T=4, V=3, d=3, n=2):
    """Defaults are tiny; ``d > 32`` spans two channel blocks (block sums of the B/C gradients)."""
    grid, small = (b, T, V, d), (b, T, V, n)
    x = leaf(*grid, dtype=dtype, gen=gen)
    deltas = [leaf(*grid, dtype=dtype, scale=0.9, positive=True, gen=gen) for _ in range(2)]
    A = [leaf(d, n, dtype=dtype, scale=-1.0, positive=True, gen=gen) for _ in range(4)]
    if not coupled:
        A[1] = A[2] = None
    BC = [leaf(*small, dtype=dtype, gen=gen) for _ in range(4)]
    init = tuple(leaf(b, V, d, n, dtype=dtype, gen=gen) for _ in range(2)) if h0 else None
    # without A2 the variate state at t = -1 is unused: naive gives it no gradient at all
    used_init = [] if init is None else list(init) if coupled else [init[0]]
    leaves = [x, *deltas, *[a for a in A if a is not None], *BC, *used_init]

    def fn(be):
        y, last = scan2d(x, *deltas, *A, *BC, initial_state=init, output_final_state=final,
                         reverse_variates=reverse, backend=be)
        return (y, *last) if final else (y,)

    label = f"scan2d {dtype} coupled={coupled} reverse={reverse} h0={h0} final={final} D={d} N={n}"
    return compare(label, fn, leaves, dtype)


def main() -> int:
    gen = torch.Generator().manual_seed(0)
    checks = []
    for dtype in (torch.float32, torch.float64):
        for reverse in (False, True):
            checks.append(check_linear(dtype, reverse, h0=not reverse, gen=gen))
        checks.append(check_linear(dtype, True, True, gen=gen))
        checks.append(check_selective(dtype, None, False, gen=gen))
        checks.append(check_selective(dtype, 2, True, gen=gen))
        for cell in ("tanh", "gated"):
            checks.append(check_rnn(dtype, cell, h0=cell == "gated", gen=gen))
        for coupled, reverse, h0 in itertools.product((True, False), repeat=3):
            checks.append(check_scan2d(dtype, coupled, reverse, h0, final=h0 or reverse, gen=gen))
    checks.append(check_selective(torch.float32, None, True, gen=gen, b=1, T=40, d=40))
    checks.append(check_scan2d(torch.float32, True, True, True, True, gen=gen, b=1, T=2, V=2, d=40, n=3))
    print(f"{sum(checks)}/{len(checks)} interpreter checks passed")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
