"""Where a durable function's records go: the route a ``DurableFunction`` rendered into the function's environment,
and the one AWS call that delivers a record there."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

ENV_ON_SUCCESS = "DURABLE_ROUTES_ON_SUCCESS"
"""The environment variable that holds the ``on_success`` route (JSON, see ``Delivery``)."""
ENV_ON_FAILURE = "DURABLE_ROUTES_ON_FAILURE"
"""The environment variable that holds the ``on_failure`` route."""
EVENT_SOURCE = "constructs-lib.durable"
"""The ``source`` of the records a durable function puts on an event bus (same detail types as Lambda's)."""
DETAIL_TYPE_SUCCESS = "Lambda Function Invocation Result - Success"
DETAIL_TYPE_FAILURE = "Lambda Function Invocation Result - Failure"

SERVICES = ("sqs", "sns", "events", "lambda", "s3")
PAYLOADS = ("record", "response")

# Error codes that say "try again later" (throttling, service-side failures), as the services spell them.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "InternalServerError",
        "KMSThrottlingException",
        "AWS.SimpleQueueService.RequestThrottled",
        "RequestThrottled",
    }
)
HTTP_SERVER_ERROR = 500


class DeliveryError(Exception):
    """A record could not be delivered: the route refused it (permissions, a deleted target, a bad setting)."""


class TransientDeliveryError(DeliveryError):
    """The route's service throttled or failed on its side: the delivery step retries it with backoff."""


@dataclass(frozen=True)
class Delivery:
    """A route as the runtime sees it: a service, its target and what to send.

    ``service`` is ``sqs`` (target: the queue URL), ``sns`` (the topic ARN), ``events`` (the event bus name or
    ARN), ``lambda`` (the function ARN, invoked asynchronously) or ``s3`` (the bucket name; failures only, written
    as ``failures/<execution ARN, / and : as _>.json``). ``payload`` is ``record`` (the whole execution record)
    or ``response`` (its ``responsePayload`` only).
    """

    service: str
    target: str
    payload: str = "record"

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"a route's service is one of {', '.join(SERVICES)}, got {self.service!r}")
        if not isinstance(self.target, str) or not self.target:
            raise ValueError(f"a {self.service} route needs a target (a name, URL or ARN), got {self.target!r}")
        if self.payload not in PAYLOADS:
            raise ValueError(f"a route's payload is 'record' or 'response', got {self.payload!r}")

    @classmethod
    def from_json(cls, text: str) -> Delivery:
        """Read the JSON a ``DurableFunction`` writes: ``{"service": ..., "target": ..., "payload": ...}``."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"a route must be JSON, got {text[:200]!r}: {error}") from None
        if not isinstance(data, dict):
            raise ValueError(f"a route is a JSON object, got {text[:200]!r}")
        return cls(
            service=data.get("service"),  # type: ignore[arg-type]  # checked in __post_init__
            target=data.get("target"),  # type: ignore[arg-type]
            payload=data.get("payload", "record"),
        )

    @classmethod
    def from_environment(cls, variable: str) -> Delivery | None:
        """The route in environment variable ``variable``, or None when it is unset (no route on that side)."""
        text = os.environ.get(variable)
        return cls.from_json(text) if text else None

    def to_json(self) -> str:
        return json.dumps({"service": self.service, "target": self.target, "payload": self.payload})


_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """One boto3 client per service for this container, made on first use (boto3 is imported only then)."""
    made = _clients.get(service)
    if made is None:
        import boto3

        made = _clients[service] = boto3.client(service)
    return made


def deliver(delivery: Delivery, record: dict[str, Any]) -> None:
    """Send ``record`` (or its ``responsePayload``) to the route. Raises ``TransientDeliveryError`` for what may
    pass on a retry and ``DeliveryError`` for what will not."""
    failed = record.get("requestContext", {}).get("condition") != "Success"
    body: Any = record.get("responsePayload") if delivery.payload == "response" else record
    text = json.dumps(body)
    try:
        _send(delivery, record, text, failed=failed)
    except DeliveryError:
        raise
    except Exception as error:
        raise _classified(delivery, error) from error


def _send(delivery: Delivery, record: dict[str, Any], text: str, *, failed: bool) -> None:
    service, target = delivery.service, delivery.target
    if service == "sqs":
        client("sqs").send_message(QueueUrl=target, MessageBody=text)
    elif service == "sns":
        client("sns").publish(TopicArn=target, Message=text)
    elif service == "events":
        answer = client("events").put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPE_FAILURE if failed else DETAIL_TYPE_SUCCESS,
                    "Detail": text,
                    "EventBusName": target,
                    "Resources": [record["requestContext"]["functionArn"]],
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            entry = answer["Entries"][0]
            code = str(entry.get("ErrorCode", ""))
            message = f"EventBridge refused the record: {code} {entry.get('ErrorMessage', '')}".strip()
            raise (TransientDeliveryError if code in TRANSIENT_CODES else DeliveryError)(message)
    elif service == "lambda":
        client("lambda").invoke(FunctionName=target, InvocationType="Event", Payload=text.encode())
    else:  # s3: failures only (the construct refuses an S3 success route)
        key = str(record["requestContext"]["requestId"]).replace(":", "_").replace("/", "_")
        client("s3").put_object(
            Bucket=target, Key=f"failures/{key}.json", Body=text.encode(), ContentType="application/json"
        )


def _classified(delivery: Delivery, error: Exception) -> DeliveryError:
    """botocore's error as ours: throttling, server-side and connection failures are transient."""
    response = getattr(error, "response", None)
    where = f"{delivery.service} route {delivery.target}"
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        message = f"{where} refused the record: {code}: {response.get('Error', {}).get('Message', '')}"
        transient = code in TRANSIENT_CODES or (isinstance(status, int) and status >= HTTP_SERVER_ERROR)
        return (TransientDeliveryError if transient else DeliveryError)(message)
    # No service answer: a connection or timeout error on the way (botocore's BotoCoreError family)
    return TransientDeliveryError(f"{where} could not be reached: {type(error).__name__}: {error}")
