"""EventBridge target delivery: each target of a matched rule gets the event (or its ``Input``, ``InputPath`` or
input transformer's rendering). A delivery that fails with a retriable error (throttling, a 5xx) is retried with
exponential backoff, in virtual time, until the target's ``RetryPolicy`` runs out; it then goes to the target's
dead-letter queue with EventBridge's attributes, or is lost with a warning. Errors that no retry can fix (missing
permissions, a target that does not exist, a bad request) go there at once."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.authorizer import AccessDenied
from constructs_lib.testing._engine.event_shapes import json_text, now_iso, scheduled_event
from constructs_lib.testing.errors import KitError
from constructs_lib.testing.results import parse_json

if TYPE_CHECKING:
    from constructs_lib.testing._engine.runner import KitEngine

_EVENTS = "events.amazonaws.com"
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_SECONDS = 86_400
"""EventBridge's default retry policy: 185 attempts within 24 hours."""
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
"""The kit's backoff between retries: 1 s, doubling, at most 5 minutes (AWS documents exponential backoff with
jitter, not its intervals; the kit leaves the jitter out so that runs repeat)."""
_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "ProvisionedThroughputExceededException",
    "KMS.ThrottlingException",
}
_NO_RESOURCE = {
    "ResourceNotFoundException",
    "NotFound",
    "NotFoundException",
    "NonExistentQueue",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "StateMachineDoesNotExist",
}
_PATH_PART = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


class RuleTargets:
    """Delivers matched events to the targets of the stack's rules."""

    def __init__(self, engine: KitEngine) -> None:
        self._engine = engine

    def deliver(self, rule: Any, event: dict[str, Any]) -> None:
        """Deliver ``event`` to every target of ``rule`` (moto's rule object), each with its retry policy."""
        for target in list(rule.targets):
            self._deliver_with_retries(rule, target, event)

    def _deliver_with_retries(self, rule: Any, target: Mapping[str, Any], event: dict[str, Any]) -> None:
        policy = target.get("RetryPolicy") or {}
        max_retries = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_SECONDS))
        started = time.monotonic()
        waited = 0.0
        retries = 0
        while True:
            try:
                self._deliver(rule, target, target_input(target, event, rule), event)
                return
            except Exception as error:
                code, retriable = error_code(error)
                exhausted = None
                if retriable:
                    delay = min(FIRST_BACKOFF_SECONDS * 2**retries, MAX_BACKOFF_SECONDS)
                    if retries >= max_retries:
                        exhausted = "MaximumRetryAttempts"
                    elif time.monotonic() - started + waited + delay > max_age:
                        exhausted = "MaximumEventAgeInSeconds"
                    else:
                        waited += delay  # virtual time: the retry is not slept
                        retries += 1
                        continue
                self._failed(rule, target, event, error, code=code, retries=retries, exhausted=exhausted)
                return

    def fire(self, rule_ref: str) -> None:
        """Send a schedule rule's ``Scheduled Event`` to its targets (``rule_ref``: the rule's ``Ref`` value)."""
        bus, _, name = rule_ref.rpartition("|")  # "<bus>|<name>", or the name alone on the default bus
        found = self._engine.events_backend().describe_rule(name, bus or "default")
        stack = self._engine.stack
        self.deliver(found, scheduled_event(found.arn, account=stack.account, region=stack.region))

    def _deliver(self, rule: Any, target: Mapping[str, Any], payload: Any, event: Mapping[str, Any]) -> None:
        engine = self._engine
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        # EventBridge delivers with the target's role where it has one (state machines, buses), and as itself to
        # queues, topics, functions and log groups (their resource policies must let the rule in).
        principal = str(target.get("RoleArn") or _EVENTS)

        def call(service: str, operation: str, **params: Any) -> Any:
            # One attempt per call: EventBridge's retry policy, not the SDK's, decides what is retried.
            return engine.call(
                principal, service, operation, source_arn=rule.arn, via="rule-target", sdk_retries=False, **params
            )

        def authorize(action: str) -> None:
            engine.authorize(principal, action, arn, source_arn=rule.arn, via="rule-target")

        if service == "sqs":
            request: dict[str, Any] = {"QueueUrl": engine.queue_url(arn), "MessageBody": json_text(payload)}
            group = target.get("SqsParameters", {}).get("MessageGroupId")
            if group:
                request["MessageGroupId"] = group
                request["MessageDeduplicationId"] = str(event.get("id", uuid.uuid4()))
            call("sqs", "send_message", **request)
        elif service == "sns":
            call("sns", "publish", TopicArn=arn, Message=json_text(payload))
        elif service == "kinesis":
            # The partition key: the target's PartitionKeyPath into the event, else the event's id (as EventBridge).
            path = target.get("KinesisParameters", {}).get("PartitionKeyPath")
            key = json_path(event, str(path)) if path else None
            call(
                "kinesis",
                "put_record",
                StreamARN=arn,
                Data=json_text(payload).encode(),
                PartitionKey=str(key if key is not None else event.get("id", uuid.uuid4())),
            )
        elif service == "lambda":
            local = engine.resources.function_by_physical_name(arn)
            if local is None:
                raise KitError(f"{arn} is not a function of this stack")
            authorize("lambda:InvokeFunction")
            engine.service_invoke(local, arn, payload, "events")
        elif service == "states":
            call(
                "stepfunctions",
                "start_execution",
                stateMachineArn=arn,
                input=json.dumps(payload),
                name=str(uuid.uuid4()),
            )
        elif service == "events" and ":event-bus/" in arn:
            call(
                "events",
                "put_events",
                Entries=[
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "EventBusName": arn,
                        "Resources": list(event.get("resources", [])),
                    }
                ],
            )
        elif service == "logs":
            authorize("logs:CreateLogStream")
            authorize("logs:PutLogEvents")
        else:
            raise KitError(f"the kit does not deliver to {service} targets")

    def _failed(
        self,
        rule: Any,
        target: Mapping[str, Any],
        event: Mapping[str, Any],
        error: Exception,
        *,
        code: str,
        retries: int,
        exhausted: str | None,
    ) -> None:
        engine = self._engine
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        after = f" after {retries} retries ({exhausted})" if exhausted else ""
        message = f"rule {rule.name}: delivery to {target.get('Arn')} failed{after}: {code}: {error}"
        if not dead_letter:
            engine.warnings.append(message + " (the target has no dead-letter queue: the event is lost)")
            return
        engine.warnings.append(message + " (sent to the target's dead-letter queue)")
        attributes = {
            "RULE_ARN": rule.arn,
            "TARGET_ARN": str(target.get("Arn")),
            "ERROR_CODE": code,
            "ERROR_MESSAGE": _error_message(error)[:1024],
            "RETRY_ATTEMPTS": str(retries),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        try:
            engine.call(
                _EVENTS,
                "sqs",
                "send_message",
                source_arn=rule.arn,
                via="rule-target-dead-letter",
                QueueUrl=engine.queue_url(dead_letter),
                MessageBody=json.dumps(event),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
                },
            )
        except Exception as dlq_error:
            engine.warnings.append(f"rule {rule.name}: its dead-letter queue {dead_letter} failed too: {dlq_error}")


def error_code(error: Exception) -> tuple[str, bool]:
    """EventBridge's ``ERROR_CODE`` for a failed delivery, and whether EventBridge retries it (throttling and 5xx
    answers are retried; missing permissions, a missing target and other 4xx answers are not)."""
    if isinstance(error, AccessDenied):
        return "NO_PERMISSIONS", False
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return "SDK_CLIENT_ERROR", False  # no answer from the target at all (the kit cannot deliver there)
    aws_code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) or 400)
    denied = "AccessDenied" in aws_code or aws_code.startswith("KMS.") or aws_code == "AuthorizationError"
    found = (
        ("THROTTLING", True, aws_code in _THROTTLING or status == 429),
        ("NO_PERMISSIONS", False, denied),
        ("NO_RESOURCE", False, aws_code in _NO_RESOURCE),
        ("ERROR_FROM_TARGET", True, status >= 500),
    )
    return next(((code, retried) for code, retried, applies in found if applies), ("INVALID_PARAMETER", False))


def _error_message(error: Exception) -> str:
    """The target's own message where it answered (not the SDK's wrapping of it)."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping) and response.get("Error", {}).get("Message"):
        return str(response["Error"]["Message"])
    return str(error)


def target_input(target: Mapping[str, Any], event: Any, rule: Any = None) -> Any:
    """What a target gets: its constant ``Input``, the ``InputPath`` of the event, the transformer's, or the event."""
    if "Input" in target:
        return parse_json(target["Input"])
    if "InputPath" in target:
        return json_path(event, str(target["InputPath"]))
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return transform(event, transformer.get("InputPathsMap", {}), str(transformer["InputTemplate"]), rule)
    return event


def json_path(value: Any, path: str) -> Any:
    """The JSONPath subset EventBridge input paths use: ``$.a.b``, ``$.a[0]``, ``$['a-b']``."""
    if path in ("$", ""):
        return value
    rest = path[1:] if path.startswith("$") else "." + path
    position = 0
    while position < len(rest):
        match = _PATH_PART.match(rest, position)
        if match is None:
            return None
        key: Any = match.group(1) if match.group(1) is not None else match.group(3)
        if key is None:
            index = int(match.group(2))
            if not isinstance(value, list) or index >= len(value):
                return None
            value = value[index]
        else:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        position = match.end()
    return value


def transform(event: Any, paths: Mapping[str, str], template: str, rule: Any) -> Any:
    """An EventBridge input transformer: placeholders inside quotes are escaped text, outside they are JSON."""
    values: dict[str, Any] = {name: json_path(event, path) for name, path in paths.items()}
    values["aws.events.event"] = event
    values["aws.events.event.json"] = event
    values["aws.events.rule-name"] = getattr(rule, "name", "")
    values["aws.events.rule-arn"] = getattr(rule, "arn", "")
    values["aws.events.event.ingestion-time"] = now_iso(milliseconds=False)
    text = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == '"' and (position == 0 or template[position - 1] != "\\"):
            in_string = not in_string
        match = _PLACEHOLDER.match(template, position) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                text.append(json.dumps(value if isinstance(value, str) else json.dumps(value))[1:-1])
            else:
                text.append(json.dumps(value))
            position = match.end()
            continue
        text.append(char)
        position += 1
    return parse_json("".join(text))
