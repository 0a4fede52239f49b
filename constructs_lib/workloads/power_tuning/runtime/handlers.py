"""Lambda Power Tuning, the AWS part: the state machine's three functions.

- ``initialize`` (Initializer): validate the input, then for each memory value, one after the other (Lambda
  refuses concurrent configuration updates), set the memory of ``$LATEST``, wait until the update is done, publish
  a version and point the alias ``RAM<memory>`` at it; finally give ``$LATEST`` its memory and description back.
  If the time left runs short it returns ``setup.done = false`` and the state machine calls it again to go on.
- ``execute`` (Executor, once per memory value, in parallel): invoke the alias N times (serially or in parallel),
  read each REPORT from the log tail, return the value's statistics. A failed invocation raises ``InvocationError``.
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
_RESTORE = re.compile(r"\(restore (\d+) MB\)$")

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


def _allowed() -> list[str]:
    value = os.environ.get("ALLOWED_FUNCTIONS", "")
    return [str(item) for item in json.loads(value)] if value else []


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
    if not tuning.is_whole(memory) or not tuning.MIN_MEMORY <= memory <= tuning.MAX_MEMORY:
        return None
    return {"memorySize": memory, "description": description} if isinstance(description, str) else None


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
            f'setup.original must be {{"memorySize": <MB>, "description": <text>}}, got {tuning.shown(raw["original"])}'
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
        config = tuning.parse_input(event.get("config"), allowed=_allowed())
        setup = _setup_state(event["setup"], setup_steps(config))
    else:
        config = tuning.parse_input(
            event.get("input"), default_power_values=_default_power_values(), allowed=_allowed()
        )
        setup = {"next": 0, "done": False, "rounds": 0}
    client = lambda_client(config.region)
    setup = run_setup(client, config, execution, setup, remaining_ms=context.get_remaining_time_in_millis)
    return {"config": config.to_json(), "setup": setup, "execution": execution}


def setup_steps(config: tuning.TuningInput) -> int:
    """How many versions the setup makes: ``len(setup_plan(config))``, without making the plan."""
    return len(config.power_values) * (config.invocations if config.only_cold_starts else 1)


def setup_plan(config: tuning.TuningInput) -> list[tuple[int, str]]:
    """(memory, alias) pairs, in order: one alias per value, or one per invocation with onlyColdStarts."""
    return [(value, alias) for value in config.power_values for alias in config.aliases(value)]


def run_setup(
    client: Any,
    config: tuning.TuningInput,
    execution: str,
    setup: dict[str, Any],
    *,
    remaining_ms: Callable[[], int],
) -> dict[str, Any]:
    """Make the versions and aliases of the plan from ``setup["next"]`` on, while time allows."""
    arn = config.lambda_arn
    if "original" not in setup:
        current = _configuration(client, arn)
        setup["original"] = {"memorySize": current["MemorySize"], "description": current.get("Description", "")}
    original = setup["original"]
    plan = setup_plan(config)
    start = int(setup["next"])
    setup["rounds"] = int(setup.get("rounds", 0)) + 1
    try:
        for index in range(start, len(plan)):
            if index > start and remaining_ms() < SETUP_BUDGET_MS:
                setup["next"] = index
                setup["done"] = False
                return setup
            value, alias = plan[index]
            description = (
                f"{marker(execution)}{alias.removeprefix(tuning.ALIAS_PREFIX)} (restore {original['memorySize']} MB)"
            )
            version = publish(client, arn, value, description)
            point_alias(client, arn, alias, version, description)
            LOGGER.info("%s -> version %s (%s MB)", alias, version, value)
        restore(client, arn, original)
    except Exception:
        LOGGER.exception("setup failed: giving %s its configuration back", arn)
        try:
            restore(client, arn, original)
        except Exception:
            LOGGER.exception("could not restore %s", arn)
        raise
    setup["next"] = len(plan)
    setup["done"] = True
    return setup


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


def restore(client: Any, arn: str, original: Mapping[str, Any]) -> None:
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
def execute(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{"value": <memory>, "config": {...}}``: invoke the value's alias(es) and return its statistics."""
    event = _event(event, "executor")
    config = tuning.parse_input(event.get("config"))
    value = _memory_value(event.get("value"), config)
    client = lambda_client(config.region)
    aliases = config.aliases(value)
    ready = wait_updated(client, config.lambda_arn, aliases[0])
    architecture = (ready.get("Architectures") or ["x86_64"])[0]
    payloads = config.payloads

    def run(index: int) -> tuning.Report:
        alias = aliases[index] if config.only_cold_starts else aliases[0]
        if config.only_cold_starts and index:
            wait_updated(client, config.lambda_arn, alias)
        return invoke_once(client, config, alias, payloads[index])

    reports: list[tuning.Report]
    if config.parallel_invocation:
        with ThreadPoolExecutor(max_workers=min(len(payloads), MAX_PARALLEL)) as pool:
            reports = list(pool.map(run, range(len(payloads))))
    else:
        reports = []
        for index in range(len(payloads)):
            if index and config.sleep_between_runs_ms:
                time.sleep(config.sleep_between_runs_ms / 1000)
            reports.append(run(index))
    stats = tuning.value_stats(
        value, reports, discard=config.discard_top_bottom, architecture=architecture, prices=config.prices()
    )
    return stats.to_json()


def invoke_once(client: Any, config: tuning.TuningInput, alias: str, payload: Any) -> tuning.Report:
    if config.pre_processor_arn:
        processed = invoke_processor(client, config.pre_processor_arn, payload, "pre")
        if processed not in (None, "", {}):
            payload = processed
    answer = client.invoke(
        FunctionName=config.lambda_arn, Qualifier=alias, Payload=json.dumps(payload).encode(), LogType="Tail"
    )
    body = answer["Payload"].read()
    if answer.get("FunctionError"):
        raise InvocationError(
            f"{config.lambda_arn}:{alias} failed ({answer['FunctionError']}): {body[:2000].decode(errors='replace')}"
        )
    log_result = answer.get("LogResult") or b""
    try:
        log_tail = base64.b64decode(log_result, validate=True).decode(errors="replace")
    except ValueError:  # binascii.Error, or a str that is not ASCII
        raise LogReportError(
            f"{config.lambda_arn}:{alias}: the invocation's LogResult is not base64: {tuning.shown(log_result)}"
        ) from None
    report = tuning.parse_report(log_tail)
    if config.post_processor_arn:
        invoke_processor(client, config.post_processor_arn, _parsed(body), "post")
    return report


def invoke_processor(client: Any, arn: str, payload: Any, which: str) -> Any:
    answer = client.invoke(FunctionName=arn, Payload=json.dumps(payload).encode())
    body = answer["Payload"].read()
    if answer.get("FunctionError"):
        raise ProcessorError(f"the {which}-processor {arn} failed: {body[:2000].decode(errors='replace')}")
    return _parsed(body)


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
    stats = tuning.parse_stats(event.get("stats"), config.power_values)
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
    )
    result["cleanedUp"] = removed
    result["optimized"] = None
    if config.auto_optimize and not config.dry_run:
        result["optimized"] = optimize(client, config, int(result["power"]), execution)
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
        if original is not None:
            restore(client, arn, original)
            restored = original
    return {"cleanedUp": removed, "restored": restored}


def optimize(client: Any, config: tuning.TuningInput, value: int, execution: str) -> dict[str, Any]:
    """Give ``$LATEST`` the best memory; or, with an alias, publish a version with it and point the alias there
    (``$LATEST`` keeps its own memory then)."""
    arn = config.lambda_arn
    if config.auto_optimize_alias is None:
        client.update_function_configuration(FunctionName=arn, MemorySize=value)
        wait_updated(client, arn)
        return {"target": "$LATEST", "memorySize": value}
    current = _configuration(client, arn)
    original = {"memorySize": current["MemorySize"], "description": current.get("Description", "")}
    description = f"Lambda Power Tuning: {value} MB, best by {config.strategy} (execution {execution})"
    try:
        version = publish(client, arn, value, description)
        point_alias(client, arn, config.auto_optimize_alias, version, description)
    finally:
        restore(client, arn, original)
    return {"target": config.auto_optimize_alias, "version": version, "memorySize": value}


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
