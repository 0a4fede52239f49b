"""The workflow steps are documented as the constructs are: the FunctionWorkflow page has, under "Steps", one
section per public step class (and RetryRule) whose props table is the class's constructor fields, with their types
and defaults; the data model page exists and pulls in an example that runs."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import pytest

import constructs_lib
from constructs_lib import RetryRule, Step
from tests.repository.docs_pages import DOCS, document
from tests.repository.test_docs import PROPS_HEADER, construct_page, documented_type, literal_default_words


def step_classes() -> list[type[Any]]:
    """Every public Step subclass (not Step itself), and RetryRule."""
    classes = [getattr(constructs_lib, name) for name in constructs_lib.__all__]
    steps = [c for c in classes if inspect.isclass(c) and issubclass(c, Step) and c is not Step]
    return [*sorted(steps, key=lambda c: c.__name__), RetryRule]


def test_there_are_steps_to_document() -> None:
    names = {c.__name__ for c in step_classes()}
    assert {"Invoke", "Choice", "Parallel", "ForEach", "Pass", "Wait", "Succeed", "Fail", "ServiceTask"} <= names


@pytest.mark.parametrize("step", step_classes(), ids=lambda c: c.__name__)
def test_every_step_has_a_props_table_of_its_constructor_fields(step: type[Any]) -> None:
    page = construct_page("FunctionWorkflow")
    steps = page.sections[0].subsection("Steps")
    assert steps is not None, f"{page.name}: no '## Steps' heading"
    section = steps.subsection(step.__name__)
    assert section is not None, f"{page.name}: no '### {step.__name__}' under Steps"
    (table,) = [t for t in section.tables() if t.header == PROPS_HEADER]
    rows = {re.fullmatch(r"`(\w+)`", row[0])[1]: row for row in table.rows}  # type: ignore[index]
    fields = {f.name: f for f in dataclasses.fields(step) if f.init}
    assert list(rows) == list(fields), f"{step.__name__}: the table's props != the constructor's, in order"
    for name, field in fields.items():
        _, type_cell, default_cell, meaning = rows[name]
        assert type_cell == f"`{documented_type(field.type)}`", f"{step.__name__}.{name} type"
        assert meaning, f"{step.__name__}.{name} says nothing of what it does"
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            assert default_cell == "required", f"{step.__name__}.{name} has no default: write 'required'"
            continue
        assert default_cell, f"{step.__name__}.{name} says nothing of its default"
        assert "required" not in default_cell, f"{step.__name__}.{name} is optional"
        for word in literal_default_words(field.default):
            assert word in default_cell, f"{step.__name__}.{name} defaults to {field.default!r}"


def test_the_data_model_page_shows_the_state_flow_and_an_executed_example() -> None:
    page = document(DOCS / "workflow-data-model.md")
    assert "replaces the whole state" in "\n".join(page.lines)
    assert any(block.language == "text" for block in page.code_blocks), "the picture of the state flow"
    assert any("docs/examples/workflow_data_model.py" in block.snippets for block in page.code_blocks)
