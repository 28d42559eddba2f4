"""Lightning engine overhead: wall time per epoch against a bare PyTorch loop.

Same network (CycleNet/Linear, lookback 96, horizon 96), same ETTh1 train/validation windows,
same batch size, optimiser, schedule and validation pass; the bare loop keeps its best weights
in memory where the engine uses Lightning's checkpoint callback. The two train side by side, an
epoch of the bare loop run by a callback just before each epoch of the engine, so that each pair
of epochs meets the same state of a noisy machine; the figure is the median over pairs of the
ratio of their times.

Example::

    python benchmarks/engine.py --epochs 8 --repeats 10
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time

import lightning.pytorch as pl
import torch
from sklearn.preprocessing import StandardScaler

from _args import add_report_out, int_in, provenance  # benchmarks/_args.py, beside this script
from tsrec._files import atomic_write
from tsrec.datasets import load_ett, ltsf_split
from tsrec.estimators import _engine
from tsrec.estimators._engine import TrainingConfig, TrainingModule, train
from tsrec.estimators._losses import forecast_loss
from tsrec.estimators._timeindex import infer_freq, positions
from tsrec.estimators._windows import build_windows, window_loader
from tsrec.estimators._schedules import type3_schedule
from tsrec.nn import CycleNet

LOOKBACK = HORIZON = 96


def etth1_windows():
    df = load_ett("ETTh1")
    train, val, _ = ltsf_split(df, "ETTh1", LOOKBACK)
    rows = df.iloc[: len(train) + len(val) - LOOKBACK]
    values = StandardScaler().fit(train.to_numpy()).transform(rows.to_numpy())
    return build_windows([(values, positions(rows.index, infer_freq(rows.index)), len(train))], LOOKBACK, HORIZON)


class BareLoop:
    """The loop one would write by hand, one epoch per call; best weights kept in memory."""

    def __init__(self, windows, config: TrainingConfig) -> None:
        self.net = CycleNet(LOOKBACK, HORIZON, 7, 24)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, type3_schedule)
        self.train_loader = window_loader(windows, windows.train_starts, config.batch_size, True, 0)
        self.val_loader = window_loader(windows, windows.val_starts, config.batch_size, False, 0)
        self.best, self.best_state = float("inf"), None

    def epoch(self) -> None:
        self.net.train()
        for batch in self.train_loader:
            loss, _ = forecast_loss(self.net, batch)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.scheduler.step()
        self.net.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in self.val_loader:
                loss, n = forecast_loss(self.net, batch)
                total, count = total + float(loss) * n, count + n
        if total / count < self.best:
            self.best, self.best_state = total / count, copy.deepcopy(self.net.state_dict())


class InterleavedClock(pl.Callback):
    """Times each epoch of the engine and, just before it, one epoch of the bare loop."""

    def __init__(self, bare: BareLoop) -> None:
        self.bare = bare
        self.times: dict[str, list[float]] = {"engine": [], "bare": []}
        self.start: float | None = None

    def on_train_epoch_start(self, trainer, module) -> None:
        self._stop_engine_epoch()
        start = time.perf_counter()
        self.bare.epoch()
        self.times["bare"].append(time.perf_counter() - start)
        self.start = time.perf_counter()

    def on_fit_end(self, trainer, module) -> None:
        self._stop_engine_epoch()

    def _stop_engine_epoch(self) -> None:
        if self.start is not None:
            self.times["engine"].append(time.perf_counter() - self.start)


def interleaved_epochs(windows, config: TrainingConfig) -> dict[str, list[float]]:
    """Epoch times of both loops, trained side by side; the first epoch of each carries set-up."""
    torch.manual_seed(0)
    clock = InterleavedClock(BareLoop(windows, config))
    module = TrainingModule(CycleNet(LOOKBACK, HORIZON, 7, 24), forecast_loss, config, type3_schedule)
    train_loader = window_loader(windows, windows.train_starts, config.batch_size, True, 0)
    val_loader = window_loader(windows, windows.val_starts, config.batch_size, False, 0)
    train(module, train_loader, val_loader, extra_callbacks=[clock])
    return {name: times[1:] for name, times in clock.times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # the first epoch of each run carries set-up and is not timed: at least one more is
    parser.add_argument("--epochs", type=int_in(2), default=8)
    parser.add_argument("--repeats", type=int_in(1), default=10)
    parser.add_argument("--threads", type=int_in(1), default=1)
    parser.add_argument("--batches-per-step", type=int_in(1), default=_engine.BATCHES_PER_STEP,
                        help="minibatches per Lightning step (1: Lightning sees every minibatch)")
    add_report_out(parser, "engine.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    _engine.BATCHES_PER_STEP = args.batches_per_step
    windows = etth1_windows()
    config = TrainingConfig(max_epochs=args.epochs, batch_size=256, lr=0.01, patience=None, accelerator="cpu",
                            devices=1)
    light, bare = [], []
    for _ in range(args.repeats):
        times = interleaved_epochs(windows, config)
        light, bare = light + times["engine"], bare + times["bare"]
    report(args, windows, light, bare)
    return 0


def report(args, windows, light: list[float], bare: list[float]) -> None:
    ratios = [engine / hand for engine, hand in zip(light, bare)]
    ratio = statistics.median(ratios)
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratio, ratio, ratio]
    lines = [
        "# Lightning engine overhead (CycleNet/Linear on ETTh1, CPU)", "",
        f"Command: `python benchmarks/engine.py --epochs {args.epochs} --repeats {args.repeats}"
        f" --threads {args.threads}"
        f" --batches-per-step {args.batches_per_step}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{args.threads} torch thread(s); {len(windows.train_starts)} train and {len(windows.val_starts)} validation "
        "windows, batch 256, one train + one validation pass per epoch.", "",
        "| loop | median s/epoch | min s/epoch | epochs timed |", "|---|---|---|---|",
        f"| bare PyTorch | {statistics.median(bare):.4f} | {min(bare):.4f} | {len(bare)} |",
        f"| tsrec Lightning engine | {statistics.median(light):.4f} | {min(light):.4f} | {len(light)} |", "",
        f"Overhead of the engine: **{100 * (ratio - 1):+.1f}%** (target: at most +10%): the median over "
        f"{len(ratios)} pairs of back-to-back epochs of the engine's time over the bare loop's; quartiles "
        f"{100 * (quartiles[0] - 1):+.1f}% / {100 * (quartiles[2] - 1):+.1f}%. Ratio of the median epochs "
        f"{100 * (statistics.median(light) / statistics.median(bare) - 1):+.1f}%, of the fastest "
        f"{100 * (min(light) / min(bare) - 1):+.1f}%.",
        "",
        "The engine hands Lightning groups of up to "
        f"{_engine.BATCHES_PER_STEP} minibatches per step (one optimiser step each), each minibatch read from "
        "the loader as the step reaches it (tsrec/estimators/_batches.py), and back-propagates "
        "directly when no callback listens to the backward hooks (tsrec/estimators/_engine.py).",
    ]
    text = "\n".join([*lines, "", provenance()]) + "\n"
    print(text)
    atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report


if __name__ == "__main__":
    raise SystemExit(main())
