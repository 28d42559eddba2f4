"""benchmarks/linear_scan_layouts.py: the sweep's first tiles compile for sm_90 and their rows hold.

The script is the measurement behind the committed table of how each linear_scan tile compiles;
here its first two tiles (one warp a 128-channel block, whose scan runs in each thread's registers)
compile in a fresh process, without the Triton interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "linear_scan_layouts.py"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRITON_DEFAULT_FP_FUSION": "1"}
    env.pop("TRITON_INTERPRET", None)
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)


def test_first_tiles_compile_with_the_scan_in_registers(tmp_path):
    pytest.importorskip("triton")  # a dev dependency: skipped visibly, never silently passed
    out = tmp_path / "layouts.md"
    proc = _run(tmp_path, "--first", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [line.split("|")[1:-1] for line in out.read_text().splitlines() if line.startswith("| 128 ")]
    assert len(rows) == 2
    for cells in rows:
        block, chunk, _, warps, layout, regs, stack, _, loop, shfl, bar, per_element = (c.strip() for c in cells)
        # 4 channels a thread, a warp across the block, each thread all CHUNK_T steps of its channels
        assert (block, warps, layout) == ("128", "1", "1,4 / 1,32 / 1,1")
        assert int(stack) == 0 and 0 < int(regs) <= 255
        # the scan needs no shuffle; a barrier or two guard the pipeline's shared-memory buffers
        assert int(shfl) == 0 and int(bar) <= 2 and int(loop) > 0
        assert float(per_element) == pytest.approx(int(loop) * int(warps) / (int(block) * int(chunk)), abs=0.006)


def test_bad_first_is_refused(tmp_path):
    pytest.importorskip("triton")
    proc = _run(tmp_path, "--first", "0")
    assert proc.returncode == 2 and "--first must be at least 1, got 0" in proc.stderr
