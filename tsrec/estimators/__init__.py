"""Estimators: the scikit-learn / sktime facing classes. Importing registers them."""

from tsrec.estimators.arnet import ARNetForecaster
from tsrec.estimators.chimera import ChimeraClassifier, ChimeraForecaster
from tsrec.estimators.cyclenet import CycleNetForecaster
from tsrec.estimators.errors import InputError, LoadError, TsrecError
from tsrec.estimators.ls4 import LS4Classifier, LS4Forecaster
from tsrec.estimators.ltc import LTCClassifier, LTCForecaster
from tsrec.estimators.pgn import PGNClassifier, PGNForecaster
from tsrec.estimators.smamba import SMambaClassifier, SMambaForecaster
from tsrec.estimators.spacetime import SpaceTimeClassifier, SpaceTimeForecaster

__all__ = [
    "ARNetForecaster", "ChimeraClassifier", "ChimeraForecaster", "CycleNetForecaster", "InputError", "LoadError",
    "LS4Classifier", "LS4Forecaster", "LTCClassifier", "LTCForecaster", "PGNClassifier", "PGNForecaster",
    "SMambaClassifier", "SMambaForecaster", "SpaceTimeClassifier", "SpaceTimeForecaster", "TsrecError",
]
