"""The ``tsrec`` command."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

from tsrec import __version__

# (option, smallest, largest or None) of each command: a number out of range is a user error of one
# line and exit status 2, found before any work (the seed's range is numpy's)
_RANGES = {
    "demo": [("--max-epochs", 1, None), ("--seed", 0, 2**32 - 1)],
    "forecast": [("--fh", 1, None), ("--npartitions", 1, None)],
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsrec", description="tsrec: state-space and recurrent forecasting")
    # checked before the required command, so `tsrec --version` alone is enough
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit CycleNet on bundled ETTh1 and compare with baselines",
        description="Fit a CycleNetForecaster (lookback 96, horizon 96) on the ETTh1 data bundled with tsrec, "
                    "score it on the test split against seasonal-naive and repeat-last baselines, and write "
                    "forecasts.csv and forecast.png to --out.",
    )
    demo.add_argument("--out", default="demo_output", help="folder for forecasts.csv and forecast.png")
    demo.add_argument("--max-epochs", type=int, default=30, help="training epochs (early stopping applies)")
    demo.add_argument("--seed", type=int, default=2024, help="random_state of the forecaster, 0 to 2**32 - 1")
    commands.add_parser("list", help="list the registered estimators")
    _add_forecast(commands)
    return parser


def _add_forecast(commands) -> None:
    forecast = commands.add_parser(
        "forecast", help="forecast every series in CSV/Parquet files with a saved model",
        description="Forecast every series in CSV/Parquet files with a model saved by est.save(DIR); "
        "writes long-format forecasts (id, time, <value>_hat, and <value>_q<level> with --quantiles) atomically.",
    )
    forecast.add_argument("--model", required=True, metavar="DIR", help="folder written by est.save(DIR)")
    # "extend": a repeated --input adds its files (argparse's default kept only the last list)
    forecast.add_argument("--input", required=True, nargs="+", action="extend", metavar="FILE",
                          help=".csv, .csv.gz, .parquet or .pq files (the option may be repeated)")
    forecast.add_argument("--output", required=True, metavar="FILE",
                          help=".csv, .csv.gz, .parquet or .pq (by extension)")
    forecast.add_argument("--layout", choices=("long", "wide"), default="long",
                          help="long: id, time, value rows; wide: a time column and one column per series")
    forecast.add_argument("--id-col", default="unique_id", help="series id column (default: unique_id)")
    forecast.add_argument("--time-col", default="ds", help="time column (default: ds)")
    forecast.add_argument("--value-col", default="y",
                          help="long: the value column of a univariate model (default: y; --columns replaces it); "
                               "wide: the name the values get (<name>_hat in the output)")
    forecast.add_argument("--columns", nargs="+", action="extend", metavar="COL",
                          help="long: value columns of a multivariate model; wide: the series columns to use")
    order = forecast.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
                       help="read dates like 05/03/2024 day first (5 March); without it or --monthfirst, dates "
                            "that read both ways are refused")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="read dates like 05/03/2024 month first (May 3)")
    forecast.add_argument("--fh", type=_step_count, nargs="+", default=None, metavar="N",
                          help="one whole number N: forecast steps 1..N (default: the steps the model's "
                               "predict() forecasts, i.e. of the fh given to fit, else 1..its horizon)")
    forecast.add_argument("--quantiles", type=float, nargs="+", default=None, metavar="Q",
                          help="quantile levels strictly between 0 and 1, e.g. 0.1 0.9, for a model that samples "
                               "forecast paths (LS4Forecaster): a <value>_q<level> column each")
    forecast.add_argument("--engine", choices=("local", "dask"), default=None,
                          help="local (default) or dask (default when --scheduler-address is given)")
    forecast.add_argument("--scheduler-address", default=None, metavar="ADDR",
                          help="address of a Dask scheduler, e.g. tcp://10.0.0.1:8786")
    forecast.add_argument("--npartitions", type=int, default=None, metavar="N", help="number of Dask tasks (>= 1)")


def _run_forecast(args: argparse.Namespace) -> int:
    """Run ``tsrec forecast``; user errors give one line on stderr and exit status 2."""
    engine = args.engine or ("dask" if args.scheduler_address is not None else "local")
    try:
        for option, value in (("--scheduler-address", args.scheduler_address), ("--npartitions", args.npartitions)):
            if value is not None and engine != "dask":
                # --scheduler-address picks Dask only where no --engine is given
                alternative = " or --scheduler-address" if option == "--npartitions" and args.engine is None else ""
                given = " in place of --engine local" if args.engine == "local" else ""
                raise ValueError(f"{option} needs --engine dask{alternative}{given}")
        from tsrec.batch import forecast_files

        # an address, not a client: the files are checked before the (slow to fail) connection
        result = forecast_files(
            args.model, args.input, args.output, fh=args.fh, layout=args.layout, id_col=args.id_col,
            time_col=args.time_col, value_col=args.value_col, columns=args.columns, engine=engine,
            client=args.scheduler_address, npartitions=args.npartitions, dayfirst=args.dayfirst,
            quantiles=args.quantiles,
        )
    # user errors (bad files, columns, model folders, missing extras, unreachable scheduler):
    # one readable line, no traceback
    except (ValueError, TypeError, OSError, ImportError) as err:
        if _INTERRUPTED.is_set():  # the interrupt, turned into another error on its way out (pandas' reader)
            raise KeyboardInterrupt from err
        print(f"tsrec forecast: error: {_one_line(err)}", file=sys.stderr)
        return 2
    n_series = result.iloc[:, 0].nunique()
    # a path may hold bytes undecodable in the locale (surrogates), which a strict stdout refuses to print
    encoding = sys.stdout.encoding or "utf-8"
    output = str(args.output).encode(encoding, "backslashreplace").decode(encoding)
    print(f"wrote {len(result)} forecasts of {n_series} series to {output}")
    return 0


def _one_line(err: Exception) -> str:
    """The error's message on one line, without the "[Errno N] " that ``str`` puts before an OSError's."""
    text = str(err)
    prefix = f"[Errno {err.errno}] " if isinstance(err, OSError) else None
    if prefix is not None and text.startswith(prefix):
        text = text[len(prefix):]
    return " ".join(text.split()) or type(err).__name__


_FH_RULE = "takes one integer N, the steps 1..N; for other steps, call tsrec.batch.forecast_files(..., fh=[1, 3])"


def _step_count(text: str) -> int:
    """``--fh``'s N; sktime users write several steps (``1,2,3``), which the message answers."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_FH_RULE}; got {text!r}") from None


def _one_fh(args: argparse.Namespace) -> str | None:
    """``--fh``'s one value in place of the list argparse collects (several are taken, to be answered
    here rather than as the top parser's "unrecognized arguments"); the message for several, or None."""
    if getattr(args, "fh", None) is None:
        return None
    if len(args.fh) > 1:
        return f"--fh {_FH_RULE}; got {' '.join(map(str, args.fh))}"
    args.fh = args.fh[0]
    return None


def _out_of_range(args: argparse.Namespace) -> str | None:
    """The message for the first numeric option of ``args`` outside its range, or None."""
    for option, low, high in _RANGES.get(args.command, []):
        value = getattr(args, option[2:].replace("-", "_"))
        if value is None or (low <= value and (high is None or value <= high)):
            continue
        bounds = f">= {low}" if high is None else f"from {low} to {high}"
        return f"{option} must be {bounds}, got {value}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Commands: ``tsrec demo`` (fit CycleNet on the bundled ETTh1, write forecasts and a plot),
    ``tsrec list`` (the registered estimators) and ``tsrec forecast`` (batch forecasts of CSV or
    Parquet files with a saved model); ``tsrec <command> --help`` lists each one's options.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name, e.g. ``["list"]``; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success; 2 for a user error (bad files, columns or model folder, a bad option
        value such as ``--seed -1`` or ``--fh 0``, an output that cannot be written), reported
        as one line on stderr without a traceback; 130 when interrupted (Ctrl-C, SIGTERM or SIGHUP),
        with one line (no output file is left half-written).

    Raises
    ------
    SystemExit
        From argparse: status 2 for an unknown command or a malformed option (after printing the
        usage), 0 after ``--help`` or ``--version``.

    Examples
    --------
    >>> import contextlib, io
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["list"])
    >>> status, out.getvalue().splitlines()[0]
    (0, 'forecaster  ARNetForecaster')
    >>> main(["demo", "--max-epochs", "0"])  # the message goes to stderr
    2
    >>> main(["demo", "--seed", "-1"])
    2
    """
    args = _parser().parse_args(argv)
    message = _one_fh(args) or _out_of_range(args)
    if message is not None:
        print(f"tsrec {args.command}: error: {message}", file=sys.stderr)
        return 2
    try:
        with _one_line_warnings(args.command), _terminate_as_exit():
            return _run(args)
    except KeyboardInterrupt:  # Ctrl-C: the files being written were cleaned up on the way out
        print(f"tsrec {args.command}: interrupted; an output file is replaced only once complete, so none is "
              "half-written", file=sys.stderr)
        return 130


#: set by SIGINT, SIGTERM or SIGHUP during a run: pandas' C reader turns the KeyboardInterrupt raised inside its
#: read() into a ParserError ("Calling read(nbytes) on source failed"), which read as a bad file (status 2)
_INTERRUPTED = threading.Event()


#: the signals that end a run through Python's clean-up (SIGHUP: the terminal or ssh session closed)
_CAUGHT = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM (``timeout``, a batch scheduler) and SIGHUP (a closed terminal) end the run as Ctrl-C
    does, through Python's clean-up, and each is remembered in :data:`_INTERRUPTED`.

    Python's default for either ends the process at once, leaving a half-written temporary file
    beside the output; raised as KeyboardInterrupt, every ``finally`` runs and removes it.
    SIGKILL cannot be caught: it may still leave one (named ``.<output>.<hex>.tmp``).
    """
    def interrupt(signum, frame) -> None:
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    _INTERRUPTED.clear()
    try:
        previous = {sig: signal.signal(sig, interrupt) for sig in _CAUGHT}
    except ValueError:  # not the main thread (main() called from a worker): leave signals alone
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Warnings as one line each, like the errors, without Python's file and source lines."""
    def show(message, category, *_args, **_kwargs) -> None:
        print(f"tsrec {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from tsrec.demo import run_demo
        from tsrec.estimators.errors import InputError

        try:
            run_demo(args.out, max_epochs=args.max_epochs, random_state=args.seed)
        # a bad --out is found before the fit; an --out that cannot be written (read-only, a full
        # disk) is the user's to fix too, as for `tsrec forecast`
        except (InputError, OSError) as err:
            print(f"tsrec demo: error: {_one_line(err)}", file=sys.stderr)
            return 2
    elif args.command == "list":
        from tsrec.registry import all_estimators

        for kind in ("forecaster", "classifier"):
            for name, _ in all_estimators(kind):
                print(f"{kind:<11} {name}")
    elif args.command == "forecast":
        return _run_forecast(args)
    return 0


def run() -> None:
    """The ``tsrec`` command (and ``python -m tsrec``): :func:`main`, then the exit with its status.

    Once the work is done, SIGTERM is ignored: the interpreter's shutdown (torch, Dask) takes most
    of a second, and a SIGTERM in it ended a run that had written its output with status 143.
    """
    status = main()
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(status)


if __name__ == "__main__":
    run()
