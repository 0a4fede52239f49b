"""The destined-lambda example's handlers, fed real sample events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_src.destined_lambda import consumer, worker
from tests.conftest import FakeContext, load_event


def sns_event(message: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_event("sns_order.json")
    event["Records"][0]["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
    return event


def test_worker_accepts_a_small_order() -> None:
    result = worker.handler(load_event("sns_order.json"), FakeContext())
    assert result == {"orderId": "o-1001", "sku": "PCB-7", "quantity": 3, "status": "ACCEPTED"}


def test_worker_sends_a_large_order_to_review() -> None:
    result = worker.handler(sns_event({"orderId": "o-2", "sku": "X", "quantity": 500}), FakeContext())
    assert result["status"] == "REVIEW"


def test_worker_takes_a_direct_async_invoke() -> None:
    result = worker.handler({"orderId": "o-3", "sku": "X", "quantity": 1}, FakeContext())
    assert result["status"] == "ACCEPTED"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("{not json", "not JSON"),
        ({"orderId": "", "sku": "X", "quantity": 1}, "orderId must be a non-empty string"),
        ({"orderId": "o", "quantity": 1}, "sku must be a non-empty string"),
        ({"orderId": "o", "sku": "X", "quantity": 0}, "quantity must be a positive integer, got 0"),
        ({"orderId": "o", "sku": "X", "quantity": True}, "quantity must be a positive integer, got True"),
        ([1], "an order is a JSON object, got list"),
    ],
)
def test_worker_rejects_malformed_orders(message: Any, expected: str) -> None:
    with pytest.raises(worker.InvalidOrderError) as error:
        worker.handler(sns_event(message), FakeContext())
    assert expected in str(error.value)


def test_worker_rejects_an_sns_record_without_message() -> None:
    with pytest.raises(worker.InvalidOrderError, match=r"without Sns\.Message"):
        worker.handler({"Records": [{"EventSource": "aws:sns"}]}, FakeContext())


def test_consumer_fulfils_the_response_payload_of_a_success_record() -> None:
    # The rule passes $.detail.responsePayload: take it from a real success event.
    payload = load_event("eventbridge_success_event.json")["detail"]["responsePayload"]
    assert consumer.handler(payload, FakeContext()) == {"orderId": "o-1001", "fulfilment": "SCHEDULED"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"orderId": "o", "status": "REVIEW"}, "expected status ACCEPTED, got 'REVIEW'"),
        ({"status": "ACCEPTED"}, "orderId is missing"),
        ("text", "expected the worker's response object, got str"),
    ],
)
def test_consumer_rejects_what_the_rule_should_not_send(event: Any, expected: str) -> None:
    with pytest.raises(consumer.NotAnAcceptedOrderError) as error:
        consumer.handler(event, FakeContext())
    assert expected in str(error.value)
