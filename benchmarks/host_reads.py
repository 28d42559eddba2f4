"""Host reads per training step: how often each estimator's network waits for its device.

Usage::

    python benchmarks/host_reads.py --out benchmarks/results/host_reads.md

On a GPU, every read of a tensor's value on the host (``bool(t)``, ``float(t)``, ``t.item()``,
``int(t)``, ``t.tolist()``) waits until the device has finished all work queued so far, so the
CPU cannot queue the next kernels while the GPU runs: for the small networks of this toolkit,
whose steps are many short kernels, those waits cost throughput. They are counted here on the
CPU (the count does not depend on the device): each estimator is fitted for one epoch with its
default widths on the data of ``benchmarks/gpu_training.py``, then one training step (the
loss of a batch of 32 and its backward) runs with the five reads counted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpu_training as data  # noqa: E402  (the data and settings of the GPU training check)
from _args import check_names, command_line, provenance, report_path  # noqa: E402
from tsrec._files import atomic_write  # noqa: E402
from tsrec.estimators._classifier import classification_loss  # noqa: E402
from tsrec.registry import all_estimators  # noqa: E402

READS = ("__bool__", "__float__", "__int__", "item", "tolist")
BATCH = 32


@contextlib.contextmanager
def counted_reads() -> Iterator[list]:
    """Within the block, every host read of a tensor's value appends to the yielded list."""
    reads: list = []
    originals = {name: getattr(torch.Tensor, name) for name in READS}

    def counting(original):
        def read(self, *args):
            reads.append(1)
            return original(self, *args)
        return read

    try:
        for name, original in originals.items():
            setattr(torch.Tensor, name, counting(original))
        yield reads
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def training_step_reads(name: str, cls: type) -> int:
    """Fit one epoch on the CPU, then count the reads of one training step on a batch."""
    params = data.params_for(cls, "cpu", tiny=False)
    gen = torch.Generator().manual_seed(0)
    if name.endswith("Classifier"):
        X, y = data.classification_data()
        est = cls(**params).fit(X, y)
        batch = (torch.randn(BATCH, X.shape[2], X.shape[1], generator=gen), torch.zeros(BATCH, dtype=torch.int64))
        loss_fn = classification_loss
    else:
        series, fh = data.forecast_data()
        est = cls(**params).fit(series, fh=fh)
        width = series.shape[1]
        batch = (torch.randn(BATCH, est._lookback_length(), width, generator=gen),
                 torch.randn(BATCH, est._horizon_length(), width, generator=gen), torch.zeros(BATCH, dtype=torch.int64))
        loss_fn = est._loss()
    network = est.network_.train()
    with counted_reads() as reads:
        loss, _ = loss_fn(network, batch)
        loss.backward()
    return len(reads)


def main(argv: list[str] | None = None) -> int:
    """Parse the CLI, count every estimator's reads, write the markdown report."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown report here")
    parser.add_argument("--models", nargs="*", default=None, help="only these estimators")
    args = parser.parse_args(argv)
    check_names(parser, "--models", args.models, [name for name, _ in all_estimators()])
    torch.manual_seed(0)
    rows = []
    for name, cls in all_estimators():
        if args.models is None or name in args.models:
            rows.append((name, training_step_reads(name, cls)))
            print(f"{name}: {rows[-1][1]}", flush=True)
    lines = ["# Host reads per training step", "", f"Command: `{command_line(__file__, argv)}`", "",
             f"Default widths, one step = loss of a batch of {BATCH} and its backward; reads = "
             + ", ".join(f"`{r}`" for r in READS) + " on a tensor (each waits for the device on a GPU). "
             "Kernel ops check their inputs for NaN/inf with one read per call.", "",
             "| estimator | reads per training step |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in rows]
    text = "\n".join([*lines, "", provenance()]) + "\n"
    if args.out:
        atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
