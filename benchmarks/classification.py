"""Classification benchmark: every registered classifier on five UCR/UEA sets, beside ROCKET.

Train on TRAIN, score accuracy on TEST, default constructor parameters, seeds as given.
JapaneseVowels has unequal lengths (7-29); series are padded at the end with their last value
to the longest length over both splits (``load_ucr(pad="last", length=29)``).

Example::

    python benchmarks/classification.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tsrec import all_estimators
from tsrec.datasets.ucr import load_ucr

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ["ArrowHead", "GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels"]
PADDED_LENGTH = {"JapaneseVowels": 29}
# ROCKET, mean test accuracy over 10 runs on the default split: Dempster et al. (2020),
# results/results_ucr.csv of the authors' repository angus924/rocket. The multivariate sets are
# not in that file; JapaneseVowels (unequal length) is also outside the equal-length UEA bake-off.
ROCKET = {"ArrowHead": 0.8143, "GunPoint": 1.0000, "ItalyPowerDemand": 0.9696}


def load(name: str, split: str, data_dir: str | None):
    if name in PADDED_LENGTH:
        return load_ucr(name, split, data_dir=data_dir, pad="last", length=PADDED_LENGTH[name])
    return load_ucr(name, split, data_dir=data_dir)


def run(cls, name: str, seed: int, data_dir: str | None) -> tuple[float, float]:
    X_train, y_train = load(name, "train", data_dir)
    X_test, y_test = load(name, "test", data_dir)
    start = time.perf_counter()
    clf = cls(random_state=seed).fit(X_train, y_train)
    return float(clf.score(X_test, y_test)), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--data-dir", default=None, help="folder with UCR_UEA/<name>/<name>_TRAIN.ts (default: TSREC_DATA)")
    args = parser.parse_args(argv)
    command = "python benchmarks/classification.py " + " ".join(sys.argv[1:] if argv is None else argv)
    rows = []
    for model, cls in all_estimators(kind="classifier"):
        for name in args.datasets:
            accs, secs = zip(*(run(cls, name, s, args.data_dir) for s in args.seeds))
            rows.append(dict(model=model, dataset=name, seeds=len(accs), accuracy=np.mean(accs),
                             accuracy_std=np.std(accs), fit_seconds=np.mean(secs), rocket=ROCKET.get(name, np.nan)))
            print(f"{model} {name}: {np.mean(accs):.4f} +- {np.std(accs):.4f} ({np.mean(secs):.1f}s)", flush=True)
    write(pd.DataFrame(rows), command)
    return 0


def write(table: pd.DataFrame, command: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        "# Classification benchmark (test accuracy, default split)", "",
        f"Command: `{command}` (CPU, default constructor parameters, mean over seeds).", "",
        "| model | dataset | seeds | accuracy | std | fit s | ROCKET (published) |", "|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        rocket = "not found" if np.isnan(r.rocket) else f"{r.rocket:.4f}"
        lines.append(f"| {r.model} | {r.dataset} | {r.seeds} | {r.accuracy:.4f} | {r.accuracy_std:.4f} | {r.fit_seconds:.1f} | {rocket} |")
    lines += ["", "ROCKET: Dempster, Petitjean, Webb (2020), mean of 10 runs, from `results/results_ucr.csv` in the "
              "authors' repository angus924/rocket. No published default-split number was found this session for "
              "BasicMotions and JapaneseVowels."]
    for path, text in ((RESULTS / "classification.md", "\n".join(lines) + "\n"),):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    tmp = RESULTS / ".classification.csv.tmp"
    table.to_csv(tmp, index=False, float_format="%.4f")
    os.replace(tmp, RESULTS / "classification.csv")


if __name__ == "__main__":
    raise SystemExit(main())
