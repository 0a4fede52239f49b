"""Execution tests of the example stacks: the synthesized stacks run through the local kit with their real handlers.

Each example gets the happy path, a failure that is retried and then routed to its failure route, and a
malformed event. Nothing here re-describes the infrastructure: the kit reads it from the synthesized template.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib import ExecutionRecord, ExecutionStatusChange, parse_execution_record
from constructs_lib.testing import LocalKit
from tests.conftest import comparable, synthesized

pytestmark = pytest.mark.execution


# -- DestinedLambda: SNS -> worker (async) -> success bus -> rule -> consumer; failures -> queue ---------------------
@pytest.fixture
def destined(example_stacks: dict[str, cdk.Stack]) -> cdk.Stack:
    return example_stacks["DestinedLambda"]


def test_destined_accepted_order_flows_from_the_topic_to_the_consumer(destined: cdk.Stack) -> None:
    with LocalKit(synthesized(destined)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-1", "sku": "sku-1", "quantity": 2})
        worker = kit.async_invocations("Worker/Function")
        consumer = kit.invocations("Consumer/Function")
        failures = kit.messages("Worker/OnFailureQueue")

    assert [outcome.condition for outcome in worker] == ["Success"]
    assert worker[0].source == "sns"
    record = parse_execution_record(json.dumps(worker[0].record))
    assert isinstance(record, ExecutionRecord)
    assert record.response_payload == {"orderId": "o-1", "sku": "sku-1", "quantity": 2, "status": "ACCEPTED"}
    assert [invocation.result for invocation in consumer] == [{"orderId": "o-1", "fulfilment": "SCHEDULED"}]
    assert failures == []


def test_destined_orders_for_review_are_sent_to_the_review_queue_not_the_consumer(destined: cdk.Stack) -> None:
    with LocalKit(synthesized(destined)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-2", "sku": "sku-1", "quantity": 500})
        on_bus = kit.received("Worker/OnSuccessBus")
        consumer = kit.invocations("Consumer/Function")
        review = kit.messages("ReviewQueue")
        failures = kit.messages("Worker/OnFailureQueue")

    assert [event["responsePayload"]["status"] for event in on_bus] == ["REVIEW"]
    assert consumer == []
    assert review == [{"orderId": "o-2", "sku": "sku-1", "quantity": 500, "status": "REVIEW"}]
    assert failures == []


def test_destined_accepted_orders_do_not_reach_the_review_queue(destined: cdk.Stack) -> None:
    with LocalKit(synthesized(destined)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-4", "sku": "sku-1", "quantity": 100})
        review = kit.messages("ReviewQueue")
        consumer = kit.invocations("Consumer/Function")

    assert review == []
    assert [invocation.result for invocation in consumer] == [{"orderId": "o-4", "fulfilment": "SCHEDULED"}]


def test_destined_invalid_order_is_retried_twice_then_lands_on_the_failure_queue(destined: cdk.Stack) -> None:
    with LocalKit(synthesized(destined)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-3", "sku": "sku-1", "quantity": 0})
        (outcome,) = kit.async_invocations("Worker/Function")
        failures = kit.messages("Worker/OnFailureQueue")

    assert outcome.condition == "RetriesExhausted"
    assert [attempt.error_type for attempt in outcome.attempts] == ["InvalidOrderError"] * 3
    assert outcome.retry_delays == (60.0, 120.0)
    assert len(failures) == 1
    record = parse_execution_record(json.dumps(failures[0]))
    assert isinstance(record, ExecutionRecord)
    assert record.error_type == "InvalidOrderError"
    assert "quantity must be a positive integer" in str(record.error_message)
    assert record.request_context.approximate_invoke_count == 3


def test_destined_malformed_message_is_a_typed_failure_not_a_lost_event(destined: cdk.Stack) -> None:
    with LocalKit(synthesized(destined)) as kit:
        kit.publish("OrdersTopic", "this is not JSON")
        failures = kit.messages("Worker/OnFailureQueue")
        consumer = kit.invocations("Consumer/Function")

    assert len(failures) == 1
    assert failures[0]["responsePayload"]["errorType"] == "InvalidOrderError"
    assert failures[0]["responsePayload"]["errorMessage"] == "the order message is not JSON"
    assert consumer == []


# -- OrchestratedLambda: Classify (retry) -> Choice -> single | parallel; failures -> queue; FAILED -> topic -------
@pytest.fixture
def orchestrated(language_example_stacks: dict[str, cdk.Stack]) -> cdk.Stack:
    """The stack, its workflow in JSONPath, then in JSONata: every test runs in both."""
    return language_example_stacks["OrchestratedLambda"]


def test_orchestrated_single_item_takes_the_single_route(orchestrated: cdk.Stack) -> None:
    with LocalKit(synthesized(orchestrated)) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-1", "items": ["sku-1"]})
        failures = kit.received("Orders/OnFailureQueue")

    assert result.status == "SUCCEEDED", result.cause
    assert result.states_entered == ["Classify", "RouteOnFoo", "HandleSingle", "Succeeded"]
    assert result.output == {"orderId": "o-1", "shipped": ["sku-1"], "route": "single"}
    assert failures == []


def test_orchestrated_several_items_run_stock_and_charge_in_parallel(orchestrated: cdk.Stack) -> None:
    with LocalKit(synthesized(orchestrated)) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-2", "items": ["sku-1", "sku-2"]})

    assert result.status == "SUCCEEDED", result.cause
    assert {"HandleSeveral", "ReserveStock", "Charge"} <= set(result.states_entered)
    assert "HandleSingle" not in result.states_entered
    assert sorted(result.output, key=json.dumps) == [{"charged": "o-2"}, {"reserved": 2}]


def test_orchestrated_pending_order_is_retried_with_backoff_then_routed_and_alerted(orchestrated: cdk.Stack) -> None:
    with LocalKit(synthesized(orchestrated)) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-3", "items": ["sku-1"], "pending": True})
        failures = kit.received("Orders/OnFailureQueue")
        alerts = kit.received("Orders/FailureAlerts/TargetTopic")

    assert result.status == "FAILED"
    assert result.attempts("Classify") == 4
    assert result.retry_intervals("Classify") == [2.0, 4.0, 8.0]
    assert result.error == "OrderPendingError"
    assert len(failures) == 1
    record = parse_execution_record(json.dumps(failures[0]))
    assert isinstance(record, ExecutionRecord)
    assert record.error_type == "OrderPendingError"
    assert record.request_payload == {"orderId": "o-3", "items": ["sku-1"], "pending": True}
    assert len(alerts) == 1
    change = ExecutionStatusChange.from_event(alerts[0])
    assert change.status.value == "FAILED"
    assert change.execution_arn == result.execution_arn


def test_orchestrated_malformed_request_is_not_retried_and_lands_on_the_failure_queue(
    orchestrated: cdk.Stack,
) -> None:
    with LocalKit(synthesized(orchestrated)) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-4", "items": "not-a-list"})
        failures = kit.received("Orders/OnFailureQueue")

    assert result.status == "FAILED"
    assert result.attempts("Classify") == 1
    assert result.error == "InvalidRequestError"
    assert [failure["responsePayload"]["errorType"] for failure in failures] == ["InvalidRequestError"]


def test_orchestrated_input_that_is_not_an_object_fails_the_execution_and_alerts(orchestrated: cdk.Stack) -> None:
    with LocalKit(synthesized(orchestrated)) as kit:
        result = kit.start_execution("Orders/StateMachine", [1, 2])
        failures = kit.received("Orders/OnFailureQueue")
        alerts = kit.received("Orders/FailureAlerts/TargetTopic")

    # Classify refuses a list; the Catch takes the error whatever the state was (its error output replaces the
    # state), so the failure record reaches the failure route with the list as requestPayload, and the FAILED
    # status change reaches the alert topic.
    assert (result.status, result.error) == ("FAILED", "InvalidRequestError")
    (record,) = failures
    assert record["requestPayload"] == [1, 2]
    assert record["responsePayload"]["errorType"] == "InvalidRequestError"
    assert [alert["detail"]["status"] for alert in alerts] == ["FAILED"]


# -- DefectDetection: S3 -> EventBridge -> workflow (inspect, record, decide) with the endpoint as a stand-in -------
def test_defect_detection_example_alerts_on_a_defect_and_ignores_keys_outside_the_prefix(
    language_example_stacks: dict[str, cdk.Stack],
) -> None:
    from stacks.defect_detection_stack import DEFAULT_ENDPOINT_NAME

    def endpoint(body: bytes, content_type: str) -> list[float]:
        return [0.1, 0.9] if b"defect" in body else [0.95, 0.05]

    png = b"\x89PNG\r\n\x1a\n"
    with LocalKit(
        synthesized(language_example_stacks["DefectDetection"]), endpoints={DEFAULT_ENDPOINT_NAME: endpoint}
    ) as kit:
        kit.put_object("Pipeline/Images", "incoming/line-4/board-17.png", png + b"defect")
        kit.put_object("Pipeline/Images", "incoming/line-4/board-18.png", png + b"clean")
        kit.put_object("Pipeline/Images", "archive/board-1.png", png + b"defect")
        runs = kit.executions("Pipeline/Workflow/StateMachine")
        alerts = kit.received("Pipeline/AlertsTopic")
        items = kit.items("Pipeline/Results")

    assert [run.status for run in runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert [alert["key"] for alert in alerts] == ["incoming/line-4/board-17.png"]
    assert sorted(item["decision"] for item in items) == ["DEFECTIVE", "DEFECT_FREE"]


# -- The same records from both query languages: each example's consumers, JSONPath workflow against JSONata -------
def orchestrated_deliveries(stack: cdk.Stack) -> dict[str, Any]:
    """What OrchestratedLambda's consumers receive from one order of each kind, and the executions' outputs."""
    orders = [
        {"orderId": "o-1", "items": ["sku-1"]},
        {"orderId": "o-2", "items": ["sku-1", "sku-2"]},
        {"orderId": "o-3", "items": ["sku-1"], "pending": True},
        {"orderId": "o-4", "items": "not-a-list"},
        [1, 2],
    ]
    with LocalKit(synthesized(stack)) as kit:
        results = [kit.start_execution("Orders/StateMachine", order) for order in orders]
        return {
            # not the states entered: a JSONata workflow builds its records in fewer states
            "executions": [(r.status, r.error, r.cause, r.output) for r in results],
            "failures": kit.received("Orders/OnFailureQueue"),
            "alerts": kit.received("Orders/FailureAlerts/TargetTopic"),
        }


def test_orchestrated_consumers_receive_the_same_records_from_both_languages(
    example_stacks: dict[str, cdk.Stack], jsonata_example_stacks: dict[str, cdk.Stack]
) -> None:
    jsonpath = orchestrated_deliveries(example_stacks["OrchestratedLambda"])
    jsonata = orchestrated_deliveries(jsonata_example_stacks["OrchestratedLambda"])

    assert [len(jsonpath["failures"]), len(jsonpath["alerts"])] == [3, 3]
    assert comparable(jsonata) == comparable(jsonpath)


def defect_deliveries(stack: cdk.Stack) -> dict[str, Any]:
    """What DefectDetection's consumers receive from a defective, a clean, an uncertain and a broken image: the
    alert topic, the review queue, the results table, the failure queue, and the quarantine tags."""
    from stacks.defect_detection_stack import DEFAULT_ENDPOINT_NAME

    def endpoint(body: bytes, content_type: str) -> list[float]:
        if b"defect" in body:
            return [0.1, 0.9]
        return [0.45, 0.55] if b"unsure" in body else [0.95, 0.05]

    png = b"\x89PNG\r\n\x1a\n"
    images = {
        "incoming/board-1.png": png + b"defect",
        "incoming/board-2.png": png + b"clean",
        "incoming/board-3.png": png + b"unsure",
        "incoming/board-4.png": b"%PDF-1.7 not an image",
    }
    with LocalKit(synthesized(stack), endpoints={DEFAULT_ENDPOINT_NAME: endpoint}) as kit:
        for key, body in images.items():
            kit.put_object("Pipeline/Images", key, body)
        s3 = kit.client("s3")
        bucket = kit.ref("Pipeline/Images")
        return {
            "executions": [
                (r.status, r.error, r.cause, r.output) for r in kit.executions("Pipeline/Workflow/StateMachine")
            ],
            "alerts": kit.received("Pipeline/AlertsTopic"),
            "review": kit.received("Pipeline/ReviewQueue"),
            "results": sorted(kit.items("Pipeline/Results"), key=lambda item: str(item["imageKey"])),
            "failures": kit.received("Pipeline/Workflow/OnFailureQueue"),
            "tags": {key: s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] for key in images},
        }


def test_defect_detection_consumers_receive_the_same_records_from_both_languages(
    example_stacks: dict[str, cdk.Stack], jsonata_example_stacks: dict[str, cdk.Stack]
) -> None:
    jsonpath = defect_deliveries(example_stacks["DefectDetection"])
    jsonata = defect_deliveries(jsonata_example_stacks["DefectDetection"])

    assert [alert["key"] for alert in jsonpath["alerts"]] == ["incoming/board-1.png"]
    assert [message["key"] for message in jsonpath["review"]] == ["incoming/board-3.png"]
    assert [item["decision"] for item in jsonpath["results"]] == ["DEFECTIVE", "DEFECT_FREE", "REVIEW"]
    assert [f["responsePayload"]["errorType"] for f in jsonpath["failures"]] == ["NotAnImageError"]
    assert jsonpath["tags"]["incoming/board-1.png"] == [{"Key": "quarantine", "Value": "true"}]
    assert comparable(jsonata) == comparable(jsonpath)
