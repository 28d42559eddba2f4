"""LTCClassifier(timing="stamps"): each step lasts the time since the sample's previous stamp (irregular sampling)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import InputError, LoadError, LTCClassifier
from saved_configs import edit_config  # tests/estimators/saved_configs.py

LTC = dict(units=4, ode_unfolds=2, random_state=0)
CFC = dict(cell="cfc", units=4, backbone_units=8, lr=0.01, random_state=0)


def same_values_other_gaps(n=24, T=10) -> tuple[pd.DataFrame, np.ndarray]:
    """Every sample holds the same values; class 0 is sampled every 0.25 s, class 1 every 3 s."""
    y = np.arange(n) % 2
    index = pd.MultiIndex.from_arrays([np.repeat(np.arange(n), T),
                                       np.concatenate([np.cumsum(np.full(T, 0.25 if c == 0 else 3.0)) for c in y])],
                                      names=["id", "t"])
    return pd.DataFrame({"x": np.tile(np.where(np.arange(T) % 2 == 0, 1.0, -1.0), n)}, index=index), y


def hourly(n=12, T=8, seed=1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product([range(n), pd.date_range("2026-01-01", periods=T, freq="h")])
    return pd.DataFrame({"x": rng.normal(size=n * T), "z": rng.normal(size=n * T)}, index=index), np.arange(n) % 2


@pytest.mark.parametrize("params", [LTC, CFC], ids=["ltc", "cfc"])
def test_the_gaps_alone_tell_the_classes_apart(params):
    X, y = same_values_other_gaps()
    by_steps = LTCClassifier(max_epochs=40, **params).fit(X, y)
    assert len(set(by_steps.predict(X))) == 1  # the same values: one answer for every sample
    by_stamps = LTCClassifier(max_epochs=40, timing="stamps", **params).fit(X, y)
    assert (by_stamps.predict(X) == y).all()
    assert by_stamps.time_unit_ == pytest.approx(1.625) and by_stamps.stamp_kind_ == "numbers"  # median gap


def test_evenly_spaced_stamps_read_as_steps():
    X, y = hourly()
    by_steps = LTCClassifier(max_epochs=3, **LTC).fit(X, y)
    by_stamps = LTCClassifier(max_epochs=3, timing="stamps", **LTC).fit(X, y)
    np.testing.assert_array_equal(by_stamps.predict_proba(X), by_steps.predict_proba(X))
    assert by_stamps.time_unit_ == 3600.0 and by_stamps.stamp_kind_ == "date-times or durations"


def test_predict_counts_the_gaps_in_the_fitted_unit():
    X, y = hourly()
    clf = LTCClassifier(max_epochs=3, timing="stamps", **LTC).fit(X, y)
    ids, stamps = X.index.levels[0], X.index.get_level_values(1)
    later = X.set_axis(pd.MultiIndex.from_arrays([X.index.get_level_values(0), stamps + pd.Timedelta(days=400)]))
    np.testing.assert_allclose(clf.predict_proba(later), clf.predict_proba(X), rtol=1e-6)  # only gaps count
    start = pd.Timestamp("2026-01-01")
    slower = X.set_axis(pd.MultiIndex.from_arrays([X.index.get_level_values(0), start + (stamps - start) * 5]))
    assert np.abs(clf.predict_proba(slower) - clf.predict_proba(X)).max() > 1e-4
    durations = X.set_axis(pd.MultiIndex.from_arrays([X.index.get_level_values(0), stamps - start]))
    np.testing.assert_allclose(clf.predict_proba(durations), clf.predict_proba(X), rtol=1e-6)
    assert len(ids) == 12


def test_every_panel_format_gives_the_same_steps():
    X, y = same_values_other_gaps(n=6, T=5)
    clf = LTCClassifier(max_epochs=2, timing="stamps", **LTC).fit(X, y)
    samples = [part.droplevel(0) for _, part in X.groupby(level=0)]
    nested = pd.DataFrame({"x": [frame["x"] for frame in samples]})
    for other in (nested, samples):
        np.testing.assert_allclose(clf.predict_proba(other), clf.predict_proba(X), rtol=1e-6)
    # rows ordered by time, samples interleaved: read in the order they first appear, stamps with their values
    by_time = X.iloc[np.lexsort((X.index.get_level_values(0), X.index.get_level_values(1)))]
    first_seen = pd.unique(by_time.index.get_level_values(0))
    assert list(first_seen) == [0, 2, 4, 1, 3, 5]  # class 0's stamps start at 0.25 s, class 1's at 3 s
    np.testing.assert_allclose(clf.predict_proba(by_time), clf.predict_proba(X)[first_seen], rtol=1e-6)


def test_save_and_load_keep_the_unit(tmp_path):
    X, y = hourly()
    clf = LTCClassifier(max_epochs=2, timing="stamps", **LTC).fit(X, y)
    loaded = tsrec.load(clf.save(tmp_path / "clf"))
    assert (loaded.time_unit_, loaded.stamp_kind_) == (3600.0, "date-times or durations")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    edit_config(tmp_path / "clf", lambda config: config["fitted"].pop("stamps"))
    with pytest.raises(LoadError, match="reads stamps .*time unit > 0 and a kind"):
        tsrec.load(tmp_path / "clf")


def test_x_without_stamps_or_with_other_stamps_is_refused():
    X, y = hourly()
    clf = LTCClassifier(max_epochs=1, timing="stamps", **LTC)
    values = np.random.default_rng(0).normal(size=(12, 2, 8))
    with pytest.raises(InputError, match=r"timing='stamps' reads the time between .*numpy.*or timing='steps'"):
        clf.fit(values, y)
    clf.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before scikit-learn's warning of missing feature names
        with pytest.raises(InputError, match="which a numpy array does not carry"):
            clf.predict(values)
    with pytest.raises(InputError, match=r"which X of type DataFrame \(values without stamps\) does not carry"):
        clf.fit(pd.DataFrame(values[:, 0]), y)
    numbered = X.set_axis(pd.MultiIndex.from_product([range(12), np.arange(8) * 3600.0]))
    with pytest.raises(InputError, match="stamps are numbers, but the classifier was fitted on stamps that are "
                                         "date-times or durations"):
        clf.predict(numbered)
    with pytest.raises(ValueError, match="timing"):
        LTCClassifier(timing="stamp").fit(X, y)


def test_a_samples_channels_must_share_their_stamps():
    a, b = pd.Series([1.0, 2.0, 3.0], index=[0.0, 1.0, 2.0]), pd.Series([1.0, 2.0, 3.0], index=[0.0, 1.5, 2.0])
    X = pd.DataFrame({"u": [a, a, a, a], "v": [a, b, a, a]})
    with pytest.raises(InputError, match=r"sample 1's channels 'u' and 'v' have other time stamps"):
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])
    text = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    with pytest.raises(InputError, match="measure no time"):
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(pd.DataFrame({"u": [text] * 4}), [0, 1, 0, 1])


def test_dates_past_2262_and_mixed_time_zones_are_read():
    # pandas keeps such dates at second resolution; a nanosecond count of them overflowed
    far = pd.DatetimeIndex(np.array(["2500-01-01", "2500-01-02", "2500-01-04"], dtype="datetime64[s]"))
    X = [pd.DataFrame({"v": [0.0, 1.0, 0.0]}, index=far) for _ in range(4)]
    clf = LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])
    assert clf.time_unit_ == 1.5 * 86400  # gaps of 1 and 2 days
    zones = [pd.Timestamp("2026-01-01 00:00", tz="UTC"), pd.Timestamp("2026-01-01 02:00", tz="Europe/Berlin"),
             pd.Timestamp("2026-01-01 03:00", tz="UTC")]  # 00:00, 01:00 and 03:00 UTC
    nested = pd.DataFrame({"v": [pd.Series([0.0, 1.0, 0.0], index=pd.Index(zones, dtype=object))] * 4})
    assert LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(nested, [0, 1, 0, 1]).time_unit_ == 5400.0


def test_gaps_beyond_float32s_range_ask_for_float64():
    stamps = np.array([0.0, 1e-35, 1.0, 2.0])
    X = [pd.DataFrame({"v": [0.0, 1.0, 0.0, 1.0]}, index=stamps) for _ in range(4)]
    with pytest.raises(InputError, match=r"lengths range from 1e-35 to 1 times the fit's median gap, beyond what "
                                         r"float32 computes safely .*precision='64-true'"):
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])
    clf = LTCClassifier(max_epochs=1, timing="stamps", precision="64-true", **LTC).fit(X, [0, 1, 0, 1])
    assert np.isfinite(clf.predict_proba(X)).all()


def test_series_without_stamps_are_told_what_to_give():
    arrays = pd.DataFrame({"v": [np.arange(4.0)] * 4})
    with pytest.raises(InputError, match=r"which X's cells \(arrays or lists, not pd.Series indexed by time\)"):
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(arrays, [0, 1, 0, 1])
    series = [pd.Series([0.0, 1.0, 0.0], index=[0.0, 0.5, 2.0])] * 4  # a list of series: one channel
    assert LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(series, [0, 1, 0, 1]).time_unit_ == 1.0


def frames(index, n=4):
    return [pd.DataFrame({"v": np.arange(len(index), dtype=float) % 2}, index=index) for _ in range(n)]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_date_times_of_every_resolution_count_seconds(unit):
    # pandas keeps date-times at s, ms, us or ns resolution: the unit is seconds in each
    stamps = pd.DatetimeIndex(np.array(["2026-01-01T00:00", "2026-01-01T01:00", "2026-01-01T03:00"],
                                       dtype=f"datetime64[{unit}]"))
    assert stamps.unit == unit
    clf = LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(frames(stamps), [0, 1, 0, 1])
    assert clf.time_unit_ == 5400.0
    durations = pd.TimedeltaIndex(stamps - stamps[0])
    assert LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(frames(durations), [0, 1, 0, 1]).time_unit_ == 5400.0


def test_samples_with_stamps_of_different_kinds_are_refused():
    dates = pd.date_range("2026-01-01", periods=3, freq="h")
    X = frames(dates, 2) + frames(pd.Index([0.0, 1.0, 2.0]), 2)
    with pytest.raises(InputError, match="stamps of different kinds"):
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])


def test_periods_of_another_frequency_are_refused_at_predict():
    daily = pd.period_range("2026-01-01", periods=4, freq="D")
    clf = LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(frames(daily), [0, 1, 0, 1])
    assert clf.stamp_kind_ == "periods of D"
    monthly = pd.period_range("2026-01", periods=4, freq="M")
    with pytest.raises(InputError, match="stamps are periods of M, but the classifier was fitted on stamps that are "
                                         "periods of D"):
        clf.predict(frames(monthly))


def test_boolean_stamps_measure_no_time():
    with pytest.raises(InputError, match="dtype bool .*measure no time"):
        nested = pd.DataFrame({"v": [pd.Series([0.0, 1.0], index=[False, True])] * 4})  # read by sktime
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(nested, [0, 1, 0, 1])


def test_the_timing_of_the_fit_is_the_one_predict_reads():
    # set_params after fit does not change how the fitted network reads X (as other fitted params)
    X = frames(pd.Index([0.0, 1.0, 3.0]))
    clf = LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])
    before = clf.predict_proba(X)
    clf.set_params(timing="steps")
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize("stamps", [{"time_unit": 0.0, "kind": "numbers"}, {"time_unit": -2.0, "kind": "numbers"},
                                    {"time_unit": "1", "kind": "numbers"}, {"time_unit": 1.0, "kind": 3},
                                    {"time_unit": 1.0}, [1.0, "numbers"]])
def test_a_saved_unit_that_is_no_positive_number_or_a_kind_that_is_no_text_is_refused(tmp_path, stamps):
    X = frames(pd.Index([0.0, 1.0, 3.0]))
    LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1]).save(tmp_path / "clf")
    edit_config(tmp_path / "clf", lambda config: config["fitted"].__setitem__("stamps", stamps))
    with pytest.raises(LoadError, match="reads stamps .*time unit > 0 and a kind"):
        tsrec.load(tmp_path / "clf")


def test_a_gap_too_long_for_float32_asks_for_float64_and_the_safe_range_is_named():
    # 1e40 median gaps is inf in float32: refused with the advice, not left to the solver's NaN/inf refusal
    X = [pd.DataFrame({"v": [0.0, 1.0, 0.0, 1.0]}, index=np.array([0.0, 1.0, 2.0, 1e40])) for _ in range(4)]
    with pytest.raises(InputError, match=r"lengths range from 1 to 1e\+40 times the fit's median gap, beyond what "
                                         r"float32 computes safely \(1e-29 to 8e\+28\); fit with precision='64-true'"):
        LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])
    # inside the range float32 reads them: a gap 1e-20 times the median
    X = [pd.DataFrame({"v": [0.0, 1.0, 0.0, 1.0]}, index=np.array([0.0, 1e-20, 1.0, 2.0])) for _ in range(4)]
    clf = LTCClassifier(max_epochs=1, timing="stamps", **LTC).fit(X, [0, 1, 0, 1])
    assert np.isfinite(clf.predict_proba(X)).all()
