"""EventBridge event patterns for Lambda Destinations execution records, so nobody writes that JSON by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_

from constructs_lib.records import EVENT_SOURCE, Condition


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


def destination_event_pattern(
    *,
    function: lambda_.IFunction | None = None,
    conditions: Sequence[Condition] | None = None,
    error_types: Sequence[str] | None = None,
    response: Mapping[str, Any] | None = None,
) -> events.EventPattern:
    """An event pattern matching execution records that Lambda Destinations put on an event bus.

    :param function: only records of this function, whichever version or alias ran (prefix match on the ARN).
    :param conditions: only these conditions; Success and failure conditions can be mixed.
    :param error_types: only failures whose ``responsePayload.errorType`` is one of these (implies failure).
    :param response: fields of ``responsePayload`` to match: scalars match exactly, lists match any, and
        ``events.Match`` values are used as given. Nested mappings match nested fields.
    :default: every execution record of every function.
    """
    conditions = list(conditions or [])
    if error_types and any(c is Condition.SUCCESS for c in conditions):
        raise ValueError(
            "error_types match failed invocations only; drop Condition.SUCCESS from conditions or drop error_types"
        )
    if error_types and not conditions:
        conditions = [Condition.RETRIES_EXHAUSTED, Condition.EVENT_AGE_EXCEEDED]
    detail_types = sorted({c.detail_type for c in conditions}) if conditions else None
    if detail_types is None:
        detail_types = sorted({c.detail_type for c in Condition})

    request_context: dict[str, Any] = {}
    if conditions:
        request_context["condition"] = [c.value for c in conditions]
    if function is not None:
        request_context["functionArn"] = events.Match.prefix(f"{unqualified_function_arn(function)}:")
    detail: dict[str, Any] = {}
    if request_context:
        detail["requestContext"] = request_context
    response_payload: dict[str, Any] = dict(_as_pattern_value(response)) if response else {}
    if error_types:
        response_payload["errorType"] = list(error_types)
    if response_payload:
        detail["responsePayload"] = response_payload
    return events.EventPattern(source=[EVENT_SOURCE], detail_type=detail_types, detail=detail or None)
