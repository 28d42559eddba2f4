"""The ``tsrec`` command."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsrec", description="tsrec: state-space and recurrent forecasting")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="fit CycleNet on bundled ETTh1 and compare with baselines")
    demo.add_argument("--out", default="demo_output", help="folder for forecasts.csv and forecast.png")
    demo.add_argument("--max-epochs", type=int, default=30, help="training epochs (early stopping applies)")
    demo.add_argument("--seed", type=int, default=2024, help="random_state of the forecaster")
    commands.add_parser("list", help="list the registered estimators")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from tsrec.demo import run_demo

        if args.max_epochs < 1:
            print("tsrec demo: --max-epochs must be >= 1", file=sys.stderr)
            return 2
        run_demo(args.out, max_epochs=args.max_epochs, random_state=args.seed)
    elif args.command == "list":
        from tsrec.registry import all_estimators

        for kind in ("forecaster", "classifier"):
            for name, _ in all_estimators(kind):
                print(f"{kind:<11} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
