"""The weight average (LS4's EMA): its arithmetic, its warm start, and what validation restores."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tsrec.estimators import LS4Classifier, LS4Forecaster, _engine


def mse_loss(network: nn.Module, batch) -> tuple[torch.Tensor, int]:
    x, y = batch
    return nn.functional.mse_loss(network(x), y), len(x)


class RecordWeights(Callback):
    """The weights after every optimiser step (runs after the EMA callback, as tsrec orders them)."""

    def __init__(self) -> None:
        self.steps: list[torch.Tensor] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps.append(torch.cat([p.detach().flatten().clone() for p in pl_module.network.parameters()]))


def loaders(n_val: int = 0) -> tuple[DataLoader, DataLoader | None]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(96 + n_val, 3, generator=gen)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3 * torch.randn(96 + n_val, 1, generator=gen)
    train = DataLoader(TensorDataset(x[:96], y[:96]), batch_size=8)  # 12 steps an epoch
    val = DataLoader(TensorDataset(x[96:], y[96:]), batch_size=8) if n_val else None
    return train, val


def fit(decay: float | None, start: int, epochs: int = 3, n_val: int = 0, **config):
    torch.manual_seed(0)
    network = nn.Linear(3, 1)
    settings = dict(max_epochs=epochs, lr=0.05, patience=None, ema_decay=decay, ema_start_step=start)
    module = _engine.TrainingModule(network, mse_loss, _engine.TrainingConfig(**settings, **config))
    recorder = RecordWeights()
    train, val = loaders(n_val)
    result = _engine.train(module, train, val, extra_callbacks=[recorder])
    final = torch.cat([p.detach().flatten() for p in network.parameters()])
    return final, recorder.steps, result, network, val


def test_average_follows_the_weights_then_decays():
    final, steps, *_ = fit(decay=0.9, start=5)
    assert len(steps) == 36  # one record per optimiser step: the average forbids grouped steps
    average = steps[0]
    for i, weights in enumerate(steps):
        average = weights if i < 5 else 0.9 * average + 0.1 * weights
    torch.testing.assert_close(final, average, rtol=1e-6, atol=1e-7)
    assert not torch.allclose(final, steps[-1], atol=1e-4)  # and it is not the last weights


def test_fit_shorter_than_the_start_ends_with_the_trained_weights():
    # Lightning's own EMA callback would hand back the weights the fit started with here
    final, steps, *_ = fit(decay=0.999, start=1000)
    torch.testing.assert_close(final, steps[-1], rtol=0, atol=0)


def test_restored_weights_are_the_validated_average():
    final, steps, result, network, val = fit(decay=0.8, start=3, epochs=4, n_val=40)
    assert result.best_val_loss is not None
    with torch.no_grad():
        loss = sum(mse_loss(network, batch)[0] * len(batch[0]) for batch in val) / 40
    assert float(loss) == pytest.approx(result.best_val_loss, rel=1e-6)
    # the raw weights of any epoch's end score differently: the average was what got validated
    raw = [steps[12 * e - 1] for e in range(1, 5)]
    assert all(not torch.allclose(final, w, atol=1e-5) for w in raw)


def test_without_decay_nothing_is_averaged():
    final, steps, *_ = fit(decay=None, start=0)
    torch.testing.assert_close(final, steps[-1], rtol=0, atol=0)


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, "0.99", True])
def test_bad_ema_decay_is_named(decay):
    X, y = torch.randn(8, 1, 10).numpy(), [0, 1] * 4
    with pytest.raises(ValueError, match="ema_decay must be None .* or a number in \\(0, 1\\)"):
        LS4Classifier(d_model=4, d_state=4, n_layers=1, max_epochs=1, ema_decay=decay).fit(X, y)


@pytest.mark.parametrize("decay", [0.9, None])  # refused even where no average uses it, as any bad parameter
def test_bad_ema_start_step_is_named(decay):
    X, y = torch.randn(8, 1, 10).numpy(), [0, 1] * 4
    with pytest.raises(ValueError, match="ema_start_step must be an integer >= 0"):
        LS4Classifier(d_model=4, d_state=4, n_layers=1, max_epochs=1, ema_decay=decay, ema_start_step=-1).fit(X, y)


def test_ls4_forecaster_trains_with_an_average():
    y = np.sin(np.arange(300) / 5.0)
    params = dict(lookback=24, horizon=6, d_model=8, d_state=8, n_layers=1, n_samples=8, max_epochs=2,
                  random_state=0)
    plain = LS4Forecaster(**params).fit(y).predict(fh=[1, 2, 3])
    averaged = LS4Forecaster(**params, ema_decay=0.9, ema_start_step=0).fit(y).predict(fh=[1, 2, 3])
    assert np.isfinite(averaged).all() and not np.allclose(plain, averaged)


def validated_loss(network: nn.Module, val) -> float:
    with torch.no_grad():
        return float(sum(mse_loss(network, batch)[0] * len(batch[0]) for batch in val) / 40)


def test_a_users_weight_average_is_kept_as_validated():
    # tsrec's checkpoint was weights-only unless its own average was on, so a user's
    # EMAWeightAveraging was validated but the raw weights were kept
    from lightning.pytorch.callbacks import EMAWeightAveraging

    final, steps, result, network, val = fit(decay=None, start=0, epochs=4, n_val=40,
                                             trainer_kwargs={"callbacks": [EMAWeightAveraging(decay=0.8)]})
    assert validated_loss(network, val) == pytest.approx(result.best_val_loss, rel=1e-6)
    assert all(not torch.allclose(final, steps[12 * e - 1], atol=1e-5) for e in range(1, 5))


class NumpyState(Callback):
    """A user's callback whose saved state holds a NumPy scalar, as many do."""

    def state_dict(self) -> dict:
        return {"seen": np.float64(1.5)}


def test_an_average_keeps_its_best_weights_beside_a_callback_with_numpy_state():
    # the full checkpoint an average needs holds every callback's state; reading it back
    # weights-only refused the NumPy scalar, after every epoch had run
    final, _, result, network, val = fit(decay=0.8, start=3, epochs=3, n_val=40,
                                         trainer_kwargs={"callbacks": [NumpyState()]})
    assert result.best_val_loss is not None
    assert validated_loss(network, val) == pytest.approx(result.best_val_loss, rel=1e-6)
