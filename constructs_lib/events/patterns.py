"""EventBridge event patterns for execution records, so nobody writes that JSON by hand.

The three engines put the same record on an event bus, with the same detail types; they differ in ``source``
(``lambda`` for Lambda Destinations, ``constructs-lib.workflow`` for a ``FunctionWorkflow``,
``constructs-lib.durable`` for a ``DurableFunction``) and in the ARN the record carries as
``requestContext.functionArn`` (the function's, qualified with the version or alias that ran; the state machine's).
``result_event_pattern`` matches any of them; ``destination_event_pattern`` matches the records of functions
(Lambda Destinations and durable functions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from constructs_lib.records import DURABLE_EVENT_SOURCE, EVENT_SOURCE, WORKFLOW_EVENT_SOURCE, Condition

FUNCTION_SOURCES = [EVENT_SOURCE, DURABLE_EVENT_SOURCE]
"""The sources of records a function produces: Lambda Destinations' and a durable function's."""


def unqualified_function_arn(function: lambda_.IFunction) -> str:
    """The ARN of the function itself, also when given a version or an alias of it."""
    if hasattr(function, "alias_name") and hasattr(function, "version"):  # an alias
        return unqualified_function_arn(function.version.lambda_)
    if hasattr(function, "lambda_") and hasattr(function, "version"):  # a version
        return unqualified_function_arn(function.lambda_)
    return function.function_arn


def _as_pattern_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _as_pattern_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return [value]
    return value  # a Match or another token, used as is


def _record_pattern(
    sources: list[str],
    producer_arn: Any,
    conditions: Sequence[Condition] | None,
    error_types: Sequence[str] | None,
    response: Mapping[str, Any] | None,
) -> events.EventPattern:
    """The pattern of records from ``sources`` whose ``requestContext.functionArn`` matches ``producer_arn`` (a
    pattern value; None for any)."""
    conditions = list(conditions or [])
    if error_types and any(c is Condition.SUCCESS for c in conditions):
        raise ValueError(
            "error_types match failed invocations only; drop Condition.SUCCESS from conditions or drop error_types"
        )
    if error_types and not conditions:  # every failure any engine sends: the same rule after an engine switch
        conditions = [c for c in Condition if c.is_failure]
    detail_types = sorted({c.detail_type for c in conditions}) if conditions else None
    if detail_types is None:
        detail_types = sorted({c.detail_type for c in Condition})

    request_context: dict[str, Any] = {}
    if conditions:
        request_context["condition"] = [c.value for c in conditions]
    if producer_arn is not None:
        request_context["functionArn"] = producer_arn
    detail: dict[str, Any] = {}
    if request_context:
        detail["requestContext"] = request_context
    response_payload: dict[str, Any] = dict(_as_pattern_value(response)) if response else {}
    if error_types:
        response_payload["errorType"] = list(error_types)
    if response_payload:
        detail["responsePayload"] = response_payload
    return events.EventPattern(source=sources, detail_type=detail_types, detail=detail or None)


def result_event_pattern(
    *,
    function: lambda_.IFunction | None = None,
    state_machine: sfn.IStateMachine | None = None,
    conditions: Sequence[Condition] | None = None,
    error_types: Sequence[str] | None = None,
    response: Mapping[str, Any] | None = None,
) -> events.EventPattern:
    """An event pattern matching the execution records that any engine puts on an event bus: Lambda Destinations
    (``DestinedFunction``, source ``lambda``), ``FunctionWorkflow`` (source ``constructs-lib.workflow``) and
    ``DurableFunction`` (source ``constructs-lib.durable``). All send the same record under the same detail types.

    To match one producer's records whatever its engine, use its own ``result_event_pattern`` method
    (``DestinedFunction``, ``FunctionWorkflow`` and ``DurableFunction`` have one): it calls this with ``function=``
    or ``state_machine=``, so switching engines does not change the consumer's code.

    :param function: only the records of this function (Lambda Destinations' or its durable executions'),
        whichever version or alias ran (a prefix match on the unqualified ARN). :default: - records of every
        function and every workflow.
    :param state_machine: only the records of this workflow's state machine (its ARN is the records'
        ``requestContext.functionArn``). Give ``function`` or ``state_machine``, not both. :default: - records of
        every function and every workflow.
    :param conditions: only these conditions; Success and failure conditions can be mixed. :default: - every
        condition.
    :param error_types: only failures whose ``responsePayload.errorType`` is one of these (implies failure).
        :default: - any.
    :param response: fields of ``responsePayload`` to match: scalars match exactly, lists match any, and
        ``events.Match`` values are used as given. Nested mappings match nested fields. :default: - any.
    """
    if function is not None and state_machine is not None:
        raise ValueError(
            "give function= (Lambda Destinations records) or state_machine= (a FunctionWorkflow's records), not "
            "both: a record has one producer. Leave both out to match the records of every producer"
        )
    if function is not None:
        return _record_pattern(
            FUNCTION_SOURCES,
            events.Match.prefix(f"{unqualified_function_arn(function)}:"),
            conditions,
            error_types,
            response,
        )
    if state_machine is not None:
        return _record_pattern(
            [WORKFLOW_EVENT_SOURCE], [state_machine.state_machine_arn], conditions, error_types, response
        )
    return _record_pattern([*FUNCTION_SOURCES, WORKFLOW_EVENT_SOURCE], None, conditions, error_types, response)


def destination_event_pattern(
    *,
    function: lambda_.IFunction | None = None,
    conditions: Sequence[Condition] | None = None,
    error_types: Sequence[str] | None = None,
    response: Mapping[str, Any] | None = None,
) -> events.EventPattern:
    """An event pattern matching the execution records of functions: those Lambda Destinations put on an event bus
    (source ``lambda``) and those a ``DurableFunction`` puts there (source ``constructs-lib.durable``, the same
    record), so a consumer keeps its rule when a function becomes durable; ``result_event_pattern`` matches a
    ``FunctionWorkflow``'s records too.

    :param function: only records of this function, whichever version or alias ran (prefix match on the ARN).
    :param conditions: only these conditions; Success and failure conditions can be mixed.
    :param error_types: only failures whose ``responsePayload.errorType`` is one of these (implies failure).
    :param response: fields of ``responsePayload`` to match: scalars match exactly, lists match any, and
        ``events.Match`` values are used as given. Nested mappings match nested fields.
    :default: every execution record of every function.
    """
    if function is not None:
        return result_event_pattern(
            function=function, conditions=conditions, error_types=error_types, response=response
        )
    return _record_pattern(FUNCTION_SOURCES, None, conditions, error_types, response)
