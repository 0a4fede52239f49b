"""Execution-status notifications: Step Functions status change events through EventBridge to a route."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template
from moto.events.models import EventPattern as MotoEventPattern

from constructs_lib import (
    ConstructPropsError,
    ExecutionStatus,
    ExecutionStatusChange,
    ExecutionStatusNotifications,
    FunctionWorkflow,
    QueueRoute,
    RecordFormatError,
    TopicRoute,
    execution_status_pattern,
)
from tests.conftest import echo_function, load_event

ORDERS_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"


def workflow(stack: cdk.Stack, **kwargs: Any) -> FunctionWorkflow:
    return FunctionWorkflow(stack, "Flow", function=echo_function(stack), **kwargs)


def test_failed_and_timed_out_executions_go_to_a_topic(stack: cdk.Stack) -> None:
    flow = workflow(stack)
    notifications = flow.notify_on(
        "Alerts", statuses=[ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT], route=TopicRoute()
    )
    assert notifications.route.topic is not None
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.states"],
                "detail-type": ["Step Functions Execution Status Change"],
                "detail": {
                    "status": ["FAILED", "TIMED_OUT"],
                    "stateMachineArn": [{"Ref": Match.string_like_regexp("FlowStateMachine")}],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": {"MaximumEventAgeInSeconds": 14400, "MaximumRetryAttempts": 8},
                    }
                )
            ],
        },
    )


def test_pattern_matches_real_status_change_events(stack: cdk.Stack) -> None:
    machine = sfn.StateMachine.from_state_machine_arn(stack, "Orders", ORDERS_ARN)
    rule = cdk.aws_events.Rule(
        stack, "Rule", event_pattern=execution_status_pattern(state_machine=machine, statuses=[ExecutionStatus.FAILED])
    )
    cfn = rule.node.default_child
    assert isinstance(cfn, cdk.aws_events.CfnRule)
    pattern = MotoEventPattern.load(json.dumps(stack.resolve(cfn.event_pattern)))
    event = load_event("sfn_status_failed.json")
    assert pattern.matches_event(event)
    event["detail"]["status"] = "SUCCEEDED"
    assert not pattern.matches_event(event)
    event["detail"]["status"] = "FAILED"
    event["detail"]["stateMachineArn"] = ORDERS_ARN + "2"
    assert not pattern.matches_event(event)


def test_parses_a_status_change_event() -> None:
    change = ExecutionStatusChange.from_event(load_event("sfn_status_failed.json"))
    assert change.status is ExecutionStatus.FAILED
    assert change.error == "OrderPendingError"
    assert change.state_machine_arn == ORDERS_ARN
    assert change.output is None
    assert ExecutionStatusChange.from_event(load_event("sfn_status_failed.json")["detail"]) == change


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"detail-type": "Object Created", "detail": {}}, "is not 'Step Functions Execution Status Change'"),
        ({"status": "DONE", "executionArn": "a", "stateMachineArn": "b"}, "status must be one of RUNNING"),
        ({"status": "FAILED", "stateMachineArn": "b"}, "executionArn is missing"),
        ("[", "not JSON"),
    ],
)
def test_rejects_malformed_status_change_events(event: object, expected: str) -> None:
    with pytest.raises(RecordFormatError) as error:
        ExecutionStatusChange.from_event(event)
    assert expected in str(error.value)


def test_rejects_status_notifications_on_express(stack: cdk.Stack) -> None:
    flow = workflow(stack, state_machine_type=sfn.StateMachineType.EXPRESS)
    with pytest.raises(ConstructPropsError, match="Express workflows emit no execution status change events"):
        flow.notify_on("Alerts", statuses=[ExecutionStatus.FAILED], route=QueueRoute())


def test_rejects_no_status(stack: cdk.Stack) -> None:
    flow = workflow(stack)
    with pytest.raises(ConstructPropsError, match="statuses is empty"):
        ExecutionStatusNotifications(stack, "Alerts", state_machine=flow.state_machine, statuses=[], route=QueueRoute())
