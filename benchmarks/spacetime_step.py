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
import statistics
import sys
import time

from _alternate import add_alternate_arguments, alternate, packages, ratio_lines, run_in  # beside this script
from _args import command_line, emit_report


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_alternate_arguments(parser, steps_high=100, steps_default=4)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    medians = alternate(packages(parser, args), args.rounds,
                        lambda package: 1000 * statistics.median(run_in(package, "spacetime_step",
                                                                        f"time_steps({args.steps})")))
    lines = ["# SpaceTime training step, defaults, ETTh1 (batch 50 x 7 variates, lookback 336), one CPU thread", "",
             "| tsrec | ms per step (median of each process) |", "|---|---|"]
    lines += [f"| {name} | {', '.join(f'{ms:.0f}' for ms in values)} |" for name, values in medians.items()]
    if args.against is not None:
        lines += ratio_lines(*medians.values())
    lines += ["", f"Command: `{command_line(__file__, argv)}`"]
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
