"""SlackNotifier: a function that turns failure records and failed executions into Slack messages.

    reporter = SlackErrorReporter(self, "Slack", webhook=SlackWebhook.from_secret(secret))
    notifier = SlackNotifier(self, "SlackNotifier", reporter=reporter)
    DestinedFunction(self, "Charge", function_props=..., on_failure=notifier.route)
    workflow.notify_on("Failures", statuses=FAILED_STATUSES, route=notifier.route)

The function (``runtime/notifier``) uses the reporter's layer: the same message format, rate limit and
webhook as the handler wrapper. It is itself a ``DestinedFunction``: when Slack does not take a message, Lambda
retries the asynchronous invocation and then keeps the event on an encrypted failure queue (with alarms).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib._internal.assets import runtime_code
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems
from constructs_lib.defaults import ASYNC_OPTIONS, struct_values
from constructs_lib.engines.destined_function import AsyncAlarmOptions, DestinedFunction
from constructs_lib.records import ExecutionStatus
from constructs_lib.routes import BoundRoute, FunctionRoute, Route
from constructs_lib.workloads.slack.slack_error_reporter import SlackErrorReporter

NOTIFIER_ASSET = "notifier"
NOTIFIER_HANDLER = "notifier.handler"
RUNTIME = lambda_.Runtime.PYTHON_3_14
FAILED_STATUSES = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)
"""The execution statuses the notifier reports: give them to ``FunctionWorkflow.notify_on``."""
MIN_TIMEOUT_MARGIN_SECONDS = 3


class SlackNotifier(Construct):
    """A function that posts Lambda Destinations failure records and Step Functions FAILED / TIMED_OUT / ABORTED
    execution status changes to Slack. Point routes at ``route``."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        reporter: SlackErrorReporter,
        function_props: lambda_.FunctionOptions | None = None,
        retry_attempts: int | None = None,
        on_failure: Route | None = None,
        alarms: AsyncAlarmOptions | None = None,
    ) -> None:
        """
        :param reporter: its layer, webhook and settings are the notifier's.
        :param function_props: options of the notifier's function, merged over its defaults (30-second timeout,
            128 MB); its code, handler and runtime are the notifier's. The timeout must be at least the reporter's
            post timeout plus 3 s (room for one retry after HTTP 429). :default: - the defaults alone.
        :param retry_attempts: Lambda's retries of a notification that Slack did not take, 0 to 2. :default: 2.
        :param on_failure: where notifications go that still fail. :default: - a new encrypted SQS queue with a DLQ.
        :param alarms: alarms of the notifier's asynchronous invocations. :default: - all on (see
            ``AsyncAlarmOptions``).
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        if not isinstance(reporter, SlackErrorReporter):
            problems.add(f"reporter must be a SlackErrorReporter, got {type(reporter).__name__}")
        given = struct_values(function_props)
        for option in ASYNC_OPTIONS:
            if given.get(option) is not None:
                problems.add(
                    f"function_props.{option} is set: the notifier's asynchronous invocation is set with "
                    "retry_attempts= and on_failure= on SlackNotifier"
                )
        options: dict[str, Any] = {
            "timeout": Duration.seconds(30),
            "memory_size": 128,
            "description": "Posts Lambda failure records and failed Step Functions executions to Slack",
            **given,
        }
        self.timeout: Duration = options["timeout"]
        if isinstance(reporter, SlackErrorReporter) and not self.timeout.is_unresolved():
            post_ms = reporter.timeout.to_milliseconds() if not reporter.timeout.is_unresolved() else 0
            needed = post_ms / 1000 + MIN_TIMEOUT_MARGIN_SECONDS
            seconds = self.timeout.to_milliseconds() / 1000
            if seconds < needed:
                problems.add(
                    f"timeout must be at least the reporter's post timeout plus {MIN_TIMEOUT_MARGIN_SECONDS} s "
                    f"({needed:g} s) so that a rate-limited post can be retried, got {seconds:g} s"
                )
        problems.raise_if_any(self)

        self.reporter = reporter
        self.destined = DestinedFunction(
            self,
            "Notifier",
            function_props=lambda_.FunctionProps(
                **options,
                runtime=RUNTIME,
                handler=NOTIFIER_HANDLER,
                code=runtime_code(__file__, NOTIFIER_ASSET),
            ),
            retry_attempts=retry_attempts,
            on_failure=on_failure,
            alarms=alarms,
        )
        self.function: lambda_.IFunction = self.destined.function
        reporter.attach(self.function)
        self.failure_route: BoundRoute = self.destined.failure_route
        """Where notifications go that Slack never took (the notifier's own on_failure)."""
        self.route: FunctionRoute = FunctionRoute(self.function)
        """Give this as ``on_failure`` of a DestinedFunction or FunctionWorkflow, or as the route of
        ``FunctionWorkflow.notify_on(..., statuses=FAILED_STATUSES)`` / ``ExecutionStatusNotifications``."""


__all__ = ["FAILED_STATUSES", "SlackNotifier"]
