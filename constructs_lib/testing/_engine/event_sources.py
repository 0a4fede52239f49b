"""SQS event source mappings, polled as Lambda polls them: a batch of messages to the function, deleted when it
succeeds, kept for another receive when it fails (all of them, or those its partial batch response names), filters
applied, and the queue's redrive policy left to move a message to its dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.event_shapes import sqs_record
from constructs_lib.testing._engine.faults import duplicating
from constructs_lib.testing._engine.resources import SqsEventSource
from constructs_lib.testing.results import parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine

_NEVER_AGAIN_SECONDS = 43200
"""The longest visibility timeout: a message that failed too often, on a queue with no redrive policy, is parked."""


class SqsPoller:
    """Polls the stack's SQS event sources."""

    def __init__(self, engine: KitEngine, max_receives: int) -> None:
        self._engine = engine
        self._max_receives = max_receives

    def poll_all(self) -> bool:
        """One receive from each event source; whether any got messages."""
        progressed = False
        for source in self._engine.resources.event_sources:
            progressed = self._poll(source) or progressed
        return progressed

    def _poll(self, source: SqsEventSource) -> bool:
        engine = self._engine
        local = engine.resources.function(source.function)
        if engine.faults.reserved_concurrency(local) == 0:
            engine.warn_once(
                f"event source {source.queue_arn} -> {local.logical_id}: reserved concurrency 0, not polled"
            )
            return False

        def sqs(operation: str, **params: Any) -> Any:
            # Lambda polls, deletes and reads the queue with the function's execution role.
            return engine.call(local.role_arn, "sqs", operation, via="event-source", **params)

        def delete(receipt_handle: str) -> None:
            try:
                sqs("delete_message", QueueUrl=source.queue_url, ReceiptHandle=receipt_handle)
            except Exception as error:  # the role may not delete: the message comes back, as on AWS
                engine.warn_once(f"event source {source.queue_arn} -> {local.logical_id}: delete failed: {error}")

        try:
            received = sqs(
                "receive_message",
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(source.batch_size, 10),
                VisibilityTimeout=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as error:  # the role may not read the queue: the mapping gets nothing, as on AWS
            engine.warnings.append(f"event source {source.queue_arn} -> {local.logical_id}: polling failed: {error}")
            return False
        if not received:
            return False
        records = [sqs_record(message, source.queue_arn, engine.stack.region) for message in received]
        handles = {message["MessageId"]: message["ReceiptHandle"] for message in received}
        if source.filters:
            kept = [record for record in records if any(f.matches_event(_filterable(record)) for f in source.filters)]
            for record in records:
                if record not in kept:
                    delete(handles[record["messageId"]])
            records = kept
            if not records:
                return True
        if engine.faults.throttled(local, "sqs", [record["body"] for record in records]):
            return True  # the batch goes back to the queue (its receive counts toward the redrive policy)
        invocation = engine.run(local, {"Records": records}, "sqs")
        batch = {record["messageId"] for record in records}
        failed: set[str] = set(batch)
        if invocation.succeeded:
            failed = batch_item_failures(invocation.result, batch) if source.report_batch_item_failures else set()
        done = [record for record in records if record["messageId"] not in failed]
        for record in records:
            message_id = record["messageId"]
            if message_id not in failed:
                delete(handles[message_id])
                continue
            source.receives[message_id] = source.receives.get(message_id, 0) + 1
            if source.receives[message_id] >= self._max_receives:
                # Parking a message is the kit's own stand-in for "retried until it expires": made by the kit, not
                # checked against the function's role.
                kit_sqs = engine.client("sqs")
                attributes = kit_sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=["RedrivePolicy"])
                if "RedrivePolicy" not in attributes.get("Attributes", {}):
                    kit_sqs.change_message_visibility(
                        QueueUrl=source.queue_url,
                        ReceiptHandle=handles[message_id],
                        VisibilityTimeout=_NEVER_AGAIN_SECONDS,
                    )
                    engine.warnings.append(
                        f"message {message_id} failed {self._max_receives} times and its queue has no "
                        "dead-letter queue: on AWS it would be retried until it expires"
                    )
        # A standard queue delivers at least once: a message handled and deleted may be received again.
        if done and engine.faults.duplicates(f"sqs:{source.queue_arn}", [record["body"] for record in done]):
            with duplicating():
                engine.run(local, {"Records": done}, "sqs")
        return True


def batch_item_failures(result: Any, batch: set[str]) -> set[str]:
    """The failed message ids of a partial batch response; an invalid response fails the whole batch (as on AWS).

    Lambda counts a null or empty response, and a null or empty ``batchItemFailures``, as complete success; a response
    that is not a JSON object (a list, a string, a number) is invalid, so the whole batch failed.
    """
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set(batch)
    if not result.get("batchItemFailures"):
        return set()
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return set(batch)
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return set(batch)
        failed.add(identifier)
    return failed


def _filterable(record: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS record as event source filters see it: the body parsed when it is JSON."""
    return {**record, "body": parse_json(str(record["body"]))}
