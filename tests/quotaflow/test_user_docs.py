"""The README is the planner's guide and docs/ the reference behind it: every link between them resolves, every
reference page is in the table of contents, and no command the README shows is unknown to the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quotaflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for match in LINK.finditer(page.read_text(encoding="utf-8")):
        target, anchor = match.group(1), match.group(2)
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = (page.parent / target).resolve()
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md":
            headings = {_anchor(line.lstrip("#")) for line in path.read_text(encoding="utf-8").splitlines()
                        if line.startswith("#")}
            if anchor[1:] not in headings:
                broken.append(target + anchor)
    assert not broken, f"{page.name}: broken links {broken}"


def test_the_table_of_contents_lists_every_reference_page() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    reference = [p.name for p in PAGES if p.parent.name == "docs" and p.name != "README.md"]
    missing = [name for name in reference if f"({name})" not in index]
    assert not missing, f"docs/README.md does not list {missing}"


def test_every_command_the_readme_shows_exists() -> None:
    blocks = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1::2]  # the fenced code blocks
    shown = {line.split()[1] for block in blocks for line in block.splitlines() if line.startswith("quotaflow ")}
    known = {command.name for command in app.registered_commands} | {group.name for group in app.registered_groups}
    assert shown, "the README shows no command"
    assert shown <= known, f"the README shows commands the CLI lacks: {shown - known}"
