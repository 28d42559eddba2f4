"""``tune``: Optuna hyper-parameter search for any tsrec estimator, with pruning of bad trials.

Each trial clones the estimator, sets the sampled constructor parameters, and fits it with
Optuna's Lightning pruning callback added through :func:`tsrec.estimators._engine.extra_callbacks`
(no estimator takes a callback parameter). The callback reports the validation loss after every
epoch and stops a trial the pruner judges hopeless; a finished trial scores its best validation
loss, the same number the estimator's early stopping and best-weights restore use.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna

from tsrec._warn import warn_user
from tsrec.estimators._params import differs
from tsrec.errors import ParameterError
from tsrec.tuning._checks import (
    check_data, check_fixed_params, check_n_trials, check_val_size, check_validation_limit, estimator_kind, make_study,
)
from tsrec.tuning._objective import Objective
from tsrec.tuning.spaces import constructor_defaults, distributions_space, search_space

if TYPE_CHECKING:
    from tsrec.estimators._classifier import DeepClassifier
    from tsrec.estimators._forecaster import DeepForecaster


@dataclass
class TuneResult:
    """What :func:`tune` found: the best trial of the call and the study.

    :func:`tune` returns one; each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    best_estimator : estimator
        The estimator of the best trial, fitted in that trial (not refitted).
    best_params : dict
        The parameters the search space gave the best trial (set on ``best_estimator``).
    best_value : float
        The best trial's score: its lowest validation loss, ``best_estimator.history_["best_val_loss"]``
        (the number early stopping and the best-weights restore use). For forecasters the
        estimator's ``loss`` (the mean squared error by default, and SpaceTime's) on the scaled
        series, except :class:`~tsrec.estimators.LS4Forecaster`, whose
        validation loss is its training objective: LS4's negative ELBO (averaged as in the paper's
        code, see :meth:`tsrec.nn.ls4.LS4.loss`) on the scaled windows of ``lookback + horizon``
        steps. For classifiers the cross-entropy. Lower is better.
    study : optuna.Study
        The study, with every trial (complete, pruned or failed) and its per-epoch losses. A
        study passed to :func:`tune` may hold earlier trials; ``best_*`` come from this call's.

    Examples
    --------
    >>> from tsrec.datasets import make_ar
    >>> from tsrec.estimators import ARNetForecaster
    >>> est = ARNetForecaster(n_lags=4, max_epochs=2, val_size=0.25)
    >>> result = tune(est, make_ar((0.5,), n_samples=200), n_trials=1, random_state=0)
    >>> result.best_value == result.best_estimator.history_["best_val_loss"] == result.study.best_value
    True
    >>> all(result.best_estimator.get_params()[name] == value for name, value in result.best_params.items())
    True
    """

    best_estimator: Any
    best_params: dict[str, Any]
    best_value: float
    study: optuna.Study


def tune(
    estimator: DeepForecaster | DeepClassifier,
    *data: Any,
    n_trials: int | None = 20,
    timeout: float | None = None,
    space: Callable[[optuna.trial.BaseTrial], dict[str, Any]] | dict[str, Any] | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    sampler: optuna.samplers.BaseSampler | None = None,
    random_state: int | None = None,
    study: optuna.Study | None = None,
    fit_params: dict[str, Any] | None = None,
    X: Any = None,
    y: Any = None,
) -> TuneResult:
    """Search constructor parameters of ``estimator`` with Optuna, pruning bad trials early.

    Each trial fits a clone of ``estimator`` (sktime's ``clone``, which keeps ``set_config``, or
    scikit-learn's) with ``space(trial)`` set, and scores it by its best validation loss
    (``history_["best_val_loss"]``: the epoch whose weights the estimator keeps). After every
    epoch the validation loss goes to the pruner; a trial it judges worse than the others at the
    same epoch stops there (state PRUNED). A trial whose fit raises, whose validation loss is not
    finite (diverged training), that validated nothing (e.g. a sampled lookback that leaves no
    validation windows) or, on a panel, whose sampled window lengths leave some series without
    validation windows (its loss would cover fewer series than the other trials') fails (state
    FAIL, the reason in its ``user_attrs["error"]`` and a ``RuntimeWarning``) and the search goes
    on; it is never the best. ``estimator`` itself is not changed; the clones copy its
    ``trainer_kwargs`` callbacks, so the callback objects you passed see no trial (those of
    ``best_estimator.trainer_kwargs`` saw the best one).

    Trials may train on several processes (``trainer_kwargs={"strategy": "ddp"}`` with
    ``devices=N``, run from a script), with any study, the default in-memory one included.
    Lightning runs the script again for every other process, so each process runs ``tune``
    with its own study: the first process's validation loss and pruner decide, every process
    stops at the same epoch and records the same trials (a pruned one as PRUNED), and each
    returns the same result. The processes must sample the same parameters, so seed the search
    (``random_state``, or a seeded sampler in ``study``) and do not share one study (one
    ``study_name``) between them; a ValueError says so before a trial that breaks this trains.
    Give ``n_trials`` there: with a ``timeout`` alone each process checks its own clock, and one
    that starts a trial the other does not waits for it forever.

    Parameters
    ----------
    estimator : tsrec estimator
        A forecaster or classifier (``tsrec.all_estimators()``) with a validation split
        (``val_size > 0``); its other parameters are kept in every trial (the default space warns
        of the values set on it that it searches). Pipelines and other
        libraries' estimators are refused: tune the pipeline's tsrec estimator on data
        transformed as the pipeline does and build the pipeline with ``best_params``, or search
        the whole pipeline with sktime's ``ForecastingOptunaSearchCV`` or scikit-learn's
        ``GridSearchCV``.
    *data
        The data, in the order the estimator's ``fit`` takes it: ``tune(forecaster, y)`` or
        ``tune(forecaster, y, X)`` (sktime's ``fit(y, X)``), and ``tune(classifier, X, y)``
        (scikit-learn's ``fit(X, y)``).
    n_trials : int or None, default=20
        Trials to run; None runs until ``timeout``.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds.
    space : callable, dict or None, default=None
        ``space(trial) -> dict`` of constructor parameters; None uses :func:`search_space`. A dict
        of Optuna distributions (``{"lr": FloatDistribution(1e-4, 1e-2, log=True)}``, as Optuna's
        ``OptunaSearchCV`` takes them) samples each under its name. Names the estimator does not
        take raise a ValueError that lists the valid ones.
    pruner : optuna.pruners.BasePruner or None, default=None
        A pruner instance (not a name or a class). None is
        ``MedianPruner(n_startup_trials=5, n_warmup_steps=2)``: from the sixth trial
        on, stop a trial whose loss at its third epoch or later is worse than the median of the
        earlier trials at that epoch.
    sampler : optuna.samplers.BaseSampler or None, default=None
        A sampler instance; seed it yourself (e.g. ``RandomSampler(seed=0)``), since
        ``random_state`` together with ``sampler`` is refused. None is
        ``TPESampler(seed=random_state)``.
    random_state : int or None, default=None
        Seed of the default sampler; None is 0, as in the estimators. Fits are seeded by the
        estimator's own ``random_state``, so the same call gives the same trials, best
        parameters and forecasts.
    study : optuna.Study or None, default=None
        Continue this study (e.g. one with persistent storage) instead of a new in-memory one;
        it must minimise, and it brings its own sampler and pruner. The result is the best of
        the trials run by this call. Any storage works, on several processes too (each process
        then passes its own study, e.g. ``optuna.create_study(storage="sqlite:///tune.db",
        sampler=optuna.samplers.TPESampler(seed=0))`` without a ``study_name``). A seeded sampler
        restarts its random numbers in each call: continuing a study with the same seed repeats
        its first proposals (see docs/tuning.md, "Reproducibility").
    fit_params : dict or None, default=None
        Extra keyword arguments for ``fit`` (e.g. ``{"fh": [1, 2, 3]}``).
    X, y : default=None
        The data by name, as ``fit`` names it (``tune(forecaster, y=y)``, ``tune(classifier, X=X,
        y=labels)``), instead of or after the positional ``data``; one given both ways is refused.

    Returns
    -------
    TuneResult
        ``best_estimator`` (fitted), ``best_params``, ``best_value`` and the ``study``.

    Raises
    ------
    ValueError
        Bad ``n_trials``/``timeout``/``random_state``, ``random_state`` together with ``sampler``
        or ``study``, ``val_size=0``, other estimator parameters that ``fit`` refuses, a space that
        returns parameters the estimator does not take or a forecaster's ``scaling``, ``scaler``,
        ``loss``, ``huber_delta``, ``horizon`` or LS4's ``instance_norm`` (which set the units of the
        validation losses the trials are compared by)
        or ``val_size`` (a classifier's ``random_state`` too: they set the validation data),
        an empty validation split or series shorter than the window where the space samples no
        window length (:class:`~tsrec.errors.TuningSetupError`, or the ``InputError`` of ``fit`` for
        tsrec's own spaces), a ``study`` whose earlier trials sampled a parameter from other
        categorical choices (``TuningSetupError``), an in-sample ``fh`` in ``fit_params``
        (``InSampleError``), ``limit_val_batches`` in ``trainer_kwargs``
        (trials of different batch sizes would validate different windows), data that ``fit``
        refuses whatever the parameters (``InputError``), or, with trials on several processes, processes that sampled
        different parameters (an unseeded sampler, or one study shared between them).
    TypeError
        Not a tsrec estimator (a pipeline, or an estimator class), the wrong number of data arguments for its
        kind, ``fit_params`` that ``fit`` does not take (or an ``fh`` sktime cannot read), or a
        ``sampler``/``pruner`` that is not an Optuna sampler/pruner instance.
    RuntimeError
        No trial completed (all pruned or failed, or the timeout hit before the first finished);
        chained to the first failed trial's exception, whose reason it names.

    Examples
    --------
    >>> from tsrec.datasets import make_ar
    >>> from tsrec.estimators import ARNetForecaster
    >>> from tsrec.tuning import tune
    >>> y = make_ar((0.5, -0.3), n_samples=300)
    >>> est = ARNetForecaster(n_lags=4, max_epochs=3, val_size=0.25)
    >>> result = tune(est, y, n_trials=2, random_state=0)
    >>> sorted(result.best_params)
    ['lr', 'sparsity']
    >>> result.best_estimator.predict(fh=[1, 2]).shape
    (2,)
    """
    check_n_trials(n_trials, timeout)
    kind = estimator_kind(estimator)
    data = data_in_fit_order(kind, data, X, y)
    check_data(kind, data)
    if fit_params is not None and not isinstance(fit_params, dict):
        raise ParameterError(f"fit_params must be a dict or None, got {type(fit_params).__name__}")
    windows_fixed = space is None  # tsrec's own spaces sample no window length (WINDOW_PARAMS)
    if space is None:
        space = _default_space(estimator)
    elif isinstance(space, dict):  # OptunaSearchCV's param_distributions
        space = distributions_space(space, estimator)
    elif not callable(space):
        raise ParameterError(f"space must be a callable space(trial) -> dict, a dict of Optuna distributions or None, "
                             f"got {type(space).__name__}")
    check_val_size(estimator)
    check_validation_limit(estimator)
    if getattr(estimator, "pretrained_", None) is not None:  # set_params resets it, as in sktime
        warn_user(f"{type(estimator).__name__} is pretrained, but each trial sets its parameters, which resets the "
                  "pretraining: the trials train from fresh weights")
    # mistakes every trial would repeat: refused once, before a search that would run until its timeout
    check_fixed_params(estimator, data, fit_params or {}, windows_fixed)
    objective = Objective(estimator, data, space, fit_params or {})
    verbose = bool(estimator.get_params().get("verbose", False))
    with contextlib.nullcontext() if verbose else _optuna_quiet(), objective.own_failures_unlogged(), \
            _interrupt_remembered():
        own_study = study is not None
        study = make_study(study, sampler, pruner, random_state)
        first = len(study.trials)
        # collected after each trial: a trial's Trainer and module hold each other (and, on a GPU, its memory)
        study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(), gc_after_trial=True,
                       callbacks=[stop_after_ctrl_c])
    best = objective.best
    if best["number"] is None:
        failure = objective.first_failure
        cause = failure[1] if failure else None
        raise _no_trial_completed(study.trials[first:], failure, own_study, study.pruner) from cause
    return TuneResult(best["estimator"], best["params"], best["value"], study)


def _default_space(estimator: Any) -> Callable[[optuna.trial.BaseTrial], dict[str, Any]]:
    """tsrec's space for ``estimator``, which warns at its first trial of the values set on the estimator
    that it searches: each trial replaced them without a word (``PGNClassifier(hidden=8)`` tuned hidden=32)."""
    warned = threading.Event()

    def space(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        params = search_space(estimator, trial)
        if not warned.is_set():
            warned.set()
            _warn_searched_settings(estimator, params)
        return params

    return space


def _warn_searched_settings(estimator: Any, params: dict[str, Any]) -> None:
    """Warn of the parameters in ``params`` that were set on ``estimator`` to other than their defaults."""
    settings, defaults = estimator.get_params(deep=False), constructor_defaults(type(estimator))
    changed = [name for name in params if name in settings and name in defaults
               and differs(settings[name], defaults[name])]
    if changed:
        named = ", ".join(f"{name}={settings[name]!r}" for name in changed)
        warn_user(f"tune's default space for {type(estimator).__name__} searches {named}, set on the estimator: each "
                  f"trial replaces {'it' if len(changed) == 1 else 'them'}; to keep {named}, pass a space of your own "
                  "without them (tsrec.tuning.spaces.space_for gives the default one)")


#: set by tune's SIGINT handler: every search running in the process stops at its next trial (a tune inside
#: another's space finds the outer handler installed, and shares it)
CTRL_C = threading.Event()


@contextlib.contextmanager
def _interrupt_remembered() -> Iterator[None]:
    """A Ctrl+C during the search stops it, even one Python swallows.

    A KeyboardInterrupt raised while a weakref callback or ``__del__`` runs (as in the
    ``gc.collect()`` after every trial: Lightning's ``Profiler.__del__``, SQLAlchemy's
    ``_collection_gced``) is printed as "Exception ignored in ..." and dropped, and the search
    went on to its last trial. The SIGINT handler here also sets :data:`CTRL_C`, so that the
    search stops before its next trial (:func:`stop_after_ctrl_c`) and its end raises the
    interrupt. Installed only in the main thread over Python's default handler (a handler of the
    caller's is left alone, and a nested tune shares the outer one's).
    """
    installs = threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if installs:
        CTRL_C.clear()

        def interrupted(signum: int, frame: object) -> None:
            CTRL_C.set()
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        came = CTRL_C.is_set()
        if installs:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            CTRL_C.clear()  # a later search starts afresh
    if came:  # swallowed where it landed: raised here instead
        raise KeyboardInterrupt


def stop_after_ctrl_c(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Optuna's callback after each trial: stop before the next one once a Ctrl+C came (raising in the
    objective instead left an empty FAIL trial in the study)."""
    if CTRL_C.is_set():
        study.stop()


_QUIET = {"lock": threading.Lock(), "calls": 0, "saved": None}


@contextlib.contextmanager
def _optuna_quiet() -> Iterator[None]:
    """Optuna logs warnings and worse while any quiet ``tune`` call runs, then its level is back.

    Optuna's level is process-wide: calls in several threads share one saved level (the first
    call saves it, the last restores it), and a level the user made quieter stays as it is.
    """
    with _QUIET["lock"]:
        if _QUIET["calls"] == 0:
            _QUIET["saved"] = optuna.logging.get_verbosity()
            optuna.logging.set_verbosity(max(_QUIET["saved"], logging.WARNING))
        _QUIET["calls"] += 1
    try:
        yield
    finally:
        with _QUIET["lock"]:
            _QUIET["calls"] -= 1
            if _QUIET["calls"] == 0:
                optuna.logging.set_verbosity(_QUIET["saved"])


def _no_trial_completed(
    trials: list[optuna.trial.FrozenTrial], failure: tuple[str, BaseException | None] | None, own_study: bool,
    pruner: optuna.pruners.BasePruner,
) -> RuntimeError:
    """The error for a call in which no trial completed, with the first failure's reason; ``own_study``:
    the caller passed the study, which keeps the trials already."""
    states = [t.state.name for t in trials]
    counts = {s: states.count(s) for s in sorted(set(states))}
    if failure is None:
        fix = f"raise n_trials or timeout, or use a more patient pruner than {type(pruner).__name__}" + (
            " (more n_warmup_steps)" if isinstance(pruner, optuna.pruners.MedianPruner) else "")
    else:
        fix = (
            f"the first failure was {failure[0]}; fix its cause (each failed trial's reason is in its "
            f"user_attrs['error']{'' if own_study else '; pass your own study= to keep the trials'})"
        )
    return RuntimeError(f"no trial completed ({counts or 'none ran'}); {fix}")


def data_in_fit_order(kind: str, data: tuple, X: Any, y: Any) -> tuple:
    """``data`` with the data given by name (``X``, ``y``) in the places ``fit`` takes them:
    ``(y[, X])`` for a forecaster, ``(X, y)`` for a classifier."""
    names = ("X", "y") if kind == "classifier" else ("y", "X")
    if len(data) > len(names) or (X is None and y is None):  # check_data names the count
        return data
    given = dict(zip(names, data))
    for name, value in (("X", X), ("y", y)):
        if value is None:
            continue
        if given.get(name) is not None:  # a None in its place holds it for the name: tune(est, None, y=y)
            raise ParameterError(
                f"tune got {name} twice, by position and as {name}=; pass it once, in fit's order "
                f"(tune(est, {', '.join(names)})) or by name (tune(est, {', '.join(f'{n}={n}' for n in names)}))"
            )
        given[name] = value
    if kind == "forecaster" and "X" not in given:
        return (given.get("y"),) if given else ()
    return tuple(given.get(name) for name in names)

