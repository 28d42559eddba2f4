"""Calendar features of absolute time steps, computed in torch (no pandas inside the networks).

The features are those of the Informer family's ``timeF`` encoding that TPGN reads: each calendar
field scaled to [-0.5, 0.5]. Which fields depends on the sampling step, as in that encoding:

* step under an hour (``'t'``): minute of hour, hour of day, day of week, day of month, day of year
* step under a day (``'h'``): hour of day, day of week, day of month, day of year
* a day or longer (``'d'``): day of week, day of month, day of year

A time step is given as an absolute index ``p`` with the time stamp ``p * step_ns + offset_ns``
nanoseconds after 1970-01-01 (the estimators' positions for fixed-step indices count whole steps,
and ``offset_ns`` puts back where in a step the stamps lie, e.g. one hour for 2-hourly data at odd
hours). No time zone is applied here: for time-zone-aware stamps the estimators count positions in
local wall-clock time, so the features are local hours and days. Given only a window's first
position, its steps are that one advanced by whole steps; the estimators hand every step's own
position, which skips or repeats one at a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from tsrec.nn._checks import check_int, check_position, position_steps

NS_PER_MINUTE = 60 * 10**9
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR


def n_calendar_features(step_ns: int) -> int:
    """How many features a step of ``step_ns`` nanoseconds gets (5, 4 or 3)."""
    if step_ns <= 0:
        raise ValueError(f"step_ns must be a positive number of nanoseconds, got {step_ns}")
    return 5 if step_ns < NS_PER_HOUR else 4 if step_ns < NS_PER_DAY else 3


def civil_from_days(days: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(year, month, day) of integer days since 1970-01-01, proleptic Gregorian calendar.

    The calendar repeats every 400 years (146097 days); counting from 0000-03-01 puts the leap
    day at the end of each year, so month and day follow from the day within that March-based year.
    """
    z = days + 719468  # days since 0000-03-01
    era = torch.div(z, 146097, rounding_mode="floor")
    doe = z - era * 146097  # day of era, [0, 146096]
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365  # year of era, [0, 399]
    day_of_march_year = doe - (365 * yoe + yoe // 4 - yoe // 100)  # [0, 365]
    mp = (5 * day_of_march_year + 2) // 153  # month counted from March, [0, 11]
    day = day_of_march_year - (153 * mp + 2) // 5 + 1
    month = torch.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2).long()
    return year, month, day


def days_from_civil_jan1(year: torch.Tensor) -> torch.Tensor:
    """Days since 1970-01-01 of January 1st of ``year``."""
    y = year - 1  # January belongs to the previous March-based year
    era = torch.div(y, 400, rounding_mode="floor")
    yoe = y - era * 400
    doe = 365 * yoe + yoe // 4 - yoe // 100 + 306  # 306 = days from March 1st to January 1st
    return era * 146097 + doe - 719468


def calendar_features(steps: torch.Tensor, step_ns: int, offset_ns: int = 0) -> torch.Tensor:
    """Calendar features of absolute steps ``steps`` (any shape, int64) -> ``steps.shape + (c,)``.

    Examples
    --------
    >>> import torch
    >>> hour = 3600 * 10**9
    >>> calendar_features(torch.tensor([0]), hour)  # 1970-01-01 00:00, a Thursday
    tensor([[-0.5000,  0.0000, -0.5000, -0.5000]])
    """
    ns = steps.long() * int(step_ns) + int(offset_ns)
    days = torch.div(ns, NS_PER_DAY, rounding_mode="floor")
    within_day = ns - days * NS_PER_DAY
    year, _, day = civil_from_days(days)
    fields = []
    count = n_calendar_features(step_ns)
    if count == 5:
        fields.append((within_day // NS_PER_MINUTE) % 60 / 59.0)
    if count >= 4:
        fields.append((within_day // NS_PER_HOUR) / 23.0)
    fields.append(((days + 3) % 7) / 6.0)  # 1970-01-01 was a Thursday; Monday is 0
    fields.append((day - 1) / 30.0)
    fields.append((days - days_from_civil_jan1(year)) / 365.0)
    return torch.stack([f.float() for f in fields], dim=-1) - 0.5


class CalendarInput(torch.nn.Module):
    """Feed a network that reads time features ``x_mark`` from window positions instead.

    The estimators hand a forecasting network the absolute ``position`` of every step of each
    window (``uses_position``; a window's first alone stands for it advanced by whole steps); this
    wrapper turns them into the calendar features of every input step and calls
    ``network(x, x_mark)``. The network itself stays free of time-index logic.

    Parameters
    ----------
    network : torch.nn.Module
        Called as ``network(x, x_mark)`` with ``x_mark`` of shape ``(batch, lookback, c)``,
        ``c = n_calendar_features(step_ns)``.
    lookback : int
        Input steps per window.
    step_ns : int
        The sampling step in nanoseconds.
    offset_ns : int, default 0
        Where in a step the time stamps lie (see the module docstring).

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.tpgn import TPGN
    >>> hour = 3600 * 10**9
    >>> net = CalendarInput(TPGN(48, 24, 1, 24, n_time_features=n_calendar_features(hour)), 48, hour)
    >>> net(torch.randn(2, 48, 1), position=torch.tensor([0, 480000])).shape
    torch.Size([2, 24, 1])
    """

    uses_position = True

    def __init__(self, network: torch.nn.Module, lookback: int, step_ns: int, offset_ns: int = 0) -> None:
        super().__init__()
        lookback, step_ns = check_int("lookback", lookback), check_int("step_ns", step_ns)
        offset_ns = check_int("offset_ns", offset_ns, minimum=None)
        self.network, self.lookback, self.step_ns, self.offset_ns = network, lookback, step_ns, offset_ns
        self.register_buffer("offsets", torch.arange(lookback), persistent=False)

    def forward(self, x: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, lookback, C), ``position`` (batch,) absolute index of each first step, or
        (batch, >= lookback) the index of every step (the first ``lookback`` are read)."""
        batch = x.shape[0] if isinstance(x, torch.Tensor) and x.ndim == 3 else None  # x: checked by network
        check_position(position, batch, n_steps=self.lookback)
        steps = position_steps(position.to(self.offsets.device), self.lookback)
        # the features take x's dtype; a non-tensor x is the network's to refuse, by its own name and shape
        dtype = x.dtype if isinstance(x, torch.Tensor) else torch.get_default_dtype()
        return self.network(x, calendar_features(steps, self.step_ns, self.offset_ns).to(dtype))


def with_calendar(
    make_network: Callable[[int], torch.nn.Module], lookback: int, step_ns: int | None, offset_ns: int = 0
) -> torch.nn.Module:
    """``make_network(n_time_features)``, wrapped in :class:`CalendarInput` when the step is known.

    Without a fixed sampling step (``step_ns`` None) the network is built without time features.
    """
    if not step_ns:
        return make_network(0)
    return CalendarInput(make_network(n_calendar_features(step_ns)), lookback, step_ns, offset_ns)
