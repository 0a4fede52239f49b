"""The one-line engine switch, run: an order service written against DestinedFunction, with a result rule that
takes orders needing review to a queue and a consumer rule of its own, switched to FunctionWorkflow or
DurableFunction by changing the constructor only (and, for the durable engine, the handler's decorator). All three
run in the local kit; the same assertions hold for each."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_lib import (
    DestinedFunction,
    DurableFunction,
    EventBusRoute,
    EventPipeline,
    FunctionWorkflow,
    QueueRoute,
    parse_execution_record,
)
from constructs_lib.records import DURABLE_EVENT_SOURCE, EVENT_SOURCE, WORKFLOW_EVENT_SOURCE
from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

ORDERS = """
class InvalidOrderError(Exception):
    pass

def handler(event, context):
    if not event.get("orderId"):
        raise InvalidOrderError("orderId must be a non-empty string")
    status = "ACCEPTED" if event["quantity"] <= 10 else "REVIEW"
    return {"orderId": event["orderId"], "status": status}
"""

# The same logic as a durable handler: the library's decorator in place of the SDK's, one checkpointed step.
DURABLE_ORDERS = """
from durable_routes import routed_durable_execution

class InvalidOrderError(Exception):
    pass

@routed_durable_execution
def handler(event, context):
    if not event.get("orderId"):
        raise InvalidOrderError("orderId must be a non-empty string")
    quantity = context.step(lambda _: event["quantity"], name="Count")
    status = "ACCEPTED" if quantity <= 10 else "REVIEW"
    return {"orderId": event["orderId"], "status": status}
"""

REVIEW_ORDER = {"orderId": "o-2001", "quantity": 50}
SMALL_ORDER = {"orderId": "o-2002", "quantity": 2}
BAD_ORDER = {"orderId": "", "quantity": 1}

Engine = type[DestinedFunction] | type[FunctionWorkflow] | type[DurableFunction]
Orders = DestinedFunction | FunctionWorkflow | DurableFunction


def order_service(stack: cdk.Stack, engine: Engine) -> Orders:
    """The consumer app: only ``engine`` differs between the stacks (and the handler's decorator, for durable)."""
    code = DURABLE_ORDERS if engine is DurableFunction else ORDERS
    orders = engine(
        stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(code)
        ),
        on_success=EventBusRoute(),
        on_failure=EventBusRoute(),
        retry_attempts=0,
    )
    orders.add_result_rule("Review", route=QueueRoute(), response={"status": "REVIEW"})
    orders.add_result_rule("BadOrders", route=QueueRoute(), error_types=["InvalidOrderError"])
    # A consumer's own rule on the success bus, with the pattern of this producer's records whatever its engine.
    assert orders.success_route is not None
    EventPipeline(
        stack,
        "Accepted",
        event_bus=orders.success_route.event_bus,
        event_pattern=orders.result_event_pattern(response={"status": "ACCEPTED"}),
        target=QueueRoute(),
    )
    return orders


def place(kit: LocalKit, orders: Orders, order: dict[str, Any]) -> None:
    """What callers do: an asynchronous invoke of the function (of its alias, for a durable function), or
    StartExecution of the state machine."""
    if isinstance(orders, DestinedFunction):
        kit.invoke_async("Orders/Function", order)
    elif isinstance(orders, DurableFunction):
        kit.invoke_async("Orders/Function", order, qualifier="live")
    else:
        kit.start_execution("Orders/StateMachine", order)


@pytest.mark.parametrize(
    ("engine", "source"),
    [
        (DestinedFunction, EVENT_SOURCE),
        (FunctionWorkflow, WORKFLOW_EVENT_SOURCE),
        (DurableFunction, DURABLE_EVENT_SOURCE),
    ],
)
def test_the_same_rules_route_the_same_orders_with_any_engine(plain_app: cdk.App, engine: Engine, source: str) -> None:
    stack = cdk.Stack(plain_app, "OrderService")
    orders = order_service(stack, engine)
    with LocalKit.from_stack(stack) as kit:
        for order in (REVIEW_ORDER, SMALL_ORDER, BAD_ORDER):
            place(kit, orders, order)
        review = kit.received("Orders/ReviewTargetQueue")
        bad = kit.received("Orders/BadOrdersTargetQueue")
        accepted = kit.received("Accepted/TargetQueue")

    assert [event["source"] for event in review + bad + accepted] == [source] * 3
    (review_record,) = (parse_execution_record(event) for event in review)
    assert review_record.succeeded
    assert review_record.request_payload == REVIEW_ORDER
    assert review_record.response_payload == {"orderId": "o-2001", "status": "REVIEW"}
    (bad_record,) = (parse_execution_record(event) for event in bad)
    assert not bad_record.succeeded
    assert bad_record.request_payload == BAD_ORDER
    assert bad_record.error_type == "InvalidOrderError"
    assert bad_record.error_message == "orderId must be a non-empty string"
    (accepted_record,) = (parse_execution_record(event) for event in accepted)
    assert accepted_record.response_payload == {"orderId": "o-2002", "status": "ACCEPTED"}
