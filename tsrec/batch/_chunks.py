"""Chunks of a panel: the unit each engine forecasts, on one torch thread, in series order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch

from tsrec.errors import TsrecError
from tsrec.batch._quantiles import output_columns, shared_walks, with_quantiles
from tsrec.estimators._forecaster import DeepForecaster


def panel_chunks(panel: pd.DataFrame, chunk_size: int) -> list[pd.DataFrame]:
    """Runs of ``chunk_size`` whole series (a positive int: ``check_engine``), in the panel's order
    (:func:`read_series` sorts by id)."""
    codes = pd.factorize(panel.index.get_level_values(0))[0]
    # a stable sort keeps each series' rows in time order and makes every series one block
    order = np.argsort(codes, kind="stable")
    panel, codes = panel.iloc[order], codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    bounds = [*starts[::chunk_size], len(panel)]
    return [panel.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def forecast_chunk(est: DeepForecaster, chunk: pd.DataFrame, steps: list[int],
                   quantiles: list[float] | None = None) -> pd.DataFrame:
    """One chunk's forecasts, columns named as in the output (``<value>_hat``, and ``<value>_q<level>``
    for each of ``quantiles``); a failure that is not tsrec's own (tsrec's name their series) gets a
    note naming the chunk's series, which a Dask worker's traceback would not show."""
    try:
        with shared_walks(est, steps, quantiles):
            point = est.predict(fh=steps, y=chunk)
            point.columns = output_columns(chunk.columns, None)
            return point if not quantiles else with_quantiles(est, chunk, steps, point, quantiles)
    except Exception as err:
        if not isinstance(err, TsrecError):
            ids = chunk.index.get_level_values(0).unique()
            which = f"series {ids[0]!r}" if len(ids) == 1 else f"{len(ids)} series {ids[0]!r} to {ids[-1]!r}"
            err.add_note(f"raised while forecasting the {which}")
        raise


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread in this thread, so that results do not depend on the thread count.

    torch's setting is per thread for OpenMP builds (worker threads do not disturb each other);
    the previous count is restored afterwards.
    """
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)
