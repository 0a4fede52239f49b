"""The kit's copy of JSON values, which moto's interpreter uses in place of ``copy.deepcopy``."""

from __future__ import annotations

import copy
import datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.testing._engine.json_copy import json_copy

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


def containers(value: Any) -> list[Any]:
    """Every dict and list inside ``value``, itself included."""
    found = [value] if isinstance(value, (dict, list)) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found.extend(containers(child))
    return found


@given(JSON)
def test_a_json_value_is_copied_equal_and_shares_no_container_with_the_original(value: Any) -> None:
    copied = json_copy(value)

    assert copied == copy.deepcopy(value)
    originals = {id(container) for container in containers(value)}
    assert not originals & {id(container) for container in containers(copied)}


def test_anything_else_inside_is_deep_copied() -> None:
    class Box:
        def __init__(self, items: list[int]) -> None:
            self.items = items

    when = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)
    value: dict[str, Any] = {"box": Box([1, 2]), "when": when, "pair": (1, [2])}

    copied = json_copy(value)

    assert copied["box"] is not value["box"]
    assert copied["box"].items == [1, 2]
    assert copied["box"].items is not value["box"].items
    assert copied["when"] == when
    assert copied["pair"] == (1, [2])
    assert copied["pair"][1] is not value["pair"][1]


def test_motos_program_states_are_copied_as_deepcopy_copies_them() -> None:
    from moto.stepfunctions.parser.asl.eval import program_state

    from constructs_lib.testing._engine import json_copy as module
    from constructs_lib.testing._engine.moto_hooks import _Patches

    running = program_state.ProgramRunning()  # type: ignore[no-untyped-call]
    running.next_state_name = "HandleSingle"
    failed = program_state.ProgramError(error={"error": "States.TaskFailed", "cause": "{}"})
    states = [running, program_state.ProgramEnded(), failed, program_state.ProgramTimedOut()]
    patches = _Patches()
    module.install(patches)  # registers moto's program states
    deep_copies = [copy.deepcopy(state) for state in states]
    try:

        def no_deepcopy(value: Any, memo: Any = None) -> Any:
            raise AssertionError(f"{type(value).__name__} was deep-copied")

        patches.replace(module, "copy", SimpleNamespace(deepcopy=no_deepcopy))
        for state, deep in zip(states, deep_copies, strict=True):
            copied = json_copy(state)
            assert type(copied) is type(state)
            assert vars(copied) == vars(deep)
            assert copied is not state
        assert json_copy(failed).error is not failed.error
        assert json_copy(running).next_state_name == "HandleSingle"
    finally:
        patches.undo()
