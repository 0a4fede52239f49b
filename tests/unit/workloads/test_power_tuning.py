"""PowerTuning, the construct: the template it makes, its IAM scope, its validation, cdk-nag and asl-validator."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib._internal.validation import ConstructPropsError
from constructs_lib.testing import state_machine_definitions, validate_definition
from constructs_lib.workloads.power_tuning.power_tuning import PowerTuning, reference_transitions, transitions
from stacks.power_tuning_stack import PowerTuningStack

TARGET_ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"


def policies_of(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    """The statements of the policies attached to roles whose logical id starts with ``role_prefix``."""
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = [role["Ref"] for role in policy["Properties"]["Roles"]]
        if any(role.startswith(role_prefix) for role in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def lambda_statements(template: Template, role_prefix: str) -> dict[str, Any]:
    """Lambda actions -> resources, for one role."""
    found: dict[str, Any] = {}
    for statement in policies_of(template, role_prefix):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            if action.startswith("lambda:"):
                found[action] = statement["Resource"]
    return found


def definition(template: Template) -> dict[str, Any]:
    (found,) = state_machine_definitions(template.to_json()).values()
    return found


# -- the state machine ---------------------------------------------------------------------------------------
def test_state_machine_shape_and_asl_validator(stack: cdk.Stack) -> None:
    PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN])
    template = Template.from_stack(stack)

    found = definition(template)
    validate_definition(found, name="PowerTuning")
    states = found["States"]
    assert found["StartAt"] == "Initialize"
    assert set(states) == {
        "Initialize",
        "SetupComplete",
        "ContinueSetup",
        "Tune",
        "Finalize",
        "CleanUpOnError",
        "Failed",
    }
    assert states["Initialize"]["Next"] == "SetupComplete"
    assert states["SetupComplete"]["Choices"][0]["Next"] == "Tune"
    assert states["SetupComplete"]["Default"] == "ContinueSetup"
    assert states["ContinueSetup"]["Next"] == "SetupComplete"
    tune = states["Tune"]
    assert tune["ItemsPath"] == "$.config.powerValues"
    assert tune["ItemSelector"] == {"value.$": "$$.Map.Item.Value", "config.$": "$.config"}
    assert tune.get("MaxConcurrency", 0) == 0  # every value at once
    assert list(tune["ItemProcessor"]["States"]) == ["Execute"]
    assert states["Finalize"]["End"] is True
    # Every step catches everything into the clean-up, which ends in a Fail state with the cause.
    for name in ("Initialize", "ContinueSetup", "Tune", "Finalize"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "CleanUpOnError"}
        ]
    assert states["CleanUpOnError"]["Next"] == "Failed"
    assert states["CleanUpOnError"]["Catch"][0]["Next"] == "Failed"
    assert states["Failed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_logs_tracing_timeout_and_alarms(stack: cdk.Stack) -> None:
    PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN], timeout=Duration.hours(3))
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": False}),
        },
    )
    assert definition(template)["TimeoutSeconds"] == 3 * 3600
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": Match.string_like_regexp("^/aws/vendedlogs/states/")}
    )
    metrics = sorted(a["Properties"]["MetricName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values())
    assert metrics == ["ExecutionThrottled", "ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"]
    functions = template.find_resources("AWS::Lambda::Function")
    assert len(functions) == 3
    for function in functions.values():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
        assert function["Properties"]["Architectures"] == ["arm64"]


def test_alarms_can_be_turned_off(stack: cdk.Stack) -> None:
    from constructs_lib.engines.function_workflow import WorkflowAlarmOptions

    tuner = PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN], alarms=WorkflowAlarmOptions(enabled=False))

    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert tuner.alarms == {}
    assert tuner.metric_failed().metric_name == "ExecutionsFailed"
    assert tuner.metric_time(statistic="p90").statistic == "p90"


def test_the_initializer_knows_the_allowed_functions_and_default_values(stack: cdk.Stack) -> None:
    PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN], default_power_values=[128, 1024])

    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handlers.initialize",
            "Timeout": 900,
            "Environment": {
                "Variables": {"ALLOWED_FUNCTIONS": json.dumps([TARGET_ARN]), "DEFAULT_POWER_VALUES": "128,1024"}
            },
        },
    )


# -- least privilege -----------------------------------------------------------------------------------------
def test_iam_is_scoped_to_the_listed_functions(stack: cdk.Stack) -> None:
    PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN])
    template = Template.from_stack(stack)
    versions = f"{TARGET_ARN}:*"

    initializer = lambda_statements(template, "TunerInitializer")
    executor = lambda_statements(template, "TunerExecutor")
    finalizer = lambda_statements(template, "TunerFinalizer")

    assert initializer == {
        "lambda:CreateAlias": TARGET_ARN,
        "lambda:GetFunctionConfiguration": TARGET_ARN,
        "lambda:PublishVersion": TARGET_ARN,
        "lambda:UpdateAlias": TARGET_ARN,
        "lambda:UpdateFunctionConfiguration": TARGET_ARN,
    }
    assert executor == {
        "lambda:GetFunctionConfiguration": [TARGET_ARN, versions],
        "lambda:InvokeFunction": [TARGET_ARN, versions],
    }
    # DeleteFunction on versions only: the tuner can never delete the function itself.
    assert finalizer["lambda:DeleteFunction"] == versions
    assert finalizer["lambda:DeleteAlias"] == TARGET_ARN
    assert "lambda:DeleteFunction" not in initializer
    assert "lambda:InvokeFunction" not in initializer
    assert "lambda:InvokeFunction" not in finalizer


def test_a_name_prefix_allows_the_functions_named_so(stack: cdk.Stack) -> None:
    PowerTuning(stack, "Tuner", function_name_prefix="orders-")
    template = Template.from_stack(stack)
    pattern = "arn:aws:lambda:us-east-1:123456789012:function:orders-*"

    assert lambda_statements(template, "TunerInitializer")["lambda:UpdateFunctionConfiguration"] == pattern
    assert lambda_statements(template, "TunerExecutor")["lambda:InvokeFunction"] == [pattern, f"{pattern}:*"]
    # "<prefix>*:*": qualified ARNs only, so versions can be deleted and functions cannot.
    assert lambda_statements(template, "TunerFinalizer")["lambda:DeleteFunction"] == f"{pattern}:*"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handlers.initialize",
            "Environment": {"Variables": Match.object_like({"ALLOWED_FUNCTIONS": json.dumps([pattern])})},
        },
    )


def test_functions_can_be_allowed_as_constructs(stack: cdk.Stack) -> None:
    target = lambda_.Function.from_function_arn(stack, "Target", TARGET_ARN)

    PowerTuning(stack, "Tuner", allowed_functions=[target])

    assert lambda_statements(Template.from_stack(stack), "TunerInitializer")["lambda:PublishVersion"] == TARGET_ARN


def test_grant_start_execution(stack: cdk.Stack) -> None:
    tuner = PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN])
    user = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())

    tuner.grant_start_execution(user)

    statements = policies_of(Template.from_stack(stack), "Operator")
    assert (
        statements == [{"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": Match.any_value()}}]
        or statements[0]["Action"] == "states:StartExecution"
    )


# -- validation ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "give allowed_functions (function ARNs or functions) or function_name_prefix, exactly one"),
        ({"allowed_functions": [TARGET_ARN], "function_name_prefix": "orders"}, "exactly one"),
        ({"allowed_functions": ["arn:aws:lambda:us-east-1:123456789012:function:orders-*"]}, "has a wildcard"),
        ({"allowed_functions": [TARGET_ARN + ":live"]}, "is not an unqualified Lambda function ARN"),
        ({"allowed_functions": ["orders-api"]}, "is not an unqualified Lambda function ARN"),
        ({"function_name_prefix": ""}, "function_name_prefix must be 1-63 letters"),
        ({"function_name_prefix": "orders*"}, "function_name_prefix must be 1-63 letters"),
        ({"function_name_prefix": "o", "default_power_values": [64]}, "memory sizes are 128 to 10240 MB, got [64]"),
        ({"function_name_prefix": "o", "default_power_values": []}, "default_power_values is empty"),
        ({"function_name_prefix": "o", "default_power_values": [256, 256]}, "default_power_values has duplicates"),
        ({"function_name_prefix": "o", "executor_timeout": Duration.minutes(16)}, "1 s to 15 minutes, got 960 s"),
        (
            {"function_name_prefix": "o", "executor_timeout": Duration.minutes(10), "timeout": Duration.minutes(5)},
            "timeout (300 s) is shorter than executor_timeout (600 s)",
        ),
        ({"function_name_prefix": "o", "payload_keys": ["a.json"]}, "payload_keys needs payload_bucket"),
        ({"function_name_prefix": "o", "payload_bucket": "bucket"}, "payload_bucket needs payload_keys"),
        ({"function_name_prefix": "o", "payload_bucket": "bucket", "payload_keys": ["*"]}, "not all of it"),
    ],
)
def test_rejects_bad_props(plain_app: cdk.App, props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(plain_app, "Test", env=cdk.Environment(account="123456789012", region="us-east-1"))

    if props.get("payload_bucket") == "bucket":
        props["payload_bucket"] = s3.Bucket.from_bucket_name(stack, "Payloads", "payloads")
    with pytest.raises(ConstructPropsError, match=re.escape(message)):
        PowerTuning(stack, "Tuner", **props)


# -- the example stack ---------------------------------------------------------------------------------------
def test_example_stack_is_cdk_nag_clean_and_tunes_only_its_sample(tmp_path: Any) -> None:
    from tests.conftest import new_app

    app = new_app(tmp_path / "cdk.out")
    example = PowerTuningStack(app, "PowerTuning", env=cdk.Environment(account="123456789012", region="us-east-1"))
    app.synth()  # cdk-nag AwsSolutions: an unacknowledged finding raises here
    template = Template.from_stack(example)

    sample = {"Fn::GetAtt": [example.get_logical_id(example.sample.node.default_child), "Arn"]}  # type: ignore[arg-type]
    assert lambda_statements(template, "TunerExecutor")["lambda:InvokeFunction"][0] == sample
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "sample.handler", "Environment": {"Variables": {"WORK_MS": "300"}}}
    )
    validate_definition(definition(template), name="PowerTuningStack")


def test_transition_formula() -> None:
    assert [transitions(p) for p in (1, 3, 6, 10)] == [5, 7, 10, 14]
    assert [reference_transitions(p) for p in (1, 3, 6, 10)] == [10, 16, 25, 37]
    assert reference_transitions(3, only_cold_starts=True, num=5) == 40


# -- S3 payloads and architecture changes ----------------------------------------------------------------------
def test_payload_objects_are_readable_by_the_executor_only_and_only_the_named_keys(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket.from_bucket_attributes(stack, "Payloads", bucket_arn="arn:aws:s3:::payloads", encryption_key=key)

    PowerTuning(
        stack, "Tuner", allowed_functions=[TARGET_ARN], payload_bucket=bucket, payload_keys=["tuning/*", "big.json"]
    )
    template = Template.from_stack(stack)

    reads = [s for s in policies_of(template, "TunerExecutor") if s["Action"] == "s3:GetObject"]
    assert reads == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::payloads/big.json", "arn:aws:s3:::payloads/tuning/*"],
        }
    ]
    assert any(s["Action"] == "kms:Decrypt" for s in policies_of(template, "TunerExecutor"))
    for role in ("TunerInitializer", "TunerFinalizer"):
        assert not [s for s in policies_of(template, role) if str(s["Action"]).startswith("s3:")]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handlers.execute",
            "Environment": {
                "Variables": Match.object_like({"PAYLOAD_OBJECTS": '["payloads/tuning/*","payloads/big.json"]'})
            },
        },
    )


def test_architecture_changes_are_opt_in(stack: cdk.Stack) -> None:
    PowerTuning(stack, "Tuner", allowed_functions=[TARGET_ARN], allow_architecture_changes=True)
    app = stack.node.root
    assert isinstance(app, cdk.App)
    other = cdk.Stack(app, "Other")
    PowerTuning(other, "Tuner", allowed_functions=[TARGET_ARN])
    template = Template.from_stack(stack)

    for role in ("TunerInitializer", "TunerFinalizer"):
        statements = lambda_statements(template, role)
        assert statements["lambda:UpdateFunctionCode"] == TARGET_ARN
        assert statements["lambda:GetFunction"] == TARGET_ARN
    assert "lambda:UpdateFunctionCode" not in lambda_statements(template, "TunerExecutor")
    assert "lambda:UpdateFunctionCode" not in lambda_statements(Template.from_stack(other), "TunerInitializer")


def test_s3_payloads_and_architecture_changes_are_cdk_nag_clean(tmp_path: Any) -> None:
    from tests.conftest import new_app

    app = new_app(tmp_path / "cdk.out")
    stack = cdk.Stack(app, "Nagged", env=cdk.Environment(account="123456789012", region="us-east-1"))
    bucket = s3.Bucket(stack, "Payloads", enforce_ssl=True, server_access_logs_prefix="logs/")
    PowerTuning(
        stack,
        "Tuner",
        function_name_prefix="orders-",
        payload_bucket=bucket,
        payload_keys=["tuning/*"],
        allow_architecture_changes=True,
    )

    app.synth()  # an unacknowledged AwsSolutions finding raises here
