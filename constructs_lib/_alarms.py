"""The alarms of every construct, made one way: at or above a threshold, missing data not breaching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
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
