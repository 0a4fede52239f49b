"""The state machine under every workflow the library makes: its role, its log group, tracing, alarms, and its
role's cdk-nag findings acknowledged. ``FunctionWorkflow`` and ``PowerTuning`` differ only in their definition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.alarms import add_alarm, add_state_machine_alarms, claim_queue_alarms, period_options
from constructs_lib.defaults import LOG_RETENTION


class StateMachineAlarmOptions(Protocol):
    """The alarm settings of a workflow (``WorkflowAlarmOptions``)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def threshold(self) -> float: ...
    @property
    def period(self) -> Duration | None: ...
    @property
    def evaluation_periods(self) -> int: ...
    @property
    def actions(self) -> Sequence[cloudwatch.IAlarmAction]: ...


@dataclass(frozen=True)
class LoggedStateMachine:
    """What ``logged_state_machine`` made."""

    log_group: logs.ILogGroup
    state_machine: sfn.StateMachine
    alarms: dict[str, cloudwatch.Alarm]


def state_machine_role(scope: Construct) -> nag.Role:
    """``StateMachineRole``, made before the definition so that its states can grant it what they need (a task's
    own statements come from aws-cdk-lib when the state machine is made). Log delivery and X-Ray take ``*``
    only: they go into policies of their own (``nag.Role``)."""
    return nag.Role(scope, "StateMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))


def logged_state_machine(
    scope: Construct,
    definition: sfn.IChainable,
    *,
    role: iam.IRole,
    state_machine_type: sfn.StateMachineType,
    timeout: Duration,
    tracing: bool,
    log_level: sfn.LogLevel,
    include_execution_data: bool,
    encryption_key: kms.IKey | None = None,
    invokes: Sequence[lambda_.IFunction],
    alarms: StateMachineAlarmOptions,
    noun: str,
    state_machine_name: str | None = None,
    log_group: logs.ILogGroup | None = None,
    query_language: sfn.QueryLanguage | None = None,
) -> LoggedStateMachine:
    """``StateMachine`` in ``scope`` running ``definition`` as ``role`` (``state_machine_role``), logging to its own
    ``LogGroup`` (a vended-logs name, one month, retained), with the Failed / TimedOut / Aborted / Throttled alarms
    (``noun``: "executions").

    :param invokes: the functions the definition invokes: the role's grant on their versions and aliases is
        acknowledged.
    :param state_machine_name: :default: - a name CloudFormation generates.
    :param log_group: the user's log group. :default: - a new one (see above).
    """
    if log_group is None:
        log_group = logs.LogGroup(
            scope,
            "LogGroup",
            log_group_name=f"/aws/vendedlogs/states/{Names.unique_resource_name(scope, max_length=200)}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
    state_machine = sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=state_machine_name,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        query_language=query_language,
        role=role,
        state_machine_type=state_machine_type,
        timeout=timeout,
        tracing_enabled=tracing,
        logs=sfn.LogOptions(destination=log_group, level=log_level, include_execution_data=include_execution_data),
        encryption_configuration=(
            sfn.CustomerManagedEncryptionConfiguration(encryption_key) if encryption_key is not None else None
        ),
    )
    for function in invokes:
        nag.invoke_grant(state_machine.role, function)
    made: dict[str, cloudwatch.Alarm] = {}
    if alarms.enabled:
        add_state_machine_alarms(
            scope,
            made,
            state_machine,
            noun=noun,
            threshold=alarms.threshold,
            evaluation_periods=alarms.evaluation_periods,
            actions=alarms.actions,
            period=alarms.period,
        )
    return LoggedStateMachine(log_group=log_group, state_machine=state_machine, alarms=made)


def workflow_queue_alarms(
    scope: Construct,
    alarms: dict[str, cloudwatch.Alarm],
    *,
    failure_queue: sqs.IQueue | None,
    options: StateMachineAlarmOptions,
) -> None:
    """A workflow's alarm on failure records waiting on its failure queue (``FailureQueueMessages``), then the alarms
    of the queues it made (``claim_queue_alarms``): call once the workflow has made everything."""
    if options.enabled and failure_queue is not None:
        add_alarm(
            scope,
            alarms,
            "FailureQueueMessages",
            metric=failure_queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum", **period_options(options.period)
            ),
            threshold=1,
            why="failure records are waiting in the failure queue",
            path=scope.node.path,
            evaluation_periods=options.evaluation_periods,
            actions=options.actions,
        )
    claim_queue_alarms(scope, alarms, enabled=options.enabled, actions=options.actions)
