"""Order worker of the destined-lambda example, invoked asynchronously by SNS.

Its return value is the ``responsePayload`` of the success record that Lambda Destinations puts on the event bus;
its exceptions (after the retries of asynchronous invocation) become failure records on the failure queue.
"""

from __future__ import annotations

import json
import logging
import reprlib
from dataclasses import dataclass
from typing import Any

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it

REVIEW_QUANTITY = 100
"""Orders above this quantity are accepted for review, not fulfilled straight away."""


class InvalidOrderError(ValueError):
    """The order message is not valid. Named so that a route or a Retry/Catch can match it."""


@dataclass(frozen=True)
class Order:
    order_id: str
    sku: str
    quantity: int


def parse_order(message: object) -> Order:
    """Parse one order. Raises InvalidOrderError that says what is wrong."""
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise InvalidOrderError("the order message is not JSON") from None
    if not isinstance(message, dict):
        raise InvalidOrderError(f"an order is a JSON object, got {type(message).__name__}")
    order_id = message.get("orderId")
    sku = message.get("sku")
    quantity = message.get("quantity")
    problems = []
    if not isinstance(order_id, str) or not order_id:
        problems.append("orderId must be a non-empty string")
    if not isinstance(sku, str) or not sku:
        problems.append("sku must be a non-empty string")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        problems.append(f"quantity must be a positive integer, got {_SHOWN.repr(quantity)}")
    if problems or not isinstance(order_id, str) or not isinstance(sku, str) or not isinstance(quantity, int):
        raise InvalidOrderError("; ".join(problems))
    return Order(order_id=order_id, sku=sku, quantity=quantity)


def decide(order: Order) -> dict[str, Any]:
    """The business decision: accept small orders, send large ones to review."""
    status = "ACCEPTED" if order.quantity <= REVIEW_QUANTITY else "REVIEW"
    return {"orderId": order.order_id, "sku": order.sku, "quantity": order.quantity, "status": status}


def messages_of(event: object) -> list[object]:
    """The order messages of an SNS event (or a direct asynchronous invoke with the order itself)."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        messages: list[object] = []
        for record in event["Records"]:
            sns = record.get("Sns") if isinstance(record, dict) else None
            if not isinstance(sns, dict) or "Message" not in sns:
                raise InvalidOrderError("an SNS record without Sns.Message")
            messages.append(sns["Message"])
        return messages
    return [event]


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    messages = messages_of(event)
    if len(messages) != 1:
        raise InvalidOrderError(f"expected one order per invocation, got {len(messages)}")
    result = decide(parse_order(messages[0]))
    LOGGER.info("order decided: %s", json.dumps(result))
    return result
