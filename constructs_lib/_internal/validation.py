"""Synth-time validation: collect every problem with a construct's props, then raise once."""

from __future__ import annotations

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

    def raise_if_any(self, construct: Construct) -> None:
        """Raise ConstructPropsError for ``construct`` (its path names it) if any problem was found."""
        if self._items:
            raise ConstructPropsError(construct.node.path, self._items)


def is_unresolved(value: object) -> bool:
    """True for CDK tokens, whose value is only known at deploy time (never validated at synth)."""
    if isinstance(value, int) or value is None:  # Python ints are never tokens (number tokens are floats)
        return False
    return Token.is_unresolved(value)


def duration_seconds(value: Duration) -> float | None:
    """The duration in seconds, or None when it is a token."""
    if value.is_unresolved():  # to_seconds() of a token returns its encoded number, not a duration
        return None
    return float(value.to_seconds())


def describe_duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
