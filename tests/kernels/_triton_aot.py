"""Compile the Triton kernels for a GPU on a machine without one (ahead of time, ``triton.compile``).

The launches are captured, not run: each kernel of a ``triton_impl`` module is swapped for a
recorder while the op's forward and backward run on CPU tensors, so the compiled variants are
exactly those the code launches (argument dtypes and compile-time flags). ``triton.compile``
with an explicit target then runs Triton's whole pipeline down to ptxas and a cubin.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile

import torch
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

POINTER_TYPES = {torch.float32: "*fp32", torch.float64: "*fp64", torch.float16: "*fp16", torch.bfloat16: "*bf16",
                 torch.int32: "*i32", torch.int64: "*i64"}
#: Hopper (H100/H200, the GPU this project may be lent) and Ampere (A100)
TARGETS = {"sm90": GPUTarget("cuda", 90, 32), "sm80": GPUTarget("cuda", 80, 32)}


class Launches(list):
    """The recorded calls ``(kernel, args, kwargs)``, and in ``grids`` the launch grid of each."""

    def __init__(self):
        super().__init__()
        self.grids: list[tuple[int, ...]] = []


class _Recorder:
    """Stands in for ``kernel[grid](*args, **kwargs)``; keeps the call instead of launching it."""

    def __init__(self, kernel, calls: Launches):
        self.fn, self.calls = kernel, calls

    def __getitem__(self, grid):
        def record(*args, **kwargs):
            self.calls.append((self.fn, args, kwargs))
            self.calls.grids.append(tuple(grid))

        return record


@contextlib.contextmanager
def recorded_launches(module, names: tuple[str, ...]):
    """Within the block, launches of ``module.<name>`` are recorded into the yielded :class:`Launches`."""
    calls = Launches()
    originals = {n: getattr(module, n) for n in names}
    try:
        for n, k in originals.items():
            setattr(module, n, _Recorder(k, calls))
        yield calls
    finally:
        for n, k in originals.items():
            setattr(module, n, k)


def _arg_type(value) -> str:
    if isinstance(value, torch.Tensor):
        return POINTER_TYPES[value.dtype]
    if isinstance(value, bool):
        return "i1"
    if isinstance(value, int):
        return "i32" if -(2**31) <= value < 2**31 else "i64"
    if isinstance(value, float):
        return "fp32"  # Triton passes Python floats as fp32 scalars
    raise TypeError(f"cannot type kernel argument {value!r}")


def compile_launch(kernel, args: tuple, kwargs: dict, target: GPUTarget, num_warps: int | None = None,
                   divisible: tuple[str, ...] = ()):
    """Compile one recorded launch for ``target``; returns the compiled kernel (PTX and cubin).

    ``num_warps``: the launch's own (4, Triton's default, when it names none) unless given.
    ``divisible``: arguments compiled as a GPU launch specializes them when they are multiples of 16
    (integers) or 16-byte aligned (pointers), which lets Triton vectorize loads and stores.
    """
    kwargs = dict(kwargs)
    launch_warps = kwargs.pop("num_warps", 4)
    names = [p.name for p in kernel.params]
    values = dict(zip(names, args)) | kwargs
    signature, constexprs, attrs = {}, {}, {}
    for i, p in enumerate(kernel.params):
        if p.is_constexpr:
            signature[p.name], constexprs[(i,)] = "constexpr", values[p.name]
        else:
            signature[p.name] = _arg_type(values[p.name])
        if p.name in divisible:
            attrs[(i,)] = [["tt.divisibility", 16]]
    source = ASTSource(fn=kernel, signature=signature, constexprs=constexprs, attrs=attrs)
    return triton.compile(source, target=target, options={"num_warps": num_warps or launch_warps})


def resource_usage(compiled) -> dict[str, int]:
    """Registers per thread and stack/local (spill) bytes of a compiled kernel, read by cuobjdump, and
    the shared memory a launch asks for (Triton's metadata: the driver refuses a launch above the GPU's)."""
    tool = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(compiled.asm["cubin"])
        f.flush()
        text = subprocess.run([tool, "-res-usage", f.name], capture_output=True, text=True, check=True).stdout
    usage = {k.lower(): int(v) for k, v in re.findall(r"(REG|STACK|LOCAL):(\d+)", text)}
    return usage | {"shared": int(compiled.metadata.shared)}
