"""Every relative link of README.md and docs/*.md names a file that exists, and an anchor a heading in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _docs import GUIDES, PAGES, README, prose

LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but hyphens dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(line.lstrip("#")) for line in prose(page).splitlines() if line.startswith("#")}


def test_the_guides_exist_and_the_readme_links_each():
    guides = {page.name for page in GUIDES}
    linked = set(re.findall(r"\(docs/([\w-]+\.md)\)", README.read_text(encoding="utf-8")))
    assert len(guides) >= 10
    assert guides == linked, (f"guides not linked from README.md: {guides - linked}; "
                              f"links to no guide: {linked - guides}")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_resolve(page: Path):
    links = [link for link in LINK.findall(page.read_text(encoding="utf-8")) if "://" not in link]
    for link in links:
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name} links to {link}, which does not exist"
        if anchor:
            assert anchor in _anchors(path), f"{page.name} links to {link}: no such heading in {path.name}"
    if page.parent.name == "docs":
        assert "../README.md" in links, f"{page.name} has no link back to the README"
