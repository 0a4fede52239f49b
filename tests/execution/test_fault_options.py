"""Faults (``constructs_lib.testing.Faults``): the same seed makes the same faults, and bad options are refused.
Not AWS behaviours, so not in the conformance suite."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.testing import Faults, KitError, LocalKit
from tests.conformance.test_faults import worker


@pytest.mark.execution
def test_the_same_seed_makes_the_same_faults(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Seeded")
    worker(stack)

    def duplicated(seed: int) -> list[bool]:
        with LocalKit.from_stack(stack, faults=Faults(seed=seed, duplicate_rate=0.3)) as kit:
            for i in range(12):
                kit.invoke_async("Worker/Function", {"orderId": f"o-{i}"})
            return [outcome.duplicate for outcome in kit.async_invocations()]

    first = duplicated(7)
    assert any(first)
    assert not all(first)
    assert duplicated(7) == first
    assert duplicated(8) != first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"duplicate_rate": 1.5}, "duplicate_rate must be between 0 and 1, got 1.5"),
        ({"throttle_rate": 1.0}, "throttle_rate must be at least 0 and below 1"),
        ({"service_exceptions": ("Lambda.Nope",)}, "service_exceptions must name some of"),
        ({"failing_targets": {"Queue": -1}}, "failing_targets counts must be non-negative integers"),
    ],
)
def test_rejects_bad_faults(options: dict[str, Any], message: str) -> None:
    with pytest.raises(KitError, match=message.replace(".", r"\.").replace("(", r"\(")):
        Faults(**options)
