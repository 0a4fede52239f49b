"""A kit that fails while stopping still undoes everything, so the next kit in the process starts."""

from __future__ import annotations

import os

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import LocalKit


class _BrokenDurableService:
    def close(self) -> None:
        raise RuntimeError("the durable service would not stop")


def test_a_failing_step_of_stop_leaves_nothing_installed() -> None:
    stack = cdk.Stack(cdk.App(), "Quiet")
    sqs.Queue(stack, "Queue", enforce_ssl=True)
    environ_before = os.environ
    kit = LocalKit.from_stack(stack)
    kit.start()
    kit._engine._durable = _BrokenDurableService()  # type: ignore[assignment]  # a teardown step that raises
    with pytest.raises(RuntimeError, match="would not stop"):
        kit.stop()
    assert os.environ is environ_before  # the environment came back although an earlier step raised
    with LocalKit.from_stack(stack) as again:  # and the next kit may start: moto stopped, the kit released
        assert again.messages("Queue") == []
