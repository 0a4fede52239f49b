"""The state machine under every workflow the library makes: its role, its log group, tracing, alarms, and its
role's cdk-nag findings acknowledged. ``FunctionWorkflow`` and ``PowerTuning`` differ only in their definition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
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
    log_encryption_key: kms.IKey | None = None,
    query_language: sfn.QueryLanguage | None = None,
) -> LoggedStateMachine:
    """``StateMachine`` in ``scope`` running ``definition`` as ``role`` (``state_machine_role``), logging to its own
    ``LogGroup`` (a vended-logs name, one month, retained), with the Failed / TimedOut / Aborted / Throttled alarms
    (``noun``: "executions").

    :param invokes: the functions the definition invokes: the role's grant on their versions and aliases is
        acknowledged.
    :param state_machine_name: :default: - a name CloudFormation generates.
    :param log_group: the user's log group. :default: - a new one (see above).
    :param log_encryption_key: a customer managed key for the new log group (never for ``log_group``); its key
        policy gets the statement CloudWatch Logs needs (``log_group_key_statement``). :default: - CloudWatch
        Logs' own encryption.
    """
    if log_group is None:
        log_group_name = f"/aws/vendedlogs/states/{Names.unique_resource_name(scope, max_length=200)}"
        if log_encryption_key is not None:
            # The key policy first: CloudWatch Logs checks that it may use the key when the log group is created.
            log_encryption_key.add_to_resource_policy(log_group_key_statement(scope, log_group_name))
        log_group = logs.LogGroup(
            scope,
            "LogGroup",
            log_group_name=log_group_name,
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
            encryption_key=log_encryption_key,
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


def log_group_key_statement(scope: Construct, log_group_name: str) -> iam.PolicyStatement:
    """The key policy statement that lets CloudWatch Logs (``logs.<region>.amazonaws.com``) encrypt and decrypt the
    log group ``log_group_name`` with a customer managed key, and no other log group (the encryption context holds
    the log group's ARN), as https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    writes it."""
    stack = Stack.of(scope)
    log_group_arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    return iam.PolicyStatement(
        sid=f"CloudWatchLogs{Names.unique_id(scope)}"[:100],
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources=["*"],  # in a key policy, "*" is the key itself
        conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
    )


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
