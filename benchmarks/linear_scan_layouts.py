"""How the Triton linear_scan's tiles compile for an H100/H200 (sm_90), on a machine without a GPU.

For each tile of ``kernels_gpu.SWEEP_TILES`` (``BLOCK_C``, ``CHUNK_T``, ``NUM_STAGES``,
``NUM_WARPS``) the float32 forward, as ``linear_scan`` launches it (NaN/inf flag on, no initial
state), is compiled ahead of time (``tests/kernels/_triton_aot.py``) with the pointers and sizes
16-divisible, as a GPU run at the benchmark's sizes specializes them. Each row gives Triton's
register layout of the ``(CHUNK_T, BLOCK_C)`` tile, the registers and stack bytes a thread and the
shared memory of a program (cuobjdump), and the SASS of the time loop: its instructions, of which
warp shuffles (``SHFL``) and barriers (``BAR``), and the warp-instructions it issues per element of
the tile (loop instructions x warps / tile elements), the instruction cost of a byte scanned.

This is a static view, not a timing: ``benchmarks/kernels_gpu.py`` times the same tiles on a GPU.

Usage::

    python benchmarks/linear_scan_layouts.py [--out benchmarks/results/linear_scan_layouts.md] [--first N]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import triton

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests" / "kernels"), str(ROOT)]
from _args import command_line, provenance, report_path  # noqa: E402
from _triton_aot import TARGETS, compile_launch, recorded_launches, resource_usage  # noqa: E402
from kernels_gpu import SWEEP_TILES  # noqa: E402

from tsrec._files import atomic_write  # noqa: E402
from tsrec.kernels.linear import triton_impl as impl  # noqa: E402

SETTINGS = ("BLOCK_C", "CHUNK_T", "NUM_STAGES", "NUM_WARPS")
DIVISIBLE = ("a_ptr", "b_ptr", "h0_ptr", "out_ptr", "bad_ptr", "n_steps", "n_chans")


def forward_launch(tile: tuple[int, int, int, int]):
    """The recorded forward launch of ``linear_scan`` with the module's settings set to ``tile``."""
    saved = {k: getattr(impl, k) for k in SETTINGS}
    try:
        for k, v in zip(SETTINGS, tile):
            setattr(impl, k, v)
        with recorded_launches(impl, ("_scan_kernel",)) as calls:
            a, b = torch.rand(2, 256, 512), torch.randn(2, 256, 512)
            impl.linear_scan_triton(a, b, None, False, check_finite=True)
    finally:
        for k, v in saved.items():
            setattr(impl, k, v)
    return calls[0]


def sass(cubin: bytes) -> str:
    """The SASS of a cubin, by the cuobjdump that ships with Triton."""
    tool = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        return subprocess.run([tool, "-sass", f.name], capture_output=True, text=True, check=True).stdout


def time_loop(text: str) -> list[str]:
    """The opcodes of the largest loop in ``text`` (a backward branch and the code it jumps back over)."""
    code = [(int(m[1], 16), m[2].strip()) for m in re.finditer(r"/\*([0-9a-f]{4,})\*/\s+([^;]*);", text)]
    loop: list[str] = []
    for at, instr in code:
        jump = re.search(r"\bBRA (0x[0-9a-f]+)", instr)
        if jump and int(jump[1], 16) < at:
            body = [i for a, i in code if int(jump[1], 16) <= a <= at]
            loop = max(loop, body, key=len)
    return [re.sub(r"^@!?U?P[T0-9]+\s+", "", i).split()[0].split(".")[0] for i in loop]


def layout(ttgir: str) -> str:
    """The blocked layout of the tile: size per thread, threads per warp and warps, as (time, channels)."""
    enc = re.search(r"#blocked\d* = #ttg\.blocked<\{(.*?)\}>", ttgir)[1]
    parts = dict(re.findall(r"(\w+) = \[([0-9, ]+)\]", enc))
    return " / ".join(parts[k].replace(" ", "") for k in ("sizePerThread", "threadsPerWarp", "warpsPerCTA"))


def row(tile: tuple[int, int, int, int]) -> str:
    """One table row: the tile's layout and resources and its time loop's instruction counts."""
    kernel, args, kwargs = forward_launch(tile)
    compiled = compile_launch(kernel, args, kwargs, TARGETS["sm90"], divisible=DIVISIBLE)
    use = resource_usage(compiled)
    ops = time_loop(sass(compiled.asm["cubin"]))
    block, chunk, _, warps = tile
    per_element = len(ops) * warps / (block * chunk)
    cells = [*map(str, tile), layout(compiled.asm["ttgir"]), str(use["reg"]), str(use["stack"]),
             f"{use['shared'] // 1024}", str(len(ops)), str(ops.count("SHFL")), str(ops.count("BAR")),
             f"{per_element:.2f}"]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    """Compile every sweep tile and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown table here")
    parser.add_argument("--first", type=int, default=len(SWEEP_TILES), help="only the first N tiles")
    args = parser.parse_args(argv)
    if args.first < 1:
        parser.error(f"--first must be at least 1, got {args.first}")
    lines = [
        "# linear_scan tiles compiled for sm_90", "",
        f"Command: `{command_line(__file__, argv)}`",
        f"(torch {torch.__version__}, triton {triton.__version__}; no GPU: compiled ahead of time). Layout: size "
        "per thread / threads per warp / warps, each as (time, channels). Loop: SASS instructions of the time "
        "loop; per element: loop instructions x warps / (CHUNK_T x BLOCK_C).", "",
        "| " + " | ".join(SETTINGS) + " | layout | registers | stack B | shared KiB | loop | SHFL | BAR | "
        "per element |", "|" + "---|" * 12,
    ]
    for tile in SWEEP_TILES[: args.first]:
        lines.append(row(tile))
        print(lines[-1], flush=True)
    if args.out:
        text = "\n".join([*lines, "", provenance()]) + "\n"
        atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report
    return 0


if __name__ == "__main__":
    sys.exit(main())
