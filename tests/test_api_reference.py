"""The API reference (`make docs`): pdoc renders every public module, with the docstrings' field lists readable."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from constructs import Construct

from docs.api_reference import build, fields_to_markdown, public_modules
from tests.conftest import REPO_ROOT
from tests.test_readme import keyword_props, public_constructs


def test_param_fields_keep_their_name_and_show_the_default() -> None:
    docstring = (
        "Make a thing.\n"
        "\n"
        ":param on_failure: where failed invocations go. :default: - a new encrypted SQS queue (with its own DLQ),\n"
        "    so that no failed event is lost.\n"
        ":param retry_attempts: 0 to 2: retries. :default: 2 (as AWS).\n"
        ":param log_level: :default: ALL\n"
    )
    assert fields_to_markdown(docstring).splitlines() == [
        "Make a thing.",
        "",
        "",
        "###### Parameters",
        "",
        "- **on_failure**: where failed invocations go. *Default:* a new encrypted SQS queue (with its own DLQ), so "
        "that no failed event is lost.",
        "- **retry_attempts**: 0 to 2: retries. *Default:* 2 (as AWS).",
        "- **log_level**: *Default:* ALL",
    ]


def test_fields_on_one_line_and_named_defaults_are_split() -> None:
    docstring = (
        ":param dead_letter_queue: :default: - a new queue.\n"
        ":param retry_attempts: :default: 8. :param max_event_age: :default: 4 hours.\n"
        ":default message: the whole event.\n"
        "Returns the target and its DLQ.\n"
    )
    assert fields_to_markdown(docstring).splitlines() == [
        "",
        "###### Parameters",
        "",
        "- **dead_letter_queue**: *Default:* a new queue.",
        "- **retry_attempts**: *Default:* 8.",
        "- **max_event_age**: *Default:* 4 hours.",
        "- **message**: *Default:* the whole event.",
        "",
        "Returns the target and its DLQ.",
    ]


def test_an_unindented_line_continues_a_field_only_mid_sentence() -> None:
    docstring = (
        ":default on_failure: - a new queue. SQS sources take no on-failure route: failed messages go\nto the DLQ.\n"
    )
    assert (
        "- **on_failure**: *Default:* a new queue. SQS sources take no on-failure route: failed messages go to the "
        in (fields_to_markdown(docstring))
    )


def test_raises_returns_and_inline_defaults() -> None:
    docstring = (
        "Attribute text. :default: - half the maximum event age.\n"
        "\n"
        ":raises ConstructPropsError: on bad props.\n"
        ":returns: the queue.\n"
    )
    converted = fields_to_markdown(docstring)
    assert converted.startswith("Attribute text. *Default:* half the maximum event age.\n")
    assert "###### Raises\n\n- **ConstructPropsError**: on bad props." in converted
    assert "###### Returns\n\nthe queue." in converted
    assert ":default" not in converted


def test_public_modules_are_the_package_its_public_modules_and_the_kit() -> None:
    modules = public_modules()
    top_level = {f"constructs_lib.{p.stem}" for p in (REPO_ROOT / "constructs_lib").glob("[!_]*.py")}
    assert modules[0] == "constructs_lib"
    assert set(modules) == {"constructs_lib", "constructs_lib.testing", *top_level}
    assert {"constructs_lib.engines.destined_function", "constructs_lib.records"} <= set(modules)
    assert len(modules) == len(set(modules))


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_every_constructor_prop_has_a_docstring_field(construct: type[Construct]) -> None:
    """The reference shows what each prop does: each keyword prop has a ``:param name:`` (or ``:default name:``)."""
    docstring = inspect.getdoc(construct.__init__) or ""
    documented = set(re.findall(r":(?:param|default) (\w+):", docstring))
    assert [prop for prop in keyword_props(construct) if prop not in documented] == []


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    result = build(tmp_path_factory.mktemp("docs") / "api")
    return result.output_dir, result.warnings


def test_pdoc_builds_every_public_module_without_warnings(reference: tuple[Path, list[str]]) -> None:
    output_dir, warnings = reference
    assert warnings == []
    pages = {".".join(p.relative_to(output_dir).with_suffix("").parts) for p in output_dir.rglob("*.html")}
    assert pages == {*public_modules(), "index"}
    assert (output_dir / "search.js").is_file()
    assert not [p for p in output_dir.parent.iterdir() if p.name.startswith(".api-")], "staging folder left behind"


def test_pages_and_search_index_show_no_raw_fields(reference: tuple[Path, list[str]]) -> None:
    output_dir, _ = reference
    raw = [p.name for p in [*output_dir.rglob("*.html"), output_dir / "search.js"] if ":default" in p.read_text()]
    assert raw == []
    broken: list[str] = []
    for page in output_dir.rglob("*.html"):
        names = re.findall(r"<li><strong>([^<]*)</strong>:", page.read_text())
        broken += [f"{page.name}: {name}" for name in names if not name.isidentifier()]
    assert broken == [], "a parameter list item whose name is not an identifier: a field was misread"


def test_constructor_parameters_render_with_their_defaults(reference: tuple[Path, list[str]]) -> None:
    output_dir, _ = reference
    page = (output_dir / "constructs_lib" / "destined_function.html").read_text()
    assert (
        "<li><strong>on_failure</strong>: where failed invocations go. <em>Default:</em> a new encrypted SQS queue "
        "(with its own DLQ), so that no failed event is lost.</li>"
    ) in page
    assert '<h6 id="parameters">Parameters</h6>' in page
    testing = (output_dir / "constructs_lib" / "testing.html").read_text()
    assert 'id="LocalKit"' in testing


def test_build_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds no earlier API reference"):
        build(tmp_path, modules=["constructs_lib.records"])
    assert (tmp_path / "notes.txt").read_text() == "mine"
