"""The failure record of a durable execution that timed out or was stopped, from its status-change event.

Lambda ends such an execution without running the function's code again: ``routed_durable_execution`` never sees
it. Lambda does put a ``Durable Execution Status Change`` event (source ``aws.lambda``) on the default event bus
(AWS: "Monitoring durable functions", https://docs.aws.amazon.com/lambda/latest/dg/durable-monitoring.html); a rule
on its ``TIMED_OUT`` and ``STOPPED`` statuses invokes ``handler``, which reads the execution's input with
``GetDurableExecution`` (the event carries none) and delivers the same record the other engines send, condition
``TimedOut`` or ``Aborted``, to the route in ``DURABLE_ROUTES_ON_FAILURE``.

The event's documented detail: ``durableExecutionArn``, ``durableExecutionName``, ``functionArn``, ``status``,
``startTimestamp`` and, for a terminal status, ``endTimestamp``. AWS's example qualifies ``functionArn`` with a
version and ``durableExecutionArn`` with ``$LATEST`` in the same event, so the record's ``functionArn`` is the
execution ARN's own function part (the version that ran, by the ARN's documented pattern), and the event's
``functionArn`` only when the execution ARN has no such part.
"""

from __future__ import annotations

import json
from typing import Any

from .delivery import ENV_ON_FAILURE, Delivery, client, deliver
from .record import RECORD_VERSION, now_iso

CONDITIONS = {"TIMED_OUT": "TimedOut", "STOPPED": "Aborted"}
"""The record's condition per execution status: the names a Standard workflow's records use for the same ends."""
ERRORS = {
    "TIMED_OUT": (
        "DurableExecutionTimedOut",
        "The durable execution ran past its execution timeout and was stopped; the function's code does not run "
        "again for it.",
    ),
    "STOPPED": (
        "DurableExecutionStopped",
        "The durable execution was stopped (StopDurableExecution) before it ended; the function's code does not run "
        "again for it.",
    ),
}
"""``responsePayload`` of a record whose execution carries no error of its own (named like the CloudWatch metrics)."""
EXECUTION_MARKER = "/durable-execution/"


class StatusEventError(ValueError):
    """The event is not the status change of a timed-out or stopped durable execution."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deliver the failure record of the execution in a ``Durable Execution Status Change`` event."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or not isinstance(detail.get("durableExecutionArn"), str):
        raise StatusEventError(f"not a Durable Execution Status Change event: {str(event)[:300]}")
    status = detail.get("status")
    if status not in CONDITIONS:
        raise StatusEventError(f"status {status!r} has no failure record here (only {', '.join(CONDITIONS)})")
    delivery = Delivery.from_environment(ENV_ON_FAILURE)
    if delivery is None:
        raise StatusEventError(f"{ENV_ON_FAILURE} is not set: no failure route to deliver to")
    execution = client("lambda").get_durable_execution(DurableExecutionArn=detail["durableExecutionArn"])
    record = status_record(detail, execution, time=event.get("time"))
    deliver(delivery, record)
    return {"delivered": record["requestContext"]["condition"], "requestId": record["requestContext"]["requestId"]}


def status_record(detail: dict[str, Any], execution: dict[str, Any], *, time: Any = None) -> dict[str, Any]:
    """The execution record of a timed-out or stopped execution: ``detail`` from its status-change event,
    ``execution`` the ``GetDurableExecution`` answer (``InputPayload``, ``Error``), ``time`` the event's."""
    status = str(detail.get("status"))
    execution_arn = str(detail["durableExecutionArn"])
    function_arn = _function_arn(execution_arn, detail, execution)
    version = _qualifier(function_arn) or str(execution.get("Version") or "$LATEST")
    default_type, default_message = ERRORS[status]
    given = execution.get("Error")
    error: dict[str, Any] = given if isinstance(given, dict) else {}
    payload = {
        "errorType": str(error.get("ErrorType") or default_type),
        "errorMessage": str(error.get("ErrorMessage") or default_message),
    }
    timestamp = detail.get("endTimestamp") or time
    return {
        "version": RECORD_VERSION,
        "timestamp": str(timestamp) if isinstance(timestamp, str) and timestamp else now_iso(),
        "requestContext": {
            "requestId": execution_arn,
            "functionArn": function_arn,
            "condition": CONDITIONS[status],
            "approximateInvokeCount": 1,
        },
        "requestPayload": _input(execution.get("InputPayload")),
        "responseContext": {"statusCode": 200, "executedVersion": version, "functionError": "Unhandled"},
        "responsePayload": payload,
    }


def _function_arn(execution_arn: str, detail: dict[str, Any], execution: dict[str, Any]) -> str:
    """The function ARN qualified with the version that ran: the execution ARN's function part
    (``arn:...:function:name:7/durable-execution/...``), else the event's or the API's ``functionArn``."""
    head, marker, _ = execution_arn.partition(EXECUTION_MARKER)
    if marker and head.startswith("arn:") and _qualifier(head):
        return head
    for candidate in (detail.get("functionArn"), execution.get("FunctionArn")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return head


def _qualifier(function_arn: str) -> str | None:
    fields = function_arn.split(":")
    return fields[7] if len(fields) == 8 and fields[7] else None


def _input(payload: Any) -> Any:
    """The execution's input as its caller sent it: JSON parsed; text that is not JSON kept as it is."""
    if not isinstance(payload, str):
        return payload
    try:
        return json.loads(payload)
    except ValueError:
        return payload
