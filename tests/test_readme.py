"""README.md documents the code as it is: a section per public construct whose props table is the constructor's
keyword props (names, types, defaults), Python examples that parse, the Quick start the wheel test runs, and links
that lead somewhere. Nothing is synthesized here."""

from __future__ import annotations

import ast
import enum
import inspect
import re
from collections import Counter
from typing import Any

import pytest
from constructs import Construct

import constructs_lib
from tests.readme import QUICK_START_TITLE, Section, github_anchor, quick_start_code, readme

PROPS_HEADER = ("Prop", "Type", "Default", "What it does")
# The order of the top of the README: what the library is, then these level-2 sections, then one per construct.
TOP_SECTIONS = [
    "Two commands",
    QUICK_START_TITLE,
    "Choosing an engine: Lambda Destinations or Step Functions",
    "Contents",
]


def public_constructs() -> list[type[Construct]]:
    """Every Construct subclass that ``constructs_lib`` exports."""
    classes = [getattr(constructs_lib, name) for name in constructs_lib.__all__]
    return [c for c in classes if inspect.isclass(c) and issubclass(c, Construct)]


def keyword_props(construct: type[Construct]) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(construct.__init__).parameters.values()
    return {p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def documented_type(annotation: Any) -> str:
    """The annotation as the README writes it: the source text, without ``| None`` (the default says what then)."""
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return re.sub(r"\s*\|\s*None$", "", " ".join(text.split()))


def literal_default_words(default: Any) -> list[str]:
    """What the Default cell must contain for a literal default; [] when the README describes it in words."""
    if isinstance(default, enum.Enum):
        return [default.name]
    if isinstance(default, bool | int | float | str):
        return [str(default)]
    if isinstance(default, tuple | list):
        return [word for item in default for word in literal_default_words(item)]
    return []


def construct_section(name: str) -> Section:
    return readme().section(name)


def props_rows(section: Section) -> dict[str, tuple[str, ...]]:
    props = section.subsection("Props")
    assert props is not None, f"README: the {section.title} section has no '### Props' (or deeper) heading"
    tables = [t for t in props.tables() if t.header == PROPS_HEADER]
    assert len(tables) == 1, f"README: {section.title} Props needs one table with the header {' | '.join(PROPS_HEADER)}"
    rows: dict[str, tuple[str, ...]] = {}
    for row in tables[0].rows:
        assert len(row) == len(PROPS_HEADER), f"README: {section.title} props row {row} has {len(row)} cells"
        match = re.fullmatch(r"`([a-z_][a-z0-9_]*)`", row[0])
        assert match, f"README: {section.title} props row names {row[0]!r}: one `prop` per row"
        assert match[1] not in rows, f"README: {section.title} lists {match[1]} twice"
        rows[match[1]] = row
    return rows


def test_there_are_constructs_to_document() -> None:
    names = {c.__name__ for c in public_constructs()}
    assert {"DestinedFunction", "FunctionWorkflow", "ExecutionStatusNotifications", "SlackNotifier"} <= names


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_every_public_construct_has_a_section_with_an_example_props_and_defaults(construct: type[Construct]) -> None:
    section = construct_section(construct.__name__)
    examples = [b for b in section.code_blocks("python") if f"{construct.__name__}(" in b.code]
    assert examples, f"README: the {construct.__name__} section has no python example that makes one"
    defaults = section.subsection("Default settings")
    assert defaults is not None, f"README: the {construct.__name__} section has no 'Default settings' heading"
    assert re.search(r"^\s*- ", defaults.text, re.MULTILINE), "Default settings: list them"


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_props_table_lists_exactly_the_keyword_props_with_their_types_and_defaults(
    construct: type[Construct],
) -> None:
    name = construct.__name__
    rows = props_rows(construct_section(name))
    props = keyword_props(construct)
    assert sorted(rows) == sorted(props), f"README: {name} props table != the constructor's keyword props"
    for prop, parameter in props.items():
        _, type_cell, default_cell, meaning = rows[prop]
        assert type_cell == f"`{documented_type(parameter.annotation)}`", f"README: {name}.{prop} type"
        assert meaning, f"README: {name}.{prop} says nothing of what it does"
        if parameter.default is inspect.Parameter.empty:
            assert default_cell == "required", f"README: {name}.{prop} has no default: write 'required'"
            continue
        assert default_cell, f"README: {name}.{prop} says nothing of its default"
        assert "required" not in default_cell, f"README: {name}.{prop} is optional"
        for word in literal_default_words(parameter.default):
            assert word in default_cell, f"README: {name}.{prop} defaults to {parameter.default!r}, not {default_cell}"


def test_every_python_block_parses() -> None:
    blocks = readme().code_blocks
    python = [b for b in blocks if b.language == "python"]
    assert len(python) >= len(public_constructs())
    for block in python:
        try:
            ast.parse(block.code)
        except SyntaxError as error:
            pytest.fail(f"README.md line {block.line + (error.lineno or 0)}: {error.msg}")
    assert [b.line for b in blocks if not b.code.strip()] == [], "empty code blocks (a fence out of place?)"
    # A fence without a language is a diagram or output; a typo in a language would hide Python from this test.
    assert {b.language for b in blocks} <= {"", "python", "bash", "json", "text"}, {b.language for b in blocks}


def test_quick_start_is_a_complete_app_and_the_one_the_wheel_test_runs() -> None:
    from tests.repository import test_installed_wheel

    code = quick_start_code()
    tree = ast.parse(code)
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {"aws_cdk", "cdk_nag", "constructs_lib"}, imported
    assert "app.synth()" in code
    assert code == test_installed_wheel.QUICK_START_APP
    install = readme().section(QUICK_START_TITLE).code_blocks("bash")
    assert any(f"constructs_lib-{constructs_lib.__version__}-py3-none-any.whl" in b.code for b in install)


def test_top_of_the_readme_is_in_the_order_a_new_user_reads_it() -> None:
    level_two = [h.title for h in readme().headings if h.level == 2]
    assert level_two[: len(TOP_SECTIONS)] == TOP_SECTIONS
    title = readme().headings[0]
    assert (title.level, title.line) == (1, 1)
    intro = "\n".join(readme().lines[1 : readme().section(TOP_SECTIONS[0]).start])
    assert re.search(r"^- ", intro, re.MULTILINE), "the introduction lists what is in the library"


def test_choice_table_compares_both_engines() -> None:
    section = readme().section(TOP_SECTIONS[2])
    tables = section.tables()
    assert len(tables) == 1
    header = tables[0].header
    assert "DestinedFunction" in header[1], header
    assert "FunctionWorkflow" in header[2], header
    assert {row[0] for row in tables[0].rows} >= {
        "Invocation",
        "Retry",
        "Parallel branches, map",
        "Choice on the output",
    }


def test_contents_lists_every_section_after_it_and_links_resolve() -> None:
    document = readme()
    anchors: Counter[str] = Counter()
    known: set[str] = set()
    for heading in document.headings:
        anchor = github_anchor(heading.title)
        known.add(anchor if anchors[anchor] == 0 else f"{anchor}-{anchors[anchor]}")
        anchors[anchor] += 1
    links = re.findall(r"\]\(#([^)]+)\)", "\n".join(document.lines))
    assert sorted({link for link in links if link not in known}) == []

    contents = document.section("Contents")
    listed = re.findall(r"\]\(#([^)]+)\)", contents.text)
    after = [github_anchor(h.title) for h in document.headings if h.level == 2 and h.line > contents.heading.line]
    assert [a for a in after if a not in listed] == [], "Contents misses a section"


def test_readme_names_the_package_version_wherever_it_names_one() -> None:
    text = "\n".join(readme().lines)
    versions = set(re.findall(r"constructs_lib-(\d+\.\d+\.\d+)-py3", text)) | set(
        re.findall(r"^Version (\d+\.\d+\.\d+)", text, re.MULTILINE)
    )
    assert versions == {constructs_lib.__version__}
