"""SlackErrorReporter and SlackNotifier: the template they make (cdk-nag on, through the ``stack`` fixture), one
``test_rejects_*`` per validation rule, no webhook value in any template, and the example stack run through the
local kit with a real HTTP server playing Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from constructs_lib import acknowledge_unrotated_secret
from constructs_lib._internal.validation import ConstructPropsError
from constructs_lib.defaults import secure_function, secure_key
from constructs_lib.engines.destined_function import DestinedFunction
from constructs_lib.engines.function_workflow import FunctionWorkflow
from constructs_lib.records import ExecutionStatus
from constructs_lib.testing import LocalKit
from constructs_lib.testing._engine.template import SynthesizedStack
from constructs_lib.workloads.slack.slack_error_reporter import SlackErrorReporter, SlackWebhook
from constructs_lib.workloads.slack.slack_notifier import FAILED_STATUSES, SlackNotifier
from stacks._code import example_code
from stacks.slack_error_reporting_stack import SlackErrorReportingStack
from tests.conftest import comparable, new_app, plain_app_at, synthesized
from tests.slack_server import WEBHOOK_PATH, SlackWebhookServer

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack/webhook-AbCdEf"
WEBHOOK_URL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
ENV = cdk.Environment(account="123456789012", region="us-east-1")
SUPPORTED = "python3.11, python3.12, python3.13, python3.14"


def python_function(
    scope: cdk.Stack,
    construct_id: str = "Validate",
    *,
    handler: str = "orders.validate",
    runtime: lambda_.Runtime = lambda_.Runtime.PYTHON_3_14,
) -> lambda_.Function:
    props = lambda_.FunctionProps(runtime=runtime, handler=handler, code=example_code("slack_example"))
    function, _ = secure_function(scope, construct_id, function_props=props)
    return function


def imported_secret(scope: cdk.Stack) -> secretsmanager.ISecret:
    return secretsmanager.Secret.from_secret_complete_arn(scope, "Webhook", SECRET_ARN)


def reporter(scope: cdk.Stack, **props: Any) -> SlackErrorReporter:
    if "webhook" not in props:
        props["webhook"] = SlackWebhook.from_secret(imported_secret(scope))
    return SlackErrorReporter(scope, "Slack", **props)


def logical_id(scope: cdk.Stack, construct: Any) -> str:
    child = construct.node.default_child
    return str(scope.resolve(child.logical_id))


def statements(template: Template, function: lambda_.Function) -> list[dict[str, Any]]:
    """Every statement of the function's role's policies."""
    role = logical_id(cdk.Stack.of(function), function.role)
    found: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions_of(found: list[dict[str, Any]]) -> set[str]:
    result: set[str] = set()
    for statement in found:
        action = statement["Action"]
        result.update([action] if isinstance(action, str) else action)
    return result


# ------------------------------------------------------------------------------------------------ the layer


def test_the_layer_is_the_python_package_for_every_supported_runtime_and_architecture(stack: cdk.Stack) -> None:
    made = reporter(stack)

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {
            "CompatibleRuntimes": ["python3.11", "python3.12", "python3.13", "python3.14"],
            "CompatibleArchitectures": ["x86_64", "arm64"],
            "LicenseInfo": "Apache-2.0",
        },
    )
    layer = template.find_resources("AWS::Lambda::LayerVersion")[logical_id(stack, made.layer)]
    folder = SynthesizedStack.from_stack(stack).asset_dir(layer["Properties"]["Content"], where="the layer")
    package = folder / "python" / "slack_reporter"
    assert sorted(path.name for path in package.iterdir()) == [
        "__init__.py",
        "formatter.py",
        "limiter.py",
        "poster.py",
        "reporting.py",
        "webhook.py",
        "wrapper.py",
    ]
    assert not list(folder.rglob("__pycache__"))


def test_the_layer_imports_the_standard_library_only() -> None:
    import ast

    from constructs_lib._internal.assets import LIBRARY_RUNTIME

    allowed_third_party = {"boto3", "botocore"}  # imported on the first report only, shipped by the runtime
    imported: set[str] = set()
    for path in (LIBRARY_RUNTIME["slack_reporter"] / "python").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    import sys

    assert imported - set(sys.stdlib_module_names) == allowed_third_party


# ------------------------------------------------------------------------------------------------ wrap, attach


def test_wrap_moves_the_handler_and_names_where_the_webhook_is(stack: cdk.Stack) -> None:
    function = python_function(stack)
    made = reporter(stack)
    made.wrap(function)

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "slack_reporter.wrapper.handler",
            "Layers": [{"Ref": logical_id(stack, made.layer)}],
            "Environment": {
                "Variables": {
                    "SLACK_REPORTER_HANDLER": "orders.validate",
                    "SLACK_WEBHOOK_SECRET_ARN": SECRET_ARN,
                    "SLACK_REPORTER_TIMEOUT_SECONDS": "2",
                    "SLACK_REPORTER_MIN_INTERVAL_SECONDS": "1",
                }
            },
        },
    )
    assert made.wrapped_functions == [function]


def test_only_the_wrapped_function_may_read_the_webhook_and_only_read_it(stack: cdk.Stack) -> None:
    wrapped = python_function(stack, "Validate")
    other = python_function(stack, "Other")
    reporter(stack, functions=[wrapped])

    template = Template.from_stack(stack)
    secret_statements = [s for s in statements(template, wrapped) if "secretsmanager" in json.dumps(s["Action"])]
    assert secret_statements == [{"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": SECRET_ARN}]
    assert not any(action.startswith(("secretsmanager:", "kms:")) for action in actions_of(statements(template, other)))
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": "orders.validate", "Layers": Match.absent()})


def test_a_secret_with_its_own_key_is_decrypted_through_secrets_manager_only(stack: cdk.Stack) -> None:
    key = secure_key(stack, "WebhookKey", "Encrypts the Slack webhook secret")
    secret = secretsmanager.Secret(stack, "Webhook", encryption_key=key)
    acknowledge_unrotated_secret(secret, reason="A Slack webhook URL is issued by Slack: it cannot be rotated here")
    function = python_function(stack)
    SlackErrorReporter(stack, "Slack", webhook=SlackWebhook.from_secret(secret), functions=[function])

    found = statements(Template.from_stack(stack), function)
    assert {
        "Action": "secretsmanager:GetSecretValue",
        "Effect": "Allow",
        "Resource": {"Ref": logical_id(stack, secret)},
    } in found
    assert {
        "Action": "kms:Decrypt",
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [logical_id(stack, key), "Arn"]},
    } in found


def test_grant_read_webhook_returns_one_grant_for_the_secret_and_its_key(stack: cdk.Stack) -> None:
    key = secure_key(stack, "WebhookKey", "Encrypts the Slack webhook secret")
    secret = secretsmanager.Secret(stack, "Webhook", encryption_key=key)
    acknowledge_unrotated_secret(secret, reason="A Slack webhook URL is issued by Slack: it cannot be rotated here")
    made = SlackErrorReporter(stack, "Slack", webhook=SlackWebhook.from_secret(secret))
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    grant = made.grant_read_webhook(reader)

    assert grant.success
    actions = sorted(action for statement in grant.principal_statements for action in statement.actions)
    assert actions == ["kms:Decrypt", "secretsmanager:GetSecretValue"]


def test_a_secret_imported_by_name_is_granted_with_its_six_random_characters(stack: cdk.Stack) -> None:
    """cdk-nag passes: -?????? is no IAM5 wildcard (IAM5 looks for "*"), so nothing needs acknowledging."""
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Webhook", "slack/webhook")
    function = python_function(stack)
    SlackErrorReporter(stack, "Slack", webhook=SlackWebhook.from_secret(secret, field="url"), functions=[function])

    template = Template.from_stack(stack)
    (grant,) = [s for s in statements(template, function) if s["Action"] == "secretsmanager:GetSecretValue"]
    assert grant["Resource"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack/webhook-??????"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"SLACK_WEBHOOK_SECRET_FIELD": "url"})}},
    )


def test_a_secret_imported_by_name_in_an_environment_agnostic_stack_is_nag_clean(tmp_path: Path) -> None:
    """cdk-nag passes with the ARN as a Fn::Join (<AWS::Partition>, <AWS::Region>...) too: nothing to acknowledge."""
    agnostic = cdk.Stack(new_app(tmp_path / "cdk.out"), "Agnostic")
    secret = secretsmanager.Secret.from_secret_name_v2(agnostic, "Webhook", "slack/webhook")
    function = python_function(agnostic)
    SlackErrorReporter(agnostic, "Slack", webhook=SlackWebhook.from_secret(secret), functions=[function])

    template = Template.from_stack(agnostic)  # raises on an unacknowledged cdk-nag finding
    (grant,) = [s for s in statements(template, function) if s["Action"] == "secretsmanager:GetSecretValue"]
    assert grant["Resource"]["Fn::Join"][1][-1] == ":secret:slack/webhook-??????"


def test_an_ssm_securestring_parameter_can_hold_the_webhook(stack: cdk.Stack) -> None:
    key = secure_key(stack, "ParameterKey", "Encrypts the Slack webhook parameter")
    function = python_function(stack)
    SlackErrorReporter(
        stack, "Slack", webhook=SlackWebhook.from_parameter("/slack/webhook", encryption_key=key), functions=[function]
    )

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"SLACK_WEBHOOK_PARAMETER_NAME": "/slack/webhook"})}},
    )
    found = statements(template, function)
    (parameter,) = [s for s in found if s["Action"] == "ssm:GetParameter"]
    assert parameter["Resource"] == "arn:aws:ssm:us-east-1:123456789012:parameter/slack/webhook"
    (decrypt,) = [s for s in found if s["Action"] == "kms:Decrypt"]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}


def test_attach_adds_the_layer_and_access_but_keeps_the_handler(stack: cdk.Stack) -> None:
    function = python_function(stack)
    made = reporter(stack)
    made.attach(function)

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "orders.validate",
            "Layers": [{"Ref": logical_id(stack, made.layer)}],
            "Environment": {"Variables": Match.object_like({"SLACK_WEBHOOK_SECRET_ARN": SECRET_ARN})},
        },
    )
    assert "secretsmanager:GetSecretValue" in actions_of(statements(template, function))
    assert made.wrapped_functions == []


def test_wrapping_twice_changes_nothing_the_second_time(stack: cdk.Stack) -> None:
    function = python_function(stack)
    made = reporter(stack, functions=[function])
    made.wrap(function)
    made.attach(function)

    template = Template.from_stack(stack)
    (resource,) = [r for r in template.find_resources("AWS::Lambda::Function").values() if "Layers" in r["Properties"]]
    assert resource["Properties"]["Environment"]["Variables"]["SLACK_REPORTER_HANDLER"] == "orders.validate"
    assert len(resource["Properties"]["Layers"]) == 1
    grants = [s for s in statements(template, function) if s["Action"] == "secretsmanager:GetSecretValue"]
    assert len(grants) == 1


def test_post_timeout_and_rate_limit_reach_the_function(stack: cdk.Stack) -> None:
    function = python_function(stack)
    reporter(stack, functions=[function], timeout=Duration.millis(500), min_interval=Duration.seconds(0))

    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"SLACK_REPORTER_TIMEOUT_SECONDS": "0.5", "SLACK_REPORTER_MIN_INTERVAL_SECONDS": "0"}
                )
            }
        },
    )


# ------------------------------------------------------------------------------------------------ the notifier


def test_the_notifier_runs_on_the_layer_and_keeps_what_slack_refused(stack: cdk.Stack) -> None:
    made = reporter(stack)
    notifier = SlackNotifier(stack, "SlackNotifier", reporter=made)

    template = Template.from_stack(stack)
    function_id = logical_id(stack, notifier.function)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "notifier.handler",
            "Runtime": "python3.14",
            "Timeout": 30,
            "Layers": [{"Ref": logical_id(stack, made.layer)}],
            "Environment": {"Variables": Match.object_like({"SLACK_WEBHOOK_SECRET_ARN": SECRET_ARN})},
        },
    )
    assert notifier.failure_route.queue is not None
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": function_id},
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [logical_id(stack, notifier.failure_route.queue), "Arn"]}}
            },
        },
    )
    assert notifier.route.function is notifier.function


def test_the_notifier_function_props_are_merged_over_its_defaults(stack: cdk.Stack) -> None:
    notifier = SlackNotifier(
        stack,
        "SlackNotifier",
        reporter=reporter(stack),
        function_props=lambda_.FunctionOptions(memory_size=256, reserved_concurrent_executions=2),
    )
    assert notifier.timeout.to_seconds() == 30
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "notifier.handler",  # the notifier's own, whatever the options
            "Timeout": 30,
            "MemorySize": 256,
            "ReservedConcurrentExecutions": 2,
            "TracingConfig": {"Mode": "Active"},
        },
    )


def test_the_notifier_route_takes_destination_failures_and_failed_executions(stack: cdk.Stack) -> None:
    notifier = SlackNotifier(stack, "SlackNotifier", reporter=reporter(stack))
    charge = DestinedFunction(
        stack,
        "Charge",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="orders.charge", code=example_code("slack_example")
        ),
        on_failure=notifier.route,
    )
    workflow = FunctionWorkflow(stack, "Shipping", function=python_function(stack, "Ship", handler="orders.ship"))
    workflow.notify_on("SlackOnFailure", statuses=FAILED_STATUSES, route=notifier.route)

    template = Template.from_stack(stack)
    notifier_arn = {"Fn::GetAtt": [logical_id(stack, notifier.function), "Arn"]}
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": logical_id(stack, charge.function)},
            "DestinationConfig": {"OnFailure": {"Destination": notifier_arn}},
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {"detail": Match.object_like({"status": ["FAILED", "TIMED_OUT", "ABORTED"]})}
            ),
            "Targets": [Match.object_like({"Arn": notifier_arn})],
        },
    )
    assert [s.value for s in FAILED_STATUSES] == [
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.ABORTED,
    ]


# ------------------------------------------------------------------------------------------------ validation


def rejected(stack: cdk.Stack, build: Any) -> str:
    with pytest.raises(ConstructPropsError) as caught:
        build()
    return str(caught.value)


def test_rejects_a_webhook_url_given_as_a_string(stack: cdk.Stack) -> None:
    message = rejected(stack, lambda: SlackErrorReporter(stack, "Slack", webhook=WEBHOOK_URL))  # type: ignore[arg-type]
    assert "webhook: expected a SlackWebhook, got a URL (https://hooks.slack.com/...)" in message
    assert "a URL given here would be written into the template: keep it in Secrets Manager" in message
    assert WEBHOOK_URL not in message


def test_rejects_a_webhook_url_given_to_from_secret(stack: cdk.Stack) -> None:
    webhook = SlackWebhook.from_secret(WEBHOOK_URL)  # type: ignore[arg-type]
    message = rejected(stack, lambda: reporter(stack, webhook=webhook))
    assert (
        "webhook.secret: expected a secretsmanager.ISecret or None, got a URL (https://hooks.slack.com/...)" in message
    )
    assert WEBHOOK_URL not in message


def test_rejects_a_webhook_that_is_not_a_slack_webhook(stack: cdk.Stack) -> None:
    secret = imported_secret(stack)
    message = rejected(stack, lambda: SlackErrorReporter(stack, "Slack", webhook=secret))  # type: ignore[arg-type]
    assert "webhook: expected a SlackWebhook, got an imported secretsmanager.ISecret" in message
    assert "(make one with SlackWebhook.from_parameter(...), SlackWebhook.from_secret(...))" in message


def test_rejects_a_url_as_the_parameter_name(stack: cdk.Stack) -> None:
    message = rejected(stack, lambda: reporter(stack, webhook=SlackWebhook.from_parameter(WEBHOOK_URL)))
    assert "from_parameter takes the parameter's name, not a URL" in message
    assert WEBHOOK_URL not in message


def test_rejects_a_url_as_the_secret_field(stack: cdk.Stack) -> None:
    webhook = SlackWebhook.from_secret(imported_secret(stack), field=WEBHOOK_URL)
    message = rejected(stack, lambda: reporter(stack, webhook=webhook))
    assert "field names the JSON field that holds the URL, not the URL" in message


def test_rejects_a_webhook_with_neither_or_both_places(stack: cdk.Stack) -> None:
    neither = rejected(stack, lambda: reporter(stack, webhook=SlackWebhook()))
    assert "give SlackWebhook.from_secret(secret) or SlackWebhook.from_parameter(name), exactly one" in neither


def test_rejects_a_token_parameter_name(stack: cdk.Stack) -> None:
    name = cdk.CfnParameter(stack, "ParameterName").value_as_string
    message = rejected(stack, lambda: reporter(stack, webhook=SlackWebhook.from_parameter(name)))
    assert "from_parameter needs the parameter name as a literal" in message


def test_rejects_a_malformed_parameter_name(stack: cdk.Stack) -> None:
    message = rejected(stack, lambda: reporter(stack, webhook=SlackWebhook.from_parameter("slack webhook!")))
    assert "'slack webhook!' is not an SSM parameter name" in message


def test_rejects_a_post_timeout_out_of_range(stack: cdk.Stack) -> None:
    message = rejected(stack, lambda: reporter(stack, timeout=Duration.seconds(30)))
    assert "timeout must be between 100 ms and 10 s" in message
    assert "got 30000 ms" in message


def test_rejects_a_min_interval_out_of_range(stack: cdk.Stack) -> None:
    message = rejected(stack, lambda: reporter(stack, min_interval=Duration.minutes(5)))
    assert "min_interval must be between 0 and 60 s, got 300000 ms" in message


def test_rejects_wrapping_an_imported_function(stack: cdk.Stack) -> None:
    imported = lambda_.Function.from_function_arn(stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:x")
    made = reporter(stack)
    message = rejected(stack, lambda: made.wrap(imported))
    assert "wrap: needs a lambda_.Function defined in this app" in message
    assert "an imported function (from_function_arn / from_function_attributes) cannot be changed" in message


def test_rejects_wrapping_a_version_or_alias(stack: cdk.Stack) -> None:
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=python_function(stack).current_version)
    made = reporter(stack)
    message = rejected(stack, lambda: made.wrap(alias))
    assert "got Alias; wrap the function itself" in message


def test_rejects_a_function_of_another_language(stack: cdk.Stack) -> None:
    function = lambda_.Function(
        stack,
        "Node",
        runtime=lambda_.Runtime.NODEJS_22_X,
        handler="index.handler",
        code=lambda_.Code.from_inline("exports.handler = async () => 1;"),
    )
    made = reporter(stack)
    message = rejected(stack, lambda: made.wrap(function))
    assert f"the Slack reporter layer is Python ({SUPPORTED}); the function's runtime is nodejs22.x" in message


def test_rejects_an_unsupported_python_version(stack: cdk.Stack) -> None:
    function = python_function(stack, runtime=lambda_.Runtime.PYTHON_3_10)
    made = reporter(stack)
    message = rejected(stack, lambda: made.attach(function))
    assert "attach(Test/Validate): the Slack reporter layer is Python" in message
    assert "the function's runtime is python3.10" in message


def test_rejects_a_container_image_function(stack: cdk.Stack) -> None:
    repository = ecr.Repository.from_repository_name(stack, "Repo", "orders")
    function = lambda_.DockerImageFunction(stack, "Image", code=lambda_.DockerImageCode.from_ecr(repository))
    made = reporter(stack)
    message = rejected(stack, lambda: made.wrap(function))
    assert "a container image function has no handler to wrap and takes no layers" in message


def test_rejects_a_token_handler(stack: cdk.Stack) -> None:
    handler = cdk.CfnParameter(stack, "Handler").value_as_string
    function = python_function(stack, handler=handler)
    made = reporter(stack)
    message = rejected(stack, lambda: made.wrap(function))
    assert "the handler is a token; give it as a literal string" in message


def test_rejects_a_function_wrapped_by_another_reporter(stack: cdk.Stack) -> None:
    function = python_function(stack)
    reporter(stack, functions=[function])
    other = SlackErrorReporter(stack, "Other", webhook=SlackWebhook.from_parameter("/slack/other"))
    message = rejected(stack, lambda: other.wrap(function))
    assert "the handler is already slack_reporter.wrapper.handler (wrapped by another SlackErrorReporter?)" in message


def test_rejects_a_notifier_timeout_too_short_for_a_retry(stack: cdk.Stack) -> None:
    made = reporter(stack)
    options = lambda_.FunctionOptions(timeout=Duration.seconds(4))
    message = rejected(stack, lambda: SlackNotifier(stack, "Notifier", reporter=made, function_props=options))
    assert "timeout must be at least the reporter's post timeout plus 3 s (5 s)" in message


def test_rejects_asynchronous_invocation_options_in_the_notifier_function_props(stack: cdk.Stack) -> None:
    made = reporter(stack)
    options = lambda_.FunctionOptions(retry_attempts=0)
    message = rejected(stack, lambda: SlackNotifier(stack, "Notifier", reporter=made, function_props=options))
    assert "function_props.retry_attempts is set: the notifier's asynchronous invocation is set with" in message


def test_rejects_a_notifier_without_a_reporter(stack: cdk.Stack) -> None:
    message = rejected(stack, lambda: SlackNotifier(stack, "Notifier", reporter=None))  # type: ignore[arg-type]
    assert "reporter: expected a SlackErrorReporter, got None; this prop is required" in message


# ------------------------------------------------------------------------------------------------ the example stack


@pytest.mark.parametrize("env", [ENV, None], ids=["in-an-environment", "environment-agnostic"])
def test_the_example_stack_is_nag_clean_and_holds_no_webhook_value(tmp_path: Path, env: cdk.Environment | None) -> None:
    app = new_app(tmp_path / "cdk.out")
    example = SlackErrorReportingStack(app, "SlackErrorReporting", env=env)
    text = json.dumps(app.synth().get_stack_by_name("SlackErrorReporting").template)

    assert "hooks.slack" not in text
    assert '"SecretString"' not in text  # the secret is generated: no value at all in the template
    assert '"GenerateSecretString"' in text
    assert "https://" not in text
    template = Template.from_stack(example)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "slack_reporter.wrapper.handler",
            "Environment": {"Variables": Match.object_like({"SLACK_REPORTER_HANDLER": "orders.validate"})},
        },
    )
    template.has_output("SlackWebhookSecretArn", {"Value": {"Ref": logical_id(example, example.webhook_secret)}})


@pytest.mark.parametrize(
    "value", [WEBHOOK_URL, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"], ids=["url", "bot-token"]
)
def test_the_example_stack_refuses_a_webhook_url_or_token_as_the_secret_name(tmp_path: Path, value: str) -> None:
    app = new_app(tmp_path / "cdk.out")
    app.node.set_context("slack_webhook_secret_name", value)
    with pytest.raises(ValueError, match="looks like the URL \\(or a Slack token\\) itself") as caught:
        SlackErrorReportingStack(app, "SlackErrorReporting", env=ENV)
    assert value not in str(caught.value)


def test_rejects_a_slack_token_as_the_parameter_name_or_the_field(stack: cdk.Stack) -> None:
    token = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    message = rejected(stack, lambda: reporter(stack, webhook=SlackWebhook.from_parameter(token)))
    assert "from_parameter takes the parameter's name, not a URL" in message
    assert token not in message


@pytest.mark.parametrize("env", [ENV, None], ids=["in-an-environment", "environment-agnostic"])
def test_the_example_stack_can_use_an_existing_secret_by_name(tmp_path: Path, env: cdk.Environment | None) -> None:
    app = new_app(tmp_path / "cdk.out")
    app.node.set_context("slack_webhook_secret_name", "team/slack-webhook")
    example = SlackErrorReportingStack(app, "SlackErrorReporting", env=env)

    template = Template.from_stack(example)  # cdk-nag passes: the name's -?????? suffix is no IAM5 wildcard
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    assert "team/slack-webhook" in json.dumps(template.to_json())


# ------------------------------------------------------------------------------------------------ execution


@pytest.fixture(
    scope="module", params=[sfn.QueryLanguage.JSON_PATH, sfn.QueryLanguage.JSONATA], ids=["jsonpath", "jsonata"]
)
def example(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> cdk.Stack:
    """The example stack, its Shipping workflow in JSONPath, then in JSONata: every execution test runs in both."""
    outdir = tmp_path_factory.mktemp("slack-cdk.out")
    app = plain_app_at(outdir)
    return SlackErrorReportingStack(app, "SlackErrorReporting", env=ENV, query_language=request.param)


@pytest.fixture
def slack() -> Iterator[SlackWebhookServer]:
    with SlackWebhookServer() as server:
        yield server


def put_webhook(kit: LocalKit, url: str) -> None:
    """What a user does after deploying: the URL goes into the stack's secret."""
    kit.client("secretsmanager").put_secret_value(SecretId=kit.ref("SlackWebhookSecret"), SecretString=url)


def fields(post: Any) -> dict[str, str]:
    return dict(field["text"].split("\n", 1) for field in post.json["blocks"][2]["fields"])


@pytest.mark.execution
def test_the_wrapped_function_posts_its_error_and_still_fails_with_it(
    example: cdk.Stack, slack: SlackWebhookServer
) -> None:
    with LocalKit(synthesized(example)) as kit:
        put_webhook(kit, slack.url)
        name = kit.function("Validate").name
        bad = kit.invoke("Validate", {"orderId": "", "quantity": 0})
        good = kit.invoke("Validate", {"orderId": "o-1", "quantity": 2})

    assert bad.error_type == "InvalidOrderError"
    assert bad.error_message == "orderId must be a non-empty string; quantity must be a positive integer"
    assert good.result == {"orderId": "o-1", "quantity": 2, "status": "VALID"}
    (post,) = slack.posts
    assert post.path == WEBHOOK_PATH
    blocks = post.json["blocks"]
    assert blocks[0]["text"]["text"] == f":rotating_light: InvalidOrderError in {name}"
    assert blocks[1]["text"]["text"] == f"```{bad.error_message}```"
    assert fields(post) == {
        "*Function*": name,
        "*Version*": "$LATEST",
        "*Request id*": bad.request_id,
        "*Account*": "123456789012",
        "*Region*": "us-east-1",
    }
    trace = blocks[3]["text"]["text"]
    assert trace.endswith(f"orders.InvalidOrderError: {bad.error_message}```")
    assert ", in _order" in trace
    assert "slack_reporter" not in trace  # the wrapper's own frames are left out
    assert "/log-events/" in blocks[4]["text"]["text"]


@pytest.mark.execution
def test_a_destined_functions_failure_reaches_slack_through_the_notifier(
    example: cdk.Stack, slack: SlackWebhookServer
) -> None:
    with LocalKit(synthesized(example)) as kit:
        put_webhook(kit, slack.url)
        charge = kit.function("Charge/Function").name
        outcome = kit.invoke_async("Charge/Function", {"orderId": "o-2", "quantity": 1, "amount": 5000})
        notifications = kit.async_invocations("SlackNotifier/Notifier/Function")
        notifier_id = kit.logical_id("SlackNotifier/Notifier/Function")

    assert outcome.condition == "RetriesExhausted"
    assert outcome.delivered_to == (notifier_id,)
    assert [n.condition for n in notifications] == ["Success"]
    (post,) = slack.posts
    assert post.json["blocks"][0]["text"]["text"] == f":rotating_light: PaymentDeclinedError in {charge}"
    assert post.json["blocks"][1]["text"]["text"] == "```charge of 5000 for order o-2 declined: over the limit```"
    assert fields(post)["*Condition*"] == "RetriesExhausted after 3 attempts"
    assert fields(post)["*Request id*"] == outcome.record["requestContext"]["requestId"]


@pytest.mark.execution
def test_a_failed_workflow_execution_reaches_slack_through_the_notifier(
    example: cdk.Stack, slack: SlackWebhookServer
) -> None:
    with LocalKit(synthesized(example)) as kit:
        put_webhook(kit, slack.url)
        shipped = kit.start_execution("Shipping/StateMachine", {"orderId": "o-3", "quantity": 1, "address": "Kiel"})
        failed = kit.start_execution("Shipping/StateMachine", {"orderId": "o-4", "quantity": 1})
        machine = kit.physical("Shipping/StateMachine").attributes["Name"]

    assert shipped.status == "SUCCEEDED"
    assert failed.status == "FAILED"
    assert failed.error == "ShippingError"
    (post,) = slack.posts  # the succeeded execution is not reported
    assert post.json["blocks"][0]["text"]["text"] == f":rotating_light: ShippingError in workflow {machine}"
    assert post.json["blocks"][1]["text"]["text"] == "```order o-4 has no shipping address```"
    assert fields(post)["*Status*"] == "FAILED"
    assert fields(post)["*Execution*"] == failed.execution_arn.rsplit(":", 1)[-1]
    assert post.json["blocks"][-1]["text"]["text"].startswith(
        "<https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/"
        f"{failed.execution_arn}|"
    )


@pytest.mark.execution
def test_before_the_url_is_in_the_secret_nothing_is_posted_and_nothing_is_lost(
    example: cdk.Stack, slack: SlackWebhookServer
) -> None:
    with LocalKit(synthesized(example)) as kit:
        bad = kit.invoke("Validate", {"orderId": "o-5", "quantity": -1})
        kit.invoke_async("Charge/Function", {"orderId": "o-6", "quantity": 1, "amount": 5000})
        (notification,) = kit.async_invocations("SlackNotifier/Notifier/Function")
        kept = kit.messages("SlackNotifier/Notifier/OnFailureQueue")

    assert bad.error_type == "InvalidOrderError"  # the placeholder never changes the function's own error
    assert slack.posts == []
    assert notification.condition == "RetriesExhausted"
    assert [a.error_type for a in notification.attempts] == ["SlackDeliveryError"] * 3
    (record,) = kept
    assert record["requestPayload"]["requestPayload"] == {"orderId": "o-6", "quantity": 1, "amount": 5000}


def workflow_posts(stack: cdk.Stack) -> list[Any]:
    """What Slack receives from the Shipping workflow of ``stack``: a shipped order and one without an address."""
    with SlackWebhookServer() as server, LocalKit.from_stack(stack) as kit:
        put_webhook(kit, server.url)
        kit.start_execution("Shipping/StateMachine", {"orderId": "o-3", "quantity": 1, "address": "Kiel"})
        failed = kit.start_execution("Shipping/StateMachine", {"orderId": "o-4", "quantity": 1})
        assert failed.status == "FAILED"
        return [comparable(post.json) for post in server.posts]


@pytest.mark.execution
def test_slack_receives_the_same_post_from_the_jsonpath_and_the_jsonata_workflow(tmp_path: Path) -> None:
    def example_in(language: sfn.QueryLanguage) -> cdk.Stack:
        app = plain_app_at(tmp_path / language.value)
        return SlackErrorReportingStack(app, "SlackErrorReporting", env=ENV, query_language=language)

    jsonpath = workflow_posts(example_in(sfn.QueryLanguage.JSON_PATH))
    jsonata = workflow_posts(example_in(sfn.QueryLanguage.JSONATA))

    assert [post["blocks"][1]["text"]["text"] for post in jsonpath] == ["```order o-4 has no shipping address```"]
    assert jsonata == jsonpath
