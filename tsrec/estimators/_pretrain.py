"""sktime's ``pretrain``: train the network on a panel, then fine-tune it on the series given to ``fit``.

``pretrain(panel)`` trains as ``fit(panel)`` would, and keeps only the trained weights, in
``pretrained_``; a later ``pretrain`` goes on training them on more series. ``fit(y)`` then starts
from those weights instead of fresh ones and trains ``max_epochs`` on ``y``, as sktime's pretraining
forecasters fine-tune; refits (``update``, sktime's ``evaluate``) start from them again. This is what
``evaluate(..., cv_global=...)`` runs: before tsrec took part, sktime's default ``pretrain`` did
nothing, and the evaluation scored a model fitted on each test series alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch
from sktime.exceptions import NotFittedError
from torch import nn

from tsrec.estimators._newdata import step_text, uses_stamps
from tsrec.estimators._series import check_raw_y
from tsrec.estimators._timeindex import same_step
from tsrec.estimators._updates import unchanged_on_error
from tsrec.estimators.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


class PretrainedWeights(NamedTuple):
    """A pretrained network's weights and what the data of a fit must match to start from them:
    the number of variates, their order where the names are the same, and the sampling step
    (integer stamps: their spacing)."""

    weights: dict[str, torch.Tensor]
    n_channels: int
    step: object
    history: dict
    columns: tuple = ()


class Pretraining:
    """The pretraining half of sktime's interface, a mixin placed before ``BaseForecaster``."""

    def pretrain(self, y: object, X: object = None, fh: object = None) -> Pretraining:
        """Train the network on the panel ``y`` and keep its weights for later fits; see sktime.

        Parameters
        ----------
        y : pandas.DataFrame or numpy.ndarray
            A panel: a (series id, time) MultiIndex DataFrame or another of sktime's panel types.
        X : object, default=None
            Exogenous data: accepted for sktime's interface and ignored.
        fh : object, default=None
            Accepted for sktime's interface and ignored: ``horizon`` sizes the network.

        Returns
        -------
        self
            The pretrained forecaster: ``pretrained_`` holds the weights ``fit`` starts from.
        """
        check_raw_y(y)  # tsrec's messages (NaN, a MultiIndex Series), as fit gives them
        # sktime stores y's type before _pretrain may refuse it: a fitted forecaster then failed to predict
        with unchanged_on_error(self):
            return super().pretrain(y, X=X, fh=fh)

    def _check_saved_fitted(self) -> None:
        """A pretrained forecaster that was not fitted has no weights of its own to save."""
        if self.state == "pretrained":
            raise NotFittedError(f"{type(self).__name__} is pretrained but not fitted, and a save keeps fitted "
                                 "weights; fit it first (it starts from the pretrained ones), or pickle it to keep "
                                 "the pretrained weights")

    def _pretrain(self, y: pd.DataFrame, X: object = None, fh: object = None) -> Pretraining:
        """Train on the panel ``y`` as ``fit`` would (from ``pretrained_`` where a ``pretrain`` ran
        before: sktime's ``_pretrain_update`` calls this), and keep the weights in ``pretrained_``."""
        scratch = type(self)(**self.get_params(deep=False))
        # a dunder name: sktime's reset at the start of fit keeps it (it deletes every other attribute)
        scratch._Pretraining__start = getattr(self, "pretrained_", None)
        scratch.fit(y)
        weights = {name: value.detach().cpu().clone() for name, value in scratch.network_.state_dict().items()}
        self.pretrained_ = PretrainedWeights(weights, scratch.n_channels_, scratch._fit_step, scratch.history_,
                                             tuple(scratch.columns_))
        return self

    def _start_from_pretrained(self, network: nn.Module) -> None:
        """Load the pretrained weights into the freshly built ``network`` of a fit, if there are any."""
        pretraining = self.__dict__.get("_Pretraining__start")  # a later pretrain's scratch copy
        start = pretraining or getattr(self, "pretrained_", None)
        if start is None:
            return
        verb = "pretrain" if pretraining else "fit"
        if self.n_channels_ != start.n_channels:
            raise InputError(f"y has {self.n_channels_} variates but the forecaster was pretrained on "
                             f"{start.n_channels}; {verb} it on series of as many, or pretrain a new one on these")
        if sorted(map(str, self.columns_)) == sorted(map(str, start.columns)) and self.columns_ != list(start.columns):
            # a variate's place has weights of its own in most networks (CycleNet's cycle, the scans over
            # the variates of S-Mamba and Chimera): the same names in another order would mix them up
            raise InputError(f"y has the variates the forecaster was pretrained on in another order ({self.columns_} "
                             f"for {list(start.columns)}); {verb} it on y[{list(start.columns)}]")
        # only a model that reads the stamps learned its step (as predict(y=...) checks a context's)
        if uses_stamps(self.network_meta_) and not same_step(self._fit_step, start.step):
            raise InputError(f"y steps by {step_text(self._fit_step)} but the forecaster was pretrained on series that "
                             f"step by {step_text(start.step)}, and reads the stamps; resample y to that step, or "
                             "pretrain a new forecaster")
        try:
            network.load_state_dict(start.weights)
        except RuntimeError as err:  # a parameter changed by assignment since (set_params resets pretraining)
            detail = " ".join(str(err).split())
            raise InputError(f"the pretrained weights do not fit the network the current parameters build ({detail}); "
                             "pretrain again after changing parameters") from None
