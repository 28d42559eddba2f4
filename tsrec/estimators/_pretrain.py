"""sktime's ``pretrain``, refused: tsrec's global model is ``fit(panel)``, then ``predict(y=series)``.

sktime's base ``pretrain`` does nothing for a forecaster without the ``capability:pretrain`` tag,
and ``evaluate(..., cv_global=...)`` calls it, then ``fit`` on the test series: it scored a model
fitted on each test series alone as if it were the global one.
"""

from __future__ import annotations

from typing import NoReturn

_HOW = ("tsrec forecasters train one global model in fit: est.fit(panel), then forecast series it was not "
        "fitted on with est.predict(fh, y=series) (evaluate's cv_global cannot run that; pass cv alone)")


class NoPretraining:
    """A mixin placed before ``BaseForecaster`` whose ``pretrain`` raises rather than passes silently."""

    def pretrain(self, y: object, X: object = None, fh: object = None) -> NoReturn:
        """Refused: ``pretrain`` would do nothing, leaving ``fit`` to train on its own data alone.

        Raises
        ------
        NotImplementedError
            Always, with the tsrec way to forecast new series from one global model.
        """
        raise NotImplementedError(f"{type(self).__name__}.pretrain is not supported: {_HOW}")
