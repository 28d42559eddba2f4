"""Updates and saved forecasters at their edges: panels on no one grid, swapped columns, forged saved
steps and scalers, exact float64 weights, the caller's random stream (each pinned by a mutant that lived)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import tsrec
from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError, LoadError


def _tiny(y: object, **fit: object) -> ARNetForecaster:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0).fit(y, **fit)


def _daily(n: int, start: str = "2020-01-01", **columns: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.date_range(start, periods=n, freq="D"))


def test_update_refuses_a_multivariate_frame_whose_columns_are_swapped() -> None:
    """u11: check_variates must compare a frame's column names (named=True for frames)."""
    est = _tiny(_daily(30, a=np.sin(np.arange(30.0)), b=np.cos(np.arange(30.0))), fh=[1])
    new = _daily(2, "2020-01-31", b=np.array([0.1, 0.2]), a=np.array([0.3, 0.4]))
    with pytest.raises(InputError, match=r"variates \['b', 'a'\] but the forecaster was fitted on"):
        est.update(new, update_params=False)
    assert est.cutoff[0] == pd.Timestamp("2020-01-30")


def test_update_predict_panel_at_other_times_of_day_gets_no_missing_stamps() -> None:
    """u7: a panel whose series lie at other times of day has no one daily grid: its stamps must not be
    mapped onto a midnight grid (the 12:00 stamps would become NaT)."""
    from tsrec.estimators._updates import with_fitted_freq

    parts = {"a": _daily(30, v=np.sin(np.arange(30.0))), "b": _daily(30, "2020-01-01 12:00", v=np.cos(np.arange(30.0)))}
    est = _tiny(pd.concat(parts, names=["id", "t"]), fh=[1])
    new = pd.concat({"a": pd.DataFrame({"v": [0.1, 0.2, 0.3]}, index=pd.DatetimeIndex(
                         ["2020-01-31", "2020-02-01", "2020-02-02"])),
                     "b": pd.DataFrame({"v": [0.1, 0.2, 0.3]}, index=pd.DatetimeIndex(
                         ["2020-01-31 12:00", "2020-02-01 12:00", "2020-02-02 12:00"]))}, names=["id", "t"])
    try:
        out = with_fitted_freq(new, est)
    except InputError as err:  # with fix.patch: a clear refusal
        assert "no one grid of the fitted step D" in str(err)
        return
    assert out.index.equals(new.index)
    assert not out.index.get_level_values(-1).hasnans


def test_update_refuses_rows_beyond_float32_once_standardised_and_keeps_the_model() -> None:
    """u13: update's rows are checked against float32 at the fitted scale before anything is stored."""
    est = _tiny(pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D")), fh=[1])
    new = pd.Series([1e300, 0.0], index=pd.date_range("2020-01-31", periods=2, freq="D"))
    with pytest.raises(InputError, match=r"update's y's values lie too far from the training data's scale"):
        est.update(new, update_params=False)
    assert len(est._y) == 30 and est.cutoff[0] == pd.Timestamp("2020-01-30")


def test_a_series_update_after_a_frame_update_forecasts_under_the_fitted_name() -> None:
    """u14: after a frame update sktime's converter store has no name; a Series update takes the fitted one."""
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D"), name="v")
    est = _tiny(y, fh=[1])
    est.update(pd.DataFrame({"v": [0.1]}, index=pd.date_range("2020-01-31", periods=1)), update_params=False)
    est.update(pd.Series([0.2], index=pd.date_range("2020-02-01", periods=1), name="w"), update_params=False)
    forecast = est.predict()
    assert isinstance(forecast, pd.Series)
    assert forecast.name == "v"


def test_update_predict_without_reset_moves_the_forecaster_to_the_end_of_y() -> None:
    """u21: reset_forecaster=False updates this forecaster itself (sktime's True works on a copy)."""
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D"))
    est = _tiny(y, fh=[1])
    new = pd.Series([0.1, 0.2, 0.3], index=pd.date_range("2020-01-31", periods=3, freq="D"))
    forecasts = est.update_predict(new, update_params=False, reset_forecaster=False)
    assert list(forecasts.index) == list(pd.date_range("2020-02-01", periods=2, freq="D"))
    # sktime's windows stop one row short: the last row is what the last window forecasts
    assert est.cutoff[0] == pd.Timestamp("2020-02-01")
    assert len(est._y) == 32


def test_an_update_of_a_panel_whose_series_lie_apart_keeps_the_cutoffs_step() -> None:
    """u24: the panel's time level (a gap between the series) carries no freq; the cutoff keeps the fitted step,
    as that of the same model loaded from its folder does (sktime's fh.to_absolute needs it)."""
    from sktime.forecasting.base import ForecastingHorizon

    parts = {"a": _daily(30, v=np.sin(np.arange(30.0))), "b": _daily(30, "2020-03-01", v=np.cos(np.arange(30.0)))}
    est = _tiny(pd.concat(parts, names=["id", "t"]), fh=[1, 2])
    new = pd.concat({"a": pd.DataFrame({"v": [0.1, 0.2]}, index=pd.DatetimeIndex(["2020-01-31", "2020-02-01"]))},
                    names=["id", "t"])
    est.update(new, update_params=False)
    assert est.cutoff.freq == pd.offsets.Day()
    absolute = ForecastingHorizon([1, 2], is_relative=True).to_absolute(est.cutoff)
    assert list(absolute.to_pandas()) == [pd.Timestamp("2020-03-31"), pd.Timestamp("2020-04-01")]


def test_unchanged_on_error_restores_the_forecaster_after_a_keyboard_interrupt() -> None:
    """u27: an interrupt (Ctrl-C during a refit) is a BaseException, not an Exception: the state comes back too."""
    from tsrec.estimators._updates import unchanged_on_error

    est = _tiny(pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D")), fh=[1])
    stored = est._y
    with pytest.raises(KeyboardInterrupt):
        with unchanged_on_error(est):
            est._y = stored.iloc[:10]
            raise KeyboardInterrupt
    assert est._y is stored


def test_update_takes_rows_in_another_zone_as_the_same_instants_across_a_clock_change() -> None:
    """u10: update's rows in UTC of a model fitted on Berlin midnights are read in the fitted zone (their days
    take 23 or 25 hours in UTC at a daylight-saving change), as an fh in another zone is."""
    y = pd.Series(np.sin(np.arange(20.0)), index=pd.date_range("2020-03-10", periods=20, freq="D", tz="Europe/Berlin"))
    est = _tiny(y, fh=[1])
    new = pd.Series([0.1, 0.2, 0.3],
                    index=pd.date_range("2020-03-30", periods=3, freq="D", tz="Europe/Berlin").tz_convert("UTC"))
    est.update(new, update_params=False)
    assert est.cutoff[0] == pd.Timestamp("2020-04-01", tz="Europe/Berlin")
    assert list(est.predict().index) == [pd.Timestamp("2020-04-02", tz="Europe/Berlin")]


@pytest.mark.parametrize("spec", [{"int": True}, {"freq": "-1D"}, {"freq": "-2h"}])
def test_a_saved_step_that_is_no_positive_step_is_a_load_error(spec: dict) -> None:
    """s11, s12: a config edited (checksum recomputed) to step by True or backwards is refused on load."""
    from tsrec.estimators._steps import step_from_json

    with pytest.raises(LoadError, match="is no time step tsrec writes"):
        step_from_json(spec)


def test_a_step_whose_json_would_not_load_is_saved_as_none() -> None:
    """s13: step_to_json checks its round trip: DateOffset(months=1)'s freqstr is no frequency pandas reads."""
    from tsrec.estimators._steps import step_to_json

    assert step_to_json(pd.DateOffset(months=1)) is None
    assert step_to_json(pd.offsets.MonthBegin()) == {"freq": "MS"}


def test_custom_business_days_are_saved_with_their_week_mask_and_holidays() -> None:
    """s14: "C" alone would load as Monday to Friday without holidays."""
    from tsrec.estimators._steps import step_from_json, step_to_json

    step = pd.offsets.CustomBusinessDay(weekmask="Mon Tue Wed Thu", holidays=["2020-01-06"])
    spec = step_to_json(step)
    assert spec == {"freq": "C", "weekmask": "Mon Tue Wed Thu", "holidays": ["2020-01-06"]}
    assert step_from_json(spec) == step


def test_numpy_integer_parameters_save_and_load_as_python_integers(tmp_path) -> None:
    """j1: a grid search's np.int64 values are saved as the Python numbers they equal (json cannot write them)."""
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ARNetForecaster(n_lags=np.int64(4), horizon=2, max_epochs=np.int64(1), random_state=0).fit(y, fh=[1])
    est.save(tmp_path / "m")
    loaded = tsrec.load(tmp_path / "m")
    assert loaded.get_params()["n_lags"] == 4 and type(loaded.get_params()["n_lags"]) is int
    assert np.allclose(loaded.predict().to_numpy(), est.predict().to_numpy())


def test_a_fixed_offset_zone_named_like_a_summer_time_zone_is_saved_by_its_offset() -> None:
    """j3: datetime.timezone(+1h, "CET") in winter passes the generic round trip as "CET", which loads as a zone
    with summer time; it is saved by its offset."""
    import datetime

    from tsrec.estimators._saved_json import tz_to_json

    zone = datetime.timezone(datetime.timedelta(hours=1), "CET")
    assert tz_to_json(pd.date_range("2020-01-01", periods=3, freq="D", tz=zone)) == "UTC+01:00"


@pytest.mark.parametrize(("spec", "message"), [
    ({"mean": [0.0, 0.0], "scale": [1.0, 1.0], "var": [1.0, 1.0]}, "one value for each of the 1 channels"),
    ({"mean": [0.0], "scale": [0.0], "var": [0.0]}, "not finite float64 means and positive scales"),
    ({"mean": [0.0], "scale": [1.0], "var": [1.0], "n_samples_seen": 60.5}, "is not a count per channel"),
])
def test_forged_scaler_statistics_are_load_errors(spec: dict, message: str) -> None:
    """j8, j10, j9: a scaler for another channel count, a zero scale, a fractional row count."""
    from tsrec.estimators._saved_json import scaler_from_json

    with pytest.raises(LoadError, match=message):
        scaler_from_json(spec, 1)


def test_a_boolean_last_position_is_a_load_error() -> None:
    """j13: JSON true is a Python bool, an int subclass: no step count."""
    from tsrec.estimators._saved_json import saved_position

    with pytest.raises(LoadError, match="a saved last_position is True, not a step count"):
        saved_position(True)
    assert saved_position(18321) == 18321


def test_a_huge_negative_saved_size_is_refused_as_out_of_range() -> None:
    """p3: the size check takes magnitudes: -2**70 is as far out as 2**70."""
    from tsrec.estimators._saved_params import construct

    with pytest.raises(LoadError, match=r"n_lags=-1180591620717411303424 is far larger than any fitted model's"):
        construct(ARNetForecaster, {"n_lags": -2**70, "horizon": 2})


def test_float64_weights_load_unrounded(tmp_path) -> None:
    """w3: a model fitted with precision="64-true" loads its float64 weights as float64, not rounded to float32."""
    y = pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1, random_state=0, precision="64-true").fit(y, fh=[1])
    est.save(tmp_path / "m")
    loaded = tsrec.load(tmp_path / "m")
    assert {p.dtype for p in loaded.network_.parameters()} == {__import__("torch").float64}
    assert loaded.predict().to_numpy().tolist() == est.predict().to_numpy().tolist()


def test_a_weight_of_another_kind_is_reported_in_the_weights_file(tmp_path) -> None:
    """w5: the LoadError about a tensor names weights.safetensors, not config.json."""
    import hashlib

    import torch
    from safetensors.torch import load_file, save_file

    from tsrec.estimators._folder import _config_sha256

    y = pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D"))
    folder = tmp_path / "m"
    _tiny(y, fh=[1]).save(folder)
    tensors = load_file(str(folder / "weights.safetensors"))
    name = next(key for key in tensors if key.startswith("network."))
    tensors[name] = tensors[name].to(torch.int64)
    save_file(tensors, str(folder / "weights.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    config["weights_sha256"] = hashlib.sha256((folder / "weights.safetensors").read_bytes()).hexdigest()
    config["config_sha256"] = _config_sha256(config)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(LoadError, match=r"weights\.safetensors: the saved tensor network\..* is torch\.int64"):
        tsrec.load(folder)


def test_load_draws_nothing_from_the_callers_torch_generator(tmp_path) -> None:
    """w6: the network's throwaway initial weights are drawn under seed 0, not from the caller's stream."""
    import torch

    y = pd.Series(np.sin(np.arange(30.0)), index=pd.date_range("2020-01-01", periods=30, freq="D"))
    _tiny(y, fh=[1]).save(tmp_path / "m")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tsrec.load(tmp_path / "m")
    assert torch.equal(torch.rand(3), expected)


def test_a_folder_made_meanwhile_by_someone_else_is_not_counted_as_made(tmp_path) -> None:
    """f5: a folder another process makes between the exists check and mkdir is not removed on failure."""
    from pathlib import Path
    from unittest import mock

    from tsrec._files import _make_folders

    real_mkdir = Path.mkdir

    def racing(self: Path, *args: object, **kwargs: object) -> None:
        real_mkdir(self, *args, **kwargs)  # the other process wins the race
        raise FileExistsError(17, "File exists", str(self))

    created: list = []
    with mock.patch.object(Path, "mkdir", racing):
        _make_folders(tmp_path / "a" / "b", created)
    assert created == []
    assert (tmp_path / "a" / "b").is_dir()


def test_an_update_of_a_panel_of_two_steps_gives_the_cutoff_neither_step() -> None:
    """s4: one cutoff freq cannot be both series' steps; cutoff_with_step leaves a mixed panel's cutoff without one."""
    b = pd.DataFrame({"v": np.cos(np.arange(30.0))}, index=pd.date_range("2020-01-01", periods=30, freq="2D"))
    parts = {"a": _daily(30, v=np.sin(np.arange(30.0))), "b": b}
    est = _tiny(pd.concat(parts, names=["id", "t"]), fh=[1])
    new = pd.concat({"a": pd.DataFrame({"v": [0.1, 0.2]}, index=pd.DatetimeIndex(["2020-01-31", "2020-02-01"]))},
                    names=["id", "t"])
    est.update(new, update_params=False)
    assert est.cutoff[0] == pd.Timestamp("2020-02-28")
    assert est.cutoff.freq is None


@pytest.mark.parametrize("b_index, b_new, why", [
    (pd.date_range("2020-01-01 12:00", periods=30, freq="D"),
     pd.DatetimeIndex(["2020-01-31 12:00", "2020-02-01 12:00", "2020-02-02 12:00"]),
     r"lie on no one grid of the fitted step D"),
    (pd.date_range("2020-01-01", periods=30, freq="2D"), pd.DatetimeIndex(["2020-03-01", "2020-03-03", "2020-03-05"]),
     r"the fitted series step differently \(2D, D\)"),
])
def test_update_predict_on_a_panel_no_one_step_walks_says_so_and_what_to_do(b_index, b_new, why) -> None:
    """Series at other times of day, or of other steps, with new rows read without a freq: sktime's shift of the
    cutoff failed with pandas' raw NullFrequencyError ("Cannot shift with no freq")."""
    y = pd.concat({"a": _daily(30, v=np.sin(np.arange(30.0))),
                   "b": pd.DataFrame({"v": np.cos(np.arange(30.0))}, index=b_index)}, names=["id", "t"])
    est = _tiny(y, fh=[1])
    a_new = pd.DataFrame({"v": [0.1, 0.2, 0.3]}, index=pd.DatetimeIndex(["2020-01-31", "2020-02-01", "2020-02-02"]))
    new = pd.concat({"a": a_new, "b": pd.DataFrame({"v": [0.1, 0.2, 0.3]}, index=b_new)}, names=["id", "t"])
    cutoff = est.cutoff
    with pytest.raises(InputError, match=rf"^update_predict cannot step through y: .*{why}.*call update\(y_window\) "
                                         r"and predict\(fh\) for each window instead"):
        est.update_predict(new, update_params=False)
    assert est.cutoff.equals(cutoff)
