"""The execution record of a durable execution, in the shape Lambda Destinations send (AWS: "Capturing records of
Lambda asynchronous invocations"), so that one consumer reads the records of every engine."""

from __future__ import annotations

import datetime as dt
import traceback
from typing import Any

RECORD_VERSION = "1.0"


def now_iso() -> str:
    """UTC now as Lambda writes record timestamps: ``2019-11-14T18:16:05.568Z``."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S") + f".{now.microsecond // 1000:03d}Z"


def error_payload(error: BaseException) -> dict[str, Any]:
    """What Lambda returns for an unhandled exception (``errorMessage``, ``errorType``, ``stackTrace``), with the
    type of the function's own exception: an error that escaped a durable step (the SDK's ``StepError`` and the
    other ``DurableOperationError`` kinds) carries it as ``error_type``, module-qualified; Lambda's ``errorType``
    is the class name alone."""
    error_type = getattr(error, "error_type", None)
    if isinstance(error_type, str) and error_type:
        message = getattr(error, "message", None)
        trace = getattr(error, "stack_trace", None)
        return {
            "errorMessage": message if isinstance(message, str) else str(error),
            "errorType": error_type.rsplit(".", 1)[-1],
            "stackTrace": list(trace) if isinstance(trace, list) else [],
        }
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }


def execution_record(
    event: Any,
    *,
    function_arn: str,
    request_id: str,
    executed_version: str,
    result: Any = None,
    error: BaseException | None = None,
    condition: str | None = None,
) -> dict[str, Any]:
    """The record of one durable execution: ``Success`` with the result, or ``RetriesExhausted`` (AWS does not
    retry a durable execution; its steps retried already) with the error payload. ``condition`` overrides it (a
    status-change failure: ``TimedOut``, ``Aborted``)."""
    failed = error is not None or (condition is not None and condition != "Success")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
    if failed:
        response_context["functionError"] = "Unhandled"
    return {
        "version": RECORD_VERSION,
        "timestamp": now_iso(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition or ("RetriesExhausted" if failed else "Success"),
            "approximateInvokeCount": 1,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": error_payload(error) if error is not None else result,
    }
