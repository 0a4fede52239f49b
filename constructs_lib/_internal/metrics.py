"""The ``metric_*`` methods of every construct, made one way: typed options that mirror ``cloudwatch.MetricOptions``,
delegated to the L2 that owns the metric."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn

METRIC_OPTION_NAMES = frozenset(
    {
        "account",
        "color",
        "dimensions_map",
        "id",
        "label",
        "period",
        "region",
        "stack_account",
        "stack_region",
        "statistic",
        "unit",
        "visible",
    }
)
"""The fields of ``cloudwatch.MetricOptions``: every ``metric_*`` method takes exactly these."""


def metric_options(given: Mapping[str, Any], **defaults: Any) -> dict[str, Any]:
    """The options a ``metric_*`` method was given (pass its ``locals()``) over ``defaults``; unset ones left out."""
    return {**defaults, **{k: v for k, v in given.items() if k in METRIC_OPTION_NAMES and v is not None}}


class StateMachineMetrics:
    """The AWS/States metrics of ``self.state_machine``, for constructs built around one state machine."""

    state_machine: sfn.StateMachine

    def metric(
        self,
        metric_name: str,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Any AWS/States metric of the state machine (StateMachineArn dimension): Sum over 5 minutes."""
        return self.state_machine.metric(metric_name, **metric_options(locals()))

    def metric_started(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Executions started (``ExecutionsStarted``): Sum over 5 minutes."""
        return self.state_machine.metric_started(**metric_options(locals()))

    def metric_succeeded(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Executions that succeeded (``ExecutionsSucceeded``): Sum over 5 minutes."""
        return self.state_machine.metric_succeeded(**metric_options(locals()))

    def metric_failed(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Executions that failed (``ExecutionsFailed``): Sum over 5 minutes."""
        return self.state_machine.metric_failed(**metric_options(locals()))

    def metric_timed_out(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Executions that timed out (``ExecutionsTimedOut``): Sum over 5 minutes."""
        return self.state_machine.metric_timed_out(**metric_options(locals()))

    def metric_aborted(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Executions that were aborted (``ExecutionsAborted``): Sum over 5 minutes."""
        return self.state_machine.metric_aborted(**metric_options(locals()))

    def metric_throttled(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """Executions that were throttled (``ExecutionThrottled``): Sum over 5 minutes."""
        return self.state_machine.metric_throttled(**metric_options(locals()))

    def metric_time(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """How long executions take, in milliseconds (``ExecutionTime``): Average over 5 minutes."""
        return self.state_machine.metric_time(**metric_options(locals()))
