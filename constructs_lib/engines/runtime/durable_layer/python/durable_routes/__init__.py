"""Deliver a Lambda durable function's result to its routes, as the other engines do: standard library and the
durable execution SDK only (the ``DurableFunction`` construct ships both in layers).

Use ``routed_durable_execution`` in place of the SDK's ``durable_execution``::

    from aws_durable_execution_sdk_python import DurableContext
    from durable_routes import routed_durable_execution

    @routed_durable_execution
    def handler(event, context: DurableContext):
        order = context.step(lambda _: reserve(event), name="Reserve")
        return {"orderId": event["orderId"], "status": "ACCEPTED"}

When the function returns, its result goes to the ``on_success`` route; when it raises, the ``on_failure`` route
receives the failure. Both receive the execution record Lambda Destinations send (``version``, ``timestamp``,
``requestContext`` with ``condition``, ``requestPayload``, ``responseContext``, ``responsePayload``), built and
delivered inside a durable step (``DeliverSuccess`` / ``DeliverFailure``), so a replay of the execution never
delivers it again. The function's own exception is raised again, unchanged, after its record is delivered; the
SDK's control-flow exceptions (suspension, checkpoint and invocation errors) pass through untouched.
"""

from __future__ import annotations

from .delivery import (
    ENV_ON_FAILURE,
    ENV_ON_SUCCESS,
    EVENT_SOURCE,
    Delivery,
    DeliveryError,
    deliver,
)
from .execution import routed_durable_execution
from .record import error_payload, execution_record

__all__ = [
    "ENV_ON_FAILURE",
    "ENV_ON_SUCCESS",
    "EVENT_SOURCE",
    "Delivery",
    "DeliveryError",
    "deliver",
    "error_payload",
    "execution_record",
    "routed_durable_execution",
]
