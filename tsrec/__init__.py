"""tsrec: recurrent and state-space models for time-series forecasting and classification.

``load`` and ``all_estimators`` are imported on first use (PEP 562), so that ``import
tsrec.kernels`` needs only torch (and triton on a GPU): the kernel layer can run where the
estimator stack (sktime, Lightning, ...) is not installed.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["all_estimators", "load"]

_LAZY = {"load": "tsrec.persistence", "all_estimators": "tsrec.registry"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tsrec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
