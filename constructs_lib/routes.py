"""Routes: where a result goes. Engine-agnostic.

A route object says *where* (another Lambda function, an SQS queue, an SNS topic, an EventBridge bus, or an S3
bucket on failure only) and, when the user brings nothing, *what to make* (with the secure defaults of
:mod:`constructs_lib.defaults`). An engine binds it: ``DestinedFunction`` turns it into a Lambda destination or
a stream on-failure destination; the Step Functions engine into a task state. This module is the one place that
knows how a route becomes each of those, and how it becomes an EventBridge rule target (with a DLQ and a retry
policy).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jsii
from aws_cdk import Annotations, Duration, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from constructs_lib._internal.validation import Problems, describe_duration, duration_seconds, is_unresolved
from constructs_lib.defaults import (
    acknowledge,
    secure_bucket,
    secure_event_bus,
    secure_queue,
    secure_topic,
    struct_values,
)

DEFAULT_TARGET_RETRY_ATTEMPTS = 8
DEFAULT_TARGET_MAX_EVENT_AGE = Duration.hours(4)


class Capability(StrEnum):
    """What an engine needs a route to be."""

    DESTINATION = "a Lambda destination"
    WORKFLOW = "a Step Functions delivery"
    RULE_TARGET = "an EventBridge rule target"
    STREAM_FAILURE = "a stream event source's on-failure destination"


class RouteSide(StrEnum):
    """Which result a route receives."""

    SUCCESS = "on_success"
    FAILURE = "on_failure"


@dataclass
class BoundRoute:
    """A route resolved to concrete resources in a scope. Exactly one of the resource attributes is set."""

    route: Route
    function: lambda_.IFunction | None = None
    queue: sqs.IQueue | None = None
    topic: sns.ITopic | None = None
    event_bus: events.IEventBus | None = None
    bucket: s3.IBucket | None = None
    stream: kinesis.IStream | None = None
    state_machine: sfn.IStateMachine | None = None
    dead_letter_queue: sqs.IQueue | None = None
    """The DLQ we made behind a queue we made, if any."""
    made: list[Construct] = field(default_factory=list)
    """The resources we made for this route (empty when the user brought their own)."""


def _a(kind: str) -> str:
    """``an SQS queue``, ``an EventBridge bus``, ``a Lambda function``, ``a state machine``."""
    return f"an {kind}" if kind[0] in "AEIOUS" else f"a {kind}"


def _fifo_by_props(props: object | None, name_key: str) -> bool:
    """FIFO asked for by ``fifo=True`` or by a name ending in ``.fifo``."""
    values = struct_values(props)
    name = values.get(name_key)
    by_name = isinstance(name, str) and not Token.is_unresolved(name) and name.endswith(".fifo")
    return values.get("fifo") is True or by_name


class Route(ABC):
    """Where a result goes. Build one with a subclass: FunctionRoute, QueueRoute, TopicRoute, EventBusRoute,
    BucketRoute."""

    kind: str = "route"
    capabilities: frozenset[Capability] = frozenset(Capability)

    def require(self, side: RouteSide, capability: Capability, problems: Problems, *, where: str) -> None:
        """Validate this route for ``side`` and check that an engine can use it as ``capability``."""
        self.validate(side, problems, where=where)
        self.check(capability, problems, where=where)

    def check(self, capability: Capability, problems: Problems, *, where: str) -> None:
        """Add a problem if this kind of route cannot serve as ``capability``."""
        if capability not in self.capabilities:
            able = sorted(c.value for c in self.capabilities)
            problems.add(f"{where}: {_a(self.kind)} cannot be {capability.value} (it can be: {', '.join(able)})")

    def validate(self, side: RouteSide, problems: Problems, *, where: str) -> None:  # noqa: B027 - optional hook
        """Add a problem for anything AWS would refuse. ``where`` names the prop, e.g. ``on_failure``."""

    def _bring_or_make(self, problems: Problems, where: str, arg: str, existing: object, props: object) -> None:
        """Bring your own (``arg=``) or let us make it (``arg_props=``), never both."""
        if existing is not None and props is not None:
            noun = arg.replace("event_", "")
            problems.add(
                f"{where}: give {type(self).__name__} either {arg}= (an existing {noun}) or {arg}_props=, not both"
            )

    @staticmethod
    def _not_fifo(problems: Problems, where: str, noun: str, fifo: object) -> None:
        if fifo is True:
            problems.add(
                f"{where}: a FIFO {noun} cannot be a destination (AWS refuses it at deploy); use a standard {noun}"
            )

    def bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        """Resolve to concrete resources, making them in ``scope`` under ``construct_id`` when needed.

        A route object makes its resources once per stack: the same ``QueueRoute()`` given for two results (or to
        two constructs of one stack) is one queue.
        """
        stack = Stack.of(scope)
        for bound_stack, bound in self._bindings:
            if bound_stack is stack:
                return bound
        bound = self._bind(scope, construct_id)
        self._bindings.append((stack, bound))
        return bound

    @abstractmethod
    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute: ...

    @property
    def _bindings(self) -> list[tuple[Stack, BoundRoute]]:
        bindings: list[tuple[Stack, BoundRoute]] | None = self.__dict__.get("_route_bindings")
        if bindings is None:
            bindings = self.__dict__["_route_bindings"] = []
        return bindings

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class FunctionRoute(Route):
    """Another Lambda function.

    :param function: the function that receives the result.
    :param response_only: pass on only the function's return value (``responsePayload``) instead of the whole
        execution record. Works whatever version or alias of the source function was invoked.
    """

    kind = "Lambda function"
    capabilities = frozenset({Capability.DESTINATION, Capability.WORKFLOW, Capability.RULE_TARGET})

    def __init__(self, function: lambda_.IFunction, *, response_only: bool = False) -> None:
        self.function = function
        self.response_only = response_only

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        return BoundRoute(route=self, function=self.function)


class QueueRoute(Route):
    """An SQS queue (standard, not FIFO: Lambda destinations and stream failures refuse FIFO queues).

    :param queue: an existing queue.
    :param queue_props: props for the queue we make. Never both.
    :default: a new queue, SSE-SQS encrypted, TLS enforced, 14 days retention, with its own DLQ
        (maxReceiveCount 3) because a consumer reads it.
    """

    kind = "SQS queue"

    def __init__(self, queue: sqs.IQueue | None = None, *, queue_props: sqs.QueueProps | None = None) -> None:
        self.queue = queue
        self.queue_props = queue_props

    def validate(self, side: RouteSide, problems: Problems, *, where: str) -> None:
        self._bring_or_make(problems, where, "queue", self.queue, self.queue_props)
        fifo = self.queue.fifo if self.queue is not None else _fifo_by_props(self.queue_props, "queue_name")
        self._not_fifo(problems, where, "queue", fifo)

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        if self.queue is not None:
            return BoundRoute(route=self, queue=self.queue)
        queue, dlq = secure_queue(scope, f"{construct_id}Queue", queue_props=self.queue_props)
        made: list[Construct] = [queue]
        if dlq is not None:
            made.append(dlq)
        return BoundRoute(route=self, queue=queue, dead_letter_queue=dlq, made=made)


class TopicRoute(Route):
    """An SNS topic (standard, not FIFO).

    :param topic: an existing topic.
    :param topic_props: props for the topic we make. Never both.
    :default: a new topic encrypted with a customer managed KMS key (rotated), TLS enforced.
    """

    kind = "SNS topic"

    def __init__(self, topic: sns.ITopic | None = None, *, topic_props: sns.TopicProps | None = None) -> None:
        self.topic = topic
        self.topic_props = topic_props

    def validate(self, side: RouteSide, problems: Problems, *, where: str) -> None:
        self._bring_or_make(problems, where, "topic", self.topic, self.topic_props)
        fifo = self.topic.fifo if self.topic is not None else _fifo_by_props(self.topic_props, "topic_name")
        self._not_fifo(problems, where, "topic", fifo)

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        if self.topic is not None:
            return BoundRoute(route=self, topic=self.topic)
        topic = secure_topic(scope, f"{construct_id}Topic", topic_props=self.topic_props)
        return BoundRoute(route=self, topic=topic, made=[topic])


class EventBusRoute(Route):
    """An EventBridge event bus: a custom one (existing or new) or the account's default bus.

    :param event_bus: an existing bus.
    :param event_bus_props: props for the bus we make. Never both.
    :default: a new custom bus. Use ``EventBusRoute.default_bus()`` for the account's default bus.
    """

    kind = "EventBridge bus"
    capabilities = frozenset({Capability.DESTINATION, Capability.WORKFLOW, Capability.RULE_TARGET})

    def __init__(
        self,
        event_bus: events.IEventBus | None = None,
        *,
        event_bus_props: events.EventBusProps | None = None,
    ) -> None:
        self.event_bus = event_bus
        self.event_bus_props = event_bus_props
        self._default = False

    @classmethod
    def default_bus(cls) -> EventBusRoute:
        """The default event bus of the stack's account and region."""
        route = cls()
        route._default = True
        return route

    def validate(self, side: RouteSide, problems: Problems, *, where: str) -> None:
        self._bring_or_make(problems, where, "event_bus", self.event_bus, self.event_bus_props)

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        if self.event_bus is not None:
            return BoundRoute(route=self, event_bus=self.event_bus)
        if self._default:
            bus = events.EventBus.from_event_bus_name(scope, f"{construct_id}DefaultBus", "default")
            return BoundRoute(route=self, event_bus=bus)
        made_bus = secure_event_bus(scope, f"{construct_id}Bus", event_bus_props=self.event_bus_props)
        return BoundRoute(route=self, event_bus=made_bus, made=[made_bus])


class BucketRoute(Route):
    """An S3 bucket: failed invocations' records are written as objects. On failure only (AWS has no S3
    on-success destination).

    :param bucket: an existing bucket.
    :param bucket_props: props for the bucket we make. Never both.
    :default: a new bucket: SSE-S3, TLS only, public access blocked, versioned, with server access logs.
    """

    kind = "S3 bucket"
    capabilities = frozenset({Capability.DESTINATION, Capability.WORKFLOW, Capability.STREAM_FAILURE})

    def __init__(self, bucket: s3.IBucket | None = None, *, bucket_props: s3.BucketProps | None = None) -> None:
        self.bucket = bucket
        self.bucket_props = bucket_props

    def validate(self, side: RouteSide, problems: Problems, *, where: str) -> None:
        self._bring_or_make(problems, where, "bucket", self.bucket, self.bucket_props)
        if side is RouteSide.SUCCESS:
            problems.add(
                f"{where}: an S3 bucket can only receive failures (AWS has no S3 on-success destination); "
                "route successes to a FunctionRoute, QueueRoute, TopicRoute or EventBusRoute"
            )

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        if self.bucket is not None:
            return BoundRoute(route=self, bucket=self.bucket)
        bucket = secure_bucket(scope, f"{construct_id}Bucket", bucket_props=self.bucket_props)
        return BoundRoute(route=self, bucket=bucket, made=[bucket])


class StreamRoute(Route):
    """A Kinesis data stream: an EventBridge rule target only (status notifications, event pipelines)."""

    kind = "Kinesis stream"
    capabilities = frozenset({Capability.RULE_TARGET})

    def __init__(self, stream: kinesis.IStream, *, partition_key_path: str | None = None) -> None:
        self.stream = stream
        self.partition_key_path = partition_key_path

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        return BoundRoute(route=self, stream=self.stream)


class StateMachineRoute(Route):
    """Another state machine, started with the event (``FunctionWorkflow.state_machine`` or any): an EventBridge
    rule target only."""

    kind = "state machine"
    capabilities = frozenset({Capability.RULE_TARGET})

    def __init__(self, state_machine: sfn.IStateMachine) -> None:
        self.state_machine = state_machine

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        return BoundRoute(route=self, state_machine=self.state_machine)


# ---------------------------------------------------------------------------------------------------------------
# Engine adapters


def _nag_resource_ref(scope: Construct, arn: str) -> str | None:
    """How cdk-nag spells an ARN in a finding id: ``<LogicalId.Arn>`` for a GetAtt, the literal otherwise."""
    resolved = Stack.of(scope).resolve(arn)
    if isinstance(resolved, dict) and "Fn::GetAtt" in resolved:
        logical_id, attribute = resolved["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if isinstance(resolved, str) and not Token.is_unresolved(resolved):
        return resolved
    return None


def acknowledge_destination_grants(function: lambda_.IFunction, bound: BoundRoute) -> None:
    """Acknowledge, on the function's role, the wildcards that the destination grants of ``bound`` carry."""
    if bound.function is None and bound.bucket is None and bound.topic is None:
        return  # queues and buses: aws-cdk-lib's grants carry no wildcard
    acknowledge_route_grants(function.role, bound)


def acknowledge_invoke_grant(role: iam.IRole | None, function: lambda_.IFunction) -> None:
    """aws-cdk-lib grants lambda:InvokeFunction on ``arn`` and ``arn:*`` (its versions and aliases)."""
    if not isinstance(role, iam.Role):
        return  # an imported role: its policies are not in this template
    ref = _nag_resource_ref(role, function.function_arn)
    if ref is not None:
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{ref}:*]",
            "Invoking a function is granted on its versions and aliases too (ARN:*); the grant is scoped to that "
            "one function.",
        )


def acknowledge_route_grants(role: iam.IRole | None, bound: BoundRoute) -> None:
    """Acknowledge, on ``role``, the wildcards that reaching ``bound`` needs; each names the exact finding
    (resource or action) and why it is as narrow as AWS allows."""
    if not isinstance(role, iam.Role):
        return  # an imported role: its policies are not in this template
    if bound.function is not None:
        acknowledge_invoke_grant(role, bound.function)
    if bound.bucket is not None:
        ref = _nag_resource_ref(role, bound.bucket.bucket_arn)
        if ref is not None:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{ref}/*]",
                "Each failure record is written as a new object with a generated key: s3:PutObject on the "
                "objects of that one bucket.",
            )
    if bound.topic is not None and bound.topic.master_key is not None:
        acknowledge(
            role,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the KMS-encrypted topic needs kms:GenerateDataKey and GenerateDataKeyWithoutPlaintext, "
            "on the topic's key only.",
        )


def _grant_write_failure_records(bucket: s3.IBucket, grantee: iam.IGrantable) -> None:
    """What Lambda needs to write failure records into a bucket, and nothing more."""
    iam.Grant.add_to_principal(grantee=grantee, actions=["s3:PutObject"], resource_arns=[bucket.arn_for_objects("*")])
    iam.Grant.add_to_principal(grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket.bucket_arn])
    if bucket.encryption_key is not None:
        bucket.encryption_key.grant_encrypt(grantee)


@jsii.implements(lambda_.IDestination)
class S3FailureDestination:
    """An S3 bucket as the on-failure destination of asynchronous invocation, least privilege.

    aws-cdk-lib's ``S3Destination`` grants read and write on the whole bucket; Lambda needs ``s3:PutObject`` on
    the objects and ``s3:ListBucket`` on the bucket (plus the bucket key, if it has one).
    """

    def __init__(self, bucket: s3.IBucket) -> None:
        self.bucket = bucket

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType | None = None
    ) -> lambda_.DestinationConfig:
        _grant_write_failure_records(self.bucket, fn)
        return lambda_.DestinationConfig(destination=self.bucket.bucket_arn)


@jsii.implements(lambda_.IEventSourceDlq)
class S3StreamFailureDestination:
    """An S3 bucket as the on-failure destination of a stream event source, least privilege (aws-cdk-lib's
    ``S3OnFailureDestination`` grants read and write on the whole bucket)."""

    def __init__(self, bucket: s3.IBucket) -> None:
        self.bucket = bucket

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        _grant_write_failure_records(self.bucket, target_handler)
        return lambda_.DlqDestinationConfig(destination=self.bucket.bucket_arn)


def lambda_destination(bound: BoundRoute) -> lambda_.IDestination:
    """The Lambda (asynchronous invocation) destination for a bound route; grants are added when it is bound."""
    if bound.function is not None:
        return destinations.LambdaDestination(bound.function)
    if bound.queue is not None:
        return destinations.SqsDestination(bound.queue)
    if bound.topic is not None:
        return destinations.SnsDestination(bound.topic)
    if bound.event_bus is not None:
        return destinations.EventBridgeDestination(bound.event_bus)
    if bound.bucket is not None:
        return S3FailureDestination(bound.bucket)
    raise AssertionError(f"unbound route {bound.route!r}")


def stream_failure_destination(bound: BoundRoute) -> lambda_.IEventSourceDlq:
    """The on-failure destination of a Kinesis or DynamoDB stream event source: SQS, SNS or S3 only."""
    if bound.queue is not None:
        return event_sources.SqsDlq(bound.queue)
    if bound.topic is not None:
        return event_sources.SnsDlq(bound.topic)
    if bound.bucket is not None:
        return S3StreamFailureDestination(bound.bucket)
    raise ValueError(
        f"a stream event source can send failures to an SQS queue, an SNS topic or an S3 bucket, "
        f"not to a {bound.route.kind}"
    )


def _let_eventbridge_use_topic_key(scope: Construct, topic: sns.ITopic) -> None:
    """EventBridge publishes to a KMS-encrypted topic only if the key policy lets it (from this account only)."""
    key = topic.master_key
    if key is None:
        return
    if isinstance(key, kms.Key):
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeToPublishToTheEncryptedTopic",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(key).account}},
            )
        )
        return
    Annotations.of(scope).add_warning_v2(
        "constructs-lib:topic-key-policy",
        "The topic's KMS key is imported: add a key policy statement that lets events.amazonaws.com use "
        "kms:Decrypt and kms:GenerateDataKey*, or EventBridge cannot deliver to the topic.",
    )


MAX_TARGET_RETRY_ATTEMPTS = 185
MIN_TARGET_EVENT_AGE_SECONDS = 60
MAX_TARGET_EVENT_AGE_SECONDS = 24 * 3600


def check_rule_target(
    route: Route,
    side: RouteSide,
    problems: Problems,
    *,
    where: str,
    message: events.RuleTargetInput | None = None,
    retry_attempts: int | None = None,
    max_event_age: Duration | None = None,
) -> None:
    """Check ``route`` as an EventBridge rule target: it must be one, its retry policy within EventBridge's
    limits, and a bus target takes no transform or retry policy."""
    route.require(side, Capability.RULE_TARGET, problems, where=where)
    if (
        retry_attempts is not None
        and not is_unresolved(retry_attempts)
        and not 0 <= retry_attempts <= MAX_TARGET_RETRY_ATTEMPTS
    ):
        problems.add(f"retry_attempts must be between 0 and 185 for an EventBridge target, got {retry_attempts}")
    age = duration_seconds(max_event_age) if max_event_age is not None else None
    if age is not None and not MIN_TARGET_EVENT_AGE_SECONDS <= age <= MAX_TARGET_EVENT_AGE_SECONDS:
        problems.add(
            f"max_event_age must be between 60 seconds and 24 hours for an EventBridge target, "
            f"got {describe_duration(age)}"
        )
    if isinstance(route, EventBusRoute) and (message or retry_attempts is not None or max_event_age is not None):
        problems.add(
            f"{where}: an event bus target takes no message, retry_attempts or max_event_age: it forwards events "
            "unchanged and EventBridge retries it itself; drop them"
        )


def rule_target(
    scope: Construct,
    construct_id: str,
    bound: BoundRoute,
    *,
    message: events.RuleTargetInput | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
    retry_attempts: int | None = None,
    max_event_age: Duration | None = None,
) -> tuple[events.IRuleTarget, sqs.IQueue]:
    """An EventBridge rule target for a bound route, always with a DLQ and a retry policy.

    :default dead_letter_queue: a new SSE-SQS encrypted, TLS-only queue ``{construct_id}DeadLetterQueue``.
    :default retry_attempts: 8. :default max_event_age: 4 hours.
    Returns the target and its DLQ.
    """
    if dead_letter_queue is None:
        dead_letter_queue, _ = secure_queue(
            scope, f"{construct_id}DeadLetterQueue", dead_letter_for=f"the EventBridge rule target {construct_id}"
        )
    policy: dict[str, Any] = {
        "dead_letter_queue": dead_letter_queue,
        "retry_attempts": DEFAULT_TARGET_RETRY_ATTEMPTS if retry_attempts is None else retry_attempts,
        "max_event_age": DEFAULT_TARGET_MAX_EVENT_AGE if max_event_age is None else max_event_age,
    }
    target: events.IRuleTarget
    if bound.function is not None:
        target = targets.LambdaFunction(bound.function, event=message, **policy)
    elif bound.queue is not None:
        target = targets.SqsQueue(bound.queue, message=message, **policy)
    elif bound.topic is not None:
        _let_eventbridge_use_topic_key(scope, bound.topic)
        target = targets.SnsTopic(bound.topic, message=message, **policy)
    elif bound.event_bus is not None:
        if message is not None:
            raise ValueError("an EventBridge bus target forwards the event unchanged; it takes no message transform")
        target = targets.EventBus(bound.event_bus, dead_letter_queue=dead_letter_queue)
    elif bound.stream is not None:
        partition_key_path = bound.route.partition_key_path if isinstance(bound.route, StreamRoute) else None
        target = targets.KinesisStream(bound.stream, message=message, partition_key_path=partition_key_path, **policy)
    elif bound.state_machine is not None:
        target = targets.SfnStateMachine(bound.state_machine, input=message, **policy)
    else:
        raise ValueError(f"an EventBridge rule cannot target a {bound.route.kind}")
    return target, dead_letter_queue


def bind_rule_target(
    scope: Construct,
    construct_id: str,
    route: Route,
    *,
    message: events.RuleTargetInput | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
    retry_attempts: int | None = None,
    max_event_age: Duration | None = None,
) -> tuple[BoundRoute, events.IRuleTarget, sqs.IQueue]:
    """Bind ``route`` under ``construct_id`` and make it a rule target (see ``rule_target``)."""
    bound = route.bind(scope, construct_id)
    target, dlq = rule_target(
        scope,
        construct_id,
        bound,
        message=message,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=retry_attempts,
        max_event_age=max_event_age,
    )
    return bound, target, dlq


WORKFLOW_EVENT_SOURCE = "constructs-lib.workflow"
"""The ``source`` of the records a workflow puts on an event bus (``lambda`` is Lambda Destinations' own)."""


def workflow_task(
    scope: Construct, state_name: str, bound: BoundRoute, record_path: str, *, detail_type: str
) -> sfn.TaskStateBase:
    """A Step Functions task state that delivers the record at ``record_path`` to a bound route by a direct
    service integration (no helper function): SQS SendMessage, SNS Publish, EventBridge PutEvents, Lambda Invoke
    (asynchronous), or S3 PutObject. The task's own result is discarded: the state goes on unchanged."""
    record = sfn.TaskInput.from_json_path_at(record_path)
    discard = sfn.JsonPath.DISCARD
    if bound.queue is not None:
        return sfn_tasks.SqsSendMessage(scope, state_name, queue=bound.queue, message_body=record, result_path=discard)
    if bound.topic is not None:
        return sfn_tasks.SnsPublish(scope, state_name, topic=bound.topic, message=record, result_path=discard)
    if bound.event_bus is not None:
        entry = sfn_tasks.EventBridgePutEventsEntry(
            event_bus=bound.event_bus, source=WORKFLOW_EVENT_SOURCE, detail_type=detail_type, detail=record
        )
        return sfn_tasks.EventBridgePutEvents(scope, state_name, entries=[entry], result_path=discard)
    if bound.function is not None:
        return sfn_tasks.LambdaInvoke(
            scope,
            state_name,
            lambda_function=bound.function,
            payload=record,
            invocation_type=sfn_tasks.LambdaInvocationType.EVENT,
            retry_on_service_exceptions=True,
            result_path=discard,
        )
    if bound.bucket is not None:
        return sfn_tasks.CallAwsService(
            scope,
            state_name,
            service="s3",
            action="putObject",
            iam_resources=[bound.bucket.arn_for_objects("*")],
            parameters={
                "Bucket": bound.bucket.bucket_name,
                "Key": sfn.JsonPath.format("failures/{}.json", sfn.JsonPath.string_at("$$.Execution.Name")),
                "Body": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(record_path)),
                "ContentType": "application/json",
            },
            result_path=discard,
        )
    raise AssertionError(f"unbound route {bound.route!r}")
