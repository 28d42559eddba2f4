"""Synthetic series with known answers, for tests and tutorials."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from tsrec._checks import check_float, check_int
from tsrec.errors import ParameterError


def make_ar(
    coefficients: tuple[float, ...] = (0.2, 0.3, -0.5),
    n_samples: int = 10_000,
    noise: float = 0.1,
    random_state: int | None = 0,
    burn_in: int = 200,
) -> pd.Series:
    """Simulate y_t = sum_i coefficients[i] * y_{t-1-i} + noise * e_t (lag 1 first).

    The ``e_t`` are standard normal. The recursion starts from ``len(coefficients)`` zeros and its
    first ``max(burn_in, len(coefficients))`` values are dropped, so no returned value is one of
    the zero starting values and the series is (close to) stationary from its first value.

    Parameters
    ----------
    coefficients : sequence of float, default=(0.2, 0.3, -0.5)
        AR coefficients, lag 1 first; real numbers (not bools or strings), finite, non-empty, and
        stationary (every root of the characteristic polynomial inside the unit circle).
    n_samples : int, default=10_000
        Length of the returned series (>= 1).
    noise : float, default=0.1
        Standard deviation of the shocks (>= 0; 0 gives the all-zero series).
    random_state : int or None, default=0
        Seed of :func:`numpy.random.default_rng`; None draws fresh randomness.
    burn_in : int, default=200
        Steps simulated and dropped before the returned ones (>= 0); at least
        ``len(coefficients)`` are dropped whatever its value.

    Returns
    -------
    pandas.Series
        ``n_samples`` float values named ``"y"`` on a RangeIndex.

    Raises
    ------
    ValueError
        Coefficients that are not finite numbers or not stationary, a bad count or noise, or a
        ``random_state`` that is not None or an integer >= 0.

    Examples
    --------
    >>> y = make_ar((0.5,), n_samples=100)
    >>> len(y)
    100
    """
    coef = _ar_coefficients(coefficients)
    n_samples, burn_in = check_int("n_samples", n_samples), check_int("burn_in", burn_in, minimum=0)
    noise = check_float("noise", noise)
    rng = _rng(random_state)
    # the recursion's first p values are its zero start, not samples: drop at least those (burn_in >= p
    # leaves the draws, and so the defaults' outputs, unchanged)
    burn_in = max(burn_in, len(coef))
    total = n_samples + burn_in
    _check_memory(total, f"n_samples={n_samples}")
    shocks = noise * rng.standard_normal(total)
    y = np.zeros(total)
    p = len(coef)
    for t in range(p, total):
        y[t] = coef @ y[t - p : t][::-1] + shocks[t]
    return pd.Series(y[burn_in:], name="y")


def _rng(random_state: object) -> np.random.Generator:
    """NumPy's generator for ``random_state``, or a ValueError naming the argument."""
    ok = random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool))
    if not ok or (random_state is not None and random_state < 0):
        raise ValueError(f"random_state must be None or an integer >= 0, got {random_state!r}")
    return np.random.default_rng(None if random_state is None else int(random_state))


def _index(start: object, n_samples: int, freq: object) -> pd.DatetimeIndex:
    """``n_samples`` stamps from ``start`` at ``freq``, or a ValueError naming the bad argument."""
    try:
        offset = None if freq is None else pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        offset = None
    if offset is None or offset.n <= 0:  # a step of 0 or below gives no increasing time index
        raise ValueError(f"freq must be a positive pandas frequency such as 'h', '15min' or 'D', got {freq!r}")
    first = _start(start)
    try:
        return pd.date_range(first, periods=n_samples, freq=offset)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise ValueError(
            f"n_samples={n_samples} steps of freq={freq!r} from start={start!r} run past the last date pandas "
            "holds; choose fewer samples, a shorter freq or an earlier start"
        ) from None


def _start(start: object) -> pd.Timestamp:
    """``start`` as a time stamp; a bare number is refused, since pandas would read 2024 as 2024 ns after 1970."""
    try:
        first = None if isinstance(start, numbers.Number) else pd.Timestamp(start)
    except (ValueError, TypeError):
        first = None
    if first is None or first is pd.NaT:
        raise ValueError(f"start must be a date such as '2024-01-01', got {start!r}")
    return first


def _ar_coefficients(coefficients: object) -> np.ndarray:
    """Finite, real (not bool or str), 1-D and stationary AR coefficients (NaN would only fail later, in np.roots)."""
    try:
        raw = np.asarray(coefficients, dtype=object)
    except (TypeError, ValueError):
        raw = np.empty(0, dtype=object)  # ragged: reported below with the other shape errors
    # element by element: a float cast would read True as 1.0 and "0.5" as 0.5 without a word
    real = raw.ndim == 1 and all(isinstance(c, numbers.Real) and not isinstance(c, (bool, np.bool_)) for c in raw)
    coef = raw.astype(float) if real else np.empty(0)
    if len(coef) == 0 or not np.isfinite(coef).all():
        raise ValueError(
            "coefficients must be a non-empty 1-D sequence of finite numbers (real, not bools or strings), "
            f"lag 1 first; got {coefficients!r}"
        )
    roots = np.roots(np.concatenate([[1.0], -coef]))
    if np.any(np.abs(roots) >= 1.0):
        raise ValueError("the AR process is not stationary: choose coefficients with all roots inside the unit circle")
    return coef


def make_seasonal(
    n_samples: int = 2000,
    period: int = 24,
    n_channels: int = 1,
    freq: str = "h",
    noise: float = 0.1,
    random_state: int | None = 0,
    start: str = "2024-01-01",
) -> tuple[pd.DataFrame, np.ndarray]:
    """A random but fixed cycle of ``period`` steps per channel, repeated, plus noise.

    Row ``t`` of the series is ``cycle[t mod period] + noise * e_t`` with standard normal ``e_t``;
    the cycle's values are standard normal too, drawn from the same generator.

    Parameters
    ----------
    n_samples : int, default=2000
        Rows of the series (>= 1).
    period : int, default=24
        Length of the cycle in steps (>= 1).
    n_channels : int, default=1
        Number of series (columns), each with its own cycle (>= 1).
    freq : str, default="h"
        pandas frequency of the index, a positive step (``"-1h"`` or ``"0h"`` is refused).
    noise : float, default=0.1
        Standard deviation of the noise (>= 0).
    random_state : int or None, default=0
        Seed of :func:`numpy.random.default_rng`; None draws fresh randomness.
    start : str, default="2024-01-01"
        Where the index starts (a date string, datetime or Timestamp; a bare number such
        as 2024 is refused, as pandas would read it as nanoseconds after 1970). The default starts
        at midnight, so that with ``freq="h"`` and ``period=24`` the phase of a row
        (``t mod period``) is its hour of the day. With an anchored frequency (``"W-TUE"``,
        ``"B"``) the first stamp is the first of the frequency on or after ``start``.

    Returns
    -------
    y : pandas.DataFrame
        Shape ``(n_samples, n_channels)``, columns ``y0, y1, ...``, DatetimeIndex at ``freq``.
    cycle : numpy.ndarray
        The true cycle, shape ``(period, n_channels)``; row ``p`` is phase ``p``.

    Raises
    ------
    ValueError
        A count that is not a positive integer, a negative or non-finite ``noise``, a
        ``random_state`` that is not None or an integer >= 0, a ``freq`` or ``start`` pandas
        cannot read, or an index that would run past the last date pandas holds.

    Examples
    --------
    >>> y, cycle = make_seasonal(n_samples=48, period=24)
    >>> y.shape, cycle.shape
    ((48, 1), (24, 1))
    """
    n_samples, period = check_int("n_samples", n_samples), check_int("period", period)
    n_channels, noise = check_int("n_channels", n_channels), check_float("noise", noise)
    _check_memory(n_samples * n_channels + period * n_channels, f"n_samples={n_samples} x n_channels={n_channels}")
    rng = _rng(random_state)
    cycle = rng.standard_normal((period, n_channels))
    phase = np.arange(n_samples) % period
    values = cycle[phase] + noise * rng.standard_normal((n_samples, n_channels))
    index = _index(start, n_samples, freq)
    columns = [f"y{i}" for i in range(n_channels)]
    return pd.DataFrame(values, index=index, columns=columns), cycle


#: values a generator makes without asking the machine's memory: 80 MB in float64
_SMALL = 10**7


def _check_memory(n_values: int, what: str) -> None:
    """Refuse a series that cannot fit in the memory this process may use (three float64 copies: the
    draws, the values and the frame): numpy's bare MemoryError named no argument."""
    if n_values <= _SMALL:  # the usual sizes: no need to read the machine's memory
        return
    from tsrec.kernels._memory import physical_memory  # noqa: PLC0415 - imports torch, as load_ucr's check does

    memory, need = physical_memory(), 3 * 8 * n_values
    if memory is not None and need > memory:
        raise ParameterError(f"{what} asks for {n_values:,} values, about {need / 2**30:.3g} GiB with the working "
                             f"copies, more than the {memory / 2**30:.3g} GiB of memory this process may use; "
                             "ask for fewer")
