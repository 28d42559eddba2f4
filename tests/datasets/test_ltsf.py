"""LTSF loaders, the papers' splits, and the synthetic generators."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest

from tsrec.datasets import load_ett, load_ltsf, ltsf_split, make_ar, make_seasonal

ETTH1_SHA256 = "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"


def test_bundled_etth1_is_byte_identical_to_upstream():
    data = (resources.files("tsrec.datasets") / "data" / "ETTh1.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == ETTH1_SHA256
    assert (resources.files("tsrec.datasets") / "data" / "ATTRIBUTION.md").read_text().count("CC BY-ND 4.0")


def test_bundled_ett_frames():
    for name in ("ETTh1", "ETTh2"):
        df = load_ett(name)
        assert df.shape == (17420, 7) and df.index.freqstr == "h"
        assert df.columns[-1] == "OT" and np.isfinite(df.to_numpy()).all()


@pytest.mark.parametrize("name,rows,freq", [("ETTm1", 69680, "15min"), ("ETTm2", 69680, "15min")])
def test_data_folder_sets(name, rows, freq, data_dir):
    df = load_ett(name, data_dir=data_dir)
    assert len(df) == rows and df.index.freqstr == freq


@pytest.mark.parametrize("name,cols", [("exchange_rate", 8), ("illness", 7), ("weather", 21)])
def test_other_sets(name, cols, data_dir):
    assert load_ltsf(name, data_dir=data_dir).shape[1] == cols


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="ETTm1.csv not found.*put it at"):
        load_ett("ETTm1", data_dir=tmp_path)
    monkeypatch.delenv("TSREC_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="TSREC_DATA"):
        load_ett("ETTm1")
    with pytest.raises(ValueError, match="unknown data set"):
        load_ltsf("electricity")


def test_ett_split_borders():
    train, val, test = ltsf_split(load_ett("ETTh1"), "ETTh1", lookback=96)
    assert (len(train), len(val), len(test)) == (8640, 2880 + 96, 2880 + 96)
    assert val.index[96] == train.index[-1] + train.index.freq
    assert test.index[0] == val.index[-96]


def test_ettm_and_ratio_split_borders(data_dir):
    train, val, test = ltsf_split(load_ett("ETTm1", data_dir), "ETTm1", lookback=96)
    assert (len(train), len(val) - 96, len(test) - 96) == (34560, 11520, 11520)
    df = load_ltsf("weather", data_dir)
    train, val, test = ltsf_split(df, "weather", lookback=96)
    assert len(train) == int(len(df) * 0.7) and len(test) - 96 == int(len(df) * 0.2)
    assert len(train) + len(val) - 96 + len(test) - 96 == len(df)


def test_make_ar_follows_its_coefficients():
    y = make_ar((0.6, -0.2), n_samples=20_000, noise=1.0, random_state=0).to_numpy()
    lags = np.column_stack([y[1:-1], y[:-2]])
    coef, *_ = np.linalg.lstsq(lags, y[2:], rcond=None)
    np.testing.assert_allclose(coef, [0.6, -0.2], atol=0.03)
    with pytest.raises(ValueError, match="not stationary"):
        make_ar((1.2,))


def test_make_seasonal_phase_is_row_mod_period():
    y, cycle = make_seasonal(n_samples=96, period=24, noise=0.0)
    np.testing.assert_allclose(y.to_numpy()[30], cycle[30 % 24])
    assert y.index[0].hour == 0
