"""Execution tests of the DurableOrders example: the synthesized stack runs through the local kit, its durable
function through AWS's durable testing SDK, with the real handler (lambda_src/durable_orders) and the library's
runtime layer. Orders arrive on the SNS topic, as in DestinedLambda; time is virtual: retry delays and the day's
cooling-off are not slept."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from constructs_lib import ExecutionRecord, parse_execution_record
from constructs_lib.testing import LocalKit
from tests.conftest import synthesized

pytestmark = pytest.mark.execution

DAY = 86400


@pytest.fixture
def durable(example_stacks: dict[str, cdk.Stack]) -> cdk.Stack:
    return example_stacks["DurableOrders"]


def test_an_accepted_order_is_authorized_held_fulfilled_and_reaches_the_consumer(durable: cdk.Stack) -> None:
    order = {"orderId": "o-1", "sku": "sku-1", "quantity": 2}
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", order)
        (execution,) = kit.durable_executions("Orders/Function")
        on_bus = kit.received("Orders/OnSuccessBus")
        consumer = kit.invocations("Consumer/Function")
        review = kit.messages("ReviewQueue")
        failures = kit.messages("Orders/OnFailureQueue")
        dead = kit.messages("Orders/DeadLetterQueue")

    assert execution.status == "SUCCEEDED"
    assert execution.qualifier == "live"  # SNS invoked the alias it is subscribed with
    assert execution.operation_names == ["AuthorizePayment", "CoolingOff", "Fulfil", "DeliverSuccess"]
    assert {"ReserveStock", "Charge"} <= {str(op.name) for op in execution.operations}  # the parallel branches
    decision = {**order, "status": "ACCEPTED", "reserved": 2, "charged": "o-1"}
    assert execution.output == decision
    (detail,) = on_bus  # what the bus received: the record, as the detail of a constructs-lib.durable event
    record = parse_execution_record(json.dumps(detail))
    assert isinstance(record, ExecutionRecord)
    assert record.succeeded
    assert record.response_payload == decision
    assert json.loads(record.request_payload["Records"][0]["Sns"]["Message"]) == order  # the SNS event, as sent
    assert [invocation.result for invocation in consumer] == [{"orderId": "o-1", "fulfilment": "SCHEDULED"}]
    assert review == []
    assert failures == []
    assert dead == []


def test_a_one_day_cooling_off_is_a_day_of_virtual_time_and_not_of_real_time(durable: cdk.Stack) -> None:
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-2", "sku": "sku-1", "quantity": 1})
        (execution,) = kit.durable_executions()

    wait = execution.operation("CoolingOff")
    assert execution.succeeded
    assert (wait.end_timestamp - wait.start_timestamp).total_seconds() == pytest.approx(DAY, abs=1)
    assert execution.virtual_seconds >= DAY
    assert execution.invocations == 2  # the first invocation suspends at the wait; the second resumes after it


def test_an_order_for_review_skips_the_cooling_off_and_lands_on_the_review_queue(durable: cdk.Stack) -> None:
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-3", "sku": "sku-1", "quantity": 500})
        (execution,) = kit.durable_executions()
        review = kit.messages("ReviewQueue")
        consumer = kit.invocations("Consumer/Function")

    assert execution.operation_names == ["AuthorizePayment", "DeliverSuccess"]
    assert review == [{"orderId": "o-3", "sku": "sku-1", "quantity": 500, "status": "REVIEW"}]
    assert consumer == []


def test_a_pending_payment_is_retried_with_backoff_until_it_is_authorized(durable: cdk.Stack) -> None:
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-4", "sku": "sku-1", "quantity": 1, "paymentPendingChecks": 2})
        (execution,) = kit.durable_executions()
        consumer = kit.invocations("Consumer/Function")
        failures = kit.messages("Orders/OnFailureQueue")

    step = execution.operation("AuthorizePayment")
    assert execution.succeeded
    assert step.attempt == 3  # two "pending" answers, then authorized
    # Backoff 2.0 from 2 s: 2 s, then 4 s, before the day's cooling-off.
    assert execution.virtual_seconds >= 2 + 4 + DAY
    assert execution.virtual_seconds < 2 + 4 + 8 + DAY
    assert [invocation.result["orderId"] for invocation in consumer] == ["o-4"]
    assert failures == []


def test_a_payment_still_pending_after_the_last_retry_is_a_failure_record_on_the_failure_queue(
    durable: cdk.Stack,
) -> None:
    order = {"orderId": "o-5", "sku": "sku-1", "quantity": 1, "paymentPendingChecks": 10}
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", order)
        (execution,) = kit.durable_executions()
        failures = kit.messages("Orders/OnFailureQueue")
        dead = kit.messages("Orders/DeadLetterQueue")
        consumer = kit.invocations("Consumer/Function")

    assert execution.status == "FAILED"
    assert execution.operation("AuthorizePayment").attempt == 4  # the first and three retries (2, 4, 8 s)
    assert execution.virtual_seconds >= 2 + 4 + 8
    assert "CoolingOff" not in execution.operation_names
    (failure,) = failures
    record = parse_execution_record(json.dumps(failure))
    assert isinstance(record, ExecutionRecord)
    assert record.request_context.condition == "RetriesExhausted"
    assert record.error_type == "OrderPendingError"  # the handler's own exception, not the SDK's StepError
    assert "still pending (check 4)" in (record.error_message or "")
    assert json.loads(record.request_payload["Records"][0]["Sns"]["Message"]) == order
    # Lambda also sends the event of a failed asynchronous durable execution to the function's DLQ.
    assert [json.loads(event["Records"][0]["Sns"]["Message"]) for event in dead] == [order]
    assert consumer == []


def test_a_malformed_order_fails_at_once_without_retries(durable: cdk.Stack) -> None:
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", "this is not JSON")
        (execution,) = kit.durable_executions()
        failures = kit.messages("Orders/OnFailureQueue")

    assert execution.status == "FAILED"
    assert execution.operation_names == ["DeliverFailure"]  # parsing fails before any step
    assert [failure["responsePayload"]["errorType"] for failure in failures] == ["InvalidOrderError"]
    assert failures[0]["responsePayload"]["errorMessage"] == "the order message is not JSON"


def test_an_order_held_past_the_execution_timeout_times_out_and_its_failure_record_reaches_the_failure_queue(
    durable: cdk.Stack,
) -> None:
    # A four-day cooling-off in an execution that may last three days: Lambda times the execution out.
    order = {"orderId": "o-6", "sku": "sku-1", "quantity": 1, "coolingOffHours": 96}
    with LocalKit(synthesized(durable)) as kit:
        kit.publish("OrdersTopic", order)
        (execution,) = kit.durable_executions()
        dead = kit.messages("Orders/DeadLetterQueue")
        consumer = kit.invocations("Consumer/Function")
        failures = kit.messages("Orders/OnFailureQueue")

    assert execution.status == "TIMED_OUT"
    assert "DeliverFailure" not in execution.operation_names  # the function's code never learns of its timeout
    assert [json.loads(event["Records"][0]["Sns"]["Message"]) for event in dead] == [order]
    assert consumer == []
    # Its status-change event does: the same failure queue gets the record, condition TimedOut, with the order.
    (failure,) = failures
    record = parse_execution_record(json.dumps(failure))
    assert isinstance(record, ExecutionRecord)
    assert record.request_context.condition == "TimedOut"
    assert record.request_context.request_id == execution.execution_arn
    assert record.error_message == "Execution timed out after 259200 seconds."
    assert json.loads(record.request_payload["Records"][0]["Sns"]["Message"]) == order
