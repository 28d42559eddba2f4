#!/usr/bin/env bash
# The GPU checks, prepared to run on a lent GPU machine where device time is counted in minutes.
#
#   bash benchmarks/gpu_check.sh OUT_DIR [kernels|training]
#
# kernels (default; needs only torch, triton and a CUDA GPU: tsrec.kernels imports only torch):
#   the Triton kernels compiled for the GPU against float64 references: the naive loop, or at GPU sizes
#   the torch path run in float64 on the same inputs (tests/kernels/triton_interpret_check.py --device
#   cuda; triton's error must be within the float32 tolerance, the float32 torch path's is printed
#   beside it), then benchmarks/kernels_gpu.py with issue 3's two targets. Writes OUT_DIR/gpu_check.log
#   and OUT_DIR/kernels_gpu.md (commit it as benchmarks/results/kernels_gpu.md). Capped at 200 s + 360 s:
#   one device call may run 600 s; the report is rewritten after every op, so a run cut short keeps the
#   targets and the tables so far.
# training: every estimator fits twice on the GPU (benchmarks/gpu_training.py). The device image
#   lacks sktime and scikit-base; carry them as wheels in .whl, made here with
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_28_x86_64 -d .whl sktime==1.2.0 scikit-base==1.1.1
#   (.gitignore ignores .whl) and pass carry=[".whl"]. Writes OUT_DIR/gpu_training.log and
#   OUT_DIR/gpu_training.md.
#
# Exits non-zero if a check or a benchmark failed.
set -uo pipefail
out=${1:?usage: bash benchmarks/gpu_check.sh OUT_DIR [kernels|training]}
stage=${2:-kernels}
mkdir -p "$out"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
python=${PYTHON:-python3}

header() {
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    "$python" -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
}

case "$stage" in
kernels)
    log="$out/gpu_check.log"
    header 2>&1 | tee "$log"
    timeout 200 "$python" tests/kernels/triton_interpret_check.py --device cuda 2>&1 | tee -a "$log"
    checks=$?
    # the budget of the committed kernels_gpu.md (docs/benchmarks.md gives the command)
    timeout 360 "$python" benchmarks/kernels_gpu.py --budget 0.3 --out "$out/kernels_gpu.md" 2>&1 | tee -a "$log"
    bench=$?
    echo "checks exit $checks, benchmark exit $bench" | tee -a "$log"
    [ "$checks" -eq 0 ] && [ "$bench" -eq 0 ]
    ;;
training)
    log="$out/gpu_training.log"
    header 2>&1 | tee "$log"
    if [ -d .whl ]; then
        "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl \
            2>&1 | tee -a "$log" && export PYTHONPATH="/tmp/site:$PYTHONPATH"
    fi
    timeout 540 "$python" benchmarks/gpu_training.py --out "$out/gpu_training.md" 2>&1 | tee -a "$log"
    ;;
*)
    echo "unknown stage $stage: use kernels or training" >&2
    exit 2
    ;;
esac
