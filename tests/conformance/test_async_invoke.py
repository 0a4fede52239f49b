"""Asynchronous invocation (Event): Lambda's queue, retries, maximum event age and what it hands on."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import failing_worker

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
