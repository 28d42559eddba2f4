"""Time and peak memory of a classifier's ``predict_proba`` by the samples it runs a pass.

Usage::

    python benchmarks/classifier_passes.py --out benchmarks/results/classifier_passes.md

The classifiers run ``predict_proba`` (and fit's closing check of the training outputs) in passes
of ``batch_size`` samples, the training batch, as darts and Keras predict. Before, a pass took
1024 samples. Each row here runs in a fresh process on one thread: the classifier, at its default
settings, is fitted for two batches on 64 random series, its ``batch_size`` is then set to the
row's pass size, and ``predict_proba`` runs on ``--samples`` random series of ``--length`` steps.
The memory column is the process's peak resident memory after the call less its peak before,
the working memory of the passes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import check_names, emit_report, int_in  # noqa: E402

CHILD = """
import json, logging, resource, sys, time, warnings
import numpy as np, torch
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
torch.set_num_threads(1)
import tsrec
name, per_pass, n_samples, length = sys.argv[1], *map(int, sys.argv[2:5])
rng = np.random.default_rng(0)
X, y = rng.standard_normal((n_samples, length)), rng.integers(0, 2, n_samples)
limits = {"limit_train_batches": 2, "limit_val_batches": 1}
est = dict(tsrec.all_estimators(kind="classifier"))[name](max_epochs=1, random_state=0, trainer_kwargs=limits)
est.fit(X[:64], y[:64]).set_params(batch_size=per_pass)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before, start = peak(), time.perf_counter()
assert est.predict_proba(X).shape == (n_samples, 2)
print(json.dumps(dict(model=name, per_pass=per_pass, seconds=time.perf_counter() - start, bytes=peak() - before)))
"""


def classifier_names() -> list[str]:
    import tsrec  # noqa: PLC0415 - imported when run, not when the tests load the script

    return [name for name, _ in tsrec.all_estimators(kind="classifier")]


def measure(name: str, per_pass: int, n_samples: int, length: int) -> dict:
    """One row, in a fresh process: a pass size's time and working memory for ``name``."""
    args = [sys.executable, "-c", CHILD, name, str(per_pass), str(n_samples), str(length)]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(rows: list[dict], command: str, n_samples: int, length: int) -> list[str]:
    sizes = sorted({row["per_pass"] for row in rows})
    lines = [
        "# Samples a pass of a classifier's predict_proba", "",
        f"Command: `{command}`", "",
        f"`predict_proba` on {n_samples} univariate series of {length} steps, each classifier at its default "
        "settings, one thread, a fresh process per cell: seconds, and the peak resident memory above the "
        "fitted process (MiB). The classifiers' default `batch_size` is 16, the pass size they now use.", "",
        "| classifier | " + " | ".join(f"{size} a pass" for size in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    by_model: dict[str, dict[int, dict]] = {}
    for row in rows:
        by_model.setdefault(row["model"], {})[row["per_pass"]] = row
    for model, cells in by_model.items():
        shown = [f"{cells[s]['seconds']:.2f} s, {cells[s]['bytes'] / 2**20:.0f} MiB" for s in sizes]
        lines.append(f"| {model} | " + " | ".join(shown) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="classifiers to run (default: all registered)")
    parser.add_argument("--passes", type=int_in(1), nargs="+", default=[16, 1024],
                        help="samples a pass to compare (default: 16, the default batch_size, and 1024)")
    parser.add_argument("--samples", type=int_in(1), default=1024, help="series to classify (default: 1024)")
    parser.add_argument("--length", type=int_in(1), default=500, help="steps a series (default: 500)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/classifier_passes.md"))
    args = parser.parse_args(argv)
    names = classifier_names()
    check_names(parser, "--models", args.models, names)
    command = " ".join(["python benchmarks/classifier_passes.py", *(argv if argv is not None else sys.argv[1:])])
    started = time.perf_counter()
    rows = [measure(name, size, args.samples, args.length) for name in (args.models or names) for size in args.passes]
    emit_report(report(rows, command, args.samples, args.length), args.out)
    print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
