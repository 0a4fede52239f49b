"""Routes render themselves per engine: a user's own Route subclass (written here, outside the package) works as
a route of DestinedFunction and FunctionWorkflow, with cdk-nag's AwsSolutions checks on (the ``stack`` fixture)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from aws_cdk.assertions import Match, Template
from constructs import Construct

from constructs_lib import (
    BoundRoute,
    BucketRoute,
    ConstructPropsError,
    DefectDetectionPipeline,
    DefectEndpoint,
    DestinationOptions,
    DestinedFunction,
    EventBusRoute,
    EventPipeline,
    ExecutionStatus,
    ExecutionStatusNotifications,
    FunctionRoute,
    FunctionWorkflow,
    QueueRoute,
    Route,
    RuleTargetOptions,
    StateMachineRoute,
    StreamRoute,
    TopicRoute,
    WorkflowTaskOptions,
)
from constructs_lib.defaults import secure_bucket
from constructs_lib.routes import Capability
from tests.conftest import echo_function, workflow_definitions


class AuditQueueRoute(Route):
    """The user's own SQS queue, wrapped in their own class: a destination and a workflow delivery."""

    kind = "audit queue"

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        return destinations.SqsDestination(self.queue)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        return sfn_tasks.SqsSendMessage(
            scope,
            options.state_name,
            queue=self.queue,
            message_body=sfn.TaskInput.from_json_path_at(options.record_path),
            result_path=sfn.JsonPath.DISCARD,
        )


class TaggedResultRoute(Route):
    """A function that receives the result wrapped in a message of the user's own: ``{"kind": ..., "result": ...}``.

    A Lambda destination passes the whole record, so the route asks for part of it (``record_message``): the
    Destinations engine then reaches it through the default bus and a rule (``rule_target``)."""

    kind = "tagged result function"

    def __init__(self, function: lambda_.IFunction, tag: str) -> None:
        self.function = function
        self.tag = tag

    def record_message(self) -> events.RuleTargetInput | None:
        return events.RuleTargetInput.from_object(
            {"kind": self.tag, "result": events.EventField.from_path("$.detail.responsePayload")}
        )

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        return targets.LambdaFunction(self.function, event=options.message, **options.policy)

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        return destinations.LambdaDestination(self.function)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        # LambdaInvoke grants the function's versions and aliases too (ARN:*): cdk-nag's IAM5 names that resource,
        # and the route acknowledges what its own grant carries on the role it is given.
        function_id = cdk.Stack.of(scope).resolve(self.function.function_arn)["Fn::GetAtt"][0]
        cdk.Validations.of(options.role).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{function_id}.Arn>:*]",
                reason="the route invokes this one function, any version or alias",
            )
        )
        return sfn_tasks.LambdaInvoke(
            scope,
            options.state_name,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(
                {"kind": self.tag, "result": sfn.JsonPath.object_at(f"{options.record_path}.responsePayload")}
            ),
            invocation_type=sfn_tasks.LambdaInvocationType.EVENT,
            result_path=sfn.JsonPath.DISCARD,
        )


def audit_queue(stack: cdk.Stack) -> sqs.Queue:
    """A queue the user made, cdk-nag clean: encrypted, TLS only, with its own DLQ."""
    dlq = sqs.Queue(stack, "AuditDlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
    return sqs.Queue(
        stack,
        "Audit",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dlq),
    )


def getatt(logical: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical, "Arn"]}, sort_keys=True)


def grants(template: Template, role: iam.IRole | None) -> set[tuple[str, str]]:
    """(action, resource as JSON) of every statement of the identity policies attached to ``role``."""
    assert role is not None
    role_ref = {"Ref": cdk.Stack.of(role).resolve(role.role_arn)["Fn::GetAtt"][0]}
    pairs: set[tuple[str, str]] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if role_ref not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            pairs |= {(a, json.dumps(r, sort_keys=True)) for a in actions for r in resources}
    return pairs


def function_props() -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )


def orders_stream(stack: cdk.Stack) -> kinesis.IStream:
    return kinesis.Stream.from_stream_arn(stack, "Stream", "arn:aws:kinesis:us-east-1:123456789012:stream/orders")


def definition(template: Template) -> dict[str, Any]:
    definitions = workflow_definitions(template.to_json())
    assert len(definitions) == 1
    return next(iter(definitions.values()))


def logical_id(stack: cdk.Stack, construct: Construct) -> str:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    return str(stack.resolve(child.logical_id))


# ------------------------------------------------------------------------------------------ capabilities


def test_what_a_route_can_be_is_what_its_class_implements(stack: cdk.Stack) -> None:
    queue = audit_queue(stack)
    assert AuditQueueRoute(queue).capabilities == {Capability.DESTINATION, Capability.WORKFLOW}
    assert QueueRoute().capabilities == set(Capability)
    assert TopicRoute().capabilities == set(Capability)
    assert BucketRoute().capabilities == {
        Capability.DESTINATION,
        Capability.WORKFLOW,
        Capability.STREAM_FAILURE,
        Capability.DURABLE,
    }
    every_but_streams = {Capability.DESTINATION, Capability.WORKFLOW, Capability.RULE_TARGET, Capability.DURABLE}
    assert EventBusRoute().capabilities == every_but_streams
    assert FunctionRoute(echo_function(stack)).capabilities == every_but_streams
    assert StreamRoute(orders_stream(stack)).capabilities == {Capability.RULE_TARGET}
    assert StateMachineRoute(sfn.StateMachine.from_state_machine_name(stack, "M", "m")).capabilities == {
        Capability.RULE_TARGET
    }
    assert Route().capabilities == frozenset()
    assert {c.method for c in Capability} <= set(vars(Route))  # one Route method per engine


# ------------------------------------------------------------------------------------------ a route of one's own


def test_an_own_route_is_the_on_success_destination_of_a_destined_function(stack: cdk.Stack) -> None:
    queue = audit_queue(stack)
    construct = DestinedFunction(
        stack,
        "Orders",
        function_props=function_props(),
        on_success=AuditQueueRoute(queue),
    )
    template = Template.from_stack(stack)  # cdk-nag runs here: an unacknowledged finding raises
    queue_id = logical_id(stack, queue)
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "DestinationConfig": {
                "OnSuccess": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}},
                "OnFailure": Match.any_value(),
            }
        },
    )
    assert ("sqs:SendMessage", getatt(queue_id)) in grants(template, construct.function.role)
    assert construct.success_route is not None
    assert isinstance(construct.success_route.route, AuditQueueRoute)


def test_an_own_route_is_the_on_success_delivery_of_a_function_workflow(stack: cdk.Stack) -> None:
    queue = audit_queue(stack)
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack), on_success=AuditQueueRoute(queue))
    template = Template.from_stack(stack)  # cdk-nag runs here
    states = definition(template)["States"]
    deliver = states["DeliverSuccess"]
    assert deliver["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert deliver["Parameters"]["MessageBody.$"] == "$.record"
    assert deliver["ResultPath"] is None
    assert states["BuildSuccessRecord"]["Next"] == "DeliverSuccess"
    queue_id = logical_id(stack, queue)
    assert ("sqs:SendMessage", getatt(queue_id)) in grants(template, workflow.role)


def test_an_own_route_that_takes_part_of_the_record_gets_it_from_both_engines(stack: cdk.Stack) -> None:
    consumer = echo_function(stack, "Consumer")
    DestinedFunction(
        stack,
        "Orders",
        function_props=function_props(),
        on_success=TaggedResultRoute(consumer, "order-accepted"),
    )
    FunctionWorkflow(stack, "Flow", function=echo_function(stack), on_success=TaggedResultRoute(consumer, "shipped"))
    template = Template.from_stack(stack)  # cdk-nag runs here

    (rule,) = [r for lid, r in template.find_resources("AWS::Events::Rule").items() if "StatusFailures" not in lid]
    (target,) = rule["Properties"]["Targets"]
    assert target["InputTransformer"]["InputPathsMap"] == {"detail-responsePayload": "$.detail.responsePayload"}
    assert '"kind":"order-accepted"' in target["InputTransformer"]["InputTemplate"].replace(" ", "")
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 14400, "MaximumRetryAttempts": 8}
    assert rule["Properties"]["EventPattern"]["detail"]["requestContext"]["condition"] == ["Success"]

    deliver = definition(template)["States"]["DeliverSuccess"]
    assert deliver["Parameters"]["Payload"] == {"kind": "shipped", "result.$": "$.record.responsePayload"}
    assert deliver["Parameters"]["InvocationType"] == "Event"


def test_an_engine_refuses_an_own_route_that_lacks_its_method(stack: cdk.Stack) -> None:
    queue = audit_queue(stack)
    with pytest.raises(ConstructPropsError) as error:
        EventPipeline(
            stack, "Nightly", target=AuditQueueRoute(queue), schedule=events.Schedule.rate(cdk.Duration.days(1))
        )
    assert (
        "target: an audit queue cannot be an EventBridge rule target (it can be: a Lambda destination, "
        "a Step Functions delivery)"
    ) in str(error.value)
    orders = DestinedFunction(stack, "Orders", function_props=function_props())
    with pytest.raises(ConstructPropsError, match="an audit queue cannot be a stream event source's on-failure"):
        orders.add_stream_source(orders_stream(stack), on_failure=AuditQueueRoute(queue))


def test_an_own_route_that_asks_for_part_of_the_record_must_be_a_rule_target(stack: cdk.Stack) -> None:
    class PartialQueueRoute(AuditQueueRoute):
        def record_message(self) -> events.RuleTargetInput | None:
            return events.RuleTargetInput.from_event_path("$.detail.responsePayload")

    with pytest.raises(ConstructPropsError, match="on_success: an audit queue cannot be an EventBridge rule target"):
        DestinedFunction(
            stack, "Orders", function_props=function_props(), on_success=PartialQueueRoute(audit_queue(stack))
        )


# ------------------------------------------------------------------------------------------ KMS-encrypted routes


def key_of(stack: cdk.Stack, construct_id: str) -> kms.Key:
    return kms.Key(stack, construct_id, enable_key_rotation=True)


def kms_queue(stack: cdk.Stack, construct_id: str = "Sealed") -> sqs.Queue:
    """A queue the user brings, encrypted with their own customer managed key."""
    dlq = sqs.Queue(stack, f"{construct_id}Dlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
    return sqs.Queue(
        stack,
        construct_id,
        encryption_master_key=key_of(stack, f"{construct_id}Key"),
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dlq),
    )


def kms_topic(stack: cdk.Stack) -> sns.Topic:
    return sns.Topic(stack, "SealedTopic", master_key=key_of(stack, "SealedTopicKey"), enforce_ssl=True)


def kms_bucket(stack: cdk.Stack) -> s3.Bucket:
    return secure_bucket(
        stack,
        "SealedBucket",
        bucket_props=s3.BucketProps(
            encryption=s3.BucketEncryption.KMS, encryption_key=key_of(stack, "SealedBucketKey")
        ),
    )


def key_id(stack: cdk.Stack, key: kms.IKey | None) -> str:
    assert isinstance(key, kms.Key)
    return logical_id(stack, key)


PUBLISH_KEY = {"kms:Decrypt", "kms:GenerateDataKey*"}
"""What publishing to an encrypted topic or sending to an encrypted queue needs on its key (SNS and SQS guides)."""
WRITE_KEY = {"kms:GenerateDataKey*"}
"""What writing an object to an SSE-KMS bucket needs on its key (PutObject; multipart adds kms:Decrypt)."""


def key_actions(template: Template, role: iam.IRole | None, key_logical_id: str) -> set[str]:
    return {action for action, resource in grants(template, role) if resource == getatt(key_logical_id)}


@pytest.mark.parametrize("side", ["on_success", "on_failure"])
def test_a_workflow_delivering_to_the_default_topic_may_use_its_key(stack: cdk.Stack, side: str) -> None:
    route = TopicRoute()
    workflow = FunctionWorkflow(
        stack,
        "Flow",
        function=echo_function(stack),
        on_success=route if side == "on_success" else None,
        on_failure=route if side == "on_failure" else None,
    )
    template = Template.from_stack(stack)  # cdk-nag runs here
    bound = workflow.success_route if side == "on_success" else workflow.failure_route
    assert bound is not None
    assert bound.topic is not None
    assert key_actions(template, workflow.role, key_id(stack, bound.topic.master_key)) >= PUBLISH_KEY


def test_a_workflow_delivering_to_the_users_kms_queue_topic_and_bucket_may_use_their_keys(stack: cdk.Stack) -> None:
    queue, topic, bucket = kms_queue(stack), kms_topic(stack), kms_bucket(stack)
    to_queue = FunctionWorkflow(stack, "ToQueue", function=echo_function(stack, "A"), on_success=QueueRoute(queue))
    to_topic = FunctionWorkflow(stack, "ToTopic", function=echo_function(stack, "B"), on_failure=TopicRoute(topic))
    to_bucket = FunctionWorkflow(stack, "ToBucket", function=echo_function(stack, "C"), on_failure=BucketRoute(bucket))
    template = Template.from_stack(stack)  # cdk-nag runs here
    assert key_actions(template, to_queue.role, key_id(stack, queue.encryption_master_key)) >= PUBLISH_KEY
    assert key_actions(template, to_topic.role, key_id(stack, topic.master_key)) >= PUBLISH_KEY
    assert key_actions(template, to_bucket.role, key_id(stack, bucket.encryption_key)) >= WRITE_KEY


def test_a_defect_alert_to_the_default_topic_may_use_its_key(stack: cdk.Stack) -> None:
    pipeline = DefectDetectionPipeline(
        stack, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name("pcb-defect-classifier")
    )
    template = Template.from_stack(stack)  # cdk-nag runs here
    topic = pipeline.alert_route.topic
    assert topic is not None
    assert key_actions(template, pipeline.workflow.role, key_id(stack, topic.master_key)) >= PUBLISH_KEY


def test_destinations_to_the_users_kms_queue_topic_and_bucket_may_use_their_keys(stack: cdk.Stack) -> None:
    queue, topic, bucket = kms_queue(stack), kms_topic(stack), kms_bucket(stack)
    to_queue = DestinedFunction(stack, "ToQueue", function_props=function_props(), on_success=QueueRoute(queue))
    to_topic_and_bucket = DestinedFunction(
        stack, "ToTopic", function_props=function_props(), on_success=TopicRoute(topic), on_failure=BucketRoute(bucket)
    )
    template = Template.from_stack(stack)  # cdk-nag runs here
    assert key_actions(template, to_queue.function.role, key_id(stack, queue.encryption_master_key)) >= PUBLISH_KEY
    role = to_topic_and_bucket.function.role
    assert key_actions(template, role, key_id(stack, topic.master_key)) >= PUBLISH_KEY
    assert key_actions(template, role, key_id(stack, bucket.encryption_key)) >= WRITE_KEY


def test_stream_failures_to_the_users_kms_queue_topic_and_bucket_may_use_their_keys(stack: cdk.Stack) -> None:
    queue, topic, bucket = kms_queue(stack), kms_topic(stack), kms_bucket(stack)
    reader = DestinedFunction(stack, "Reader", function_props=function_props())
    for n, route in enumerate((QueueRoute(queue), TopicRoute(topic), BucketRoute(bucket))):
        stream = kinesis.Stream.from_stream_arn(stack, f"S{n}", f"arn:aws:kinesis:us-east-1:123456789012:stream/s{n}")
        reader.add_stream_source(stream, on_failure=route)
    template = Template.from_stack(stack)  # cdk-nag runs here
    role = reader.function.role
    assert key_actions(template, role, key_id(stack, queue.encryption_master_key)) >= PUBLISH_KEY
    assert key_actions(template, role, key_id(stack, topic.master_key)) >= PUBLISH_KEY
    assert key_actions(template, role, key_id(stack, bucket.encryption_key)) >= WRITE_KEY


# ------------------------------------------------------------------------------------------ security


def test_eventbridge_publishes_to_a_topic_with_a_role_only_this_account_s_rules_may_use(stack: cdk.Stack) -> None:
    """No confused deputy: aws-cdk-lib's SNS target would let events.amazonaws.com publish through the topic policy
    and its key for any rule of any account."""
    machine = sfn.StateMachine.from_state_machine_arn(
        stack, "Machine", "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
    )
    ExecutionStatusNotifications(
        stack, "Alerts", state_machine=machine, statuses=[ExecutionStatus.FAILED], route=TopicRoute()
    )
    template = Template.from_stack(stack)
    assert "events.amazonaws.com" not in json.dumps(template.find_resources("AWS::SNS::TopicPolicy"))
    assert "events.amazonaws.com" not in json.dumps(template.find_resources("AWS::KMS::Key"))
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": "123456789012"},
                            "ArnLike": {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/*"},
                        },
                    }
                ]
            }
        },
    )
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    actions = sorted(
        a
        for statements in policies
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["kms:Decrypt", "kms:GenerateDataKey*", "sns:Publish"]
