"""The S3 Batch Operations Lambda contract, so that a user writes only the per-object function.

S3 Batch Operations invokes the function with one of two invocation schemas::

    1.0  {"invocationSchemaVersion": "1.0", "invocationId": "...", "job": {"id": "..."},
          "tasks": [{"taskId": "...", "s3Key": "a%20b.txt", "s3VersionId": "1",
                     "s3BucketArn": "arn:aws:s3:us-east-1:0123456788:b"}]}   (or "arn:aws:s3:::b")
    2.0  {"invocationSchemaVersion": "2.0", "invocationId": "...", "job": {"id": "...", "userArguments": {...}},
          "tasks": [{"taskId": "...", "s3Key": "a%20b.txt", "s3VersionId": null, "s3Bucket": "b"}]}

and expects, for every task, a result with ``resultCode`` ``Succeeded``, ``TemporaryFailure`` (S3 Batch invokes
the task again) or ``PermanentFailure``, and a ``resultString`` that lands in the completion report.

Three ways to use it (this module is in the layer that ``S3BatchLambdaJob`` adds to the function):

- no contract code at all: the construct sets the handler to ``s3_batch_contract.handler`` and names the
  per-object function in ``S3_BATCH_TASK_HANDLER`` (``module.function``);
- ``@batch_handler`` on a per-object function makes it a Lambda handler;
- ``handle(event, context, process)`` from a handler of one's own.

The per-object function gets a ``BatchTask`` and returns the result string (a ``str``, or any JSON-serialisable
value, which is written as compact JSON). Errors become result codes deliberately, see ``classify``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import reprlib
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BatchContractError",
    "BatchTask",
    "PermanentFailure",
    "ResultCode",
    "TaskResult",
    "TemporaryFailure",
    "batch_handler",
    "classify",
    "handle",
    "handler",
]

LOGGER = logging.getLogger("s3_batch_contract")

ResultCode = Literal["Succeeded", "TemporaryFailure", "PermanentFailure"]
SCHEMA_VERSIONS = ("1.0", "2.0")
TASK_HANDLER_VARIABLE = "S3_BATCH_TASK_HANDLER"
MAX_RESULT_STRING = 1024
"""Result strings longer than this are cut (with a marker): the report is for people, the data goes elsewhere."""
BUCKET_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:s3:(?P<region>[a-z0-9-]*):(?P<account>[0-9]*):(?P<bucket>[^:/]+)$")
"""A bucket ARN as schema 1.0 sends it: IAM's form ``arn:aws:s3:::<bucket>`` or, as in the S3 User Guide's request
example, with a region and an account (``arn:aws:s3:us-east-1:0123456788:<bucket>``), in any partition. An object
(``.../key``), an access point or another service's ARN does not match."""
BUCKET_NAME = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")
"""What the S3 client accepts as a bucket name."""

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it

# Error codes a service answers when it is busy or broken for a moment: S3 Batch should try the task again.
TEMPORARY_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "EC2ThrottledException",
        "KMSInternalException",
    }
)
# Client-side failures to reach a service (botocore's class names): also temporary.
TEMPORARY_EXCEPTIONS = frozenset(
    {
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectionError",
        "TimeoutError",
    }
)


class BatchContractError(ValueError):
    """The event is not an S3 Batch Operations invocation: nothing can be answered for it."""


class TemporaryFailure(Exception):
    """Raise to answer ``TemporaryFailure`` for this task: S3 Batch Operations invokes it again."""


class PermanentFailure(Exception):
    """Raise to answer ``PermanentFailure`` for this task, with the message as the result string."""


@dataclass(frozen=True)
class BatchTask:
    """One object of the job, with the key already URL-decoded."""

    task_id: str
    bucket: str
    key: str
    version_id: str | None
    job_id: str
    invocation_id: str
    schema_version: str
    user_arguments: Mapping[str, str] = field(default_factory=dict)

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def get_object_args(self) -> dict[str, str]:
        """Keyword arguments for ``s3.get_object`` (and head, tagging) that address exactly this version."""
        args = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            args["VersionId"] = self.version_id
        return args


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    result_code: ResultCode
    result_string: str

    def as_dict(self) -> dict[str, str]:
        return {"taskId": self.task_id, "resultCode": self.result_code, "resultString": self.result_string}


Process = Callable[[BatchTask], Any]


def parse_tasks(event: object) -> tuple[str, str, list[BatchTask]]:
    """``(schema version, invocation id, tasks)`` of an invocation; ``BatchContractError`` says what is wrong."""
    if not isinstance(event, Mapping):
        raise BatchContractError(f"expected an S3 Batch Operations invocation object, got {type(event).__name__}")
    schema = event.get("invocationSchemaVersion")
    if schema not in SCHEMA_VERSIONS:
        raise BatchContractError(f"invocationSchemaVersion must be '1.0' or '2.0', got {_SHOWN.repr(schema)}")
    invocation_id = event.get("invocationId")
    if not isinstance(invocation_id, str) or not invocation_id:
        raise BatchContractError("invocationId is missing: S3 Batch Operations always sends one")
    job = event.get("job")
    if not isinstance(job, Mapping) or not isinstance(job.get("id"), str):
        raise BatchContractError("job.id is missing")
    arguments = job.get("userArguments") or {}
    if schema == "2.0" and not (isinstance(arguments, Mapping) and all(isinstance(v, str) for v in arguments.values())):
        raise BatchContractError("job.userArguments must map strings to strings")
    tasks = event.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise BatchContractError("tasks must be a non-empty list")
    parsed = [
        _task(raw, index, schema=schema, invocation_id=invocation_id, job_id=job["id"], arguments=arguments)
        for index, raw in enumerate(tasks)
    ]
    return schema, invocation_id, parsed


def _task(
    raw: object, index: int, *, schema: str, invocation_id: str, job_id: str, arguments: Mapping[str, str]
) -> BatchTask:
    if not isinstance(raw, Mapping):
        raise BatchContractError(f"tasks[{index}] must be an object, got {type(raw).__name__}")
    task_id, key = raw.get("taskId"), raw.get("s3Key")
    if not isinstance(task_id, str) or not task_id:
        raise BatchContractError(f"tasks[{index}].taskId is missing")
    if not isinstance(key, str) or not key:
        raise BatchContractError(f"tasks[{index}].s3Key is missing")
    if schema == "1.0":
        arn = raw.get("s3BucketArn")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise BatchContractError(f"tasks[{index}].s3BucketArn is missing (schema 1.0 names the bucket by ARN)")
        match = BUCKET_ARN.match(arn)
        if match is None:
            raise BatchContractError(
                f"tasks[{index}].s3BucketArn must be an S3 bucket ARN (arn:aws:s3:::<bucket> or "
                f"arn:aws:s3:<region>:<account>:<bucket>), got {_SHOWN.repr(arn)}"
            )
        bucket = match["bucket"]
    else:
        named = raw.get("s3Bucket")
        if not isinstance(named, str) or not named:
            raise BatchContractError(f"tasks[{index}].s3Bucket is missing (schema 2.0 names the bucket by name)")
        bucket = named
    if not BUCKET_NAME.match(bucket):
        raise BatchContractError(f"tasks[{index}] names no possible S3 bucket: {_SHOWN.repr(bucket)}")
    version = raw.get("s3VersionId")
    return BatchTask(
        task_id=task_id,
        bucket=bucket,
        key=_object_key(key, index),
        version_id=_unicode(version, f"tasks[{index}].s3VersionId") if isinstance(version, str) and version else None,
        job_id=job_id,
        invocation_id=invocation_id,
        schema_version=schema,
        user_arguments=dict(arguments) if schema == "2.0" else {},
    )


def _unicode(value: str, what: str) -> str:
    """``value``, if it can be sent to S3 as UTF-8 (a lone surrogate, from a JSON ``\\ud800`` escape, cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BatchContractError(f"{what} is not valid Unicode: {_SHOWN.repr(value)}") from None
    return value


def _object_key(raw: str, index: int) -> str:
    """The URL-decoded key: S3 Batch Operations percent-encodes the UTF-8 key (spaces as ``+`` or ``%20``)."""
    what = f"tasks[{index}].s3Key"
    try:
        return urllib.parse.unquote_plus(_unicode(raw, what), errors="strict")
    except UnicodeDecodeError:
        raise BatchContractError(f"{what} is not a URL-encoded UTF-8 key: {_SHOWN.repr(raw)}") from None


def classify(error: BaseException) -> tuple[ResultCode, str]:
    """The result code and message for an error raised while processing one object.

    Throttling, timeouts, connection failures and 5xx answers of a service are ``TemporaryFailure``: S3 Batch
    Operations tries the task again. A missing object, access denied, bad content, and any other error are
    ``PermanentFailure`` with a message that says what was wrong: trying again would fail the same way.
    """
    if isinstance(error, TemporaryFailure):
        return "TemporaryFailure", str(error) or "TemporaryFailure"
    if isinstance(error, PermanentFailure):
        return "PermanentFailure", str(error) or "PermanentFailure"
    response = getattr(error, "response", None)
    if isinstance(response, Mapping) and isinstance(response.get("Error"), Mapping):
        return _classify_service_error(response, error)
    if type(error).__name__ in TEMPORARY_EXCEPTIONS or isinstance(error, (TimeoutError, ConnectionError)):
        return "TemporaryFailure", f"{type(error).__name__}: {error}"
    if isinstance(error, UnicodeDecodeError):
        return "PermanentFailure", f"the object is not UTF-8 text ({error.reason} at byte {error.start})"
    return "PermanentFailure", f"{type(error).__name__}: {error}"


def _classify_service_error(response: Mapping[str, Any], error: BaseException) -> tuple[ResultCode, str]:
    """An AWS error answer (botocore's ``ClientError.response``)."""
    code = str(response["Error"].get("Code", ""))
    message = str(response["Error"].get("Message", "")) or str(error)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in TEMPORARY_CODES or (isinstance(status, int) and status >= 500):
        return "TemporaryFailure", f"{code}: {message}" if code else message
    if code in {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}:
        return "PermanentFailure", f"{code}: the object does not exist (deleted after the manifest was made?)"
    if code in {"AccessDenied", "403", "Forbidden", "AccessDeniedException"}:
        operation = getattr(error, "operation_name", None) or "this call"
        return "PermanentFailure", f"{code}: the function's role may not make {operation} here; grant it that action"
    return "PermanentFailure", f"{code}: {message}" if code else message


def result_string(value: Any) -> str:
    """The result string of a returned value: text as is, anything else as compact JSON, cut to the limit."""
    if value is None:
        text = "Succeeded"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    if len(text) > MAX_RESULT_STRING:
        text = text[: MAX_RESULT_STRING - 14] + "...(truncated)"
    return text


def run_task(task: BatchTask, process: Process) -> TaskResult:
    try:
        value = process(task)
    except Exception as error:
        code, message = classify(error)
        log = LOGGER.warning if code == "TemporaryFailure" else LOGGER.error
        log("task %s s3://%s/%s: %s %s", task.task_id, task.bucket, task.key, code, message)
        return TaskResult(task.task_id, code, result_string(message))
    return TaskResult(task.task_id, "Succeeded", result_string(value))


def handle(
    event: object, context: object, process: Process, *, treat_missing_keys_as: ResultCode = "PermanentFailure"
) -> dict[str, Any]:
    """Answer one S3 Batch Operations invocation: every task gets a result, whatever ``process`` does."""
    schema, invocation_id, tasks = parse_tasks(event)
    return {
        "invocationSchemaVersion": schema,
        "treatMissingKeysAs": treat_missing_keys_as,
        "invocationId": invocation_id,
        "results": [run_task(task, process).as_dict() for task in tasks],
    }


def batch_handler(process: Process) -> Callable[[object, object], dict[str, Any]]:
    """Make a per-object function a Lambda handler for S3 Batch Operations."""

    def lambda_handler(event: object, context: object) -> dict[str, Any]:
        return handle(event, context, process)

    lambda_handler.__doc__ = process.__doc__
    lambda_handler.__name__ = getattr(process, "__name__", "lambda_handler")
    return lambda_handler


_loaded: dict[str, Process] = {}


def _task_function() -> Process:
    spec = os.environ.get(TASK_HANDLER_VARIABLE, "")
    if spec in _loaded:
        return _loaded[spec]
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise BatchContractError(
            f"{TASK_HANDLER_VARIABLE} must name the per-object function as module.function, got {spec!r}"
        )
    function: Process | None = getattr(importlib.import_module(module_name), function_name, None)
    if not callable(function):
        raise BatchContractError(f"{TASK_HANDLER_VARIABLE}={spec}: {module_name} has no function {function_name}")
    _loaded[spec] = function
    return function


def handler(event: object, context: object) -> dict[str, Any]:
    """The handler ``S3BatchLambdaJob`` sets: runs the per-object function named in ``S3_BATCH_TASK_HANDLER``."""
    return handle(event, context, _task_function())
