"""DurableFunction: a Lambda durable function whose results go to the same routes as the other engines."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, Duration, ILocalBundling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.alarms import add_alarm, check_alarm_settings, claim_queue_alarms, period_options
from constructs_lib._internal.assets import ASSET_EXCLUDES, LIBRARY_RUNTIME
from constructs_lib._internal.metrics import metric_options
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.result_rules import ResultRuleRequest, add_result_rule
from constructs_lib._internal.validation import ConstructPropsError, Problems, describe_duration, whole_seconds
from constructs_lib.defaults import ASYNC_OPTIONS, secure_function, secure_queue, struct_values
from constructs_lib.engines._durable_status import DurableStatusRecords
from constructs_lib.engines.steps import RetryRule, Step
from constructs_lib.events.patterns import result_event_pattern
from constructs_lib.records import Condition
from constructs_lib.routes import (
    BoundRoute,
    Capability,
    DurableDeliveryOptions,
    QueueRoute,
    Route,
    RouteSide,
)

MAX_EXECUTION_TIMEOUT_SECONDS = 366 * 24 * 3600
"""A durable execution may run up to one year (31,622,400 s: 366 days)."""
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 90
DEFAULT_EXECUTION_TIMEOUT = Duration.days(1)
DEFAULT_RETENTION_DAYS = 14
DURABLE_RUNTIMES = ("python3.13", "python3.14")
"""The Python runtimes AWS runs durable functions on (newer ``python3.N`` are accepted too)."""
ENV_ON_SUCCESS = "DURABLE_ROUTES_ON_SUCCESS"
ENV_ON_FAILURE = "DURABLE_ROUTES_ON_FAILURE"
SDK_DISTRIBUTION = "aws-durable-execution-sdk-python"
SDK_PACKAGE = "aws_durable_execution_sdk_python"
SDK_MAJOR = 3
CHECKPOINT_ACTIONS = ("lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState")
ALIAS_NAME = "live"
DURABLE_CONDITIONS = (Condition.SUCCESS, Condition.RETRIES_EXHAUSTED, Condition.TIMED_OUT, Condition.ABORTED)
"""The conditions of a durable function's records: its code sends ``Success`` and ``RetriesExhausted`` (an
execution starts at once: no event age); its status-change events ``TimedOut`` and ``Aborted`` (stopped)."""


@dataclass(frozen=True)
class DurableAlarmOptions:
    """Alarms of a DurableFunction: executions that failed, timed out or were stopped, the account's running
    executions near their quota, and events in the DLQ. All on by default; ``enabled=False`` turns all off."""

    enabled: bool = True
    threshold: float = 1
    """Failed, timed-out or stopped executions (Sum per period) at or above this. :default: 1."""
    running_utilization_threshold: float = 80
    """ApproximateRunningDurableExecutionsUtilization (Maximum, percent of the account's quota). :default: 80."""
    period: Duration | None = None
    """:default: 5 minutes."""
    evaluation_periods: int = 1
    actions: Sequence[cloudwatch.IAlarmAction] = ()
    """Actions on ALARM for every alarm, e.g. ``cloudwatch_actions.SnsAction(topic)``."""

    def check_values(self, problems: Problems, where: str) -> None:
        """Add a problem for a setting CloudWatch refuses (called with the construct's props)."""
        check_alarm_settings(self, problems, where)


SYNCHRONOUS_LIMIT_SECONDS = 15 * 60
"""The longest durable execution a synchronous invoke (an event source mapping's included) may wait for."""


class DurableFunction(Construct):
    """A Lambda durable function (checkpointed steps, waits, retries in Python) whose results go to routes.

    The handler is decorated with ``durable_routes.routed_durable_execution`` (shipped in a layer with AWS's durable
    execution SDK): it delivers the same execution record as ``DestinedFunction`` and ``FunctionWorkflow`` to
    ``on_success`` / ``on_failure`` inside a durable step. An execution that times out or is stopped never runs the
    function's code again: a rule on its ``Durable Execution Status Change`` event invokes a small function of the
    library (``status_records``) that delivers its record (condition ``TimedOut`` / ``Aborted``, the input read with
    ``GetDurableExecution``) to ``on_failure``. Callers invoke the alias (``self.alias``): durable executions need a
    qualified ARN.
    """

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_props: lambda_.FunctionProps | None = None,
        function: lambda_.IFunction | None = None,
        on_success: Route | None = None,
        on_failure: Route | None = None,
        execution_timeout: Duration | None = None,
        retention_period: Duration | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        alarms: DurableAlarmOptions | None = None,
        retry_attempts: int | None = None,
        retries: Sequence[RetryRule] = (),
        steps: Sequence[Step] | None = None,
    ) -> None:
        """
        :param function_props: props of the durable function to make (Python 3.13 or newer; the handler decorated
            with ``routed_durable_execution``). :default: - none: give it. The made function gets X-Ray tracing,
            its own log group (one month), a role that can write only to that log group and checkpoint only its
            own executions, and the durable runtime layer.
        :param function: not supported: durable execution can only be enabled when a function is created; giving
            one fails at synth and says why (accepted so that switching from ``DestinedFunction`` is a one-line
            change).
        :param on_success: where successful results go. :default: - nowhere (the result is discarded).
        :param on_failure: where failed executions go. :default: - a new encrypted SQS queue (with its own DLQ).
        :param execution_timeout: how long one durable execution may run, waits included, 1 s to 366 days.
            :default: 1 day
        :param retention_period: how long a finished execution's history is kept, 1 to 90 whole days.
            :default: 14 days
        :param dead_letter_queue: where Lambda sends the event of an asynchronously invoked execution that failed,
            timed out or was stopped. :default: - a new SSE-SQS encrypted, TLS-only queue
        :param alarms: alarm settings. :default: - all alarms on with the defaults of ``DurableAlarmOptions``.
        :param retry_attempts: AWS does not retry a durable execution (its steps retry): only 0 is accepted.
            :default: 0
        :param retries: not supported: a durable function retries inside, per step (``StepConfig`` with a
            ``retry_strategy``); giving any fails at synth and says how.
        :param steps: not supported: the orchestration is Python in the function (``context.parallel``,
            ``context.map``...); giving any fails at synth and says how.
        """
        super().__init__(scope, construct_id)
        on_failure = on_failure if on_failure is not None else QueueRoute()
        alarm_options = alarms or DurableAlarmOptions()
        self._alarm_options = alarm_options
        problems = Problems()
        _refuse(function, retry_attempts, retries, steps, problems)
        timeout_seconds, retention_days = _check_durable(function_props, execution_timeout, retention_period, problems)
        for side, route in ((RouteSide.SUCCESS, on_success), (RouteSide.FAILURE, on_failure)):
            if route is not None:
                route.require(side, Capability.DURABLE, problems, where=side.value)
        problems.raise_if_any(self)
        assert function_props is not None

        self.execution_timeout = execution_timeout or DEFAULT_EXECUTION_TIMEOUT
        self.retention_period = retention_period or Duration.days(DEFAULT_RETENTION_DAYS)
        if dead_letter_queue is None:
            dead_letter_queue, _ = secure_queue(
                self,
                "DeadLetterQueue",
                dead_letter_for=f"the durable function {self.node.path}",
                nag_sees_the_use=True,  # cdk-nag's SQS3 recognises a function's DeadLetterConfig
            )
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue
        self.runtime_layer = durable_runtime_layer(self, "RuntimeLayer")

        user = struct_values(function_props)
        merged: dict[str, Any] = {
            **user,
            "durable_config": lambda_.DurableConfig(
                execution_timeout=self.execution_timeout, retention_period=self.retention_period
            ),
            "layers": [self.runtime_layer, *(user.get("layers") or [])],
            "dead_letter_queue": self.dead_letter_queue,
        }
        made, self.log_group = secure_function(self, "Function", function_props=lambda_.FunctionProps(**merged))
        self.function: lambda_.Function = made
        # aws-cdk-lib notes that turning durability on for an existing function replaces it; this function is
        # created durable and never changes, so the note would only be noise on every synth.
        Annotations.of(made).acknowledge_info(
            "aws-lambda:Function.DurableConfig", "DurableFunction creates its function with durability on"
        )
        checkpoints = self._grant_checkpoints()
        self.version: lambda_.Version = made.current_version
        self.alias = lambda_.Alias(self, "Alias", alias_name=ALIAS_NAME, version=self.version)
        """What callers invoke: a durable execution needs a qualified ARN (a version or an alias)."""
        # Nothing may invoke the alias (a subscription, a permission, a caller's grant) before the role may
        # checkpoint: an execution started in between would fail with AccessDenied on the first deploy.
        self.alias.node.add_dependency(checkpoints)
        # Lambda does not retry a durable execution; without this an async invoke config would retry twice.
        self.alias.configure_async_invoke(retry_attempts=0)

        self.success_route: BoundRoute | None = None
        self.failure_route: BoundRoute = on_failure.bind(self, "OnFailure")
        if on_success is not None:
            self.success_route = on_success.bind(self, "OnSuccess")
        for bound, variable in ((self.success_route, ENV_ON_SUCCESS), (self.failure_route, ENV_ON_FAILURE)):
            if bound is not None:
                delivery = bound.route.durable_delivery(self, bound, DurableDeliveryOptions(function=self.function))
                made.add_environment(variable, delivery.to_json(self))
        # Lambda ends a timed-out or stopped execution without running its code: its status-change event does.
        self.status_records = DurableStatusRecords(
            self,
            "StatusFailures",
            durable_function=made,
            runtime=made.runtime,
            layer=self.runtime_layer,
            failure_route=self.failure_route,
            failure_variable=ENV_ON_FAILURE,
        )
        """The rule on this function's TIMED_OUT and STOPPED status changes and the function that delivers their
        failure records (condition ``TimedOut`` / ``Aborted``) to ``on_failure``."""

        self.rules: list[events.Rule] = []
        """The rules ``add_result_rule`` made, in order."""
        self.rule_dead_letter_queues: list[sqs.IQueue] = []
        """The dead-letter queues of those rules' targets."""
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        """Every alarm of this construct by name, the alarms of the queues it made included."""
        if alarm_options.enabled:
            self._create_alarms(alarm_options)
        claim_queue_alarms(self, self.alarms, enabled=alarm_options.enabled, actions=alarm_options.actions)
        self._timeout_seconds = timeout_seconds
        self._retention_days = retention_days

    def _grant_checkpoints(self) -> iam.Policy:
        """The function checkpoints its own executions only (``ARN:*``: they are named by the qualified ARN). In a
        policy of its own: the function's default policy cannot name the function (the function depends on it)."""
        policy = iam.Policy(
            self,
            "CheckpointPolicy",
            statements=[
                iam.PolicyStatement(actions=list(CHECKPOINT_ACTIONS), resources=[f"{self.function.function_arn}:*"])
            ],
        )
        role = self.function.role
        assert role is not None  # secure_function made it, or the user gave one
        policy.attach_to_role(role)
        nag.durable_checkpoint_grant(policy, self.function.function_arn)
        return policy

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """Have ``source`` invoke the alias (a durable execution needs a qualified ARN): the same call as
        ``lambda_.Function.add_event_source``, e.g. ``SnsEventSource(topic, dead_letter_queue=queue)`` (SNS invokes
        asynchronously: each message starts one durable execution).

        An event source mapping (SQS, Kinesis, DynamoDB Streams, Kafka) invokes synchronously and waits for the whole
        durable execution, which may then last 15 minutes at most
        (https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking-esm.html): with a longer
        ``execution_timeout`` it is refused, since a longer wait or retry would time out and be retried by the
        mapping, its steps' effects repeated."""
        seconds = None if self.execution_timeout.is_unresolved() else self.execution_timeout.to_seconds()
        synchronous = isinstance(source, lambda_event_sources.SqsEventSource | lambda_event_sources.StreamEventSource)
        if synchronous and seconds is not None and seconds > SYNCHRONOUS_LIMIT_SECONDS:
            problems = Problems()
            problems.add(
                f"add_event_source({type(source).__name__}): an event source mapping invokes a durable function "
                "synchronously and its whole execution may last 15 minutes at most, but execution_timeout is "
                f"{describe_duration(seconds)}; set execution_timeout=Duration.minutes(15) or less on this "
                "DurableFunction, or start the executions asynchronously (SNS, EventBridge, an invoke with "
                "InvocationType Event)"
            )
            problems.raise_if_any(self)
        before = {child.node.id for child in self.alias.node.children}
        self.alias.add_event_source(source)
        for child in self.alias.node.children:
            if child.node.id not in before and isinstance(child, sns.Subscription):
                nag.alias_subscription(child)

    # ------------------------------------------------------------------------------------------------ result rules

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
        """Route records that match to ``route`` with an EventBridge rule on this function's event bus route: the
        same call, with the same meaning, as ``DestinedFunction.add_result_rule`` and
        ``FunctionWorkflow.add_result_rule``, so switching engines does not change the rule.

        The records' side (success or failure) must go to an ``EventBusRoute``. The rule target gets a DLQ and a
        retry policy (8 attempts, 4 hours unless given). A durable function sends ``Success`` and
        ``RetriesExhausted`` records, and ``TimedOut`` / ``Aborted`` for executions that timed out or were stopped
        (never ``EventAgeExceeded``); a rule that asks only for conditions it never sends is refused.

        :param conditions: which records. :default: - Success, or the failure conditions when ``error_types`` is
            set.
        :param error_types: only failures whose ``responsePayload.errorType`` is one of these (the class name of
            the function's own exception, also when it escaped a step). :default: - any.
        :param response: fields of ``responsePayload`` (what the function returned) to match (see
            ``result_event_pattern``). :default: - any.
        :param message: what the target receives. :default: - the whole event (``detail`` is the record); only
            ``responsePayload`` for a ``FunctionRoute(..., response_only=True)``.
        :param retry_attempts: the target's retry attempts, 0..185. :default: 8.
        :param max_event_age: how long EventBridge retries the target, 60 s..24 h. :default: 4 hours.
        """
        rule = add_result_rule(
            self,
            rule_id,
            ResultRuleRequest(route, conditions, error_types, response, message, retry_attempts, max_event_age),
            sent=DURABLE_CONDITIONS,
        )
        return rule

    def result_event_pattern(
        self,
        *,
        conditions: Sequence[Condition] | None = None,
        error_types: Sequence[str] | None = None,
        response: Mapping[str, Any] | None = None,
    ) -> events.EventPattern:
        """The event pattern of this function's records on an event bus (source ``constructs-lib.durable``, the
        function's ARN qualified with the version that ran as ``requestContext.functionArn``), for a rule of your
        own; the same call as ``DestinedFunction.result_event_pattern``. Arguments as ``result_event_pattern``'s."""
        return result_event_pattern(
            function=self.function, conditions=conditions, error_types=error_types, response=response
        )

    # ------------------------------------------------------------------------------------------------ alarms

    def _create_alarms(self, options: DurableAlarmOptions) -> None:
        period = period_options(options.period)
        specs: list[tuple[str, cloudwatch.IMetric, float, str]] = [
            ("DurableExecutionFailed", self.metric_executions_failed(**period), options.threshold,
             "durable executions failed"),
            ("DurableExecutionTimedOut", self.metric_executions_timed_out(**period), options.threshold,
             "durable executions ran past their execution timeout"),
            ("DurableExecutionStopped", self.metric_executions_stopped(**period), options.threshold,
             "durable executions were stopped (StopDurableExecution)"),
            ("RunningUtilization", self.metric_running_utilization(**period), options.running_utilization_threshold,
             "running durable executions near the account's quota: new ones will be throttled"),
        ]  # fmt: skip
        for name, metric, threshold, why in specs:
            add_alarm(
                self,
                self.alarms,
                name,
                metric=metric,
                threshold=threshold,
                why=why,
                path=self.node.path,
                evaluation_periods=options.evaluation_periods,
                actions=options.actions,
            )

    # ------------------------------------------------------------------------------------------------ metrics

    def metric(self, metric_name: str, **options: Any) -> cloudwatch.Metric:
        """Any AWS/Lambda metric of the function (FunctionName): Average over 5 minutes."""
        return self.function.metric(metric_name, **metric_options(options))

    def metric_executions_failed(self, **options: Any) -> cloudwatch.Metric:
        """Durable executions that ended FAILED (``DurableExecutionFailed``): Sum over 5 minutes."""
        return self.function.metric("DurableExecutionFailed", **metric_options(options, statistic="Sum"))

    def metric_executions_timed_out(self, **options: Any) -> cloudwatch.Metric:
        """Durable executions that ran past their timeout (``DurableExecutionTimedOut``): Sum over 5 minutes."""
        return self.function.metric("DurableExecutionTimedOut", **metric_options(options, statistic="Sum"))

    def metric_executions_stopped(self, **options: Any) -> cloudwatch.Metric:
        """Durable executions stopped with StopDurableExecution (``DurableExecutionStopped``): Sum over 5 minutes."""
        return self.function.metric("DurableExecutionStopped", **metric_options(options, statistic="Sum"))

    def metric_running_utilization(self, **options: Any) -> cloudwatch.Metric:
        """Running durable executions as a percentage of the account's quota
        (``ApproximateRunningDurableExecutionsUtilization``, account-wide): Maximum over 5 minutes."""
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="ApproximateRunningDurableExecutionsUtilization",
            **metric_options(options, statistic="Maximum"),
        )

    # ------------------------------------------------------------------------------------------------ grants

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions: ``lambda:InvokeFunction`` on the alias (a durable execution needs a
        qualified ARN)."""
        return self.alias.grant_invoke(grantee)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """The same as ``grant_start`` (the name ``DestinedFunction`` uses)."""
        return self.grant_start(grantee)


def _refuse(
    function: lambda_.IFunction | None,
    retry_attempts: int | None,
    retries: Sequence[RetryRule],
    steps: Sequence[Step] | None,
    problems: Problems,
) -> None:
    """What the durable engine cannot take, with the reason and what to do instead."""
    if function is not None:
        problems.add(
            "function: durable execution can only be enabled when a function is created (AWS refuses to turn it on "
            "for an existing function, and CloudFormation would replace it); give function_props= so that "
            "DurableFunction makes the function, or keep the existing one with DestinedFunction or FunctionWorkflow"
        )
    if retry_attempts not in (None, 0):
        problems.add(
            f"retry_attempts: AWS does not retry a failed durable execution, got {retry_attempts!r}; retry inside "
            "the function, per step (StepConfig(retry_strategy=...)), or leave retry_attempts out (0)"
        )
    if retries:
        problems.add(
            "retries: a durable function retries per step, in Python: context.step(fn, config=StepConfig("
            "retry_strategy=create_retry_strategy(RetryStrategyConfig(max_attempts=..., backoff_rate=..., "
            "jitter_strategy=...)))); drop retries=, or keep them with FunctionWorkflow (Step Functions)"
        )
    for step in steps or ():
        problems.add(
            f"steps: a durable function's orchestration is its own Python code: {step.needs} ({step.name!r}) is "
            "context.parallel / context.map / an if in the handler; drop steps=, or keep them with FunctionWorkflow"
        )


def _check_durable(
    function_props: lambda_.FunctionProps | None,
    execution_timeout: Duration | None,
    retention_period: Duration | None,
    problems: Problems,
) -> tuple[float | None, float | None]:
    """Runtime, limits and the props DurableFunction sets itself."""
    if function_props is None:
        problems.add("give function_props= (the durable function to make)")
    given = struct_values(function_props)
    runtime = given.get("runtime")
    name = getattr(runtime, "name", None)
    if isinstance(name, str) and not _is_durable_runtime(name):
        problems.add(
            f"function_props.runtime must be Python 3.13 or newer for a durable function (AWS runs durable "
            f"functions on {', '.join(DURABLE_RUNTIMES)}), got {name}; use lambda_.Runtime.PYTHON_3_14"
        )
    if given.get("durable_config") is not None:
        problems.add(
            "function_props.durable_config is set: set execution_timeout= and retention_period= on DurableFunction "
            "instead, which validates them and wires the alias, grants and routes"
        )
    for option in (*ASYNC_OPTIONS, "dead_letter_queue", "dead_letter_queue_enabled", "dead_letter_topic"):
        if given.get(option) is not None:
            problems.add(
                f"function_props.{option} is set: DurableFunction sets it (routes, its dead-letter queue); give "
                "on_success= / on_failure= / dead_letter_queue= instead"
            )
    timeout = None
    if execution_timeout is not None:
        timeout = whole_seconds(execution_timeout, problems, "execution_timeout")
        if timeout is not None and not 1 <= timeout <= MAX_EXECUTION_TIMEOUT_SECONDS:
            problems.add(
                f"execution_timeout must be between 1 second and 366 days (one year) for a durable execution, got "
                f"{describe_duration(timeout)}"
            )
    days = None
    if retention_period is not None:
        seconds = whole_seconds(retention_period, problems, "retention_period")
        if seconds is not None:
            days = seconds / 86400
            if seconds % 86400 or not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
                problems.add(
                    f"retention_period must be 1 to 90 whole days (Duration.days(n)), got {describe_duration(seconds)}"
                )
    return timeout, days


def _is_durable_runtime(name: str) -> bool:
    if not name.startswith("python3."):
        return False
    minor = name.removeprefix("python3.")
    return minor.isdigit() and int(minor) >= 13


# ---------------------------------------------------------------------------------------------------------------
# The runtime layer: the library's durable_routes package and AWS's durable execution SDK


def _installed_sdk() -> tuple[Path, Path, str]:
    """The SDK package folder, its dist-info folder and version, as installed where the app synthesizes."""
    spec = importlib.util.find_spec(SDK_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConstructPropsError(
            "DurableFunction",
            [
                f"{SDK_DISTRIBUTION} is not installed where the app synthesizes: the durable function's layer ships "
                "it from there. Install constructs-lib[durable] (or pip install "
                f"'{SDK_DISTRIBUTION}>={SDK_MAJOR},<{SDK_MAJOR + 1}')"
            ],
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    distribution = importlib.metadata.distribution(SDK_DISTRIBUTION)
    version = distribution.version
    if int(version.split(".")[0]) != SDK_MAJOR:
        raise ConstructPropsError(
            "DurableFunction",
            [f"{SDK_DISTRIBUTION} {version} is installed; the durable runtime needs {SDK_MAJOR}.x"],
        )
    info_names = {f.parts[0] for f in distribution.files or () if f.parts and f.parts[0].endswith(".dist-info")}
    info = Path(str(distribution.locate_file(sorted(info_names)[0]))) if info_names else package
    return package, info, version


@jsii.implements(ILocalBundling)
class _CopyRuntime:
    """Local bundling of the runtime layer: copies files, never runs Docker or pip."""

    def __init__(self, routes: Path, sdk: Path, sdk_info: Path) -> None:
        self._routes, self._sdk, self._sdk_info = routes, sdk, sdk_info

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        python = Path(output_dir) / "python"
        shutil.copytree(self._routes / "python", python, ignore=ignore, dirs_exist_ok=True)
        shutil.copytree(self._sdk, python / self._sdk.name, ignore=ignore, dirs_exist_ok=True)
        if self._sdk_info.name.endswith(".dist-info"):  # its licence and metadata travel with it
            shutil.copytree(self._sdk_info, python / self._sdk_info.name, ignore=ignore, dirs_exist_ok=True)
        return True


def durable_runtime_layer(scope: Construct, construct_id: str) -> lambda_.LayerVersion:
    """The layer of a durable function, made once per stack: the library's ``durable_routes`` and AWS's durable
    execution SDK (pure Python, copied from where the app synthesizes; boto3 comes with the Lambda runtime)."""
    routes = LIBRARY_RUNTIME["durable_routes"]
    sdk, sdk_info, version = _installed_sdk()
    digest = hashlib.sha256(f"{SDK_DISTRIBUTION}=={version}".encode())
    for path in sorted(routes.rglob("*.py")):
        digest.update(path.relative_to(routes).as_posix().encode())
        digest.update(path.read_bytes())
    code = lambda_.Code.from_asset(
        str(routes),
        exclude=ASSET_EXCLUDES,
        asset_hash=digest.hexdigest(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(image=DockerImage.from_registry("unused-local-bundling-only"),
                                 local=_CopyRuntime(routes, sdk, sdk_info)),
    )  # fmt: skip
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=code,
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_13, lambda_.Runtime.PYTHON_3_14],
        description=f"durable_routes and {SDK_DISTRIBUTION} {version}",
    )


__all__ = ["DurableAlarmOptions", "DurableFunction"]
