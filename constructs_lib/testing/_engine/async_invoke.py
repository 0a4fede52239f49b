"""Asynchronous invocation, as Lambda does it: an internal queue, up to two retries (one minute, then two, of virtual
time), the maximum event age, then the execution record to the on-success or on-failure destination and the event
to the function's dead-letter queue."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import deque
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.event_shapes import execution_record
from constructs_lib.testing._engine.faults import duplicating, is_duplicate
from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
from constructs_lib.testing.errors import KitError
from constructs_lib.testing.results import AsyncInvocation

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine

_DESTINATION = "destination"
RETRY_DELAYS = (60.0, 120.0)
"""Lambda waits one minute before the second attempt of an asynchronous invocation and two before the third."""


THROTTLED_PAYLOAD = {"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded."}
"""What the record of a throttled event carries as its response (the Invoke API's throttling error)."""


@dataclass
class AsyncEvent:
    """An event in a function's asynchronous queue; ``done`` gets its ``AsyncInvocation`` once it ran.

    ``qualifier`` is what was invoked (``$LATEST``, a version number or an alias name), ``version`` the version that
    runs (an alias's). ``queued_at`` starts the event's age: queueing and run time count towards the maximum age.
    """

    function: LocalFunction
    event: Any
    source: str
    qualifier: str = "$LATEST"
    version: str = "$LATEST"
    memory_mb: int | None = None
    queued_at: float = field(default_factory=time.monotonic)
    done: list[AsyncInvocation] = field(default_factory=list)
    duplicate: bool = field(default_factory=is_duplicate)
    """Queued while the kit delivered a duplicate: everything it causes is part of the duplicate."""
    request_id: str | None = None
    """A duplicate's: the original's request id."""


class AsyncInvoker:
    """The asynchronous invocations of the stack's functions: queued by any thread, run by ``drain``."""

    def __init__(self, engine: KitEngine) -> None:
        self._engine = engine
        self._pending: deque[AsyncEvent] = deque()
        self._results: list[AsyncInvocation] = []

    def enqueue(
        self,
        local: LocalFunction,
        event: Any,
        source: str,
        *,
        qualifier: str = "$LATEST",
        version: str = "$LATEST",
        memory_mb: int | None = None,
    ) -> AsyncEvent:
        """Queue an asynchronous invocation (any thread may); ``drain`` runs it."""
        item = AsyncEvent(local, event, source, qualifier=qualifier, version=version, memory_mb=memory_mb)
        with self._engine.lock:
            self._pending.append(item)
        return item

    def results(self) -> list[AsyncInvocation]:
        """Every asynchronous invocation followed to its end, in order."""
        with self._engine.lock:
            return list(self._results)

    def drain(self) -> bool:
        """Run every queued invocation (and those they queue); whether there was any."""
        progressed = False
        while True:
            with self._engine.lock:
                if not self._pending:
                    return progressed
                item = self._pending.popleft()
            progressed = True
            with duplicating() if item.duplicate else nullcontext():
                self._process(item)
            # Lambda's internal queue delivers at least once: the same event (same request id) may run again.
            path = f"async:{item.function.logical_id}"
            if item.done and not item.duplicate and self._engine.faults.duplicates(path, item.event):
                again = AsyncEvent(
                    item.function,
                    item.event,
                    item.source,
                    qualifier=item.qualifier,
                    version=item.version,
                    memory_mb=item.memory_mb,
                    duplicate=True,
                    request_id=item.done[0].record["requestContext"]["requestId"],
                )
                with duplicating():
                    self._process(again)

    def _process(self, item: AsyncEvent) -> None:
        local = item.function
        # The settings of the invoked qualifier only: an alias's EventInvokeConfig is not the function's.
        config = self._engine.resources.invoke_config(local.logical_id, item.qualifier)
        request_id = item.request_id or str(uuid.uuid4())
        attempts: list[Invocation] = []
        delays: list[float] = []
        throttled_for = 0.0
        throttles = 0
        condition = "RetriesExhausted"
        response: tuple[dict[str, Any], Any] | None = None
        if local.reserved_concurrency == 0:
            # Reserved concurrency 0 throttles every invocation; Lambda then sends new events to the on-failure
            # destination or dead-letter queue without running them and without retries.
            response = ({"statusCode": 429, "executedVersion": item.version}, dict(THROTTLED_PAYLOAD))
        else:
            # Lambda does not retry a durable execution (its steps retry inside it): one attempt, whatever the config.
            retries = 0 if local.durable is not None else config.max_retries
            for attempt in range(retries + 1):
                if attempt:
                    delays.append(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1])
                # The event's age: real time since it was queued (queueing and the attempts' run time) plus the
                # virtual retry delays.
                age = time.monotonic() - item.queued_at + sum(delays) + throttled_for
                if age > config.max_event_age_seconds:
                    condition = "EventAgeExceeded"
                    break
                # Throttles the test asked for (Faults.throttle_rate): back to the queue, older, not a retry.
                waited, throttled, expired = self._engine.faults.wait_out_throttles(
                    local, item.event, age, config.max_event_age_seconds
                )
                throttled_for += waited - age
                throttles += throttled
                if expired:
                    condition = "EventAgeExceeded"
                    break
                invocation = self._engine.run(
                    local,
                    item.event,
                    f"async:{item.source}",
                    request_id,
                    version=item.version,
                    memory_mb=item.memory_mb,
                    qualifier=item.qualifier,
                )
                attempts.append(invocation)
                if invocation.succeeded:
                    condition = "Success"
                    break
        if attempts:
            last = attempts[-1]
            context: dict[str, Any] = {"statusCode": 200, "executedVersion": item.version}
            if not last.succeeded:
                context["functionError"] = "Unhandled"
            response = (context, last.payload)
        elif response is None and throttles:  # throttled until it expired: it never ran
            response = ({"statusCode": 429, "executedVersion": item.version}, dict(THROTTLED_PAYLOAD))
        elif response is None:  # expired in the queue before its first attempt
            response = ({"statusCode": 200, "executedVersion": item.version}, None)
        record = execution_record(
            f"{local.arn}:{item.qualifier}",
            item.event,
            condition=condition,
            count=max(1, len(attempts)),
            request_id=request_id,
            response_context=response[0],
            response_payload=response[1],
        )
        delivered: list[str] = []
        failed: list[str] = []
        if condition == "Success":
            if config.on_success:
                self._deliver_record(config.on_success, record, local, success=True).sort_into(delivered, failed)
        else:
            if config.on_failure:
                self._deliver_record(config.on_failure, record, local, success=False).sort_into(delivered, failed)
            if local.dead_letter_arn:
                error = _error_message(attempts[-1]) if attempts else str(THROTTLED_PAYLOAD["errorMessage"])
                code = "200" if attempts else "429"
                self._dead_letter(local, item.event, error, code, request_id).sort_into(delivered, failed)
        result = AsyncInvocation(
            function=local.logical_id,
            event=item.event,
            source=item.source,
            attempts=tuple(attempts),
            condition=condition,
            record=record,
            delivered_to=tuple(delivered),
            retry_delays=tuple(delays),
            failed_deliveries=tuple(failed),
            duplicate=is_duplicate(),
            throttles=throttles,
        )
        with self._engine.lock:
            self._results.append(result)
        item.done.append(result)

    def _deliver_record(self, arn: str, record: Mapping[str, Any], local: LocalFunction, *, success: bool) -> _Sent:
        """Send the execution record to a destination, with the function's role (as Lambda does); a failed delivery
        (a refused one too) is a warning and a delivery failure (Lambda drops the record and counts it in the
        ``DestinationDeliveryFailures`` metric)."""
        engine = self._engine
        service = arn.split(":")[2]
        body = json.dumps(record)
        role = local.role_arn
        try:
            if service == "sqs":
                engine.call(
                    role, "sqs", "send_message", via=_DESTINATION, QueueUrl=engine.queue_url(arn), MessageBody=body
                )
            elif service == "sns":
                engine.call(role, "sns", "publish", via=_DESTINATION, TopicArn=arn, Message=body)
            elif service == "events":
                result = "Success" if success else "Failure"
                engine.call(
                    role,
                    "events",
                    "put_events",
                    via=_DESTINATION,
                    Entries=[
                        {
                            "Source": "lambda",
                            "DetailType": f"Lambda Function Invocation Result - {result}",
                            "Detail": body,
                            "EventBusName": arn,
                            # As Lambda puts it: the bus, then the invoked function (qualified).
                            "Resources": [arn, str(record["requestContext"]["functionArn"])],
                        }
                    ],
                )
            elif service == "lambda":
                target = engine.resources.function_by_physical_name(arn)
                if target is None:
                    raise KitError(f"{arn} is not a function of this stack")
                engine.authorize(role, "lambda:InvokeFunction", arn, via=_DESTINATION)
                self.enqueue(target, dict(record), "destination")
            elif service == "s3":
                today = dt.datetime.now(dt.UTC)
                key = f"aws/lambda/async/{local.name}/{today:%Y/%m/%d}/{today:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
                bucket = arn.rsplit(":", maxsplit=1)[-1]
                engine.call(role, "s3", "put_object", via=_DESTINATION, Bucket=bucket, Key=key, Body=body.encode())
            else:
                raise KitError(f"the kit does not deliver to {service} destinations")
        except Exception as error:
            engine.warnings.append(f"destination delivery to {arn} failed (the record is dropped): {error}")
            return _Sent(self._name(arn), ok=False)
        return _Sent(self._name(arn), ok=True)

    def _name(self, arn: str) -> str:
        return self._engine.resources.resource_by_physical(arn) or arn

    def _dead_letter(self, local: LocalFunction, event: Any, message: str, code: str, request_id: str) -> _Sent:
        """Send the event to the function's dead-letter queue or topic, with Lambda's error attributes and the
        function's role; a failed send is a warning and a delivery failure (Lambda counts it in
        ``DeadLetterErrors``)."""
        engine = self._engine
        arn = str(local.dead_letter_arn)
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": code},
            "ErrorMessage": {"DataType": "String", "StringValue": message[:1024]},
        }
        body = json.dumps(event)
        try:
            if arn.split(":")[2] == "sqs":
                url = engine.queue_url(arn)
                engine.call(
                    local.role_arn,
                    "sqs",
                    "send_message",
                    via="dead-letter",
                    QueueUrl=url,
                    MessageBody=body,
                    MessageAttributes=attributes,
                )
            else:
                engine.call(
                    local.role_arn,
                    "sns",
                    "publish",
                    via="dead-letter",
                    TopicArn=arn,
                    Message=body,
                    MessageAttributes=attributes,
                )
        except Exception as error:
            engine.warnings.append(f"dead-letter delivery to {arn} failed (the event is dropped): {error}")
            return _Sent(self._name(arn), ok=False)
        return _Sent(self._name(arn), ok=True)


def _error_message(last: Invocation) -> str:
    return str(last.error_message or last.error_type)


@dataclass(frozen=True)
class _Sent:
    """Where a record or event went (a logical id, or an ARN outside the stack), and whether it arrived."""

    name: str
    ok: bool

    def sort_into(self, delivered: list[str], failed: list[str]) -> None:
        (delivered if self.ok else failed).append(self.name)
