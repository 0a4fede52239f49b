"""Engine parity: what a caller does with a DestinedFunction works the same on a FunctionWorkflow (the rules on its
records, the patterns of its records), and the pattern builder matches both engines' records."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template
from moto.events.models import EventPattern as MotoEventPattern

from constructs_lib import (
    Condition,
    ConstructPropsError,
    DestinedFunction,
    DurableFunction,
    EventBusRoute,
    FunctionWorkflow,
    QueueRoute,
    destination_event_pattern,
    result_event_pattern,
)
from tests.conftest import load_event

WORKER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:worker"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
HANDLER = "def handler(event, context):\n    return event\n"

Engine = type[DestinedFunction] | type[FunctionWorkflow] | type[DurableFunction]


def rendered(stack: cdk.Stack, pattern: events.EventPattern, construct_id: str = "Rule") -> dict[str, Any]:
    rule = events.Rule(stack, construct_id, event_pattern=pattern)
    cfn = rule.node.default_child
    assert isinstance(cfn, events.CfnRule)
    resolved: dict[str, Any] = stack.resolve(cfn.event_pattern)
    return resolved


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    result: bool = MotoEventPattern.load(json.dumps(pattern)).matches_event(event)  # type: ignore[arg-type]
    return result


def lambda_event(**response: Any) -> dict[str, Any]:
    """Lambda Destinations' success record on a bus (AWS's documented event)."""
    event: dict[str, Any] = load_event("eventbridge_success_event.json")
    event["detail"]["requestContext"]["functionArn"] = f"{WORKER_ARN}:$LATEST"
    event["detail"]["responsePayload"] = response
    return event


def workflow_event(**response: Any) -> dict[str, Any]:
    """The same record from a FunctionWorkflow: its source, the state machine's ARN (Step Functions appends the
    execution and state machine ARNs to ``resources``)."""
    event = lambda_event(**response)
    event["source"] = "constructs-lib.workflow"
    event["resources"] = [f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:exec-1", MACHINE_ARN]
    event["detail"]["requestContext"]["functionArn"] = MACHINE_ARN
    return event


def durable_event(**response: Any) -> dict[str, Any]:
    """The same record from a DurableFunction: its source, the function's ARN with the version that ran."""
    event = lambda_event(**response)
    event["source"] = "constructs-lib.durable"
    event["resources"] = [f"{WORKER_ARN}:1"]
    event["detail"]["requestContext"]["functionArn"] = f"{WORKER_ARN}:1"
    return event


def engine(stack: cdk.Stack, kind: Engine, **props: Any) -> DestinedFunction | FunctionWorkflow | DurableFunction:
    return kind(
        stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(HANDLER)
        ),
        **props,
    )


# ------------------------------------------------------------------------------------------------ the pattern builder


def test_result_event_pattern_matches_the_records_of_all_three_engines(stack: cdk.Stack) -> None:
    pattern = rendered(stack, result_event_pattern(conditions=[Condition.SUCCESS], response={"status": "REVIEW"}))
    assert pattern["source"] == ["lambda", "constructs-lib.durable", "constructs-lib.workflow"]
    assert matches(pattern, lambda_event(status="REVIEW"))
    assert matches(pattern, workflow_event(status="REVIEW"))
    assert matches(pattern, durable_event(status="REVIEW"))
    assert not matches(pattern, workflow_event(status="ACCEPTED"))
    # The functions' pattern builder matches the records of functions, durable or not, never a workflow's
    functions = rendered(stack, destination_event_pattern(response={"status": "REVIEW"}), "FunctionsOnly")
    assert matches(functions, lambda_event(status="REVIEW"))
    assert matches(functions, durable_event(status="REVIEW"))
    assert not matches(functions, workflow_event(status="REVIEW"))


def test_result_event_pattern_of_a_state_machine_matches_its_records_only(stack: cdk.Stack) -> None:
    machine = sfn.StateMachine.from_state_machine_arn(stack, "Machine", MACHINE_ARN)
    pattern = rendered(stack, result_event_pattern(state_machine=machine))
    assert pattern["source"] == ["constructs-lib.workflow"]
    assert pattern["detail"]["requestContext"]["functionArn"] == [MACHINE_ARN]
    assert matches(pattern, workflow_event(status="REVIEW"))
    assert not matches(pattern, lambda_event(status="REVIEW"))
    other = workflow_event(status="REVIEW")
    other["detail"]["requestContext"]["functionArn"] = f"{MACHINE_ARN}-2"
    assert not matches(pattern, other)


def test_result_event_pattern_of_a_function_is_destination_event_pattern(stack: cdk.Stack) -> None:
    worker = lambda_.Function.from_function_arn(stack, "Worker", WORKER_ARN)
    ours = rendered(stack, result_event_pattern(function=worker, error_types=["KeyError"]), "Ours")
    theirs = rendered(stack, destination_event_pattern(function=worker, error_types=["KeyError"]), "Theirs")
    assert ours == theirs
    assert ours["source"] == ["lambda", "constructs-lib.durable"]
    failed = durable_event()
    failed["detail-type"] = "Lambda Function Invocation Result - Failure"
    failed["detail"]["requestContext"]["condition"] = "RetriesExhausted"
    failed["detail"]["responsePayload"] = {"errorType": "KeyError", "errorMessage": "x"}
    assert matches(ours, failed)  # the function's durable executions, whichever version ran
    failed["detail"]["requestContext"]["functionArn"] = f"{WORKER_ARN}-other:1"
    assert not matches(ours, failed)


def test_result_event_pattern_takes_one_producer() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    worker = lambda_.Function.from_function_arn(stack, "Worker", WORKER_ARN)
    machine = sfn.StateMachine.from_state_machine_arn(stack, "Machine", MACHINE_ARN)
    with pytest.raises(ValueError, match="not both: a record has one producer"):
        result_event_pattern(function=worker, state_machine=machine)


# ------------------------------------------------------------------------------------------------ add_result_rule


def test_workflow_add_result_rule_matches_the_workflow_records_on_its_bus(stack: cdk.Stack) -> None:
    workflow = engine(stack, FunctionWorkflow, on_success=EventBusRoute())
    assert isinstance(workflow, FunctionWorkflow)
    rule = workflow.add_result_rule("Review", route=QueueRoute(), response={"status": "REVIEW"}, retry_attempts=3)
    assert workflow.rules == [rule]
    assert len(workflow.rule_dead_letter_queues) == 1
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": Match.string_like_regexp("OrdersOnSuccessBus")},
            "EventPattern": {
                "source": ["constructs-lib.workflow"],
                "detail-type": ["Lambda Function Invocation Result - Success"],
                "detail": {
                    "requestContext": {
                        "condition": ["Success"],
                        "functionArn": [{"Ref": Match.string_like_regexp("OrdersStateMachine")}],
                    },
                    "responsePayload": {"status": ["REVIEW"]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 14400},
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )


@pytest.mark.parametrize("kind", [DestinedFunction, FunctionWorkflow, DurableFunction])
def test_the_same_rule_call_makes_the_same_rule_on_any_engine(stack: cdk.Stack, kind: Engine) -> None:
    """Only the records' source and producer ARN differ: the rule, its target and its DLQ are the same."""
    orders = engine(stack, kind, on_failure=EventBusRoute())
    orders.add_result_rule("BadInput", route=QueueRoute(), error_types=["InvalidOrderError"])
    template = Template.from_stack(stack)
    rules = template.find_resources("AWS::Events::Rule")
    (rule,) = [r for logical_id, r in rules.items() if "BadInput" in logical_id]
    pattern = rule["Properties"]["EventPattern"]
    sources = {
        DestinedFunction: ["lambda", "constructs-lib.durable"],  # a function's records, durable or not
        DurableFunction: ["lambda", "constructs-lib.durable"],
        FunctionWorkflow: ["constructs-lib.workflow"],
    }
    assert pattern["source"] == sources[kind]
    assert pattern["detail-type"] == ["Lambda Function Invocation Result - Failure"]
    assert pattern["detail"]["requestContext"]["condition"] == [
        "RetriesExhausted",
        "EventAgeExceeded",
        "TimedOut",
        "Aborted",
    ]
    assert pattern["detail"]["responsePayload"] == {"errorType": ["InvalidOrderError"]}
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 14400}
    assert "DeadLetterConfig" in target


def test_workflow_add_result_rule_refuses_conditions_a_workflow_never_sends(stack: cdk.Stack) -> None:
    workflow = engine(stack, FunctionWorkflow, on_failure=EventBusRoute())
    assert isinstance(workflow, FunctionWorkflow)
    with pytest.raises(ConstructPropsError, match="sends no record with condition EventAgeExceeded"):
        workflow.add_result_rule("Expired", route=QueueRoute(), conditions=[Condition.EVENT_AGE_EXCEEDED])


def test_a_standard_workflow_takes_a_rule_on_its_timed_out_and_aborted_records(stack: cdk.Stack) -> None:
    """A STANDARD workflow sends them (its status rule reports executions no Catch sees); a DestinedFunction never
    does, and says so."""
    workflow = engine(stack, FunctionWorkflow, on_failure=EventBusRoute())
    workflow.add_result_rule("Late", route=QueueRoute(), conditions=[Condition.TIMED_OUT, Condition.ABORTED])
    (late,) = [r for i, r in Template.from_stack(stack).find_resources("AWS::Events::Rule").items() if "Late" in i]
    assert late["Properties"]["EventPattern"]["detail"]["requestContext"]["condition"] == ["TimedOut", "Aborted"]
    other = cdk.Stack(cdk.App(), "Other")
    destined = engine(other, DestinedFunction, on_failure=EventBusRoute())
    with pytest.raises(ConstructPropsError, match="sends no record with condition TimedOut"):
        destined.add_result_rule("Late", route=QueueRoute(), conditions=[Condition.TIMED_OUT])


def test_workflow_add_result_rule_needs_an_event_bus_route(stack: cdk.Stack) -> None:
    workflow = engine(stack, FunctionWorkflow, on_success=QueueRoute())
    with pytest.raises(ConstructPropsError, match=r"set on_success=EventBusRoute\(...\) on this FunctionWorkflow"):
        workflow.add_result_rule("R", route=QueueRoute())


# ------------------------------------------------------------------------------------------------ refused, with why


def test_workflow_refuses_max_event_age_with_the_reason(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"there is no maximum event age\. Bound a run with timeout="):
        engine(stack, FunctionWorkflow, max_event_age=cdk.Duration.hours(1))


def test_workflow_refuses_stream_sources_with_the_reason(stack: cdk.Stack) -> None:
    from aws_cdk import aws_sqs as sqs

    workflow = engine(stack, FunctionWorkflow)
    assert isinstance(workflow, FunctionWorkflow)
    queue = sqs.Queue.from_queue_arn(stack, "Incoming", "arn:aws:sqs:us-east-1:123456789012:incoming")
    with pytest.raises(ConstructPropsError, match=r"never a state machine\. Keep a DestinedFunction on the source"):
        workflow.add_stream_source(queue)
