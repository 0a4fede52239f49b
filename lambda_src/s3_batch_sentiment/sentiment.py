"""Sentiment of one text object, for S3 Batch Operations (the per-object function of the example job).

The contract layer (``s3_batch_contract``) calls ``analyse`` once per object and turns what it returns, or
raises, into the task's result. The result string is the sentiment and its scores, as compact JSON; with
``WRITE_TAGS=true`` the object is tagged ``sentiment=<SENTIMENT>``, and with ``RESULTS_BUCKET`` set the whole
answer is written to ``<RESULTS_PREFIX><key>.json`` there.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from s3_batch_contract import BatchTask, PermanentFailure

COMPREHEND_MAX_BYTES = 5000
"""DetectSentiment accepts at most 5,000 bytes of UTF-8 text."""
LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "zh", "zh-TW"})
"""The languages DetectSentiment supports."""
SENTIMENT_TAG = "sentiment"
MAX_TEXT_OBJECT_BYTES = 10 * 1024 * 1024
"""Larger objects are refused rather than read into memory: only the first 5,000 bytes are analysed anyway."""


@cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3")


@cache
def _comprehend() -> Any:
    import boto3
    from botocore.config import Config

    # One attempt: a throttled call is a TemporaryFailure that S3 Batch Operations retries, with its own backoff.
    return boto3.client("comprehend", config=Config(retries={"total_max_attempts": 1}))


def truncate_utf8(text: str, limit: int = COMPREHEND_MAX_BYTES) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` UTF-8 bytes without splitting a character; and whether it was cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text, False
    return data[:limit].decode("utf-8", errors="ignore"), True


def language_of(task: BatchTask) -> str:
    language = task.user_arguments.get("languageCode") or os.environ.get("LANGUAGE_CODE", "en")
    if language not in LANGUAGES:
        raise PermanentFailure(
            f"languageCode {language!r} is not one DetectSentiment supports ({', '.join(sorted(LANGUAGES))})"
        )
    return language


def read_text(task: BatchTask) -> str:
    answer = _s3().get_object(**task.get_object_args())
    size = int(answer.get("ContentLength", 0))
    if size > MAX_TEXT_OBJECT_BYTES:
        raise PermanentFailure(f"the object is {size:,} bytes; text objects up to {MAX_TEXT_OBJECT_BYTES:,} are read")
    body: bytes = answer["Body"].read()
    if not body.strip():
        raise PermanentFailure("the object is empty: there is no text to analyse")
    # A UnicodeDecodeError becomes PermanentFailure "the object is not UTF-8 text (...)" in the contract layer.
    text = body.decode("utf-8").removeprefix("\ufeff")
    if not text.strip():
        raise PermanentFailure("the object holds only a byte order mark and white space: there is no text to analyse")
    return text


def analyse(task: BatchTask) -> dict[str, Any]:
    """Detect the sentiment of one text object."""
    language = language_of(task)
    text, truncated = truncate_utf8(read_text(task))
    answer = _comprehend().detect_sentiment(Text=text, LanguageCode=language)
    result: dict[str, Any] = {
        "sentiment": answer["Sentiment"],
        "scores": {name: round(float(score), 4) for name, score in answer["SentimentScore"].items()},
        "language": language,
        "truncated": truncated,
    }
    if os.environ.get("WRITE_TAGS", "false").lower() == "true":
        _tag(task, str(answer["Sentiment"]))
    results_bucket = os.environ.get("RESULTS_BUCKET")
    if results_bucket:
        _s3().put_object(
            Bucket=results_bucket,
            Key=f"{os.environ.get('RESULTS_PREFIX', 'sentiment/')}{task.key}.json",
            Body=json.dumps({"bucket": task.bucket, "key": task.key, "versionId": task.version_id, **result}),
            ContentType="application/json",
        )
    return result


def _tag(task: BatchTask, sentiment: str) -> None:
    """Add (or replace) the sentiment tag, keeping the object's other tags: PutObjectTagging replaces them all."""
    args = task.get_object_args()
    existing = _s3().get_object_tagging(**args).get("TagSet", [])
    tags = [tag for tag in existing if tag["Key"] != SENTIMENT_TAG]
    tags.append({"Key": SENTIMENT_TAG, "Value": sentiment})
    _s3().put_object_tagging(**args, Tagging={"TagSet": tags})
