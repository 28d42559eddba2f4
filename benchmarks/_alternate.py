"""Timing two tsrec packages in turn (``--against DIR``), shared by the training-step benchmarks.

Each measurement runs in a fresh process that imports one package, and the packages alternate
round by round, so that both meet the same state of a noisy machine; a ratio is read within a
round.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from _args import REPO, child_json, int_in, report_path

T = TypeVar("T")


def add_alternate_arguments(parser: argparse.ArgumentParser, steps_high: int, steps_default: int) -> None:
    """``--steps``, ``--rounds``, ``--against``, ``--label`` and ``--out``."""
    parser.add_argument("--steps", type=int_in(1, steps_high), default=steps_default, help="measured steps per process")
    parser.add_argument("--rounds", type=int_in(1, 20), default=3, help="processes per package, alternating")
    parser.add_argument("--against", type=Path, default=None, help="a folder holding another tsrec package")
    parser.add_argument("--label", default=None, help="how the report names --against's package (default: DIR)")
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown report here")


def packages(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Path]:
    """This checkout's package and, with ``--against``, the other one, by the names the report gives them."""
    if args.against is None:
        return {"this checkout": REPO}
    if not (args.against / "tsrec" / "__init__.py").is_file():
        parser.error(f"--against: {args.against} holds no tsrec/__init__.py")
    return {"this checkout": REPO, args.label or str(args.against): args.against}


def run_in(package: Path, module: str, call: str) -> object:
    """``call`` (an expression on ``module``, a benchmark script beside this one) in a fresh process that
    imports the tsrec of ``package``, on one thread; its value travels back as JSON."""
    env = {**os.environ, "PYTHONPATH": str(package), "OMP_NUM_THREADS": "1"}
    code = f"import json, {module}; print(json.dumps({module}.{call}))"
    return child_json(code, env=env, cwd=Path(__file__).parent)


def alternate(named: dict[str, Path], rounds: int, measure: Callable[[Path], T]) -> dict[str, list[T]]:
    """``measure`` of each package in turn, ``rounds`` times: each package's results in round order."""
    results: dict[str, list[T]] = {name: [] for name in named}
    for _ in range(rounds):
        for name, package in named.items():
            results[name].append(measure(package))
    return results


def ratio_lines(mine: list[float], other: list[float], what: str = "time") -> list[str]:
    """The report's lines giving this checkout's ``what`` over the other package's, round by round."""
    each = ", ".join(f"{new / old:.2f}" for new, old in zip(mine, other))
    return ["", f"This checkout's {what} over the other's, round by round: {each}."]
