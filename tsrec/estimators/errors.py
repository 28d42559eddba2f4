"""tsrec's exceptions, importable from the estimators package too (they live in :mod:`tsrec.errors`)."""

from tsrec.errors import InputError, InputFileNotFoundError, InSampleError, LoadError, TsrecError

__all__ = ["InSampleError", "InputError", "InputFileNotFoundError", "LoadError", "TsrecError"]
