"""The typed execution-record models: every envelope a consumer meets, and clear errors for the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from constructs_lib.records import (
    DETAIL_TYPE_FAILURE,
    Condition,
    DynamoDbStreamBatchInfo,
    ExecutionRecord,
    KinesisBatchInfo,
    RecordFormatError,
    ResponseContext,
    StreamFailureCondition,
    StreamFailureRecord,
    parse_execution_record,
    parse_record,
    parse_stream_failure_record,
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


# ---------------------------------------------------------------------------------------------------------------
# Stream and queue event sources' on-failure records (Kinesis, DynamoDB Streams)

STREAM_SAMPLES = [
    "kinesis_stream_failure_record.json",
    "kinesis_stream_failure_record_s3.json",
    "dynamodb_stream_failure_record.json",
    "dynamodb_stream_failure_record_s3.json",
]


def test_parses_kinesis_on_failure_record() -> None:
    """AWS's "Example Amazon SNS and Amazon SQS invocation record" for a Kinesis event source, as it is.

    Source: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    """
    record = parse_stream_failure_record(load_event("kinesis_stream_failure_record.json"))

    assert record.request_context.condition == StreamFailureCondition.RETRY_ATTEMPTS_EXHAUSTED
    assert record.request_context.function_arn == "arn:aws:lambda:us-east-2:123456789012:function:myfunction"
    assert record.request_context.approximate_invoke_count == 1
    assert record.request_context.qualifier is None
    assert record.response_context == ResponseContext(200, "$LATEST", "Unhandled")
    assert record.timestamp == "2019-11-14T00:38:06.021Z"
    assert record.source == "kinesis"
    info = record.batch_info
    assert isinstance(info, KinesisBatchInfo)
    assert info == KinesisBatchInfo(
        shard_id="shardId-000000000001",
        start_sequence_number="49601189658422359378836298521827638475320189012309704722",
        end_sequence_number="49601189658422359378836298522902373528957594348623495186",
        batch_size=500,
        stream_arn="arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
        approximate_arrival_of_first_record="2019-11-14T00:38:04.835Z",
        approximate_arrival_of_last_record="2019-11-14T00:38:05.580Z",
    )
    assert info.stream_name == "mystream"
    assert info.first_arrival == datetime(2019, 11, 14, 0, 38, 4, 835000, tzinfo=UTC)
    assert info.last_arrival == datetime(2019, 11, 14, 0, 38, 5, 580000, tzinfo=UTC)
    assert record.payload is None
    assert record.invocation_event is None


def test_parses_dynamodb_on_failure_record() -> None:
    """AWS's "Example Amazon SNS and Amazon SQS invocation record" for a DynamoDB stream, as it is; its arrival
    times have whole seconds where the Kinesis sample has milliseconds.

    Source: https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    """
    record = parse_stream_failure_record(load_event("dynamodb_stream_failure_record.json"))

    assert record.source == "dynamodb"
    info = record.batch_info
    assert isinstance(info, DynamoDbStreamBatchInfo)
    assert (info.shard_id, info.start_sequence_number, info.end_sequence_number, info.batch_size) == (
        "shardId-00000001573689847184-864758bb",
        "800000000003126276362",
        "800000000003126276362",
        1,
    )
    assert info.stream_arn == "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
    assert info.table_name == "mytable"
    assert info.first_arrival == info.last_arrival == datetime(2019, 11, 14, 0, 13, 19, tzinfo=UTC)
    assert record.request_context.request_id == "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81"


@pytest.mark.parametrize("name", ["kinesis_stream_failure_record_s3.json", "dynamodb_stream_failure_record_s3.json"])
def test_the_s3_destination_variant_carries_the_payload(name: str) -> None:
    """AWS's "Example Amazon S3 invocation record" (Kinesis and DynamoDB): the SQS / SNS fields plus ``payload``,
    "the original invocation record as an escaped JSON string". The page's sample ends that line with a
    ``// Only available in S3`` comment, which JSON does not allow: the saved sample drops the comment only.

    Sources: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    """
    record = parse_stream_failure_record(load_event(name))

    assert record.payload == "<Whole Event>"
    assert record.invocation_event is None  # the documented placeholder is not JSON
    original = {"Records": [{"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": "1"}}]}
    escaped = {**load_event(name), "payload": json.dumps(original)}
    assert parse_stream_failure_record(escaped).invocation_event == original


@pytest.mark.parametrize("name", STREAM_SAMPLES)
def test_stream_failure_records_round_trip_to_the_documented_shape(name: str) -> None:
    """Sources: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html"""
    raw = load_event(name)
    assert StreamFailureRecord.from_dict(raw).to_dict() == raw


@pytest.mark.parametrize("envelope", ["record", "sqs", "sns", "json-string", "bytes"])
@pytest.mark.parametrize("name", STREAM_SAMPLES)
def test_the_general_entry_point_tells_the_kinds_apart(name: str, envelope: str) -> None:
    """A stream on-failure record, however its destination delivered it (an SQS message body, an SNS message, the
    text of an S3 object), is read as a StreamFailureRecord; an asynchronous invocation record stays an
    ExecutionRecord.

    Sources: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    """
    raw = load_event(name)
    message: Any
    if envelope == "record":
        message = raw
    elif envelope == "sqs":
        message = {"messageId": "1", "body": json.dumps(raw), "eventSource": "aws:sqs"}
    elif envelope == "sns":
        message = {"EventSource": "aws:sns", "Sns": {"Message": json.dumps(raw)}}
    elif envelope == "json-string":
        message = json.dumps(raw)
    else:
        message = json.dumps(raw).encode()

    parsed = parse_record(message)

    assert isinstance(parsed, StreamFailureRecord)
    assert parsed == StreamFailureRecord.from_dict(raw) == parse_stream_failure_record(message)
    assert isinstance(parse_record(load_event("destination_failure_record.json")), ExecutionRecord)
    assert isinstance(parse_record(load_event("eventbridge_success_event.json")), ExecutionRecord)


def test_parse_execution_record_points_a_stream_record_to_its_parser() -> None:
    """Source: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html"""
    with pytest.raises(RecordFormatError, match="parse_stream_failure_record"):
        parse_execution_record(load_event("kinesis_stream_failure_record.json"))
    with pytest.raises(RecordFormatError, match="parse_execution_record"):
        parse_stream_failure_record(load_event("destination_failure_record.json"))


def test_a_condition_the_documentation_does_not_name_is_kept_as_given() -> None:
    """Only ``RetryAttemptsExhausted`` is documented, while records are also discarded for their age
    (MaximumRecordAgeInSeconds): another condition is kept as text rather than refused.

    Source: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    """
    raw = load_event("kinesis_stream_failure_record.json")
    raw["requestContext"]["condition"] = "SomeOtherCondition"

    record = parse_stream_failure_record(raw)

    assert record.request_context.condition == "SomeOtherCondition"
    assert not record.request_context.retry_attempts_exhausted


def _stream_sample(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = load_event("kinesis_stream_failure_record.json")
    for key, value in changes.items():
        if key in raw["KinesisBatchInfo"]:
            raw["KinesisBatchInfo"][key] = value
        else:
            raw[key] = value
    return raw


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {k: v for k, v in load_event("kinesis_stream_failure_record.json").items() if k != "KinesisBatchInfo"},
            "KinesisBatchInfo or DDBStreamBatchInfo is missing",
        ),
        (
            {**load_event("kinesis_stream_failure_record.json"), "DDBStreamBatchInfo": {"shardId": "s"}},
            "has both KinesisBatchInfo and DDBStreamBatchInfo",
        ),
        (_stream_sample(shardId=None), "KinesisBatchInfo.shardId is missing or not a string"),
        (_stream_sample(streamArn=""), "KinesisBatchInfo.streamArn is missing or not a string"),
        (_stream_sample(batchSize="500"), "KinesisBatchInfo.batchSize must be an integer, got '500'"),
        (_stream_sample(batchSize=True), "KinesisBatchInfo.batchSize must be an integer, got True"),
        (_stream_sample(approximateArrivalOfFirstRecord=5), "approximateArrivalOfFirstRecord must be a string"),
        (_stream_sample(payload={"Records": []}), "payload must be a string"),
        (_stream_sample(KinesisBatchInfo="x"), "KinesisBatchInfo or DDBStreamBatchInfo is missing"),
        (_stream_sample(requestContext={"condition": "RetryAttemptsExhausted"}), "requestContext.requestId"),
        (_stream_sample(timestamp=None), "timestamp is missing"),
    ],
)
def test_rejects_malformed_stream_failure_records(message: object, expected: str) -> None:
    """Source: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html ("All of the
    fields shown in the KinesisBatchInfo property will always be present")."""
    with pytest.raises(RecordFormatError) as error:
        parse_stream_failure_record(message)
    assert expected in str(error.value)
