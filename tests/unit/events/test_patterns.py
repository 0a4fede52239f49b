"""Event patterns for execution records, checked against real records with moto's EventBridge matcher."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from moto.events.models import EventPattern as MotoEventPattern

from constructs_lib import Condition, destination_event_pattern
from tests.conftest import load_event

WORKER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:worker"


def rendered(stack: cdk.Stack, pattern: events.EventPattern) -> dict[str, Any]:
    rule = events.Rule(stack, "Rule", event_pattern=pattern)
    cfn = rule.node.default_child
    assert isinstance(cfn, events.CfnRule)
    resolved: dict[str, Any] = stack.resolve(cfn.event_pattern)
    return resolved


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    result: bool = MotoEventPattern.load(json.dumps(pattern)).matches_event(event)  # type: ignore[arg-type]
    return result


def success_event(function_arn: str = f"{WORKER_ARN}:$LATEST", **response: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_event("eventbridge_success_event.json")
    event["detail"]["requestContext"]["functionArn"] = function_arn
    event["detail"]["responsePayload"].update(response)
    return event


def failure_event(error_type: str = "InvalidOrderError", qualifier: str = "live") -> dict[str, Any]:
    record = load_event("destination_failure_record.json")
    record["requestContext"]["functionArn"] = f"{WORKER_ARN}:{qualifier}"
    record["responsePayload"]["errorType"] = error_type
    return {"detail-type": "Lambda Function Invocation Result - Failure", "source": "lambda", "detail": record}


def test_matches_every_qualifier_of_one_function_only(stack: cdk.Stack) -> None:
    worker = lambda_.Function.from_function_arn(stack, "Worker", WORKER_ARN)
    pattern = rendered(stack, destination_event_pattern(function=worker, conditions=[Condition.SUCCESS]))
    assert pattern["detail-type"] == ["Lambda Function Invocation Result - Success"]
    assert pattern["detail"]["requestContext"]["functionArn"] == [{"prefix": f"{WORKER_ARN}:"}]
    for qualifier in ("$LATEST", "7", "live"):
        assert matches(pattern, success_event(f"{WORKER_ARN}:{qualifier}"))
    assert not matches(pattern, success_event(f"{WORKER_ARN}2:$LATEST"))  # another function with a longer name
    assert not matches(pattern, failure_event())


def test_matches_fields_of_the_response(stack: cdk.Stack) -> None:
    pattern = rendered(
        stack,
        destination_event_pattern(
            conditions=[Condition.SUCCESS],
            response={"status": "ACCEPTED", "quantity": events.Match.less_than(10)},
        ),
    )
    assert pattern["detail"]["responsePayload"]["status"] == ["ACCEPTED"]
    assert matches(pattern, success_event(status="ACCEPTED", quantity=3))
    assert not matches(pattern, success_event(status="REVIEW", quantity=3))
    assert not matches(pattern, success_event(status="ACCEPTED", quantity=30))


def test_matches_error_types_of_failures(stack: cdk.Stack) -> None:
    pattern = rendered(stack, destination_event_pattern(error_types=["InvalidOrderError"]))
    assert pattern["detail-type"] == ["Lambda Function Invocation Result - Failure"]
    # every failure condition any engine sends, so the rule survives an engine switch
    assert pattern["detail"]["requestContext"]["condition"] == [
        "RetriesExhausted",
        "EventAgeExceeded",
        "TimedOut",
        "Aborted",
    ]
    assert matches(pattern, failure_event("InvalidOrderError"))
    assert not matches(pattern, failure_event("TimeoutError"))
    assert not matches(pattern, success_event())


def test_matches_every_record_by_default(stack: cdk.Stack) -> None:
    pattern = rendered(stack, destination_event_pattern())
    assert "detail" not in pattern
    assert matches(pattern, success_event())
    assert matches(pattern, failure_event())


def test_mixed_conditions_match_both_detail_types(stack: cdk.Stack) -> None:
    pattern = rendered(stack, destination_event_pattern(conditions=[Condition.SUCCESS, Condition.EVENT_AGE_EXCEEDED]))
    assert len(pattern["detail-type"]) == 2


def test_rejects_error_types_with_success() -> None:
    with pytest.raises(ValueError, match="error_types match failed invocations only"):
        destination_event_pattern(conditions=[Condition.SUCCESS], error_types=["X"])
