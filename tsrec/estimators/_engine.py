"""The Lightning training engine shared by every tsrec estimator.

One :class:`TrainingModule` wraps any network with its loss; :func:`train` builds a quiet, seeded
``lightning.Trainer`` with early stopping and best-weights restore from Lightning's callbacks
(the Trainer's construction, run and restore live in :mod:`tsrec.estimators._trainer`).
Code outside an estimator (e.g. ``tsrec.tuning``) adds callbacks to the fits it starts with
:func:`extra_callbacks`, so no estimator needs a constructor parameter for them.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator

import lightning.pytorch as pl
import torch
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.plugins.precision import DoublePrecision, Precision
from lightning.pytorch.strategies import SingleDeviceStrategy
from lightning.pytorch.utilities.model_helpers import is_overridden
from torch import nn
from torch.utils.data import DataLoader

from tsrec.estimators._batches import BatchGroup, BatchGroups
from tsrec.estimators._ema import averages_weights
from tsrec.estimators._training import TrainingConfig, TrainingResult
from tsrec.estimators._trainer import (
    fit, make_trainer, own_callbacks, quiet_lightning, restore_best, warn_never_validated,
)
from tsrec.nn.optim import optimizer_groups

# Trainer options that only Lightning's automatic optimisation loop implements
_AUTOMATIC_ONLY = ("gradient_clip_val", "gradient_clip_algorithm", "accumulate_grad_batches")
# Trainer options that count Lightning steps; with them every step is one minibatch again
_COUNTS_STEPS = ("max_steps", "limit_train_batches", "limit_val_batches", "val_check_interval", "fast_dev_run")
# the hooks Lightning's backward wrapper exists to call (besides precision scaling)
_BACKWARD_HOOKS = ("on_before_backward", "on_after_backward")
# per-batch hooks: a user's callback with one is written for a minibatch per Lightning step
_BATCH_HOOKS = ("on_train_batch_start", "on_train_batch_end", "on_validation_batch_start",
                "on_validation_batch_end", "on_before_optimizer_step", "on_before_zero_grad")
# minibatches per Lightning step: Lightning's per-step hooks, fetch and bookkeeping cost about
# 0.8 ms, which a small model's 6 ms CPU step feels; eight of them share it (benchmarks/engine.py)
BATCHES_PER_STEP = 8

# callbacks that the caller's context adds to every fit (see extra_callbacks); a ContextVar
# rather than a module global so that fits in other threads or asyncio tasks do not see them
_CONTEXT_CALLBACKS: contextvars.ContextVar[tuple] = contextvars.ContextVar("tsrec_extra_callbacks", default=())


@contextlib.contextmanager
def outside_autocast(device_type: str) -> Iterator[None]:
    """Turn autocast off for a backward pass, as PyTorch's mixed precision runs it.

    Lightning runs ``training_step``, and so a ``manual_backward`` inside it, under the precision
    plugin's autocast. Backward passes that compute (the kernels' hand-written ones, recomputed
    segments) then ran their own products in bfloat16 (tests/estimators/test_engine_autocast.py).
    """
    if not (torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type)):
        yield
        return
    with torch.autocast(device_type, enabled=False):
        yield


class TrainingModule(pl.LightningModule):
    """Wrap ``network`` and ``loss_fn(network, batch) -> (loss, n_items)`` for Lightning.

    ``lr_lambda(epoch) -> factor`` schedules the learning rate per epoch; ``penalty(network,
    progress) -> tensor`` adds a regulariser that may depend on training progress in epochs.

    The optimiser is stepped by hand (Lightning's manual optimisation) unless
    ``config.trainer_kwargs`` asks for gradient clipping or accumulation, which only Lightning's
    automatic loop provides: its closures, optimiser wrappers and per-step hooks cost about 1 ms
    a step, which is 15% of a small model's step on a CPU (benchmarks/engine.py). For the same
    reason a stepped-by-hand Lightning step takes a group of consecutive minibatches (see
    :func:`train`) and steps the optimiser once per minibatch: the same steps in the same order,
    so the same weights, with Lightning's per-step cost shared by the group; and the loss is
    back-propagated directly when Lightning's backward wrapper would only call hooks that no
    callback listens to (full precision, one device).
    """

    def __init__(
        self,
        network: nn.Module,
        loss_fn: Callable,
        config: TrainingConfig,
        lr_lambda: Callable[[int], float] | None = None,
        penalty: Callable[[nn.Module, float], torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.network = network
        self.loss_fn = loss_fn
        self.config = config
        self.lr_lambda = lr_lambda
        self.penalty = penalty
        # a plain dict: nn.Module.__setattr__ is slow enough to show in per-batch profiles
        self._val = {"sum": 0.0, "count": 0}
        self._train: dict = {"sum": None, "count": 0}
        self.history: list[float] = []
        self.train_history: list[float] = []
        self.automatic_optimization = any(key in config.trainer_kwargs for key in _AUTOMATIC_ONLY)
        # (minibatches per Lightning step, minibatches per epoch) while train() groups them
        self.grouping: tuple[int, int] | None = None
        self.val_grouped = False  # validation batches come in groups (BatchGroups) or lists (RankShare)
        self.direct_backward = False

    def training_step(self, batch, batch_idx: int) -> torch.Tensor | None:
        if self.automatic_optimization:
            return self._minibatch_loss(batch, batch_idx, self.trainer.num_training_batches)
        group_size, n_batches = self.grouping or (1, self.trainer.num_training_batches)
        optimizer = self.optimizers()
        for offset, minibatch in enumerate(_minibatches(batch, self.grouping is not None)):
            loss = self._minibatch_loss(minibatch, batch_idx * group_size + offset, n_batches)
            optimizer.zero_grad()
            with outside_autocast(loss.device.type):
                if self.direct_backward:
                    loss.backward()
                else:
                    self.manual_backward(loss)  # through the precision plugin, so mixed precision still scales
            optimizer.step()
        return None

    def _minibatch_loss(self, batch, index: int, n_batches: int) -> torch.Tensor:
        loss, count = self.loss_fn(self.network, batch)
        if self.penalty is not None:
            # from 0 at the first batch: AR-Net's e / lambda_delay at each epoch's start (its epoch 0 has no
            # regulariser), growing with each batch in between
            progress = self.current_epoch + index / max(n_batches, 1)
            loss = loss + self.penalty(self.network, progress)
        # summed on the device, read once an epoch: a float() per batch would make a GPU wait; in
        # float64 (a float32 sum of many batches drifts), float32 on MPS devices, which lack float64
        item = loss.detach().to(torch.float32 if loss.device.type == "mps" else torch.float64) * count
        self._train["sum"] = item if self._train["sum"] is None else self._train["sum"] + item
        self._train["count"] += count
        return loss

    def on_train_epoch_end(self) -> None:
        # the epoch's training loss: the mean over its windows (samples) of the loss minimised,
        # penalty included, over every process
        summed = 0.0 if self._train["sum"] is None else float(self._train["sum"])
        # a count may be a tensor on the device (a batch's total class weight), read here once an epoch
        total, count = self._summed_over_processes(summed, float(self._train["count"]))
        self._train.update(sum=None, count=0)
        # a total class weight may lie below 1 (a partial epoch): the mean of no sample is 0
        self.train_history.append(total / count if count > 0 else 0.0)
        self.log("train_loss", self.train_history[-1], prog_bar=self.config.verbose)
        # with manual optimisation Lightning leaves the (per-epoch) scheduler to the module
        scheduler = None if self.automatic_optimization else self.lr_schedulers()
        if scheduler is not None and count:  # an epoch a callback stopped before its first batch took no step
            scheduler.step()

    def validation_step(self, batch, batch_idx: int) -> None:
        for minibatch in _minibatches(batch, self.val_grouped):
            loss, count = self.loss_fn(self.network, minibatch)
            self._val["sum"] += float(loss) * float(count)
            self._val["count"] += float(count)

    def on_validation_epoch_end(self) -> None:
        # the exact mean over all validation items, not a mean of batch means
        total, count = self._summed_over_processes(self._val["sum"], self._val["count"])
        val = total / count if count > 0 else 0.0
        self._val.update(sum=0.0, count=0)
        if not self.trainer.sanity_checking:
            self.history.append(val)
        self.log("val_loss", val, prog_bar=self.config.verbose)

    def _summed_over_processes(self, total: float, count: int) -> tuple[float, float]:
        """``total`` and ``count`` summed over every process of a multi-device fit.

        Each process validates its share of the windows; without the sum they would log different
        losses and could disagree on the best epoch and on when to stop.
        """
        if self.trainer.world_size == 1:
            return total, count
        both = torch.tensor([total, count], dtype=torch.float64, device=self.device)
        total, count = self.trainer.strategy.reduce(both, reduce_op="sum").tolist()
        return total, count

    def configure_optimizers(self):
        groups = optimizer_groups(self.network, self.config.lr, self.config.weight_decay)
        optimizer_class = torch.optim.AdamW if self.config.decoupled_weight_decay else torch.optim.Adam
        optimizer = optimizer_class(groups, lr=self.config.lr, weight_decay=self.config.weight_decay)
        if self.lr_lambda is None:
            return optimizer
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self.lr_lambda)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def _minibatches(batch: object, grouped: bool) -> Iterable:
    """The minibatches of a Lightning step's ``batch``: a group's, each read as it is reached
    (:meth:`BatchGroup.once`), a list's (:class:`RankShare`), or the batch itself."""
    if isinstance(batch, BatchGroup):
        return batch.once()
    return batch if grouped else [batch]


@contextlib.contextmanager
def extra_callbacks(callbacks: Iterable) -> Iterator[None]:
    """Add Lightning ``callbacks`` to every tsrec fit started inside the ``with`` block.

    The callbacks join tsrec's own (checkpoint, early stopping) after them; nested blocks add
    up, and everything is as before once the block ends. The setting is per thread / per
    asyncio task (a :class:`contextvars.ContextVar`), so concurrent fits elsewhere are untouched.

    Examples
    --------
    >>> import numpy as np
    >>> from lightning.pytorch.callbacks import Callback
    >>> from tsrec.estimators import ARNetForecaster
    >>> class CountEpochs(Callback):
    ...     epochs = 0
    ...     def on_train_epoch_end(self, trainer, pl_module):
    ...         self.epochs += 1
    >>> counter = CountEpochs()
    >>> with extra_callbacks([counter]):
    ...     _ = ARNetForecaster(n_lags=3, max_epochs=2).fit(np.sin(np.arange(60) / 3.0))
    >>> counter.epochs
    2
    """
    token = _CONTEXT_CALLBACKS.set(_CONTEXT_CALLBACKS.get() + tuple(callbacks))
    try:
        yield
    finally:
        _CONTEXT_CALLBACKS.reset(token)


class RankShare:
    """This process's share of ``loader``'s batches, in lists of one: every world-size-th batch
    from the process's rank on, so each batch is validated by exactly one process.

    Lightning would shard a DataLoader with a DistributedSampler, which repeats batches until
    every process has as many, and the validation loss would count those twice. A process left
    a batch short gets an empty list instead, so that all run as many steps (a DDP forward may
    communicate).
    """

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader

    def __len__(self) -> int:
        _, world = _process_rank()
        return -(-len(self.loader) // world)

    def __iter__(self) -> Iterator[list]:
        rank, world = _process_rank()
        yield from ([batch] for batch in itertools.islice(self.loader, rank, None, world))
        for _ in range(len(self) - len(range(rank, len(self.loader), world))):
            yield []


def _process_rank() -> tuple[int, int]:
    """This process's rank and the number of processes: 0 and 1 outside a distributed fit.

    Read while fitting, when the process group exists (not yet when the Trainer is built).
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _group_size(module: TrainingModule, trainer: pl.Trainer) -> int:
    """Minibatches per Lightning step: one wherever Lightning has to see each minibatch.

    That is Lightning's automatic loop (clipping, accumulation), Trainer options that count
    steps, a weight average (updated per Lightning step), several processes (Lightning shards a
    DataLoader, not a plain iterable), and the user's loggers and per-batch callbacks (a
    progress bar among them), which would count groups as steps and could not unpack a batch.
    Groups are only formed on the CPU, where they were measured: on a GPU a group would also
    hold all its batches in device memory at once.
    """
    config = module.config
    counts_steps = any(key in config.trainer_kwargs for key in _COUNTS_STEPS)
    on_one_cpu = isinstance(trainer.accelerator, CPUAccelerator) and trainer.world_size == 1
    users = config.trainer_kwargs.get("callbacks", [])
    watched = bool(trainer.loggers) or any(is_overridden(hook, c, pl.Callback) for c in users for hook in _BATCH_HOOKS)
    if module.automatic_optimization or counts_steps or not on_one_cpu or averages_weights(trainer.callbacks):
        return 1
    return 1 if watched else BATCHES_PER_STEP


def _backward_is_plain(module: TrainingModule, trainer: pl.Trainer) -> bool:
    """Whether Lightning's backward wrapper would add nothing to ``loss.backward()``.

    True with full precision (no loss scaling) on one device when neither the module nor any
    callback overrides a backward hook.
    """
    plain = type(trainer.precision_plugin) in (Precision, DoublePrecision)
    plain = plain and type(trainer.strategy) is SingleDeviceStrategy
    listeners = [(module, pl.LightningModule)] + [(c, pl.Callback) for c in trainer.callbacks]
    return plain and not any(is_overridden(hook, obj, parent) for obj, parent in listeners for hook in _BACKWARD_HOOKS)


def _loaders_for(module: TrainingModule, trainer: pl.Trainer, train_loader: DataLoader,
                 val_loader: DataLoader | None) -> tuple[Iterable, Iterable | None]:
    """The loaders as Lightning is to see them: minibatches grouped where they can be (see
    :func:`_group_size`), and with several processes, each validating its own share."""
    size = _group_size(module, trainer)
    if size > 1:
        module.grouping = (size, len(train_loader))
        cast = _input_cast(trainer)
        train_loader = BatchGroups(train_loader, size, cast)
        val_loader = None if val_loader is None else BatchGroups(val_loader, size, cast)
    elif val_loader is not None and trainer.world_size > 1:
        val_loader = RankShare(val_loader)
    module.val_grouped = isinstance(val_loader, (BatchGroups, RankShare))
    return train_loader, val_loader


def _input_cast(trainer: pl.Trainer) -> Callable[[object], object] | None:
    """What Lightning does to a step's batch before the step, for the batches of a group, which it
    does not look into: the precision's cast of the inputs (bf16-true's, 64-true's); None where
    the precision casts nothing. Groups are formed on one CPU only, where the move to the device
    has nothing to move, and tsrec's module has no transfer hooks; Lightning's cast and move on
    every batch took the engine's overhead from +6.5% to +8.1% in two runs of benchmarks/engine.py."""
    plugin = trainer.precision_plugin
    return plugin.convert_input if is_overridden("convert_input", plugin, Precision) else None


def train(
    module: TrainingModule,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    extra_callbacks: list | None = None,
) -> TrainingResult:
    """Fit ``module`` with early stopping on the validation loss and restore the best weights.

    ``extra_callbacks`` (e.g. Optuna's pruning callback) join tsrec's own callbacks, followed by
    those added by any enclosing :func:`extra_callbacks` block. Lightning's per-batch hooks see
    a list of up to ``BATCHES_PER_STEP`` minibatches per step, unless Lightning must see
    each minibatch (see :func:`_group_size`); per-epoch hooks are unchanged. Ctrl+C raises
    KeyboardInterrupt; with several processes each ends with the same best weights.
    """
    config = module.config
    start = time.perf_counter()
    with quiet_lightning(), tempfile.TemporaryDirectory() as folder:
        own = own_callbacks(config, val_loader is not None, folder)
        callbacks = [*own, *(extra_callbacks or []), *_CONTEXT_CALLBACKS.get()]
        trainer = make_trainer(config, callbacks, val_loader is not None)
        module.direct_backward = _backward_is_plain(module, trainer)
        try:
            fit(trainer, module, *_loaders_for(module, trainer, train_loader, val_loader))
        except BaseException:
            module.network.cpu()  # a pruned or failed fit does not keep its network on the device
            raise
        finally:
            module.grouping, module.val_grouped, module.direct_backward = None, False, False
        best = restore_best(module, own, trainer)
    module.network.cpu().eval()
    seconds = time.perf_counter() - start
    result = TrainingResult(trainer.current_epoch, list(module.train_history), list(module.history), best, seconds)
    if val_loader is not None and not module.history:
        warn_never_validated(config, result.epochs)
    if config.verbose and trainer.is_global_zero:
        best_text = "n/a" if best is None else f"{best:.4g}"
        last = f", last train_loss {result.train_losses[-1]:.4g}" if result.train_losses else ""
        print(f"trained {result.epochs} epochs in {seconds:.1f}s, best val_loss {best_text}{last}")
    return result
