"""fft_conv's CPU choices: the FFT length it pads to, the layout of the tensor it returns, its backward.

Usage::

    python benchmarks/fft_conv_paths.py --threads 1 --out benchmarks/results/fft_conv_paths.md

**FFT lengths.** A causal convolution of ``T`` steps with a ``T``-tap kernel needs an FFT of at
least ``2T - 1`` points. ``fast_fft_len`` (``from tsrec.kernels.fft_conv import fast_fft_len``) \
rounds that up to the smallest
even length whose only prime factors are 2, 3 and 5; the rule before it took the smallest such
length, odd or even. For every ``2T - 1`` (``T`` = 48, 56, ..., 4096) where the two differ, this
times ``rfft`` + ``irfft`` of 2048 rows at both lengths, back to back, best of ``--repeats``.

**Output layout.** The rFFT path computes along time, so its result is a permuted view of a
``(batch, heads, channels, time)`` tensor; ``fft_conv`` returns it as a contiguous ``(batch, time,
...)`` copy. This times forward+backward of the convolution alone and followed by what a network does next
(GELU, a Linear of the channels, a residual add, as in SpaceTime's blocks), each on the view (as
before) and on the copy, back to back, best of ``--repeats``.

**Backward.** The rFFT path's gradients are written out (one rFFT of the output gradient and two
inverse ones, reusing the forward's spectra). This times forward+backward of it against autograd's
backward of the same three transforms (the path before), back to back, best of ``--repeats``, with the
largest difference of their gradients.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import int_in, provenance, report_path  # noqa: E402
from scan2d_paths import best_time  # noqa: E402
from tsrec._files import atomic_write  # noqa: E402
from tsrec.kernels.fft_conv import _conv_fft, fast_fft_len, has_small_factors  # noqa: E402

ROWS = 2048
#: 2T - 1 for every T in 48, 56, ..., 4096 steps (the benchmarks' lookbacks 96, 336, 720 among them)
NEEDS = tuple(2 * steps - 1 for steps in range(48, 4097, 8))
#: (batch, time, channels) of the layout table: the kernel benchmark's sizes and SpaceTime's batch
LAYOUT_SIZES = ((16, 96, 128), (16, 720, 128), (4, 2048, 64), (32, 336, 512), (50, 336, 128))


def smooth_len(n: int) -> int:
    """The previous rule: the smallest ``m >= n`` whose only prime factors are 2, 3 and 5."""
    return next(m for m in itertools.count(max(n, 1)) if has_small_factors(m))


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` calls of ``run``, after one untimed call (plans, first-touch memory)."""
    run()
    return best_time(run, repeats)


def length_rows(repeats: int) -> list[tuple[int, int, float, int, float]]:
    """Rows (need, previous length, its ms, current length, its ms) where the rules differ."""
    rows = []
    for need in NEEDS:
        previous, current = smooth_len(need), fast_fft_len(need)
        if previous == current:
            continue
        x = torch.randn(ROWS, (need + 1) // 2)
        times = [best_seconds(lambda n=n: torch.fft.irfft(torch.fft.rfft(x, n=n), n=n), repeats) * 1e3
                 for n in (previous, current)]
        rows.append((need, previous, times[0], current, times[1]))
    return rows


def layout_rows(repeats: int) -> list[tuple[tuple[int, int, int], float, float, float, float]]:
    """Rows (size, then ms on the view and on the contiguous copy: the op alone, the op and a block).

    Forward+backward each; the gradient reaching the op is the same in every variant.
    """
    rows = []
    for batch, steps, channels in LAYOUT_SIZES:
        u, k = torch.randn(batch, steps, channels), torch.randn(1, channels, steps)
        linear = torch.nn.Linear(channels, channels)

        def step(contiguous: bool, block: bool) -> None:
            uu, kk = u.detach().requires_grad_(), k.detach().requires_grad_()
            y = _conv_fft(uu, kk).squeeze(2)
            y = y.contiguous() if contiguous else y
            (linear(F.gelu(y)) + y if block else y).sum().backward()

        times = [best_seconds(lambda c=c, b=b: step(c, b), repeats) * 1e3
                 for b in (False, True) for c in (False, True)]
        rows.append(((batch, steps, channels), *times))
    return rows


#: (batch, time, channels, heads) of the backward table: SpaceTime's block (50 windows of 336 steps, 128
#: channels), the layout table's sizes, and a bank of 4 kernels per channel
BACKWARD_SIZES = ((50, 336, 128, 1), (16, 96, 128, 1), (16, 720, 128, 1), (32, 336, 512, 1), (32, 720, 64, 4))


def autograd_fft(u: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The rFFT convolution as fft_conv computed it before its backward was written out: autograd's."""
    steps = u.shape[1]
    n = fast_fft_len(steps + k.shape[-1] - 1)
    uf, kf = torch.fft.rfft(u.transpose(1, 2), n=n, dim=-1), torch.fft.rfft(k, n=n, dim=-1)
    return torch.fft.irfft(uf.unsqueeze(1) * kf, n=n, dim=-1)[..., :steps].permute(0, 3, 1, 2)


def backward_rows(repeats: int) -> list[tuple[tuple[int, ...], float, float, float]]:
    """Rows (size, autograd ms, written-out ms, largest gradient difference), forward+backward each."""
    rows = []
    for batch, steps, channels, heads in BACKWARD_SIZES:
        u, k = torch.randn(batch, steps, channels), torch.randn(heads, channels, steps)
        weight = torch.randn(batch, steps, heads, channels)

        def grads(conv: Callable) -> tuple[torch.Tensor, ...]:
            uu, kk = u.detach().requires_grad_(), k.detach().requires_grad_()
            return torch.autograd.grad((conv(uu, kk).contiguous() * weight).sum(), (uu, kk))

        times = [best_seconds(lambda c=c: grads(c), repeats) * 1e3 for c in (autograd_fft, _conv_fft)]
        diff = max(float((a - b).abs().max()) for a, b in zip(grads(autograd_fft), grads(_conv_fft)))
        rows.append(((batch, steps, channels, heads), *times, diff))
    return rows


def report(lengths: list, layouts: list, args: argparse.Namespace, backwards: list = ()) -> str:
    lines = [
        "# fft_conv on a CPU: FFT lengths and output layout",
        "",
        f"Command: `python benchmarks/fft_conv_paths.py --threads {args.threads} --repeats {args.repeats}"
        + (f" --out {args.out}`" if args.out is not None else "`"),
        f"Machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} torch thread(s); "
        "best of the repeats, the two variants of a row timed back to back.",
        "",
        "## FFT lengths (rfft + irfft of 2048 rows)",
        "",
        "Needs where the smallest 2,3,5-smooth length (the previous rule) is not the smallest even one "
        "(the current `fast_fft_len`).",
        "",
        "| need (2T-1) | previous length | ms | current length | ms | previous / current |",
        "|---|---|---|---|---|---|",
    ]
    for need, previous, t_prev, current, t_cur in lengths:
        lines.append(f"| {need} | {previous} | {t_prev:.2f} | {current} | {t_cur:.2f} | {t_prev / t_cur:.2f}x |")
    ratios = [r[2] / r[4] for r in lengths]
    lines += ["", f"{len(lengths)} rows: the previous length took {min(ratios):.2f}x to {max(ratios):.2f}x the time "
              f"of the current one; all rows together {sum(r[2] for r in lengths) / sum(r[4] for r in lengths):.2f}x.",
              "", "## Output layout (rFFT path, L_k = T; forward+backward)", "",
              "The op alone, and the op followed by GELU, a Linear of the channels and a residual add; "
              "each on the permuted view (before) and on the contiguous copy (now).", "",
              "| B, T, C | op: view ms | op: copy ms | view / copy | op + block: view ms | op + block: copy ms "
              "| view / copy |",
              "|---|---|---|---|---|---|---|"]
    for (batch, steps, channels), *ms in layouts:
        lines.append(f"| {batch}, {steps}, {channels} | {ms[0]:.2f} | {ms[1]:.2f} | {ms[0] / ms[1]:.2f}x "
                     f"| {ms[2]:.2f} | {ms[3]:.2f} | {ms[2] / ms[3]:.2f}x |")
    if backwards:
        lines += ["", "## Backward (rFFT path, L_k = T; forward+backward)", "",
                  "Autograd's backward of the three transforms (before) and the written-out adjoint (now); "
                  "float32, the largest difference of their gradients of u and k.", "",
                  "| B, T, C, heads | autograd ms | written out ms | autograd / written out | largest difference |",
                  "|---|---|---|---|---|"]
        for size, before, now, diff in backwards:
            lines.append(f"| {', '.join(map(str, size))} | {before:.2f} | {now:.2f} | {before / now:.2f}x "
                         f"| {diff:.1e} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int_in(1), default=1, help="torch threads")
    parser.add_argument("--repeats", type=int_in(1), default=9, help="timings per variant (the fastest is kept)")
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown report here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    text = report(length_rows(args.repeats), layout_rows(args.repeats), args, backward_rows(args.repeats))
    text += "\n" + provenance() + "\n"
    print(text)
    if args.out is not None:
        atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report


if __name__ == "__main__":
    main()
