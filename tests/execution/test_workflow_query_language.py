"""FunctionWorkflow in both query languages: with ``query_language=JSONATA`` every state the library makes is a
JSONata state, and the consumers of the routes receive the same records as from the JSONPath workflow; the same
assertions run for both (the ``language`` parameter). Also: the states each mode enters per execution, and the
refusals of a condition written in the other language."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

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
    ServiceTask,
    TopicRoute,
)
from constructs_lib._internal.validation import ConstructPropsError
from constructs_lib.testing import LocalKit
from constructs_lib.testing._engine.asl import state_machine_definitions
from tests.conftest import plain_app_at

pytestmark = pytest.mark.execution

LANGUAGES = [sfn.QueryLanguage.JSON_PATH, sfn.QueryLanguage.JSONATA]
JSONATA = sfn.QueryLanguage.JSONATA

CHARGE = """
def handler(event, context):
    if event["total"] > 1000:
        raise ValueError("over the limit")
    return {"orderId": event["orderId"], "charged": event["total"], "lines": event["lines"]}
"""
RESERVE = """
def handler(event, context):
    return {"reserved": event["sku"]}
"""
ECHO = """
def handler(event, context):
    print(event)
    return event
"""


def function(stack: cdk.Stack, name: str, code: str) -> lambda_.IFunction:
    return lambda_.Function(
        stack, name, runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(code)
    )


def big_order(language: sfn.QueryLanguage) -> sfn.Condition:
    if language == JSONATA:
        return sfn.Condition.jsonata("{% $states.input.charged >= 100 %}")
    return sfn.Condition.number_greater_than_equals("$.charged", 100)


def order_workflow(stack: cdk.Stack, language: sfn.QueryLanguage) -> FunctionWorkflow:
    """Charge, reserve each line (ForEach), route big orders (Choice), check in parallel, announce on a topic and a
    bus, and deliver to the routes: one state of every kind the library makes."""
    jsonata = language == JSONATA
    item = "{% $states.context.Map.Item.Value.sku %}" if jsonata else sfn.JsonPath.string_at("$$.Map.Item.Value.sku")
    return FunctionWorkflow(
        stack,
        "Orders",
        query_language=language,
        steps=[
            Invoke("Charge", function(stack, "ChargeFn", CHARGE)),
            ForEach(
                "Reserve",
                items_path="$.lines",
                item_selector={"sku": item},
                steps=[Invoke("ReserveLine", function(stack, "ReserveFn", RESERVE))],
                result_path="$.reservations",
            ),
            Choice("Size", branches=[(big_order(language), [Pass("Big", result="big", result_path="$.size")])]),
            Parallel(
                "Checks", branches=[[Pass("Fraud", result="ok")], [Pass("Stock", result="ok")]], result_path="$.checks"
            ),
            Deliver("Announce", TopicRoute()),
            Deliver("Publish", EventBusRoute()),
            Deliver("Audit", FunctionRoute(function(stack, "AuditFn", ECHO)), path="$.checks"),
        ],
        on_success=QueueRoute(),
        on_failure=BucketRoute(),
    )


@pytest.mark.parametrize("language", LANGUAGES, ids=["jsonpath", "jsonata"])
def test_consumers_receive_the_same_records(plain_app: cdk.App, language: sfn.QueryLanguage) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    order_workflow(stack, language)
    order = {"orderId": "o-1", "total": 150, "lines": [{"sku": "A"}, {"sku": "B"}]}
    declined = {"orderId": "o-2", "total": 5000, "lines": [{"sku": "C"}]}
    with LocalKit.from_stack(stack) as kit:
        charged = kit.start_execution("Orders/StateMachine", order)
        failed = kit.start_execution("Orders/StateMachine", declined)
        (success,) = kit.received("Orders/OnSuccessQueue")
        (announced,) = kit.received("Orders/AnnounceTopic")
        (published,) = kit.received("Orders/PublishBus")
        audits = kit.invocations("AuditFn")
        failures = kit.objects("Orders/OnFailureBucket")

    expected = {
        "orderId": "o-1",
        "charged": 150,
        "lines": [{"sku": "A"}, {"sku": "B"}],
        "reservations": [{"reserved": "A"}, {"reserved": "B"}],
        "size": "big",
        "checks": ["ok", "ok"],
    }
    assert charged.status == "SUCCEEDED", charged.cause
    assert charged.output == expected
    assert success["version"] == "1.0"
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestContext"]["approximateInvokeCount"] == 1
    assert success["requestContext"]["requestId"] == charged.execution_arn.rsplit(":", 1)[1]
    assert success["requestPayload"] == order
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert success["responsePayload"] == expected
    assert success["timestamp"].endswith(("Z", "+00:00"))
    assert announced == {
        key: expected[key] for key in ("orderId", "charged", "lines", "reservations", "size", "checks")
    }
    assert published == expected
    assert [invocation.event for invocation in audits] == [["ok", "ok"]]

    assert (failed.status, failed.error, failed.cause) == ("FAILED", "ValueError", failed.cause)
    (body,) = [body for key, body in failures.items() if key.startswith("failures/")]
    record = json.loads(body)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == declined
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert "over the limit" in record["responsePayload"]["errorMessage"]


@pytest.mark.parametrize("language", LANGUAGES, ids=["jsonpath", "jsonata"])
def test_a_fail_step_reaches_on_failure(plain_app: cdk.App, language: sfn.QueryLanguage) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    FunctionWorkflow(
        stack,
        "Flow",
        query_language=language,
        steps=[
            Invoke("Echo", function(stack, "EchoFn", ECHO)),
            Choice("Stock", branches=[(big_order(language), [Fail("Stop", error="OrderDeclined", cause="no stock")])]),
            Pass("Then"),
        ],
        on_failure=QueueRoute(),
    )
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-3", "charged": 500})
        (failure,) = kit.received("Flow/OnFailureQueue")

    assert (result.status, result.error, result.cause) == ("FAILED", "OrderDeclined", "no stock")
    assert failure["responsePayload"] == {"errorType": "OrderDeclined", "errorMessage": "no stock"}
    assert failure["requestPayload"] == {"orderId": "o-3", "charged": 500}


def states_entered(tmp_path: Path, language: sfn.QueryLanguage) -> list[str]:
    app = plain_app_at(tmp_path / language.value)
    stack = cdk.Stack(app, "One")
    FunctionWorkflow(
        stack,
        "Flow",
        query_language=language,
        function=function(stack, "EchoFn", ECHO),
        on_success=QueueRoute(),
        on_failure=QueueRoute(),
    )
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-4"})
        (record,) = kit.received("Flow/OnSuccessQueue")
    assert result.output == record["responsePayload"] == {"orderId": "o-4"}
    return result.states_entered


def test_jsonata_records_take_fewer_state_transitions(tmp_path: Path) -> None:
    """A one-step workflow with both routes: JSONPath builds the record in a Pass state and returns the output with
    another; the JSONata delivery task builds the record itself and leaves the state as it was."""
    assert states_entered(tmp_path, sfn.QueryLanguage.JSON_PATH) == [
        "Invoke",
        "BuildSuccessRecord",
        "DeliverSuccess",
        "ReturnOutput",
        "Succeeded",
    ]
    assert states_entered(tmp_path, JSONATA) == ["Invoke", "DeliverSuccess", "Succeeded"]


@pytest.mark.parametrize(
    ("language", "condition", "says"),
    [
        (JSONATA, lambda: sfn.Condition.string_equals("$.status", "OK"), "JSONPath condition"),
        (sfn.QueryLanguage.JSON_PATH, lambda: sfn.Condition.jsonata("{% $states.input.ok %}"), "JSONata condition"),
    ],
    ids=["jsonpath-in-jsonata", "jsonata-in-jsonpath"],
)
def test_rejects_a_condition_in_the_other_language(
    plain_app: cdk.App, language: sfn.QueryLanguage, condition: Callable[[], sfn.Condition], says: str
) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    with pytest.raises(ConstructPropsError, match=says):
        FunctionWorkflow(
            stack,
            "Flow",
            query_language=language,
            steps=[Choice("Route", branches=[(condition(), [Pass("Ok")])]), Pass("Then")],
        )


def test_rejects_jsonpath_reads_in_a_jsonata_workflow(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    echo = function(stack, "EchoFn", ECHO)
    with pytest.raises(ConstructPropsError, match=r"sfn\.JsonPath value in a JSONata workflow"):
        FunctionWorkflow(
            stack,
            "Flow",
            query_language=JSONATA,
            steps=[Invoke("Echo", echo, payload={"id": sfn.JsonPath.string_at("$.orderId")})],
        )


def test_a_users_jsonata_task_in_a_jsonpath_workflow_gets_a_jsonata_catch(plain_app: cdk.App) -> None:
    """A JSONata state takes no ResultPath: its catch's Output puts the error in place of the state, as the catch of
    a JSONPath state does (ResultPath $), where the workflow's failure path reads it; its Assign counts the attempts."""
    stack = cdk.Stack(plain_app, "Orders")
    charge = function(stack, "ChargeFn", CHARGE)

    def make(scope: Any, name: str) -> sfn.TaskStateBase:
        payload = sfn.TaskInput.from_object({"orderId": "{% $states.input.orderId %}", "total": 5000, "lines": []})
        return tasks.LambdaInvoke.jsonata(scope, name, lambda_function=charge, payload=payload)

    workflow = FunctionWorkflow(stack, "Flow", steps=[ServiceTask("Charge", make)], on_failure=QueueRoute())
    charge.grant_invoke(workflow.role)
    definitions = state_machine_definitions(cdk.assertions.Template.from_stack(stack).to_json())
    (definition,) = [d for logical_id, d in definitions.items() if logical_id.startswith("FlowStateMachine")]
    (catch,) = definition["States"]["Charge"]["Catch"]
    assert "ResultPath" not in catch
    assert catch["Output"] == "{% $states.errorOutput %}"
    assert catch["Assign"] == {"recordInvokeCount": "{% $states.context.State.RetryCount + 1 %}"}
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-5"})
        (failure,) = kit.received("Flow/OnFailureQueue")

    assert (result.status, result.error) == ("FAILED", "ValueError")
    assert failure["responsePayload"]["errorType"] == "ValueError"
    assert failure["requestPayload"] == {"orderId": "o-5"}
