"""DestinedFunction: what it synthesizes (one test per feature and secure default) and what it refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Capture, Match, Template

from constructs_lib import (
    AsyncAlarmOptions,
    BucketRoute,
    Choice,
    Condition,
    ConstructPropsError,
    DestinedFunction,
    EventBusRoute,
    ForEach,
    FunctionRoute,
    Invoke,
    Parallel,
    QueueRoute,
    RetryRule,
    Route,
    Step,
    StreamFailureOptions,
    TopicRoute,
)


def props(**overrides: Any) -> lambda_.FunctionProps:
    values: dict[str, Any] = {
        "runtime": lambda_.Runtime.PYTHON_3_14,
        "handler": "index.handler",
        "code": lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        **overrides,
    }
    return lambda_.FunctionProps(**values)


def user_function(stack: cdk.Stack, construct_id: str) -> lambda_.Function:
    """A function the user made (with a role that carries no AWS managed policy, as cdk-nag wants)."""
    role = iam.Role(stack, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    return lambda_.Function(stack, construct_id, role=role, **props()._values)


def destined(stack: cdk.Stack, construct_id: str = "Destined", **kwargs: Any) -> DestinedFunction:
    kwargs.setdefault("function_props", props())
    return DestinedFunction(stack, construct_id, **kwargs)


def target_function(stack: cdk.Stack) -> lambda_.Function:
    return DestinedFunction(stack, "Target", function_props=props()).function  # type: ignore[return-value]


def invoke_config(template: Template) -> dict[str, Any]:
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 1, configs
    properties: dict[str, Any] = next(iter(configs.values()))["Properties"]
    return properties


def ref_id(value: dict[str, Any]) -> str:
    """The logical id behind a Ref or Fn::GetAtt."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


# ------------------------------------------------------------------------------------------ function and defaults


def test_wraps_an_existing_function(stack: cdk.Stack) -> None:
    function = user_function(stack, "Mine")
    construct = DestinedFunction(stack, "Destined", function=function, on_success=QueueRoute())
    assert construct.function is function
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 1)
    config = invoke_config(template)
    assert config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 21600


def test_made_function_has_tracing_own_log_group_and_no_managed_policy(stack: cdk.Stack) -> None:
    construct = destined(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Lambda::Function", {"TracingConfig": {"Mode": "Active"}})
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    log_group = Capture()
    template.has_resource_properties("AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": log_group}}})
    roles = template.find_resources("AWS::IAM::Role")
    assert len(roles) == 1
    assert "ManagedPolicyArns" not in next(iter(roles.values()))["Properties"]
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [log_group.as_string(), "Arn"]},
                        }
                    ]
                )
            }
        },
    )
    assert construct.log_group is not None


def test_user_props_win_over_defaults(stack: cdk.Stack) -> None:
    destined(stack, function_props=props(tracing=lambda_.Tracing.PASS_THROUGH, memory_size=512))
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"TracingConfig": {"Mode": "PassThrough"}, "MemorySize": 512}
    )


def test_default_on_failure_is_an_encrypted_tls_only_queue_with_a_dlq(stack: cdk.Stack) -> None:
    construct = destined(stack)
    template = Template.from_stack(stack)
    assert construct.failure_route.queue is not None
    assert construct.failure_route.dead_letter_queue is not None
    failure = invoke_config(template)["DestinationConfig"]["OnFailure"]["Destination"]
    queue_id = ref_id(failure)
    queue = template.to_json()["Resources"][queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            },
            "Queues": [{"Ref": queue_id}],
        },
    )


def test_retry_attempts_and_event_age(stack: cdk.Stack) -> None:
    destined(stack, retry_attempts=0, max_event_age=cdk.Duration.minutes(5))
    config = invoke_config(Template.from_stack(stack))
    assert config["MaximumRetryAttempts"] == 0
    assert config["MaximumEventAgeInSeconds"] == 300


# ------------------------------------------------------------------------------------------ routes


@pytest.mark.parametrize("kind", ["function", "queue", "topic", "event_bus", "default_bus"])
def test_on_success_routes(stack: cdk.Stack, kind: str) -> None:
    routes: dict[str, Callable[[], Route]] = {
        "function": lambda: FunctionRoute(target_function(stack)),
        "queue": QueueRoute,
        "topic": TopicRoute,
        "event_bus": EventBusRoute,
        "default_bus": EventBusRoute.default_bus,
    }
    destined(stack, on_success=routes[kind]())
    template = Template.from_stack(stack)
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    mine = next(c["Properties"] for c in configs.values() if "OnSuccess" in c["Properties"]["DestinationConfig"])
    destination = mine["DestinationConfig"]["OnSuccess"]["Destination"]
    expected = {
        "function": ("AWS::Lambda::Function", "lambda:InvokeFunction"),
        "queue": ("AWS::SQS::Queue", "sqs:SendMessage"),
        "topic": ("AWS::SNS::Topic", "sns:Publish"),
        "event_bus": ("AWS::Events::EventBus", "events:PutEvents"),
    }
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    if kind == "default_bus":
        assert "event-bus/default" in str(destination)
        granted = [s for s in statements if s["Action"] == "events:PutEvents"]
        assert granted
        assert granted[0]["Resource"] == destination
        return
    resource_type, action = expected[kind]
    logical_id = ref_id(destination)
    assert template.to_json()["Resources"][logical_id]["Type"] == resource_type
    granted = [
        s
        for s in statements
        if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        and logical_id in str(s["Resource"])
    ]
    assert granted, statements


def test_made_topic_is_kms_encrypted_with_rotation_and_tls_only(stack: cdk.Stack) -> None:
    destined(stack, on_success=TopicRoute())
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_bucket_on_failure(stack: cdk.Stack) -> None:
    destined(stack, on_failure=BucketRoute())
    template = Template.from_stack(stack)
    failure = invoke_config(template)["DestinationConfig"]["OnFailure"]["Destination"]
    bucket_id = ref_id(failure)
    bucket = template.to_json()["Resources"][bucket_id]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "LoggingConfiguration" in bucket
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "s3:PutObject",
                            "Effect": "Allow",
                            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]},
                        },
                        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": {"Fn::GetAtt": [bucket_id, "Arn"]}},
                    ]
                )
            }
        },
    )
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }


def test_existing_queue_topic_bus_bucket_are_used_not_made(stack: cdk.Stack) -> None:
    queue = sqs.Queue.from_queue_arn(stack, "Q", "arn:aws:sqs:us-east-1:123456789012:failures")
    bus = events.EventBus.from_event_bus_name(stack, "B", "orders")
    destined(stack, on_success=EventBusRoute(bus), on_failure=QueueRoute(queue))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SQS::Queue", 0)
    template.resource_count_is("AWS::Events::EventBus", 0)
    config = invoke_config(template)["DestinationConfig"]
    assert config["OnFailure"]["Destination"] == "arn:aws:sqs:us-east-1:123456789012:failures"
    assert "event-bus/orders" in str(config["OnSuccess"]["Destination"])


def test_response_only_chain_matches_every_version_and_alias(stack: cdk.Stack) -> None:
    target = target_function(stack)
    source = user_function(stack, "Source")
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=source.current_version)
    construct = DestinedFunction(
        stack, "Destined", function=alias, on_success=FunctionRoute(target, response_only=True)
    )
    template = Template.from_stack(stack)
    configs = [
        c["Properties"]
        for c in template.find_resources("AWS::Lambda::EventInvokeConfig").values()
        if "Live" in str(c["Properties"]["Qualifier"])  # the alias' own qualifier, not $LATEST
    ]
    assert len(configs) == 1
    destination = configs[0]["DestinationConfig"]["OnSuccess"]["Destination"]
    assert "event-bus/default" in str(destination)
    rule = template.find_resources("AWS::Events::Rule")
    assert len(rule) == 1
    rule_props = next(iter(rule.values()))["Properties"]
    prefix = rule_props["EventPattern"]["detail"]["requestContext"]["functionArn"][0]["prefix"]
    source_id = stack.resolve(source.function_arn)["Fn::GetAtt"][0]
    # the unqualified ARN of the source function, then ':' - so $LATEST, any version and any alias match
    assert prefix == {"Fn::Join": ["", [{"Fn::GetAtt": [source_id, "Arn"]}, ":"]]}
    target_props = rule_props["Targets"][0]
    assert target_props["InputPath"] == "$.detail.responsePayload"
    assert "DeadLetterConfig" in target_props
    assert target_props["RetryPolicy"] == {"MaximumEventAgeInSeconds": 14400, "MaximumRetryAttempts": 8}
    assert len(construct.rules) == 1
    assert len(construct.rule_dead_letter_queues) == 1


def test_add_result_rule_routes_matching_records(stack: cdk.Stack) -> None:
    construct = destined(stack, on_success=EventBusRoute())
    queue_route = QueueRoute()
    construct.add_result_rule(
        "Accepted",
        route=queue_route,
        response={"status": "ACCEPTED"},
        message=events.RuleTargetInput.from_event_path("$.detail.responsePayload"),
        retry_attempts=3,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": Match.string_like_regexp("DestinedOnSuccessBus")},
            "EventPattern": {
                "source": ["lambda", "constructs-lib.durable"],
                "detail-type": ["Lambda Function Invocation Result - Success"],
                "detail": {"responsePayload": {"status": ["ACCEPTED"]}, "requestContext": Match.any_value()},
            },
            "Targets": [
                Match.object_like(
                    {
                        "InputPath": "$.detail.responsePayload",
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": {"MaximumEventAgeInSeconds": 14400, "MaximumRetryAttempts": 3},
                    }
                )
            ],
        },
    )


def test_add_result_rule_for_failures_by_error_type(stack: cdk.Stack) -> None:
    construct = destined(stack, on_failure=EventBusRoute())
    construct.add_result_rule(
        "BadInput",
        route=TopicRoute(),
        conditions=[Condition.RETRIES_EXHAUSTED],
        error_types=["InvalidOrderError"],
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": Match.object_like({"detail-type": ["Lambda Function Invocation Result - Failure"]})},
    )
    # EventBridge publishes with a role of its own (which may use the topic's key), not the topic policy
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    assert "RoleArn" in rule["Properties"]["Targets"][0]
    assert "events.amazonaws.com" not in json.dumps(template.find_resources("AWS::SNS::TopicPolicy"))
    assert "events.amazonaws.com" not in json.dumps(template.find_resources("AWS::KMS::Key"))


# ------------------------------------------------------------------------------------------ stream sources


def test_kinesis_source_sends_failed_batches_to_a_made_queue(stack: cdk.Stack) -> None:
    stream = kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    construct = destined(stack)
    construct.add_stream_source(stream)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 2,
            "MaximumRecordAgeInSeconds": 86400,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "StartingPosition": "TRIM_HORIZON",
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}},
        },
    )


def test_dynamodb_stream_source_to_topic(stack: cdk.Stack) -> None:
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    construct = destined(stack)
    construct.add_stream_source(
        table, on_failure=TopicRoute(), options=StreamFailureOptions(retry_attempts=5, bisect_batch_on_error=False)
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [Match.any_value(), "StreamArn"]},
            "MaximumRetryAttempts": 5,
            "BisectBatchOnFunctionError": False,
            "DestinationConfig": {"OnFailure": {"Destination": {"Ref": Match.string_like_regexp("OnFailureTopic")}}},
        },
    )


def test_sqs_source_reports_batch_item_failures(stack: cdk.Stack) -> None:
    dlq = sqs.Queue(stack, "SourceDlq", enforce_ssl=True)
    source = sqs.Queue(
        stack, "Source", enforce_ssl=True, dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dlq)
    )
    destined(stack).add_stream_source(source)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )


# ------------------------------------------------------------------------------------------ alarms, metrics, grants


def test_alarms_are_on_by_default(stack: cdk.Stack) -> None:
    construct = destined(stack, max_event_age=cdk.Duration.hours(1))
    assert sorted(construct.alarms) == [
        "AsyncEventAge",
        "AsyncEventsDropped",
        "DestinationDeliveryFailures",
        "FailureQueueMessages",
        # the failure queue it made, and that queue's DLQ
        "OnFailureQueueDeadLetterQueueMessagesVisible",
        "OnFailureQueueDeadLetterQueueOldestMessageAge",
        "OnFailureQueueOldestMessageAge",
    ]
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 7)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "AsyncEventAge", "Threshold": 1_800_000, "Statistic": "Maximum"},  # half of 1 h, in ms
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "AsyncEventsDropped", "Threshold": 1, "TreatMissingData": "notBreaching"},
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS"}
    )


def test_alarms_are_tunable(stack: cdk.Stack) -> None:
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:us-east-1:123456789012:ops")
    destined(
        stack,
        on_failure=TopicRoute(topic),
        alarms=AsyncAlarmOptions(
            events_dropped_threshold=5,
            event_age_threshold=cdk.Duration.minutes(1),
            evaluation_periods=3,
            actions=[cloudwatch_actions.SnsAction(topic)],
        ),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 3)  # no queue on failure: no queue-depth alarm
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "AsyncEventsDropped",
            "Threshold": 5,
            "EvaluationPeriods": 3,
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"],
        },
    )
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "AsyncEventAge", "Threshold": 60_000})


def test_alarms_can_be_turned_off(stack: cdk.Stack) -> None:
    construct = destined(stack, alarms=AsyncAlarmOptions(enabled=False))
    assert construct.alarms == {}
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)


def test_every_queue_it_makes_alarms_on_its_oldest_message_and_every_dlq_on_any_message(stack: cdk.Stack) -> None:
    construct = destined(stack, on_success=EventBusRoute())
    construct.add_result_rule("Accepted", route=QueueRoute(), response={"status": "ACCEPTED"})
    template = Template.from_stack(stack).to_json()["Resources"]
    queues = [lid for lid, r in template.items() if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 5  # the failure queue and its DLQ, the rule target's DLQ, the rule's queue and its DLQ
    watched: dict[str, set[str]] = {}
    for resource in template.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm" and resource["Properties"].get("Namespace") == "AWS/SQS":
            queue = resource["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
            watched.setdefault(queue, set()).add(resource["Properties"]["MetricName"])
    dead_letter_queues = {lid for lid in queues if "DeadLetterQueue" in lid or "AcceptedDeadLetter" in lid}
    for queue in queues:
        assert "ApproximateAgeOfOldestMessage" in watched[queue], queue
    for queue in dead_letter_queues:
        assert "ApproximateNumberOfMessagesVisible" in watched[queue], queue
    # half the retention period: 7 days for a queue, 14 days for a DLQ
    ages = {
        r["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: r["Properties"]["Threshold"]
        for r in template.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    assert sorted(set(ages.values())) == [302_400, 604_800]


def test_queue_alarms_get_the_construct_s_actions_later_queues_too(stack: cdk.Stack) -> None:
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:us-east-1:123456789012:ops")
    construct = destined(
        stack, on_success=EventBusRoute(), alarms=AsyncAlarmOptions(actions=[cloudwatch_actions.SnsAction(topic)])
    )
    construct.add_result_rule("Accepted", route=FunctionRoute(user_function(stack, "Consumer")))
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 9
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]


def test_queue_alarms_are_removed_with_the_construct_s_alarms(stack: cdk.Stack) -> None:
    construct = destined(stack, on_success=EventBusRoute(), alarms=AsyncAlarmOptions(enabled=False))
    construct.add_result_rule("Accepted", route=FunctionRoute(user_function(stack, "Consumer")))
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)


@pytest.mark.parametrize(
    ("method", "metric_name", "statistic"),
    [
        ("metric_invocations", "Invocations", "Sum"),
        ("metric_errors", "Errors", "Sum"),
        ("metric_async_events_received", "AsyncEventsReceived", "Sum"),
        ("metric_async_event_age", "AsyncEventAge", "Maximum"),
        ("metric_async_events_dropped", "AsyncEventsDropped", "Sum"),
        ("metric_destination_delivery_failures", "DestinationDeliveryFailures", "Sum"),
    ],
)
def test_each_metric_has_its_documented_default_statistic_and_takes_metric_options(
    stack: cdk.Stack, method: str, metric_name: str, statistic: str
) -> None:
    construct = destined(stack)
    metric = getattr(construct, method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/Lambda", metric_name, statistic)
    assert metric.period.to_seconds() == 300
    assert statistic in (getattr(construct, method).__doc__ or "")
    tuned = getattr(construct, method)(statistic="p99", period=cdk.Duration.minutes(1), label="mine")
    assert (tuned.statistic, tuned.period.to_seconds(), tuned.label) == ("p99", 60, "mine")
    assert construct.metric("Throttles").statistic == "Average"


def test_metrics_and_grants(stack: cdk.Stack) -> None:
    construct = destined(stack)
    metric = construct.metric_destination_delivery_failures()
    assert metric.metric_name == "DestinationDeliveryFailures"
    assert metric.namespace == "AWS/Lambda"
    assert construct.metric_async_events_received().metric_name == "AsyncEventsReceived"
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    construct.grant_invoke(role)
    cdk.Validations.of(role).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::<DestinedFunction7595C3FE.Arn>:*]", reason="test"
        )
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "lambda:InvokeFunction"})])},
            "Roles": [{"Ref": Match.string_like_regexp("Caller")}],
        },
    )


# ------------------------------------------------------------------------------------------ bad input


def problems_of(error: pytest.ExceptionInfo[ConstructPropsError]) -> str:
    return "\n".join(error.value.problems)


@pytest.mark.parametrize("attempts", [-1, 3, 5])
def test_rejects_retry_attempts_outside_0_to_2(stack: cdk.Stack, attempts: int) -> None:
    with pytest.raises(ConstructPropsError) as error:
        destined(stack, retry_attempts=attempts)
    assert f"retry_attempts must be 0, 1 or 2 for asynchronous invocation, got {attempts}" in problems_of(error)
    assert "Step Functions" in problems_of(error)


@pytest.mark.parametrize(("age", "shown"), [(cdk.Duration.seconds(59), "59 s"), (cdk.Duration.hours(7), "7 h")])
def test_rejects_event_age_outside_60s_to_6h(stack: cdk.Stack, age: cdk.Duration, shown: str) -> None:
    with pytest.raises(ConstructPropsError) as error:
        destined(stack, max_event_age=age)
    assert f"max_event_age must be between 60 seconds and 6 hours, got {shown}" in problems_of(error)


def test_rejects_a_fifo_queue_destination(stack: cdk.Stack) -> None:
    fifo = sqs.Queue(stack, "Fifo", fifo=True, enforce_ssl=True)
    with pytest.raises(ConstructPropsError, match="a FIFO queue cannot be a destination"):
        destined(stack, on_failure=QueueRoute(fifo))
    with pytest.raises(ConstructPropsError, match="on_success: a FIFO queue cannot be a destination"):
        destined(stack, "Other", on_success=QueueRoute(queue_props=sqs.QueueProps(fifo=True)))


def test_rejects_a_fifo_topic_destination(stack: cdk.Stack) -> None:
    fifo = sns.Topic.from_topic_arn(stack, "Fifo", "arn:aws:sns:us-east-1:123456789012:orders.fifo")
    with pytest.raises(ConstructPropsError, match="a FIFO topic cannot be a destination"):
        destined(stack, on_success=TopicRoute(fifo))


def test_rejects_s3_on_success(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="an S3 bucket can only receive failures"):
        destined(stack, on_success=BucketRoute())


def test_rejects_on_failure_route_on_an_sqs_event_source(stack: cdk.Stack) -> None:
    source = sqs.Queue(stack, "Source", enforce_ssl=True)
    construct = destined(stack)
    with pytest.raises(ConstructPropsError) as error:
        construct.add_stream_source(source, on_failure=QueueRoute())
    assert "redrive dead-letter queue" in problems_of(error)
    assert "dead_letter_queue=sqs.DeadLetterQueue" in problems_of(error)


def test_rejects_an_existing_function_with_function_props(stack: cdk.Stack) -> None:
    function = user_function(stack, "Mine")
    with pytest.raises(ConstructPropsError, match="not both"):
        DestinedFunction(stack, "Destined", function=function, function_props=props())


def test_rejects_neither_function_nor_props(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="give function="):
        DestinedFunction(stack, "Destined")


def test_rejects_async_options_inside_function_props(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match=r"function_props.retry_attempts is set: set retry_attempts="):
        destined(stack, function_props=props(retry_attempts=1))


def test_rejects_existing_resource_with_props_on_a_route(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Q", enforce_ssl=True)
    with pytest.raises(ConstructPropsError, match=r"either queue= .* or queue_props=, not both"):
        destined(stack, on_failure=QueueRoute(queue, queue_props=sqs.QueueProps()))
    bucket = s3.Bucket.from_bucket_name(stack, "B", "failures")
    with pytest.raises(ConstructPropsError, match=r"either bucket= .* not both"):
        destined(stack, "Two", on_failure=BucketRoute(bucket, bucket_props=s3.BucketProps()))


def test_rejects_stream_failures_to_a_function_or_bus(stack: cdk.Stack) -> None:
    stream = kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    construct = destined(stack)
    with pytest.raises(
        ConstructPropsError, match="an EventBridge bus cannot be a stream event source's on-failure destination"
    ):
        construct.add_stream_source(stream, on_failure=EventBusRoute())


def test_rejects_stream_options_out_of_range(stack: cdk.Stack) -> None:
    stream = kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    construct = destined(stack)
    with pytest.raises(ConstructPropsError) as error:
        construct.add_stream_source(
            stream, options=StreamFailureOptions(retry_attempts=-2, max_record_age=cdk.Duration.days(8))
        )
    assert "retry_attempts must be -1 (forever) or 0..10000" in problems_of(error)
    assert "max_record_age must be between 60 seconds and 7 days, got 8 days" in problems_of(error)


def test_rejects_a_table_without_a_stream(stack: cdk.Stack) -> None:
    table = dynamodb.Table.from_table_name(stack, "Table", "orders")
    with pytest.raises(ConstructPropsError, match="the DynamoDB table has no stream"):
        destined(stack).add_stream_source(table)


def test_rejects_add_result_rule_without_an_event_bus_route(stack: cdk.Stack) -> None:
    construct = destined(stack, on_success=QueueRoute())
    with pytest.raises(ConstructPropsError, match=r"set on_success=EventBusRoute\(...\)"):
        construct.add_result_rule("R", route=QueueRoute())


def test_reports_every_problem_at_once(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as error:
        destined(stack, retry_attempts=9, max_event_age=cdk.Duration.hours(8), on_success=BucketRoute())
    assert len(error.value.problems) == 3
    assert str(error.value).startswith("Test/Destined: invalid props:")


def test_tokens_are_not_validated_at_synth(stack: cdk.Stack) -> None:
    attempts = cdk.CfnParameter(stack, "Attempts", type="Number", default=1)
    destined(stack, retry_attempts=attempts.value_as_number)
    config = invoke_config(Template.from_stack(stack))
    assert config["MaximumRetryAttempts"] == {"Ref": "Attempts"}


def test_kinesis_source_sends_failed_batches_to_a_bucket(stack: cdk.Stack) -> None:
    stream = kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED)
    construct = destined(stack)
    construct.add_stream_source(stream, on_failure=BucketRoute())
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("OnFailureBucket"), "Arn"]}}
            }
        },
    )


def test_each_stream_source_gets_its_own_failure_queue(stack: cdk.Stack) -> None:
    construct = destined(stack)
    for name in ("One", "Two"):
        construct.add_stream_source(kinesis.Stream(stack, name, encryption=kinesis.StreamEncryption.MANAGED))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    destinations = {
        str(m["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
    }
    assert len(destinations) == 2
    assert any("StreamSource1OnFailure" in d for d in destinations)
    assert any("StreamSource2OnFailure" in d for d in destinations)


def test_token_durations_are_not_validated(stack: cdk.Stack) -> None:
    seconds = cdk.CfnParameter(stack, "MaxAge", type="Number", default=300)
    destined(stack, max_event_age=cdk.Duration.seconds(seconds.value_as_number))
    assert invoke_config(Template.from_stack(stack))["MaximumEventAgeInSeconds"] == {"Ref": "MaxAge"}


def test_made_role_writes_to_the_users_log_group(stack: cdk.Stack) -> None:
    log_group = logs.LogGroup(stack, "Mine", retention=logs.RetentionDays.ONE_WEEK)
    destined(stack, function_props=props(log_group=log_group))
    template = Template.from_stack(stack)
    log_group_id = stack.resolve(log_group.log_group_arn)["Fn::GetAtt"][0]
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_made_role_of_a_vpc_function_manages_its_network_interfaces(stack: cdk.Stack) -> None:
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-1", availability_zones=["us-east-1a"], private_subnet_ids=["subnet-1"]
    )
    destined(stack, function_props=props(vpc=vpc, allow_public_subnet=False))
    statements = [
        s
        for p in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("ec2:CreateNetworkInterface" in s["Action"] for s in statements)


def test_add_result_rule_with_error_types_only_matches_failures(stack: cdk.Stack) -> None:
    construct = destined(stack, on_failure=EventBusRoute())
    construct.add_result_rule("BadInput", route=QueueRoute(), error_types=["InvalidOrderError"])
    Template.from_stack(stack).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail-type": ["Lambda Function Invocation Result - Failure"],
                    "detail": Match.object_like({"responsePayload": {"errorType": ["InvalidOrderError"]}}),
                }
            )
        },
    )


def test_one_route_object_is_one_resource(stack: cdk.Stack) -> None:
    bus = EventBusRoute()
    destined(stack, on_success=bus, on_failure=bus)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Events::EventBus", 1)
    config = invoke_config(template)["DestinationConfig"]
    assert config["OnSuccess"] == config["OnFailure"]


def test_stream_failure_queue_has_an_alarm(stack: cdk.Stack) -> None:
    construct = destined(stack, on_failure=TopicRoute())
    construct.add_stream_source(kinesis.Stream(stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED))
    assert "StreamSource1FailureQueueMessages" in construct.alarms
    assert construct.stream_failure_routes[0].queue is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS"}
    )


def test_rejects_a_fifo_queue_by_name(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="a FIFO queue cannot be a destination"):
        destined(stack, on_failure=QueueRoute(queue_props=sqs.QueueProps(queue_name="failures.fifo")))


def test_rejects_an_imported_function_without_a_role(stack: cdk.Stack) -> None:
    imported = lambda_.Function.from_function_arn(stack, "Imported", "arn:aws:lambda:us-east-1:123456789012:function:x")
    with pytest.raises(ConstructPropsError, match="from_function_attributes"):
        DestinedFunction(stack, "Destined", function=imported)


def test_rejects_a_bucket_or_a_transformed_bus_as_rule_target(stack: cdk.Stack) -> None:
    construct = destined(stack, on_success=EventBusRoute())
    with pytest.raises(ConstructPropsError, match="an S3 bucket cannot be an EventBridge rule target"):
        construct.add_result_rule("ToBucket", route=BucketRoute())
    with pytest.raises(ConstructPropsError, match="forwards events unchanged"):
        construct.add_result_rule("ToBus", route=EventBusRoute(), message=events.RuleTargetInput.from_text("x"))
    with pytest.raises(ConstructPropsError, match="conditions is empty"):
        construct.add_result_rule("Empty", route=QueueRoute(), conditions=[])


def test_rejects_retry_rules_and_names_function_workflow(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as error:
        destined(stack, retries=[RetryRule(errors=["OrderPendingError"], backoff_rate=2.0)])
    assert "cannot retry per error name or with an interval, backoff rate" in problems_of(error)
    assert "Use FunctionWorkflow (Step Functions)" in problems_of(error)


@pytest.mark.parametrize(
    ("step_kind", "expected"),
    [("choice", "a choice on the function's output"), ("parallel", "parallel branches"), ("map", "a map over items")],
)
def test_rejects_orchestrator_steps_and_names_function_workflow(
    stack: cdk.Stack, step_kind: str, expected: str
) -> None:
    fn = user_function(stack, "Inner")
    steps: dict[str, Step] = {
        "choice": Choice("Route", branches=[(sfn.Condition.number_equals("$.foo", 1), [Invoke("One", fn)])]),
        "parallel": Parallel("Both", branches=[[Invoke("Left", fn)]]),
        "map": ForEach("Each", items_path="$.items", steps=[Invoke("Item", fn)]),
    }
    with pytest.raises(ConstructPropsError) as error:
        destined(stack, steps=[steps[step_kind]])
    assert expected in problems_of(error)
    assert "Use FunctionWorkflow" in problems_of(error)
