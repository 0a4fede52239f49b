"""The documentation site documents the code as it is.

- A page per public construct whose first example makes one, whose props table is the constructor's keyword props
  (names, types, defaults), with "Default settings" and "What it rejects".
- Every code example is a file under docs/examples/ that a page pulls in, and it runs: each example stack is
  synthesized with cdk-nag's AwsSolutions checks on (as tests/conftest.py's new_app does: an unacknowledged finding
  fails), each ``test_*`` function of an example is called, and the handler examples are called with sample events.
- The README is the front door (at most 15 KB) and shows the Quick start file; the API reference names every public
  name by its top-level name; ``mkdocs build --strict`` passes (links, anchors, nav, snippets).
"""

from __future__ import annotations

import ast
import enum
import inspect
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from constructs import Construct

import constructs_lib
import constructs_lib.testing
from constructs_lib._internal.assets import LIBRARY_RUNTIME
from tests.conftest import load_event, new_app
from tests.repository.docs_pages import (
    DOCS,
    EXAMPLES,
    QUICK_START_FILE,
    QUICK_START_TITLE,
    README,
    REPO_ROOT,
    SNIPPET,
    Document,
    Heading,
    Section,
    example_files,
    pages,
    quick_start_code,
    readme,
)

PROPS_HEADER = ("Prop", "Type", "Default", "What it does")
README_MAX_BYTES = 15_000
# The README, in the order a new user reads it: what the library is, then these level-2 sections.
README_SECTIONS = [
    "Two commands",
    QUICK_START_TITLE,
    "Choosing an engine: Lambda Destinations, Step Functions or durable functions",
    "Documentation",
]
# Example stacks and apps import the CDK, cdk-nag and the library's public names (and the standard library); never a
# module behind the public names, which may move.
EXAMPLE_PACKAGES = {"aws_cdk", "cdk_nag", "constructs"}
PUBLIC_MODULES = {"constructs_lib", "constructs_lib.testing"}
# Handler code runs in Lambda: the runtime's boto3, the library's layers, and the package itself (its records are
# standard library only), never aws_cdk.
HANDLER_PACKAGES = {"boto3", "botocore", "s3_batch_contract", "slack_reporter"}
LAYERS = [LIBRARY_RUNTIME[layer] / "python" for layer in ("s3_batch_contract", "slack_reporter")]


def public_constructs() -> list[type[Construct]]:
    """Every Construct subclass that ``constructs_lib`` exports."""
    classes = [getattr(constructs_lib, name) for name in constructs_lib.__all__]
    return [c for c in classes if inspect.isclass(c) and issubclass(c, Construct)]


def keyword_props(construct: type[Construct]) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(construct.__init__).parameters.values()
    return {p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def documented_type(annotation: Any) -> str:
    """The annotation as the docs write it: the source text, without ``| None`` (the default says what then)."""
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return re.sub(r"\s*\|\s*None$", "", " ".join(text.split()))


def literal_default_words(default: Any) -> list[str]:
    """What the Default cell must contain for a literal default; [] when the docs describe it in words."""
    if isinstance(default, enum.Enum):
        return [default.name]
    if isinstance(default, bool | int | float | str):
        return [str(default)]
    if isinstance(default, tuple | list):
        return [word for item in default for word in literal_default_words(item)]
    return []


def construct_page(name: str) -> Document:
    """The one page whose title (its level-1 heading) is the construct's name."""
    found = [page for page in pages() if page.headings and page.headings[0] == Heading(1, name, 1)]
    assert len(found) == 1, f"docs/: {len(found)} pages titled '# {name}', expected exactly one"
    return found[0]


def page_section(page: Document) -> Section:
    return page.sections[0]


def props_rows(page: Document) -> dict[str, tuple[str, ...]]:
    props = page_section(page).subsection("Props")
    assert props is not None, f"{page.name}: no '## Props' heading"
    tables = [t for t in props.tables() if t.header == PROPS_HEADER]
    assert len(tables) == 1, f"{page.name}: Props needs one table with the header {' | '.join(PROPS_HEADER)}"
    rows: dict[str, tuple[str, ...]] = {}
    for row in tables[0].rows:
        assert len(row) == len(PROPS_HEADER), f"{page.name}: props row {row} has {len(row)} cells"
        match = re.fullmatch(r"`([a-z_][a-z0-9_]*)`", row[0])
        assert match, f"{page.name}: props row names {row[0]!r}: one `prop` per row"
        assert match[1] not in rows, f"{page.name}: lists {match[1]} twice"
        rows[match[1]] = row
    return rows


# ------------------------------------------------------------------------------------------------ construct pages


def test_there_are_constructs_to_document() -> None:
    names = {c.__name__ for c in public_constructs()}
    assert {"DestinedFunction", "FunctionWorkflow", "ExecutionStatusNotifications", "SlackNotifier"} <= names


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_every_public_construct_has_a_page_with_an_example_first_then_props_defaults_and_rejections(
    construct: type[Construct],
) -> None:
    page = construct_page(construct.__name__)
    python = [block for block in page.code_blocks if block.language == "python"]
    assert python, f"{page.name} has no python example"
    assert python[0].snippets, f"{page.name}: the first example is not a file under docs/examples/"
    assert f"{construct.__name__}(" in python[0].resolved, f"{page.name}: the first example makes no {construct}"
    titles = [h.title for h in page.headings if h.level == 2]
    assert titles[:3] == ["Props", "Default settings", "What it rejects"], f"{page.name}: sections {titles}"
    section = page_section(page)
    defaults = section.subsection("Default settings")
    assert defaults is not None
    assert re.search(r"^\s*- ", defaults.text, re.MULTILINE), f"{page.name}: Default settings: list them"
    rejects = section.subsection("What it rejects")
    assert rejects is not None
    assert len(rejects.text.split()) > 20, f"{page.name}: What it rejects says next to nothing"


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_props_table_lists_exactly_the_keyword_props_with_their_types_and_defaults(
    construct: type[Construct],
) -> None:
    name = construct.__name__
    page = construct_page(name)
    rows = props_rows(page)
    props = keyword_props(construct)
    assert sorted(rows) == sorted(props), f"{page.name}: {name} props table != the constructor's keyword props"
    for prop, parameter in props.items():
        _, type_cell, default_cell, meaning = rows[prop]
        assert type_cell == f"`{documented_type(parameter.annotation)}`", f"{page.name}: {name}.{prop} type"
        assert meaning, f"{page.name}: {name}.{prop} says nothing of what it does"
        if parameter.default is inspect.Parameter.empty:
            assert default_cell == "required", f"{page.name}: {name}.{prop} has no default: write 'required'"
            continue
        assert default_cell, f"{page.name}: {name}.{prop} says nothing of its default"
        assert "required" not in default_cell, f"{page.name}: {name}.{prop} is optional"
        for word in literal_default_words(parameter.default):
            assert word in default_cell, f"{page.name}: {name}.{prop} defaults to {parameter.default!r}"


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_every_constructor_prop_has_a_docstring_field(construct: type[Construct]) -> None:
    """The API reference shows what each prop does: each keyword prop has a ``:param name:`` or ``:default name:``."""
    docstring = inspect.getdoc(construct.__init__) or ""
    documented = set(re.findall(r":(?:param|default) (\w+):", docstring))
    assert [prop for prop in keyword_props(construct) if prop not in documented] == []


# ------------------------------------------------------------------------------------------------ code on the pages


def test_every_code_block_is_an_example_file_or_not_python() -> None:
    for page in pages():
        for block in page.code_blocks:
            where = f"{page.name} line {block.line}"
            assert block.code.strip(), f"{where}: an empty code block (a fence out of place?)"
            # A fence without a language is a diagram or output; a typo in a language would hide Python from this test.
            assert block.language in {"", "python", "bash", "json", "text"}, f"{where}: language {block.language!r}"
            if block.language == "python":
                assert block.snippets, f"{where}: Python on a page is a file under docs/examples/, pulled in"
            for path in block.snippets:
                assert (REPO_ROOT / path).is_file(), f"{where}: {path} does not exist"
                assert (REPO_ROOT / path).is_relative_to(EXAMPLES), f"{where}: {path} is not under docs/examples/"


def test_every_example_file_is_shown_on_a_page() -> None:
    shown = {path for page in pages() for block in page.code_blocks for path in block.snippets}
    files = {path.relative_to(REPO_ROOT).as_posix() for path in example_files()}
    unshown = files - shown - {p.relative_to(REPO_ROOT).as_posix() for p in (EXAMPLES / "layers").rglob("*.py")}
    assert sorted(unshown) == [], "examples no page shows"
    assert QUICK_START_FILE.relative_to(REPO_ROOT).as_posix() in shown


def test_snippet_sections_of_the_readme_are_marked_once() -> None:
    text = README.read_text(encoding="utf-8")
    included = [
        match["section"]
        for page in pages()
        for line in page.lines
        if (match := SNIPPET.match(line)) and match["path"] == "README.md"
    ]
    assert included, "the pages include no README section"
    for section in included:
        assert text.count(f"<!-- --8<-- [start:{section}] -->") == 1, section
        assert text.count(f"<!-- --8<-- [end:{section}] -->") == 1, section


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_examples_import_only_the_public_api(path: Path) -> None:
    handler = path.parent != EXAMPLES
    packages = HANDLER_PACKAGES if handler else EXAMPLE_PACKAGES
    modules = {"constructs_lib"} if handler else PUBLIC_MODULES
    for name in _imports(path):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or top in packages or name in modules, f"{path.name} imports {name}"


# ------------------------------------------------------------------------------------------------ examples run


def stack_examples() -> list[Path]:
    return [path for path in sorted(EXAMPLES.glob("*.py")) if path != QUICK_START_FILE]


def _run_example(path: Path) -> dict[str, Any]:
    return runpy.run_path(str(path), run_name=f"docs_example_{path.stem}")


def _validation_report(outdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((outdir / "validation-report.json").read_text())
    return report


@pytest.fixture
def layer_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PythonDependencyLayer's build cache in the test's folder, not in the home directory."""
    cache = tmp_path / "layer-cache"
    monkeypatch.setenv("CONSTRUCTS_LIB_LAYER_CACHE", str(cache))
    return cache


@pytest.mark.parametrize("path", stack_examples(), ids=lambda p: p.stem)
def test_example_stacks_synthesize_under_cdk_nag(path: Path, tmp_path: Path, layer_cache: Path) -> None:
    module = _run_example(path)
    run_name = f"docs_example_{path.stem}"
    stacks = [
        value
        for value in module.values()
        if inspect.isclass(value) and issubclass(value, cdk.Stack) and value.__module__ == run_name
    ]
    assert stacks, f"{path.name} defines no Stack subclass"
    app = new_app(tmp_path / "cdk.out")
    made = [stack(app, stack.__name__) for stack in stacks]
    app.synth()  # raises on an unacknowledged cdk-nag finding
    (plugin,) = _validation_report(tmp_path / "cdk.out")["pluginReports"]
    assert (plugin["pluginName"], plugin["conclusion"], plugin["violations"]) == ("AwsSolutions", "success", [])
    # The constructs an example shows are in the stacks it made.
    used = {type(node).__name__ for stack in made for node in stack.node.find_all()}
    shown = {name for name in constructs_lib.__all__ if re.search(rf"\b{name}\(", path.read_text())}
    constructs = {c.__name__ for c in public_constructs()}
    assert shown & constructs <= used, f"{path.name}: shows {shown & constructs}, made {used & constructs}"
    for name, test in module.items():
        if name.startswith("test_") and callable(test):
            test()


def test_quick_start_runs_under_cdk_nag_and_is_the_one_the_readme_shows() -> None:
    from tests.repository import test_installed_wheel

    code = quick_start_code()
    assert _imports(QUICK_START_FILE) <= {"aws_cdk", "cdk_nag", "constructs_lib"}
    assert code.rstrip().endswith("app.synth()")
    assert code == test_installed_wheel.QUICK_START_APP
    (shown,) = readme().section(QUICK_START_TITLE).code_blocks("python")
    assert shown.code == code, "README.md's Quick start differs from docs/examples/quick_start.py"
    install = readme().section(QUICK_START_TITLE).code_blocks("bash")
    assert any(f"constructs_lib-{constructs_lib.__version__}-py3-none-any.whl" in b.code for b in install)

    module = runpy.run_path(str(QUICK_START_FILE), run_name="__main__")  # the app synthesizes itself
    app = module["app"]
    assert isinstance(app, cdk.App)
    outdir = Path(app.outdir)
    try:
        (plugin,) = _validation_report(outdir)["pluginReports"]
        assert (plugin["pluginName"], plugin["conclusion"], plugin["violations"]) == ("AwsSolutions", "success", [])
        assert [v["ruleName"] for v in plugin["suppressedViolations"]] == ["AwsSolutions-IAM5[Resource::*]"]
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


@pytest.fixture
def layers_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The library's layers importable as in Lambda (/opt/python), and the handler modules forgotten afterwards."""
    before = set(sys.modules)
    for layer in LAYERS:
        monkeypatch.syspath_prepend(str(layer))
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in {"s3_batch_contract", "slack_reporter"}:
            del sys.modules[name]


def _handler(relative: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(**_run_example(EXAMPLES / relative))


def test_records_consumer_reads_a_failure_and_a_success(capsys: pytest.CaptureFixture[str]) -> None:
    consumer = _handler("handlers/records/consumer.py")
    failure = load_event("destination_failure_record.json")
    assert consumer.handler(failure, None) == "failed"
    assert failure["responsePayload"]["errorType"] in capsys.readouterr().out
    assert consumer.handler(load_event("destination_success_record.json"), None) == "ok"
    assert consumer.handler(load_event("eventbridge_success_event.json"), None) == "ok"


def test_slack_orders_handler_reports_a_declined_card_and_goes_on(
    layers_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("SLACK_WEBHOOK_SECRET_ARN", "SLACK_WEBHOOK_PARAMETER"):
        monkeypatch.delenv(variable, raising=False)
    orders = _handler("handlers/slack_orders/orders.py")
    assert orders.handler({"amount": 5}, None) == {"status": "CHARGED"}
    assert orders.handler({"amount": 5000}, None) == {"status": "DECLINED"}  # reported (nowhere here), not raised
    with pytest.raises(TypeError):
        orders.handler({"amount": "lots"}, None)  # uncaught: reported, then re-raised unchanged


def test_object_size_runs_through_the_s3_batch_contract(layers_on_path: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    with mock_aws():
        import boto3
        import s3_batch_contract

        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="example-photos")
        s3.put_object(Bucket="example-photos", Key="2026/a b.jpg", Body=b"12345")
        s3.put_object(Bucket="example-photos", Key="2026/empty.jpg", Body=b"")
        object_size = _handler("handlers/object_size/object_size.py")
        event = {
            "invocationSchemaVersion": "2.0",
            "invocationId": "inv-1",
            "job": {"id": "job-1", "userArguments": {}},
            "tasks": [
                {"taskId": "t1", "s3Bucket": "example-photos", "s3Key": "2026/a%20b.jpg", "s3VersionId": None},
                {"taskId": "t2", "s3Bucket": "example-photos", "s3Key": "2026/empty.jpg", "s3VersionId": None},
                {"taskId": "t3", "s3Bucket": "example-photos", "s3Key": "2026/gone.jpg", "s3VersionId": None},
            ],
        }
        answer = s3_batch_contract.handle(event, None, object_size.process)
    results = {r["taskId"]: (r["resultCode"], r["resultString"]) for r in answer["results"]}
    assert results["t1"] == ("Succeeded", json.dumps({"key": "2026/a b.jpg", "size": 5}, separators=(",", ":")))
    assert results["t2"] == ("PermanentFailure", "empty object")
    assert results["t3"][0] == "PermanentFailure"


# ------------------------------------------------------------------------------------------------ the README


def test_readme_is_the_front_door() -> None:
    size = README.stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes: move content to docs/ (at most {README_MAX_BYTES})"
    document = readme()
    title = document.headings[0]
    assert (title.level, title.line) == (1, 1)
    level_two = [h.title for h in document.headings if h.level == 2]
    assert level_two[: len(README_SECTIONS)] == README_SECTIONS
    intro = "\n".join(document.lines[1 : document.section(README_SECTIONS[0]).start])
    assert re.search(r"^- ", intro, re.MULTILINE), "the introduction lists what is in the library"


def test_readme_links_lead_to_pages_and_files() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert [link for link in links if not link.startswith("http") and not (REPO_ROOT / link).exists()] == []
    linked_pages = {link for link in links if link.startswith("docs/") and link.endswith(".md")}
    for page in ("routes", "getting-started", "choosing-an-engine", "security", "performance", "development"):
        assert f"docs/{page}.md" in linked_pages, f"README.md does not link docs/{page}.md"


def test_engine_choice_table_compares_the_three_engines() -> None:
    section = readme().section(README_SECTIONS[2])
    tables = section.tables()
    assert len(tables) == 1
    header = tables[0].header
    assert "DestinedFunction" in header[1], header
    assert "FunctionWorkflow" in header[2], header
    assert "DurableFunction" in header[3], header
    assert {row[0] for row in tables[0].rows} >= {
        "Invocation",
        "Retry",
        "Parallel branches, map",
        "Choice on the output",
    }


def test_docs_name_the_package_version_wherever_they_name_one() -> None:
    for document in [readme(), *pages()]:
        text = "\n".join(document.lines)
        versions = set(re.findall(r"constructs_lib-(\d+\.\d+\.\d+)-py3", text)) | set(
            re.findall(r"^Version (\d+\.\d+\.\d+)", text, re.MULTILINE)
        )
        assert versions <= {constructs_lib.__version__}, document.name


# ------------------------------------------------------------------------------------------------ API reference


def _referenced() -> list[str]:
    return [
        line.removeprefix(":::").strip()
        for page in pages()
        if page.path.is_relative_to(DOCS / "api")
        for line in page.lines
        if line.startswith(":::")
    ]


def test_api_reference_names_every_public_name_by_its_top_level_name() -> None:
    referenced = _referenced()
    assert len(referenced) == len(set(referenced)), "a name documented twice"
    public = {f"constructs_lib.{name}" for name in constructs_lib.__all__} | {
        f"constructs_lib.testing.{name}" for name in constructs_lib.testing.__all__
    }
    assert set(referenced) == public


# ------------------------------------------------------------------------------------------------ the build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mkdocs build --strict`` into a temporary folder: a broken link or anchor, a page missing from the nav, a
    missing snippet or a warning of mkdocstrings fails it."""
    site_dir = tmp_path_factory.mktemp("site")
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return site_dir


def test_site_builds_strict_with_a_page_per_construct(site: Path) -> None:
    for construct in public_constructs():
        page = construct_page(construct.__name__)
        html = site / page.path.relative_to(DOCS).with_suffix("") / "index.html"
        assert html.is_file(), html
    assert (site / "search" / "search_index.json").is_file()


def test_examples_appear_on_the_built_pages(site: Path) -> None:
    html = (site / "getting-started" / "index.html").read_text()
    assert "--8&lt;--" not in html
    assert "QuickStart" in html


def test_api_pages_show_every_name_and_no_raw_docstring_field(site: Path) -> None:
    text = (site / "api" / "index.html").read_text() + (site / "api" / "testing" / "index.html").read_text()
    for name in _referenced():
        assert f'id="{name}"' in text, f"the API reference has no entry for {name}"
    assert ":default" not in text


REPO_PATH = re.compile(
    r"`((?:app\.py|cdk\.json|constructs_lib|stacks|lambda_src|tests|benchmarks|tools|docs)(?:/[\w.*-]+)*/?)`"
)


def test_paths_the_pages_name_exist() -> None:
    """A path in backticks on a page or in the README is a file or folder of this repository (globs allowed)."""
    pages = [*sorted((REPO_ROOT / "docs").rglob("*.md")), REPO_ROOT / "README.md"]
    missing = []
    for page in pages:
        for match in REPO_PATH.finditer(page.read_text()):
            path = match.group(1).rstrip("/")
            if not list(REPO_ROOT.glob(path)):
                missing.append(f"{page.relative_to(REPO_ROOT)}: {path}")
    assert missing == []
