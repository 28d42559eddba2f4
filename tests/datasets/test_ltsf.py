"""LTSF loaders, the papers' splits, and the synthetic generators."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from tsrec.datasets import _datadir, load_ett, load_ltsf, load_ucr, ltsf_borders, ltsf_split, make_ar, make_seasonal
from tsrec.datasets.ltsf import LTSF_FILES

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
    with pytest.raises(FileNotFoundError, match=r"ETTm1 \(ETTm1.csv\) not found(.|\n)*Put ETTm1.csv at"):
        load_ett("ETTm1", data_dir=tmp_path)
    monkeypatch.delenv("TSREC_DATA", raising=False)
    monkeypatch.setattr(_datadir, "DEV_DATA", tmp_path / "no-such-folder")
    with pytest.raises(FileNotFoundError, match="TSREC_DATA"):
        load_ett("ETTm1")
    with pytest.raises(ValueError, match="unknown data set"):
        load_ltsf("electricity")


def test_dev_folder_is_searched_when_tsrec_data_is_unset_or_empty(data_dir, monkeypatch):
    monkeypatch.setattr(_datadir, "DEV_DATA", data_dir)
    monkeypatch.delenv("TSREC_DATA", raising=False)
    assert len(load_ett("ETTm1")) == 69680
    monkeypatch.setenv("TSREC_DATA", "")  # empty means unset, not the current folder
    assert len(load_ltsf("illness")) == 966


def test_both_loaders_list_every_path_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TSREC_DATA", "~/env")
    (tmp_path / "dev").mkdir()
    monkeypatch.setattr(_datadir, "DEV_DATA", tmp_path / "dev")
    with pytest.raises(FileNotFoundError) as ltsf_info, pytest.warns(UserWarning, match="is not a folder"):
        load_ltsf("weather")
    with pytest.raises(FileNotFoundError) as ucr_info, pytest.warns(UserWarning, match="is not a folder"):
        load_ucr("Toy")
    for root in (tmp_path / "env", tmp_path / "dev"):  # "~" expanded in both
        assert str(root / "weather" / "weather.csv") in str(ltsf_info.value)
        assert str(root / "weather.csv") in str(ltsf_info.value)
        assert str(root / "UCR_UEA" / "Toy" / "Toy_TRAIN.ts") in str(ucr_info.value)


@pytest.mark.parametrize(
    ("data_dir", "error", "match"),
    [(5, TypeError, "data_dir must be a folder path"), ("", ValueError, "data_dir is empty")],
)
def test_bad_data_dir(data_dir, error, match):
    with pytest.raises(error, match=match):
        load_ltsf("weather", data_dir=data_dir)
    with pytest.raises(error, match=match):
        load_ucr("GunPoint", data_dir=data_dir)


def test_weather_keeps_its_rows_on_a_regular_10_minute_index(data_dir):
    raw = pd.read_csv(data_dir / "weather" / "weather.csv", encoding_errors="replace")
    df = load_ltsf("weather", data_dir)
    # rows unchanged and in file order, so the position-based splits are those of the papers
    np.testing.assert_array_equal(df.to_numpy(), raw.drop(columns="date").to_numpy())
    assert df.index.freqstr == "10min" and df.index.is_unique and df.index.is_monotonic_increasing
    assert df.index[0] == pd.Timestamp("2020-01-01 00:10") and df.index[-1] == pd.Timestamp("2020-12-31 22:40")
    stamps = pd.to_datetime(raw["date"], format="mixed")
    assert int((df.index != stamps.to_numpy()).sum()) == 33652  # the number the docstring gives


@pytest.mark.parametrize(("name", "freq"), [("ETTm1", "15min"), ("exchange_rate", "D"), ("illness", "W-TUE")])
def test_regular_sets_keep_their_own_stamps(name, freq, data_dir):
    group, file, _ = LTSF_FILES[name]
    stamps = pd.to_datetime(pd.read_csv(data_dir / group / file, usecols=["date"])["date"], format="mixed")
    df = load_ltsf(name, data_dir)
    assert df.index.freqstr == freq
    np.testing.assert_array_equal(df.index.to_numpy(), stamps.to_numpy())


@pytest.mark.parametrize("name", ["etth1", "foo", "ETTh9", "electricity", None, 5])
def test_splits_refuse_unknown_names(name, hourly_frame):
    with pytest.raises(ValueError, match=r"unknown data set .*choose one of \['ETTh1'"):
        ltsf_borders(name, 17420)
    with pytest.raises(ValueError, match="unknown data set"):
        ltsf_split(hourly_frame, name, 24)


@pytest.mark.parametrize("name", [None, 5, "etth1", "weather", ["ETTh1"]])
def test_load_ett_and_load_ltsf_refuse_bad_names(name):
    with pytest.raises(ValueError, match="unknown ETT set"):
        load_ett(name)
    if name != "weather":
        with pytest.raises(ValueError, match="unknown data set"):
            load_ltsf(name)


@pytest.mark.parametrize(
    ("df", "lookback", "error", "match"),
    [
        ("frame", 96.0, ValueError, "lookback must be an integer >= 1"),
        ("frame", True, ValueError, "lookback must be an integer >= 1"),
        ("frame", 0, ValueError, "lookback must be an integer >= 1"),
        ("frame", 8641, ValueError, r"lookback must be in \[1, 8640\]"),
        ("array", 96, TypeError, "df must be a pandas DataFrame.*got ndarray"),
        ("empty", 96, ValueError, "df has no rows"),
    ],
)
def test_ltsf_split_bad_arguments(df, lookback, error, match):
    frame = load_ett("ETTh1")
    df = {"frame": frame, "array": frame.to_numpy(), "empty": frame.iloc[:0]}[df]
    with pytest.raises(error, match=match):
        ltsf_split(df, "ETTh1", lookback)


def test_ltsf_split_accepts_numpy_integers():
    train, val, _ = ltsf_split(load_ett("ETTh1"), "ETTh1", np.int64(96))
    assert len(train) == 8640 and len(val) == 2976
    assert ltsf_borders("weather", np.int64(52696)) == (36887, 42157, 52696)
    with pytest.raises(ValueError, match="n_rows must be an integer >= 1"):
        ltsf_borders("weather", 0)


@pytest.mark.parametrize("name, rows, per_hour", [("ETTh1", 17420, 1), ("ETTh2", 17420, 1), ("ETTm1", 69680, 4),
                                                   ("ETTm2", 69680, 4)])
def test_every_ett_set_splits_at_12_16_and_20_months(name, rows, per_hour):
    # the papers' borders in hours (30-day months), times the rows of one hour
    month = 30 * 24 * per_hour
    assert ltsf_borders(name, rows) == (12 * month, 16 * month, 20 * month)


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
    for unit_root in [(1.2,), (1.0,), (-1.0,), (0.5, 0.5)]:  # a root on the unit circle is a random walk
        with pytest.raises(ValueError, match="not stationary"):
            make_ar(unit_root)


def test_make_seasonal_phase_is_row_mod_period():
    y, cycle = make_seasonal(n_samples=96, period=24, noise=0.0)
    np.testing.assert_allclose(y.to_numpy()[30], cycle[30 % 24])
    assert y.index[0].hour == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"coefficients": (float("nan"),)}, "coefficients must be .* finite numbers"),
        ({"coefficients": ("a",)}, "coefficients must be"),
        ({"coefficients": ()}, "coefficients must be"),
        ({"n_samples": 0}, "n_samples must be an integer >= 1"),
        ({"n_samples": 10.0}, "n_samples must be an integer >= 1"),
        ({"burn_in": -5}, "burn_in must be an integer >= 0"),
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"noise": float("nan")}, "noise must be a finite number"),
    ],
)
def test_make_ar_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_ar(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"period": 0}, "period must be an integer >= 1"),
        ({"period": True}, "period must be an integer >= 1"),
        ({"n_samples": -1}, "n_samples must be an integer >= 1"),
        ({"n_channels": 0}, "n_channels must be an integer >= 1"),
        ({"noise": "0.1"}, "noise must be a finite number"),
        ({"noise": float("inf")}, "noise must be a finite number"),
    ],
)
def test_make_seasonal_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_seasonal(**kwargs)


def test_generators_accept_numpy_numbers():
    assert len(make_ar((0.5,), n_samples=np.int64(50), burn_in=np.int64(0), noise=np.float64(0.2))) == 50
    y, cycle = make_seasonal(n_samples=np.int64(48), period=np.int64(12), n_channels=np.int64(2))
    assert y.shape == (48, 2) and cycle.shape == (12, 2)
