"""Every ```python block of docs/*.md runs, each in a fresh namespace, so that the guides' examples cannot
rot (README.md's blocks have their own test, tests/test_readme_snippets.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _docs import GUIDES

BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _blocks() -> list[tuple[Path, int, str]]:
    """(page, first line number, source) of every python block in the guides."""
    found = []
    for page in GUIDES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            found.append((page, text[: match.start(1)].count("\n") + 1, match.group(1)))
    return found


BLOCKS = _blocks()


def test_the_guides_hold_examples():
    assert {page.name for page, _, _ in BLOCKS} >= {"networks.md", "kernels.md"}


@pytest.mark.parametrize(("page", "line", "source"), BLOCKS, ids=[f"{p.name}:{n}" for p, n, _ in BLOCKS])
def test_the_block_runs(page, line, source):
    # compiled at its own line of the page, so that a traceback points into the guide
    exec(compile("\n" * (line - 1) + source, str(page), "exec"), {})
