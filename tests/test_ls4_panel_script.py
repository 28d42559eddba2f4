"""benchmarks/ls4_panel.py: times LS4's predict on panels and reads its peak memory, in fresh processes."""

from __future__ import annotations

import contextlib
import io
import json
import sys

import pytest
import torch


@pytest.fixture(scope="module")
def ls4_panel(benchmark_script):
    return benchmark_script("ls4_panel")


def test_a_small_run_writes_one_measured_row_per_size(ls4_panel, tmp_path, monkeypatch):
    # the children run here, not in fresh interpreters: each would import tsrec again (about 8 s)
    def in_process(code: str, args: list[str], cwd: str) -> dict:
        out, threads = io.StringIO(), torch.get_num_threads()
        monkeypatch.setattr(sys, "argv", ["-c", *args])
        with contextlib.redirect_stdout(out):
            exec(code, {"__name__": "__main__"})
        torch.set_num_threads(threads)
        return json.loads(out.getvalue().strip().splitlines()[-1])

    monkeypatch.setattr(ls4_panel, "run_child", in_process)
    out = tmp_path / "ls4_panel.md"
    argv = ["--sizes", "2", "3", "--steps", "3", "--d-model", "8", "--d-state", "8", "--n-layers", "1",
            "--n-samples", "4", "--lookback", "12", "--horizon", "3", "--out", str(out)]
    assert ls4_panel.main(argv) == 0
    text = out.read_text()
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row[0].strip() for row in rows] == ["2", "3"]
    assert [int(row[1]) for row in rows] == [8, 12]  # both series of a pass, 4 paths each
    # seconds, seconds a series, peak RSS; the increase is >= 0 here (this process's peak came before)
    assert all(float(cell) > 0 for row in rows for cell in row[2:5])
    assert all(float(row[5]) >= 0 for row in rows)
    assert f"Command: `python benchmarks/ls4_panel.py {' '.join(argv)}`" in text
    assert "1 torch thread" in text and "d_model 8" in text and "Code: " in text
