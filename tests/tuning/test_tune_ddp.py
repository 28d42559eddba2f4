"""tune() with trials trained on two processes (strategy='ddp'): pruned trials end PRUNED on every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster
from tsrec.tuning import _pruning, tune

ROOT = Path(__file__).resolve().parents[2]

# Lightning's launcher runs this file again for the second process (LOCAL_RANK=1), so both run
# every search; each saves what its studies recorded
TUNE_ON_TWO_PROCESSES = '''
import json, os, sys
import optuna, torch
from tsrec.datasets import make_ar
from tsrec.estimators import ARNetForecaster
from tsrec.tuning import tune

torch.set_num_threads(1)


class PruneOddTrialsAtEpochOne(optuna.pruners.BasePruner):
    """A pruner whose word does not depend on the losses: trial 1 stops after its second epoch."""

    def prune(self, study, trial):
        return trial.number % 2 == 1 and trial.last_step >= 1


def study(storage, seeded=True):
    sampler = optuna.samplers.TPESampler(seed=0) if seeded else optuna.samplers.RandomSampler()
    return optuna.create_study(storage=storage, sampler=sampler, pruner=PruneOddTrialsAtEpochOne())


def search(storage, seeded=True, **trainer_kwargs):
    est = ARNetForecaster(n_lags=4, max_epochs=3, val_size=0.25, patience=None, accelerator="cpu", devices=2,
                          trainer_kwargs={"strategy": "ddp", **trainer_kwargs}, random_state=0)
    chosen = study(storage, seeded)
    record = {}
    try:
        result = tune(est, make_ar((0.5, -0.3), n_samples=300, random_state=0), n_trials=2, study=chosen)
        record["best"] = [result.best_value, result.best_params, result.best_estimator.history_["best_val_loss"]]
    except Exception as err:
        record["error"] = [type(err).__name__, str(err)]
    record["trials"] = [[t.state.name, t.value, t.params, {str(k): v for k, v in t.intermediate_values.items()}]
                        for t in chosen.trials]
    return record


# the SQLite search first: the first process then creates the database before the second starts
# (two processes creating its tables at once may collide)
runs = {"sqlite": search("sqlite:///" + sys.argv[2]), "in_memory": search(None), "unseeded": search(None, False),
        "min_epochs": search(None, min_epochs=3)}
with open(os.path.join(sys.argv[1], "rank" + os.environ.get("LOCAL_RANK", "0") + ".json"), "w") as f:
    json.dump(runs, f)
'''


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    """What each of the two processes recorded (one launch for every test of the module)."""
    folder = tmp_path_factory.mktemp("ddp_tune")
    script = folder / "tune_two.py"
    script.write_text(TUNE_ON_TWO_PROCESSES)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for key in ("LOCAL_RANK", "WORLD_SIZE", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    command = [sys.executable, str(script), str(folder), str(folder / "tune.db")]
    proc = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [json.loads((folder / f"rank{rank}.json").read_text()) for rank in (0, 1)]


@pytest.mark.parametrize("storage", ["in_memory", "sqlite", "min_epochs"])
def test_a_pruned_multi_process_trial_is_pruned_on_every_process(ranks, storage):
    """"min_epochs": trainer_kwargs={"min_epochs": 3}, under which Lightning ignored the stop and the
    pruned trial trained (and reported) all three epochs."""
    first, second = ranks[0][storage], ranks[1][storage]
    assert "error" not in first, first.get("error")
    states = [trial[0] for trial in first["trials"]]
    # before check_pruned was honoured the pruned trial was COMPLETE with its epoch-1 loss (and an
    # in-memory study failed every trial: Optuna's multi-process path needs an RDB storage)
    assert states == ["COMPLETE", "PRUNED"]
    complete, pruned = first["trials"]
    assert sorted(complete[3]) == ["0", "1", "2"] and sorted(pruned[3]) == ["0", "1"]  # stopped after epoch 1
    assert first["best"][0] == complete[1] == first["best"][2] and first["best"][1] == complete[2]
    # the second process records the same trials, so its sampler samples what the first's does
    assert second == first


def test_processes_that_sample_different_parameters_stop_the_search_saying_to_seed_it(ranks):
    for rank in ranks:
        name, message = rank["unseeded"]["error"]
        assert name == "TuningSetupError" and "seed the sampler" in message
        assert [trial[0] for trial in rank["unseeded"]["trials"]] == ["FAIL"]  # nothing trained


def test_the_objective_raises_what_check_pruned_raises(monkeypatch):
    # a multi-process fit ends normally when pruned and leaves the word to check_pruned
    def pruned(self) -> None:
        raise optuna.TrialPruned("pruned on several processes")

    monkeypatch.setattr(_pruning.PruningCallback, "check_pruned", pruned)
    est = ARNetForecaster(n_lags=4, max_epochs=1, val_size=0.25)
    study = optuna.create_study()
    with pytest.raises(RuntimeError, match=r"no trial completed \(\{'PRUNED': 2\}\)"):
        tune(est, make_ar((0.5,), n_samples=120, random_state=0), n_trials=2, study=study)
    assert [t.state.name for t in study.trials] == ["PRUNED", "PRUNED"]
