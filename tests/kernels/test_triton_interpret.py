"""Triton kernels under TRITON_INTERPRET=1 (CPU), in a subprocess; import isolation from triton."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("triton_interpret_check.py")


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full_env.pop("TSREC_KERNEL_BACKEND", None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)


def test_kernels_match_naive_in_interpreter():
    pytest.importorskip("triton")  # a dev dependency: skipped visibly, never silently passed
    proc = _run([str(SCRIPT)], TRITON_INTERPRET="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "interpreter checks passed" in proc.stdout


BLOCK_TRITON = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "triton" or name.startswith("triton."):
            raise ImportError("triton blocked for this test")
sys.meta_path.insert(0, Block())
import torch
import tsrec.kernels as k
h = k.linear_scan(torch.rand(1, 5, 2), torch.randn(1, 5, 2))
y = k.selective_scan(torch.randn(1, 5, 2), torch.rand(1, 5, 2), -torch.rand(2, 3), \
torch.randn(1, 5, 3), torch.randn(1, 5, 3))
r = k.rnn_scan(torch.randn(1, 5, 2), torch.randn(2, 2))
g = lambda *s: torch.randn(1, 3, 2, *s)
y2 = k.scan2d(g(2), g(2).abs(), g(2).abs(), -torch.rand(2, 3), None, None, -torch.rand(2, 3), g(3), g(3), g(3), g(3))
loaded = [m for m in sys.modules if m.startswith("tsrec.kernels") and m.endswith("triton_impl")]
assert not loaded, loaded
print("ok")
"""


def test_kernels_work_without_triton():
    proc = _run(["-c", BLOCK_TRITON])
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout + proc.stderr


IMPORT_KERNELS_ONLY = """
import sys
import tsrec.kernels
stack = ("sktime", "sklearn", "lightning", "optuna", "pandas", "safetensors", "tsrec.estimators", "tsrec.nn")
loaded = sorted({m for m in sys.modules for s in stack if m == s or m.startswith(s + ".")})
assert not loaded, loaded
import tsrec
assert callable(tsrec.load) and tsrec.all_estimators()  # the package's own API loads on first use
print("ok")
"""


def test_kernels_import_without_the_estimator_stack():
    # the GPU machine that checks the Triton kernels has torch and triton but not sktime
    proc = _run(["-c", IMPORT_KERNELS_ONLY])
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout + proc.stderr
