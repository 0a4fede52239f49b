"""Kinesis and DynamoDB Streams event source mappings, as Lambda polls them: each shard read in order, a batch at a
time; a failed batch retried (not past it: the shard waits) until it succeeds, its retries run out
(``MaximumRetryAttempts``) or its oldest record is older than ``MaximumRecordAgeInSeconds``; with
``BisectBatchOnFunctionError`` a failed batch is split in two and each half retried; with ``ReportBatchItemFailures``
the records before the first failed one are done; a discarded batch is described to the on-failure destination (SQS,
SNS, S3) in the documented record.

Time is virtual: the waits between retries are counted toward the records' age, not slept.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.authorizer import acting_as
from constructs_lib.testing._engine.event_shapes import now_iso

if TYPE_CHECKING:
    from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
    from constructs_lib.testing._engine.runner import KitEngine

RETRY_BACKOFF = (1.0, 300.0)
"""Virtual seconds before the first retry of a failed batch, doubling up to the second value (the docs give no
interval; this is Lambda's documented backoff for asynchronous throttles)."""
RETENTION_SECONDS = 86400
"""How long a record stays in a Kinesis stream (the default) or a DynamoDB stream: retried past it, it is gone."""


@dataclass
class StreamEventSource:
    """A Kinesis or DynamoDB stream event source mapping, polled by the kit."""

    function: str
    stream_arn: str
    kind: str
    """``kinesis`` or ``dynamodb``."""
    mapping_id: str
    batch_size: int = 100
    bisect: bool = False
    max_retry_attempts: int = -1
    """-1: until the record expires."""
    max_record_age: int = -1
    """Seconds; -1: until the record expires."""
    on_failure: str | None = None
    report_batch_item_failures: bool = False
    checkpoints: dict[str, str] = field(default_factory=dict)
    """Shard id -> the sequence number of the last record done with (succeeded or discarded)."""


@dataclass
class _Record:
    sequence_number: str
    arrival: dt.datetime
    event: dict[str, Any]


class StreamPoller:
    """Polls the stack's Kinesis and DynamoDB stream event sources."""

    def __init__(self, engine: KitEngine) -> None:
        self._engine = engine

    def poll_all(self) -> bool:
        """One batch from each shard of each source; whether any had records."""
        progressed = False
        for source in self._engine.resources.stream_sources:
            local = self._engine.resources.function(source.function)
            try:
                self._engine.authorize(local.role_arn, _READ[source.kind], source.stream_arn, via="event-source")
            except Exception as error:  # the role may not read the stream: the mapping gets nothing, as on AWS
                self._engine.warn_once(f"event source {source.stream_arn} -> {local.logical_id}: {error}")
                continue
            for shard in self._shards(source):
                records = self._read(source, shard)
                if records:
                    progressed = True
                    self._handle(source, local, shard, records, age_offset=0.0)
        return progressed

    # -- reading -------------------------------------------------------------------------------------------------
    def _shards(self, source: StreamEventSource) -> list[str]:
        with acting_as(None):
            if source.kind == "kinesis":
                described = self._engine.client("kinesis").describe_stream(StreamName=_stream_name(source.stream_arn))
                return [str(shard["ShardId"]) for shard in described["StreamDescription"]["Shards"]]
        shard = self._table_shard(source)
        return [] if shard is None else [str(shard.id)]

    def _table_shard(self, source: StreamEventSource) -> Any:
        """moto's stream shard of a table (moto's DynamoDB Streams API answers DescribeStream "Not yet implemented";
        its backend keeps the records on the table)."""
        from moto.dynamodb.models import dynamodb_backends

        stack = self._engine.stack
        table_name = source.stream_arn.split(":", 5)[5].split("/")[1]
        return dynamodb_backends[stack.account][stack.region].get_table(table_name).stream_shard

    def _read(self, source: StreamEventSource, shard: str) -> list[_Record]:
        after = source.checkpoints.get(shard)
        position: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        with acting_as(None):  # Lambda's own reads, authorized above for the function's role
            if source.kind == "kinesis":
                client = self._engine.client("kinesis")
                iterator = client.get_shard_iterator(
                    StreamName=_stream_name(source.stream_arn), ShardId=shard, **position
                )
                answer = client.get_records(ShardIterator=iterator["ShardIterator"], Limit=source.batch_size)
            else:
                table_shard = self._table_shard(source)
                start = int(after) + 1 if after else table_shard.starting_sequence_number
                answer = {"Records": table_shard.get(start, source.batch_size)}
        stack = self._engine.stack
        return [
            _record(source, shard, raw, region=stack.region, role=self._engine.resources.function(source.function))
            for raw in answer.get("Records", [])
        ]

    # -- handling ------------------------------------------------------------------------------------------------
    def _handle(
        self, source: StreamEventSource, local: LocalFunction, shard: str, batch: list[_Record], *, age_offset: float
    ) -> float:
        """Run ``batch`` until it is done or discarded; returns the virtual seconds it waited (its records aged)."""
        waited = 0.0
        attempts = 0
        backoff, ceiling = RETRY_BACKOFF
        while batch:
            invocation = self._engine.run(local, {"Records": [r.event for r in batch]}, f"{source.kind}-stream")
            attempts += 1
            first_failed = self._first_failed(source, invocation, batch)
            if first_failed is None:
                source.checkpoints[shard] = batch[-1].sequence_number
                return waited
            if first_failed:  # ReportBatchItemFailures: the records before the first failure are done
                source.checkpoints[shard] = batch[first_failed - 1].sequence_number
                batch = batch[first_failed:]
            age = _age(batch[0], age_offset + waited)
            limit = source.max_record_age if source.max_record_age != -1 else RETENTION_SECONDS
            if age > limit:
                self._discard(source, local, shard, batch, invocation, attempts, "RecordAgeExceeded")
                return waited
            if source.bisect and len(batch) > 1:
                # Split and retry each half; the halves run in order and keep the shard's order.
                half = len(batch) // 2
                waited += self._handle(source, local, shard, batch[:half], age_offset=age_offset + waited)
                waited += self._handle(source, local, shard, batch[half:], age_offset=age_offset + waited)
                return waited
            if source.max_retry_attempts != -1 and attempts > source.max_retry_attempts:
                self._discard(source, local, shard, batch, invocation, attempts, "RetryAttemptsExhausted")
                return waited
            waited += backoff
            backoff = min(backoff * 2, ceiling)
        return waited

    @staticmethod
    def _first_failed(source: StreamEventSource, invocation: Invocation, batch: list[_Record]) -> int | None:
        """Index of the first record to retry, or None when the batch succeeded."""
        if not invocation.succeeded:
            return 0
        if not source.report_batch_item_failures:
            return None
        result = invocation.result
        if not isinstance(result, dict) or not result.get("batchItemFailures"):
            return None  # null, an empty list or no key: success
        failures = result["batchItemFailures"]
        sequence = [record.sequence_number for record in batch]
        if not isinstance(failures, list):
            return 0
        indexes = []
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not isinstance(identifier, str) or identifier not in sequence:
                return 0  # an invalid response fails the whole batch
            indexes.append(sequence.index(identifier))
        return min(indexes)

    def _discard(  # noqa: PLR0917 - private
        self,
        source: StreamEventSource,
        local: LocalFunction,
        shard: str,
        batch: list[_Record],
        last: Invocation,
        attempts: int,
        condition: str,
    ) -> None:
        """Skip ``batch`` and send its description to the on-failure destination (with the function's role)."""
        engine = self._engine
        source.checkpoints[shard] = batch[-1].sequence_number
        record = failure_record(source, local, shard, batch, last, attempts, condition)
        if source.on_failure is None:
            engine.warnings.append(
                f"{source.kind} stream {source.stream_arn}: a batch of {len(batch)} record(s) was discarded "
                f"({condition}) and the mapping has no on-failure destination: it is lost"
            )
            return
        arn = source.on_failure
        service = arn.split(":")[2]
        body = json.dumps(record)
        try:
            if service == "sqs":
                engine.call(
                    local.role_arn,
                    "sqs",
                    "send_message",
                    via="destination",
                    QueueUrl=engine.queue_url(arn),
                    MessageBody=body,
                )
            elif service == "sns":
                engine.call(local.role_arn, "sns", "publish", via="destination", TopicArn=arn, Message=body)
            elif service == "s3":
                # The S3 variant carries the invocation too, as escaped JSON.
                payload = json.dumps({**record, "payload": json.dumps({"Records": [r.event for r in batch]})})
                now = dt.datetime.now(dt.UTC)
                key = f"aws/lambda/{source.mapping_id}/{shard}/{now:%Y/%m/%d}/{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
                engine.call(
                    local.role_arn,
                    "s3",
                    "put_object",
                    via="destination",
                    Bucket=arn.rsplit(":", maxsplit=1)[-1],
                    Key=key,
                    Body=payload.encode(),
                )
            else:
                engine.warnings.append(f"the kit does not deliver stream failures to {service} destinations")
        except Exception as error:
            engine.warnings.append(f"stream on-failure delivery to {arn} failed (the record is dropped): {error}")


def failure_record(  # noqa: PLR0917 - the record's parts
    source: StreamEventSource,
    local: LocalFunction,
    shard: str,
    batch: list[_Record],
    last: Invocation,
    attempts: int,
    condition: str,
) -> dict[str, Any]:
    """The on-failure record of a discarded batch, as the Kinesis and DynamoDB pages show it."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not last.succeeded:
        response["functionError"] = "Unhandled"
    key = "KinesisBatchInfo" if source.kind == "kinesis" else "DDBStreamBatchInfo"
    return {
        "requestContext": {
            "requestId": last.request_id,
            "functionArn": local.arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": now_iso(),
        key: {
            "shardId": shard,
            "startSequenceNumber": batch[0].sequence_number,
            "endSequenceNumber": batch[-1].sequence_number,
            "approximateArrivalOfFirstRecord": _iso(batch[0].arrival),
            "approximateArrivalOfLastRecord": _iso(batch[-1].arrival),
            "batchSize": len(batch),
            "streamArn": source.stream_arn,
        },
    }


_READ = {"kinesis": "kinesis:GetRecords", "dynamodb": "dynamodb:GetRecords"}


def _record(source: StreamEventSource, shard: str, raw: Mapping[str, Any], *, region: str, role: Any) -> _Record:
    """A stream record as the event source mapping gives it to the function."""
    if source.kind == "kinesis":
        arrival = _aware(raw.get("ApproximateArrivalTimestamp"))
        data = raw["Data"]
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw["PartitionKey"],
                "sequenceNumber": raw["SequenceNumber"],
                "data": base64.b64encode(data if isinstance(data, bytes) else str(data).encode()).decode(),
                "approximateArrivalTimestamp": arrival.timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{raw['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": role.role_arn,
            "awsRegion": region,
            "eventSourceARN": source.stream_arn,
        }
        return _Record(str(raw["SequenceNumber"]), arrival, event)
    change = dict(raw["dynamodb"])
    arrival = _aware(change.get("ApproximateCreationDateTime"))
    change["ApproximateCreationDateTime"] = int(arrival.timestamp())
    event = {
        "eventID": raw.get("eventID", uuid.uuid4().hex),
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": source.stream_arn,
    }
    return _Record(str(change["SequenceNumber"]), arrival, event)


def _stream_name(arn: str) -> str:
    """A Kinesis stream's name, from its ARN (``arn:aws:kinesis:...:stream/<name>``)."""
    return arn.rpartition(":stream/")[2]


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.now(dt.UTC)


def _age(record: _Record, virtual: float) -> float:
    """The record's age: real time since it arrived, plus the virtual waits of its retries."""
    return (dt.datetime.now(dt.UTC) - record.arrival).total_seconds() + virtual


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
