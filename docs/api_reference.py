"""Build the API reference of ``constructs_lib`` (HTML, from the docstrings) with pdoc.

Usage: ``python docs/api_reference.py [OUTPUT_DIR]`` (``make docs``; the default output is ``docs/api/``, which is
gitignored). Exit status 1 when pdoc (or an import it does) warns: a warning means a page is wrong or missing.

Documented: ``constructs_lib`` (the whole public API, ``__all__``), each ``constructs_lib.<module>`` whose name does
not start with ``_`` (names that are not re-exported, e.g. ``slack_notifier.FAILED_STATUSES``), and
``constructs_lib.testing`` (the local test kit's ``__all__``). pdoc on its own would stop at the package, whose
``__all__`` lists classes, not modules.

Docstrings use the reST-ish field style of aws-cdk-lib's Python bindings::

    :param on_failure: where failed invocations go. :default: - a new encrypted SQS queue

pdoc's own reST conversion reads everything up to the *last* colon of such a line as the parameter's name (so the
name shown would be ``on_failure: where failed invocations go. :default``). ``fields_to_markdown`` converts the
field lists first, with the name ending at its colon and ``:default:`` shown as *Default:*; pdoc then converts what is
left (references, admonitions, links) as reStructuredText. The build wraps pdoc's ``to_markdown`` (the one function
through which both the pages and the search index convert docstrings) for its duration: pdoc is pinned (16.0.0), and
``tests/test_api_reference.py`` fails if a page or the search index still shows a raw ``:default``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "constructs_lib"
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "api"
DOCFORMAT: Literal["restructuredtext"] = "restructuredtext"

# A field marker: ":param name:", ":raises Name:", ":return:", ":returns:", ":default:" or ":default name:".
_FIELD = re.compile(r"(?<!\S):(?P<kind>param|raises|returns?|default)(?:[ \t]+(?P<name>[^\s:]+))?:(?=\s|$)")
_FIELD_KINDS_OPENING_A_LIST = ("param", "raises", "return", "returns")


def public_modules(root: Path = REPO_ROOT) -> list[str]:
    """The modules the reference documents, by name: the package, each of its modules whose name does not start
    with ``_``, and each of its sub-packages (``constructs_lib.testing``), whose public API is what its ``__init__``
    exports (``__all__``): the kit's own modules are its implementation."""
    package_dir = root / PACKAGE
    modules = sorted(p.stem for p in package_dir.glob("*.py") if not p.name.startswith("_"))
    packages = sorted(
        p.parent.name for p in package_dir.glob("*/__init__.py") if not p.parent.name.startswith(("_", "."))
    )
    return [PACKAGE, *(f"{PACKAGE}.{name}" for name in sorted([*modules, *packages]))]


@dataclass
class _Field:
    kind: str
    name: str | None
    body: str
    default: str | None = None
    extra_defaults: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _default(text: str) -> str:
    """``- a new queue`` -> ``a new queue``: in aws-cdk-lib's docstrings a leading dash marks a described default."""
    text = _clean(text)
    return text[2:] if text.startswith("- ") else text


def _inline_defaults(text: str) -> str:
    """``:default: x`` anywhere outside a field list (attribute docstrings) -> ``*Default:* x``."""
    return re.sub(r"(?<!\S):default:(?:[ \t]+-(?=[ \t]))?[ \t]*", "*Default:* ", text)


def _split_default(body: str) -> tuple[str, str | None]:
    match = re.search(r"(?<!\S):default:(?=\s|$)", body)
    if match is None:
        return _clean(body), None
    return _clean(body[: match.start()]), _default(body[match.end() :])


def _parse_fields(block: str) -> list[_Field]:
    fields: list[_Field] = []
    markers = [m for m in _FIELD.finditer(block) if m["kind"] != "default" or m["name"]]
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(block)
        body = block[marker.end() : end]
        kind = "return" if marker["kind"] == "returns" else marker["kind"]
        if kind == "default":
            target = next((f for f in fields if f.kind == "param" and f.name == marker["name"]), None)
            if target is None:
                fields.append(_Field("param", marker["name"], "", _default(body)))
            elif target.default is None:
                target.default = _default(body)
            else:
                target.extra_defaults.append(_default(body))
            continue
        text, default = _split_default(body)
        fields.append(_Field(kind, marker["name"], text, default))
    return fields


def _render_fields(fields: list[_Field]) -> str:
    out: list[str] = []
    for kind, title in (("param", "Parameters"), ("raises", "Raises"), ("return", "Returns")):
        chosen = [f for f in fields if f.kind == kind]
        if not chosen:
            continue
        out.append(f"\n###### {title}\n")
        for item in chosen:
            parts = [item.body] if item.body else []
            parts += [f"*Default:* {d}" for d in (item.default, *item.extra_defaults) if d]
            text = " ".join(parts)
            out.append(f"- **{item.name}**: {text}" if item.name else f"{text}")
    return "\n".join(out) + "\n"


def _opens_field_list(line: str) -> bool:
    match = _FIELD.match(line)
    return match is not None and (match["kind"] in _FIELD_KINDS_OPENING_A_LIST or match["name"] is not None)


def _unfinished(line: str) -> bool:
    """A line that stops mid-sentence: the unindented line after it still belongs to the same field."""
    return bool(line.strip()) and not line.rstrip().endswith((".", ":", "!", "?", ")", "`"))


def fields_to_markdown(docstring: str) -> str:
    """Turn the reST field lists of a docstring into Markdown lists; ``:default:`` becomes *Default:*.

    A field list starts at a line that begins with ``:param name:``, ``:raises Name:``, ``:return:`` or
    ``:default name:``, and goes on over indented lines, blank lines followed by more of it, lines that start
    another field, and an unindented line after one that stops mid-sentence; several fields on one line are split.
    Text after the list (an unindented sentence after a finished one) stays where it is.
    """
    lines = docstring.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        if not _opens_field_list(lines[index]):
            out.append(_inline_defaults(lines[index]))
            index += 1
            continue
        block = [lines[index]]
        index += 1
        while index < len(lines):
            line = lines[index]
            if line.strip() == "":
                following = next((x for x in lines[index + 1 :] if x.strip()), None)
                if following is None or not (following[:1].isspace() or _opens_field_list(following)):
                    break
            elif not (line[:1].isspace() or _opens_field_list(line) or _unfinished(block[-1])):
                break
            block.append(line)
            index += 1
        out.append(_render_fields(_parse_fields("\n".join(block))))
    return "\n".join(out)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and what it warned about."""

    output_dir: Path
    modules: list[str]
    warnings: list[str]


def build(output_dir: Path, modules: Sequence[str] | None = None) -> BuildResult:
    """Render the HTML reference of ``modules`` (default: every public module) into ``output_dir``.

    ``output_dir`` is replaced as a whole (stale pages go), but only if it is empty or holds an earlier build
    (an ``index.html`` and a ``search.js``): any other folder is refused. Warnings are collected, not printed.
    """
    import pdoc
    import pdoc.doc
    import pdoc.render
    import pdoc.render_helpers
    import pdoc.search

    output_dir = output_dir.resolve()
    earlier_build = (output_dir / "index.html").is_file() and (output_dir / "search.js").is_file()
    if output_dir.exists() and any(output_dir.iterdir()) and not earlier_build:
        raise ValueError(f"{output_dir} is not empty and holds no earlier API reference: not replacing it")
    names = list(modules) if modules is not None else public_modules()

    original = pdoc.render_helpers.to_markdown

    def to_markdown(docstring: str, module: pdoc.doc.Module, default_docformat: str) -> str:
        return original(fields_to_markdown(docstring), module, default_docformat)

    pdoc.render.configure(docformat=DOCFORMAT, show_source=False, footer_text=f"{PACKAGE} API reference")
    # The page templates (through render_helpers) and the search index (search) both convert docstrings here.
    pdoc.render_helpers.to_markdown = to_markdown
    pdoc.search.to_markdown = to_markdown  # type: ignore[attr-defined]  # search.py's own import of the function
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pdoc.pdoc(*names, output_directory=staging)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staging.replace(output_dir)
    finally:
        pdoc.render_helpers.to_markdown = original
        pdoc.search.to_markdown = original  # type: ignore[attr-defined]
        if staging.exists():
            shutil.rmtree(staging)
    found = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    return BuildResult(output_dir=output_dir, modules=names, warnings=found)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("output_dir", nargs="?", type=Path, default=DEFAULT_OUTPUT, help="default: docs/api")
    args = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    result = build(args.output_dir)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    pages = sum(1 for _ in result.output_dir.rglob("*.html"))
    print(f"wrote {pages} pages for {len(result.modules)} modules to {result.output_dir}")
    return 1 if result.warnings else 0


if __name__ == "__main__":
    raise SystemExit(main())
