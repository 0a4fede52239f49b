"""``routed_durable_execution``: the SDK's ``durable_execution``, with the result delivered to the routes."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.exceptions import UnrecoverableError
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

from .delivery import ENV_ON_FAILURE, ENV_ON_SUCCESS, Delivery, TransientDeliveryError, deliver
from .record import execution_record

if TYPE_CHECKING:
    from collections.abc import Callable

DELIVER_SUCCESS = "DeliverSuccess"
DELIVER_FAILURE = "DeliverFailure"

# As a workflow's delivery states: 6 retries of a throttled or failing service, 1 s doubling to 30 s, full jitter.
DELIVERY_STEP = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=7,
            initial_delay=Duration.from_seconds(1),
            max_delay=Duration.from_seconds(30),
            backoff_rate=2,
            jitter_strategy=JitterStrategy.FULL,
            retryable_error_types=[TransientDeliveryError],
        )
    )
)


def routed_durable_execution(func: Callable[[Any, DurableContext], Any] | None = None, **sdk_options: Any) -> Any:
    """Decorate a durable handler in place of the SDK's ``durable_execution`` (which it calls, with
    ``sdk_options``: ``boto3_client=``, ``plugins=``).

    After ``func`` returns, a ``DeliverSuccess`` step sends the execution record (condition ``Success``) to the
    route in ``DURABLE_ROUTES_ON_SUCCESS``; after it raises, a ``DeliverFailure`` step sends the record (condition
    ``RetriesExhausted``, ``responsePayload`` the error with the type of the function's own exception) to the route
    in ``DURABLE_ROUTES_ON_FAILURE``, and the exception is raised again, unchanged. A side without a route sends
    nothing. The record is built inside the step: a replay returns the checkpointed delivery and sends nothing.
    The SDK's own control-flow exceptions (suspension, and the checkpoint and invocation errors that end or retry
    an invocation) are not failures of the function and pass through.
    """
    if func is None:
        return functools.partial(routed_durable_execution, **sdk_options)

    @functools.wraps(func)
    def routed(event: Any, context: DurableContext) -> Any:
        try:
            result = func(event, context)
        except UnrecoverableError:  # the SDK's: ExecutionError, InvocationError, CheckpointError...
            raise
        except Exception as error:
            _deliver_in_step(context, DELIVER_FAILURE, ENV_ON_FAILURE, event, error=error)
            raise
        _deliver_in_step(context, DELIVER_SUCCESS, ENV_ON_SUCCESS, event, result=result)
        return result

    # SuspendExecution and the SDK's thread-control exceptions derive from BaseException: ``except Exception``
    # above never sees them.
    return durable_execution(routed, **sdk_options)


def _deliver_in_step(
    context: DurableContext,
    name: str,
    variable: str,
    event: Any,
    *,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    delivery = Delivery.from_environment(variable)
    if delivery is None:
        return
    lambda_context = context.lambda_context

    def send(_: StepContext) -> str:
        record = execution_record(
            event,
            function_arn=str(getattr(lambda_context, "invoked_function_arn", "")),
            request_id=context.execution_context.durable_execution_arn,
            executed_version=str(getattr(lambda_context, "function_version", "$LATEST")),
            result=result,
            error=error,
        )
        deliver(delivery, record)
        return str(record["timestamp"])  # what the checkpoint keeps: small, and when it was sent

    context.step(send, name=name, config=DELIVERY_STEP)
