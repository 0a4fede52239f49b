"""EventBridge rule targets: delivery, the target's retry policy, and its dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from constructs_lib.testing import LocalKit, ServiceError

pytestmark = pytest.mark.execution

ORDERS = {"source": ["shop.orders"]}


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


def machine_target(stack: cdk.Stack, **options: Any) -> None:
    """A rule on shop.orders events whose target is a state machine, with a dead-letter queue ``Dlq``."""
    dlq = sqs.Queue(stack, "Dlq")
    machine = sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Noop"))
    )
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=ORDERS["source"]))
    rule.add_target(targets.SfnStateMachine(machine, dead_letter_queue=dlq, **options))


class FailingStarts:
    """A StartExecution stand-in that fails ``failures`` times with ``error``, then starts (a fake ARN)."""

    def __init__(self, failures: int, error: ServiceError) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return {"executionArn": f"{request['stateMachineArn']}:started", "startDate": 0}


def dead_letters(kit: LocalKit, queue: str = "Dlq") -> list[tuple[Any, dict[str, str]]]:
    """The messages on a dead-letter queue: (body, {attribute: value})."""
    answer = kit.client("sqs").receive_message(
        QueueUrl=kit.ref(queue), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return [
        (json.loads(message["Body"]), {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()})
        for message in answer.get("Messages", [])
    ]


def test_a_throttled_target_is_retried_until_the_retry_attempts_run_out(kit_stack: cdk.Stack) -> None:
    """EventBridge: a retriable failure is retried until MaximumRetryAttempts, then the event goes to the DLQ.

    AWS: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
    Kit: throttling and 5xx answers are retried (one SDK attempt each, virtual backoff 1 s doubling to 5 min).
    Divergence: AWS adds jitter to its exponential backoff and does not document the intervals; the kit's are
        deterministic.
    """
    machine_target(kit_stack, retry_attempts=2, max_event_age=Duration.hours(1))
    starts = FailingStarts(99, ServiceError("ThrottlingException", "Rate exceeded", 400))
    with LocalKit.from_stack(kit_stack, services={"stepfunctions:StartExecution": starts}) as kit:
        kit.put_event({"orderId": "o-1"}, source="shop.orders", detail_type="Order Placed")
        (body, attributes), *others = dead_letters(kit)

    assert starts.calls == 3
    assert others == []
    assert body["detail"] == {"orderId": "o-1"}
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"


def test_retries_stop_when_the_event_is_older_than_the_maximum_age(kit_stack: cdk.Stack) -> None:
    """EventBridge: retries stop at whichever of MaximumRetryAttempts and MaximumEventAgeInSeconds comes first.

    AWS: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
    Kit: with the default 185 attempts and a 60 s age, the backoff (1, 2, 4, 8, 16 s) ends at the sixth attempt.
    Divergence: none
    """
    machine_target(kit_stack, max_event_age=Duration.seconds(60))
    starts = FailingStarts(999, ServiceError("ServiceUnavailable", "try later", 503))
    with LocalKit.from_stack(kit_stack, services={"stepfunctions:StartExecution": starts}) as kit:
        kit.put_event({"orderId": "o-2"}, source="shop.orders", detail_type="Order Placed")
        ((_, attributes),) = dead_letters(kit)

    assert starts.calls == 6  # the seventh would start 63 s after the event
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert attributes["RETRY_ATTEMPTS"] == "5"
    assert attributes["ERROR_CODE"] == "ERROR_FROM_TARGET"


def test_a_target_that_recovers_within_the_policy_gets_the_event(kit_stack: cdk.Stack) -> None:
    """EventBridge: an event that a retry delivers is not sent to the dead-letter queue.

    AWS: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
    Kit: two throttled attempts, the third delivers; the DLQ stays empty.
    Divergence: none
    """
    machine_target(kit_stack, retry_attempts=3)
    starts = FailingStarts(2, ServiceError("ThrottlingException", "Rate exceeded", 400))
    with LocalKit.from_stack(kit_stack, services={"stepfunctions:StartExecution": starts}) as kit:
        kit.put_event({"orderId": "o-3"}, source="shop.orders", detail_type="Order Placed")
        left = dead_letters(kit)

    assert starts.calls == 3
    assert left == []


def test_dead_letters_carry_the_documented_attributes_and_error_codes(kit_stack: cdk.Stack) -> None:
    """EventBridge: each DLQ message has RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE and the retry attributes.

    AWS: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    Kit: AWS's error codes (THROTTLING, NO_PERMISSIONS, NO_RESOURCE, ERROR_FROM_TARGET, INVALID_PARAMETER, ...).
    Divergence: the docs are ambiguous: they name EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS without values; the
        kit writes the RetryPolicy field that ran out (only when one did) and the number of retries made.
    """
    machine_target(kit_stack, retry_attempts=1)
    starts = FailingStarts(99, ServiceError("ThrottlingException", "Rate exceeded", 400))
    with LocalKit.from_stack(kit_stack, services={"stepfunctions:StartExecution": starts}) as kit:
        kit.put_event({"orderId": "o-4"}, source="shop.orders", detail_type="Order Placed")
        ((_, attributes),) = dead_letters(kit)
        rule_arn, machine_arn = kit.arn("Rule"), kit.arn("Machine")

    assert attributes == {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": machine_arn,
        "ERROR_CODE": "THROTTLING",
        "ERROR_MESSAGE": "Rate exceeded",
        "RETRY_ATTEMPTS": "1",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
    }


def test_missing_permissions_go_to_the_dead_letter_queue_without_retries(kit_stack: cdk.Stack) -> None:
    """EventBridge: errors from missing permissions are not retried; the event goes straight to the DLQ.

    AWS: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    Kit: a delivery the template's policies refuse is ERROR_CODE NO_PERMISSIONS, RETRY_ATTEMPTS 0, no exhausted
        condition.
    Divergence: none
    """
    target = sqs.Queue(kit_stack, "Unreachable")  # no queue policy lets EventBridge in
    dlq = sqs.Queue(kit_stack, "Dlq")
    dlq.grant_send_messages(iam.ServicePrincipal("events.amazonaws.com"))
    events.CfnRule(
        kit_stack,
        "Rule",
        event_pattern=ORDERS,
        targets=[
            events.CfnRule.TargetProperty(
                arn=target.queue_arn,
                id="Queue",
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dlq.queue_arn),
            )
        ],
    )
    with LocalKit.from_stack(kit_stack) as kit:
        kit.put_event({"orderId": "o-5"}, source="shop.orders", detail_type="Order Placed")
        ((body, attributes),) = dead_letters(kit)
        on_target = kit.messages("Unreachable")

    assert on_target == []
    assert body["detail"] == {"orderId": "o-5"}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert attributes["RETRY_ATTEMPTS"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes


def test_a_kinesis_stream_target_gets_the_event_with_its_partition_key(kit_stack: cdk.Stack) -> None:
    """EventBridge: a Kinesis stream target gets the event as a record, keyed by PartitionKeyPath.

    AWS: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_KinesisParameters.html
    Kit: PutRecord with the target's role; the partition key from PartitionKeyPath, else the event id.
    Divergence: none
    """
    stream = kinesis.Stream(kit_stack, "Orders", shard_count=1)
    dlq = sqs.Queue(kit_stack, "Dlq")
    rule = events.Rule(kit_stack, "Rule", event_pattern=events.EventPattern(source=ORDERS["source"]))
    rule.add_target(targets.KinesisStream(stream, partition_key_path="$.detail.orderId", dead_letter_queue=dlq))
    with LocalKit.from_stack(kit_stack) as kit:
        kit.put_event({"orderId": "o-6"}, source="shop.orders", detail_type="Order Placed")
        client = kit.client("kinesis")
        name = kit.ref("Orders")
        shard = client.list_shards(StreamName=name)["Shards"][0]["ShardId"]
        iterator = client.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        left = dead_letters(kit)

    assert left == []
    assert [record["PartitionKey"] for record in records] == ["o-6"]
    assert json.loads(records[0]["Data"])["detail"] == {"orderId": "o-6"}
