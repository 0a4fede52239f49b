"""Synth-time validation: collect every problem with a construct's props, then raise once."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Token
from constructs import Construct


class ConstructPropsError(ValueError):
    """Raised at synth when a construct's props cannot work on AWS.

    Every message names the bad value and the fix. Several problems are reported together.
    """

    def __init__(self, construct_path: str, problems: list[str]) -> None:
        self.construct_path = construct_path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{construct_path}: invalid props:\n{lines}")


class Problems:
    """An ordered list of problems found while validating props."""

    def __init__(self) -> None:
        self._items: list[str] = []

    def add(self, message: str) -> None:
        self._items.append(message)

    def __bool__(self) -> bool:
        return bool(self._items)

    @property
    def items(self) -> list[str]:
        """The problems found so far, in order."""
        return list(self._items)

    def raise_if_any(self, construct: Construct) -> None:
        """Raise ConstructPropsError for ``construct`` (its path names it) if any problem was found."""
        if self._items:
            raise ConstructPropsError(construct.node.path, self._items)


def is_unresolved(value: object) -> bool:
    """True for CDK tokens, whose value is only known at deploy time (never validated at synth)."""
    if isinstance(value, int) or value is None:  # Python ints are never tokens (number tokens are floats)
        return False
    if not isinstance(value, str | float | list | dict) and not hasattr(value, "resolve"):
        return False  # not something jsii can carry a token in (a Python object of the library, say)
    return bool(Token.is_unresolved(value))


def duration_seconds(value: Duration) -> float | None:
    """The duration in seconds (a fraction for ``Duration.millis(1500)``), or None when it is a token."""
    if value.is_unresolved():  # to_seconds() of a token returns its encoded number, not a duration
        return None
    return float(value.to_seconds(integral=False))


def whole_seconds(value: Duration, problems: Problems, where: str) -> float | None:
    """The duration in seconds, for a setting AWS takes in whole seconds; None for a token, and None with a problem
    for a fraction of a second (``Duration.millis(1500)``), which CloudFormation cannot take."""
    seconds = duration_seconds(value)
    if seconds is not None and seconds != int(seconds):
        problems.add(
            f"{where} must be a whole number of seconds, got {value.to_human_string()} ({seconds:g} s); "
            f"use Duration.seconds({max(1, round(seconds))})"
        )
        return None
    return seconds


MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240
MAX_FUNCTION_TIMEOUT_SECONDS = 900


def check_function_options(options: Any, where: str, problems: Problems) -> None:
    """What Lambda refuses in a function's props, which only fails at deploy otherwise: memory outside 128..10240
    MB, a timeout outside 1 s..15 minutes or not in whole seconds."""
    values = getattr(options, "_values", {})
    memory = values.get("memory_size")
    if memory is not None and not is_unresolved(memory) and not MIN_MEMORY_MB <= memory <= MAX_MEMORY_MB:
        problems.add(
            f"{where}.memory_size must be {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB (Lambda's range), got {memory!r}"
        )
    timeout = values.get("timeout")
    if isinstance(timeout, Duration):
        seconds = whole_seconds(timeout, problems, f"{where}.timeout")
        if seconds is not None and not 1 <= seconds <= MAX_FUNCTION_TIMEOUT_SECONDS:
            problems.add(
                f"{where}.timeout must be 1 second to 15 minutes (Lambda's range), got {describe_duration(seconds)}"
            )


def describe_duration(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)} days"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
