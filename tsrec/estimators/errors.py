"""tsrec's exceptions, importable from the estimators package too (they live in :mod:`tsrec.errors`)."""

from tsrec.errors import (FlagError, InputError, InputFileNotFoundError, InSampleError, LoadError, MixedStepsWarning,
                          ModelNotFoundError, NoValidationWarning, ParameterError, PartialValidationWarning, TsrecError,
                          TuningSetupError)

__all__ = ["FlagError", "InSampleError", "InputError", "InputFileNotFoundError", "LoadError", "MixedStepsWarning",
           "ModelNotFoundError", "NoValidationWarning", "ParameterError", "PartialValidationWarning", "TsrecError",
           "TuningSetupError"]
