"""numpydoc checks of the public API's docstrings.

The public API is enumerated, not listed by hand: every estimator in ``tsrec.all_estimators()``
and the names in ``__all__`` of the public packages (:data:`PACKAGES`), each class with its
public methods that tsrec itself defines (inherited ones included; sktime's, scikit-learn's and
torch's own methods are theirs to document). A class's docstring documents its ``__init__``.

Checks enforced, and why
------------------------
Only the checks that catch documentation that is wrong or missing, not its style:

- ``PR01`` a parameter of the signature is not documented, ``PR02`` a documented parameter is
  not in the signature (stale or misspelt), ``PR03`` the parameters are documented in another
  order than the signature's: the three that keep the Parameters section true to the code.
  numpydoc reads grouped entries (``max_epochs, batch_size, lr : ...``) as one entry per name.
- ``PR10`` no space before the colon (``x: int``): numpydoc then reads ``x: int`` as the
  parameter's name, so the entry documents nothing. ``PR06`` a type spelled ``integer``,
  ``boolean`` or ``string``: trivial, and keeps the types uniform.
- ``GL08`` a public object without a docstring: without it the checks above have nothing to
  check. ``RT01`` a function that returns a value without a Returns section. ``GL06`` an
  unknown section name (a misspelt ``Parameter``): its content is dropped.
- Wrapped names (our own check): a parameter entry with neither a type nor a description. A
  list of grouped names wrapped over two lines parses that way: the first line becomes an entry
  of its own (with a trailing comma in its last name), so its parameters are documented by
  nothing.
- Stated defaults (our own check): a ``default=X`` (or ``default X``, ``default: X``) in a
  parameter's type must equal the signature's default. A grouped entry may give one default per
  name, in order (``dt_min, dt_max : float, default=1e-3, 0.1``).

Not enforced: summary and description wording (``SS*``, ``ES01``, ``PR08``, ``PR09``),
missing See Also or Examples sections (``SA01``, ``EX01``; every public class has an example, as
its doctest runs), and the missing
type or description of a single entry (``PR04``, ``PR07``: short entries such as
``e_layers : int, default=2`` are the project's style).

A justified exception to one of numpydoc's checks can be marked on the line of the object's
``def`` or ``class`` with numpydoc's own comment, e.g. ``def forward(self, x):  # numpydoc
ignore=PR01``. numpydoc comes with the dev extras (``make test`` installs them).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import Callable

import pytest
from numpydoc.docscrape import NumpyDocString  # the dev extras install numpydoc
from numpydoc.validate import validate

import tsrec

#: the packages whose ``__all__`` is public API (the estimators also come from the registry)
PACKAGES = ("tsrec", "tsrec.estimators", "tsrec.nn", "tsrec.kernels", "tsrec.tuning", "tsrec.batch",
            "tsrec.datasets")

#: numpydoc's check codes that the test enforces (see the module docstring)
CHECKS = ("GL06", "GL08", "PR01", "PR02", "PR03", "PR06", "PR10", "RT01")


def _in_tsrec(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == "tsrec" or module.startswith("tsrec.")


#: methods that are another library's hooks, not tsrec's API: sktime calls get_test_params for its
#: conformance suite (its meaning is sktime's)
HOOKS = ("get_test_params",)


def _public_methods(cls: type) -> dict[str, object]:
    """Public methods of ``cls`` whose code is tsrec's, by dotted name where they are defined."""
    methods = {}
    for name in dir(cls):
        if name.startswith("_") or name in HOOKS:
            continue
        owner = next((klass for klass in cls.__mro__ if name in vars(klass)), None)
        if owner is None or not _in_tsrec(owner):
            continue
        raw = vars(owner)[name]
        function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        # properties are attributes; functions merely assigned from another library stay theirs
        if inspect.isfunction(function) and _in_tsrec(function):
            methods[f"{owner.__module__}.{owner.__qualname__}.{name}"] = getattr(cls, name)
    return methods


@functools.cache
def public_api() -> dict[str, object]:
    """Dotted name -> object of every public class, method and function to check."""
    objects: dict[str, object] = {}

    def add(obj: object) -> None:
        objects[f"{obj.__module__}.{obj.__qualname__}"] = obj
        if inspect.isclass(obj):
            objects.update(_public_methods(obj))

    for _, cls in tsrec.all_estimators():
        add(cls)
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if _in_tsrec(obj) and (inspect.isclass(obj) or inspect.isfunction(obj)):
                add(obj)
    return objects


@functools.cache
def numpydoc_errors() -> dict[str, list[tuple[str, str]]]:
    """numpydoc's (code, message) errors of every public object, by dotted name."""
    return {name: validate(name)["errors"] for name in public_api()}


def _parameters(obj: object) -> list:
    """The Parameters and Other Parameters entries of ``obj``'s docstring."""
    doc = NumpyDocString(inspect.getdoc(obj) or "")
    return list(doc["Parameters"]) + list(doc["Other Parameters"])


def _signature(obj: object) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):  # builtins without a signature
        return None


_DEFAULT = re.compile(r"(?:^|,\s*)default(?:\s*[=:]\s*|\s+)(?P<value>\S.*)$")
_UNREADABLE = object()


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNREADABLE


def _same_default(stated: object, text: str, actual: object) -> bool:
    if stated is _UNREADABLE:  # e.g. an unquoted string: compare the text
        return text in (repr(actual), str(actual))
    if isinstance(stated, bool) or isinstance(actual, bool):
        return type(stated) is type(actual) and stated == actual
    numbers = (int, float)
    if type(stated) in numbers and type(actual) in numbers:
        return stated == actual
    try:
        return type(stated) is type(actual) and bool(stated == actual)
    except Exception:  # noqa: BLE001 - an object whose == does not give a bool
        return False


def default_mismatches(name: str, obj: object) -> list[str]:
    """A message for every ``default=X`` in ``obj``'s docstring that is not the signature's default."""
    signature = _signature(obj)
    if signature is None:
        return []
    problems = []
    for entry in _parameters(obj):
        match = _DEFAULT.search(entry.type)
        if not match:
            continue
        names = [n.strip() for n in entry.name.split(",") if n.strip()]
        text = match["value"].strip()
        stated = _literal(text)
        pairs = [(n, stated, text) for n in names]
        # one default per grouped name, in order: "dt_min, dt_max : float, default=1e-3, 0.1"
        if (len(names) > 1 and isinstance(stated, tuple) and len(stated) == len(names)
                and not text.startswith("(")):
            texts = [t.strip() for t in text.split(",")]
            pairs = list(zip(names, stated, texts))
        for param, value, value_text in pairs:
            if param not in signature.parameters:
                continue  # PR02's business
            actual = signature.parameters[param].default
            if actual is inspect.Parameter.empty:
                problems.append(f"{name}: {param} is documented with default={value_text} but has no default")
            elif not _same_default(value, value_text, actual):
                problems.append(f"{name}: {param} is documented with default={value_text}, the signature's "
                                f"default is {actual!r}")
    return problems


def wrapped_names(name: str, obj: object) -> list[str]:
    """A message for every parameter entry with neither a type nor a description."""
    return [f"{name}: entry {entry.name!r} has neither a type nor a description (names wrapped over two lines?)"
            for entry in _parameters(obj) if not entry.type.strip() and not "".join(entry.desc).strip()]


def _report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(problems)


def test_the_public_api_is_found():
    """The enumeration sees every estimator, with its methods, and every package's exports."""
    names = public_api()
    for est_name, cls in tsrec.all_estimators():
        assert f"{cls.__module__}.{cls.__qualname__}" in names, est_name
        owner = next(klass for klass in cls.__mro__ if "fit" in vars(klass))
        assert f"{owner.__module__}.{owner.__qualname__}.fit" in names, est_name
    for package in PACKAGES:
        module = importlib.import_module(package)
        exported = [getattr(module, n) for n in module.__all__]
        assert any(obj in names.values() for obj in exported), package
    assert len(names) > 100


@pytest.mark.parametrize("code", CHECKS)
def test_numpydoc_check(code: str):
    problems = [f"{name}: {message}" for name, errors in numpydoc_errors().items()
                for err_code, message in errors if err_code == code]
    if problems:
        pytest.fail(_report(problems, f"public docstrings fail numpydoc's {code}"), pytrace=False)


@pytest.mark.parametrize("check", [default_mismatches, wrapped_names], ids=["stated-defaults", "wrapped-names"])
def test_parameter_entries(check: Callable[[str, object], list[str]]):
    problems = [problem for name, obj in public_api().items() for problem in check(name, obj)]
    if problems:
        pytest.fail(_report(problems, f"public docstrings fail the {check.__name__} check"), pytrace=False)
