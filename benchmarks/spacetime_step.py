"""SpaceTime's training step at the forecaster's defaults on ETTh1, on the CPU: milliseconds per step.

One step is the forward pass, the loss, the backward pass and AdamW's update for a batch of 50
windows of ETTh1's 7 variates (lookback 336, horizon 96), which SpaceTime models one at a time:
350 series of 336 steps through a width of 128. With ``--against DIR`` the same step of the tsrec
package in DIR (e.g. an earlier commit: ``git archive REV tsrec | tar -x -C DIR``) is timed in
turn with this checkout's, each in its own process and alternating, so that both meet the same
state of a noisy machine; the report gives each median and their ratio.

Example::

    python benchmarks/spacetime_step.py --steps 4 --rounds 3 --against /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _args import REPO, emit_report, int_in  # benchmarks/_args.py, beside this script


def time_steps(steps: int) -> list[float]:
    """Seconds of each of ``steps`` training steps (after two unmeasured ones) of the tsrec on the path."""
    import numpy as np
    import torch

    from tsrec.datasets import load_ltsf
    from tsrec.estimators import SpaceTimeForecaster

    torch.set_num_threads(1)
    est = SpaceTimeForecaster()
    values = load_ltsf("ETTh1").to_numpy(np.float32)[:8640]  # the training border
    values = (values - values.mean(0)) / values.std(0)
    starts = np.random.default_rng(0).integers(0, len(values) - est.lookback - est.horizon, 50)
    x = torch.tensor(np.stack([values[s:s + est.lookback] for s in starts]))
    y = torch.tensor(np.stack([values[s + est.lookback:s + est.lookback + est.horizon] for s in starts]))
    torch.manual_seed(0)
    network, loss = est._build_network(1, {}), est._loss()
    optimizer = torch.optim.AdamW(network.parameters(), lr=est.lr, weight_decay=est.weight_decay)
    network.train()
    seconds = []
    for i in range(steps + 2):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss(network, (x, y, None))[0].backward()
        optimizer.step()
        if i >= 2:
            seconds.append(time.perf_counter() - start)
    return seconds


def _run(package: Path, steps: int) -> list[float]:
    """:func:`time_steps` in a fresh process that imports the tsrec of ``package``."""
    env = {**os.environ, "PYTHONPATH": str(package), "OMP_NUM_THREADS": "1"}
    code = f"import json, spacetime_step; print(json.dumps(spacetime_step.time_steps({steps})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int_in(1, 100), default=4, help="measured steps per process")
    parser.add_argument("--rounds", type=int_in(1, 20), default=3, help="processes per package, alternating")
    parser.add_argument("--against", type=Path, default=None, help="a folder holding another tsrec package")
    parser.add_argument("--label", default=None, help="how the report names --against's package (default: DIR)")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.against is not None and not (args.against / "tsrec" / "__init__.py").is_file():
        parser.error(f"--against: {args.against} holds no tsrec/__init__.py")
    packages = {"this checkout": REPO, **({args.label or str(args.against): args.against} if args.against else {})}
    medians: dict[str, list[float]] = {name: [] for name in packages}
    for _ in range(args.rounds):
        for name, package in packages.items():
            medians[name].append(1000 * statistics.median(_run(package, args.steps)))
    lines = ["# SpaceTime training step, defaults, ETTh1 (batch 50 x 7 variates, lookback 336), one CPU thread", "",
             "| tsrec | ms per step (median of each process) |", "|---|---|"]
    lines += [f"| {name} | {', '.join(f'{ms:.0f}' for ms in values)} |" for name, values in medians.items()]
    if args.against is not None:
        ratios = [new / old for new, old in zip(*medians.values())]
        each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        lines += ["", f"This checkout's time over the other's, round by round: {each}."]
    lines += ["", f"Command: `python benchmarks/spacetime_step.py {shlex.join(argv)}`"]
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
