"""S3 Batch Operations jobs that invoke a Lambda function: the result codes and the completion report."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from constructs_lib.defaults import secure_bucket
from constructs_lib.testing import LocalKit, read_completion_report
from constructs_lib.workloads.s3_batch.s3_batch_lambda_job import BatchManifest, S3BatchLambdaJob
from tests.conformance.kit_stacks import RUNTIME

pytestmark = pytest.mark.execution

ENV = cdk.Environment(account="123456789012", region="us-east-1")

BY_KEY = """
from urllib.parse import unquote_plus

def handler(event, context):
    task = event["tasks"][0]
    code = unquote_plus(task["s3Key"]).split(".")[0]
    answer = {"invocationSchemaVersion": event["invocationSchemaVersion"], "invocationId": event["invocationId"]}
    if code == "Missing":
        return {**answer, "results": []}
    return {**answer, "results": [{"taskId": task["taskId"], "resultCode": code, "resultString": f"said {code}"}]}
"""


def job_stack(app: cdk.App, keys: list[str]) -> cdk.Stack:
    stack = cdk.Stack(app, "Batch", env=ENV)
    source = secure_bucket(stack, "Docs")
    # A function that answers the contract itself (no contract layer), so that the test decides the answer.
    function = lambda_.Function(
        stack, "Answers", runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(BY_KEY)
    )
    S3BatchLambdaJob(stack, "Job", manifest=BatchManifest.from_keys(source, keys), function=function)
    return stack


def test_result_codes_decide_retries_and_the_report(plain_app: cdk.App) -> None:
    """S3 Batch: Succeeded and PermanentFailure are final, TemporaryFailure is invoked again; the report lists each.

    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
    Kit: a TemporaryFailure task is invoked again up to max_attempts (3) times; the completion report has a row
        per task with its status, error code and result string.
    Divergence: the docs do not say how often S3 retries a TemporaryFailure; the kit's max_attempts sets it.
    """
    keys = ["Succeeded.txt", "TemporaryFailure.txt", "PermanentFailure.txt"]
    with LocalKit.from_stack(job_stack(plain_app, keys)) as kit:
        for key in keys:
            kit.put_object("Docs", key, "text")
        report = kit.run_batch_job()
        rows = read_completion_report(kit.client("s3"), str(report.report_bucket), report.report_keys[0])

    tasks = {task.key: task for task in report.tasks}
    assert {key: (tasks[key].error_code, tasks[key].attempts) for key in keys} == {
        "Succeeded.txt": ("", 1),
        "TemporaryFailure.txt": ("TemporaryFailure", 3),
        "PermanentFailure.txt": ("PermanentFailure", 1),
    }
    by_key = {row.key: row for row in rows}
    assert by_key["Succeeded.txt"].task_status == "succeeded"
    assert by_key["Succeeded.txt"].result_message == "said Succeeded"
    assert by_key["PermanentFailure.txt"].task_status == "failed"
    assert by_key["PermanentFailure.txt"].error_code == "PermanentFailure"


def test_a_task_missing_from_the_answer_is_a_temporary_failure_by_default(plain_app: cdk.App) -> None:
    """S3 Batch: a task the function's results leave out counts as treatMissingKeysAs, TemporaryFailure by default.

    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
    Kit: an answer without treatMissingKeysAs makes a missing task a TemporaryFailure (invoked again).
    Divergence: none
    """
    with LocalKit.from_stack(job_stack(plain_app, ["Missing.txt"])) as kit:
        kit.put_object("Docs", "Missing.txt", "text")
        report = kit.run_batch_job()

    ((task),) = report.tasks
    assert task.error_code == "TemporaryFailure"
    assert task.attempts == 3
