"""Routes: where a result goes, and how it gets there with each engine.

A route object says *where* (another Lambda function, an SQS queue, an SNS topic, an EventBridge bus, or an S3
bucket on failure only) and, when the user brings nothing, *what to make* (with the secure defaults of
:mod:`constructs_lib.defaults`). Each route class renders itself for every engine that can use it: a Lambda
destination (``DestinedFunction``), a stream event source's on-failure destination, an EventBridge rule target, a
Step Functions task (``FunctionWorkflow``). What a class implements is what it can be; no engine switches on route
types, so a user's own ``Route`` subclass works the same way (see ``Route``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import jsii
from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.validation import Problems, describe_duration, is_unresolved, whole_seconds
from constructs_lib.defaults import secure_bucket, secure_event_bus, secure_queue, secure_topic, struct_values
from constructs_lib.records import WORKFLOW_EVENT_SOURCE

DEFAULT_TARGET_RETRY_ATTEMPTS = 8
DEFAULT_TARGET_MAX_EVENT_AGE = Duration.hours(4)


class Capability(StrEnum):
    """What an engine needs a route to be. Each is one method of ``Route`` (``method``): a route class can be what
    it implements, and nothing else."""

    DESTINATION = "a Lambda destination"
    WORKFLOW = "a Step Functions delivery"
    RULE_TARGET = "an EventBridge rule target"
    STREAM_FAILURE = "a stream event source's on-failure destination"
    DURABLE = "a durable function's delivery"

    @property
    def method(self) -> str:
        """The ``Route`` method that renders a route for this engine."""
        return _RENDERERS[self]


_RENDERERS: dict[Capability, str] = {
    Capability.DESTINATION: "lambda_destination",
    Capability.STREAM_FAILURE: "stream_failure_destination",
    Capability.RULE_TARGET: "rule_target",
    Capability.WORKFLOW: "workflow_task",
    Capability.DURABLE: "durable_delivery",
}


class RouteSide(StrEnum):
    """Which result a route receives."""

    SUCCESS = "on_success"
    FAILURE = "on_failure"


@dataclass(frozen=True)
class DestinationOptions:
    """What a Lambda destination or a stream source's on-failure destination is rendered for."""

    function: lambda_.IFunction
    """The function whose results (or failed stream batches) the destination receives: its role is granted."""


@dataclass(frozen=True)
class RuleTargetOptions:
    """What an EventBridge rule target receives, and its retry policy."""

    message: events.RuleTargetInput | None = None
    """What the target receives. :default: - the whole event."""
    dead_letter_queue: sqs.IQueue | None = None
    """Where events go that the target never took. :default: - a new SSE-SQS, TLS-only queue."""
    retry_attempts: int | None = None
    """:default: 8."""
    max_event_age: Duration | None = None
    """:default: 4 hours."""

    @property
    def policy(self) -> dict[str, Any]:
        """The retry policy as aws-cdk-lib's targets take it: ``dead_letter_queue``, ``retry_attempts`` and
        ``max_event_age`` keyword arguments."""
        return {
            "dead_letter_queue": self.dead_letter_queue,
            "retry_attempts": self.retry_attempts,
            "max_event_age": self.max_event_age,
        }


@dataclass(frozen=True)
class WorkflowTaskOptions:
    """What a Step Functions delivery task is rendered for."""

    state_name: str
    """The task state's name (its construct id in the workflow)."""
    record_path: str
    """The JSONPath of what to deliver: the execution record (``$.record``) or the whole state (``$``)."""
    detail_type: str
    """What an event bus files the record under (``Lambda Function Invocation Result - Success``...)."""
    role: iam.IRole
    """The state machine's role: a task's own statements reach it through aws-cdk-lib; grant it here what they
    lack (a topic's key, for one) and acknowledge the wildcards of what you grant."""
    jsonata_record: str | None = None
    """In a JSONata workflow, the JSONata expression (without ``{% %}``) of what to deliver, in place of
    ``record_path``: the task is then a JSONata state (``Arguments``, and ``Output: {% $states.input %}`` to leave
    the state unchanged). None in a JSONPath workflow."""


@dataclass(frozen=True)
class DurableDeliveryOptions:
    """What a durable function's delivery is rendered for."""

    function: lambda_.IFunction
    """The durable function that delivers its own records (its role is granted what the delivery needs)."""


@dataclass(frozen=True)
class DurableDelivery:
    """A route as a durable function's runtime (``durable_routes``) reads it from its environment: one AWS call.

    ``service`` is ``sqs`` (``target``: the queue URL), ``sns`` (the topic ARN), ``events`` (the event bus name or
    ARN), ``lambda`` (the function ARN, invoked asynchronously) or ``s3`` (the bucket name, failures only);
    ``payload`` is ``record`` (the execution record) or ``response`` (its ``responsePayload`` only).
    """

    service: str
    target: str
    payload: str = "record"

    def to_json(self, scope: Construct) -> str:
        """The JSON the runtime reads (tokens resolved at deploy)."""
        return Stack.of(scope).to_json_string({"service": self.service, "target": self.target, "payload": self.payload})


@dataclass
class BoundRoute:
    """A route resolved to concrete resources in a scope: what ``Route.bind`` returns and the engine methods take.

    The library's routes set the one resource attribute that matches them; a route of your own may set any (an
    engine reads ``queue`` to alarm on a failure queue's depth and ``event_bus`` to match records on it) or none.
    """

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
    return f"an {kind}" if kind[0] in "AEIOUSaeiou" else f"a {kind}"


def _fifo_by_props(props: object | None, name_key: str) -> bool:
    """FIFO asked for by ``fifo=True`` or by a name ending in ``.fifo``."""
    values = struct_values(props)
    name = values.get(name_key)
    by_name = isinstance(name, str) and not Token.is_unresolved(name) and name.endswith(".fifo")
    return values.get("fifo") is True or by_name


class Route:
    """Where a result goes. The library's routes: ``FunctionRoute``, ``QueueRoute``, ``TopicRoute``,
    ``EventBusRoute``, ``BucketRoute`` (failures only), ``StreamRoute`` and ``StateMachineRoute`` (rule targets).

    A route renders itself for each engine that can use it, one method per engine; the methods a class implements
    are what it can be (``capabilities``), and an engine given a route that lacks its method fails at synth, naming
    what the route can be. To write your own route, subclass ``Route``:

    - set ``kind``, a noun for messages (``"audit queue"``);
    - implement the engine methods your route serves, and only those (each takes the scope to make things in,
      what ``bind`` returned, and the engine's options):

      - ``lambda_destination(scope, bound, options: DestinationOptions) -> lambda_.IDestination``:
        ``DestinedFunction``'s on_success / on_failure (Lambda asynchronous invocation);
      - ``stream_failure_destination(scope, bound, options: DestinationOptions) -> lambda_.IEventSourceDlq``: the
        on-failure destination of a Kinesis or DynamoDB stream source (``DestinedFunction.add_stream_source``);
      - ``rule_target(scope, bound, options: RuleTargetOptions) -> events.IRuleTarget``: an EventBridge rule
        target (``EventPipeline``, ``ExecutionStatusNotifications``, ``DestinedFunction.add_result_rule``) that
        receives ``options.message`` with ``options.policy`` (a DLQ, retry attempts, a maximum event age);
      - ``workflow_task(scope, bound, options: WorkflowTaskOptions) -> sfn.TaskStateBase``: a Step Functions task
        state named ``options.state_name`` that sends the JSON at ``options.record_path`` and leaves the state as
        it was (``FunctionWorkflow``);
      - ``durable_delivery(scope, bound, options: DurableDeliveryOptions) -> DurableDelivery``: the one AWS call
        a durable function makes to deliver its record (``DurableFunction``), with its grant to the function;

      a workflow task retries the service's throttling and internal errors with backoff (the library's routes
      do); each grants the engine's principal (``options.function``'s role, ``options.role``) what reaching the route
      needs, the key of an encrypted route included (aws-cdk-lib's destinations, targets and tasks do part of it),
      and acknowledges, on that role, the cdk-nag findings of the wildcards its grants carry, each as narrow as
      the grant (a resource, ``ARN:*``; a key action);
    - optionally ``_bind(scope, construct_id) -> BoundRoute`` to make resources (called once per stack; by
      default nothing is made and every method reads the route's own attributes), ``validate`` for what AWS would
      refuse, and ``record_message()`` to pass on part of an execution record only.

    Adding an engine adds one ``Capability``, one method here, and that method on each route that can serve it.
    """

    kind: str = "route"
    """A noun for messages: ``"SQS queue"`` reads "an SQS queue cannot be ..."."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this route can be: the engine methods its class implements."""
        cls = type(self)
        return frozenset(c for c in Capability if getattr(cls, c.method) is not getattr(Route, c.method))

    # -------------------------------------------------------------------------------------------- validation

    def require(self, side: RouteSide, capability: Capability, problems: Problems, *, where: str) -> None:
        """Validate this route for ``side`` and check that an engine can use it as ``capability``."""
        self.validate(side, problems, where=where)
        self.check(capability, problems, where=where)

    def check(self, capability: Capability, problems: Problems, *, where: str) -> None:
        """Add a problem if this kind of route cannot serve as ``capability``."""
        if capability not in self.capabilities:
            able = sorted(c.value for c in self.capabilities) or ["nothing: it implements no engine method"]
            problems.add(f"{where}: {_a(self.kind)} cannot be {capability.value} (it can be: {', '.join(able)})")

    def validate(self, side: RouteSide, problems: Problems, *, where: str) -> None:
        """Add a problem for anything AWS would refuse. ``where`` names the prop, e.g. ``on_failure``."""

    def check_rule_target_options(self, options: RuleTargetOptions, problems: Problems, *, where: str) -> None:
        """Add a problem for a rule target option this route's target cannot take."""

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

    # -------------------------------------------------------------------------------------------- binding

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

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        """Make what the route needs in ``scope``; by default nothing (the route refers to existing resources)."""
        return BoundRoute(route=self)

    @property
    def _bindings(self) -> list[tuple[Stack, BoundRoute]]:
        bindings: list[tuple[Stack, BoundRoute]] | None = self.__dict__.get("_route_bindings")
        if bindings is None:
            bindings = self.__dict__["_route_bindings"] = []
        return bindings

    # -------------------------------------------------------------------------------------------- engines
    # One method per engine (see Capability). The defaults say the route cannot serve it; engines check
    # ``capabilities`` first, so they are reached only by a call that skipped the check.

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        """The destination of ``options.function``'s asynchronous invocations (aws-cdk-lib's destinations grant
        the function's role when Lambda binds them)."""
        raise self._cannot(Capability.DESTINATION)

    def stream_failure_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IEventSourceDlq:
        """Where a stream event source of ``options.function`` sends the batches that still fail."""
        raise self._cannot(Capability.STREAM_FAILURE)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        """An EventBridge rule target that receives ``options.message`` (the whole event when None), with
        ``options.policy``."""
        raise self._cannot(Capability.RULE_TARGET)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        """A task state ``options.state_name`` that sends the JSON at ``options.record_path`` to the route and
        leaves the state unchanged."""
        raise self._cannot(Capability.WORKFLOW)

    def durable_delivery(self, scope: Construct, bound: BoundRoute, options: DurableDeliveryOptions) -> DurableDelivery:
        """The call ``options.function`` makes to deliver its record here (granted to its role)."""
        raise self._cannot(Capability.DURABLE)

    def record_message(self) -> events.RuleTargetInput | None:
        """What a rule that forwards execution records gives this route: None for the whole record. A route that
        asks for part of it is reached through the default event bus and a rule (Lambda destinations send the
        whole record)."""
        return None

    def _cannot(self, capability: Capability) -> TypeError:
        return TypeError(f"{_a(self.kind)} cannot be {capability.value}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _record(options: WorkflowTaskOptions) -> sfn.TaskInput:
    if options.jsonata_record is not None:
        return sfn.TaskInput.from_text("{% " + options.jsonata_record + " %}")
    return sfn.TaskInput.from_json_path_at(options.record_path)


def _task(options: WorkflowTaskOptions, task_class: Any) -> tuple[Any, dict[str, Any]]:
    """The task class's factory for the workflow's query language, and the props that leave the state unchanged."""
    if options.jsonata_record is not None:
        return task_class.jsonata, {"outputs": "{% $states.input %}"}
    return task_class, {"result_path": sfn.JsonPath.DISCARD}


# The errors a delivery task retries, by service: throttling, internal errors and the SDK's client-side failures, as
# Step Functions names them (<service>.<exception>). SQS reports every service error as SQS.AmazonSQSException.
DELIVERY_RETRY_ERRORS: dict[str, tuple[str, ...]] = {
    "sqs": ("SQS.AmazonSQSException", "SQS.SdkClientException"),
    "sns": (
        "SNS.ThrottledException",
        "SNS.InternalErrorException",
        "SNS.KMSThrottlingException",
        "SNS.SdkClientException",
    ),
    "events": ("EventBridge.AmazonEventBridgeException", "EventBridge.SdkClientException", "EventBridge.FailedEntry"),
    "lambda": ("Lambda.TooManyRequestsException",),  # its service exceptions: retry_on_service_exceptions
    "s3": ("S3.S3Exception", "S3.SdkClientException"),
    "dynamodb": (
        "DynamoDB.ProvisionedThroughputExceededException",
        "DynamoDB.ThrottlingException",
        "DynamoDB.RequestLimitExceeded",
        "DynamoDB.InternalServerErrorException",
        "DynamoDB.AmazonDynamoDBException",
        "DynamoDB.SdkClientException",
    ),
}
DELIVERY_RETRY_INTERVAL = Duration.seconds(1)
DELIVERY_RETRY_ATTEMPTS = 6
DELIVERY_RETRY_MAX_DELAY = Duration.seconds(30)


def retry_delivery(task: sfn.TaskStateBase, service: str) -> sfn.TaskStateBase:
    """Retry a delivery on ``service``'s throttling and internal errors, with backoff and full jitter (1 s, 2 s, 4 s
    ... capped at 30 s, 6 times: about a minute), so that a throttled call does not lose the record."""
    task.add_retry(
        errors=list(DELIVERY_RETRY_ERRORS[service]),
        interval=DELIVERY_RETRY_INTERVAL,
        backoff_rate=2,
        max_attempts=DELIVERY_RETRY_ATTEMPTS,
        max_delay=DELIVERY_RETRY_MAX_DELAY,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


class FunctionRoute(Route):
    """Another Lambda function.

    :param function: the function that receives the result.
    :param response_only: pass on only the function's return value (``responsePayload``) instead of the whole
        execution record. Works whatever version or alias of the source function was invoked.
    """

    kind = "Lambda function"

    def __init__(self, function: lambda_.IFunction, *, response_only: bool = False) -> None:
        self.function = function
        self.response_only = response_only

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        return BoundRoute(route=self, function=self.function)

    def record_message(self) -> events.RuleTargetInput | None:
        return events.RuleTargetInput.from_event_path("$.detail.responsePayload") if self.response_only else None

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        assert bound.function is not None
        nag.invoke_grant(options.function.role, bound.function)
        return destinations.LambdaDestination(bound.function)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        assert bound.function is not None
        return targets.LambdaFunction(bound.function, event=options.message, **options.policy)

    def durable_delivery(self, scope: Construct, bound: BoundRoute, options: DurableDeliveryOptions) -> DurableDelivery:
        assert bound.function is not None
        bound.function.grant_invoke(options.function)
        nag.invoke_grant(options.function.role, bound.function)
        payload = "response" if self.response_only else "record"
        return DurableDelivery("lambda", bound.function.function_arn, payload)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        assert bound.function is not None
        nag.invoke_grant(options.role, bound.function)
        make, keep_state = _task(options, sfn_tasks.LambdaInvoke)
        task = make(
            scope,
            options.state_name,
            lambda_function=bound.function,
            payload=_record(options),
            invocation_type=sfn_tasks.LambdaInvocationType.EVENT,
            retry_on_service_exceptions=True,
            **keep_state,
        )
        return retry_delivery(task, "lambda")


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

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        assert bound.queue is not None
        if bound.queue.encryption_master_key is not None:
            nag.key_grant(options.function.role, nag.SEND_KEY_ACTIONS)
        return destinations.SqsDestination(bound.queue)

    def stream_failure_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IEventSourceDlq:
        assert bound.queue is not None
        if bound.queue.encryption_master_key is not None:
            nag.key_grant(options.function.role, nag.SEND_KEY_ACTIONS)
        return event_sources.SqsDlq(bound.queue)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        assert bound.queue is not None
        return targets.SqsQueue(bound.queue, message=options.message, **options.policy)

    def durable_delivery(self, scope: Construct, bound: BoundRoute, options: DurableDeliveryOptions) -> DurableDelivery:
        assert bound.queue is not None
        bound.queue.grant_send_messages(options.function)  # and the queue's key, if it has one
        if bound.queue.encryption_master_key is not None:
            nag.key_grant(options.function.role, nag.SEND_KEY_ACTIONS)
        return DurableDelivery("sqs", bound.queue.queue_url)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        assert bound.queue is not None
        if bound.queue.encryption_master_key is not None:  # the task grants the key itself
            nag.key_grant(options.role, nag.PUBLISH_KEY_ACTIONS)
        make, keep_state = _task(options, sfn_tasks.SqsSendMessage)
        task = make(scope, options.state_name, queue=bound.queue, message_body=_record(options), **keep_state)
        return retry_delivery(task, "sqs")


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

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        assert bound.topic is not None
        if bound.topic.master_key is not None:
            nag.key_grant(options.function.role, nag.PUBLISH_KEY_ACTIONS)
        return destinations.SnsDestination(bound.topic)

    def stream_failure_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IEventSourceDlq:
        assert bound.topic is not None
        if bound.topic.master_key is not None:
            nag.key_grant(options.function.role, nag.PUBLISH_KEY_ACTIONS)
        return event_sources.SnsDlq(bound.topic)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        """EventBridge publishes with a role of its own: aws-cdk-lib's default lets ``events.amazonaws.com`` publish
        through the topic policy (and its key) for any rule of any account, with no condition."""
        assert bound.topic is not None
        role = events_role(scope, f"{bound.topic.node.id}EventsRole")
        if bound.topic.master_key is not None:  # grant_publish grants the key too
            nag.key_grant(role, nag.PUBLISH_KEY_ACTIONS)
        return targets.SnsTopic(bound.topic, message=options.message, role=role, **options.policy)

    def durable_delivery(self, scope: Construct, bound: BoundRoute, options: DurableDeliveryOptions) -> DurableDelivery:
        assert bound.topic is not None
        bound.topic.grant_publish(options.function)  # and the topic's key, if it has one
        if bound.topic.master_key is not None:
            nag.key_grant(options.function.role, nag.PUBLISH_KEY_ACTIONS)
        return DurableDelivery("sns", bound.topic.topic_arn)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        assert bound.topic is not None
        # SnsPublish grants sns:Publish only: publishing to an encrypted topic needs its key too.
        bound.topic.grant_publish(options.role)
        if bound.topic.master_key is not None:
            nag.key_grant(options.role, nag.PUBLISH_KEY_ACTIONS)
        make, keep_state = _task(options, sfn_tasks.SnsPublish)
        task = make(scope, options.state_name, topic=bound.topic, message=_record(options), **keep_state)
        return retry_delivery(task, "sns")


class EventBusRoute(Route):
    """An EventBridge event bus: a custom one (existing or new) or the account's default bus.

    :param event_bus: an existing bus.
    :param event_bus_props: props for the bus we make. Never both.
    :default: a new custom bus. Use ``EventBusRoute.default_bus()`` for the account's default bus.
    """

    kind = "EventBridge bus"

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

    def check_rule_target_options(self, options: RuleTargetOptions, problems: Problems, *, where: str) -> None:
        if options.message or options.retry_attempts is not None or options.max_event_age is not None:
            problems.add(
                f"{where}: an event bus target takes no message, retry_attempts or max_event_age: it forwards "
                "events unchanged and EventBridge retries it itself; drop them"
            )

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        if self.event_bus is not None:
            return BoundRoute(route=self, event_bus=self.event_bus)
        if self._default:
            bus = events.EventBus.from_event_bus_name(scope, f"{construct_id}DefaultBus", "default")
            return BoundRoute(route=self, event_bus=bus)
        made_bus = secure_event_bus(scope, f"{construct_id}Bus", event_bus_props=self.event_bus_props)
        return BoundRoute(route=self, event_bus=made_bus, made=[made_bus])

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        assert bound.event_bus is not None
        return destinations.EventBridgeDestination(bound.event_bus)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        assert bound.event_bus is not None
        if options.message is not None:
            raise ValueError("an EventBridge bus target forwards the event unchanged; it takes no message transform")
        return targets.EventBus(bound.event_bus, dead_letter_queue=options.dead_letter_queue)

    def durable_delivery(self, scope: Construct, bound: BoundRoute, options: DurableDeliveryOptions) -> DurableDelivery:
        assert bound.event_bus is not None
        bound.event_bus.grant_put_events_to(options.function)
        return DurableDelivery("events", bound.event_bus.event_bus_arn)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        assert bound.event_bus is not None
        entry = sfn_tasks.EventBridgePutEventsEntry(
            event_bus=bound.event_bus,
            source=WORKFLOW_EVENT_SOURCE,
            detail_type=options.detail_type,
            detail=_record(options),
        )
        make, keep_state = _task(options, sfn_tasks.EventBridgePutEvents)
        task = make(scope, options.state_name, entries=[entry], **keep_state)
        return retry_delivery(task, "events")


class BucketRoute(Route):
    """An S3 bucket: failed invocations' records are written as objects. On failure only (AWS has no S3
    on-success destination).

    :param bucket: an existing bucket.
    :param bucket_props: props for the bucket we make. Never both.
    :default: a new bucket: SSE-S3, TLS only, public access blocked, versioned, with server access logs.
    """

    kind = "S3 bucket"

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

    def lambda_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IDestination:
        assert bound.bucket is not None
        _acknowledge_failure_records(options.function.role, bound.bucket)
        return S3FailureDestination(bound.bucket)

    def stream_failure_destination(
        self, scope: Construct, bound: BoundRoute, options: DestinationOptions
    ) -> lambda_.IEventSourceDlq:
        assert bound.bucket is not None
        _acknowledge_failure_records(options.function.role, bound.bucket)
        return S3StreamFailureDestination(bound.bucket)

    def durable_delivery(self, scope: Construct, bound: BoundRoute, options: DurableDeliveryOptions) -> DurableDelivery:
        assert bound.bucket is not None
        _grant_write_failure_records(bound.bucket, options.function)
        _acknowledge_failure_records(options.function.role, bound.bucket)
        return DurableDelivery("s3", bound.bucket.bucket_name)

    def workflow_task(self, scope: Construct, bound: BoundRoute, options: WorkflowTaskOptions) -> sfn.TaskStateBase:
        assert bound.bucket is not None
        if bound.bucket.encryption_key is not None:  # the SDK task's statement names the objects only
            bound.bucket.encryption_key.grant_encrypt(options.role)
        _acknowledge_failure_records(options.role, bound.bucket)
        make, keep_state = _task(options, sfn_tasks.CallAwsService)
        if options.jsonata_record is not None:
            key: Any = "{% 'failures/' & $states.context.Execution.Name & '.json' %}"
            body: Any = "{% $string(" + options.jsonata_record + ") %}"
        else:
            # The record's request id (the workflow's execution name), not this execution's: the machine that
            # reports a timed-out or aborted execution delivers its record with this same task.
            key = sfn.JsonPath.format(
                "failures/{}.json", sfn.JsonPath.string_at(f"{options.record_path}.requestContext.requestId")
            )
            body = sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(options.record_path))
        task = make(
            scope,
            options.state_name,
            service="s3",
            action="putObject",
            iam_resources=[bound.bucket.arn_for_objects("*")],
            parameters={
                "Bucket": bound.bucket.bucket_name,
                "Key": key,
                "Body": body,
                "ContentType": "application/json",
            },
            **keep_state,
        )
        return retry_delivery(task, "s3")


class StreamRoute(Route):
    """A Kinesis data stream: an EventBridge rule target only (status notifications, event pipelines)."""

    kind = "Kinesis stream"

    def __init__(self, stream: kinesis.IStream, *, partition_key_path: str | None = None) -> None:
        self.stream = stream
        self.partition_key_path = partition_key_path

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        return BoundRoute(route=self, stream=self.stream)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        assert bound.stream is not None
        return targets.KinesisStream(
            bound.stream, message=options.message, partition_key_path=self.partition_key_path, **options.policy
        )


class StateMachineRoute(Route):
    """Another state machine, started with the event (``FunctionWorkflow.state_machine`` or any): an EventBridge
    rule target only."""

    kind = "state machine"

    def __init__(self, state_machine: sfn.IStateMachine) -> None:
        self.state_machine = state_machine

    def _bind(self, scope: Construct, construct_id: str) -> BoundRoute:
        return BoundRoute(route=self, state_machine=self.state_machine)

    def rule_target(self, scope: Construct, bound: BoundRoute, options: RuleTargetOptions) -> events.IRuleTarget:
        assert bound.state_machine is not None
        return targets.SfnStateMachine(bound.state_machine, input=options.message, **options.policy)


# ---------------------------------------------------------------------------------------------------------------
# Least-privilege S3 destinations and the topic key policy EventBridge needs


def _acknowledge_failure_records(role: iam.IRole | None, bucket: s3.IBucket) -> None:
    """What writing failure records grants: the bucket's objects, and its key if it has one."""
    nag.failure_records_grant(role, bucket)
    if bucket.encryption_key is not None:
        nag.key_grant(role, nag.ENCRYPT_KEY_ACTIONS)


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


def events_role(scope: Construct, construct_id: str) -> iam.Role:
    """The role EventBridge assumes to deliver to a target, made once per ``construct_id`` in ``scope``: only
    EventBridge rules of this account and region may use it (``aws:SourceAccount``, ``aws:SourceArn``), against the
    confused deputy."""
    existing = scope.node.try_find_child(construct_id)
    if isinstance(existing, iam.Role):
        return existing
    stack = Stack.of(scope)
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(
            "events.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:events:{stack.region}:{stack.account}:rule/*"},
            },
        ),
        description=f"EventBridge delivers to a target of {scope.node.path} with this role",
    )


# ---------------------------------------------------------------------------------------------------------------
# EventBridge rules: a route as a rule target, always with a DLQ and a retry policy

MAX_TARGET_RETRY_ATTEMPTS = 185
MIN_TARGET_EVENT_AGE_SECONDS = 60
MAX_TARGET_EVENT_AGE_SECONDS = 24 * 3600


def check_rule_target(
    route: Route, side: RouteSide, options: RuleTargetOptions, problems: Problems, *, where: str
) -> None:
    """Check ``route`` as an EventBridge rule target: it must be one, its retry policy within EventBridge's
    limits, and the options its target takes."""
    route.require(side, Capability.RULE_TARGET, problems, where=where)
    attempts = options.retry_attempts
    if attempts is not None and not is_unresolved(attempts) and not 0 <= attempts <= MAX_TARGET_RETRY_ATTEMPTS:
        problems.add(f"retry_attempts must be between 0 and 185 for an EventBridge target, got {attempts}")
    age = whole_seconds(options.max_event_age, problems, "max_event_age") if options.max_event_age is not None else None
    if age is not None and not MIN_TARGET_EVENT_AGE_SECONDS <= age <= MAX_TARGET_EVENT_AGE_SECONDS:
        problems.add(
            f"max_event_age must be between 60 seconds and 24 hours for an EventBridge target, "
            f"got {describe_duration(age)}"
        )
    route.check_rule_target_options(options, problems, where=where)


def render_rule_target(
    scope: Construct, construct_id: str, bound: BoundRoute, options: RuleTargetOptions
) -> tuple[events.IRuleTarget, sqs.IQueue]:
    """An EventBridge rule target for a bound route, always with a DLQ and a retry policy.

    :default options.dead_letter_queue: a new SSE-SQS encrypted, TLS-only queue ``{construct_id}DeadLetterQueue``.
    :default options.retry_attempts: 8. :default options.max_event_age: 4 hours.
    Returns the target and its DLQ.
    """
    dead_letter_queue = options.dead_letter_queue
    if dead_letter_queue is None:
        dead_letter_queue, _ = secure_queue(
            scope, f"{construct_id}DeadLetterQueue", dead_letter_for=f"the EventBridge rule target {construct_id}"
        )
    resolved = replace(
        options,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=DEFAULT_TARGET_RETRY_ATTEMPTS if options.retry_attempts is None else options.retry_attempts,
        max_event_age=DEFAULT_TARGET_MAX_EVENT_AGE if options.max_event_age is None else options.max_event_age,
    )
    return bound.route.rule_target(scope, bound, resolved), dead_letter_queue


def bind_rule_target(
    scope: Construct, construct_id: str, route: Route, options: RuleTargetOptions
) -> tuple[BoundRoute, events.IRuleTarget, sqs.IQueue]:
    """Bind ``route`` under ``construct_id`` and make it a rule target (see ``render_rule_target``)."""
    bound = route.bind(scope, construct_id)
    target, dlq = render_rule_target(scope, construct_id, bound, options)
    return bound, target, dlq


@dataclass(frozen=True)
class RoutedRule:
    """What ``rule_to_route`` made: the bound route, the rule and its target's DLQ."""

    bound: BoundRoute
    rule: events.Rule
    dead_letter_queue: sqs.IQueue


def rule_to_route(
    scope: Construct,
    route: Route,
    target: RuleTargetOptions,
    *,
    where: str,
    side: RouteSide,
    rule: events.RuleProps,
    problems: Problems,
) -> RoutedRule:
    """An EventBridge rule ``Rule`` in ``scope`` whose one target, ``Target``, is ``route``.

    Checks ``route`` as a rule target (``where`` names the prop in messages) and raises it with the caller's
    ``problems`` at once; then binds the route, gives the target a DLQ and a retry policy (``render_rule_target``)
    and makes the rule from ``rule``'s props.
    """
    check_rule_target(route, side, target, problems, where=where)
    problems.raise_if_any(scope)
    bound, rule_target, dlq = bind_rule_target(scope, "Target", route, target)
    made = events.Rule(scope, "Rule", **{**struct_values(rule), "targets": [rule_target]})
    return RoutedRule(bound=bound, rule=made, dead_letter_queue=dlq)
