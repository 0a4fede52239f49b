"""The conformance table of the docs, from the docstrings of the conformance suite.

    python -m tools.conformance_table            # writes docs/conformance.md
    python -m tools.conformance_table --check    # exit 1 when docs/conformance.md is not what it would write

Each test of ``tests/conformance/test_<area>.py`` says, in its docstring, which documented AWS behaviour it holds the
local kit to (read with ``ast``: nothing is imported or run)::

    \"\"\"<Area>: <the documented semantic, one sentence>.

    AWS: <URL of the AWS documentation page>
    Kit: <what the kit does, one sentence>
    Divergence: <none | what differs on purpose, and why | the docs are ambiguous: ...>
    \"\"\"

A field may go on over several lines (the following lines are indented or simply not another field). A test whose
docstring does not have this form is an error that names the file, the test and what is missing. The output is
deterministic: files in name order, tests in source order.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SUITE = REPO_ROOT / "tests" / "conformance"
PAGE = REPO_ROOT / "docs" / "conformance.md"
COMMAND = "make conformance-table"
"""What regenerates the page (``python -m tools.conformance_table`` without make)."""

_FIELDS = ("AWS", "Kit", "Divergence")
_FIELD = re.compile(r"^(AWS|Kit|Divergence):\s*(.*)$")
_HEADLINE = re.compile(r"^(?P<area>[A-Z][^:]{0,60}):\s+(?P<semantic>\S.*)$", re.DOTALL)
_URL = re.compile(r"^https://(docs\.aws\.amazon\.com|aws\.amazon\.com|docs\.powertools\.aws\.dev)/\S+$")
_NONE = "none"


class ConformanceDocstringError(ValueError):
    """A conformance test whose docstring does not have the suite's form."""


@dataclass(frozen=True)
class Semantic:
    """One row of the table: one conformance test."""

    area: str
    semantic: str
    aws: str
    kit: str
    divergence: str
    test: str
    """``<file>::<test>``, relative to the repository."""

    @property
    def diverges(self) -> bool:
        return self.divergence.lower().rstrip(".") != _NONE


def parse_docstring(docstring: str, where: str) -> Semantic:
    """One test's row, from its docstring; ``where`` (``file::test``) names it in errors."""
    text = docstring.strip()
    headline, _, rest = text.partition("\n\n")
    match = _HEADLINE.match(" ".join(headline.split()))
    if match is None:
        raise ConformanceDocstringError(f"{where}: the docstring must start with '<Area>: <semantic>.'")
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for raw in rest.splitlines():
        line = raw.strip()
        if not line:
            current = None
            continue
        found = _FIELD.match(line)
        if found:
            name = found.group(1)
            if name in fields:
                raise ConformanceDocstringError(f"{where}: '{name}:' is given twice")
            current = name
            fields[name] = [found.group(2)]
        elif current is not None:
            fields[current].append(line)
        else:
            raise ConformanceDocstringError(f"{where}: unexpected text {line!r} (fields: AWS, Kit, Divergence)")
    missing = [name for name in _FIELDS if not " ".join(fields.get(name, [])).strip()]
    if missing:
        raise ConformanceDocstringError(f"{where}: missing {', '.join(name + ':' for name in missing)}")
    values = {name: " ".join(" ".join(fields[name]).split()) for name in _FIELDS}
    if not _URL.match(values["AWS"]):
        raise ConformanceDocstringError(f"{where}: 'AWS:' must be one URL of AWS's docs, got {values['AWS']!r}")
    return Semantic(
        area=match.group("area").strip(),
        semantic=_capitalised(match.group("semantic").strip()),
        aws=values["AWS"],
        kit=values["Kit"],
        divergence=values["Divergence"],
        test=where,
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def collect(suite: Path = SUITE, root: Path = REPO_ROOT) -> list[Semantic]:
    """Every conformance test's row: ``test_*.py`` files in name order, their ``test_*`` functions (and methods of
    ``Test*`` classes) in source order."""
    rows: list[Semantic] = []
    for path in sorted(suite.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        relative = path.relative_to(root).as_posix()
        for node, qualified in _tests(tree.body):
            where = f"{relative}::{qualified}"
            docstring = ast.get_docstring(node, clean=True)
            if not docstring:
                raise ConformanceDocstringError(f"{where}: a conformance test needs the suite's docstring")
            rows.append(parse_docstring(docstring, where))
    return rows


def _tests(body: Iterable[ast.stmt], prefix: str = "") -> Iterable[tuple[ast.FunctionDef, str]]:
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            yield node, prefix + node.name
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            yield from _tests(node.body, f"{prefix}{node.name}::")


def _cell(text: str) -> str:
    """Table cell text: pipes escaped (a cell is one line already)."""
    return text.replace("|", "\\|")


def _link(url: str) -> str:
    """A short link text: the page's name from its URL (``invocation-async-retain-records``)."""
    name = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".html") or url
    anchor = url.split("#", 1)[1] if "#" in url else ""
    return f"[{name}{' #' + anchor if anchor else ''}]({url})"


def render(rows: Sequence[Semantic]) -> str:
    """The page: one table of every semantic, then the divergences left on purpose."""
    lines = [
        "# Conformance",
        "",
        "<!-- Generated by `python -m tools.conformance_table` from the docstrings of tests/conformance/; "
        f"edit the tests and run `{COMMAND}`. -->",
        "",
        "The [local kit](test-locally.md) is held to AWS's documentation by a conformance suite, "
        "`tests/conformance/`: one test per documented behaviour, each citing the AWS page it follows. This page is "
        "generated from those tests, so every row is a test that passes.",
        "",
        f"{_count(len(rows), 'semantic')} in {_count(len({row.area for row in rows}), 'area')}; "
        f"{sum(row.diverges for row in rows)} with a divergence or an ambiguity, listed after the table.",
        "",
        "| Area | Semantic | AWS reference | Kit | Divergence |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cells = (row.area, row.semantic, _link(row.aws), row.kit, row.divergence)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    diverging = [row for row in rows if row.diverges]
    lines += ["", "## Divergences and ambiguities", ""]
    if not diverging:
        lines.append("None: the kit does what the documentation says wherever the suite looks.")
    for row in diverging:
        lines.append(f"- **{row.area}**: {row.semantic} {row.divergence} (`{row.test}`)")
    lines += [
        "",
        "## Regenerate",
        "",
        "```bash",
        f"{COMMAND}    # python -m tools.conformance_table",
        "```",
        "",
        "`tests/repository/test_conformance_table.py` fails when this page is not what the suite generates.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is stale; write nothing")
    parser.add_argument("--out", type=Path, default=PAGE, help="the page to write (default: docs/conformance.md)")
    options = parser.parse_args(argv)
    try:
        text = render(collect())
    except ConformanceDocstringError as error:
        print(f"conformance table: {error}", file=sys.stderr)
        return 2
    if options.check:
        current = options.out.read_text(encoding="utf-8") if options.out.exists() else ""
        if current != text:
            print(f"{options.out} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    options.out.write_text(text, encoding="utf-8")
    print(f"wrote {options.out} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
