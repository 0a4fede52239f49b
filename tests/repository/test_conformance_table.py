"""The conformance page (docs/conformance.md) is what the conformance suite's docstrings generate, and the generator
refuses a conformance test whose docstring lacks the suite's form."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.conformance_table import (
    COMMAND,
    PAGE,
    ConformanceDocstringError,
    collect,
    main,
    parse_docstring,
    render,
)

GOOD = """Async invoke: Lambda retries an asynchronous invocation twice by default.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    Kit: two retries, one and then two minutes apart,
        in virtual time.
    Divergence: none
"""


def test_the_page_is_current() -> None:
    expected = render(collect())
    current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
    assert current == expected, f"docs/conformance.md is stale: run `{COMMAND}` (python -m tools.conformance_table)"


def test_every_area_file_has_tests_and_each_row_names_its_test() -> None:
    rows = collect()
    files = {row.test.split("::", 1)[0] for row in rows}
    suite = sorted(path.name for path in (PAGE.parent.parent / "tests" / "conformance").glob("test_*.py"))
    assert sorted(Path(name).name for name in files) == suite
    assert len({row.test for row in rows}) == len(rows)


def test_a_docstring_is_parsed_into_its_row_with_continuation_lines() -> None:
    row = parse_docstring(GOOD, "tests/conformance/test_x.py::test_y")

    assert row.area == "Async invoke"
    assert row.semantic == "Lambda retries an asynchronous invocation twice by default."
    assert row.kit == "two retries, one and then two minutes apart, in virtual time."
    assert not row.diverges
    assert "[invocation-async-error-handling](https://docs.aws.amazon.com/" in render([row])


@pytest.mark.parametrize(
    ("docstring", "complaint"),
    [
        ("retries twice.\n\nAWS: https://docs.aws.amazon.com/x\nKit: k\nDivergence: none", "must start with"),
        (GOOD.replace("    Divergence: none\n", ""), "missing Divergence:"),
        (GOOD.replace("https://docs.aws.amazon.com/lambda", "https://example.com/lambda"), "'AWS:' must be one URL"),
        (GOOD + "    Kit: again\n", "'Kit:' is given twice"),
        (GOOD.replace("    AWS:", "    Note: stray\n    AWS:"), "unexpected text"),
    ],
)
def test_a_docstring_without_the_form_is_refused_with_the_reason(docstring: str, complaint: str) -> None:
    with pytest.raises(ConformanceDocstringError, match=complaint):
        parse_docstring(docstring, "tests/conformance/test_x.py::test_y")


def test_the_command_checks_and_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "conformance.md"
    assert main(["--check", "--out", str(out)]) == 1
    assert main(["--out", str(out)]) == 0
    assert main(["--check", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render(collect())
