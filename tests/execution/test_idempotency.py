"""The library's idempotent paths under duplicate deliveries (``Faults(duplicate_rate=1.0)``: every at-least-once
delivery made twice): each event's effect happens once."""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn

from constructs_lib import DefectDetectionPipeline, DefectEndpoint, Ingestion
from constructs_lib.testing import Faults, LocalKit, read_completion_report
from tests.execution.test_s3_batch_execution import Comprehend, sentiment_stack

pytestmark = pytest.mark.execution

EVERY_DELIVERY_TWICE = Faults(seed=17, duplicate_rate=1.0)
ENDPOINT = "pcb-classifier"
PNG = b"\x89PNG\r\n\x1a\n"


def endpoint(body: bytes, content_type: str) -> list[float]:
    return [0.1, 0.9] if b"defect" in body else [0.95, 0.05]


@pytest.mark.parametrize(
    "language", [sfn.QueryLanguage.JSON_PATH, sfn.QueryLanguage.JSONATA], ids=["jsonpath", "jsonata"]
)
def test_the_defect_detection_sqs_starter_starts_one_inspection_per_image(
    plain_app: cdk.App, language: sfn.QueryLanguage
) -> None:
    stack = cdk.Stack(plain_app, "Defects")
    DefectDetectionPipeline(
        stack,
        "Pipeline",
        endpoint=DefectEndpoint.from_endpoint_name(ENDPOINT),
        ingestion=Ingestion.SQS,
        key_prefix="incoming/",
        query_language=language,
    )
    images = {f"incoming/board-{i}.png": PNG + (b"defect" if i % 3 == 0 else b"clean") for i in range(4)}
    with LocalKit.from_stack(stack, endpoints={ENDPOINT: endpoint}, faults=EVERY_DELIVERY_TWICE) as kit:
        for key, body in images.items():
            kit.put_object("Pipeline/Images", key, body)
        notifications = kit.deliveries("Pipeline/Uploads")
        starter_runs = kit.invocations("Pipeline/Starter")
        runs = kit.executions("Pipeline/Workflow/StateMachine")
        alerts = kit.received("Pipeline/AlertsTopic")
        items = kit.items("Pipeline/Results")

    # S3 notified the queue twice per image, and the event source gave each message to the starter twice.
    assert Counter(d.duplicate for d in notifications) == {False: 4, True: 4}
    handled = Counter(
        urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        for run in starter_runs
        for message in run.event["Records"]
        for record in json.loads(message["body"]).get("Records", [])
    )
    assert handled == dict.fromkeys(images, 4)
    assert all(run.succeeded for run in starter_runs)
    assert all(not run.result["batchItemFailures"] for run in starter_runs)
    # ... and each image was inspected once, recorded once and alerted on once.
    assert sorted(run.input["key"] for run in runs) == sorted(images)
    assert [run.status for run in runs] == ["SUCCEEDED"] * 4
    assert sorted(item["imageKey"] for item in items) == sorted(images)
    assert sorted(alert["key"] for alert in alerts) == [f"incoming/board-{i}.png" for i in (0, 3)]


def test_s3_batch_tasks_run_twice_tag_once_and_report_once(plain_app: cdk.App) -> None:
    keys = [f"reviews/{i}.txt" for i in range(8)]
    comprehend = Comprehend()
    stack = sentiment_stack(plain_app, keys)
    with LocalKit.from_stack(
        stack, services={"comprehend:DetectSentiment": comprehend}, faults=EVERY_DELIVERY_TWICE
    ) as kit:
        for key in keys:
            kit.put_object("Documents", key, f"Great {key}")
        report = kit.run_batch_job()
        rows = read_completion_report(kit.client("s3"), str(report.report_bucket), report.report_keys[0])
        runs = kit.invocations("SentimentJob/Function")
        tags = {
            key: kit.client("s3").get_object_tagging(Bucket=kit.ref("Documents"), Key=key)["TagSet"] for key in keys
        }

    assert Counter(run.event["tasks"][0]["s3Key"] for run in runs) == dict.fromkeys(keys, 2)
    assert sorted(row.key for row in rows) == keys
    assert {row.task_status for row in rows} == {"succeeded"}
    assert tags == {key: [{"Key": "sentiment", "Value": "POSITIVE"}] for key in keys}
