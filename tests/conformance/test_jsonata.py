"""JSONata and workflow variables in the local kit, held to the Step Functions documentation.

Each test runs one small state machine (all of them stand in one stack, started once) and checks one documented
semantic. The definitions are written in Amazon States Language, so that the test says exactly what AWS runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from constructs_lib.testing import LocalKit
from tests.conftest import plain_app_at

pytestmark = pytest.mark.execution

INLINE_MAP = {
    "ProcessorConfig": {"Mode": "INLINE"},
    "StartAt": "Item",
    "States": {"Item": {"Type": "Pass", "End": True}},
}


def jsonata(states: dict[str, Any], start: str | None = None) -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": start or next(iter(states)), "States": states}


def jsonpath(states: dict[str, Any], start: str | None = None) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states}


def output(expression: str) -> dict[str, Any]:
    """A one-state JSONata machine whose output is ``expression``'s value."""
    return jsonata({"Eval": {"Type": "Pass", "Output": "{% " + expression + " %}", "End": True}})


MACHINES: dict[str, dict[str, Any]] = {
    "Output": jsonata(
        {"Shape": {"Type": "Pass", "Output": {"total": "{% $states.input.price * $states.input.qty %}"}, "End": True}}
    ),
    "QuotedVariable": jsonata(
        {
            "Keep": {"Type": "Pass", "Assign": {"note": "{% $states.input.note %}"}, "Next": "Use"},
            "Use": {"Type": "Pass", "Output": {"note": "{% $note %}", "again": "{% $note & '!' %}"}, "End": True},
        }
    ),
    "Partition": output("$partition($states.input.items, 2)"),
    "Range": output("{'up': $range(0, 10, 2), 'down': $range(5, 1, -2)}"),
    "Hash": output("[$hash($states.input.text, 'SHA-256'), $hash($states.input.text, 'MD5')]"),
    "Random": output("[$random(), $random($states.input.seed), $random($states.input.seed)]"),
    "Uuid": output("[$uuid(), $uuid()]"),
    "Parse": output("$parse($states.input.body)"),
    "Eval": output("$eval($states.input.body)"),
    "TypeError": jsonata(
        {
            "Try": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "FUNCTION", "Payload": {"amount": "{% $states.input.n + 1 %}"}},
                "Catch": [
                    {
                        "ErrorEquals": ["States.QueryEvaluationError"],
                        "Assign": {"caught": "{% $states.errorOutput.Error %}"},
                        "Next": "Caught",
                    }
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Output": {"caught": "{% $caught %}"}, "End": True},
        }
    ),
    "IterationError": jsonata(
        {
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input.values %}",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Double",
                    "States": {"Double": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": True}},
                },
                "Catch": [
                    {
                        "ErrorEquals": ["States.QueryEvaluationError"],
                        "Output": {"caught": "{% $states.errorOutput.Error %}"},
                        "Next": "Caught",
                    }
                ],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        }
    ),
    "Undefined": output("$states.input.missing"),
    "ItemSelectorString": jsonata(
        {
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input.skus %}",
                "ItemSelector": "{% $states.context.Map.Item.Value & '-' & $states.context.Map.Item.Index %}",
                "ItemProcessor": INLINE_MAP,
                "End": True,
            }
        }
    ),
    "ChoiceAssign": jsonata(
        {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $states.input.amount > 100 %}",
                        "Assign": {"tier": "large"},
                        "Output": {"amount": "{% $states.input.amount %}"},
                        "Next": "Done",
                    }
                ],
                "Default": "Done",
                "Assign": {"tier": "small"},
            },
            "Done": {"Type": "Pass", "Output": {"tier": "{% $tier %}", "input": "{% $states.input %}"}, "End": True},
        }
    ),
    "JsonPathChoiceAssign": jsonpath(
        {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.amount", "NumericGreaterThan": 100, "Assign": {"big.$": "$.amount"}, "Next": "Done"}
                ],
                "Default": "Done",
            },
            "Done": {"Type": "Pass", "Parameters": {"big.$": "$big"}, "End": True},
        }
    ),
    "AssignNextState": jsonata(
        {
            "Start": {"Type": "Pass", "Assign": {"count": 1}, "Next": "Bump"},
            "Bump": {
                "Type": "Pass",
                "Assign": {"count": "{% $count + 1 %}", "before": "{% $count %}"},
                "Output": {"seenByOutput": "{% $count %}"},
                "Next": "After",
            },
            "After": {
                "Type": "Pass",
                "Output": {"output": "{% $states.input %}", "count": "{% $count %}", "before": "{% $before %}"},
                "End": True,
            },
        }
    ),
    "JsonPathAssignAfterSelector": jsonpath(
        {
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "FUNCTION", "Payload": {"amount.$": "$.total"}},
                "ResultSelector": {"value.$": "$.Payload.charged"},
                "Assign": {"selected.$": "$"},
                "ResultPath": None,
                "Next": "Read",
            },
            "Read": {"Type": "Pass", "Parameters": {"selected.$": "$selected", "input.$": "$"}, "End": True},
        }
    ),
    "JsonPathVariables": jsonpath(
        {
            "Keep": {"Type": "Pass", "Assign": {"order.$": "$.order", "fixed": "x"}, "Next": "Read"},
            "Read": {
                "Type": "Pass",
                "Parameters": {"id.$": "$order.id", "fixed.$": "$fixed", "items.$": "$order.items[1]"},
                "End": True,
            },
        }
    ),
}


MACHINES["TaskResult"] = jsonata(
    {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "FUNCTION", "Payload": {"amount": "{% $states.input.total %}"}},
            "Assign": {"charged": "{% $states.result.Payload.charged %}"},
            "Output": {"payload": "{% $states.result.Payload %}", "input": "{% $states.input %}"},
            "Next": "Read",
        },
        "Read": {"Type": "Pass", "Output": {"charged": "{% $charged %}", "before": "{% $states.input %}"}, "End": True},
    }
)
CHARGE = "def handler(event, context):\n    return {'charged': event['amount'], 'raw': 'secret'}\n"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKit]:
    app = plain_app_at(tmp_path_factory.mktemp("cdk.out"))
    stack = cdk.Stack(app, "Jsonata")
    charge = lambda_.Function(
        stack,
        "ChargeFn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(CHARGE),
    )
    for name, definition in MACHINES.items():
        # "FUNCTION" stands for the function's ARN (a token, resolved by CloudFormation)
        text = json.dumps(definition).replace('"FUNCTION"', json.dumps(charge.function_arn))
        machine = sfn.StateMachine(stack, name, definition_body=sfn.DefinitionBody.from_string(text))
        charge.grant_invoke(machine)
    with LocalKit.from_stack(stack) as local:
        yield local


def run(kit: LocalKit, name: str, payload: Any = None) -> Any:
    result = kit.start_execution(name, payload if payload is not None else {})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output


def test_output_evaluates_jsonata_against_states_input(kit: LocalKit) -> None:
    """JSONata: a ``{% %}`` string in Output is evaluated with ``$states.input`` bound to the state's input.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: evaluates the expression with jsonata-python, ``$states`` passed as a binding.
    Divergence: none
    """
    assert run(kit, "Output", {"price": 2.5, "qty": 4}) == {"total": 10}


def test_variables_hold_any_string(kit: LocalKit) -> None:
    """JSONata: a variable holds any JSON value, a string with double quotes included, and later states read it.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: passes variables as bindings, never spliced into the expression text.
    Divergence: none
    """
    note = 'say "hi" \\ {% not an expression %}'
    assert run(kit, "QuotedVariable", {"note": note}) == {"note": note, "again": note + "!"}


def test_partition(kit: LocalKit) -> None:
    """JSONata: ``$partition(array, size)`` splits an array into chunks of ``size``, the last one shorter.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: a Python implementation bound as ``$partition``.
    Divergence: none
    """
    assert run(kit, "Partition", {"items": [1, 2, 3, 4, 5]}) == [[1, 2], [3, 4], [5]]


def test_range(kit: LocalKit) -> None:
    """JSONata: ``$range(start, end, step)`` lists the values from start to end, end included, by step (negative too).

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: a Python implementation bound as ``$range``.
    Divergence: none
    """
    assert run(kit, "Range") == {"up": [0, 2, 4, 6, 8, 10], "down": [5, 3, 1]}


def test_hash(kit: LocalKit) -> None:
    """JSONata: ``$hash(value, algorithm)`` gives the hexadecimal digest (MD5, SHA-1, SHA-256, SHA-384, SHA-512).

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: hashlib's digest of the string's UTF-8 bytes, in lower-case hexadecimal.
    Divergence: the docs are ambiguous: they do not say what a value that is not a string gives; the kit fails the
    state with States.QueryEvaluationError, as States.Hash does.
    """
    text = "héllo"
    assert run(kit, "Hash", {"text": text}) == [
        hashlib.sha256(text.encode()).hexdigest(),
        hashlib.md5(text.encode()).hexdigest(),
    ]


def test_random_with_and_without_seed(kit: LocalKit) -> None:
    """JSONata: ``$random()`` gives a number in [0, 1); with a seed, the same seed gives the same number.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: Python's random, seeded with the seed when there is one.
    Divergence: the seeded sequence differs from AWS's (the docs name no algorithm): tests may rely on repetition,
    not on a value.
    """
    unseeded, first, second = run(kit, "Random", {"seed": 42})
    _, other, _ = run(kit, "Random", {"seed": 7})
    assert 0 <= unseeded < 1
    assert 0 <= first < 1
    assert first == second != other


def test_uuid(kit: LocalKit) -> None:
    """JSONata: ``$uuid()`` gives a new version 4 UUID at each call.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: Python's uuid4.
    Divergence: none
    """
    first, second = run(kit, "Uuid")
    version4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert version4.match(first)
    assert version4.match(second)
    assert first != second


def test_parse(kit: LocalKit) -> None:
    """JSONata: ``$parse(text)`` turns a JSON string into its value (it replaces ``$eval``).

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: json.loads; text that is not JSON fails the state with States.QueryEvaluationError.
    Divergence: none
    """
    assert run(kit, "Parse", {"body": '{"a": [1, "two", null]}'}) == {"a": [1, "two", None]}
    bad = kit.start_execution("Parse", {"body": "{not json"})
    assert (bad.status, bad.error) == ("FAILED", "States.QueryEvaluationError")


def test_eval_is_not_available(kit: LocalKit) -> None:
    """JSONata: ``$eval`` is not available in Step Functions.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: a call to ``$eval`` fails the state with States.QueryEvaluationError, naming ``$parse``.
    Divergence: the docs are ambiguous: they do not say whether AWS refuses ``$eval`` when the state machine is
    created or when the state runs; the kit refuses it when it runs.
    """
    result = kit.start_execution("Eval", {"body": "1"})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "$parse" in (result.cause or "")


def test_runtime_error_is_query_evaluation_error_and_catchable(kit: LocalKit) -> None:
    """JSONata: an expression that fails at run time raises States.QueryEvaluationError, which a Catch can match;
    the catcher's Assign reads ``$states.errorOutput``.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: JSONata's error (here T2001, a string added to a number) becomes States.QueryEvaluationError.
    Divergence: the cause's wording is the kit's (JSONata's message); AWS documents the error name, not the cause.
    """
    assert run(kit, "TypeError", {"n": "one"}) == {"caught": "States.QueryEvaluationError"}


def test_an_iteration_error_fails_the_map_with_its_name(kit: LocalKit) -> None:
    """JSONata: an expression that fails inside a Map iteration fails the Map state with States.QueryEvaluationError,
    which the Map's Catch matches by that name.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: keeps the iteration's States.* error name (moto rebuilt it as a custom name: the run ended States.Runtime).
    Divergence: none
    """
    assert run(kit, "IterationError", {"values": [1, 2]}) == [2, 4]
    assert run(kit, "IterationError", {"values": [1, "two"]}) == {"caught": "States.QueryEvaluationError"}


def test_undefined_result_is_query_evaluation_error(kit: LocalKit) -> None:
    """JSONata: an expression must give a value: one that gives nothing (undefined) fails the state.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: States.QueryEvaluationError, "returned nothing (undefined)".
    Divergence: none
    """
    result = kit.start_execution("Undefined", {})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "undefined" in (result.cause or "")


def test_item_selector_as_one_jsonata_string(kit: LocalKit) -> None:
    """JSONata: a Map's ItemSelector may be one JSONata string, whose value (any JSON type) is each item's input.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
    Kit: evaluates the string per item with ``$states.context.Map.Item`` bound.
    Divergence: none
    """
    assert run(kit, "ItemSelectorString", {"skus": ["A", "B"]}) == ["A-0", "B-1"]


def test_choice_rule_assign_and_output(kit: LocalKit) -> None:
    """Variables: a Choice rule's Assign and Output apply when the rule matches; the Choice state's own Assign
    applies when no rule matches (the Default), even when the rule's Next is the Default state too.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: evaluates the matched rule's Assign and Output, else the state's (moto applied both when the targets agreed).
    Divergence: none
    """
    assert run(kit, "ChoiceAssign", {"amount": 500, "other": 1}) == {"tier": "large", "input": {"amount": 500}}
    assert run(kit, "ChoiceAssign", {"amount": 5}) == {"tier": "small", "input": {"amount": 5}}  # no rule matched


def test_jsonpath_choice_rule_assign(kit: LocalKit) -> None:
    """Variables: in a JSONPath Choice, a rule's Assign (``$`` the state's input) applies when the rule matches.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: evaluates the matched rule's Assign against the state's input (moto dropped it).
    Divergence: none
    """
    assert run(kit, "JsonPathChoiceAssign", {"amount": 250}) == {"big": 250}


def test_assigned_values_are_seen_from_the_next_state_on(kit: LocalKit) -> None:
    """Variables: all of a state's Assign and Output expressions see the variables as they were when the state was
    entered; the new values are seen from the next state on.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: sets the assigned values when the state ends (moto set them before the state's Output).
    Divergence: none
    """
    assert run(kit, "AssignNextState") == {"output": {"seenByOutput": 1}, "count": 2, "before": 1}


def test_jsonpath_assign_reads_the_result_selector_output(kit: LocalKit) -> None:
    """Variables: in a JSONPath state, Assign's ``$`` is the result after ResultSelector (before ResultPath).

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: evaluates Assign after ResultSelector (moto read the raw result).
    Divergence: none
    """
    assert run(kit, "JsonPathAssignAfterSelector", {"total": 7}) == {"selected": {"value": 7}, "input": {"total": 7}}


def test_jsonpath_states_read_variables(kit: LocalKit) -> None:
    """Variables: a JSONPath state reads a variable with ``$name`` and a path into it (``$name.field``).

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: evaluates the reference with the variables as bindings.
    Divergence: none
    """
    order = {"id": "o-1", "items": ["a", "b"]}
    assert run(kit, "JsonPathVariables", {"order": order}) == {"id": "o-1", "fixed": "x", "items": "b"}


def test_task_assign_and_output_both_see_states_result(kit: LocalKit) -> None:
    """Variables: in a JSONata Task, Assign and Output both read ``$states.result`` (the task's result); Arguments
    read ``$states.input``.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    Kit: binds the Lambda invoke's result as ``$states.result`` for both.
    Divergence: none
    """
    assert run(kit, "TaskResult", {"total": 30}) == {
        "charged": 30,
        "before": {"payload": {"charged": 30, "raw": "secret"}, "input": {"total": 30}},
    }
