"""FFT lengths for fft_conv: the smallest 2,3,5-smooth length against the smallest even one.

Usage::

    python benchmarks/fft_sizes.py --threads 1 --out benchmarks/results/fft_sizes.md

A causal convolution of ``T`` steps with a ``T``-tap kernel needs an FFT of at least ``2T - 1``
points. ``tsrec.kernels.fft_conv.fast_fft_len`` rounds that up to a length with small prime
factors; this script times ``rfft`` + ``irfft`` (2048 rows, as a batch of 16 x 128 channels) at
every ``2T - 1`` for ``T`` = 48, 56, ..., 4096 where the two rules differ, both lengths back to back, best of
``--repeats``, and writes the ratio.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from tsrec._files import atomic_write  # noqa: E402
from tsrec.kernels.fft_conv import fast_fft_len, has_small_factors  # noqa: E402

ROWS = 2048
#: 2T - 1 for every T in 48, 56, ..., 4096 steps (the benchmarks' lookbacks 96, 336, 720 among them)
NEEDS = tuple(2 * steps - 1 for steps in range(48, 4097, 8))


def smooth_len(n: int) -> int:
    """The previous rule: the smallest ``m >= n`` whose only prime factors are 2, 3 and 5."""
    return next(m for m in itertools.count(max(n, 1)) if has_small_factors(m))


def round_trip_seconds(x: torch.Tensor, n: int, repeats: int) -> float:
    """Fastest of ``repeats`` ``irfft(rfft(x, n), n)`` calls."""
    torch.fft.irfft(torch.fft.rfft(x, n=n), n=n)  # plan caches and first-touch memory
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.fft.irfft(torch.fft.rfft(x, n=n), n=n)
        best = min(best, time.perf_counter() - start)
    return best


def measure(repeats: int) -> list[tuple[int, int, float, int, float]]:
    """Rows (need, previous length, its ms, current length, its ms) where the rules differ."""
    rows = []
    for need in NEEDS:
        previous, current = smooth_len(need), fast_fft_len(need)
        if previous == current:
            continue
        x = torch.randn(ROWS, (need + 1) // 2)
        rows.append((need, previous, round_trip_seconds(x, previous, repeats) * 1e3,
                     current, round_trip_seconds(x, current, repeats) * 1e3))
    return rows


def report(rows: list, args: argparse.Namespace) -> str:
    lines = [
        "# FFT lengths for fft_conv (rfft + irfft of 2048 rows)",
        "",
        f"Command: `python benchmarks/fft_sizes.py --threads {args.threads} --repeats {args.repeats}`",
        f"Machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} torch thread(s).",
        "",
        "Needs where the smallest 2,3,5-smooth length (the previous rule) is not the smallest even one "
        "(the current `fast_fft_len`); best of the repeats, both lengths timed back to back.",
        "",
        "| need (2T-1) | previous length | ms | current length | ms | previous / current |",
        "|---|---|---|---|---|---|",
    ]
    for need, previous, t_prev, current, t_cur in rows:
        lines.append(f"| {need} | {previous} | {t_prev:.2f} | {current} | {t_cur:.2f} | {t_prev / t_cur:.2f}x |")
    total = sum(r[2] for r in rows) / sum(r[4] for r in rows)
    lines += ["", f"All rows together: the previous lengths took {total:.2f}x the time of the current ones.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--repeats", type=int, default=9, help="timings per length (the fastest is kept)")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    text = report(measure(args.repeats), args)
    print(text)
    if args.out is not None:
        atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report


if __name__ == "__main__":
    main()
