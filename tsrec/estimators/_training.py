"""What fits, predictions and the parameter checks share about training, without Lightning.

Importing Lightning (and through it ``torch._dynamo``) takes about as long as importing torch,
and neither ``import tsrec.estimators`` nor a loaded estimator's predictions (the batch command
line's every run) need it: :mod:`tsrec.estimators._engine`, which trains, is imported by the first
``fit``, and the parameter checks import Lightning's classes only for arguments that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class TrainingConfig:
    """The shared training parameters, resolved from an estimator's constructor arguments."""

    max_epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    decoupled_weight_decay: bool = False  # AdamW's decay (SpaceTime, LS4) rather than Adam's L2 term
    patience: int | None = 5
    accelerator: str = "auto"
    devices: object = "auto"
    precision: object = "32-true"
    seed: int = 0
    verbose: bool = False
    trainer_kwargs: dict = field(default_factory=dict)
    ema_decay: float | None = None  # an EMA of the weights is validated and kept (LS4), from...
    ema_start_step: int = 0  # ...this optimiser step; the weights themselves before it


@dataclass
class TrainingResult:
    """What a fit reports: epochs run, training and validation losses per epoch, best validation
    loss, seconds."""

    epochs: int
    train_losses: list[float]
    val_losses: list[float]
    best_val_loss: float | None
    seconds: float

    def as_history(self) -> dict:
        """The estimators' ``history_``: ``epochs``, ``train_loss`` and ``val_loss`` (one value per
        epoch; no ``val_loss`` without a validation split) and ``best_val_loss`` (None without one)."""
        return {"epochs": self.epochs, "train_loss": self.train_losses, "val_loss": self.val_losses,
                "best_val_loss": self.best_val_loss}


def network_dtype(network: nn.Module) -> torch.dtype:
    """The dtype a trained network takes its input in: float64 after ``precision="64-true"``,
    float32 for a network without floating parameters."""
    floating = [p.dtype for p in network.parameters() if p.is_floating_point()]
    return floating[0] if floating else torch.float32
