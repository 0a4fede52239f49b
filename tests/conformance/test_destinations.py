"""Lambda Destinations: where the record of an asynchronous invocation goes, per destination kind."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import ECHO, FAILING, inline

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


def test_topic_and_function_destinations_get_the_record(plain_app: cdk.App) -> None:
    """Destinations: an SNS topic destination gets the execution record as the message; a Lambda function
    destination is invoked asynchronously with the record as its event.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    Kit: the record published to the topic (its subscribers see it), and an Event invoke of the destination
        function with the record.
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Kit")
    topic = sns.Topic(stack, "Failures")
    inbox = sqs.Queue(stack, "Inbox")
    topic.add_subscription(subscriptions.SqsSubscription(inbox, raw_message_delivery=True))
    handler = inline(stack, "Handler", ECHO)
    inline(stack, "Fails", FAILING).configure_async_invoke(
        retry_attempts=0,
        on_failure=destinations.SnsDestination(topic),
        on_success=destinations.LambdaDestination(handler),
    )
    inline(stack, "Echo", ECHO).configure_async_invoke(on_success=destinations.LambdaDestination(handler))
    with LocalKit.from_stack(stack) as kit:
        failed = kit.invoke_async("Fails", {"orderId": "o-1"})
        succeeded = kit.invoke_async("Echo", {"orderId": "o-2"})
        published = kit.messages("Inbox")
        handled = kit.async_invocations("Handler")

    assert published == [failed.record]
    assert failed.record["requestContext"]["condition"] == "RetriesExhausted"
    assert [outcome.event for outcome in handled] == [succeeded.record]
    assert succeeded.record["requestContext"]["condition"] == "Success"
