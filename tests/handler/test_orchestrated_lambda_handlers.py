"""The orchestrated-lambda example's step handlers, fed sample workflow inputs."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_src.orchestrated_lambda import steps


def test_one_item_routes_to_foo_1() -> None:
    assert steps.classify({"orderId": "o-1", "items": ["A"]}, None)["foo"] == 1


def test_several_items_route_to_foo_2_and_both_branches_run() -> None:
    decided = steps.classify({"orderId": "o-2", "items": ["A", "B"]}, None)
    assert decided["foo"] == 2
    assert steps.reserve_stock(decided, None) == {"reserved": 2}
    assert steps.charge(decided, None) == {"charged": "o-2"}


def test_single_item_is_shipped() -> None:
    assert steps.handle_single({"orderId": "o-1", "items": ["A"]}, None)["route"] == "single"


def test_pending_order_raises_the_retried_error() -> None:
    with pytest.raises(steps.OrderPendingError, match="still pending"):
        steps.classify({"orderId": "o-3", "items": ["A"], "pending": True}, None)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"items": ["A"]}, "orderId must be a non-empty string"),
        ({"orderId": "o", "items": []}, "items must be a non-empty list"),
        ({"orderId": "o", "items": [1]}, "items must be a non-empty list"),
        ("text", "expected a JSON object, got str"),
    ],
)
def test_malformed_requests_raise_invalid_request(event: Any, expected: str) -> None:
    with pytest.raises(steps.InvalidRequestError) as error:
        steps.classify(event, None)
    assert expected in str(error.value)
