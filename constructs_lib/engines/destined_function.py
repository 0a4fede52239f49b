"""DestinedFunction: a Lambda function wired to Lambda Destinations, with secure defaults, validation and alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib._internal.alarms import add_alarm, check_alarm_settings, claim_queue_alarms, period_options
from constructs_lib._internal.metrics import metric_options
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.result_rules import ResultRuleRequest, add_result_rule
from constructs_lib._internal.validation import (
    ConstructPropsError,
    Problems,
    describe_duration,
    duration_seconds,
    is_unresolved,
    whole_seconds,
)
from constructs_lib.defaults import ASYNC_OPTIONS, secure_function, struct_values
from constructs_lib.engines.steps import RetryRule, Step
from constructs_lib.events.patterns import destination_event_pattern, result_event_pattern
from constructs_lib.records import Condition
from constructs_lib.routes import (
    BoundRoute,
    Capability,
    DestinationOptions,
    QueueRoute,
    Route,
    RouteSide,
    RuleTargetOptions,
    render_rule_target,
)

MIN_EVENT_AGE_SECONDS = 60
MAX_EVENT_AGE_SECONDS = 6 * 3600
MAX_ASYNC_RETRY_ATTEMPTS = 2
MIN_RECORD_AGE_SECONDS = 60
MAX_RECORD_AGE_SECONDS = 7 * 24 * 3600
MAX_STREAM_RETRY_ATTEMPTS = 10_000


@dataclass(frozen=True)
class AsyncAlarmOptions:
    """Alarms of a DestinedFunction. All on by default; each threshold tunable; ``enabled=False`` turns all off."""

    enabled: bool = True
    events_dropped_threshold: float = 1
    """AsyncEventsDropped (Sum per period) at or above this."""
    event_age_threshold: Duration | None = None
    """AsyncEventAge (Maximum) at or above this. :default: half the maximum event age, so you hear of a backlog
    before events expire."""
    delivery_failures_threshold: float = 1
    """DestinationDeliveryFailures (Sum per period) at or above this."""
    failure_queue_depth_threshold: float = 1
    """Visible messages on an on-failure queue (Maximum per period) at or above this."""
    period: Duration | None = None
    """The period of every alarm's metric. :default: 5 minutes."""
    evaluation_periods: int = 1
    """Periods that must breach before ALARM. :default: 1."""
    actions: Sequence[cloudwatch.IAlarmAction] = ()
    """Actions on ALARM for every alarm, e.g. ``cloudwatch_actions.SnsAction(topic)``."""

    def check_values(self, problems: Problems, where: str) -> None:
        """Add a problem for a setting CloudWatch refuses (called with the construct's props)."""
        check_alarm_settings(self, problems, where)
        age = self.event_age_threshold
        if age is not None and age.is_unresolved():
            try:
                age.to_milliseconds()
            except RuntimeError:  # jsii: a token duration converts only to the unit it was given in
                problems.add(
                    f"{where}.event_age_threshold is a token in another unit than milliseconds, the unit of "
                    "AsyncEventAge, and CloudFormation cannot convert it: give Duration.millis(token)"
                )


@dataclass(frozen=True)
class StreamFailureOptions:
    """How a Kinesis or DynamoDB stream event source handles a failing batch.

    Defaults favour "never block the shard, never lose a record": bisect the batch, retry twice, report batch item
    failures, and send what still fails to the on-failure route.
    """

    bisect_batch_on_error: bool = True
    retry_attempts: int = 2
    max_record_age: Duration = field(default_factory=lambda: Duration.hours(24))
    report_batch_item_failures: bool = True
    batch_size: int | None = None
    starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON
    parallelization_factor: int | None = None


def _in_another_stack(function: lambda_.IFunction, construct: Construct) -> bool:
    """Whether a function made in this app sits in another stack than ``construct`` (an imported one is where it
    is imported)."""
    return Stack.of(function) is not Stack.of(construct)


class DestinedFunction(Construct):
    """A Lambda function whose asynchronous results go to routes (Lambda Destinations).

    Give an existing function (``function=``) or props to make one (``function_props=``), never both.
    """

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction | None = None,
        function_props: lambda_.FunctionProps | None = None,
        on_success: Route | None = None,
        on_failure: Route | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
        alarms: AsyncAlarmOptions | None = None,
        retries: Sequence[RetryRule] = (),
        steps: Sequence[Step] | None = None,
    ) -> None:
        """
        :param function: an existing function, alias or version to wire.
        :param function_props: props of the function to make. :default: - none; one of function/function_props
            is required. The made function gets X-Ray tracing, its own log group (one month) and a role that can
            write only to that log group.
        :param on_success: where successful results go. :default: - nowhere (the result is discarded).
        :param on_failure: where failed invocations go. :default: - a new encrypted SQS queue (with its own DLQ),
            so that no failed event is lost.
        :param retry_attempts: retries of a failed asynchronous invocation, 0 to 2. :default: 2 (as AWS).
        :param max_event_age: how long an event may wait, 60 s to 6 h. :default: 6 hours (as AWS).
        :param alarms: alarm settings. :default: - all alarms on with the defaults of ``AsyncAlarmOptions``.
        :param retries: not supported by Lambda Destinations (accepted so that switching to ``FunctionWorkflow`` is a
            one-line change): giving any fails at synth and says why.
        :param steps: not supported by Lambda Destinations either (choice, parallel, map): giving any fails at
            synth and names ``FunctionWorkflow``.
        """
        super().__init__(scope, construct_id)
        on_failure = on_failure if on_failure is not None else QueueRoute()
        alarm_options = alarms or AsyncAlarmOptions()
        self._alarm_options = alarm_options
        problems = Problems()
        self._reject_orchestrator_only(retries, steps, problems)
        self._validate(function, function_props, on_success, on_failure, retry_attempts, max_event_age, problems)
        problems.raise_if_any(self)

        self.log_group: logs.ILogGroup | None = None
        if function is None:
            assert function_props is not None
            made, self.log_group = secure_function(self, "Function", function_props=function_props)
            function = made
        self.function: lambda_.IFunction = function
        self.max_event_age = max_event_age if max_event_age is not None else Duration.hours(6)
        self._max_event_age_seconds: float | None = (
            float(MAX_EVENT_AGE_SECONDS) if max_event_age is None else duration_seconds(max_event_age)
        )
        self.retry_attempts = retry_attempts if retry_attempts is not None else MAX_ASYNC_RETRY_ATTEMPTS

        self.rules: list[events.Rule] = []
        self._stream_source_count = 0
        self.stream_failure_routes: list[BoundRoute] = []
        self.rule_dead_letter_queues: list[sqs.IQueue] = []
        self.success_route: BoundRoute | None = None
        self.failure_route: BoundRoute = on_failure.bind(self, "OnFailure")
        if on_success is not None:
            self.success_route = on_success.bind(self, "OnSuccess")

        self.function.configure_async_invoke(
            on_success=self._destination(self.success_route, RouteSide.SUCCESS),
            on_failure=self._destination(self.failure_route, RouteSide.FAILURE),
            retry_attempts=self.retry_attempts,
            max_event_age=self.max_event_age,
        )

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        """Every alarm of this construct by name, the alarms of the queues it made included."""
        if alarm_options.enabled:
            self._create_alarms(alarm_options)
        self._claim_queue_alarms()

    # ------------------------------------------------------------------------------------------------ validation

    @staticmethod
    def _reject_orchestrator_only(
        retries: Sequence[RetryRule], steps: Sequence[Step] | None, problems: Problems
    ) -> None:
        """What only an orchestrator does fails here, with the reason and the construct that does it."""
        if retries:
            problems.add(
                "retries: Lambda retries a failed asynchronous invocation itself, at most twice, about one and two "
                "minutes apart, whatever the error; it cannot retry per error name or with an interval, backoff "
                "rate, max delay or jitter. Use FunctionWorkflow (Step Functions) with the same retries=, or set "
                "retry_attempts= here"
            )
        for step in steps or ():
            problems.add(
                f"steps: Lambda Destinations run one function and pass its result on; {step.needs} "
                f"({step.name!r}) needs an orchestrator. Use FunctionWorkflow (Step Functions) with the same steps= "
                "and routes"
            )

    def _validate(  # noqa: PLR0917 - private, mirrors the constructor's props
        self,
        function: lambda_.IFunction | None,
        function_props: lambda_.FunctionProps | None,
        on_success: Route | None,
        on_failure: Route,
        retry_attempts: int | None,
        max_event_age: Duration | None,
        problems: Problems,
    ) -> None:
        if function is not None and function_props is not None:
            problems.add("give either function= (an existing function) or function_props= (to make one), not both")
        if function is None and function_props is None:
            problems.add("give function= (an existing function) or function_props= (to make one)")
        if function is not None and _in_another_stack(function, self):
            problems.add(
                f"function is in another stack ({Stack.of(function).node.path}): its asynchronous invocation "
                "configuration and the grants to reach its routes belong to the function's stack, and making them "
                "here makes the stacks depend on each other (a cycle). Make this DestinedFunction in the function's "
                "stack, or give function_props= to make the function here"
            )
        if function is not None and function.node.try_find_child("EventInvokeConfig") is not None:
            problems.add(
                "function already has an asynchronous invocation configuration (another DestinedFunction, or "
                "configure_async_invoke): Lambda takes one per function, version or alias. Route every result from "
                "one DestinedFunction (add_result_rule for more targets), or give each DestinedFunction its own "
                "alias (function.add_alias(...))"
            )
        if function is not None and function.role is None:
            problems.add(
                "the function has no execution role in this app (imported with from_function_arn?), so the "
                "permissions to reach its destinations cannot be granted: import it with "
                "lambda_.Function.from_function_attributes(..., role=iam.Role.from_role_arn(...), "
                "same_environment=True)"
            )
        given = struct_values(function_props)
        if given.get("durable_config") is not None:
            problems.add(
                "function_props.durable_config is set: a durable function must be invoked through a version or an "
                "alias, and its role must checkpoint its executions, while Lambda Destinations configure the "
                "unqualified function and grant neither. Use DurableFunction (the durable engine) with the same "
                "function_props (without durable_config: its execution_timeout= and retention_period=) and routes"
            )
        for option in ASYNC_OPTIONS:
            if given.get(option) is not None:
                problems.add(
                    f"function_props.{option} is set: set {option}= on DestinedFunction instead, which validates it "
                    "and wires routes, alarms and grants"
                )
        if (
            retry_attempts is not None
            and not is_unresolved(retry_attempts)
            and (not isinstance(retry_attempts, int) or not 0 <= retry_attempts <= MAX_ASYNC_RETRY_ATTEMPTS)
        ):
            problems.add(
                f"retry_attempts must be 0, 1 or 2 for asynchronous invocation, got {retry_attempts!r}; "
                "for more retries, or retries with a backoff rate, use Step Functions (FunctionWorkflow)"
            )
        if max_event_age is not None:
            seconds = whole_seconds(max_event_age, problems, "max_event_age")
            if seconds is not None and not MIN_EVENT_AGE_SECONDS <= seconds <= MAX_EVENT_AGE_SECONDS:
                problems.add(
                    f"max_event_age must be between 60 seconds and 6 hours, got {describe_duration(seconds)}; "
                    "use Duration.seconds(60) .. Duration.hours(6)"
                )
        for side, route in ((RouteSide.SUCCESS, on_success), (RouteSide.FAILURE, on_failure)):
            if route is None:
                continue
            route.require(side, Capability.DESTINATION, problems, where=side.value)
            if route.record_message() is not None:  # reached through the default bus and a rule
                route.check(Capability.RULE_TARGET, problems, where=side.value)

    # ------------------------------------------------------------------------------------------------ wiring

    def _destination(self, bound: BoundRoute | None, side: RouteSide) -> lambda_.IDestination | None:
        if bound is None:
            return None
        message = bound.route.record_message()
        if message is not None:
            return self._through_default_bus(bound, side, message)
        return bound.route.lambda_destination(self, bound, DestinationOptions(function=self.function))

    def _through_default_bus(
        self, bound: BoundRoute, side: RouteSide, message: events.RuleTargetInput
    ) -> lambda_.IDestination:
        """A route that takes part of the record (``record_message``) gets it through the default bus and a rule
        that matches this function's records for every version and alias (aws-cdk-lib's own rule, for a
        response-only ``LambdaDestination``, matches ``$LATEST`` only)."""
        name = "OnSuccess" if side is RouteSide.SUCCESS else "OnFailure"
        conditions = (
            [Condition.SUCCESS]
            if side is RouteSide.SUCCESS
            else [Condition.RETRIES_EXHAUSTED, Condition.EVENT_AGE_EXCEEDED]
        )
        default_bus = events.EventBus.from_event_bus_name(self, f"{name}DefaultBus", "default")
        target, dlq = render_rule_target(self, f"{name}ResponseOnly", bound, RuleTargetOptions(message=message))
        rule = events.Rule(
            self,
            f"{name}ResponseOnlyRule",
            description=f"{self.node.path}: pass only the response payload on",
            event_bus=default_bus,
            event_pattern=destination_event_pattern(function=self.function, conditions=conditions),
            targets=[target],
        )
        self.rules.append(rule)
        self.rule_dead_letter_queues.append(dlq)
        return destinations.EventBridgeDestination(default_bus)

    @checked_props
    def add_result_rule(
        self,
        rule_id: str,
        *,
        route: Route,
        conditions: Sequence[Condition] | None = None,
        error_types: Sequence[str] | None = None,
        response: Mapping[str, Any] | None = None,
        message: events.RuleTargetInput | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
    ) -> events.Rule:
        """Route records that match to ``route`` with an EventBridge rule on this function's event bus route.

        The records' side (success or failure) must go to an ``EventBusRoute``. The rule target gets a DLQ and a
        retry policy (8 attempts, 4 hours unless given). ``FunctionWorkflow.add_result_rule`` takes the same
        arguments, so switching engines does not change the rule.

        :param conditions: which records. :default: - Success, or both failure conditions when ``error_types`` is set.
        :param response: fields of ``responsePayload`` to match (see ``result_event_pattern``).
        :param message: what the target receives. :default: - the whole event (``detail`` is the record); only
            ``responsePayload`` for a ``FunctionRoute(..., response_only=True)``.
        """
        rule = add_result_rule(
            self,
            rule_id,
            ResultRuleRequest(route, conditions, error_types, response, message, retry_attempts, max_event_age),
            sent=(Condition.SUCCESS, Condition.RETRIES_EXHAUSTED, Condition.EVENT_AGE_EXCEEDED),
        )
        self._claim_queue_alarms()
        return rule

    def result_event_pattern(
        self,
        *,
        conditions: Sequence[Condition] | None = None,
        error_types: Sequence[str] | None = None,
        response: Mapping[str, Any] | None = None,
    ) -> events.EventPattern:
        """The event pattern of this function's records on an event bus (source ``lambda``, whichever version or
        alias ran), for a rule of your own; ``FunctionWorkflow.result_event_pattern`` is the same call for a
        workflow's records. Arguments as ``result_event_pattern``'s."""
        return result_event_pattern(
            function=self.function, conditions=conditions, error_types=error_types, response=response
        )

    @checked_props
    def add_stream_source(
        self,
        source: kinesis.IStream | dynamodb.ITable | sqs.IQueue,
        *,
        on_failure: Route | None = None,
        options: StreamFailureOptions | None = None,
    ) -> lambda_.IEventSource:
        """Read a Kinesis stream, a DynamoDB table's stream, or an SQS queue.

        Stream sources send batches that still fail to ``on_failure`` (SQS, SNS or S3).
        :default on_failure: - a new encrypted SQS queue. SQS sources take no on-failure route: failed messages go
        to the source queue's own redrive DLQ, and batch item failures are reported.
        """
        opts = options or StreamFailureOptions()
        problems = Problems()
        is_queue = hasattr(source, "queue_arn")
        if is_queue:
            if on_failure is not None:
                problems.add(
                    "an SQS event source has no on-failure destination: failed messages go to the source queue's "
                    "redrive dead-letter queue. Set dead_letter_queue=sqs.DeadLetterQueue(...) on the source queue "
                    "and drop on_failure"
                )
            problems.raise_if_any(self)
            queue_source = event_sources.SqsEventSource(
                source,  # type: ignore[arg-type]
                batch_size=opts.batch_size,
                report_batch_item_failures=opts.report_batch_item_failures,
            )
            self.function.add_event_source(queue_source)
            return queue_source

        failure = on_failure if on_failure is not None else QueueRoute()
        failure.validate(RouteSide.FAILURE, problems, where="on_failure")
        failure.check(Capability.STREAM_FAILURE, problems, where="on_failure of a stream source")
        if not is_unresolved(opts.retry_attempts) and not -1 <= opts.retry_attempts <= MAX_STREAM_RETRY_ATTEMPTS:
            problems.add(
                "options.retry_attempts must be -1 (forever) or 0..10000 for a stream source, "
                f"got {opts.retry_attempts}"
            )
        record_age = whole_seconds(opts.max_record_age, problems, "options.max_record_age")
        if record_age is not None and not MIN_RECORD_AGE_SECONDS <= record_age <= MAX_RECORD_AGE_SECONDS:
            problems.add(
                f"options.max_record_age must be between 60 seconds and 7 days, got {describe_duration(record_age)}"
            )
        is_table = hasattr(source, "table_name")
        if is_table and getattr(source, "table_stream_arn", None) is None:
            problems.add(
                "the DynamoDB table has no stream: make it with stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES "
                "(or import it with table_stream_arn=)"
            )
        problems.raise_if_any(self)

        self._stream_source_count += 1  # construct IDs follow the order of add_stream_source calls
        name = f"StreamSource{self._stream_source_count}"
        bound = failure.bind(self, f"{name}OnFailure")
        self.stream_failure_routes.append(bound)
        if self._alarm_options.enabled and bound.queue is not None:
            period = period_options(self._alarm_options.period)
            self._add_alarm(
                self._alarm_options,
                self.node.path,
                f"{name}FailureQueueMessages",
                bound.queue.metric_approximate_number_of_messages_visible(statistic="Maximum", **period),
                self._alarm_options.failure_queue_depth_threshold,
                "failed stream batches are waiting in the on-failure queue",
            )
        common: dict[str, Any] = {
            "starting_position": opts.starting_position,
            "batch_size": opts.batch_size,
            "bisect_batch_on_error": opts.bisect_batch_on_error,
            "retry_attempts": opts.retry_attempts,
            "max_record_age": opts.max_record_age,
            "report_batch_item_failures": opts.report_batch_item_failures,
            "parallelization_factor": opts.parallelization_factor,
            "on_failure": failure.stream_failure_destination(self, bound, DestinationOptions(function=self.function)),
        }
        stream_source: lambda_.IEventSource
        if is_table:
            stream_source = event_sources.DynamoEventSource(source, **common)  # type: ignore[arg-type]
        else:
            stream_source = event_sources.KinesisEventSource(source, **common)  # type: ignore[arg-type]
        self.function.add_event_source(stream_source)
        self._claim_queue_alarms()
        return stream_source

    # ------------------------------------------------------------------------------------------------ alarms

    def _create_alarms(self, options: AsyncAlarmOptions) -> None:
        path = self.node.path
        period = period_options(options.period)
        age_ms: float
        if options.event_age_threshold is not None:
            threshold_seconds = duration_seconds(options.event_age_threshold)
            # AsyncEventAge is in milliseconds: a token threshold given in milliseconds is the alarm's threshold
            # as it is (AsyncAlarmOptions.check_values refuses a token in another unit).
            age_ms = (
                threshold_seconds * 1000
                if threshold_seconds is not None
                else options.event_age_threshold.to_milliseconds()
            )
        else:  # half the maximum event age, computed without another round trip to jsii
            age_ms = (self._max_event_age_seconds or float(MAX_EVENT_AGE_SECONDS)) * 1000 / 2
        specs: list[tuple[str, cloudwatch.IMetric, float, str]] = [
            (
                "AsyncEventsDropped",
                self.metric_async_events_dropped(**period),
                options.events_dropped_threshold,
                "asynchronous events were dropped without reaching a destination",
            ),
            (
                "AsyncEventAge",
                self.metric_async_event_age(**period),
                age_ms,
                "events wait too long before they run (throttling or errors): they may expire",
            ),
            (
                "DestinationDeliveryFailures",
                self.metric_destination_delivery_failures(**period),
                options.delivery_failures_threshold,
                "results could not be delivered to their destination (permissions, quota or a deleted target)",
            ),
        ]
        if self.failure_route.queue is not None:
            specs.append(
                (
                    "FailureQueueMessages",
                    self.failure_route.queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", **period
                    ),
                    options.failure_queue_depth_threshold,
                    "failed invocations are waiting in the on-failure queue",
                )
            )
        for name, metric, threshold, why in specs:
            self._add_alarm(options, path, name, metric, threshold, why)

    def _claim_queue_alarms(self) -> None:
        """The alarms of the queues made so far (failure queues, their DLQs, rule targets' DLQs) get this
        construct's alarm actions, or are removed when its alarms are off."""
        options = self._alarm_options
        claim_queue_alarms(self, self.alarms, enabled=options.enabled, actions=options.actions)

    def _add_alarm(  # noqa: PLR0917 - private
        self, options: AsyncAlarmOptions, path: str, name: str, metric: cloudwatch.IMetric, threshold: float, why: str
    ) -> None:
        add_alarm(
            self,
            self.alarms,
            name,
            metric=metric,
            threshold=threshold,
            why=why,
            path=path,
            evaluation_periods=options.evaluation_periods,
            actions=options.actions,
        )

    # ------------------------------------------------------------------------------------------------ metrics

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
        """Any AWS/Lambda metric of the function (FunctionName; Resource too for an alias): Average over 5 minutes."""
        return self.function.metric(metric_name, **metric_options(locals()))

    def metric_invocations(
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
        """Invocations of the function, synchronous and asynchronous (``Invocations``): Sum over 5 minutes."""
        return self.function.metric_invocations(**metric_options(locals()))

    def metric_errors(
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
        """Invocations that ended in a function error (``Errors``): Sum over 5 minutes."""
        return self.function.metric_errors(**metric_options(locals()))

    def metric_async_events_received(
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
        """Events queued for asynchronous invocation (``AsyncEventsReceived``): Sum over 5 minutes."""
        return self.function.metric("AsyncEventsReceived", **metric_options(locals(), statistic="Sum"))

    def metric_async_event_age(
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
        """Time from queueing to invocation, in milliseconds (``AsyncEventAge``): Maximum over 5 minutes."""
        return self.function.metric("AsyncEventAge", **metric_options(locals(), statistic="Maximum"))

    def metric_async_events_dropped(
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
        """Events dropped without reaching a destination (``AsyncEventsDropped``): Sum over 5 minutes."""
        return self.function.metric("AsyncEventsDropped", **metric_options(locals(), statistic="Sum"))

    def metric_destination_delivery_failures(
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
        """Results not delivered to their destination (``DestinationDeliveryFailures``): Sum over 5 minutes."""
        return self.function.metric("DestinationDeliveryFailures", **metric_options(locals(), statistic="Sum"))

    # ------------------------------------------------------------------------------------------------ grants

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the function (``lambda:InvokeFunction``)."""
        return self.function.grant_invoke(grantee)


__all__ = ["AsyncAlarmOptions", "ConstructPropsError", "DestinedFunction", "StreamFailureOptions"]
