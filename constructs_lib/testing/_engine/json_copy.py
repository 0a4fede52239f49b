"""A copy of JSON values for moto's Step Functions interpreter, in place of ``copy.deepcopy``.

moto copies a state's data at every step (each read of the input, each result, each ResultPath, each history event),
with ``copy.deepcopy``: its memo and type dispatch made a third of a small execution's CPU in the kit. The data is JSON
(dicts, lists, strings, numbers, booleans, null), which is copied here by walking it. moto's program states (which
state runs next, or how the program ended) are copied attribute by attribute; anything else (moto's own objects on
its evaluation stack, a datetime in a history event) is still deep-copied by ``copy.deepcopy``.

The one difference is sharing: a list that appears twice in a value becomes two lists (``deepcopy`` keeps one). JSON
has no shared references, and a state's data comes from JSON text, so no state can tell.
"""

from __future__ import annotations

import copy
import types
from typing import Any

_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
#: Classes copied attribute by attribute: moto's program states (running, with its next state's name; ended;
#: stopped; failed; timed out), copied with every environment frame and every read of the program's state.
_PLAIN_OBJECTS: set[type] = set()


def json_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A copy of ``value`` that shares no dict or list with it (``memo`` only for ``deepcopy``'s signature)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in _PLAIN_OBJECTS:
        plain = object.__new__(kind)
        plain.__dict__.update({key: json_copy(item) for key, item in value.__dict__.items()})
        return plain
    return copy.deepcopy(value)


# The name moto's modules call (``copy.deepcopy``): a module stand-in with ``deepcopy`` only.
_COPY = types.SimpleNamespace(deepcopy=json_copy)


def install(patches: Any) -> None:
    """Give moto's interpreter modules that copy state data ``json_copy`` (``patches`` is the kit's undoable set)."""
    from moto.events import models as events_models
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.json_manipulation import (
        json_merge,
    )
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import state_parallel
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
    from moto.stepfunctions.parser.asl.eval import environment, states
    from moto.stepfunctions.parser.asl.eval.event import event_manager

    for module in (
        states,
        environment,
        event_manager,
        string_expression,
        result_path,
        json_merge,
        execute_state,
        state_map,
        state_parallel,
        state_task_service,
        events_models,
    ):
        patches.replace(module, "copy", _COPY)

    # A Map's results: moto deep-copies its set of closed jobs (moto's own objects) only to copy their outputs.
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import JobClosed, JobPool

    def get_closed_jobs(self: Any) -> list[Any]:
        with self._mutex:
            closed = [
                JobClosed(job_index=job.job_index, job_output=json_copy(job.job_output)) for job in self._closed_jobs
            ]
        return sorted(closed, key=lambda job: job.job_index)

    patches.replace(JobPool, "get_closed_jobs", get_closed_jobs)

    from moto.stepfunctions.parser.asl.eval import program_state

    _PLAIN_OBJECTS.update(
        (
            program_state.ProgramRunning,
            program_state.ProgramEnded,
            program_state.ProgramStopped,
            program_state.ProgramError,
            program_state.ProgramTimedOut,
        )
    )
