"""Time stamps of batch input files: parsed per file, then made comparable across files."""

from __future__ import annotations

import datetime
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.estimators.errors import InputError

# a clock time followed by a UTC offset ("...01:00:00+01:00", "...T01:00Z"); a bare date's "-31" is no offset
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
# the offset alone, to strip from stamps that all match _OFFSET
_OFFSET_ONLY = re.compile(r"(?<=\d)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_DAY = pd.Timedelta(days=1)
# a date that starts with its day or its month ("01/02/2024", "1.2.24"), not with its year
_DAY_OR_MONTH_FIRST = re.compile(r"\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)")


def parse_times(values: pd.Series, path: Path, dayfirst: bool | None = None) -> tuple[pd.Series, pd.Series | None]:
    """Datetimes parsed by pandas, or integer time steps kept as they are. ``dayfirst``: how dates
    that start with their day or month read (None: refused where both readings differ).

    Returns
    -------
    tuple of (pandas.Series, pandas.Series or None)
        The stamps, and for text stamps whose UTC offsets differ (read in UTC) their local
        wall-clock times without a zone, else None; :func:`common_time_zone` picks one.
    """
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
        raise InputError(
            f"{path}: column {values.name!r} has empty time stamps (first at data row {row}); fill them in"
        )
    if isinstance(values.dtype, pd.ArrowDtype) and pd.api.types.is_datetime64_any_dtype(values.dtype):
        # Arrow's stamps (a Parquet file written from a pyarrow-backed frame) as NumPy's, zone kept:
        # the index checks downstream know NumPy's only
        values = values.astype(values.dtype.pyarrow_dtype.to_pandas_dtype())
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values, None
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("int64"), None
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        whole = pd.api.types.is_float_dtype(values.dtype) and np.isfinite(values).all() and (values % 1 == 0).all()
        raise InputError(
            f"{path}: time column {values.name!r} holds {values.dtype} numbers; use dates "
            "(e.g. 2024-01-01 00:00) or integer time steps"
            + (f" (these are whole numbers: write them without '.0', e.g. df[{values.name!r}].astype('int64'))"
               if whole else "")
        )
    # year-first dates ignore dayfirst: pandas read "2024-03-05" day-first as %Y-%d-%m, 3 May
    order = {"dayfirst": dayfirst} if dayfirst is not None and _DAY_OR_MONTH_FIRST.match(str(values.iloc[0])) else {}
    for options in _datetime_options(values, order):
        try:
            with warnings.catch_warnings():  # pandas' notes on guessed formats; the day order is checked below
                warnings.simplefilter("ignore", UserWarning)
                stamps = pd.to_datetime(values, **options)
        except (ValueError, TypeError, OverflowError):
            continue
        if dayfirst is None:
            _check_day_month_order(values, stamps, options, path)
        elif order:
            _check_given_order(values, options, path)
        return stamps, _wall_clock(values, order) if options.get("utc") else None
    if order:
        _check_other_order(values, order["dayfirst"], path)
    raise InputError(
        f"{path}: column {values.name!r} has values that are not time stamps{_first_unreadable(values)}; "
        "write every stamp as a date and time in one format (e.g. 2024-01-01 00:00) or use integer time steps"
    )


def _first_unreadable(values: pd.Series) -> str:
    """Where a column of stamps fails, in tsrec's words: pandas' own message shows a format it guessed from the
    first stamp (day first, say, from "2024-01-01"), which is no help and is cut off mid-sentence."""
    if _not_stamps(values.iloc[:1], format="mixed", utc=True).all():  # no format to guess from
        return f", e.g. {values.iloc[0]!r} (data row 1)"
    # pandas guesses month first from 01/01/2024: then 13/01/2024 fails with it, yet is in its format
    guessed = min(_not_stamps(values), _not_stamps(values, dayfirst=True), key=np.count_nonzero)
    rows = np.flatnonzero(guessed)
    # value by value is slow: only for those that no format reads at once (usually a few)
    for options in ({"dayfirst": True}, {"format": "ISO8601"}, {"format": "mixed", "utc": True}):
        rows = rows[_not_stamps(values.iloc[rows], **options)]
    if rows.size:  # read by no format, even value by value
        return f", e.g. {values.iloc[rows[0]]!r} (data row {int(rows[0]) + 1})"
    if guessed.any():  # each value reads alone, but not all in the format of the first one
        row = int(np.flatnonzero(guessed)[0])
        return f" in one format: {values.iloc[0]!r} (data row 1) but {values.iloc[row]!r} (data row {row + 1})"
    return ""


def _not_stamps(values: pd.Series, **options) -> np.ndarray:
    """Which of ``values`` pandas cannot read as time stamps with ``options`` (all where it fails outright)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # guessed formats, parsing value by value
            stamps = pd.to_datetime(values, errors="coerce", **options)
    except (ValueError, TypeError, OverflowError):
        return np.ones(len(values), dtype=bool)
    return np.asarray(pd.isna(stamps))


def _check_day_month_order(values: pd.Series, stamps: pd.Series, options: dict, path: Path) -> None:
    """Refuse dates that read as well day-first as month-first (pandas reads "01/02/2024" as 2 January),
    whichever order ``options`` read them in.

    Twelve days written day-first are twelve evenly spaced months read month-first, so no later
    check would notice. pandas keeps the first stamp's layout for all, so only that one is matched.
    """
    if not _DAY_OR_MONTH_FIRST.match(str(values.iloc[0])):
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            other = pd.to_datetime(values, dayfirst=not options.get("dayfirst"), utc=bool(options.get("utc")))
    except (ValueError, TypeError, OverflowError):
        return  # some day is above 12: only the order pandas took reads the column
    if not other.equals(stamps):
        raise InputError(
            f"{path}: the dates of column {values.name!r} (e.g. {values.iloc[0]!r}) read as well day-first as "
            "month-first, and the two readings differ; write them year first (e.g. 2024-01-31), or say which: "
            "dayfirst=True or False (CLI: --dayfirst or --monthfirst)"
        )


def _check_given_order(values: pd.Series, options: dict, path: Path) -> None:
    """Refuse dates that do not read in the order given: pandas takes ``dayfirst`` as a preference,
    and read "13/01/2024" day-first with ``dayfirst=False``. Its first stamp's layout holds for all,
    so the first date, read alone in its own offset, tells."""
    day_first = options["dayfirst"]
    lead, second = (int(part) for part in re.split(r"[/.-]", str(values.iloc[0]).strip())[:2])
    want = (lead, second) if day_first else (second, lead)
    with warnings.catch_warnings():  # pandas' note that it read against dayfirst: the refusal below says it
        warnings.simplefilter("ignore", UserWarning)
        first = pd.to_datetime(values.iloc[:1], **{key: value for key, value in options.items() if key != "utc"})
    first = first.iloc[0]
    if (first.day, first.month) != want:
        given, other = ("day", "month") if day_first else ("month", "day")
        raise InputError(
            f"{path}: the dates of column {values.name!r} (e.g. {values.iloc[0]!r}) do not read {given}-first, as "
            f"dayfirst={day_first} says; they read {other}-first: pass dayfirst={not day_first} (CLI: "
            f"--{other}first), or nothing to have them read as they are"
        )


def _check_other_order(values: pd.Series, day_first: bool, path: Path) -> None:
    """Refuse dates that read in the order opposite to the one given, and not in it ("13/03/2024" with
    dayfirst=False), saying so: as text that is not time stamps, the given order would be no suspect."""
    if _not_stamps(values, dayfirst=not day_first).any():
        return
    given, other = ("day", "month") if day_first else ("month", "day")
    wrong = int(np.flatnonzero(_not_stamps(values, dayfirst=day_first))[0])
    raise InputError(
        f"{path}: the dates of column {values.name!r} (e.g. {values.iloc[wrong]!r}, data row {wrong + 1}) do not "
        f"read {given}-first, as dayfirst={day_first} says; they read {other}-first: pass "
        f"dayfirst={not day_first} (CLI: --{other}first), or nothing to have them read as they are"
    )


def _datetime_options(values: pd.Series, order: dict) -> Iterator[dict]:
    """Ways to parse text stamps, tried in turn (lazily: the offset test reads every value); ``order``
    is the given day order (``{"dayfirst": ...}``) or none."""
    yield order
    # the first stamp fixes pandas' guessed format; ISO 8601 stamps may vary in precision
    yield {"format": "ISO8601"}
    if not order:  # pandas guesses month first from a first date like 01/02/2024: a later 13/02/2024 then fails
        yield {"dayfirst": True}
    # offsets that change (daylight saving time) meet in UTC; a stamp without one must not pass as UTC
    if values.astype(str).str.strip().str.contains(_OFFSET).all():
        yield {"utc": True, **order}
        yield {"utc": True, "format": "ISO8601"}


def _wall_clock(values: pd.Series, order: dict) -> pd.Series | None:
    """Stamps with offsets as the local times they show, without a zone ("00:00+02:00" is 00:00),
    their dates read in the given ``order`` (``{"dayfirst": ...}``, or none).

    None where they cannot be read so (the stamps are then used in UTC).
    """
    local = values.astype(str).str.strip().str.replace(_OFFSET_ONLY, "", regex=True)
    for options in ({"format": "ISO8601"}, order):
        try:
            return pd.to_datetime(local, **options)
        except (ValueError, TypeError, OverflowError):
            continue
    return None


def common_time_zone(
    frames: list[pd.DataFrame], walls: list[pd.Series | None], id_col: str, time_col: str, time_zone: object = None
) -> tuple[list[pd.DataFrame], bool]:
    """One time zone for stamps whose UTC offsets differ, within a file or between files.

    Such stamps (e.g. ``+01:00`` in winter, ``+02:00`` in summer) meet in UTC, unless that breaks
    the series' even spacing and their step is a day or more: local midnights become 23:00 or
    22:00 UTC of the day before, 23 or 25 hours apart. Then the local wall-clock stamps are kept,
    without a zone, so each row keeps the date the file gives it; a file's stamps of one fixed offset
    become the wall-clock times of ``time_zone`` (the zone they are read in next), as they would alone.

    Parameters
    ----------
    frames : list of pandas.DataFrame
        One flat frame per file, with ``id_col`` and ``time_col``.
    walls : list of (pandas.Series or None)
        Per frame, the local wall-clock stamps from :func:`parse_times`, or None.
    id_col, time_col : str
        The series-id and time columns.
    time_zone : str or tzinfo, optional
        The zone the stamps are read in after this (a zoned model's).

    Returns
    -------
    tuple of (list of pandas.DataFrame, bool)
        The frames, and whether differing offsets were converted to UTC.
    """
    zones = {str(getattr(f[time_col].dtype, "tz", None)) for f in frames}
    mixed = any(wall is not None for wall in walls)
    if "None" in zones or (len(zones) < 2 and not mixed):
        return frames, False  # one zone, or stamps without a zone (check_time_types refuses a mix)
    ids = pd.concat([f[id_col] for f in frames], ignore_index=True)
    utc = [f[time_col].dt.tz_convert("UTC") for f in frames]
    local = [w if w is not None else _fixed_offset_clock(f[time_col], time_zone) for f, w in zip(frames, walls)]
    in_utc, in_local = pd.concat(utc, ignore_index=True), pd.concat(local, ignore_index=True)
    if _even(ids, in_utc):
        return [f.assign(**{time_col: t}) for f, t in zip(frames, utc)], True
    if _min_step(ids, in_local) < _DAY:
        _check_no_daily_series(ids, in_utc, in_local)
        return [f.assign(**{time_col: t}) for f, t in zip(frames, utc)], True
    return [f.assign(**{time_col: t.to_numpy()}) for f, t in zip(frames, local)], False


def _fixed_offset_clock(stamps: pd.Series, time_zone: object) -> pd.Series:
    """Stamps of one zone as wall-clock times without a zone: ``time_zone``'s if given, else their own."""
    return (stamps if time_zone is None else stamps.dt.tz_convert(time_zone)).dt.tz_localize(None)


def _check_no_daily_series(ids: pd.Series, utc: pd.Series, local: pd.Series) -> None:
    """Sub-daily series put every series in UTC; one of daily or longer steps whose offsets change
    is uneven there (local midnights 23 or 25 hours apart), though not in its own local dates."""
    uneven = _gaps(ids, utc).groupby(level=0).nunique() > 1
    steps = _gaps(ids, local).groupby(level=0).agg(["nunique", "min"])
    # uneven in UTC only: a gap in the data is its own error, named later with its fix
    daily = uneven.reindex(steps.index, fill_value=False) & (steps["nunique"] == 1) & (steps["min"] >= _DAY)
    if daily.any():
        raise InputError(
            f"series {daily[daily].index[0]!r} steps by a day or more and its UTC offsets change (daylight saving "
            "time), while other series step by less than a day: one run reads every stamp in UTC, where its local "
            "midnights are 23 or 25 hours apart; forecast the daily and the sub-daily series in separate runs"
        )


def _gaps(ids: pd.Series, stamps: pd.Series) -> pd.Series:
    """The steps between consecutive stamps of each series, indexed by series id."""
    frame = pd.DataFrame({"id": ids.to_numpy(), "t": stamps.to_numpy()}).sort_values(["id", "t"], kind="mergesort")
    keys = frame["id"].to_numpy()
    same = keys[1:] == keys[:-1]
    return pd.Series(np.diff(frame["t"].to_numpy())[same], index=keys[1:][same])


def _even(ids: pd.Series, stamps: pd.Series) -> bool:
    """Whether every series has one step (in absolute time, so calendar months are not)."""
    gaps = _gaps(ids, stamps)
    return bool((gaps.groupby(level=0).nunique() <= 1).all())


def _min_step(ids: pd.Series, stamps: pd.Series) -> pd.Timedelta:
    gaps = _gaps(ids, stamps)
    return pd.Timedelta(gaps.min()) if len(gaps) else _DAY


def check_time_types(frame: pd.DataFrame, time_col: str, paths: list, frames: list) -> None:
    """Refuse files whose stamps pandas could only join as objects (dates beside integers, zones beside none)."""
    if len(frames) > 1 and frame[time_col].dtype == object:
        kinds = {str(p): str(f[time_col].dtype) for p, f in zip(paths, frames)}
        raise InputError(
            f"the input files have different kinds of time stamps ({kinds}); use the same kind "
            "(all dates with the same time zone, or all integer steps) in every file"
        )


def check_time_zone(zone: object) -> object:
    """``zone`` as given if it is None, a tzinfo or the name of a time zone pandas knows."""
    if zone is None or isinstance(zone, datetime.tzinfo):
        return zone
    if isinstance(zone, str):
        try:
            pd.DatetimeIndex([]).tz_localize(zone)
            return zone
        except (KeyError, ValueError, TypeError, IndexError):  # zoneinfo's ZoneInfoNotFoundError is a KeyError
            pass
    raise InputError(f"time_zone must be None, a tzinfo or a time zone name such as 'Europe/Berlin' or 'UTC', "
                     f"got {zone!r}")


def wall_clock_in(
    stamps: pd.DatetimeIndex, zone: object, why: str, where: str = "", ids: object = None
) -> pd.DatetimeIndex:
    """Stamps without a time zone read as wall-clock times in ``zone``.

    A time that the autumn change repeats (02:00 twice in Berlin) is read from the order of the
    rows, as a file sorted by time lists them: of a series' two rows at that time, the first is
    the earlier instant (summer time, ``+02:00``), the second the later one (``+01:00``), so
    a complete series across the change is evenly spaced. A repeated time that a series holds
    once, and a time skipped in spring, name no instant and are refused; ``why`` says why
    ``zone`` applies and ``where`` (a prefix) where the stamps come from.

    Parameters
    ----------
    ids : array-like, optional
        Each stamp's series id (all one series if None): each series has its own repeated times.
    """
    # stamps are never NaT (parse_times refuses empty ones), so NaT marks a time skipped in spring
    as_dst = stamps.tz_localize(zone, ambiguous=np.ones(len(stamps), bool), nonexistent="NaT")
    if as_dst.isna().any():
        skipped = stamps[as_dst.isna()][0]
        raise _no_instant(where, why, f"{skipped} does not exist there (the clocks skip it in spring)")
    as_standard = stamps.tz_localize(zone, ambiguous=np.zeros(len(stamps), bool))
    twice = np.asarray(as_dst != as_standard)
    if not twice.any():
        return as_dst
    # the earlier of the two instants by comparison, not by pandas' DST flag: a zone may also move its standard time
    earlier = _earlier_of_two(stamps, twice, ids, where, why)
    return as_dst.where((as_dst < as_standard) == earlier, as_standard)


def _earlier_of_two(stamps: pd.DatetimeIndex, twice: np.ndarray, ids: object, where: str, why: str) -> np.ndarray:
    """Per stamp, whether it is the earlier instant: the first of a series' two rows at a repeated time."""
    keys = np.zeros(len(stamps), int) if ids is None else np.asarray(ids)
    rows = pd.DataFrame({"id": keys[twice], "t": stamps[twice]})
    groups = rows.groupby(["id", "t"], sort=False)
    count = groups["t"].transform("size").to_numpy()
    if (count == 1).any():
        first = int(np.flatnonzero(count == 1)[0])
        holder = "they hold" if ids is None else f"series {rows['id'].iat[first]!r} holds"
        raise _no_instant(where, why, f"{holder} {rows['t'].iat[first]} once, a time the clocks repeat in autumn, "
                          "so which of its two instants is meant is unknown")
    # more than two rows at one time are duplicates, refused as such once zoned
    earlier = np.zeros(len(stamps), bool)
    earlier[twice] = groups.cumcount().to_numpy() == 0
    return earlier


def _no_instant(where: str, why: str, problem: str) -> InputError:
    return InputError(
        f"{where}the stamps carry no time zone and {why}, but {problem}; write the stamps with their UTC offsets "
        "(e.g. 2024-10-27T02:30:00+01:00) or in UTC, so they name one instant each"
    )
