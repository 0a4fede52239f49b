"""Handlers of the orchestrated-lambda example: one module, one handler per workflow step.

Step Functions invokes them synchronously; an exception becomes a task failure whose error name is the exception's
class name, so the workflow's Retry (``OrderPendingError``, backoff rate 2.0) and Catch match it.
"""

from __future__ import annotations

import logging
from typing import Any

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)


class InvalidRequestError(ValueError):
    """The workflow input is not a valid request: not retried, routed to the failure queue."""


class OrderPendingError(RuntimeError):
    """The order is not ready yet: the workflow retries this one with backoff."""


def _require_object(event: object) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidRequestError(f"expected a JSON object, got {type(event).__name__}")
    return event


def classify(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Decide the route: ``foo`` 1 (a single item) or 2 (several items: stock and billing in parallel)."""
    request = _require_object(event)
    order_id = request.get("orderId")
    items = request.get("items")
    if not isinstance(order_id, str) or not order_id:
        raise InvalidRequestError("orderId must be a non-empty string")
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise InvalidRequestError("items must be a non-empty list of SKUs")
    if request.get("pending") is True:
        raise OrderPendingError(f"order {order_id} is still pending")
    return {"orderId": order_id, "items": items, "foo": 1 if len(items) == 1 else 2}


def handle_single(event: dict[str, Any], context: object) -> dict[str, Any]:
    request = _require_object(event)
    return {"orderId": request.get("orderId"), "shipped": request.get("items"), "route": "single"}


def reserve_stock(event: dict[str, Any], context: object) -> dict[str, Any]:
    request = _require_object(event)
    items = request.get("items") or []
    return {"reserved": len(items)}


def charge(event: dict[str, Any], context: object) -> dict[str, Any]:
    request = _require_object(event)
    return {"charged": request.get("orderId")}
