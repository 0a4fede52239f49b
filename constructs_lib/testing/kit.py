"""``LocalKit``: stand a synthesized stack up on moto, in process, and run it with its real handler code.

    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-1"})
        assert result.status == "SUCCEEDED"
        assert kit.received("Orders/FailureQueue") == []

Everything the kit drives (``invoke_async``, ``start_execution``, ``publish``, ``put_event``, ``send_message``,
``put_object``) returns once the stack is quiet again: executions finished, asynchronous invocations retried and
delivered, event source mappings drained.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine import moto_hooks
from constructs_lib.testing._engine.batch_jobs import BatchJobReport, BatchJobRunner
from constructs_lib.testing._engine.intrinsics import Physical
from constructs_lib.testing._engine.lambda_runtime import Invocation, LayeredEnviron, LocalFunction
from constructs_lib.testing._engine.resources import InvokeConfig, SqsEventSource, StackResources, stand_up
from constructs_lib.testing._engine.template import SynthesizedStack
from constructs_lib.testing.results import AsyncInvocation, Delivery, ExecutionResult, VirtualWait, parse_json

if TYPE_CHECKING:
    from aws_cdk import Stack

EndpointHandler = Callable[[bytes, str], Any]
"""A SageMaker endpoint stand-in: gets the request body and content type, returns the response body
(bytes, str, or a JSON-serialisable value), or a ``(body, content_type)`` pair. Raise ``EndpointError`` for a
specific SageMaker error (throttling, say); any other exception is a ``ModelError``."""

_ACTIVE: LocalKit | None = None
_ACTIVE_LOCK = threading.Lock()
_RETRY_DELAYS = (60.0, 120.0)
"""Lambda waits one minute before the second attempt of an asynchronous invocation and two before the third."""


class KitError(RuntimeError):
    """The kit could not do what was asked; the message says why and what to do."""


class ServiceError(Exception):
    """Raised by a service stand-in to answer with a specific AWS error (``ThrottlingException``, say)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class EndpointError(ServiceError):
    """Raised by an endpoint stand-in to answer with a specific SageMaker runtime error."""


ServiceHandler = Callable[[dict[str, Any]], Any]
"""A stand-in for one AWS API operation: gets the request parameters, returns the response (a dict). Raise
``ServiceError`` for an AWS error; any other exception is a 500 ``InternalFailure``."""


@dataclass
class _AsyncEvent:
    function: LocalFunction
    event: Any
    source: str
    done: list[AsyncInvocation] = field(default_factory=list)


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
        """
        self.stack = stack
        self._endpoint_handlers = dict(endpoints or {})
        self._service_handlers = _service_handlers(services or {})
        self._stand_in_services = {key.split(":", 1)[0] for key in self._service_handlers}
        self._parameters = parameters
        self._imports = imports
        self._validate_asl = validate_asl
        self._execution_timeout = execution_timeout
        self._max_receives = max_receives
        self._max_rounds = max_rounds
        self._lock = threading.RLock()
        self._pending: deque[_AsyncEvent] = deque()
        self._deliveries: list[Delivery] = []
        self._async_results: list[AsyncInvocation] = []
        self._waits: dict[str, list[VirtualWait]] = {}
        self._seen_executions: dict[str, str] = {}
        self._finished_executions: set[str] = set()
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        self._saved_path: list[str] | None = None
        self._saved_dont_write_bytecode: bool | None = None
        self._undo: Callable[[], None] | None = None
        self._mock: Any = None
        self._environ: LayeredEnviron | None = None
        self._resources: StackResources | None = None
        self.warnings: list[str] = []

    # -- construction --------------------------------------------------------------------------------------------
    @classmethod
    def from_stack(cls, stack: Stack, **options: Any) -> LocalKit:
        """A kit for a ``Stack`` object: its app is synthesized (once) and the result read back."""
        return cls(SynthesizedStack.from_stack(stack), **options)

    @classmethod
    def from_cloud_assembly(cls, directory: str | Path, stack_name: str, **options: Any) -> LocalKit:
        """A kit for a stack in a cloud assembly folder, such as ``cdk.out/`` after ``cdk synth``."""
        return cls(SynthesizedStack.from_cloud_assembly(directory, stack_name), **options)

    def __enter__(self) -> LocalKit:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start moto, install the kit's hooks and stand the stack up."""
        global _ACTIVE  # noqa: PLW0603 - one kit owns moto's hooks at a time
        with _ACTIVE_LOCK:
            if _ACTIVE is not None:
                raise KitError("another LocalKit is running in this process; run one at a time (`with` blocks)")
            _ACTIVE = self
        try:
            from moto import mock_aws

            # Handler code is imported from the asset folders, which may be a cdk.out/ that `cdk deploy` ships:
            # no __pycache__ may be left there.
            self._saved_dont_write_bytecode = sys.dont_write_bytecode
            sys.dont_write_bytecode = True
            self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self._mock.start()
            self._environ = LayeredEnviron(os.environ)
            os.environ = self._environ  # type: ignore[assignment]  # noqa: B003 - a layered view, not a new environment
            self._undo = moto_hooks.install(self)
            self._resources = stand_up(
                self.stack,
                clients=self.client,
                parameters=self._parameters,
                imports=self._imports,
                validate_asl=self._validate_asl,
            )
            self.warnings.extend(self._resources.warnings)
            # Imports a handler makes while it runs find its asset folders (the load itself puts its own first).
            self._saved_path = list(sys.path)
            for function in self._resources.functions.values():
                sys.path.extend(str(path) for path in function.code_dirs if str(path) not in sys.path)
            self._endpoint_handlers = self._endpoints_by_name(self._endpoint_handlers)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Wait for timed-out handlers, undo the hooks, give ``os.environ`` back and stop moto."""
        global _ACTIVE  # noqa: PLW0603
        if self._resources is not None:
            for function in self._resources.functions.values():
                for thread in function.stragglers:
                    thread.join(timeout=max(1.0, function.timeout_seconds))
                    if thread.is_alive():
                        self.warnings.append(f"{function.logical_id}: a timed-out handler still runs after the kit")
            for folder in self._resources.temporary_dirs:
                shutil.rmtree(folder, ignore_errors=True)
        if self._saved_dont_write_bytecode is not None:
            sys.dont_write_bytecode = self._saved_dont_write_bytecode
            self._saved_dont_write_bytecode = None
        if self._saved_path is not None:
            sys.path[:] = self._saved_path
            self._saved_path = None
        if self._undo is not None:
            self._undo()
            self._undo = None
        if self._environ is not None:
            os.environ = self._environ.base  # type: ignore[assignment]  # noqa: B003 - the original object back
            self._environ = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._clients.clear()
        self._session = None
        with _ACTIVE_LOCK:
            if _ACTIVE is self:
                _ACTIVE = None

    @property
    def resources(self) -> StackResources:
        if self._resources is None:
            raise KitError("the kit is not running: use `with LocalKit.from_stack(stack) as kit:`")
        return self._resources

    @property
    def skipped(self) -> Mapping[str, str]:
        """Resources with no local behaviour (IAM, KMS, alarms, ...): logical id -> type."""
        return dict(self.resources.skipped)

    def client(self, service: str) -> Any:
        """A boto3 client for moto, in the stack's region (made once, under a lock: any thread may ask)."""
        with self._lock:
            if service not in self._clients:
                import boto3

                if self._session is None:
                    self._session = boto3.session.Session(region_name=self.stack.region)
                self._clients[service] = self._session.client(service, region_name=self.stack.region)
            return self._clients[service]

    # -- names ---------------------------------------------------------------------------------------------------
    def logical_id(self, name: str, *, of_type: str | Iterable[str] | None = None) -> str:
        return self.resources.logical_id(name, of_type=of_type)

    def physical(self, name: str) -> Physical:
        """The local identity of a resource: its ``Ref`` value and attributes."""
        return self.resources.physical[self.logical_id(name)]

    def ref(self, name: str) -> str:
        return self.physical(name).ref

    def arn(self, name: str) -> str:
        physical = self.physical(name)
        return physical.attributes.get("Arn") or physical.ref

    def function(self, name: str) -> LocalFunction:
        return self.resources.function(name)

    # -- driving -------------------------------------------------------------------------------------------------
    def invoke(self, function: str, event: Any = None) -> Invocation:
        """Invoke a function synchronously (RequestResponse), then let the stack settle."""
        local = self.function(function)
        invocation = self._run(local, {} if event is None else event, "invoke")
        self.settle()
        return invocation

    def invoke_async(self, function: str, event: Any = None) -> AsyncInvocation:
        """Invoke a function asynchronously (Event) and follow it through retries to its destination."""
        item = self._enqueue(self.function(function), {} if event is None else event, "invoke")
        self.settle()
        return item.done[0]

    def start_execution(self, state_machine: str, input: Any = None, *, name: str | None = None) -> ExecutionResult:
        """Start an execution, wait for it to end, let the stack settle, and return the execution."""
        arn = self.resources.state_machines[self.logical_id(state_machine, of_type="AWS::StepFunctions::StateMachine")]
        text = input if isinstance(input, str) else json.dumps({} if input is None else input)
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=arn, input=text, name=name or str(uuid.uuid4())
        )
        self.settle()
        return self.execution(started["executionArn"])

    def start_executions(
        self, state_machine: str, inputs: Iterable[Any], *, concurrency: int = 8
    ) -> list[ExecutionResult]:
        """Start one execution per input, ``concurrency`` at a time, let the stack settle, return them in input order.

        Executions run concurrently (moto runs each in its own thread); ``concurrency`` caps how many are in flight,
        because a thousand threads contending for the interpreter cost far more CPU than the work itself.
        """
        if concurrency < 1:
            raise KitError(f"concurrency must be at least 1, got {concurrency}")
        arn = self.resources.state_machines[self.logical_id(state_machine, of_type="AWS::StepFunctions::StateMachine")]
        sfn = self.client("stepfunctions")
        started: list[str] = []
        for value in inputs:
            if len(started) % concurrency == 0 and started:
                self._await_executions()
            started.append(
                sfn.start_execution(
                    stateMachineArn=arn,
                    input=value if isinstance(value, str) else json.dumps(value),
                    name=str(uuid.uuid4()),
                )["executionArn"]
            )
        self.settle()
        return [self.execution(execution_arn) for execution_arn in started]

    def publish(
        self, topic: str, message: Any, *, subject: str | None = None, attributes: Mapping[str, str] | None = None
    ) -> None:
        """Publish to a topic of the stack (attributes are String attributes), then let the stack settle."""
        request: dict[str, Any] = {"TopicArn": self.ref(topic), "Message": _text(message)}
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
        request: dict[str, Any] = {"QueueUrl": self.ref(queue), "MessageBody": _text(body)}
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
        self._events_backend().put_events(
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
        name = self.ref(rule).split("|")[-1]
        bus = self.ref(rule).split("|")[0] if "|" in self.ref(rule) else "default"
        backend = self._events_backend()
        found = backend.describe_rule(name, bus)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.stack.account,
            "time": _now_iso(milliseconds=False),
            "region": self.stack.region,
            "resources": [found.arn],
            "detail": {},
        }
        self.on_rule_match(found, event)
        self.settle()

    def settle(self) -> None:
        """Run until the stack is quiet: executions ended, asynchronous events delivered, queues drained."""
        for _ in range(self._max_rounds):
            progressed = self._await_executions()
            progressed = self._drain_async() or progressed
            progressed = self._poll_event_sources() or progressed
            if not progressed:
                return
        raise KitError(f"the stack did not go quiet after {self._max_rounds} rounds: does something trigger itself?")

    # -- observing -----------------------------------------------------------------------------------------------
    def deliveries(self, resource: str | None = None) -> list[Delivery]:
        """Everything delivered so far, or only to ``resource`` (a name, or ``default`` for the default bus)."""
        with self._lock:
            found = list(self._deliveries)
        if resource is None:
            return found
        key = resource if resource == "default" else self.logical_id(resource)
        return [delivery for delivery in found if delivery.resource == key]

    def received(self, resource: str) -> list[Any]:
        """The payloads ``resource`` received, in order (message bodies, events' details, invocation events)."""
        return [delivery.payload for delivery in self.deliveries(resource)]

    def messages(self, queue: str) -> list[Any]:
        """The messages on a queue now (not consumed by this call), bodies parsed as JSON where they are JSON."""
        from moto.sqs.models import sqs_backends

        name = self.physical(queue).attributes["QueueName"]
        found = sqs_backends[self.stack.account][self.stack.region].get_queue(name)
        return [parse_json(message.body) for message in list(found._messages)]

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
        with self._lock:
            found = list(self._async_results)
        if function is None:
            return found
        key = self.logical_id(function)
        return [result for result in found if result.function == key]

    def execution(self, execution_arn: str) -> ExecutionResult:
        """An execution by ARN (read from moto's own objects: the API would serialise the whole history)."""
        found = next((e for e in self._executions_now() if e.execution_arn == execution_arn), None)
        if found is None:
            raise KeyError(f"no execution {execution_arn} of this stack's state machines")
        described = json.loads(json.dumps(found.to_describe_output(), default=str))
        history = json.loads(json.dumps(found.to_history_output().get("events", []), default=str))
        machine_arn = described["stateMachineArn"]
        logical = next((lid for lid, arn in self.resources.state_machines.items() if arn == machine_arn), machine_arn)
        with self._lock:
            waits = tuple(self._waits.get(execution_arn, ()))
        return ExecutionResult(
            state_machine=logical,
            execution_arn=execution_arn,
            status=described["status"],
            input=parse_json(described.get("input")),
            output=parse_json(described.get("output")),
            error=described.get("error"),
            cause=described.get("cause"),
            history=tuple(history),
            waits=waits,
        )

    def executions(self, state_machine: str | None = None) -> list[ExecutionResult]:
        """Every execution so far (started by the test, a rule or another workflow), oldest first."""
        wanted = None if state_machine is None else self.resources.state_machines[self.logical_id(state_machine)]
        found = [e for e in self._executions_now() if wanted is None or e.state_machine_arn == wanted]
        found.sort(key=lambda execution: execution.start_date)
        return [self.execution(execution.execution_arn) for execution in found]

    def run_batch_job(self, job: str | None = None, *, max_attempts: int = 3) -> BatchJobReport:
        """Run an S3 Batch Operations job of the stack, task by task, and write its completion report.

        :param job: the construct path (or part of it) of the ``s3control:CreateJob`` custom resource or of the
            ``CreateJobInput`` output. :default: - the stack's only job.
        :param max_attempts: invocations of a task that answers ``TemporaryFailure`` before it counts as failed.
        """
        jobs = self._batch_jobs()
        if job is not None:
            jobs = {name: spec for name, spec in jobs.items() if job in name}
        if len(jobs) != 1:
            known = ", ".join(sorted(self._batch_jobs())) or "none"
            raise KitError(f"{len(jobs)} S3 Batch Operations jobs match {job!r}; the stack has: {known}")
        (spec,) = jobs.values()
        runner = BatchJobRunner(
            self.resources,
            spec,
            s3=self.client("s3"),
            invoke=lambda local, event: self._run(local, event, "s3-batch"),
            max_attempts=max_attempts,
        )
        return runner.run()

    # -- hooks (called by moto, through moto_hooks) --------------------------------------------------------------
    def on_lambda_invoke(
        self,
        function_name: str,
        body: Any,
        invocation_type: str,
        log_tail: bool,
        *,
        version: str = "$LATEST",
        memory_mb: int | None = None,
    ) -> Any:
        """``version`` and ``memory_mb``: those of the invoked qualifier (moto's object of that version)."""
        local = self.resources.function_by_physical_name(function_name)
        if local is None:
            return moto_hooks.NOT_OURS
        event = _event_from_body(body)
        if invocation_type == "Event":
            self._enqueue(local, event, "invoke")
            return moto_hooks.InvokeAnswer(payload=b"")
        if invocation_type == "DryRun":
            return moto_hooks.InvokeAnswer(payload=b"")
        memory = memory_mb or local.memory_mb
        invocation = self._run(local, event, "invoke", version=version, memory_mb=memory)
        return moto_hooks.InvokeAnswer(
            payload=json.dumps(invocation.payload).encode(),
            function_error=None if invocation.succeeded else "Unhandled",
            log_result=invocation.log_tail(memory) if log_tail else None,
        )

    def on_sns_to_lambda(
        self,
        subscription: Any,
        message: str,
        message_id: str,
        subject: str | None,
        message_attributes: dict[str, Any] | None,
    ) -> None:
        local = self.resources.function_by_physical_name(str(subscription.endpoint))
        if local is None:
            self.warnings.append(f"SNS delivery to {subscription.endpoint}: not a function of this stack")
            return
        event = {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": subscription.arn,
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": message_id,
                        "TopicArn": subscription.topic.arn,
                        "Subject": subject,
                        "Message": message,
                        "Timestamp": _now_iso(),
                        "SignatureVersion": "1",
                        "Signature": "LOCAL",
                        "SigningCertUrl": "",
                        "UnsubscribeUrl": "",
                        "MessageAttributes": {
                            key: {"Type": value.get("Type"), "Value": value.get("Value")}
                            for key, value in (message_attributes or {}).items()
                        },
                    },
                }
            ]
        }
        self._enqueue(local, event, "sns")

    def on_rule_match(self, rule: Any, event: dict[str, Any]) -> None:
        for target in list(rule.targets):
            try:
                payload = _target_input(target, event, rule)
                self._deliver_to_target(str(target["Arn"]), payload, event, target)
            except Exception as error:
                self._target_failed(rule, target, event, error)

    def on_s3_to_lambda(self, event: Any, function_arn: str) -> None:
        for record in event.get("Records", []) if isinstance(event, dict) else []:
            _complete_s3_record(record, self.stack.account)
        local = self.resources.function_by_physical_name(function_arn)
        if local is None:
            self.warnings.append(f"S3 notification to {function_arn}: not a function of this stack")
            return
        self._enqueue(local, event, "s3")

    def on_sagemaker_invoke(self, endpoint_name: str, body: bytes, content_type: str, accept: str | None) -> Any:
        self._record("sagemaker", endpoint_name, body, {"content_type": content_type, "accept": accept})
        handler = self._endpoint_handlers.get(endpoint_name)
        if handler is None:
            known = ", ".join(sorted(self._endpoint_handlers)) or "none"
            return _error_response(
                400,
                "ValidationError",
                f"Endpoint {endpoint_name} of account {self.stack.account} not found. "
                f"(local kit: pass endpoints={{'{endpoint_name}': handler}}; it has: {known})",
            )
        try:
            answer = handler(body, content_type)
        except EndpointError as error:
            return _error_response(error.status, error.code, str(error))
        except Exception as error:
            return _error_response(
                424,
                "ModelError",
                f'Received server error (500) from primary with message "{type(error).__name__}: {error}".',
            )
        response_type = "application/json"
        if isinstance(answer, tuple):
            answer, response_type = answer
        if isinstance(answer, bytes):
            data = answer
        elif isinstance(answer, str):
            data = answer.encode()
        else:
            data = json.dumps(answer).encode()
        return 200, {"Content-Type": response_type, "x-Amzn-Invoked-Production-Variant": "AllTraffic"}, data

    def stands_in_for(self, service: str) -> bool:
        return service in self._stand_in_services

    def on_service_call(self, service: str, operation: str, body: Any) -> Any:
        handler = self._service_handlers.get(f"{service}:{operation}")
        if handler is None:
            return moto_hooks.NOT_OURS
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        request = parse_json(text) if text else {}
        self._record("service", f"{service}:{operation}", request, {})
        try:
            answer = handler(request if isinstance(request, dict) else {})
        except ServiceError as error:
            return moto_hooks.ServiceAnswerError(error.code, str(error), error.status)
        except Exception as error:
            return moto_hooks.ServiceAnswerError("InternalFailure", f"{type(error).__name__}: {error}", 500)
        return dict(answer or {})

    def on_delivery(self, kind: str, name: str, payload: Any, attributes: dict[str, Any]) -> None:
        self._record(kind, name, payload, attributes)

    def on_virtual_wait(self, execution_arn: str, state: str, seconds: float, kind: str) -> None:
        with self._lock:
            self._waits.setdefault(execution_arn, []).append(VirtualWait(state=state, seconds=seconds, kind=kind))

    # -- internals -----------------------------------------------------------------------------------------------
    def _batch_jobs(self) -> dict[str, dict[str, Any]]:
        """Every job the stack defines, by construct path: created ones, then CreateJob inputs in its outputs."""
        jobs = {self.resources.short_name(lid): spec for lid, spec in self.resources.batch_jobs.items()}
        created_roles = {str(spec.get("RoleArn")) for spec in jobs.values()}
        for output_id, output in self.stack.template.get("Outputs", {}).items():
            value = self.resources.resolve(output.get("Value"))
            spec = parse_json(value) if isinstance(value, str) and value.startswith("{") else None
            if not isinstance(spec, dict) or "Operation" not in spec or "RoleArn" not in spec:
                continue
            if str(spec["RoleArn"]) in created_roles:
                continue  # the input of a job the stack also creates (its CreateJob custom resource)
            name = self.resources.short_name(output_id)
            spec.setdefault("JobId", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack.stack_name}/{output_id}")))
            jobs[name] = spec
        return jobs

    def _machine_arn(self, state_machine: str) -> str:
        return self.resources.state_machines[self.logical_id(state_machine, of_type="AWS::StepFunctions::StateMachine")]

    def _start(self, arn: str, input_value: Any, name: str | None = None) -> str:
        """Start an execution (a string input is taken as JSON text); returns its ARN."""
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=arn, input=_text(input_value), name=name or str(uuid.uuid4())
        )
        return str(started["executionArn"])

    def _enqueue(self, local: LocalFunction, event: Any, source: str) -> _AsyncEvent:
        """Queue an asynchronous invocation (any thread may); ``settle`` runs it."""
        item = _AsyncEvent(local, event, source)
        with self._lock:
            self._pending.append(item)
        return item

    def _record(self, kind: str, name: str, payload: Any, attributes: Mapping[str, Any]) -> None:
        if self._resources is None:
            return  # the stand-up's own calls (AwsCustomResource SDK calls) are not deliveries
        resource = name if name == "default" else self.resources.resource_by_physical(name) or name
        with self._lock:
            self._deliveries.append(Delivery(resource=resource, kind=kind, payload=payload, attributes=attributes))

    def _run(
        self,
        local: LocalFunction,
        event: Any,
        source: str,
        request_id: str | None = None,
        *,
        version: str = "$LATEST",
        memory_mb: int | None = None,
    ) -> Invocation:
        assert self._environ is not None
        self._record("lambda", local.arn, event, {"source": source})
        return local.run(
            event, environ=self._environ, source=source, request_id=request_id, version=version, memory_mb=memory_mb
        )

    def _events_backend(self) -> Any:
        from moto.events.models import events_backends

        return events_backends[self.stack.account][self.stack.region]

    def _endpoints_by_name(self, given: Mapping[str, EndpointHandler]) -> dict[str, EndpointHandler]:
        by_name: dict[str, EndpointHandler] = {}
        for key, handler in given.items():
            try:
                logical = self.resources.logical_id(key, of_type="AWS::SageMaker::Endpoint")
            except KeyError:
                by_name[key] = handler
            else:
                by_name[self.resources.endpoints[logical]] = handler
        return by_name

    def _executions_now(self) -> list[Any]:
        """moto's execution objects of this stack's state machines (read directly: the API lists are O(n))."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[self.stack.account][self.stack.region]
        ours = set(self.resources.state_machines.values())
        return [
            execution
            for machine in list(backend.state_machines)
            if machine.arn in ours
            for execution in list(machine.executions)
        ]

    def _express_arns(self) -> set[str]:
        return {self.resources.state_machines[lid] for lid in self.resources.express}

    def _await_executions(self) -> bool:
        """Wait until no execution runs; put each execution's status changes on the default bus."""
        deadline = time.monotonic() + self._execution_timeout
        progressed = False
        express = self._express_arns()
        while True:
            running = []
            for execution in self._executions_now():
                key = str(execution.execution_arn)
                if key in self._finished_executions:
                    continue
                status = str(getattr(execution.status, "value", execution.status))
                # Step Functions sends status change events for Standard workflows only.
                standard = execution.state_machine_arn not in express
                if key not in self._seen_executions:
                    self._seen_executions[key] = "RUNNING"
                    if standard:
                        self._status_event(execution, "RUNNING")
                    progressed = True
                if status == "RUNNING":
                    running.append(key)
                    continue
                self._seen_executions[key] = status
                self._finished_executions.add(key)
                if standard:
                    self._status_event(execution, status)
                progressed = True
            if not running:
                return progressed
            if time.monotonic() > deadline:
                raise KitError(
                    f"executions still running after {self._execution_timeout:.0f} s: {', '.join(running)}. "
                    "A task that waits for a task token or an activity never ends locally; raise "
                    "execution_timeout if a handler is just slow"
                )
            time.sleep(0.002)

    def _status_event(self, execution: Any, status: str) -> None:
        """The ``Step Functions Execution Status Change`` event, on the default bus, as Step Functions sends it."""
        described = execution.to_describe_output()
        ended = status != "RUNNING"

        def millis(value: Any) -> int | None:
            return int(value.timestamp() * 1000) if isinstance(value, dt.datetime) else None

        detail = {
            "executionArn": described["executionArn"],
            "stateMachineArn": described["stateMachineArn"],
            "name": described["name"],
            "status": status,
            "startDate": millis(described.get("startDate")),
            "stopDate": millis(described.get("stopDate")) if ended else None,
            "input": described.get("input"),
            "output": described.get("output") if ended else None,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if ended else None,
            "error": described.get("error") if ended else None,
            "cause": described.get("cause") if ended else None,
        }
        self._events_backend().put_events(
            [
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(detail),
                    "Resources": [described["executionArn"]],
                }
            ]
        )

    def _drain_async(self) -> bool:
        progressed = False
        while True:
            with self._lock:
                if not self._pending:
                    return progressed
                item = self._pending.popleft()
            progressed = True
            self._process_async(item)

    def _process_async(self, item: _AsyncEvent) -> None:
        local = item.function
        config = self.resources.invoke_configs.get(local.logical_id, InvokeConfig())
        request_id = str(uuid.uuid4())
        attempts: list[Invocation] = []
        delays: list[float] = []
        age = 0.0
        condition = "RetriesExhausted"
        for attempt in range(config.max_retries + 1):
            if attempt:
                delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS)) - 1]
                age += delay
                delays.append(delay)
                if age > config.max_event_age_seconds:
                    condition = "EventAgeExceeded"
                    break
            invocation = self._run(local, item.event, f"async:{item.source}", request_id)
            attempts.append(invocation)
            if invocation.succeeded:
                condition = "Success"
                break
        last = attempts[-1]
        record = _execution_record(
            local, item.event, condition=condition, count=len(attempts), last=last, request_id=request_id
        )
        delivered: list[str] = []
        if condition == "Success":
            if config.on_success:
                delivered.extend(self._deliver_record(config.on_success, record, local, success=True))
        else:
            if config.on_failure:
                delivered.extend(self._deliver_record(config.on_failure, record, local, success=False))
            if local.dead_letter_arn:
                delivered.extend(self._dead_letter(local.dead_letter_arn, item.event, last, request_id))
        result = AsyncInvocation(
            function=local.logical_id,
            event=item.event,
            source=item.source,
            attempts=tuple(attempts),
            condition=condition,
            record=record,
            delivered_to=tuple(delivered),
            retry_delays=tuple(delays),
        )
        with self._lock:
            self._async_results.append(result)
        item.done.append(result)

    def _deliver_record(self, arn: str, record: Mapping[str, Any], local: LocalFunction, *, success: bool) -> list[str]:
        service = arn.split(":")[2]
        body = json.dumps(record)
        try:
            if service == "sqs":
                self.client("sqs").send_message(QueueUrl=self._queue_url(arn), MessageBody=body)
            elif service == "sns":
                self.client("sns").publish(TopicArn=arn, Message=body)
            elif service == "events":
                result = "Success" if success else "Failure"
                self.client("events").put_events(
                    Entries=[
                        {
                            "Source": "lambda",
                            "DetailType": f"Lambda Function Invocation Result - {result}",
                            "Detail": body,
                            "EventBusName": arn,
                            "Resources": [f"{local.arn}:$LATEST"],
                        }
                    ]
                )
            elif service == "lambda":
                target = self.resources.function_by_physical_name(arn)
                if target is None:
                    raise KitError(f"{arn} is not a function of this stack")
                self._enqueue(target, dict(record), "destination")
            elif service == "s3":
                today = dt.datetime.now(dt.UTC)
                key = f"aws/lambda/async/{local.name}/{today:%Y/%m/%d}/{today:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
                self.client("s3").put_object(Bucket=arn.rsplit(":", maxsplit=1)[-1], Key=key, Body=body.encode())
            else:
                raise KitError(f"the kit does not deliver to {service} destinations")
        except Exception as error:
            self.warnings.append(f"destination delivery to {arn} failed: {error}")
            return []
        return [self.resources.resource_by_physical(arn) or arn]

    def _dead_letter(self, arn: str, event: Any, last: Invocation, request_id: str) -> list[str]:
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": str(last.error_message or last.error_type)[:1024]},
        }
        body = json.dumps(event)
        if arn.split(":")[2] == "sqs":
            self.client("sqs").send_message(
                QueueUrl=self._queue_url(arn), MessageBody=body, MessageAttributes=attributes
            )
        else:
            self.client("sns").publish(TopicArn=arn, Message=body, MessageAttributes=attributes)
        return [self.resources.resource_by_physical(arn) or arn]

    def _deliver_to_target(self, arn: str, payload: Any, event: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        service = arn.split(":")[2]
        if service == "sqs":
            request: dict[str, Any] = {"QueueUrl": self._queue_url(arn), "MessageBody": _text(payload)}
            group = target.get("SqsParameters", {}).get("MessageGroupId")
            if group:
                request["MessageGroupId"] = group
                request["MessageDeduplicationId"] = str(event.get("id", uuid.uuid4()))
            self.client("sqs").send_message(**request)
        elif service == "sns":
            self.client("sns").publish(TopicArn=arn, Message=_text(payload))
        elif service == "lambda":
            local = self.resources.function_by_physical_name(arn)
            if local is None:
                raise KitError(f"{arn} is not a function of this stack")
            self._enqueue(local, payload, "events")
        elif service == "states":
            self._start(arn, json.dumps(payload))
        elif service == "events" and ":event-bus/" in arn:
            self.client("events").put_events(
                Entries=[
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "EventBusName": arn,
                        "Resources": list(event.get("resources", [])),
                    }
                ]
            )
        elif service == "logs":
            return
        else:
            raise KitError(f"the kit does not deliver to {service} targets")

    def _target_failed(self, rule: Any, target: Mapping[str, Any], event: Mapping[str, Any], error: Exception) -> None:
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        message = f"rule {rule.name}: delivery to {target.get('Arn')} failed: {error}"
        if not dead_letter:
            self.warnings.append(message + " (the target has no dead-letter queue: the event is lost)")
            return
        self.warnings.append(message + " (sent to the target's dead-letter queue)")
        try:
            self._send_to_target_dlq(dead_letter, rule, target, event, error)
        except Exception as dlq_error:
            self.warnings.append(f"rule {rule.name}: its dead-letter queue {dead_letter} failed too: {dlq_error}")

    def _send_to_target_dlq(
        self, dead_letter: str, rule: Any, target: Mapping[str, Any], event: Mapping[str, Any], error: Exception
    ) -> None:
        self.client("sqs").send_message(
            QueueUrl=self._queue_url(dead_letter),
            MessageBody=json.dumps(event),
            MessageAttributes={
                "ERROR_CODE": {"DataType": "String", "StringValue": type(error).__name__},
                "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(error)[:1024]},
                "RULE_ARN": {"DataType": "String", "StringValue": rule.arn},
                "TARGET_ARN": {"DataType": "String", "StringValue": str(target.get("Arn"))},
            },
        )

    def _queue_url(self, arn: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=arn.rsplit(":", maxsplit=1)[-1])["QueueUrl"])

    def _poll_event_sources(self) -> bool:
        progressed = False
        for source in self.resources.event_sources:
            progressed = self._poll(source) or progressed
        return progressed

    def _poll(self, source: SqsEventSource) -> bool:
        sqs = self.client("sqs")
        received = sqs.receive_message(
            QueueUrl=source.queue_url,
            MaxNumberOfMessages=min(source.batch_size, 10),
            VisibilityTimeout=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return False
        records = [_sqs_record(message, source.queue_arn, self.stack.region) for message in received]
        handles = {message["MessageId"]: message["ReceiptHandle"] for message in received}
        if source.filters:
            kept = [record for record in records if any(f.matches_event(_filterable(record)) for f in source.filters)]
            for record in records:
                if record not in kept:
                    sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=handles[record["messageId"]])
            records = kept
            if not records:
                return True
        invocation = self._run(self.function(source.function), {"Records": records}, "sqs")
        batch = {record["messageId"] for record in records}
        failed: set[str] = set(batch)
        if invocation.succeeded:
            failed = _batch_item_failures(invocation.result, batch) if source.report_batch_item_failures else set()
        for record in records:
            message_id = record["messageId"]
            if message_id not in failed:
                sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=handles[message_id])
                continue
            source.receives[message_id] = source.receives.get(message_id, 0) + 1
            if source.receives[message_id] >= self._max_receives:
                attributes = sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=["RedrivePolicy"])
                if "RedrivePolicy" not in attributes.get("Attributes", {}):
                    sqs.change_message_visibility(
                        QueueUrl=source.queue_url, ReceiptHandle=handles[message_id], VisibilityTimeout=43200
                    )
                    self.warnings.append(
                        f"message {message_id} failed {self._max_receives} times and its queue has no "
                        "dead-letter queue: on AWS it would be retried until it expires"
                    )
        return True


def _execution_record(
    local: LocalFunction, event: Any, *, condition: str, count: int, last: Invocation, request_id: str
) -> dict[str, Any]:
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not last.succeeded:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": _now_iso(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{local.arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": count,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": last.payload,
    }


def _batch_item_failures(result: Any, batch: set[str]) -> set[str]:
    """The failed message ids of a partial batch response; an invalid response fails the whole batch (as on AWS)."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return set(batch)
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return set(batch)
        failed.add(identifier)
    return failed


def _sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            key: {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
            for key, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _filterable(record: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS record as event source filters see it: the body parsed when it is JSON."""
    return {**record, "body": parse_json(str(record["body"]))}


def _complete_s3_record(record: dict[str, Any], account: str) -> None:
    """Add the fields of an S3 event record that moto leaves out."""
    record.setdefault("userIdentity", {"principalId": f"AWS:{account}"})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault("responseElements", {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"})
    s3 = record.get("s3", {})
    s3.get("bucket", {}).setdefault("ownerIdentity", {"principalId": account})
    s3.get("object", {}).setdefault("sequencer", f"{time.time_ns():X}")


def _target_input(target: Mapping[str, Any], event: Any, rule: Any = None) -> Any:
    if "Input" in target:
        return parse_json(target["Input"])
    if "InputPath" in target:
        return _json_path(event, str(target["InputPath"]))
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return _transform(event, transformer.get("InputPathsMap", {}), str(transformer["InputTemplate"]), rule)
    return event


_PATH_PART = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def _json_path(value: Any, path: str) -> Any:
    """The JSONPath subset EventBridge input paths use: ``$.a.b``, ``$.a[0]``, ``$['a-b']``."""
    if path in ("$", ""):
        return value
    rest = path[1:] if path.startswith("$") else "." + path
    position = 0
    while position < len(rest):
        match = _PATH_PART.match(rest, position)
        if match is None:
            return None
        key: Any = match.group(1) if match.group(1) is not None else match.group(3)
        if key is None:
            index = int(match.group(2))
            if not isinstance(value, list) or index >= len(value):
                return None
            value = value[index]
        else:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        position = match.end()
    return value


def _transform(event: Any, paths: Mapping[str, str], template: str, rule: Any) -> Any:
    """An EventBridge input transformer: placeholders inside quotes are escaped text, outside they are JSON."""
    values: dict[str, Any] = {name: _json_path(event, path) for name, path in paths.items()}
    values["aws.events.event"] = event
    values["aws.events.event.json"] = event
    values["aws.events.rule-name"] = getattr(rule, "name", "")
    values["aws.events.rule-arn"] = getattr(rule, "arn", "")
    values["aws.events.event.ingestion-time"] = _now_iso(milliseconds=False)
    text = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == '"' and (position == 0 or template[position - 1] != "\\"):
            in_string = not in_string
        match = _PLACEHOLDER.match(template, position) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                text.append(json.dumps(value if isinstance(value, str) else json.dumps(value))[1:-1])
            else:
                text.append(json.dumps(value))
            position = match.end()
            continue
        text.append(char)
        position += 1
    rendered = "".join(text)
    return parse_json(rendered)


def _event_from_body(body: Any) -> Any:
    return {} if body is None or body in ("", b"") else parse_json(body)


def _service_handlers(given: Mapping[str, ServiceHandler]) -> dict[str, ServiceHandler]:
    """Check the keys (``service:Operation``, as in IAM) up front, with the fix in the message."""
    import botocore.session

    session = botocore.session.get_session()
    handlers: dict[str, ServiceHandler] = {}
    for key, handler in given.items():
        service, _, operation = key.partition(":")
        try:
            model = session.get_service_model(service)
        except Exception as error:
            raise KitError(
                f"services: {key!r} names no AWS service {service!r}; e.g. 'comprehend:DetectSentiment'"
            ) from error
        if operation not in model.operation_names:
            raise KitError(
                f"services: {service} has no operation {operation!r}; it has e.g. {model.operation_names[:3]}"
            )
        handlers[f"{service}:{operation}"] = handler
    return handlers


def _error_response(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    return (
        status,
        {"status": str(status), "x-amzn-ErrorType": code, "Content-Type": "application/json"},
        json.dumps({"__type": code, "message": message}),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _now_iso(*, milliseconds: bool = True) -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S") + (f".{now.microsecond // 1000:03d}Z" if milliseconds else "Z")
