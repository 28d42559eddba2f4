"""On the GPU: where linear_scan's time goes at the bandwidth target's sizes.

Rows: the public op (validation, launch, the kernel with its NaN/inf flag, the flag's read); the kernel
with and without that flag; the separate check the torch path runs (``check_finite``), which the
Triton path no longer needs; and two reads of the same bytes for scale. Needs a CUDA GPU and triton.

Example::

    python benchmarks/linear_scan_gpu_parts.py --out benchmarks/results/linear_scan_gpu_parts.txt
"""

from __future__ import annotations

import argparse
import sys

import torch

import kernels as bench  # benchmarks/kernels.py, beside this script
from _args import add_report_out, command_line, emit_report  # benchmarks/_args.py, beside this script

SIZES = [(16, 4096, 1024), (64, 4096, 256), (64, 4096, 1024)]  # (batch, time, channels), B*C >= 16K


def parts(a: torch.Tensor, b: torch.Tensor) -> dict:
    """The calls to time, by label; imported here so that parsing the arguments needs no triton."""
    from tsrec.kernels import linear_scan
    from tsrec.kernels._checks import check_finite
    from tsrec.kernels.linear.triton_impl import linear_scan_triton

    return {
        "public linear_scan(backend='triton')": lambda: linear_scan(a, b, backend="triton"),
        "linear_scan_triton(check_finite=True) (kernel and flag read)":
            lambda: linear_scan_triton(a, b, check_finite=True),
        "linear_scan_triton (kernel, no checks)": lambda: linear_scan_triton(a, b),
        "check_finite(a, b) (the torch path's separate check)": lambda: check_finite(a=a, b=b),
        "a.sum() + b.sum() (no sync)": lambda: (a.sum(), b.sum()),
        "copy of b (read+write)": lambda: b.clone(),
    }


def size_lines(bsz: int, steps: int, chans: int, peak: float, budget: float) -> list[str]:
    """One line per part at one size: ms, and GB/s of the scan's 12 bytes per element against the peak."""
    device = torch.device("cuda")
    torch.manual_seed(0)
    a = torch.rand(bsz, steps, chans, device=device) * 0.5 + 0.5
    b = torch.randn(bsz, steps, chans, device=device)
    nbytes = 12 * bsz * steps * chans  # read a and b, write h: float32
    lines = []
    with torch.no_grad():
        for label, fn in parts(a, b).items():
            ms = bench.time_call(fn, device, budget)
            lines.append(f"B={bsz} T={steps} C={chans} | {label} | {ms:.3f} ms | {nbytes / ms / 1e6:.0f} GB/s of the "
                         f"scan's bytes = {100 * nbytes / ms / 1e6 / peak:.1f}% of peak")
            print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=0.3,
                        help="seconds of repeats per timing, up to 7 after a warm-up (0: one)")
    add_report_out(parser, "linear_scan_gpu_parts.txt")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("linear_scan_gpu_parts.py needs a CUDA GPU; none is visible.", file=sys.stderr)
        return 2
    name, peak = bench._gpu_peak()
    if peak is None:
        print(f"no peak bandwidth is known for {name}: add it to PEAK_GBPS in benchmarks/kernels.py",
              file=sys.stderr)
        return 2
    lines = [f"Command: `{command_line(__file__, argv)}`", f"{name} {peak}"]
    print(lines[-1], flush=True)
    for size in SIZES:
        lines += size_lines(*size, peak, args.budget)
    emit_report(lines, args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
