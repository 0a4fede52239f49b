"""S3 Batch Operations, locally: moto has none, so the kit runs a job the way the service does.

A job is the ``CreateJob`` input the stack would send (the ``s3control:CreateJob`` custom resource, or the
``CreateJobInput`` output of ``S3BatchLambdaJob``). The runner:

1. checks the job role (its policies in the template) may read the manifest, invoke the function and write the
   report, and fails the job with the service's reason when it may not;
2. reads the manifest from the local bucket (CSV, S3 Inventory report, or the manifest generator's listing),
   checks its ETag and that every row has the job's fields;
3. invokes the function once per object, synchronously, with the exact event of invocation schema 1.0 or 2.0
   (URL-encoded key), and reads its answer: ``TemporaryFailure`` is invoked again up to ``max_attempts`` times,
   a task that succeeded is never invoked again, a result missing from the answer counts as
   ``treatMissingKeysAs``, an answer that is not the contract's is a ``PermanentFailure`` that says so;
4. writes the completion report (``<prefix>/job-<id>/manifest.json`` and the results CSVs) to the report bucket.
"""

from __future__ import annotations

import base64
import csv
import fnmatch
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from constructs_lib.testing._engine.authorizer import AccessDenied
from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
from constructs_lib.testing._engine.resources import StackResources
from constructs_lib.testing.results import parse_json
from constructs_lib.workloads.s3_batch.formats import (
    CSV_MANIFEST_FORMAT,
    INVENTORY_MANIFEST_FORMAT,
    REPORT_FORMAT,
    REPORT_SCHEMA,
    ManifestError,
    ManifestRow,
    ReportRow,
    check_rows,
    decode_key,
    encode_csv_manifest,
    encode_key,
    encode_report_rows,
    parse_csv_manifest,
    parse_report_rows,
)

RESULT_CODES = ("Succeeded", "TemporaryFailure", "PermanentFailure")
FAILURE_THRESHOLD_TASKS = 1000
"""S3 Batch Operations fails a job whose failure rate is over 50 % once this many tasks ran."""


@dataclass(frozen=True)
class BatchTaskResult:
    """What became of one object of the job."""

    bucket: str
    key: str
    version_id: str | None
    task_id: str
    status: Literal["succeeded", "failed"]
    error_code: str
    """``""`` for a success; ``TemporaryFailure`` or ``PermanentFailure`` otherwise."""
    result_message: str
    attempts: int


@dataclass
class BatchJobReport:
    """The outcome of a local S3 Batch Operations job, as ``DescribeJob`` and the completion report tell it."""

    job_id: str
    status: Literal["Complete", "Failed"]
    failure_reasons: list[str] = field(default_factory=list)
    tasks: list[BatchTaskResult] = field(default_factory=list)
    report_bucket: str | None = None
    report_keys: list[str] = field(default_factory=list)
    """The completion report's objects: ``manifest.json`` first, then the results CSVs."""

    @property
    def succeeded(self) -> list[BatchTaskResult]:
        return [task for task in self.tasks if task.status == "succeeded"]

    @property
    def failed(self) -> list[BatchTaskResult]:
        return [task for task in self.tasks if task.status == "failed"]

    def task(self, key: str) -> BatchTaskResult:
        found = [task for task in self.tasks if task.key == key]
        if len(found) != 1:
            raise KeyError(f"{len(found)} tasks for key {key!r}")
        return found[0]


class BatchJobFailed(Exception):
    """The job fails before any task runs; the message is the failure reason."""


class BatchJobRefused(ValueError):
    """CreateJob would refuse the job's input: the message lists what botocore's model of the API rejects."""


Invoke = Callable[[LocalFunction, Any], Invocation]


def stack_jobs(resources: StackResources) -> dict[str, dict[str, Any]]:
    """Every job the stack defines, by construct path: created ones, then CreateJob inputs in its outputs."""
    jobs = {resources.short_name(lid): spec for lid, spec in resources.batch_jobs.items()}
    created_roles = {str(spec.get("RoleArn")) for spec in jobs.values()}
    stack = resources.stack
    for output_id, output in stack.template.get("Outputs", {}).items():
        value = resources.resolve(output.get("Value"))
        spec = parse_json(value) if isinstance(value, str) and value.startswith("{") else None
        if not isinstance(spec, dict) or "Operation" not in spec or "RoleArn" not in spec:
            continue
        if str(spec["RoleArn"]) in created_roles:
            continue  # the input of a job the stack also creates (its CreateJob custom resource)
        spec.setdefault("JobId", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stack.stack_name}/{output_id}")))
        jobs[resources.short_name(output_id)] = spec
    return jobs


def create_job_problems(job: Mapping[str, Any]) -> list[str]:
    """What the s3control CreateJob model refuses in ``job``: required members, types, lengths, ranges, enums."""
    import botocore.session
    from botocore.validate import ParamValidator

    shape = botocore.session.get_session().get_service_model("s3control").operation_model("CreateJob").input_shape
    params = {key: value for key, value in job.items() if key != "JobId"}
    params.setdefault("ClientRequestToken", "local-kit")
    report = ParamValidator().validate(params, shape)
    problems = [line.strip() for line in report.generate_report().splitlines()[1:] if line.strip()]
    problems.extend(_enum_problems(params, shape, "CreateJob"))
    return problems


def _enum_problems(value: Any, shape: Any, where: str) -> list[str]:
    problems: list[str] = []
    if shape.type_name == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value:
                problems.extend(_enum_problems(value[name], member, f"{where}.{name}"))
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_enum_problems(item, shape.member, f"{where}[{index}]"))
    elif shape.type_name == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        problems.append(f"{where} must be one of {', '.join(shape.enum)}, got {value!r}")
    return problems


class BatchJobRunner:
    """Runs one job on the kit's local resources."""

    def __init__(
        self,
        resources: StackResources,
        job: Mapping[str, Any],
        *,
        s3: Any,
        invoke: Invoke,
        max_attempts: int = 3,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.resources = resources
        self.job = job
        self.s3 = s3
        self.invoke = invoke
        self.max_attempts = max_attempts
        self.job_id = str(job.get("JobId") or uuid.uuid4())
        operation = job["Operation"]["LambdaInvoke"]
        self.function_arn = str(operation["FunctionArn"])
        self.schema = str(operation.get("InvocationSchemaVersion", "1.0"))
        self.user_arguments: dict[str, str] = dict(operation.get("UserArguments") or {})

    def run(self) -> BatchJobReport:
        refused = create_job_problems(self.job)
        if refused:
            raise BatchJobRefused(
                "s3control:CreateJob would refuse this job (the stack would not deploy, or the CLI command fail): "
                + "; ".join(refused)
            )
        report = BatchJobReport(job_id=self.job_id, status="Complete")
        try:
            local = self._function()
            self._check_role()
            rows = self._manifest_rows()
        except BatchJobFailed as failure:
            report.status = "Failed"
            report.failure_reasons.append(str(failure))
            return report
        for row in rows:
            report.tasks.append(self._run_task(local, row))
            attempted = len(report.tasks)
            if attempted >= FAILURE_THRESHOLD_TASKS and len(report.failed) * 2 > attempted:
                report.status = "Failed"
                report.failure_reasons.append(
                    f"Job failure threshold exceeded: {len(report.failed)} of {attempted} tasks failed"
                )
                break
        self._write_report(report)
        return report

    # -- preparation ---------------------------------------------------------------------------------------------
    def _function(self) -> LocalFunction:
        local = self.resources.function_by_physical_name(self.function_arn)
        if local is None:
            raise BatchJobFailed(f"The function {self.function_arn} is not one of the stack's (local kit)")
        return local

    def _check_role(self) -> None:
        role_arn = str(self.job.get("RoleArn", ""))
        policy = RolePolicy.of(self.resources, role_arn)
        manifest = self.job.get("Manifest")
        if manifest is not None:
            object_arn = str(manifest["Location"]["ObjectArn"])
            if not policy.allows("s3:GetObject", object_arn):
                raise BatchJobFailed(
                    f"Reading the manifest is forbidden: AccessDenied (the job role {role_arn} needs s3:GetObject on "
                    f"{object_arn})"
                )
        generator = (self.job.get("ManifestGenerator") or {}).get("S3JobManifestGenerator")
        if generator is not None and not policy.allows("s3:ListBucket", str(generator["SourceBucket"])):
            raise BatchJobFailed(
                f"Listing the source bucket is forbidden: AccessDenied (the job role {role_arn} needs s3:ListBucket "
                f"on {generator['SourceBucket']})"
            )
        if not policy.allows("lambda:InvokeFunction", self.function_arn):
            raise BatchJobFailed(
                f"Invoking the function is forbidden: AccessDenied (the job role {role_arn} needs "
                f"lambda:InvokeFunction on {self.function_arn})"
            )
        report = self.job.get("Report") or {}
        if report.get("Enabled"):
            target = f"{report['Bucket']}/{report.get('Prefix', '')}/job-{self.job_id}/manifest.json"
            if not policy.allows("s3:PutObject", target):
                raise BatchJobFailed(
                    f"Writing the completion report is forbidden: AccessDenied (the job role {role_arn} needs "
                    f"s3:PutObject on {report['Bucket']}/{report.get('Prefix', '')}/*)"
                )

    def _manifest_rows(self) -> list[ManifestRow]:
        try:
            if "ManifestGenerator" in self.job:
                return self._generated_rows(self.job["ManifestGenerator"]["S3JobManifestGenerator"])
            manifest = self.job["Manifest"]
            spec, location = manifest["Spec"], manifest["Location"]
            text = self._read_manifest_object(location)
            if spec["Format"] == CSV_MANIFEST_FORMAT:
                return parse_csv_manifest(text, spec.get("Fields", ["Bucket", "Key"]))
            if spec["Format"] == INVENTORY_MANIFEST_FORMAT:
                return self._inventory_rows(text, location, RolePolicy.of(self.resources, str(self.job["RoleArn"])))
            raise BatchJobFailed(f"Unsupported manifest format {spec['Format']}")
        except ManifestError as error:
            raise BatchJobFailed(f"Reading the manifest failed: {error}") from error

    def _read_manifest_object(self, location: Mapping[str, Any]) -> str:
        bucket, key = _split_object_arn(str(location["ObjectArn"]))
        args = {"Bucket": bucket, "Key": key}
        if location.get("ObjectVersionId"):
            args["VersionId"] = location["ObjectVersionId"]
        try:
            answer = self.s3.get_object(**args)
        except Exception as error:
            raise BatchJobFailed(f"Reading the manifest failed: {error}") from error
        expected = str(location.get("ETag", "")).strip('"')
        actual = str(answer["ETag"]).strip('"')
        if expected and expected != actual:
            raise BatchJobFailed(
                f"The manifest's ETag does not match: the job names {expected}, s3://{bucket}/{key} has {actual} "
                "(the manifest changed after the job was defined)"
            )
        data: bytes = answer["Body"].read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BatchJobFailed(f"Reading the manifest failed: it is not UTF-8 text ({error.reason})") from error

    def _inventory_rows(self, text: str, location: Mapping[str, Any], policy: RolePolicy) -> list[ManifestRow]:
        inventory = json.loads(text)
        if inventory.get("fileFormat") != "CSV":
            raise BatchJobFailed(f"Only CSV inventory reports are read, this one is {inventory.get('fileFormat')}")
        columns = [name.strip() for name in str(inventory["fileSchema"]).split(",")]
        bucket, _ = _split_object_arn(str(location["ObjectArn"]))
        rows: list[ManifestRow] = []
        for file in inventory.get("files", []):
            if not policy.allows("s3:GetObject", f"arn:aws:s3:::{bucket}/{file['key']}"):
                raise BatchJobFailed(
                    f"Reading the manifest is forbidden: AccessDenied on the inventory data file {file['key']} (the "
                    "job role needs s3:GetObject on the inventory configuration's folder)"
                )
            data: bytes = self.s3.get_object(Bucket=bucket, Key=file["key"])["Body"].read()
            if file["key"].endswith(".gz"):
                data = gzip.decompress(data)
            for record in parse_csv_manifest_lines(data.decode("utf-8"), len(columns)):
                values = dict(zip(columns, record, strict=True))
                rows.append(
                    ManifestRow(
                        bucket=values["Bucket"],
                        key=decode_key(values["Key"]),
                        version_id=values.get("VersionId") or None,
                    )
                )
        check_rows(rows)
        return rows

    def _generated_rows(self, generator: Mapping[str, Any]) -> list[ManifestRow]:
        _, bucket = str(generator["SourceBucket"]).rsplit(":", 1)
        prefixes = (generator.get("Filter") or {}).get("KeyNameConstraint", {}).get("MatchAnyPrefix") or [""]
        rows: list[ManifestRow] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for prefix in prefixes:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                rows.extend(ManifestRow(bucket=bucket, key=item["Key"]) for item in page.get("Contents", []))
        check_rows(rows)
        output = generator.get("ManifestOutputLocation")
        if generator.get("EnableManifestOutput") and output:
            _, out_bucket = str(output["Bucket"]).rsplit(":", 1)
            self.s3.put_object(
                Bucket=out_bucket,
                Key=f"{output.get('ManifestPrefix', '')}/job-{self.job_id}/manifest.csv".lstrip("/"),
                Body=encode_csv_manifest(rows).encode(),
            )
        return rows

    # -- tasks ---------------------------------------------------------------------------------------------------
    def _run_task(self, local: LocalFunction, row: ManifestRow) -> BatchTaskResult:
        task_id = base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        message = ""
        code = "PermanentFailure"
        attempts = 0
        while attempts < self.max_attempts:
            attempts += 1
            invocation_id = base64.b64encode(uuid.uuid4().bytes).decode()
            try:
                invocation = self.invoke(local, self._event(row, task_id, invocation_id))
            except AccessDenied as denied:  # the job role may not invoke the function: the task fails
                code, message = "PermanentFailure", f"Invoking the function failed: AccessDenied ({denied})"
                break
            code, message = self._result_of(invocation, task_id, invocation_id)
            if code != "TemporaryFailure":
                break
        succeeded = code == "Succeeded"
        return BatchTaskResult(
            bucket=row.bucket,
            key=row.key,
            version_id=row.version_id,
            task_id=task_id,
            status="succeeded" if succeeded else "failed",
            error_code="" if succeeded else code,
            result_message=message,
            attempts=attempts,
        )

    def _event(self, row: ManifestRow, task_id: str, invocation_id: str) -> dict[str, Any]:
        task: dict[str, Any] = {"taskId": task_id, "s3Key": encode_key(row.key), "s3VersionId": row.version_id}
        job: dict[str, Any] = {"id": self.job_id}
        if self.schema == "1.0":
            task["s3BucketArn"] = f"arn:aws:s3:::{row.bucket}"
        else:
            task["s3Bucket"] = row.bucket
            job["userArguments"] = dict(self.user_arguments)
        return {
            "invocationSchemaVersion": self.schema,
            "invocationId": invocation_id,
            "job": job,
            "tasks": [task],
        }

    def _result_of(self, invocation: Invocation, task_id: str, invocation_id: str) -> tuple[str, str]:
        """The task's result code and message, from the function's answer (or its failure)."""
        if not invocation.succeeded:
            return "PermanentFailure", f"Lambda returned function error: {json.dumps(invocation.payload)}"
        answer = invocation.payload
        problem = self._contract_problem(answer, invocation_id)
        if problem is not None:
            return "PermanentFailure", f"Lambda returned an invalid response: {problem}"
        result = next((r for r in answer["results"] if isinstance(r, dict) and r.get("taskId") == task_id), None)
        if result is None:
            # AWS documents TemporaryFailure as treatMissingKeysAs' default.
            missing = str(answer.get("treatMissingKeysAs") or "TemporaryFailure")
            if missing not in RESULT_CODES:
                return "PermanentFailure", f"Lambda returned an invalid treatMissingKeysAs {missing!r}"
            return missing, "Lambda returned no result for the task (treatMissingKeysAs)"
        code = result.get("resultCode")
        if code not in RESULT_CODES:
            return "PermanentFailure", f"Lambda returned an invalid resultCode {code!r}"
        return str(code), str(result.get("resultString", ""))

    def _contract_problem(self, answer: Any, invocation_id: str) -> str | None:
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            return f"no results list in {_short(answer)}"
        if answer.get("invocationSchemaVersion") != self.schema:
            return f"invocationSchemaVersion {answer.get('invocationSchemaVersion')!r}, the job's is {self.schema!r}"
        if answer.get("invocationId") not in (None, invocation_id):
            return "invocationId does not echo the request's"
        return None

    # -- report --------------------------------------------------------------------------------------------------
    def _write_report(self, report: BatchJobReport) -> None:
        settings = self.job.get("Report") or {}
        if not settings.get("Enabled") or not report.tasks:
            return
        _, bucket = str(settings["Bucket"]).rsplit(":", 1)
        job_prefix = f"{settings.get('Prefix', '')}/job-{self.job_id}".lstrip("/")
        groups: list[tuple[str, list[BatchTaskResult]]] = [("failed", report.failed)]
        if settings.get("ReportScope", "AllTasks") == "AllTasks":
            groups.insert(0, ("succeeded", report.succeeded))
        results: list[dict[str, str]] = []
        for status, tasks in groups:
            if not tasks:
                continue
            body = encode_report_rows(_report_rows(tasks)).encode()
            key = f"{job_prefix}/results/{hashlib.sha1(body).hexdigest()}.csv"
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")
            results.append(
                {
                    "TaskExecutionStatus": status,
                    "Bucket": bucket,
                    "MD5Checksum": hashlib.md5(body).hexdigest(),
                    "Key": key,
                }
            )
        manifest = {
            "Format": REPORT_FORMAT,
            "ReportCreationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "Results": results,
            "ReportSchema": REPORT_SCHEMA,
        }
        manifest_key = f"{job_prefix}/manifest.json"
        self.s3.put_object(
            Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode(), ServerSideEncryption="AES256"
        )
        report.report_bucket = bucket
        report.report_keys = [manifest_key, *(item["Key"] for item in results)]


class RolePolicy:
    """The Allow statements of a role in the template (inline policies and ``AWS::IAM::Policy`` resources)."""

    def __init__(self, statements: list[Mapping[str, Any]]) -> None:
        self.statements = statements

    @classmethod
    def of(cls, resources: StackResources, role_arn: str) -> RolePolicy:
        role_id = next(
            (
                lid
                for lid, physical in resources.physical.items()
                if resources.types.get(lid) == "AWS::IAM::Role" and dict(physical.attributes).get("Arn") == role_arn
            ),
            None,
        )
        if role_id is None:
            return cls([{"Effect": "Allow", "Action": "*", "Resource": "*"}])  # a role from elsewhere: not checked
        declared: Mapping[str, Any] = resources.stack.template.get("Resources", {})
        documents = [
            policy.get("PolicyDocument", {})
            for policy in declared.get(role_id, {}).get("Properties", {}).get("Policies", [])
        ]
        for resource in declared.values():
            if resource.get("Type") != "AWS::IAM::Policy":
                continue
            roles = resource.get("Properties", {}).get("Roles", [])
            if {"Ref": role_id} in roles:
                documents.append(resource["Properties"]["PolicyDocument"])
        statements: list[Mapping[str, Any]] = []
        for document in documents:
            resolved = resources.resolve(document)
            found = resolved.get("Statement", [])
            statements.extend([found] if isinstance(found, dict) else found)
        return cls([s for s in statements if s.get("Effect") == "Allow"])

    def allows(self, action: str, resource: str) -> bool:
        for statement in self.statements:
            actions = _as_list(statement.get("Action"))
            resources = _as_list(statement.get("Resource"))
            if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
                fnmatch.fnmatchcase(resource, r) for r in resources
            ):
                return True
        return False


def read_completion_report(s3: Any, bucket: str, manifest_key: str) -> list[ReportRow]:
    """Every row of a completion report, read as a user would: manifest.json, then each results CSV."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    if manifest.get("Format") != REPORT_FORMAT:
        raise ValueError(f"{manifest_key} is not a completion report manifest ({manifest.get('Format')})")
    rows: list[ReportRow] = []
    for result in manifest["Results"]:
        body: bytes = s3.get_object(Bucket=result["Bucket"], Key=result["Key"])["Body"].read()
        if hashlib.md5(body).hexdigest() != result["MD5Checksum"]:
            raise ValueError(f"{result['Key']}: the MD5 checksum does not match manifest.json")
        rows.extend(parse_report_rows(body.decode("utf-8")))
    return rows


def parse_csv_manifest_lines(text: str, columns: int) -> Iterable[list[str]]:
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record:
            continue
        if len(record) != columns:
            raise ManifestError(f"inventory row {number} has {len(record)} fields, its fileSchema {columns}")
        yield record


def _report_rows(tasks: Iterable[BatchTaskResult]) -> Iterable[ReportRow]:
    for task in tasks:
        yield ReportRow(
            bucket=task.bucket,
            key=task.key,
            version_id=task.version_id,
            task_status=task.status,
            http_status=200,
            error_code=task.error_code,
            result_message=task.result_message,
        )


def _split_object_arn(arn: str) -> tuple[str, str]:
    bucket, _, key = arn.split(":::", 1)[-1].partition("/")
    return bucket, key


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "BatchJobRefused",
    "BatchJobReport",
    "BatchJobRunner",
    "BatchTaskResult",
    "RolePolicy",
    "read_completion_report",
    "stack_jobs",
]
