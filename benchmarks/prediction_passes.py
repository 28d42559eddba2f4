"""Time and peak memory of predicting by the samples or series the network takes a pass.

Usage::

    python benchmarks/prediction_passes.py --out benchmarks/results/prediction_passes.md

The estimators predict in passes of ``batch_size`` (the training batch, as darts and Keras
predict): a classifier's samples in ``predict_proba`` (and fit's closing check of the training
outputs), a forecaster's series of a panel in ``predict``. Before, a pass took 1024. Each cell
runs in a fresh process on one thread, the estimator at its default settings, fitted for two
batches, its ``batch_size`` then set to the column's pass size:

- a classifier classifies ``--samples`` random series of ``--length`` steps (``predict_proba``);
- a forecaster forecasts one horizon of each of ``--series`` random hourly series of 1000 rows
  (``predict``). LS4's forecaster is left out: it samples a pass of about 2048 paths whatever
  its ``batch_size`` (``benchmarks/ls4_panel.py``).

The memory is the process's peak resident memory after the call less its peak before, the
working memory of the passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import add_report_out, check_names, child_json, command_line, emit_report, int_in  # noqa: E402

CHILD = """
import json, logging, resource, sys, time, warnings
import numpy as np, pandas as pd, torch
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
torch.set_num_threads(1)
import tsrec
name, per_pass, count, length = sys.argv[1], *map(int, sys.argv[2:5])
kinds = {name: kind for kind in ("classifier", "forecaster") for name, _ in tsrec.all_estimators(kind=kind)}
limits = {"limit_train_batches": 2, "limit_val_batches": 1}
est = dict(tsrec.all_estimators())[name](max_epochs=1, random_state=0, trainer_kwargs=limits)
rng = np.random.default_rng(0)
if kinds[name] == "classifier":
    X, y = rng.standard_normal((count, length)), rng.integers(0, 2, count)
    est.fit(X[:64], y[:64])
    call, expected = (lambda: est.predict_proba(X)), (count, 2)
else:
    rows = 1000
    index = pd.MultiIndex.from_product([range(count), pd.date_range("2024-01-01", periods=rows, freq="h")])
    est.fit(pd.DataFrame({"y": rng.standard_normal(count * rows)}, index=index))
    fh = list(range(1, est._horizon_length() + 1))
    call, expected = (lambda: est.predict(fh=fh)), (count * len(fh), 1)
est.batch_size = per_pass  # not set_params: sktime's resets a fitted forecaster
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before, start = peak(), time.perf_counter()
assert call().shape == expected
print(json.dumps(dict(model=name, per_pass=per_pass, seconds=time.perf_counter() - start, bytes=peak() - before)))
"""

#: left out: LS4's forecaster samples a pass of about 2048 paths whatever its batch_size
OWN_PASSES = ("LS4Forecaster",)


def estimator_names() -> list[str]:
    import tsrec  # noqa: PLC0415 - imported when run, not when the tests load the script

    return [name for name, _ in tsrec.all_estimators() if name not in OWN_PASSES]


def measure(name: str, per_pass: int, count: int, length: int) -> dict:
    """One cell, in a fresh process: a pass size's time and working memory for ``name``."""
    return child_json(CHILD, name, per_pass, count, length)


def report(rows: list[dict], command: str, args: argparse.Namespace) -> list[str]:
    sizes = sorted(set(args.passes))
    lines = [
        "# Samples or series a prediction pass", "",
        f"Command: `{command}`", "",
        f"Classifiers: `predict_proba` on {args.samples} univariate series of {args.length} steps. Forecasters: "
        f"`predict` of one horizon for each of {args.series} univariate hourly series of 1000 rows. Each "
        "estimator at its default settings, one thread, a fresh process per cell: seconds, and the peak "
        "resident memory above the fitted process. They now pass their `batch_size` at a time (the "
        "default, in brackets).", "",
        "| estimator (batch_size) | batch_size a pass | " + " | ".join(f"{size} a pass" for size in sizes) + " |",
        "|---|---:|" + "---:|" * len(sizes),
    ]
    by_model: dict[str, dict[int, dict]] = {}
    for row in rows:
        by_model.setdefault(row["model"], {})[row["per_pass"]] = row
    for model, cells in by_model.items():
        shown = [f"{cells[s]['seconds']:.2f} s, {cells[s]['bytes'] / 2**20:.0f} MiB"
                 for s in (args.defaults[model], *sizes)]
        lines.append(f"| {model} ({args.defaults[model]}) | " + " | ".join(shown) + " |")
    return lines


def default_batch_sizes(names: list[str]) -> dict[str, int]:
    import tsrec  # noqa: PLC0415

    classes = dict(tsrec.all_estimators())
    return {name: classes[name]().get_params()["batch_size"] for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="estimators to run (default: all registered but LS4Forecaster)")
    parser.add_argument("--passes", type=int_in(1), nargs="+", default=[1024],
                        help="pass sizes to compare besides each estimator's default batch_size (default: 1024)")
    parser.add_argument("--samples", type=int_in(1), default=1024, help="series a classifier classifies")
    parser.add_argument("--length", type=int_in(1), default=500, help="steps of a classifier's series")
    parser.add_argument("--series", type=int_in(1), default=2048, help="series of a forecaster's panel")
    add_report_out(parser, "prediction_passes.md")
    args = parser.parse_args(argv)
    names = estimator_names()
    check_names(parser, "--models", args.models, names)
    command = command_line(__file__, argv)
    started = time.perf_counter()
    args.defaults = default_batch_sizes(args.models or names)
    rows = []
    for name in args.models or names:
        count = args.samples if name.endswith("Classifier") else args.series
        sizes = sorted({args.defaults[name], *args.passes})
        rows += [measure(name, size, count, args.length) for size in sizes]
    emit_report(report(rows, command, args), args.out)
    print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
