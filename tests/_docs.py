"""The documents the documentation tests read: README.md and the guides in docs/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *GUIDES]
FENCED = re.compile(r"^```.*?^```$", re.DOTALL | re.MULTILINE)


def prose(page: Path) -> str:
    """``page``'s text without its fenced code blocks (a ``# comment`` there is no heading)."""
    return FENCED.sub("", page.read_text(encoding="utf-8"))
