"""DurableFunction: what it synthesizes (one test per feature and secure default, under cdk-nag) and what it
refuses; DestinedFunction's refusal of a durable configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_event_sources
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from aws_cdk.aws_lambda_event_sources import SnsEventSource

from constructs_lib import (
    BucketRoute,
    ConstructPropsError,
    DestinedFunction,
    DurableAlarmOptions,
    DurableFunction,
    EventBusRoute,
    FunctionRoute,
    Parallel,
    QueueRoute,
    RetryRule,
    TopicRoute,
)
from constructs_lib.defaults import secure_topic
from tests.conftest import echo_function

DLQ = Match.string_like_regexp("OrdersDeadLetterQueue")
FUNCTION = Match.string_like_regexp("OrdersFunction")
STATUS_DLQ = Match.string_like_regexp("OrdersStatusFailuresDeadLetterQueue")


def props(**overrides: Any) -> lambda_.FunctionProps:
    values: dict[str, Any] = {
        "runtime": lambda_.Runtime.PYTHON_3_14,
        "handler": "index.handler",
        "code": lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        **overrides,
    }
    return lambda_.FunctionProps(**values)


def durable(stack: cdk.Stack, **kwargs: Any) -> DurableFunction:
    kwargs.setdefault("function_props", props())
    return DurableFunction(stack, "Orders", **kwargs)


def environment(template: Template) -> dict[str, Any]:
    (function,) = [
        f for f in template.find_resources("AWS::Lambda::Function").values() if "DurableConfig" in f["Properties"]
    ]
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


# ------------------------------------------------------------------------------------------------ what it makes


def test_makes_a_durable_function_with_its_limits_a_version_and_an_alias(stack: cdk.Stack) -> None:
    orders = durable(stack, execution_timeout=cdk.Duration.days(30), retention_period=cdk.Duration.days(7))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "DurableConfig": {"ExecutionTimeout": 30 * 86400, "RetentionPeriodInDays": 7},
            "TracingConfig": {"Mode": "Active"},
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [DLQ, "Arn"]}},
            "Layers": [{"Ref": Match.string_like_regexp("OrdersRuntimeLayer")}],
        },
    )
    template.resource_count_is("AWS::Lambda::Version", 1)
    template.has_resource_properties("AWS::Lambda::Alias", {"Name": "live"})
    # callers invoke the alias; Lambda does not retry a durable execution
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0})
    assert orders.alias.alias_name == "live"


def test_defaults_one_day_and_fourteen_days(stack: cdk.Stack) -> None:
    durable(stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"DurableConfig": {"ExecutionTimeout": 86400, "RetentionPeriodInDays": 14}}
    )


def test_synth_prints_no_note_about_replacing_an_existing_function(stack: cdk.Stack) -> None:
    # aws-cdk-lib's info that durability replaces an existing function does not apply: the function is made durable
    durable(stack)
    assert Annotations.from_stack(stack).find_info("*", Match.string_like_regexp("durab")) == []


def test_the_role_checkpoints_its_own_executions_only(stack: cdk.Stack) -> None:
    durable(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyName": Match.string_like_regexp("OrdersCheckpointPolicy"),
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"],
                        "Effect": "Allow",
                        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [FUNCTION, "Arn"]}, ":*"]]},
                    }
                ]
            },
        },
    )
    # not the AWS managed AWSLambdaBasicDurableExecutionRolePolicy (checkpoints on '*')
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_the_alias_waits_for_the_checkpoint_grant(stack: cdk.Stack) -> None:
    """Whatever invokes the alias is deployed after the role may checkpoint: no first execution fails on it."""
    durable(stack)
    template = Template.from_stack(stack)
    (policy_id,) = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("OrdersCheckpointPolicy")}}
    )
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert policy_id in alias.get("DependsOn", [])


def test_the_runtime_layer_ships_durable_routes_and_the_sdk(stack: cdk.Stack) -> None:
    orders = durable(stack)
    Template.from_stack(stack)  # synthesizes, which bundles the layer
    assembly = stack.node.root.synth()  # type: ignore[attr-defined]
    layer = orders.runtime_layer.node.find_child("Code")
    staged = assembly.directory + "/" + layer.asset_path  # type: ignore[attr-defined]
    python = Path(staged) / "python"
    assert (python / "durable_routes" / "execution.py").is_file()
    assert (python / "aws_durable_execution_sdk_python" / "execution.py").is_file()
    assert any(p.name.startswith("aws_durable_execution_sdk_python-3.") for p in python.iterdir())
    assert not list(python.rglob("__pycache__"))


@pytest.mark.parametrize(
    ("route", "service", "action"),
    [
        (QueueRoute(), "sqs", "sqs:SendMessage"),
        (TopicRoute(), "sns", "sns:Publish"),
        (EventBusRoute(), "events", "events:PutEvents"),
    ],
)
def test_each_route_is_granted_and_written_to_the_environment(
    stack: cdk.Stack, route: Any, service: str, action: str
) -> None:
    durable(stack, on_success=route)
    template = Template.from_stack(stack)
    on_success = environment(template)["DURABLE_ROUTES_ON_SUCCESS"]
    assert f'{{"service":"{service}","target":"' in on_success["Fn::Join"][1][0]
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert action in policies


def test_a_response_only_function_route_gets_the_response_and_an_invoke_grant(stack: cdk.Stack) -> None:
    consumer = echo_function(stack, "Consumer")
    durable(stack, on_success=FunctionRoute(consumer, response_only=True))
    template = Template.from_stack(stack)
    on_success = environment(template)["DURABLE_ROUTES_ON_SUCCESS"]
    assert on_success["Fn::Join"][1][-1] == '","payload":"response"}'
    assert "lambda:InvokeFunction" in json.dumps(template.find_resources("AWS::IAM::Policy"))


def test_failures_go_to_a_new_queue_by_default(stack: cdk.Stack) -> None:
    durable(stack)
    assert '{"service":"sqs"' in environment(Template.from_stack(stack))["DURABLE_ROUTES_ON_FAILURE"]["Fn::Join"][1][0]


def test_a_bucket_failure_route(tmp_path: Any) -> None:
    from tests.conftest import new_app

    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "B")
    durable(stack, on_failure=BucketRoute())
    template = Template.from_stack(stack)
    assert '{"service":"s3"' in environment(template)["DURABLE_ROUTES_ON_FAILURE"]["Fn::Join"][1][0]
    assert "s3:PutObject" in json.dumps(template.find_resources("AWS::IAM::Policy"))


def test_timed_out_and_stopped_executions_reach_the_failure_route_through_their_status_events(
    stack: cdk.Stack,
) -> None:
    """Lambda puts a "Durable Execution Status Change" event (source aws.lambda) on the default bus; AWS's example
    filters a function's events with a prefix of its ARN on detail.functionArn
    (https://docs.aws.amazon.com/lambda/latest/dg/durable-monitoring.html). Its example event names the function
    qualified with a version: the prefix ends in ':' (this function's versions and aliases, not a function whose
    name merely starts the same), and the unqualified ARN is matched too in case an event names the function so."""
    orders = durable(stack)
    template = Template.from_stack(stack)
    arn = stack.resolve(orders.function.function_arn)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.lambda"],
                "detail-type": ["Durable Execution Status Change"],
                "detail": {
                    "status": ["TIMED_OUT", "STOPPED"],
                    "functionArn": [{"prefix": {"Fn::Join": ["", [arn, ":"]]}}, arn],
                },
            },
            "Targets": [
                {
                    "Arn": {"Fn::GetAtt": [Match.string_like_regexp("OrdersStatusFailuresFunction"), "Arn"]},
                    "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [STATUS_DLQ, "Arn"]}},
                    "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 8}),
                    "Id": Match.any_value(),
                }
            ],
        },
    )
    reporter = stack.resolve(orders.status_records.function.function_arn)
    (function,) = [
        f
        for logical_id, f in template.find_resources("AWS::Lambda::Function").items()
        if logical_id == reporter["Fn::GetAtt"][0]
    ]
    assert function["Properties"]["Handler"] == "index.handler"
    assert function["Properties"]["Layers"] == [stack.resolve(orders.runtime_layer.layer_version_arn)]
    assert "DURABLE_ROUTES_ON_FAILURE" in function["Properties"]["Environment"]["Variables"]
    dead_letter = function["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    assert dead_letter.startswith("OrdersStatusFailuresDeadLetterQueue")


def test_the_status_records_function_reads_this_functions_executions_only(stack: cdk.Stack) -> None:
    orders = durable(stack)
    template = Template.from_stack(stack)
    arn = stack.resolve(orders.function.function_arn)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "lambda:GetDurableExecution",
                        "Effect": "Allow",
                        "Resource": {"Fn::Join": ["", [arn, ":*"]]},
                    }
                ],
                "Version": "2012-10-17",
            },
            "Roles": [{"Ref": Match.string_like_regexp("OrdersStatusFailuresFunctionServiceRole")}],
        },
    )
    # no other statement grants it, nor a stop
    actions = [
        action
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    assert actions.count("lambda:GetDurableExecution") == 1
    assert "lambda:StopDurableExecution" not in actions


def test_alarms_on_failed_timed_out_stopped_executions_and_running_utilization(stack: cdk.Stack) -> None:
    orders = durable(stack, alarms=DurableAlarmOptions(threshold=2))
    template = Template.from_stack(stack)
    for metric in ("DurableExecutionFailed", "DurableExecutionTimedOut", "DurableExecutionStopped"):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm", {"MetricName": metric, "Threshold": 2, "Statistic": "Sum"}
        )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ApproximateRunningDurableExecutionsUtilization", "Threshold": 80, "Statistic": "Maximum"},
    )
    assert {"DurableExecutionFailed", "DurableExecutionTimedOut", "DurableExecutionStopped"} <= set(orders.alarms)


def test_alarms_off(stack: cdk.Stack) -> None:
    durable(stack, alarms=DurableAlarmOptions(enabled=False))
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)


def test_grant_start_grants_invoke_on_the_alias(stack: cdk.Stack) -> None:
    orders = durable(stack)
    caller = echo_function(stack, "Caller")
    orders.grant_start(caller)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    caller_policy = next(p for name, p in policies.items() if name.startswith("CallerFunctionServiceRoleDefault"))
    statements = caller_policy["Properties"]["PolicyDocument"]["Statement"]
    (invoke,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"]["Ref"].startswith("OrdersAlias")  # the alias: a qualified ARN


def test_an_sns_event_source_subscribes_the_alias_with_the_validation_finding_acknowledged_there(
    stack: cdk.Stack,
) -> None:
    made = durable(stack)
    made.add_event_source(SnsEventSource(secure_topic(stack, "OrdersTopic")))
    template = Template.from_stack(stack)

    alias_id = stack.get_logical_id(made.alias.node.default_child)  # type: ignore[arg-type]
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "lambda", "Endpoint": {"Ref": alias_id}})
    template.has_resource_properties(
        "AWS::Lambda::Permission", {"FunctionName": {"Ref": alias_id}, "Principal": "sns.amazonaws.com"}
    )
    subscription = made.alias.node.find_child("OrdersTopic")
    acknowledged = [
        entry.data
        for entry in subscription.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    assert [list(data) for data in acknowledged] == [["CloudFormation-Validate::W3694"]]
    assert not any(  # on the subscription only: the alias and the function keep the rule
        entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY for entry in made.alias.node.metadata
    )


def test_the_dead_letter_queue_needs_no_acknowledgment(stack: cdk.Stack) -> None:
    made = durable(stack)
    # cdk-nag's SQS3 recognises a function's DeadLetterConfig (the stack fixture runs cdk-nag: an unacknowledged
    # finding would fail this test), so an acknowledgment there would suppress nothing.
    Template.from_stack(stack)
    queue = made.dead_letter_queue.node
    assert not any(entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY for entry in queue.metadata)
    assert not any(
        entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for child in queue.children
        for entry in child.node.metadata
    )


def test_an_existing_dead_letter_queue(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Mine", enforce_ssl=True)
    orders = durable(stack, dead_letter_queue=queue)
    assert orders.dead_letter_queue is queue


# ------------------------------------------------------------------------------------------------ what it refuses


def refused(stack: cdk.Stack, **kwargs: Any) -> str:
    with pytest.raises(ConstructPropsError) as caught:
        durable(stack, **kwargs)
    return str(caught.value)


def test_rejects_a_runtime_before_python_3_13(stack: cdk.Stack) -> None:
    message = refused(stack, function_props=props(runtime=lambda_.Runtime.PYTHON_3_12))
    assert "Python 3.13 or newer" in message
    assert "python3.12" in message


def test_rejects_an_execution_timeout_over_one_year(stack: cdk.Stack) -> None:
    assert "between 1 second and 366 days" in refused(stack, execution_timeout=cdk.Duration.days(367))


def test_rejects_a_retention_outside_one_to_ninety_days(stack: cdk.Stack) -> None:
    assert "1 to 90 whole days" in refused(stack, retention_period=cdk.Duration.days(91))


def test_rejects_a_retention_that_is_not_whole_days(stack: cdk.Stack) -> None:
    assert "1 to 90 whole days" in refused(stack, retention_period=cdk.Duration.hours(36))


def test_rejects_an_existing_function(stack: cdk.Stack) -> None:
    message = refused(stack, function=echo_function(stack, "Existing"))
    assert "only be enabled when a function is created" in message


def test_rejects_durable_config_in_function_props(stack: cdk.Stack) -> None:
    config = lambda_.DurableConfig(execution_timeout=cdk.Duration.hours(1))
    assert "set execution_timeout= and retention_period=" in refused(stack, function_props=props(durable_config=config))


def test_rejects_retries_steps_and_retry_attempts_with_what_to_do(stack: cdk.Stack) -> None:
    message = refused(
        stack,
        retry_attempts=2,
        retries=[RetryRule(errors=["States.ALL"])],
        steps=[Parallel("Both", branches=[])],
    )
    assert "AWS does not retry a failed durable execution" in message
    assert "StepConfig(" in message
    assert "context.parallel" in message


def test_destined_function_refuses_a_durable_config_and_names_the_durable_engine(stack: cdk.Stack) -> None:
    config = lambda_.DurableConfig(execution_timeout=cdk.Duration.hours(1))
    with pytest.raises(ConstructPropsError, match=r"durable_config is set.*Use DurableFunction \(the durable engine\)"):
        DestinedFunction(stack, "Orders", function_props=props(durable_config=config))


def test_an_event_source_mapping_needs_an_execution_of_15_minutes_at_most() -> None:
    """Event source mappings invoke a durable function synchronously, its whole execution 15 minutes at most
    (https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking-esm.html)."""
    stack = cdk.Stack(cdk.App(), "Long")
    queue = sqs.Queue(stack, "Incoming", enforce_ssl=True)
    orders = durable(stack)  # the default execution timeout: a day
    with pytest.raises(ConstructPropsError, match="15 minutes at most, but execution_timeout is 1 day"):
        orders.add_event_source(lambda_event_sources.SqsEventSource(queue))
    other = cdk.Stack(cdk.App(), "Other")
    short = durable(other, execution_timeout=Duration.minutes(15))
    short.add_event_source(lambda_event_sources.SqsEventSource(sqs.Queue(other, "Incoming", enforce_ssl=True)))
    Template.from_stack(other).resource_count_is("AWS::Lambda::EventSourceMapping", 1)
