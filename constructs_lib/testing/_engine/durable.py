"""Durable executions: a function whose template has ``DurableConfig`` runs each invocation as a durable execution,
through AWS's testing SDK (``aws-durable-execution-sdk-python-testing``) as the in-process durable service.

The SDK's service keeps the checkpoints and replays the function; the kit runs each replay as an invocation of the
function (its own thread, environment layer, role and timeout, as every handler), authorizes the role's
checkpoint calls, and keeps time virtual: waits and step retry delays are skipped (the SDK's ``SkipClock``), and the
execution timeout is measured on that virtual clock, so a one-day wait in a one-hour execution times out as on AWS.

One patch of the SDK, made while a kit runs and undone after (see ``install_prompt_stop``): at the end of each
invocation the SDK's checkpoint thread notices that it must stop only when its 100 ms queue poll times out;
the patch wakes it at once. A small execution takes about 10 ms instead of 100 ms per invocation.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.authorizer import AccessDenied, acting_as
from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
from constructs_lib.testing.errors import KitError
from constructs_lib.testing.results import DurableExecutionResult, parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine

CHECKPOINT_ACTIONS = ("lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState")
_VIA = "durable-checkpoint"
SYNCHRONOUS_LIMIT_SECONDS = 15 * 60
"""A synchronous invoke (an event source mapping's included) waits for the whole execution, 15 minutes at most."""
STATUS_SOURCE = "aws.lambda"
STATUS_DETAIL_TYPE = "Durable Execution Status Change"
EXECUTION_MARKER = "/durable-execution/"
API_OPERATIONS = frozenset({"GetDurableExecution", "StopDurableExecution"})
"""The Lambda API calls on durable executions the kit serves (moto answers them "Not yet implemented")."""


class DurableApiError(Exception):
    """A durable API call Lambda refuses: its error code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.status = code, status


def install_prompt_stop() -> Callable[[], None]:
    """Make the SDK's checkpoint thread stop as soon as an invocation ends; returns the undo.

    ``ExecutionState.stop_checkpointing`` sets an event that the checkpoint thread reads between polls of its queue,
    each up to ``_STOP_SIGNAL_POLL_SECONDS`` (0.1 s): every invocation ends up to 100 ms late. After the original, the
    patch puts the SDK's own wake signal (``_Signal.REFRESH_WAKE``, which the thread consumes and ignores) on the
    queue, so the thread sees the stop at once. Nothing else changes: tests/unit/testing/test_durable_sdk_patch.py pins
    the names it relies on.
    """
    from aws_durable_execution_sdk_python.state import ExecutionState, _Signal

    original = ExecutionState.stop_checkpointing

    def stop_checkpointing(self: Any) -> None:
        original(self)
        self._checkpoint_queue.put(_Signal.REFRESH_WAKE)

    ExecutionState.stop_checkpointing = stop_checkpointing  # type: ignore[method-assign]

    def undo() -> None:
        ExecutionState.stop_checkpointing = original  # type: ignore[method-assign]

    return undo


@dataclass(frozen=True)
class _Target:
    """What an execution runs: the function, and the version and memory of the invoked qualifier."""

    local: LocalFunction
    qualifier: str
    version: str
    memory_mb: int | None


class DurableService:
    """The in-process durable execution service of one kit (made on the first durable invocation)."""

    def __init__(self, engine: KitEngine, *, wait_seconds: float) -> None:
        from aws_durable_execution_sdk_python_testing.checkpoint.processor import CheckpointProcessor
        from aws_durable_execution_sdk_python_testing.client import InMemoryServiceClient
        from aws_durable_execution_sdk_python_testing.clock import SkipClock
        from aws_durable_execution_sdk_python_testing.executor import Executor
        from aws_durable_execution_sdk_python_testing.scheduler import Scheduler
        from aws_durable_execution_sdk_python_testing.stores.memory import InMemoryExecutionStore
        from aws_durable_execution_sdk_python_testing.worker.registry import ExecutionRegistry

        self._engine = engine
        self._wait_seconds = wait_seconds
        self._targets: dict[str, _Target] = {}
        self._results: list[DurableExecutionResult] = []
        self._runs: dict[str, int] = {}
        """Execution ARN -> how many times the function ran for it."""
        self._aws_arns: dict[str, str] = {}
        """The testing service's execution ARN -> the execution's ARN as Lambda names it."""
        self._lock = threading.Lock()
        # The service's threads are the kit's: made here, with no function's environment or role in scope.
        with acting_as(None):
            self.clock = SkipClock()
            self.scheduler = Scheduler()
            self.scheduler.start()  # type: ignore[no-untyped-call]  # the SDK's, untyped
            self.store = InMemoryExecutionStore()
            self.registry = ExecutionRegistry(self.store, self.scheduler)
            processor = CheckpointProcessor(store=self.store, scheduler=self.scheduler, clock=self.clock)
            self.client = InMemoryServiceClient(processor, self.registry)
            self.invoker = _KitInvoker(self)
            self.executor = Executor(
                store=self.store,
                scheduler=self.scheduler,
                invoker=self.invoker,
                checkpoint_processor=processor,
                # Each replay runs under the function's own timeout (LocalFunction.run): none on top.
                invocation_timeout_seconds=31_622_400,
                registry=self.registry,
                clock=self.clock,
                region=engine.stack.region,
            )
            # A failed invocation (a sandbox timeout, an import error) is invoked again at once: virtual time.
            self.executor.RETRY_BACKOFF_SECONDS = 0
            processor.add_execution_observer(self.executor)

    def close(self) -> None:
        self.executor.shutdown()
        self.registry.shutdown()
        self.scheduler.stop()  # type: ignore[no-untyped-call]

    def results(self) -> list[DurableExecutionResult]:
        with self._lock:
            return list(self._results)

    # -- running -------------------------------------------------------------------------------------------------
    def execute(
        self,
        local: LocalFunction,
        event: Any,
        *,
        qualifier: str,
        version: str,
        memory_mb: int | None,
        synchronous: bool = False,
    ) -> tuple[Invocation, DurableExecutionResult]:
        """Start a durable execution of ``local`` (invoked as ``qualifier``, running ``version``), run it to its
        end, and return it as the invocation the caller sees, and as the execution.

        ``synchronous``: the caller waits for the execution (an invoke with RequestResponse, an event source
        mapping), which then times out after 15 minutes of its virtual time, or its own execution timeout if less
        (https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking-esm.html)."""
        from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput

        assert local.durable is not None
        identifier = f"{local.name}:{version}"
        with self._lock:
            self._targets[identifier] = _Target(local, qualifier, version, memory_mb)
        timeout = local.durable.execution_timeout_seconds
        if synchronous:
            timeout = min(timeout, SYNCHRONOUS_LIMIT_SECONDS)
        started = time.monotonic()
        with acting_as(None):
            output = self.executor.start_execution(
                StartDurableExecutionInput(
                    account_id=self._engine.stack.account,
                    function_name=local.name,
                    function_qualifier=version,
                    execution_name=f"kit-{len(self._results) + 1}",
                    execution_timeout_seconds=timeout,
                    execution_retention_period_days=local.durable.retention_days,
                    input=json.dumps(event),
                )
            )
            arn = str(output.execution_arn)
            with self._lock:
                self._aws_arns[arn] = f"{local.arn}:{version}{EXECUTION_MARKER}{arn}"
            self._status_event(arn)
            if not self.executor.wait_until_complete(arn, self._wait_seconds):
                raise KitError(
                    f"the durable execution of {local.logical_id} did not end within {self._wait_seconds:.0f} real "
                    "seconds (LocalKit(execution_timeout=...)): does it wait for a callback nobody sends?"
                )
            execution = self.store.load(arn)
        with self._lock:
            runs = self._runs.pop(arn, 0)
        result = _result(local, qualifier, version, event, execution, runs, self.aws_arn(arn))
        with self._lock:
            self._results.append(result)
        self._status_event(arn)
        invocation = Invocation(
            function=local.logical_id,
            request_id=result.execution_arn,
            event=event,
            result=result.output if result.succeeded else None,
            # An execution that timed out or was stopped may carry no error type: its status names what happened.
            error_type=None if result.succeeded else (result.error_type or result.status),
            error_message=None if result.succeeded else result.error_message,
            duration_ms=(time.monotonic() - started) * 1000,
            source="durable",
            version=version,
        )
        return invocation, result

    def aws_arn(self, arn: str) -> str:
        """The execution's ARN as Lambda names it (``<function ARN>:<version>/durable-execution/<name>/<id>``)."""
        with self._lock:
            return self._aws_arns.get(arn, arn)

    # -- status-change events and the API ---------------------------------------------------------------------
    def _status_event(self, arn: str) -> None:
        """The ``Durable Execution Status Change`` event of the execution's status now, on the default bus, in the
        shape of AWS's example (https://docs.aws.amazon.com/lambda/latest/dg/durable-monitoring.html): empty
        ``resources``; ``functionArn`` qualified with the version that runs; ``endTimestamp`` once it ended."""
        execution = self.store.load(arn)
        operation = execution.get_operation_execution_started()
        aws_arn = self.aws_arn(arn)
        detail: dict[str, Any] = {
            "durableExecutionArn": aws_arn,
            "durableExecutionName": execution.start_input.execution_name,
            "functionArn": aws_arn.partition(EXECUTION_MARKER)[0],
            "status": str(execution.current_status().value),
            "startTimestamp": _iso(operation.start_timestamp or self.clock.now()),
        }
        if execution.is_complete:
            detail["endTimestamp"] = _iso(operation.end_timestamp or self.clock.now())
        self._engine.put_events(
            [
                {
                    "Source": STATUS_SOURCE,
                    "DetailType": STATUS_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "Resources": [],
                }
            ]
        )

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Lambda's answer to ``GetDurableExecution`` or ``StopDurableExecution`` (botocore's parsed shape), from
        the testing service's state of the execution; raises ``DurableApiError`` as Lambda refuses a call."""
        from aws_durable_execution_sdk_python.lambda_service import ErrorObject

        arn = self._sdk_arn(str(params.get("DurableExecutionArn", "")))
        if operation == "StopDurableExecution":
            error = params.get("Error")
            stopped = self.executor.stop_execution(
                arn, ErrorObject.from_dict(error) if isinstance(error, dict) and error else None
            )
            return {"StopTimestamp": stopped.stop_timestamp}
        return self._describe(arn, include_data=params.get("IncludeExecutionData", True) is not False)

    def _sdk_arn(self, aws_arn: str) -> str:
        with self._lock:
            for arn, known in self._aws_arns.items():
                if known == aws_arn:
                    return arn
        raise DurableApiError(
            "ResourceNotFoundException", f"Durable execution not found: {aws_arn or '(no DurableExecutionArn)'}", 404
        )

    def _describe(self, arn: str, *, include_data: bool) -> dict[str, Any]:
        """``GetDurableExecution``'s answer (its members as botocore's service model names them)."""
        execution = self.store.load(arn)
        operation = execution.get_operation_execution_started()
        aws_arn = self.aws_arn(arn)
        answer: dict[str, Any] = {
            "DurableExecutionArn": aws_arn,
            "DurableExecutionName": execution.start_input.execution_name,
            "FunctionArn": aws_arn.partition(EXECUTION_MARKER)[0],
            "Status": str(execution.current_status().value),
            "StartTimestamp": operation.start_timestamp or self.clock.now(),
            "Version": execution.start_input.function_qualifier,
        }
        if execution.is_complete and operation.end_timestamp is not None:
            answer["EndTimestamp"] = operation.end_timestamp
        if include_data:
            details = operation.execution_details
            if details is not None and details.input_payload is not None:
                answer["InputPayload"] = details.input_payload
            output = execution.result
            if output is not None and output.result is not None and execution.current_status().value == "SUCCEEDED":
                answer["Result"] = output.result
            error = output.error if output is not None else None
            if error is not None:
                fields = {"ErrorMessage": error.message, "ErrorType": error.type, "ErrorData": error.data}
                answer["Error"] = {key: value for key, value in fields.items() if value is not None}
                if error.stack_trace:
                    answer["Error"]["StackTrace"] = list(error.stack_trace)
        return answer

    def target(self, identifier: str) -> _Target:
        with self._lock:
            found = self._targets.get(identifier)
        if found is None:
            raise KitError(f"no durable function {identifier} in this kit")
        return found

    def count_run(self, arn: str) -> None:
        with self._lock:
            self._runs[arn] = self._runs.get(arn, 0) + 1

    def timed_out(self, arn: str) -> bool:
        """Time the execution out when its virtual time ran past its execution timeout (say a wait skipped past it);
        whether it did."""
        from aws_durable_execution_sdk_python.lambda_service import ErrorObject

        execution = self.store.load(arn)
        started = execution.get_operation_execution_started().start_timestamp
        limit = execution.start_input.execution_timeout_seconds
        if started is None or execution.is_complete:
            return False
        if self.clock.now() - started <= dt.timedelta(seconds=limit):
            return False
        self.executor.on_timed_out(arn, ErrorObject.from_message(f"Execution timed out after {limit} seconds."))
        return True


def _kit_invoker_base() -> type:
    from aws_durable_execution_sdk_python_testing.invoker import InProcessInvoker

    return InProcessInvoker


class _KitInvoker(_kit_invoker_base()):  # type: ignore[misc]  # the SDK's in-process invoker, run by the kit
    """Runs each invocation of a durable execution as an invocation of the function, in the kit."""

    def __init__(self, service: DurableService) -> None:
        super().__init__(handler=_no_handler, service_client=service.client, region=service._engine.stack.region)
        self._service = service

    def invoke(  # noqa: PLR0917 - the SDK's Invoker protocol
        self,
        function_name: str,
        input: Any,
        endpoint_url: str | None = None,
        tenant_id: str | None = None,
        account_id: str | None = None,
        region_name: str | None = None,
    ) -> Any:
        from aws_durable_execution_sdk_python.execution import DurableExecutionInvocationInputWithClient
        from aws_durable_execution_sdk_python_testing.invoker import InvokeResponse

        service = self._service
        target = service.target(function_name)
        arn = input.durable_execution_arn
        if service.timed_out(arn):
            return InvokeResponse.from_output({"Status": "PENDING"}, arn)
        local = target.local
        resource = f"{local.arn}:{target.version}/durable-execution/{arn}"
        try:
            for action in CHECKPOINT_ACTIONS:
                service._engine.authorize(local.role_arn, action, resource, via=_VIA)
        except AccessDenied as denied:
            # The SDK's first call (GetDurableExecutionState) is refused: a 4xx fails the execution at once.
            error = {"ErrorType": "AccessDeniedException", "ErrorMessage": str(denied)}
            return InvokeResponse.from_output({"Status": "FAILED", "Error": error}, arn)
        event = DurableExecutionInvocationInputWithClient.from_durable_execution_invocation_input(
            input, self.service_client
        )
        engine = service._engine
        assert engine.environ is not None
        service.count_run(arn)
        invocation = local.run(
            event, environ=engine.environ, source="durable", version=target.version, memory_mb=target.memory_mb
        )
        if not invocation.succeeded:
            # The sandbox failed (timeout, import error, a crash outside the SDK): the service invokes again.
            raise _InvocationFailed(f"{invocation.error_type}: {invocation.error_message}")
        return InvokeResponse.from_output(invocation.result, invocation.request_id)


class _InvocationFailed(Exception):
    """An invocation of a durable execution that did not answer (Lambda invokes it again)."""


def _no_handler(event: Any, context: Any) -> Any:
    raise KitError("the kit's durable service runs functions through the kit")  # never called: invoke is ours


def _iso(when: dt.datetime) -> str:
    """A time as Lambda writes it in status-change events: UTC, milliseconds, ``Z``."""
    utc = when.astimezone(dt.UTC) if when.tzinfo is not None else when
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


def _result(  # noqa: PLR0917 - private
    local: LocalFunction, qualifier: str, version: str, event: Any, execution: Any, runs: int, aws_arn: str
) -> DurableExecutionResult:
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestResult

    sdk_result = DurableFunctionTestResult.create(execution=execution)
    output = execution.result
    error = output.error if output is not None else None
    started = execution.get_operation_execution_started()
    seconds = 0.0
    if started.start_timestamp is not None and started.end_timestamp is not None:
        seconds = (started.end_timestamp - started.start_timestamp).total_seconds()
    return DurableExecutionResult(
        function=local.logical_id,
        execution_arn=aws_arn,
        qualifier=qualifier,
        version=version,
        status=str(execution.close_status.value),
        input=event,
        output=parse_json(output.result) if output is not None and output.result is not None else None,
        error_type=None if error is None else error.type,
        error_message=None if error is None else error.message,
        operations=tuple(sdk_result.get_all_operations()),
        invocations=runs,
        virtual_seconds=seconds,
        sdk_result=sdk_result,
    )
