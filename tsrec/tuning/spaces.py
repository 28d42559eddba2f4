"""Optuna search spaces for the registered tsrec estimators.

A search space is a function ``space(trial) -> dict`` that asks an Optuna trial for values and
returns them as constructor parameters, ready for ``estimator.set_params(**params)``.
:func:`search_space` picks the space of an estimator: a model-specific one where tsrec has it,
else a shared space over the training parameters every tsrec estimator takes. A space may also
depend on the estimator's own settings (SpaceTime's widths on its ``n_kernels``): such a function
takes them as keyword-only arguments, which :func:`space_for` fills from the instance given, or
from the constructor's defaults for a class or a name.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import optuna

from tsrec._checks import check_int
from tsrec.errors import ParameterError
from tsrec.tuning._distribution_kinds import check_distribution_kind
from tsrec.registry import all_estimators, get_estimator

if TYPE_CHECKING:
    from tsrec.estimators._classifier import DeepClassifier
    from tsrec.estimators._forecaster import DeepForecaster

    #: a tsrec estimator, its class, or its registered name
    EstimatorOrName = DeepForecaster | DeepClassifier | type[DeepForecaster] | type[DeepClassifier] | str

SpaceFunction = Callable[[optuna.trial.BaseTrial], dict[str, Any]]

SHARED_SPACE_PARAMS = ("lr", "weight_decay", "batch_size")


def distributions_space(distributions: dict, estimator: object = None) -> SpaceFunction:
    """A space that samples each Optuna distribution of ``distributions`` under its name: the
    ``param_distributions`` dict of Optuna's ``OptunaSearchCV`` (sktime's ``param_grid``).

    With ``estimator``, a distribution whose values the parameter never takes (floats for a whole
    number, numbers for a choice of names) is refused here: every trial failed on it, one by one,
    until ``n_trials`` or the timeout ran out.

    Examples
    --------
    >>> space = distributions_space({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)})
    >>> 1e-4 <= space(optuna.create_study().ask())["lr"] <= 1e-2
    True
    """
    for name, distribution in distributions.items():
        if not isinstance(name, str) or not isinstance(distribution, optuna.distributions.BaseDistribution):
            raise ParameterError(
                f"a space given as a dict maps parameter names to Optuna distributions, got {name!r}: "
                f"{distribution!r}; e.g. {{'lr': optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)}}, "
                "or pass a function space(trial) -> dict"
            )
        if estimator is not None:
            check_distribution_kind(type(estimator), name, distribution)

    def space(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        return {name: _suggested(trial, name, dist) for name, dist in distributions.items()}

    return space


def _suggested(trial: optuna.trial.BaseTrial, name: str, dist: optuna.distributions.BaseDistribution) -> Any:
    """The trial's value of ``dist``, asked through the public ``suggest_*`` methods."""
    if isinstance(dist, optuna.distributions.FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, optuna.distributions.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_categorical(name, dist.choices)


def shared_space(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    """Learning rate, weight decay and batch size: the fallback for any tsrec estimator."""
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-8, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64, 128]),
    }


def _cyclenet(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        "backbone": trial.suggest_categorical("backbone", ["linear", "mlp"]),
        "lr": trial.suggest_float("lr", 1e-4, 5e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
    }


def _arnet(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        # expected fraction of non-zero lags; 1.0 switches the sparsity regulariser off
        "sparsity": trial.suggest_float("sparsity", 0.05, 1.0),
        "lr": trial.suggest_float("lr", 1e-4, 5e-2, log=True),
    }


def _pgn_forecaster(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        # the TPGN paper's Table B tunes the width per data set in this range (2 .. 256)
        "hidden": trial.suggest_categorical("hidden", [2, 4, 8, 16, 32, 64, 128, 256]),
        "norm": trial.suggest_categorical("norm", [True, False]),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
    }


def _pgn_classifier(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        "hidden": trial.suggest_categorical("hidden", [16, 32, 64, 128]),
        "n_layers": trial.suggest_int("n_layers", 1, 3),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
    }


def _liquid(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        "units": trial.suggest_categorical("units", [8, 16, 32, 64]),
        "cell": trial.suggest_categorical("cell", ["ltc", "cfc"]),
        # the LTC paper trains at 0.01-0.02, its baselines at 0.001
        "lr": trial.suggest_float("lr", 1e-3, 2e-2, log=True),
    }


def _liquid_classifier(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {**_liquid(trial), "pool": trial.suggest_categorical("pool", ["mean", "last"])}


def _spacetime_widths(n_kernels: object) -> list[int]:
    """64 and 128 where they are multiples of ``n_kernels`` (fit refuses others), else the first multiple >= 64."""
    try:
        n_kernels = check_int("n_kernels", n_kernels)
    except ValueError:
        return [64, 128]  # a bad n_kernels: every fit says what is wrong with it
    widths = [width for width in (64, 128) if width % n_kernels == 0]
    return widths or [n_kernels * -(-64 // n_kernels)]


def _spacetime(trial: optuna.trial.BaseTrial, *, n_kernels: int) -> dict[str, Any]:
    return {
        "width": trial.suggest_categorical("width", _spacetime_widths(n_kernels)),
        "kernel_dim": trial.suggest_categorical("kernel_dim", [16, 32, 64]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
    }


def _ls4_forecaster(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        "z_dim": trial.suggest_int("z_dim", 2, 16, log=True),
        "d_model": trial.suggest_categorical("d_model", [16, 32, 64]),
        "n_layers": trial.suggest_int("n_layers", 1, 4),
        # fixed observation noise on the standardised scale (the paper's configs: 0.05 to 0.5)
        "sigma": trial.suggest_float("sigma", 0.05, 0.5, log=True),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
    }


def _ls4_classifier(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {
        "d_model": trial.suggest_categorical("d_model", [16, 32, 64]),
        "n_layers": trial.suggest_int("n_layers", 1, 4),
        "dropout": trial.suggest_float("dropout", 0.0, 0.3),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
    }


def _chimera(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    # widths stay small: the CPU 2-D scan costs time * variates * d_model * d_state per head
    return {
        "d_model": trial.suggest_categorical("d_model", [8, 16, 32]),
        "d_state": trial.suggest_categorical("d_state", [4, 8, 16]),
        "e_layers": trial.suggest_int("e_layers", 1, 2),
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
    }


def _chimera_forecaster(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    return {**_chimera(trial), "decoder": trial.suggest_categorical("decoder", ["linear", "closed_loop"])}


def _smamba(trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    # the S-Mamba scripts' per-data-set settings: lr 3e-5 .. 2e-3 (the estimators' defaults 1e-4 and
    # 1e-3 inside), d_model = d_ff in {128, 256, 512}, d_state in {2, 16, 32}, e_layers 2 .. 4,
    # batch 16 or 32, Adam without weight decay (so weight_decay is left at 0)
    d_model = trial.suggest_categorical("d_model", [128, 256, 512])
    return {
        "lr": trial.suggest_float("lr", 1e-5, 2e-3, log=True),
        "d_model": d_model,
        "d_ff": d_model,
        "d_state": trial.suggest_categorical("d_state", [2, 16, 32]),
        "e_layers": trial.suggest_int("e_layers", 2, 4),
        "batch_size": trial.suggest_categorical("batch_size", [16, 32]),
    }


# model-specific spaces by class name; a subclass uses the entry of its nearest listed base
_SPACES: dict[str, SpaceFunction] = {
    "CycleNetForecaster": _cyclenet,
    "ARNetForecaster": _arnet,
    "PGNForecaster": _pgn_forecaster,
    "PGNClassifier": _pgn_classifier,
    "LTCForecaster": _liquid,
    "LTCClassifier": _liquid_classifier,
    "SpaceTimeForecaster": _spacetime,
    "SpaceTimeClassifier": _spacetime,
    "LS4Forecaster": _ls4_forecaster,
    "LS4Classifier": _ls4_classifier,
    "ChimeraForecaster": _chimera_forecaster,
    "ChimeraClassifier": _chimera,
    "SMambaForecaster": _smamba,
    "SMambaClassifier": _smamba,
}


def _estimator_class(estimator_or_name: EstimatorOrName) -> type:
    if isinstance(estimator_or_name, str):
        return get_estimator(estimator_or_name)  # a clear error listing the known names
    if isinstance(estimator_or_name, type):
        return estimator_or_name
    if type(estimator_or_name).__module__ == "builtins":  # 3, None, a list: no estimator of any kind
        raise ParameterError(f"estimator_or_name must be a tsrec estimator, its class or its name (see "
                             f"tsrec.all_estimators()), got {type(estimator_or_name).__name__} {estimator_or_name!r}")
    return type(estimator_or_name)


def constructor_defaults(cls: type) -> dict[str, Any]:
    """Constructor parameter -> default (``inspect.Parameter.empty`` where there is none)."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}
    params = signature.parameters.items()
    # scikit-learn's style puts every parameter after a bare * (keyword-only)
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: p.default for name, p in params if name != "self" and p.kind in named}


def _bind(space: SpaceFunction, estimator_or_name: EstimatorOrName, cls: type) -> SpaceFunction:
    """Fill the space's keyword-only arguments from the estimator's parameters (or the class's defaults)."""
    wanted = [name for name, p in inspect.signature(space).parameters.items() if p.kind is p.KEYWORD_ONLY]
    if not wanted:
        return space
    settings = estimator_or_name.get_params() if isinstance(estimator_or_name, cls) else constructor_defaults(cls)
    return functools.partial(space, **{name: settings[name] for name in wanted})


def space_for(estimator_or_name: EstimatorOrName) -> SpaceFunction:
    """The search-space function :func:`search_space` uses for an estimator, class or name.

    A space that depends on the estimator's settings is bound to them: for an instance, its own
    (``SpaceTimeForecaster(n_kernels=128)`` gets only widths that are multiples of 128); for a
    class or a name, the constructor's defaults.

    Parameters
    ----------
    estimator_or_name : estimator, estimator class or str
        A tsrec estimator (instance or class) or the name of a registered one.

    Returns
    -------
    callable
        ``space(trial) -> dict`` of constructor parameters.

    Examples
    --------
    >>> import optuna
    >>> from tsrec.estimators import SpaceTimeForecaster
    >>> from tsrec.tuning.spaces import space_for, shared_space
    >>> space_for("PGNForecaster") is shared_space
    False
    >>> trial = optuna.create_study().ask()
    >>> space_for(SpaceTimeForecaster(n_kernels=128))(trial)["width"]
    128
    """
    cls = _estimator_class(estimator_or_name)
    for base in cls.__mro__:
        if base.__name__ in _SPACES:
            return _bind(_SPACES[base.__name__], estimator_or_name, cls)
    registered = cls in {c for _, c in all_estimators()}
    if registered or set(SHARED_SPACE_PARAMS) <= set(constructor_defaults(cls)):
        return shared_space
    raise ParameterError(
        f"there is no search space for {cls.__name__}: it is not a registered tsrec estimator and "
        f"does not take all of {list(SHARED_SPACE_PARAMS)}; pass your own space=callable(trial) -> dict"
    )


#: what the spaces ask a trial: a wrapper that is no BaseTrial but has them (a distributed trial) passes too
_SUGGESTS = ("suggest_categorical", "suggest_float", "suggest_int")


def _check_trial(trial: object) -> None:
    """Refuse what is not an Optuna trial: None (a trial not passed on) failed inside a space with
    "'NoneType' object has no attribute 'suggest_categorical'"."""
    if isinstance(trial, optuna.trial.BaseTrial) or all(callable(getattr(trial, name, None)) for name in _SUGGESTS):
        return
    hint = "; search_space takes the estimator first: search_space(estimator, trial)" if _is_estimator(trial) else ""
    raise ParameterError(f"trial must be an Optuna trial, got {type(trial).__name__}; pass the trial your objective is "
                         "given (or study.ask()), or optuna.trial.FixedTrial({...}) to replay chosen values" + hint)


def _is_estimator(value: object) -> bool:
    """An estimator, its class or its registered name: what is passed in the trial's place when the two are swapped."""
    return isinstance(value, (str, type)) or hasattr(value, "get_params")


def search_space(estimator_or_name: EstimatorOrName, trial: optuna.trial.BaseTrial) -> dict[str, Any]:
    """Ask ``trial`` for constructor parameters of an estimator; return them as a dict.

    Model-specific spaces:

    - ``CycleNetForecaster``: ``backbone`` in {"linear", "mlp"}, ``lr`` log-uniform in
      [1e-4, 5e-2], ``batch_size`` in {32, 64, 128, 256}.
    - ``ARNetForecaster``: ``sparsity`` in [0.05, 1] (1 = no sparsity), ``lr`` log-uniform in
      [1e-4, 5e-2].
    - ``PGNForecaster``: ``hidden`` in {2, 4, ..., 256}, ``norm`` in {True, False}, ``lr``
      log-uniform in [1e-4, 1e-2].
    - ``PGNClassifier``: ``hidden`` in {16, 32, 64, 128}, ``n_layers`` in 1..3, ``dropout`` in
      [0, 0.5], ``lr`` log-uniform in [1e-4, 1e-2].
    - ``LTCForecaster``, ``LTCClassifier``: ``units`` in {8, 16, 32, 64}, ``cell`` in
      {"ltc", "cfc"}, ``lr`` log-uniform in [1e-3, 2e-2]; the classifier also ``pool`` in
      {"mean", "last"}.
    - ``SpaceTimeForecaster``, ``SpaceTimeClassifier``: ``width`` in {64, 128} (those that are
      multiples of the estimator's ``n_kernels``; if neither is, the smallest multiple >= 64),
      ``kernel_dim`` in {16, 32, 64}, ``dropout`` in [0, 0.5], ``lr`` log-uniform in [1e-4, 1e-2].
    - ``SMambaForecaster``, ``SMambaClassifier`` (the paper's scripts' settings): ``lr``
      log-uniform in [1e-5, 2e-3], ``d_model`` in {128, 256, 512} with ``d_ff = d_model``,
      ``d_state`` in {2, 16, 32}, ``e_layers`` in 2..4, ``batch_size`` in {16, 32}; no weight
      decay.
    - ``ChimeraForecaster``, ``ChimeraClassifier``: ``d_model`` in {8, 16, 32}, ``d_state`` in
      {4, 8, 16}, ``e_layers`` in 1..2, ``lr`` log-uniform in [1e-4, 1e-2]; the forecaster also
      ``decoder`` in {"linear", "closed_loop"}.
    - ``LS4Forecaster``: ``z_dim`` in 2..16 (log), ``d_model`` in {16, 32, 64}, ``n_layers`` in
      1..4, ``sigma`` log-uniform in [0.05, 0.5], ``lr`` log-uniform in [1e-4, 1e-2].
    - ``LS4Classifier``: ``d_model`` in {16, 32, 64}, ``n_layers`` in 1..4, ``dropout`` in
      [0, 0.3], ``lr`` log-uniform in [1e-4, 1e-2].

    Every other registered estimator gets the shared space: ``lr`` log-uniform in [1e-4, 1e-2],
    ``weight_decay`` log-uniform in [1e-8, 1e-3], ``batch_size`` in {16, 32, 64, 128}.

    Parameters
    ----------
    estimator_or_name : estimator, estimator class or str
        A tsrec estimator (instance or class) or the name of a registered one
        (see ``tsrec.all_estimators()``). Spaces that depend on the estimator's settings
        (SpaceTime's ``n_kernels``) read them from an instance, else use the defaults.
    trial : optuna.trial.BaseTrial
        The trial to ask (a running ``Trial``, or a ``FixedTrial`` to replay given values).

    Returns
    -------
    dict
        Constructor parameters, for ``estimator.set_params(**params)``.

    Raises
    ------
    TypeError
        ``trial`` is not an Optuna trial (None, or the estimator when the two are swapped), or
        ``estimator_or_name`` is no estimator, estimator class or name.
    ValueError
        ``estimator_or_name`` names no registered estimator, or is an estimator without a space
        (not registered, and without the shared space's parameters).

    Examples
    --------
    >>> import optuna
    >>> from tsrec.tuning import search_space
    >>> trial = optuna.trial.FixedTrial({"sparsity": 0.3, "lr": 0.01})
    >>> search_space("ARNetForecaster", trial)
    {'sparsity': 0.3, 'lr': 0.01}
    """
    _check_trial(trial)
    params = space_for(estimator_or_name)(trial)
    if not isinstance(params, dict):
        raise ParameterError(f"a search space must return a dict, got {type(params).__name__}")
    return params
