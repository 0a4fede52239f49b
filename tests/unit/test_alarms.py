"""Alarm actions: one way for every construct (its alarm options' actions) and one for a whole app (the
``AlarmActions`` Aspect), and the permissions CloudWatch needs to publish to an encrypted topic."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib import AlarmActions, AsyncAlarmOptions, DestinedFunction, EventPipeline, QueueRoute
from constructs_lib.defaults import secure_topic
from tests.conftest import echo_function


def alarm_actions(stack: cdk.Stack) -> dict[str, list[object]]:
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    return {lid: alarm["Properties"].get("AlarmActions", []) for lid, alarm in alarms.items()}


def test_aspect_gives_every_alarm_without_an_action_the_topic(stack: cdk.Stack) -> None:
    topic = secure_topic(stack, "Alarms")
    echo_function(stack)
    EventPipeline(stack, "Nightly", target=QueueRoute(), schedule=events.Schedule.rate(cdk.Duration.days(1)))
    cdk.Aspects.of(stack).add(AlarmActions(topic))
    actions = alarm_actions(stack)
    assert len(actions) >= 10
    topic_id = stack.get_logical_id(topic.node.default_child)  # type: ignore[arg-type]
    assert {str(value) for value in actions.values()} == {str([{"Ref": topic_id}])}


def test_aspect_leaves_an_alarm_that_has_its_own_action(stack: cdk.Stack) -> None:
    ops = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:us-east-1:123456789012:ops")
    DestinedFunction(
        stack, "Fn", function_props=_props(), alarms=AsyncAlarmOptions(actions=[cloudwatch_actions.SnsAction(ops)])
    )
    echo_function(stack, "Other")
    cdk.Aspects.of(stack).add(AlarmActions(secure_topic(stack, "Alarms")))
    actions = alarm_actions(stack)
    ours = {lid: value for lid, value in actions.items() if lid.startswith("Fn")}
    assert ours
    assert all(value == ["arn:aws:sns:us-east-1:123456789012:ops"] for value in ours.values())
    others = {lid: value for lid, value in actions.items() if lid.startswith("Other")}
    assert others
    assert all(value != ["arn:aws:sns:us-east-1:123456789012:ops"] for value in others.values())


def _props() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )


def test_aspect_lets_cloudwatch_alarms_of_this_account_publish_and_use_the_topic_key(stack: cdk.Stack) -> None:
    topic = secure_topic(stack, "Alarms")
    echo_function(stack)
    cdk.Aspects.of(stack).add(AlarmActions(topic))
    template = Template.from_stack(stack)
    conditions = {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"},
    }
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sns:Publish",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Condition": conditions,
                            }
                        )
                    ]
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Condition": conditions,
                            }
                        )
                    ]
                )
            }
        },
    )


def test_aspect_takes_any_alarm_action_and_ok_actions(stack: cdk.Stack) -> None:
    ops = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:us-east-1:123456789012:ops")
    alarm = cloudwatch.Alarm(
        stack,
        "Mine",
        metric=cloudwatch.Metric(namespace="Mine", metric_name="Errors"),
        threshold=1,
        evaluation_periods=1,
    )
    cdk.Aspects.of(stack).add(AlarmActions(cloudwatch_actions.SnsAction(ops), ok_actions=True))
    props = Template.from_stack(stack).to_json()["Resources"][stack.get_logical_id(alarm.node.default_child)]  # type: ignore[arg-type]
    assert props["Properties"]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
    assert props["Properties"]["OKActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]


def test_rejects_an_aspect_with_nothing_to_send_to_or_the_wrong_kind() -> None:
    with pytest.raises(TypeError, match="at least one SNS topic"):
        AlarmActions()
    with pytest.raises(TypeError, match=r"targets\[0\].*SNS topic or a cloudwatch.IAlarmAction.*'arn:aws:sns"):
        AlarmActions("arn:aws:sns:us-east-1:123456789012:ops")  # type: ignore[arg-type]
