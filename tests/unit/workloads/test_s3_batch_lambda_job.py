"""S3BatchLambdaJob: what it synthesizes (function, job role, report bucket, manifest, job) and what it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib import ConstructPropsError
from constructs_lib.defaults import secure_bucket
from constructs_lib.workloads.s3_batch.s3_batch_lambda_job import (
    CONTRACT_HANDLER,
    MAX_INLINE_MANIFEST_BYTES,
    BatchManifest,
    InvocationSchema,
    ReportScope,
    S3BatchLambdaJob,
)
from stacks._code import example_code
from tests.conftest import echo_function, new_app


def props(handler: str = "sentiment.analyse", runtime: lambda_.Runtime | None = None) -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=runtime or lambda_.Runtime.PYTHON_3_14,
        handler=handler,
        code=example_code("s3_batch_sentiment"),
    )


def make_job(stack: cdk.Stack, manifest: BatchManifest | None = None, **options: Any) -> S3BatchLambdaJob:
    source = secure_bucket(stack, "Source")
    return S3BatchLambdaJob(
        stack,
        "Job",
        manifest=manifest or BatchManifest.from_keys(source, ["a b.txt", "c+d.txt"]),
        **{"function_props": props(), **options},
    )


def policy_statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if role_prefix in roles:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_the_function_runs_the_per_object_function_through_the_contract_layer(stack: cdk.Stack) -> None:
    make_job(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": CONTRACT_HANDLER,
            "Environment": {"Variables": {"S3_BATCH_TASK_HANDLER": "sentiment.analyse"}},
            "Layers": [{"Ref": Match.string_like_regexp("S3BatchContractLayer")}],
            "TracingConfig": {"Mode": "Active"},
            "Timeout": 60,
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleRuntimes": ["python3.11", "python3.12", "python3.13", "python3.14"]},
    )


def test_one_contract_layer_per_stack(stack: cdk.Stack) -> None:
    make_job(stack)
    S3BatchLambdaJob(
        stack, "Second", manifest=BatchManifest.from_keys(secure_bucket(stack, "Other"), ["x"]), function_props=props()
    )
    Template.from_stack(stack).resource_count_is("AWS::Lambda::LayerVersion", 1)


def test_the_job_role_trusts_s3_batch_operations_of_this_account_only(stack: cdk.Stack) -> None:
    make_job(stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "batchoperations.s3.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": "123456789012"},
                            "ArnLike": {"aws:SourceArn": "arn:aws:s3:us-east-1:123456789012:job/*"},
                        },
                    }
                ]
            }
        },
    )


def test_the_job_role_reads_the_manifest_writes_the_report_and_invokes_only_this_function(stack: cdk.Stack) -> None:
    job = make_job(stack)
    template = Template.from_stack(stack)
    statements = policy_statements(template, "JobJobRole")
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == [
        "lambda:InvokeFunction",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
    ]
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert invoke["Resource"] == stack.resolve(job.function.function_arn)
    put = next(s for s in statements if s["Action"] == "s3:PutObject")
    assert json.dumps(put["Resource"]).endswith('"/batch-reports/*"]]}')
    read = next(s for s in statements if "s3:GetObject" in s["Action"])
    assert "/manifests/Job-" in json.dumps(read["Resource"])  # the manifest object, not the bucket


def test_the_function_reads_only_the_manifest_buckets(stack: cdk.Stack) -> None:
    make_job(stack)
    statements = policy_statements(Template.from_stack(stack), "JobFunctionServiceRole")
    s3_statements = [s for s in statements if "s3:" in json.dumps(s["Action"])]
    resources = json.dumps([s["Resource"] for s in s3_statements])
    assert "Source" in resources
    assert "Reports" not in resources


def test_the_report_bucket_is_encrypted_tls_only_and_private(stack: cdk.Stack) -> None:
    make_job(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "RestrictPublicBuckets": True},
            "LoggingConfiguration": Match.any_value(),
        },
    )
    policies = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policies


def test_a_manifest_from_keys_is_written_at_deploy_time_url_encoded(stack: cdk.Stack) -> None:
    source = secure_bucket(stack, "Docs")
    S3BatchLambdaJob(
        stack,
        "Job",
        manifest=BatchManifest.from_keys(source, ["a b.txt", "c+d.txt", "é.txt"]),
        function_props=props(),
    )
    calls = [
        json.dumps(r["Properties"]["Create"]) for r in Template.from_stack(stack).find_resources("Custom::AWS").values()
    ]
    put = next(c for c in calls if "putObject" in c)
    # key URL-encoded: space as +, + as %2B, é as %C3%A9; the bucket name joined in at deploy time.
    assert "a+b.txt\\\\n" in put
    assert "c%2Bd.txt\\\\n" in put
    assert "%C3%A9.txt\\\\n" in put
    assert any("getObjectAttributes" in c for c in calls)


def test_the_create_job_input_output_names_the_manifest_report_and_schema(stack: cdk.Stack) -> None:
    job = make_job(stack, user_arguments={"languageCode": "de"}, report_scope=ReportScope.FAILED_TASKS_ONLY)
    outputs = Template.from_stack(stack).find_outputs("*")
    (value,) = [o["Value"] for key, o in outputs.items() if key.startswith("JobCreateJobInput")]
    text = json.dumps(value)
    for fragment in (
        '\\"InvocationSchemaVersion\\":\\"2.0\\"',
        '\\"UserArguments\\":{\\"languageCode\\":\\"de\\"}',
        '\\"ReportScope\\":\\"FailedTasksOnly\\"',
        '\\"Format\\":\\"S3BatchOperations_CSV_20180820\\",\\"Fields\\":[\\"Bucket\\",\\"Key\\"]',
        '\\"ConfirmationRequired\\":true',
    ):
        assert fragment in text, fragment
    assert job.job_id is None  # not created at deploy time unless asked
    assert not [r for r in Template.from_stack(stack).find_resources("Custom::AWS").values() if "createJob" in str(r)]


def test_create_job_is_a_custom_resource_with_an_idempotency_token(stack: cdk.Stack) -> None:
    job = make_job(stack, create_job=True, confirmation_required=False, priority=42)
    template = Template.from_stack(stack)
    (create,) = [r for r in template.find_resources("Custom::AWS").values() if "createJob" in json.dumps(r)]
    text = json.dumps(create["Properties"]["Create"])
    assert f'\\"ClientRequestToken\\":\\"{job.client_request_token}\\"' in text
    assert '\\"ConfirmationRequired\\":false' in text
    assert '\\"Priority\\":42' in text
    assert '\\"responsePath\\":\\"JobId\\"' in text
    outputs = template.find_outputs("*")
    assert any(key.startswith("JobJobId") for key in outputs)
    statements = policy_statements(template, "AWS679f53fac002430cb0da5b7982bd2287ServiceRole")
    pass_role = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "batchoperations.s3.amazonaws.com"}}


def test_the_token_is_stable_across_synths_and_changes_with_the_job(tmp_path: Path) -> None:
    def token(keys: list[str], name: str) -> str:
        app = new_app(tmp_path / name)
        stack = cdk.Stack(app, "T", env=cdk.Environment(account="123456789012", region="us-east-1"))
        source = secure_bucket(stack, "Source")
        job = S3BatchLambdaJob(stack, "Job", manifest=BatchManifest.from_keys(source, keys), function_props=props())
        return job.client_request_token

    assert token(["a", "b"], "one") == token(["a", "b"], "two")
    assert token(["a", "b"], "one") != token(["a", "c"], "three")
    assert len(token(["a"], "four")) <= 64


@pytest.mark.parametrize("change", [{"report_prefix": "other"}, {"confirmation_required": False}, {"priority": 11}])
def test_the_token_changes_with_any_part_of_the_job(tmp_path: Path, change: dict[str, Any]) -> None:
    def token(name: str, **options: Any) -> str:
        app = new_app(tmp_path / name)
        stack = cdk.Stack(app, "T", env=cdk.Environment(account="123456789012", region="us-east-1"))
        return make_job(stack, **options).client_request_token

    assert token("base") != token("changed", **change)


def test_report_bucket_props_are_merged_over_the_secure_defaults(stack: cdk.Stack) -> None:
    make_job(stack, report_bucket_props=s3.BucketProps(bucket_name="my-batch-reports", versioned=False))
    template = Template.from_stack(stack)
    reports = template.find_resources("AWS::S3::Bucket", {"Properties": {"BucketName": "my-batch-reports"}})
    assert len(reports) == 1
    (report,) = reports.values()
    assert "VersioningConfiguration" not in report["Properties"]
    assert report["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True  # what is required stays


def test_an_existing_report_bucket_is_used_as_is(stack: cdk.Stack) -> None:
    reports = s3.Bucket.from_bucket_name(stack, "Reports", "my-reports")
    job = make_job(stack, report_bucket=reports)
    assert job.report_bucket is reports
    template = Template.from_stack(stack)
    assert ":s3:::my-reports" in json.dumps(template.find_outputs("*"))  # the report goes there
    template.resource_count_is("AWS::S3::Bucket", 2)  # the source bucket and its access-log bucket only


def test_grant_write_tags_grants_tagging_on_the_manifest_buckets_objects(stack: cdk.Stack) -> None:
    job = make_job(stack)
    grant = job.grant_write_tags(job.function)
    assert isinstance(grant, iam.Grant)
    assert grant.success
    statements = policy_statements(Template.from_stack(stack), "JobFunctionServiceRole")
    tagging = next(s for s in statements if "s3:PutObjectTagging" in s["Action"])
    assert {
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
    } <= set(tagging["Action"])
    assert "Source" in json.dumps(tagging["Resource"])
    assert json.dumps(tagging["Resource"]).endswith('"/*"]]}')


def test_a_manifest_of_a_prefix_reads_and_tags_the_objects_under_that_prefix_only(stack: cdk.Stack) -> None:
    source = secure_bucket(stack, "Documents")
    job = make_job(stack, BatchManifest.from_prefix(source, "reviews/"))
    job.grant_write_tags(job.function)
    statements = policy_statements(Template.from_stack(stack), "JobFunctionServiceRole")
    for action in ("s3:GetObject", "s3:PutObjectTagging"):
        statement = next(s for s in statements if action in s["Action"])
        assert json.dumps(statement["Resource"]).endswith('"/reviews/*"]]}'), action


def test_a_generated_manifest_lets_the_role_list_the_source_bucket(stack: cdk.Stack) -> None:
    source = secure_bucket(stack, "Docs")
    S3BatchLambdaJob(stack, "Job", manifest=BatchManifest.from_prefix(source, "reviews/"), function_props=props())
    template = Template.from_stack(stack)
    outputs = json.dumps(template.find_outputs("*"))
    assert '\\"KeyNameConstraint\\":{\\"MatchAnyPrefix\\":[\\"reviews/\\"]}' in outputs
    assert '\\"ManifestFormat\\":\\"S3InventoryReport_CSV_20211130\\"' in outputs
    statements = policy_statements(template, "JobJobRole")
    listing = next(s for s in statements if "s3:ListBucket" in s["Action"])
    assert "s3:PutInventoryConfiguration" in listing["Action"]
    template.resource_count_is("Custom::AWS", 0)  # no manifest to write or read


def test_an_inventory_manifest_is_read_with_its_data_files(stack: cdk.Stack) -> None:
    inventory = s3.Bucket.from_bucket_name(stack, "Inventory", "my-inventory")
    source = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    S3BatchLambdaJob(
        stack,
        "Job",
        manifest=BatchManifest.from_inventory(
            inventory, "my-data/daily/2026-11-22T01-00Z/manifest.json", source_buckets=[source], etag="abc"
        ),
        function_props=props(),
    )
    template = Template.from_stack(stack)
    read = next(s for s in policy_statements(template, "JobJobRole") if "s3:GetObject" in s["Action"])
    # the dated manifest.json and the data/ files it lists, both under the configuration's folder
    assert read["Resource"] == "arn:aws:s3:::my-inventory/my-data/daily/*"
    assert '\\"Format\\":\\"S3InventoryReport_CSV_20161130\\"' in json.dumps(template.find_outputs("*"))
    assert '\\"ETag\\":\\"abc\\"' in json.dumps(template.find_outputs("*"))


def test_an_existing_function_keeps_its_handler(stack: cdk.Stack) -> None:
    function = echo_function(stack, "Own")
    job = S3BatchLambdaJob(
        stack, "Job", manifest=BatchManifest.from_keys(secure_bucket(stack, "S"), ["k"]), function=function
    )
    assert job.function is function
    template = Template.from_stack(stack)
    handlers = [r["Properties"]["Handler"] for r in template.find_resources("AWS::Lambda::Function").values()]
    assert CONTRACT_HANDLER not in handlers
    template.resource_count_is("AWS::Lambda::LayerVersion", 0)


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"function_props": None}, r"give function= \(an existing function .*\) or function_props= \(the construct"),
        ({"function_props": props(handler="index")}, "must name the per-object function as module.function"),
        (
            {"function_props": props(runtime=lambda_.Runtime.NODEJS_22_X)},
            "must be Python .* give function= for a function that implements the contract itself",
        ),
        (
            {"function_props": props(runtime=lambda_.Runtime.PYTHON_3_10)},
            "older than the contract layer supports",
        ),
        (
            {"invocation_schema": InvocationSchema.V1, "user_arguments": {"a": "b"}},
            "user_arguments need invocation_schema=InvocationSchema.V2",
        ),
        ({"user_arguments": {f"k{i}": "v" for i in range(11)}}, "at most 10 pairs"),
        ({"user_arguments": {"k": "v" * 1025}}, "at most 1024 characters"),
        ({"report_prefix": "reports/"}, "without a leading or trailing '/'"),
        ({"priority": -1}, "priority must be between 0 and 2147483647"),
        ({"description": "x" * 257}, "description must be 1-256 characters"),
    ],
)
def test_rejects_bad_props(stack: cdk.Stack, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConstructPropsError, match=message):
        make_job(stack, **options)


def test_rejects_both_function_and_function_props(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"give either function= .* or function_props= .*, not both"):
        make_job(stack, function=echo_function(stack, "Own"))


def test_rejects_both_report_bucket_and_report_bucket_props(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"either report_bucket= .* or report_bucket_props= .*, not both"):
        make_job(
            stack,
            report_bucket=s3.Bucket.from_bucket_name(stack, "Reports", "my-reports"),
            report_bucket_props=s3.BucketProps(versioned=False),
        )


def test_rejects_an_empty_manifest(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="the manifest is empty"):
        make_job(stack, BatchManifest.from_keys(secure_bucket(stack, "B"), []))


def test_rejects_a_manifest_mixing_rows_with_and_without_version_ids(stack: cdk.Stack) -> None:
    manifest = BatchManifest.from_keys(secure_bucket(stack, "B"), [("a", "v1"), "b", ("c", "v3")])
    with pytest.raises(ConstructPropsError, match=r"mixes rows with and without version ids .*row 2, 'b'"):
        make_job(stack, manifest)


def test_rejects_a_manifest_too_big_for_a_template(stack: cdk.Stack) -> None:
    keys = [f"documents/{i:08d}-{'x' * 80}.txt" for i in range(MAX_INLINE_MANIFEST_BYTES // 80)]
    with pytest.raises(ConstructPropsError, match=r"write the CSV to S3 and use BatchManifest\.from_csv"):
        make_job(stack, BatchManifest.from_keys(secure_bucket(stack, "B"), keys))


def test_rejects_a_csv_manifest_without_its_etag(stack: cdk.Stack) -> None:
    manifest = BatchManifest.from_csv(
        secure_bucket(stack, "B"), "manifest.csv", source_buckets=[secure_bucket(stack, "S")]
    )
    with pytest.raises(ConstructPropsError, match=r"give the manifest object's etag= \(aws s3api head-object"):
        make_job(stack, manifest)


def test_rejects_a_csv_manifest_without_source_buckets(stack: cdk.Stack) -> None:
    manifest = BatchManifest.from_csv(secure_bucket(stack, "B"), "manifest.csv", source_buckets=[], etag="e")
    with pytest.raises(ConstructPropsError, match="name the buckets the manifest lists"):
        make_job(stack, manifest)


def test_collects_several_problems_at_once(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as raised:
        make_job(stack, priority=-5, report_prefix="/x")
    assert len(raised.value.problems) == 2
