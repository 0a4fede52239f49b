"""Typed models of the records Lambda writes about invocations, and of Step Functions status change events.

Standard library only: this module never imports ``aws_cdk``, so a consumer's handler can use it at run time
(``from constructs_lib.records import parse_record``) wherever the package is importable.

Two kinds of record, one parser each and one that tells them apart:

- ``ExecutionRecord`` (``parse_execution_record``): the record of an asynchronous invocation that Lambda
  Destinations send (Lambda "Capturing records of Lambda asynchronous invocations")::

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

- ``StreamFailureRecord`` (``parse_stream_failure_record``): the record a Kinesis or DynamoDB Streams event source
  mapping sends to its on-failure destination when it discards a batch (Lambda "Retain discarded batch records for
  a Kinesis Data Streams event source" and "Retain discarded records for a DynamoDB event source")::

    {
      "requestContext": {"requestId": "...", "functionArn": "arn:...:function:name",
                         "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
      "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
      "version": "1.0",
      "timestamp": "2019-11-14T00:38:06.021Z",
      "KinesisBatchInfo" | "DDBStreamBatchInfo": {"shardId": "...", "startSequenceNumber": "...",
          "endSequenceNumber": "...", "approximateArrivalOfFirstRecord": "...",
          "approximateArrivalOfLastRecord": "...", "batchSize": 500, "streamArn": "arn:..."},
      "payload": "..."   (S3 destinations only: the original invocation, as escaped JSON)
    }

- ``parse_record`` reads either and returns the matching model: a record with ``KinesisBatchInfo`` or
  ``DDBStreamBatchInfo`` (or the stream-only condition ``RetryAttemptsExhausted``) is a stream on-failure record,
  any other an asynchronous invocation record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

DETAIL_TYPE_SUCCESS = "Lambda Function Invocation Result - Success"
DETAIL_TYPE_FAILURE = "Lambda Function Invocation Result - Failure"
EVENT_SOURCE = "lambda"
"""The ``source`` of the records Lambda Destinations put on an event bus."""
WORKFLOW_EVENT_SOURCE = "constructs-lib.workflow"
"""The ``source`` of the records a ``FunctionWorkflow`` puts on an event bus (same detail types, same record)."""
DURABLE_EVENT_SOURCE = "constructs-lib.durable"
"""The ``source`` of the records a ``DurableFunction`` puts on an event bus (same detail types, same record)."""


class Condition(StrEnum):
    """Why a record was sent: ``requestContext.condition``."""

    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"
    TIMED_OUT = "TimedOut"
    """An execution ran past its timeout: a Standard workflow's (``FunctionWorkflow``; no Catch runs for it) or a
    durable function's (``DurableFunction``; its code does not run again)."""
    ABORTED = "Aborted"
    """An execution was stopped: a Standard workflow's (StopExecution) or a durable function's
    (StopDurableExecution)."""

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
        return _qualifier(self.function_arn)


@dataclass(frozen=True)
class ResponseContext:
    status_code: int | None
    executed_version: str | None
    function_error: str | None

    def to_dict(self) -> dict[str, Any]:
        """``responseContext`` in its documented JSON shape (absent fields left out)."""
        context: dict[str, Any] = {}
        if self.status_code is not None:
            context["statusCode"] = self.status_code
        if self.executed_version is not None:
            context["executedVersion"] = self.executed_version
        if self.function_error is not None:
            context["functionError"] = self.function_error
        return context


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
        condition_value = _require_str(request, "requestContext.condition", "condition")
        try:
            condition = Condition(condition_value)
        except ValueError:
            allowed = ", ".join(c.value for c in Condition)
            raise RecordFormatError(
                f"requestContext.condition must be one of {allowed}, got {condition_value!r}"
            ) from None
        request_id, function_arn, count = _request_fields(request)
        return cls(
            version=str(data.get("version", "1.0")),
            timestamp=_require_str(data, "timestamp", "timestamp"),
            request_context=RequestContext(
                request_id=request_id,
                function_arn=function_arn,
                condition=condition,
                approximate_invoke_count=count,
            ),
            request_payload=data.get("requestPayload"),
            response_context=_response_context(data),
            response_payload=data.get("responsePayload"),
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record in its documented JSON shape."""
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
            "responseContext": self.response_context.to_dict(),
        }
        if self.response_payload is not None:
            record["responsePayload"] = self.response_payload
        return record


def parse_execution_record(message: object) -> ExecutionRecord:
    """Parse an asynchronous invocation record however it arrived.

    Accepts the record itself (a Lambda destination), an EventBridge event whose ``detail`` is the record, an SQS
    message (``body`` holds the record as JSON), an SNS record (``Sns.Message``), or a JSON string of any of these.
    A stream on-failure record is refused with a pointer to ``parse_stream_failure_record``: this function returns
    one type, so that ``record.response_payload`` and the like type-check; ``parse_record`` takes either kind.
    """
    record = _record_object(message)
    if _is_stream_failure(record):
        raise RecordFormatError(
            f"this is a stream event source's on-failure record ({_stream_marker(record)}), not an asynchronous "
            "invocation record: read it with parse_stream_failure_record, or parse_record for either kind"
        )
    return ExecutionRecord.from_dict(record)


def parse_stream_failure_record(message: object) -> StreamFailureRecord:
    """Parse a Kinesis or DynamoDB Streams on-failure record however its destination delivered it.

    Accepts the record itself, an SQS message (``body``), an SNS record (``Sns.Message``), or the JSON text (``str``
    or ``bytes``) of any of these, such as the body of the object an S3 on-failure destination wrote.
    """
    return StreamFailureRecord.from_dict(_record_object(message))


def parse_record(message: object) -> ExecutionRecord | StreamFailureRecord:
    """Parse either kind of record Lambda writes about invocations, in any envelope ``parse_execution_record`` and
    ``parse_stream_failure_record`` take, and return the matching model.

    A record with ``KinesisBatchInfo`` or ``DDBStreamBatchInfo``, or with the stream-only condition
    ``RetryAttemptsExhausted``, is a ``StreamFailureRecord``; any other is an ``ExecutionRecord``. Use the typed
    parsers when a handler receives one kind only.
    """
    record = _record_object(message)
    if _is_stream_failure(record):
        return StreamFailureRecord.from_dict(record)
    return ExecutionRecord.from_dict(record)


def _record_object(message: object) -> dict[str, Any]:
    """The record a message carries: the record itself, or the one inside an EventBridge event, an SQS message, an
    SNS record or JSON text."""
    message = _json_object(message, "message")
    if "requestContext" in message:
        return message
    if "detail" in message and "detail-type" in message:
        detail_type = message["detail-type"]
        if detail_type not in (DETAIL_TYPE_SUCCESS, DETAIL_TYPE_FAILURE):
            raise RecordFormatError(
                f"EventBridge event detail-type {detail_type!r} is not a Lambda invocation result; "
                f"match {DETAIL_TYPE_SUCCESS!r} or {DETAIL_TYPE_FAILURE!r} in the rule"
            )
        detail = message["detail"]
        if not isinstance(detail, dict):
            raise RecordFormatError(f"an execution record is a JSON object, got {type(detail).__name__}")
        return detail
    if "body" in message:  # an SQS record
        return _record_object(message["body"])
    sns = message.get("Sns")
    if isinstance(sns, dict) and "Message" in sns:
        return _record_object(sns["Message"])
    raise RecordFormatError(
        "not an execution record: expected requestContext (a record), detail (an EventBridge event), "
        f"body (an SQS record) or Sns.Message (an SNS record); got keys {sorted(message)}"
    )


def _is_stream_failure(record: dict[str, Any]) -> bool:
    if any(isinstance(record.get(info.KEY), dict) for info in BATCH_INFO_TYPES):
        return True
    request = record.get("requestContext")
    return isinstance(request, dict) and request.get("condition") == StreamFailureCondition.RETRY_ATTEMPTS_EXHAUSTED


def _stream_marker(record: dict[str, Any]) -> str:
    for info in BATCH_INFO_TYPES:
        if isinstance(record.get(info.KEY), dict):
            return info.KEY
    return f"condition {StreamFailureCondition.RETRY_ATTEMPTS_EXHAUSTED.value}"


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


def _require_int(data: dict[str, Any], name: str, key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RecordFormatError(f"{name} must be an integer, got {value!r}")
    return value


def _qualifier(function_arn: str) -> str | None:
    parts = function_arn.split(":")
    return parts[7] if len(parts) > 7 else None


def _request_fields(request: dict[str, Any]) -> tuple[str, str, int]:
    """``(requestId, functionArn, approximateInvokeCount)`` of a ``requestContext``."""
    count = request.get("approximateInvokeCount", 1)
    if not isinstance(count, int) or isinstance(count, bool):
        raise RecordFormatError(f"requestContext.approximateInvokeCount must be an integer, got {count!r}")
    return (
        _require_str(request, "requestContext.requestId", "requestId"),
        _require_str(request, "requestContext.functionArn", "functionArn"),
        count,
    )


def _response_context(data: dict[str, Any]) -> ResponseContext:
    response = data.get("responseContext") or {}
    if not isinstance(response, dict):
        raise RecordFormatError("responseContext must be an object")
    status = response.get("statusCode")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
        raise RecordFormatError(f"responseContext.statusCode must be an integer, got {status!r}")
    return ResponseContext(
        status_code=status,
        executed_version=_optional_str(response, "executedVersion"),
        function_error=_optional_str(response, "functionError"),
    )


def _timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 time of a record (``2019-11-14T00:38:04.835Z``, ``2019-11-14T00:13:19Z``), or None."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------------------
# Stream event sources' on-failure records (Kinesis, DynamoDB Streams)


class StreamFailureCondition(StrEnum):
    """``requestContext.condition`` of a stream on-failure record.

    The documentation shows ``RetryAttemptsExhausted`` only, in every sample, while it also says that batches are
    discarded when their records pass the mapping's maximum record age. A condition it does not name is therefore
    kept as given (a plain ``str``) rather than refused.
    """

    RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"


@dataclass(frozen=True)
class StreamBatchInfo:
    """Where the discarded batch is in its stream: what a consumer needs to read its records again.

    The records themselves are not in the record (except in the S3 destination's ``payload``): read them by shard
    and sequence number before the stream's retention period ends (24 hours for DynamoDB Streams).

    ``shardId``, both sequence numbers, ``batchSize`` and ``streamArn`` are required; the arrival times may be
    absent (None). The Kinesis page says that all of its fields are always present; the DynamoDB page does not say.
    """

    KEY: ClassVar[str] = ""
    """The record's key for this kind of batch info."""
    SOURCE: ClassVar[str] = ""
    """``kinesis`` or ``dynamodb``."""

    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    stream_arn: str
    approximate_arrival_of_first_record: str | None = None
    """As written: the Kinesis sample has milliseconds (``2019-11-14T00:38:04.835Z``), the DynamoDB one whole
    seconds (``2019-11-14T00:13:19Z``). See ``first_arrival``."""
    approximate_arrival_of_last_record: str | None = None

    @property
    def first_arrival(self) -> datetime | None:
        """``approximateArrivalOfFirstRecord`` as an aware datetime, or None if absent or not ISO 8601."""
        return _timestamp(self.approximate_arrival_of_first_record)

    @property
    def last_arrival(self) -> datetime | None:
        """``approximateArrivalOfLastRecord`` as an aware datetime, or None if absent or not ISO 8601."""
        return _timestamp(self.approximate_arrival_of_last_record)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        def text(key: str) -> str:
            return _require_str(data, f"{cls.KEY}.{key}", key)

        def optional_text(key: str) -> str | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise RecordFormatError(f"{cls.KEY}.{key} must be a string, got {value!r}")
            return value

        return cls(
            shard_id=text("shardId"),
            start_sequence_number=text("startSequenceNumber"),
            end_sequence_number=text("endSequenceNumber"),
            batch_size=_require_int(data, f"{cls.KEY}.batchSize", "batchSize"),
            stream_arn=text("streamArn"),
            approximate_arrival_of_first_record=optional_text("approximateArrivalOfFirstRecord"),
            approximate_arrival_of_last_record=optional_text("approximateArrivalOfLastRecord"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The batch info in its documented JSON shape."""
        info: dict[str, Any] = {
            "shardId": self.shard_id,
            "startSequenceNumber": self.start_sequence_number,
            "endSequenceNumber": self.end_sequence_number,
        }
        if self.approximate_arrival_of_first_record is not None:
            info["approximateArrivalOfFirstRecord"] = self.approximate_arrival_of_first_record
        if self.approximate_arrival_of_last_record is not None:
            info["approximateArrivalOfLastRecord"] = self.approximate_arrival_of_last_record
        info["batchSize"] = self.batch_size
        info["streamArn"] = self.stream_arn
        return info


@dataclass(frozen=True)
class KinesisBatchInfo(StreamBatchInfo):
    """``KinesisBatchInfo``: a batch of a Kinesis data stream's shard. The Kinesis page says all its fields are
    always present."""

    KEY: ClassVar[str] = "KinesisBatchInfo"
    SOURCE: ClassVar[str] = "kinesis"

    @property
    def stream_name(self) -> str:
        """The stream's name (``arn:aws:kinesis:us-east-2:123456789012:stream/mystream`` -> ``mystream``)."""
        return self.stream_arn.rpartition(":stream/")[2].split("/")[0]


@dataclass(frozen=True)
class DynamoDbStreamBatchInfo(StreamBatchInfo):
    """``DDBStreamBatchInfo``: a batch of a DynamoDB table's stream shard."""

    KEY: ClassVar[str] = "DDBStreamBatchInfo"
    SOURCE: ClassVar[str] = "dynamodb"

    @property
    def table_name(self) -> str:
        """The table's name (``arn:aws:dynamodb:...:table/mytable/stream/2019-11-14T00:04:06.388`` -> ``mytable``)."""
        return self.stream_arn.rpartition(":table/")[2].split("/")[0]


BATCH_INFO_TYPES: tuple[type[KinesisBatchInfo], type[DynamoDbStreamBatchInfo]] = (
    KinesisBatchInfo,
    DynamoDbStreamBatchInfo,
)


@dataclass(frozen=True)
class StreamRequestContext:
    """``requestContext`` of a stream on-failure record. ``condition`` is a ``StreamFailureCondition`` when it is
    a documented one, else the text as written."""

    request_id: str
    function_arn: str
    condition: str
    approximate_invoke_count: int

    @property
    def qualifier(self) -> str | None:
        """The version or alias in ``functionArn``, or None for an unqualified ARN (as in AWS's samples)."""
        return _qualifier(self.function_arn)

    @property
    def retry_attempts_exhausted(self) -> bool:
        return self.condition == StreamFailureCondition.RETRY_ATTEMPTS_EXHAUSTED


@dataclass(frozen=True)
class StreamFailureRecord:
    """The record a Kinesis or DynamoDB Streams event source mapping sends to its on-failure destination (SQS, SNS,
    S3) when it discards a batch.

    Where AWS's pages differ, this follows the newest samples: the SQS / SNS record carries ``requestContext``,
    ``responseContext``, ``version``, ``timestamp`` and one batch info; the S3 record adds ``payload``, which the
    text calls "the original invocation record as an escaped JSON string" while its sample shows the placeholder
    ``"<Whole Event>"`` (followed by a ``//`` comment, which JSON does not allow). ``payload`` is therefore kept as
    the string it is, and ``invocation_event`` decodes it when it is JSON.
    """

    version: str
    timestamp: str
    request_context: StreamRequestContext
    response_context: ResponseContext
    batch_info: KinesisBatchInfo | DynamoDbStreamBatchInfo
    payload: str | None = None
    """The original invocation, as escaped JSON: S3 destinations only."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def source(self) -> str:
        """``kinesis`` or ``dynamodb``."""
        return self.batch_info.SOURCE

    @property
    def invocation_event(self) -> Any:
        """The original invocation event decoded from ``payload``, or None (no payload, or not JSON)."""
        if self.payload is None:
            return None
        try:
            return json.loads(self.payload)
        except ValueError:
            return None

    @classmethod
    def from_dict(cls, data: object) -> StreamFailureRecord:
        """Parse a record. Raises RecordFormatError that names the missing or malformed field."""
        if not isinstance(data, dict):
            raise RecordFormatError(f"a stream on-failure record is a JSON object, got {type(data).__name__}")
        present = [info for info in BATCH_INFO_TYPES if isinstance(data.get(info.KEY), dict)]
        if not present:
            raise RecordFormatError(
                "KinesisBatchInfo or DDBStreamBatchInfo is missing: a stream event source's on-failure record has "
                f"one (got keys {sorted(data)}); read an asynchronous invocation record with parse_execution_record"
            )
        if len(present) > 1:
            raise RecordFormatError("the record has both KinesisBatchInfo and DDBStreamBatchInfo; it can have one")
        info_type = present[0]
        batch_info = info_type.from_dict(data[info_type.KEY])
        request = _require_dict(data, "requestContext")
        condition: str = _require_str(request, "requestContext.condition", "condition")
        if condition in {known.value for known in StreamFailureCondition}:
            condition = StreamFailureCondition(condition)
        request_id, function_arn, count = _request_fields(request)
        payload = data.get("payload")
        if payload is not None and not isinstance(payload, str):
            raise RecordFormatError(
                f"payload must be a string (the original invocation as escaped JSON), got {type(payload).__name__}"
            )
        return cls(
            version=str(data.get("version", "1.0")),
            timestamp=_require_str(data, "timestamp", "timestamp"),
            request_context=StreamRequestContext(
                request_id=request_id,
                function_arn=function_arn,
                condition=condition,
                approximate_invoke_count=count,
            ),
            response_context=_response_context(data),
            batch_info=batch_info,
            payload=payload,
            raw=dict(data),
        )

    def to_dict(self) -> dict[str, Any]:
        """The record in its documented JSON shape."""
        record: dict[str, Any] = {
            "requestContext": {
                "requestId": self.request_context.request_id,
                "functionArn": self.request_context.function_arn,
                "condition": str(self.request_context.condition),
                "approximateInvokeCount": self.request_context.approximate_invoke_count,
            },
            "responseContext": self.response_context.to_dict(),
            "version": self.version,
            "timestamp": self.timestamp,
            self.batch_info.KEY: self.batch_info.to_dict(),
        }
        if self.payload is not None:
            record["payload"] = self.payload
        return record


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
