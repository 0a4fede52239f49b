"""The Slack notifier function: failure records and failed executions become Slack messages.

It receives, from a route (``SlackNotifier.route``):

- a Lambda Destinations failure record (``DestinedFunction(on_failure=...)``, or ``FunctionWorkflow(on_failure=...)``,
  which sends the same record shape), as it is or inside an EventBridge ``Lambda Function Invocation Result -
  Failure`` event;
- a ``Step Functions Execution Status Change`` event with status FAILED, TIMED_OUT or ABORTED
  (``FunctionWorkflow.notify_on`` / ``ExecutionStatusNotifications``); when the event names no error, the message
  says so rather than name one;
- the on-failure record of a Kinesis or DynamoDB Streams event source (``KinesisBatchInfo`` /
  ``DDBStreamBatchInfo``): the message says which batch Lambda discarded (stream, shard, sequence numbers, batch
  size, arrival times), so that its records can be read again before they expire.

Anything else raises ``UnsupportedEventError``, which names what it got and what it takes. The message is built and
posted by the ``slack_reporter`` layer (the same formatter, rate limit and webhook as the handler wrapper); when the
rate limit holds a message back, the notifier waits for its turn (each event is a distinct failure) if its time
allows. A message that Slack does not take raises ``SlackDeliveryError``, so that Lambda retries the asynchronous
invocation and, in the end, the notifier's own failure queue keeps the event.
"""

from __future__ import annotations

import json
import reprlib
from typing import Any

# The slack_reporter layer (attached by SlackNotifier): the runtime finds it in /opt/python.
from slack_reporter import get_reporter
from slack_reporter.formatter import Arn, ErrorReport, execution_url, function_url
from slack_reporter.reporting import FAILED, UNCONFIGURED, remaining_time

FAILURE_DETAIL_TYPE = "Lambda Function Invocation Result - Failure"
SUCCESS_DETAIL_TYPE = "Lambda Function Invocation Result - Success"
STATUS_DETAIL_TYPE = "Step Functions Execution Status Change"
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
_STATUS_LABELS = {"TIMED_OUT": "Execution timed out", "ABORTED": "Execution aborted", "FAILED": "Execution failed"}
"""The header of a status change that names no error: what happened, not an error name the event does not give."""
_STATUS_MESSAGES = {
    "TIMED_OUT": "The execution timed out.",
    "ABORTED": "The execution was aborted.",
    "FAILED": "The execution failed.",
}
STREAM_BATCH_INFO = {"KinesisBatchInfo": "Kinesis", "DDBStreamBatchInfo": "DynamoDB"}
"""The batch info key of a stream event source's on-failure record, and the source it names."""
SUPPORTED = (
    "a Lambda Destinations failure record (requestContext.condition RetriesExhausted or EventAgeExceeded), an "
    f"EventBridge {FAILURE_DETAIL_TYPE!r} event, a {STATUS_DETAIL_TYPE!r} event with status "
    f"{', '.join(FAILED_STATUSES)}, or a Kinesis or DynamoDB stream's on-failure record (KinesisBatchInfo or "
    "DDBStreamBatchInfo)"
)


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it


class UnsupportedEventError(ValueError):
    """The notifier got something other than a failure record or a failed execution's status change."""


class SlackDeliveryError(RuntimeError):
    """Slack did not take the message (the warning before this says why): raised so that Lambda retries."""


def handler(event: Any, context: Any) -> dict[str, str]:
    report = describe(event)
    outcome = get_reporter().send(report, remaining_ms=remaining_time(context), wait=True)
    if outcome in (FAILED, UNCONFIGURED):
        raise SlackDeliveryError(f"the Slack message about {report.error_type} in {report.source} was not delivered")
    return {"outcome": outcome, "errorType": report.error_type, "source": report.source}


def describe(event: Any) -> ErrorReport:
    """The ErrorReport of a failure record or a failed execution's status change event."""
    event = _json_object(event, "the event")
    if "requestContext" in event:
        return record_report(event)
    detail_type = event.get("detail-type")
    if detail_type == FAILURE_DETAIL_TYPE:
        return record_report(_json_object(event.get("detail"), "the event's detail"))
    if detail_type == SUCCESS_DETAIL_TYPE:
        raise UnsupportedEventError(
            "got a Lambda invocation *success* event: route only failures to the Slack notifier (on_failure)"
        )
    if detail_type == STATUS_DETAIL_TYPE:
        return status_change_report(event)
    described = (
        f"detail-type {_SHOWN.repr(detail_type)}"
        if detail_type
        else f"an object with keys {_SHOWN.repr(sorted(event))}"
    )
    raise UnsupportedEventError(f"the Slack notifier takes {SUPPORTED}; got {described}")


def record_report(record: dict[str, Any]) -> ErrorReport:
    """A Destinations failure record (or FunctionWorkflow's record of the same shape), or a stream's on-failure
    record."""
    for key, kind in STREAM_BATCH_INFO.items():
        if isinstance(record.get(key), dict):
            return stream_failure_report(record, record[key], kind)
    request = _json_object(record.get("requestContext"), "requestContext")
    condition = _text(request.get("condition"))
    if condition == "Success":
        raise UnsupportedEventError(
            "got a record with condition Success: route only failures to the Slack notifier (on_failure)"
        )
    if not condition:
        raise UnsupportedEventError(f"requestContext.condition is missing: the Slack notifier takes {SUPPORTED}")
    function_arn = _text(request.get("functionArn"))
    arn = Arn.parse(function_arn)
    if arn is None:
        raise UnsupportedEventError(f"requestContext.functionArn is not an ARN: {_SHOWN.repr(function_arn)}")
    payload = record.get("responsePayload")
    payload = payload if isinstance(payload, dict) else {}
    error_type = _text(payload.get("errorType")) or condition
    message, trace = _error_details(payload.get("errorMessage"), payload.get("stackTrace"))
    if not message:
        message = _condition_message(condition)
    count = request.get("approximateInvokeCount")
    counted = isinstance(count, int) and not isinstance(count, bool)
    attempts = f" after {count} attempt{'s' if count != 1 else ''}" if counted else ""
    request_id = _text(request.get("requestId"))
    if arn.service == "states":  # FunctionWorkflow's record: the "function" is the state machine
        machine = arn.resource[1] if len(arn.resource) > 1 else function_arn
        execution_arn = f"arn:{arn.partition}:states:{arn.region}:{arn.account}:execution:{machine}:{request_id}"
        facts = [("Workflow", machine), ("Execution", request_id), ("Condition", condition + attempts)]
        link = (execution_url(arn.partition, arn.region, execution_arn), "View the execution in Step Functions")
        source = f"workflow {machine}"
    else:
        name = arn.resource[1] if len(arn.resource) > 1 else function_arn
        qualifier = arn.resource[2] if len(arn.resource) > 2 else None
        response = record.get("responseContext")
        executed = _text(response.get("executedVersion")) if isinstance(response, dict) else ""
        shown = f"{name}:{qualifier}" if qualifier and qualifier != executed else name
        facts = [("Function", shown)]
        if executed:
            facts.append(("Version", executed))
        facts += [("Request id", request_id), ("Condition", condition + attempts)]
        link = (function_url(arn.partition, arn.region, name), "View the function's monitoring in Lambda")
        source = name
    facts += [("Account", arn.account), ("Region", arn.region)]
    return ErrorReport(
        error_type=error_type, error_message=message, source=source, facts=tuple(facts), trace=trace, link=link
    )


def status_change_report(event: dict[str, Any]) -> ErrorReport:
    """A ``Step Functions Execution Status Change`` event of a failed, timed-out or aborted execution."""
    detail = _json_object(event.get("detail"), "the event's detail")
    status = _text(detail.get("status"))
    if status not in FAILED_STATUSES:
        raise UnsupportedEventError(
            f"got an execution status change with status {_SHOWN.repr(status)}: the Slack notifier reports "
            f"{', '.join(FAILED_STATUSES)} (choose those statuses in notify_on)"
        )
    execution_arn = _text(detail.get("executionArn"))
    arn = Arn.parse(execution_arn) or Arn.parse(_text(detail.get("stateMachineArn")))
    if arn is None:
        raise UnsupportedEventError("the status change event has no executionArn or stateMachineArn")
    machine = arn.resource[1] if len(arn.resource) > 1 else _text(detail.get("stateMachineArn"))
    error = _text(detail.get("error"))
    message, trace = _error_details(detail.get("cause"), None)
    if not message:
        message = _STATUS_MESSAGES[status] + ("" if error else " No error name or cause was reported.")
    account = _text(event.get("account")) or arn.account
    region = _text(event.get("region")) or arn.region
    facts = [
        ("Workflow", machine),
        ("Execution", _text(detail.get("name")) or (arn.resource[2] if len(arn.resource) > 2 else "")),
        ("Status", status),
    ]
    if not error:  # error and cause are null (or absent) for TIMED_OUT, ABORTED and a Fail state without Error
        facts.append(("Error", "none reported"))
    facts += [("Account", account), ("Region", region)]
    return ErrorReport(
        error_type=error or _STATUS_LABELS[status],
        error_message=message,
        source=f"workflow {machine}",
        facts=tuple(facts),
        trace=trace,
        link=(execution_url(arn.partition, region, execution_arn), "View the execution in Step Functions")
        if execution_arn
        else None,
    )


def stream_failure_report(record: dict[str, Any], info: dict[str, Any], kind: str) -> ErrorReport:
    """The on-failure record of a Kinesis or DynamoDB Streams event source: which batch Lambda discarded.

    The record holds no error message and, but for an S3 destination's ``payload``, none of the records: the message
    says where they are (stream, shard, sequence numbers) so that they can be read before the stream drops them.
    """
    request = _json_object(record.get("requestContext"), "requestContext")
    condition = _text(request.get("condition"))
    if not condition:
        raise UnsupportedEventError(f"requestContext.condition is missing: the Slack notifier takes {SUPPORTED}")
    function_arn = _text(request.get("functionArn"))
    arn = Arn.parse(function_arn)
    if arn is None:
        raise UnsupportedEventError(f"requestContext.functionArn is not an ARN: {_SHOWN.repr(function_arn)}")
    name = arn.resource[1] if len(arn.resource) > 1 else function_arn
    qualifier = arn.resource[2] if len(arn.resource) > 2 else None
    count = request.get("approximateInvokeCount")
    counted = isinstance(count, int) and not isinstance(count, bool)
    attempts = f" after {count} attempt{'s' if count != 1 else ''}" if counted else ""
    size = info.get("batchSize")
    sized = isinstance(size, int) and not isinstance(size, bool)
    records = f"{size} record{'s' if size != 1 else ''}" if sized else ""
    stream_arn = _text(info.get("streamArn"))
    message = f"Lambda discarded a batch of {records or 'records'} from {_stream_name(kind, stream_arn)}{attempts} "
    message += f"({condition})."
    if isinstance(record.get("payload"), str):
        message += " The original invocation is in the record's payload."
    else:
        message += (
            " The records are not in this message: read them from the stream by shard and sequence number before "
            "they expire."
        )
    facts = [
        ("Function", f"{name}:{qualifier}" if qualifier else name),
        ("Condition", condition + attempts),
        ("Stream", stream_arn),
        ("Shard", _text(info.get("shardId"))),
        ("Sequence numbers", _span(info.get("startSequenceNumber"), info.get("endSequenceNumber"))),
        ("Batch size", records),
        (
            "Approximate arrival",
            _span(info.get("approximateArrivalOfFirstRecord"), info.get("approximateArrivalOfLastRecord")),
        ),
        ("Request id", _text(request.get("requestId"))),
        ("Account", arn.account),
        ("Region", arn.region),
    ]
    return ErrorReport(
        error_type=condition,
        error_message=message,
        source=name,
        facts=tuple((label, value) for label, value in facts if value),
        link=(function_url(arn.partition, arn.region, name), "View the function's monitoring in Lambda"),
    )


def _stream_name(kind: str, stream_arn: str) -> str:
    """``the Kinesis stream mystream`` / ``the DynamoDB stream of table mytable`` (the ARN if it is not one)."""
    if kind == "Kinesis" and ":stream/" in stream_arn:
        return f"the Kinesis stream {stream_arn.partition(':stream/')[2].split('/')[0]}"
    if kind == "DynamoDB" and ":table/" in stream_arn:
        return f"the DynamoDB stream of table {stream_arn.partition(':table/')[2].split('/')[0]}"
    return f"the {kind} stream {stream_arn}" if stream_arn else f"a {kind} stream"


def _span(first: Any, last: Any) -> str:
    """``first to last``, or one of them when they are the same or only one is given."""
    start, end = _text(first), _text(last)
    if start and end and start != end:
        return f"{start} to {end}"
    return start or end


def _error_details(message: Any, stack_trace: Any) -> tuple[str, tuple[str, ...]]:
    """The error message and stack trace. A Step Functions cause often is the Lambda error as JSON
    (``{"errorMessage": ..., "errorType": ..., "stackTrace": [...]}``): its message and trace are used."""
    text = _text(message)
    trace = stack_trace
    if text.startswith("{"):
        try:
            inner = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            inner = None
        if isinstance(inner, dict) and isinstance(inner.get("errorMessage"), str):
            text = inner["errorMessage"]
            trace = trace or inner.get("stackTrace")
    lines = tuple(str(line) for line in trace) if isinstance(trace, list) else ()
    return text, lines


def _condition_message(condition: str) -> str:
    if condition == "EventAgeExceeded":
        return "The event was older than the function's maximum event age and was not processed."
    return f"The invocation failed ({condition})."


def _json_object(value: Any, what: str) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise UnsupportedEventError(f"{what} is not JSON; the Slack notifier takes {SUPPORTED}") from None
    if not isinstance(value, dict):
        raise UnsupportedEventError(
            f"{what} is a {type(value).__name__}, not an object; the notifier takes {SUPPORTED}"
        )
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
