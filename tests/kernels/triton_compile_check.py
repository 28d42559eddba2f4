"""Compile every Triton kernel launch of one op for real GPUs, on a machine without one.

Run as a script in a fresh process (``test_triton_compile.py`` does, one process per op): a
compiler crash aborts the process (LLVM assertions do), so it must not take pytest with it.
The op's forward and backward run on CPU tensors with the kernels swapped for recorders
(:mod:`_triton_aot`), at sizes that give the block shapes a GPU run uses; each recorded launch
is then compiled for sm_80 and sm_90 down to a cubin. Where an op's size limit depends on the
GPU's shared memory, each target gets the largest sizes its GPU's rule admits (an A100's for
sm_80, an H100/H200's for sm_90). Prints one line per compiled launch with its registers per
thread, stack bytes and shared memory and, where the size rule counts one, the shared memory the
rule expects of it (``rule``); ends with a count line.
"""

import sys
from unittest import mock

import torch

from _triton_aot import TARGETS, compile_launch, recorded_launches, resource_usage
from tsrec.kernels._launch import AMPERE_BLOCK_SHARED, HOPPER_BLOCK_SHARED

#: the shared memory a block has on each target's GPU: an H100/H200 (sm_90) and an A100 (sm_80)
BLOCK_SHARED = {"sm90": HOPPER_BLOCK_SHARED, "sm80": AMPERE_BLOCK_SHARED}


def _leaf(*shape, dtype, positive=False):
    x = torch.rand(*shape, dtype=dtype) if positive else torch.randn(*shape, dtype=dtype)
    return x.requires_grad_()


def run_linear(dtype, shared):
    from tsrec.kernels.linear import triton_impl as impl

    with recorded_launches(impl, ("_scan_kernel", "_chain_kernel")) as calls:
        # a block narrowed to the channels, and a full one (masked): 64 and 160 for the walk, 16 and 160 chained
        for chained, chans in ((False, 64), (False, 160), (True, 16), (True, 160)):
            for reverse, h0 in ((False, None), (True, _leaf(2, chans, dtype=dtype))):
                a, b = _leaf(2, 100, chans, dtype=dtype, positive=True), _leaf(2, 100, chans, dtype=dtype)
                with mock.patch.object(impl, "CHAINED", chained):  # as linear_scan calls it:
                    impl.linear_scan_triton(a, b, h0, reverse, check_finite=True).sum().backward()
    return calls


def run_selective(dtype, shared):
    from tsrec.kernels.selective import triton_impl as impl

    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        # Mamba's state size 16, and 64 (the tile narrows its channel block to stay spill-free)
        for groups, n, h0 in ((1, 16, None), (4, 16, _leaf(2, 128, 16, dtype=dtype)), (1, 64, None)):
            u, delta = _leaf(2, 50, 128, dtype=dtype), _leaf(2, 50, 128, dtype=dtype, positive=True)
            A, B, C = (_leaf(128, n, dtype=dtype), _leaf(2, 50, groups, n, dtype=dtype),
                       _leaf(2, 50, groups, n, dtype=dtype))
            y, last = impl.selective_scan_triton(u, delta, A, B, C, initial_state=h0)
            (y.sum() + last.sum()).backward()
            with torch.no_grad():  # inference: the forward without checkpoints
                impl.selective_scan_triton(u, delta, A, B, C, initial_state=h0)
    return calls


def run_recurrent(dtype, shared):
    from tsrec.kernels.recurrent import triton_impl as impl
    from tsrec.kernels.recurrent.cells import triton_hidden_limit

    # small tiles, and the largest the target GPU's shared memory admits
    sizes = [(cell, h) for cell, small in (("tanh", 16), ("gated", 32))
             for h in (small, triton_hidden_limit(cell, shared))]
    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        for cell, hidden in sizes:
            k = 2 if cell == "gated" else 1
            x, W = _leaf(4, 10, k * hidden, dtype=dtype), _leaf(hidden, k * hidden, dtype=dtype)
            impl.rnn_scan_triton(cell, x, W, _leaf(4, hidden, dtype=dtype)).sum().backward()
    return calls


def run_scan2d(dtype, shared):
    from tsrec.kernels.scan2d import triton_impl as impl

    grid, small = (2, 6, 5, 64), (2, 6, 5, 16)
    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        for coupled, reverse in ((True, False), (False, True)):
            A = [-_leaf(64, 16, dtype=dtype, positive=True) for _ in range(4)]
            if not coupled:
                A[1] = A[2] = None
            init = (_leaf(2, 5, 64, 16, dtype=dtype), _leaf(2, 5, 64, 16, dtype=dtype))
            x, d1, d2 = (_leaf(*grid, dtype=dtype), _leaf(*grid, dtype=dtype, positive=True),
                         _leaf(*grid, dtype=dtype, positive=True))
            y, (h1, h2) = impl.scan2d_triton(x, d1, d2, A, [_leaf(*small, dtype=dtype) for _ in range(4)], init,
                                             reverse)
            (y.sum() + h1.sum() + h2.sum()).backward()
    return calls


def run_ltc(dtype, shared):
    from tsrec.kernels.recurrent import ltc_triton as impl

    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        for units in (8, 32, 64):  # 8, 64 and 1 batch rows per program
            terms, v0 = _leaf(4, 5, 2 * units, dtype=dtype, positive=True), _leaf(4, units, dtype=dtype)
            vectors = [_leaf(units, dtype=dtype, positive=True) for _ in range(3)]
            tiles = [_leaf(units, units, dtype=dtype, positive=True) for _ in range(4)]
            impl.ltc_scan_triton(terms, v0, (*vectors, *tiles), 6, 1e-8).sum().backward()
        elapsed = _leaf(4, 5, dtype=dtype, positive=True).detach()  # irregular steps: the HAS_RATE variants
        impl.ltc_scan_triton(terms, v0, (*vectors, *tiles), 6, 1e-8, elapsed).sum().backward()
    return calls


def run_cfc(dtype, shared):
    from tsrec.kernels.recurrent import cfc_triton as impl
    from tsrec.kernels.recurrent.cfc import triton_fits

    # small, the largest tiles of 2048 values (an A100's), ncps's default and the other largest of 4096
    sizes = ((8, 32), (16, 128), (32, 64), (64, 32), (32, 128), (64, 64), (16, 256))
    with recorded_launches(impl, ("_fwd_kernel", "_bwd_kernel")) as calls:
        for units, width in sizes:
            if not triton_fits(units, width, dtype, shared):  # the op takes the torch path there
                continue
            xz, h0 = _leaf(4, 5, width, dtype=dtype), _leaf(4, units, dtype=dtype)
            heads = [_leaf(*shape, dtype=dtype) for shape in [(width, units), (units,)] * 3]
            impl.cfc_scan_triton(xz, h0, (_leaf(units, width, dtype=dtype), *heads)).sum().backward()
    return calls


OPS = {"linear": run_linear, "selective": run_selective, "recurrent": run_recurrent, "scan2d": run_scan2d,
       "ltc": run_ltc, "cfc": run_cfc}


def rule_bytes(op: str, kwargs: dict, dtype: torch.dtype) -> int | None:
    """The shared memory the op's size rule expects a launch to ask (None: no rule counts it)."""
    if op == "recurrent":
        from tsrec.kernels.recurrent.cells import TRITON_SHARED_BYTES

        return TRITON_SHARED_BYTES["gated" if kwargs["GATED"] else "tanh"][kwargs["BH"]]
    if op == "cfc":
        from tsrec.kernels.recurrent.cfc import TILE_SHARED_BYTES

        return TILE_SHARED_BYTES[kwargs["BU"], kwargs["BZ"]][dtype == torch.float64]
    return None


#: ops also compiled as a GPU launch specializes sizes that are multiples of 16 and 16-byte aligned
#: pointers (vectorized loads; another register layout): the bandwidth target's sizes are
DIVISIBLE = {"linear": ("a_ptr", "b_ptr", "h0_ptr", "out_ptr", "bad_ptr", "link_ptr", "n_steps", "n_chans")}


def compile_for(op: str, name: str) -> int:
    """Compile each distinct launch of ``op`` at the sizes target ``name``'s GPU admits; returns how many."""
    launches = OPS[op](torch.float32, BLOCK_SHARED[name]) + OPS[op](torch.float64, BLOCK_SHARED[name])
    seen = set()
    for kernel, args, kwargs in launches:
        key = (kernel.fn.__name__, tuple(a.dtype if isinstance(a, torch.Tensor) else type(a) for a in args),
               tuple(sorted((k, str(v)) for k, v in kwargs.items())))
        if key in seen:
            continue
        seen.add(key)
        flags = ", ".join(f"{k}={v}" for k, v in kwargs.items())  # num_warps too, where set
        dtype = next(a.dtype for a in args if isinstance(a, torch.Tensor))
        rule = rule_bytes(op, kwargs, dtype)
        for divisible in ((), *([DIVISIBLE[op]] if op in DIVISIBLE else [])):
            compiled = compile_launch(kernel, args, kwargs, TARGETS[name], divisible=divisible)
            usage = resource_usage(compiled)
            if kernel.fn.__name__ == "_chain_kernel":  # what its waits compile to (test_triton_compile.py)
                ptx = compiled.asm["ptx"]
                polls = ("ld.volatile.global.b64", "ld.volatile.global.b32")  # links; the give-up flag
                usage = {**usage, **{k: ptx.count(k) for k in (*polls, "relaxed", "acq_rel", "membar", "fence")}}
            print(f"compiled {op}.{kernel.fn.__name__} {name} {str(dtype).removeprefix('torch.')} [{flags}"
                  f"{', 16-divisible' if divisible else ''}]: {usage}" + ("" if rule is None else f", rule {rule}"),
                  flush=True)
    return len(seen) * (1 + (op in DIVISIBLE))


def main(op: str) -> int:
    count = sum(compile_for(op, name) for name in TARGETS)
    print(f"{count} launches of {op} compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
