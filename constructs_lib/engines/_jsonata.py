"""JSONata spellings of what a FunctionWorkflow's states do, and the checks that keep the two query languages apart.

A JSONata state has no ``InputPath`` / ``Parameters`` / ``ResultSelector`` / ``ResultPath`` / ``OutputPath``: it takes
``Arguments`` and ``Output`` (and ``Assign``), each a JSONata expression (``"{% ... %}"``) or a JSON template with
expressions in its strings. These helpers write the library's data model (a result placed at ``result_path``, the
execution record, a caught error) in those terms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Token
from aws_cdk import aws_stepfunctions as sfn

KEEP_STATE = "{% $states.input %}"
"""The Output of a state that leaves the state as it was (JSONPath: ``ResultPath: null``)."""

CAUGHT_ERROR = "($exists($error) ? $error : $states.input)"
"""The error a catch kept: in the ``error`` variable (a JSONata state's catch), or the state itself (the catch of a
JSONPath state of the user's, inside a JSONata workflow, replaces the state with the error output)."""

_SIMPLE_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def wrap(expression: str) -> str:
    """``"{% expression %}"``."""
    return "{% " + expression + " %}"


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def unwrap(value: str) -> str:
    return value[2:-2].strip()


def simple_path(path: str) -> bool:
    """``$`` or ``$.a.b``: a path the JSONata spellings below can follow."""
    return bool(_SIMPLE_PATH.match(path))


def state_at(path: str) -> str:
    """The state's value at a simple JSONPath, in JSONata: ``$.order.id`` is ``$states.input.order.id``."""
    return "$states.input" + path[1:]


def placed(result_path: str | None, value: str) -> str:
    """The Output that puts ``value`` (an expression) where ``result_path`` says, as ``ResultPath`` does: ``$`` (or
    None) replaces the state, ``$.a.b`` sets that field and keeps the rest, ``DISCARD`` keeps the state."""
    if result_path is None or result_path == "$":
        return wrap(value)
    if Token.is_unresolved(result_path):  # sfn.JsonPath.DISCARD
        return KEEP_STATE
    names = result_path[2:].split(".")
    return wrap(_merged("$states.input", names, value))


def _merged(base: str, names: list[str], value: str) -> str:
    head, rest = names[0], names[1:]
    inner = value if not rest else _merged(f"{base}.{head}", rest, value)
    return f"$merge([{base}, {{{json.dumps(head)}: {inner}}}])"


def template(value: Any) -> str:
    """One JSONata expression for a JSON template whose strings may be expressions (``{"id": "{% $x.id %}"}``)."""
    if is_expression(value):
        return f"({unwrap(value)})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {template(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(template(item) for item in value) + "]"
    return json.dumps(value)


def jsonpath_parts(value: Any) -> list[str]:
    """What in a value is JSONPath (``sfn.JsonPath`` reads, ``key.$`` fields): a JSONata state cannot hold it."""
    found: list[str] = []
    if isinstance(value, str):
        if Token.is_unresolved(value) and sfn.JsonPath.is_encoded_json_path(value):
            found.append("an sfn.JsonPath value")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).endswith(".$"):
                found.append(f"the JSONPath field {key!r}")
            found.extend(jsonpath_parts(item))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(jsonpath_parts(item))
    return found


def jsonata_parts(value: Any) -> list[str]:
    """What in a value is JSONata (``{% %}`` strings): a JSONPath state would take it as a literal string."""
    if is_expression(value):
        return [f"the JSONata expression {value!r}"]
    if isinstance(value, Mapping):
        return [part for item in value.values() for part in jsonata_parts(item)]
    if isinstance(value, list | tuple):
        return [part for item in value for part in jsonata_parts(item)]
    return []


def condition_is_jsonata(condition: sfn.Condition) -> bool:
    """A Choice rule written ``sfn.Condition.jsonata(...)`` (a ``Condition`` field) rather than a JSONPath one."""
    return "Condition" in condition.render_condition()


def state_is_jsonata(state: sfn.State, workflow_jsonata: bool) -> bool:
    """Whether a state runs JSONata: its own ``QueryLanguage`` if it sets one, else the workflow's."""
    language = state.to_state_json().get("QueryLanguage")
    if language is None:
        return workflow_jsonata
    return bool(language == "JSONata")


def record(condition: str, *, success: bool) -> str:
    """The execution record (the Destinations shape, as a JSONPath workflow's Build*Record state makes it) as one
    JSONata expression, evaluated in the delivery task: the state is the response (success) or the caught error
    (failure)."""
    if success:
        response_context = "{'statusCode': 200, 'executedVersion': '$LATEST'}"
        response = "$states.input"
    else:
        response_context = "{'statusCode': 200, 'executedVersion': '$LATEST', 'functionError': 'Unhandled'}"
        response = f"{{'errorType': {CAUGHT_ERROR}.Error, 'errorMessage': {CAUGHT_ERROR}.Cause}}"
    return (
        "{'version': '1.0', 'timestamp': $states.context.State.EnteredTime, "
        "'requestContext': {'requestId': $states.context.Execution.Name, "
        f"'functionArn': $states.context.StateMachine.Id, 'condition': {json.dumps(condition)}, "
        "'approximateInvokeCount': $recordInvokeCount}, "  # steps.INVOKE_COUNT_VARIABLE
        "'requestPayload': $states.context.Execution.Input, "
        f"'responseContext': {response_context}, 'responsePayload': {response}}}"
    )
