"""Argument checks shared by the benchmark scripts: a bad value stops the script before it measures.

A count of 0 (``--repeats 0``) or a mistyped name (``--ops linear_scn``) would otherwise run to the end
and write a report of nothing, or NaN, over a committed results file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in [low, high]; argparse names the option in its error."""

    def parse(text: str) -> int:
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {value}")
        return value

    return parse


def command_line(script: str, argv: list[str] | None) -> str:
    """The command that ran the benchmark ``script`` (its ``__file__``) with ``argv`` (None: this process's
    arguments), quoted so that it pastes into a shell as run."""
    return shlex.join(["python", f"benchmarks/{Path(script).name}", *(sys.argv[1:] if argv is None else argv)])


def child_json(code: str, *args: object, env: dict | None = None, cwd: str | Path | None = None) -> object:
    """The JSON of the last line that the Python ``code`` prints, run with ``args`` in a fresh interpreter. A
    child that fails ends the benchmark with its exit status and the end of its stderr (a CalledProcessError
    said only "returned non-zero exit status 1")."""
    result = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env,
                            cwd=cwd)
    if result.returncode:
        raise SystemExit(f"a child process failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def data_dir_error(parser: argparse.ArgumentParser, err: Exception) -> None:
    """Exit 2 with a loader's refusal of ``--data-dir``, its Python advice (``None``) put as the option's."""
    parser.error(f"--data-dir: {str(err).replace('or None to search', 'or drop --data-dir to search')}")


def check_results_csv(parser: argparse.ArgumentParser, path: Path, key: list[str]) -> None:
    """Refuse an existing results CSV at ``path`` that lacks the columns ``key`` its rows merge by: another
    file of that name, which the merge after the first fit would fail on (a KeyError traceback)."""
    if not path.is_file():
        return
    import pandas as pd  # here, so that argument errors come before pandas' import

    try:
        columns = set(pd.read_csv(path, nrows=0).columns)
    except (ValueError, OSError) as err:  # not a CSV pandas reads (an empty file, a binary one)
        parser.error(f"--out: {path} is not a results table this script wrote ({err}); pass another --out folder")
    missing = [name for name in key if name not in columns]
    if missing:
        parser.error(f"--out: {path} has no {missing} column(s): not a results table this script wrote; pass another "
                     "--out folder, or move that file away")


def report_path(text: str) -> Path:
    """An argparse ``type``: a file the report can be written to (its folders are made), checked before
    anything is measured; a folder or an unwritable place was found only after the run, as a traceback."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file, e.g. {path / 'report.md'}")
    existing = path.parent
    while not existing.exists():  # the folders emit_report would make, up to the first that is there
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be written: {existing} is not a folder this process may "
                                         "write in; give another path")
    return path


def add_report_out(parser: argparse.ArgumentParser, name: str) -> None:
    """``--out``: the report's file (checked by :func:`report_path`), by default the committed ``results/<name>``
    beside the scripts, which a run replaces."""
    parser.add_argument("--out", type=report_path, default=REPO / "benchmarks" / "results" / name,
                        help=f"default: the committed results/{name}, which the run replaces")


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def check_names(parser: argparse.ArgumentParser, option: str, given: list[str] | None, known: Iterable[str]) -> None:
    """Every name of ``given`` (None: all) must be in ``known``; an empty list selects nothing."""
    if given is None:
        return
    names = sorted(set(known))
    unknown = [name for name in given if name not in names]
    if unknown or not given:
        what = f"unknown {unknown}" if unknown else "no names"
        parser.error(f"{option}: {what}; choose from {names}")


def json_params(parser: argparse.ArgumentParser, text: str, reserved: set[str], set_by: str) -> dict:
    """``--params``: a JSON object of constructor parameters, none of which the script sets itself."""
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        parser.error(f"--params is not valid JSON ({err}); pass an object such as '{{\"max_epochs\": 3}}'")
    if not isinstance(params, dict):
        parser.error(f"--params must be a JSON object such as '{{\"max_epochs\": 3}}', got {text!r}")
    if set(params) & reserved:
        parser.error(f"--params: {sorted(set(params) & reserved)} are set by {set_by}")
    return params


def seed_label(count: int, seed_list: str) -> str:
    """``count (seeds)`` with runs of three or more consecutive seeds as ``first-last``."""
    seeds, parts = [int(s) for s in str(seed_list).split()], []
    for seed in seeds:
        if parts and seed == parts[-1][1] + 1:
            parts[-1][1] = seed
        else:
            parts.append([seed, seed])
    text = [f"{a}-{b}" if b - a >= 2 else " ".join(map(str, range(a, b + 1))) for a, b in parts]
    return f"{count} ({' '.join(text)})"


def check_estimator_params(parser: argparse.ArgumentParser, model: str, params: dict) -> None:
    """``--params`` the model takes, with values its fit accepts (the constructors only store them)."""
    from tsrec.estimators._params import training_config
    from tsrec.registry import get_estimator

    try:
        est = get_estimator(model)(**params)
        est._check_params()
        with warnings.catch_warnings():  # e.g. patience without validation: the script sets val_size later
            warnings.simplefilter("ignore")
            training_config(est)
    except (TypeError, ValueError) as err:
        parser.error(f"--params does not suit {model}: {err}")


def code_label() -> str:
    """The checkout's commit, marked when tsrec/ has uncommitted changes (read-only git: no index refresh)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "--no-optional-locks", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", "tsrec")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" + uncommitted changes under tsrec/" if changed else "")


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, else the architecture."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{names[0]} ({platform.machine()})" if names else platform.machine()


def provenance() -> str:
    """Where and when a report was measured: the code's commit, the date, the machine and torch."""
    import torch  # here, so that argument errors come before torch's import

    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Measured at commit {code_label()}, {when}, on {cpu_name()}, {os.cpu_count()} CPUs{gpu}, "
            f"torch {torch.__version__}.")


def emit_report(lines: list[str], out: Path | None) -> None:
    """The markdown report of ``lines`` and its :func:`provenance`: written to ``out`` whole or not at
    all, else printed."""
    from tsrec._files import atomic_write  # here, so that argument errors come before tsrec's import

    text = "\n".join([*lines, "", provenance()]) + "\n"
    if out is not None:
        atomic_write(out, lambda tmp: tmp.write_text(text))  # never a half-written report over a committed one
    else:
        print(text)
