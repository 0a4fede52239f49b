"""Fulfilment consumer of the destined-lambda example.

An EventBridge rule on the worker's success bus matches accepted orders and passes the execution record's
``responsePayload`` here (input path ``$.detail.responsePayload``).
"""

from __future__ import annotations

import json
import logging
import reprlib
from typing import Any

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it


class NotAnAcceptedOrderError(ValueError):
    """The input is not an accepted order: the rule's pattern and this handler disagree."""


def fulfil(decision: object) -> dict[str, Any]:
    if not isinstance(decision, dict):
        raise NotAnAcceptedOrderError(f"expected the worker's response object, got {type(decision).__name__}")
    if decision.get("status") != "ACCEPTED":
        raise NotAnAcceptedOrderError(f"expected status ACCEPTED, got {_SHOWN.repr(decision.get('status'))}")
    order_id = decision.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise NotAnAcceptedOrderError(f"orderId is missing: expected a non-empty string, got {_SHOWN.repr(order_id)}")
    return {"orderId": order_id, "fulfilment": "SCHEDULED"}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    result = fulfil(event)
    LOGGER.info("fulfilment: %s", json.dumps(result))
    return result
