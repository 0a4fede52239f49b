"""FunctionWorkflow's query language at synth: with JSONATA every state the library makes is a JSONata state (no
JSONPath field anywhere, asl-validator agrees); with the default the template says nothing of a query language."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from constructs_lib import (
    BucketRoute,
    Choice,
    Deliver,
    EventBusRoute,
    Fail,
    ForEach,
    FunctionRoute,
    FunctionWorkflow,
    Invoke,
    Parallel,
    Pass,
    QueueRoute,
    Succeed,
    TopicRoute,
    Wait,
)
from constructs_lib._internal.validation import ConstructPropsError
from constructs_lib.testing._engine.asl import state_machine_definitions, validate_definition

JSONPATH_FIELDS = {"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "ItemsPath"}


def workflow_definition(stack: cdk.Stack) -> dict[str, Any]:
    """The workflow's definition (not the status-failure records' state machine of a STANDARD workflow)."""
    definitions = state_machine_definitions(Template.from_stack(stack).to_json())
    (definition,) = [d for logical_id, d in definitions.items() if logical_id.startswith("FlowStateMachine")]
    return definition


def all_states(states: dict[str, Any]) -> dict[str, Any]:
    """Every state, those of Parallel branches and Map processors too."""
    found = dict(states)
    for state in states.values():
        for branch in state.get("Branches", []):
            found.update(all_states(branch["States"]))
        if "ItemProcessor" in state:
            found.update(all_states(state["ItemProcessor"]["States"]))
    return found


def every_step_workflow(stack: cdk.Stack, language: sfn.QueryLanguage) -> None:
    fn = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    FunctionWorkflow(
        stack,
        "Flow",
        query_language=language,
        steps=[
            Invoke("Charge", fn, payload={"id": "{% $states.input.id %}"}, result_path="$.charge.result"),
            ForEach(
                "Each",
                items_path="$.lines",
                steps=[Invoke("Line", fn), Succeed("LineDone")],
                item_selector={"sku": "{% $states.context.Map.Item.Value.sku %}"},
                result_path="$.lines",
            ),
            Parallel("Checks", branches=[[Pass("A", result={"ok": True})], [Fail("B", error="E")]], result_path="$.c"),
            Choice(
                "Route",
                branches=[
                    (sfn.Condition.jsonata("{% $states.input.big %}"), [Succeed("Early")]),
                    (sfn.Condition.jsonata("{% $states.input.bad %}"), [Fail("Declined", error="Declined")]),
                ],
                default=[Pass("Normal")],
            ),
            Wait("Cool", time=cdk.Duration.seconds(5)),
            Deliver("ToTopic", TopicRoute()),
            Deliver("ToBus", EventBusRoute(), path="$.charge"),
            Deliver("ToFn", FunctionRoute(fn)),
        ],
        on_success=QueueRoute(),
        on_failure=BucketRoute(),
    )


def test_jsonata_workflow_makes_only_jsonata_states_that_asl_validator_accepts(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Flow")
    every_step_workflow(stack, sfn.QueryLanguage.JSONATA)
    definition = workflow_definition(stack)

    assert definition["QueryLanguage"] == "JSONata"
    states = all_states(definition["States"])
    assert {name for name, state in states.items() if JSONPATH_FIELDS & set(state)} == set()
    assert {name for name, state in states.items() if state.get("QueryLanguage", "JSONata") != "JSONata"} == set()
    assert all("Assign" in catch for state in states.values() for catch in state.get("Catch", []))
    assert states["Charge"]["Output"] == (
        '{% $merge([$states.input, {"charge": $merge([$states.input.charge, {"result": $states.result}])}]) %}'
    )
    assert states["Each"]["Items"] == "{% $states.input.lines %}"
    assert "BuildSuccessRecord" not in states
    assert "BuildFailureRecord" not in states
    validate_definition(definition, name="Flow")  # asl-validator: no JSONPath Choice rule in a JSONata machine


def test_jsonpath_is_the_default_and_is_left_unsaid(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Flow")
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:123456789012:function:f")
    FunctionWorkflow(stack, "Flow", function=fn)
    definition = workflow_definition(stack)

    assert "QueryLanguage" not in definition
    assert definition["States"]["Invoke"]["Catch"][0]["ResultPath"] == "$"


@pytest.mark.parametrize(
    ("step", "says"),
    [
        (lambda fn: Invoke("I", fn, result_path="$.items[0]"), r"result_path must be '\$' or '\$\.field\.field'"),
        (lambda fn: ForEach("F", items_path="$..all", steps=[Pass("P")]), "items_path must be"),
        (lambda fn: Pass("P", parameters={"id.$": "$.id"}), "the JSONPath field 'id.\\$'"),
        (lambda fn: Wait("W", time=sfn.WaitTime.timestamp_path("$.at")), "a JSONPath wait time"),
    ],
    ids=["result-path", "items-path", "jsonpath-field", "wait-path"],
)
def test_rejects_jsonpath_in_a_jsonata_workflow(plain_app: cdk.App, step: Any, says: str) -> None:
    stack = cdk.Stack(plain_app, "Flow")
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:123456789012:function:f")
    with pytest.raises(ConstructPropsError, match=says):
        FunctionWorkflow(stack, "Flow", query_language=sfn.QueryLanguage.JSONATA, steps=[step(fn)])


def test_rejects_jsonata_values_in_a_jsonpath_workflow(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Flow")
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:123456789012:function:f")
    with pytest.raises(ConstructPropsError, match=r"JSONata expression .* in a JSONPath workflow"):
        FunctionWorkflow(stack, "Flow", steps=[Invoke("I", fn, payload={"id": "{% $states.input.id %}"})])
