"""Classification benchmark: every registered classifier on five UCR/UEA sets, beside ROCKET.

Train on TRAIN, score accuracy on TEST, default constructor parameters, seeds as given.
JapaneseVowels has unequal lengths (7-29); series are padded at the end with their last value
to the longest length over both splits (``load_ucr(pad="last", length=29)``).

Two references sit beside tsrec's numbers: ROCKET's published accuracies (where the authors
published one for the default split) and ROCKET measured here on the very same arrays with
sktime's ``RocketClassifier`` (10,000 kernels; needs ``numba``: ``pip install numba``), run as
the model ``ROCKET (sktime)``. Rows are merged into ``--out``/classification.csv (default
benchmarks/results; pass another folder for a trial run) by (model, dataset, seeds), so models can
be run one at a time, and a run with other seeds adds a row instead of replacing the committed one.

``--params`` runs the models with other constructor parameters; its rows are labelled with them
(``PGNClassifier {"pool": "mean"}``), beside the default rows.

Example::

    python benchmarks/classification.py --seeds 0 1 2
    python benchmarks/classification.py --models "ROCKET (sktime)" --seeds 0 1 2
    python benchmarks/classification.py --models PGNClassifier --params '{"pool": "mean"}' --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from _args import (  # benchmarks/_args.py, beside this script
    check_estimator_params, check_results_csv, code_label, command_line, data_dir_error, int_in, json_params,
    provenance, seed_label)
from tsrec import all_estimators
from tsrec._files import atomic_write_all, check_writable
from tsrec.datasets.ucr import list_ucr, load_ucr

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ["ArrowHead", "GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels"]
PADDED_LENGTH = {"JapaneseVowels": 29}
ROCKET_MODEL = "ROCKET (sktime)"
# the committed rows' order is model, then dataset as in DATASETS; seeds only break ties
KEY = ["model", "dataset", "seed_list"]
# what each row's commit and date columns (not in KEY) are; rows from before they were recorded have them empty
MERGED = ("Rows merged from earlier runs keep the date and commit that measured them (in classification.csv too; "
          "empty for rows from before these were recorded).")
MAX_SEED = 2**32 - 1  # what the estimators' random_state takes
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


def build_parser(known: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(known), choices=list(known))
    parser.add_argument("--seeds", nargs="+", type=int_in(0, MAX_SEED), default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--params", default="{}",
                        help="JSON object of constructor parameters for every model (labels its rows)")
    parser.add_argument("--threads", type=int_in(1), default=1, help="torch threads (1 avoids oversubscription)")
    parser.add_argument("--data-dir", default=None,
                        help="folder with UCR_UEA/<name>/<name>_TRAIN.ts (default: TSREC_DATA)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder of classification.csv and .md (default: benchmarks/results; "
                             "another one for a trial run)")
    return parser


def check_args(parser: argparse.ArgumentParser, args) -> None:
    """Everything a run needs, before the first fit: else a typo failed after hours of other models."""
    args.params = json_params(parser, args.params, {"random_state"}, "--seeds")
    if args.params and ROCKET_MODEL in args.models:
        default = args.models == parser.get_default("models")
        given = "the default --models include it" if default else "--models names it"
        parser.error(f"--params: {ROCKET_MODEL!r} is a fixed reference ({given}); name the tsrec models to run "
                     "with --models, or drop --params")
    for model in args.models if args.params else ():
        check_estimator_params(parser, model, args.params)
    try:
        known = list_ucr(args.data_dir)
    except (ValueError, OSError) as err:  # a data dir that is a file or does not exist
        data_dir_error(parser, err)
    unknown = [name for name in args.datasets if name not in known]
    if unknown:
        parser.error(f"--datasets: unknown {unknown}; the data folders hold {known}")
    for name in args.datasets:  # a damaged or unequal-length file fails here, not after other fits
        try:
            load(name, "train", args.data_dir), load(name, "test", args.data_dir)
        except (ValueError, OSError) as err:
            parser.error(f"--datasets {name}: {err}")
    if ROCKET_MODEL in args.models and importlib.util.find_spec("numba") is None:  # after the datasets: a typo there
        parser.error(f"--models {shlex.quote(ROCKET_MODEL)} needs numba (sktime's RocketClassifier): "
                     "pip install numba (the bench extra), or leave that model out")
    try:
        check_writable(args.out, args.out / "classification.csv", "pass another --out folder")
    except OSError as err:
        parser.error(f"--out: {err.strerror or err}")
    check_results_csv(parser, args.out / "classification.csv", KEY)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    known = classifiers()
    parser = build_parser(known)
    args = parser.parse_args(argv)
    check_args(parser, args)
    torch.set_num_threads(args.threads)
    command = command_line(__file__, argv)  # quoted: it must paste into a shell
    commit = code_label()
    for model in args.models:
        factory, label = functools.partial(known[model], **args.params), model_label(model, args.params)
        for name in args.datasets:
            accs, secs = zip(*(run(factory, name, s, args.data_dir) for s in args.seeds))
            row = dict(model=label, dataset=name, seeds=len(accs), seed_list=" ".join(map(str, args.seeds)),
                       accuracy=np.mean(accs), accuracy_std=np.std(accs), fit_seconds=np.mean(secs),
                       rocket_published=ROCKET_PUBLISHED.get(name, np.nan), command=command,
                       commit=commit, date=datetime.now(timezone.utc).strftime("%Y-%m-%d"))  # not in KEY: which run
            print(f"{label} {name}: {np.mean(accs):.4f} +- {np.std(accs):.4f} ({np.mean(secs):.1f}s)", flush=True)
            save(merge(read_results(args.out / "classification.csv"), row), args.out)
    return 0


def model_label(model: str, params: dict) -> str:
    """The results' model column: the name, followed by its ``--params`` when there are any."""
    return f"{model} {json.dumps(params, sort_keys=True)}" if params else model


def read_results(path: Path) -> pd.DataFrame | None:
    """The CSV's rows; the seed list stays text ("0" is a list of one seed, not the number 0), and so do the
    commit and date (a commit of digits is not a number); an older CSV without them has none."""
    return pd.read_csv(path, dtype={"seed_list": str, "commit": str, "date": str}) if path.exists() else None


def merge(old: pd.DataFrame | None, row: dict) -> pd.DataFrame:
    """``old`` without the row of ``row``'s (model, dataset, seeds), plus ``row``, in model and DATASETS order."""
    table = pd.DataFrame([row])
    if old is not None:
        keep = ~old.set_index(KEY).index.isin(table.set_index(KEY).index)
        table = pd.concat([old[keep], table], ignore_index=True)
    order = {name: i for i, name in enumerate(DATASETS)}
    table = table.sort_values(KEY, key=lambda c: c.map(order) if c.name == "dataset" else c, kind="stable")
    return table.reset_index(drop=True)


def rocket_here(table: pd.DataFrame, dataset: str, seed_list: str) -> str:
    """ROCKET's measured accuracy on ``dataset``: the run with the same seeds, else the first listed."""
    rocket = table[(table["model"] == ROCKET_MODEL) & (table["dataset"] == dataset)]
    same = rocket[rocket["seed_list"] == seed_list]
    rocket = same if len(same) else rocket
    return f"{rocket['accuracy'].iloc[0]:.4f}" if len(rocket) else "not run"


def date_commit(row) -> str:
    """The date and commit that measured ``row`` (a table's tuple); empty where the CSV did not record them."""
    return ", ".join(value for value in (getattr(row, "date", None), getattr(row, "commit", None))
                     if isinstance(value, str))


def render_markdown(table: pd.DataFrame) -> str:
    """The markdown table: each model's accuracy beside both ROCKET references; a date, commit column when the
    rows record them."""
    dated = "commit" in table.columns
    lines = [
        "# Classification benchmark (test accuracy, default split)", "",
        "CPU, one torch thread, default constructor parameters (a row's model names any others it ran with), "
        "mean (std) over seeds; each row's command is in classification.csv.", "",
        "| model | dataset | seeds | accuracy | std | fit s | ROCKET measured here | ROCKET published |"
        + (" date, commit |" if dated else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if dated else ""),
    ]
    for r in table.itertuples():
        published = "none published" if np.isnan(r.rocket_published) else f"{r.rocket_published:.4f}"
        here = rocket_here(table, r.dataset, r.seed_list)
        lines.append(f"| {r.model} | {r.dataset} | {seed_label(r.seeds, r.seed_list)} | {r.accuracy:.4f} | "
                     f"{r.accuracy_std:.4f} | {r.fit_seconds:.1f} | {here} | {published} |"
                     + (f" {date_commit(r)} |" if dated else ""))
    lines += ["", "ROCKET measured here: sktime's `RocketClassifier` (Dempster et al. 2020; 10,000 random kernels, "
              "ridge classifier) on the same arrays and seeds. ROCKET published: mean of 10 runs, from "
              "`results/results_ucr.csv` in the authors' repository angus924/rocket (univariate sets only)."]
    return "\n".join(lines) + "\n"


def save(table: pd.DataFrame, folder: Path) -> None:
    """Write classification.csv and .md together, atomically: a failure leaves both as they were. The markdown
    ends with this run's provenance."""
    text = render_markdown(table) + "\n" + provenance() + " " + MERGED + "\n"
    atomic_write_all({folder / "classification.csv": lambda tmp: table.to_csv(tmp, index=False, float_format="%.4f"),
                      folder / "classification.md": lambda tmp: tmp.write_text(text)})


if __name__ == "__main__":
    raise SystemExit(main())
