"""Secure defaults, in one place: every queue, topic, bus, bucket, key and function this library makes, and the
factories that make yours the same way (``secure_function``, ``secure_queue``, ``secure_topic``, ``secure_bucket``,
``secure_key``, ``secure_event_bus``, all exported by ``constructs_lib``). What they make passes cdk-nag's
AwsSolutions checks with the library's own acknowledgments only.

Merge order everywhere (as AWS Solutions Constructs do): our defaults < the user's props < what the construct
needs to work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib._internal import nag
from constructs_lib._internal.alarms import add_queue_alarms
from constructs_lib._internal.feature_flags import warn_if_off

DLQ_MAX_RECEIVE_COUNT = 3
DLQ_RETENTION = Duration.days(14)
QUEUE_RETENTION = Duration.days(7)
"""Shorter than the DLQ's: a message keeps its first enqueue time when it moves to a DLQ."""
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def handler_code(folder: str | Path) -> lambda_.Code:
    """``lambda_.Code.from_asset`` for a folder of Python handler code, without byte-code caches: importing the
    handler in a test writes ``__pycache__``, which would otherwise change the asset hash."""
    from constructs_lib._internal.assets import code_from

    return code_from(Path(folder))


def struct_values(props: object | None) -> dict[str, Any]:
    """The keyword values of a jsii props struct (e.g. ``sqs.QueueProps``), for merging."""
    if props is None:
        return {}
    values = getattr(props, "_values", None)
    if not isinstance(values, dict):
        raise TypeError(f"expected a props struct, got {type(props).__name__}")
    return dict(values)


def secure_queue(
    scope: Construct,
    construct_id: str,
    *,
    queue_props: sqs.QueueProps | None = None,
    dead_letter_for: str | None = None,
    nag_sees_the_use: bool = False,
) -> tuple[sqs.Queue, sqs.Queue | None]:
    """An SQS queue encrypted at rest (SSE-SQS) with TLS enforced and its own DLQ, each with alarms: on the age of
    the oldest message (at half the retention period: a message is deleted unread at the end of it), and for a
    dead-letter queue on any message waiting. The construct that makes the queue gives the alarms its actions
    (``claim_queue_alarms``); an ``AlarmActions`` Aspect gives them to any alarm left without one.

    :param queue_props: your props, merged over the defaults (TLS stays enforced). :default: - the defaults alone.
    :param dead_letter_for: set when this queue *is* a dead-letter queue (of an EventBridge target, an SNS
        subscription...), naming what it serves: it then gets no DLQ of its own and keeps messages 14 days, and
        cdk-nag's SQS3 (which only recognises SQS redrive DLQs) is acknowledged with that reason.
        :default: - a queue with a DLQ of its own.
    :param nag_sees_the_use: with ``dead_letter_for``: cdk-nag recognises this use (the queue is the
        ``DeadLetterConfig`` of a function in the same stack), so SQS3 is not acknowledged. :default: False
    Returns the queue and the DLQ it made (None if your props bring their own or it is a DLQ itself).
    """
    user = struct_values(queue_props)
    dead_letter_queue: sqs.Queue | None = None
    defaults: dict[str, Any] = {
        "encryption": sqs.QueueEncryption.SQS_MANAGED,
        "retention_period": DLQ_RETENTION if dead_letter_for is not None else QUEUE_RETENTION,
    }
    if dead_letter_for is None and "dead_letter_queue" not in user:
        dead_letter_queue = sqs.Queue(
            scope,
            f"{construct_id}DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        add_queue_alarms(dead_letter_queue, retention_seconds=DLQ_RETENTION.to_seconds(), dead_letter=True)
        defaults["dead_letter_queue"] = sqs.DeadLetterQueue(
            max_receive_count=DLQ_MAX_RECEIVE_COUNT, queue=dead_letter_queue
        )
    merged = {**defaults, **user, "enforce_ssl": True}
    queue = sqs.Queue(scope, construct_id, **merged)
    retention: Duration = merged["retention_period"]
    add_queue_alarms(
        queue,
        retention_seconds=(QUEUE_RETENTION if retention.is_unresolved() else retention).to_seconds(),
        dead_letter=dead_letter_for is not None,
    )
    if dead_letter_for is not None and not nag_sees_the_use:
        nag.dead_letter_queue(queue, dead_letter_for)
    return queue, dead_letter_queue


def secure_key(scope: Construct, construct_id: str, description: str) -> kms.Key:
    """A customer managed KMS key with yearly rotation, retained on delete; ``description`` says what it encrypts."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def secure_topic(scope: Construct, construct_id: str, *, topic_props: sns.TopicProps | None = None) -> sns.Topic:
    """An SNS topic encrypted with a customer managed key (rotated, made as ``{construct_id}Key``) and TLS enforced.

    :param topic_props: your props, merged over the defaults (``master_key`` replaces the key we make; TLS stays
        enforced). :default: - the defaults alone.
    """
    user = struct_values(topic_props)
    defaults: dict[str, Any] = {}
    if "master_key" not in user:
        defaults["master_key"] = secure_key(scope, f"{construct_id}Key", f"Encrypts the SNS topic {construct_id}")
    merged = {**defaults, **user, "enforce_ssl": True}
    return sns.Topic(scope, construct_id, **merged)


def secure_event_bus(
    scope: Construct, construct_id: str, *, event_bus_props: events.EventBusProps | None = None
) -> events.EventBus:
    """A custom EventBridge bus with your props. EventBridge encrypts at rest and accepts only HTTPS, always.

    :param event_bus_props: :default: - a bus with a generated name.
    """
    user = struct_values(event_bus_props)
    return events.EventBus(scope, construct_id, **user)


def secure_bucket(scope: Construct, construct_id: str, *, bucket_props: s3.BucketProps | None = None) -> s3.Bucket:
    """An S3 bucket: encrypted, TLS only, public access blocked, versioned, with server access logs.

    The access-log bucket it makes (``{construct_id}AccessLogs``) is encrypted, TLS only, public access blocked and
    versioned too; it has no access log of its own (that would recurse): cdk-nag's S1 knows a bucket that receives
    another bucket's logs, checkov's CKV_AWS_18 does not and reports it. Both are retained on delete.

    :param bucket_props: your props, merged over the defaults (TLS only and public access blocked stay).
        :default: - the defaults alone.
    """
    user = struct_values(bucket_props)
    defaults: dict[str, Any] = {
        "encryption": s3.BucketEncryption.S3_MANAGED,
        "versioned": True,
        "removal_policy": RemovalPolicy.RETAIN,
    }
    if "server_access_logs_bucket" not in user:
        defaults["server_access_logs_bucket"] = s3.Bucket(
            scope,
            f"{construct_id}AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        warn_if_off(defaults["server_access_logs_bucket"], "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy")
    merged = {
        **defaults,
        **user,
        "enforce_ssl": True,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    }
    return s3.Bucket(scope, construct_id, **merged)


# Options of lambda_.FunctionProps that this library owns: set them on the construct, not in function_props.
ASYNC_OPTIONS = ("on_success", "on_failure", "retry_attempts", "max_event_age")


def secure_function(
    scope: Construct, construct_id: str, *, function_props: lambda_.FunctionProps
) -> tuple[lambda_.Function, logs.LogGroup | None]:
    """A Lambda function with X-Ray tracing, its own log group (one month, retained), and a least-privilege role:
    what ``DestinedFunction`` and ``FunctionWorkflow`` make from ``function_props``, for the functions of your
    own steps.

    The role we make (``{construct_id}ServiceRole``) can write to that log group only (no AWS managed policy); what
    X-Ray (and a VPC) need on every resource sits in policies of their own, which carry cdk-nag's acknowledgment;
    what you grant the role later stays in its default policy, where cdk-nag judges it.

    :param function_props: your props, merged over the defaults: ``tracing``, ``log_group`` and ``role`` replace
        ours. Returns the function and the log group we made (None when your props bring their own):
        ``charge, _ = secure_function(self, "Charge", function_props=lambda_.FunctionProps(...))``.
    """
    user = struct_values(function_props)
    defaults: dict[str, Any] = {"tracing": lambda_.Tracing.ACTIVE}
    log_group: logs.LogGroup | None = None
    if "log_group" not in user:
        log_group = logs.LogGroup(
            scope, f"{construct_id}LogGroup", retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        defaults["log_group"] = log_group
    role: iam.Role | None = None
    if "role" not in user:
        # nag.Role: X-Ray (and VPC) statements go into policies of their own, acknowledged there and only there.
        role = nag.Role(
            scope,
            f"{construct_id}ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {construct_id}",
        )
        defaults["role"] = role
    merged = {**defaults, **user}
    function = lambda_.Function(scope, construct_id, **merged)
    if role is not None:
        _grant_made_role(role, merged)
    return function, log_group


# What AWSLambdaVPCAccessExecutionRole grants, inline: aws-cdk-lib attaches it only to roles it makes itself.
VPC_ACCESS_ACTIONS = list(nag.NETWORK_INTERFACE_ACTIONS)


def _grant_made_role(role: iam.Role, merged: dict[str, Any]) -> None:
    """Give the role we made what the function's own props need, and nothing else."""
    log_group = merged["log_group"]  # ours or the user's: the function writes there either way
    grant_write = getattr(log_group, "grant_write", None)
    if grant_write is not None:
        grant_write(role)
    if merged.get("vpc") is not None:
        role.add_to_policy(iam.PolicyStatement(actions=VPC_ACCESS_ACTIONS, resources=["*"]))
