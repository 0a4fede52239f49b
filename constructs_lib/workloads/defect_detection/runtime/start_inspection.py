"""Defect-detection starter: S3 event notifications, delivered through SQS, start one inspection each.

The SQS event source reports partial batch failures (``ReportBatchItemFailures``): a message that cannot be read or
whose execution cannot be started is returned in ``batchItemFailures`` and redelivered; the others are deleted.
Execution names are derived from the notification, so a redelivered message starts nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import reprlib
import urllib.parse
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

TEST_EVENT = "s3:TestEvent"
CREATED_PREFIX = "ObjectCreated"
BUCKET_NAME = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")
"""What the S3 client accepts as a bucket name."""
MAX_KEY_BYTES = 1024
"""S3 object keys are at most 1,024 bytes of UTF-8."""

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it


class ConfigurationError(ValueError):
    """The function's environment is not valid (a deployment error)."""


class InvalidNotificationError(ValueError):
    """A message (or the event) is not an S3 event notification this function understands."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    """URL-decoded: S3 notifications encode keys like a form (spaces as ``+``, the rest percent-encoded)."""
    version_id: str | None
    size: int | None
    sequencer: str | None


_CACHE: dict[str, Any] = {}


def state_machine_arn() -> str:
    """The state machine to start, read from the environment once per execution environment (see ``reset``)."""
    if "arn" not in _CACHE:
        arn = os.environ.get("STATE_MACHINE_ARN", "").strip()
        if not arn:
            raise ConfigurationError("STATE_MACHINE_ARN must be set to the inspection state machine's ARN")
        _CACHE["arn"] = arn
    result: str = _CACHE["arn"]
    return result


def stepfunctions_client() -> Any:
    if "stepfunctions" not in _CACHE:
        _CACHE["stepfunctions"] = boto3.client("stepfunctions")
    return _CACHE["stepfunctions"]


def reset() -> None:
    """Forget the cached settings and client (tests change the environment between cases)."""
    _CACHE.clear()


def _optional_str(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return _unicode(value, what)
    raise InvalidNotificationError(f"{what} must be a non-empty string when given, got {_SHOWN.repr(value)}")


def _unicode(value: str, what: str) -> str:
    """``value``, if it can be sent on as UTF-8 (a lone surrogate, from a JSON ``\\ud800`` escape, cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidNotificationError(f"{what} is not valid Unicode: {_SHOWN.repr(value)}") from None
    return value


def _object_key(raw_key: str, what: str) -> str:
    """The URL-decoded key: S3 encodes keys like a form (spaces as ``+``, the rest percent-encoded UTF-8)."""
    try:
        key = urllib.parse.unquote_plus(_unicode(raw_key, what), errors="strict")
    except UnicodeDecodeError:
        raise InvalidNotificationError(
            f"{what} is not a URL-encoded UTF-8 key (S3 encodes keys so): {_SHOWN.repr(raw_key)}"
        ) from None
    size = len(key.encode("utf-8"))  # strict decoding made valid Unicode of it
    if size > MAX_KEY_BYTES:
        raise InvalidNotificationError(f"{what} is {size:,} bytes once decoded; S3 keys are at most {MAX_KEY_BYTES}")
    return key


def _s3_object(record: object, index: int) -> S3Object | None:
    """One notification record's object, or None when it is not an ObjectCreated event."""
    if not isinstance(record, dict):
        raise InvalidNotificationError(f"Records[{index}] is not an object, got {type(record).__name__}")
    event_name = record.get("eventName")
    if not isinstance(event_name, str):
        raise InvalidNotificationError(f"Records[{index}].eventName must be a string, got {_SHOWN.repr(event_name)}")
    if not event_name.startswith(CREATED_PREFIX):
        return None
    s3 = record.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, dict) else None
    obj = s3.get("object") if isinstance(s3, dict) else None
    if not isinstance(bucket, dict) or not isinstance(obj, dict):
        raise InvalidNotificationError(f"Records[{index}] has no s3.bucket and s3.object")
    name = bucket.get("name")
    raw_key = obj.get("key")
    if not isinstance(name, str) or not BUCKET_NAME.match(name):
        raise InvalidNotificationError(
            f"Records[{index}].s3.bucket.name must be an S3 bucket name (a non-empty string of letters, digits, "
            f"'.', '-', '_'), got {_SHOWN.repr(name)}"
        )
    if not isinstance(raw_key, str) or not raw_key:
        raise InvalidNotificationError(
            f"Records[{index}].s3.object.key must be a non-empty string, got {_SHOWN.repr(raw_key)}"
        )
    size = obj.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise InvalidNotificationError(
            f"Records[{index}].s3.object.size must be a non-negative integer, got {_SHOWN.repr(size)}"
        )
    return S3Object(
        bucket=name,
        key=_object_key(raw_key, f"Records[{index}].s3.object.key"),
        version_id=_optional_str(obj.get("versionId"), f"Records[{index}].s3.object.versionId"),
        size=size,
        sequencer=_optional_str(obj.get("sequencer"), f"Records[{index}].s3.object.sequencer"),
    )


def s3_objects(body: object) -> list[S3Object]:
    """The created objects of one S3 notification (a JSON string or its parsed form).

    Returns [] for S3's test event and for notifications without ObjectCreated records; raises
    InvalidNotificationError that says what is wrong for anything else.
    """
    if isinstance(body, str | bytes):
        text = body
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):  # not JSON (or not UTF-8), or nested deeper than the parser goes
            raise InvalidNotificationError(f"the message body is not JSON: starts with {text[:40]!r}") from None
    if not isinstance(body, dict):
        raise InvalidNotificationError(f"an S3 notification is a JSON object, got {type(body).__name__}")
    if body.get("Event") == TEST_EVENT:
        return []
    records = body.get("Records")
    if not isinstance(records, list):
        raise InvalidNotificationError("the S3 notification has no Records list")
    return [obj for index, record in enumerate(records) if (obj := _s3_object(record, index)) is not None]


def execution_name(obj: S3Object) -> str:
    """A deterministic execution name: the same notification delivered twice names the same execution."""
    identity = f"{obj.bucket}/{obj.key}/{obj.version_id or ''}/{obj.sequencer or ''}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:64]


def execution_input(obj: S3Object) -> dict[str, Any]:
    """The inspection workflow's input for one object."""
    result: dict[str, Any] = {"bucket": obj.bucket, "key": obj.key}
    if obj.version_id is not None:
        result["versionId"] = obj.version_id
    result["size"] = obj.size
    return result


def start(obj: S3Object, arn: str) -> bool:
    """Start the object's inspection. True if started, False if a previous delivery already started it."""
    name = execution_name(obj)
    try:
        stepfunctions_client().start_execution(
            stateMachineArn=arn, name=name, input=json.dumps(execution_input(obj), ensure_ascii=False)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            LOGGER.info("inspection %s of s3://%s/%s already started (duplicate delivery)", name, obj.bucket, obj.key)
            return False
        raise
    LOGGER.info("inspection %s of s3://%s/%s started", name, obj.bucket, obj.key)
    return True


def _sqs_records(event: object) -> list[dict[str, Any]]:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("messageId"), str) and r["messageId"] for r in records
    ):
        raise InvalidNotificationError("expected an SQS event: a Records list of messages with a messageId")
    return records


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    arn = state_machine_arn()
    failures: list[dict[str, str]] = []
    for message in _sqs_records(event):
        message_id: str = message["messageId"]
        try:
            objects = s3_objects(message.get("body"))
        except InvalidNotificationError as error:
            LOGGER.error("message %s is not a valid S3 notification: %s", message_id, error)
            failures.append({"itemIdentifier": message_id})
            continue
        if not objects:
            LOGGER.info("message %s has no created object to inspect (S3 test event or other events)", message_id)
        for obj in objects:
            try:
                start(obj, arn)
            except (ClientError, BotoCoreError) as error:
                LOGGER.error(
                    "message %s: could not start the inspection of s3://%s/%s: %s",
                    message_id,
                    obj.bucket,
                    obj.key,
                    error,
                )
                failures.append({"itemIdentifier": message_id})
                break
    return {"batchItemFailures": failures}
