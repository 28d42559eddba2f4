"""Saves that succeed must load, and a save that cannot must fail before it writes, saying why:
dateutil time zones, step counts beyond what load accepts, and a weights write that fails (a full disk)."""

from __future__ import annotations

import errno

import dateutil.tz
import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster, CycleNetForecaster
from tsrec.persistence import load


@pytest.mark.parametrize("tz", [dateutil.tz.tzutc(), dateutil.tz.tzoffset(None, 3600), "dateutil/UTC"],
                         ids=["tzutc", "tzoffset", "dateutil/UTC"])
def test_a_dateutil_time_zone_loads_with_the_same_stamps(tmp_path, tz):
    # str(tz) ("tzutc()", "tzoffset(None, 3600)") was saved as the zone's name, which load could not
    # read: a saved model that never loaded, reported as a damaged folder
    y = pd.Series(np.sin(np.arange(40.0)), index=pd.date_range("2024-01-01", periods=40, freq="h", tz=tz))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    est.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    expected, got = est.predict(), loaded.predict()
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    pd.testing.assert_index_equal(got.index.tz_localize(None), expected.index.tz_localize(None))
    assert (got.index == expected.index).all()  # the same instants


def test_a_dateutil_zone_in_a_panel_loads(tmp_path):
    # the panel's fast path wrote str(level.tz) too
    idx = pd.date_range("2024-01-01", periods=30, freq="D", tz=dateutil.tz.tzoffset(None, -7200))
    y = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(30.0)) + i}, index=idx) for i, k in enumerate("ab")})
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    est.save(tmp_path / "m")
    np.testing.assert_array_equal(load(tmp_path / "m").predict().to_numpy(), est.predict().to_numpy())


@pytest.mark.parametrize("index", [pd.RangeIndex(2**53, 2**53 + 40), pd.date_range("2024", periods=40, freq="100ns")],
                         ids=["int-index", "100ns-steps"])
def test_a_step_count_load_refuses_is_refused_by_save_before_it_writes(tmp_path, index):
    # save wrote last_position > 2**53, which load refuses as "not written by tsrec"; the refusal must come at
    # save, before an earlier save is replaced by a folder that cannot be loaded
    small = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(np.sin(np.arange(40.0)), fh=[1, 2])
    small.save(tmp_path / "m")
    y = pd.Series(np.sin(np.arange(40.0)), index=index)
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y, fh=[1, 2])
    with pytest.raises(ValueError, match=r"cannot save: .*beyond 2\*\*53"):
        est.save(tmp_path / "m")
    np.testing.assert_array_equal(load(tmp_path / "m").predict(), small.predict())


def test_a_weights_write_that_fails_is_an_oserror_naming_the_path(tmp_path, monkeypatch):
    # safetensors reports a full disk as its own SafetensorError ("I/O error: No space left on device (os error
    # 28)"), which escaped raw, naming neither the path nor the fix; a config.json write or the zip format say both
    from safetensors import SafetensorError

    import tsrec.estimators._folder as folder

    def full_disk(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    y = pd.Series(np.sin(np.arange(300.0)), index=pd.date_range("2024", periods=300, freq="h"))
    est = CycleNetForecaster(lookback=8, horizon=2, max_epochs=1).fit(y, fh=[1])
    monkeypatch.setattr(folder, "save_arrays", full_disk)
    monkeypatch.setattr(folder, "save_file", full_disk)
    with pytest.raises(OSError, match=r"cannot save to .*m: No space left on device; free space") as info:
        est.save(tmp_path / "m")
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_a_fixed_offset_named_like_a_zone_loads_at_its_offset(tmp_path):
    # str(datetime.timezone(+1h, "CET")) is "CET", which pandas reads as Central European Time, with summer time
    import datetime

    fixed = datetime.timezone(datetime.timedelta(hours=1), "CET")
    y = pd.Series(np.sin(np.arange(40.0)), index=pd.date_range("2024-07-01", periods=40, freq="h", tz=fixed))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    est.save(tmp_path / "m")
    got, expected = load(tmp_path / "m").predict(), est.predict()
    pd.testing.assert_index_equal(got.index.tz_localize(None), expected.index.tz_localize(None))
    assert (got.index == expected.index).all()


def test_a_panel_whose_series_start_apart_has_a_cutoff_with_its_step_fitted_updated_and_loaded(tmp_path):
    # pandas left the panel's stamps without a freq, so sktime's cutoff had none: fh.to_absolute(est.cutoff) failed
    # inside sktime (int * None), while the model loaded from its folder had freq D
    y = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(60.0)) + i},
                                   index=pd.date_range(f"2024-01-0{i + 1}", periods=60, freq="D"))
                   for i, k in enumerate("abc")})
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    assert est.cutoff.freq == "D"
    assert list(est.fh.to_absolute(est.cutoff)) == list(pd.date_range("2024-03-03", periods=2, freq="D"))
    loaded = load(est.save(tmp_path / "m"))
    pd.testing.assert_index_equal(loaded.cutoff, est.cutoff, exact=True)
    assert loaded.cutoff.freq == est.cutoff.freq
    new = pd.DataFrame({"y": [0.5]}, index=pd.MultiIndex.from_tuples([("c", pd.Timestamp("2024-03-03"))]))
    est.update(new, update_params=False)
    assert est.cutoff[0] == pd.Timestamp("2024-03-03") and est.cutoff.freq == "D"


def test_an_update_of_a_panel_whose_levels_carry_no_freq_keeps_the_cutoffs_step():
    # series a month apart: the panel's time level has no freq, so sktime's cutoff after update had none
    # (update's own cutoff_with_step); fh.to_absolute(est.cutoff) then failed inside sktime (int * None)
    y = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(30.0)) + i}, index=pd.date_range(start, periods=30, freq="D"))
                   for i, (k, start) in enumerate(zip("ab", ["2024-01-01", "2024-03-01"]))})
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    new = pd.DataFrame({"y": [0.5]}, index=pd.MultiIndex.from_tuples([("b", pd.Timestamp("2024-03-31"))]))
    est.update(new, update_params=False)
    assert est.cutoff[0] == pd.Timestamp("2024-03-31") and est.cutoff.freq == "D"
    assert list(est.fh.to_absolute(est.cutoff)) == list(pd.date_range("2024-04-01", periods=2, freq="D"))


def test_a_step_count_beyond_what_load_reads_names_the_series_of_a_panel_only(tmp_path):
    # the refusal names the series whose last stamp is too far (a panel's), and no series for a single one
    from tsrec.estimators import ARNetForecaster

    single = pd.Series(np.sin(np.arange(40.0)), index=pd.RangeIndex(2**53, 2**53 + 40))
    est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(single, fh=[1, 2])
    with pytest.raises(ValueError, match=r"^cannot save: the last time stamp is step \d+ of its time grid, beyond 2\*\*53"):
        est.save(tmp_path / "m")
    y = pd.concat({"a": pd.DataFrame({"y": np.sin(np.arange(40.0))}),
                   "b": pd.DataFrame({"y": np.cos(np.arange(40.0))}, index=pd.RangeIndex(2**53, 2**53 + 40))})
    panel = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(y, fh=[1, 2])
    with pytest.raises(ValueError, match=r"^cannot save: the last time stamp of series 'b' is step \d+ of its time grid"):
        panel.save(tmp_path / "m")


def test_a_panel_of_mixed_steps_gets_no_cutoff_step():
    # the cutoff takes the series' step only where they share one: of D and 2D neither is the panel's
    import warnings

    y = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(30.0)) + i},
                                   index=pd.date_range("2024-01-01", periods=30, freq=freq))
                   for i, (k, freq) in enumerate(zip("ab", ["D", "2D"]))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MixedStepsWarning
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, fh=[1, 2])
    assert est.cutoff[0] == pd.Timestamp("2024-02-28") and est.cutoff.freq is None


def test_a_last_step_of_2_to_the_53_saves_and_one_more_is_refused(tmp_path):
    # save refuses exactly what load refuses (abs(position) > 2**53): not one step earlier or later
    from tsrec.persistence import load

    at = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(
        pd.Series(np.sin(np.arange(40.0)), index=pd.RangeIndex(2**53 - 39, 2**53 + 1)), fh=[1, 2])
    assert load(at.save(tmp_path / "at")).cutoff[0] == 2**53
    over = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(
        pd.Series(np.sin(np.arange(40.0)), index=pd.RangeIndex(2**53 - 38, 2**53 + 2)), fh=[1, 2])
    with pytest.raises(ValueError, match=r"cannot save: the last time stamp is step 9007199254740993 "):
        over.save(tmp_path / "over")
    assert not (tmp_path / "over").exists()
