"""The kit's one patch of the durable execution SDK (``durable.install_prompt_stop``), pinned: the names it relies on,
the cost it removes, and its undo. A new SDK release that moves these fails here first."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

from constructs_lib.testing._engine.durable import install_prompt_stop


@durable_execution
def _one_step(event: Any, context: DurableContext) -> int:
    return int(context.step(lambda _: 1, name="One"))


def _best_of_three_ms() -> float:
    timings = []
    with DurableFunctionTestRunner(handler=_one_step) as runner:
        for index in range(3):
            started = time.perf_counter()
            result = runner.run(input=json.dumps({}), execution_timeout=30, execution_name=f"pin-{index}")
            timings.append((time.perf_counter() - started) * 1000)
            assert result.result == "1"
    return min(timings)


def test_the_sdk_still_has_what_the_patch_relies_on() -> None:
    # The checkpoint thread polls its queue for at most this long before it reads the stop event...
    assert sdk_state._STOP_SIGNAL_POLL_SECONDS == 0.1
    # ...and consumes and ignores this signal: the patch puts it on the queue to wake the thread.
    assert sdk_state._Signal.REFRESH_WAKE.value == "refresh_wake"
    assert callable(sdk_state.ExecutionState.stop_checkpointing)
    assert callable(sdk_state.ExecutionState._consume_refresh_wake)


def test_without_the_patch_each_invocation_ends_up_to_the_poll_late_and_with_it_at_once() -> None:
    unpatched = _best_of_three_ms()
    undo = install_prompt_stop()
    try:
        patched = _best_of_three_ms()
    finally:
        undo()
    assert unpatched >= 60, f"the SDK no longer waits for its poll ({unpatched:.1f} ms): the patch may go"
    assert patched < 40, f"one invocation with the patch took {patched:.1f} ms"


def test_the_patch_is_undone() -> None:
    original = sdk_state.ExecutionState.stop_checkpointing
    undo = install_prompt_stop()
    assert sdk_state.ExecutionState.stop_checkpointing is not original
    undo()
    assert sdk_state.ExecutionState.stop_checkpointing is original
