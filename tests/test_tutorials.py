"""Every notebook in tutorials/ runs top to bottom without an error (its cells hold asserts)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.ipynb"))


def test_there_are_tutorials() -> None:
    assert TUTORIALS, "tutorials/ holds no notebook"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    # the kernel is the interpreter running the tests (ipykernel's native "python3" kernel)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [(i, o) for i, cell in enumerate(notebook.cells) for o in cell.get("outputs", [])]
    assert not [o for _, o in outputs if o.get("output_type") == "error"]
    # a warning printed to the reader (a deprecated call, sktime's remember_data) is a defect of the notebook
    warned = [(i, o["text"]) for i, o in outputs if o.get("name") == "stderr" and "Warning" in o.get("text", "")]
    assert not warned, warned


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_text_has_no_escaped_line_breaks(path: Path) -> None:
    # a cell written with a literal backslash-n renders as one run-on line (a heading swallowing its text)
    notebook = nbformat.read(path, as_version=4)
    escaped = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "markdown" and "\\n" in cell.source]
    assert not escaped, f"markdown cells {escaped} hold a literal \\n"
