"""The alarms of every construct, made one way: at or above a threshold, missing data not breaching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


def period_options(period: Duration | None) -> dict[str, Any]:
    """Metric options for a period; empty for the CloudWatch default (5 minutes)."""
    return {"period": period} if period is not None else {}


def add_alarm(
    scope: Construct,
    alarms: dict[str, cloudwatch.Alarm],
    name: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    why: str,
    path: str,
    evaluation_periods: int,
    actions: Sequence[cloudwatch.IAlarmAction],
) -> cloudwatch.Alarm:
    """Alarm ``{name}Alarm`` in ``scope`` when ``metric`` >= ``threshold``; recorded in ``alarms[name]``."""
    alarm = cloudwatch.Alarm(
        scope,
        f"{name}Alarm",
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=f"{path}: {why}",
    )
    for action in actions:
        alarm.add_alarm_action(action)
    alarms[name] = alarm
    return alarm


def add_state_machine_alarms(
    scope: Construct,
    alarms: dict[str, cloudwatch.Alarm],
    state_machine: sfn.StateMachine,
    *,
    noun: str,
    threshold: float,
    evaluation_periods: int,
    actions: Sequence[cloudwatch.IAlarmAction],
    period: Duration | None,
) -> None:
    """The four alarms of a state machine: Failed, TimedOut, Aborted and Throttled (``noun``: "executions")."""
    options = period_options(period)
    specs = [
        ("ExecutionsFailed", state_machine.metric_failed(**options), f"{noun} failed"),
        ("ExecutionsTimedOut", state_machine.metric_timed_out(**options), f"{noun} timed out"),
        ("ExecutionsAborted", state_machine.metric_aborted(**options), f"{noun} were aborted"),
        ("ExecutionThrottled", state_machine.metric_throttled(**options), f"{noun} were throttled"),
    ]
    for name, metric, why in specs:
        add_alarm(
            scope,
            alarms,
            name,
            metric=metric,
            threshold=threshold,
            why=why,
            path=scope.node.path,
            evaluation_periods=evaluation_periods,
            actions=actions,
        )
