"""One forecaster's training step at its defaults on ETTh1, on the CPU: milliseconds per step.

One step is the forward pass, the loss, the backward pass and the optimiser's update (the one the
estimator trains with: Adam, or AdamW where the estimator says so, with its parameter groups) for
a batch of ETTh1 windows at the estimator's default lookback, horizon and batch size, 7 variates.
S-Mamba reads the hourly calendar as its extra tokens, as a fit on ETTh1's stamps does. With
``--against DIR`` the same step of the tsrec package in DIR (e.g. an earlier commit:
``git archive REV tsrec | tar -x -C DIR``) is timed in turn with this checkout's, each in its own
process and alternating, so that both meet the same state of a noisy machine; the report gives
each process's median, over its steps, of the wall time and of the process's CPU time, and their
ratios round by round. (``spacetime_step.py`` is the same measurement for SpaceTime at batch 50.)

Example::

    python benchmarks/forecaster_step.py --model smamba --steps 10 --rounds 3 --against /tmp/old
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _alternate import add_alternate_arguments, alternate, packages, ratio_lines, run_in  # beside this script
from _args import command_line, emit_report

MODELS = {"ls4": "LS4Forecaster", "smamba": "SMambaForecaster", "ltc": "LTCForecaster"}
HOUR_NS = 3600 * 10**9


def time_steps(model: str, steps: int) -> list[list[float]]:
    """Wall and CPU seconds of each of ``steps`` training steps (after two unmeasured ones) of the
    tsrec on the path: ``[wall, cpu]``."""
    import numpy as np
    import torch

    import tsrec.estimators as estimators
    from tsrec.datasets import load_ltsf
    from tsrec.nn.optim import optimizer_groups

    torch.set_num_threads(1)
    est = getattr(estimators, MODELS[model])()
    values = load_ltsf("ETTh1").to_numpy(np.float32)[:8640]  # the training border
    values = (values - values.mean(0)) / values.std(0)
    span = est.lookback + est.horizon
    starts = np.random.default_rng(0).integers(0, len(values) - span, est.batch_size)
    x = torch.tensor(np.stack([values[s:s + est.lookback] for s in starts]))
    y = torch.tensor(np.stack([values[s + est.lookback:s + span] for s in starts]))
    torch.manual_seed(0)
    meta = {"step_ns": HOUR_NS} if model == "smamba" else {}
    network, loss = est._build_network(x.shape[-1], meta), est._loss()
    position = torch.tensor(starts) if getattr(network, "uses_position", False) else None
    lr = est.lr if est.lr is not None else est._lr_when_none()
    adam = torch.optim.AdamW if getattr(est, "_decoupled_weight_decay", False) else torch.optim.Adam
    optimizer = adam(optimizer_groups(network, lr, est.weight_decay), lr=lr, weight_decay=est.weight_decay)
    network.train()
    seconds = []
    for i in range(steps + 2):
        wall, cpu = time.perf_counter(), time.process_time()
        optimizer.zero_grad(set_to_none=True)
        loss(network, (x, y, position))[0].backward()
        optimizer.step()
        if i >= 2:
            seconds.append([time.perf_counter() - wall, time.process_time() - cpu])
    return seconds


def _medians(package, model: str, steps: int) -> tuple[float, float]:
    """Milliseconds of the median step of one process of ``package``: wall, CPU."""
    times = run_in(package, "forecaster_step", f"time_steps({model!r}, {steps})")
    return tuple(1000 * statistics.median(t[i] for t in times) for i in (0, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), required=True, help="the forecaster to time")
    add_alternate_arguments(parser, steps_high=200, steps_default=10)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    medians = alternate(packages(parser, args), args.rounds, lambda package: _medians(package, args.model, args.steps))
    lines = [f"# {MODELS[args.model]} training step, defaults, ETTh1 (7 variates), one CPU thread", "",
             "| tsrec | wall ms per step (median of each process) | CPU ms per step (the same) |", "|---|---|---|"]
    lines += [f"| {name} | {', '.join(f'{w:.1f}' for w, _ in values)} | {', '.join(f'{c:.1f}' for _, c in values)} |"
              for name, values in medians.items()]
    if args.against is not None:
        mine, other = medians.values()
        for i, what in enumerate(("wall time", "CPU time")):
            lines += ratio_lines([m[i] for m in mine], [o[i] for o in other], what)
    lines += ["", f"Command: `{command_line(__file__, argv)}`"]
    emit_report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
