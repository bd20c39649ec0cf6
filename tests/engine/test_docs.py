"""The user documentation (README.md, CONTRIBUTING.md, docs/*.md) reads as documentation, not as a lab notebook,
and every relative link in it leads somewhere."""

from __future__ import annotations

import re

import pytest

from ..conftest import REPO_ROOT

DOCUMENTS = sorted([REPO_ROOT / "README.md", REPO_ROOT / "CONTRIBUTING.md", *(REPO_ROOT / "docs").glob("*.md")])

# words that date a text or tie it to how it was written, which a reader cannot place
NOTEBOOK_WORDS = {
    "a session word": re.compile(r"\b(?:previous|this|last|next|earlier) session\b", re.IGNORECASE),
    "'today'": re.compile(r"\btoday(?:'s)?\b", re.IGNORECASE),
    "an issue number": re.compile(r"(?<![\w&/])#\d+\b|\bissues? \d+\b", re.IGNORECASE),
    "a clock time": re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?!\d)(?:\s*UTC)?\b(?![.:]\d)"),
}
# examples and option values (a time zone such as `+02:00`) are not the text's own dates
CODE = re.compile(r"^```.*?^```|`[^`\n]*`", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def test_the_documents_are_found():
    names = {path.name for path in DOCUMENTS}
    assert {"README.md", "CONTRIBUTING.md", "user-guide.md", "benchmarks.md"} <= names


def prose(markdown: str) -> str:
    """The text without code: blocks and inline code blanked, lines kept so numbers still point right."""
    return CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), markdown)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_lab_notebook_words(document):
    found = [f"{document.name}:{number}: {what}: {match.group(0)!r}"
             for number, line in enumerate(prose(document.read_text(encoding="utf-8")).splitlines(), 1)
             for what, pattern in NOTEBOOK_WORDS.items() for match in pattern.finditer(line)]
    assert not found, "\n".join(found)


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a document's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL),
                          flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(document):
    broken = []
    text = re.sub(r"^```.*?^```", "", document.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not this check's business
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{document.name}: " + "; ".join(broken)
