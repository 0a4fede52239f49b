"""FunctionWorkflow: functions in a Step Functions state machine, on the same routes as DestinedFunction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib._internal.alarms import check_alarm_settings
from constructs_lib._internal.metrics import StateMachineMetrics
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.result_rules import ResultRuleRequest, add_result_rule
from constructs_lib._internal.state_machine import logged_state_machine, state_machine_role, workflow_queue_alarms
from constructs_lib._internal.validation import Problems, describe_duration, whole_seconds
from constructs_lib.defaults import ASYNC_OPTIONS, secure_function, struct_values
from constructs_lib.engines import _jsonata
from constructs_lib.engines._status_records import StatusFailureRecords
from constructs_lib.engines.destined_function import StreamFailureOptions
from constructs_lib.engines.steps import (
    ERROR_PATH,
    INVOKE_COUNT_VARIABLE,
    Invoke,
    RetryRule,
    Step,
    StepRenderer,
    check_retriers,
)
from constructs_lib.events.execution_status_notifications import ExecutionStatusNotifications
from constructs_lib.events.patterns import result_event_pattern
from constructs_lib.records import DETAIL_TYPE_FAILURE, DETAIL_TYPE_SUCCESS, Condition, ExecutionStatus
from constructs_lib.routes import BoundRoute, Capability, QueueRoute, Route, RouteSide, WorkflowTaskOptions

EXPRESS_MAX_SECONDS = 300
WORKFLOW_CONDITIONS = (Condition.SUCCESS, Condition.RETRIES_EXHAUSTED)
"""The conditions of the records an EXPRESS workflow sends."""
STANDARD_WORKFLOW_CONDITIONS = (*WORKFLOW_CONDITIONS, Condition.TIMED_OUT, Condition.ABORTED)
"""The conditions of the records a STANDARD workflow sends (its status rule reports timed-out and aborted runs)."""
STANDARD_MAX_SECONDS = 365 * 24 * 3600
RECORD_PATH = "$.record"


class StartMode(StrEnum):
    """How callers start the workflow."""

    ASYNC = "async"
    """StartExecution: the caller gets an execution ARN at once (Standard or Express)."""
    SYNC = "sync"
    """StartSyncExecution: the caller waits for the result (Express only)."""


@dataclass(frozen=True)
class WorkflowAlarmOptions:
    """Alarms on the state machine's executions: Failed, TimedOut, Aborted, Throttled.

    All on by default; ``enabled=False`` turns them off.
    """

    enabled: bool = True
    threshold: float = 1
    """Executions (Sum per period) at or above this. :default: 1."""
    period: Duration | None = None
    """:default: 5 minutes."""
    evaluation_periods: int = 1
    actions: Sequence[cloudwatch.IAlarmAction] = ()

    def check_values(self, problems: Problems, where: str) -> None:
        """Add a problem for a setting CloudWatch refuses (called with the construct's props)."""
        check_alarm_settings(self, problems, where)


class FunctionWorkflow(StateMachineMetrics, Construct):
    """A function (or several steps) in a Step Functions state machine whose results go to routes.

    The same ``on_success`` / ``on_failure`` routes as ``DestinedFunction``; each receives a record with the
    Destinations execution-record shape (condition ``Success`` or ``RetriesExhausted``, ``requestPayload``,
    ``responsePayload``...), delivered by a direct service integration.

    Give an existing function (``function=``), props to make one (``function_props=``) or ``steps=``: exactly one.
    """

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction | None = None,
        function_props: lambda_.FunctionProps | None = None,
        retries: Sequence[RetryRule] = (),
        retry_attempts: int | None = None,
        steps: Sequence[Step] | None = None,
        on_success: Route | None = None,
        on_failure: Route | None = None,
        state_machine_type: sfn.StateMachineType = sfn.StateMachineType.STANDARD,
        start: StartMode = StartMode.ASYNC,
        timeout: Duration | None = None,
        log_level: sfn.LogLevel = sfn.LogLevel.ALL,
        include_execution_data: bool = False,
        tracing: bool = True,
        encryption_key: kms.IKey | None = None,
        alarms: WorkflowAlarmOptions | None = None,
        max_event_age: Duration | None = None,
        state_machine_name: str | None = None,
        role: iam.IRole | None = None,
        log_group: logs.ILogGroup | None = None,
        log_encryption_key: kms.IKey | None = None,
        query_language: sfn.QueryLanguage = sfn.QueryLanguage.JSON_PATH,
    ) -> None:
        """
        :param function: an existing function, alias or version to run (a one-step workflow).
            :default: - none; give one of ``function``, ``function_props`` or ``steps``.
        :param function_props: props of the function to make and run (a one-step workflow), as on
            ``DestinedFunction``: the made function gets X-Ray tracing, its own log group (one month) and a role
            that can write only to that log group. :default: - none; give one of ``function``, ``function_props``
            or ``steps``.
        :param retries: retry rules of the one-step function. The AWS-recommended retry on Lambda service exceptions
            is always on as well.
        :param retry_attempts: as on ``DestinedFunction``, so switching engines is a one-line change: retry any error
            of the one-step function this many times, 60 s then 120 s apart (what Lambda does for asynchronous
            invocations). :default: - no retry beyond the Lambda service-exception retry and ``retries``.
        :param steps: the workflow: ``Invoke``, ``Choice``, ``Parallel``, ``ForEach``, ``Pass``, ``Wait``,
            ``Succeed``, ``Fail``, ``Deliver`` and ``ServiceTask`` steps, in order; each step's output is the next
            one's input (see ``Invoke.result_path`` to keep fields).
        :param on_success: where the last step's output goes. :default: - nowhere.
        :param on_failure: where a failed execution's record goes (S3 allowed). :default: - a new encrypted SQS
            queue with its own DLQ, so no failure is lost.
        :param state_machine_type: STANDARD or EXPRESS. :default: STANDARD.
        :param start: ASYNC (StartExecution) or SYNC (StartSyncExecution, EXPRESS only). :default: ASYNC.
        :param timeout: execution timeout. :default: 1 hour for STANDARD, 5 minutes for EXPRESS.
        :param log_level: :default: ALL (execution data off unless ``include_execution_data``).
        :param include_execution_data: log states' input and output (payloads may be sensitive). :default: false.
        :param tracing: X-Ray tracing. :default: true.
        :param encryption_key: a customer managed key for the state machine's data. :default: - an AWS owned key.
        :param alarms: :default: - all four alarms on, threshold 1.
        :param max_event_age: not supported by Step Functions (accepted so that switching from ``DestinedFunction``
            is a one-line change): an execution starts when it is asked for, there is no queue for an event to age
            in; giving one fails at synth and says why (bound a run with ``timeout``).
        :param state_machine_name: the state machine's name (1 to 80 letters, digits, ``-`` and ``_``).
            :default: - a name CloudFormation generates.
        :param role: the role the state machine runs as. aws-cdk-lib adds to it what the states need (invoking
            the functions, reaching the routes, X-Ray and log delivery, which take ``*``); give an imported role
            with ``mutable=False`` to manage its policies yourself. :default: - a new role that holds those grants
            only, the ``*`` ones in policies of their own that carry cdk-nag's acknowledgment.
        :param log_group: where the state machine logs. :default: - a new log group under
            ``/aws/vendedlogs/states/``, one month retention, retained on delete.
        :param log_encryption_key: a customer managed key that encrypts the log groups the workflow makes (its own
            and, for STANDARD, the one of the state machine that delivers the records of timed-out and aborted
            executions). The key's policy gets a statement that lets CloudWatch Logs
            (``logs.<region>.amazonaws.com``) use it for those log groups only (``kms:EncryptionContext:aws:logs:arn``);
            an imported key's policy must already allow it. Not with ``log_group`` (encrypt your own log group
            yourself). :default: - CloudWatch Logs' own encryption.
        :param query_language: JSON_PATH or JSONATA: the language of every state the workflow makes. With JSONATA
            the steps take JSONata (``sfn.Condition.jsonata``, ``"{% ... %}"`` payloads) and refuse JSONPath; the
            routes receive the same records, built in the delivery task. :default: JSON_PATH.
        """
        super().__init__(scope, construct_id)
        self._jsonata = query_language == sfn.QueryLanguage.JSONATA
        on_failure = on_failure if on_failure is not None else QueueRoute()
        self.state_machine_type = state_machine_type
        self.start_mode = start
        express = state_machine_type == sfn.StateMachineType.EXPRESS
        if retry_attempts is not None:
            retries = [*retries, RetryRule.from_retry_attempts(retry_attempts)]
        self._validate(
            function,
            function_props,
            retries,
            steps,
            on_success,
            on_failure,
            express,
            start,
            timeout,
            own_log_group_and_key=log_group is not None and log_encryption_key is not None,
        )
        self._refuse_destinations_only(max_event_age)
        if function is None and function_props is not None:
            function, _ = secure_function(self, "Function", function_props=function_props)
        self.function: lambda_.IFunction | None = function
        """The function of a one-step workflow (given or made); None with ``steps``."""
        if steps is None:
            assert function is not None
            steps = [Invoke("Invoke", function, retries=retries)]

        self.failure_route: BoundRoute = on_failure.bind(self, "OnFailure")
        self.success_route: BoundRoute | None = on_success.bind(self, "OnSuccess") if on_success else None
        self.role: iam.IRole = role if role is not None else state_machine_role(self)

        if self._jsonata:
            error = _jsonata.CAUGHT_ERROR
            failed = sfn.Fail.jsonata(self, "Failed", error=f"{{% {error}.Error %}}", cause=f"{{% {error}.Cause %}}")
        else:
            failed = sfn.Fail(self, "Failed", error_path=f"{ERROR_PATH}.Error", cause_path=f"{ERROR_PATH}.Cause")
        failure_chain = self._delivery("Failure", self.failure_route, Condition.RETRIES_EXHAUSTED).next(failed)
        self._success_end: sfn.Chain | None = None
        renderer = StepRenderer(self, self.role, succeed=self._successful_end, jsonata=self._jsonata)
        body = renderer.chain(steps, catch=failure_chain)
        if not steps[0].counts_attempts:  # the records read the count: set it before any step can reach them
            counter = sfn.Pass(self, "StartInvokeCount", assign={INVOKE_COUNT_VARIABLE: 1})
            body = sfn.Chain.custom(counter, body.end_states, counter.next(body))
        self.functions: list[lambda_.IFunction] = renderer.functions
        if body.end_states:  # a last Succeed or Fail step has gone to its end already: nothing can follow it
            body = body.next(self._successful_end())

        made = logged_state_machine(
            self,
            body,
            role=self.role,
            state_machine_type=state_machine_type,
            timeout=timeout or (Duration.minutes(5) if express else Duration.hours(1)),
            tracing=tracing,
            log_level=log_level,
            include_execution_data=include_execution_data,
            encryption_key=encryption_key,
            invokes=self.functions,
            alarms=alarms or WorkflowAlarmOptions(),
            noun="executions",
            state_machine_name=state_machine_name,
            log_group=log_group,
            log_encryption_key=log_encryption_key,
            query_language=query_language if self._jsonata else None,  # JSONPath: the default, left unsaid
        )
        self.log_group, self.state_machine, self.alarms = made.log_group, made.state_machine, made.alarms
        self.rules: list[events.Rule] = []
        """The rules ``add_result_rule`` made, in order."""
        self.rule_dead_letter_queues: list[sqs.IQueue] = []
        """The dead-letter queues of those rules' targets."""
        self.status_failure_records: StatusFailureRecords | None = None
        """What delivers the failure record of a STANDARD execution that timed out or was aborted; None for EXPRESS."""
        if not express:
            self.status_failure_records = StatusFailureRecords(
                self,
                "StatusFailures",
                state_machine=self.state_machine,
                failure_route=self.failure_route,
                tracing=tracing,
                alarms=alarms or WorkflowAlarmOptions(),
                log_encryption_key=log_encryption_key,
            )
            self.alarms.update({f"StatusFailures{k}": v for k, v in self.status_failure_records.alarms.items()})
        workflow_queue_alarms(
            self, self.alarms, failure_queue=self.failure_route.queue, options=alarms or WorkflowAlarmOptions()
        )

    # ------------------------------------------------------------------------------------------------ validation

    def _validate(  # noqa: PLR0917 - private, mirrors the constructor's props
        self,
        function: lambda_.IFunction | None,
        function_props: lambda_.FunctionProps | None,
        retries: Sequence[RetryRule],
        steps: Sequence[Step] | None,
        on_success: Route | None,
        on_failure: Route,
        express: bool,
        start: StartMode,
        timeout: Duration | None,
        *,
        own_log_group_and_key: bool = False,
    ) -> None:
        problems = Problems()
        if own_log_group_and_key:
            problems.add(
                "log_encryption_key encrypts the log groups the workflow makes, and with log_group= it makes none "
                "for its state machine: give the key to your own log group (logs.LogGroup(encryption_key=...)) and "
                "drop log_encryption_key, or drop log_group"
            )
        one_step = function is not None or function_props is not None
        if not one_step and steps is None:
            problems.add(
                "give function= (an existing function) or function_props= (to make one) for a one-step workflow, "
                "or steps= (Invoke, Parallel, ForEach, Choice)"
            )
        if function is not None and function_props is not None:
            problems.add("give either function= (an existing function) or function_props= (to make one), not both")
        if one_step and steps is not None:
            problems.add(
                "give either function= / function_props= or steps=, not both (put the function in an Invoke step)"
            )
        for option in ASYNC_OPTIONS:
            if struct_values(function_props).get(option) is not None:
                problems.add(
                    f"function_props.{option} is set: it configures asynchronous invocation, which a workflow does "
                    "not use; route results with on_success= / on_failure= and retry with retries= / "
                    "retry_attempts= on FunctionWorkflow instead"
                )
        if steps is not None and retries:
            problems.add(
                "retries= and retry_attempts= apply to function= / function_props=; with steps=, give each step "
                "its own retries"
            )
        for rule in retries:
            rule.validate(problems, "retries")
        check_retriers(retries, problems, "retries")
        if steps is not None and not steps:
            problems.add("steps is empty: give at least one step")
        names: list[str] = []
        for step in steps or ():
            step.check(problems, names)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.add(f"step names must be unique in a workflow (they are state names), repeated: {duplicates}")
        if start is StartMode.SYNC and not express:
            problems.add(
                "start=StartMode.SYNC (StartSyncExecution) works with EXPRESS state machines only; "
                "use state_machine_type=sfn.StateMachineType.EXPRESS or start=StartMode.ASYNC"
            )
        seconds = whole_seconds(timeout, problems, "timeout") if timeout is not None else None
        if express and seconds is not None and seconds > EXPRESS_MAX_SECONDS:
            problems.add(f"an EXPRESS workflow runs at most 5 minutes, timeout is {seconds:g} s")
        if seconds is not None and not 1 <= seconds <= STANDARD_MAX_SECONDS:
            problems.add(
                f"timeout must be 1 second to 1 year (a Standard execution's longest), got {describe_duration(seconds)}"
            )
        if on_success is not None:
            on_success.require(RouteSide.SUCCESS, Capability.WORKFLOW, problems, where="on_success")
        on_failure.require(RouteSide.FAILURE, Capability.WORKFLOW, problems, where="on_failure")
        problems.raise_if_any(self)

    def _refuse_destinations_only(self, max_event_age: Duration | None) -> None:
        """What only Lambda's asynchronous invocation has fails here, with the reason and what to use instead."""
        problems = Problems()
        if max_event_age is not None:
            problems.add(
                "max_event_age: Step Functions starts an execution when it is asked to; there is no event queue "
                "for an event to age in, so there is no maximum event age. Bound a run with timeout= instead, or "
                "keep DestinedFunction"
            )
        problems.raise_if_any(self)

    # ------------------------------------------------------------------------------------------------ states

    def _successful_end(self) -> sfn.Chain:
        """Where the workflow ends well, after its last step or at a ``Succeed`` step: the success record delivered
        to the on-success route (if any) and the output returned, then a Succeed state. Made once, when first
        asked for."""
        if self._success_end is None:
            succeed = sfn.Succeed.jsonata(self, "Succeeded") if self._jsonata else sfn.Succeed(self, "Succeeded")
            if self.success_route is None:
                self._success_end = sfn.Chain.start(succeed)
            elif self._jsonata:  # the delivery task leaves the state (the output) as it was
                self._success_end = self._delivery("Success", self.success_route, Condition.SUCCESS).next(succeed)
            else:
                delivery = self._delivery("Success", self.success_route, Condition.SUCCESS)
                output = sfn.Pass(self, "ReturnOutput", input_path=f"{RECORD_PATH}.responsePayload")
                self._success_end = delivery.next(output).next(succeed)
        return self._success_end

    def _delivery(self, side: str, bound: BoundRoute, condition: Condition) -> sfn.Chain:
        """Build the execution record into ``$.record``, then deliver it to the route.

        The record replaces the state (``{"record": ...}``, and the caught error at ``$.error`` on the failure side)
        rather than being added to it: the state may be any JSON value, a ``ForEach``'s or a ``Parallel``'s list
        included, and a field cannot be added to a list. On the success side the state is the response payload; on
        the failure side it is the caught error output (``{"Error": ..., "Cause": ...}``). In a JSONata workflow the
        delivery task builds the record itself, one state fewer."""
        detail_type = DETAIL_TYPE_SUCCESS if condition is Condition.SUCCESS else DETAIL_TYPE_FAILURE
        if self._jsonata:
            options = WorkflowTaskOptions(
                state_name=f"Deliver{side}",
                record_path=RECORD_PATH,
                detail_type=detail_type,
                role=self.role,
                jsonata_record=_jsonata.record(condition.value, success=condition is Condition.SUCCESS),
            )
            return sfn.Chain.start(bound.route.workflow_task(self, bound, options))
        fields: dict[str, Any] = {}
        if condition is Condition.SUCCESS:
            response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
            response: Any = sfn.JsonPath.object_at("$")
        else:
            response_context = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
            response = {
                "errorType": sfn.JsonPath.string_at("$.Error"),
                "errorMessage": sfn.JsonPath.string_at("$.Cause"),
            }
            fields[ERROR_PATH.removeprefix("$.")] = sfn.JsonPath.object_at("$")  # for the Fail state's ErrorPath
        record = sfn.Pass(
            self,
            f"Build{side}Record",
            parameters={
                RECORD_PATH.removeprefix("$."): {
                    "version": "1.0",
                    "timestamp": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                    "requestContext": {
                        "requestId": sfn.JsonPath.string_at("$$.Execution.Name"),
                        "functionArn": sfn.JsonPath.string_at("$$.StateMachine.Id"),
                        "condition": condition.value,
                        # the attempts of the step that failed, or of the last Invoke / Parallel / ForEach
                        "approximateInvokeCount": sfn.JsonPath.number_at(f"${INVOKE_COUNT_VARIABLE}"),
                    },
                    "requestPayload": sfn.JsonPath.object_at("$$.Execution.Input"),
                    "responseContext": response_context,
                    "responsePayload": response,
                },
                **fields,
            },
        )
        task = bound.route.workflow_task(
            self,
            bound,
            WorkflowTaskOptions(
                state_name=f"Deliver{side}", record_path=RECORD_PATH, detail_type=detail_type, role=self.role
            ),
        )
        return sfn.Chain.start(record).next(task)

    # ------------------------------------------------------------------------------------------------ notifications

    def notify_on(
        self, notification_id: str, *, statuses: Sequence[ExecutionStatus], route: Route, **kwargs: Any
    ) -> ExecutionStatusNotifications:
        """Send these execution statuses of this (STANDARD) workflow to ``route``; see ExecutionStatusNotifications."""
        return ExecutionStatusNotifications(
            self, notification_id, state_machine=self.state_machine, statuses=statuses, route=route, **kwargs
        )

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
        """Route records that match to ``route`` with an EventBridge rule on this workflow's event bus route: the
        same call, with the same meaning, as ``DestinedFunction.add_result_rule``, so switching engines does not
        change the rule.

        The records' side (success or failure) must go to an ``EventBusRoute``. The rule target gets a DLQ and a
        retry policy (8 attempts, 4 hours unless given). A workflow sends ``Success`` and ``RetriesExhausted``
        records (never ``EventAgeExceeded``: an execution starts at once), a STANDARD one ``TimedOut`` and ``Aborted``
        too; a rule that asks only for conditions it never sends is refused.

        :param conditions: which records. :default: - Success, or the failure conditions when ``error_types`` is
            set.
        :param error_types: only failures whose ``responsePayload.errorType`` is one of these (the error name the
            failed step raised). :default: - any.
        :param response: fields of ``responsePayload`` (the last step's output) to match (see
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
            sent=WORKFLOW_CONDITIONS if self.status_failure_records is None else STANDARD_WORKFLOW_CONDITIONS,
        )
        return rule

    def result_event_pattern(
        self,
        *,
        conditions: Sequence[Condition] | None = None,
        error_types: Sequence[str] | None = None,
        response: Mapping[str, Any] | None = None,
    ) -> events.EventPattern:
        """The event pattern of this workflow's records on an event bus (source ``constructs-lib.workflow``, the
        state machine's ARN as ``requestContext.functionArn``), for a rule of your own; the same call as
        ``DestinedFunction.result_event_pattern``. Arguments as ``result_event_pattern``'s."""
        return result_event_pattern(
            state_machine=self.state_machine, conditions=conditions, error_types=error_types, response=response
        )

    def add_stream_source(
        self,
        source: kinesis.IStream | dynamodb.ITable | sqs.IQueue,
        *,
        on_failure: Route | None = None,
        options: StreamFailureOptions | None = None,
    ) -> lambda_.IEventSource:
        """Not supported: accepted so that switching from ``DestinedFunction`` fails at synth with the reason.

        Lambda event source mappings (Kinesis, DynamoDB Streams, SQS) invoke functions, never state machines.
        Keep a ``DestinedFunction`` on the source and start this workflow from its handler, or use EventBridge
        Pipes (``aws_pipes``) with this state machine as the target.
        """
        problems = Problems()
        problems.add(
            "add_stream_source: a Lambda event source mapping (Kinesis, DynamoDB Streams, SQS) invokes a function, "
            "never a state machine. Keep a DestinedFunction on the source and start this workflow from its "
            "handler, or use EventBridge Pipes with the state machine as the target"
        )
        problems.raise_if_any(self)
        raise AssertionError("unreachable: the problem above is raised")

    # ------------------------------------------------------------------------------------------------ grants

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """StartExecution (asynchronous start)."""
        return self.state_machine.grant_start_execution(grantee)

    def grant_start_sync_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """StartSyncExecution (EXPRESS only)."""
        if self.state_machine_type != sfn.StateMachineType.EXPRESS:
            raise ValueError(
                f"{self.node.path}: StartSyncExecution works with EXPRESS state machines only; "
                "use grant_start_execution"
            )
        return self.state_machine.grant_start_sync_execution(grantee)

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """The grant that matches ``start``."""
        if self.start_mode is StartMode.SYNC:
            return self.grant_start_sync_execution(grantee)
        return self.grant_start_execution(grantee)


__all__ = ["FunctionWorkflow", "StartMode", "WorkflowAlarmOptions"]
