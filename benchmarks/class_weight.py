"""Rare classes: classifiers trained with ``class_weight=None`` and ``class_weight="balanced"``.

Usage::

    python benchmarks/class_weight.py --seeds 0 1 2 --out benchmarks/results/class_weight.md
    python benchmarks/class_weight.py --datasets ItalyPowerDemand --models PGNClassifier --seeds 0

Each UCR set's TRAIN split is made imbalanced: every sample of its first class (in sorted label
order) is kept, and of every other class ``--keep`` of its samples (at least 2), drawn by the seed.
The TEST split is scored whole. Default constructor parameters besides ``class_weight`` and the
seed. Scores: balanced accuracy (the mean of the per-class recalls) and the mean recall of the
reduced classes; mean and standard deviation over the seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from _args import (  # noqa: E402  (beside this script)
    check_names, command_line, data_dir_error, emit_report, int_in, positive_float, report_path)

DATASETS = ("ItalyPowerDemand", "GunPoint", "ArrowHead", "BasicMotions")
MODELS = ("PGNClassifier", "SMambaClassifier")
WEIGHTS = (("none", None), ("balanced", "balanced"))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int_in(0, 2**32 - 1), default=[0, 1, 2])
    parser.add_argument("--keep", type=positive_float, default=0.2, help="share kept of each class but the first")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=report_path, default=None)
    args = parser.parse_args(argv)
    if args.keep >= 1:
        parser.error(f"--keep must be below 1 (a share of each reduced class), got {args.keep:g}")
    from tsrec import all_estimators  # after the argument checks: importing tsrec takes seconds

    check_names(parser, "--models", args.models, [name for name, _ in all_estimators(kind="classifier")])
    from tsrec.datasets.ucr import list_ucr

    try:
        known = list_ucr(args.data_dir)
    except (ValueError, OSError) as err:  # a data dir that is a file or does not exist
        data_dir_error(parser, err)
    check_names(parser, "--datasets", args.datasets, known)
    return args


def imbalanced(y: np.ndarray, keep: float, seed: int) -> np.ndarray:
    """Indices of ``y`` kept: all of the first class, ``keep`` of each other class (at least 2)."""
    rng, classes = np.random.default_rng(seed), np.unique(y)
    kept = [np.flatnonzero(y == classes[0])]
    for label in classes[1:]:
        members = np.flatnonzero(y == label)
        kept.append(rng.choice(members, size=max(2, round(keep * len(members))), replace=False))
    return np.sort(np.concatenate(kept))


def score(dataset: str, model: str, class_weight: object, args: argparse.Namespace, seed: int) -> tuple[float, float]:
    """Balanced accuracy and the mean recall of the reduced classes on the TEST split."""
    from sklearn.metrics import balanced_accuracy_score, recall_score

    from tsrec import all_estimators
    from tsrec.datasets.ucr import load_ucr

    X, y = load_ucr(dataset, "train", data_dir=args.data_dir)
    X_test, y_test = load_ucr(dataset, "test", data_dir=args.data_dir)
    kept = imbalanced(y, args.keep, seed)
    cls = dict(all_estimators(kind="classifier"))[model]
    predicted = cls(random_state=seed, class_weight=class_weight).fit(X[kept], y[kept]).predict(X_test)
    reduced = np.unique(y)[1:]
    return (balanced_accuracy_score(y_test, predicted),
            recall_score(y_test, predicted, labels=reduced, average="macro"))


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    for dataset in args.datasets:
        for model in args.models:
            row = {"dataset": dataset, "model": model}
            for heading, class_weight in WEIGHTS:
                scores = np.array([score(dataset, model, class_weight, args, seed) for seed in args.seeds])
                row[heading] = (scores.mean(axis=0), scores.std(axis=0))
            print(row, flush=True)
            rows.append(row)
    return rows


def render(rows: list[dict], args: argparse.Namespace, command: str) -> list[str]:
    def cell(stats: tuple, i: int) -> str:
        return f"{stats[0][i]:.3f} ± {stats[1][i]:.3f}"

    lines = [
        "# Rare classes: `class_weight`", "",
        f"Command: `{command}`.", "",
        f"TRAIN made imbalanced: every sample of the first class kept, {args.keep:g} of each other class (at least "
        "2), drawn by the seed; TEST scored whole. Default parameters besides `class_weight`. Balanced accuracy "
        "(mean per-class recall) and the mean recall of the reduced classes; mean ± standard deviation over seeds "
        f"{' '.join(map(str, args.seeds))}.", "",
        "| dataset | model | balanced accuracy, none | balanced accuracy, balanced | rare recall, none "
        "| rare recall, balanced |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['dataset']} | {row['model']} | {cell(row['none'], 0)} | {cell(row['balanced'], 0)} "
                     f"| {cell(row['none'], 1)} | {cell(row['balanced'], 1)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    rows = run(args)
    command = command_line(__file__, argv)
    emit_report(render(rows, args, command.strip()), args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
