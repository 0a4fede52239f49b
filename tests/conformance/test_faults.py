"""Faults a test asks for (``Faults``): what AWS documents may happen, made to happen on purpose, seeded.

Each test states the AWS behaviour the fault stands for; the kit marks what it duplicated, so that a test can tell a
duplicate it asked for from a defect of the stack.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from constructs_lib import DestinedFunction, FunctionWorkflow, QueueRoute
from constructs_lib.testing import Faults, LocalKit

pytestmark = pytest.mark.execution

RUNTIME = lambda_.Runtime.PYTHON_3_14
ECHO = "def handler(event, context):\n    return event\n"
FAILING = "def handler(event, context):\n    raise ValueError('rejected')\n"
ALWAYS = Faults(seed=1, duplicate_rate=1.0)
"""Every at-least-once delivery made twice: a duplicate is never duplicated again, so exactly twice."""


def inline(stack: cdk.Stack, construct_id: str, code: str = ECHO, **props: Any) -> lambda_.Function:
    return lambda_.Function(
        stack, construct_id, runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(code), **props
    )


def worker(stack: cdk.Stack, code: str = ECHO, **props: Any) -> DestinedFunction:
    return DestinedFunction(
        stack,
        "Worker",
        function_props=lambda_.FunctionProps(
            runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(code)
        ),
        on_success=QueueRoute(),
        on_failure=QueueRoute(),
        **props,
    )


def reserve_nothing(function: Any) -> None:
    """Reserved concurrency 0 in the function's template."""
    cfn = function.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    cfn.reserved_concurrent_executions = 0


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Faults")


def test_an_async_event_may_run_twice_with_the_same_request_id(kit_stack: cdk.Stack) -> None:
    """Async invoke: a function may receive the same event more than once, even when it returns no error.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    Kit: with Faults.duplicate_rate, the event runs again and its record goes to the destination again, marked as
        a duplicate, with the original's request id.
    Divergence: the docs are ambiguous: they do not say whether a duplicate has the original's request id; the kit
        keeps it, so that a consumer can deduplicate records by requestContext.requestId.
    """
    worker(kit_stack)
    with LocalKit.from_stack(kit_stack, faults=ALWAYS) as kit:
        kit.invoke_async("Worker/Function", {"orderId": "o-1"})
        runs = kit.invocations("Worker/Function")
        outcomes = kit.async_invocations("Worker/Function")
        records = kit.messages("Worker/OnSuccessQueue")
        deliveries = kit.deliveries("Worker/OnSuccessQueue")

    assert [run.event for run in runs] == [{"orderId": "o-1"}] * 2
    assert len({run.request_id for run in runs}) == 1
    assert [outcome.duplicate for outcome in outcomes] == [False, True]
    assert len(records) == 2
    assert len({record["requestContext"]["requestId"] for record in records}) == 1
    assert [delivery.duplicate for delivery in deliveries] == [False, True]


def test_a_throttled_async_event_waits_in_the_queue_and_is_not_a_retry(kit_stack: cdk.Stack) -> None:
    """Async invoke: a throttled event goes back to the queue, retried after 1 s, doubling to 5 min, up to its age.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    Kit: with Faults.throttle_rate, throttles age the event (1, 2, 4 ... 300 s of virtual time) and do not count
        as retries; an event that outlives its maximum age is discarded to the failure route.
    Divergence: the docs are ambiguous: they document no record for an event that throttles outlived; the kit sends
        the one it sends for reserved concurrency 0 (statusCode 429, TooManyRequestsException, count 1).
    """
    worker(kit_stack, max_event_age=Duration.seconds(60), retry_attempts=0)
    with LocalKit.from_stack(kit_stack, faults=Faults(seed=3, throttle_rate=0.5)) as kit:
        outcomes = [kit.invoke_async("Worker/Function", {"orderId": f"o-{i}"}) for i in range(24)]
        failures = kit.messages("Worker/OnFailureQueue")

    throttled = [outcome for outcome in outcomes if outcome.throttles]
    assert 4 <= len(throttled) <= 20, "about half the events are throttled at least once"
    assert all(len(outcome.attempts) <= 1 for outcome in outcomes), "throttles are not retries"
    # 1 + 2 + 4 + 8 + 16 + 32 = 63 s > 60 s: six throttles in a row outlive the maximum age; five do not.
    expired = [outcome for outcome in outcomes if outcome.condition == "EventAgeExceeded"]
    assert all(outcome.throttles >= 6 and not outcome.attempts for outcome in expired)
    assert all(outcome.succeeded for outcome in outcomes if outcome.throttles < 6)
    assert len(failures) == len(expired)
    assert all(record["responseContext"]["statusCode"] == 429 for record in failures)
    assert all(record["responsePayload"]["errorType"] == "TooManyRequestsException" for record in failures)


def test_an_sns_message_may_reach_a_subscription_twice(kit_stack: cdk.Stack) -> None:
    """SNS: a standard topic delivers at least once: a subscriber may occasionally get a message twice.

    AWS: https://aws.amazon.com/sns/faqs/
    Kit: with Faults.duplicate_rate, a subscription gets the message again (same MessageId), marked as a duplicate.
    Divergence: none
    """
    topic = sns.Topic(kit_stack, "Topic")
    queue = sqs.Queue(kit_stack, "Inbox")
    topic.add_subscription(subscriptions.SqsSubscription(queue, raw_message_delivery=True))
    listener = inline(kit_stack, "Listener")
    topic.add_subscription(subscriptions.LambdaSubscription(listener))
    with LocalKit.from_stack(kit_stack, faults=ALWAYS) as kit:
        kit.publish("Topic", {"orderId": "o-1"})
        to_queue = kit.deliveries("Inbox")
        runs = kit.invocations("Listener")

    assert [delivery.payload for delivery in to_queue] == [{"orderId": "o-1"}] * 2
    assert [delivery.duplicate for delivery in to_queue] == [False, True]
    # SNS's duplicate, and the duplicate of Lambda's own asynchronous queue (SNS invokes a function asynchronously,
    # two at-least-once hops): three runs of one message.
    message_ids = {run.event["Records"][0]["Sns"]["MessageId"] for run in runs}
    assert len(runs) == 3
    assert len(message_ids) == 1


def test_an_s3_notification_may_arrive_twice(kit_stack: cdk.Stack) -> None:
    """S3 notifications: event notifications are delivered at least once, so one may arrive twice.

    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html
    Kit: with Faults.duplicate_rate, a notification goes to its queue or function again, marked as a duplicate.
    Divergence: none
    """
    bucket = s3.Bucket(kit_stack, "Uploads")
    queue = sqs.Queue(kit_stack, "Inbox")
    bucket.add_event_notification(
        s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue), s3.NotificationKeyFilter(prefix="q")
    )
    listener = inline(kit_stack, "Listener")
    bucket.add_event_notification(
        s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(listener), s3.NotificationKeyFilter(prefix="f")
    )
    with LocalKit.from_stack(kit_stack, faults=ALWAYS) as kit:
        kit.put_object("Uploads", "qa.txt", b"a")
        kit.put_object("Uploads", "fb.txt", b"b")
        to_queue = kit.deliveries("Inbox")
        runs = kit.invocations("Listener")

    keys = [delivery.payload["Records"][0]["s3"]["object"]["key"] for delivery in to_queue]
    assert keys == ["qa.txt", "qa.txt"]
    assert [delivery.duplicate for delivery in to_queue] == [False, True]
    # S3's duplicate, and that of Lambda's asynchronous queue (S3 invokes a function asynchronously): three runs.
    assert [run.event["Records"][0]["s3"]["object"]["key"] for run in runs] == ["fb.txt"] * 3


def test_an_eventbridge_target_may_get_an_event_twice(kit_stack: cdk.Stack) -> None:
    """EventBridge: events reach targets at least once, so a target may get the same event twice.

    AWS: https://aws.amazon.com/eventbridge/faqs/
    Kit: with Faults.duplicate_rate, a matched event goes to the rule's targets again (same event id), marked.
    Divergence: the kit duplicates a rule match, so every target of the rule gets the duplicate; on AWS each target's
        delivery is its own (the FAQ states at-least-once delivery; the user guide's retry page does not mention it).
    """
    queue = sqs.Queue(kit_stack, "Inbox")
    events.Rule(
        kit_stack, "Orders", event_pattern=events.EventPattern(source=["shop"]), targets=[targets.SqsQueue(queue)]
    )
    with LocalKit.from_stack(kit_stack, faults=ALWAYS) as kit:
        kit.put_event({"orderId": "o-1"}, source="shop", detail_type="Order Placed")
        delivered = kit.deliveries("Inbox")

    assert [delivery.payload["detail"] for delivery in delivered] == [{"orderId": "o-1"}] * 2
    assert delivered[0].payload["id"] == delivered[1].payload["id"]
    assert [delivery.duplicate for delivery in delivered] == [False, True]


def test_an_sqs_message_may_be_received_twice(kit_stack: cdk.Stack) -> None:
    """SQS event source: a standard queue delivers at least once: a handled message may be received again.

    AWS: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html
    Kit: with Faults.duplicate_rate, a batch the function handled goes to it again (same messageId), marked.
    Divergence: none
    """
    queue = sqs.Queue(kit_stack, "Inbox")
    consumer = inline(kit_stack, "Consumer")
    consumer.add_event_source(event_sources.SqsEventSource(queue))
    with LocalKit.from_stack(kit_stack, faults=ALWAYS) as kit:
        kit.send_message("Inbox", {"orderId": "o-1"})
        runs = kit.invocations("Consumer")
        deliveries = kit.deliveries("Consumer")

    assert len(runs) == 2
    assert len({run.event["Records"][0]["messageId"] for run in runs}) == 1
    assert [delivery.duplicate for delivery in deliveries] == [False, True]


def test_a_throttled_sqs_batch_goes_back_to_its_queue(kit_stack: cdk.Stack) -> None:
    """SQS event source: a throttled batch returns to the queue and its receive counts toward maxReceiveCount.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    Kit: with Faults.throttle_rate, a batch is received and not handled; it is received again later, and a queue
        whose redrive policy allows one receive sends it to the dead-letter queue.
    Divergence: none
    """
    dead = sqs.Queue(kit_stack, "Dead")
    queue = sqs.Queue(kit_stack, "Inbox", dead_letter_queue=sqs.DeadLetterQueue(queue=dead, max_receive_count=1))
    consumer = inline(kit_stack, "Consumer")
    consumer.add_event_source(event_sources.SqsEventSource(queue, batch_size=1))
    with LocalKit.from_stack(kit_stack, faults=Faults(seed=5, throttle_rate=0.5)) as kit:
        for i in range(20):
            kit.send_message("Inbox", {"orderId": f"o-{i}"})
        handled = [run.event["Records"][0]["body"] for run in kit.invocations("Consumer")]
        dead_letters = kit.messages("Dead")

    assert 2 <= len(dead_letters) <= 18, "about half were throttled on their one receive"
    assert sorted([json.loads(body)["orderId"] for body in handled] + [m["orderId"] for m in dead_letters]) == sorted(
        f"o-{i}" for i in range(20)
    )


def test_a_lambda_task_service_exception_is_retried_by_the_workflow(kit_stack: cdk.Stack) -> None:
    """Step Functions: a Lambda task may fail with Lambda.ServiceException and friends, which a Retry can match.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
    Kit: with Faults.service_exception_rate, a Lambda task fails with one of Faults.service_exceptions before the
        function runs, named as Step Functions names it, so that the workflow's service-exception Retry runs.
    Divergence: none
    """
    FunctionWorkflow(kit_stack, "Flow", function=inline(kit_stack, "Fn"), on_failure=QueueRoute())
    faults = Faults(seed=11, service_exception_rate=0.4)
    with LocalKit.from_stack(kit_stack, faults=faults) as kit:
        results = [kit.start_execution("Flow/StateMachine", {"orderId": f"o-{i}"}) for i in range(4)]

    errors = [error for result in results for error in result.task_errors("Invoke")]
    assert errors, "some tasks failed with a service exception"
    assert set(errors) <= {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}
    assert all(result.succeeded for result in results), "the workflow's Retry for service exceptions got them through"
    assert sum(result.attempts("Invoke") for result in results) == len(results) + len(errors)


def test_a_throttled_lambda_task_fails_with_too_many_requests(kit_stack: cdk.Stack) -> None:
    """Step Functions: a throttled Lambda task fails with Lambda.TooManyRequestsException.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
    Kit: with Faults.throttle_rate (or reserved concurrency 0) a synchronous Invoke fails with a 429
        TooManyRequestsException, which a task reports as Lambda.TooManyRequestsException.
    Divergence: none
    """
    function = inline(kit_stack, "Fn")
    reserve_nothing(function)
    FunctionWorkflow(kit_stack, "Flow", function=function, on_failure=QueueRoute())
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-1"})

    assert result.status == "FAILED"
    assert set(result.task_errors("Invoke")) == {"Lambda.TooManyRequestsException"}
    assert kit.invocations("Fn") == []


def test_a_target_that_fails_its_first_deliveries(kit_stack: cdk.Stack) -> None:
    """Async invoke: a function error is retried (twice by default); a failed destination delivery is dropped.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    Kit: Faults.failing_targets makes a function fail its first N invocations (its handler does not run) and a
        queue refuse its first N deliveries with a 500 InternalFailure.
    Divergence: none
    """
    worker(kit_stack)
    faults = Faults(failing_targets={"Worker/Function": 2, "Worker/OnSuccessQueue": 1})
    with LocalKit.from_stack(kit_stack, faults=faults) as kit:
        first = kit.invoke_async("Worker/Function", {"orderId": "o-1"})
        second = kit.invoke_async("Worker/Function", {"orderId": "o-2"})
        runs = kit.invocations("Worker/Function")
        records = kit.messages("Worker/OnSuccessQueue")

    assert [run.error_type for run in first.attempts] == ["InjectedFault", "InjectedFault", None]
    assert first.succeeded
    assert first.failed_deliveries == (kit.logical_id("Worker/OnSuccessQueue"),)
    assert second.succeeded
    assert len(second.attempts) == 1
    assert [record["requestPayload"] for record in records] == [{"orderId": "o-2"}]
    assert len(runs) == 4


def test_an_s3_batch_task_may_run_again(plain_app: cdk.App) -> None:
    """S3 Batch: the job invokes the function synchronously per task and records one result per task.

    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
    Kit: with Faults.duplicate_rate, a task's function runs a second time with the same event; the completion
        report keeps the first answer, one row per task.
    Divergence: the docs are ambiguous: they do not say a task runs at most once (a TemporaryFailure or a timeout
        after the work was done runs it again), so the kit lets a test make it run twice.
    """
    from constructs_lib.testing import read_completion_report
    from tests.execution.test_s3_batch_execution import Comprehend, sentiment_stack

    keys = ["reviews/1.txt", "reviews/2.txt"]
    with LocalKit.from_stack(
        sentiment_stack(plain_app, keys), services={"comprehend:DetectSentiment": Comprehend()}, faults=ALWAYS
    ) as kit:
        for key in keys:
            kit.put_object("Documents", key, "lovely")
        report = kit.run_batch_job()
        rows = read_completion_report(kit.client("s3"), str(report.report_bucket), report.report_keys[0])
        runs = kit.deliveries("SentimentJob/Function")

    assert sorted(row.key for row in rows) == keys
    assert [run.duplicate for run in runs] == [False, True, False, True]
    assert [run.payload["tasks"][0]["s3Key"] for run in runs] == [keys[0], keys[0], keys[1], keys[1]]
