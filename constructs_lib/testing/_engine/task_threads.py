"""A task attempt without a timeout of its own runs in the thread that evaluates its state.

moto runs every attempt of a Task, Map or Parallel state in a new thread, only to wait for it with the state's
``TimeoutSeconds`` (``ExecutionState._evaluate_with_timeout``). A state without one has Step Functions' default,
99,999,999 seconds (about three years): no test waits that long, so the wait always ends when the attempt does, and
the thread only adds its start-up and hand-overs (a sixth of a small execution's CPU in the kit). Such an attempt is
run in the calling thread, in a new empty ``contextvars`` context, as a new thread would start with. A state with a
``TimeoutSeconds``, a ``TimeoutSecondsPath`` or a JSONata timeout keeps moto's thread, which the timeout needs.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

_next_inline = threading.local()


class _InPlace:
    """Stands in for the ``Thread`` moto starts for one attempt: ``start`` runs the attempt to its end."""

    def __init__(self, target: Callable[[], None]) -> None:
        self._target = target

    def start(self) -> None:
        contextvars.Context().run(self._target)

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for (``start`` returned when the attempt ended)."""

    def is_alive(self) -> bool:
        return False


def install(patches: Any) -> None:
    """Run attempts of states with the default timeout in place (``patches`` is the kit's undoable set)."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    original_evaluate = execute_state.ExecutionState._evaluate_with_timeout
    default = TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS

    def evaluate_with_timeout(self: Any, env: Any) -> None:
        timeout = self.timeout
        # Read by the next Thread moto makes, the attempt's own, in this same call.
        _next_inline.active = type(timeout) is TimeoutSeconds and timeout.timeout_seconds >= default
        try:
            original_evaluate(self, env)
        finally:
            _next_inline.active = False

    def attempt_thread(*, target: Callable[[], None], daemon: bool = True) -> Any:
        inline = getattr(_next_inline, "active", False)
        _next_inline.active = False  # only this attempt: states evaluated inside it decide for themselves
        if inline:
            return _InPlace(target)
        return threading.Thread(target=target, daemon=daemon)

    patches.replace(execute_state.ExecutionState, "_evaluate_with_timeout", evaluate_with_timeout)
    patches.replace(execute_state, "Thread", attempt_thread)
