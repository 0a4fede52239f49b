"""EventPipeline: an EventBridge rule (a schedule or an event pattern) feeding one route, safely.

Glue for the other constructs: a scheduled or event-driven start of a function, a workflow, a queue, a topic, a
stream or a bus. The target always gets a DLQ and a retry policy.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib._internal.alarms import AlarmOptions, claim_queue_alarms
from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems
from constructs_lib.routes import Route, RouteSide, RuleTargetOptions, rule_to_route


class EventPipeline(Construct):
    """A rule on a schedule or an event pattern (default or custom bus) feeding a function, a workflow
    (``StateMachineRoute``), a queue, a topic, a stream or a bus, with input transformation, a DLQ and a retry
    policy."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target: Route,
        schedule: events.Schedule | None = None,
        event_pattern: events.EventPattern | None = None,
        event_bus: events.IEventBus | None = None,
        message: events.RuleTargetInput | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
        description: str | None = None,
        enabled: bool = True,
        alarms: AlarmOptions | None = None,
    ) -> None:
        """
        :param target: where matching events go.
        :param schedule: run on a schedule (``events.Schedule.rate`` / ``cron``). Give ``schedule`` or
            ``event_pattern``, not both.
        :param event_pattern: match events (e.g. ``destination_event_pattern(...)``).
        :param event_bus: the bus of an event-pattern rule. :default: - the account's default bus.
        :param message: input transformation. :default: - the whole event.
        :param dead_letter_queue: :default: - a new SSE-SQS, TLS-only queue.
        :param retry_attempts: 0..185. :default: 8.
        :param max_event_age: 60 s..24 h. :default: 4 hours.
        :param description: the rule's description. :default: - none.
        :param enabled: whether the rule is enabled. :default: true.
        :param alarms: the alarms of the queues it makes: the DLQ's waiting messages and oldest message's age.
            :default: - on, with no action of their own (see ``AlarmActions``).
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        if (schedule is None) == (event_pattern is None):
            problems.add("give either schedule= (a scheduled rule) or event_pattern= (an event rule), exactly one")
        if schedule is not None and event_bus is not None:
            problems.add("a scheduled rule runs on the default bus only: drop event_bus= or use event_pattern=")
        routed = rule_to_route(
            self,
            target,
            RuleTargetOptions(
                message=message,
                dead_letter_queue=dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            ),
            where="target",
            side=RouteSide.SUCCESS,
            rule=events.RuleProps(
                description=description,
                enabled=enabled,
                schedule=schedule,
                event_pattern=event_pattern,
                event_bus=event_bus,
            ),
            problems=problems,
        )
        self.target = routed.bound
        self.rule = routed.rule
        self.dead_letter_queue = routed.dead_letter_queue
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        """The alarms of the queues this construct made (its target's DLQ, a queue route's queue and DLQ)."""
        options = alarms or AlarmOptions()
        claim_queue_alarms(self, self.alarms, enabled=options.enabled, actions=options.actions)


__all__ = ["EventPipeline"]
