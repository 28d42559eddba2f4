"""Exceptions raised by tsrec estimators; subclasses of the built-in errors users already catch."""


class TsrecError(Exception):
    """Base class of tsrec's own errors."""


class InputError(TsrecError, ValueError):
    """The data given to an estimator cannot be used; the message says why and how to fix it."""


class LoadError(TsrecError, ValueError):
    """A saved estimator folder is missing, truncated or tampered with."""


class InSampleError(InputError, NotImplementedError):
    """In-sample forecasts were asked for; a ValueError for tsrec, NotImplementedError for sktime."""
