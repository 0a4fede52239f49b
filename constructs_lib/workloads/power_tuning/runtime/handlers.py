"""Lambda Power Tuning, the AWS part: the state machine's three functions.

- ``initialize`` (Initializer): validate the input, then for each memory value, one after the other (Lambda
  refuses concurrent configuration updates), set the memory of ``$LATEST``, wait until the update is done, publish
  a version and point the alias ``RAM<memory>`` at it; finally give ``$LATEST`` its memory and description back.
  If the time left runs short it returns ``setup.done = false`` and the state machine calls it again to go on.
  With ``architectures``, it makes the versions of each architecture in turn (switching ``$LATEST``'s architecture
  with its own code, then switching it back).
- ``execute`` (Executor, once per memory value, in parallel): invoke the alias N times (serially or in parallel),
  read each REPORT from the log tail, return the value's statistics (a list of them, one per architecture, with
  ``architectures``). A failed invocation raises ``InvocationError`` unless its error type is allowed.
- ``finalize`` (Finalizer): delete every alias and version this execution made, choose the best value, and
  optimise if asked; with ``action = "cleanUp"`` (after a failure) it only cleans up.

Every version and alias made carries the description ``power-tuning <execution name> RAM<memory>...``: the
clean-up deletes exactly those, and tolerates what is already gone.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if __package__:  # imported as constructs_lib.workloads.power_tuning.runtime.handlers (tests, type checks)
    from . import tuning
else:  # the Lambda runtime imports this file as a top-level module: its folder is the import root
    import tuning  # type: ignore[no-redef,import-not-found]

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

SETUP_BUDGET_MS = 60_000
"""The initializer stops setting values up when less than this is left, and asks to be called again."""
POLL_SECONDS = 1.0
MAX_PARALLEL = 64
MAX_EXECUTION_NAME = 80
"""Step Functions execution names are 1 to 80 characters."""
NOT_FOUND = frozenset({"ResourceNotFoundException", "NotFoundException", "404"})
CONFLICT = frozenset({"ResourceConflictException", "ConflictException"})
_RESTORE = re.compile(r"\(restore (\d+) MB(?: (x86_64|arm64))?\)$")
NO_SUCH_OBJECT = frozenset({"NoSuchKey", "NoSuchBucket", "404"})

InvalidInputError = tuning.InvalidInputError
LogReportError = tuning.LogReportError


class InvocationError(RuntimeError):
    """The tuned function failed (FunctionError): the tuning stops, cleans up, and fails with this cause."""


class ProcessorError(RuntimeError):
    """The pre- or post-processor failed."""


class SetupError(RuntimeError):
    """A configuration update of the tuned function failed (LastUpdateStatus or State Failed)."""


# -- clients -------------------------------------------------------------------------------------------------
_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()
_CONFIG = Config(retries={"max_attempts": 10, "mode": "standard"}, read_timeout=900, connect_timeout=10)


def lambda_client(region: str) -> Any:
    """One Lambda client per region, made once (the tuned function may live in another region)."""
    with _CLIENTS_LOCK:
        if region not in _CLIENTS:
            _CLIENTS[region] = boto3.client("lambda", region_name=region, config=_CONFIG)
        return _CLIENTS[region]


def s3_client() -> Any:
    """The S3 client that reads ``payloadS3`` objects, made once."""
    with _CLIENTS_LOCK:
        if "s3" not in _CLIENTS:
            _CLIENTS["s3"] = boto3.client("s3", config=_CONFIG)
        return _CLIENTS["s3"]


def _allowed() -> list[str]:
    value = os.environ.get("ALLOWED_FUNCTIONS", "")
    return [str(item) for item in json.loads(value)] if value else []


def _payload_objects() -> list[str]:
    """The ``bucket/key-pattern`` entries a ``payloadS3`` may name (the construct's ``payload_objects``)."""
    value = os.environ.get("PAYLOAD_OBJECTS", "")
    return [str(item) for item in json.loads(value)] if value else []


def _architecture_changes() -> bool:
    """Whether the construct lets the tuner switch a function's architecture (``allow_architecture_changes``)."""
    return os.environ.get("ARCHITECTURE_CHANGES", "") == "true"


def _default_power_values() -> tuple[int, ...]:
    value = os.environ.get("DEFAULT_POWER_VALUES", "")
    return tuple(int(v) for v in value.split(",") if v.strip()) or tuning.DEFAULT_POWER_VALUES


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def marker(execution: str) -> str:
    """The start of the description of everything ``execution`` makes."""
    return f"{tuning.MARKER_PREFIX} {execution} {tuning.ALIAS_PREFIX}"


# -- the events the state machine sends ------------------------------------------------------------------------
def _event(event: object, what: str) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidInputError([f"the {what}'s event must be a JSON object, got {type(event).__name__}"])
    return event


def _execution(event: Mapping[str, Any]) -> str:
    """The execution's name (``$$.Execution.Name``): the descriptions of what this run makes carry it."""
    name = event.get("execution")
    if isinstance(name, str) and 0 < len(name) <= MAX_EXECUTION_NAME and name.isprintable():
        return name
    raise InvalidInputError(
        [f"execution must be the execution's name (1 to {MAX_EXECUTION_NAME} characters), got {tuning.shown(name)}"]
    )


def _original(raw: object) -> dict[str, Any] | None:
    """A saved configuration of ``$LATEST`` (``{"memorySize", "description"}``), or None when it is not one."""
    if not isinstance(raw, Mapping):
        return None
    memory, description = raw.get("memorySize"), raw.get("description", "")
    architecture = raw.get("architecture")
    if not tuning.is_whole(memory) or not tuning.MIN_MEMORY <= memory <= tuning.MAX_MEMORY:
        return None
    if architecture is not None and architecture not in tuning.ARCHITECTURES:
        return None
    if not isinstance(description, str):
        return None
    found: dict[str, Any] = {"memorySize": memory, "description": description}
    if architecture is not None:
        found["architecture"] = architecture
    return found


def _setup_state(raw: object, steps: int) -> dict[str, Any]:
    """The progress of an unfinished setup, as ``initialize`` returned it and the state machine passes it back."""
    if not isinstance(raw, Mapping):
        raise InvalidInputError([f"setup must be the object the initializer returned, got {tuning.shown(raw)}"])
    problems: list[str] = []
    start, rounds = raw.get("next"), raw.get("rounds", 0)
    if not tuning.is_whole(start) or not 0 <= start <= steps:
        problems.append(f"setup.next must be a whole number from 0 to {steps}, got {tuning.shown(start)}")
    if not tuning.is_whole(rounds) or not 0 <= rounds <= steps:  # each round sets one value up at least
        problems.append(f"setup.rounds must be a whole number from 0 to {steps}, got {tuning.shown(rounds)}")
    if "original" in raw and _original(raw["original"]) is None:
        problems.append(
            'setup.original must be {"memorySize": <MB>, "description": <text>, "architecture": <optional>}, got '
            f"{tuning.shown(raw['original'])}"
        )
    if problems:
        raise InvalidInputError(problems)
    return dict(raw)


def _memory_value(raw: object, config: tuning.TuningInput) -> int:
    """The memory value an executor tunes: one of the run's power values."""
    value = int(raw) if isinstance(raw, float) and raw.is_integer() else raw
    if not tuning.is_whole(value) or value not in config.power_values:
        raise InvalidInputError(
            [f"value must be one of powerValues {tuning.shown(list(config.power_values))}, got {tuning.shown(raw)}"]
        )
    assert isinstance(value, int)
    return value


def _configuration(client: Any, arn: str, qualifier: str | None = None) -> dict[str, Any]:
    """The configuration of the function (or of its alias ``qualifier``). One that does not exist is an input
    error: the ARN, or the memory value, names nothing this run can tune."""
    request = {"FunctionName": arn, **({"Qualifier": qualifier} if qualifier else {})}
    try:
        found: dict[str, Any] = client.get_function_configuration(**request)
    except ClientError as error:
        if _error_code(error) not in NOT_FOUND:
            raise
        where = f"{arn}:{qualifier}" if qualifier else arn
        raise InvalidInputError([f"lambdaARN: {where} does not exist ({_error_code(error)})"]) from error
    return found


# -- initialize ----------------------------------------------------------------------------------------------
def initialize(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{"input": <execution input>, "execution": name}`` the first time; ``{"config", "setup", "execution"}``
    to go on with an unfinished setup."""
    event = _event(event, "initializer")
    execution = _execution(event)
    if "setup" in event:
        config = tuning.parse_input(event.get("config"), allowed=_allowed(), payload_objects=_payload_objects())
        setup = _setup_state(event["setup"], setup_steps(config))
    else:
        config = tuning.parse_input(
            event.get("input"),
            default_power_values=_default_power_values(),
            allowed=_allowed(),
            payload_objects=_payload_objects(),
        )
        setup = {"next": 0, "done": False, "rounds": 0}
    client = lambda_client(config.region)
    setup = run_setup(
        client,
        config,
        execution,
        setup,
        remaining_ms=context.get_remaining_time_in_millis,
        architecture_changes=_architecture_changes(),
    )
    return {"config": config.to_json(), "setup": setup, "execution": execution}


def setup_steps(config: tuning.TuningInput) -> int:
    """How many versions the setup makes: ``len(setup_plan(config))``, without making the plan."""
    per_value = config.invocations if config.only_cold_starts else 1
    return len(config.power_values) * len(config.tuned_architectures()) * per_value


def setup_plan(config: tuning.TuningInput) -> list[tuple[str | None, int, str]]:
    """(architecture, memory, alias) triples, in order: one alias per value (per architecture, with
    ``architectures``), or one per invocation with onlyColdStarts. The architecture is None for the function's
    own."""
    return [
        (architecture, value, alias)
        for architecture in config.tuned_architectures()
        for value in config.power_values
        for alias in config.aliases(value, architecture)
    ]


def architecture_of(configuration: Mapping[str, Any]) -> str:
    return str((configuration.get("Architectures") or ["x86_64"])[0])


def run_setup(
    client: Any,
    config: tuning.TuningInput,
    execution: str,
    setup: dict[str, Any],
    *,
    remaining_ms: Callable[[], int],
    architecture_changes: bool = False,
) -> dict[str, Any]:
    """Make the versions and aliases of the plan from ``setup["next"]`` on, while time allows."""
    arn = config.lambda_arn
    current = _configuration(client, arn)
    if "original" not in setup:
        setup["original"] = {
            "memorySize": current["MemorySize"],
            "description": current.get("Description", ""),
            "architecture": architecture_of(current),
        }
    original = setup["original"]
    own = original.get("architecture", architecture_of(current))
    foreign = [a for a in config.architectures or () if a != own]
    if foreign and not architecture_changes:
        raise InvalidInputError(
            [
                f"architectures {list(config.architectures or ())} needs the tuner to switch {arn} (which is {own}) "
                f"to {', '.join(foreign)}: the construct's allow_architecture_changes is off"
            ]
        )
    plan = setup_plan(config)
    start = int(setup["next"])
    setup["rounds"] = int(setup.get("rounds", 0)) + 1
    code: dict[str, Any] | None = None
    running = architecture_of(current)
    try:
        for index in range(start, len(plan)):
            if index > start and remaining_ms() < SETUP_BUDGET_MS:
                setup["next"] = index
                setup["done"] = False
                return setup
            architecture, value, alias = plan[index]
            if architecture is not None and architecture != running:
                code = code or function_code(client, arn)
                set_architecture(client, arn, architecture, code)
                running = architecture
            description = (
                f"{marker(execution)}{alias.removeprefix(tuning.ALIAS_PREFIX)} "
                f"(restore {original['memorySize']} MB{' ' + own if config.architectures else ''})"
            )
            version = publish(client, arn, value, description)
            point_alias(client, arn, alias, version, description)
            LOGGER.info("%s -> version %s (%s MB)", alias, version, value)
        restore(client, arn, original, code=code)
    except Exception:
        LOGGER.exception("setup failed: giving %s its configuration back", arn)
        try:
            restore(client, arn, original, code=code)
        except Exception:
            LOGGER.exception("could not restore %s", arn)
        raise
    setup["next"] = len(plan)
    setup["done"] = True
    return setup


def function_code(client: Any, arn: str) -> dict[str, Any]:
    """What UpdateFunctionCode needs to put the function's own code back: its image, or its .zip file's bytes
    (downloaded from the presigned URL that GetFunction gives)."""
    found = client.get_function(FunctionName=arn)
    code = found.get("Code") or {}
    if code.get("ImageUri"):
        return {"ImageUri": code["ImageUri"]}
    location = code.get("Location")
    if not isinstance(location, str) or not location.startswith("https://"):
        raise SetupError(f"{arn}: GetFunction gave no code location to switch its architecture with")
    return {"ZipFile": download(location)}


def download(url: str) -> bytes:
    """The body at ``url`` (a presigned S3 URL of the function's code)."""
    with urllib.request.urlopen(url, timeout=120) as response:  # https only: function_code checks
        body: bytes = response.read()
    return body


def set_architecture(client: Any, arn: str, architecture: str, code: Mapping[str, Any]) -> None:
    """Give ``$LATEST`` ``architecture``, with its own code (Lambda changes the architecture only with the code)."""
    try:
        client.update_function_code(FunctionName=arn, Architectures=[architecture], **code)
    except ClientError as error:
        raise SetupError(f"{arn}: could not switch to {architecture}: {error}") from error
    wait_updated(client, arn)


def publish(client: Any, arn: str, memory: int, description: str) -> str:
    """Set ``$LATEST``'s memory and a description of ours (so that a version is always published), wait, publish."""
    client.update_function_configuration(FunctionName=arn, MemorySize=memory, Description=description)
    wait_updated(client, arn)
    answer = client.publish_version(FunctionName=arn, Description=description)
    return str(answer["Version"])


def point_alias(client: Any, arn: str, alias: str, version: str, description: str) -> None:
    try:
        client.create_alias(FunctionName=arn, Name=alias, FunctionVersion=version, Description=description)
    except ClientError as error:
        if _error_code(error) not in CONFLICT:
            raise
        client.update_alias(FunctionName=arn, Name=alias, FunctionVersion=version, Description=description)


def restore(client: Any, arn: str, original: Mapping[str, Any], *, code: Mapping[str, Any] | None = None) -> None:
    """Give ``$LATEST`` its architecture (when the original names one and it differs), then its memory and
    description (last: while the description is ours, a clean-up knows the function is not restored yet)."""
    architecture = original.get("architecture")
    if architecture is not None and architecture_of(_configuration(client, arn)) != architecture:
        set_architecture(client, arn, str(architecture), code or function_code(client, arn))
    client.update_function_configuration(
        FunctionName=arn, MemorySize=int(original["memorySize"]), Description=str(original.get("description", ""))
    )
    wait_updated(client, arn)


def wait_updated(client: Any, arn: str, qualifier: str | None = None, timeout: float = 300.0) -> dict[str, Any]:
    """Poll until the function (or version) is Active and its last update Successful; return its configuration."""
    deadline = time.monotonic() + timeout
    while True:
        found = _configuration(client, arn, qualifier)
        state, update = found.get("State", "Active"), found.get("LastUpdateStatus", "Successful")
        if state == "Failed" or update == "Failed":
            reason = found.get("LastUpdateStatusReason") or found.get("StateReason") or "no reason given"
            raise SetupError(f"{arn}{':' + qualifier if qualifier else ''}: update failed: {reason}")
        if state == "Active" and update == "Successful":
            return found
        if time.monotonic() > deadline:
            raise SetupError(f"{arn}: still {state}/{update} after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)


# -- execute -------------------------------------------------------------------------------------------------
def execute(event: Mapping[str, Any], context: Any) -> dict[str, Any] | list[dict[str, Any]]:
    """``{"value": <memory>, "config": {...}}``: invoke the value's alias(es) and return its statistics; with
    ``architectures``, a list of them, one per architecture (tuned at the same time: they are distinct versions)."""
    event = _event(event, "executor")
    config = tuning.parse_input(event.get("config"), payload_objects=_payload_objects())
    value = _memory_value(event.get("value"), config)
    client = lambda_client(config.region)
    payloads = tuning.payloads_for(load_payload(config), config.num)[: config.invocations]
    architectures = config.tuned_architectures()
    if len(architectures) == 1:
        results = [execute_value(client, config, value, architectures[0], payloads)]
    else:
        with ThreadPoolExecutor(max_workers=len(architectures)) as pool:
            results = list(pool.map(lambda a: execute_value(client, config, value, a, payloads), architectures))
    return results[0] if config.architectures is None else results


def load_payload(config: tuning.TuningInput) -> Any:
    """The payload as given, or the content of the ``payloadS3`` object: JSON if it parses, else its text (as the
    reference reads it)."""
    if config.payload_s3 is None:
        return config.payload
    problems: list[str] = []
    found = tuning.parse_s3_uri(config.payload_s3, problems)
    if found is None:
        raise InvalidInputError(problems)
    bucket, key = found
    try:
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        code = _error_code(error)
        if code in NO_SUCH_OBJECT:
            raise InvalidInputError([f"payloadS3: s3://{bucket}/{key} does not exist ({code})"]) from error
        if code in ("AccessDenied", "403"):
            raise InvalidInputError(
                [
                    f"payloadS3: the tuner may not read s3://{bucket}/{key} (AccessDenied; S3 also answers so for a "
                    "missing object when the reader may not list the bucket): check the object, the construct's "
                    "payload_objects, and the bucket's policy and KMS key"
                ]
            ) from error
        raise
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError([f"payloadS3: s3://{bucket}/{key} is not UTF-8 text"]) from None
    try:
        return json.loads(text)
    except ValueError:
        return text


def execute_value(
    client: Any, config: tuning.TuningInput, value: int, architecture: str | None, payloads: tuple[Any, ...]
) -> dict[str, Any]:
    """Invoke ``value``'s alias(es) on ``architecture`` (None: the function's own) once per payload."""
    aliases = config.aliases(value, architecture)
    ready = wait_updated(client, config.lambda_arn, aliases[0])
    found = architecture_of(ready)
    if architecture is not None and found != architecture:
        raise SetupError(f"{config.lambda_arn}:{aliases[0]} is {found}, not {architecture}")

    def run(index: int) -> tuple[tuning.Report, bool]:
        alias = aliases[index] if config.only_cold_starts else aliases[0]
        if config.only_cold_starts and index:
            wait_updated(client, config.lambda_arn, alias)
        return invoke_once(client, config, alias, payloads[index])

    outcomes: list[tuple[tuning.Report, bool]]
    if config.parallel_invocation:
        with ThreadPoolExecutor(max_workers=min(len(payloads), MAX_PARALLEL)) as pool:
            outcomes = list(pool.map(run, range(len(payloads))))
    else:
        outcomes = []
        for index in range(len(payloads)):
            if index and config.sleep_between_runs_ms:
                time.sleep(config.sleep_between_runs_ms / 1000)
            outcomes.append(run(index))
    stats = tuning.value_stats(
        value,
        [report for report, _ in outcomes],
        discard=config.discard,
        architecture=found,
        prices=config.prices(),
        allowed_errors=sum(1 for _, allowed in outcomes if allowed),
    )
    return stats.to_json()


def invoke_once(client: Any, config: tuning.TuningInput, alias: str, payload: Any) -> tuple[tuning.Report, bool]:
    """One invocation (with the pre- and post-processors): its report, and whether it failed with an allowed
    error type."""
    data = tuning.encode_payload(payload)
    if config.pre_processor_arn:
        processed, raw = invoke_processor(client, config.pre_processor_arn, data, "pre", config)
        if processed not in (None, "", {}):
            data = raw
    answer = client.invoke(FunctionName=config.lambda_arn, Qualifier=alias, Payload=data, LogType="Tail")
    body = answer["Payload"].read()
    allowed = False
    if answer.get("FunctionError"):
        error_type = _error_type(body)
        if error_type is None or error_type not in config.allowed_exceptions:
            shown = "" if config.disable_payload_logs else f" with payload {data[:500].decode(errors='replace')}"
            raise InvocationError(
                f"{config.lambda_arn}:{alias} failed ({answer['FunctionError']}){shown}: "
                f"{body[:2000].decode(errors='replace')}"
            )
        LOGGER.info("%s:%s raised %s, an allowed exception", config.lambda_arn, alias, error_type)
        allowed = True
    log_result = answer.get("LogResult") or b""
    try:
        log_tail = base64.b64decode(log_result, validate=True).decode(errors="replace")
    except ValueError:  # binascii.Error, or a str that is not ASCII
        raise LogReportError(
            f"{config.lambda_arn}:{alias}: the invocation's LogResult is not base64: {tuning.shown(log_result)}"
        ) from None
    report = tuning.parse_report(log_tail)
    if config.post_processor_arn:
        invoke_processor(client, config.post_processor_arn, body, "post", config)
    return report, allowed


def _error_type(body: bytes) -> str | None:
    """The ``errorType`` of a function error's response, if it has one."""
    found = _parsed(body)
    error_type = found.get("errorType") if isinstance(found, Mapping) else None
    return error_type if isinstance(error_type, str) else None


def invoke_processor(
    client: Any, arn: str, payload: bytes, which: str, config: tuning.TuningInput
) -> tuple[Any, bytes]:
    """Invoke a pre- or post-processor with ``payload`` (bytes, sent as they are); its response, parsed and raw."""
    answer = client.invoke(FunctionName=arn, Payload=payload)
    body = answer["Payload"].read()
    if answer.get("FunctionError"):
        shown = "" if config.disable_payload_logs else f" with payload {payload[:500].decode(errors='replace')}"
        raise ProcessorError(f"the {which}-processor {arn} failed{shown}: {body[:2000].decode(errors='replace')}")
    return _parsed(body), body


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode(errors="replace")


# -- finalize ------------------------------------------------------------------------------------------------
def finalize(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{"action": "finalize", "config", "setup", "stats", "execution"}``: clean up, analyse, optimise.
    ``{"action": "cleanUp", "state", "execution"}``: clean up after a failure."""
    event = _event(event, "finalizer")
    execution = _execution(event)
    action = event.get("action", "finalize")
    if action == "cleanUp":
        return clean_up_after_failure(event.get("state"), execution)
    if action != "finalize":
        raise InvalidInputError([f'action must be "finalize" or "cleanUp", got {tuning.shown(action)}'])
    config = tuning.parse_input(event.get("config"))
    stats = tuning.parse_stats(event.get("stats"), config.power_values, config.architectures)
    setup = event.get("setup") or {}
    rounds = setup.get("rounds", 1) if isinstance(setup, Mapping) else None
    if not tuning.is_whole(rounds) or not 1 <= rounds <= setup_steps(config):  # each round sets one value up at least
        raise InvalidInputError(
            [f"setup.rounds must be a whole number from 1 to {setup_steps(config)}, got {tuning.shown(rounds)}"]
        )
    client = lambda_client(config.region)
    removed = clean_up(client, config.function_name, execution)
    result = tuning.analyse(
        stats,
        strategy=config.strategy,
        balanced_weight=config.balanced_weight,
        prices=config.prices(),
        setup_rounds=rounds,
        dry_run=config.dry_run,
        config=config,
    )
    result["cleanedUp"] = removed
    result["optimized"] = None
    if config.auto_optimize and not config.dry_run:
        architecture = str(result["architecture"]) if config.architectures is not None else None
        result["optimized"] = optimize(client, config, int(result["power"]), execution, architecture)
    return result


def clean_up(client: Any, function_name: str, execution: str) -> dict[str, int]:
    """Delete the aliases, then the versions, whose description says ``execution`` made them."""
    prefix = marker(execution)
    removed = {"aliases": 0, "versions": 0}
    try:
        aliases = [
            alias["Name"]
            for page in client.get_paginator("list_aliases").paginate(FunctionName=function_name)
            for alias in page.get("Aliases", [])
            if str(alias.get("Description", "")).startswith(prefix)
        ]
        for name in aliases:
            if _tolerant(client.delete_alias, FunctionName=function_name, Name=name):
                removed["aliases"] += 1
        versions = [
            version["Version"]
            for page in client.get_paginator("list_versions_by_function").paginate(FunctionName=function_name)
            for version in page.get("Versions", [])
            if version.get("Version") != "$LATEST" and str(version.get("Description", "")).startswith(prefix)
        ]
    except ClientError as error:
        if _error_code(error) in NOT_FOUND:
            return removed  # the function itself is gone
        raise
    for version in versions:
        if _tolerant(client.delete_function, FunctionName=function_name, Qualifier=version):
            removed["versions"] += 1
    return removed


def _tolerant(call: Callable[..., Any], **request: Any) -> bool:
    """Run a delete; False when what it deletes is already gone."""
    try:
        call(**request)
    except ClientError as error:
        if _error_code(error) in NOT_FOUND:
            return False
        raise
    return True


def clean_up_after_failure(state: object, execution: str) -> dict[str, Any]:
    """Clean up from whatever the failed state holds: the validated config, or only the raw input (or nothing)."""
    state = state if isinstance(state, Mapping) else {}
    raw = state.get("config", state)
    arn = raw.get("lambdaARN") if isinstance(raw, Mapping) else None
    problems: list[str] = []
    if tuning.parse_arn(arn, "lambdaARN", problems) is None:
        return {"cleanedUp": {"aliases": 0, "versions": 0}, "reason": "no valid lambdaARN: nothing was made"}
    assert isinstance(arn, str)
    client = lambda_client(tuning.arn_region(arn))
    name = arn.split(":")[6]
    removed = clean_up(client, name, execution)
    restored = None
    try:
        current = client.get_function_configuration(FunctionName=arn)
    except ClientError as error:
        if _error_code(error) in NOT_FOUND:
            return {"cleanedUp": removed, "restored": None}
        raise
    description = str(current.get("Description", ""))
    if description.startswith(marker(execution)):
        # The setup was stopped before it could give $LATEST its configuration back (a timeout, say).
        setup = state.get("setup")
        original = _original(setup.get("original")) if isinstance(setup, Mapping) else None
        found = _RESTORE.search(description)
        if original is None and found:
            original = {"memorySize": int(found[1]), "description": ""}
            if found[2]:
                original["architecture"] = found[2]
        if original is not None:
            restore(client, arn, original)
            restored = original
    return {"cleanedUp": removed, "restored": restored}


def optimize(
    client: Any, config: tuning.TuningInput, value: int, execution: str, architecture: str | None = None
) -> dict[str, Any]:
    """Give ``$LATEST`` the best memory (and, when architectures were compared, the best architecture); or, with
    an alias, publish a version with them and point the alias there (``$LATEST`` keeps its own configuration)."""
    arn = config.lambda_arn
    current = _configuration(client, arn)
    switch = architecture is not None and architecture != architecture_of(current)
    extra = {"architecture": architecture} if architecture is not None else {}
    if config.auto_optimize_alias is None:
        if switch:
            assert architecture is not None
            set_architecture(client, arn, architecture, function_code(client, arn))
        client.update_function_configuration(FunctionName=arn, MemorySize=value)
        wait_updated(client, arn)
        return {"target": "$LATEST", "memorySize": value, **extra}
    original = {
        "memorySize": current["MemorySize"],
        "description": current.get("Description", ""),
        "architecture": architecture_of(current),
    }
    description = f"Lambda Power Tuning: {value} MB, best by {config.strategy} (execution {execution})"
    code: dict[str, Any] | None = None
    try:
        if switch:
            assert architecture is not None
            code = function_code(client, arn)
            set_architecture(client, arn, architecture, code)
        version = publish(client, arn, value, description)
        point_alias(client, arn, config.auto_optimize_alias, version, description)
    finally:
        restore(client, arn, original, code=code)
    return {"target": config.auto_optimize_alias, "version": version, "memorySize": value, **extra}


__all__ = [
    "InvalidInputError",
    "InvocationError",
    "LogReportError",
    "ProcessorError",
    "SetupError",
    "execute",
    "finalize",
    "initialize",
]
