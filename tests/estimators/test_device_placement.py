"""Networks keep their tensors on the input's device (a GPU run's first failure), checked on ``meta``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tsrec.registry import all_estimators

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("meta_device_check.py")


def test_every_network_trains_and_predicts_on_the_meta_device():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    names = {line.split()[1].rstrip(":") for line in proc.stdout.splitlines() if line.startswith("ok ")}
    assert names == {name for name, _ in all_estimators()}, proc.stdout
