"""Workflow variables read from JSONPath fields: ``"count.$": "$count"`` (or ``"$order.items[0]"``) is the value
``Assign`` gave the variable, as Step Functions reads it in a JSONPath state.

moto reads every variable through its JSONata evaluator, which it ships stubbed out: a JSONPath state that reads a
variable failed with ``States.Runtime`` (``'NoneType' object is not callable``). The kit reads a plain reference
(a name, then an optional JSONPath into its value) from moto's variable store; anything else, and every JSONata
state, is left to moto.
"""

from __future__ import annotations

import copy
import re
from typing import Any

_REFERENCE = re.compile(r"\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>(?:\.[^.\[\]]+|\[[^\]]*\])*)")
"""``$name`` then ``.field`` / ``[index]`` steps: the JSONPath form of a variable reference."""


def install(patches: Any) -> None:
    """Read JSONPath variable references from the variable store (``patches`` is the kit's undoable patch set)."""
    from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringVariableSample
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    original = StringVariableSample._eval_body

    def eval_body(self: Any, env: Any) -> None:
        found = _REFERENCE.fullmatch(str(self.expression).strip())
        if self.query_language_mode != QueryLanguageMode.JSONPath or found is None:
            original(self, env)
            return
        value = env.variable_store.get(found["name"])  # an unassigned variable fails the state, as on AWS
        if found["rest"]:
            value = extract_json(f"${found['rest']}", value)
        env.stack.append(copy.deepcopy(value))

    patches.replace(StringVariableSample, "_eval_body", eval_body)
