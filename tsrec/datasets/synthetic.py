"""Synthetic series with known answers, for tests and tutorials."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec._checks import check_float, check_int


def make_ar(
    coefficients: tuple[float, ...] = (0.2, 0.3, -0.5),
    n_samples: int = 10_000,
    noise: float = 0.1,
    random_state: int | None = 0,
    burn_in: int = 200,
) -> pd.Series:
    """Simulate y_t = sum_i coefficients[i] * y_{t-1-i} + noise * e_t (lag 1 first).

    Examples
    --------
    >>> y = make_ar((0.5,), n_samples=100)
    >>> len(y)
    100
    """
    coef = _ar_coefficients(coefficients)
    n_samples, burn_in = check_int("n_samples", n_samples), check_int("burn_in", burn_in, minimum=0)
    noise = check_float("noise", noise)
    rng = np.random.default_rng(random_state)
    total = n_samples + burn_in
    shocks = noise * rng.standard_normal(total)
    y = np.zeros(total)
    p = len(coef)
    for t in range(p, total):
        y[t] = coef @ y[t - p : t][::-1] + shocks[t]
    return pd.Series(y[burn_in:], name="y")


def _ar_coefficients(coefficients: object) -> np.ndarray:
    """Finite, real, 1-D and stationary AR coefficients (NaN would only fail later, in np.roots)."""
    try:
        coef = np.asarray(coefficients, dtype=float)
    except (TypeError, ValueError):
        coef = np.empty(0)  # not numbers: reported below with the other shape errors
    if coef.ndim != 1 or len(coef) == 0 or not np.isfinite(coef).all():
        raise ValueError(
            f"coefficients must be a non-empty 1-D sequence of finite numbers, lag 1 first; got {coefficients!r}"
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

    Returns the frame (DatetimeIndex at ``freq`` starting at midnight, so that the phase of row
    ``t`` is ``t mod period``) and the true cycle (period, n_channels), row p = phase p.

    Examples
    --------
    >>> y, cycle = make_seasonal(n_samples=48, period=24)
    >>> y.shape, cycle.shape
    ((48, 1), (24, 1))
    """
    n_samples, period = check_int("n_samples", n_samples), check_int("period", period)
    n_channels, noise = check_int("n_channels", n_channels), check_float("noise", noise)
    rng = np.random.default_rng(random_state)
    cycle = rng.standard_normal((period, n_channels))
    phase = np.arange(n_samples) % period
    values = cycle[phase] + noise * rng.standard_normal((n_samples, n_channels))
    index = pd.date_range(start, periods=n_samples, freq=freq)
    columns = [f"y{i}" for i in range(n_channels)]
    return pd.DataFrame(values, index=index, columns=columns), cycle
