"""S3BatchLambdaJob: run a Python function over existing objects with S3 Batch Operations.

CloudFormation has no resource for an S3 Batch Operations job. This construct makes everything around one:

- the function, with the library's contract layer: the user writes only ``def process(task) -> result``, the
  layer answers S3 Batch Operations in schema 1.0 or 2.0 and maps errors to result codes;
- the job's role (trusts ``batchoperations.s3.amazonaws.com`` from this account only): read the manifest, write
  the report prefix, invoke this function, nothing else;
- a bucket for manifests and completion reports (encrypted, TLS only, versioned, access-logged);
- the manifest: a CSV written at deploy time from a list of keys, an existing CSV, an S3 Inventory report, or
  the S3 job manifest generator over a bucket (with prefixes);
- optionally the job itself, created at deploy time by a custom resource calling ``s3control:CreateJob`` with a
  client request token derived from the job's definition (a retried deployment does not make a second job);
- a stack output with the ``aws s3control create-job`` input, for the one CLI command that starts the job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.assets import LAYER_RUNTIMES, runtime_code
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems, is_unresolved
from constructs_lib.defaults import secure_bucket, secure_function, struct_values
from constructs_lib.workloads.s3_batch.formats import (
    CSV_MANIFEST_FORMAT,
    GENERATED_MANIFEST_FORMAT,
    INVENTORY_MANIFEST_FORMAT,
    REPORT_FORMAT,
    ManifestError,
    ManifestRow,
    encode_csv_manifest,
)

CONTRACT_HANDLER = "s3_batch_contract.handler"
TASK_HANDLER_VARIABLE = "S3_BATCH_TASK_HANDLER"
CONTRACT_RUNTIMES = LAYER_RUNTIMES
MAX_INLINE_MANIFEST_BYTES = 100_000
"""A manifest from a list of keys travels in the template (1 MB limit): longer lists belong in a CSV object."""
MAX_PRIORITY = 2_147_483_647
_CUSTOM_RESOURCE_FUNCTION = "AWS679f53fac002430cb0da5b7982bd2287"
"""The construct id aws-cdk-lib gives the singleton function behind every AwsCustomResource of a stack."""
_CONTRACT_LAYER = "S3BatchContractLayer"
_BUCKET_MARKER = "%BUCKET%"
_HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class ReportScope(Enum):
    """Which tasks the completion report lists."""

    ALL_TASKS = "AllTasks"
    FAILED_TASKS_ONLY = "FailedTasksOnly"


class InvocationSchema(Enum):
    """The event S3 Batch Operations sends the function."""

    V1 = "1.0"
    """Tasks name the bucket by ARN (``s3BucketArn``); no user arguments."""
    V2 = "2.0"
    """Tasks name the bucket (``s3Bucket``); the job passes ``userArguments``; directory buckets work."""


@dataclass(frozen=True)
class BatchManifest:
    """The objects a job runs over. Make one with a class method."""

    kind: str
    bucket: s3.IBucket
    rows: tuple[ManifestRow, ...] = ()
    key: str | None = None
    etag: str | None = None
    with_version_ids: bool = False
    prefixes: tuple[str, ...] = ()
    source_buckets: tuple[s3.IBucket, ...] = field(default_factory=tuple)

    @classmethod
    def from_keys(cls, bucket: s3.IBucket, keys: Sequence[str | tuple[str, str]]) -> BatchManifest:
        """A CSV manifest written at deploy time: each key, or ``(key, version_id)``, of ``bucket``."""
        rows = tuple(
            ManifestRow(bucket="", key=item, version_id=None)
            if isinstance(item, str)
            else ManifestRow(bucket="", key=item[0], version_id=item[1])
            for item in keys
        )
        return cls(kind="keys", bucket=bucket, rows=rows)

    @classmethod
    def from_csv(
        cls,
        bucket: s3.IBucket,
        key: str,
        *,
        source_buckets: Sequence[s3.IBucket],
        with_version_ids: bool = False,
        etag: str | None = None,
    ) -> BatchManifest:
        """An existing CSV manifest object (``bucket,key[,versionId]`` rows) listing objects of ``source_buckets``.

        :param etag: the manifest object's ETag (required: CreateJob checks it).
        """
        return cls(
            kind="csv",
            bucket=bucket,
            key=key,
            etag=etag,
            with_version_ids=with_version_ids,
            source_buckets=tuple(source_buckets),
        )

    @classmethod
    def from_inventory(
        cls, bucket: s3.IBucket, manifest_key: str, *, source_buckets: Sequence[s3.IBucket], etag: str | None = None
    ) -> BatchManifest:
        """An S3 Inventory report (CSV): ``manifest_key`` is its ``manifest.json`` in ``bucket``."""
        return cls(kind="inventory", bucket=bucket, key=manifest_key, etag=etag, source_buckets=tuple(source_buckets))

    @classmethod
    def from_bucket(cls, bucket: s3.IBucket, *, prefixes: Sequence[str] = ()) -> BatchManifest:
        """The S3 job manifest generator: S3 lists ``bucket`` itself when the job is created (no manifest file
        to write), optionally only keys under ``prefixes``."""
        return cls(kind="generated", bucket=bucket, prefixes=tuple(prefixes))

    @classmethod
    def from_prefix(cls, bucket: s3.IBucket, prefix: str) -> BatchManifest:
        """Every current object under ``prefix`` of ``bucket`` (the manifest generator with one prefix)."""
        return cls.from_bucket(bucket, prefixes=[prefix])

    def validate(self, problems: Problems) -> None:
        if self.kind == "keys":
            try:
                # The longest bucket name a row can carry; the template holds the CSV twice (Create and Update).
                text = encode_csv_manifest(
                    ManifestRow(bucket="b" * 63, key=row.key, version_id=row.version_id) for row in self.rows
                )
            except ManifestError as error:
                problems.add(f"manifest: {error}")
                return
            if 2 * len(text.encode()) > MAX_INLINE_MANIFEST_BYTES:
                problems.add(
                    f"manifest: {len(self.rows)} keys make a {len(text.encode()):,}-byte CSV, written twice into the "
                    f"template, over the "
                    f"{MAX_INLINE_MANIFEST_BYTES:,} bytes a template can carry: write the CSV to S3 and use "
                    "BatchManifest.from_csv, or BatchManifest.from_prefix"
                )
        elif self.kind in ("csv", "inventory"):
            if not self.key or (not is_unresolved(self.key) and self.key.startswith("/")):
                problems.add(
                    f"manifest: the manifest key must be an object key without a leading '/', got {self.key!r}"
                )
            if not self.etag:
                problems.add(
                    "manifest: give the manifest object's etag= (aws s3api head-object ... --query ETag): CreateJob "
                    "needs it, and one read at deploy time would go stale when the object is overwritten"
                )
            if not self.source_buckets:
                problems.add(
                    "manifest: name the buckets the manifest lists (source_buckets=[...]): the function is granted "
                    "read access to them and nothing else"
                )
        for prefix in self.prefixes:
            if not prefix or prefix.startswith("/"):
                problems.add(f"manifest: prefix {prefix!r} must be non-empty and not start with '/'")

    @property
    def buckets_read(self) -> tuple[s3.IBucket, ...]:
        """The buckets whose objects the function reads."""
        return self.source_buckets if self.kind in ("csv", "inventory") else (self.bucket,)

    @property
    def key_patterns(self) -> tuple[str, ...]:
        """The keys of ``buckets_read`` the job can reach: ``<prefix>*`` for each prefix of a generated manifest,
        otherwise every key (``*``: a CSV or an inventory lists keys not known here)."""
        if self.kind == "generated" and self.prefixes:
            return tuple(f"{prefix}*" for prefix in self.prefixes)
        return ("*",)


class S3BatchLambdaJob(Construct):
    """A function run by S3 Batch Operations over existing objects, with its job role, manifest and report."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        manifest: BatchManifest,
        function: lambda_.IFunction | None = None,
        function_props: lambda_.FunctionProps | None = None,
        invocation_schema: InvocationSchema = InvocationSchema.V2,
        user_arguments: Mapping[str, str] | None = None,
        report_bucket: s3.IBucket | None = None,
        report_bucket_props: s3.BucketProps | None = None,
        report_prefix: str = "batch-reports",
        report_scope: ReportScope = ReportScope.ALL_TASKS,
        create_job: bool = False,
        confirmation_required: bool = True,
        priority: int = 10,
        description: str | None = None,
    ) -> None:
        """
        :param manifest: the objects to run over: ``BatchManifest.from_keys``, ``from_csv``, ``from_inventory``,
            ``from_prefix`` or ``from_bucket``.
        :param function: an existing function that implements the S3 Batch Operations contract itself.
            :default: - none; give ``function`` or ``function_props``, not both.
        :param function_props: props of the function to make. Its ``handler`` names the per-object function
            (``module.function``, taking a ``BatchTask``): the construct sets the Lambda handler to the contract
            layer's and passes yours in ``S3_BATCH_TASK_HANDLER``. :default: - none; give ``function`` or
            ``function_props``, not both.
        :param invocation_schema: the event schema. :default: InvocationSchema.V2
        :param user_arguments: ``userArguments`` of every invocation (schema 2.0 only). :default: - none
        :param report_bucket: an existing bucket for manifests and reports. :default: - a new bucket: encrypted,
            TLS only, public access blocked, versioned, with server access logs.
        :param report_bucket_props: props of the report bucket to make, merged over those defaults (give
            ``report_bucket`` or ``report_bucket_props``, not both). :default: - the defaults alone.
        :param report_prefix: the report prefix (no leading or trailing '/'). :default: "batch-reports"
        :param report_scope: every task, or failed tasks only. :default: ReportScope.ALL_TASKS
        :param create_job: create the job at deploy time (custom resource). :default: false - the stack output
            ``CreateJobInput`` is the input of ``aws s3control create-job --cli-input-json``.
        :param confirmation_required: a created job waits for confirmation (console or
            ``aws s3control update-job-status --requested-job-status Ready``) before it runs. :default: true
        :param priority: the job's priority, 0 to 2147483647. :default: 10
        :param description: the job's description. :default: - the construct path.
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        manifest.validate(problems)
        if function is not None and function_props is not None:
            problems.add(
                "give either function= (an existing function that implements the S3 Batch Operations contract) or "
                "function_props= (the construct makes the function), not both"
            )
        if function is None and function_props is None:
            problems.add(
                "give function= (an existing function that implements the S3 Batch Operations contract) or "
                "function_props= (the construct makes the function)"
            )
        if report_bucket is not None and report_bucket_props is not None:
            problems.add(
                "give either report_bucket= (an existing bucket) or report_bucket_props= (to make one), not both"
            )
        props = struct_values(function_props)
        if function_props is not None:
            _validate_function_props(props, problems)
        if user_arguments and invocation_schema is not InvocationSchema.V2:
            problems.add("user_arguments need invocation_schema=InvocationSchema.V2 (schema 1.0 carries none)")
        _validate_user_arguments(user_arguments or {}, problems)
        if not is_unresolved(report_prefix) and (
            not report_prefix
            or report_prefix.startswith("/")
            or report_prefix.endswith("/")
            or len(report_prefix) > 512
        ):
            problems.add(
                f"report_prefix must be 1-512 characters without a leading or trailing '/', got {report_prefix!r}"
            )
        if not is_unresolved(priority) and not 0 <= priority <= MAX_PRIORITY:
            problems.add(f"priority must be between 0 and {MAX_PRIORITY}, got {priority}")
        if description is not None and not 1 <= len(description) <= 256:
            problems.add(f"description must be 1-256 characters, got {len(description)}")
        problems.raise_if_any(self)

        stack = Stack.of(self)
        self.manifest = manifest
        self.invocation_schema = invocation_schema
        self.report_prefix = report_prefix
        self.report_bucket: s3.IBucket = report_bucket or secure_bucket(
            self, "Reports", bucket_props=report_bucket_props
        )
        self.function: lambda_.IFunction = function or self._make_function(props)
        for bucket in manifest.buckets_read:
            self._grant_read(bucket)

        self.role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal(
                "batchoperations.s3.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:s3:{stack.region}:{stack.account}:job/*"},
                },
            ),
            description=f"S3 Batch Operations job role of {self.node.path}",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.report_bucket.arn_for_objects(f"{report_prefix}/*")]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[self.report_bucket.bucket_arn])
        )
        if self.report_bucket.encryption_key is not None:
            self.report_bucket.encryption_key.grant_encrypt_decrypt(self.role)
        if manifest.kind in ("csv", "inventory") and manifest.bucket.encryption_key is not None:
            manifest.bucket.encryption_key.grant_decrypt(self.role)
        self._acknowledge_role(
            f"{report_prefix}/*",
            "writes the completion report under the report prefix; S3 "
            "Batch Operations names the report objects after the job id",
        )

        manifest_spec, generator_spec = self._manifest(manifest, construct_id)
        self.job_input: dict[str, Any] = {
            "AccountId": stack.account,
            "ConfirmationRequired": confirmation_required,
            "Operation": {"LambdaInvoke": self._operation(user_arguments or {})},
            "Report": {
                "Bucket": self.report_bucket.bucket_arn,
                "Format": REPORT_FORMAT,
                "Enabled": True,
                "Prefix": report_prefix,
                "ReportScope": report_scope.value,
            },
            "Priority": priority,
            "RoleArn": self.role.role_arn,
            "Description": description or self.node.path[-256:],
        }
        if manifest_spec is not None:
            self.job_input["Manifest"] = manifest_spec
        if generator_spec is not None:
            self.job_input["ManifestGenerator"] = generator_spec
        self.client_request_token = self._token()
        CfnOutput(
            self,
            "CreateJobInput",
            value=stack.to_json_string(self.job_input),
            description="Input of: aws s3control create-job --cli-input-json (see the README)",
        )
        self.job_id: str | None = None
        if create_job:
            self.job_id = self._create_job()
            CfnOutput(self, "JobId", value=self.job_id, description="The S3 Batch Operations job made at deploy time")

    # ------------------------------------------------------------------------------------------------ function

    def _make_function(self, props: dict[str, Any]) -> lambda_.Function:
        stack = Stack.of(self)
        layer = stack.node.try_find_child(_CONTRACT_LAYER)
        if not isinstance(layer, lambda_.LayerVersion):
            layer = lambda_.LayerVersion(
                stack,
                _CONTRACT_LAYER,
                code=runtime_code(__file__, "contract_layer"),
                compatible_runtimes=list(CONTRACT_RUNTIMES),
                description="constructs_lib: the S3 Batch Operations Lambda contract (schema 1.0 and 2.0)",
            )
        environment = {**dict(props.get("environment") or {}), TASK_HANDLER_VARIABLE: props["handler"]}
        merged = {
            "timeout": Duration.minutes(1),
            **props,
            "handler": CONTRACT_HANDLER,
            "environment": environment,
            "layers": [layer, *(props.get("layers") or [])],
        }
        function, _ = secure_function(self, "Function", function_props=lambda_.FunctionProps(**merged))
        return function

    def _grant_read(self, bucket: s3.IBucket) -> None:
        role = self.function.role
        if role is None:
            Annotations.of(self).add_warning_v2(
                "constructs_lib:s3-batch-function-role",
                f"the function has no role this stack can change: make sure it may read the objects of "
                f"{bucket.node.path} (s3:GetObject)",
            )
            return
        patterns = self.manifest.key_patterns
        objects = [bucket.arn_for_objects(pattern) for pattern in patterns]
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:GetObjectVersion"], resources=objects)
        )
        # ListBucket makes a missing key answer 404 (NoSuchKey: PermanentFailure "does not exist") rather than 403.
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        if bucket.encryption_key is not None:
            bucket.encryption_key.grant_decrypt(role)
        for pattern in patterns:
            nag.objects_grant(
                role,
                bucket,
                pattern,
                "reads any object the job's manifest lists in this one bucket (under its prefix): the keys are the "
                "job's input",
            )

    # ------------------------------------------------------------------------------------------------ manifest

    def _manifest(
        self, manifest: BatchManifest, construct_id: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The ``Manifest`` or the ``ManifestGenerator`` of the job, and the role's grants to read it."""
        if manifest.kind == "generated":
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:ListBucketVersions", "s3:PutInventoryConfiguration"],
                    resources=[manifest.bucket.bucket_arn],
                )
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:PutObject"],
                    resources=[self.report_bucket.arn_for_objects("generated-manifests/*")],
                )
            )
            self._acknowledge_role(
                "generated-manifests/*", "writes the manifest the generator lists, under one prefix of the job bucket"
            )
            generator: dict[str, Any] = {
                "SourceBucket": manifest.bucket.bucket_arn,
                "EnableManifestOutput": True,
                "ManifestOutputLocation": {
                    "Bucket": self.report_bucket.bucket_arn,
                    "ManifestPrefix": "generated-manifests",
                    "ManifestFormat": GENERATED_MANIFEST_FORMAT,
                    "ManifestEncryption": {"SSES3": {}},
                },
            }
            if manifest.prefixes:
                generator["Filter"] = {"KeyNameConstraint": {"MatchAnyPrefix": list(manifest.prefixes)}}
            return None, {"S3JobManifestGenerator": generator}

        if manifest.kind == "keys":
            bucket_name = manifest.bucket.bucket_name
            rows = list(manifest.rows)
            # The bucket name may be a token: write the rows with a marker (an encoded key never holds a bare
            # '%'), then join the name in (Fn.join of literals alone is a literal).
            text = encode_csv_manifest(ManifestRow(_BUCKET_MARKER, row.key, row.version_id) for row in rows)
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            pieces = text.split(_BUCKET_MARKER)
            joined: list[str] = [pieces[0]]
            for piece in pieces[1:]:
                joined += [bucket_name, piece]
            body = Fn.join("", joined)
            key = f"manifests/{construct_id}-{digest}.csv"
            put = cr.AwsSdkCall(
                service="S3",
                action="putObject",
                parameters={
                    "Bucket": self.report_bucket.bucket_name,
                    "Key": key,
                    "Body": body,
                    "ContentType": "text/csv",
                },
                physical_resource_id=cr.PhysicalResourceId.of(key),
            )
            writer = self._sdk_resource(
                "WriteManifest",
                put,
                [iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.report_bucket.arn_for_objects(key)])],
                timeout=Duration.minutes(2),
            )
            etag = self._etag(self.report_bucket, key, after=writer)
            fields = ["Bucket", "Key", "VersionId"] if rows[0].version_id is not None else ["Bucket", "Key"]
            location_bucket, location_key = self.report_bucket, key
            manifest_format = CSV_MANIFEST_FORMAT
        else:
            assert manifest.key is not None
            location_bucket, location_key = manifest.bucket, manifest.key
            assert manifest.etag is not None, "validated"
            etag = manifest.etag.strip('"')
            if manifest.kind == "csv":
                fields = ["Bucket", "Key", "VersionId"] if manifest.with_version_ids else ["Bucket", "Key"]
                manifest_format = CSV_MANIFEST_FORMAT
            else:
                fields = []
                manifest_format = INVENTORY_MANIFEST_FORMAT
                self._acknowledge_role(
                    _inventory_prefix(location_key) + "*",
                    "reads the inventory's manifest.json and the CSV data files it lists, under the inventory prefix",
                    location_bucket,
                )
        # An inventory's manifest.json sits in a dated folder, its data files in the sibling data/ folder.
        readable = (
            location_bucket.arn_for_objects(_inventory_prefix(location_key) + "*")
            if manifest.kind == "inventory"
            else location_bucket.arn_for_objects(location_key)
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[readable])
        )
        spec: dict[str, Any] = {"Format": manifest_format}
        if fields:
            spec["Fields"] = fields
        return {
            "Spec": spec,
            "Location": {"ObjectArn": location_bucket.arn_for_objects(location_key), "ETag": etag},
        }, None

    def _etag(self, bucket: s3.IBucket, key: str, *, after: Construct | None = None) -> str:
        """The manifest object's ETag, read at deploy time. GetObjectAttributes answers it bare, as CreateJob
        takes it (GetObject and HeadObject quote it, and ``to_json_string`` cannot split a quote off)."""
        call = cr.AwsSdkCall(
            service="S3",
            action="getObjectAttributes",
            parameters={"Bucket": bucket.bucket_name, "Key": key, "ObjectAttributes": ["ETag"]},
            physical_resource_id=cr.PhysicalResourceId.of(f"manifest-etag-{key}"[:200]),
            output_paths=["ETag"],
        )
        reader = self._sdk_resource(
            "ManifestETag",
            call,
            [
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectAttributes"], resources=[bucket.arn_for_objects(key)]
                )
            ],
        )
        if after is not None:
            reader.node.add_dependency(after)
        return reader.get_response_field("ETag")

    def _sdk_resource(
        self, construct_id: str, call: cr.AwsSdkCall, statements: list[iam.PolicyStatement], **options: Any
    ) -> cr.AwsCustomResource:
        """An AwsCustomResource making ``call`` on create and update, allowed exactly ``statements``."""
        resource = cr.AwsCustomResource(
            self,
            construct_id,
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(statements),
            install_latest_aws_sdk=False,
            **options,
        )
        self._acknowledge_custom_resource_function()
        return resource

    # ------------------------------------------------------------------------------------------------ job

    def _operation(self, user_arguments: Mapping[str, str]) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "FunctionArn": self.function.function_arn,
            "InvocationSchemaVersion": self.invocation_schema.value,
        }
        if user_arguments:
            operation["UserArguments"] = dict(user_arguments)
        return operation

    def _token(self) -> str:
        """A client request token that changes when the job's definition does, and only then: a hash of the
        CreateJob input as the template spells it (references stay the same from one synth to the next)."""
        definition = json.dumps([self.node.path, Stack.of(self).resolve(self.job_input)], sort_keys=True, default=str)
        return "cdk-" + hashlib.sha256(definition.encode()).hexdigest()[:32]

    def _create_job(self) -> str:
        parameters = {**self.job_input, "ClientRequestToken": self.client_request_token}
        call = cr.AwsSdkCall(
            service="S3Control",
            action="createJob",
            parameters=parameters,
            physical_resource_id=cr.PhysicalResourceId.from_response("JobId"),
        )
        create = self._sdk_resource(
            "CreateJob",
            call,
            [
                iam.PolicyStatement(actions=["s3:CreateJob"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "batchoperations.s3.amazonaws.com"}},
                ),
            ],
        )
        create.node.add_dependency(self.role)
        nag.create_job(create)
        return create.get_response_field("JobId")

    # ------------------------------------------------------------------------------------------------ cdk-nag

    def _acknowledge_role(self, pattern: str, reason: str, bucket: s3.IBucket | None = None) -> None:
        nag.objects_grant(self.role, bucket or self.report_bucket, pattern, reason)

    def _acknowledge_custom_resource_function(self) -> None:
        """Once per stack: every AwsCustomResource of a stack shares aws-cdk-lib's one function."""
        function = Stack.of(self).node.try_find_child(_CUSTOM_RESOURCE_FUNCTION)
        if isinstance(function, Construct):
            nag.cdk_deploy_time_function(
                function,
                "aws-cdk-lib's AwsCustomResource function (deploy time only) uses this managed policy for its logs",
            )

    # ------------------------------------------------------------------------------------------------ grants

    def grant_write_tags(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and write the tags of the objects the job runs over: ``s3:GetObjectTagging`` and
        ``s3:PutObjectTagging`` (and their version variants) on the objects of the manifest's buckets, under its
        prefixes when it has some (``BatchManifest.from_prefix``).

        ``job.grant_write_tags(job.function)`` lets the per-object function tag what it processes.
        """
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "s3:PutObjectTagging",
                "s3:PutObjectVersionTagging",
            ],
            resource_arns=[
                bucket.arn_for_objects(pattern)
                for bucket in self.manifest.buckets_read
                for pattern in self.manifest.key_patterns
            ],
        )
        role = grantee.grant_principal if isinstance(grantee.grant_principal, iam.Role) else None
        for bucket in self.manifest.buckets_read:
            for pattern in self.manifest.key_patterns:
                nag.objects_grant(
                    role,
                    bucket,
                    pattern,
                    "reads and tags any object the job's manifest lists in this one bucket (under its prefix): the "
                    "keys are the job's input",
                )
        return grant


def _parent(key: str) -> str:
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


def _inventory_prefix(manifest_key: str) -> str:
    """``<prefix>/<bucket>/<config>/`` of ``<prefix>/<bucket>/<config>/<date>/manifest.json``: the folder that holds
    both the dated manifests and the ``data/`` files they list."""
    return _parent(_parent(manifest_key).rstrip("/"))


def _validate_function_props(props: Mapping[str, Any], problems: Problems) -> None:
    handler = props.get("handler")
    if not isinstance(handler, str) or not _HANDLER.match(handler):
        problems.add(
            f"function_props.handler must name the per-object function as module.function (it gets a BatchTask), "
            f"got {handler!r}"
        )
    runtime = props.get("runtime")
    if runtime is not None and runtime.family != lambda_.RuntimeFamily.PYTHON:
        problems.add(
            f"function_props.runtime must be Python (the contract layer is Python), got {runtime.name}; "
            "give function= for a function that implements the contract itself"
        )
    elif runtime is not None and runtime.name not in {r.name for r in CONTRACT_RUNTIMES}:
        problems.add(f"function_props.runtime {runtime.name} is older than the contract layer supports (python3.11+)")


def _validate_user_arguments(arguments: Mapping[str, str], problems: Problems) -> None:
    if len(arguments) > 10:
        problems.add(f"user_arguments: at most 10 pairs, got {len(arguments)}")
    for key, value in arguments.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            problems.add(f"user_arguments: key {key!r} must be a string of 1-64 characters")
        if not isinstance(value, str) or len(value) > 1024:
            problems.add(f"user_arguments[{key!r}] must be a string of at most 1024 characters")


__all__ = ["BatchManifest", "InvocationSchema", "ReportScope", "S3BatchLambdaJob"]
