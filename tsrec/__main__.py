"""``python -m tsrec``: the ``tsrec`` command, with the interpreter that runs it (its environment's tsrec)."""

from tsrec.cli import run

if __name__ == "__main__":  # not when imported (pytest's doctest collection imports every module)
    run()
