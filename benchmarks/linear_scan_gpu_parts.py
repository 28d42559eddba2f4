"""On the GPU: where linear_scan's time goes at the bandwidth target's sizes.

Rows: the public op (validation, launch, the kernel with its NaN/inf flag, the flag's read); the kernel
with and without that flag; the separate check the torch path runs (``check_finite``), which the
Triton path no longer needs; and two reads of the same bytes for scale.
"""
import sys
import torch
sys.path.insert(0, "benchmarks")
import kernels as bench  # noqa: E402
from tsrec.kernels import linear_scan  # noqa: E402
from tsrec.kernels._checks import check_finite  # noqa: E402
from tsrec.kernels.linear.triton_impl import linear_scan_triton  # noqa: E402

DEV = torch.device("cuda")
name, peak = bench._gpu_peak()
print(name, peak, flush=True)
for bsz, t, c in [(16, 4096, 1024), (64, 4096, 256), (64, 4096, 1024)]:
    torch.manual_seed(0)
    a = torch.rand(bsz, t, c, device=DEV) * 0.5 + 0.5
    b = torch.randn(bsz, t, c, device=DEV)
    nbytes = 12 * bsz * t * c
    with torch.no_grad():
        parts = {
            "public linear_scan(backend='triton')": lambda: linear_scan(a, b, backend="triton"),
            "linear_scan_triton(check_finite=True) (kernel and flag read)":
                lambda: linear_scan_triton(a, b, check_finite=True),
            "linear_scan_triton (kernel, no checks)": lambda: linear_scan_triton(a, b),
            "check_finite(a, b) (the torch path's separate check)": lambda: check_finite(a=a, b=b),
            "a.sum() + b.sum() (no sync)": lambda: (a.sum(), b.sum()),
            "copy of b (read+write)": lambda: b.clone(),
        }
        for label, fn in parts.items():
            ms = bench.time_call(fn, DEV, 0.3)
            print(f"B={bsz} T={t} C={c} | {label} | {ms:.3f} ms | {nbytes / ms / 1e6:.0f} GB/s of the scan's bytes"
                  f" = {100 * nbytes / ms / 1e6 / peak:.1f}% of peak", flush=True)
