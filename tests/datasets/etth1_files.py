"""The bundled ETTh1 file's lines, and edited copies of it written where a loader finds them (not a test
module): tests/datasets/test_damaged_files.py, test_loader_details.py and test_published_files.py."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def etth1_lines() -> list[str]:
    """The bundled ETTh1.csv, line by line with the line ends."""
    return (resources.files("tsrec.datasets") / "data" / "ETTh1.csv").read_text().splitlines(keepends=True)


def write_etth1(folder: Path, lines: list[str], group: str = "ETT", file: str = "ETTh1.csv") -> Path:
    """``lines`` written as ``folder/group/file``; returns ``folder``, the ``data_dir`` to load it from."""
    (folder / group).mkdir(exist_ok=True)
    (folder / group / file).write_bytes("".join(lines).encode())
    return folder
