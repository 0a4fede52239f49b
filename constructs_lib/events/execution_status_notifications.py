"""ExecutionStatusNotifications: chosen execution statuses of one Standard state machine, sent to a route."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib._internal.alarms import AlarmOptions, claim_queue_alarms
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems
from constructs_lib.records import STATUS_CHANGE_DETAIL_TYPE, STATUS_CHANGE_SOURCE, ExecutionStatus
from constructs_lib.routes import Route, RouteSide, RuleTargetOptions, rule_to_route


def execution_status_pattern(
    *, state_machine: sfn.IStateMachine | None = None, statuses: Sequence[ExecutionStatus] | None = None
) -> events.EventPattern:
    """An event pattern for "Step Functions Execution Status Change" events.

    :default: - every status of every state machine of the account and region.
    """
    detail: dict[str, Any] = {}
    if statuses:
        detail["status"] = [s.value for s in statuses]
    if state_machine is not None:
        detail["stateMachineArn"] = [state_machine.state_machine_arn]
    return events.EventPattern(
        source=[STATUS_CHANGE_SOURCE], detail_type=[STATUS_CHANGE_DETAIL_TYPE], detail=detail or None
    )


def _is_express(state_machine: sfn.IStateMachine) -> bool:
    cfn = state_machine.node.default_child
    return isinstance(cfn, sfn.CfnStateMachine) and cfn.state_machine_type == "EXPRESS"


class ExecutionStatusNotifications(Construct):
    """Route chosen statuses (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED) of one state machine to a route,
    through an EventBridge rule on the default bus whose target has a DLQ and a retry policy.

    Express state machines emit no status change events: asking for one fails at synth.
    """

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        statuses: Sequence[ExecutionStatus],
        route: Route,
        message: events.RuleTargetInput | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
        alarms: AlarmOptions | None = None,
    ) -> None:
        """
        :param state_machine: a STANDARD state machine (``FunctionWorkflow.state_machine``, or any).
        :param statuses: the statuses to send, at least one.
        :param route: a FunctionRoute, QueueRoute, TopicRoute, StreamRoute (Kinesis) or StateMachineRoute (an
            EventBusRoute forwards the event as is).
        :param message: what the route receives. :default: - the whole event (``detail`` is the status change).
        :param dead_letter_queue: :default: - a new SSE-SQS, TLS-only queue.
        :param retry_attempts: :default: 8. :param max_event_age: :default: 4 hours.
        :param alarms: the alarms of the queues it makes: the DLQ's waiting messages and oldest message's age.
            :default: - on, with no action of their own (see ``AlarmActions``).
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        if _is_express(state_machine):
            problems.add(
                "the state machine is EXPRESS: Express workflows emit no execution status change events to "
                "EventBridge; use a STANDARD state machine, or route results with FunctionWorkflow's "
                "on_success / on_failure"
            )
        if not statuses:
            problems.add("statuses is empty: name at least one, e.g. [ExecutionStatus.FAILED]")
        routed = rule_to_route(
            self,
            route,
            RuleTargetOptions(
                message=message,
                dead_letter_queue=dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            ),
            where="route",
            side=RouteSide.FAILURE,
            rule=events.RuleProps(
                description=f"{self.node.path}: {', '.join(s.value for s in statuses)} executions",
                event_pattern=execution_status_pattern(state_machine=state_machine, statuses=statuses),
            ),
            problems=problems,
        )
        self.route = routed.bound
        self.rule = routed.rule
        self.dead_letter_queue = routed.dead_letter_queue
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        """The alarms of the queues this construct made (its target's DLQ, a queue route's queue and DLQ)."""
        options = alarms or AlarmOptions()
        claim_queue_alarms(self, self.alarms, enabled=options.enabled, actions=options.actions)


__all__ = ["ExecutionStatusNotifications", "execution_status_pattern"]
