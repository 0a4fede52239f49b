"""What a local run returns: typed results a test can assert on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

from constructs_lib.testing._engine.lambda_runtime import Invocation


@dataclass(frozen=True)
class Delivery:
    """One thing a resource received: a message on a queue or topic, an event on a bus, an invocation, ..."""

    resource: str
    """Logical id of the resource that received it."""
    kind: str
    """``sqs``, ``sns``, ``events``, ``lambda``, ``states``, ``s3`` or ``dynamodb``."""
    payload: Any
    """The body, parsed as JSON where it is JSON (an S3 delivery's payload is the object key)."""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    duplicate: bool = False
    """Whether the kit made this delivery as a duplicate (``Faults.duplicate_rate``), or as part of handling one."""


@dataclass(frozen=True)
class VirtualWait:
    """A wait the kit did not sleep: a Wait state, or the interval before a retry."""

    state: str
    seconds: float
    kind: str
    """``Wait`` or ``Retry``."""


HistoryEvents = tuple[Mapping[str, Any], ...]


class _History:
    """``ExecutionResult.history``: the events as given, or read on first use from a function given instead (the
    kit's read of moto's history, which most tests never ask for), then kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}_value"

    def __get__(self, instance: object | None, owner: type) -> HistoryEvents:
        if instance is None:
            return ()  # the field's default, as dataclasses reads it from the class
        value = instance.__dict__[self._slot]
        if callable(value):
            value = tuple(value())
            object.__setattr__(instance, self._slot, value)
        return value  # type: ignore[no-any-return]

    def __set__(self, instance: object, value: HistoryEvents | Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        if self._slot in instance.__dict__:
            raise FrozenInstanceError(f"cannot assign to field {self._slot[1:-6]!r}")
        instance.__dict__[self._slot] = value if callable(value) else tuple(value)


@dataclass(frozen=True)
class ExecutionResult:
    """A finished state machine execution."""

    state_machine: str
    """Logical id of the state machine."""
    execution_arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    history: _History = _History()
    """The execution's history events (a function that returns them may be given instead: read on first use)."""
    waits: tuple[VirtualWait, ...] = ()

    def __getstate__(self) -> dict[str, Any]:
        """The fields, the history read first: a copy or a pickle holds the events, not the kit's read of them."""
        _ = self.history
        return dict(self.__dict__)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def states_entered(self) -> list[str]:
        """Names of the states entered, in order (a state entered again appears again)."""
        return [
            str(event["stateEnteredEventDetails"]["name"])
            for event in self.history
            if str(event.get("type", "")).endswith("StateEntered")
        ]

    def attempts(self, state: str) -> int:
        """How many times the task of ``state`` was scheduled: 1 plus its retries."""
        return sum(1 for event in self._task_events(state) if str(event.get("type")).endswith("Scheduled"))

    def task_errors(self, state: str) -> list[str]:
        """The error name of each failed attempt of ``state``, in order."""
        errors = []
        for event in self._task_events(state):
            for key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails", "taskTimedOutEventDetails"):
                if key in event:
                    errors.append(str(event[key].get("error", "")))
        return errors

    def retry_intervals(self, state: str) -> list[float]:
        """The (virtual) seconds waited before each retry of ``state``."""
        return [wait.seconds for wait in self.waits if wait.kind == "Retry" and wait.state == state]

    def _task_events(self, state: str) -> list[Mapping[str, Any]]:
        by_id = {event.get("id"): event for event in self.history}
        found = []
        for event in self.history:
            if not str(event.get("type", "")).startswith(("Task", "LambdaFunction")):
                continue
            if self._owning_state(event, by_id) == state:
                found.append(event)
        return found

    @staticmethod
    def _owning_state(event: Mapping[str, Any], by_id: Mapping[Any, Mapping[str, Any]]) -> str | None:
        current: Mapping[str, Any] | None = event
        while current is not None:
            if str(current.get("type", "")).endswith("StateEntered"):
                return str(current["stateEnteredEventDetails"]["name"])
            current = by_id.get(current.get("previousEventId"))
        return None


@dataclass(frozen=True)
class AsyncInvocation:
    """An asynchronous invocation, followed to its end: attempts, then the record and where it went."""

    function: str
    """Logical id of the function."""
    event: Any
    source: str
    attempts: tuple[Invocation, ...]
    condition: str
    """``Success``, ``RetriesExhausted`` or ``EventAgeExceeded``, as in the execution record."""
    record: Mapping[str, Any]
    """The execution record (the documented Lambda Destinations shape)."""
    delivered_to: tuple[str, ...]
    """Logical ids (or ARNs, outside the stack) of the destinations and dead-letter queue that got it."""
    retry_delays: tuple[float, ...] = ()
    failed_deliveries: tuple[str, ...] = ()
    """Logical ids (or ARNs) of the destinations and dead-letter queue that did not get it: a refused or failed
    delivery, which Lambda drops and counts in ``DestinationDeliveryFailures`` or ``DeadLetterErrors``."""
    duplicate: bool = False
    """Whether the kit delivered this event a second time (``Faults.duplicate_rate``): it has the original's
    request id."""
    throttles: int = 0
    """How many times the event was throttled (``Faults.throttle_rate``, reserved concurrency 0) and went back to
    Lambda's queue; throttles are not retries, and age the event."""

    @property
    def succeeded(self) -> bool:
        return self.condition == "Success"


@dataclass(frozen=True)
class DurableExecutionResult:
    """A finished durable execution of a function whose template has ``DurableConfig``."""

    function: str
    """Logical id of the function."""
    execution_arn: str
    """As Lambda names it, ``<function ARN>:<version>/durable-execution/<name>/<id>``: what ``GetDurableExecution``,
    ``StopDurableExecution`` and the ``Durable Execution Status Change`` events name."""
    qualifier: str
    """What was invoked: an alias name, a version, or ``$LATEST``."""
    version: str
    """The version that ran (an alias's)."""
    status: str
    """``SUCCEEDED``, ``FAILED``, ``TIMED_OUT`` or ``STOPPED``."""
    input: Any
    output: Any
    """What the function returned, parsed as JSON (None unless it succeeded)."""
    error_type: str | None
    error_message: str | None
    operations: tuple[Any, ...]
    """Every operation (steps, waits, contexts, nested ones too), as the durable testing SDK reports them
    (``name``, ``operation_type``, ``status``; steps have ``attempt``, ``result`` and ``error``)."""
    invocations: int
    """How many times the function was invoked (replayed) for this execution."""
    virtual_seconds: float
    """How long the execution took in virtual time: waits and retry delays count, though the kit skipped them."""
    sdk_result: Any = None
    """The durable testing SDK's ``DurableFunctionTestResult`` of this execution, for ``get_step(name)`` and more."""

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def operation_names(self) -> list[str]:
        """The names of the top-level operations, in order (nested ones are in ``operations``)."""
        return [str(op.name) for op in (self.sdk_result.operations if self.sdk_result is not None else ())]

    def operation(self, name: str) -> Any:
        """The operation named ``name`` (nested ones included); KeyError when there is none."""
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(
            f"no operation named {name!r}; the execution has {sorted({str(op.name) for op in self.operations})}"
        )


@dataclass(frozen=True)
class AccessDenial:
    """A call the stack's policies do not allow, as the kit found it (``LocalKit.denials``)."""

    principal: str
    """Who made the call, as messages name it: ``role OrdersStateMachineRole`` or ``service principal
    events.amazonaws.com``."""
    principal_arn: str
    """The role's ARN, or the service principal's name."""
    action: str
    """The IAM action of the call: ``sns:Publish``."""
    resource: str
    """The ARN of the resource acted on."""
    missing: tuple[str, ...]
    """What no policy allowed: the action itself, or the KMS actions on the key that encrypts the resource
    (``kms:GenerateDataKey``, ``kms:Decrypt``)."""
    message: str
    """Principal, action, resource and what was missing, in words: ``role OrdersStateMachineRole may not
    kms:GenerateDataKey on key FailureAlertsKey (topic FailureAlerts is encrypted with it): ...``."""
    via: str
    """What made the call: ``handler``, ``state-machine-task``, ``destination``, ``dead-letter``, ``event-source``,
    ``rule-target``, ``rule-target-dead-letter``, ``sns-subscription``, ``sns-subscription-dead-letter``,
    ``s3-notification`` or ``s3-batch``."""
    enforced: bool
    """Whether the call failed as on AWS (``iam="enforce"``) or went on (``iam="warn"``)."""

    @property
    def kms(self) -> bool:
        """Whether the call was refused for the KMS key of the resource, not for the action itself."""
        return not self.action.lower().startswith("kms:") and all(m.lower().startswith("kms:") for m in self.missing)

    def __str__(self) -> str:
        return self.message


def parse_json(value: Any) -> Any:
    """``value`` parsed as JSON when it is JSON text (str or bytes); anything else as it is."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
