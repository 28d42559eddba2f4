"""Forecasting many series with one fitted model: a local engine and a Dask engine.

Both engines cut the panel into the same chunks of ``chunk_size`` series, in series order, and
forecast each chunk with one ``model.predict(fh=..., y=chunk)`` call (which reads a chunk whose
series lie on the fitted step's grid as arrays, :mod:`tsrec.estimators._onepass`). A chunk is the unit of
work because (a) one panel call is several times faster than one call per series (the per-call
pandas/sktime overhead dominates small models) and (b) a network's output for a series can
change in the last float32 bit with the batch it is computed in; fixing the chunks makes the
Dask engine's output identical, bit for bit, to the local engine's. Dask partitions are runs of
whole chunks.

For the same reason every chunk is forecast with one torch thread: MKL's matrix products round
differently with different thread counts, and Dask workers run with other counts than the
local process (distributed's nannies set ``OMP_NUM_THREADS=1``). Parallelism comes from the
chunks instead; for small networks the per-call overhead dominates anyway.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from tsrec._files import os_error
from tsrec._warn import collected_warnings, each_kind_once, show_collected
from tsrec.batch._chunks import forecast_chunk, one_torch_thread, panel_chunks
from tsrec.batch._engine_checks import check_engine
from tsrec.batch._quantiles import check_quantiles
from tsrec.batch._checks import (check_outside_model, check_panel, check_panel_rows, forecast_steps,
                                 in_model_zone, value_columns)
from tsrec.batch._models import load_cached, resolve_model
from tsrec.batch.io import PathLike, check_output_path, input_paths, read_series, write_forecasts
from tsrec.estimators._forecaster import DeepForecaster
from tsrec.estimators.errors import InputError, LoadError

# seconds to wait for a Dask scheduler before giving up (distributed retries a refused connection until then)
_CONNECT_TIMEOUT_S = 30
# an unreachable address says only that it timed out: say what to check, and how to do without it
_SCHEDULER_FIX = (
    "check that a Dask scheduler runs at that address (start one with: dask scheduler) and that this machine "
    "can reach it (host, port, firewall), or drop --scheduler-address (client= in Python) to forecast locally"
)


def _forecast_chunks(chunks: list[pd.DataFrame], model: DeepForecaster | str, steps: list[int],
                     quantiles: list[float] | None = None) -> tuple[list, list]:
    """Forecast a list of chunks (one Dask partition); ``model`` may be a saved folder. Returns the
    forecasts and tsrec's warnings, for the caller to show (a worker's would reach only its log)."""
    # each chunk would warn again for its own series: once per call (the local run, a Dask task); a
    # worker's load warns as the caller's did, and goes back with the rest
    with one_torch_thread(), each_kind_once(), collected_warnings() as caught:
        est = load_cached(model) if isinstance(model, str) else model
        return [forecast_chunk(est, chunk, steps, quantiles) for chunk in chunks], caught


def forecast_panel(
    model: DeepForecaster | PathLike,
    panel: pd.DataFrame,
    *,
    fh: int | Sequence[int] | None = None,
    engine: str = "local",
    client: object | None = None,
    npartitions: int | None = None,
    scheduler: str | None = None,
    chunk_size: int = 256,
    quantiles: float | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Forecast every series of an in-memory panel; the engine behind :func:`forecast_files`.

    Parameters
    ----------
    model : fitted tsrec forecaster or path
        As in :func:`forecast_files`.
    panel : pandas.DataFrame
        A (series id, time) MultiIndex panel, e.g. from :func:`tsrec.batch.read_series`.
    fh, engine, client, npartitions, scheduler, chunk_size, quantiles
        As in :func:`forecast_files`.

    Returns
    -------
    pandas.DataFrame
        Long forecasts: the two index names as columns, then ``<value column>_hat`` per variate
        (each followed by its ``<value column>_q<level>`` columns with ``quantiles``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrec.estimators import ARNetForecaster
    >>> t = pd.date_range("2024-01-01", periods=60, freq="h")
    >>> panel = pd.concat({k: pd.DataFrame({"y": np.sin(np.arange(60.0) / s)}, index=t)
    ...                    for k, s in [("a", 3), ("b", 5)]}, names=["unique_id", "ds"])
    >>> est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(panel)
    >>> forecast_panel(est, panel).shape
    (4, 3)
    """
    check_engine(engine, client, npartitions, scheduler, chunk_size)
    if not isinstance(panel, pd.DataFrame) or panel.index.nlevels != 2:
        raise InputError("panel must be a DataFrame with a (series id, time) MultiIndex; read it with read_series")
    check_panel_rows(panel)
    est, path = resolve_model(model)
    steps = forecast_steps(fh, est)
    levels = check_quantiles(quantiles, est)
    panel = in_model_zone(est, panel)
    with collected_warnings() as checked:  # shown with the chunks' warnings: the same ones, such as a constant series
        check_panel(est, panel, steps, levels, chunk_size)
    chunks = panel_chunks(panel, chunk_size)
    if engine == "local":
        results = [_forecast_chunks(chunks, est, steps, levels)]
    else:
        model = path if path is not None else est
        results = _dask_forecast(model, chunks, steps, levels, client, npartitions, scheduler)
    show_collected([*checked, *(caught for _, part in results for caught in part)])  # once, whichever task gave them
    frames = [frame for part, _ in results for frame in part]
    out = pd.concat(frames) if len(frames) > 1 else frames[0]
    out.index.names = list(panel.index.names)
    return out.reset_index()


def _import_dask():
    try:
        import dask
    except ImportError:
        raise ImportError("engine='dask' needs dask and distributed: pip install dask distributed (or, in the "
                          "tsrec checkout, pip install -e '.[dask]')") from None
    return dask


@contextmanager
def _connected(address: str) -> Iterator[object]:
    """A client of the scheduler at ``address``, closed afterwards; connecting is the last step,
    after every local check, since an unreachable address takes the whole timeout to fail."""
    _import_dask()
    try:
        from distributed import Client
    except ImportError:
        raise ImportError(f"client={address!r} needs dask and distributed: pip install dask distributed (or, in "
                          "the tsrec checkout, pip install -e '.[dask]')") from None
    try:
        client = Client(address, timeout=_CONNECT_TIMEOUT_S)
    except OSError as err:  # TimeoutError too: "Timed out trying to connect to ... after 30 s"
        raise os_error(err, f"cannot connect to the Dask scheduler at {address}", _SCHEDULER_FIX) from None
    try:
        yield client
    finally:
        client.close()


def _dask_forecast(model, chunks, steps, quantiles, client, npartitions, scheduler) -> list[tuple[list, list]]:
    """Forecast runs of chunks as Dask tasks; each task's forecasts and warnings, in order."""
    if isinstance(client, str):
        with _connected(client) as connected:
            return _dask_forecast(model, chunks, steps, quantiles, connected, npartitions, scheduler)
    dask = _import_dask()
    if npartitions is None:  # a given one is checked by check_engine
        npartitions = sum(client.nthreads().values()) if client is not None else os.cpu_count() or 1
    blocks = np.array_split(np.arange(len(chunks)), min(int(npartitions), len(chunks)))
    parts = [[chunks[i] for i in block] for block in blocks]
    if client is not None:
        # a path stays a path (each worker loads the folder once); an object goes once to each
        # worker, so remote workers need no shared file system for it
        if not isinstance(model, str):
            model = client.scatter(model, broadcast=True)
        else:
            _check_workers_read(client, model)
        # data goes straight from here to the workers, not through the task graph
        futures = client.map(_forecast_chunks, client.scatter(parts), model=model, steps=steps, quantiles=quantiles,
                             pure=False)
        results = client.gather(futures)
    else:
        task = dask.delayed(_forecast_chunks, pure=False)
        # an object is shared by threads, pickled per task by the processes scheduler
        shared = model
        if not isinstance(model, str):
            shared = dask.delayed(model, name=f"tsrec-model-{uuid.uuid4().hex}", traverse=False)
        results = dask.compute(*[task(part, shared, steps, quantiles) for part in parts], scheduler=scheduler)
    return list(results)


def _check_workers_read(client, folder: str) -> None:
    """Every worker sees the model's folder: else each task fails to load it, blaming the folder."""
    blind = sorted(worker for worker, seen in client.run(os.path.isdir, folder).items() if not seen)
    if blind:
        raise LoadError(f"the model folder {folder} is readable here but not on Dask worker(s) {', '.join(blind)}; "
                        "put it on a file system every worker reads, or pass the loaded model (tsrec.load(folder)) "
                        "as model with client= (it is sent to each worker)")


def forecast_files(
    model: DeepForecaster | PathLike,
    inputs: PathLike | Iterable[PathLike],
    output: PathLike,
    *,
    fh: int | Sequence[int] | None = None,
    layout: str = "long",
    id_col: str = "unique_id",
    time_col: str = "ds",
    value_col: str = "y",
    columns: Sequence[str] | None = None,
    dayfirst: bool | None = None,
    engine: str = "local",
    client: object | None = None,
    npartitions: int | None = None,
    scheduler: str | None = None,
    chunk_size: int = 256,
    quantiles: float | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Forecast every series in CSV/Parquet files with one fitted model and write the forecasts.

    Each series is forecast from the end of its own history with the fitted weights
    (``model.predict(fh=..., y=series)``); the network reads its last ``lookback`` rows (a model
    with per-series scaling standardises a series it was not fitted on by all the rows given).
    All files are read and checked before anything is forecast, and the output is written
    atomically (temporary file + ``os.replace``): on any error nothing is written and an
    existing output file is left as it was.

    Parameters
    ----------
    model : fitted tsrec forecaster or path
        A fitted forecaster, or a folder written by ``est.save(path)`` (loaded with
        :func:`tsrec.load`).
    inputs : path or iterable of paths
        ``.csv``/``.csv.gz``/``.parquet`` files, e.g. a list or ``Path("data").glob("*.csv")``;
        see :func:`tsrec.batch.read_series`.
    output : path
        ``.csv``, ``.csv.gz`` or ``.parquet``, decided by the extension. Long format: ``id_col``,
        ``time_col``, then ``<value column>_hat`` per variate (``y_hat`` by default), sorted by
        series id and time.
    fh : int, sequence of int or ForecastingHorizon, optional
        Steps ahead: None is the steps of the ``fh`` the model holds (given to ``fit`` or to a later
        forecast, as sktime keeps it), or 1..horizon for a model that holds none; an int ``N`` is
        1..N; a list, or sktime's relative ``ForecastingHorizon``, names steps.
        Steps past the horizon are produced by feeding forecasts back in.
    layout, id_col, time_col, value_col, columns, dayfirst
        The file layout, column names and day order of dates, as in :func:`tsrec.batch.read_series`. For a
        multivariate model and the long layout, ``columns`` defaults to the columns the model
        was fitted on; a model fitted on an array has numbered variates, which any names match,
        and needs ``columns`` (the file's value columns in the fitted order).
    engine : {"local", "dask"}, default="local"
        ``"local"`` forecasts in this process. ``"dask"`` spreads chunks of series over Dask
        workers (needs dask and distributed: ``pip install -e '.[dask]'`` in the checkout); its
        output is identical to the local one.
    client : distributed.Client or str, optional
        With ``engine="dask"``: run on this cluster, or on the scheduler at this address (e.g.
        ``"tcp://10.0.0.1:8786"``), connected to only after the files are read and checked. A
        model path is passed to the workers as a path (it must be readable there, e.g. a shared
        file system; each worker process loads it once); a model object is scattered once to
        every worker. Without a client, Dask's local ``scheduler`` runs the tasks.
    npartitions : int, optional
        Number of Dask tasks; default: the client's total threads or the number of CPUs (never
        more than the number of chunks).
    scheduler : {"threads", "processes", "synchronous"}, optional
        Dask's local scheduler, only without ``client`` (both are refused); None uses Dask's
        configured default (threads, or a default ``distributed.Client`` if one exists).
    chunk_size : int, default=256
        Series forecast together in one ``predict`` call (the same for both engines). Forecasts
        agree with one-series-at-a-time calls up to float32 rounding.
    quantiles : float or sequence of float, optional
        Quantile levels strictly between 0 and 1 (e.g. ``[0.1, 0.9]``) for a forecaster that samples
        forecast paths (``LS4Forecaster``): each variate's ``_hat`` column is followed by a
        ``<value column>_q<level>`` column per level (``y_q0.1``), from ``predict_quantiles``.

    Returns
    -------
    pandas.DataFrame
        The forecasts that were written.

    Raises
    ------
    InputError
        Bad files or values (see :func:`read_series`), series shorter than the model's
        lookback (the message names them), values beyond the model's range once scaled (named by
        series), a variate-count mismatch, a bad ``fh``, Dask options that do not apply (any without
        ``engine="dask"``, ``scheduler`` with ``client``), or ``output`` is one of the ``inputs``.
    TypeError
        ``model`` is not a tsrec forecaster, or a value column is not numeric.
    ParameterError
        ``quantiles`` holds a level outside (0, 1) or one twice, or the model makes point forecasts
        only (found before the inputs are read).
    ImportError
        A Parquet file is read or written without pyarrow installed (an output file's is found first).
    OSError
        ``output`` cannot be written (checked before the inputs are read, by making and removing a
        file in its folder) or its write fails; the message names ``output`` and the fix, and an
        existing ``output`` is left as it was.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from tsrec.estimators import ARNetForecaster
    >>> folder = tempfile.mkdtemp()
    >>> t = pd.date_range("2024-01-01", periods=60, freq="h")
    >>> pd.DataFrame({"ds": t, "a": np.sin(np.arange(60.0) / 3), "b": np.cos(np.arange(60.0) / 5)}
    ...              ).to_csv(folder + "/wide.csv", index=False)
    >>> est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(np.sin(np.arange(60.0)))
    >>> _ = est.save(folder + "/model")
    >>> out = forecast_files(folder + "/model", folder + "/wide.csv", folder + "/out.parquet",
    ...                      layout="wide", fh=3)
    >>> list(out.columns), len(out)
    (['unique_id', 'ds', 'y_hat'], 6)
    """
    # one list: an iterator (e.g. Path.glob) would be used up by the output check below
    inputs = input_paths(inputs)
    # fail before the slow part on a bad output name, engine options or fh
    target = check_output_path(output, inputs)
    check_engine(engine, client, npartitions, scheduler, chunk_size)
    est, path = resolve_model(model)
    check_outside_model(target, path)
    forecast_steps(fh, est)
    check_quantiles(quantiles, est)
    columns = value_columns(est, layout, columns, value_col)
    # naive stamps are read in a zoned model's zone before their spacing is checked (local hours skip one in spring)
    panel = read_series(inputs, layout=layout, id_col=id_col, time_col=time_col, value_col=value_col, columns=columns,
                        time_zone=est._fitted_zone(), dayfirst=dayfirst)
    try:
        result = forecast_panel(
            path if path is not None else est, panel, fh=fh, engine=engine, client=client,
            npartitions=npartitions, scheduler=scheduler, chunk_size=chunk_size, quantiles=quantiles,
        )
    except InputError as err:  # found in the panel: the files it came from, where the message names none
        raise _in_files(err, inputs) from None
    write_forecasts(result, target)
    return result


def _in_files(err: InputError, inputs: list) -> InputError:
    """``err`` led by the input files (up to three named), unless it names one already."""
    message = str(err)
    if any(str(path) in message for path in inputs):
        return err
    where = ", ".join(map(str, inputs)) if len(inputs) <= 3 else f"the {len(inputs)} input files"
    return type(err)(f"{where}: {message}")
