"""Classification benchmark: every registered classifier on five UCR/UEA sets, beside ROCKET.

Train on TRAIN, score accuracy on TEST, default constructor parameters, seeds as given.
JapaneseVowels has unequal lengths (7-29); series are padded at the end with their last value
to the longest length over both splits (``load_ucr(pad="last", length=29)``).

Two references sit beside tsrec's numbers: ROCKET's published accuracies (where the authors
published one for the default split) and ROCKET measured here on the very same arrays with
sktime's ``RocketClassifier`` (10,000 kernels; needs ``numba``: ``pip install numba``), run as
the model ``ROCKET (sktime)``. Rows are merged into benchmarks/results/classification.csv by
(model, dataset), so models can be run one at a time.

Example::

    python benchmarks/classification.py --seeds 0 1 2
    python benchmarks/classification.py --models "ROCKET (sktime)" --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tsrec import all_estimators
from tsrec.datasets.ucr import load_ucr

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ["ArrowHead", "GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels"]
PADDED_LENGTH = {"JapaneseVowels": 29}
ROCKET_MODEL = "ROCKET (sktime)"
# ROCKET, mean test accuracy over 10 runs on the default split: Dempster et al. (2020),
# results/results_ucr.csv of the authors' repository angus924/rocket. The multivariate sets are
# not in that file; JapaneseVowels (unequal length) is also outside the equal-length UEA bake-off.
ROCKET_PUBLISHED = {"ArrowHead": 0.8143, "GunPoint": 1.0000, "ItalyPowerDemand": 0.9696}


def load(name: str, split: str, data_dir: str | None):
    if name in PADDED_LENGTH:
        return load_ucr(name, split, data_dir=data_dir, pad="last", length=PADDED_LENGTH[name])
    return load_ucr(name, split, data_dir=data_dir)


class SktimeRocket:
    """sktime's ROCKET, taking tsrec's 2-D univariate arrays as one-channel 3-D ones.

    A plain wrapper rather than a scikit-learn Pipeline: sktime 1.2's classifiers do not take
    part in scikit-learn 1.9's callback context that Pipeline.fit propagates.
    """

    def __init__(self, random_state: int) -> None:
        from sktime.classification.kernel_based import RocketClassifier

        self.classifier = RocketClassifier(random_state=random_state)

    @staticmethod
    def _as_3d(X: np.ndarray) -> np.ndarray:
        return X[:, None, :] if X.ndim == 2 else X

    def fit(self, X: np.ndarray, y: np.ndarray) -> SktimeRocket:
        self.classifier.fit(self._as_3d(X), y)
        return self

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.classifier.predict(self._as_3d(X)) == y))


def classifiers() -> dict:
    """Registered classifiers by name, plus the measured ROCKET reference."""
    return {**dict(all_estimators(kind="classifier")), ROCKET_MODEL: SktimeRocket}


def run(factory, name: str, seed: int, data_dir: str | None) -> tuple[float, float]:
    X_train, y_train = load(name, "train", data_dir)
    X_test, y_test = load(name, "test", data_dir)
    start = time.perf_counter()
    clf = factory(random_state=seed).fit(X_train, y_train)
    return float(clf.score(X_test, y_test)), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = classifiers()
    parser.add_argument("--models", nargs="+", default=list(known), choices=list(known))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 avoids oversubscription)")
    parser.add_argument("--data-dir", default=None, help="folder with UCR_UEA/<name>/<name>_TRAIN.ts (default: TSREC_DATA)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    command = "python benchmarks/classification.py " + " ".join(sys.argv[1:] if argv is None else argv)
    for model in args.models:
        for name in args.datasets:
            accs, secs = zip(*(run(known[model], name, s, args.data_dir) for s in args.seeds))
            row = dict(model=model, dataset=name, seeds=len(accs), accuracy=np.mean(accs), accuracy_std=np.std(accs),
                       fit_seconds=np.mean(secs), rocket_published=ROCKET_PUBLISHED.get(name, np.nan), command=command)
            print(f"{model} {name}: {np.mean(accs):.4f} +- {np.std(accs):.4f} ({np.mean(secs):.1f}s)", flush=True)
            write(merge(row))
    return 0


def merge(row: dict) -> pd.DataFrame:
    """Replace the (model, dataset) row of the results CSV, written atomically."""
    path = RESULTS / "classification.csv"
    table = pd.DataFrame([row])
    if path.exists():
        old = pd.read_csv(path)
        keep = ~((old["model"] == row["model"]) & (old["dataset"] == row["dataset"]))
        table = pd.concat([old[keep], table], ignore_index=True)
    order = {name: i for i, name in enumerate(DATASETS)}
    table = table.sort_values(["model", "dataset"], key=lambda c: c.map(order) if c.name == "dataset" else c)
    RESULTS.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_csv(tmp, index=False, float_format="%.4f")
    os.replace(tmp, path)
    return table.reset_index(drop=True)


def write(table: pd.DataFrame) -> None:
    """Render the markdown table: each model's accuracy beside both ROCKET references."""
    measured = table[table["model"] == ROCKET_MODEL].set_index("dataset")["accuracy"]
    lines = [
        "# Classification benchmark (test accuracy, default split)", "",
        "CPU, one torch thread, default constructor parameters, mean (std) over seeds; each row's "
        "command is in classification.csv.", "",
        "| model | dataset | seeds | accuracy | std | fit s | ROCKET measured here | ROCKET published |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        here = f"{measured[r.dataset]:.4f}" if r.dataset in measured.index else "not run"
        published = "none published" if np.isnan(r.rocket_published) else f"{r.rocket_published:.4f}"
        lines.append(f"| {r.model} | {r.dataset} | {r.seeds} | {r.accuracy:.4f} | {r.accuracy_std:.4f} | "
                     f"{r.fit_seconds:.1f} | {here} | {published} |")
    lines += ["", "ROCKET measured here: sktime's `RocketClassifier` (Dempster et al. 2020; 10,000 random kernels, "
              "ridge classifier) on the same arrays and seeds. ROCKET published: mean of 10 runs, from "
              "`results/results_ucr.csv` in the authors' repository angus924/rocket (univariate sets only)."]
    path = RESULTS / "classification.md"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
