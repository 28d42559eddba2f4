#!/usr/bin/env bash
# The whole GPU check of the kernels, prepared to run as one command on a lent GPU machine
# (device time is counted in minutes): the Triton kernels compiled for the GPU against the float64
# references and the torch path, then the GPU benchmark with issue 3's targets.
#
# Usage, from the repository root, on a machine with torch, triton and a CUDA GPU (nothing else of
# tsrec's dependencies is needed: tsrec.kernels imports only torch):
#
#     bash benchmarks/gpu_check.sh OUT_DIR
#
# Writes OUT_DIR/gpu_check.log (every check's line) and OUT_DIR/kernels_gpu.md (the report to
# commit as benchmarks/results/kernels_gpu.md). Exits non-zero if a check or the benchmark failed.
# The two steps are capped at 200 s and 360 s: one call of the device tool may run 600 s.
set -uo pipefail
out=${1:?usage: bash benchmarks/gpu_check.sh OUT_DIR}
mkdir -p "$out"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
log="$out/gpu_check.log"
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    "$python" -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
} 2>&1 | tee "$log"
timeout 200 "$python" tests/kernels/triton_interpret_check.py --device cuda 2>&1 | tee -a "$log"
checks=$?
timeout 360 "$python" benchmarks/kernels_gpu.py --out "$out/kernels_gpu.md" 2>&1 | tee -a "$log"
bench=$?
echo "checks exit $checks, benchmark exit $bench" | tee -a "$log"
[ "$checks" -eq 0 ] && [ "$bench" -eq 0 ]
