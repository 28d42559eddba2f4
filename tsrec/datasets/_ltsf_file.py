"""Read one LTSF benchmark CSV and refuse a copy that is not the published file.

Truncated, re-ordered and re-encoded copies of these files circulate (the reference notes name cut ETTm
copies); pandas reads them without a word, and the papers' splits, cut by row position, would then
silently differ. So the file's shape, header and every time stamp are compared with the published
file's, and every value column must hold finite numbers. A file whose bytes differ from the published
ones but that passes these checks (other line endings, say) loads with a warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.datasets._filecheck import refuse_packed
from tsrec.errors import InputError

# published shape of each file: rows and value columns (``date`` excluded)
PUBLISHED_SHAPES = {
    "ETTh1": (17420, 7),
    "ETTh2": (17420, 7),
    "ETTm1": (69680, 7),
    "ETTm2": (69680, 7),
    "exchange_rate": (7588, 8),
    "illness": (966, 7),
    "weather": (52696, 21),
}
_ETT_COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
# published value columns, in file order: a swapped name would make another variate the target 'OT'.
# weather's header holds U+FFFD (written in UTF-8) where its units had ² and µ; headers are compared
# with non-ASCII characters as U+FFFD, so that a copy with the units ('W/m²') passes too
PUBLISHED_COLUMNS = {
    **dict.fromkeys(("ETTh1", "ETTh2", "ETTm1", "ETTm2"), _ETT_COLUMNS),
    "exchange_rate": ("0", "1", "2", "3", "4", "5", "6", "OT"),
    "illness": ("% WEIGHTED ILI", "%UNWEIGHTED ILI", "AGE 0-4", "AGE 5-24", "ILITOTAL", "NUM. OF PROVIDERS", "OT"),
    "weather": (
        "p (mbar)", "T (degC)", "Tpot (K)", "Tdew (degC)", "rh (%)", "VPmax (mbar)", "VPact (mbar)", "VPdef (mbar)",
        "sh (g/kg)", "H2OC (mmol/mol)", "rho (g/m**3)", "wv (m/s)", "max. wv (m/s)", "wd (deg)", "rain (mm)",
        "raining (s)", "SWDR (W/m\ufffd)", "PAR (\ufffdmol/m\ufffd/s)", "max. PAR (\ufffdmol/m\ufffd/s)",
        "Tlog (degC)", "OT",
    ),
}  # fmt: skip
# SHA-256 of the published files, from the shared data folder's SHA256SUMS (shared/data/MANIFEST.md: the ETT
# files are byte-identical to zhouhaoyi/ETDataset; exchange_rate, illness and weather are the Autoformer/TSLib
# copies, weather not checked byte for byte against upstream)
PUBLISHED_SHA256 = {
    "ETTh1": "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
    "ETTh2": "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
    "ETTm1": "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
    "ETTm2": "db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd",
    "exchange_rate": "d55e7aa2641009814a18ba3279431b13f6d413b0eab195b9ff21988d8cf94e97",
    "illness": "8594cecb98c6f2f9dc014eca11c4d5d1e38ad5ce6ed0592d4abe65b146fce395",
    "weather": "34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
}
# the 'date' column's format and first stamp in each published file (exchange_rate writes 1990/1/1 0:00)
_ISO = "%Y-%m-%d %H:%M:%S"
PUBLISHED_STAMPS = {
    **dict.fromkeys(("ETTh1", "ETTh2", "ETTm1", "ETTm2"), (_ISO, "2016-07-01 00:00")),
    "exchange_rate": ("%Y/%m/%d %H:%M", "1990-01-01"),
    "illness": (_ISO, "2002-01-01"),
    "weather": (_ISO, "2020-01-01 00:10"),
}
# weather.csv's two documented irregularities (see load_ltsf), the only stamps allowed off the regular range
_WEATHER_REPEATED = pd.Timestamp("2020-05-12 06:00")
_WEATHER_GAP = pd.date_range("2020-05-29 09:40", "2020-05-29 11:00", freq="10min")
# names the papers and other libraries give these sets, and the two long-term sets not in the data folder
KNOWN_AS = {
    "ili": "the papers' ILI set is 'illness'", "national_illness": "its name is 'illness'",
    "exchange": "its name is 'exchange_rate'",
    **dict.fromkeys(("electricity", "ecl", "traffic"), "not shipped: electricity's file is about 95 MB and "
                    "traffic's over 100 MB, too large for the data folder"),
}

_FIX = "re-download the file (the Autoformer/TSLib copy; SHA-256 digests are in the data folder's SHA256SUMS)"


def read_ltsf_csv(path: Path, name: str) -> pd.DataFrame:
    """The file as a frame with its ``date`` column, after checking it is the published ``name`` file."""
    refuse_packed(path, f"the {name} CSV file")
    try:
        df = pd.read_csv(path, encoding_errors="replace", low_memory=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as err:
        message = f"{path} is not a readable CSV file ({err}); is it the {name} benchmark file? {_FIX}"
        raise InputError(message) from None
    if "date" not in df.columns or df.empty:
        found = f"its header reads {list(df.columns)[:5]!r}" if "date" not in df.columns else "it has no data rows"
        raise InputError(f"{path} needs a 'date' column and at least one row, but {found}; is it the {name} benchmark "
                         f"file (comma-separated, UTF-8, header 'date,...')? {_FIX}")
    rows, columns = PUBLISHED_SHAPES[name]
    if df.shape != (rows, columns + 1):
        raise InputError(
            f"{path} has {len(df)} rows and {df.shape[1] - 1} value columns, but the {name} benchmark has "
            f"{rows} and {columns}: the file is truncated or another copy; {_FIX}"
        )
    _check_header(list(df.columns), path, name)
    _check_values(df.drop(columns="date"), path, name)
    return df


def _check_header(header: list[str], path: Path, name: str) -> None:
    """``date`` then the published value columns, in order (a swapped name makes another variate ``OT``)."""
    published = ["date", *PUBLISHED_COLUMNS[name]]
    for position, (got, want) in enumerate(zip(header, published)):
        if _as_ascii(str(got)) != want:
            raise InputError(
                f"{path}: header column {position} is {got!r} but the published {name} file has {want!r} there "
                f"(published header: {','.join(published)}); names swapped or renamed would make another "
                f"variate the target; restore the published header or {_FIX}"
            )


def _as_ascii(text: str) -> str:
    """``text`` with every non-ASCII character as U+FFFD, as a header with undecodable bytes reads."""
    return "".join(c if c.isascii() else "\ufffd" for c in text)


def _check_values(values: pd.DataFrame, path: Path, name: str) -> None:
    """Every value column numeric and finite (a corrupt byte turns a column into strings or NaN)."""
    for column in values.columns:
        numbers = pd.to_numeric(values[column], errors="coerce")
        bad = numbers.isna() | ~numbers.abs().lt(float("inf"))
        if bad.any():
            row = int(bad.to_numpy().argmax())
            value = values[column].iloc[row]
            # as the file writes it (pandas reads an empty field and 'nan' alike as NaN), not np.float64(nan)
            shown = "an empty field or 'nan'" if pd.isna(value) else repr(getattr(value, "item", lambda: value)())
            raise InputError(
                f"{path}: column {column!r} has a value that is not a finite number "
                f"({shown}, file line {row + 2}); the {name} file is damaged; {_FIX}"
            )


def regular_index(stamps: pd.Series, path: Path, name: str, freq: str) -> pd.DatetimeIndex:
    """The loader's index, a regular range at ``freq``, after checking every stamp against the published file's.

    The papers' protocol cuts splits by row position, so rows out of order, repeated, dropped or re-dated would
    silently move the borders: each stamp must be the published one (weather's documented repeat and gap
    included). The returned range is the file's stamps, but for weather's rows around those two spots.
    """
    parsed = _parse_stamps(stamps, path, name)
    expected = _published_stamps(name, len(stamps), freq)
    wrong = np.flatnonzero(parsed.to_numpy() != expected.to_numpy())
    if wrong.size:
        row = int(wrong[0])
        raise InputError(
            f"{path}: file line {row + 2} is dated {stamps.iloc[row]!r} but the published {name} file has "
            f"{expected[row]} there: rows are out of order, repeated, missing or re-dated, which moves the "
            f"papers' splits; restore the published file: {_FIX}"
        )
    return pd.date_range(expected[0], periods=len(stamps), freq=freq, name="date")


def _parse_stamps(stamps: pd.Series, path: Path, name: str) -> pd.DatetimeIndex:
    """Every ``date`` value as a time stamp in the published format, or a message naming the first bad one."""
    fmt = PUBLISHED_STAMPS[name][0]
    parsed = pd.DatetimeIndex(pd.to_datetime(stamps.astype(str), format=fmt, errors="coerce"))
    if parsed.hasnans:
        row = int(np.flatnonzero(parsed.isna())[0])
        raise InputError(
            f"{path}: the 'date' value {stamps.iloc[row]!r} on file line {row + 2} is not a date in the "
            f"published format {fmt!r}; the {name} file is damaged; {_FIX}"
        )
    return parsed


def _published_stamps(name: str, rows: int, freq: str) -> pd.DatetimeIndex:
    """The stamps of the published file's ``rows`` rows: a regular range, but weather's repeat and gap."""
    start = pd.Timestamp(PUBLISHED_STAMPS[name][1])
    if name != "weather":
        return pd.date_range(start, periods=rows, freq=freq)
    stamps = pd.date_range(start, periods=rows + len(_WEATHER_GAP) - 1, freq=freq).drop(_WEATHER_GAP)
    return stamps.append(pd.DatetimeIndex([_WEATHER_REPEATED])).sort_values()
