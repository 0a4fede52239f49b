"""``add_result_rule`` of every engine: an EventBridge rule on the engine's event bus route that takes the
engine's records to another route. The engines differ only in the pattern of their records and in the conditions
they send, so a consumer's rule is the same call on each."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib._internal.validation import Problems
from constructs_lib.records import Condition
from constructs_lib.routes import BoundRoute, Route, RouteSide, RuleTargetOptions, check_rule_target, render_rule_target


class ResultRuleEngine(Protocol):
    """What ``add_result_rule`` reads from an engine, and the lists it adds the rule and its DLQ to."""

    @property
    def node(self) -> Any: ...

    success_route: BoundRoute | None
    failure_route: BoundRoute
    rules: list[events.Rule]
    rule_dead_letter_queues: list[sqs.IQueue]

    def result_event_pattern(
        self,
        *,
        conditions: Sequence[Condition] | None = None,
        error_types: Sequence[str] | None = None,
        response: Mapping[str, Any] | None = None,
    ) -> events.EventPattern: ...


@dataclass(frozen=True)
class ResultRuleRequest:
    """What ``add_result_rule`` was asked for, as its caller's keyword arguments name it."""

    route: Route
    conditions: Sequence[Condition] | None
    error_types: Sequence[str] | None
    response: Mapping[str, Any] | None
    message: events.RuleTargetInput | None
    retry_attempts: int | None
    max_event_age: Duration | None


def add_result_rule(
    engine: ResultRuleEngine, rule_id: str, request: ResultRuleRequest, *, sent: Collection[Condition]
) -> events.Rule:
    """Check the request, then make the rule ``rule_id`` in ``engine`` on the event bus of the records' side, its
    target (``{rule_id}Target``) and the target's DLQ. ``sent`` names the conditions the engine's records carry: a
    rule that asks only for others would never match, so it is refused. The rule and the DLQ are added to the
    engine's ``rules`` and ``rule_dead_letter_queues``; returns the rule."""
    scope = cast(Construct, engine)  # every engine is a construct; the protocol names what is read from it
    success_route, failure_route = engine.success_route, engine.failure_route
    where = f"add_result_rule({rule_id!r})"
    engine_name = type(engine).__name__
    problems = Problems()
    conditions = request.conditions
    if conditions is None:
        # every failure any engine sends (one the engine never sends does no harm): the same rule after a switch
        conditions = [c for c in Condition if c.is_failure] if request.error_types else [Condition.SUCCESS]
    elif not conditions:
        problems.add(f"{where}: conditions is empty; leave it out or name at least one")
    elif not set(conditions) & set(sent):
        problems.add(
            f"{where}: a {engine_name} sends no record with condition {', '.join(c.value for c in conditions)} "
            f"(it sends {', '.join(c.value for c in Condition if c in sent)}), so the rule would never match"
        )
    wants_success = Condition.SUCCESS in conditions
    wants_failure = bool(request.error_types) or any(c.is_failure for c in conditions)
    if wants_success and wants_failure:
        problems.add(f"{where}: success and failure records go to different routes; add one rule per side")
    bound = success_route if wants_success else failure_route
    side = "on_success" if wants_success else "on_failure"
    if bound is None or bound.event_bus is None:
        got = repr(bound.route) if bound is not None else "none"
        problems.add(
            f"{where} matches records on an event bus: set {side}=EventBusRoute(...) on this {engine_name} "
            f"(got {side}={got})"
        )
    message = request.message if request.message is not None else request.route.record_message()
    options = RuleTargetOptions(
        message=message, retry_attempts=request.retry_attempts, max_event_age=request.max_event_age
    )
    check_rule_target(
        request.route, RouteSide.SUCCESS if wants_success else RouteSide.FAILURE, options, problems, where=where
    )
    problems.raise_if_any(scope)
    assert bound is not None
    assert bound.event_bus is not None
    target_bound = request.route.bind(scope, f"{rule_id}Target")
    target, dlq = render_rule_target(scope, rule_id, target_bound, options)
    rule = events.Rule(
        scope,
        rule_id,
        event_bus=bound.event_bus,
        event_pattern=engine.result_event_pattern(
            conditions=conditions, error_types=request.error_types, response=request.response
        ),
        targets=[target],
    )
    engine.rules.append(rule)
    engine.rule_dead_letter_queues.append(dlq)
    return rule
