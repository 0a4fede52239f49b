"""EventPipeline: a schedule or a pattern feeding one route, always with a DLQ and a retry policy."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    BucketRoute,
    Condition,
    ConstructPropsError,
    DestinedFunction,
    EventBusRoute,
    EventPipeline,
    ExecutionStatus,
    FunctionWorkflow,
    QueueRoute,
    StateMachineRoute,
    StreamRoute,
    destination_event_pattern,
)
from tests.conftest import echo_function


def test_schedule_starts_a_workflow_with_a_transformed_input(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack))
    pipeline = EventPipeline(
        stack,
        "Nightly",
        schedule=events.Schedule.cron(hour="2", minute="0"),
        target=StateMachineRoute(workflow.state_machine),
        message=events.RuleTargetInput.from_object({"job": "nightly", "at": events.EventField.time}),
    )
    assert pipeline.dead_letter_queue is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": Match.string_like_regexp("FlowStateMachine")},
                        "InputTransformer": Match.any_value(),
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": {"MaximumEventAgeInSeconds": 14400, "MaximumRetryAttempts": 8},
                        "RoleArn": Match.any_value(),
                    }
                )
            ],
        },
    )


def test_pattern_on_a_custom_bus_feeds_a_queue(stack: cdk.Stack) -> None:
    bus = events.EventBus(stack, "Bus")
    EventPipeline(
        stack,
        "Failures",
        event_bus=bus,
        event_pattern=destination_event_pattern(conditions=[Condition.RETRIES_EXHAUSTED]),
        target=QueueRoute(),
        retry_attempts=3,
        max_event_age=cdk.Duration.hours(1),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": Match.string_like_regexp("Bus")},
            "EventPattern": Match.object_like({"detail-type": ["Lambda Function Invocation Result - Failure"]}),
            "Targets": [
                Match.object_like({"RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}})
            ],
        },
    )


def test_status_notifications_to_a_kinesis_stream(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack))
    stream = kinesis.Stream(stack, "Audit", encryption=kinesis.StreamEncryption.MANAGED)
    workflow.notify_on(
        "Audit", statuses=[ExecutionStatus.SUCCEEDED], route=StreamRoute(stream, partition_key_path="$.id")
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Events::Rule",
        {
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [Match.string_like_regexp("Audit"), "Arn"]},
                        "KinesisParameters": {"PartitionKeyPath": "$.id"},
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ]
        },
    )


# ------------------------------------------------------------------------------------------ bad input


def test_rejects_schedule_and_pattern_together_or_neither(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="exactly one"):
        EventPipeline(stack, "Neither", target=QueueRoute())
    with pytest.raises(ConstructPropsError, match="exactly one"):
        EventPipeline(
            stack,
            "Both",
            target=QueueRoute(),
            schedule=events.Schedule.rate(cdk.Duration.hours(1)),
            event_pattern=destination_event_pattern(),
        )


def test_rejects_a_schedule_on_a_custom_bus(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="a scheduled rule runs on the default bus only"):
        EventPipeline(
            stack,
            "P",
            target=QueueRoute(),
            schedule=events.Schedule.rate(cdk.Duration.hours(1)),
            event_bus=events.EventBus(stack, "Bus"),
        )


def test_rejects_targets_a_rule_cannot_have(stack: cdk.Stack) -> None:
    rate = events.Schedule.rate(cdk.Duration.hours(1))
    with pytest.raises(ConstructPropsError, match="an S3 bucket cannot be an EventBridge rule target"):
        EventPipeline(stack, "ToBucket", target=BucketRoute(), event_pattern=destination_event_pattern())
    with pytest.raises(ConstructPropsError, match="an event bus target takes no message"):
        EventPipeline(
            stack, "ToBus", target=EventBusRoute(), schedule=rate, message=events.RuleTargetInput.from_text("x")
        )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"retry_attempts": 186}, "retry_attempts must be between 0 and 185"),
        (
            {"max_event_age": cdk.Duration.hours(25)},
            "max_event_age must be between 60 seconds and 24 hours for an EventBridge target, got 25 h",
        ),
    ],
)
def test_rejects_retry_policies_eventbridge_refuses(stack: cdk.Stack, kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConstructPropsError, match=expected):
        EventPipeline(stack, "P", target=QueueRoute(), schedule=events.Schedule.rate(cdk.Duration.hours(1)), **kwargs)


def test_rejects_a_stream_or_state_machine_as_a_lambda_destination(stack: cdk.Stack) -> None:
    stream = kinesis.Stream(stack, "S", encryption=kinesis.StreamEncryption.MANAGED)
    with pytest.raises(ConstructPropsError, match="a Kinesis stream cannot be a Lambda destination"):
        DestinedFunction(stack, "D", function=echo_function(stack, "Other"), on_success=StreamRoute(stream))
