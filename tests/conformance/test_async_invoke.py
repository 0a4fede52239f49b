"""Asynchronous invocation (Event): Lambda's queue, retries, maximum event age and what it hands on."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import ECHO, FAILING, SLOW_FAILING, failing_worker, inline

pytestmark = pytest.mark.execution


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


def test_a_failed_event_is_retried_one_then_two_minutes_later(kit_stack: cdk.Stack) -> None:
    """Async invoke: a function error is retried twice by default, one minute and then two minutes later.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    Kit: three attempts with 60 s and 120 s of virtual time between them, then the on-failure record.
    Divergence: none
    """
    failing_worker(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Worker/Function", {"orderId": "o-1"})
        on_queue = kit.messages("Worker/OnFailureQueue")

    assert outcome.condition == "RetriesExhausted"
    assert len(outcome.attempts) == 3
    assert outcome.retry_delays == (60.0, 120.0)
    assert on_queue == [outcome.record]
    assert outcome.record["requestContext"]["approximateInvokeCount"] == 3


def test_retry_attempts_cap_the_attempts(kit_stack: cdk.Stack) -> None:
    """Async invoke: MaximumRetryAttempts (0 to 2) is how many times Lambda retries a function error.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
    Kit: the EventInvokeConfig's MaximumRetryAttempts from the template caps the attempts at 1 + retries.
    Divergence: none
    """
    failing_worker(kit_stack, retry_attempts=1)
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Worker/Function", {"orderId": "o-2"})

    assert outcome.condition == "RetriesExhausted"
    assert len(outcome.attempts) == 2
    assert outcome.retry_delays == (60.0,)
    assert outcome.record["requestContext"]["approximateInvokeCount"] == 2
    assert outcome.record["responseContext"]["functionError"] == "Unhandled"


def test_an_event_older_than_the_maximum_age_is_discarded_to_the_failure_route(kit_stack: cdk.Stack) -> None:
    """Async invoke: an event kept in the queue longer than MaximumEventAgeInSeconds is discarded.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
    Kit: a retry that would start past the maximum age is not made; the record says EventAgeExceeded.
    Divergence: none
    """
    failing_worker(kit_stack, retry_attempts=2, max_event_age=Duration.seconds(90))
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Worker/Function", {})

    # Attempt 1 at 0 s, attempt 2 at 60 s; attempt 3 would be at 180 s, past the 90 s maximum age.
    assert outcome.condition == "EventAgeExceeded"
    assert len(outcome.attempts) == 2
    assert outcome.record["requestContext"]["condition"] == "EventAgeExceeded"
    assert len(outcome.delivered_to) == 1


def test_the_maximum_age_counts_run_time_too(kit_stack: cdk.Stack) -> None:
    """Async invoke: MaximumEventAgeInSeconds is how long an event stays in the queue, waiting and running included.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    Kit: the age is the real time since the event was queued (queueing and attempts) plus the virtual retry delays.
    Divergence: none
    """
    function = inline(kit_stack, "Slow", SLOW_FAILING, timeout=Duration.seconds(5))
    function.configure_async_invoke(retry_attempts=1, max_event_age=Duration.seconds(60))
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Slow", {"sleep": 1.05})

    # The retry would start 60 s after the first attempt ended: 61 s after the event was queued, past its 60 s.
    assert outcome.condition == "EventAgeExceeded"
    assert len(outcome.attempts) == 1


def test_reserved_concurrency_zero_sends_events_to_the_failure_routes_unrun(kit_stack: cdk.Stack) -> None:
    """Async invoke: with reserved concurrency 0, new events go to the on-failure destination or DLQ unrun, unretried.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    Kit: ReservedConcurrentExecutions 0 from the template: no attempt; the record (status 429) and the event (DLQ).
    Divergence: the docs are ambiguous: they do not show this record; the kit writes condition RetriesExhausted,
        approximateInvokeCount 1, statusCode 429 and a TooManyRequestsException payload, and ErrorCode 429 on the DLQ.
    """
    failures = sqs.Queue(kit_stack, "Failures")
    dead = sqs.Queue(kit_stack, "Dead")
    function = inline(
        kit_stack,
        "Paused",
        ECHO,
        reserved_concurrent_executions=0,
        dead_letter_queue=dead,
        dead_letter_queue_enabled=True,
    )
    function.configure_async_invoke(on_failure=destinations.SqsDestination(failures))
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Paused", {"orderId": "o-9"})
        records = kit.messages("Failures")
        dead_letters = kit.deliveries("Dead")
        ran = kit.invocations("Paused")

    assert ran == []
    assert outcome.attempts == ()
    assert outcome.retry_delays == ()
    assert records == [outcome.record]
    assert outcome.record["requestPayload"] == {"orderId": "o-9"}
    assert outcome.record["responseContext"]["statusCode"] == 429
    assert [delivery.payload for delivery in dead_letters] == [{"orderId": "o-9"}]


def test_an_alias_has_its_own_invoke_config(kit_stack: cdk.Stack) -> None:
    """Async invoke: error handling is configured per function, version or alias; each qualifier has its own.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
    Kit: the EventInvokeConfig whose Qualifier was invoked ($LATEST when unqualified); none: AWS's defaults.
    Divergence: none
    """
    failures = sqs.Queue(kit_stack, "Failures")
    function = inline(kit_stack, "Fails", FAILING)
    alias = lambda_.Alias(kit_stack, "Live", alias_name="live", version=function.current_version)
    alias.configure_async_invoke(retry_attempts=0, on_failure=destinations.SqsDestination(failures))
    with LocalKit.from_stack(kit_stack) as kit:
        client = kit.client("lambda")
        name = kit.function("Fails").name
        client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"orderId": "o-1"}')
        kit.settle()
        client.invoke(FunctionName=name, Qualifier="live", InvocationType="Event", Payload=b'{"orderId": "o-2"}')
        kit.settle()
        unqualified, qualified = kit.async_invocations("Fails")
        records = kit.messages("Failures")

    assert len(unqualified.attempts) == 3  # the function's own (default) settings: two retries, no destination
    assert unqualified.delivered_to == ()
    assert len(qualified.attempts) == 1
    assert records == [qualified.record]


def test_the_record_of_an_alias_invoke_names_the_alias_and_the_version_run(kit_stack: cdk.Stack) -> None:
    """Async invoke: the record's functionArn is the invoked qualifier's ARN, executedVersion the version that ran.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    Kit: an alias invoke's record says ``<function ARN>:<alias>`` and the alias's version; unqualified: $LATEST.
    Divergence: none
    """
    successes = sqs.Queue(kit_stack, "Successes")
    function = inline(kit_stack, "Echo", ECHO)
    function.configure_async_invoke(on_success=destinations.SqsDestination(successes))
    alias = lambda_.Alias(kit_stack, "Live", alias_name="live", version=function.current_version)
    alias.configure_async_invoke(on_success=destinations.SqsDestination(successes))
    with LocalKit.from_stack(kit_stack) as kit:
        client = kit.client("lambda")
        arn = kit.function("Echo").arn
        client.invoke(FunctionName=arn, InvocationType="Event", Payload=b"{}")
        client.invoke(FunctionName=f"{arn}:live", InvocationType="Event", Payload=b"{}")
        kit.settle()
        records = kit.messages("Successes")

    by_arn = {record["requestContext"]["functionArn"]: record for record in records}
    assert set(by_arn) == {f"{arn}:$LATEST", f"{arn}:live"}
    assert by_arn[f"{arn}:$LATEST"]["responseContext"]["executedVersion"] == "$LATEST"
    assert by_arn[f"{arn}:live"]["responseContext"]["executedVersion"] == "1"
    assert by_arn[f"{arn}:live"]["responsePayload"]["version"] == "1"


def test_the_dead_letter_queue_gets_the_event_with_request_id_error_code_and_message(kit_stack: cdk.Stack) -> None:
    """Async invoke: an event that fails every attempt goes to the function's dead-letter queue as it was sent, with
    the message attributes RequestID, ErrorCode and ErrorMessage.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    Kit: the event as the message body; RequestID (String) the invocation's request id, ErrorCode (Number) 200 (the
        invoke was accepted; the function failed), ErrorMessage (String) the function's error message.
    Divergence: none
    """
    dead = sqs.Queue(kit_stack, "Dead")
    function = inline(kit_stack, "Fails", FAILING, dead_letter_queue=dead, dead_letter_queue_enabled=True)
    function.configure_async_invoke(retry_attempts=0)
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Fails", {"orderId": "o-5"})
        (letter,) = kit.deliveries("Dead")

    assert letter.payload == {"orderId": "o-5"}
    attributes = letter.attributes["message_attributes"]
    assert set(attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    assert attributes["RequestID"] == {
        "DataType": "String",
        "StringValue": outcome.record["requestContext"]["requestId"],
    }
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"] == {"DataType": "String", "StringValue": "rejected o-5"}
