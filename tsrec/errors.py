"""Exceptions raised by tsrec; subclasses of the built-in errors users already catch.

This module imports nothing, so that every layer (the light :mod:`tsrec.datasets` too) can raise
these classes. They are also importable from :mod:`tsrec.estimators.errors`.
"""


class TsrecError(Exception):
    """Base class of tsrec's own errors.

    Every tsrec error is also a built-in error (``ValueError``, ``FileNotFoundError``, ...), so
    code that catches those keeps working; catch ``TsrecError`` to handle tsrec's errors only.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec.estimators import ARNetForecaster
    >>> try:
    ...     ARNetForecaster(n_lags=4, horizon=2).fit(np.arange(3.0))
    ... except TsrecError as err:
    ...     print(type(err).__name__)
    InputError
    """


class InputError(TsrecError, ValueError):
    """The data given to an estimator cannot be used; the message says why and how to fix it.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec.estimators import ARNetForecaster
    >>> try:
    ...     ARNetForecaster(n_lags=4, horizon=2).fit(np.array([1.0, np.nan, 3.0] * 20))
    ... except InputError as err:
    ...     print(err)  # doctest: +NORMALIZE_WHITESPACE
    y contains NaN or inf (20 NaN), the first at index 1; fill or drop missing values first
    (interpolate along time, e.g. pd.Series(y).interpolate(limit_direction='both').to_numpy())
    >>> issubclass(InputError, ValueError)
    True
    """


class LoadError(TsrecError, ValueError):
    """A saved estimator folder is missing, truncated or tampered with.

    Examples
    --------
    >>> import tempfile, tsrec
    >>> folder = tempfile.mkdtemp()  # an empty folder: nothing was saved there
    >>> try:
    ...     tsrec.load(folder)
    ... except LoadError as err:
    ...     print(str(err).replace(folder, "<folder>"))
    <folder> is not a saved tsrec estimator: config.json and weights.safetensors are needed
    """


class ModelNotFoundError(LoadError, FileNotFoundError):
    """No saved estimator at the path given; both a :class:`LoadError` and a ``FileNotFoundError``.

    Raised by :func:`tsrec.load` and :func:`tsrec.batch.load_cached` (the CLI's ``--model``) for a
    path that does not exist.

    Examples
    --------
    >>> import tsrec
    >>> try:
    ...     tsrec.load("no_such_model")
    ... except ModelNotFoundError as err:
    ...     print(err)
    no_such_model is not a saved tsrec estimator: no such folder; check the path, or pass a folder written by est.save
    >>> issubclass(ModelNotFoundError, LoadError), issubclass(ModelNotFoundError, FileNotFoundError)
    (True, True)
    """


class InSampleError(InputError, NotImplementedError):
    """In-sample forecasts were asked for; a ValueError for tsrec, NotImplementedError for sktime.

    tsrec forecasters forecast only after the end of the data: steps ``fh <= 0``, or stamps at or
    before the cutoff, raise this error with the steps or stamps asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec.estimators import ARNetForecaster
    >>> est = ARNetForecaster(n_lags=4, horizon=2, max_epochs=1).fit(np.arange(40.0), fh=[1, 2])
    >>> try:
    ...     est.predict(fh=[-1, 1])
    ... except InSampleError as err:
    ...     print(err)
    fh must name future steps 1, 2, ... after the end of the data, got [-1, 1]; in-sample forecasts are not supported
    >>> issubclass(InSampleError, ValueError), issubclass(InSampleError, NotImplementedError)
    (True, True)
    """


class InputFileNotFoundError(InputError, FileNotFoundError):
    """An input file does not exist; both a ``ValueError`` (tsrec's InputError) and a ``FileNotFoundError``.

    Raised for the CSV/Parquet files of :func:`tsrec.batch.read_series` and for the benchmark
    files of the :mod:`tsrec.datasets` loaders; the message names the path(s) tried and the fix.
    Also importable as ``tsrec.batch.InputFileNotFoundError``.

    Examples
    --------
    >>> import tempfile
    >>> from tsrec.datasets import load_ucr
    >>> try:
    ...     load_ucr("NoSuchProblem", data_dir=tempfile.mkdtemp())
    ... except InputFileNotFoundError as err:
    ...     print(str(err).splitlines()[0])
    UCR/UEA file for 'NoSuchProblem' (train) not found. Searched:
    >>> issubclass(InputFileNotFoundError, ValueError), issubclass(InputFileNotFoundError, FileNotFoundError)
    (True, True)
    """


class ParameterError(TsrecError, TypeError, ValueError):
    """A parameter or argument of the wrong type or value (``n_lags="4"``, ``lr=-1``, ``pruner="median"``).

    Both a ``TypeError`` and a ``ValueError``, as scikit-learn's ``InvalidParameterError`` is: whether
    a mistake reads as the wrong type or the wrong value, a caller catching either (or
    :class:`TsrecError`) sees it. Estimators raise it from ``fit``, where their parameters are checked.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec.estimators import ARNetForecaster
    >>> try:
    ...     ARNetForecaster(n_lags="4").fit(np.arange(40.0), fh=[1])
    ... except ParameterError as err:
    ...     print(err)
    n_lags must be an integer >= 1, got '4'
    >>> issubclass(ParameterError, TypeError), issubclass(ParameterError, ValueError)
    (True, True)
    """


class FlagError(ParameterError):
    """A flag that is not True or False: a :class:`ParameterError`, so a ``TypeError`` (the type is
    wrong) that is also a ``ValueError``, and a caller catching either sees it.

    Examples
    --------
    >>> from tsrec.nn import SMambaTokens
    >>> try:
    ...     SMambaTokens(6, pool="mean")
    ... except FlagError as err:
    ...     print(err)
    pool must be True or False, got 'mean'
    >>> issubclass(FlagError, TypeError), issubclass(FlagError, ValueError)
    (True, True)
    """


class TuningSetupError(TsrecError, ValueError):
    """A mistake in how a search is set up that every trial would repeat (raised by
    :func:`tsrec.tuning.tune`, e.g. the processes of a multi-device trial sampled different
    parameters): it stops the search instead of failing each trial.

    Examples
    --------
    >>> issubclass(TuningSetupError, ValueError)
    True
    """


class NoValidationWarning(UserWarning):
    """``val_size > 0`` left no validation data: the fit trains all ``max_epochs`` without early
    stopping or best-epoch restore. :func:`tsrec.tuning.tune` turns it into a failed trial (or a
    :class:`TuningSetupError`) before training, since such a trial has no score.

    Examples
    --------
    >>> issubclass(NoValidationWarning, UserWarning)
    True
    """


class MixedStepsWarning(UserWarning):
    """The series of a panel step differently (hourly and every 15 minutes, say): the one global
    network reads each row as one step, so it learns them as if they were on one time scale.

    Fitting them together may be meant; filter this warning then. Models that read settings off
    the step (calendar features, a cycle or period inferred from it) refuse such a panel instead.

    Examples
    --------
    >>> issubclass(MixedStepsWarning, UserWarning)
    True
    """


class UnpublishedDataWarning(UserWarning):
    """A benchmark data file's bytes differ from the published file's (one value edited, say): it is
    read, but scores on it may not compare with the papers'. Given once per copy and process.

    Also importable as ``tsrec.datasets.UnpublishedDataWarning``.

    Examples
    --------
    >>> issubclass(UnpublishedDataWarning, UserWarning)
    True
    """


class PartialValidationWarning(UserWarning):
    """Some series of a panel are too short to validate: the validation loss covers the others only.

    A plain fit only warns. :func:`tsrec.tuning.tune` fails such a trial instead, since its loss
    is scored on fewer series than the others' and would rank them unfairly.

    Examples
    --------
    >>> issubclass(PartialValidationWarning, UserWarning)
    True
    """
