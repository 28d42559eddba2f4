"""Shared fixtures: the benchmark data folder and small series."""

from __future__ import annotations

import os
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

# the benchmark files lie beside the repository (../shared/data) unless TSREC_DATA says otherwise
if "TSREC_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["TSREC_DATA"] = str(SHARED_DATA)


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
