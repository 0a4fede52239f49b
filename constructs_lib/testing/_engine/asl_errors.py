"""Step Functions runtime errors as AWS names them, where moto's interpreter raises a Python exception instead.

moto fails an execution whose state raised a plain Python exception with ``States.Runtime`` and the exception's
repr as the cause (``IndexError(list index out of range)``). Step Functions names these failures (the Amazon States
Language's error names) and writes causes in one form: ``An error occurred while executing the state 'S' (entered
at the event id #2). <what failed>``. Each hook below raises the named failure where it happens. A
``States.Runtime`` error is never caught or retried, not even by ``States.ALL``, and ``States.DataLimitExceeded`` is
not caught by ``States.ALL``.
"""

from __future__ import annotations

import contextvars
import json
from typing import Any

_PREFIXED = ("States.Runtime", "States.QueryEvaluationError")
"""The errors whose cause moto prefixes with the state and event id itself."""
_NOT_READ = object()
_items: contextvars.ContextVar[Any] = contextvars.ContextVar("kit_map_items", default=_NOT_READ)
"""The value a Map state's ItemsPath selected last in this attempt (each attempt runs in a context of its own, in a
thread of its own or in place: see state_threads)."""


def install(patches: Any) -> None:
    """Install the hooks with ``patches.replace(owner, name, new)`` (undone with the kit's other hooks)."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.path.items_path import ItemsPath
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringIntrinsicFunction
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (
        ComparisonOperatorType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (
        ComparisonVariable,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map as state_map_module
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def failure(env: Any, error: StatesErrorNameType, cause: str) -> FailureEventException:
        """The failure ``error`` of the state running in ``env``, its cause in AWS's form."""
        name = error.to_name()
        if name not in _PREFIXED:  # moto adds the prefix to these two itself
            cause = (
                f"An error occurred while executing the state '{env.next_state_name}' "
                f"(entered at the event id #{env.event_history_context.source_event_id}). {cause}"
            )
        event = FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]  # moto's TypedDict is total; AWS's is not
                taskFailedEventDetails=TaskFailedEventDetails(error=name, cause=cause)
            ),
        )
        return FailureEventException(failure_event=event)

    # -- Choice: no rule matched and no Default: States.NoChoiceMatched (moto raised a bare RuntimeError) --------
    original_choice = StateChoice._eval_state

    def choice_state(self: Any, env: Any) -> None:
        try:
            original_choice(self, env)
        except RuntimeError as error:
            if self.default_state is not None or not str(error.args[:1]).startswith("('No branching option"):
                raise
            raise failure(
                env,
                StatesErrorNameType.StatesNoChoiceMatched,
                "No Choice Rule matched the state input and the state has no Default.",
            ) from None

    patches.replace(StateChoice, "_eval_state", choice_state)

    # -- Choice: a rule's Variable that is not in the input is a runtime error, except for IsPresent ----------
    # (moto compared it as a mismatch and went on to the next rule or the Default).
    original_comparison = ComparisonVariable._eval_body

    def comparison_variable(self: Any, env: Any) -> None:
        if self.comparison_function.operator_type != ComparisonOperatorType.IsPresent:
            self.variable.eval(env)
            value = env.stack.pop()
            if isinstance(value, NoSuchVariable):
                path = self.variable.string_sampler.literal_value
                raise failure(
                    env,
                    StatesErrorNameType.StatesRuntime,
                    f"Invalid path '{path}': The choice state's condition path references an invalid value.",
                )
        original_comparison(self, env)

    patches.replace(ComparisonVariable, "_eval_body", comparison_variable)

    # -- Intrinsic functions: a failed call is States.IntrinsicFailure ----------------------------------------
    original_intrinsic = StringIntrinsicFunction._eval_body

    def intrinsic(self: Any, env: Any) -> None:
        try:
            original_intrinsic(self, env)
        except FailureEventException:
            raise
        except Exception as error:  # every failure of the call is the function's
            derivation = self.intrinsic_function_derivation
            raise failure(
                env,
                StatesErrorNameType.StatesIntrinsicFailure,
                f"The intrinsic function '{derivation}' failed: {_reason(error, derivation)}",
            ) from None

    patches.replace(StringIntrinsicFunction, "_eval_body", intrinsic)

    # -- ResultPath that cannot be applied to the input (a field of a string...): States.ResultPathMatchFailure -
    original_result_path = ResultPath._eval_body

    def result_path(self: Any, env: Any) -> None:
        state_input = env.states.get_input()
        try:
            original_result_path(self, env)
        except FailureEventException:
            raise
        except Exception:  # jsonpath-ng: TypeError, AttributeError...
            raise failure(
                env,
                StatesErrorNameType.StatesResultPathMatchFailure,
                f"Unable to apply ResultPath '{self.result_path_src}' to input {_json(state_input)}",
            ) from None

    patches.replace(ResultPath, "_eval_body", result_path)

    # -- Map over a value that is not an array: the value in JSON, not Python's type name ------------------------
    # moto has popped the value when it fails; ItemsPath's result is kept (per attempt: each has its own context).
    original_items_path = ItemsPath._eval_body

    def items_path(self: Any, env: Any) -> None:
        original_items_path(self, env)
        _items.set(env.stack[-1])

    patches.replace(ItemsPath, "_eval_body", items_path)
    original_failure_event = getattr(state_map_module, "FailureEvent")  # noqa: B009 - the name moto imported

    def map_failure_event(**kwargs: Any) -> Any:
        evaluation = (kwargs.get("event_details") or {}).get("evaluationFailedEventDetails")
        items = _items.get()
        _items.set(_NOT_READ)
        if not isinstance(evaluation, dict):
            return original_failure_event(**kwargs)
        cause = str(evaluation.get("cause", ""))
        if cause.startswith("Map state input must be an array but was:") and items is not _NOT_READ:
            evaluation["cause"] = f"Map state input must be an array but was: {_json(items)}"
        return original_failure_event(**kwargs)

    patches.replace(state_map_module, "FailureEvent", map_failure_event)

    # -- Catch and Retry: States.Runtime is never caught or retried; States.ALL does not match DataLimitExceeded -
    original_error_equals = ErrorEqualsDecl._eval_body
    runtime = StatesErrorName(typ=StatesErrorNameType.StatesRuntime)
    data_limit = StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded)
    every = StatesErrorName(typ=StatesErrorNameType.StatesALL)

    def error_equals(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        if error_name == runtime or (error_name == data_limit and every in self.error_names):
            env.stack.pop()
            env.stack.append(False)
            return
        original_error_equals(self, env)

    patches.replace(ErrorEqualsDecl, "_eval_body", error_equals)


def _json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return str(value)


def _reason(error: Exception, function: str = "") -> str:
    """What failed, in words: the exception's message (with no Python class name around it)."""
    if isinstance(error, json.JSONDecodeError):
        return f"the argument is not valid JSON text ({error.msg} at position {error.pos})"
    if isinstance(error, IndexError):
        if function.startswith("States.Format"):
            return "the template has more '{}' placeholders than there are arguments"
        return "the index is outside the array"
    message = str(error.args[0] if len(error.args) == 1 else error) if error.args else ""
    return message or type(error).__name__
