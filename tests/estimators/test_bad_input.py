"""DESIGN.md's bad-input list: each case fails before computing, with a message naming the fix."""

from __future__ import annotations

import decimal
import warnings
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sktime.forecasting.base import ForecastingHorizon

import tsrec
from tsrec.estimators import ARNetForecaster, CycleNetForecaster, PGNClassifier
from tsrec.estimators.errors import InputError, InSampleError, NoValidationWarning

from bad_input_frames import frame  # tests/estimators/bad_input_frames.py


def with_nan():
    y = frame()
    y.iloc[5, 0] = np.nan
    return y


def with_inf():
    y = frame()
    y.iloc[5, 1] = np.inf
    return y


def non_numeric():
    y = frame()
    y["c"] = "text"
    return y


def duplicated():
    y = frame()
    return y.set_axis(y.index[:-1].append(y.index[-2:-1]))


def unsorted():
    return frame().iloc[::-1]


def stamps_as_text():  # a CSV file read without parse_dates
    y = frame()
    return y.set_axis(y.index.astype(str))


def panel_stamps_as_text():
    y = pd.concat({"s1": frame(), "s2": frame()})
    return y.set_axis(y.index.set_levels(y.index.levels[-1].astype(str), level=-1))


def with_column(values, dtype=None):
    def make():
        y = frame()
        y["c"] = pd.Series(values, index=y.index, dtype=dtype)
        return y
    return make


def series_of(values, dtype=None):
    return lambda: pd.Series(values, index=frame().index, dtype=dtype)


FIT_CASES = {
    "nan": (with_nan, ValueError, "NaN or inf.*fill"),
    "inf": (with_inf, ValueError, "NaN or inf"),
    "empty": (lambda: frame(0), ValueError, "empty"),
    # scikit-learn's scaler refused it, naming its own minimum of features
    "no columns": (lambda: frame()[[]], InputError, r"^y has rows but no columns; pass at least one variate"),
    "too short": (lambda: frame(20), ValueError, "needs at least lookback \\+ horizon"),
    "non-numeric": (non_numeric, TypeError, "non-numeric.*\\['c'\\]; drop them, or convert them with pd.to_numeric"),
    # numbers held as objects are told the cast (they were called non-numeric, "convert them to numbers")
    "numbers as objects": (series_of(np.arange(200.0), dtype=object), TypeError,
                           r"^y holds numbers as Python objects \(dtype object\) in columns \[0\]; cast them with "
                           r"y\.astype\(float\)$"),
    "duplicate stamps": (duplicated, ValueError, "duplicate time stamps"),
    "unsorted stamps": (unsorted, ValueError, "not sorted.*sort_index"),
    # each series' rows newest first: the panel's one-pass check must not pass them to sktime's
    "unsorted panel stamps": (lambda: pd.concat({"s1": unsorted(), "s2": unsorted()}), ValueError,
                              "series 's1' time stamps are not sorted"),
    "wrong type": (lambda: {"a": [1.0, 2.0, 3.0]}, TypeError, "unsupported type dict"),
    # was "unsupported type list; pass ... a list of DataFrames", which names no fix for values
    "list of numbers": (lambda: [1.0, 2.0, 3.0], TypeError,
                        r"^y has type list \(of numbers\), which is no series type; pass them as one series: "
                        r"np\.asarray\(y\) or pd\.Series\(y\)"),
    # was "y has unsupported type list; pass ... a list of DataFrames": a list, refused for being one
    "empty list": (lambda: [], ValueError, r"^y is an empty list; pass the series: a list of DataFrames \(one per "
                                           r"series\), a pd.Series, pd.DataFrame or NumPy array$"),
    "4-d array": (lambda: np.zeros((5, 5, 5, 5)), ValueError, "1-D.*2-D.*3-D .*numpy3D panel"),
    "string array": (lambda: np.array(["a"] * 50), TypeError, "real numbers"),
    "stamps as text": (stamps_as_text, TypeError,
                       r"time stamps are strings \(e\.g\. '2024-01-01 00:00:00'\).*"
                       r"y\.index = pd\.to_datetime\(y\.index\)"),
    "panel stamps as text": (panel_stamps_as_text, TypeError, r"strings.*pd\.to_datetime\(y\.index\.levels\[-1\]\)"),
    "float stamps": (lambda: frame().set_axis(np.arange(200.0)), TypeError,
                     r"time index holds float numbers \(e\.g\. 0\.0\).*integer index"),
    "date objects": (lambda: frame().set_axis(pd.Index(pd.date_range("2024-01-01", periods=200).date, dtype=object)),
                     TypeError, r"time index holds values of dtype object \(e\.g\. datetime\.date\(2024, 1, 1\)\)"),
    "complex series": (series_of(np.ones(200, dtype=complex)), TypeError,
                       r"^y must hold real numbers, got dtype complex128; convert it with y\.astype\(float\)$"),
    "complex column": (with_column(np.ones(200, dtype=complex)), TypeError,
                       r"real numbers, got dtype complex128 in columns \['c'\]"),
    "bool series": (series_of([True, False] * 100), TypeError, r"y holds booleans.*y\.astype\(float\)"),
    # sktime's check listed the dtypes it takes, without a fix
    "arrow decimal column": (with_column([decimal.Decimal(i) for i in range(200)], pd.ArrowDtype(pa.decimal128(10, 3))),
                             TypeError, r"^y holds Arrow decimals \(dtype decimal128\(10, 3\)\[pyarrow\]\) in columns "
                                        r"\['c'\]; .*y\.astype\(float\)$"),
    "nullable boolean series": (series_of([True, False] * 100, "boolean"), TypeError,
                                r"y holds booleans.*y\.astype\(float\)"),
    "nullable boolean column": (with_column([True, False] * 100, "boolean"), TypeError,
                                r"boolean columns \['c'\].*y\.astype\(float\)"),
}


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_fit_rejects(case):
    make, error, match = FIT_CASES[case]
    est = CycleNetForecaster(lookback=24, horizon=12, max_epochs=1)
    with pytest.raises(error, match=match):
        est.fit(make(), fh=[1])
    assert not est.is_fitted


@pytest.mark.parametrize("case", ["stamps as text", "float stamps", "complex series"])
def test_index_and_dtype_messages_are_one_sentence_not_sktimes_format_list(case):
    make, error, _ = FIT_CASES[case]
    with pytest.raises(error) as info:
        CycleNetForecaster(lookback=24, horizon=12, max_epochs=1).fit(make(), fh=[1])
    assert len(str(info.value)) < 300 and "dask" not in str(info.value)


@pytest.fixture(scope="module")
def fitted():
    return CycleNetForecaster(lookback=24, horizon=12, max_epochs=1).fit(frame(), fh=[1, 2])


PREDICT_CASES = {
    "other number of variates": (dict(y=frame(cols=("a", "b", "c"))), ValueError, "3 variates.*fitted on 2"),
    "context shorter than lookback": (dict(y=frame(10)), ValueError, "needs at least lookback"),
    "nan context": (dict(y=with_nan()), ValueError, "NaN or inf"),
    "in-sample fh": (dict(fh=[0, 1]), ValueError, "future steps"),
    "negative fh with context": (dict(fh=[-1], y=frame()), ValueError, "future steps"),
    # once "in-sample forecasts are not supported": nothing was asked for, in-sample or not
    "empty fh": (dict(fh=[]), InputError, r"^fh is empty; name at least one future step, e\.g\. fh=\[1\]"),
    "empty stamps": (dict(fh=pd.DatetimeIndex([])), InputError, r"^fh is empty"),
    # sktime's "The `fh` values must not contain any duplicates" gave no fix
    "duplicate steps": (dict(fh=np.array([2, 1, 1])), InputError,
                        r"^fh must not contain duplicates, got \[2, 1, 1\] \(\[1\] more than once\); give each once, "
                        r"e\.g\. fh=\[1, 2\]$"),
    "duplicate stamps": (dict(fh=pd.DatetimeIndex(["2030-01-01", "2030-01-01"])), InputError,
                         r"^fh must not contain duplicates, got \[Timestamp\('2030-01-01 00:00:00'\), "),
    # pandas' OverflowError, "cannot all be casted to the dtype int64"
    "fh beyond int64": (dict(fh=[1, 10**20]), InputError,
                        r"^fh holds a step beyond a 64-bit integer \(100000000000000000000\); ask for fewer steps$"),
    # pandas' OutOfBoundsDatetime, "Out of bounds nanosecond timestamp", named no fix
    "stamps past the last date-time": (
        dict(fh=[1, 2], y=frame().set_axis(pd.date_range("2262-04-03 16:00", periods=200, freq="h", unit="ns"))),
        InputError, r"past 2262-04-11 23:47:16\.854775807, the last date-time a datetime64\[ns\] index holds "
                    r"\(last stamp 2262-04-11 23:00:00, 2 steps of h\); give the stamps a coarser unit"),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
def test_predict_rejects(case, fitted):
    kwargs, error, match = PREDICT_CASES[case]
    with pytest.raises(error, match=match):
        fitted.predict(**kwargs)


def test_a_validation_split_that_leaves_nothing_is_reported():
    with pytest.warns(NoValidationWarning, match=r"val_size=10000 leaves no validation data \(it must hold at least "
                                                 r"horizon = 4 rows and leave lookback \+ horizon = 12 for training\)"):
        est = CycleNetForecaster(lookback=8, horizon=4, val_size=10000, max_epochs=1).fit(frame().iloc[:60])
    assert est.history_["val_loss"] == []
    with warnings.catch_warnings():  # no validation asked for: nothing to report
        warnings.simplefilter("error", NoValidationWarning)
        CycleNetForecaster(lookback=8, horizon=4, val_size=0, max_epochs=1).fit(frame().iloc[:60])
    X, y = np.random.default_rng(0).normal(size=(24, 12)), np.arange(24) % 2
    with pytest.warns(NoValidationWarning, match="val_size=0.01 leaves no validation data"):
        PGNClassifier(max_epochs=1, val_size=0.01).fit(X, y)


def test_a_panel_series_too_short_to_validate_is_named_and_the_others_validate():
    long, short = frame().iloc[:120, :1], frame().iloc[:14, :1]  # 14 rows: 3 validate, fewer than horizon 4
    panel = pd.concat({"long": long, "short": short}, names=["id", "time"])
    with pytest.warns(UserWarning, match=r"1 of 2 series \('short'\) have no validation windows: their last val_size "
                                         r"rows hold fewer than "
                                         r"horizon = 4 rows.*the validation loss covers the other series only"):
        est = CycleNetForecaster(lookback=8, horizon=4, val_size=0.2, max_epochs=1).fit(panel)
    assert len(est.history_["val_loss"]) == 1


def test_a_panel_series_that_can_validate_but_not_train_is_named():
    # 19 rows, val_size=8: its last 8 validate, and the 11 before them hold no training window of 8 + 4 rows
    long, short = frame().iloc[:120, :1], frame().iloc[:19, :1]
    panel = pd.concat({"long": long, "short": short}, names=["id", "time"])
    with pytest.warns(UserWarning, match=r"1 of 2 series \('short'\) only validate: the rows before their last "
                                         r"val_size ones are fewer than lookback \+ horizon = 12, no training window; "
                                         r"the model is scored on them but not trained on them"):
        CycleNetForecaster(lookback=8, horizon=4, val_size=8, max_epochs=1).fit(panel)
    with warnings.catch_warnings():  # 20 rows leave one training window before the last 8
        warnings.simplefilter("error")
        panel = pd.concat({"long": long, "short": frame().iloc[:20, :1]}, names=["id", "time"])
        CycleNetForecaster(lookback=8, horizon=4, val_size=8, max_epochs=1).fit(panel)


def test_unreadable_saved_folders(tmp_path, fitted):
    with pytest.raises(tsrec.estimators.LoadError, match="no such folder"):
        tsrec.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(tsrec.estimators.LoadError, match="config.json and weights.safetensors"):
        tsrec.load(tmp_path / "empty")
    folder = fitted.save(tmp_path / "model")
    weights = folder / "weights.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(tsrec.estimators.LoadError, match="truncated or modified"):
        tsrec.load(folder)
    weights.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(tsrec.estimators.LoadError, match="truncated or modified"):
        tsrec.load(folder)
    weights.write_bytes(data)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(tsrec.estimators.LoadError, match="not valid JSON"):
        tsrec.load(folder)


def test_tampered_class_name_is_not_imported(tmp_path, fitted):
    import json

    folder = fitted.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["class"] = "os.system"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(tsrec.estimators.LoadError, match="unknown estimator class 'os.system'"):
        tsrec.load(folder)


def test_save_over_a_foreign_folder_is_refused_and_nothing_is_lost(tmp_path, fitted):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a saved tsrec estimator"):
        fitted.save(tmp_path / "keep")
    assert (tmp_path / "keep" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_save_into_an_empty_existing_folder_works(tmp_path, fitted):
    (tmp_path / "empty").mkdir()
    folder = fitted.save(tmp_path / "empty")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.safetensors"]
    assert tsrec.load(folder).predict(fh=[1, 2]).equals(fitted.predict(fh=[1, 2]))


def test_nan_or_inf_in_y_is_counted_and_located_with_a_fix_for_its_kind():
    hours = pd.date_range("2024-01-01", periods=40, freq="h")
    one = pd.Series(np.arange(40.0), index=hours)
    one.iloc[[7, 9]] = [np.nan, np.inf]
    panel = pd.concat({"a": pd.DataFrame({"x": 1.0, "temp": np.arange(40.0)}, index=hours),
                       "b": pd.DataFrame({"x": 1.0, "temp": np.arange(40.0)}, index=hours)}, names=["id", "ds"])
    panel.loc[("b", hours[3]), "temp"] = np.nan
    cases = [
        (one, r"y contains NaN or inf \(1 NaN and 1 inf\), the first at time 2024-01-01 07:00:00; "
              r".*y\.interpolate\(limit_direction='both'\)"),
        # interpolating a panel as one column would fill across its series
        (panel, r"the first at series 'b', time 2024-01-01 03:00:00, column 'temp'; .*within each series, e\.g\. "
                r"y\.groupby\(level=0\)\.transform\(lambda s: s\.interpolate\(limit_direction='both'\)\)"),
        (np.stack([np.arange(40.0), np.r_[np.zeros(5), np.nan, np.zeros(34)]], axis=1),
         r"\(1 NaN\), the first at row 5, column 1; "),
    ]
    for y, message in cases:
        with pytest.raises(InputError, match=message):
            ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y)


def test_integer_stamps_that_would_pass_int64s_largest_are_refused_not_wrapped():
    # NumPy's int64 sum wrapped them round: the forecast of the last step was stamped -2**63
    largest = int(np.iinfo(np.int64).max)
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.Index(largest - 15 - 3 * np.arange(30)[::-1], dtype="int64"))
    with pytest.warns(UserWarning, match="integer time index steps by 3"):
        est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    assert est.predict(fh=[5]).index.tolist() == [largest]
    with pytest.raises(InputError, match=rf"would run to {largest + 3}, past {largest}, the largest an int64 time "
                                         r"index holds \(last stamp .*, step 3\); number each series' time steps"):
        est.predict(fh=[1, 6])


@pytest.mark.parametrize("panel", [False, True])
def test_integer_stamps_whose_distance_from_the_end_wraps_int64_are_named(panel):
    # stamp - end wrapped round int64: -2**63 read as 2**63 - 59 steps ahead, refused as a forecast too far
    # ahead to stamp, where it lies before the end; 2**63 - 1 past an end at -11 read as a step before it
    least, largest = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.RangeIndex(-41, -11))
    data = pd.concat({"a": y, "b": y}).to_frame("v") if panel else y
    est = ARNetForecaster(n_lags=3, horizon=2, max_epochs=1, random_state=0).fit(data)
    absolute = partial(ForecastingHorizon, is_relative=False)
    with pytest.raises(InSampleError, match=rf"fh asks for \[{least}\], which are not after the end of .*\(-12\)"):
        est.predict(fh=absolute([least, -5]))
    with pytest.raises(InputError, match=rf"stamps \[{largest}\] are more steps after the end of .*\(-12\) than "
                                         "an int64 counts; ask for nearer stamps"):
        est.predict(fh=absolute([-5, largest]))
    assert est.predict(fh=absolute([-5])).index.get_level_values(-1).tolist() == [-5] * (1 + panel)


@pytest.mark.parametrize("freq,steps", [("10000h", [300]), ("D", [100000])])
def test_stamps_far_past_the_last_date_time_are_refused_not_wrapped(freq, steps):
    # 300 steps of 10,000 hours is 1.08e19 ns, past int64: NumPy's sum wrapped round to a stamp in
    # 1781 without a word; daily steps escaped as pandas' OutOfBoundsTimedelta
    y = pd.Series(np.sin(np.arange(48.0)), index=pd.date_range("2024-01-01", periods=48, freq=freq, unit="ns"))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y)
    with pytest.raises(InputError, match="would run past 2262-04-11 23:47:16.854775807"):
        est.predict(fh=steps)


@pytest.mark.parametrize(("shape", "advice"), [
    ((2, 30, 5), r"y has 30 variates of 5 time steps each .* pass np\.transpose\(y, \(0, 2, 1\)\)"),  # darts' layout
    ((5, 30), r"y has 30 variates of 5 time steps each \(a 2-D array is read as \(time, variates\)\).* pass y\.T"),
])
def test_an_array_with_more_variates_than_steps_warns_of_its_layout_in_fit(shape, advice):
    y = np.random.default_rng(0).normal(size=shape)
    with pytest.warns(UserWarning, match=advice):
        ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(y)
    est = ARNetForecaster(n_lags=2, horizon=1, max_epochs=1)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        est.fit(np.swapaxes(y, -1, -2))  # the layout it was meant to be
        est.predict(fh=[1], y=np.swapaxes(y, -1, -2)[..., -3:] if y.ndim == 3 else y.T[-3:])  # a short context
    assert not [w for w in seen if "variates of" in str(w.message)]


@pytest.mark.parametrize("shape", [(2, 6, 6), (6, 6)])
def test_a_square_array_gives_no_layout_warning(shape):
    # as many variates as steps: either layout is as likely, so the warning (more variates than steps) stays quiet
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ARNetForecaster(n_lags=2, horizon=1, max_epochs=1).fit(np.random.default_rng(0).normal(size=shape))
    assert not [w for w in seen if "variates of" in str(w.message)]
