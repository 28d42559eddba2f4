"""Shared fixtures: the benchmark data folder and small series."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# `make test` runs two pytest-xdist workers: one torch thread each keeps them off each other's core.
# Processes a test starts (the tutorial's notebook kernel, interpreter runs) inherit the limit through
# OMP_NUM_THREADS: with torch's default of one thread per core beside the other worker, the
# quickstart notebook took 147 s instead of 15.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# The files whose tests take longest (15 s to 90 s each on 2 cores), in that order, run first: xdist hands
# tests out in collection order (`make test`: two at a time, --maxschedchunk 2), and a minute-long test
# handed out last keeps one worker busy after the other has run out of work. Whole files move, so their
# tests keep their order.
SLOWEST_FILES = (
    "tests/estimators/test_conformance.py",
    "tests/kernels/test_triton_interpret.py",
    "tests/estimators/test_ltc_estimators.py",
    "tests/estimators/test_classifier_contract.py",
    "tests/estimators/test_chimera_estimators.py",
    "tests/test_tutorials.py",
    "tests/test_panel_scale_script.py",
    "tests/test_batch_scale_script.py",
    "tests/tuning/test_tune_ddp.py",
    "tests/estimators/test_spacetime_estimators.py",
    "tests/kernels/test_gpu_benchmark_script.py",
    "tests/estimators/test_ls4_estimators.py",
    "tests/estimators/test_engine_devices.py",
    "tests/estimators/test_device_placement.py",
    "tests/estimators/test_smamba_forecaster.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the tests of :data:`SLOWEST_FILES` to the front, keeping every other order (the sort is stable)."""
    rank = {path: i for i, path in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


# the benchmark files lie beside the repository (../shared/data) unless TSREC_DATA says otherwise
if "TSREC_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["TSREC_DATA"] = str(SHARED_DATA)


# every test starts from the same global random state, so a test's draws do not depend on which
# tests ran before it on its xdist worker (an unseeded draw once made a float32 tolerance check
# pass or fail with the test order); TSREC_TEST_SEED=<n> reruns the suite on other draws
TEST_SEED = int(os.environ.get("TSREC_TEST_SEED", "0"))


def _seed_global_generators(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@pytest.fixture(autouse=True)
def _seeded_global_generators():
    """Seed Python's, NumPy's and torch's global generators before each test."""
    _seed_global_generators(TEST_SEED)


@pytest.fixture
def reseed_global_generators():
    """A function seeding the global generators with another value: since each test starts from
    the same global state, a result that depends on it (not on ``random_state``) only changes if
    a test calls this between two fits."""
    return _seed_global_generators


@pytest.fixture
def data_dir() -> Path:
    """The folder with the benchmark files (ETT, UCR_UEA, ...)."""
    folder = Path(os.environ.get("TSREC_DATA", SHARED_DATA))
    assert folder.is_dir(), f"benchmark data folder {folder} is missing; set TSREC_DATA"
    return folder


@pytest.fixture
def hourly_frame() -> pd.DataFrame:
    """Two hourly variates with a daily cycle and noise, 480 rows."""
    rng = np.random.default_rng(0)
    t = np.arange(480)
    index = pd.date_range("2024-01-01", periods=len(t), freq="h")
    return pd.DataFrame(
        {
            "a": np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(len(t)),
            "b": np.cos(2 * np.pi * t / 24) + 0.05 * t / len(t),
        },
        index=index,
    )


@pytest.fixture(scope="module")
def benchmark_script():
    """``load(name)``: the module of ``benchmarks/<name>.py``, whose sibling scripts it may import."""

    def load(name: str):
        folder = REPO / "benchmarks"
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        # registered before it runs, as an import does: a dataclass looks its module up there
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load
