"""A handler error's ``stackTrace``: the frames below the kit's own, as ``traceback`` formats them, formatted once
for each place a handler fails."""

from __future__ import annotations

import traceback
from types import TracebackType

from constructs_lib.testing._engine.lambda_runtime import _stack_trace


def handler(event: dict[str, int]) -> object:
    if event["raise"]:
        raise ValueError("order o-1 is pending")
    return {}["missing"]  # type: ignore[index]


def failure(event: dict[str, int]) -> TracebackType:
    try:
        handler(event)
    except Exception as error:  # the kit's own frame first, as in the runtime
        tb = error.__traceback__
    else:
        raise AssertionError("the handler did not fail")
    if tb is None:
        raise AssertionError("no traceback")
    return tb


def test_each_failure_is_formatted_as_traceback_formats_it_without_the_kits_frame() -> None:
    for event in ({"raise": 1}, {"raise": 0}, {"raise": 1}, {"raise": 0}):
        tb = failure(event)

        trace = _stack_trace(tb)

        assert trace == tuple(line.rstrip("\n") for line in traceback.format_tb(tb)[1:])
        assert len(trace) == 1
        assert "in handler" in trace[0]


def test_the_same_failure_again_is_not_formatted_again() -> None:
    first = _stack_trace(failure({"raise": 1}))
    again = _stack_trace(failure({"raise": 1}))
    other = _stack_trace(failure({"raise": 0}))

    assert again is first
    assert other != first
