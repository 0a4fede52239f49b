"""The threads moto starts to evaluate a state machine's states: no more than the semantics need.

Task attempts. moto runs every attempt of a Task, Map or Parallel state in a new thread, only to wait for it with
the state's ``TimeoutSeconds`` (``ExecutionState._evaluate_with_timeout``). A state without one has Step Functions'
default, 99,999,999 seconds (about three years): no test waits that long, so the wait always ends when the attempt
does, and the thread only adds its start-up and hand-overs (a sixth of a small execution's CPU in the kit). Such an
attempt is run in the calling thread, in a new empty ``contextvars`` context, as a new thread would start with. A
state with a ``TimeoutSeconds``, a ``TimeoutSecondsPath`` or a JSONata timeout keeps moto's thread, which the timeout
needs.

Programs. moto evaluates every program (the state machine's, each Map iteration's, each Parallel branch's) in a new
thread too (``Program.eval``), only to wait for it with the program's ``TimeoutSeconds``. A program that sets none
(a state machine usually, a Map iteration or a Parallel branch nearly always) is run in place the same way; one with a
``TimeoutSeconds`` keeps moto's thread, which its timeout needs. What escapes a program run in place (only a
``BaseException`` can: moto turns every ``Exception`` into the program's error) goes to ``threading.excepthook`` and
the caller goes on, as when it ended moto's thread.

Inline Map iterations. moto starts one thread per item when ``MaxConcurrency`` is 0. "In this mode, the Map state
supports up to 40 concurrent iterations" (AWS Step Functions Developer Guide, "Using Map state in Inline mode"): the
kit starts at most 40, each taking the next item when it is done, as moto's workers do with a ``MaxConcurrency``. The
guide also says 0 runs the iterations "as concurrently as possible"; read together, the kit takes 40 as that limit,
for a ``MaxConcurrency`` above 40 too. A Distributed Map (up to 10,000 child executions) is left as moto runs it.
"""

from __future__ import annotations

import contextvars
import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

INLINE_MAP_CONCURRENCY = 40
"""The most iterations of an Inline Map that run at once."""

_next_inline = threading.local()


class _InPlace:
    """Stands in for the ``Thread`` moto starts for one attempt: ``start`` runs the attempt to its end."""

    def __init__(self, target: Callable[[], None]) -> None:
        self._target: Callable[[], None] | None = target

    def start(self) -> None:
        target, self._target = self._target, None  # moto keeps every attempt's thread: not its frames (as Thread)
        if target is not None:
            contextvars.Context().run(target)

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for (``start`` returned when the attempt ended)."""

    def is_alive(self) -> bool:
        return False


def install(patches: Any) -> None:
    """Run attempts of states with the default timeout and programs without a timeout in place, and at most 40
    iterations of an Inline Map at once (``patches`` is the kit's undoable set)."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (
        InlineIterationComponent,
    )

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

    original_program_eval = Program.eval

    def program_eval(self: Any, env: Any) -> None:
        if self.timeout_seconds:
            original_program_eval(self, env)
            return
        env.next_state_name = self.start_at.start_at_name  # what moto's Program.eval does before its thread
        try:
            _InPlace(functools.partial(EvalComponent.eval, self, env)).start()
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # as it ended moto's thread: reported, and the caller goes on
            threading.excepthook(
                threading.ExceptHookArgs((type(error), error, error.__traceback__, threading.current_thread()))
            )

    patches.replace(Program, "eval", program_eval)

    original_launch = InlineIterationComponent._launch_worker
    launched: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()  # workers started, per job pool
    launched_lock = threading.Lock()

    def launch_worker(self: Any, env: Any, eval_input: Any, job_pool: Any) -> Any:
        if not isinstance(self, DistributedIterationComponent):
            with launched_lock:
                count = launched.get(job_pool, 0)
                if count >= INLINE_MAP_CONCURRENCY:
                    return None  # moto ignores what it returns; the started workers take the remaining items
                launched[job_pool] = count + 1
        return original_launch(self, env=env, eval_input=eval_input, job_pool=job_pool)

    patches.replace(InlineIterationComponent, "_launch_worker", launch_worker)
