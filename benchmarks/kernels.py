"""Benchmark the kernel ops of ``tsrec.kernels`` across backends and sizes.

Usage::

    python benchmarks/kernels.py --quick --out benchmarks/results/kernels.md

Every op is a ``Case`` in ``CASES`` of ``benchmarks/kernel_cases.py``; to add an op, append a
``Case`` there (a name, a list of sizes, an input builder, a call and a bytes-moved estimate). \
CPU timings run single-threaded
(``torch.set_num_threads(1)``) so they are comparable on a shared machine. The naive float64 loop
is timed only where it is feasible (its autograd backward is quadratic in time); elsewhere the
speed-up column says "n/t" (not timed). On a CUDA GPU the Triton backend is timed as well and the
achieved GB/s is reported against the card's memory bandwidth; ``benchmarks/kernels_gpu.py``
is the GPU-only run (GPU-sized inputs, no naive loop) that checks the GPU targets.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling kernel_cases.py

from _args import check_names, command_line, emit_report, positive_float, report_path  # noqa: E402
from kernel_cases import CASES, NAIVE_BWD_MAX, NAIVE_FWD_MAX, Case  # noqa: E402  (benchmarks/kernel_cases.py)

# Peak HBM bandwidth (GB/s) of cards we may be lent; others print "unknown".
PEAK_GBPS = {"H100": 3350.0, "H200": 4800.0, "A100": 2039.0, "L4": 300.0, "A10": 600.0}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_call(fn: Callable, device: torch.device, budget_s: float) -> float:
    """Median wall time in ms: one warm-up, then repeats until ``budget_s`` or 7 runs."""
    fn()
    _sync(device)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 7 and (len(times) < 1 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def _measure(case: Case, size: dict, backend: str, device, budget: float) -> tuple[float, float]:
    inputs = case.make(size, device)
    fwd = lambda: case.call(inputs, backend)  # noqa: E731
    fwd_ms = time_call(lambda: torch.no_grad()(fwd)(), device, budget)
    both_ms = time_call(lambda: fwd().sum().backward(), device, budget)
    return fwd_ms, both_ms


def _naive(case: Case, size: dict, budget: float) -> tuple[float | None, float | None]:
    fwd_cost, bwd_cost = case.work(size)
    inputs = case.make(size, torch.device("cpu"))
    fwd = lambda: case.call(inputs, "naive")  # noqa: E731
    f = time_call(lambda: torch.no_grad()(fwd)(), torch.device("cpu"), budget) if fwd_cost <= NAIVE_FWD_MAX else None
    fb = time_call(lambda: fwd().sum().backward(), torch.device("cpu"), budget) if bwd_cost <= NAIVE_BWD_MAX else None
    return f, fb


def _label(size: dict) -> str:
    state = f", N={size['state']}" if size["state"] > 1 else ""
    taps = f", L_k={size['taps']}" if size.get("taps") else ""
    taps += f", heads={size['heads']}" if size.get("heads") else ""
    return (f"B={size['batch']}, T={size['time']}, C={size['chans']}{state}{taps} "
            f"(B*C={size['batch'] * size['chans']})")


def _fmt(ms: float | None) -> str:
    return "n/t" if ms is None else f"{ms:.1f}"


def _ratio(base: float | None, x: float) -> str:
    return "n/t" if base is None else f"{base / x:.1f}x"


def _gpu_peak() -> tuple[str, float | None]:
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK_GBPS.items() if k in name), None)
    return name, peak


RESULTS: list[dict] = []  # every timing, for the target checks at the end of the report


def run_case(case: Case, quick: bool, budget: float, gpu: bool) -> list[str]:
    """Benchmark one op; return markdown table lines (timings also go to ``RESULTS``)."""
    lines = [f"### {case.op}", "",
             "| size | backend | fwd ms | fwd+bwd ms | vs naive fwd | vs naive fwd+bwd | GB/s (fwd) |",
             "|---|---|---|---|---|---|---|"]
    for size in case.sizes:
        if quick and not size["quick"]:
            continue
        naive_f, naive_fb = _naive(case, size, budget)
        lines.append(f"| {_label(size)} | naive (fp64 loop) | {_fmt(naive_f)} | {_fmt(naive_fb)} | 1x | 1x | |")
        runs = [(be, torch.device("cpu")) for be in case.backends]
        runs += [(be, torch.device("cuda")) for be in case.gpu_backends] if gpu else []
        for backend, device in runs:
            f, fb = _measure(case, size, backend, device, budget)
            RESULTS.append(dict(op=case.op, backend=backend, device=device.type, fwd=f, both=fb,
                                naive_fwd=naive_f, naive_both=naive_fb, **size))
            gbps = f"{case.nbytes(size) / f / 1e6:.0f}" if device.type == "cuda" else ""
            lines.append(f"| | {backend} ({device.type}) | {f:.2f} | {fb:.2f} | {_ratio(naive_f, f)} "
                         f"| {_ratio(naive_fb, fb)} | {gbps} |")
            print(lines[-1], flush=True)
    return lines + [""] + (case.notes(RESULTS) if callable(case.notes) else case.notes)


def target_lines() -> list[str]:
    """Check the performance targets of issue 3 against the timings taken."""
    out = ["## Targets", ""]
    sel = [r for r in RESULTS if r["op"] == "selective_scan" and r["device"] == "cpu"
           and (r["batch"], r["chans"], r["time"], r["state"]) == (16, 128, 720, 16)]
    for r in sel:
        verdict = "met" if r["both"] < 1000 else "MISSED"
        out.append(f"- selective_scan fwd+bwd (16, 128, 720, 16) on one core < 1 s: {r['both']:.0f} ms, {verdict}.")
    lin = [r for r in RESULTS if r["op"] == "linear_scan" and r["device"] == "cpu" and r["naive_fwd"]]
    if lin:
        worst = min(lin, key=lambda r: r["naive_fwd"] / r["fwd"])
        out.append("- linear_scan never slower than naive: lowest fwd speed-up "
                   f"{worst['naive_fwd'] / worst['fwd']:.1f}x "
                   f"({_label(worst)}), {'met' if worst['naive_fwd'] >= worst['fwd'] else 'MISSED'}.")
        small = [r for r in lin if r["batch"] * r["chans"] <= 256 and r["time"] >= 2048]
        if small:
            low = min(r["naive_fwd"] / r["fwd"] for r in small)
            out.append(f"- linear_scan >= 5x over naive at B*C <= 256, T >= 2048: lowest fwd speed-up {low:.1f}x "
                       f"over {len(small)} sizes, {'met' if low >= 5 else 'MISSED'}.")
    return out + [""]


def main(argv: list[str] | None = None) -> int:
    """Parse the CLI, run every case, write the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few sizes per op (about a minute on one core)")
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown report here")
    parser.add_argument("--budget", type=positive_float, default=0.5, help="seconds of repeats per measurement")
    parser.add_argument("--ops", nargs="*", default=None,
                        help="only these ops: a case's full name or the op before its ' (...)', e.g. nplr_kernel")
    args = parser.parse_args(argv)
    check_names(parser, "--ops", args.ops, [name for case in CASES for name in (case.op, case.op.split(" (")[0])])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    gpu = torch.cuda.is_available()
    header = [
        "# Kernel benchmarks", "",
        f"Command: `{command_line(__file__, argv)}`", "",
        f"Machine: {platform.machine()} CPU, {torch.get_num_threads()} torch thread (torch.set_num_threads(1)), "
        f"torch {torch.__version__}, Python {platform.python_version()}. fp32 inputs; median wall time. "
        f"{os.cpu_count()} cores shared with other processes: expect about ±30 % noise between runs.",
    ]
    if gpu:
        name, peak = _gpu_peak()
        header.append(f"GPU: {name}; peak memory bandwidth {peak or 'unknown'} GB/s "
                      "(GB/s column: minimal fwd bytes / time).")
    else:
        header.append("GPU: none detected (torch.cuda.is_available() is False): Triton timings and GB/s skipped.")
    header += ["", "Speed-ups are against the naive float64 loop on CPU; n/t = naive not timed at this size "
               "(its autograd backward is quadratic in time).", ""]
    lines = list(header)
    for case in CASES:
        if args.ops and case.op.split(" (")[0] not in args.ops and case.op not in args.ops:
            continue
        print(f"== {case.op}", flush=True)
        lines += run_case(case, args.quick, args.budget, gpu)
    lines[len(header):len(header)] = target_lines()  # verdicts first, tables after
    emit_report(lines, args.out)  # written whole or not at all, else printed
    return 0


if __name__ == "__main__":
    sys.exit(main())
