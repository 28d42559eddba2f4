"""New data's variates against a fitted forecaster's: same count, and by name and order."""

from __future__ import annotations

import pandas as pd

from tsrec.estimators.errors import InputError


def check_variates(est, inner: pd.DataFrame, named: bool) -> None:
    """New data must hold ``est``'s fitted variates; a multivariate model's also by name and order,
    unless either side has no names (a NumPy array; sktime numbers its columns 0, 1, ...)."""
    if inner.shape[1] != est.n_channels_:
        raise InputError(
            f"y has {inner.shape[1]} variates but the forecaster was fitted on {est.n_channels_} "
            f"({est.columns_}); pass the same variates in the same order"
        )
    if named and not variates_match(est, list(inner.columns)):
        raise InputError(
            f"y has the variates {list(inner.columns)} but the forecaster was fitted on {est.columns_}; "
            "select and order the columns as in fit, e.g. y[est.columns_]"
        )


def variates_match(est, names: list) -> bool:
    """Whether ``names`` are ``est``'s fitted variates in order (compared as text, as files name
    them). Variates 0..n-1 at fit may be an array's numbers, which any names match, unless the
    names are those same numbers in another order."""
    fitted, names = [str(c) for c in est.columns_], [str(c) for c in names]
    numbered = list(est.columns_) == list(range(est.n_channels_))
    return est.n_channels_ == 1 or names == fitted or (numbered and set(names) != set(fitted))
