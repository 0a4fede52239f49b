"""Lambda Power Tuning, the pure part: the input, the REPORT line, the statistics and the choice of the best value.

No AWS call here (``handlers.py`` makes those): everything in this module is a function of its arguments, so that
the analysis can be unit-tested on known numbers.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeGuard

MIN_MEMORY = 128
MAX_MEMORY = 10240
MIN_NUM = 5
MAX_NUM = 10_000
"""Invocations per memory value: the executor makes them within one Lambda invocation (15 minutes at most)."""
MAX_SLEEP_MS = 900_000
"""A pause between serial invocations longer than a Lambda function can run (15 minutes) cannot work."""
MAX_DISCARD = 0.4
DEFAULT_DISCARD = 0.2
DEFAULT_POWER_VALUES = (128, 256, 512, 1024, 1536, 3008)
ALIAS_PREFIX = "RAM"
MARKER_PREFIX = "power-tuning"
"""Every version and alias the tuner makes carries ``power-tuning <execution name> ...`` as its description:
the clean-up deletes exactly those, never a version of the user's."""

Strategy = Literal["cost", "speed", "balanced"]
STRATEGIES: tuple[str, ...] = ("cost", "speed", "balanced")

_FUNCTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]{1,64})(?P<qualifier>:[^:]+)?$"
)
_ALIAS_NAME = re.compile(r"^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$")

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 80  # an error message quotes a bad value, not all 300 KB of it

# -- prices (USD) ----------------------------------------------------------------------------------------------
# Lambda on-demand compute, first tier, per GB-second; Step Functions Standard, per state transition; Lambda
# requests. From the AWS price lists; override any of them per run with the input's "prices".
LAMBDA_GB_SECOND: dict[str, dict[str, float]] = {
    "x86_64": {
        "default": 0.0000166667,
        "af-south-1": 0.0000221,
        "ap-east-1": 0.00002292,
        "eu-south-1": 0.0000195172,
        "me-south-1": 0.0000206667,
        "ap-northeast-3": 0.0000200000,
    },
    "arm64": {
        "default": 0.0000133334,
        "af-south-1": 0.0000176800,
        "ap-east-1": 0.0000183400,
        "eu-south-1": 0.0000156138,
        "me-south-1": 0.0000165334,
        "ap-northeast-3": 0.0000160000,
    },
}
LAMBDA_REQUEST: dict[str, float] = {"default": 0.0000002, "af-south-1": 0.00000028, "ap-east-1": 0.00000028}
STATE_TRANSITION: dict[str, float] = {
    "default": 0.000025,
    "us-gov-west-1": 0.00003,
    "us-gov-east-1": 0.00003,
    "ap-northeast-2": 0.0000271,
    "eu-south-1": 0.00002625,
    "af-south-1": 0.00002975,
    "us-west-1": 0.0000279,
    "eu-west-3": 0.0000297,
    "ap-east-1": 0.0000275,
    "me-south-1": 0.0000275,
    "ap-south-1": 0.0000285,
    "sa-east-1": 0.0000375,
}
REQUEST_COST_NOTE = (
    "cost includes the per-request price of each invocation (the reference aws-lambda-power-tuning counts only "
    "the duration price, so its costs are lower, most visibly for short invocations)"
)


# -- errors (their class names are the error names Step Functions sees) ---------------------------------------
class InvalidInputError(ValueError):
    """The tuning input cannot work; the message lists every problem and its fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid power tuning input: " + "; ".join(self.problems))


class LogReportError(ValueError):
    """An invocation's log tail has no REPORT line (text) or ``platform.report`` record (JSON)."""


# -- input ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prices:
    """USD prices for one run: compute per GB-second by architecture, per request, per state transition."""

    gb_second: Mapping[str, float]
    request: float
    state_transition: float

    def compute(self, architecture: str) -> float:
        if architecture not in self.gb_second:
            raise InvalidInputError([f"no GB-second price for architecture {architecture!r}: add it to prices"])
        return self.gb_second[architecture]


@dataclass(frozen=True)
class TuningInput:
    """The validated input of a tuning run."""

    lambda_arn: str
    power_values: tuple[int, ...]
    num: int
    payload: Any
    """The payload as given: one value, or weighted payloads."""
    parallel_invocation: bool = False
    strategy: Strategy = "cost"
    balanced_weight: float = 0.5
    discard_top_bottom: float = DEFAULT_DISCARD
    only_cold_starts: bool = False
    sleep_between_runs_ms: int = 0
    auto_optimize: bool = False
    auto_optimize_alias: str | None = None
    dry_run: bool = False
    pre_processor_arn: str | None = None
    post_processor_arn: str | None = None
    price_overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return arn_region(self.lambda_arn)

    @property
    def function_name(self) -> str:
        return self.lambda_arn.split(":")[6]

    @property
    def payloads(self) -> tuple[Any, ...]:
        """One payload per invocation (weighted payloads expanded), ``invocations`` of them."""
        problems: list[str] = []
        expanded = expand_payloads(self.payload, self.num, problems)
        if problems:
            raise InvalidInputError(problems)
        return expanded[: self.invocations]

    @property
    def invocations(self) -> int:
        """Invocations per memory value: one in a dry run."""
        return 1 if self.dry_run else self.num

    def prices(self) -> Prices:
        return resolve_prices(self.region, self.price_overrides)

    def aliases(self, value: int) -> list[str]:
        """The aliases to invoke for ``value``: one, or one per invocation when only cold starts count."""
        return alias_names(value, self.invocations if self.only_cold_starts else None)

    def to_json(self) -> dict[str, Any]:
        """The camelCase form that travels through the state machine (``parse_input`` reads it back)."""
        data: dict[str, Any] = {
            "lambdaARN": self.lambda_arn,
            "powerValues": list(self.power_values),
            "num": self.num,
            "payload": self.payload,
            "parallelInvocation": self.parallel_invocation,
            "strategy": self.strategy,
            "balancedWeight": self.balanced_weight,
            "discardTopBottom": self.discard_top_bottom,
            "onlyColdStarts": self.only_cold_starts,
            "sleepBetweenRunsMs": self.sleep_between_runs_ms,
            "autoOptimize": self.auto_optimize,
            "dryRun": self.dry_run,
            "prices": dict(self.price_overrides),
        }
        for key, value in (
            ("autoOptimizeAlias", self.auto_optimize_alias),
            ("preProcessorARN", self.pre_processor_arn),
            ("postProcessorARN", self.post_processor_arn),
        ):
            if value is not None:
                data[key] = value
        return data


def shown(value: Any) -> str:
    """A bad value as an error message quotes it: its repr, cut short (a value can be 300 KB of text)."""
    return _SHOWN.repr(value)


def is_whole(value: Any) -> TypeGuard[int]:
    """A JSON integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def alias_names(value: int, cold_starts: int | None = None) -> list[str]:
    """``RAM<value>`` (as the reference names them), or ``RAM<value>-<i>`` for each cold-start invocation."""
    base = f"{ALIAS_PREFIX}{value}"
    return [base] if cold_starts is None else [f"{base}-{index}" for index in range(cold_starts)]


def arn_region(arn: str) -> str:
    return arn.split(":")[3]


def parse_arn(arn: Any, field_name: str, problems: list[str], *, allowed: Sequence[str] = ()) -> str | None:
    """An unqualified function ARN, or None with the problem recorded."""
    if not isinstance(arn, str) or not arn:
        problems.append(f"{field_name} is required: the ARN of a Lambda function, got {_SHOWN.repr(arn)}")
        return None
    match = _FUNCTION_ARN.match(arn)
    if match is None:
        problems.append(
            f"{field_name} must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>), "
            f"got {_SHOWN.repr(arn)}"
        )
        return None
    if match["qualifier"]:
        problems.append(
            f"{field_name} must be the unqualified function ARN (the tuner makes its own versions and aliases), "
            f"got {_SHOWN.repr(arn)}: drop {_SHOWN.repr(match['qualifier'])}"
        )
        return None
    if allowed and not is_allowed(arn, allowed):
        problems.append(
            f"{field_name} {arn} is not a function this tuner may tune; allowed: {', '.join(allowed)} "
            "(change the construct's allowed functions)"
        )
        return None
    return arn


def is_allowed(arn: str, allowed: Sequence[str]) -> bool:
    """Whether ``arn`` matches one of the allowed ARNs (``*`` at the end of one is a name prefix)."""
    for pattern in allowed:
        if pattern.endswith("*"):
            if arn.startswith(pattern[:-1]):
                return True
        elif arn == pattern:
            return True
    return False


def _flag(raw: Mapping[str, Any], key: str, problems: list[str], default: bool = False) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{key} must be true or false, got {value!r}")
        return default
    return value


def _number(raw: Mapping[str, Any], key: str, default: float) -> Any:
    value = raw.get(key, default)
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else value


def power_values(raw: Any, default: Sequence[int], problems: list[str]) -> tuple[int, ...]:
    """A list of memory sizes, or ``{"min", "max", "step"}`` (every value of the range), or the default."""
    if raw is None:
        values: list[Any] = list(default)
    elif isinstance(raw, Mapping):
        low: Any = raw.get("min", MIN_MEMORY)
        high: Any = raw.get("max")
        step: Any = raw.get("step")
        if not (is_whole(low) and is_whole(high) and is_whole(step)):
            problems.append(
                f'powerValues as a range needs integer "min", "max" and "step", got {_SHOWN.repr(dict(raw))}'
            )
            return ()
        if step <= 0 or high < low:
            problems.append(f"powerValues range: step must be positive and max >= min, got {_SHOWN.repr(dict(raw))}")
            return ()
        if low < MIN_MEMORY or high > MAX_MEMORY:  # checked before the range is made: it could be endless
            problems.append(
                f"memory sizes must be whole MB from {MIN_MEMORY} to {MAX_MEMORY}, got the range "
                f"{_SHOWN.repr(low)} to {_SHOWN.repr(high)}"
            )
            return ()
        values = list(range(low, high + 1, step))
    elif isinstance(raw, list):
        values = raw
    else:
        problems.append(
            f'powerValues must be a list of memory sizes or a range {{"min", "max", "step"}}, got {_SHOWN.repr(raw)}'
        )
        return ()
    if not values:
        problems.append("powerValues is empty: give at least one memory size")
    bad = [v for v in values if not isinstance(v, int) or isinstance(v, bool) or not MIN_MEMORY <= v <= MAX_MEMORY]
    if bad:
        problems.append(f"memory sizes must be whole MB from {MIN_MEMORY} to {MAX_MEMORY}, got {_SHOWN.repr(bad)}")
        return ()
    if len(set(values)) != len(values):
        repeated = sorted(v for v in set(values) if values.count(v) > 1)
        problems.append(f"powerValues has duplicates: {_SHOWN.repr(repeated)}")
    return tuple(sorted(set(values)))


def expand_payloads(raw: Any, num: int, problems: list[str]) -> tuple[Any, ...]:
    """``num`` payloads: the one payload repeated, or weighted payloads in proportion (as the reference does)."""
    if not is_weighted(raw):
        return tuple(raw for _ in range(num))
    # Exact fractions: a JSON weight can be an integer of any size, or 1e308 (whose float products overflow).
    total = sum(Fraction(item["weight"]) for item in raw)
    payloads: list[Any] = []
    for index, item in enumerate(raw):
        count = math.floor(Fraction(item["weight"]) * num / total)
        if index == len(raw) - 1:
            count = num - len(payloads)
        if count < 1:
            problems.append(
                f"weighted payload #{index} (weight {_SHOWN.repr(item['weight'])}) gets no invocation with "
                f"num={num}: raise num or that weight"
            )
            return ()
        payloads.extend([item["payload"]] * count)
    return tuple(payloads)


def is_weighted(payload: Any) -> bool:
    """A non-empty list of ``{"payload": ..., "weight": <positive number>}``."""
    return (
        isinstance(payload, list)
        and bool(payload)
        and all(
            isinstance(item, Mapping)
            and set(item) == {"payload", "weight"}
            and isinstance(item["weight"], (int, float))
            and not isinstance(item["weight"], bool)
            and item["weight"] > 0
            and (isinstance(item["weight"], int) or math.isfinite(item["weight"]))
            for item in payload
        )
    )


def parse_input(
    raw: Any, *, default_power_values: Sequence[int] = DEFAULT_POWER_VALUES, allowed: Sequence[str] = ()
) -> TuningInput:
    """Validate the execution input; raises ``InvalidInputError`` naming every problem."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise InvalidInputError([f"the input must be a JSON object, got {type(raw).__name__}"])
    arn = parse_arn(raw.get("lambdaARN"), "lambdaARN", problems, allowed=allowed)
    values = power_values(raw.get("powerValues"), default_power_values, problems)
    num = raw.get("num")
    if not isinstance(num, int) or isinstance(num, bool) or num < MIN_NUM:
        problems.append(
            f"num (invocations per memory size) must be a whole number of at least {MIN_NUM}, got {_SHOWN.repr(num)}"
        )
        num = MIN_NUM
    elif num > MAX_NUM:
        problems.append(
            f"num (invocations per memory size) must be at most {MAX_NUM:,} (the executor makes them in one "
            f"invocation of at most 15 minutes), got {_SHOWN.repr(num)}"
        )
        num = MIN_NUM
    strategy = raw.get("strategy", "cost")
    if strategy not in STRATEGIES:
        problems.append(f"strategy must be one of {', '.join(STRATEGIES)}, got {_SHOWN.repr(strategy)}")
        strategy = "cost"
    weight = _number(raw, "balancedWeight", 0.5)
    if weight is None or not 0 <= weight <= 1:
        problems.append(
            f"balancedWeight must be a number from 0 (speed) to 1 (cost), got {_SHOWN.repr(raw.get('balancedWeight'))}"
        )
        weight = 0.5
    only_cold = _flag(raw, "onlyColdStarts", problems)
    discard = _number(raw, "discardTopBottom", 0.0 if only_cold else DEFAULT_DISCARD)
    if discard is None or not 0 <= discard <= MAX_DISCARD:
        problems.append(
            f"discardTopBottom must be a fraction from 0 to {MAX_DISCARD} (of the fastest and of the slowest "
            f"invocations left out of the average), got {_SHOWN.repr(raw.get('discardTopBottom'))}"
        )
        discard = DEFAULT_DISCARD
    parallel = _flag(raw, "parallelInvocation", problems)
    sleep = raw.get("sleepBetweenRunsMs", 0)
    if not isinstance(sleep, int) or isinstance(sleep, bool) or not 0 <= sleep <= MAX_SLEEP_MS:
        problems.append(
            f"sleepBetweenRunsMs must be a whole number of milliseconds (0 or more, at most {MAX_SLEEP_MS:,}), "
            f"got {_SHOWN.repr(sleep)}"
        )
        sleep = 0
    elif sleep and parallel:
        problems.append("sleepBetweenRunsMs applies to serial invocations: set parallelInvocation to false or drop it")
    auto_optimize = _flag(raw, "autoOptimize", problems)
    alias = raw.get("autoOptimizeAlias")
    if alias is not None:
        if not isinstance(alias, str) or not _ALIAS_NAME.match(alias):
            problems.append(
                f"autoOptimizeAlias must be an alias name (letters, digits, - and _), got {_SHOWN.repr(alias)}"
            )
        elif not auto_optimize:
            problems.append("autoOptimizeAlias is set but autoOptimize is false: set autoOptimize to true")
        elif re.match(rf"^{ALIAS_PREFIX}\d+(-\d+)?$", alias):
            problems.append(f"autoOptimizeAlias {alias!r} looks like the tuner's own aliases (RAM<memory>): rename it")
    dry_run = _flag(raw, "dryRun", problems)
    processors: dict[str, str | None] = {}
    for key in ("preProcessorARN", "postProcessorARN"):
        processors[key] = parse_arn(raw[key], key, problems, allowed=allowed) if raw.get(key) is not None else None
    prices = raw.get("prices", {})
    if not isinstance(prices, Mapping):
        problems.append(f"prices must be an object, got {_SHOWN.repr(prices)}")
        prices = {}
    else:
        check_price_overrides(prices, problems)
    payload = raw.get("payload", {})
    expand_payloads(payload, num, problems)
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        problems.append(f"unknown input fields {_SHOWN.repr(unknown)}; known: {', '.join(sorted(_KNOWN_KEYS))}")
    if problems:
        raise InvalidInputError(problems)
    assert arn is not None
    return TuningInput(
        lambda_arn=arn,
        power_values=values,
        num=num,
        payload=payload,
        parallel_invocation=parallel,
        strategy=strategy,
        balanced_weight=float(weight),
        discard_top_bottom=float(discard),
        only_cold_starts=only_cold,
        sleep_between_runs_ms=sleep,
        auto_optimize=auto_optimize,
        auto_optimize_alias=alias,
        dry_run=dry_run,
        pre_processor_arn=processors["preProcessorARN"],
        post_processor_arn=processors["postProcessorARN"],
        price_overrides=dict(prices),
    )


_KNOWN_KEYS = {
    "lambdaARN",
    "powerValues",
    "num",
    "payload",
    "parallelInvocation",
    "strategy",
    "balancedWeight",
    "discardTopBottom",
    "onlyColdStarts",
    "sleepBetweenRunsMs",
    "autoOptimize",
    "autoOptimizeAlias",
    "dryRun",
    "preProcessorARN",
    "postProcessorARN",
    "prices",
}


def check_price_overrides(prices: Mapping[str, Any], problems: list[str]) -> None:
    """``{"x86_64": <per GB-s>, "arm64": <per GB-s>, "request": <per request>, "stateTransition": <each>}``."""
    for key, value in prices.items():
        if key not in ("x86_64", "arm64", "request", "stateTransition"):
            problems.append(
                f"prices: unknown key {_SHOWN.repr(key)}; use x86_64, arm64 (per GB-second), request, stateTransition"
            )
        elif _finite(value) is None or value < 0:
            problems.append(f"prices.{key} must be a price in USD (0 or more), got {_SHOWN.repr(value)}")


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is not a JSON number or has no finite float (10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _regional(table: Mapping[str, float], region: str) -> float:
    return table.get(region, table["default"])


def resolve_prices(region: str, overrides: Mapping[str, Any] | None = None) -> Prices:
    """The price table for ``region``, with the input's overrides on top."""
    overrides = overrides or {}
    gb_second = {arch: _regional(table, region) for arch, table in LAMBDA_GB_SECOND.items()}
    for arch in ("x86_64", "arm64"):
        if arch in overrides:
            gb_second[arch] = float(overrides[arch])
    return Prices(
        gb_second=gb_second,
        request=float(overrides.get("request", _regional(LAMBDA_REQUEST, region))),
        state_transition=float(overrides.get("stateTransition", _regional(STATE_TRANSITION, region))),
    )


# -- the REPORT line -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """The platform's report of one invocation, in milliseconds."""

    duration_ms: float
    billed_duration_ms: float
    init_duration_ms: float | None = None
    restore_duration_ms: float | None = None
    memory_size_mb: int | None = None
    version: str | None = None


_NUMBER = r"(\d{1,12}(?:\.\d{1,6})?)"
_TEXT_FIELDS = {
    "duration_ms": re.compile(rf"(?:^|\t)Duration: {_NUMBER} ms"),
    "billed_duration_ms": re.compile(rf"\tBilled Duration: {_NUMBER} ms"),
    "init_duration_ms": re.compile(rf"\tInit Duration: {_NUMBER} ms"),
    "restore_duration_ms": re.compile(rf"\tRestore Duration: {_NUMBER} ms"),
    "memory_size_mb": re.compile(r"\tMemory Size: (\d{1,6}) MB"),
}
_START_VERSION = re.compile(r"^START RequestId: \S+ Version: (\S+)", re.MULTILINE)


def parse_report(log_tail: str) -> Report:
    """The REPORT of a log tail (the last 4 KB of the invocation's log), text or JSON log format."""
    lines = [line for line in log_tail.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.lstrip().startswith("{"):
            report = _json_report(line)
            if report is not None:
                return report
        elif line.startswith("REPORT "):
            return _text_report(line, log_tail)
    raise LogReportError(
        "the invocation's log tail has no REPORT line (text log format) and no platform.report record (JSON log "
        f"format): {log_tail[-300:]!r}"
    )


def _text_report(line: str, log_tail: str) -> Report:
    found: dict[str, float] = {}
    for name, pattern in _TEXT_FIELDS.items():
        match = pattern.search(line)
        if match:
            found[name] = float(match[1])
    if "duration_ms" not in found or "billed_duration_ms" not in found:
        raise LogReportError(f"the REPORT line has no Duration or Billed Duration: {_SHOWN.repr(line)}")
    version = _START_VERSION.search(log_tail)
    memory = found.get("memory_size_mb")
    return Report(
        duration_ms=found["duration_ms"],
        billed_duration_ms=found["billed_duration_ms"],
        init_duration_ms=found.get("init_duration_ms"),
        restore_duration_ms=found.get("restore_duration_ms"),
        memory_size_mb=int(memory) if memory is not None else None,
        version=version[1] if version else None,
    )


def _json_report(line: str) -> Report | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or record.get("type") != "platform.report":
        return None
    body = record.get("record")
    metrics = body.get("metrics") if isinstance(body, dict) else None
    if not isinstance(metrics, dict):
        raise LogReportError(f"the platform.report record has no metrics object: {line[:300]!r}")
    duration, billed = _duration(metrics.get("durationMs")), _duration(metrics.get("billedDurationMs"))
    if duration is None or billed is None:
        raise LogReportError(
            f"the platform.report record has no durationMs or billedDurationMs (milliseconds, 0 or more): "
            f"{line[:300]!r}"
        )
    memory = _duration(metrics.get("memorySizeMB"))
    version = body.get("version") if isinstance(body, dict) else None
    return Report(
        duration_ms=duration,
        billed_duration_ms=billed,
        init_duration_ms=_duration(metrics.get("initDurationMs")),
        restore_duration_ms=_duration(metrics.get("restoreDurationMs")),
        memory_size_mb=int(memory) if memory is not None else None,
        version=version if isinstance(version, str) else None,
    )


def _duration(value: Any) -> float | None:
    """A metric of the report (milliseconds, megabytes): a finite number of 0 or more, else None."""
    number = _finite(value)
    return number if number is not None and number >= 0 else None


# -- statistics ----------------------------------------------------------------------------------------------
def trimmed(values: Sequence[float], discard: float) -> list[float]:
    """The values sorted, without the lowest and the highest ``int(n * discard)`` (as the reference trims)."""
    ordered = sorted(values)
    cut = int(len(ordered) * discard)
    return ordered[cut : len(ordered) - cut] if cut else ordered


def trimmed_mean(values: Sequence[float], discard: float) -> float:
    kept = trimmed(values, discard)
    return sum(kept) / len(kept) if kept else 0.0


def invocation_cost(billed_ms: float, memory_mb: int, gb_second: float, request: float) -> float:
    """Billed duration x memory (GB) x the GB-second price, plus the request price."""
    return billed_ms / 1000 * memory_mb / 1024 * gb_second + request


@dataclass(frozen=True)
class ValueStats:
    """What one memory value did: averages over the trimmed invocations, cost of all of them."""

    value: int
    invocations: int
    averageDuration: float
    averageBilledDuration: float
    averageCost: float
    totalCost: float
    minDuration: float
    maxDuration: float
    architecture: str = "x86_64"
    averageInitDuration: float | None = None
    coldStarts: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def value_stats(
    value: int, reports: Sequence[Report], *, discard: float, architecture: str, prices: Prices
) -> ValueStats:
    """The statistics of one memory value from its invocations' reports."""
    if not reports:
        raise ValueError(f"no invocation report for {value} MB")
    gb_second = prices.compute(architecture)
    durations = [r.duration_ms for r in reports]
    billed = [r.billed_duration_ms for r in reports]
    average_billed = trimmed_mean(billed, discard)
    inits = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
    return ValueStats(
        value=value,
        invocations=len(reports),
        averageDuration=trimmed_mean(durations, discard),
        averageBilledDuration=average_billed,
        averageCost=invocation_cost(average_billed, value, gb_second, prices.request),
        totalCost=sum(invocation_cost(b, value, gb_second, prices.request) for b in billed),
        minDuration=min(durations),
        maxDuration=max(durations),
        architecture=architecture,
        averageInitDuration=sum(inits) / len(inits) if inits else None,
        coldStarts=len(inits),
    )


def parse_stats(raw: Any, power_values: Sequence[int]) -> list[dict[str, Any]]:
    """The executors' statistics as the finalizer gets them, one object per memory value (``ValueStats.to_json``).

    Raises ``InvalidInputError`` naming every problem.
    """
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(
            [f"stats must be a non-empty list of the executors' statistics, got {_SHOWN.repr(raw)}"]
        )
    problems: list[str] = []
    seen: set[int] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems.append(f"stats[{index}] must be an object, got {_SHOWN.repr(item)}")
            continue
        value = item.get("value")
        if not is_whole(value) or value not in power_values or value in seen:
            problems.append(
                f"stats[{index}].value must be one of powerValues {_SHOWN.repr(list(power_values))}, once, "
                f"got {_SHOWN.repr(value)}"
            )
        else:
            seen.add(value)
        for key in ("averageCost", "averageDuration", "totalCost"):
            number = _finite(item.get(key))
            if number is None or number < 0:
                problems.append(f"stats[{index}].{key} must be a number of 0 or more, got {_SHOWN.repr(item.get(key))}")
    if problems:
        raise InvalidInputError(problems)
    return [dict(item) for item in raw]


# -- the choice ----------------------------------------------------------------------------------------------
def _same(value: float) -> float:
    """Nine significant digits: values equal up to floating-point noise compare equal (ties are real ties)."""
    return float(f"{value:.9g}")


def best_value(stats: Sequence[Mapping[str, Any]], strategy: str, balanced_weight: float = 0.5) -> Mapping[str, Any]:
    """The best stats entry: cheapest (ties: faster), fastest (ties: cheaper), or the balanced score
    ``w * cost / max cost + (1 - w) * duration / max duration`` (the reference's formula; ties: the metric with
    more weight, then the other). Remaining ties go to the smaller memory size."""
    if not stats:
        raise ValueError("no statistics to choose from")
    if strategy == "cost":
        return min(stats, key=lambda s: (_same(s["averageCost"]), _same(s["averageDuration"]), s["value"]))
    if strategy == "speed":
        return min(stats, key=lambda s: (_same(s["averageDuration"]), _same(s["averageCost"]), s["value"]))
    if strategy != "balanced":
        raise ValueError(f"unknown strategy {strategy!r}")
    max_cost = max(s["averageCost"] for s in stats) or 1.0
    max_duration = max(s["averageDuration"] for s in stats) or 1.0

    def key(s: Mapping[str, Any]) -> tuple[float, ...]:
        cost, duration = _same(s["averageCost"]), _same(s["averageDuration"])
        score = _same(
            balanced_weight * s["averageCost"] / max_cost + (1 - balanced_weight) * s["averageDuration"] / max_duration
        )
        return (score, cost, duration, s["value"]) if balanced_weight >= 0.5 else (score, duration, cost, s["value"])

    return min(stats, key=key)


def transitions(power_values: int, setup_rounds: int = 1) -> int:
    """State transitions of a successful run of the native state machine: Initialize, SetupComplete, the Map, one
    Execute per value, Finalize; each extra setup round adds ContinueSetup and SetupComplete."""
    return 4 + power_values + 2 * (setup_rounds - 1)


def reference_transitions(power_values: int) -> int:
    """What the reference counts for itself (``utils.stepFunctionsCost``): 6 + 3 x P."""
    return 6 + 3 * power_values


def analyse(
    stats: Sequence[Mapping[str, Any]],
    *,
    strategy: str,
    balanced_weight: float,
    prices: Prices,
    setup_rounds: int = 1,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The tuning output: the best value, its average cost and duration, the run's own cost, the stats."""
    best = best_value(stats, strategy, balanced_weight)
    count = transitions(len(stats), setup_rounds)
    ordered = sorted(stats, key=lambda s: s["value"])
    return {
        "power": best["value"],
        "cost": best["averageCost"],
        "duration": best["averageDuration"],
        "strategy": strategy,
        **({"balancedWeight": balanced_weight} if strategy == "balanced" else {}),
        "dryRun": dry_run,
        "stateMachine": {
            "transitions": count,
            "referenceTransitions": reference_transitions(len(stats)),
            "executionCost": count * prices.state_transition,
            "lambdaCost": sum(s["totalCost"] for s in ordered),
        },
        "stats": [dict(s) for s in ordered],
        "notes": [REQUEST_COST_NOTE],
    }
