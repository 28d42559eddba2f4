"""``loss`` and ``huber_delta`` in detail: the trivial loss reads the forecaster's own threshold, no
training rows score 1, the defaults agree, and every forecaster hands both to its training loss."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tsrec.registry
from tsrec.estimators import ARNetForecaster
from tsrec.estimators._losses import HUBER_DELTA, StandardisedRows, elementwise_losses, forecast_loss, point_loss


def test_the_trivial_huber_loss_reads_the_forecasters_own_threshold():
    rows = StandardisedRows((np.array([[3.0], [-1.0]]), np.array([[0.5, 0.0]])), "standard")
    huber = ARNetForecaster(loss="huber", huber_delta=0.5)._trivial_loss(rows)[0]
    # delta 0.5: 3 -> 1.375, 1 -> 0.375, 0.5 -> 0.125, 0 -> 0
    assert huber == pytest.approx((1.375 + 0.375 + 0.125 + 0.0) / 4)


def test_no_training_rows_score_a_trivial_loss_of_one():
    assert StandardisedRows((), "robust").mean_loss("mae") == 1.0
    assert StandardisedRows((np.empty((0, 2)),), "robust").mean_loss("huber", 0.5) == 1.0


def test_the_losses_default_threshold_is_the_forecasters_default():
    assert HUBER_DELTA == ARNetForecaster().huber_delta == 1.0
    for fn in (point_loss, forecast_loss, elementwise_losses, StandardisedRows.mean_loss):
        assert inspect.signature(fn).parameters["delta"].default == HUBER_DELTA, fn.__name__


@pytest.mark.parametrize("name", sorted(name for name, cls in tsrec.registry.all_estimators("forecaster")
                                        if "loss" in inspect.signature(cls.__init__).parameters))
def test_every_forecasters_loss_and_threshold_reach_its_training_loss(name):
    cls = dict(tsrec.registry.all_estimators("forecaster"))[name]
    est = cls(loss="huber", huber_delta=0.25)
    assert (est.get_params()["loss"], est.get_params()["huber_delta"]) == ("huber", 0.25)
    assert est._loss().keywords == {"loss": "huber", "delta": 0.25}
    assert cls(loss="mae")._loss().keywords == {"loss": "mae", "delta": 1.0}
