"""Defect-detection step: classify one S3 image with a SageMaker real-time endpoint.

Step Functions invokes ``handler`` synchronously with ``{"bucket", "key", "versionId"?}`` (the key already
URL-decoded). An exception becomes a task failure whose error name is the exception's class name: the workflow
retries ``EndpointThrottledError`` and catches the others.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import reprlib
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

DEFAULT_MAX_IMAGE_BYTES = 6 * 1024 * 1024
"""SageMaker's real-time inference payload limit (6 MB)."""

CONTENT_TYPE = "application/x-image"
ACCEPT = "application/json"

THROTTLING_CODES = frozenset({"ThrottlingException", "ServiceUnavailable", "InternalFailure"})
THROTTLING_STATUSES = frozenset({429, 500, 503})
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "NotFound", "404"})
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "Forbidden", "403"})
BAD_REQUEST_CODES = frozenset({"InvalidArgument", "InvalidBucketName", "KeyTooLongError", "400"})
"""S3's answers to a request that names no possible object (a malformed version id, a key that is too long)."""

BUCKET_NAME = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")
"""What the S3 client accepts as a bucket name (S3 itself accepts less and answers NoSuchBucket for the rest)."""
MAX_KEY_BYTES = 1024
"""S3 object keys (and version ids) are at most 1,024 bytes of UTF-8."""

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it

IMAGE_SIGNATURES: tuple[tuple[tuple[bytes, ...], str], ...] = (
    ((b"\x89PNG\r\n\x1a\n",), "image/png"),
    ((b"\xff\xd8\xff",), "image/jpeg"),
    ((b"GIF87a", b"GIF89a"), "image/gif"),
    ((b"BM",), "image/bmp"),
    ((b"II*\x00", b"MM\x00*"), "image/tiff"),
)
"""Magic bytes of the supported formats (WEBP, ``RIFF....WEBP``, is checked apart)."""

Verdict = Literal["DEFECTIVE", "DEFECT_FREE", "REVIEW"]


class ConfigurationError(ValueError):
    """The function's environment is not valid (a deployment error, not retried)."""


class InvalidRequestError(ValueError):
    """The workflow input is not ``{"bucket": str, "key": str, "versionId"?: str}``."""


class ImageNotFoundError(LookupError):
    """The object (or the version, or the bucket) does not exist."""


class ImageAccessDeniedError(PermissionError):
    """The function may not read the object."""


class EmptyImageError(ValueError):
    """The object has no bytes."""


class ImageTooLargeError(ValueError):
    """The object is larger than the endpoint accepts (MAX_IMAGE_BYTES)."""


class NotAnImageError(ValueError):
    """The object's bytes are not a supported image format."""


class EndpointThrottledError(RuntimeError):
    """The endpoint is throttling or temporarily unavailable: the workflow retries this one."""


class EndpointModelError(RuntimeError):
    """The model container failed on this image (SageMaker's ModelError)."""


class EndpointError(RuntimeError):
    """Any other endpoint failure (endpoint not found, validation error, ...)."""


class EndpointResponseError(ValueError):
    """The endpoint answered something that is not a list of class probabilities."""


@dataclass(frozen=True)
class Settings:
    endpoint_name: str
    class_names: tuple[str, ...]
    defect_class: str
    defect_threshold: float
    confidence_floor: float
    max_image_bytes: int
    region: str

    @property
    def defect_index(self) -> int:
        return self.class_names.index(self.defect_class)


_SETTINGS: list[Settings] = []
_CLIENTS: dict[str, Any] = {}


@dataclass(frozen=True)
class InspectionRequest:
    bucket: str
    key: str
    version_id: str | None


@dataclass(frozen=True)
class Decision:
    decision: Verdict
    defect_score: float
    top_class: str
    top_score: float
    scores: dict[str, float]


def _probability_setting(name: str, default: str) -> float:
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"{name} must be a number between 0 and 1, got {raw!r}")
    return value


def _class_names_setting() -> tuple[str, ...]:
    raw = os.environ.get("CLASS_NAMES", "")
    try:
        names = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"CLASS_NAMES must be a JSON list of class names, got {raw!r}") from None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(f"CLASS_NAMES must be a non-empty JSON list of non-empty strings, got {raw!r}")
    if len(set(names)) != len(names):
        raise ConfigurationError(f"CLASS_NAMES must not repeat a class name, got {raw!r}")
    return tuple(names)


def settings() -> Settings:
    """The function's settings, read from the environment once per execution environment (see ``reset``)."""
    if _SETTINGS:
        return _SETTINGS[0]
    _SETTINGS.append(_read_settings())
    return _SETTINGS[0]


def _read_settings() -> Settings:
    endpoint_name = os.environ.get("ENDPOINT_NAME", "").strip()
    if not endpoint_name:
        raise ConfigurationError("ENDPOINT_NAME must be set to the SageMaker endpoint's name")
    class_names = _class_names_setting()
    defect_class = os.environ.get("DEFECT_CLASS", "")
    if defect_class not in class_names:
        raise ConfigurationError(f"DEFECT_CLASS must be one of CLASS_NAMES {list(class_names)}, got {defect_class!r}")
    raw_max = os.environ.get("MAX_IMAGE_BYTES", str(DEFAULT_MAX_IMAGE_BYTES))
    try:
        max_image_bytes = int(raw_max)
    except ValueError:
        raise ConfigurationError(f"MAX_IMAGE_BYTES must be a positive integer, got {raw_max!r}") from None
    if max_image_bytes < 1:
        raise ConfigurationError(f"MAX_IMAGE_BYTES must be a positive integer, got {raw_max!r}")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    if not region:
        raise ConfigurationError("AWS_REGION must be set (Lambda sets it)")
    return Settings(
        endpoint_name=endpoint_name,
        class_names=class_names,
        defect_class=defect_class,
        defect_threshold=_probability_setting("DEFECT_THRESHOLD", "0.5"),
        confidence_floor=_probability_setting("CONFIDENCE_FLOOR", "0.0"),
        max_image_bytes=max_image_bytes,
        region=region,
    )


def _client(service: str, config: Config | None = None) -> Any:
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(service, config=config)
    return _CLIENTS[service]


def s3_client() -> Any:
    return _client("s3")


def sagemaker_client() -> Any:
    # No retries inside the function: the workflow retries EndpointThrottledError with backoff and jitter, where
    # each attempt is visible in the history and the wait is not billed as Lambda time.
    return _client("sagemaker-runtime", Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    _SETTINGS.clear()
    _CLIENTS.clear()


def _s3_name_problem(value: object, what: str, *, required: bool = True) -> str | None:
    """Why ``value`` cannot be an object key (or version id), or None when it can."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        return f"{what} must be a non-empty string{'' if required else ' when given'}, got {_SHOWN.repr(value)}"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return f"{what} must be valid Unicode (S3 names are UTF-8), got {_SHOWN.repr(value)} with a lone surrogate"
    if size > MAX_KEY_BYTES:
        return f"{what} must be at most {MAX_KEY_BYTES} bytes of UTF-8, got {size:,} bytes: {_SHOWN.repr(value)}"
    return None


def parse_request(event: object) -> InspectionRequest:
    """The workflow input. Raises InvalidRequestError that says what is wrong."""
    if not isinstance(event, dict):
        raise InvalidRequestError(f"expected a JSON object, got {type(event).__name__}")
    bucket = event.get("bucket")
    key = event.get("key")
    version_id = event.get("versionId")
    problems = []
    if not isinstance(bucket, str) or not bucket:
        problems.append(f"bucket must be a non-empty string, got {_SHOWN.repr(bucket)}")
    elif not BUCKET_NAME.match(bucket):
        problems.append(f"bucket must be an S3 bucket name (letters, digits, '.', '-', '_'), got {_SHOWN.repr(bucket)}")
    problems.extend(
        problem
        for problem in (
            _s3_name_problem(key, "key"),
            _s3_name_problem(version_id, "versionId", required=False),
        )
        if problem is not None
    )
    if problems or not isinstance(bucket, str) or not isinstance(key, str):
        raise InvalidRequestError("; ".join(problems))
    return InspectionRequest(bucket=bucket, key=key, version_id=version_id if isinstance(version_id, str) else None)


def _object_args(request: InspectionRequest) -> dict[str, str]:
    args = {"Bucket": request.bucket, "Key": request.key}
    if request.version_id is not None:
        args["VersionId"] = request.version_id
    return args


def _s3_error(error: ClientError, request: InspectionRequest) -> Exception | None:
    """The typed error of a failed S3 read, or None when it is none of ours (the ClientError is raised as is)."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    where = f"s3://{request.bucket}/{request.key}" + (f" (version {request.version_id})" if request.version_id else "")
    if code in NOT_FOUND_CODES or status == 404:
        return ImageNotFoundError(f"{where} does not exist ({code or status})")
    if code in ACCESS_DENIED_CODES or status == 403:
        return ImageAccessDeniedError(f"access to {where} is denied ({code or status})")
    if code in BAD_REQUEST_CODES or status == 400:
        return InvalidRequestError(f"S3 refused to read {where} ({code or status}): check the key and the versionId")
    return None


def read_image(request: InspectionRequest, config: Settings) -> bytes:
    """The object's bytes, after checking that it exists, is readable and has an acceptable size."""
    s3 = s3_client()
    where = f"s3://{request.bucket}/{request.key}"
    try:
        head = s3.head_object(**_object_args(request))
    except ClientError as error:
        typed = _s3_error(error, request)
        if typed is None:
            raise
        raise typed from error
    size = int(head.get("ContentLength", 0))
    if size == 0:
        raise EmptyImageError(f"{where} is empty (0 bytes)")
    if size > config.max_image_bytes:
        raise ImageTooLargeError(f"{where} is {size} bytes, above the limit of {config.max_image_bytes} bytes")
    try:
        body = s3.get_object(**_object_args(request))["Body"]
    except ClientError as error:
        typed = _s3_error(error, request)
        if typed is None:
            raise
        raise typed from error
    # Read at most one byte past the limit: the object may have been replaced since head_object.
    data: bytes = body.read(config.max_image_bytes + 1)
    if not data:
        raise EmptyImageError(f"{where} is empty (0 bytes)")
    if len(data) > config.max_image_bytes:
        raise ImageTooLargeError(f"{where} is above the limit of {config.max_image_bytes} bytes")
    return data


def sniff_image_type(data: bytes) -> str | None:
    """The image's media type from its magic bytes, or None if it is not a supported image."""
    for prefixes, content_type in IMAGE_SIGNATURES:
        if data.startswith(prefixes):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def invoke_endpoint(data: bytes, config: Settings) -> bytes:
    """The endpoint's raw answer for one image. Raises the Endpoint*Error that matches the failure."""
    try:
        response = sagemaker_client().invoke_endpoint(
            EndpointName=config.endpoint_name, ContentType=CONTENT_TYPE, Accept=ACCEPT, Body=data
        )
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = f"endpoint {config.endpoint_name}: {code or status}: {error}"
        if code in THROTTLING_CODES:
            raise EndpointThrottledError(message) from error
        if code == "ModelError":
            raise EndpointModelError(message) from error
        if status in THROTTLING_STATUSES:
            raise EndpointThrottledError(message) from error
        raise EndpointError(message) from error
    body = response["Body"]
    raw: bytes = body.read() if hasattr(body, "read") else body
    return raw


def parse_scores(raw: bytes | str, class_names: Sequence[str]) -> list[float]:
    """The class probabilities of the endpoint's JSON answer. Raises EndpointResponseError that says what is wrong."""
    try:
        scores = json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8 or not JSON, or nested deeper than the parser goes
        raise EndpointResponseError(f"the endpoint's response is not JSON: starts with {raw[:40]!r}") from None
    if not isinstance(scores, list):
        raise EndpointResponseError(f"the endpoint's response is not a list of scores, got {type(scores).__name__}")
    if len(scores) != len(class_names):
        raise EndpointResponseError(
            f"the endpoint's response has {len(scores)} classes, expected {len(class_names)} {list(class_names)}"
        )
    result: list[float] = []
    for name, score in zip(class_names, scores, strict=True):
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise EndpointResponseError(f"the score of {name!r} is not a number, got {score!r}")
        if not 0.0 <= score <= 1.0:  # NaN fails this too
            raise EndpointResponseError(f"the score of {name!r} is out of range 0..1, got {score!r}")
        result.append(float(score))
    return result


def decide(scores: Sequence[float], config: Settings) -> Decision:
    """The business decision: REVIEW when the model is not confident, else DEFECTIVE at or above the threshold."""
    if len(scores) != len(config.class_names):
        raise EndpointResponseError(f"got {len(scores)} scores, expected {len(config.class_names)}")
    top_index = max(range(len(scores)), key=scores.__getitem__)
    top_score = float(scores[top_index])
    defect_score = float(scores[config.defect_index])
    verdict: Verdict
    if top_score < config.confidence_floor:
        verdict = "REVIEW"
    elif defect_score >= config.defect_threshold:
        verdict = "DEFECTIVE"
    else:
        verdict = "DEFECT_FREE"
    return Decision(
        decision=verdict,
        defect_score=defect_score,
        top_class=config.class_names[top_index],
        top_score=top_score,
        scores={name: float(score) for name, score in zip(config.class_names, scores, strict=True)},
    )


def console_link(bucket: str, key: str, region: str) -> str:
    return f"https://s3.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={urllib.parse.quote(key)}"


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, e.g. 2024-05-01T12:00:00.123Z."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    config = settings()
    request = parse_request(event)
    data = read_image(request, config)
    content_type = sniff_image_type(data)
    if content_type is None:
        raise NotAnImageError(
            f"s3://{request.bucket}/{request.key} is not a PNG, JPEG, GIF, BMP, TIFF or WEBP image: "
            f"it starts with {data[:8]!r}"
        )
    decision = decide(parse_scores(invoke_endpoint(data, config), config.class_names), config)
    result: dict[str, Any] = {
        "bucket": request.bucket,
        "key": request.key,
        "versionId": request.version_id,
        "decision": decision.decision,
        "defectScore": decision.defect_score,
        "defectScoreText": str(round(decision.defect_score, 6)),
        "topClass": decision.top_class,
        "topScore": decision.top_score,
        "scores": decision.scores,
        "sizeBytes": len(data),
        "contentType": content_type,
        "inspectedAt": utc_timestamp(),
        "link": console_link(request.bucket, request.key, config.region),
    }
    LOGGER.info("image inspected: %s", json.dumps(result))
    return result
