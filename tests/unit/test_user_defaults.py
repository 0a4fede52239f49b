"""A user's own step functions get the library's secure defaults from the public factories: nine plain functions
in a workflow fail cdk-nag, the same nine made with ``secure_function`` pass it with the library's documented
acknowledgments only; a user's own finding is acknowledged in cdk-nag 3's form or with the public helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from constructs_lib import (
    EventBusRoute,
    FunctionWorkflow,
    Invoke,
    acknowledge_wildcard_resources,
    secure_bucket,
    secure_function,
)
from tests.conftest import new_app

STEPS = 9
HANDLER = "def handler(event, context):\n    return event\n"


def props() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(HANDLER)
    )


def plain(stack: cdk.Stack, name: str) -> lambda_.IFunction:
    return lambda_.Function(stack, name, **props()._values)


def secure(stack: cdk.Stack, name: str) -> lambda_.IFunction:
    function, _ = secure_function(stack, name, function_props=props())
    return function


def nine_step_workflow(outdir: Path, make: Callable[[cdk.Stack, str], lambda_.IFunction]) -> cdk.App:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Orders")
    steps = [Invoke(f"Step{i}", make(stack, f"Step{i}Function")) for i in range(1, STEPS + 1)]
    FunctionWorkflow(stack, "Flow", steps=steps, on_success=EventBusRoute())
    return app


def report(outdir: Path) -> dict[str, Any]:
    (plugin,) = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    result: dict[str, Any] = plugin
    return result


def test_nine_plain_functions_fail_cdk_nag(tmp_path: Path) -> None:
    """The oracle of the next test: without the defaults, every function's role is reported."""
    app = nine_step_workflow(tmp_path, plain)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    violations = report(tmp_path)["violations"]
    rules = {v["ruleName"] for v in violations}
    assert (
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
        in (rules)
    )
    assert sum(len(v["violatingConstructs"]) for v in violations) >= STEPS


def test_nine_functions_made_with_secure_function_pass_cdk_nag_with_the_librarys_acknowledgments(
    tmp_path: Path,
) -> None:
    app = nine_step_workflow(tmp_path, secure)
    app.synth()
    plugin = report(tmp_path)
    assert (plugin["conclusion"], plugin["violations"]) == ("success", [])
    suppressed = [v["ruleName"] for v in plugin["suppressedViolations"]]
    # X-Ray on each function's TracingPolicy and on the two state machines' (the workflow's and the Express one that
    # reports its timed-out and aborted executions), log delivery on both machines' LogDeliveryPolicy, and the
    # workflow's invoke grant of each function's versions and aliases
    assert suppressed.count("AwsSolutions-IAM5[Resource::*]") == STEPS + 4
    invoke_grants = [rule for rule in suppressed if rule.endswith(".Arn>:*]")]
    assert len(invoke_grants) == STEPS
    # and the dead-letter queue of the status rule that starts that Express machine (a DLQ has no DLQ of its own)
    assert set(suppressed) == {"AwsSolutions-IAM5[Resource::*]", "AwsSolutions-SQS3", *invoke_grants}


def test_a_users_own_wildcard_resource_is_acknowledged_with_the_helper(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Reader")
    function = secure(stack, "Reader")
    bucket = secure_bucket(stack, "Incoming")
    iam.Grant.add_to_principal(
        grantee=function, actions=["s3:GetObject"], resource_arns=[bucket.arn_for_objects("incoming/*")]
    )
    acknowledge_wildcard_resources(
        function, resources=[bucket.arn_for_objects("incoming/*")], reason="reads any new object under incoming/"
    )
    app.synth()
    suppressed = {v["ruleName"]: v for v in report(tmp_path)["suppressedViolations"]}
    (rule,) = [name for name in suppressed if "incoming/*" in name]
    assert rule.startswith("AwsSolutions-IAM5[Resource::<Incoming")


def test_the_helper_refuses_star_and_imported_roles(stack: cdk.Stack) -> None:
    function = secure(stack, "Reader")
    with pytest.raises(ValueError, match=r"IAM5\[Resource::\*\] on a role would cover every statement"):
        acknowledge_wildcard_resources(function, resources=["*"], reason="no")
    imported = lambda_.Function.from_function_attributes(
        stack,
        "Imported",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:x",
        role=iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/x"),
        same_environment=True,
    )
    bucket = s3.Bucket.from_bucket_name(stack, "B", "orders-incoming")
    with pytest.raises(TypeError, match="needs a role made in this app"):
        acknowledge_wildcard_resources(imported, resources=[bucket.arn_for_objects("*")], reason="no")
