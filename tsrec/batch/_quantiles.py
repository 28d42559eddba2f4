"""Quantile forecasts in the batch output: the levels checked before any work, and each variate's
columns ``<value>_hat`` then ``<value>_q<level>``, one per level, from the model's
``predict_quantiles`` (its sampled forecast paths)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import ContextManager

import pandas as pd

from tsrec.errors import ParameterError
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators._params import check_levels


def check_quantiles(quantiles: float | Sequence[float] | None, est: DeepForecaster) -> list[float] | None:
    """The quantile levels, sorted, or None; refused before any reading or forecasting when a level is
    not strictly between 0 and 1, is repeated, or the model makes point forecasts only."""
    if quantiles is None:
        return None
    levels = check_levels("quantiles (CLI: --quantiles)", quantiles)
    levels = levels if isinstance(levels, list) else [levels]
    repeated = sorted({level for level in levels if levels.count(level) > 1})
    if repeated:
        raise ParameterError(f"quantiles (CLI: --quantiles) repeats {repeated}; give each level once")
    if not est.get_tag("capability:pred_int"):
        raise ParameterError(
            f"quantiles need a forecaster that samples forecast paths (LS4Forecaster); the model, "
            f"{type(est).__name__}, makes point forecasts only: drop quantiles (CLI: --quantiles)"
        )
    return sorted(levels)


def output_columns(columns: Sequence[object], quantiles: list[float] | None) -> list[str]:
    """The forecast columns of the output for the value ``columns``: per variate, ``_hat`` then its quantiles."""
    names = []
    for column in columns:
        names.append(f"{column}_hat")
        names.extend(f"{column}_q{level}" for level in quantiles or ())
    return names


def shared_walks(est: DeepForecaster, steps: list[int], quantiles: list[float] | None) -> ContextManager[None]:
    """Where a chunk's quantiles are asked for, its point and quantile forecasts share one walk of the
    sample paths (the point forecast's), as they would otherwise walk them twice (about twice the time:
    benchmarks/results/batch_quantiles.md)."""
    return est._sharing_walks(steps) if quantiles else nullcontext()


def with_quantiles(est: DeepForecaster, chunk: pd.DataFrame, steps: list[int], point: pd.DataFrame,
                   quantiles: list[float]) -> pd.DataFrame:
    """``point`` (the chunk's forecasts) with each variate's quantiles beside it."""
    levels = est.predict_quantiles(fh=steps, y=chunk, alpha=quantiles)
    # sktime's layout: a column per (variable, level), variables in the input's order, levels as asked
    n_variates, n_levels = chunk.shape[1], len(quantiles)
    if levels.shape[1] != n_variates * n_levels or not levels.index.equals(point.index):
        raise RuntimeError(f"predict_quantiles returned {levels.shape[1]} columns for {n_variates} variates x "
                           f"{n_levels} levels, or rows other than predict's: a tsrec bug, please report it")
    blocks = []
    for i in range(n_variates):
        blocks.append(point.iloc[:, [i]])
        blocks.append(levels.iloc[:, i * n_levels:(i + 1) * n_levels])
    out = pd.concat(blocks, axis=1)
    out.columns = output_columns(chunk.columns, quantiles)
    return out
