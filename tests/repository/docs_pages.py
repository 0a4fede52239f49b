"""The documentation as the tests read it: the pages of docs/ and README.md, parsed into headings, sections, fenced
code blocks (with the example files that pymdownx.snippets pulls into them) and tables; and the Quick start app.

Shared by tests/repository/test_docs.py (the docs document the code) and tests/test_installed_wheel.py (which runs the
Quick start against the installed wheel), so that both read the very same file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
EXAMPLES = DOCS / "examples"
QUICK_START_TITLE = "Quick start"
QUICK_START_FILE = EXAMPLES / "quick_start.py"
"""The Quick start app: the README shows it, the Getting started page pulls it in, the tests run it."""

_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)[ \t]*#*[ \t]*$")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
# A pymdownx.snippets line: --8<-- "path" (a whole file), or "path:section" (between its section markers).
SNIPPET = re.compile(r'^\s*--8<--\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$')


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block: its language (the info string's first word) and its content."""

    language: str
    code: str
    line: int
    """1-based line of the opening fence."""

    @property
    def snippets(self) -> list[str]:
        """The files (repository paths) this block pulls in; [] for a block written out in the page."""
        lines = [line for line in self.code.splitlines() if line.strip()]
        matches = [SNIPPET.match(line) for line in lines]
        return [m["path"] for m in matches if m] if lines and all(matches) else []

    @property
    def resolved(self) -> str:
        """What the reader sees: the snippet files' text, or the block's own."""
        paths = self.snippets
        return "".join((REPO_ROOT / path).read_text(encoding="utf-8") for path in paths) if paths else self.code


@dataclass(frozen=True)
class Table:
    """A pipe table: the header cells and the rows' cells, stripped, ``\\|`` unescaped."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    line: int


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int


@dataclass(frozen=True)
class Section:
    """A heading and everything under it up to the next heading of the same or a higher level."""

    heading: Heading
    start: int
    """Index (0-based) of the heading line in the document's lines."""
    end: int
    """Index one past the section's last line."""
    document: Document

    @property
    def title(self) -> str:
        return self.heading.title

    @property
    def text(self) -> str:
        return "\n".join(self.document.lines[self.start : self.end])

    def code_blocks(self, language: str | None = None) -> list[CodeBlock]:
        return [
            block
            for block in self.document.code_blocks
            if self.start < block.line - 1 < self.end and (language is None or block.language == language)
        ]

    def tables(self) -> list[Table]:
        return [table for table in self.document.tables if self.start < table.line - 1 < self.end]

    def subsections(self) -> list[Section]:
        return [s for s in self.document.sections if self.start < s.start < self.end]

    def subsection(self, title: str) -> Section | None:
        return next((s for s in self.subsections() if s.title == title), None)


@dataclass(frozen=True)
class Document:
    path: Path
    lines: tuple[str, ...]
    headings: tuple[Heading, ...]
    code_blocks: tuple[CodeBlock, ...]
    tables: tuple[Table, ...]

    @property
    def name(self) -> str:
        """The path from the repository root: ``docs/routes.md``."""
        return self.path.relative_to(REPO_ROOT).as_posix()

    @property
    def sections(self) -> list[Section]:
        result = []
        for index, heading in enumerate(self.headings):
            following = (h for h in self.headings[index + 1 :] if h.level <= heading.level)
            end = next((h.line - 1 for h in following), len(self.lines))
            result.append(Section(heading, heading.line - 1, end, self))
        return result

    def section(self, title: str) -> Section:
        matches = [s for s in self.sections if s.title == title]
        if len(matches) != 1:
            raise LookupError(f"{self.name} has {len(matches)} sections titled {title!r}, expected exactly one")
        return matches[0]


def split_cells(line: str) -> tuple[str, ...]:
    """The cells of a table row: split on unescaped pipes, outer pipes dropped, ``\\|`` unescaped."""
    cells = _CELL_SEPARATOR.split(line.strip())
    if cells and cells[0] == "":
        cells = cells[1:]
    if cells and cells[-1] == "":
        cells = cells[:-1]
    return tuple(cell.strip().replace("\\|", "|") for cell in cells)


def parse(text: str, path: Path) -> Document:
    """Headings, code blocks and tables of a CommonMark/GFM document (fences are respected)."""
    lines = tuple(text.splitlines())
    headings: list[Heading] = []
    blocks: list[CodeBlock] = []
    tables: list[Table] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE_OPEN.match(line)
        if fence:
            marker = fence["fence"]
            closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])), len(lines))
            info = fence["info"].strip()
            # CommonMark: content lines lose up to as many leading spaces as the opening fence has (list items).
            indent = len(line) - len(line.lstrip(" "))
            content = [re.sub(rf"^ {{0,{indent}}}", "", text) for text in lines[index + 1 : end]]
            blocks.append(CodeBlock(info.split()[0] if info else "", "\n".join(content) + "\n", index + 1))
            index = end + 1
            continue
        heading = _HEADING.match(line)
        if heading:
            headings.append(Heading(len(heading["hashes"]), heading["title"], index + 1))
        elif (
            line.lstrip().startswith("|")
            and index + 1 < len(lines)
            and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[index + 1])
        ):
            rows = []
            end = index + 2
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                rows.append(split_cells(lines[end]))
                end += 1
            tables.append(Table(split_cells(line), tuple(rows), index + 1))
            index = end
            continue
        index += 1
    return Document(path, lines, tuple(headings), tuple(blocks), tuple(tables))


@cache
def document(path: Path) -> Document:
    return parse(path.read_text(encoding="utf-8"), path)


def readme() -> Document:
    return document(README)


def pages() -> list[Document]:
    """Every Markdown page of the site (docs/, without the example folder), in path order."""
    return [document(path) for path in sorted(DOCS.rglob("*.md")) if EXAMPLES not in path.parents]


def example_files() -> list[Path]:
    """Every Python file under docs/examples/: the example apps and stacks, and the handler code they use."""
    return sorted(EXAMPLES.rglob("*.py"))


def quick_start_code() -> str:
    """The Quick start ``app.py``: ``docs/examples/quick_start.py``."""
    return QUICK_START_FILE.read_text(encoding="utf-8")


def github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (not ``-`` or ``_``), spaces to ``-``."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
