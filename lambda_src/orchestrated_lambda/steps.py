"""Handlers of the orchestrated-lambda example: one module, one handler per workflow step.

Step Functions invokes them synchronously; an exception becomes a task failure whose error name is the exception's
class name, so the workflow's Retry (``OrderPendingError``, backoff rate 2.0) and Catch match it.
"""

from __future__ import annotations

import logging
import reprlib
from typing import Any

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it


class InvalidRequestError(ValueError):
    """The workflow input is not a valid request: not retried, routed to the failure queue."""


class OrderPendingError(RuntimeError):
    """The order is not ready yet: the workflow retries this one with backoff."""


def _require_object(event: object) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidRequestError(f"expected a JSON object, got {type(event).__name__}")
    return event


def parse_request(event: object) -> tuple[str, list[str]]:
    """The order id and SKUs of a step's input. Raises InvalidRequestError that says what is wrong."""
    request = _require_object(event)
    order_id = request.get("orderId")
    items = request.get("items")
    problems = []
    if not isinstance(order_id, str) or not order_id:
        problems.append(f"orderId must be a non-empty string, got {_SHOWN.repr(order_id)}")
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        problems.append(f"items must be a non-empty list of SKUs (non-empty strings), got {_SHOWN.repr(items)}")
    if problems or not isinstance(order_id, str) or not isinstance(items, list):
        raise InvalidRequestError("; ".join(problems))
    return order_id, items


def classify(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Decide the route: ``foo`` 1 (a single item) or 2 (several items: stock and billing in parallel)."""
    order_id, items = parse_request(event)
    if event.get("pending") is True:
        raise OrderPendingError(f"order {order_id:.80} is still pending")
    return {"orderId": order_id, "items": items, "foo": 1 if len(items) == 1 else 2}


def handle_single(event: dict[str, Any], context: object) -> dict[str, Any]:
    order_id, items = parse_request(event)
    return {"orderId": order_id, "shipped": items, "route": "single"}


def reserve_stock(event: dict[str, Any], context: object) -> dict[str, Any]:
    _, items = parse_request(event)
    return {"reserved": len(items)}


def charge(event: dict[str, Any], context: object) -> dict[str, Any]:
    order_id, _ = parse_request(event)
    return {"charged": order_id}
