"""Panels of many short series: time of each forecaster operation by number of series.

Usage::

    python benchmarks/panel_scale.py --sizes 1000 16000 --out benchmarks/results/panel_scale.md
    python benchmarks/panel_scale.py --code /path/to/other/checkout ...   # the same on other code
    python benchmarks/panel_scale.py --scalings global series ...        # one scaler, or one per series

Each size builds a panel of that many hourly series of ``--rows`` rows, its ids ``s0, s1, ...``
once in that order (not sorted as text: sktime's own data checks then go series by series) and
once sorted (``y.sort_index()``), and in a fresh subprocess on one torch thread times an AR-Net
(24 lags, horizon 24, one epoch) through ``fit``, ``save``, ``tsrec.load``, ``predict``,
``predict(y=panel)``, ``predict`` at absolute stamps with ``y=panel`` and of the stored panel, and
``update`` with 24 new rows a series. ``--code`` runs the children on the tsrec of another
checkout (e.g. the commit before a change), each code in its own rows;
``--scalings`` times each ``scaling`` of the forecaster (code from before the parameter had
one global scaler, so it runs with ``global``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from _args import add_report_out, child_json, command_line, emit_report, int_in  # noqa: E402  (beside this script)

OPERATIONS = ["fit", "save", "load", "predict", "predict(y=panel)", "predict(absolute fh, y=panel)",
              "predict(absolute fh)", "update"]

# run in the child: one size per process
CHILD = """
import json, sys, tempfile, time, warnings
import numpy as np, pandas as pd, torch
warnings.simplefilter("ignore")
torch.set_num_threads(1)
import tsrec
from tsrec.estimators import ARNetForecaster
n, rows, order, scaling = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
import inspect
# code from before the parameter had one global scaler
has_scaling = "scaling" in inspect.signature(ARNetForecaster).parameters
assert has_scaling or scaling == "global", "this tsrec has no scaling parameter"
params = {"scaling": scaling} if has_scaling else {}
stamps = pd.date_range("2024-01-01", periods=rows + 24, freq="h")
index = pd.MultiIndex.from_product([[f"s{i}" for i in range(n)], stamps], names=["id", "ds"])
values = np.random.default_rng(0).standard_normal(len(index))
panel = pd.DataFrame({"y": values}, index=index)
panel = panel.sort_index() if order == "sorted" else panel
past, new = panel[index.get_level_values(1) < stamps[rows]], panel[index.get_level_values(1) >= stamps[rows]]
times = {}
def timed(name, call):
    start = time.perf_counter(); out = call(); times[name] = time.perf_counter() - start
    return out
est = timed("fit", lambda: ARNetForecaster(n_lags=24, horizon=24, max_epochs=1, random_state=0, **params)\
.fit(past, fh=range(1, 25)))
with tempfile.TemporaryDirectory() as tmp:
    timed("save", lambda: est.save(tmp + "/model"))
    timed("load", lambda: tsrec.load(tmp + "/model"))
timed("predict", est.predict)
timed("predict(y=panel)", lambda: est.predict(y=past))
timed("predict(absolute fh, y=panel)", lambda: est.predict(fh=pd.DatetimeIndex(stamps[rows:rows + 3]), y=past))
# after the others: a forecast's fh is the next one's default (predict(y=panel) would take these stamps)
timed("predict(absolute fh)", lambda: est.predict(fh=pd.DatetimeIndex(stamps[rows:rows + 3])))
timed("update", lambda: est.update(new))
print(json.dumps(times))
"""


REPO = Path(__file__).resolve().parents[1]


def measure(n_series: int, rows: int, order: str, code: Path, scaling: str = "global") -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with tempfile.TemporaryDirectory() as tmp:  # not the checkout: its tsrec would come first
        return child_json(CHILD, n_series, rows, order, scaling, env=env, cwd=tmp)


def code_label(code: Path) -> str:
    """The checkout's commit, marked when it has uncommitted changes; else its path."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return str(code)


def render(rows: list[dict], series_rows: int, labels: list[str], argv: list[str]) -> list[str]:
    lines = [
        "# Panel operations by number of series", "",
        f"Command: `{command_line(__file__, argv)}`", "",
        f"Written by `benchmarks/panel_scale.py`: hourly series of {series_rows} rows (ids s0, s1, ... in "
        "that order, which is not sorted as text, or sorted), an AR-Net (24 lags, horizon 24, one epoch), "
        "one torch thread, each size in a "
        "fresh process; seconds.", "",
        "| series | ids | scaling | code | " + " | ".join(OPERATIONS) + " |",
        "|---|---|---|---|" + "---|" * len(OPERATIONS),
    ]
    for r in rows:
        lines.append(f"| {r['series']} | {r['ids']} | {r['scaling']} | {labels[r['code']]} | "
                     + " | ".join(f"{r[op]:.2f}" for op in OPERATIONS) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int_in(1), nargs="+", default=[1000, 16000],
                        help="series counts to time (default: 1000 16000)")
    parser.add_argument("--rows", type=int_in(48), default=48,
                        help="rows per series before the update, at least 24 lags + a 24-step horizon (default: 48)")
    parser.add_argument("--code", type=Path, nargs="*", default=[], help="other checkouts to time as well")
    parser.add_argument("--scalings", nargs="+", choices=["global", "series"], default=["global"],
                        help="the forecaster's scaling parameter, each timed")
    add_report_out(parser, "panel_scale.md")
    args = parser.parse_args(argv)
    for path in args.code:  # else the child imports whichever tsrec comes next on its path, under this label
        if not (path / "tsrec" / "__init__.py").is_file():
            parser.error(f"--code: {path} holds no tsrec/__init__.py")
    codes = [REPO, *(path.resolve() for path in args.code)]
    labels = [code_label(code) for code in codes]
    rows = []
    for n in args.sizes:
        for order in ("s0, s1, ...", "sorted"):
            for scaling in args.scalings:
                for i, code in enumerate(codes):  # alternated, so a busy spell of the machine hits both
                    rows.append({"series": n, "ids": order, "scaling": scaling, "code": i,
                                 **measure(n, args.rows, "sorted" if order == "sorted" else "text", code, scaling)})
                    print(rows[-1], flush=True)
    emit_report(render(rows, args.rows, labels, argv), args.out)  # never a half-written report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
