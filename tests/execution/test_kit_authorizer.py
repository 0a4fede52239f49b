"""The authorization seam: every call the kit makes for a principal reaches the engine's authorizer with the principal
AWS would use, the IAM action and the resource's ARN; a refusal fails the call as AWS does.

The kit allows everything by default; these tests put a recording authorizer in its place (an internal hook)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

from constructs_lib import DestinedFunction, FunctionWorkflow, Invoke, QueueRoute
from constructs_lib.testing import LocalKit
from constructs_lib.testing._engine.authorizer import AccessDenied, AccessRequest

pytestmark = pytest.mark.execution

SENDER = """
import os, boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="hello")
    return "sent"
"""
ECHO = "def handler(event, context):\n    return event\n"
FAIL = "def handler(event, context):\n    raise RuntimeError('no')\n"


class Recorder:
    """Records every request; refuses the actions in ``deny``."""

    def __init__(self, deny: tuple[str, ...] = ()) -> None:
        self.requests: list[AccessRequest] = []
        self.deny = deny

    def authorize(self, request: AccessRequest) -> None:
        self.requests.append(request)
        if request.action in self.deny:
            raise AccessDenied(request, "no identity-based policy allows it (test)")

    def seen(self, via: str) -> set[tuple[str, str, str, str | None]]:
        return {(r.principal, r.action, r.resource, r.source_arn) for r in self.requests if r.via == via}


def function(stack: cdk.Stack, construct_id: str, code: str, **props: Any) -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(code),
        **props,
    )


def sender_stack(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "Seam")
    queue = sqs.Queue(stack, "Outbox")
    sender = function(stack, "Sender", SENDER, environment={"QUEUE_URL": queue.queue_url})
    queue.grant_send_messages(sender)
    return stack


def started(stack: cdk.Stack, recorder: Recorder) -> LocalKit:
    kit = LocalKit.from_stack(stack)
    kit._engine.authorizer = recorder
    return kit


def test_a_handlers_own_call_is_put_to_the_authorizer_with_its_functions_role(plain_app: cdk.App) -> None:
    recorder = Recorder()
    with started(sender_stack(plain_app), recorder) as kit:
        invocation = kit.invoke("Sender")
        role, queue = kit.arn("Sender/ServiceRole"), kit.arn("Outbox")
        on_queue = kit.messages("Outbox")

    assert invocation.result == "sent"
    assert on_queue == ["hello"]
    assert recorder.seen("handler") == {(role, "sqs:SendMessage", queue, None)}
    assert role.startswith("arn:aws:iam::123456789012:role/")


def test_a_refusal_fails_the_handlers_call_with_access_denied(plain_app: cdk.App) -> None:
    with started(sender_stack(plain_app), Recorder(deny=("sqs:SendMessage",))) as kit:
        invocation = kit.invoke("Sender")
        on_queue = kit.messages("Outbox")

    assert invocation.error_type == "ClientError"
    assert "AccessDenied" in str(invocation.error_message)
    assert "is not authorized to perform sqs:SendMessage" in str(invocation.error_message)
    assert on_queue == []


def test_the_kits_deliveries_are_put_to_the_authorizer_for_the_principal_aws_uses(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Deliveries")
    DestinedFunction(
        stack,
        "Worker",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(FAIL)
        ),
        on_failure=QueueRoute(),
        retry_attempts=0,
    )
    echo = function(stack, "Echo", ECHO)
    audit = sqs.Queue(stack, "Audit")
    rule = events.Rule(stack, "Orders", event_pattern=events.EventPattern(source=["shop"]))
    rule.add_target(targets.SqsQueue(audit))
    rule.add_target(targets.LambdaFunction(echo))
    topic = sns.Topic(stack, "News")
    readers = sqs.Queue(stack, "Readers")
    topic.add_subscription(subscriptions.SqsSubscription(readers))
    topic.add_subscription(subscriptions.LambdaSubscription(echo))
    uploads = s3.Bucket(stack, "Uploads")
    uploads.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(echo))
    inbox = sqs.Queue(stack, "Inbox")
    consumer = function(stack, "Consumer", ECHO)
    consumer.add_event_source(event_sources.SqsEventSource(inbox))
    FunctionWorkflow(stack, "Flow", steps=[Invoke("CallEcho", echo)])

    recorder = Recorder()
    with started(stack, recorder) as kit:
        kit.invoke_async("Worker/Function", {})
        kit.put_event({"orderId": "o-1"}, source="shop", detail_type="Order")
        kit.publish("News", "hello")
        kit.put_object("Uploads", "a.txt", b"a")
        kit.send_message("Inbox", "work")
        kit.start_execution("Flow/StateMachine", {})
        arn = kit.arn
        rule_arn, topic_arn, bucket_arn = arn("Orders"), kit.ref("News"), arn("Uploads")
        worker_role, consumer_role = arn("Worker/FunctionServiceRole"), arn("Consumer/ServiceRole")
        machine_role = arn("Flow/StateMachineRole")
        names = {name: arn(name) for name in ("Worker/OnFailureQueue", "Audit", "Echo", "Readers", "Inbox")}

    assert recorder.seen("destination") == {(worker_role, "sqs:SendMessage", names["Worker/OnFailureQueue"], None)}
    assert recorder.seen("rule-target") == {
        ("events.amazonaws.com", "sqs:SendMessage", names["Audit"], rule_arn),
        ("events.amazonaws.com", "lambda:InvokeFunction", names["Echo"], rule_arn),
    }
    assert recorder.seen("sns-subscription") == {
        ("sns.amazonaws.com", "sqs:SendMessage", names["Readers"], topic_arn),
        ("sns.amazonaws.com", "lambda:InvokeFunction", names["Echo"], topic_arn),
    }
    assert ("s3.amazonaws.com", "lambda:InvokeFunction", names["Echo"], bucket_arn) in recorder.seen("s3-notification")
    # aws:SourceAccount with aws:SourceArn, for every service principal: the bucket's ARN names no account.
    on_behalf = [r for r in recorder.requests if r.source_arn is not None]
    assert {r.source_account for r in on_behalf} == {"123456789012"}
    polled = {action for principal, action, resource, _ in recorder.seen("event-source") if resource == names["Inbox"]}
    assert polled == {"sqs:ReceiveMessage", "sqs:DeleteMessage"}
    assert {principal for principal, *_ in recorder.seen("event-source")} == {consumer_role}
    assert (machine_role, "lambda:InvokeFunction", names["Echo"], None) in recorder.seen("state-machine-task")
    assert not [r for r in recorder.requests if r.via == "" or r.principal == ""]
