"""Fault injection: 1,000 events, a handler that fails on a seeded random 30 %, two retries.

Every event must end in exactly one route (success or failure): none lost, none delivered twice. Run through the
local kit with the real handler, for both engines.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_lib import DestinedFunction, FunctionWorkflow, QueueRoute
from constructs_lib.defaults import struct_values
from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

EVENTS = 1000
FLAKY_CODE = Path(__file__).resolve().parent.parent / "handlers" / "flaky"


def flaky_props() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="flaky.handler",
        code=lambda_.Code.from_asset(str(FLAKY_CODE)),
        environment={"FAULT_RATE": "0.3", "FAULT_SEED": "20261123"},
    )


def assert_each_event_in_exactly_one_route(succeeded: list[str], failed: list[str]) -> None:
    counts = Counter(succeeded + failed)
    assert sorted(counts) == sorted(str(i) for i in range(EVENTS)), "an event was lost"
    assert max(counts.values()) == 1, f"delivered twice: {[k for k, v in counts.items() if v > 1][:5]}"
    # 0.3 ** 3 = 2.7 % of events fail all three attempts: both routes are used.
    assert 5 <= len(failed) <= 60


def test_destinations_engine_loses_nothing_and_duplicates_nothing(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "FaultsDestinations")
    DestinedFunction(
        stack,
        "Worker",
        function_props=flaky_props(),
        on_success=QueueRoute(),
        on_failure=QueueRoute(),
        retry_attempts=2,
    )
    with LocalKit.from_stack(stack) as kit:
        outcomes = [kit.invoke_async("Worker/Function", {"id": str(i)}) for i in range(EVENTS)]
        succeeded = [record["requestPayload"]["id"] for record in kit.messages("Worker/OnSuccessQueue")]
        failed = [record["requestPayload"]["id"] for record in kit.messages("Worker/OnFailureQueue")]
        runs = len(kit.invocations("Worker/Function"))

    assert_each_event_in_exactly_one_route(succeeded, failed)
    assert runs == sum(len(outcome.attempts) for outcome in outcomes)
    assert all(len(o.attempts) == 3 for o in outcomes if not o.succeeded)
    assert Counter(o.condition for o in outcomes) == {"Success": EVENTS - len(failed), "RetriesExhausted": len(failed)}


def test_step_functions_engine_loses_nothing_and_duplicates_nothing(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "FaultsWorkflow")
    function = lambda_.Function(stack, "Flaky", **struct_values(flaky_props()))
    FunctionWorkflow(
        stack, "Flow", function=function, retry_attempts=2, on_success=QueueRoute(), on_failure=QueueRoute()
    )
    with LocalKit.from_stack(stack) as kit:
        results = kit.start_executions("Flow/StateMachine", [{"id": str(i)} for i in range(EVENTS)])
        succeeded = [record["requestPayload"]["id"] for record in kit.messages("Flow/OnSuccessQueue")]
        failed = [record["requestPayload"]["id"] for record in kit.messages("Flow/OnFailureQueue")]

    assert_each_event_in_exactly_one_route(succeeded, failed)
    assert Counter(result.status for result in results) == {"SUCCEEDED": EVENTS - len(failed), "FAILED": len(failed)}
