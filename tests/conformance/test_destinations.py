"""Lambda Destinations: where the record of an asynchronous invocation goes, per destination kind."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import ECHO, inline

pytestmark = pytest.mark.execution


def test_an_event_bus_destination_gets_the_record_as_the_detail_of_a_lambda_event(plain_app: cdk.App) -> None:
    """Destinations: an EventBridge destination gets an event from source lambda whose resources are the bus and the
    function, its detail the record.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    Kit: detail-type "Lambda Function Invocation Result - Success" or "- Failure"; resources [bus ARN, function ARN
        with the invoked qualifier].
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Kit")
    bus = events.EventBus(stack, "Results")
    inbox = sqs.Queue(stack, "Inbox")
    events.Rule(stack, "All", event_bus=bus, event_pattern=events.EventPattern(source=["lambda"])).add_target(
        targets.SqsQueue(inbox)
    )
    inline(stack, "Echo", ECHO).configure_async_invoke(on_success=destinations.EventBridgeDestination(bus))
    with LocalKit.from_stack(stack) as kit:
        outcome = kit.invoke_async("Echo", {"orderId": "o-1"})
        (event,) = kit.messages("Inbox")
        bus_arn, function_arn = kit.arn("Results"), kit.function("Echo").arn

    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["resources"] == [bus_arn, f"{function_arn}:$LATEST"]
    assert event["detail"] == outcome.record
