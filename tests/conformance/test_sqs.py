"""SQS event sources: batches, partial batch responses and the queue's redrive to its dead-letter queue."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import inline

pytestmark = pytest.mark.execution

PARTIAL = """
def handler(event, context):
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]}
"""


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


def consumer_of_inbox(stack: cdk.Stack, code: str, *, max_receive_count: int) -> None:
    """A queue ``Inbox`` (redrive to ``Dlq`` after ``max_receive_count`` receives) read by ``Consumer`` (``code``)
    with ReportBatchItemFailures."""
    dlq = sqs.Queue(stack, "Dlq")
    queue = sqs.Queue(
        stack, "Inbox", dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count)
    )
    inline(stack, "Consumer", code).add_event_source(
        event_sources.SqsEventSource(queue, report_batch_item_failures=True)
    )


def test_reported_failures_return_to_the_queue_and_redrive_to_the_dlq(kit_stack: cdk.Stack) -> None:
    """SQS: with ReportBatchItemFailures only the listed messages return to the queue; maxReceiveCount redrives them.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    Kit: the listed messages become visible again, the others are deleted; the redrive policy moves a message after
        maxReceiveCount receives.
    Divergence: none
    """
    consumer_of_inbox(kit_stack, PARTIAL, max_receive_count=2)
    with LocalKit.from_stack(kit_stack) as kit:
        kit.send_message("Inbox", "good")
        kit.send_message("Inbox", "bad")
        left = kit.messages("Inbox")
        dead = kit.messages("Dlq")
        seen = [record["body"] for inv in kit.invocations("Consumer") for record in inv.event["Records"]]

    assert left == []
    assert dead == ["bad"]
    assert seen.count("good") == 1
    assert seen.count("bad") == 2


def test_an_invalid_item_identifier_fails_the_whole_batch(kit_stack: cdk.Stack) -> None:
    """SQS: a null, empty or unknown itemIdentifier makes Lambda treat the whole batch as failed.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    Kit: every message of the batch returns to the queue (here: redriven after one receive).
    Divergence: none
    """
    consumer_of_inbox(
        kit_stack,
        "def handler(event, context):\n    return {'batchItemFailures': [{'itemIdentifier': None}]}\n",
        max_receive_count=1,
    )
    with LocalKit.from_stack(kit_stack) as kit:
        kit.send_message("Inbox", "kept")
        dead = kit.messages("Dlq")

    assert dead == ["kept"]


@pytest.mark.parametrize("answer", ["['not', 'an', 'object']", "'ok'"])
def test_a_response_that_is_not_an_object_fails_the_whole_batch(kit_stack: cdk.Stack, answer: str) -> None:
    """SQS: with ReportBatchItemFailures, an invalid JSON response fails the whole batch.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    Kit: a list, string or number answer returns every message of the batch to the queue.
    Divergence: none
    """
    consumer_of_inbox(kit_stack, f"def handler(event, context):\n    return {answer}\n", max_receive_count=1)
    with LocalKit.from_stack(kit_stack) as kit:
        kit.send_message("Inbox", "kept")
        dead = kit.messages("Dlq")

    assert dead == ["kept"]


@pytest.mark.parametrize("answer", ["None", "{'batchItemFailures': []}"])
def test_an_empty_response_is_complete_success(kit_stack: cdk.Stack, answer: str) -> None:
    """SQS: a null or empty response, or a null or empty batchItemFailures, is complete success.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    Kit: every message of the batch is deleted.
    Divergence: none
    """
    consumer_of_inbox(kit_stack, f"def handler(event, context):\n    return {answer}\n", max_receive_count=1)
    with LocalKit.from_stack(kit_stack) as kit:
        kit.send_message("Inbox", "done")
        left, dead = kit.messages("Inbox"), kit.messages("Dlq")

    assert left == dead == []
