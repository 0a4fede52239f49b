"""``LocalKit``: stand a synthesized stack up on moto, in process, and run it with its real handler code.

    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-1"})
        assert result.status == "SUCCEEDED"
        assert kit.received("Orders/FailureQueue") == []

Everything the kit drives (``invoke``, ``invoke_async``, ``start_execution``, ``publish``, ``put_event``,
``send_message``, ``put_object``, ``fire_rule``) returns once the stack is quiet again: executions finished,
asynchronous invocations retried and delivered, event source mappings drained.

Resources are named as a test knows them: a construct path inside the stack (``Worker/Function``), its last part
when that is unique, or a logical id.

Every call made inside a run is authorized from the template's IAM and KMS policies for the principal that makes it
on AWS; a refused call fails as it fails on AWS and is listed in ``denials`` (``iam="warn"`` or ``"off"`` to relax).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.batch_jobs import BatchJobReport
from constructs_lib.testing._engine.code_server import CodeDownload
from constructs_lib.testing._engine.enforcement import IamMode, checked_mode
from constructs_lib.testing._engine.event_shapes import json_text
from constructs_lib.testing._engine.faults import Faults
from constructs_lib.testing._engine.intrinsics import Physical
from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
from constructs_lib.testing._engine.resources import StackResources
from constructs_lib.testing._engine.runner import KitEngine
from constructs_lib.testing._engine.template import SynthesizedStack
from constructs_lib.testing.errors import EndpointError, KitError, ServiceError
from constructs_lib.testing.results import (
    AccessDenial,
    AsyncInvocation,
    Delivery,
    DurableExecutionResult,
    ExecutionResult,
)

if TYPE_CHECKING:
    from aws_cdk import Stack

__all__ = [
    "EndpointError",
    "EndpointHandler",
    "Faults",
    "IamMode",
    "KitError",
    "LocalKit",
    "ServiceError",
    "ServiceHandler",
]

EndpointHandler = Callable[[bytes, str], Any]
"""A SageMaker endpoint stand-in: gets the request body and content type, returns the response body
(bytes, str, or a JSON-serialisable value), or a ``(body, content_type)`` pair. Raise ``EndpointError`` for a
specific SageMaker error (throttling, say); any other exception is a ``ModelError``."""

ServiceHandler = Callable[[dict[str, Any]], Any]
"""A stand-in for one AWS API operation: gets the request parameters, returns the response (a dict). Raise
``ServiceError`` for an AWS error; any other exception is a 500 ``InternalFailure``."""

_STATE_MACHINE = "AWS::StepFunctions::StateMachine"
ARCHITECTURES = ("x86_64", "arm64")
"""Lambda's instruction set architectures."""


def checked_duration_factors(factors: Mapping[str, float]) -> dict[str, float]:
    """``duration_factors`` as given, or a ``KitError`` naming each architecture or factor that cannot be."""
    problems = [
        f"{architecture!r} is not a Lambda architecture ({' or '.join(ARCHITECTURES)})"
        for architecture in factors
        if architecture not in ARCHITECTURES
    ]
    problems += [
        f"{architecture}: {factor!r} must be a number above 0"
        for architecture, factor in factors.items()
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor <= 0
    ]
    if problems:
        raise KitError(f"duration_factors: {'; '.join(problems)}, e.g. {{'arm64': 0.8}}")
    return {architecture: float(factor) for architecture, factor in factors.items()}


class LocalKit:
    """A synthesized stack, stood up on moto in process. Use it as a context manager."""

    def __init__(
        self,
        stack: SynthesizedStack,
        *,
        endpoints: Mapping[str, EndpointHandler] | None = None,
        services: Mapping[str, ServiceHandler] | None = None,
        parameters: Mapping[str, str] | None = None,
        imports: Mapping[str, str] | None = None,
        validate_asl: bool = True,
        execution_timeout: float = 60.0,
        max_receives: int = 10,
        max_rounds: int = 10_000,
        iam: IamMode = "enforce",
        faults: Faults | None = None,
        duration_factors: Mapping[str, float] | None = None,
    ) -> None:
        """
        :param stack: the synthesized stack (see ``from_stack`` and ``from_cloud_assembly``).
        :param endpoints: a stand-in per SageMaker endpoint, by endpoint name or by the endpoint's construct path.
        :param services: a stand-in per AWS API operation, keyed ``"<service>:<Operation>"`` as in IAM
            (``"comprehend:DetectSentiment"``), for services that speak JSON (moto answers them otherwise).
        :param parameters: values for template parameters without defaults.
        :param imports: values for ``Fn::ImportValue`` names.
        :param validate_asl: check every state machine definition with asl-validator before making it.
        :param execution_timeout: real seconds an execution may run before the kit gives up on it.
        :param max_receives: receives of one SQS message by an event source before the kit stops polling it,
            when its queue has no redrive policy.
        :param max_rounds: rounds of delivery before the kit decides the stack never goes quiet (a loop).
        :param iam: how the kit treats a call that the template's IAM and KMS policies do not allow: ``"enforce"``
            fails it as AWS does (the service's error, a failed task, a dropped delivery), ``"warn"`` lets it through
            and adds a warning, ``"off"`` checks nothing. Either way ``denials`` lists what was refused.
        :param faults: faults to inject, seeded: duplicate deliveries, throttling, Lambda service exceptions in
            state machine tasks, targets that fail their first deliveries (see ``Faults``). :default: - none, beyond
            the template's reserved concurrency
        :param duration_factors: the kit's speed model per architecture, ``{"arm64": 0.8}``: the REPORT line's
            Duration (what ``LogType="Tail"`` returns, what power tuning reads) of an invocation on that architecture
            is the handler's measured time times the factor. A modelling choice of the kit, not AWS behaviour: the
            handler runs on this machine's processor whatever its function's architecture, and AWS documents no
            fixed ratio between x86_64 and arm64. :default: - 1 for both (the measured time)
        """
        self._engine = KitEngine(
            stack,
            endpoints=endpoints or {},
            services=services or {},
            parameters=parameters,
            imports=imports,
            validate_asl=validate_asl,
            execution_timeout=execution_timeout,
            max_receives=max_receives,
            max_rounds=max_rounds,
            iam=checked_mode(iam),
            faults=faults,
            duration_factors=checked_duration_factors(duration_factors or {}),
        )

    # -- construction --------------------------------------------------------------------------------------------
    @classmethod
    def from_stack(cls, stack: Stack, **options: Any) -> LocalKit:
        """A kit for a ``Stack`` object: its app is synthesized (once) and the result read back. ``options`` are
        those of ``LocalKit`` (``iam="enforce" | "warn" | "off"``, ``endpoints``, ``services``...)."""
        return cls(SynthesizedStack.from_stack(stack), **options)

    @classmethod
    def from_cloud_assembly(cls, directory: str | Path, stack_name: str, **options: Any) -> LocalKit:
        """A kit for a stack in a cloud assembly folder, such as ``cdk.out/`` after ``cdk synth``; ``options`` are those
        of ``LocalKit``."""
        return cls(SynthesizedStack.from_cloud_assembly(directory, stack_name), **options)

    def __enter__(self) -> LocalKit:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start moto, install the kit's hooks and stand the stack up (one kit runs at a time in a process)."""
        self._engine.start()

    def stop(self) -> None:
        """Wait for timed-out handlers, undo the hooks, give ``os.environ`` back and stop moto."""
        self._engine.stop()

    @property
    def stack(self) -> SynthesizedStack:
        """The synthesized stack the kit runs."""
        return self._engine.stack

    @property
    def warnings(self) -> list[str]:
        """What the kit could not do as AWS would, or what AWS would do that a test may not expect (an event
        lost for want of a dead-letter queue, a schedule that does not fire by itself), in order."""
        return self._engine.warnings

    @property
    def denials(self) -> list[AccessDenial]:
        """Every call the template's IAM and KMS policies did not allow, in order: who, what action on which
        resource, and what was missing (with ``iam="enforce"`` each of these calls failed as it fails on AWS)."""
        with self._engine.lock:
            return list(self._engine.denials)

    @property
    def certificate_authority(self) -> Path:
        """The PEM file of the kit's throwaway certificate authority, made when the kit starts and deleted when it
        stops. The kit's HTTPS endpoints (GetFunction's ``Code.Location``) have certificates from it; handlers trust it
        (the kit sets ``SSL_CERT_FILE`` in their environment), the test's own thread does not unless told:
        ``urllib.request.urlopen(location, context=ssl.create_default_context(cafile=kit.certificate_authority))``."""
        certificates = self._engine.certificates
        if certificates is None:
            raise KitError("the kit is not running: use `with LocalKit.from_stack(stack) as kit:`")
        return certificates.authority

    @property
    def code_downloads(self) -> list[CodeDownload]:
        """Every request to a GetFunction ``Code.Location`` the kit served, in order: path, HTTP status, size."""
        return self._engine.code_downloads()

    @property
    def resources(self) -> StackResources:
        """What the kit made of the stack, by logical id."""
        return self._engine.resources

    @property
    def skipped(self) -> Mapping[str, str]:
        """Resources with no local behaviour (IAM, KMS, alarms, ...): logical id -> type."""
        return dict(self.resources.skipped)

    def client(self, service: str) -> Any:
        """A boto3 client for moto, in the stack's region (made once; any thread may ask)."""
        return self._engine.client(service)

    # -- names ---------------------------------------------------------------------------------------------------
    def logical_id(self, name: str, *, of_type: str | Iterable[str] | None = None) -> str:
        """The logical id of ``name`` (a construct path, its last part, or a logical id), of a type if given."""
        return self.resources.logical_id(name, of_type=of_type)

    def physical(self, name: str) -> Physical:
        """The local identity of a resource: its ``Ref`` value and attributes."""
        return self.resources.physical[self.logical_id(name)]

    def ref(self, name: str) -> str:
        """A resource's ``Ref`` value (a queue's URL, a topic's ARN, a function's name...)."""
        return self.physical(name).ref

    def arn(self, name: str) -> str:
        """A resource's ARN (its ``Ref`` value for resources whose ``Ref`` is their ARN)."""
        physical = self.physical(name)
        return physical.attributes.get("Arn") or physical.ref

    def function(self, name: str) -> LocalFunction:
        """A function of the stack, as the kit runs it."""
        return self.resources.function(name)

    # -- driving -------------------------------------------------------------------------------------------------
    def invoke(self, function: str, event: Any = None, *, qualifier: str | None = None) -> Invocation:
        """Invoke a function synchronously (RequestResponse), then let the stack settle.

        ``qualifier``: a version or an alias name (``"live"``); a durable function needs one, as on AWS. A durable
        function's invocation runs its durable execution to the end (``durable_executions`` has it).
        """
        local = self.function(function)
        invoked, version, memory = self._engine.qualified(local, qualifier)
        payload = {} if event is None else event
        invocation = self._engine.run(local, payload, "invoke", version=version, memory_mb=memory, qualifier=invoked)
        self.settle()
        return invocation

    def invoke_async(self, function: str, event: Any = None, *, qualifier: str | None = None) -> AsyncInvocation:
        """Invoke a function asynchronously (Event) and follow it through retries to its destination (``qualifier``
        as for ``invoke``)."""
        local = self.function(function)
        invoked, version, memory = self._engine.qualified(local, qualifier)
        payload = {} if event is None else event
        item = self._engine.async_invokes.enqueue(
            local, payload, "invoke", qualifier=invoked, version=version, memory_mb=memory
        )
        self.settle()
        return item.done[0]

    def start_execution(self, state_machine: str, input: Any = None, *, name: str | None = None) -> ExecutionResult:
        """Start an execution, wait for it to end, let the stack settle, and return the execution."""
        text = input if isinstance(input, str) else json.dumps({} if input is None else input)
        execution_arn = self._engine.start_execution(self._machine_arn(state_machine), text, name)
        self.settle()
        return self.execution(execution_arn)

    def start_executions(
        self, state_machine: str, inputs: Iterable[Any], *, concurrency: int = 8
    ) -> list[ExecutionResult]:
        """Start one execution per input, ``concurrency`` at a time, let the stack settle, return them in input order.

        Executions run concurrently (moto runs each in its own thread); ``concurrency`` caps how many are in flight,
        because a thousand threads contending for the interpreter cost far more CPU than the work itself.
        """
        if concurrency < 1:
            raise KitError(f"concurrency must be at least 1, got {concurrency}")
        arn = self._machine_arn(state_machine)
        started: list[str] = []
        for value in inputs:
            if len(started) % concurrency == 0 and started:
                self._engine.executions.await_all()
            started.append(self._engine.start_execution(arn, json_text(value)))
        self.settle()
        return [self.execution(execution_arn) for execution_arn in started]

    def publish(
        self, topic: str, message: Any, *, subject: str | None = None, attributes: Mapping[str, str] | None = None
    ) -> None:
        """Publish to a topic of the stack (attributes are String attributes), then let the stack settle."""
        request: dict[str, Any] = {"TopicArn": self.ref(topic), "Message": json_text(message)}
        if subject:
            request["Subject"] = subject
        if attributes:
            request["MessageAttributes"] = {
                key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()
            }
        self.client("sns").publish(**request)
        self.settle()

    def send_message(self, queue: str, body: Any, *, group_id: str | None = None) -> None:
        """Send a message to a queue of the stack, then let the stack settle."""
        request: dict[str, Any] = {"QueueUrl": self.ref(queue), "MessageBody": json_text(body)}
        if group_id:
            request["MessageGroupId"] = group_id
            request["MessageDeduplicationId"] = str(uuid.uuid4())
        self.client("sqs").send_message(**request)
        self.settle()

    def put_event(
        self,
        detail: Any,
        *,
        source: str,
        detail_type: str,
        bus: str = "default",
        resources: Iterable[str] = (),
    ) -> None:
        """Put an event on a bus (``default`` or a bus of the stack), then let the stack settle.

        ``source`` may be an AWS source (``aws.s3``, ``aws.states``): the kit puts the event as the service would.
        """
        bus_name = bus if bus == "default" else self.physical(bus).attributes.get("Name", self.ref(bus))
        self._engine.put_events(
            [
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": bus_name,
                    "Resources": list(resources),
                }
            ]
        )
        self.settle()

    def put_object(self, bucket: str, key: str, body: bytes | str, *, content_type: str | None = None) -> None:
        """Put an object in a bucket of the stack (its notifications fire), then let the stack settle."""
        request: dict[str, Any] = {"Bucket": self.ref(bucket), "Key": key, "Body": body}
        if content_type:
            request["ContentType"] = content_type
        self.client("s3").put_object(**request)
        self.settle()

    def fire_rule(self, rule: str) -> None:
        """Fire a scheduled rule once (a ``Scheduled Event`` to its targets), then let the stack settle."""
        self._engine.targets.fire(self.ref(rule))
        self.settle()

    def settle(self) -> None:
        """Run until the stack is quiet: executions ended, asynchronous events delivered, queues drained."""
        self._engine.settle()

    # -- observing -----------------------------------------------------------------------------------------------
    def deliveries(self, resource: str | None = None) -> list[Delivery]:
        """Everything delivered so far, or only to ``resource`` (a name, or ``default`` for the default bus)."""
        found = self._engine.deliveries()
        if resource is None:
            return found
        key = resource if resource == "default" else self.logical_id(resource)
        return [delivery for delivery in found if delivery.resource == key]

    def received(self, resource: str) -> list[Any]:
        """The payloads ``resource`` received, in order (message bodies, events' details, invocation events)."""
        return [delivery.payload for delivery in self.deliveries(resource)]

    def messages(self, queue: str) -> list[Any]:
        """The messages on a queue now (not consumed by this call), bodies parsed as JSON where they are JSON."""
        return self._engine.queue_messages(self.physical(queue).attributes["QueueName"])

    def items(self, table: str) -> list[dict[str, Any]]:
        """Every item of a table, as plain Python values (numbers are ``Decimal``)."""
        import boto3

        resource = boto3.resource("dynamodb", region_name=self.stack.region).Table(self.ref(table))
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {}
        while True:
            page = resource.scan(**request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object of a bucket: key -> body."""
        s3 = self.client("s3")
        name = self.ref(bucket)
        found: dict[str, bytes] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for entry in page.get("Contents", []):
                found[entry["Key"]] = s3.get_object(Bucket=name, Key=entry["Key"])["Body"].read()
        return found

    def invocations(self, function: str) -> list[Invocation]:
        """Every run of a function's handler, in order."""
        return list(self.function(function).invocations)

    def async_invocations(self, function: str | None = None) -> list[AsyncInvocation]:
        """Every asynchronous invocation followed to its end, or only those of ``function``."""
        found = self._engine.async_invokes.results()
        if function is None:
            return found
        key = self.logical_id(function)
        return [result for result in found if result.function == key]

    def durable_executions(self, function: str | None = None) -> list[DurableExecutionResult]:
        """Every durable execution so far (of a function whose template has ``DurableConfig``), or only those of
        ``function``, oldest first."""
        found: list[DurableExecutionResult] = self._engine.durable_results()
        if function is None:
            return found
        key = self.logical_id(function)
        return [result for result in found if result.function == key]

    def execution(self, execution_arn: str) -> ExecutionResult:
        """An execution of the stack's state machines, by ARN."""
        return self._engine.executions.result(execution_arn)

    def executions(self, state_machine: str | None = None) -> list[ExecutionResult]:
        """Every execution so far (started by the test, a rule or another workflow), oldest first."""
        return self._engine.executions.results(None if state_machine is None else self._machine_arn(state_machine))

    def run_batch_job(self, job: str | None = None, *, max_attempts: int = 3) -> BatchJobReport:
        """Run an S3 Batch Operations job of the stack, task by task, and write its completion report.

        :param job: the construct path (or part of it) of the ``s3control:CreateJob`` custom resource or of the
            ``CreateJobInput`` output. :default: - the stack's only job.
        :param max_attempts: invocations of a task that answers ``TemporaryFailure`` before it counts as failed.
        """
        return self._engine.run_batch_job(job, max_attempts=max_attempts)

    def _machine_arn(self, state_machine: str) -> str:
        return self.resources.state_machines[self.logical_id(state_machine, of_type=_STATE_MACHINE)]
