"""On the GPU: sweep the linear_scan Triton tile (incl. 1-2 warps), then time the targets with the best tile."""
import sys
import torch
sys.path.insert(0, "benchmarks")
import kernel_cases as kc  # noqa: E402
import kernels as bench  # noqa: E402
from tsrec.kernels.linear import triton_impl as impl  # noqa: E402

DEV = torch.device("cuda")
case = [c for c in kc.CASES if c.op == "linear_scan"][0]
name, peak = bench._gpu_peak()
print(name, peak, flush=True)


def gbps_at(at, budget=0.15):
    size = dict(zip(("batch", "time", "chans", "state"), at), quick=True)
    inputs = case.make(size, DEV)
    with torch.no_grad():
        ref = case.call(inputs, "torch").double()
        got = case.call(inputs, "triton").double()
        err = float((got - ref).abs().max() / ref.abs().max())
        ms = bench.time_call(lambda: case.call(inputs, "triton"), DEV, budget)
    return case.nbytes(size) / ms / 1e6, ms, err


results = []
for w in (1, 2, 4):
    for b in (16, 32, 64, 128):
        for c in (16, 32, 64, 128):
            impl.BLOCK_C, impl.CHUNK_T, impl.NUM_WARPS = b, c, w
            try:
                g, ms, err = gbps_at((16, 4096, 1024, 1))
            except Exception as e:  # noqa: BLE001
                print(f"| {b} | {c} | {w} | failed: {type(e).__name__} |", flush=True)
                continue
            results.append((g, b, c, w))
            print(f"| {b} | {c} | {w} | {ms:.3f} ms | {g:.0f} GB/s | {100 * g / peak:.0f}% | err {err:.1e} |",
                  flush=True)
best = max(results)
impl.BLOCK_C, impl.CHUNK_T, impl.NUM_WARPS = best[1:]
print("best", best, flush=True)
for at in [(16, 4096, 1024, 1), (64, 4096, 256, 1), (64, 4096, 1024, 1)]:
    g, ms, err = gbps_at(at, 0.4)
    print(f"target {at}: {ms:.3f} ms {g:.0f} GB/s = {100 * g / peak:.1f}% of peak, err {err:.1e}", flush=True)
