"""Business logic of the durable-orders example: plain Python, no SDK, no AWS calls (``handler.py`` runs it as a
durable execution).

The order flow of the DestinedLambda / OrchestratedLambda examples: an order (``orderId``, ``sku``, ``quantity``)
is authorized (the stand-in payment provider may answer "pending": retried with backoff), decided (``ACCEPTED``, or
``REVIEW`` above ``REVIEW_QUANTITY``), held for a cooling-off period in which the customer may still cancel, then
fulfilled: stock reserved and the card charged, in parallel.
"""

from __future__ import annotations

import json
import reprlib
from dataclasses import dataclass
from typing import Any

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it

REVIEW_QUANTITY = 100
"""Orders above this quantity are accepted for review, not fulfilled straight away."""
DEFAULT_COOLING_OFF_HOURS = 24
MAX_COOLING_OFF_HOURS = 24 * 30
"""An order may ask for up to 30 days; the function's execution timeout (3 days) bounds the whole execution."""


class InvalidOrderError(ValueError):
    """The order message is not valid: not retried, its failure record goes to the failure queue."""


class OrderPendingError(RuntimeError):
    """The payment provider has not decided yet: the AuthorizePayment step retries this one with backoff."""


@dataclass(frozen=True)
class Order:
    order_id: str
    sku: str
    quantity: int
    cooling_off_hours: int = DEFAULT_COOLING_OFF_HOURS
    payment_pending_checks: int = 0
    """How many checks the stand-in payment provider answers "pending" before it authorizes (a real provider
    decides on its own; the example lets an order say so, to show the retries)."""


def _whole(value: object, name: str, low: int, high: int, problems: list[str]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        problems.append(f"{name} must be a whole number from {low} to {high}, got {_SHOWN.repr(value)}")
        return low
    return value


def parse_order(message: object) -> Order:
    """Parse one order (a JSON object or its text). Raises InvalidOrderError that says what is wrong."""
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise InvalidOrderError("the order message is not JSON") from None
    if not isinstance(message, dict):
        raise InvalidOrderError(f"an order is a JSON object, got {type(message).__name__}")
    order_id, sku = message.get("orderId"), message.get("sku")
    problems: list[str] = []
    if not isinstance(order_id, str) or not order_id:
        problems.append(f"orderId must be a non-empty string, got {_SHOWN.repr(order_id)}")
    if not isinstance(sku, str) or not sku:
        problems.append(f"sku must be a non-empty string, got {_SHOWN.repr(sku)}")
    quantity = message.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        problems.append(f"quantity must be a positive integer, got {_SHOWN.repr(quantity)}")
    hours = _whole(
        message.get("coolingOffHours", DEFAULT_COOLING_OFF_HOURS), "coolingOffHours", 1, MAX_COOLING_OFF_HOURS, problems
    )
    pending = _whole(message.get("paymentPendingChecks", 0), "paymentPendingChecks", 0, 100, problems)
    if problems or not isinstance(order_id, str) or not isinstance(sku, str) or not isinstance(quantity, int):
        raise InvalidOrderError("; ".join(problems))
    return Order(order_id, sku, quantity, cooling_off_hours=hours, payment_pending_checks=pending)


def order_message(event: object) -> object:
    """The one order of an SNS event, or the event itself (a direct invoke of the alias with the order)."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        records = event["Records"]
        if len(records) != 1:
            raise InvalidOrderError(f"expected one order per invocation, got {len(records)}")
        sns = records[0].get("Sns") if isinstance(records[0], dict) else None
        if not isinstance(sns, dict) or "Message" not in sns:
            raise InvalidOrderError("an SNS record without Sns.Message")
        return sns["Message"]
    return event


def authorize_payment(order: Order, attempt: int) -> dict[str, Any]:
    """Ask the (stand-in) payment provider; ``attempt`` counts from 1. Raises OrderPendingError while it has not
    decided."""
    if attempt <= order.payment_pending_checks:
        raise OrderPendingError(f"payment of order {order.order_id:.80} is still pending (check {attempt})")
    return {"orderId": order.order_id, "authorized": True}


def decide(order: Order) -> dict[str, Any]:
    """The business decision: accept small orders, send large ones to review."""
    status = "ACCEPTED" if order.quantity <= REVIEW_QUANTITY else "REVIEW"
    return {"orderId": order.order_id, "sku": order.sku, "quantity": order.quantity, "status": status}


def reserve_stock(order: Order) -> dict[str, Any]:
    return {"reserved": order.quantity}


def charge(order: Order) -> dict[str, Any]:
    return {"charged": order.order_id}
