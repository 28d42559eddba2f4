"""Input checks of :func:`tsrec.tuning.tune`, and the study it runs (made or checked here).

Every check runs before the first trial trains, so a wrong argument costs no training time.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from types import TracebackType
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import clone

from tsrec.estimators._class_weights import class_weights
from tsrec.estimators._classifier import DeepClassifier
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._horizon import aligned_fh, relative_steps
from tsrec.estimators._panel_shapes import series_per_sample
from tsrec.estimators._params import check_val_size as estimator_val_size
from tsrec.estimators._params import seed_of, training_config
from tsrec.estimators._series import split_panel
from tsrec.estimators._seeding import fit_lock
from tsrec.estimators._timeindex import infer_freq
from tsrec.estimators._updates import check_remembers_data
from tsrec.estimators._trainer import make_trainer, quiet_lightning
from tsrec.estimators._training import TrainingConfig
from tsrec.errors import InputError, ParameterError, TuningSetupError

#: epochs during which the default pruner never prunes (the first ones are noisy)
DEFAULT_WARMUP_EPOCHS = 2
#: trials that always run to the end before the default pruner starts comparing
DEFAULT_STARTUP_TRIALS = 5


def check_n_trials(n_trials: object, timeout: object) -> None:
    """``n_trials`` a positive int (or None with a timeout), ``timeout`` None or seconds > 0."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0
    ):
        raise ParameterError(f"timeout must be None or a number of seconds > 0, got {timeout!r}")
    if n_trials is None and timeout is not None:
        return
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise ParameterError(f"n_trials must be a positive integer (or None together with a timeout), got {n_trials!r}")


def estimator_kind(estimator: object) -> str:
    """"forecaster" or "classifier" for a tsrec estimator; anything else is refused.

    Only tsrec's fits take the pruning callback (through the engine) and record the
    ``history_["best_val_loss"]`` a trial is scored by, so pipelines and other libraries'
    estimators cannot be tuned here.
    """
    for kind, base in (("forecaster", DeepForecaster), ("classifier", DeepClassifier)):
        if isinstance(estimator, base):  # every registered estimator derives from one of the two
            return kind
        if isinstance(estimator, type) and issubclass(estimator, base):
            raise ParameterError(f"tune takes an estimator, not its class: pass {estimator.__name__}(...), e.g. "
                                 f"tune({estimator.__name__}(val_size=0.2), ...)")
    raise ParameterError(
        f"tune takes a tsrec estimator (see tsrec.all_estimators()), got {type(estimator).__name__}. To tune "
        "a pipeline, tune its tsrec estimator on data transformed as the pipeline does, then build the "
        "pipeline with result.best_params; or search the whole pipeline with sktime's "
        "ForecastingOptunaSearchCV or scikit-learn's GridSearchCV"
    )


def check_data(kind: str, data: tuple) -> None:
    """The data arguments in the order ``fit`` takes them: ``(y[, X])`` or ``(X, y)``."""
    if kind == "classifier" and len(data) != 2:
        raise ParameterError(
            f"for a classifier, pass the series and the labels as in fit: tune(classifier, X, y); "
            f"got {len(data)} data argument(s)"
        )
    if kind == "forecaster" and len(data) not in (1, 2):
        raise ParameterError(
            f"for a forecaster, pass the series (and exogenous data) as in fit: tune(forecaster, y) or "
            f"tune(forecaster, y, X); got {len(data)} data argument(s)"
        )
    first = "X" if kind == "classifier" else "y"
    if data[0] is None:
        raise InputError(f"{first} is None; pass the training data")
    if kind == "classifier" and data[1] is None:
        raise InputError("y is None; a classifier needs the class labels: tune(classifier, X, y)")
    labels_first = (kind == "classifier" and isinstance(data[0], (np.ndarray, pd.Series)) and data[0].ndim == 1
                    and getattr(data[1], "ndim", 0) in (2, 3) and not series_per_sample(data[0]))
    if labels_first:
        raise InputError(f"the first data argument is 1-D and the second {data[1].ndim}-D: the labels seem to "
                         "come first; pass them in fit's order, tune(classifier, X, y)")


def check_val_size(estimator: object) -> None:
    """The estimator holds out a validation split: trials are scored on it."""
    params = estimator.get_params()
    name = type(estimator).__name__
    if "val_size" not in params:
        raise ParameterError(
            f"{name} has no val_size parameter; tune scores each trial by its validation loss, so it "
            "needs an estimator that holds out a validation split"
        )
    val_size = params["val_size"]
    if isinstance(val_size, numbers.Real) and not isinstance(val_size, bool) and val_size <= 0:
        raise ParameterError(
            f"{name} has val_size={val_size!r}, so no validation loss to tune on; set val_size, e.g. "
            f"{name}(..., val_size=0.2) or estimator.set_params(val_size=0.2)"
        )


def check_sampled(params: object, valid: set[str], name: str, unit_params: tuple[str, ...] = (),
                  split_params: tuple[str, ...] = ("val_size",)) -> dict[str, Any]:
    """What a search space returned: a dict of parameters the estimator takes, none of which
    (``scaling``, or the estimator's ``unit_params``) changes the units of the validation loss,
    nor (``split_params``) the validation data the trials are compared on."""
    if not isinstance(params, dict):
        raise ParameterError(f"the search space must return a dict of parameters, got {type(params).__name__}")
    if not params:
        raise TuningSetupError("the search space returned no parameters ({}): every trial would fit the same "
                               "estimator; return the parameters to search, e.g. {'lr': trial.suggest_float('lr', "
                               "1e-4, 1e-2, log=True)}")
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ParameterError(
            f"the search space returned parameter(s) {unknown} that {name} does not take; "
            f"valid parameters are {sorted(valid)}"
        )
    split = [param for param in split_params if param in params]
    if split:  # trials scored on different data: their losses say nothing about the parameters
        raise TuningSetupError(
            f"the search space returned {split[0]!r}, which changes the validation data that trials are compared "
            f"on; set it on the estimator ({name}(..., {split[0]}=...)) and search the rest"
        )
    if "horizon" in params:  # a forecaster's: a loss over 1 step is lower than one over 8, whatever the parameters
        raise TuningSetupError(
            "the search space returned 'horizon', which sets the forecast steps each validation window's loss "
            "averages over, so trials of other horizons are not comparable; set it on the estimator and search the "
            "rest, or compare horizons on the same forecast steps, e.g. with sktime's ForecastingGridSearchCV"
        )
    if "class_weight" in params:  # a classifier's
        raise TuningSetupError(
            "the search space returned 'class_weight', which weighs the classes in the validation loss that trials "
            "are compared by, so trials of other weights are not comparable; set it on the estimator and search the "
            "rest, or compare weights on a fixed metric, e.g. with scikit-learn's GridSearchCV(..., "
            "scoring='balanced_accuracy')"
        )
    units = [param for param in ("scaling", "scaler", "loss", "huber_delta", *unit_params) if param in params]
    if units:
        raise TuningSetupError(
            f"the search space returned {units[0]!r}, which sets the units of the validation loss that trials "
            "are compared by (e.g. squared or absolute errors; each series' standard deviations, those of all series "
            "together, or interquartile ranges); set it on the estimator and search the rest, or compare its values "
            "on a metric in the data's units, e.g. with sktime's ForecastingGridSearchCV"
        )
    return params


def split_params(estimator: object) -> tuple[str, ...]:
    """Parameters that change a fit's validation data: ``val_size``, and a classifier's
    ``random_state``, which draws its stratified split."""
    return ("val_size", "random_state") if isinstance(estimator, DeepClassifier) else ("val_size",)


def clone_estimator(estimator: Any) -> Any:
    """An unfitted copy with the same parameters; an sktime estimator's copy keeps its config too."""
    return estimator.clone() if callable(getattr(estimator, "clone", None)) else clone(estimator)


def check_fixed_params(estimator: Any, data: tuple, fit_params: dict, windows_fixed: bool = False) -> None:
    """The estimator's own parameters, ``fit_params`` and the data, checked as ``fit`` checks them:
    a mistake there failed every trial alike (until ``timeout``, with ``n_trials=None``).

    Parameters
    ----------
    estimator : tsrec estimator
        The estimator to tune (not changed: a clone is checked).
    data : tuple
        The data arguments of ``fit``.
    fit_params : dict
        Extra keyword arguments of ``fit``; a forecaster's ``fh`` is checked as its ``fit`` checks it.
    windows_fixed : bool, default=False
        True when the search space samples no window length (``WINDOW_PARAMS``) or data-read
        setting (tsrec's own spaces): then the data must be long enough for the estimator's own
        windows, and give the cycle length or period it reads from the time step, as every
        trial's fit requires.

    Raises
    ------
    TypeError
        ``fit_params`` that ``fit`` does not take, or an ``fh`` of a type sktime does not read.
    ValueError
        Parameters or data ``fit`` refuses (``InputError``), in-sample steps in ``fh``
        (``InSampleError``), or series shorter than the fixed window lengths.
    """
    probe = clone_estimator(estimator)
    probe._check_params()
    config = training_config(probe)  # the shared ones: max_epochs, lr, trainer_kwargs, ...
    estimator_val_size(probe.val_size)
    try:
        inspect.signature(probe.fit).bind(*data, **fit_params)
    except TypeError as err:
        raise ParameterError(
            f"fit_params {sorted(fit_params)} do not fit {type(estimator).__name__}.fit: {err}"
        ) from None
    probe._check_shared_params()  # what fit checks before the data, besides the parameters above
    flat = probe._fit_data(*data)  # bad data (NaN, one class) too
    if isinstance(probe, DeepClassifier):  # class_weight's labels must be classes of y
        class_weights(probe.class_weight, probe.classes_, flat[1], np.arange(len(flat[1])))
    if isinstance(probe, DeepForecaster):
        check_remembers_data(probe)
        check_fit_fh(fit_params.get("fh"), flat)
        if windows_fixed:
            parts = split_panel(flat)
            probe._check_lengths(parts, probe._lookback_length() + probe._horizon_length())
            network_meta(probe, parts)
    check_trainer_settings(config)


def network_meta(forecaster: DeepForecaster, parts: list) -> dict:
    """What the network reads from the data: a cycle length or period from the time step (none from
    integer stamps), PGN's windows as multiples of that period; the fit's InputError otherwise."""
    return forecaster._network_meta(infer_freq(parts[0][1].index), parts[0][1].shape[1])


def check_trainer_settings(config: TrainingConfig) -> None:
    """The Trainer a trial's fit builds, built once here: an accelerator, devices or precision
    the machine lacks fails every trial alike."""
    # quiet_lightning also restores the torch settings a Trainer(deterministic=True) changes; a
    # warning here (a notebook's devices='auto') comes again from the trials' fits
    with fit_lock(), warnings.catch_warnings(), quiet_lightning():  # process-wide: one thread at a time
        warnings.simplefilter("ignore")
        make_trainer(config, [], has_val=True)


def check_fit_fh(fh: object, flat: Any) -> None:
    """A forecaster's ``fit_params["fh"]``, read as its ``fit`` reads it (:func:`aligned_fh`) and
    refused, as ``predict`` refuses them, where it names in-sample steps: sktime's ``fit`` would
    refuse those in every trial."""
    if fh is None:
        return
    try:
        aligned = aligned_fh(fh, flat)  # stamps off the grid or before the end: InputError / InSampleError
        if aligned.is_relative:
            relative_steps(aligned)  # InSampleError for steps <= 0, InputError for no steps or non-integers
    except InputError as err:  # the same class, so that callers catching the fit's error catch this one
        raise type(err)(f"fit_params['fh']: {err}") from None
    except TypeError as err:  # sktime's ForecastingHorizon: a type it does not read
        raise ParameterError(f"fit_params['fh'] is not a forecasting horizon: {err}; pass steps after the end of the "
                             "data, e.g. fit_params={'fh': [1, 2, 3]}") from None


def check_window_lengths(estimator: Any, parts: list, trial: int, meta_fixed: bool = False) -> None:
    """Every series is long enough for the estimator's fixed window lengths, checked before a trial
    whose space sampled none: the fit's own InputError, which every trial would repeat, stops the search.

    ``meta_fixed``: the space samples nothing the network reads with the data either (``META_PARAMS``
    of :mod:`tsrec.tuning._objective`), so a period the step cannot give is every trial's error too.
    """
    try:
        estimator._check_lengths(parts, estimator._lookback_length() + estimator._horizon_length())
        if meta_fixed:
            network_meta(estimator, parts)
    except InputError as err:
        sampled = "no window length (lookback, n_lags)" if not meta_fixed else (
            "no window length, period or cycle length")
        raise TuningSetupError(f"trial {trial}: {err}; every trial would repeat it, as the search space samples "
                               f"{sampled}") from err


def distribution_clash(err: ValueError, study: optuna.Study) -> TuningSetupError | None:
    """The error for Optuna's refusal of a parameter whose distribution (a categorical's choices,
    the kind, a log scale) differs from the one the study's earlier trials sampled, or None for
    another ValueError. Optuna's message names neither the parameter nor the distributions: they
    are read from the frame of ``Trial._suggest`` that raised it."""
    suggest = _suggest_frame(err.__traceback__)
    if suggest is None:
        return None
    name, new = suggest.get("name"), suggest.get("distribution")
    old = next((t.distributions[name] for t in study.get_trials(deepcopy=False) if name in t.distributions), None)
    if _as_lists(getattr(new, "choices", None)) == _as_lists(getattr(old, "choices", 0)):
        return TuningSetupError(
            f"the search space samples {name!r} from the choices {list(new.choices)} as before, but this study's "
            f"storage kept them as {list(old.choices)} (JSON has no tuples), which Optuna takes for other choices "
            f"({err}); to continue a stored study, sample strings (e.g. '8,4') and turn them into tuples in the "
            "space, or search tuple choices in an in-memory study"
        )
    return TuningSetupError(
        f"the search space samples {name!r} as {_described(new)}, but earlier trials of this study sampled it as "
        f"{_described(old)}, and Optuna cannot mix the two in one study ({err}); pass a new study (or a new "
        f"study_name) to search these choices, or give {name!r} the same ones as before to continue this study"
    )


def _as_lists(choices: object) -> object:
    """Categorical choices with tuples as lists, as a JSON storage gives them back."""
    return [list(c) if isinstance(c, tuple) else c for c in choices] if isinstance(choices, (tuple, list)) else choices


def range_error(err: ValueError) -> TuningSetupError | None:
    """Optuna's refusal of a range or choices (``low <= high``, ``low > 0`` on a log scale, no
    choices), which names no parameter, as an error naming it; None for another ValueError."""
    suggests = [frame for frame in _frames(err.__traceback__) if frame.f_code.co_name.startswith("suggest_")
                and frame.f_globals.get("__name__", "").startswith("optuna.")]
    name = suggests[-1].f_locals.get("name") if suggests else None
    if name is None:
        return None
    if "not found in the given grid" in str(err):  # GridSampler's: a range would not help
        return TuningSetupError(
            f"the search space samples {name!r}, which the GridSampler's grid lacks; add it to the grid "
            f"(optuna.samplers.GridSampler({{..., {name!r}: [...]}})), or pass a space of the grid's parameters only"
        )
    return TuningSetupError(f"the search space's {name!r}: {str(err).rstrip('.')}; give it a valid range or choices")


def _frames(tb: TracebackType | None) -> list:
    """The frames of a traceback, outermost first."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _suggest_frame(tb: TracebackType | None) -> dict | None:
    """The locals of Optuna's ``Trial._suggest`` where a distribution compatibility check raised."""
    frames = _frames(tb)
    if not frames or frames[-1].f_code.co_name != "check_distribution_compatibility":
        return None
    return next((f.f_locals for f in reversed(frames) if f.f_code.co_name == "_suggest"), None)


def _described(distribution: object) -> str:
    """A distribution as the user wrote it: a categorical's choices, else Optuna's repr."""
    choices = getattr(distribution, "choices", None)
    return f"choices {list(choices)}" if choices is not None else repr(distribution)


def check_validation_limit(estimator: object) -> None:
    """Every trial validates every window: Lightning's ``limit_val_batches`` counts batches, so
    trials of different ``batch_size`` would be scored on different windows."""
    limit = (estimator.get_params().get("trainer_kwargs") or {}).get("limit_val_batches", 1.0)
    if not (limit is None or isinstance(limit, float) and limit == 1.0):  # Lightning reads None as 1.0
        raise TuningSetupError(
            f"trainer_kwargs has limit_val_batches={limit!r}: trials would be scored on different validation "
            "windows (it counts batches, and batch sizes differ between trials); drop it and shorten the "
            "validation split with val_size instead"
        )


def _check_plugin(name: str, value: object, base: type, example: str) -> None:
    """``value`` is None or an instance of Optuna's ``base`` (not a name, not the class itself)."""
    if value is None or isinstance(value, base):
        return
    got = f"the class {value.__name__}" if isinstance(value, type) else type(value).__name__
    raise ParameterError(f"{name} must be an optuna {name} instance or None, got {got}; pass e.g. {name}={example}")


def make_study(
    study: optuna.Study | None,
    sampler: optuna.samplers.BaseSampler | None,
    pruner: optuna.pruners.BasePruner | None,
    random_state: int | None,
) -> optuna.Study:
    """A new minimising study with the given or default sampler and pruner, or the checked ``study``.

    ``random_state`` seeds the default ``TPESampler``; None is seed 0, as in the estimators.
    """
    _check_plugin("sampler", sampler, optuna.samplers.BaseSampler, "optuna.samplers.TPESampler(seed=0)")
    _check_plugin("pruner", pruner, optuna.pruners.BasePruner, "optuna.pruners.MedianPruner()")
    if study is not None:
        return _check_study(study, sampler, pruner, random_state)
    if sampler is None:
        sampler = optuna.samplers.TPESampler(seed=seed_of(random_state, "Optuna's TPESampler"))
    elif random_state is not None:
        raise ParameterError(
            "random_state seeds only the default sampler; seed the sampler you pass instead, e.g. "
            "sampler=optuna.samplers.RandomSampler(seed=0), and drop random_state"
        )
    if pruner is None:
        pruner = optuna.pruners.MedianPruner(
            n_startup_trials=DEFAULT_STARTUP_TRIALS, n_warmup_steps=DEFAULT_WARMUP_EPOCHS
        )
    return optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)


def _check_study(study: object, sampler: object, pruner: object, random_state: object) -> optuna.Study:
    """A study to continue: minimising, single-objective, with no sampler, pruner or seed besides it."""
    if not isinstance(study, optuna.Study):
        raise ParameterError(f"study must be an optuna.Study or None, got {type(study).__name__}")
    given = [n for n, v in (("sampler", sampler), ("pruner", pruner), ("random_state", random_state)) if v is not None]
    if given:
        raise ParameterError(
            f"{given} cannot be passed together with study=: the study's own sampler and pruner are used. "
            "Give them to the study when you create it, e.g. seed it with "
            "optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0)) (a pruner= goes there too)"
        )
    if len(study.directions) != 1 or study.direction != optuna.study.StudyDirection.MINIMIZE:
        directions = [d.name.lower() for d in study.directions]
        raise ParameterError(f"study must be single-objective with direction='minimize' (tune minimises a validation "
                             f"loss), got direction(s) {directions}; create it with optuna.create_study(direction="
                             "'minimize'), or leave study out")
    return study
