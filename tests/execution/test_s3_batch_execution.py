"""S3 Batch Operations jobs of synthesized stacks, run by the local kit: the real contract layer and sentiment
function, S3 on moto, Amazon Comprehend as a test stand-in, the completion report read back from the bucket."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from constructs_lib.defaults import secure_bucket
from constructs_lib.testing import LocalKit, ServiceError, read_completion_report
from constructs_lib.workloads.s3_batch.s3_batch_lambda_job import BatchManifest, InvocationSchema, S3BatchLambdaJob
from stacks._code import example_code
from stacks.s3_batch_sentiment_stack import S3BatchSentimentStack

pytestmark = pytest.mark.execution

ENV = cdk.Environment(account="123456789012", region="us-east-1")
POSITIVE = {
    "Sentiment": "POSITIVE",
    "SentimentScore": {"Positive": 0.97, "Negative": 0.01, "Neutral": 0.01, "Mixed": 0.01},
}


class Comprehend:
    """DetectSentiment stand-in: texts starting with ``THROTTLE`` are throttled on their first call."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        text = str(request["Text"])
        self.calls[text] += 1
        if text.startswith("THROTTLE") and self.calls[text] == 1:
            raise ServiceError("ThrottlingException", "Rate exceeded")
        return POSITIVE


def sentiment_function() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14, handler="sentiment.analyse", code=example_code("s3_batch_sentiment")
    )


def may_detect_sentiment(job: S3BatchLambdaJob) -> S3BatchLambdaJob:
    """The grant the sentiment function needs (the example stack gives it too): the kit enforces IAM."""
    job.function.add_to_role_policy(iam.PolicyStatement(actions=["comprehend:DetectSentiment"], resources=["*"]))
    return job


def mixed_keys(count: int) -> list[str]:
    shapes = [
        "plain {i}.txt",
        "with space {i}.txt",
        "plus+sign+{i}.txt",
        "ünïcödé/日本語-{i}.txt",
        "pct%20{i} & more.txt",
    ]
    return [f"reviews/{shapes[i % len(shapes)].format(i=i)}" for i in range(count)]


def sentiment_stack(app: cdk.App, keys: Sequence[str] | None = None) -> S3BatchSentimentStack:
    return S3BatchSentimentStack(app, "Sentiment", manifest_keys=keys, env=ENV)


def test_200_objects_with_mixed_keys_missing_and_throttled_are_all_accounted_for(plain_app: cdk.App) -> None:
    keys = mixed_keys(200)
    missing = set(keys[5::20])  # 10 keys never uploaded
    throttled = set(keys[7::20])  # 10 objects throttled once
    binary = keys[9]
    stack = sentiment_stack(plain_app, keys)
    comprehend = Comprehend()
    with LocalKit.from_stack(stack, services={"comprehend:DetectSentiment": comprehend}) as kit:
        for key in keys:
            if key in missing:
                continue
            body = b"\xff\xfe\x00binary" if key == binary else f"{'THROTTLE' if key in throttled else 'Great'} {key}"
            kit.put_object("Documents", key, body)
        report = kit.run_batch_job()
        rows = read_completion_report(kit.client("s3"), str(report.report_bucket), report.report_keys[0])
        manifest = json.loads(kit.objects("SentimentJob/Reports")[report.report_keys[0]])
        invocations = kit.invocations("SentimentJob/Function")
        tags = kit.client("s3").get_object_tagging(Bucket=kit.ref("Documents"), Key=keys[1])["TagSet"]

    assert report.status == "Complete"
    assert len(report.tasks) == 200
    assert {row.key for row in rows} == set(keys)  # every object in the report, keys decoded back exactly
    assert len(rows) == 200
    failed = {row.key: row for row in rows if row.task_status == "failed"}
    assert set(failed) == missing | {binary}
    assert {failed[k].error_code for k in missing} == {"PermanentFailure"}
    assert all("NoSuchKey" in failed[k].result_message for k in missing)
    assert "not UTF-8 text" in failed[binary].result_message
    succeeded = [row for row in rows if row.task_status == "succeeded"]
    assert len(succeeded) == 189
    assert all(json.loads(row.result_message)["sentiment"] == "POSITIVE" for row in succeeded)
    assert {task.key: task.attempts for task in report.tasks if task.attempts > 1} == dict.fromkeys(throttled, 2)
    # No object is processed twice after success: one invocation each, two for the throttled ones.
    per_key = Counter(invocation.event["tasks"][0]["s3Key"] for invocation in invocations)
    assert sum(per_key.values()) == 210
    assert max(comprehend.calls.values()) == 2
    assert sum(comprehend.calls.values()) == 189 + 10
    assert tags == [{"Key": "sentiment", "Value": "POSITIVE"}]
    assert manifest["Format"] == "Report_CSV_20180820"
    assert [r["TaskExecutionStatus"] for r in manifest["Results"]] == ["succeeded", "failed"]
    assert report.report_keys[0].startswith(f"batch-reports/job-{report.job_id}/")


def test_the_event_has_the_exact_schema_and_url_encoded_keys(plain_app: cdk.App) -> None:
    keys = ["a b+c.txt", "ü.txt"]
    with LocalKit.from_stack(
        sentiment_stack(plain_app, keys), services={"comprehend:DetectSentiment": Comprehend()}
    ) as kit:
        for key in keys:
            kit.put_object("Documents", key, "fine")
        kit.run_batch_job()
        events = [invocation.event for invocation in kit.invocations("SentimentJob/Function")]
        bucket = kit.ref("Documents")
    first = events[0]
    assert set(first) == {"invocationSchemaVersion", "invocationId", "job", "tasks"}
    assert first["invocationSchemaVersion"] == "2.0"
    assert first["job"]["userArguments"] == {"languageCode": "en"}
    assert first["tasks"][0] == {
        "taskId": first["tasks"][0]["taskId"],
        "s3Key": "a+b%2Bc.txt",
        "s3VersionId": None,
        "s3Bucket": bucket,
    }
    assert events[1]["tasks"][0]["s3Key"] == "%C3%BC.txt"


def test_schema_1_sends_the_bucket_arn_and_no_user_arguments(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "V1", env=ENV)
    source = secure_bucket(stack, "Docs")
    may_detect_sentiment(
        S3BatchLambdaJob(
            stack,
            "Job",
            manifest=BatchManifest.from_keys(source, ["x.txt"]),
            invocation_schema=InvocationSchema.V1,
            function_props=sentiment_function(),
        )
    )
    with LocalKit.from_stack(stack, services={"comprehend:DetectSentiment": Comprehend()}) as kit:
        kit.put_object("Docs", "x.txt", "ok")
        report = kit.run_batch_job()
        (invocation,) = kit.invocations("Job/Function")
        bucket = kit.ref("Docs")
    assert report.succeeded
    assert not report.failed
    assert invocation.event["invocationSchemaVersion"] == "1.0"
    assert invocation.event["job"] == {"id": report.job_id}
    assert invocation.event["tasks"][0]["s3BucketArn"] == f"arn:aws:s3:::{bucket}"
    assert invocation.payload["invocationSchemaVersion"] == "1.0"


def test_the_example_runs_over_the_prefix_with_the_manifest_generator(plain_app: cdk.App) -> None:
    with LocalKit.from_stack(sentiment_stack(plain_app), services={"comprehend:DetectSentiment": Comprehend()}) as kit:
        for key in ("reviews/1.txt", "reviews/2.txt", "other/3.txt"):
            kit.put_object("Documents", key, "lovely")
        report = kit.run_batch_job()
        generated = [key for key in kit.objects("SentimentJob/Reports") if key.startswith("generated-manifests/")]
    assert sorted(task.key for task in report.succeeded) == ["reviews/1.txt", "reviews/2.txt"]
    assert len(generated) == 1


def test_a_job_created_at_deploy_time_is_run_once(plain_app: cdk.App) -> None:
    plain_app.node.set_context("createSentimentJob", "true")
    with LocalKit.from_stack(
        sentiment_stack(plain_app, ["k.txt"]), services={"comprehend:DetectSentiment": Comprehend()}
    ) as kit:
        kit.put_object("Documents", "k.txt", "nice")
        report = kit.run_batch_job()  # one job: the CreateJob custom resource, not also the output
        assert kit.resources.batch_jobs  # made by the custom resource at stand-up
        (spec,) = kit.resources.batch_jobs.values()
    assert report.job_id == spec["JobId"]
    assert spec["ClientRequestToken"].startswith("cdk-")
    assert [task.key for task in report.succeeded] == ["k.txt"]


# ------------------------------------------------------------------------------------------ bad input


def csv_job_stack(app: cdk.App, *, etag: str, with_version_ids: bool = False) -> cdk.Stack:
    stack = cdk.Stack(app, "FromCsv", env=ENV)
    manifests = secure_bucket(stack, "Manifests")
    source = secure_bucket(stack, "Docs")
    may_detect_sentiment(
        S3BatchLambdaJob(
            stack,
            "Job",
            manifest=BatchManifest.from_csv(
                manifests, "manifest.csv", source_buckets=[source], with_version_ids=with_version_ids, etag=etag
            ),
            function_props=sentiment_function(),
        )
    )
    return stack


def run_csv_job(app: cdk.App, csv_text: str, *, etag: str | None = None, with_version_ids: bool = False) -> Any:
    body = csv_text.encode()
    stack = csv_job_stack(app, etag=etag or hashlib.md5(body).hexdigest(), with_version_ids=with_version_ids)
    with LocalKit.from_stack(stack, services={"comprehend:DetectSentiment": Comprehend()}) as kit:
        kit.put_object("Manifests", "manifest.csv", body)
        report = kit.run_batch_job()
        invoked = kit.invocations("Job/Function")
    return report, invoked


def test_a_manifest_mixing_rows_with_and_without_version_ids_fails_the_job(plain_app: cdk.App) -> None:
    report, invoked = run_csv_job(plain_app, "docs,a.txt,v1\ndocs,b.txt\n", with_version_ids=True)
    assert report.status == "Failed"
    assert "row 2 has 2 fields" in report.failure_reasons[0]
    assert "every row must have the same fields" in report.failure_reasons[0]
    assert invoked == []


def test_an_empty_manifest_fails_the_job(plain_app: cdk.App) -> None:
    report, invoked = run_csv_job(plain_app, "\n")
    assert report.status == "Failed"
    assert "the manifest is empty" in report.failure_reasons[0]
    assert invoked == []


def test_a_manifest_changed_after_the_job_was_defined_fails_the_job(plain_app: cdk.App) -> None:
    report, _ = run_csv_job(plain_app, "docs,a.txt\n", etag="0" * 32)
    assert report.status == "Failed"
    assert "ETag does not match" in report.failure_reasons[0]


def test_a_job_whose_role_cannot_read_the_manifest_fails_with_the_reason(plain_app: cdk.App) -> None:
    from constructs_lib.testing import SynthesizedStack

    stack = sentiment_stack(plain_app, ["k.txt"])
    synthesized = SynthesizedStack.from_stack(stack)
    # The role as someone would have made it by hand: allowed to invoke and to write reports, not to read.
    for resource in synthesized.template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and "JobJobRole" in json.dumps(resource["Properties"]["Roles"]):
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if "s3:GetObject" not in json.dumps(s["Action"])]
    with LocalKit(synthesized, services={"comprehend:DetectSentiment": Comprehend()}) as kit:
        kit.put_object("Documents", "k.txt", "text")
        report = kit.run_batch_job()
        invoked = kit.invocations("SentimentJob/Function")
    assert report.status == "Failed"
    assert report.failure_reasons[0].startswith("Reading the manifest is forbidden: AccessDenied")
    assert "needs s3:GetObject on arn:aws:s3:::" in report.failure_reasons[0]
    assert invoked == []
    assert report.report_keys == []


def inventory_stack(app: cdk.App, etag: str) -> cdk.Stack:
    stack = cdk.Stack(app, "FromInventory", env=ENV)
    inventory = secure_bucket(stack, "Inventory")
    source = secure_bucket(stack, "Docs")
    may_detect_sentiment(
        S3BatchLambdaJob(
            stack,
            "Job",
            manifest=BatchManifest.from_inventory(
                inventory, "docs/daily/2026-11-22T01-00Z/manifest.json", source_buckets=[source], etag=etag
            ),
            function_props=sentiment_function(),
        )
    )
    return stack


def test_an_inventory_report_with_its_data_files_in_the_sibling_folder(plain_app: cdk.App) -> None:
    import gzip

    # The S3 Inventory layout: <config>/<date>/manifest.json lists gzipped CSVs under <config>/data/.
    body = json.dumps(
        {
            "sourceBucket": "docs",
            "destinationBucket": "arn:aws:s3:::inventory",
            "fileFormat": "CSV",
            "fileSchema": "Bucket, Key, Size, LastModifiedDate",
            "files": [{"key": "docs/daily/data/part-1.csv.gz", "size": 1, "MD5checksum": "x"}],
        }
    ).encode()
    stack = inventory_stack(plain_app, etag=hashlib.md5(body).hexdigest())
    with LocalKit.from_stack(stack, services={"comprehend:DetectSentiment": Comprehend()}) as kit:
        docs = kit.ref("Docs")
        rows = (
            f'"{docs}","a+b.txt","5","2026-11-22T00:00:00.000Z"\n"{docs}","c%2Bd.txt","5","2026-11-22T00:00:00.000Z"\n'
        )
        kit.put_object("Inventory", "docs/daily/data/part-1.csv.gz", gzip.compress(rows.encode()))
        kit.put_object("Inventory", "docs/daily/2026-11-22T01-00Z/manifest.json", body)
        kit.put_object("Docs", "a b.txt", "good")
        kit.put_object("Docs", "c+d.txt", "good")
        report = kit.run_batch_job()
    assert report.status == "Complete", report.failure_reasons
    assert sorted(task.key for task in report.succeeded) == ["a b.txt", "c+d.txt"]


def test_the_kit_refuses_a_job_create_job_would_refuse() -> None:
    from constructs_lib.testing._engine.batch_jobs import create_job_problems

    problems = create_job_problems(
        {
            "AccountId": "123456789012",
            "Operation": {"LambdaInvoke": {"FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}},
            "Report": {"Enabled": True, "Format": "Report_CSV_20180820", "ReportScope": "SomeTasks"},
            "ManifestGenerator": {
                "S3JobManifestGenerator": {
                    "SourceBucket": "arn:aws:s3:::b",
                    "EnableManifestOutput": True,
                    "ManifestOutputLocation": {
                        "Bucket": "arn:aws:s3:::r",
                        "ManifestFormat": "S3BatchOperations_CSV_20180820",
                    },
                }
            },
        }
    )
    text = "\n".join(problems)
    assert 'Missing required parameter in input: "RoleArn"' in text
    assert "ReportScope must be one of AllTasks, FailedTasksOnly, got 'SomeTasks'" in text
    assert "ManifestFormat must be one of S3InventoryReport_CSV_20211130" in text
