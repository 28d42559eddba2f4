"""The values of a classifier's X once it is one numpy array: NaN or inf refused with a fix for
series, and a cast to float32 that rounds away a channel's variation warned of; likewise for a
forecaster's standardised contexts."""

from __future__ import annotations

import numpy as np

from tsrec._warn import warn_user
from tsrec.estimators.errors import InputError


def check_finite(X: np.ndarray, given: object = None) -> None:
    """Refuse NaN or inf in numpy3D ``X`` with a fix for series (scikit-learn's imputers take 2-D tables only).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_channels, n_timepoints)
    given : object, optional
        X as given, before its cast to the network's dtype: where every value that is not finite was
        finite there (beyond float32's range), the fix is to rescale, not to fill.

    Raises
    ------
    InputError
        Naming how many values are NaN or inf and where the first one is.
    """
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    sample, channel, step = np.unravel_index(np.argmax(bad), bad.shape)
    where = f"sample {sample}, " + (f"channel {channel}, " if X.shape[1] > 1 else "") + f"timepoint {step}"
    if _overflowed_only(bad, given):
        raise InputError(
            f"X has {int(bad.sum())} value(s) beyond the range of {X.dtype} (largest {np.finfo(X.dtype).max:.3g}), "
            f"the first at {where}, which the network computes in; the classifiers do not rescale X: scale it "
            "first, e.g. standardise each channel by its mean and standard deviation over the training samples "
            "(the same statistics for X at predict time)"
        )
    n_nan = int(np.isnan(X).sum())
    counts = [f"{n_nan} missing value(s) (NaN)"] if n_nan else []
    if bad.sum() > n_nan:
        counts.append(f"{int(bad.sum()) - n_nan} infinite value(s) (inf, or beyond float32's range of 3.4e38)")
    raise InputError(
        f"X contains {' and '.join(counts)}, the first at {where}; the networks need finite series: fill "
        "missing values along time within each series and channel, e.g. forward then backward fill or linear "
        "interpolation (for one sample x of shape (n_channels, n_timepoints): "
        "pd.DataFrame(x.T).interpolate(limit_direction='both').to_numpy().T), and replace inf (rescale X if its "
        "values exceed float32's range)"
    )


def _overflowed_only(bad: np.ndarray, given: object) -> bool:
    """Whether each value flagged in ``bad`` was finite in ``given`` (X before its cast)."""
    if given is None:
        return False
    original = np.asarray(given)  # an array as it is; a list is stacked, as validation stacked it
    if original.dtype.kind not in "iuf" or original.size != bad.size:
        return False
    return bool(np.isfinite(original.reshape(bad.shape)[bad]).all())


def warn_rounded_away(original: object, cast: np.ndarray) -> None:
    """Warn where casting X to float32 (the networks' precision) rounds away much of a channel's
    variation: a level of 1e9 varying by 10 becomes one value in float32 (steps of 64 there), and
    the classifier then trains on rounding, to chance, with no word (X is not rescaled).

    Parameters
    ----------
    original : object
        X as given (array or list of arrays); checked where its dtype has values float32 lacks (float64, int64).
    cast : ndarray
        X after validation, in the dtype the network reads.
    """
    if cast.dtype != np.float32 or cast.size == 0 or not np.isfinite(cast).all():  # these are refused after this
        return
    original = np.asarray(original)  # an array as it is; a list is stacked, as validation stacked it
    if original.dtype.kind not in "iuf" or np.can_cast(original.dtype, np.float32) or original.shape != cast.shape:
        return  # float32 holds every float16 and int16 exactly
    axes = (0, 2) if original.ndim == 3 else tuple(range(original.ndim))
    spread = np.atleast_1d(original.std(axis=axes))  # per channel (2-D X: one, as scalars)
    error = np.atleast_1d(np.sqrt(np.mean((original - cast) ** 2, axis=axes)))
    varies = np.atleast_1d(original.max(axis=axes) > original.min(axis=axes))  # a constant 0.1's std is 1e-17
    lost = varies & (error > 1e-3 * spread)
    if not lost.any():
        return
    channels = np.flatnonzero(lost).tolist()
    c = channels[0]
    level = float(np.atleast_1d(np.abs(original).max(axis=axes))[c])
    warn_user(
        f"X's channel(s) {channels[:10]} vary little for their size (channel {c}: standard deviation "
        f"{spread[c]:.3g} at values up to {level:.3g}), and casting X to float32 for the network "
        f"rounds them by {error[c]:.3g} on average: the classifier would see mostly rounding; "
        "subtract each channel's mean (or standardise each sample) first, or fit with precision='64-true'"
    )


#: a channel's level in its standard deviations, and its smallest standard deviation, beyond which the networks
#: learned nothing: a sine against noise (std 0.72) that PGN and S-Mamba classify perfectly left both at chance
#: at a level of 30 (10 was fine) and scaled by 1e-4 (1e-3 was fine), with no word (X is not rescaled)
FAR_LEVEL, SMALL_STD = 20.0, 1e-3


def warn_far_from_unit_scale(X: np.ndarray) -> None:
    """Warn where a channel of the training ``X`` lies far from the unit scale the networks learn at:
    its mean beyond ``FAR_LEVEL`` standard deviations, or its standard deviation under ``SMALL_STD``."""
    if X.size == 0 or not np.isfinite(X).all():  # refused after this
        return
    axes = (0, 2) if X.ndim == 3 else tuple(range(X.ndim))
    # accumulated in float64 without a float64 copy of X (fit runs this on the whole training set); a
    # float64 X near 1e200 overflows the squares (no level is then "far": training names the overflow)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.atleast_1d(X.mean(axis=axes, dtype=np.float64))
        std = np.atleast_1d(X.std(axis=axes, dtype=np.float64))
    far = (std > 0) & ((np.abs(mean) > FAR_LEVEL * std) | (std < SMALL_STD))
    if not far.any():
        return
    channels = np.flatnonzero(far).tolist()
    c = channels[0]
    warn_user(
        f"X's channel(s) {channels[:10]} lie far from unit scale (channel {c}: mean {mean[c]:.3g}, standard deviation "
        f"{std[c]:.3g}); the classifier does not rescale X, and at a level beyond {FAR_LEVEL:g} standard deviations "
        f"or a standard deviation under {SMALL_STD:g} its network may learn nothing (PGN and S-Mamba stayed at "
        "chance on a task they solve standardised): standardise each channel by its mean and standard deviation "
        "over the training samples, and X at predict time by the same"
    )


#: the level, in training standard deviations, from which float32 may round a context's own variation away
#: (at 1e3 it rounds by 3e-5 of one: contexts nearer the training data's level are not read twice)
ROUNDING_LEVEL = 1e3


def warn_channels_last(X: np.ndarray) -> None:
    """Warn where a 3-D array has more channels than timepoints: tslearn's and Keras' layout,
    (n_samples, n_timepoints, n_channels), reads so, and trains on each step's channel vector as
    if it were a series. A warning: a few UEA sets do have more channels than timepoints."""
    _, channels, timepoints = X.shape
    if channels > timepoints:
        warn_user(f"X has {channels} channels of {timepoints} timepoints each (X is read as (n_samples, n_channels, "
                  "n_timepoints)); if it is (n_samples, n_timepoints, n_channels), as tslearn and Keras lay it out, "
                  "pass X.transpose(0, 2, 1)")


def distance_units(scaler: str) -> str:
    """How a standardised value's distance from 0 reads, for a forecaster's ``scaler``."""
    if scaler == "robust":
        return "robust training scales from the training median"
    return "training standard deviations from the training mean"


def warn_rounded_context(context: np.ndarray, float32: bool, keys: list | None, scaler: str = "standard") -> None:
    """Warn where the network's float32 rounds away much of a context's own variation: standardised,
    a context 1e9 training standard deviations off varies by steps of 64 in float32, and the forecast
    then reads rounding (CycleNet's came out 130 off where its instance norm would take the level away).

    Parameters
    ----------
    context : ndarray of shape (n_contexts, lookback, n_variates)
        The standardised contexts, in float64.
    float32 : bool
        Whether the network reads float32 (not with ``precision="64-true"``).
    keys : list or None
        The series of each context, for the message.
    scaler : {"standard", "robust"}
        The forecaster's ``scaler``: the units of the message.
    """
    if not float32 or context.size == 0 or np.abs(context).max() <= ROUNDING_LEVEL:
        return
    error = np.sqrt(np.mean((context - context.astype(np.float32)) ** 2, axis=1))  # (contexts, variates)
    spread = context.std(axis=1)
    lost = (spread > 0) & (error > 1e-3 * spread)
    if not lost.any():
        return
    row, variate = np.argwhere(lost)[0]
    series = "" if keys is None or keys[row] is None else f" of series {keys[row]!r}"
    warn_user(
        f"the context{series} lies {float(np.abs(context[row]).max()):.3g} {distance_units(scaler)}, "
        f"where float32 (the network's precision) rounds it by {error[row, variate]:.3g} on average, "
        f"more than a thousandth of its own variation ({spread[row, variate]:.3g}): the forecast would read mostly "
        "rounding; pass values nearer the training data's level (subtract an offset, and add it to the forecast), "
        "or fit with precision='64-true'"
    )


#: a context's mean, in training standard deviations from the training mean, beyond which a network that does
#: not take each window's level away reads a level it never saw: ARNet, fitted on a unit sine, forecast -53 to -69
#: for a context 50 higher, and LS4 about 0 for one 50 to 1e6 higher, with no word
FAR_CONTEXT = 10.0


def warn_far_context(est: object, context: np.ndarray, keys: list | None) -> None:
    """Warn where a standardised context (n_contexts, lookback, n_variates) lies on average more than
    :data:`FAR_CONTEXT` training standard deviations from the training mean, for a forecaster
    whose network reads each window's level as it is (``est._window_norm`` false or set false)."""
    flag = est._window_norm
    if (est._as_fitted(flag) if isinstance(flag, str) else flag) or context.size == 0:
        return
    level = np.abs(context.mean(axis=1))
    if not (level > FAR_CONTEXT).any():
        return
    row, variate = np.argwhere(level > FAR_CONTEXT)[0]
    series = "" if keys is None or keys[row] is None else f" of series {keys[row]!r}"
    fix = f"fit with {flag}=True, which" if isinstance(flag, str) else "use a forecaster that"
    warn_user(
        f"the context{series} lies {level[row, variate]:.3g} {distance_units(est.scaler)} on "
        f"average, far outside the levels {type(est).__name__} was fitted on, and its network reads the level as it "
        f"is: the forecast extrapolates and may be far off; fit on data that reaches this level, or {fix} takes "
        "each window's level away",
        RuntimeWarning,
    )
