"""The alarms of every construct, made one way: at or above a threshold, missing data not breaching.

Every queue the library makes alarms on the age of its oldest message, and every dead-letter queue on any message
waiting (``add_queue_alarms``): a record left on a queue expires at the end of its retention period whether or not
anyone read it (redrive to a DLQ only follows receives). The construct that made the queue then gives those alarms
its own alarm actions, or removes them when its alarms are turned off (``claim_queue_alarms``). ``AlarmActions``
is the app-wide way: an Aspect that gives every alarm without an action the same ones.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Duration, IAspect, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from constructs_lib._internal.validation import Problems, is_unresolved, whole_seconds

QUEUE_MESSAGES_ALARM = "MessagesVisibleAlarm"
"""The id of a dead-letter queue's alarm on waiting messages (a child of the queue)."""
QUEUE_AGE_ALARM = "OldestMessageAgeAlarm"
"""The id of a queue's alarm on the age of its oldest message (a child of the queue)."""
QUEUE_AGE_FRACTION = 0.5
"""The oldest-message alarm fires when a message has waited this fraction of the queue's retention period."""

# Queue alarms a construct has already claimed (given its actions, or removed): a construct inside another claims
# its own first, and the outer one leaves them as they are.
_claimed: weakref.WeakSet[cloudwatch.Alarm] = weakref.WeakSet()


@dataclass(frozen=True)
class AlarmOptions:
    """Alarms of a construct whose only alarms are those of the queues it makes (its rule target's DLQ).

    Every queue the library makes alarms on the age of its oldest message, and a dead-letter queue on any message
    waiting.
    """

    enabled: bool = True
    """``False`` removes the alarms of the queues this construct makes."""
    actions: Sequence[cloudwatch.IAlarmAction] = ()
    """Actions on ALARM for every alarm, e.g. ``cloudwatch_actions.SnsAction(topic)``. :default: - none here (an
    ``AlarmActions`` Aspect on the app or stack gives every alarm without an action its actions)."""

    def check_values(self, problems: Problems, where: str) -> None:
        """Add a problem for a setting CloudWatch refuses (called with the construct's props)."""
        check_alarm_settings(self, problems, where)


HIGH_RESOLUTION_PERIODS = (10, 30)
"""The periods under a minute that CloudWatch alarms take (on high-resolution metrics); otherwise a multiple of 60 s."""


def check_alarm_settings(options: object, problems: Problems, where: str) -> None:
    """What CloudWatch refuses in any alarm options: evaluation periods below 1, a period that is neither 10 s, 30 s
    nor a multiple of a minute, a negative threshold."""
    periods = getattr(options, "evaluation_periods", None)
    if isinstance(periods, int) and periods < 1:
        problems.add(f"{where}.evaluation_periods must be 1 or more (periods that must breach), got {periods}")
    period = getattr(options, "period", None)
    if isinstance(period, Duration):
        seconds = whole_seconds(period, problems, f"{where}.period")
        if seconds is not None and seconds not in HIGH_RESOLUTION_PERIODS and (seconds < 60 or seconds % 60):
            problems.add(
                f"{where}.period must be 10 s, 30 s or a multiple of 60 s (CloudWatch's alarm periods), got "
                f"{seconds:g} s"
            )
    for name in sorted(vars(options)) if hasattr(options, "__dict__") else ():
        value = getattr(options, name)
        if name.endswith("threshold") and isinstance(value, int | float) and not is_unresolved(value) and value < 0:
            problems.add(f"{where}.{name} must be 0 or more, got {value}")


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
    alarm = _alarm(
        scope, f"{name}Alarm", metric, threshold=threshold, description=f"{path}: {why}", periods=evaluation_periods
    )
    for action in actions:
        alarm.add_alarm_action(action)
    alarms[name] = alarm
    return alarm


def _alarm(
    scope: Construct,
    construct_id: str,
    metric: cloudwatch.IMetric,
    *,
    threshold: float,
    description: str,
    periods: int,
) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        evaluation_periods=periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )


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


# ------------------------------------------------------------------------------------------------ queues


def add_queue_alarms(queue: sqs.Queue, *, retention_seconds: float, dead_letter: bool) -> list[cloudwatch.Alarm]:
    """The alarms of a queue the library makes, as children of the queue: the age of its oldest message at half its
    retention period, and for a dead-letter queue, any message waiting (Maximum over 5 minutes, >= 1)."""
    made = [
        _alarm(
            queue,
            QUEUE_AGE_ALARM,
            queue.metric_approximate_age_of_oldest_message(statistic="Maximum"),
            threshold=round(retention_seconds * QUEUE_AGE_FRACTION),
            description=f"{queue.node.path}: a message has waited half the queue's retention period; it is deleted "
            "unread at the end of it",
            periods=1,
        )
    ]
    if dead_letter:
        made.append(
            _alarm(
                queue,
                QUEUE_MESSAGES_ALARM,
                queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
                threshold=1,
                description=f"{queue.node.path}: messages are waiting on a dead-letter queue: something was not "
                "delivered",
                periods=1,
            )
        )
    return made


def queue_alarms(scope: IConstruct) -> list[cloudwatch.Alarm]:
    """The alarms ``add_queue_alarms`` made on the queues in ``scope`` (itself included)."""
    return [
        node
        for node in scope.node.find_all()
        if isinstance(node, cloudwatch.Alarm)
        and node.node.id in (QUEUE_AGE_ALARM, QUEUE_MESSAGES_ALARM)
        and isinstance(node.node.scope, sqs.Queue)
    ]


def claim_queue_alarms(
    owner: Construct,
    alarms: dict[str, cloudwatch.Alarm],
    *,
    enabled: bool,
    actions: Sequence[cloudwatch.IAlarmAction],
) -> None:
    """Give the alarms of the queues made in ``owner`` (and not claimed by a construct inside it) ``actions``, and
    record them in ``alarms`` as ``<queue id><alarm>`` (``OnFailureQueueOldestMessageAge``); remove them when the
    owner's alarms are turned off. Called again after a method makes more queues (``add_result_rule``)."""
    for alarm in queue_alarms(owner):
        if alarm in _claimed:
            continue
        _claimed.add(alarm)
        queue = alarm.node.scope
        assert queue is not None
        if not enabled:
            queue.node.try_remove_child(alarm.node.id)
            continue
        for action in actions:
            alarm.add_alarm_action(action)
        alarms[f"{queue.node.id}{alarm.node.id.removesuffix('Alarm')}"] = alarm


# ------------------------------------------------------------------------------------------------ actions


@jsii.implements(IAspect)
class AlarmActions:
    """An Aspect that sends every CloudWatch alarm without an alarm action somewhere: set it once for an app or a
    stack, ``Aspects.of(app).add(AlarmActions(topic))``.

    It gives every ``cloudwatch.Alarm`` in its scope that has no alarm action (the library's and your own) these
    actions; an alarm that already has one (a construct's ``alarms=...(actions=...)``) keeps its own. Give SNS
    topics or any ``cloudwatch.IAlarmAction``. For a topic, it lets CloudWatch alarms of the stack's account and
    region publish to it (the topic policy), and use its KMS key when the key is made in this app: CloudWatch
    cannot publish to a topic encrypted with a customer managed key otherwise. An imported key needs that statement
    where the key is defined.
    """

    def __init__(self, *targets: sns.ITopic | cloudwatch.IAlarmAction, ok_actions: bool = False) -> None:
        """
        :param targets: SNS topics or alarm actions (``cloudwatch_actions.SnsAction``, ``LambdaAction``...).
        :param ok_actions: also send the return to OK, so that whoever was told hears that it is over.
            :default: false.
        """
        if not targets:
            raise TypeError("AlarmActions needs at least one SNS topic or cloudwatch.IAlarmAction")
        # Told apart once: each look at a target is a jsii call, and the Aspect visits every construct.
        self._is_topic = [_is_topic(target) for target in targets]
        for index, target in enumerate(targets):
            if not self._is_topic[index] and not callable(getattr(target, "bind", None)):
                raise TypeError(
                    f"AlarmActions: targets[{index}] must be an SNS topic or a cloudwatch.IAlarmAction "
                    f"(cloudwatch_actions.SnsAction, LambdaAction...), got {target!r}: import a topic by ARN with "
                    "sns.Topic.from_topic_arn(scope, id, arn)"
                )
        self._targets = targets
        self._ok_actions = ok_actions
        self._allowed: set[int] = set()

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cloudwatch.Alarm) or _has_alarm_actions(node):
            return
        for index, target in enumerate(self._targets):
            if self._is_topic[index]:
                self._allow_cloudwatch(target)  # type: ignore[arg-type]
                action: cloudwatch.IAlarmAction = cloudwatch_actions.SnsAction(target)  # type: ignore[arg-type]
            else:
                action = target  # type: ignore[assignment]
            node.add_alarm_action(action)
            if self._ok_actions:
                node.add_ok_action(action)

    def _allow_cloudwatch(self, topic: sns.ITopic) -> None:
        """The topic policy and key policy statements CloudWatch needs to publish, once per topic (by the object,
        which the Aspect keeps: no jsii call to name it)."""
        if id(topic) in self._allowed:
            return
        self._allowed.add(id(topic))
        stack = Stack.of(topic)
        # Confused deputy: only alarms of this account and region may make CloudWatch publish here.
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"},
        }
        principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=conditions,
            )
        )
        if isinstance(topic.master_key, kms.Key):
            topic.master_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToUseTheTopicKey",
                    principals=[principal],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # in a key policy, "*" is this key
                    conditions=conditions,
                )
            )


def _is_topic(target: object) -> bool:
    return hasattr(target, "topic_arn") and hasattr(target, "add_subscription")


def _has_alarm_actions(alarm: cloudwatch.Alarm) -> bool:
    resource = alarm.node.default_child
    if not isinstance(resource, cloudwatch.CfnAlarm):
        return True  # not an alarm this Aspect can read: leave it alone
    return bool(Stack.of(alarm).resolve(resource.alarm_actions))


__all__ = [
    "AlarmActions",
    "AlarmOptions",
    "add_alarm",
    "add_queue_alarms",
    "add_state_machine_alarms",
    "check_alarm_settings",
    "claim_queue_alarms",
    "period_options",
    "queue_alarms",
]
