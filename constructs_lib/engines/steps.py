"""The steps of a FunctionWorkflow: plain data, turned into states by the construct.

``Invoke`` runs a function; ``Parallel`` runs branches side by side; ``ForEach`` maps over an array of the input;
``Choice`` routes on fields of the previous step's output; ``ServiceTask`` is any service integration.
Each takes ``RetryRule``s. These are what only an
orchestrator does: Lambda Destinations cannot express them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib._internal.validation import Problems, duration_seconds

MAX_RETRY_ATTEMPTS = 99_999_999
"""Amazon States Language caps MaxAttempts at 99999999."""


@dataclass(frozen=True)
class RetryRule:
    """Retry the errors named in ``errors`` (error names such as ``OrderPendingError`` or ``States.Timeout``).

    Waits ``interval``, then ``interval * backoff_rate``, ... capped at ``max_delay``, ``max_attempts`` times.
    """

    errors: Sequence[str] = ("States.ALL",)
    interval: Duration = field(default_factory=lambda: Duration.seconds(2))
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay: Duration | None = None
    jitter: bool = False

    def validate(self, problems: Problems, where: str) -> None:
        if not self.errors:
            problems.add(f"{where}: RetryRule.errors is empty; name the errors to retry, e.g. ['States.ALL']")
        if not 0 <= self.max_attempts <= MAX_RETRY_ATTEMPTS:
            problems.add(f"{where}: RetryRule.max_attempts must be 0 or more, got {self.max_attempts}")
        if self.backoff_rate < 1:
            problems.add(
                f"{where}: RetryRule.backoff_rate must be at least 1.0 (1.0 = a constant interval), "
                f"got {self.backoff_rate}"
            )
        interval = duration_seconds(self.interval)
        if interval is not None and interval < 1:
            problems.add(f"{where}: RetryRule.interval must be at least 1 second, got {interval:g} s")
        if self.max_delay is not None and interval is not None:
            delay = duration_seconds(self.max_delay)
            if delay is not None and delay < interval:
                problems.add(f"{where}: RetryRule.max_delay ({delay:g} s) is shorter than interval ({interval:g} s)")

    def props(self) -> sfn.RetryProps:
        return sfn.RetryProps(
            errors=list(self.errors),
            interval=self.interval,
            max_attempts=self.max_attempts,
            backoff_rate=self.backoff_rate,
            max_delay=self.max_delay,
            jitter_strategy=sfn.JitterType.FULL if self.jitter else None,
        )


class Step:
    """A step of a workflow. ``name`` is the state's name, unique in the workflow."""

    name: str
    retries: Sequence[RetryRule]


@dataclass(frozen=True)
class Invoke(Step):
    """Invoke a function with the current state as its event; its return value becomes the state."""

    name: str
    function: lambda_.IFunction
    retries: Sequence[RetryRule] = ()
    timeout: Duration | None = None


@dataclass(frozen=True)
class Parallel(Step):
    """Run branches side by side on the same input; the output is the list of the branches' outputs."""

    name: str
    branches: Sequence[Sequence[Step]]
    retries: Sequence[RetryRule] = ()


@dataclass(frozen=True)
class ForEach(Step):
    """Run ``steps`` for every item of the array at ``items_path`` (a Map state); the output is the list of
    results, in order. ``max_concurrency`` 0 means as many as Step Functions allows."""

    name: str
    items_path: str
    steps: Sequence[Step]
    max_concurrency: int = 0
    retries: Sequence[RetryRule] = ()


@dataclass(frozen=True)
class Choice(Step):
    """Route on fields of the state: the first ``(condition, steps)`` whose condition holds runs, else ``default``.

    Conditions are aws-cdk-lib's ``sfn.Condition``: ``number_equals``, ``string_matches``, ``is_present``,
    ``and_``, ``or_``, ``not_``... After the branch, the workflow goes on with the next step.
    """

    name: str
    branches: Sequence[tuple[sfn.Condition, Sequence[Step]]]
    default: Sequence[Step] = ()
    retries: Sequence[RetryRule] = ()


@dataclass(frozen=True)
class ServiceTask(Step):
    """Any Step Functions task state, for a service integration with no function in between
    (``tasks.DynamoPutItem``, ``tasks.SnsPublish``, ``tasks.CallAwsService``, ...).

    ``make(scope, name)`` builds the task; the workflow adds ``retries`` and its Catch to it. Its input, result and
    output paths are the task's own: use ``result_path=sfn.JsonPath.DISCARD`` to keep the state as it was.
    """

    name: str
    make: Callable[[Construct, str], sfn.TaskStateBase]
    retries: Sequence[RetryRule] = ()


__all__ = ["Choice", "ForEach", "Invoke", "Parallel", "RetryRule", "ServiceTask", "Step"]
