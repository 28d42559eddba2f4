"""A dict space's distributions against the kind of value each parameter takes (its annotation).

A distribution whose values the parameter never takes would fail every trial, one warning each, and end
the search in a RuntimeError after all of them; refused before the first trial instead.
"""

from __future__ import annotations

import inspect

import numpy as np
import optuna

from tsrec._checks import check_int
from tsrec.errors import ParameterError

#: parameter annotations whose values no distribution of numbers gives, none of floats, or more than whole numbers
_NO_NUMBERS, _WHOLE_NUMBERS, _FLOATS = ("str", "bool"), ("int", "int | None"), ("float", "float | None")


def _whole(choice: object) -> bool:
    """Whether the estimators' own check takes ``choice`` for a whole number: NumPy's ints too, not a bool."""
    try:
        check_int("a choice", choice, minimum=None)
    except ParameterError:
        return False
    return True


#: the annotation -> the values it takes and the choices to offer, in words, and whether a choice is one of them
_CHOICES = {
    "str": ("a name", "names (str)", lambda c: isinstance(c, str)),
    "bool": ("True or False", "True and False", lambda c: isinstance(c, (bool, np.bool_))),
    "int": ("whole numbers", "ints", _whole),
    "int | None": ("whole numbers or None", "ints or None", lambda c: c is None or _whole(c)),
}


def check_distribution_kind(cls: type, name: str, dist: optuna.distributions.BaseDistribution) -> None:
    """Refuse floats for a parameter annotated as an int, whole numbers for a float (Optuna's
    ``IntDistribution(1e-4, 1e-2)`` is 0..0: every trial trained with ``lr=0``), numbers for one of
    names or flags, and categorical choices of another kind (``[16.0, 32.0]`` for ``batch_size``)."""
    parameter = inspect.signature(cls.__init__).parameters.get(name)
    if parameter is None:  # an unknown name: refused with the valid names by the first trial's check
        return
    kind = str(parameter.annotation)
    numeric = isinstance(dist, (optuna.distributions.FloatDistribution, optuna.distributions.IntDistribution))
    if kind in _NO_NUMBERS and numeric:
        raise ParameterError(f"the search space's {name!r} is {_a(type(dist).__name__)}, but {cls.__name__}'s "
                             f"{name} takes {'True or False' if kind == 'bool' else 'a name'}, no number; use "
                             f"optuna.distributions.CategoricalDistribution with its choices")
    if kind in _WHOLE_NUMBERS and isinstance(dist, optuna.distributions.FloatDistribution):
        raise ParameterError(f"the search space's {name!r} is a FloatDistribution, but {cls.__name__}'s {name} takes "
                             f"whole numbers; use optuna.distributions.IntDistribution({int(dist.low)}, "
                             f"{int(dist.high)}) or a CategoricalDistribution of ints")
    if kind in _FLOATS and isinstance(dist, optuna.distributions.IntDistribution):
        # Optuna rounds float bounds down (1e-4..1e-2 is 0..0): then the user's own bounds are gone
        bounds = "low, high" if dist.low == dist.high else f"{dist.low}, {dist.high}"
        rounded = " (Optuna rounds float bounds down: 1e-4..1e-2 is 0..0)" if dist.low == dist.high else ""
        raise ParameterError(f"the search space's {name!r} is an IntDistribution({dist.low}, {dist.high}), which "
                             f"samples whole numbers only{rounded}, but {cls.__name__}'s {name} takes any float; use "
                             f"optuna.distributions.FloatDistribution({bounds}) (log=True for a rate), or step=1 to "
                             "sample whole numbers as floats")
    if kind in _CHOICES and isinstance(dist, optuna.distributions.CategoricalDistribution):
        _check_choices(cls, name, kind, list(dist.choices))


def _check_choices(cls: type, name: str, kind: str, choices: list) -> None:
    """Refuse choices the parameter never takes: each trial that drew one would fail."""
    takes, offer, fits = _CHOICES[kind]
    wrong = [choice for choice in choices if not fits(choice)]
    if not wrong:
        return
    whole = kind in _WHOLE_NUMBERS and all(isinstance(c, float) and c.is_integer() for c in wrong)
    fix = (f"give them as ints, e.g. {[int(c) if isinstance(c, float) else c for c in choices]}" if whole
           else f"offer {offer} only")
    raise ParameterError(f"the search space's {name!r} offers {wrong!r}, but {cls.__name__}'s {name} takes {takes}: "
                         f"every trial that drew one would fail; {fix}")


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'AEIOU' else 'a'} {noun}"
