"""Irregular sampling: LTCClassifier reading each sample's stamps (``timing="stamps"``) or only their order.

The protocol of the irregularly sampled experiments in the ODE-RNN/CfC literature, on UCR sets:
every sample of both splits keeps a random ``--keep`` fraction of its time points (its own points,
the same count for every sample), stamped with their original positions. ``timing="steps"``
reads the kept values one unit apart, as sktime's classifiers do; ``timing="stamps"`` reads the
time between them. The complete series (every point, ``steps``) is the reference. Default
constructor parameters, accuracy on TEST, mean and standard deviation over the seeds; the seed
draws both the kept points and the model's initialisation.

Example::

    python benchmarks/irregular_sampling.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _args import command_line, data_dir_error, emit_report, int_in, positive_float, report_path  # beside this script

RESULTS = Path(__file__).resolve().parent / "results" / "irregular_sampling.md"
DATASETS = ["ItalyPowerDemand", "GunPoint"]
CELLS = {"LTC": {"cell": "ltc"}, "CfC": {"cell": "cfc"}}


def subsample(X: np.ndarray, keep: float, rng: np.random.Generator):
    """A pd-multiindex panel of each sample's kept points (rows (sample, original position))."""
    import pandas as pd

    n, length = X.shape
    count = max(2, int(round(keep * length)))
    positions = np.sort(np.stack([rng.choice(length, count, replace=False) for _ in range(n)]), axis=1)
    values = np.take_along_axis(X, positions, axis=1)
    index = pd.MultiIndex.from_arrays([np.repeat(np.arange(n), count), positions.ravel().astype(float)],
                                      names=["sample", "position"])
    return pd.DataFrame({"value": values.ravel()}, index=index)


def complete(X: np.ndarray):
    """Every point of every sample, as the same kind of panel."""
    return subsample(X, 1.0, np.random.default_rng(0))


def accuracy(cell: str, timing: str, train, test, seed: int, max_epochs: int | None) -> tuple[float, float]:
    from tsrec.estimators import LTCClassifier

    extra = {} if max_epochs is None else {"max_epochs": max_epochs}
    start = time.perf_counter()
    clf = LTCClassifier(**CELLS[cell], timing=timing, random_state=seed, **extra).fit(*train)
    return float((clf.predict(test[0]) == test[1]).mean()), time.perf_counter() - start


def run(dataset: str, seeds: list[int], keep: float, max_epochs: int | None, data_dir: str | None) -> list[str]:
    from tsrec.datasets.ucr import load_ucr

    (X_train, y_train), (X_test, y_test) = (load_ucr(dataset, split, data_dir=data_dir) for split in ("train", "test"))
    rows = []
    for cell in CELLS:
        scores: dict[str, list[float]] = {"complete, steps": [], "kept, steps": [], "kept, stamps": []}
        seconds = 0.0
        for seed in seeds:
            rng = np.random.default_rng(seed)
            kept = (subsample(X_train, keep, rng), y_train), (subsample(X_test, keep, rng), y_test)
            full = (complete(X_train), y_train), (complete(X_test), y_test)
            for label, (data, timing) in {"complete, steps": (full, "steps"), "kept, steps": (kept, "steps"),
                                          "kept, stamps": (kept, "stamps")}.items():
                score, took = accuracy(cell, timing, *data, seed, max_epochs)
                scores[label].append(score)
                seconds += took
            print(f"{dataset} {cell} seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items()),
                  file=sys.stderr, flush=True)
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in scores.values()]
        rows.append(f"| {dataset} | {cell} | {' | '.join(cells)} | {seconds:.0f} |")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int_in(0, 2**32 - 1), default=[0, 1, 2])
    parser.add_argument("--keep", type=positive_float, default=0.5, help="fraction of each sample's points kept")
    parser.add_argument("--max-epochs", type=int_in(1), default=None, help="default: the classifier's")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=report_path, default=RESULTS,
                        help="'-' prints it; default: the committed results/irregular_sampling.md, which a run "
                             "replaces")
    args = parser.parse_args(argv)
    if args.keep > 1:
        parser.error(f"--keep must be a fraction in (0, 1], got {args.keep}")
    from tsrec.datasets.ucr import list_ucr

    try:  # before any fit: a data dir that is a file or does not exist
        list_ucr(args.data_dir)
    except (ValueError, OSError) as err:
        data_dir_error(parser, err)
    out = None if str(args.out) == "-" else args.out
    if out is not None:
        from tsrec._files import check_writable

        check_writable(out.parent, out, "pass --out with a writable path, or --out - to print")
    rows = [row for dataset in args.datasets for row in run(dataset, args.seeds, args.keep, args.max_epochs,
                                                            args.data_dir)]
    epochs = "the default max_epochs" if args.max_epochs is None else f"max_epochs={args.max_epochs}"
    lines = [
        "# Irregular sampling: LTCClassifier with timing='stamps' against 'steps'", "",
        f"Test accuracy, mean ± std over seeds {' '.join(map(str, args.seeds))}; each sample keeps a random "
        f"{args.keep:g} of its points (stamped with their positions), {epochs}, other parameters at their "
        "defaults. `complete, steps`: every point. Seconds: all fits and predictions of the row.", "",
        f"Command: `{command_line(__file__, argv)}`",
        "", "| dataset | cell | complete, steps | kept, steps | kept, stamps | seconds |",
        "|---|---|---|---|---|---|", *rows,
    ]
    emit_report(lines, out)


if __name__ == "__main__":
    main()
