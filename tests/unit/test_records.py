"""The typed execution-record models: every envelope a consumer meets, and clear errors for the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from constructs_lib.records import (
    DETAIL_TYPE_FAILURE,
    Condition,
    ExecutionRecord,
    RecordFormatError,
    parse_execution_record,
)
from tests.conftest import REPO_ROOT, load_event


def test_parses_success_record() -> None:
    record = parse_execution_record(load_event("destination_success_record.json"))
    assert record.succeeded
    assert record.request_context.condition is Condition.SUCCESS
    assert record.request_context.qualifier == "$LATEST"
    assert record.response_payload["status"] == "ACCEPTED"
    assert record.error_type is None


def test_parses_failure_record_with_error() -> None:
    record = parse_execution_record(load_event("destination_failure_record.json"))
    assert not record.succeeded
    assert record.request_context.condition is Condition.RETRIES_EXHAUSTED
    assert record.request_context.approximate_invoke_count == 3
    assert record.request_context.qualifier == "live"
    assert record.response_context.function_error == "Unhandled"
    assert record.response_context.executed_version == "7"
    assert record.error_type == "InvalidOrderError"
    assert record.error_message is not None
    assert "orderId" in record.error_message


def test_round_trips_to_the_documented_shape() -> None:
    raw = load_event("destination_failure_record.json")
    assert ExecutionRecord.from_dict(raw).to_dict() == raw


@pytest.mark.parametrize(
    "envelope",
    ["record", "eventbridge", "sqs", "sns", "json-string"],
)
def test_unwraps_every_envelope(envelope: str) -> None:
    record = load_event("destination_success_record.json")
    message: Any
    if envelope == "record":
        message = record
    elif envelope == "eventbridge":
        message = load_event("eventbridge_success_event.json")
    elif envelope == "sqs":
        message = {"messageId": "1", "body": json.dumps(record), "eventSource": "aws:sqs"}
    elif envelope == "sns":
        message = {"EventSource": "aws:sns", "Sns": {"Message": json.dumps(record)}}
    else:
        message = json.dumps(record)
    assert parse_execution_record(message) == ExecutionRecord.from_dict(record)


def test_event_age_exceeded_has_no_response() -> None:
    raw = load_event("destination_failure_record.json")
    raw["requestContext"]["condition"] = "EventAgeExceeded"
    del raw["responsePayload"]
    raw["responseContext"] = {}
    record = ExecutionRecord.from_dict(raw)
    assert record.request_context.condition is Condition.EVENT_AGE_EXCEEDED
    assert record.request_context.condition.detail_type == DETAIL_TYPE_FAILURE
    assert record.response_payload is None
    assert record.error_type is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", "not JSON"),
        ([1, 2], "expected a JSON object, got list"),
        ({"foo": 1}, "got keys ['foo']"),
        ({"requestContext": "x"}, "requestContext is missing or not an object"),
        ({"requestContext": {"condition": "Maybe"}, "timestamp": "t"}, "must be one of Success"),
        (
            {"timestamp": "t", "requestContext": {"condition": "Success", "functionArn": "a"}},
            "requestContext.requestId is missing",
        ),
        (
            {
                "timestamp": "t",
                "requestContext": {"condition": "Success", "functionArn": "a", "requestId": "r"},
                "responseContext": {"statusCode": "200"},
            },
            "statusCode must be an integer",
        ),
        ({"detail-type": "Object Created", "detail": {}}, "is not a Lambda invocation result"),
    ],
)
def test_rejects_malformed_records(message: object, expected: str) -> None:
    with pytest.raises(RecordFormatError, match=None) as error:
        parse_execution_record(message)
    assert expected in str(error.value)


def test_records_module_needs_no_aws_cdk() -> None:
    """A handler can import the models at run time, where aws_cdk is not installed."""
    code = (
        "import sys; import constructs_lib.records as r; "
        "assert not any(m == 'aws_cdk' or m.startswith('aws_cdk.') for m in sys.modules), 'aws_cdk imported'; "
        "print(r.Condition.SUCCESS.value)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Success"
