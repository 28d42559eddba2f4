"""The parameters an estimator's network was built with, which a saved folder keeps.

A classifier's ``set_params`` after fit, or an attribute assigned after fit on any estimator,
leaves the fitted network as it was; saving the current parameters would rebuild another network
on load (or none that the weights fit).
"""

from __future__ import annotations

import copy

from tsrec._warn import warn_user


def remember_fitted_params(est) -> None:
    """Record the parameters ``est``'s network is being built with (what a saved folder keeps): a
    deep copy, as scikit-learn's ``clone`` takes them, so that a dict edited in place after fit
    (``est.class_weight[1] = 9.0``) is seen as a change, not saved as the fitted value."""
    est._fitted_params = {name: _copied(value) for name, value in est.get_params(deep=False).items()}


def _copied(value: object) -> object:
    """A deep copy of ``value``; the value itself where it cannot be copied (a Lightning callback or
    logger in ``trainer_kwargs`` holding a lock): such a parameter is then compared as before."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - any object's own refusal; the record must not fail the fit
        return value


def fitted_value(est, name: str) -> object:
    """Parameter ``name`` as the network was built with it: an attribute assigned or set after fit
    does not change the fitted network; before fit, while fitting, and for pickles from before tsrec
    recorded the fitted values, the current value."""
    fitted = getattr(est, "_fitted_params", None)
    return fitted[name] if fitted and name in fitted else getattr(est, name)


def fitted_params(est) -> dict:
    """The parameters the model was fitted with; a parameter changed since (``set_params`` on a
    classifier, an attribute assigned on any estimator) does not change the fitted network, so the
    saved folder keeps the fitted value and a warning names the change."""
    current = est.get_params(deep=False)
    fitted = getattr(est, "_fitted_params", None)  # pickles from before tsrec recorded them: current
    if fitted is None:
        return current
    changed = [name for name in fitted if name in current and not _same(fitted[name], current[name])]
    if changed:
        listed = ", ".join(f"{name}={fitted[name]!r} (now {current[name]!r})" for name in changed)
        warn_user(f"{type(est).__name__} is saved with the parameters it was fitted with: {listed}; "
                  "the changes since fit are not saved. Fit again to save a model with the new values")
    return fitted


def _same(a: object, b: object) -> bool:
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):  # arrays and other values without one truth value
        return False
