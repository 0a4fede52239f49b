"""The records a FunctionWorkflow delivers, run in the local kit: whatever JSON the state is (a ForEach's or a
Parallel's list included), the route gets a record of the documented shape (docs/records.md): ``requestPayload``
the execution input, ``responsePayload`` the last step's output or ``{"errorType", "errorMessage"}``."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_lib import (
    Fail,
    ForEach,
    FunctionWorkflow,
    Invoke,
    Parallel,
    Pass,
    QueueRoute,
    RetryRule,
    parse_execution_record,
)
from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

DOUBLE = """
def handler(event, context):
    return event * 2
"""
ECHO = """
def handler(event, context):
    return event
"""
REFUSE = """
class NotAnOrderError(Exception):
    pass

def handler(event, context):
    raise NotAnOrderError(f"expected an order, got a {type(event).__name__}")
"""


def function(stack: cdk.Stack, name: str, code: str) -> lambda_.IFunction:
    return lambda_.Function(
        stack, name, runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(code)
    )


def workflow(stack: cdk.Stack, name: str, steps: list[Any]) -> None:
    FunctionWorkflow(stack, name, steps=steps, on_success=QueueRoute(), on_failure=QueueRoute())


def test_a_list_state_gets_its_records_delivered(plain_app: cdk.App) -> None:
    """A ForEach or a Parallel as the last step, a failing step fed a list, a Fail step after a ForEach: each run
    ends as its steps say and its route gets the record (before, the record states assumed an object state and the
    execution ended with States.Runtime, no record delivered)."""
    stack = cdk.Stack(plain_app, "Lists")
    double = function(stack, "DoubleFn", DOUBLE)
    workflow(stack, "Map", [ForEach("Each", items_path="$.items", steps=[Invoke("Double", double)])])
    workflow(stack, "Both", [Parallel("Both", branches=[[Invoke("Left", double)], [Invoke("Right", double)]])])
    workflow(stack, "Refuse", [Invoke("Refuse", function(stack, "RefuseFn", REFUSE))])
    workflow(
        stack,
        "Stop",
        [
            ForEach("EachEcho", items_path="$", steps=[Invoke("Echo", function(stack, "EchoFn", ECHO))]),
            Fail("Stop", error="TooMany", cause="a list is not an order"),
        ],
    )
    with LocalKit.from_stack(stack) as kit:
        mapped = kit.start_execution("Map/StateMachine", {"items": [1, 2, 3]})
        both = kit.start_execution("Both/StateMachine", 21)
        refused = kit.start_execution("Refuse/StateMachine", [1, 2])
        stopped = kit.start_execution("Stop/StateMachine", ["a", "b"])
        received = {
            name: (kit.received(f"{name}/OnSuccessQueue"), kit.received(f"{name}/OnFailureQueue"))
            for name in ("Map", "Both", "Refuse", "Stop")
        }

    assert (mapped.status, mapped.output) == ("SUCCEEDED", [2, 4, 6]), mapped.cause
    assert (both.status, both.output) == ("SUCCEEDED", [42, 42]), both.cause
    (map_record,), map_failures = received["Map"]
    assert map_failures == []
    record = parse_execution_record(map_record)
    assert record.succeeded
    assert record.request_payload == {"items": [1, 2, 3]}
    assert record.response_payload == [2, 4, 6]
    (both_record,), _ = received["Both"]
    assert (both_record["requestPayload"], both_record["responsePayload"]) == (21, [42, 42])

    assert (refused.status, refused.error) == ("FAILED", "NotAnOrderError"), refused.cause
    successes, (refused_record,) = received["Refuse"]
    assert successes == []
    failure = parse_execution_record(refused_record)
    assert failure.request_context.condition.value == "RetriesExhausted"
    assert failure.request_payload == [1, 2]
    assert failure.error_type == "NotAnOrderError"
    assert failure.error_message == "expected an order, got a list"

    assert (stopped.status, stopped.error, stopped.cause) == ("FAILED", "TooMany", "a list is not an order")
    _, (stop_record,) = received["Stop"]
    assert stop_record["requestPayload"] == ["a", "b"]
    assert stop_record["responsePayload"] == {"errorType": "TooMany", "errorMessage": "a list is not an order"}
    # the same record shape as an object state's (docs/records.md), whatever the state was
    for record_json in (map_record, both_record, refused_record, stop_record):
        assert set(record_json) == {
            "version",
            "timestamp",
            "requestContext",
            "requestPayload",
            "responseContext",
            "responsePayload",
        }


SLOW = """
import time

def handler(event, context):
    time.sleep(1.3)
    return event
"""


def test_a_states_error_in_a_parallel_branch_is_retried_recorded_and_ends_the_run(plain_app: cdk.App) -> None:
    """A branch's States.Timeout fails the Parallel with that name: the step's RetryRule on it runs the Parallel
    again, then the failure record says States.Timeout and the execution ends FAILED with it (before, the kit
    turned it into States.Runtime with a Python exception as cause, which no retry matched)."""
    stack = cdk.Stack(plain_app, "Branches")
    slow = lambda_.Function(
        stack,
        "SlowFn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(SLOW),
        timeout=cdk.Duration.seconds(10),
    )
    workflow(
        stack,
        "Flow",
        [
            Parallel(
                "Both",
                branches=[
                    [Invoke("Slow", slow, timeout=cdk.Duration.seconds(1))],
                    [Invoke("Echo", function(stack, "EchoFn", ECHO))],
                ],
                retries=[RetryRule(errors=["States.Timeout"], interval=cdk.Duration.seconds(1), max_attempts=1)],
            )
        ],
    )
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-7"})
        (record,) = kit.received("Flow/OnFailureQueue")

    assert (result.status, result.error) == ("FAILED", "States.Timeout"), result.cause
    assert result.states_entered.count("Slow") == 2  # the RetryRule on States.Timeout ran the Parallel again
    assert record["responsePayload"]["errorType"] == "States.Timeout"
    assert record["requestPayload"] == {"orderId": "o-7"}


FLAKY = """
calls = {}


class FlakyError(Exception):
    pass


def handler(event, context):
    # fails the first ``failures`` calls for an order (a module global lives as long as the warm function)
    calls[event["orderId"]] = calls.get(event["orderId"], 0) + 1
    if calls[event["orderId"]] <= event["failures"]:
        raise FlakyError(f"call {calls[event['orderId']]} of {event['orderId']} failed")
    return {"orderId": event["orderId"], "calls": calls[event["orderId"]]}
"""


def test_records_count_the_attempts_of_the_invoke(plain_app: cdk.App) -> None:
    """approximateInvokeCount is how many times the step ran (Step Functions' $$.State.RetryCount + 1, taken when
    the Invoke succeeds or its error is caught), as Lambda counts an asynchronous invocation's attempts: 3 after two
    failures and a success, 3 when two retries are exhausted; 1 for a workflow that ran no function. Before, every
    record said 1."""
    stack = cdk.Stack(plain_app, "Counts")
    FunctionWorkflow(
        stack,
        "Flaky",
        function=function(stack, "FlakyFn", FLAKY),
        retry_attempts=2,  # as on DestinedFunction: 3 attempts in all
        on_success=QueueRoute(),
        on_failure=QueueRoute(),
    )
    workflow(stack, "NoFunction", [Pass("Shape", parameters={"id.$": "$.orderId"})])
    workflow(stack, "Refused", [Pass("Look"), Fail("Refuse", error="Refused")])
    with LocalKit.from_stack(stack) as kit:
        recovered = kit.start_execution("Flaky/StateMachine", {"orderId": "o-1", "failures": 2})
        exhausted = kit.start_execution("Flaky/StateMachine", {"orderId": "o-2", "failures": 5})
        first_time = kit.start_execution("Flaky/StateMachine", {"orderId": "o-3", "failures": 0})
        shaped = kit.start_execution("NoFunction/StateMachine", {"orderId": "o-4"})
        refused = kit.start_execution("Refused/StateMachine", {"orderId": "o-5"})
        successes = kit.received("Flaky/OnSuccessQueue")
        (failure,) = kit.received("Flaky/OnFailureQueue")
        (no_function,) = kit.received("NoFunction/OnSuccessQueue")
        (refusal,) = kit.received("Refused/OnFailureQueue")

    assert (recovered.status, recovered.output) == ("SUCCEEDED", {"orderId": "o-1", "calls": 3}), recovered.cause
    assert recovered.attempts("Invoke") == 3
    assert exhausted.status == "FAILED"
    assert exhausted.attempts("Invoke") == 3
    assert first_time.status == "SUCCEEDED"
    by_order = {record["requestPayload"]["orderId"]: record for record in successes}
    assert by_order["o-1"]["requestContext"]["approximateInvokeCount"] == 3
    assert by_order["o-3"]["requestContext"]["approximateInvokeCount"] == 1
    assert failure["requestPayload"]["orderId"] == "o-2"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["responsePayload"]["errorType"] == "FlakyError"
    assert (shaped.status, no_function["requestContext"]["approximateInvokeCount"]) == ("SUCCEEDED", 1)
    assert (refused.status, refusal["requestContext"]["approximateInvokeCount"]) == ("FAILED", 1)
