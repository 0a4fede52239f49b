"""JSONata and workflow variables for the kit's state machines.

moto's Step Functions interpreter leaves its JSONata evaluator out (a JVM bridge set to None), and reads JSONPath
variables (``$name.field``) through it too. The kit evaluates with jsonata-python (pure Python): ``$states`` and the
variables in scope are passed as bindings, never spliced into the expression text as moto would (a string value
holding a ``"`` would break every later expression). The functions Step Functions adds to JSONata are real ones;
runtime errors are ``States.QueryEvaluationError``, as on AWS.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import random
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonata import Jsonata

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


class QueryEvaluationError(Exception):
    """A JSONata expression failed at run time (``States.QueryEvaluationError`` on AWS)."""


# -- The functions Step Functions adds to JSONata (transforming-data.html, "JSONata functions") -------------------
def _partition(array: Any, size: Any) -> list[Any]:
    if not isinstance(array, list):
        raise QueryEvaluationError(f"$partition expects an array as its first argument, got {_json(array)}")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or size != int(size) or size < 1:
        raise QueryEvaluationError(f"$partition expects a chunk size that is a positive integer, got {_json(size)}")
    step = int(size)
    return [list(array[start : start + step]) for start in range(0, len(array), step)]


def _range(start: Any, end: Any, step: Any = 1) -> list[Any]:
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise QueryEvaluationError(f"$range expects integers, got {name} {_json(value)}")
    first, last, by = int(start), int(end), int(step)
    if by == 0:
        raise QueryEvaluationError("$range expects a step other than 0")
    # The end is included, as with States.ArrayRange: $range(0, 10, 2) is [0, 2, 4, 6, 8, 10].
    return list(range(first, last + (1 if by > 0 else -1), by))


def _hash(data: Any, algorithm: Any) -> str:
    if not isinstance(data, str):
        raise QueryEvaluationError(f"$hash expects a string to hash, got {_json(data)}")
    if algorithm not in _HASHES:
        names = ", ".join(_HASHES)
        raise QueryEvaluationError(f"$hash expects one of {names} as its algorithm, got {_json(algorithm)}")
    return str(_HASHES[algorithm](data.encode("utf-8")).hexdigest())


def _random(seed: Any = None) -> float:
    if seed is None:
        return random.random()
    if isinstance(seed, bool) or not isinstance(seed, (int, float)):
        raise QueryEvaluationError(f"$random expects a number as its seed, got {_json(seed)}")
    # A seeded $random gives the same number for the same seed.
    return random.Random(seed).random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise QueryEvaluationError(f"$parse expects a string, got {_json(text)}")
    try:
        return json.loads(text)
    except ValueError as error:
        raise QueryEvaluationError(f"$parse could not parse {_json(text)} as JSON: {error}") from None


def _no_eval(*_: Any) -> None:
    raise QueryEvaluationError("$eval is not available in Step Functions: use $parse")


@functools.cache
def _functions() -> dict[str, Any]:
    from jsonata import Jsonata

    return {
        "partition": Jsonata.JLambda(_partition),
        "range": Jsonata.JLambda(_range),
        "hash": Jsonata.JLambda(_hash),
        "random": Jsonata.JLambda(_random),
        "uuid": Jsonata.JLambda(_uuid),
        "parse": Jsonata.JLambda(_parse),
        "eval": Jsonata.JLambda(_no_eval),
    }


_compile_lock = threading.Lock()


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> Jsonata:
    from jsonata import Jsonata

    with _compile_lock:  # jsonata-python's constructor sets a per-thread "current" instance as a side effect
        compiled = Jsonata(expression)
    compiled.set_output_convert_nulls(False)  # tells JSONata's null from undefined (None)
    return compiled


def evaluate(expression: str, bindings: Mapping[str, Any]) -> Any:
    """Evaluate a JSONata expression with ``bindings`` (names without ``$``); ``UNDEFINED`` when it gives nothing.

    Raises QueryEvaluationError for a syntax or run-time error, with JSONata's message."""
    from jsonata import Jsonata
    from jsonata.jexception import JException

    try:
        compiled = _compiled(expression)
        # Each evaluation gets its own shallow copy (the parsed tree is shared, read only): jsonata-python keeps the
        # evaluation's input and environment on the instance, and moto runs Map iterations and branches in threads.
        instance = copy.copy(compiled)
        Jsonata.CURRENT.jsonata = instance
        result = instance.evaluate(None, {**_functions(), **bindings})
    except JException as error:
        raise QueryEvaluationError(str(error)) from None
    except RecursionError:
        raise QueryEvaluationError("the expression recursed too deeply") from None
    if result is None:
        return UNDEFINED
    return _plain(result)


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()
"""What an expression that gives nothing evaluates to (JSON cannot hold it; AWS refuses it)."""

_MAX_SAFE_INTEGER = 2**53


def _plain(value: Any) -> Any:
    """A JSONata result as plain JSON values, copied: JSONata's null is None, its sequences are lists, and a whole
    float is an integer (2.0 is ``2`` in JSON, as JavaScript writes it)."""
    from jsonata.utils import Utils

    if value is Utils.NULL_VALUE:
        return None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_SAFE_INTEGER:
        return int(value)
    return value


def is_json(value: Any) -> bool:
    """Whether a result is a JSON value (not a function, a regular expression or an infinity)."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_json(item) for item in value)
    if isinstance(value, dict):
        return all(is_json(item) for item in value.values())
    return False


def _json(value: Any) -> str:
    try:
        return json.dumps(value)[:200]
    except (TypeError, ValueError):
        return repr(value)[:200]


_STRING_ITEM_SELECTOR = re.compile(r'"ItemSelector"\s*:\s*"')
_WHOLE_VALUE = "{%kit:whole-value%}"
"""The one key of the object an ``ItemSelector`` given as a JSONata string is rewritten to (moto's grammar only takes
an object there): its value is the item, whatever JSON type it is."""


def rewrite_definition(definition: str) -> str:
    """A definition moto's grammar accepts: an ``ItemSelector`` given as one JSONata string (allowed by AWS in JSONata
    states) becomes an object holding it under ``_WHOLE_VALUE``, which ``install``'s hook unwraps."""
    if not _STRING_ITEM_SELECTOR.search(definition):
        return definition
    try:
        document = json.loads(definition)
    except ValueError:
        return definition  # moto reports the syntax error
    _rewrite_item_selectors(document)
    return json.dumps(document)


def _rewrite_item_selectors(value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _rewrite_item_selectors(item)
    elif isinstance(value, dict):
        selector = value.get("ItemSelector")
        if isinstance(selector, str) and selector.startswith("{%") and "ItemProcessor" in value:
            value["ItemSelector"] = {_WHOLE_VALUE: selector}
        for item in value.values():
            _rewrite_item_selectors(item)


def install(replace: Callable[[Any, str, Any], Any]) -> None:
    """Plug the evaluator into moto's two JSONata components; ``replace(owner, name, new)`` patches (and records the
    undo of) one attribute."""
    from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
        StringJSONata,
        StringVariableSample,
    )

    def jsonata_body(self: Any, env: Any) -> None:
        # A "{% ... %}" value: $states and the variables in scope, as bindings.
        bindings = {**_variables(env), "states": env.states._states_data}
        env.stack.append(_checked(env, self.expression, bindings))

    def variable_sample_body(self: Any, env: Any) -> None:
        # A variable read ("$name.field"): in a JSONPath state, the variables only.
        bindings = _variables(env)
        if self.query_language_mode == QueryLanguageMode.JSONata:
            bindings["states"] = env.states._states_data
        env.stack.append(_checked(env, self.expression, bindings))

    replace(StringJSONata, "_eval_body", jsonata_body)
    replace(StringVariableSample, "_eval_body", variable_sample_body)

    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_selector import ItemSelector

    original_item_selector_body = ItemSelector._eval_body

    def item_selector_body(self: Any, env: Any) -> None:
        bindings = self.template_value_object.bindings
        if len(bindings) == 1 and bindings[0].identifier == _WHOLE_VALUE:
            env.stack.append(bindings[0]._eval_value(env=env))  # the string's value is the item (rewrite_definition)
            return
        original_item_selector_body(self, env)

    replace(ItemSelector, "_eval_body", item_selector_body)

    # A Parallel branch or a Map iteration that fails with a States.* error (States.QueryEvaluationError, for one)
    # fails its state with that error; moto rebuilt the name as a custom one, which refuses the States. prefix, and
    # the run ended States.Runtime instead.
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    def error_name(error_name: str | None = None) -> Any:
        if error_name is not None and error_name.startswith("States."):
            try:
                return StatesErrorName.from_name(error_name)
            except ValueError:
                pass  # a States. name moto does not know: its own refusal follows
        return CustomErrorName(error_name=error_name)

    replace(iteration_worker, "CustomErrorName", error_name)
    replace(branches_decl, "CustomErrorName", error_name)


def _variables(env: Any) -> dict[str, Any]:
    store = env.variable_store
    return {**store._outer_scope, **store._inner_scope}


def _checked(env: Any, expression: str, bindings: Mapping[str, Any]) -> Any:
    """The expression's value, or the state fails with States.QueryEvaluationError as on AWS: for an error, for no
    value (JSON cannot hold undefined) and for a value that is no JSON (a function)."""
    try:
        value = evaluate(expression, bindings)
    except QueryEvaluationError as error:
        _fail(env, f"The JSONata expression '{expression}' returned an error: {error}")
    if value is UNDEFINED:
        _fail(env, f"The JSONata expression '{expression}' returned nothing (undefined).")
    if not is_json(value):
        _fail(env, f"The JSONata expression '{expression}' returned an unsupported result type.")
    return value


def _fail(env: Any, cause: str) -> Any:
    from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails as _EventDetails

    EventDetails: Any = _EventDetails  # a TypedDict of every event's details; one of them is given
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    failure = FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(
                evaluationFailedEventDetails=EvaluationFailedEventDetails(cause=cause, error=error_name.error_name)
            ),
        )
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()),
    )
    raise failure
