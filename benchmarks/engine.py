"""Lightning engine overhead: wall time per epoch against a bare PyTorch loop.

Same network (CycleNet/Linear, lookback 96, horizon 96), same ETTh1 train/validation windows,
same batch size, optimiser, schedule and validation pass; the bare loop keeps its best weights
in memory where the engine uses Lightning's checkpoint callback. Runs alternate between the two
to share the machine's noise; the figure is the ratio of median epoch times.

Example::

    python benchmarks/engine.py --epochs 8 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from tsrec.datasets import load_ett, ltsf_split
from tsrec.estimators._engine import TrainingConfig, TrainingModule, train
from tsrec.estimators._forecaster import forecast_loss
from tsrec.estimators._timeindex import infer_freq, positions
from tsrec.estimators._windows import build_windows, window_loader
from tsrec.estimators.cyclenet import type3_schedule
from tsrec.nn import CycleNet

LOOKBACK = HORIZON = 96


def etth1_windows():
    df = load_ett("ETTh1")
    train, val, _ = ltsf_split(df, "ETTh1", LOOKBACK)
    rows = df.iloc[: len(train) + len(val) - LOOKBACK]
    values = StandardScaler().fit(train.to_numpy()).transform(rows.to_numpy())
    return build_windows([(values, positions(rows.index, infer_freq(rows.index)), len(train))], LOOKBACK, HORIZON)


class EpochClock(pl.Callback):
    """Time stamps at the start of each training epoch and at the end of fit."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def on_train_epoch_start(self, trainer, module) -> None:
        self.stamps.append(time.perf_counter())

    def on_fit_end(self, trainer, module) -> None:
        self.stamps.append(time.perf_counter())


def lightning_epochs(windows, config: TrainingConfig) -> list[float]:
    torch.manual_seed(0)
    clock = EpochClock()
    module = TrainingModule(CycleNet(LOOKBACK, HORIZON, 7, 24), forecast_loss, config, type3_schedule)
    train_loader = window_loader(windows, windows.train_starts, config.batch_size, True, 0)
    val_loader = window_loader(windows, windows.val_starts, config.batch_size, False, 0)
    train(module, train_loader, val_loader, extra_callbacks=[clock])
    return list(np.diff(clock.stamps))


def bare_epochs(windows, config: TrainingConfig) -> list[float]:
    torch.manual_seed(0)
    net = CycleNet(LOOKBACK, HORIZON, 7, 24)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, type3_schedule)
    train_loader = window_loader(windows, windows.train_starts, config.batch_size, True, 0)
    val_loader = window_loader(windows, windows.val_starts, config.batch_size, False, 0)
    best, best_state, stamps = float("inf"), None, []
    for _ in range(config.max_epochs):
        stamps.append(time.perf_counter())
        net.train()
        for batch in train_loader:
            loss, _ = forecast_loss(net, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        net.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in val_loader:
                loss, n = forecast_loss(net, batch)
                total, count = total + float(loss) * n, count + n
        if total / count < best:
            best, best_state = total / count, copy.deepcopy(net.state_dict())
    stamps.append(time.perf_counter())
    net.load_state_dict(best_state)
    return list(np.diff(stamps))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "engine.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    windows = etth1_windows()
    config = TrainingConfig(max_epochs=args.epochs, batch_size=256, lr=0.01, patience=None, accelerator="cpu", devices=1)
    light, bare = [], []
    for _ in range(args.repeats):
        light += lightning_epochs(windows, config)[1:]  # the first epoch carries one-off set-up
        bare += bare_epochs(windows, config)[1:]
    ratio = statistics.median(light) / statistics.median(bare)
    report(args, windows, light, bare, ratio)
    return 0


def report(args, windows, light: list[float], bare: list[float], ratio: float) -> None:
    lines = [
        "# Lightning engine overhead (CycleNet/Linear on ETTh1, CPU)", "",
        f"Command: `python benchmarks/engine.py --epochs {args.epochs} --repeats {args.repeats} --threads {args.threads}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{args.threads} torch thread(s); {len(windows.train_starts)} train and {len(windows.val_starts)} validation "
        "windows, batch 256, one train + one validation pass per epoch.", "",
        "| loop | median s/epoch | min s/epoch | epochs timed |", "|---|---|---|---|",
        f"| bare PyTorch | {statistics.median(bare):.4f} | {min(bare):.4f} | {len(bare)} |",
        f"| tsrec Lightning engine | {statistics.median(light):.4f} | {min(light):.4f} | {len(light)} |", "",
        f"Overhead of the engine: **{100 * (ratio - 1):+.1f}%** (target: at most +10%).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, out)


if __name__ == "__main__":
    raise SystemExit(main())
