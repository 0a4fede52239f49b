"""The defect-detection handlers: the inspection step (S3 on moto, a fake SageMaker runtime) and the SQS starter
(Step Functions on moto)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from constructs_lib.workloads.defect_detection.runtime import inspect_image, start_inspection

REGION = "us-east-1"
BUCKET = "boards"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 16
ROLE_ARN = "arn:aws:iam::123456789012:role/x"
ISO_UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class FakeRuntime:
    """A sagemaker-runtime client: answers ``payload`` or raises ``error``, and records its calls."""

    def __init__(self, payload: bytes = b"[0.1, 0.9]", error: Exception | None = None) -> None:
        self.payload = payload
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return {"Body": io.BytesIO(self.payload), "ContentType": "application/json"}


def client_error(code: str, status: int = 400, operation: str = "InvokeEndpoint") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": f"{code} happened"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "ENDPOINT_NAME": "defects",
        "CLASS_NAMES": '["defect_free","defective"]',
        "DEFECT_CLASS": "defective",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("DEFECT_THRESHOLD", "CONFIDENCE_FLOOR", "MAX_IMAGE_BYTES", "STATE_MACHINE_ARN"):
        monkeypatch.delenv(name, raising=False)
    inspect_image.reset()
    start_inspection.reset()
    yield
    inspect_image.reset()
    start_inspection.reset()


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    fake = FakeRuntime()
    monkeypatch.setattr(inspect_image, "sagemaker_client", lambda: fake)
    return fake


def inspect(key: str = "board.png", **extra: Any) -> dict[str, Any]:
    return inspect_image.handler({"bucket": BUCKET, "key": key, **extra}, None)


# --- inspect_image: decisions ------------------------------------------------------------------------------------


def test_defective_image(s3: Any, runtime: FakeRuntime) -> None:
    s3.put_object(Bucket=BUCKET, Key="line 1/board (1).png", Body=PNG)
    result = inspect("line 1/board (1).png")
    assert result == {
        "bucket": BUCKET,
        "key": "line 1/board (1).png",
        "versionId": None,
        "decision": "DEFECTIVE",
        "defectScore": 0.9,
        "defectScoreText": "0.9",
        "topClass": "defective",
        "topScore": 0.9,
        "scores": {"defect_free": 0.1, "defective": 0.9},
        "sizeBytes": len(PNG),
        "contentType": "image/png",
        "inspectedAt": result["inspectedAt"],
        "link": "https://s3.console.aws.amazon.com/s3/object/boards?region=us-east-1&prefix=line%201/board%20%281%29.png",
    }
    assert ISO_UTC_MS.match(result["inspectedAt"])
    assert json.loads(json.dumps(result)) == result
    assert runtime.calls == [
        {"EndpointName": "defects", "ContentType": "application/x-image", "Accept": "application/json", "Body": PNG}
    ]


def test_defect_free_image(s3: Any, runtime: FakeRuntime) -> None:
    runtime.payload = b"[0.8765432109, 0.1234567891]"
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    result = inspect()
    assert (result["decision"], result["topClass"]) == ("DEFECT_FREE", "defect_free")
    assert result["defectScoreText"] == "0.123457"


def test_score_at_the_threshold_is_defective(s3: Any, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFECT_THRESHOLD", "0.3")
    runtime.payload = b"[0.7, 0.3]"
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    assert inspect()["decision"] == "DEFECTIVE"


def test_below_the_confidence_floor_is_reviewed(s3: Any, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLASS_NAMES", '["defect_free","scratch","defective"]')
    monkeypatch.setenv("CONFIDENCE_FLOOR", "0.6")
    runtime.payload = b"[0.3, 0.2, 0.5]"
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    result = inspect()
    assert result["decision"] == "REVIEW"
    assert (result["topClass"], result["topScore"], result["defectScore"]) == ("defective", 0.5, 0.5)


def test_versioned_object_is_read_at_its_version(s3: Any, runtime: FakeRuntime) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=b"%PDF-1.7 not an image")
    result = inspect(versionId=first)
    assert (result["versionId"], result["contentType"]) == (first, "image/png")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"BM\x36\x00\x00\x00", "image/bmp"),
        (b"II*\x00\x08\x00", "image/tiff"),
        (b"MM\x00*\x00\x08", "image/tiff"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_image_type(data: bytes, content_type: str | None) -> None:
    assert inspect_image.sniff_image_type(data) == content_type


# --- inspect_image: typed errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("board.png", "expected a JSON object, got str"),
        ({"key": "board.png"}, "bucket must be a non-empty string"),
        ({"bucket": "", "key": "board.png"}, "bucket must be a non-empty string"),
        ({"bucket": BUCKET}, "key must be a non-empty string"),
        ({"bucket": BUCKET, "key": 7}, "key must be a non-empty string, got 7"),
        ({"bucket": BUCKET, "key": "board.png", "versionId": 3}, "versionId must be a non-empty string"),
    ],
)
def test_invalid_request(event: Any, expected: str, runtime: FakeRuntime) -> None:
    with pytest.raises(inspect_image.InvalidRequestError) as error:
        inspect_image.handler(event, None)
    assert expected in str(error.value)
    assert runtime.calls == []


def test_missing_object_is_not_found(s3: Any, runtime: FakeRuntime) -> None:
    with pytest.raises(inspect_image.ImageNotFoundError, match=re.escape("s3://boards/gone.png does not exist")):
        inspect("gone.png")
    assert runtime.calls == []


def test_access_denied(monkeypatch: pytest.MonkeyPatch, runtime: FakeRuntime) -> None:
    class DeniedS3:
        def head_object(self, **kwargs: Any) -> dict[str, Any]:
            raise client_error("403", 403, "HeadObject")

    monkeypatch.setattr(inspect_image, "s3_client", DeniedS3)
    with pytest.raises(
        inspect_image.ImageAccessDeniedError, match=re.escape("access to s3://boards/board.png is denied")
    ):
        inspect()


def test_other_s3_errors_are_not_disguised(monkeypatch: pytest.MonkeyPatch, runtime: FakeRuntime) -> None:
    class SlowS3:
        def head_object(self, **kwargs: Any) -> dict[str, Any]:
            raise client_error("SlowDown", 503, "HeadObject")

    monkeypatch.setattr(inspect_image, "s3_client", SlowS3)
    with pytest.raises(ClientError, match="SlowDown"):
        inspect()


def test_empty_object(s3: Any, runtime: FakeRuntime) -> None:
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=b"")
    with pytest.raises(inspect_image.EmptyImageError, match="is empty"):
        inspect()
    assert runtime.calls == []


def test_too_large_object(s3: Any, runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_IMAGE_BYTES", "16")
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    with pytest.raises(inspect_image.ImageTooLargeError) as error:
        inspect()
    assert f"is {len(PNG)} bytes, above the limit of 16 bytes" in str(error.value)
    assert runtime.calls == []


def test_default_size_limit_is_six_megabytes() -> None:
    assert inspect_image.settings().max_image_bytes == 6291456


def test_not_an_image(s3: Any, runtime: FakeRuntime) -> None:
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=b"%PDF-1.7\n...")
    with pytest.raises(inspect_image.NotAnImageError, match=re.escape("starts with b'%PDF-1.7'")):
        inspect()
    assert runtime.calls == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ThrottlingException"), inspect_image.EndpointThrottledError),
        (client_error("ServiceUnavailable", 503), inspect_image.EndpointThrottledError),
        (client_error("InternalFailure", 500), inspect_image.EndpointThrottledError),
        (client_error("SomethingNew", 429), inspect_image.EndpointThrottledError),
        (client_error("ModelError", 424), inspect_image.EndpointModelError),
        (client_error("ValidationError", 400), inspect_image.EndpointError),
    ],
)
def test_endpoint_errors(s3: Any, runtime: FakeRuntime, error: ClientError, expected: type[Exception]) -> None:
    runtime.error = error
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    with pytest.raises(expected, match="endpoint defects") as raised:
        inspect()
    assert type(raised.value) is expected  # the class name is what the workflow's Retry/Catch match


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'{"defective": 0.9}', "not a list of scores, got dict"),
        (b"[0.9]", "has 1 classes, expected 2"),
        (b"[0.1, 0.2, 0.7]", "has 3 classes, expected 2"),
        (b"[0.1, 1.5]", "out of range 0..1, got 1.5"),
        (b"[-0.1, 0.5]", "out of range 0..1, got -0.1"),
        (b"[0.1, NaN]", "out of range 0..1"),
        (b"[true, false]", "not a number, got True"),
        (b'[0.1, "0.9"]', "not a number, got '0.9'"),
    ],
)
def test_bad_endpoint_responses(s3: Any, runtime: FakeRuntime, payload: bytes, expected: str) -> None:
    runtime.payload = payload
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    with pytest.raises(inspect_image.EndpointResponseError) as error:
        inspect()
    assert expected in str(error.value)


def test_integer_scores_are_accepted() -> None:
    assert inspect_image.parse_scores(b"[0, 1]", ["defect_free", "defective"]) == [0.0, 1.0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ENDPOINT_NAME", "", "ENDPOINT_NAME must be set"),
        ("CLASS_NAMES", "defect_free,defective", "CLASS_NAMES must be a JSON list"),
        ("CLASS_NAMES", "[]", "non-empty JSON list"),
        ("CLASS_NAMES", '["a", 2]', "non-empty JSON list of non-empty strings"),
        ("CLASS_NAMES", '["defective", "defective"]', "must not repeat"),
        ("DEFECT_CLASS", "scratch", "DEFECT_CLASS must be one of CLASS_NAMES"),
        ("DEFECT_THRESHOLD", "high", "DEFECT_THRESHOLD must be a number between 0 and 1, got 'high'"),
        ("DEFECT_THRESHOLD", "1.5", "DEFECT_THRESHOLD must be a number between 0 and 1"),
        ("CONFIDENCE_FLOOR", "-0.1", "CONFIDENCE_FLOOR must be a number between 0 and 1"),
        ("CONFIDENCE_FLOOR", "nan", "CONFIDENCE_FLOOR must be a number between 0 and 1"),
        ("MAX_IMAGE_BYTES", "6MB", "MAX_IMAGE_BYTES must be a positive integer"),
        ("MAX_IMAGE_BYTES", "0", "MAX_IMAGE_BYTES must be a positive integer"),
    ],
)
def test_settings_errors(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(inspect_image.ConfigurationError) as error:
        inspect_image.handler({"bucket": BUCKET, "key": "board.png"}, None)
    assert expected in str(error.value)
    assert isinstance(error.value, ValueError)


def test_settings_are_cached_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert inspect_image.settings().endpoint_name == "defects"
    monkeypatch.setenv("ENDPOINT_NAME", "other")
    assert inspect_image.settings().endpoint_name == "defects"
    inspect_image.reset()
    assert inspect_image.settings().endpoint_name == "other"


def test_decide_is_pure() -> None:
    config = inspect_image.Settings(
        endpoint_name="e",
        class_names=("ok", "bad"),
        defect_class="bad",
        defect_threshold=0.5,
        confidence_floor=0.0,
        max_image_bytes=10,
        region=REGION,
    )
    decision = inspect_image.decide([0.5, 0.5], config)
    assert (decision.decision, decision.top_class, decision.defect_score) == ("DEFECTIVE", "ok", 0.5)
    assert inspect_image.decide([0.51, 0.49], config).decision == "DEFECT_FREE"


# --- start_inspection --------------------------------------------------------------------------------------------


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("stepfunctions", region_name=REGION)
        definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
        arn = client.create_state_machine(name="inspect", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        yield client, arn


def notification(
    key: str, event_name: str = "ObjectCreated:Put", version_id: str | None = None, sequencer: str = "0065A1"
) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": key, "size": 1024, "eTag": "abc", "sequencer": sequencer}
    if version_id is not None:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventName": event_name,
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET}, "object": obj},
            }
        ]
    }


def sqs_event(*bodies: tuple[str, str]) -> dict[str, Any]:
    return {
        "Records": [{"messageId": message_id, "body": body, "eventSource": "aws:sqs"} for message_id, body in bodies]
    }


def executions(client: Any, arn: str) -> list[dict[str, Any]]:
    listed = client.list_executions(stateMachineArn=arn)["executions"]
    return [json.loads(client.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed]


def test_created_object_starts_an_execution(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    result = start_inspection.handler(sqs_event(("m-1", json.dumps(notification("board.png", version_id="v1")))), None)
    assert result == {"batchItemFailures": []}
    assert executions(client, arn) == [{"bucket": BUCKET, "key": "board.png", "versionId": "v1", "size": 1024}]
    (listed,) = client.list_executions(stateMachineArn=arn)["executions"]
    expected = start_inspection.S3Object(BUCKET, "board.png", "v1", 1024, "0065A1")
    assert listed["name"] == start_inspection.execution_name(expected)


def test_unversioned_object_has_no_version_in_the_input(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    start_inspection.handler(sqs_event(("m-1", json.dumps(notification("board.png")))), None)
    assert executions(client, arn) == [{"bucket": BUCKET, "key": "board.png", "size": 1024}]


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("my+board+%281%29.png", "my board (1).png"),
        ("caf%C3%A9%2Fboard.png", "café/board.png"),
        ("a%2Bb.png", "a+b.png"),
    ],
)
def test_keys_are_url_decoded(sfn: tuple[Any, str], raw: str, decoded: str) -> None:
    client, arn = sfn
    assert start_inspection.s3_objects(json.dumps(notification(raw)))[0].key == decoded
    assert start_inspection.handler(sqs_event(("m-1", json.dumps(notification(raw)))), None)["batchItemFailures"] == []
    assert [e["key"] for e in executions(client, arn)] == [decoded]


def test_test_event_is_skipped(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    body = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-05-01T12:00:00.000Z", "Bucket": BUCKET}
    assert start_inspection.s3_objects(body) == []
    assert start_inspection.handler(sqs_event(("m-test", json.dumps(body))), None) == {"batchItemFailures": []}
    assert executions(client, arn) == []


def test_other_events_are_skipped(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    body = json.dumps(notification("board.png", event_name="ObjectRemoved:Delete"))
    assert start_inspection.handler(sqs_event(("m-1", body)), None) == {"batchItemFailures": []}
    assert executions(client, arn) == []


def test_duplicate_delivery_is_idempotent(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    event = sqs_event(("m-1", json.dumps(notification("board.png"))))
    assert start_inspection.handler(event, None) == {"batchItemFailures": []}
    (first,) = client.list_executions(stateMachineArn=arn)["executions"]
    # Once the first execution has ended, Step Functions refuses the name: ExecutionAlreadyExists.
    client.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        client.start_execution(stateMachineArn=arn, name=first["name"], input="{}")
    assert start_inspection.handler(event, None) == {"batchItemFailures": []}
    assert len(client.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_execution_already_exists_is_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:inspect")
    calls: list[dict[str, Any]] = []

    class DuplicateStepFunctions:
        def start_execution(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            raise client_error("ExecutionAlreadyExists", 400, "StartExecution")

    monkeypatch.setattr(start_inspection, "stepfunctions_client", DuplicateStepFunctions)
    result = start_inspection.handler(sqs_event(("m-1", json.dumps(notification("board.png")))), None)
    assert result == {"batchItemFailures": []}
    assert len(calls) == 1


def test_malformed_bodies_fail_alone(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    event = sqs_event(
        ("m-bad-json", "not json {"),
        ("m-no-records", json.dumps({"hello": "world"})),
        ("m-bad-record", json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {}}]})),
        ("m-good", json.dumps(notification("good.png"))),
    )
    result = start_inspection.handler(event, None)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "m-bad-json"},
            {"itemIdentifier": "m-no-records"},
            {"itemIdentifier": "m-bad-record"},
        ]
    }
    assert [e["key"] for e in executions(client, arn)] == ["good.png"]


def test_other_client_errors_fail_the_message(sfn: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client, arn = sfn
    monkeypatch.setenv("STATE_MACHINE_ARN", arn + "-missing")
    result = start_inspection.handler(sqs_event(("m-1", json.dumps(notification("board.png")))), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert executions(client, arn) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "a JSON object, got list"),
        ({"Records": "x"}, "no Records list"),
        ({"Records": ["x"]}, "Records[0] is not an object"),
        ({"Records": [{"s3": {}}]}, "eventName must be a string"),
        ({"Records": [{"eventName": "ObjectCreated:Put", "s3": {}}]}, "no s3.bucket and s3.object"),
    ],
)
def test_invalid_notifications(body: object, expected: str) -> None:
    with pytest.raises(start_inspection.InvalidNotificationError) as error:
        start_inspection.s3_objects(body)
    assert expected in str(error.value)


def test_execution_names_are_deterministic_and_distinct() -> None:
    obj = start_inspection.S3Object(BUCKET, "board.png", None, 1, "01")
    name = start_inspection.execution_name(obj)
    assert re.fullmatch(r"[0-9a-f]{64}", name)
    assert name == start_inspection.execution_name(start_inspection.S3Object(BUCKET, "board.png", None, 1, "01"))
    assert name != start_inspection.execution_name(start_inspection.S3Object(BUCKET, "board.png", None, 1, "02"))
    assert name != start_inspection.execution_name(start_inspection.S3Object(BUCKET, "board.png", "v2", 1, "01"))


def test_missing_state_machine_arn() -> None:
    with pytest.raises(start_inspection.ConfigurationError, match="STATE_MACHINE_ARN must be set"):
        start_inspection.handler(sqs_event(("m-1", json.dumps(notification("board.png")))), None)
