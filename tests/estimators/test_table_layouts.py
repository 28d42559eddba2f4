"""A long table given in the wrong layout (time first, the series id or the dates left as columns) is
told the layout that works, and the advised code runs: the fixes told before led to further errors or
merged the series."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators import ARNetForecaster
from tsrec.estimators._series import check_raw_y
from tsrec.estimators.errors import InputError

DAYS = pd.date_range("2024-01-01", periods=30, freq="D")
LONG = pd.concat([pd.DataFrame({"inst": f"s{i}", "time": DAYS, "v": np.sin(np.arange(30) / 3.0 + i)})
                  for i in range(3)], ignore_index=True)


def _run_advice(message: str, y: pd.DataFrame) -> pd.DataFrame:
    """The ``y = ...`` the message advises, run on ``y``."""
    code = re.search(r"y = (.*?\)\.sort_index\(\)|.*?\.drop\(columns='\w+'\))", message).group(1)
    return eval(code, {"pd": pd, "y": y})  # noqa: S307 - the advice, run


def _panel_fits(y: pd.DataFrame) -> None:
    check_raw_y(y)
    forecast = ARNetForecaster(n_lags=3, horizon=1, max_epochs=1).fit(y, fh=[1]).predict()
    assert forecast.index.get_level_values(0).tolist() == ["s0", "s1", "s2"]


@pytest.mark.parametrize("names", [["time", "inst"], [None, None]])
def test_time_as_the_first_level_is_told_to_reorder_the_levels(names):
    y = LONG.set_index(["time", "inst"]).sort_index().rename_axis(names)
    where = "'time'" if names[0] else "0"
    with pytest.raises(InputError, match=f"time stamps are in level {where} of its MultiIndex.*reorder"):
        check_raw_y(y)  # the strings-to-dates fix told before failed on the ids: "Unknown datetime string format"
    with pytest.raises(InputError) as raised:
        check_raw_y(y)
    _panel_fits(_run_advice(str(raised.value), y))


def test_a_series_id_column_is_told_to_become_the_first_index_level():
    y = LONG.set_index("time")
    with pytest.raises(TypeError, match="column 'inst' whose values repeat over repeated time stamps") as raised:
        check_raw_y(y)  # "drop them" led to duplicate stamps, whose fix merged the series
    _panel_fits(_run_advice(str(raised.value), y))
    with pytest.raises(InputError, match="duplicate time stamps .*if the rows belong to several series"):
        check_raw_y(y.drop(columns="inst"))


@pytest.mark.parametrize("as_dates", [False, True])
def test_a_date_column_read_without_index_col_is_told_to_become_the_index(as_dates):
    table = LONG[LONG.inst == "s0"].drop(columns="inst").reset_index(drop=True)
    y = table if as_dates else table.assign(time=table.time.astype(str))  # pd.read_csv reads dates as text
    with pytest.raises(TypeError, match=r"y's column 'time' holds time stamps: make it the time index") as raised:
        check_raw_y(y)  # "drop them" lost the time stamps
    fixed = _run_advice(str(raised.value), y)
    assert isinstance(fixed.index, pd.DatetimeIndex) and list(fixed.columns) == ["v"]
    check_raw_y(fixed)


@pytest.mark.parametrize("as_dates", [False, True])
@pytest.mark.parametrize("shuffled", [False, True])
def test_a_long_table_with_its_ids_is_told_both_index_levels_at_once(as_dates, shuffled):
    # neuralforecast's (unique_id, ds, y) table: told to index by the stamps alone, it then met the ids
    # as duplicate stamps, a second error before the layout that works
    y = LONG if as_dates else LONG.assign(time=LONG.time.astype(str))
    y = y.sample(frac=1, random_state=0) if shuffled else y
    with pytest.raises(TypeError, match=r"y is a long table: if 'inst' names the series and 'time' holds the time "
                                        r"stamps, make them its index") as raised:
        check_raw_y(y)
    _panel_fits(_run_advice(str(raised.value), y))


@pytest.mark.parametrize("steps", [False, True])
def test_a_long_table_with_a_repeated_row_is_told_the_layout_and_to_drop_the_repeat(steps):
    # one row appended twice hid the layout: the message said "make 'time' the index", whose stamps then repeated
    y = LONG.assign(time=np.tile(np.arange(30), 3)) if steps else LONG
    y = pd.concat([y, y.iloc[[4, 40]]], ignore_index=True)
    repeat = r"; 2 row\(s\) repeat a \('inst', 'time'\) pair.*y = y\.drop_duplicates\(\['inst', 'time'\]\)"
    with pytest.raises(TypeError, match=r"y is a long table: if 'inst' names the series .*" + repeat) as raised:
        check_raw_y(y)
    message = str(raised.value)
    deduplicated = eval(re.search(r"y = (y\.drop_duplicates\(.*?\]\))", message).group(1), {"y": y})  # noqa: S307
    _panel_fits(_run_advice(message, deduplicated))


def test_a_table_of_many_repeated_rows_is_not_read_as_a_long_table():
    # a third of the rows repeated: no layout a set_index fixes; the plain message stays
    y = pd.concat([LONG, LONG.iloc[:30]], ignore_index=True)
    with pytest.raises(TypeError) as raised:
        check_raw_y(y)
    assert "is a long table" not in str(raised.value)
    # up to a tenth of the rows repeated (10 of 100 here) is still a long table with a few rows appended twice
    with pytest.raises(TypeError, match=r"y is a long table: .*; 10 row\(s\) repeat a \('inst', 'time'\) pair"):
        check_raw_y(pd.concat([LONG, LONG.iloc[:10]], ignore_index=True))


def _steps_long() -> pd.DataFrame:
    return LONG.assign(time=np.tile(np.arange(30), 3))  # integer steps, as neuralforecast takes them


LAYOUTS = {
    # told "drop them", the user fitted the integer stamps as a target and the series as one (no error)
    "integer steps": (_steps_long, ["s0", "s1", "s2"]),
    "periods": (lambda: LONG.assign(time=LONG.time.dt.to_period("D")), ["s0", "s1", "s2"]),
    "categorical dates": (lambda: LONG.assign(time=LONG.time.astype(str).astype("category")), ["s0", "s1", "s2"]),
    # store numbers read as years were taken for the stamps: the advice built a transposed model
    "year-like ids": (lambda: LONG.assign(inst=LONG.inst.map({"s0": "2000", "s1": "2001", "s2": "2002"})),
                      ["2000", "2001", "2002"]),
    "year-like ids, text dates": (lambda: LONG.assign(inst=LONG.inst.str.replace("s", "201"),
                                                      time=LONG.time.astype(str)), ["2010", "2011", "2012"]),
    # (region, store): one column alone tells no series apart
    "two id columns": (lambda: LONG.assign(region=LONG.inst.map({"s0": "n", "s1": "n", "s2": "s"}),
                                           inst=LONG.inst.map({"s0": "a", "s1": "b", "s2": "a"}))[
        ["region", "inst", "time", "v"]], [("n", "a"), ("n", "b"), ("s", "a")]),
    "two id columns, stamps as the index": (lambda: LAYOUTS["two id columns"][0]().set_index("time"),
                                            [("n", "a"), ("n", "b"), ("s", "a")]),
    "ids as the index, integer steps": (lambda: _steps_long().set_index("inst"), ["s0", "s1", "s2"]),
    # numbers are ids only beside date stamps: the stamps alone as the index met them next as duplicates
    "integer ids": (lambda: LONG.assign(inst=LONG.inst.str[1:].astype(int)), [0, 1, 2]),
    "whole-number float ids": (lambda: LONG.assign(inst=LONG.inst.str[1:].astype(float)), [0.0, 1.0, 2.0]),
    # integer ids as the index were taken for steps: told to index by the dates alone, the ids were lost
    "integer ids as the index": (lambda: LONG.assign(inst=LONG.inst.str[1:].astype(int)).set_index("inst"),
                                 [0, 1, 2]),
    # a daylight-saving zone's offsets differ: pd.to_datetime refused them without utc=True
    "stamps with two offsets": (lambda: LONG.assign(time=np.tile(pd.date_range(
        "2024-03-30 12:00", periods=30, freq="h", tz="Europe/Berlin").strftime("%Y-%m-%dT%H:%M:%S%z"), 3)),
        ["s0", "s1", "s2"]),
    "stamps in two formats": (lambda: LONG.assign(time=[t.strftime("%Y-%m-%d" if i % 2 else "%d %B %Y")
                                                        for i, t in enumerate(LONG.time)]), ["s0", "s1", "s2"]),
    # numbered categories read as dates became nanoseconds after 1970
    "years as numbered categories": (lambda: LONG.assign(time=pd.Categorical(LONG.time.dt.year * 0 + np.tile(
        np.arange(1990, 2020), 3))), ["s0", "s1", "s2"]),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_long_layout_is_told_advice_that_fits_its_series(layout):
    make, series = LAYOUTS[layout]
    y = make()
    with pytest.raises(TypeError, match="if .* names? the series|may hold series ids") as raised:
        check_raw_y(y)
    fixed = _run_advice(str(raised.value), y)
    check_raw_y(fixed)
    forecast = ARNetForecaster(n_lags=3, horizon=1, max_epochs=1).fit(fixed, fh=[1]).predict()
    assert forecast.index.droplevel(-1).tolist() == series and list(forecast.columns) == ["v"]


@pytest.mark.parametrize("as_dates", [False, True])
def test_ids_as_the_index_beside_a_date_column_are_told_to_append_the_stamps(as_dates):
    # neuralforecast's older layout; told the strings-to-dates fix, the user met "Unknown datetime string format"
    y = (LONG if as_dates else LONG.assign(time=LONG.time.astype(str))).set_index("inst")
    with pytest.raises(TypeError, match=r"y's index may hold series ids \(e.g. 's0'\) and its column 'time' the "
                                        r"time stamps; if so, make them its index") as raised:
        check_raw_y(y)
    _panel_fits(_run_advice(str(raised.value), y))


def test_ids_as_the_index_with_a_row_twice_are_not_told_to_append_the_stamps():
    # appended, the stamps would repeat an (id, time) pair: that advice would only fail in turn
    from tsrec.estimators._long_tables import ids_as_index_fix

    y = LONG.assign(time=LONG.time.astype(str)).set_index("inst")
    assert ids_as_index_fix(y, "y") is not None
    assert ids_as_index_fix(pd.concat([y, y.iloc[[0]]]), "y") is None


def test_other_text_columns_keep_the_drop_or_convert_advice():
    y = LONG[LONG.inst == "s0"].set_index("time")  # one series: its id column repeats no stamp
    with pytest.raises(TypeError, match=r"non-numeric \(e.g. categorical or string\) columns \['inst'\]; drop"):
        check_raw_y(y)


def test_time_before_integer_ids_warns_with_the_reordering():
    # (date, int id) read as series named by dates with integer steps: a model of the wrong series
    y = LONG.assign(inst=LONG.inst.str[1:].astype(int)).set_index(["time", "inst"]).sort_index()
    with pytest.warns(UserWarning, match=r"time stamps are in level 'time' .*reorder_levels\(\['inst', 'time'\]\)"):
        check_raw_y(y)
    fixed = y.reorder_levels(["inst", "time"]).sort_index()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_raw_y(fixed)


def test_layout_advice_keeps_out_of_data_it_does_not_fit():
    # a date level before ids and text stamps that read as dates: convert the stamps, do not reorder
    vintages = LONG.assign(vintage=pd.Timestamp("2023-12-31"), time=LONG.time.astype(str))
    with pytest.raises(TypeError, match="time stamps are strings .* convert them to dates"):
        check_raw_y(vintages.set_index(["vintage", "inst", "time"]))
    by_time = LONG.assign(region=["north", "south"] * 45).set_index("time")[["region", "inst", "v"]]
    with pytest.raises(TypeError, match=r"column 'inst' whose values repeat"):  # region holds two series a stamp
        check_raw_y(by_time)
    with pytest.raises(TypeError, match=r"non-numeric .* columns \['tags'\]; drop"):  # lists: no id, no crash
        check_raw_y(LONG.assign(tags=[[1]] * len(LONG)).set_index("time")[["tags", "v"]])
    months = LONG[LONG.inst == "s0"].assign(month=["May", "June", "July"] * 10).reset_index(drop=True)
    with pytest.raises(TypeError, match=r"non-numeric .* columns \['inst', 'month'\]; drop"):  # no stamps in them
        check_raw_y(months[["inst", "month", "v"]])


@pytest.mark.parametrize("columns", [["time", "count", "temp"], ["time", "count"], ["time", "a", "b"]])
def test_a_wide_table_with_a_date_column_and_whole_number_columns_is_one_series(columns):
    # the dates were taken for series ids and a count column for the stamps: 12 one-row series
    y = pd.DataFrame({"time": DAYS[:12], "count": np.arange(12) % 3, "temp": np.linspace(0, 1, 12),
                      "a": np.arange(12) % 4, "b": np.arange(12) % 5})[columns]
    with pytest.raises(TypeError, match=r"y's column 'time' holds time stamps: make it the time index") as raised:
        check_raw_y(y)
    fixed = _run_advice(str(raised.value), y)
    assert isinstance(fixed.index, pd.DatetimeIndex) and list(fixed.columns) == columns[1:]


def test_a_count_column_that_does_not_rise_evenly_is_no_time_step():
    # steps 1, 2, 4 in each id: set_index would only lead into an uneven-index error
    from tsrec.estimators._long_tables import long_table_fix

    frame = pd.DataFrame({"id": list("aaabbb"), "step": [1, 2, 4, 1, 2, 4], "v": np.arange(6.0)})
    assert long_table_fix(frame, ["id"], "y") is None
    assert long_table_fix(frame.assign(step=[1, 2, 3, 1, 2, 3]), ["id"], "y") is not None


NUMBERED = pd.DataFrame({"unique_id": np.repeat([0, 1], [30, 20]), "ds": np.r_[np.arange(1, 31), np.arange(1, 21)],
                         "y": np.sin(np.arange(50) / 3.0)})


@pytest.mark.parametrize("ids", ["int", "float"])
def test_a_long_table_of_numbers_only_is_told_its_index(ids):
    # neuralforecast's integer-ds example: ids and stamps were fitted as two more variates, with no error
    y = NUMBERED.astype({"unique_id": float}) if ids == "float" else NUMBERED
    with pytest.raises(InputError, match=r"y is a long table: if 'unique_id' names the series and 'ds' holds the time "
                                         r"stamps, make them its index") as raised:
        check_raw_y(y)
    fixed = _run_advice(str(raised.value), y)
    assert check_raw_y(fixed) == "pd-multiindex" and list(fixed.columns) == ["y"]


def test_fractional_values_in_a_column_named_as_ids_are_no_series_ids():
    # only whole numbers name series: a variate called "id" of fractions beside the steps is no long table
    y = NUMBERED.assign(unique_id=NUMBERED.unique_id + 0.5)
    assert check_raw_y(y) == "pd.DataFrame"


def test_a_column_named_as_stamps_that_counts_steps_is_told_to_become_the_index():
    y = NUMBERED[NUMBERED.unique_id == 0].drop(columns="unique_id")
    with pytest.raises(InputError, match=r"y's column 'ds' counts the time steps, and would be forecast as a target "
                                         r"\(every column is one\): make it the time index, y = y\.set_index\('ds'\)$"):
        check_raw_y(y)
    assert list(y.set_index("ds").columns) == ["y"] and check_raw_y(y.set_index("ds")) == "pd.DataFrame"
    # whole-number variates of other names stay variates (an hour and a day count rise like ids and steps)
    calendar = pd.DataFrame({"hour": np.arange(48) % 24, "day": np.arange(48) // 24, "y": np.arange(48.0)})
    assert check_raw_y(calendar) == "pd.DataFrame"
    assert check_raw_y(y.assign(ds=np.arange(30) ** 2)) == "pd.DataFrame"  # uneven: no time steps
    assert check_raw_y(y.assign(ds=3)) == "pd.DataFrame"  # constant: no time steps either
    with pytest.raises(InputError, match=r"y's column 'DS' counts the time steps"):  # names in any case
        check_raw_y(y.rename(columns={"ds": "DS"}))
    with pytest.raises(InputError, match=r"if 'Unique_ID' names the series and 'Ds' holds"):
        check_raw_y(NUMBERED.rename(columns={"unique_id": "Unique_ID", "ds": "Ds"}))


def test_steps_stored_as_whole_floats_are_told_the_index_with_the_conversion():
    # a CSV reader or a merge gives a step column floats (0.0, 1.0, ...): it was fitted as a target, no error
    single = NUMBERED[NUMBERED.unique_id == 0].drop(columns="unique_id").astype({"ds": float})
    with pytest.raises(InputError, match=r"make it the time index, y = y\.set_index\(y\['ds'\]\.astype\(int\)\)"
                                         r"\.drop\(columns='ds'\)$") as raised:
        check_raw_y(single)
    fixed = eval(str(raised.value).split("y = ", 1)[1], {"y": single})  # noqa: S307 - the advice, run
    assert pd.api.types.is_integer_dtype(fixed.index) and list(fixed.columns) == ["y"]
    assert check_raw_y(fixed) == "pd.DataFrame"
    long = NUMBERED.astype({"unique_id": float, "ds": float})
    with pytest.raises(InputError, match=r"y = y\.set_index\(\['unique_id', y\['ds'\]\.astype\(int\)\]\)"
                                         r"\.drop\(columns='ds'\)\.sort_index\(\)") as raised:
        check_raw_y(long)
    fixed = _run_advice(str(raised.value), long)
    assert check_raw_y(fixed) == "pd-multiindex" and list(fixed.columns) == ["y"]
    assert check_raw_y(single.assign(ds=single.ds + 0.5)) == "pd.DataFrame"  # fractions: a variate


def test_a_long_table_with_more_columns_is_told_they_would_all_be_forecast():
    # neuralforecast keeps exogenous and static columns in its long table: set_index alone made them targets
    for y, error in ((LONG.assign(hour=np.arange(len(LONG)) % 24), TypeError),
                     (NUMBERED.assign(hour=np.arange(len(NUMBERED)) % 24), InputError)):
        with pytest.raises(error, match=r"\(one model for all series\); its other columns \['\w+', 'hour'\] would "
                                        r"all be forecast \(every column is a target, there are no exogenous or "
                                        r"static features\): keep only those to forecast$"):
            check_raw_y(y)
    with pytest.raises(TypeError) as raised:  # one value column: nothing to say
        check_raw_y(LONG)
    assert "would all be forecast" not in str(raised.value)


def test_layout_advice_in_edge_cases_found_by_mutation():
    # month names beside dates are no stamps (dateutil reads "March" as a date in this year)
    with pytest.raises(TypeError) as raised:
        check_raw_y(pd.DataFrame({"y": [1.0, 2, 3, 4], "c": ["March", "2024-01-02", "April", "2024-01-04"]}))
    assert "time stamps" not in str(raised.value)
    # a cross-section (one row per customer) is no long table
    cross = pd.DataFrame({"customer": list("abcd"), "signup": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2),
                          "y": np.arange(4.0)})
    with pytest.raises(TypeError, match=r"column 'signup' holds time stamps"):
        check_raw_y(cross)
    # integer ids as the index are shown as the user wrote them, not as np.int64(7)
    ids = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2), "y": np.arange(4.0)},
                       index=[7, 7, 8, 8])
    with pytest.raises(TypeError, match=r"index may hold series ids \(e\.g\. 7\)"):
        check_raw_y(ids)
    # years held as categories of numbers: the advised conversion reads them as years, not nanoseconds
    years = pd.DataFrame({"unique_id": list("aaabbb"), "year": pd.Categorical([2020, 2021, 2022] * 2),
                          "y": np.arange(6.0)})
    with pytest.raises(TypeError) as raised:
        check_raw_y(years)
    fixed = _run_advice(str(raised.value), years)
    assert fixed.index.get_level_values(1).year.tolist() == [2020, 2021, 2022] * 2


def test_more_layout_edge_cases_found_by_mutation():
    days = pd.to_datetime(["2024-01-01", "2024-01-02"] * 2)
    # integer ids taking half the rows' values (two stamps each) still name the series
    with pytest.raises(TypeError, match=r"y is a long table: if 'store' names the series"):
        check_raw_y(pd.DataFrame({"store": [1, 1, 2, 2], "ds": days, "y": [1.0, 2, 3, 4]}))
    # store numbers as text that read as years, held as the index beside a date column: ids, not stamps
    with pytest.raises(TypeError, match=r"index may hold series ids \(e\.g\. '2020'\)"):
        check_raw_y(pd.DataFrame({"ds": days, "y": [1.0, 2, 3, 4]}, index=pd.Index(["2020", "2020", "2021", "2021"])))
    # a second date column (one launch date per series) placed first is never taken for the ids
    launch = pd.DataFrame({"launch": ["2023-05-01"] * 3 + ["2023-07-01"] * 3, "unique_id": list("AAABBB"),
                           "ds": ["2024-01-01", "2024-01-02", "2024-01-03"] * 2, "y": np.arange(6.0)})
    with pytest.raises(TypeError, match=r"if 'unique_id' names the series and 'ds' holds the time stamps"):
        check_raw_y(launch)


def test_day_first_text_stamps_are_told_dayfirst_not_mixed_formats():
    # format='mixed' read "01/07/2016" as January 7 and "13/07/2016" as July 13; the sort and asfreq fixes that
    # followed built a year of interpolated rows out of three weeks, with no error at the end
    stamps = pd.date_range("2016-07-01", periods=500, freq="h")
    y = pd.DataFrame({"when": stamps.strftime("%d/%m/%Y %H:%M"), "v": np.sin(np.arange(500) / 5.0)})
    with pytest.raises(TypeError, match=r"pd\.to_datetime\(y\['when'\], dayfirst=True\).*index_col='when', "
                                        r"parse_dates=True, dayfirst=True\)\)$") as raised:
        check_raw_y(y)
    fixed = _run_advice(str(raised.value), y)
    assert check_raw_y(fixed) == "pd.DataFrame" and fixed.index.equals(pd.DatetimeIndex(stamps, name="when"))
    with pytest.raises(TypeError, match=r"\(or with it: they are written day first\); convert them to dates: "
                                        r"y\.index = pd\.to_datetime\(y\.index, dayfirst=True\), or read with "
                                        r"pd\.read_csv\(\.\.\., parse_dates=\[\.\.\.\], dayfirst=True\)$"):
        check_raw_y(y.set_index("when"))
    with pytest.raises(TypeError) as raised:  # month first stays as it was: no day-first words
        check_raw_y(y.assign(when=stamps.strftime("%m/%d/%Y %H:%M")).set_index("when"))
    assert "dayfirst" not in str(raised.value) and "day first" not in str(raised.value)
