"""Fits on several processes: each validates its own share, and all end with the best weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tsrec.estimators import CycleNetForecaster, _engine

ROOT = Path(__file__).resolve().parents[2]
N_FITS = 3

# Lightning's launcher runs this file again for the second process (LOCAL_RANK=1); every process
# saves the histories, validation counts and weights it ended its fits with
FIT_ON_TWO_PROCESSES = '''
import json, os, sys
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from tsrec.estimators import CycleNetForecaster
from tsrec.estimators._engine import extra_callbacks

torch.set_num_threads(1)


class Recorder(Callback):
    def __init__(self):
        self.seen, self.counts = [], []

    def on_validation_start(self, trainer, pl_module):
        # spoil the last epoch's weights alike on every process: an earlier epoch is then the best
        if trainer.current_epoch == trainer.max_epochs - 1:
            with torch.no_grad():
                for parameter in pl_module.parameters():
                    parameter.add_(3.0)

    def on_validation_epoch_end(self, trainer, pl_module):
        self.counts.append(pl_module._val["count"])  # callbacks run before the module sums it up

    def on_validation_end(self, trainer, pl_module):
        weights = {k: v.detach().clone() for k, v in pl_module.network.state_dict().items()}
        self.seen.append((pl_module.history[-1], weights))


results = []
for seed in range(int(sys.argv[2])):
    recorder = Recorder()
    est = CycleNetForecaster(**json.loads(sys.argv[3]), accelerator="cpu", devices=2, random_state=seed)
    with extra_callbacks([recorder]):
        est.fit(np.load(sys.argv[4]))
    final = {k: v.detach().clone() for k, v in est.network_.state_dict().items()}
    results.append({"history": est.history_, "final": final, "seen": recorder.seen, "counts": recorder.counts})
torch.save(results, os.path.join(sys.argv[1], "rank" + os.environ.get("LOCAL_RANK", "0") + ".pt"))
'''
# three validation batches of 16 windows: two processes get two and one
PARAMS = dict(lookback=24, horizon=6, cycle_length=10, max_epochs=3, batch_size=16, val_size=0.25, lr=0.05,
              patience=None)


def _series() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.sin(np.arange(200) / 5.0) + 0.3 * rng.standard_normal(200)


def _fit_on_two_processes(tmp_path: Path) -> list[list[dict]]:
    script, data = tmp_path / "fit_two.py", tmp_path / "y.npy"
    script.write_text(FIT_ON_TWO_PROCESSES)
    np.save(data, _series())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for key in ("LOCAL_RANK", "WORLD_SIZE", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    command = [sys.executable, str(script), str(tmp_path), str(N_FITS), json.dumps(PARAMS), str(data)]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [torch.load(tmp_path / f"rank{rank}.pt", weights_only=False) for rank in (0, 1)]


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _validation_count() -> float:
    """The validation loss's item count on one process: what the processes must add up to."""
    counts: list = []

    class Count(_engine.pl.Callback):
        def on_validation_epoch_end(self, trainer, pl_module):
            counts.append(pl_module._val["count"])

    with _engine.extra_callbacks([Count()]):
        CycleNetForecaster(**{**PARAMS, "max_epochs": 1}, accelerator="cpu", devices=1).fit(_series())
    return counts[0]


def test_every_process_ends_with_the_same_best_weights(tmp_path):
    ranks = _fit_on_two_processes(tmp_path)
    expected_count = _validation_count()
    for fit in range(N_FITS):
        first, second = ranks[0][fit], ranks[1][fit]
        assert first["history"] == second["history"]
        losses = first["history"]["val_loss"]
        best = int(np.argmin(losses))
        assert best < len(losses) - 1  # the spoilt last epoch is not the best
        assert first["history"]["best_val_loss"] == pytest.approx(losses[best], rel=1e-6)
        for rank in (first, second):
            assert _same(rank["final"], rank["seen"][best][1])
        # every validation window counted once: none repeated to even out the processes' shares
        assert [a + b for a, b in zip(first["counts"], second["counts"])] == [expected_count] * len(losses)


def test_each_batch_is_validated_by_one_process(monkeypatch):
    loader = DataLoader(list(range(5)), batch_size=None)
    shares = []
    for rank in (0, 1):
        monkeypatch.setattr(_engine, "_process_rank", lambda rank=rank: (rank, 2))
        share = _engine.RankShare(loader)
        shares.append(list(share))
        assert len(share) == len(shares[-1]) == 3  # as many steps on every process
    assert [int(b) for group in shares[0] + shares[1] for b in group] == [0, 2, 4, 1, 3]
    assert shares[1][-1] == []


def test_one_process_validates_every_batch():
    loader = DataLoader(list(range(5)), batch_size=None)
    assert [int(b) for group in _engine.RankShare(loader) for b in group] == [0, 1, 2, 3, 4]
