"""Fault injection: 1,000 events, a handler that fails on a seeded random 30 %, two retries, and the kit's own faults
on top: 10 % of at-least-once deliveries duplicated, 10 % of invocations throttled.

For both engines: no event is lost (each reaches a route), an event reaches a route twice only when the kit
duplicated its delivery, and a consumer that deduplicates by request id sees each event exactly once. Run through
the local kit with the real handler.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from constructs_lib import DestinedFunction, FunctionWorkflow, QueueRoute, TopicRoute
from constructs_lib.defaults import struct_values
from constructs_lib.testing import Delivery, Faults, LocalKit

pytestmark = pytest.mark.execution

EVENTS = 1000
FLAKY_CODE = Path(__file__).resolve().parent.parent / "handlers" / "flaky"
FAULTS = Faults(seed=20261207, duplicate_rate=0.1, throttle_rate=0.1)


def flaky_props() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="flaky.handler",
        code=lambda_.Code.from_asset(str(FLAKY_CODE)),
        environment={"FAULT_RATE": "0.3", "FAULT_SEED": "20261123"},
    )


def assert_each_event_reaches_a_route_and_twice_only_as_a_duplicate(
    deliveries: Iterable[Delivery],
) -> tuple[list[str], list[str]]:
    """Checks the records the routes got; returns the event ids a request-id deduplicating consumer saw succeed and
    fail (each id once)."""
    records = list(deliveries)
    originals = Counter(str(d.payload["requestPayload"]["id"]) for d in records if not d.duplicate)
    duplicated = Counter(str(d.payload["requestPayload"]["id"]) for d in records if d.duplicate)
    assert sorted(originals) == sorted(str(i) for i in range(EVENTS)), "an event was lost"
    assert max(originals.values()) == 1, f"reached a route twice, not duplicated by the kit: {originals.most_common(3)}"
    assert 40 <= sum(duplicated.values()) <= 200, "about 10 % of the events were duplicated"
    # A consumer that deduplicates by request id: the first record of each request id counts.
    first: dict[str, Delivery] = {}
    for delivery in records:
        first.setdefault(str(delivery.payload["requestContext"]["requestId"]), delivery)
    seen = Counter(str(d.payload["requestPayload"]["id"]) for d in first.values())
    assert sorted(seen) == sorted(originals)
    assert max(seen.values()) == 1, "one event under two request ids"
    succeeded = [i for i, d in ((str(d.payload["requestPayload"]["id"]), d) for d in first.values()) if ok(d)]
    failed = [i for i, d in ((str(d.payload["requestPayload"]["id"]), d) for d in first.values()) if not ok(d)]
    # 0.3 ** 3 = 2.7 % of events fail all three attempts, more with throttles: both routes are used.
    assert 5 <= len(failed) <= 120
    return succeeded, failed


def in_order(kit: LocalKit, *queues: str) -> list[Delivery]:
    """What the queues received, in the order they received it (a consumer reads both)."""
    wanted = {kit.logical_id(queue) for queue in queues}
    return [delivery for delivery in kit.deliveries() if delivery.resource in wanted]


def ok(delivery: Delivery) -> bool:
    return str(delivery.payload["requestContext"]["condition"]) == "Success"


def test_destinations_engine_loses_nothing_and_duplicates_only_as_aws_does(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "FaultsDestinations")
    DestinedFunction(
        stack,
        "Worker",
        function_props=flaky_props(),
        on_success=QueueRoute(),
        on_failure=QueueRoute(),
        retry_attempts=2,
    )
    with LocalKit.from_stack(stack, faults=FAULTS) as kit:
        for i in range(EVENTS):
            kit.invoke_async("Worker/Function", {"id": str(i)})
        outcomes = kit.async_invocations("Worker/Function")
        routes = in_order(kit, "Worker/OnSuccessQueue", "Worker/OnFailureQueue")
        runs = kit.invocations("Worker/Function")

    _, failed = assert_each_event_reaches_a_route_and_twice_only_as_a_duplicate(routes)
    assert len(runs) == sum(len(outcome.attempts) for outcome in outcomes)
    assert all(len(o.attempts) == 3 for o in outcomes if o.condition == "RetriesExhausted")
    originals = [o for o in outcomes if not o.duplicate]
    assert len(originals) == EVENTS
    assert sum(o.condition == "RetriesExhausted" for o in originals) == len(failed)
    assert 50 <= sum(o.throttles for o in outcomes) <= 250, "about 10 % of attempts were throttled"
    assert all(o.condition != "EventAgeExceeded" for o in outcomes), "throttles delay, they do not drop"


def test_step_functions_engine_loses_nothing_and_duplicates_only_as_aws_does(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "FaultsWorkflow")
    function = lambda_.Function(stack, "Flaky", **struct_values(flaky_props()))
    flow = FunctionWorkflow(
        stack, "Flow", function=function, retry_attempts=2, on_success=TopicRoute(), on_failure=TopicRoute()
    )
    # The records reach their consumers through SNS, which delivers at least once.
    for route, name in ((flow.success_route, "Succeeded"), (flow.failure_route, "Failed")):
        assert route is not None
        assert route.topic is not None
        route.topic.add_subscription(subscriptions.SqsSubscription(sqs.Queue(stack, name), raw_message_delivery=True))
    with LocalKit.from_stack(stack, faults=FAULTS) as kit:
        results = kit.start_executions("Flow/StateMachine", [{"id": str(i)} for i in range(EVENTS)])
        routes = in_order(kit, "Succeeded", "Failed")
        errors = Counter(error for result in results for error in result.task_errors("Invoke"))

    _, failed = assert_each_event_reaches_a_route_and_twice_only_as_a_duplicate(routes)
    assert Counter(result.status for result in results) == {"SUCCEEDED": EVENTS - len(failed), "FAILED": len(failed)}
    assert 50 <= errors["Lambda.TooManyRequestsException"] <= 250, "about 10 % of the tasks were throttled"
