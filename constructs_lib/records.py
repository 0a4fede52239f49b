"""Typed models of the Lambda Destinations execution record.

Standard library only: this module never imports ``aws_cdk``, so a consumer's handler can use it at run time
(``from constructs_lib.records import parse_execution_record``) wherever the package is importable.

The record shape is the documented one (Lambda "Capturing records of Lambda asynchronous invocations")::

    {
      "version": "1.0",
      "timestamp": "2019-11-14T18:16:05.568Z",
      "requestContext": {"requestId": "...", "functionArn": "arn:...:function:name:$LATEST",
                         "condition": "Success" | "RetriesExhausted" | "EventAgeExceeded",
                         "approximateInvokeCount": 1},
      "requestPayload": {...},
      "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
      "responsePayload": {...}
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

DETAIL_TYPE_SUCCESS = "Lambda Function Invocation Result - Success"
DETAIL_TYPE_FAILURE = "Lambda Function Invocation Result - Failure"
EVENT_SOURCE = "lambda"


class Condition(StrEnum):
    """Why a record was sent: ``requestContext.condition``."""

    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"

    @property
    def is_failure(self) -> bool:
        return self is not Condition.SUCCESS

    @property
    def detail_type(self) -> str:
        """The EventBridge ``detail-type`` of a record with this condition."""
        return DETAIL_TYPE_FAILURE if self.is_failure else DETAIL_TYPE_SUCCESS


class RecordFormatError(ValueError):
    """The input is not a Lambda Destinations execution record (or a message that carries one)."""


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    function_arn: str
    condition: Condition
    approximate_invoke_count: int

    @property
    def qualifier(self) -> str | None:
        """The version or alias that ran (``$LATEST``, ``7``, ``live``), or None for an unqualified ARN."""
        parts = self.function_arn.split(":")
        return parts[7] if len(parts) > 7 else None


@dataclass(frozen=True)
class ResponseContext:
    status_code: int | None
    executed_version: str | None
    function_error: str | None


@dataclass(frozen=True)
class ExecutionRecord:
    version: str
    timestamp: str
    request_context: RequestContext
    request_payload: Any
    response_context: ResponseContext
    response_payload: Any = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.request_context.condition is Condition.SUCCESS

    @property
    def error_type(self) -> str | None:
        """``errorType`` of a failed invocation's response (for example ``InvalidOrderError``), if any."""
        payload = self.response_payload
        if isinstance(payload, dict) and isinstance(payload.get("errorType"), str):
            return str(payload["errorType"])
        return None

    @property
    def error_message(self) -> str | None:
        """``errorMessage`` of a failed invocation. A Step Functions Lambda task failure carries the Lambda error
        as JSON in its cause: that JSON's ``errorMessage`` is returned, so both engines read the same."""
        payload = self.response_payload
        if not isinstance(payload, dict) or not isinstance(payload.get("errorMessage"), str):
            return None
        message = str(payload["errorMessage"])
        if message.startswith("{"):
            try:
                inner = json.loads(message)
            except ValueError:
                return message
            if isinstance(inner, dict) and isinstance(inner.get("errorMessage"), str):
                return str(inner["errorMessage"])
        return message

    @classmethod
    def from_dict(cls, data: object) -> ExecutionRecord:
        """Parse a record. Raises RecordFormatError that names the missing or malformed field."""
        if not isinstance(data, dict):
            raise RecordFormatError(f"an execution record is a JSON object, got {type(data).__name__}")
        request = _require_dict(data, "requestContext")
        response = data.get("responseContext") or {}
        if not isinstance(response, dict):
            raise RecordFormatError("responseContext must be an object")
        condition_value = _require_str(request, "requestContext.condition", "condition")
        try:
            condition = Condition(condition_value)
        except ValueError:
            allowed = ", ".join(c.value for c in Condition)
            raise RecordFormatError(
                f"requestContext.condition must be one of {allowed}, got {condition_value!r}"
            ) from None
        count = request.get("approximateInvokeCount", 1)
        if not isinstance(count, int) or isinstance(count, bool):
            raise RecordFormatError(f"requestContext.approximateInvokeCount must be an integer, got {count!r}")
        status = response.get("statusCode")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
            raise RecordFormatError(f"responseContext.statusCode must be an integer, got {status!r}")
        return cls(
            version=str(data.get("version", "1.0")),
            timestamp=_require_str(data, "timestamp", "timestamp"),
            request_context=RequestContext(
                request_id=_require_str(request, "requestContext.requestId", "requestId"),
                function_arn=_require_str(request, "requestContext.functionArn", "functionArn"),
                condition=condition,
                approximate_invoke_count=count,
            ),
            request_payload=data.get("requestPayload"),
            response_context=ResponseContext(
                status_code=status,
                executed_version=_optional_str(response, "executedVersion"),
                function_error=_optional_str(response, "functionError"),
            ),
            response_payload=data.get("responsePayload"),
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record in its documented JSON shape."""
        response_context: dict[str, Any] = {}
        if self.response_context.status_code is not None:
            response_context["statusCode"] = self.response_context.status_code
        if self.response_context.executed_version is not None:
            response_context["executedVersion"] = self.response_context.executed_version
        if self.response_context.function_error is not None:
            response_context["functionError"] = self.response_context.function_error
        record: dict[str, Any] = {
            "version": self.version,
            "timestamp": self.timestamp,
            "requestContext": {
                "requestId": self.request_context.request_id,
                "functionArn": self.request_context.function_arn,
                "condition": self.request_context.condition.value,
                "approximateInvokeCount": self.request_context.approximate_invoke_count,
            },
            "requestPayload": self.request_payload,
            "responseContext": response_context,
        }
        if self.response_payload is not None:
            record["responsePayload"] = self.response_payload
        return record


def parse_execution_record(message: object) -> ExecutionRecord:
    """Parse a record however it arrived.

    Accepts the record itself (a Lambda destination), an EventBridge event whose ``detail`` is the record, an SQS
    message (``body`` holds the record as JSON), an SNS record (``Sns.Message``), or a JSON string of any of these.
    """
    message = _json_object(message, "message")
    if "requestContext" in message:
        return ExecutionRecord.from_dict(message)
    if "detail" in message and "detail-type" in message:
        detail_type = message["detail-type"]
        if detail_type not in (DETAIL_TYPE_SUCCESS, DETAIL_TYPE_FAILURE):
            raise RecordFormatError(
                f"EventBridge event detail-type {detail_type!r} is not a Lambda invocation result; "
                f"match {DETAIL_TYPE_SUCCESS!r} or {DETAIL_TYPE_FAILURE!r} in the rule"
            )
        return ExecutionRecord.from_dict(message["detail"])
    if "body" in message:  # an SQS record
        return parse_execution_record(message["body"])
    sns = message.get("Sns")
    if isinstance(sns, dict) and "Message" in sns:
        return parse_execution_record(sns["Message"])
    raise RecordFormatError(
        "not an execution record: expected requestContext (a record), detail (an EventBridge event), "
        f"body (an SQS record) or Sns.Message (an SNS record); got keys {sorted(message)}"
    )


def _json_object(value: object, what: str) -> dict[str, Any]:
    """A JSON object, decoded from text if needed; RecordFormatError otherwise."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise RecordFormatError(f"the {what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RecordFormatError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _require_dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise RecordFormatError(f"{key} is missing or not an object")
    return value


def _require_str(data: dict[str, Any], name: str, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RecordFormatError(f"{name} is missing or not a string")
    return value


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------------------------------------------
# Step Functions execution status change events (EventBridge, source aws.states)

STATUS_CHANGE_SOURCE = "aws.states"
STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"


class ExecutionStatus(StrEnum):
    """``detail.status`` of a Step Functions execution status change event."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


@dataclass(frozen=True)
class ExecutionStatusChange:
    """The ``detail`` of a "Step Functions Execution Status Change" event (Standard workflows only)."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: ExecutionStatus
    start_date: int | None
    stop_date: int | None
    input: str | None
    output: str | None
    error: str | None
    cause: str | None

    @classmethod
    def from_event(cls, event: object) -> ExecutionStatusChange:
        """Parse the whole EventBridge event (or its ``detail``). Raises RecordFormatError naming what is wrong."""
        event = _json_object(event, "event")
        if "detail-type" in event:
            if event["detail-type"] != STATUS_CHANGE_DETAIL_TYPE:
                raise RecordFormatError(f"detail-type {event['detail-type']!r} is not {STATUS_CHANGE_DETAIL_TYPE!r}")
            event = event.get("detail")
            if not isinstance(event, dict):
                raise RecordFormatError("detail is missing or not an object")
        status_value = _require_str(event, "status", "status")
        try:
            status = ExecutionStatus(status_value)
        except ValueError:
            allowed = ", ".join(s.value for s in ExecutionStatus)
            raise RecordFormatError(f"status must be one of {allowed}, got {status_value!r}") from None
        return cls(
            execution_arn=_require_str(event, "executionArn", "executionArn"),
            state_machine_arn=_require_str(event, "stateMachineArn", "stateMachineArn"),
            name=str(event.get("name", "")),
            status=status,
            start_date=event.get("startDate") if isinstance(event.get("startDate"), int) else None,
            stop_date=event.get("stopDate") if isinstance(event.get("stopDate"), int) else None,
            input=_optional_str(event, "input"),
            output=_optional_str(event, "output"),
            error=_optional_str(event, "error"),
            cause=_optional_str(event, "cause"),
        )
