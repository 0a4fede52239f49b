from aws_cdk import Aspects, Duration, Stack
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.assertions import Template
from constructs import Construct

from constructs_lib import AlarmActions, AsyncAlarmOptions, DestinedFunction, FunctionWorkflow


class AlertedStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
        props = lambda_.FunctionProps(runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=code)

        # Once for the whole stack (or app): every alarm without an action of its own goes to this topic, and
        # CloudWatch may publish to it and use its key.
        key = kms.Key(self, "OpsKey", enable_key_rotation=True)
        ops = sns.Topic(self, "Ops", master_key=key, enforce_ssl=True)
        ops.add_subscription(subscriptions.EmailSubscription("ops@example.com"))
        Aspects.of(self).add(AlarmActions(ops))

        FunctionWorkflow(self, "Orders", function_props=props, timeout=Duration.minutes(5))

        # One construct's alarms somewhere else: its alarm options' actions win over the Aspect.
        pager = sns.Topic.from_topic_arn(self, "Pager", "arn:aws:sns:eu-west-1:123456789012:pager")
        DestinedFunction(
            self,
            "Payments",
            function_props=props,
            alarms=AsyncAlarmOptions(actions=[cloudwatch_actions.SnsAction(pager)]),
        )


def test_every_alarm_has_an_action() -> None:
    from aws_cdk import App

    stack = AlertedStack(App(), "Alerted")
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert alarms
    assert all(alarm["Properties"]["AlarmActions"] for alarm in alarms.values())
