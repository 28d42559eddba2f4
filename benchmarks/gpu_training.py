"""GPU training check: every estimator of the registry fits and predicts on a CUDA GPU.

Usage (on a machine with a GPU and tsrec's dependencies; on the lent device machine sktime and
scikit-base travel as wheels, see ``benchmarks/gpu_check.sh``)::

    python benchmarks/gpu_training.py --out benchmarks/results/gpu_training.md

Forecasters train on the bundled ETTh1 (its first 2,000 hours, 7 variates; lookback 96 and
horizon 24 where the model takes them), classifiers on a synthetic 3-channel set of 128 series
of 100 steps whose class is the sign of a channel's slope; default widths, one epoch. Each
estimator is fitted twice with ``random_state=0``: the report gives both fit times (the first
one compiles the Triton kernels), whether the two fits predict exactly the same (tsrec's
reproducibility contract, on the GPU's deterministic mode) and whether the predictions are
finite. On CUDA the kernels run their ``auto`` backend: Triton for selective_scan (S-Mamba),
scan2d (Chimera) and ltc_scan (LTC, its default cell), cuFFT for the convolution kernels
(SpaceTime, LS4).

``--precision`` trains in another of Lightning's precisions (default ``32-true``). A GPU's
autocast computes some ops in float32 that a CPU's keeps in bfloat16 (LayerNorm, softplus), so
``bf16-mixed`` meets dtype mixes there that the CPU tests cannot; e.g.::

    python benchmarks/gpu_training.py --precision bf16-mixed --models ChimeraForecaster \
        ChimeraClassifier SMambaForecaster SMambaClassifier LTCForecaster LTCClassifier

``--class-weight balanced`` trains the classifiers on the class-weighted loss (its weights move to
the device each batch and the batch's total weight stays there until the epoch ends), e.g.::

    python benchmarks/gpu_training.py --class-weight balanced --models PGNClassifier SMambaClassifier
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from _args import check_names, command_line, provenance, report_path  # noqa: E402  (beside this script)
from tsrec._files import atomic_write  # noqa: E402
from tsrec.datasets import load_ett  # noqa: E402
from tsrec.registry import all_estimators  # noqa: E402

N_HOURS, LOOKBACK, HORIZON = 2000, 96, 24


def forecast_data() -> tuple[object, list[int]]:
    """ETTh1's first hours (all 7 variates) and the steps to forecast."""
    return load_ett("ETTh1").iloc[:N_HOURS], list(range(1, HORIZON + 1))


def classification_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """128 series of 3 channels x 100 steps; class = sign of channel 0's slope (learnable fast)."""
    rng = np.random.default_rng(seed)
    slope = rng.choice([-1.0, 1.0], size=128)
    X = rng.normal(0.0, 1.0, (128, 3, 100)) + 0.03 * slope[:, None, None] * np.arange(100)
    return X.astype(np.float32), (slope > 0).astype(int)


def params_for(cls: type, accelerator: str, tiny: bool, precision: str = "32-true",
               class_weight: str | None = None) -> dict:
    """Default widths, one epoch, the device; ``tiny`` uses the conformance suites' small widths;
    ``class_weight`` for classifiers."""
    names = cls().get_params()
    params = {"max_epochs": 1, "accelerator": accelerator, "precision": precision, "random_state": 0}
    params |= {"class_weight": class_weight} if class_weight is not None and "class_weight" in names else {}
    params |= {k: v for k, v in (("lookback", LOOKBACK), ("horizon", HORIZON)) if k in names}
    if tiny:
        small = cls.get_test_params()[0] if hasattr(cls, "get_test_params") else {}
        params |= {k: v for k, v in {**small, **getattr(cls, "_test_params", {})}.items() if k != "max_epochs"}
        params |= {"lookback": 24} if "lookback" in names else {}
    return params


def fit_predict(cls: type, params: dict, is_classifier: bool) -> tuple[float, np.ndarray]:
    """One fit from scratch; returns its seconds and the predictions (probabilities for classifiers)."""
    start = time.perf_counter()
    if is_classifier:
        X, y = classification_data()
        est = cls(**params).fit(X[:96], y[:96])
        seconds = time.perf_counter() - start
        return seconds, np.asarray(est.predict_proba(X[96:]))
    y, fh = forecast_data()
    est = cls(**params).fit(y, fh=fh)
    seconds = time.perf_counter() - start
    return seconds, np.asarray(est.predict(fh=fh), dtype=float)


def check(name: str, cls: type, accelerator: str, tiny: bool, precision: str = "32-true",
          class_weight: str | None = None) -> dict:
    """Two seeded fits of one estimator: times, reproducibility, finiteness (or the error raised)."""
    is_classifier = name.endswith("Classifier")
    params = params_for(cls, accelerator, tiny, precision, class_weight)
    row = dict(estimator=name, params=json.dumps({k: v for k, v in params.items() if k != "accelerator"}),
               first_fit_s=None, second_fit_s=None, identical=False, finite=False, error="")
    try:  # one estimator's failure must not cost the others' results on a scarce device
        first_s, first = fit_predict(cls, params, is_classifier)
        second_s, second = fit_predict(cls, params, is_classifier)
        row.update(first_fit_s=round(first_s, 2), second_fit_s=round(second_s, 2),
                   identical=bool(np.array_equal(first, second)), finite=bool(np.isfinite(first).all()))
    except Exception as exc:  # noqa: BLE001 - reported in the table, and the exit status says it failed
        row["error"] = f"{type(exc).__name__}: {exc}"[:300].replace("|", "/").replace("\n", " ")
    print(json.dumps(row), flush=True)
    return row


def report(rows: list[dict], device: str, argv: list[str]) -> str:
    lines = ["# Training on a GPU", "", f"Command: `{command_line(__file__, argv)}`", "",
             f"Device: {device}. See the script's docstring for the data and settings.", "",
             "| estimator | first fit s | second fit s | same predictions twice | finite | params | error |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['estimator']} | {r['first_fit_s']} | {r['second_fit_s']} | {'yes' if r['identical'] else 'NO'} "
              f"| {'yes' if r['finite'] else 'NO'} | `{r['params']}` | {r['error']} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Parse the CLI, check each estimator, write the report; exit 1 if any check failed."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=report_path, default=None, help="write the markdown report here")
    parser.add_argument("--models", nargs="*", default=None, help="only these estimators")
    parser.add_argument("--accelerator", choices=("gpu", "cpu"), default="gpu",
                        help="gpu (default) or cpu, for a dry run")
    parser.add_argument("--tiny", action="store_true", help="the conformance suites' small widths")
    parser.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed", "bf16-true", "64-true"],
                        help="Lightning's precision for every fit (default: 32-true)")
    parser.add_argument("--class-weight", default=None, choices=["balanced"],
                        help="the classifiers' class_weight (default: none)")
    args = parser.parse_args(argv)
    check_names(parser, "--models", args.models, [name for name, _ in all_estimators()])
    import torch  # noqa: PLC0415

    if args.accelerator == "gpu" and not torch.cuda.is_available():
        parser.error("no CUDA GPU: torch.cuda.is_available() is False; pass --accelerator cpu for a dry run")
    device = torch.cuda.get_device_name() if args.accelerator == "gpu" else "CPU (dry run)"
    estimators = [(n, c) for n, c in all_estimators() if args.models is None or n in args.models]
    rows = [check(name, cls, args.accelerator, args.tiny, args.precision, args.class_weight)
            for name, cls in estimators]
    text = report(rows, device, argv) + "\n" + provenance() + "\n"
    if args.out:
        atomic_write(args.out, lambda tmp: tmp.write_text(text))  # never a half-written report
    print(text)
    return 0 if all(r["identical"] and r["finite"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
