"""The kit's JSONata evaluator on its own (the state machine semantics are in tests/conformance/test_jsonata.py)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from constructs_lib.testing._engine.jsonata_eval import (
    UNDEFINED,
    QueryEvaluationError,
    evaluate,
    is_json,
    rewrite_definition,
)


def test_bindings_are_values_not_text() -> None:
    tricky = 'a "quoted" value; $x := 1'
    assert evaluate("$v & '!'", {"v": tricky}) == tricky + "!"
    assert evaluate("$states.input.n * 2", {"states": {"input": {"n": 21}}}) == 42


def test_null_undefined_and_numbers() -> None:
    assert evaluate("null", {}) is None
    assert evaluate("$states.input.missing", {"states": {"input": {}}}) is UNDEFINED
    assert evaluate("4 / 2", {}) == 2
    assert isinstance(evaluate("$sum([1.5, 0.5])", {}), int)  # 2.0 is written 2, as JavaScript does
    assert evaluate("[1, [2, 3]]", {}) == [1, [2, 3]]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("$partition([1, 2], 0)", "positive integer"),
        ("$partition('ab', 1)", "expects an array"),
        ("$range(0, 5, 0)", "step other than 0"),
        ("$range(0, 'x', 1)", "expects integers"),
        ("$hash('a', 'SHA-3')", "MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
        ("$hash(1, 'MD5')", "a string to hash"),
        ("$random('seed')", "a number as its seed"),
        ("$parse('{')", "could not parse"),
        ("$eval('1')", "use \\$parse"),
        ("1 +", "end of expression"),
        ("'a' + 1", "must evaluate to a number"),
    ],
)
def test_errors_are_query_evaluation_errors(expression: str, says: str) -> None:
    with pytest.raises(QueryEvaluationError, match=says):
        evaluate(expression, {})


def test_functions_are_not_json() -> None:
    assert not is_json(evaluate("$uppercase", {}))
    assert is_json({"a": [1, None, True, "x", 1.5]})
    assert not is_json(float("inf"))


def test_one_expression_from_many_threads() -> None:
    """moto runs Map iterations in threads: one parsed expression evaluated concurrently keeps each thread's input."""
    results: dict[int, Any] = {}

    def run(n: int) -> None:
        results[n] = [evaluate("$map($range(1, 50, 1), function($v) { $v * $n })", {"n": n})[-1] for _ in range(20)]

    threads = [threading.Thread(target=run, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: [50 * n] * 20 for n in range(1, 9)}


def test_a_jsonata_item_selector_string_becomes_an_object_moto_parses() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemSelector": "{% $states.context.Map.Item.Value %}",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    rewritten = json.loads(rewrite_definition(json.dumps(definition)))
    (selector,) = rewritten["States"]["M"]["ItemSelector"].values()
    assert selector == "{% $states.context.Map.Item.Value %}"
    untouched = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert rewrite_definition(untouched) is untouched
