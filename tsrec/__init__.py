"""tsrec: recurrent and state-space models for time-series forecasting and classification.

``load`` and ``all_estimators`` are imported on first use (PEP 562), so that ``import
tsrec.kernels`` needs only torch (and triton on a GPU): the kernel layer can run where the
estimator stack (sktime, Lightning, ...) is not installed.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

__all__ = ["all_estimators", "load"]


def _version() -> str:
    """The installed distribution's version: pyproject.toml stays its one source."""
    try:
        return importlib.metadata.version("tsrec")
    except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path that pip never installed
        return "0+unknown"


__version__ = _version()

_LAZY = {"load": "tsrec.persistence", "all_estimators": "tsrec.registry"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tsrec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
