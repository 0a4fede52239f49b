"""The S3 Batch Operations contract layer and the sentiment per-object function (S3 and Comprehend on moto)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from constructs_lib._internal.assets import LIBRARY_RUNTIME

sys.path.insert(0, str(LIBRARY_RUNTIME["s3_batch_contract"] / "python"))

import s3_batch_contract as contract
from s3_batch_contract import BatchContractError, BatchTask, PermanentFailure, TemporaryFailure

from lambda_src.s3_batch_sentiment import sentiment
from tests.conftest import load_event

REGION = "us-east-1"
BUCKET = "reviews-bucket"


def event_v1(*keys: str, version: str | None = None) -> dict[str, Any]:
    return {
        "invocationSchemaVersion": "1.0",
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "job": {"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"},
        "tasks": [
            {"taskId": f"t{i}", "s3Key": key, "s3VersionId": version, "s3BucketArn": f"arn:aws:s3:::{BUCKET}"}
            for i, key in enumerate(keys)
        ],
    }


def event_v2(*keys: str, arguments: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": "invocation-2",
        "job": {"id": "job-2", "userArguments": arguments or {}},
        "tasks": [
            {"taskId": f"t{i}", "s3Key": key, "s3VersionId": None, "s3Bucket": BUCKET} for i, key in enumerate(keys)
        ],
    }


def echo_task(task: BatchTask) -> dict[str, Any]:
    """A per-object function named by S3_BATCH_TASK_HANDLER in a test."""
    return {"bucket": task.bucket, "key": task.key, "version": task.version_id, "args": dict(task.user_arguments)}


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": f"{code} happened"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Operation",
    )


def decode_error() -> UnicodeDecodeError:
    try:
        b"\xff\xfe".decode("utf-8")
    except UnicodeDecodeError as error:
        return error
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------------------ the contract


def test_schema_1_names_the_bucket_by_arn_and_the_key_is_decoded() -> None:
    _, _, (task,) = contract.parse_tasks(event_v1("a+b%2Bc%C3%A9%2F.txt", version="v1"))
    assert task.bucket == BUCKET
    assert task.key == "a b+cé/.txt"
    assert task.version_id == "v1"
    assert task.get_object_args() == {"Bucket": BUCKET, "Key": "a b+cé/.txt", "VersionId": "v1"}
    assert task.user_arguments == {}


def test_takes_the_s3_user_guides_schema_1_request_as_it_is() -> None:
    """The S3 User Guide's "Example Request" (invocation schema 1.0) names the bucket by an ARN with a region and an
    account (``arn:aws:s3:us-east-1:0123456788:amzn-s3-demo-bucket1``), not the ``arn:aws:s3:::`` form.

    Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
    ("Example request and response")
    """
    event = load_event("s3_batch_invocation_schema_1.json")

    schema, invocation_id, (task,) = contract.parse_tasks(event)
    answer = contract.handle(event, None, echo_task)

    assert (schema, invocation_id) == ("1.0", "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo")
    assert (task.task_id, task.bucket, task.key, task.version_id) == (
        "dGFza2lkZ29lc2hlcmUK",
        "amzn-s3-demo-bucket1",
        "customerImage1.jpg",
        "1",
    )
    assert task.job_id == "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"
    assert answer["results"][0]["taskId"] == "dGFza2lkZ29lc2hlcmUK"
    assert answer["results"][0]["resultCode"] == "Succeeded"


@pytest.mark.parametrize(
    ("arn", "bucket"),
    [
        ("arn:aws:s3:::amzn-s3-demo-bucket1", "amzn-s3-demo-bucket1"),
        ("arn:aws:s3:us-east-1:0123456788:amzn-s3-demo-bucket1", "amzn-s3-demo-bucket1"),
        ("arn:aws:s3:us-east-1:123456789012:my.bucket-1", "my.bucket-1"),
        ("arn:aws-cn:s3:::cn-bucket", "cn-bucket"),
        ("arn:aws-us-gov:s3:us-gov-west-1:123456789012:gov-bucket", "gov-bucket"),
    ],
)
def test_schema_1_takes_the_bucket_arn_forms_aws_documents(arn: str, bucket: str) -> None:
    """The bucket ARN with an empty region and account (IAM's resource form) and with both (the S3 User Guide's
    Batch Operations request), in any partition.

    Sources: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html,
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html (``bucket`` resource)
    """
    event = load_event("s3_batch_invocation_schema_1.json")
    event["tasks"][0]["s3BucketArn"] = arn

    _, _, (task,) = contract.parse_tasks(event)

    assert task.bucket == bucket


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::amzn-s3-demo-bucket1/customerImage1.jpg",  # an object, not a bucket
        "arn:aws:s3:us-east-1:0123456788:accesspoint/ap",  # an access point
        "arn:aws:sqs:us-east-1:123456789012:queue",
        "arn:aws:s3:::",
        "arn:aws:s3:us-east-1:account:bucket",
        "arn:aws:s3:us-east-1:0123456788:bucket:extra",
        "arn:aws:s3:US_EAST_1:0123456788:bucket",
        "arn:aws:s3:::bad bucket!",
        "arn:s3:::bucket",
        "s3://amzn-s3-demo-bucket1",
    ],
)
def test_schema_1_still_refuses_what_is_not_a_bucket_arn(arn: str) -> None:
    """Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html"""
    event = load_event("s3_batch_invocation_schema_1.json")
    event["tasks"][0]["s3BucketArn"] = arn

    with pytest.raises(BatchContractError, match=r"tasks\[0\]"):
        contract.parse_tasks(event)


def test_schema_2_names_the_bucket_and_passes_user_arguments() -> None:
    _, _, (task,) = contract.parse_tasks(event_v2("docs/x%20y.txt", arguments={"languageCode": "de"}))
    assert (task.bucket, task.key, task.version_id) == (BUCKET, "docs/x y.txt", None)
    assert task.user_arguments == {"languageCode": "de"}
    assert task.get_object_args() == {"Bucket": BUCKET, "Key": "docs/x y.txt"}


@pytest.mark.parametrize("make_event", [event_v1, event_v2])
def test_the_answer_echoes_the_invocation_and_every_task(make_event: Any) -> None:
    event = make_event("a", "b")
    answer = contract.handle(event, None, echo_task)
    assert answer["invocationSchemaVersion"] == event["invocationSchemaVersion"]
    assert answer["invocationId"] == event["invocationId"]
    assert answer["treatMissingKeysAs"] == "PermanentFailure"
    assert [r["taskId"] for r in answer["results"]] == ["t0", "t1"]
    assert {r["resultCode"] for r in answer["results"]} == {"Succeeded"}
    assert '"key":"a"' in answer["results"][0]["resultString"]


@pytest.mark.parametrize(
    ("error", "code", "fragment"),
    [
        (client_error("ThrottlingException", 400), "TemporaryFailure", "ThrottlingException"),
        (client_error("TooManyRequestsException", 400), "TemporaryFailure", "TooManyRequests"),
        (client_error("SlowDown", 503), "TemporaryFailure", "SlowDown"),
        (client_error("SomethingNew", 502), "TemporaryFailure", "SomethingNew"),
        (ReadTimeoutError(endpoint_url="https://comprehend"), "TemporaryFailure", "ReadTimeoutError"),
        (TimeoutError("slow"), "TemporaryFailure", "TimeoutError"),
        (TemporaryFailure("busy"), "TemporaryFailure", "busy"),
        (client_error("NoSuchKey", 404), "PermanentFailure", "does not exist"),
        (client_error("AccessDenied", 403), "PermanentFailure", "may not make Operation here; grant it that action"),
        (client_error("TextSizeLimitExceededException", 400), "PermanentFailure", "TextSizeLimitExceeded"),
        (decode_error(), "PermanentFailure", "not UTF-8 text (invalid start byte at byte 0)"),
        (ValueError("bad content"), "PermanentFailure", "ValueError: bad content"),
        (PermanentFailure("refused"), "PermanentFailure", "refused"),
    ],
)
def test_errors_become_result_codes(error: BaseException, code: str, fragment: str) -> None:
    def fail(task: BatchTask) -> None:
        raise error

    (result,) = contract.handle(event_v2("k"), None, fail)["results"]
    assert result["resultCode"] == code
    assert fragment in result["resultString"]


def test_long_results_are_cut_to_the_limit() -> None:
    (result,) = contract.handle(event_v2("k"), None, lambda task: "x" * 5000)["results"]
    assert len(result["resultString"]) == contract.MAX_RESULT_STRING
    assert result["resultString"].endswith("...(truncated)")
    (nothing,) = contract.handle(event_v2("k"), None, lambda task: None)["results"]
    assert nothing["resultString"] == "Succeeded"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "expected an S3 Batch Operations invocation object, got list"),
        ({**event_v2("k"), "invocationSchemaVersion": "3.0"}, "must be '1.0' or '2.0', got '3.0'"),
        ({**event_v2("k"), "invocationId": ""}, "invocationId is missing"),
        ({**event_v2("k"), "job": {}}, "job.id is missing"),
        ({**event_v2("k"), "tasks": []}, "tasks must be a non-empty list"),
        ({**event_v2("k"), "tasks": ["k"]}, r"tasks\[0\] must be an object"),
        ({**event_v2("k"), "tasks": [{"taskId": "t", "s3Bucket": BUCKET}]}, r"tasks\[0\].s3Key is missing"),
        ({**event_v2("k"), "tasks": [{"s3Key": "k", "s3Bucket": BUCKET}]}, r"tasks\[0\].taskId is missing"),
        ({**event_v1("k"), "tasks": [{"taskId": "t", "s3Key": "k"}]}, "s3BucketArn is missing"),
        ({**event_v2("k"), "tasks": [{"taskId": "t", "s3Key": "k"}]}, "s3Bucket is missing"),
        ({**event_v2("k"), "job": {"id": "j", "userArguments": {"a": 1}}}, "userArguments must map strings"),
    ],
)
def test_rejects_what_is_not_an_invocation(event: Any, message: str) -> None:
    with pytest.raises(BatchContractError, match=message):
        contract.handle(event, None, echo_task)


def test_the_zero_code_handler_runs_the_function_named_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_BATCH_TASK_HANDLER", "tests.handler.test_s3_batch_handlers.echo_task")
    (result,) = contract.handler(event_v2("a%20b", arguments={"x": "y"}), None)["results"]
    assert result["resultCode"] == "Succeeded"
    assert '"args":{"x":"y"}' in result["resultString"]
    assert '"key":"a b"' in result["resultString"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "must name the per-object function as module.function"),
        ("tests.handler.test_s3_batch_handlers.nope", "has no function nope"),
    ],
)
def test_the_zero_code_handler_names_a_bad_setting(monkeypatch: pytest.MonkeyPatch, spec: str, message: str) -> None:
    monkeypatch.setenv("S3_BATCH_TASK_HANDLER", spec)
    with pytest.raises(BatchContractError, match=message):
        contract.handler(event_v2("k"), None)


def test_the_decorator_makes_a_lambda_handler() -> None:
    handler = contract.batch_handler(echo_task)
    assert handler.__name__ == "echo_task"
    (result,) = handler(event_v1("k"), None)["results"]
    assert result["resultCode"] == "Succeeded"


# ------------------------------------------------------------------------------------------ sentiment


def test_truncation_never_splits_a_character() -> None:
    text = "é" * 3000  # 6,000 bytes
    cut, truncated = sentiment.truncate_utf8(text)
    assert truncated
    assert cut == "é" * 2500
    odd, _ = sentiment.truncate_utf8(text, 4999)
    assert odd == "é" * 2499
    assert len(odd.encode()) == 4998
    emoji, _ = sentiment.truncate_utf8("a" + "😀" * 2000, 10)  # 4-byte characters
    assert emoji == "a😀😀"
    assert sentiment.truncate_utf8("short") == ("short", False)


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        sentiment._s3.cache_clear()
        sentiment._comprehend.cache_clear()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3
    sentiment._s3.cache_clear()
    sentiment._comprehend.cache_clear()


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def run(*keys: str, arguments: dict[str, str] | None = None) -> list[dict[str, str]]:
    results: list[dict[str, str]] = contract.handle(event_v2(*keys, arguments=arguments), None, sentiment.analyse)[
        "results"
    ]
    return results


def test_sentiment_of_a_text_object_with_tags_kept(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRITE_TAGS", "true")
    aws.put_object(Bucket=BUCKET, Key="r/a b.txt", Body=b"I love this product", Tagging="team=cx")
    (result,) = run("r/a+b.txt")
    assert result["resultCode"] == "Succeeded", result
    assert '"sentiment":' in result["resultString"]
    assert '"truncated":false' in result["resultString"]
    tags = {t["Key"]: t["Value"] for t in aws.get_object_tagging(Bucket=BUCKET, Key="r/a b.txt")["TagSet"]}
    assert tags["team"] == "cx"
    assert tags["sentiment"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}


def test_sentiment_results_object(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESULTS_BUCKET", BUCKET)
    aws.put_object(Bucket=BUCKET, Key="long.txt", Body=("ü" * 4000).encode())
    (result,) = run("long.txt")
    assert result["resultCode"] == "Succeeded"
    written = aws.get_object(Bucket=BUCKET, Key="sentiment/long.txt.json")["Body"].read()
    assert b'"truncated": true' in written


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "the object is empty"),
        (b"  \n", "the object is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    ],
)
def test_sentiment_refuses_what_is_not_text(aws: Any, body: bytes, fragment: str) -> None:
    aws.put_object(Bucket=BUCKET, Key="bad", Body=body)
    (result,) = run("bad")
    assert result["resultCode"] == "PermanentFailure"
    assert fragment in result["resultString"]


def test_sentiment_of_a_missing_object_is_a_permanent_failure(aws: Any) -> None:
    (result,) = run("gone.txt")
    assert result["resultCode"] == "PermanentFailure"
    assert "NoSuchKey" in result["resultString"]


def test_sentiment_refuses_an_unsupported_language(aws: Any) -> None:
    aws.put_object(Bucket=BUCKET, Key="t.txt", Body=b"hello")
    (result,) = run("t.txt", arguments={"languageCode": "tlh"})
    assert result["resultCode"] == "PermanentFailure"
    assert "languageCode 'tlh' is not one DetectSentiment supports" in result["resultString"]
