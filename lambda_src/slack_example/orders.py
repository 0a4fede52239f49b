"""Handlers of the Slack error-reporting example. None of them knows about Slack.

- ``validate``: wrapped by SlackErrorReporter with no code change; a bad order raises InvalidOrderError, which is
  posted to Slack and still fails the invocation with the same errorType.
- ``charge``: a DestinedFunction; a declined charge raises PaymentDeclinedError, Lambda retries, and the failure
  record goes to the Slack notifier.
- ``ship``: the step of a workflow; an unknown address raises ShippingError, the execution fails, and its status
  change goes to the Slack notifier.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

MAX_CHARGE = 1000

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it


class InvalidOrderError(ValueError):
    """The order is malformed."""


class PaymentDeclinedError(RuntimeError):
    """The card was declined."""


class ShippingError(RuntimeError):
    """The order cannot be shipped."""


def _order(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidOrderError(f"an order is a JSON object, got {type(event).__name__}")
    order_id = event.get("orderId")
    quantity = event.get("quantity")
    problems = []
    if not isinstance(order_id, str) or not order_id:
        problems.append("orderId must be a non-empty string")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        problems.append("quantity must be a positive integer")
    if problems:
        raise InvalidOrderError("; ".join(problems))
    return event


def _is_amount(value: object) -> bool:
    """A number of 0 or more (a JSON integer can be any size; a float must be finite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value >= 0 and (isinstance(value, int) or math.isfinite(value))


def validate(event: Any, context: Any) -> dict[str, Any]:
    order = _order(event)
    return {"orderId": order["orderId"], "quantity": order["quantity"], "status": "VALID"}


def charge(event: Any, context: Any) -> dict[str, Any]:
    order = _order(event)
    amount = event.get("amount", 0)
    if not _is_amount(amount):
        raise InvalidOrderError(f"amount must be a number of 0 or more, got {_SHOWN.repr(amount)}")
    if amount > MAX_CHARGE:
        raise PaymentDeclinedError(
            f"charge of {_SHOWN.repr(amount)} for order {order['orderId']:.80} declined: over the limit"
        )
    return {"orderId": order["orderId"], "charged": amount}


def ship(event: Any, context: Any) -> dict[str, Any]:
    order = _order(event)
    address = event.get("address")
    if not isinstance(address, str) or not address.strip():
        raise ShippingError(f"order {order['orderId']:.80} has no shipping address")
    return {"orderId": order["orderId"], "shippedTo": address}
