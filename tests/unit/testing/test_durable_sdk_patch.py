"""The kit's one patch of the durable execution SDK (``durable.install_prompt_stop``), pinned: the names it relies on,
what it does, and its undo. A new SDK release that moves these fails here first."""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python import state as sdk_state
from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner

from constructs_lib.testing._engine.durable import install_prompt_stop


@durable_execution
def _one_step(event: Any, context: DurableContext) -> int:
    return int(context.step(lambda _: 1, name="One"))


def test_the_sdk_still_has_what_the_patch_relies_on() -> None:
    # The checkpoint thread polls its queue for at most this long before it reads the stop event...
    assert sdk_state._STOP_SIGNAL_POLL_SECONDS == 0.1
    # ...and consumes and ignores this signal: the patch puts it on the queue to wake the thread.
    assert sdk_state._Signal.REFRESH_WAKE.value == "refresh_wake"
    assert callable(sdk_state.ExecutionState.stop_checkpointing)
    assert callable(sdk_state.ExecutionState._consume_refresh_wake)


def test_with_the_patch_stopping_wakes_the_checkpoint_thread_and_runs_still_succeed() -> None:
    """The patch's effect, without timing it (the time saved is measured by benchmarks/durable_kit.py): every stop
    also puts the SDK's wake signal on the checkpoint queue, and an execution runs to the same result."""
    woken: list[object] = []
    original_consume = sdk_state.ExecutionState._consume_refresh_wake

    def consume(self: Any, *args: Any, **kwargs: Any) -> Any:
        woken.append(self)
        return original_consume(self, *args, **kwargs)

    undo = install_prompt_stop()
    sdk_state.ExecutionState._consume_refresh_wake = consume  # type: ignore[method-assign]
    try:
        with DurableFunctionTestRunner(handler=_one_step) as runner:
            result = runner.run(input=json.dumps({}), execution_timeout=30, execution_name="pin")
    finally:
        sdk_state.ExecutionState._consume_refresh_wake = original_consume  # type: ignore[method-assign]
        undo()
    assert result.result == "1"
    assert woken, "the checkpoint thread never consumed the wake signal the patch puts on its queue"


def test_the_patch_is_undone() -> None:
    original = sdk_state.ExecutionState.stop_checkpointing
    undo = install_prompt_stop()
    assert sdk_state.ExecutionState.stop_checkpointing is not original
    undo()
    assert sdk_state.ExecutionState.stop_checkpointing is original
