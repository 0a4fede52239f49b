"""The durable-orders example's handler: the order flow as a Lambda durable function.

AuthorizePayment (a step retried on OrderPendingError: 2 s, backoff 2.0, 4 attempts, as OrchestratedLambda's
Retry) -> decision: REVIEW orders end here; ACCEPTED ones wait out a cooling-off period (a durable wait: no compute
while it lasts) -> Fulfil: ReserveStock and Charge in parallel. ``routed_durable_execution`` (the library's layer)
sends the execution record to the routes: the result to the success bus, an exception to the failure queue.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from durable_routes import routed_durable_execution
from order_logic import (
    Order,
    OrderPendingError,
    authorize_payment,
    charge,
    decide,
    order_message,
    parse_order,
    reserve_stock,
)

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

PENDING_RETRY = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=4,
            initial_delay=Duration.from_seconds(2),
            backoff_rate=2,
            max_delay=Duration.from_minutes(1),
            # No jitter, as a Step Functions Retry by default: the delays are 2, 4 and 8 seconds.
            jitter_strategy=JitterStrategy.NONE,
            retryable_error_types=[OrderPendingError],  # anything else fails the step at once
        )
    )
)


def _fulfil(context: DurableContext, order: Order) -> dict[str, Any]:
    """ReserveStock and Charge as two branches of one parallel operation, each a checkpointed step."""
    branches = context.parallel(
        [
            lambda branch: branch.step(lambda _: reserve_stock(order), name="ReserveStock"),
            lambda branch: branch.step(lambda _: charge(order), name="Charge"),
        ],
        name="Fulfil",
    )
    branches.throw_if_error()
    reserved, charged = branches.get_results()
    fulfilled: dict[str, Any] = {**reserved, **charged}
    return fulfilled


@routed_durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, Any]:
    # Parsing is deterministic: on a replay it gives the same order, so it needs no step.
    order = parse_order(order_message(event))

    def authorize(step: StepContext) -> dict[str, Any]:
        return authorize_payment(order, step.attempt)

    context.step(authorize, name="AuthorizePayment", config=PENDING_RETRY)
    decision: dict[str, Any] = decide(order)
    if decision["status"] == "ACCEPTED":
        context.wait(Duration.from_hours(order.cooling_off_hours), name="CoolingOff")
        decision = {**decision, **_fulfil(context, order)}
    LOGGER.info("order %s: %s", order.order_id, decision["status"])
    return decision
