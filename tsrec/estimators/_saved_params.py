"""Building an estimator from its saved parameters, which are checked first: a config edited with
its checksum recomputed is refused with a :class:`LoadError` before any network is built from it."""

from __future__ import annotations

import inspect
import warnings

from tsrec.estimators._params import check_val_size, training_config
from tsrec.estimators._saved_json import TUPLE_MARK, params_from_json
from tsrec.estimators.errors import LoadError

# no fitted model has a layer count, width or horizon this large: building its network would hang
# or exhaust memory (2**70 layers); a seed may be any integer
LARGEST_SIZE = 2**31
_ANY_SIZE = frozenset({"random_state"})


def construct(cls: type, params: dict, warn: bool = True):
    """``cls(**params)`` for the saved ``params``, checked by ``cls``'s own parameter checks and by
    the training-parameter checks every fit runs (those that need no data).

    Parameters
    ----------
    cls : type
        The registered estimator class the config names.
    params : dict
        The config's parameters, as JSON read them (tuples marked).
    warn : bool, default=True
        Give the warnings of ``cls._check_params`` (a parameter that has no effect); False where
        the load goes on to a fit that checks them again, so that each is given once.

    Returns
    -------
    estimator
        An unfitted ``cls`` with those parameters.

    Raises
    ------
    LoadError
        A name ``cls`` does not take (a plain TypeError would not say why), an integer above
        :data:`LARGEST_SIZE`, or a value ``cls._check_params`` or fit's training-parameter checks
        (lr, max_epochs, batch_size, patience, val_size, precision, trainer_kwargs ...) refuse.
    """
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        # a later tsrec's parameter (class_weight came without a new format version) or an edit
        raise LoadError(f"{unknown} are not parameters of {cls.__name__} in this tsrec: a newer tsrec saved the "
                        "folder (upgrade tsrec to load it) or it was edited")
    for name, value in params.items():
        if name not in _ANY_SIZE and _largest_int(value) > LARGEST_SIZE:
            raise LoadError(f"the saved parameter {name}={value!r} is far larger than any fitted model's (at most "
                            f"{LARGEST_SIZE}); the file was edited or damaged: save the model again")
    est = cls(**params_from_json(params))
    try:
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore")
            est._check_params()
        _check_training_params(est)
    except (ValueError, TypeError) as err:  # InputError is a ValueError
        raise LoadError(f"the saved parameters are refused by {cls.__name__} ({err}); the file was edited or "
                        "damaged: save the model again") from None
    return est


def _check_training_params(est) -> None:
    """The shared training parameters, checked as fit checks them before it reads any data: what
    needs the data (val_size against the series' lengths) or the machine (whether the accelerator
    and devices exist: a model fitted on a GPU loads on a CPU) is left to a later fit. Their
    warnings (patience without validation) were given at fit and are not repeated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        training_config(est)
        check_val_size(est.val_size)
        if hasattr(est, "_check_shared_params"):  # a forecaster's scaling, scaler and loss
            est._check_shared_params()


def _largest_int(value: object) -> int:
    """The largest magnitude of an integer in ``value`` (in lists and tuple marks too); 0 for none."""
    if isinstance(value, dict):
        value = value.get(TUPLE_MARK, [])
    if isinstance(value, list):
        return max((_largest_int(item) for item in value), default=0)
    return abs(value) if isinstance(value, int) and not isinstance(value, bool) else 0
