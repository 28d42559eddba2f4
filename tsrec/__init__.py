"""tsrec: recurrent and state-space models for time-series forecasting and classification."""

from tsrec.persistence import load
from tsrec.registry import all_estimators

__all__ = ["all_estimators", "load"]
