"""The seasonal cycle a model reads by default (CycleNet's cycle, TPGN's period), by sampling step."""

from __future__ import annotations

from tsrec.estimators.errors import InputError

# cycle lengths inferred from a pandas frequency, keyed by (unit, multiple): a week for days (a
# business-day index steps over weekends: 5 steps), a year above; below daily steps, one day
# (_STEPS_PER_DAY)
_CYCLE_BY_FREQ = {
    ("D", 1): 7, ("B", 1): 5, ("W", 1): 52,
    **{(unit, 1): 12 for unit in ("ME", "MS", "BME", "BMS")}, **{(unit, 1): 4 for unit in ("QE", "QS", "BQE", "BQS")},
}
_ALIASES = {"H": "h", "T": "min", "M": "ME", "BM": "BME", "Q": "QE", "BQ": "BQE"}  # pandas < 2.2 names
_STEPS_PER_DAY = {"h": 24, "min": 24 * 60}  # hourly and minute steps whose multiple divides a day


def cycle_length_from_freq(freq: object, param: str = "cycle_length") -> int:
    """The default cycle length for a frequency: one day at hourly and minute steps that divide a
    day (24 hourly, 12 two-hourly, 48 half-hourly, 96 at 15 minutes, 144 at 10 minutes: CycleNet's
    setting for the weather set), 7 daily, 5 business-daily, 52 weekly, 12 monthly, 4 quarterly
    (one year, sktime's usual seasonal period)."""
    if isinstance(freq, int) or freq is None:
        raise InputError(  # an index read from a file without its dates is the usual cause: say both fixes
            f"cannot infer {param} from an integer time index; pass {param}=... (the length of the seasonal "
            "cycle in steps, e.g. 24 for a daily cycle of hourly data), or give y its time stamps: "
            "y.index = pd.date_range(first_stamp, periods=len(y), freq='h') (a NumPy array has no index: "
            "y = pd.DataFrame(y, index=pd.date_range(...)))"
        )
    name = freq.name if hasattr(freq, "name") else str(freq)
    unit = name.split("-")[0]
    unit = _ALIASES.get(unit, unit)
    key = (unit, getattr(freq, "n", 1))
    # a step of a whole day (24h, 1440min) has no daily cycle: it is refused as other steps are
    if unit in _STEPS_PER_DAY and 0 < key[1] < _STEPS_PER_DAY[unit] and _STEPS_PER_DAY[unit] % key[1] == 0:
        return _STEPS_PER_DAY[unit] // key[1]
    if key not in _CYCLE_BY_FREQ:
        raise InputError(
            f"cannot infer {param} for {_steps_in_words(freq, unit)}, which have no usual seasonal cycle; "
            f"pass {param}=... (the length of the seasonal cycle in steps)"
        )
    return _CYCLE_BY_FREQ[key]


def _steps_in_words(freq: object, unit: str) -> str:
    """Steps of months, quarters and years in words: pandas names a PeriodIndex's "2M" and "Y-DEC"
    periods by their date-time offsets, "2ME" and "YE-DEC", which name no period."""
    n = getattr(freq, "n", 1)
    for prefixes, word in ((("Y", "A"), "year"), (("Q", "BQ"), "quarter"), (("M", "BM"), "month")):
        if any(unit.startswith(p) and unit[len(p):] in ("", "E", "S") for p in prefixes):
            return f"{word}ly steps" if n == 1 else f"steps of {n} {word}s"
    return f"steps of {freq.freqstr!r}"
