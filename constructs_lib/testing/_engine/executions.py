"""State machine executions: waiting for them to end, their status-change events on the default bus (Standard
workflows only, as Step Functions sends them), the waits they did not sleep, and their results."""

from __future__ import annotations

import json
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.event_shapes import execution_status_detail
from constructs_lib.testing.errors import KitError
from constructs_lib.testing.results import ExecutionResult, VirtualWait, parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine

_FALLBACK_POLL_SECONDS = 0.05
"""How long ``await_all`` waits for an end it is told of before it looks again anyway (an execution moto ends
without its worker's notice)."""


class Executions:
    """The executions of the stack's state machines, read from moto's own objects (the API lists are O(n))."""

    def __init__(self, engine: KitEngine, timeout: float) -> None:
        self._engine = engine
        self._timeout = timeout
        self._waits: dict[str, list[VirtualWait]] = {}
        self._seen: set[str] = set()
        self._finished: set[str] = set()
        # moto keeps each state machine's executions in a list that only grows: the kit reads each one once, so that
        # waiting and looking one up cost the same after a thousand executions as after one.
        self._found: dict[str, Any] = {}
        """Every execution found so far, by ARN, in the order found."""
        self._open: dict[str, Any] = {}
        """Those whose end ``await_all`` has not seen yet."""
        self._read: dict[str, tuple[Any, int]] = {}
        """Each state machine (by ARN: moto's object, which a machine made again under the same name replaces) and
        how many of its executions were read."""
        self._lock = threading.Lock()
        self._ended = threading.Condition()
        self._ends = 0
        """Executions ended so far (``notify_ended``): ``await_all`` sleeps until this moves."""

    def _moved(self, ends: int) -> bool:
        return self._ends != ends

    def notify_ended(self) -> None:
        """An execution's worker has ended it (its status is final): wake ``await_all``."""
        with self._ended:
            self._ends += 1
            self._ended.notify_all()

    def record_wait(self, execution_arn: str, state: str, seconds: float, kind: str) -> None:
        with self._engine.lock:
            self._waits.setdefault(execution_arn, []).append(VirtualWait(state=state, seconds=seconds, kind=kind))

    def await_all(self) -> bool:
        """Wait until no execution runs, sending each one's status changes; whether any started or ended."""
        deadline = time.monotonic() + self._timeout
        progressed = False
        express = {self._engine.resources.state_machines[lid] for lid in self._engine.resources.express}
        while True:
            with self._ended:
                ends = self._ends
            running = []
            for key, execution in self._unfinished():
                status = str(getattr(execution.status, "value", execution.status))
                # Step Functions sends status change events for Standard workflows only.
                standard = execution.state_machine_arn not in express
                if key not in self._seen:
                    self._seen.add(key)
                    if standard:
                        self._status_event(execution, "RUNNING")
                    progressed = True
                if status == "RUNNING":
                    running.append(key)
                    continue
                self._finished.add(key)
                with self._lock:
                    self._open.pop(key, None)
                if standard:
                    self._status_event(execution, status)
                progressed = True
            if not running:
                return progressed
            if time.monotonic() > deadline:
                raise KitError(
                    f"executions still running after {self._timeout:.0f} s: {', '.join(running)}. "
                    "A task that waits for a task token or an activity never ends locally; raise "
                    "execution_timeout if a handler is just slow"
                )
            # Woken by the end of an execution; an end read before ``ends`` was taken is counted in it already.
            with self._ended:
                self._ended.wait_for(partial(self._moved, ends), timeout=_FALLBACK_POLL_SECONDS)

    def result(self, execution_arn: str) -> ExecutionResult:
        """An execution by ARN (read from moto's own objects: the API would serialise the whole history)."""
        self._read_new()
        with self._lock:
            found = self._found.get(str(execution_arn))
        if found is None:
            raise KeyError(f"no execution {execution_arn} of this stack's state machines")
        return self._result_of(found)

    def _result_of(self, found: Any) -> ExecutionResult:
        execution_arn = str(found.execution_arn)
        described = json.loads(json.dumps(found.to_describe_output(), default=str))
        machine_arn = described["stateMachineArn"]
        machines = self._engine.resources.state_machines
        logical = next((lid for lid, arn in machines.items() if arn == machine_arn), machine_arn)
        with self._engine.lock:
            waits = tuple(self._waits.get(execution_arn, ()))
        return ExecutionResult(
            state_machine=logical,
            execution_arn=execution_arn,
            status=described["status"],
            input=parse_json(described.get("input")),
            output=parse_json(described.get("output")),
            error=described.get("error"),
            cause=described.get("cause"),
            # An ended execution's history is final: read when a test asks for it (most never do).
            history=tuple(_history(found)) if described["status"] == "RUNNING" else partial(_history, found),
            waits=waits,
        )

    def results(self, state_machine_arn: str | None = None) -> list[ExecutionResult]:
        """Every execution so far, or those of one state machine, oldest first."""
        self._read_new()
        with self._lock:
            every = list(self._found.values())
        found = [e for e in every if state_machine_arn is None or e.state_machine_arn == state_machine_arn]
        found.sort(key=lambda execution: execution.start_date)
        return [self._result_of(execution) for execution in found]

    def _read_new(self) -> None:
        """Find the executions of this stack's state machines that moto started since the last look."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        stack = self._engine.stack
        backend = stepfunctions_parser_backends[stack.account][stack.region]
        ours = set(self._engine.resources.state_machines.values())
        with self._lock:
            for machine in list(backend.state_machines):
                if machine.arn not in ours:
                    continue
                read_of, read = self._read.get(machine.arn, (None, 0))
                start = read if read_of is machine else 0
                new = machine.executions[start:]  # only what moto added since: its list only grows
                for execution in new:
                    key = str(execution.execution_arn)
                    self._found[key] = execution
                    if key not in self._finished:
                        self._open.setdefault(key, execution)
                self._read[machine.arn] = (machine, start + len(new))

    def _unfinished(self) -> list[tuple[str, Any]]:
        """(ARN, execution) of each execution whose end ``await_all`` has not seen, oldest found first."""
        self._read_new()
        with self._lock:
            return list(self._open.items())

    def _status_event(self, execution: Any, status: str) -> None:
        """The ``Step Functions Execution Status Change`` event, on the default bus, as Step Functions sends it."""
        described = execution.to_describe_output()
        self._engine.events_backend().put_events(
            [
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(execution_status_detail(described, status)),
                    "Resources": [described["executionArn"]],
                }
            ]
        )


def _history(execution: Any) -> list[Any]:
    """An execution's history events as the API gives them (JSON: times as text)."""
    events: list[Any] = json.loads(json.dumps(execution.to_history_output().get("events", []), default=str))
    return events
