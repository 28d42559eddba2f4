"""sktime's other containers of y behave as with sktime's own forecasters (integration audit).

Each case failed before: a numpy3D or df-list panel was refused before sktime could convert it, a
Series named after an update was named None, and the fh messages named the wrong stamps.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sktime.datatypes import convert_to
from sktime.forecasting.base import ForecastingHorizon
from sktime.forecasting.naive import NaiveForecaster

from tsrec.estimators import ARNetForecaster
from tsrec.estimators.errors import InputError, InSampleError

SMALL = dict(n_lags=4, horizon=2, max_epochs=1, random_state=0)


def _panels() -> dict[str, object]:
    values = np.random.default_rng(0).normal(size=(3, 2, 40))  # (series, variates, time)
    return {"numpy3D": values, "df-list": [pd.DataFrame(v.T, columns=["a", "b"]) for v in values]}


@pytest.mark.parametrize("mtype", ["numpy3D", "df-list"])
def test_numpy3d_and_df_list_panels_come_back_as_sktime_gives_them(mtype):
    y = _panels()[mtype]
    est = ARNetForecaster(**SMALL).fit(y, fh=[1, 2])
    forecast = est.predict()
    expected = NaiveForecaster().fit(y, fh=[1, 2]).predict()  # sktime's container, shape and index
    assert type(forecast) is type(expected)
    # the same forecasts as from the same panel in sktime's flat MultiIndex form
    flat = ARNetForecaster(**SMALL).fit(convert_to(y, "pd-multiindex"), fh=[1, 2]).predict()
    if mtype == "numpy3D":
        assert forecast.shape == expected.shape == (3, 2, 2)
        np.testing.assert_array_equal(forecast, convert_to(flat, "numpy3D"))
    else:
        assert [f.index.tolist() for f in forecast] == [e.index.tolist() for e in expected] == [[40, 41]] * 3
        assert all(list(f.columns) == ["a", "b"] for f in forecast)
        np.testing.assert_array_equal(np.stack([f.to_numpy() for f in forecast]), flat.to_numpy().reshape(3, 2, 2))


def test_a_df_list_panel_is_checked_series_by_series():
    parts = _panels()["df-list"]
    parts[1].iloc[3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        ARNetForecaster(**SMALL).fit(parts)
    parts[1] = parts[1].fillna(0.0).rename(columns={"b": "c"})
    with pytest.raises(InputError, match=re.escape("y[1] has columns ['a', 'c'] but y[0] has ['a', 'b']")):
        ARNetForecaster(**SMALL).fit(parts)
    parts[1] = parts[1].iloc[:0]
    with pytest.raises(InputError, match=re.escape("y[1] is empty")):
        ARNetForecaster(**SMALL).fit(parts)
    with pytest.raises(InputError, match="3-D .*numpy3D panel.*got shape"):
        ARNetForecaster(**SMALL).fit(np.zeros((2, 3, 4, 5)))


def test_a_series_with_a_multiindex_is_told_to_be_a_frame():
    y = convert_to(_panels()["numpy3D"], "pd-multiindex").iloc[:, 0]
    with pytest.raises(TypeError,
                       match=re.escape("y is a Series with a MultiIndex; a panel is a DataFrame: pass y.to_frame()")):
        ARNetForecaster(**SMALL).fit(y)


@pytest.mark.parametrize("name", ["v", None])
def test_series_forecasts_keep_the_fitted_name_after_a_frame_update(name):
    # sktime's NaiveForecaster does so too; the name was lost (None) after a frame update
    y = pd.Series(np.sin(np.arange(100) / 4), index=pd.date_range("2024-01-01", periods=100, freq="h"), name=name)
    for make in (lambda: ARNetForecaster(**SMALL), NaiveForecaster):
        est = make().fit(y.iloc[:60], fh=[1])
        est.update(y.iloc[60:65].to_frame(), update_params=False)  # a frame: forecasts are frames
        assert isinstance(est.predict(), pd.DataFrame)
        est.update(y.iloc[65:70], update_params=False)
        assert est.predict().name == name, make
        framed = make().fit(y.iloc[:60].to_frame(), fh=[1])
        framed.update(y.iloc[60:65], update_params=False)
        assert framed.predict().name == name, make


def test_fh_messages_name_the_stamps_that_are_wrong():
    y = pd.Series(np.sin(np.arange(40) / 4), index=pd.date_range("2024-01-01", periods=40, freq="h"))
    est = ARNetForecaster(**SMALL).fit(y)
    end = y.index[-1]
    hours = [end + pd.Timedelta(hours=k) for k in (1, 2)]
    # sktime sorts fh: the earlier in-sample stamp comes first
    with pytest.raises(InSampleError, match=re.escape(f"fh asks for [{end - pd.Timedelta('1h')!r}, {end!r}], which")):
        est.predict(fh=ForecastingHorizon(pd.DatetimeIndex([*hours, end, end - pd.Timedelta("1h")]), is_relative=False))
    off = end + pd.Timedelta(minutes=150)
    with pytest.raises(InputError, match=re.escape(f"fh's time stamps [{off!r}] are not on the time grid")):
        est.predict(fh=ForecastingHorizon(pd.DatetimeIndex([*hours, off]), is_relative=False))


@pytest.mark.parametrize("mtype", ["numpy3D", "df-list"])
def test_an_update_in_the_fitted_panel_form_continues_every_series(mtype):
    values = np.random.default_rng(1).normal(size=(3, 2, 45))
    if mtype == "numpy3D":
        whole, fitted, later = values, values[:, :, :40], values[:, :, 40:]
    else:
        whole = [pd.DataFrame(v.T, columns=["a", "b"]) for v in values]
        fitted, later = [part.iloc[:40] for part in whole], [part.iloc[40:] for part in whole]
    est = ARNetForecaster(**SMALL).fit(fitted, fh=[1, 2]).update(later, update_params=False)
    # the same forecasts as from the whole panel in sktime's flat form, after the same fit
    flat = ARNetForecaster(**SMALL).fit(convert_to(fitted, "pd-multiindex"), fh=[1, 2])
    flat.update(convert_to(whole, "pd-multiindex").groupby(level=0).tail(5), update_params=False)
    expected = flat.predict().to_numpy()
    got = est.predict()
    got = np.concatenate([g.to_numpy() for g in got]) if mtype == "df-list" else got.transpose(0, 2, 1).reshape(-1, 2)
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(InputError,
                       match=r"a 3-D array \(series, variates, time\) holding every fitted series.*got 2 series"):
        ARNetForecaster(**SMALL).fit(values[:, :, :40]).update(values[:2, :, 40:], update_params=False)


@pytest.mark.parametrize(
    "ids",
    [pd.Index(np.array([3, 1], dtype="int32")), pd.CategoricalIndex(["b", "a"], categories=["b", "a", "c"]),
     pd.Index([3, 1], dtype="Int64")],
    ids=["int32", "category", "Int64"],
)
def test_panel_forecasts_keep_the_series_ids_dtype(ids, tmp_path):
    import tsrec

    stamps = pd.date_range("2020-01-01", periods=30)
    values = np.random.default_rng(0).normal(size=60)
    y = pd.DataFrame({"v": values}, index=pd.MultiIndex.from_product([ids, stamps], names=["id", "t"]))
    est = ARNetForecaster(**SMALL).fit(y, fh=[1, 2])
    forecast = est.predict()
    expected = NaiveForecaster().fit(y, fh=[1, 2]).predict()
    assert forecast.index.levels[0].dtype == ids.dtype
    assert forecast.index.equals(expected.index)
    # and after a save and load: the folder keeps the ids' dtype (a categorical's unused categories too)
    pd.testing.assert_frame_equal(tsrec.load(est.save(tmp_path / "model")).predict(), forecast)


def test_probabilistic_columns_of_a_numpy_panel_are_named_as_sktime_names_them():
    from tsrec.estimators import LS4Forecaster

    y = _panels()["numpy3D"]
    est = LS4Forecaster(lookback=8, horizon=2, z_dim=2, d_model=4, d_state=4, n_layers=1, n_samples=4,
                        max_epochs=1, val_size=0, patience=None, random_state=0).fit(y, fh=[1, 2])
    naive = NaiveForecaster().fit(y, fh=[1, 2])
    for method in ("predict_interval", "predict_quantiles", "predict_var"):
        columns = getattr(est, method)().columns
        assert columns.equals(getattr(naive, method)().columns), method
    assert list(est.predict_var().columns) == ["var_0", "var_1"]


def test_an_integer_panel_context_as_an_array_is_refused_with_a_panel_example():
    from tsrec.estimators import CycleNetForecaster

    y = _panels()["numpy3D"]
    est = CycleNetForecaster(lookback=8, horizon=2, cycle_length=4, max_epochs=1, val_size=0,
                             patience=None, random_state=0).fit(y, fh=[1, 2])
    with pytest.raises(InputError, match=r"pd-multiindex frame whose last index level holds each series' positions"):
        est.predict(y=y)


def test_a_panel_that_json_cannot_hold_says_how_to_save_it(tmp_path):
    stamps = pd.date_range("2020-01-01", periods=30)
    ids = pd.to_datetime(["2001-01-01", "2002-01-01"])
    y = pd.DataFrame({"v": np.arange(60.0)}, index=pd.MultiIndex.from_product([ids, stamps]))
    est = ARNetForecaster(**SMALL).fit(y, fh=[1, 2])
    with pytest.raises(ValueError, match=r"serialization_format='pickle'"):
        est.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def _hourly_frame(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame({"v": np.sin(np.arange(n) / 3.0)}, index=pd.date_range("2024-01-01", periods=n, freq="h"))


def _with_a_missing_stamp(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = list(frame.index)
    stamps[-1] = pd.NaT
    return frame.set_axis(pd.DatetimeIndex(stamps))


@pytest.mark.parametrize("second, message", [
    (_with_a_missing_stamp(_hourly_frame()),
     r"^y\[1\] has missing time stamps \(NaT\) at rows \[29\]; drop those rows"),
    (_hourly_frame().iloc[::-1],
     r"^y\[1\] time stamps are not sorted; sort it first \(e\.g\. y\[1\]\.sort_index\(\)\)"),
    (_hourly_frame().rename(columns={"v": "w"}), r"^y\[1\] has columns \['w'\] but y\[0\] has \['v'\]; give every"),
    (_hourly_frame().tz_localize("Europe/Paris"),
     r"^y\[1\]'s time stamps are in Europe/Paris but y\[0\]'s are naive; give every frame the same zone, "
     r"e\.g\. y\[1\]\.tz_localize\(None\)$"),
])
def test_a_df_list_whose_frame_sktime_refuses_is_told_which_frame_and_why(second, message):
    # sktime's refusal of the list listed every container's complaint and named no frame
    with pytest.raises(InputError, match=message):
        ARNetForecaster(**SMALL).fit([_hourly_frame(), second])


def test_a_df_list_of_naive_and_utc_frames_is_told_the_one_utc_fix():
    # naive stamps read as wall-clock times in UTC or as UTC are the same: one fix, not two
    first = _hourly_frame().tz_localize("UTC")
    with pytest.raises(InputError, match=r"^y\[1\]'s time stamps are naive but y\[0\]'s are in UTC; give every "
                                         r"frame the same zone, e\.g\. y\[1\]\.tz_localize\('UTC'\)$"):
        ARNetForecaster(**SMALL).fit([first, _hourly_frame()])
    fitted = ARNetForecaster(**SMALL).fit([first, _hourly_frame().tz_localize("UTC")])
    assert fitted.predict(fh=[1])[0].index[0].tz is not None  # the fix fits



def _stamps_in_two_zones(second_zone: str | None) -> list:
    paris = pd.date_range("2024-01-01", periods=30, freq="h", tz="Europe/Paris")
    other = pd.date_range("2024-01-01", periods=30, freq="h", tz=second_zone)
    return list(paris) + list(other)


@pytest.mark.parametrize("second_zone, naive", [("UTC", False), (None, True)])
def test_a_panel_of_stamps_in_several_zones_is_told_the_conversion_that_works(second_zone, naive):
    # pandas keeps such stamps as objects and pd.to_datetime without utc=True refuses them, so the
    # general advice for an object index (pd.to_datetime) did not help
    stamps = pd.Index(_stamps_in_two_zones(second_zone), dtype=object)
    index = pd.MultiIndex.from_arrays([["a"] * 30 + ["b"] * 30, stamps])
    y = pd.DataFrame({"v": np.sin(np.arange(60) / 3.0)}, index=index)
    zones = "Europe/Paris, naive" if naive else "Europe/Paris, UTC"
    fix = ("y.index = pd.MultiIndex.from_arrays([y.index.get_level_values(0), "
           "pd.to_datetime(y.index.get_level_values(1), utc=True)])")
    with pytest.raises(InputError) as refused:
        ARNetForecaster(**SMALL).fit(y)
    message = str(refused.value)
    assert message.startswith(f"y's time stamps are in several time zones ({zones}), so pandas keeps them as objects")
    assert fix in message and ("reading naive stamps as UTC" in message) == naive
    exec(fix, {"pd": pd, "y": y})  # the advice runs and gives a panel the forecaster fits
    assert str(y.index.levels[1].dtype).endswith("UTC]")
    ARNetForecaster(**SMALL).fit(y)


def test_a_series_of_stamps_in_several_zones_is_told_the_conversion_that_works():
    y = pd.Series(np.arange(60.0), index=pd.Index(_stamps_in_two_zones("UTC"), dtype=object))
    with pytest.raises(InputError, match=r"^y's time stamps are in several time zones \(Europe/Paris, UTC\), .*"
                                         r"e\.g\. in UTC: y\.index = pd\.to_datetime\(y\.index, utc=True\)$"):
        ARNetForecaster(**SMALL).fit(y)


def test_an_object_index_of_stamps_in_one_zone_keeps_the_general_advice():
    stamps = pd.Index(list(pd.date_range("2024-01-01", periods=30, freq="h")), dtype=object)
    y = pd.Series(np.arange(30.0), index=stamps)
    with pytest.raises(TypeError, match=r"holds values of dtype object .*use a DatetimeIndex \(pd\.to_datetime\)"):
        ARNetForecaster(**SMALL).fit(y)


def test_a_nested_univ_panel_with_named_series_is_forecast_at_its_stamps():
    # the frame's index holds the series ids: "a" and "b" were refused as time stamps read as strings
    stamps = pd.date_range("2024-01-01", periods=40, freq="h")
    flat = pd.concat({"a": pd.Series(np.sin(np.arange(40) / 3), stamps),
                      "b": pd.Series(np.cos(np.arange(40) / 3) + 5, stamps + pd.Timedelta("3h"))}).to_frame("y")
    nested = convert_to(flat, "nested_univ")
    forecast = ARNetForecaster(**SMALL).fit(nested, fh=[1, 2]).predict()
    expected = ARNetForecaster(**SMALL).fit(flat, fh=[1, 2]).predict()
    assert list(forecast.index) == ["a", "b"]
    for key in ["a", "b"]:
        pd.testing.assert_series_equal(forecast.loc[key, "y"], expected.loc[key, "y"], check_names=False,
                                       check_freq=False)
