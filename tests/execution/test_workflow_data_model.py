"""How state flows through a workflow, run in the local kit: each Invoke's result replaces the state unless
``result_path`` says where it goes; ``payload`` and ``item_selector`` say what a function receives; Pass, Wait,
Succeed and Fail shape, delay and end a run, and the routes hear of every end."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from constructs_lib import (
    Choice,
    Fail,
    ForEach,
    FunctionWorkflow,
    Invoke,
    Parallel,
    Pass,
    QueueRoute,
    Step,
    Succeed,
    Wait,
)
from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

CHARGE = """
def handler(event, context):
    status = "DECLINED" if event["amount"] > 1000 else "CHARGED"
    return {"status": status, "chargeId": "ch-" + event["orderId"]}
"""
SHIP = """
def handler(event, context):
    return {"shipped": event["orderId"], "charge": event.get("charge")}
"""
ECHO = """
def handler(event, context):
    return event
"""


def function(stack: cdk.Stack, name: str, code: str) -> lambda_.IFunction:
    return lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(code),
    )


def order_flow(stack: cdk.Stack, charge_step: Step) -> None:
    declined = sfn.Condition.string_equals("$.charge.status", "DECLINED")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            charge_step,
            Choice("Declined", branches=[(declined, [Fail("Decline", error="CardDeclined", cause="over the limit")])]),
            Invoke("Ship", function(stack, "ShipFn", SHIP)),
        ],
        on_success=QueueRoute(),
        on_failure=QueueRoute(),
    )


def test_result_path_keeps_the_order_and_a_declined_card_fails_the_run(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    charge = function(stack, "ChargeFn", CHARGE)
    order_flow(
        stack,
        Invoke(
            "Charge",
            charge,
            payload={"orderId": sfn.JsonPath.string_at("$.orderId"), "amount": sfn.JsonPath.number_at("$.total")},
            result_path="$.charge",
        ),
    )
    with LocalKit.from_stack(stack) as kit:
        shipped = kit.start_execution("Flow/StateMachine", {"orderId": "o-1", "total": 30})
        declined = kit.start_execution("Flow/StateMachine", {"orderId": "o-2", "total": 5000})
        successes = kit.received("Flow/OnSuccessQueue")
        failures = kit.received("Flow/OnFailureQueue")

    assert shipped.status == "SUCCEEDED", shipped.cause
    # Ship received the order with the charge beside it: result_path="$.charge" kept orderId and total
    assert shipped.output == {"shipped": "o-1", "charge": {"status": "CHARGED", "chargeId": "ch-o-1"}}
    assert declined.status == "FAILED"
    assert (declined.error, declined.cause) == ("CardDeclined", "over the limit")
    assert "Ship" not in declined.states_entered
    assert [record["responsePayload"] for record in successes] == [shipped.output]
    (failure,) = failures
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestPayload"] == {"orderId": "o-2", "total": 5000}
    assert failure["responsePayload"] == {"errorType": "CardDeclined", "errorMessage": "over the limit"}


def test_without_result_path_the_result_replaces_the_state(plain_app: cdk.App) -> None:
    """The trap the data model page warns of: Charge's result replaces the order, Ship gets no orderId."""
    stack = cdk.Stack(plain_app, "Orders")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[Invoke("Charge", function(stack, "ChargeFn", CHARGE)), Invoke("Ship", function(stack, "ShipFn", SHIP))],
    )
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-3", "amount": 30})

    assert result.status == "FAILED"  # Ship's event["orderId"] raised: the state was Charge's result
    assert result.error == "KeyError"


def test_succeed_ends_early_and_goes_to_on_success(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Pass("Defaults", result={"priority": "normal"}, result_path="$.options"),
            Choice(
                "Shipped", branches=[(sfn.Condition.boolean_equals("$.shipped", True), [Succeed("AlreadyShipped")])]
            ),
            Wait("Cool", time=cdk.Duration.minutes(10)),
            Invoke("Ship", function(stack, "ShipFn", SHIP)),
        ],
        on_success=QueueRoute(),
    )
    with LocalKit.from_stack(stack) as kit:
        early = kit.start_execution("Flow/StateMachine", {"orderId": "o-4", "shipped": True})
        normal = kit.start_execution("Flow/StateMachine", {"orderId": "o-5", "shipped": False})
        successes = kit.received("Flow/OnSuccessQueue")

    assert early.status == "SUCCEEDED"
    assert early.output == {"orderId": "o-4", "shipped": True, "options": {"priority": "normal"}}
    assert "Ship" not in early.states_entered
    assert normal.output == {"shipped": "o-5", "charge": None}
    assert [(wait.state, wait.seconds) for wait in normal.waits] == [("Cool", 600.0)]
    assert [record["responsePayload"] for record in successes] == [early.output, normal.output]


def test_item_selector_gives_each_item_the_order_around_it(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    echo = function(stack, "EchoFn", ECHO)
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            ForEach(
                "EachLine",
                items_path="$.lines",
                steps=[Invoke("Reserve", echo)],
                item_selector={
                    "orderId": sfn.JsonPath.string_at("$.orderId"),
                    "sku": sfn.JsonPath.string_at("$$.Map.Item.Value.sku"),
                },
                result_path="$.reservations",
            ),
            Parallel(
                "Checks",
                branches=[[Pass("Fraud", result="ok")], [Pass("Stock", result="ok")]],
                result_selector={"fraud": sfn.JsonPath.string_at("$[0]"), "stock": sfn.JsonPath.string_at("$[1]")},
                result_path="$.checks",
            ),
        ],
    )
    order: dict[str, Any] = {"orderId": "o-6", "lines": [{"sku": "A"}, {"sku": "B"}]}
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", order)

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        **order,
        "reservations": [{"orderId": "o-6", "sku": "A"}, {"orderId": "o-6", "sku": "B"}],
        "checks": {"fraud": "ok", "stock": "ok"},
    }


def test_a_fail_in_a_branch_fails_the_run_with_its_error(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Orders")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[Parallel("Checks", branches=[[Pass("Fraud")], [Fail("OutOfStock", error="OutOfStock", cause="sku A")]])],
        on_failure=QueueRoute(),
    )
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-7"})
        (failure,) = kit.received("Flow/OnFailureQueue")

    assert (result.status, result.error) == ("FAILED", "OutOfStock")
    assert failure["responsePayload"]["errorType"] == "OutOfStock"
