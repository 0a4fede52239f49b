"""Kinesis and DynamoDB stream event sources, driven by the kit: batches per shard, retries that hold the shard,
bisect on error, maximum retry attempts and record age, partial batch responses, and the on-failure record."""

from __future__ import annotations

import base64
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_

from constructs_lib import DestinedFunction, StreamFailureOptions, parse_stream_failure_record
from constructs_lib.records import DynamoDbStreamBatchInfo, KinesisBatchInfo, StreamFailureCondition
from constructs_lib.testing import LocalKit

pytestmark = pytest.mark.execution

KINESIS_PAGE = "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"

# Fails on every batch holding a record whose data is "poison"; otherwise returns nothing (success).
KINESIS_HANDLER = """
import base64

def handler(event, context):
    for record in event["Records"]:
        if base64.b64decode(record["kinesis"]["data"]) == b"poison":
            raise ValueError("poison record")
"""
# Reports the poison records as batch item failures (by sequence number) instead of failing the batch.
PARTIAL_HANDLER = """
import base64

def handler(event, context):
    failed = [
        {"itemIdentifier": r["kinesis"]["sequenceNumber"]}
        for r in event["Records"]
        if base64.b64decode(r["kinesis"]["data"]) == b"poison"
    ]
    return {"batchItemFailures": failed}
"""
DYNAMODB_HANDLER = """
def handler(event, context):
    for record in event["Records"]:
        if record["dynamodb"].get("NewImage", {}).get("status", {}).get("S") == "poison":
            raise ValueError("poison item")
"""


def consumer(stack: cdk.Stack, code: str) -> DestinedFunction:
    return DestinedFunction(
        stack,
        "Consumer",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(code)
        ),
    )


def stream_consumer(stack: cdk.Stack, code: str = KINESIS_HANDLER, **options: Any) -> DestinedFunction:
    function = consumer(stack, code)
    stream = kinesis.Stream(stack, "Orders", shard_count=1)
    function.add_stream_source(stream, options=StreamFailureOptions(**options))
    return function


def put(kit: LocalKit, *payloads: str) -> None:
    client = kit.client("kinesis")
    for payload in payloads:
        client.put_record(StreamName=kit.ref("Orders"), Data=payload.encode(), PartitionKey="p")
    kit.settle()


def data(run: Any) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in run.event["Records"]]


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Streams")


def test_kinesis_records_arrive_in_order_in_batches(kit_stack: cdk.Stack) -> None:
    """Kinesis: Lambda reads a shard in order and invokes the function with batches of up to BatchSize records.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
    Kit: each shard is read from its checkpoint, BatchSize records at a time, in the documented Kinesis event shape.
    Divergence: none
    """
    stream_consumer(kit_stack, batch_size=2)
    with LocalKit.from_stack(kit_stack) as kit:
        client = kit.client("kinesis")
        for payload in ("a", "b", "c"):
            client.put_record(StreamName=kit.ref("Orders"), Data=payload.encode(), PartitionKey="p")
        kit.settle()
        runs = kit.invocations("Consumer/Function")
        arn = kit.arn("Orders")

    assert [data(run) for run in runs] == [["a", "b"], ["c"]]
    record = runs[0].event["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == arn
    assert record["kinesis"]["partitionKey"] == "p"
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"


def test_a_failed_kinesis_batch_is_retried_then_described_to_the_on_failure_destination(kit_stack: cdk.Stack) -> None:
    """Kinesis: a failed batch is retried MaximumRetryAttempts times, then discarded; its record goes on failure.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    Kit: the batch is invoked 1 + MaximumRetryAttempts times (the shard waits), then the documented on-failure
        record (KinesisBatchInfo, condition RetryAttemptsExhausted) goes to the destination and the shard moves on.
    Divergence: the docs give no retry interval; the kit counts 1 s, doubling, of virtual time toward record age.
    """
    stream_consumer(kit_stack, retry_attempts=2, bisect_batch_on_error=False)
    with LocalKit.from_stack(kit_stack) as kit:
        put(kit, "poison")
        put(kit, "fine")
        runs = kit.invocations("Consumer/Function")
        (message,) = kit.messages("Consumer/StreamSource1OnFailureQueue")
        arn, function_arn = kit.arn("Orders"), kit.arn("Consumer/Function")

    assert [data(run) for run in runs] == [["poison"]] * 3 + [["fine"]]
    record = parse_stream_failure_record(message)
    assert isinstance(record.batch_info, KinesisBatchInfo)
    assert record.request_context.condition is StreamFailureCondition.RETRY_ATTEMPTS_EXHAUSTED
    assert record.request_context.approximate_invoke_count == 3
    assert record.request_context.function_arn == function_arn
    assert record.response_context.function_error == "Unhandled"
    assert record.batch_info.batch_size == 1
    assert record.batch_info.stream_arn == arn
    assert record.batch_info.shard_id == "shardId-000000000000"
    poison_sequence = runs[0].event["Records"][0]["kinesis"]["sequenceNumber"]
    assert record.batch_info.start_sequence_number == record.batch_info.end_sequence_number == poison_sequence


def test_bisect_isolates_the_bad_record_and_does_not_use_the_retry_quota(kit_stack: cdk.Stack) -> None:
    """Kinesis: BisectBatchOnFunctionError splits a failed batch in two; splitting does not count as a retry.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    Kit: a failed batch of more than one record is split, each half handled in order; the half holding the bad
        record is split again until it stands alone, then retried MaximumRetryAttempts times and discarded.
    Divergence: none
    """
    stream_consumer(kit_stack, retry_attempts=1, bisect_batch_on_error=True, batch_size=4)
    with LocalKit.from_stack(kit_stack) as kit:
        client = kit.client("kinesis")
        for payload in ("a", "b", "poison", "d"):
            client.put_record(StreamName=kit.ref("Orders"), Data=payload.encode(), PartitionKey="p")
        kit.settle()
        runs = kit.invocations("Consumer/Function")
        (message,) = kit.messages("Consumer/StreamSource1OnFailureQueue")

    assert [data(run) for run in runs] == [
        ["a", "b", "poison", "d"],
        ["a", "b"],
        ["poison", "d"],
        ["poison"],
        ["poison"],  # its one retry
        ["d"],
    ]
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert message["requestContext"]["approximateInvokeCount"] == 2


def test_a_partial_batch_response_retries_from_the_first_failed_record(kit_stack: cdk.Stack) -> None:
    """Kinesis: with ReportBatchItemFailures, Lambda retries the batch from the lowest failed sequence number.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
    Kit: the records before the first reported failure are checkpointed; the rest are retried, then discarded.
    Divergence: none
    """
    stream_consumer(
        kit_stack, PARTIAL_HANDLER, retry_attempts=1, bisect_batch_on_error=False, report_batch_item_failures=True
    )
    with LocalKit.from_stack(kit_stack) as kit:
        client = kit.client("kinesis")
        for payload in ("a", "poison", "c"):
            client.put_record(StreamName=kit.ref("Orders"), Data=payload.encode(), PartitionKey="p")
        kit.settle()
        runs = kit.invocations("Consumer/Function")
        (message,) = kit.messages("Consumer/StreamSource1OnFailureQueue")

    assert [data(run) for run in runs] == [["a", "poison", "c"], ["poison", "c"]]
    assert message["KinesisBatchInfo"]["batchSize"] == 2
    assert message["responseContext"].get("functionError") is None  # the function answered; it did not fail


def test_a_batch_older_than_the_maximum_record_age_is_discarded(kit_stack: cdk.Stack) -> None:
    """Kinesis: Lambda discards records older than MaximumRecordAgeInSeconds and describes them on failure.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    Kit: retries wait 1 s, doubling, in virtual time; once the oldest record is older than the maximum age the
        batch is discarded, before the retry quota is used up.
    Divergence: the docs are ambiguous: they name no condition for an expired batch (their samples show
        RetryAttemptsExhausted only); the kit writes RecordAgeExceeded.
    """
    stream_consumer(kit_stack, retry_attempts=100, bisect_batch_on_error=False, max_record_age=Duration.seconds(60))
    with LocalKit.from_stack(kit_stack) as kit:
        put(kit, "poison")
        runs = kit.invocations("Consumer/Function")
        (message,) = kit.messages("Consumer/StreamSource1OnFailureQueue")

    # Waits 1 + 2 + 4 + 8 + 16 + 32 = 63 s > 60 s: the seventh invocation is the last.
    assert len(runs) == 7
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 7


def test_a_dynamodb_stream_batch_failure_is_described_to_the_on_failure_destination(kit_stack: cdk.Stack) -> None:
    """DynamoDB Streams: a failed batch is retried, then described on failure with DDBStreamBatchInfo.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    Kit: table changes reach the function as DynamoDB stream records (eventName INSERT, NewImage); a batch that
        still fails after MaximumRetryAttempts goes on failure with the documented DDBStreamBatchInfo.
    Divergence: none
    """
    function = consumer(kit_stack, DYNAMODB_HANDLER)
    table = dynamodb.Table(
        kit_stack,
        "Orders",
        partition_key=dynamodb.Attribute(name="orderId", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )
    function.add_stream_source(table, options=StreamFailureOptions(retry_attempts=1, bisect_batch_on_error=False))
    with LocalKit.from_stack(kit_stack) as kit:
        items = kit.client("dynamodb")
        items.put_item(TableName=kit.ref("Orders"), Item={"orderId": {"S": "o-1"}, "status": {"S": "poison"}})
        kit.settle()
        items.put_item(TableName=kit.ref("Orders"), Item={"orderId": {"S": "o-2"}, "status": {"S": "fine"}})
        kit.settle()
        runs = kit.invocations("Consumer/Function")
        (message,) = kit.messages("Consumer/StreamSource1OnFailureQueue")
        stream_arn = kit.physical("Orders").attributes["StreamArn"]

    assert [[r["dynamodb"]["Keys"]["orderId"]["S"] for r in run.event["Records"]] for run in runs] == [
        ["o-1"],
        ["o-1"],
        ["o-2"],
    ]
    first = runs[0].event["Records"][0]
    assert (first["eventSource"], first["eventName"], first["eventSourceARN"]) == ("aws:dynamodb", "INSERT", stream_arn)
    record = parse_stream_failure_record(message)
    assert isinstance(record.batch_info, DynamoDbStreamBatchInfo)
    assert record.batch_info.stream_arn == stream_arn
    assert record.request_context.approximate_invoke_count == 2


def test_the_s3_on_failure_record_carries_the_invocation(kit_stack: cdk.Stack) -> None:
    """Kinesis: an S3 on-failure destination gets the record with the whole invocation in payload.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    Kit: the object holds the on-failure record and payload, the invocation event as escaped JSON.
    Divergence: none
    """
    from constructs_lib import BucketRoute

    function = consumer(kit_stack, KINESIS_HANDLER)
    stream = kinesis.Stream(kit_stack, "Orders", shard_count=1)
    function.add_stream_source(
        stream, on_failure=BucketRoute(), options=StreamFailureOptions(retry_attempts=0, bisect_batch_on_error=False)
    )
    with LocalKit.from_stack(kit_stack) as kit:
        put(kit, "poison")
        (body,) = kit.objects("Consumer/StreamSource1OnFailureBucket").values()

    record = parse_stream_failure_record(json.loads(body))
    event = record.invocation_event
    assert [base64.b64decode(r["kinesis"]["data"]) for r in event["Records"]] == [b"poison"]
