"""The base of every tsrec classifier: a scikit-learn classifier trained by the Lightning engine.

X is (n_samples, n_timepoints) for univariate series or (n_samples, n_channels, n_timepoints)
for multivariate ones (sktime's numpy3D); sktime's pandas panel formats are converted at the
door (:mod:`tsrec.estimators._panels`). Subclasses implement ``_build_encoder(n_channels,
n_timepoints) -> (module, width)``.
"""

from __future__ import annotations

import contextlib
import math
import os

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, validate_data
from sktime.base import BaseObject
from torch import nn
from torch.utils.data import DataLoader, Dataset

from tsrec._checks import check_int
from tsrec._warn import import_lightning
from tsrec.estimators import _divergence, _panel_values, _panels, _params, _persistence, _seeding, _sktime_zip
from tsrec.estimators._attribute_docs import CLASSIFIER_ATTRIBUTES, with_shared_attributes
from tsrec.estimators._batches import batch_loader
from tsrec.estimators._class_weights import WeightedClassLoss, check_class_weight, class_weights
from tsrec.estimators._fitted_params import fitted_value
from tsrec.estimators._labels import encode_labels
from tsrec.estimators._modes import predicting
from tsrec.estimators._panel_shapes import at_fitted_shape, check_ndim, rows_read_as_panel, shape_of
from tsrec.estimators._params import check_val_size, data_dtype, training_config, warn_no_validation
from tsrec.estimators._training import TrainingResult, network_dtype
from tsrec.estimators._updates import unchanged_on_error
from tsrec.estimators.errors import InputError
from tsrec.nn.heads import SequenceClassifier


def classification_loss(network: nn.Module, batch) -> tuple[torch.Tensor, int]:
    """Cross-entropy of one batch and the number of samples in it."""
    x, y = batch
    return nn.functional.cross_entropy(network(x), y), len(x)


class _Samples(Dataset):
    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, items: list[int]):
        return self.x[items], self.y[items]


def _loader(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, seed: int) -> DataLoader:
    return batch_loader(_Samples(x, y), batch_size, shuffle, seed)


def _check_axes(X: np.ndarray) -> None:
    """Refuse samples with no channel or no timepoint: some networks would train on nothing and
    return constant probabilities, others fail deep inside with a layer's or kernel's message."""
    _, channels, timepoints = X.shape
    if channels == 0 or timepoints == 0:
        raise InputError(
            f"X has {channels} channel(s) x {timepoints} timepoints per sample; a classifier needs at least "
            "one channel and one timepoint: pass X of shape (n_samples, n_channels, n_timepoints) with both >= 1"
        )


#: the largest |X| below which an overflow is blamed on training, not on X's scale (standardised
#: data stays within a few units; an overflow from X itself took values near 1e8 or more)
MODERATE_X = 100.0


def _overflow_error(X: np.ndarray, when: str) -> InputError:
    """The error for a network whose values overflowed, naming X's magnitude and the fix."""
    largest = float(np.abs(X).max()) if X.size else 0.0
    if largest <= MODERATE_X:  # X is not the cause: the weights grew (an lr of 100 on standardised X)
        fix = "training diverged: lower lr" if when == "while training" else "the fit diverged: refit with a lower lr"
        return InputError(f"the network's values overflowed to NaN or inf {when}; X is of moderate scale (the "
                          f"largest |X| is {largest:.3g}), so {fix}")
    return InputError(
        f"the network's values overflowed to NaN or inf {when}; the largest |X| is {largest:.3g} and tsrec's "
        "classifiers do not rescale X, so scale it first, e.g. standardise each channel by its mean and "
        "standard deviation over the training samples (the same statistics for X at predict time); if X is "
        "already of order 1, lower lr"
    )


def _overflow_as_input_error(X: np.ndarray, when: str) -> contextlib.AbstractContextManager:
    """Turn a kernel's "contains NaN or inf" (X itself is finite: _panel_values.check_finite checked it) into an
    error about X's magnitude."""
    return _divergence.kernel_non_finite_as(lambda: _overflow_error(X, when))


def time_major(X: np.ndarray) -> torch.Tensor:
    """numpy3D ``X`` as a (samples, time, channels) tensor of its own: a copy, since ``X`` may be
    read-only (joblib's memory maps in ``GridSearchCV(n_jobs=2)``), which torch warns about sharing."""
    return torch.from_numpy(np.array(X.transpose(0, 2, 1), order="C"))


def _finite_logits(network: nn.Module, X: np.ndarray, n_classes: int, when: str, batch_size: int) -> torch.Tensor:
    """The network's logits for numpy3D ``X``, refusing NaN or inf (which softmax would pass on).

    ``batch_size`` samples a pass, the training batch (as darts and Keras predict): no more memory
    than a training step took. Passes of 1024 samples took up to 2 GiB at the defaults on series of
    500 steps, and 2 to 3 times as long for three of the six models (benchmarks/prediction_passes.py).
    """
    x = time_major(X).to(network_dtype(network))
    if not len(x):
        return torch.zeros(0, n_classes)
    with predicting(), _overflow_as_input_error(X, when):
        logits = torch.cat([network(part) for part in x.split(batch_size)])
    if not bool(torch.isfinite(logits).all()):
        raise _overflow_error(X, when)
    return logits


def every_class_on_both_sides(y: np.ndarray, train: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's stratified rounding can leave a small class out of one side ([3, 3, 94] at
    val_size=0.1 validated on the large class alone): each class missing from a side gets one of
    its samples from the other side, in exchange for one of that side's largest class."""
    sides = [list(train), list(val)]
    for cls in range(int(y.max()) + 1):
        for here, there in ((sides[1], sides[0]), (sides[0], sides[1])):
            if (y[here] == cls).any():
                continue
            # the other side holds all (>= 2) of this class; this side has >= 2 of its largest one
            give = next(i for i in there if y[i] == cls)
            take = next(i for i in here if y[i] == np.bincount(y[here]).argmax())
            there.remove(give)
            here.remove(take)
            here.append(give)
            there.append(take)
    return np.sort(sides[0]), np.sort(sides[1])


class DeepClassifier(ClassifierMixin, BaseEstimator):
    """Shared machinery of tsrec classifiers (not used directly)."""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = with_shared_attributes(cls.__doc__, CLASSIFIER_ATTRIBUTES)

    def _check_training_memory(self, config, n_variates: int, length: int, batch: int) -> None:
        """Refuse, before any training, batches that cannot fit the device (a network that knows its needs)."""

    def _build_encoder(self, n_channels: int, n_timepoints: int) -> tuple[nn.Module, int]:
        raise NotImplementedError

    def _check_params(self) -> None:
        """Validate model-specific parameters; called at the start of fit."""

    def __setstate__(self, state: dict) -> None:
        state.setdefault("class_weight", None)  # pickled before classes could be weighted
        super().__setstate__(state)

    def _check_shared_params(self) -> None:
        """Validate the parameters every classifier takes besides the training ones, before the data."""
        check_class_weight(self.class_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ---- data ----------------------------------------------------------------------------------
    def _as_3d(self, X, reset: bool) -> np.ndarray:
        raw, (X, channels) = X, _panels.as_stackable(X)
        if reset:  # before validate_data, whose 1-D advice "reshape(-1, 1)" makes one series n samples
            check_ndim(len(shape_of(X) or (0, 0)))
        else:  # before validate_data, whose "X has n features" would hide a wrong rank or length
            try:
                X = at_fitted_shape(self, X)
            except InputError as err:  # the shape of a panel read from a table the user may not know it is
                raise InputError("; ".join([str(err), *rows_read_as_panel(raw)])) from None
            _panels.check_channel_names(getattr(self, "feature_names_in_", None) if self.input_ndim_ == 3 else None,
                                        channels, type(self).__name__ if self.input_ndim_ == 3 else None)
        # NaN/inf are checked below: scikit-learn's message recommends imputers, which take no 3-D series;
        # values beyond float32's range become inf there, refused with that reason, not numpy's warning
        with (_panels.samples_of_one_shape(X), _panels.numbers_only(), _panels.names_checked_here(channels),
              _panels.some_samples(reset), np.errstate(over="ignore")):
            # the fitted network's precision: a set_params after fit changes nothing until the next fit
            precision = self.precision if reset else fitted_value(self, "precision")
            given, X = X, validate_data(self, X, reset=reset, dtype=data_dtype(precision), allow_nd=True,
                                        ensure_min_features=1, ensure_all_finite=False)
        _panel_values.warn_rounded_away(given, X)
        if reset:
            _panel_values.warn_far_from_unit_scale(X)
        check_ndim(X.ndim)
        if reset:
            if X.ndim == 3 and channels is None:  # a panel's frame says which axis is which
                _panel_values.warn_channels_last(X)
            self.input_ndim_ = X.ndim
            if channels is not None:  # a panel's channels are the features of 3-D input (n_features_in_)
                self.feature_names_in_ = np.asarray(channels, dtype=object)
        X = X[:, None, :] if X.ndim == 2 else X
        _check_axes(X)
        _panel_values.check_finite(X, given)
        if reset:
            self.n_channels_, self.n_timepoints_ = X.shape[1], X.shape[2]
        return X

    def _encode_labels(self, y, n_samples: int) -> np.ndarray:
        self.classes_, encoded = encode_labels(y)
        return encoded

    # ---- public API ------------------------------------------------------------------------------
    def fit(self, X: object, y: object) -> DeepClassifier:
        """Fit to series ``X`` and labels ``y``; returns self.

        A fit that fails (bad input, an error or Ctrl+C while training) leaves the classifier as
        it was, fitted to the earlier data if it was: never the new classes with the old network.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            Series of shape (n_samples, n_timepoints) or (n_samples, n_channels, n_timepoints),
            or an sktime panel (converted at the door).
        y : array-like of shape (n_samples,)
            Class labels, at least two classes; no missing labels.

        Returns
        -------
        self
            The fitted classifier.
        """
        with unchanged_on_error(self):  # nothing is lost on bad input: the earlier fit stays
            self._forget_fit()  # a refit starts clean: no attribute of the earlier fit survives it
            return self._fit(X, y)

    def _forget_fit(self) -> None:
        for name in [key for key in vars(self) if key.endswith("_") and not key.startswith("_")]:
            delattr(self, name)

    def _fit(self, X, y):
        self._check_params()
        self._check_shared_params()
        config = training_config(self)  # every parameter is checked before the data
        X, y_encoded = self._fit_data(X, y)
        _persistence.remember_fitted_params(self)
        network, result = self._train_network(X, y_encoded, config)
        _divergence.warn_far_above_baseline(result, math.log(len(self.classes_)), "guessing every class alike", config)
        self.network_ = network
        self.history_ = result.as_history()
        return self

    def _fit_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """``X`` as numpy3D and the encoded labels, checked as fit checks them (whatever the
        parameters: ``tsrec.tuning.tune`` checks the data once before its trials)."""
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None; pass the class labels")
        _panels.check_labels_second(X, y)
        given, X = X, self._as_3d(X, reset=True)
        _panels.check_one_label_each(given, X, y)
        return X, self._encode_labels(y, len(X))

    @torch.inference_mode(False)  # a fit called inside inference mode must still build tensors autograd takes
    def _train_network(self, X: np.ndarray, y_encoded: np.ndarray, config) -> tuple[nn.Module, TrainingResult]:
        """Build and train the network on numpy3D ``X``; refuse one whose values overflowed."""
        import_lightning()  # the user's warning filters stay ahead of Lightning's
        from tsrec.estimators import _engine  # noqa: PLC0415 - Lightning is imported by the first fit (_training)
        x = time_major(X)
        target = torch.from_numpy(y_encoded.astype(np.int64))
        train_idx, val_idx = self._split(y_encoded, config.seed)
        weight = class_weights(self.class_weight, self.classes_, y_encoded, train_idx)
        self._check_training_memory(config, self.n_channels_, self.n_timepoints_, min(config.batch_size,
                                                                                      len(train_idx)))
        with _seeding.seeded(config.seed, _seeding.uses_gpu(config)), _params.sizes_named_when_out_of_memory(self):
            encoder, width = self._build_encoder(self.n_channels_, self.n_timepoints_)
            network = SequenceClassifier(encoder, width, len(self.classes_))
            loss = classification_loss if weight is None else WeightedClassLoss(weight)
            module = _engine.TrainingModule(network, loss, config)
            train_loader = _loader(x[train_idx], target[train_idx], config.batch_size, True, config.seed)
            val_loader = None
            if len(val_idx):
                val_loader = _loader(x[val_idx], target[val_idx], config.batch_size, False, config.seed)
            with _overflow_as_input_error(X, "while training"):
                result = _engine.train(module, train_loader, val_loader)
            # a loss that overflowed trains NaN weights without an error: refuse them here, not at predict
            _finite_logits(module.network, X, len(self.classes_), "while training", config.batch_size)
        return module.network, result

    def _split(self, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """A stratified validation split when there is room for one, else none."""
        val_size = check_val_size(self.val_size)
        indices = np.arange(len(y))
        n_val = int(round(val_size * len(y))) if isinstance(val_size, float) else val_size
        counts = np.bincount(y)
        if n_val < len(counts) or len(y) - n_val < len(counts) or counts.min() < 2:
            if val_size:
                warn_no_validation(self.val_size, "a stratified split needs at least one sample of every class on "
                                                  "each side and two samples of each class")
            return indices, indices[:0]
        train_idx, val_idx = train_test_split(indices, test_size=n_val, stratify=y, random_state=seed)
        return every_class_on_both_sides(y, np.sort(train_idx), np.sort(val_idx))

    def predict_proba(self, X: object) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            Series of shape (n_samples, n_timepoints) or (n_samples, n_channels, n_timepoints),
            or an sktime panel (converted at the door).
            Same channels and length as in ``fit``.

        Returns
        -------
        numpy.ndarray
            Probabilities (float64), (n_samples, n_classes); each row sums to 1.
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict_log_proba(self, X: object) -> np.ndarray:
        """Logarithms of the class probabilities (n_samples, n_classes), as :meth:`predict_proba`.

        Taken from the network's logits (a log-softmax), so classes far less likely than the others
        get finite values where ``np.log(predict_proba(X))`` would give ``-inf``.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            The series, as for :meth:`predict_proba`.

        Returns
        -------
        numpy.ndarray
            Log-probabilities (float64), (n_samples, n_classes), columns in the order of ``classes_``.
        """
        return torch.log_softmax(self._logits(X), dim=1).numpy()

    def _logits(self, X: object) -> torch.Tensor:
        check_is_fitted(self)
        X = self._as_3d(X, reset=False)
        batch_size = check_int("batch_size", self.batch_size)
        return _finite_logits(self.network_, X, len(self.classes_), "at predict time", batch_size).double()

    def predict(self, X: object) -> np.ndarray:
        """The most probable class of each sample.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            Series of shape (n_samples, n_timepoints) or (n_samples, n_channels, n_timepoints),
            or an sktime panel (converted at the door).
            Same channels and length as in ``fit``.

        Returns
        -------
        numpy.ndarray
            The labels, (n_samples,), from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def save(self, path: str | os.PathLike | None = None, serialization_format: str | None = None) -> object:
        """Save to a folder ``path`` (config.json + weights.safetensors), loadable by ``tsrec.load``.

        With ``serialization_format="pickle"`` or ``"cloudpickle"`` (or ``path=None``) this is
        sktime's own zip/in-memory format, loadable by ``sktime.base.load``, as for forecasters.

        Parameters
        ----------
        path : str, os.PathLike or None, default=None
            The folder to write (replaced atomically); with ``serialization_format``, sktime's zip
            file; None returns sktime's in-memory serialisation.
        serialization_format : {"pickle", "cloudpickle"} or None, default=None
            None writes tsrec's folder (or, with ``path=None``, pickles); a format name uses
            sktime's save.

        Returns
        -------
        object
            The folder's :class:`pathlib.Path`, or what sktime's ``save`` returns.
        """
        path = _persistence.checked_path(path, f"{type(self).__name__}.save", none_ok=True)
        if path is None or serialization_format is not None:  # sktime pickles unfitted objects too, as for forecasters
            return _sktime_zip.sktime_save(self, path, serialization_format)
        check_is_fitted(self)
        return _persistence.save_classifier(self, path)

    def clone(self) -> DeepClassifier:
        """A new unfitted classifier with the same parameters, as sktime's ``evaluate`` asks of the
        classifier it scores.

        Returns
        -------
        DeepClassifier
            ``sklearn.base.clone(self)``.
        """
        return clone(self)

    # what sktime.base.load calls on the class it finds in a zip or in-memory save
    load_from_path = classmethod(_sktime_zip.load_zip)
    load_from_serial = BaseObject.__dict__["load_from_serial"]

    @classmethod
    def _load_from_folder(cls, config: dict, tensors: dict):
        return _persistence.load_classifier(cls, config, tensors)
