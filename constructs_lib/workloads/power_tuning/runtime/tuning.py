"""Lambda Power Tuning, the pure part: the input, the REPORT line, the statistics and the choice of the best value.

No AWS call here (``handlers.py`` makes those): everything in this module is a function of its arguments, so that
the analysis can be unit-tested on known numbers.
"""

from __future__ import annotations

import base64
import json
import math
import re
import reprlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeGuard
from urllib.parse import unquote, urlsplit

if __package__:  # imported as constructs_lib.workloads.power_tuning.runtime.tuning (tests, type checks)
    from . import prices as price_table
else:  # the Lambda runtime imports this file as a top-level module: its folder is the import root
    import prices as price_table  # type: ignore[no-redef,import-not-found]

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

ALL_POWER_VALUES = tuple(range(128, 3009, 64))
"""``"powerValues": "ALL"``: 128 to 3008 MB in steps of 64, 46 values (as the reference)."""
ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")
VISUALIZATION_URL = "https://lambda-power-tuning.show/"
"""The reference's visualization page: it decodes the numbers from the URL's fragment, which browsers never send."""

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
    """The prices of one run: compute per GB-second by architecture, per request, per state transition, in
    ``currency`` (the region's: USD, or CNY in the China regions)."""

    gb_second: Mapping[str, float]
    request: float
    state_transition: float
    currency: str = "USD"
    source: str = ""
    confirmed: bool = True
    overridden: tuple[str, ...] = ()

    def compute(self, architecture: str) -> float:
        if architecture not in self.gb_second:
            raise InvalidInputError([f"no GB-second price for architecture {architecture!r}: add it to prices"])
        return self.gb_second[architecture]

    def to_json(self) -> dict[str, Any]:
        """What the output says about the prices it used."""
        return {
            "currency": self.currency,
            "gbSecond": dict(self.gb_second),
            "request": self.request,
            "stateTransition": self.state_transition,
            "source": self.source,
            "confirmed": self.confirmed,
            "overridden": list(self.overridden),
        }


@dataclass(frozen=True)
class TuningInput:
    """The validated input of a tuning run."""

    lambda_arn: str
    power_values: tuple[int, ...]
    num: int
    payload: Any
    """The payload as given: one value, or weighted payloads (or, with ``payload_s3``, ignored)."""
    parallel_invocation: bool = False
    strategy: Strategy = "cost"
    balanced_weight: float = 0.5
    discard_top_bottom: float = DEFAULT_DISCARD
    """As given (or its default); ``discard`` is what the statistics use."""
    only_cold_starts: bool = False
    sleep_between_runs_ms: int = 0
    auto_optimize: bool = False
    auto_optimize_alias: str | None = None
    dry_run: bool = False
    pre_processor_arn: str | None = None
    post_processor_arn: str | None = None
    price_overrides: Mapping[str, Any] = field(default_factory=dict)
    payload_s3: str | None = None
    """``s3://bucket/key``: the payload (or weighted payloads) is that object's content."""
    allowed_exceptions: tuple[str, ...] = ()
    """Error types (``errorType``) of the tuned function that count as an invocation instead of failing the run."""
    include_output_results: bool = False
    disable_payload_logs: bool = False
    architectures: tuple[str, ...] | None = None
    """Tune the function on each of these architectures; None: on its own."""
    discard_given: bool = False

    @property
    def region(self) -> str:
        return arn_region(self.lambda_arn)

    @property
    def function_name(self) -> str:
        return self.lambda_arn.split(":")[6]

    @property
    def discard(self) -> float:
        """The fraction trimmed off each end: none with ``onlyColdStarts`` (as the reference: one invocation per
        version, each a cold start, every one counts)."""
        return 0.0 if self.only_cold_starts else self.discard_top_bottom

    @property
    def payloads(self) -> tuple[Any, ...]:
        """One payload per invocation (weighted payloads expanded), ``invocations`` of them."""
        return payloads_for(self.payload, self.num)[: self.invocations]

    @property
    def invocations(self) -> int:
        """Invocations per memory value: one in a dry run."""
        return 1 if self.dry_run else self.num

    @property
    def notes(self) -> list[str]:
        """What the run does differently from what the input might be read to ask."""
        found: list[str] = []
        if self.sleep_between_runs_ms and self.parallel_invocation:
            found.append("sleepBetweenRunsMs has no effect with parallelInvocation (as in the reference)")
        if self.only_cold_starts and self.discard_given and self.discard_top_bottom:
            found.append(
                "discardTopBottom is not applied with onlyColdStarts: every cold start counts (as in the reference)"
            )
        if self.payload_s3 is not None and self.payload != {}:
            found.append("payloadS3 is given: the inline payload is not used (as in the reference)")
        return found

    def prices(self) -> Prices:
        return resolve_prices(self.region, self.price_overrides)

    def aliases(self, value: int, architecture: str | None = None) -> list[str]:
        """The aliases to invoke for ``value`` (on ``architecture`` when several are tuned): one, or one per
        invocation when only cold starts count."""
        return alias_names(value, self.invocations if self.only_cold_starts else None, architecture)

    def tuned_architectures(self) -> tuple[str | None, ...]:
        """The architectures the setup makes versions for: None for the function's own."""
        return self.architectures if self.architectures is not None else (None,)

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
            "onlyColdStarts": self.only_cold_starts,
            "sleepBetweenRunsMs": self.sleep_between_runs_ms,
            "autoOptimize": self.auto_optimize,
            "dryRun": self.dry_run,
            "prices": dict(self.price_overrides),
            "allowedExceptions": list(self.allowed_exceptions),
            "includeOutputResults": self.include_output_results,
            "disablePayloadLogs": self.disable_payload_logs,
        }
        if self.discard_given:
            data["discardTopBottom"] = self.discard_top_bottom
        for key, value in (
            ("autoOptimizeAlias", self.auto_optimize_alias),
            ("preProcessorARN", self.pre_processor_arn),
            ("postProcessorARN", self.post_processor_arn),
            ("payloadS3", self.payload_s3),
        ):
            if value is not None:
                data[key] = value
        if self.architectures is not None:
            data["architectures"] = list(self.architectures)
        return data


def shown(value: Any) -> str:
    """A bad value as an error message quotes it: its repr, cut short (a value can be 300 KB of text)."""
    return _SHOWN.repr(value)


def is_whole(value: Any) -> TypeGuard[int]:
    """A JSON integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


_WHOLE_TEXT = re.compile(r"^\s*[0-9]{1,9}\s*$")
_DECIMAL_TEXT = re.compile(r"^\s*(?=\.?[0-9])[0-9]{0,9}(\.[0-9]{1,12})?\s*$")


def as_whole(value: Any) -> Any:
    """``value`` as an int where the reference reads it as one: an integer, a whole float (``10.0``) or a string
    of decimal digits (``"10"``, as its ``parseInt``); anything else unchanged, for the caller to refuse."""
    if isinstance(value, str) and _WHOLE_TEXT.match(value):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def as_number(value: Any) -> Any:
    """``value`` as a number where the reference reads it as one (it compares ``"0.3"`` as 0.3); anything else
    unchanged."""
    if isinstance(value, str) and _DECIMAL_TEXT.match(value):
        return float(value)
    return value


def alias_names(value: int, cold_starts: int | None = None, architecture: str | None = None) -> list[str]:
    """``RAM<value>`` (as the reference names them), ``RAM<value>-<architecture>`` when several architectures are
    tuned, and ``-<i>`` for each cold-start invocation."""
    base = f"{ALIAS_PREFIX}{value}" + (f"-{architecture}" if architecture else "")
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


def parse_s3_uri(uri: Any, problems: list[str], *, allowed: Sequence[str] | None = None) -> tuple[str, str] | None:
    """``s3://bucket/key`` as (bucket, key), the key URL-decoded (as the reference decodes it). ``allowed`` are the
    ``bucket/key-pattern`` entries the tuner may read (``*`` matches any characters); None: no check."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        problems.append(f"payloadS3 must be an S3 object as s3://<bucket>/<key>, got {_SHOWN.repr(uri)}")
        return None
    parts = urlsplit(uri)
    bucket, key = parts.netloc, unquote(parts.path).removeprefix("/")
    if not bucket or not key:
        problems.append(f"payloadS3 {_SHOWN.repr(uri)} needs a bucket and a key: s3://<bucket>/<key>")
        return None
    if allowed is not None and not any(_matches(f"{bucket}/{key}", pattern) for pattern in allowed):
        where = ", ".join(f"s3://{pattern}" for pattern in allowed) if allowed else "no S3 object"
        problems.append(
            f"payloadS3 {uri} is not an object this tuner may read; it may read {where} (change the construct's "
            "payload_objects)"
        )
        return None
    return bucket, key


def _matches(text: str, pattern: str) -> bool:
    """IAM's wildcard: ``*`` any characters, ``?`` one; nothing else is special."""
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, text, re.DOTALL) is not None


def _flag(raw: Mapping[str, Any], key: str, problems: list[str], default: bool = False) -> bool:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.append(
            f"{key} must be true or false, got {_SHOWN.repr(value)} (the reference reads any non-empty string as "
            'true, "false" too)'
        )
        return default
    return value


def _number(raw: Mapping[str, Any], key: str, default: float) -> Any:
    value = as_number(raw.get(key, default))
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else value


def power_values(raw: Any, default: Sequence[int], problems: list[str]) -> tuple[int, ...]:
    """A list of memory sizes (numbers, or strings of digits), ``"ALL"`` (128 to 3008 by 64), a range
    ``{"min", "max", "step"}`` (every value of it), or the default (also for an empty list, as the reference)."""
    if raw is None or raw == []:
        values: list[Any] = list(default)
    elif raw == "ALL":
        values = list(ALL_POWER_VALUES)
    elif isinstance(raw, Mapping):
        low: Any = as_whole(raw.get("min", MIN_MEMORY))
        high: Any = as_whole(raw.get("max"))
        step: Any = as_whole(raw.get("step"))
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
        values = [as_whole(v) for v in raw]
    else:
        problems.append(
            f'powerValues must be a list of memory sizes, "ALL", or a range {{"min", "max", "step"}}, got '
            f"{_SHOWN.repr(raw)}"
        )
        return ()
    bad = [v for v in values if not is_whole(v) or not MIN_MEMORY <= v <= MAX_MEMORY]
    if bad:
        problems.append(f"memory sizes must be whole MB from {MIN_MEMORY} to {MAX_MEMORY}, got {_SHOWN.repr(bad)}")
        return ()
    if len(set(values)) != len(values):
        repeated = sorted(v for v in set(values) if values.count(v) > 1)
        problems.append(f"powerValues has duplicates: {_SHOWN.repr(repeated)}")
    return tuple(sorted(set(values)))


def payloads_for(raw: Any, num: int) -> tuple[Any, ...]:
    """``num`` payloads from a payload as given; raises ``InvalidInputError`` as ``expand_payloads`` finds."""
    problems: list[str] = []
    expanded = expand_payloads(raw, num, problems)
    if problems:
        raise InvalidInputError(problems)
    return expanded


def expand_payloads(raw: Any, num: int, problems: list[str]) -> tuple[Any, ...]:
    """``num`` payloads: the one payload repeated, or weighted payloads in proportion (as the reference does)."""
    if not is_weighted(raw):
        return tuple(raw for _ in range(num))
    bad = [
        index
        for index, item in enumerate(raw)
        if isinstance(item["weight"], bool)
        or not isinstance(item["weight"], (int, float))
        or item["weight"] <= 0
        or (isinstance(item["weight"], float) and not math.isfinite(item["weight"]))
    ]
    if bad:
        problems.append(
            f"weighted payloads: weight must be a positive number, got {_SHOWN.repr([raw[i]['weight'] for i in bad])} "
            f"at {_SHOWN.repr(bad)}"
        )
        return ()
    if num < len(raw):
        problems.append(f"{len(raw)} weighted payloads and num={num}: num must be at least the number of payloads")
        return ()
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
    """A non-empty list of objects that each have a ``payload`` and a ``weight`` (other keys may be there too, as
    the reference allows). Its weights are checked by ``expand_payloads``."""
    return (
        isinstance(payload, list)
        and bool(payload)
        and all(isinstance(item, Mapping) and "payload" in item and "weight" in item for item in payload)
    )


def encode_payload(payload: Any) -> bytes:
    """The bytes an invocation sends: a string that is JSON already (``'{"a": 1}'``) as it is, anything else as
    JSON (``"text"`` becomes ``'"text"'``), as the reference sends them."""
    if isinstance(payload, str):
        try:
            json.loads(payload)
        except ValueError:
            pass
        else:
            return payload.encode()
    return json.dumps(payload).encode()


def _architectures(raw: Any, problems: list[str]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or not raw
        or any(item not in ARCHITECTURES for item in raw)
        or len(set(raw)) != len(raw)
    ):
        problems.append(f'architectures must be a list of "x86_64" and/or "arm64", each once, got {_SHOWN.repr(raw)}')
        return None
    return tuple(raw)


def _allowed_exceptions(raw: Any, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
        problems.append(
            f'allowedExceptions must be a list of error types (the "errorType" of the function\'s error), got '
            f"{_SHOWN.repr(raw)}"
        )
        return ()
    return tuple(raw)


def parse_input(
    raw: Any,
    *,
    default_power_values: Sequence[int] = DEFAULT_POWER_VALUES,
    allowed: Sequence[str] = (),
    payload_objects: Sequence[str] | None = None,
) -> TuningInput:
    """Validate the execution input; raises ``InvalidInputError`` naming every problem. ``payload_objects``: the
    ``bucket/key-pattern`` entries a ``payloadS3`` may name (None: not checked here)."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise InvalidInputError([f"the input must be a JSON object, got {type(raw).__name__}"])
    arn = parse_arn(raw.get("lambdaARN"), "lambdaARN", problems, allowed=allowed)
    values = power_values(raw.get("powerValues"), default_power_values, problems)
    num = as_whole(raw.get("num"))
    if not is_whole(num) or num < MIN_NUM:
        problems.append(
            f"num (invocations per memory size) must be a whole number of at least {MIN_NUM}, got "
            f"{_SHOWN.repr(raw.get('num'))}"
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
    discard_given = raw.get("discardTopBottom") is not None
    discard = _number(raw, "discardTopBottom", 0.0 if only_cold else DEFAULT_DISCARD)
    if discard is None or not 0 <= discard <= MAX_DISCARD:
        problems.append(
            f"discardTopBottom must be a fraction from 0 to {MAX_DISCARD} (of the fastest and of the slowest "
            f"invocations left out of the average), got {_SHOWN.repr(raw.get('discardTopBottom'))}"
        )
        discard = DEFAULT_DISCARD
    parallel = _flag(raw, "parallelInvocation", problems)
    sleep = as_whole(raw.get("sleepBetweenRunsMs", 0))
    if sleep is None:
        sleep = 0
    if not is_whole(sleep) or not 0 <= sleep <= MAX_SLEEP_MS:
        problems.append(
            f"sleepBetweenRunsMs must be a whole number of milliseconds (0 or more, at most {MAX_SLEEP_MS:,}), "
            f"got {_SHOWN.repr(raw.get('sleepBetweenRunsMs'))}"
        )
        sleep = 0
    auto_optimize = _flag(raw, "autoOptimize", problems)
    alias = raw.get("autoOptimizeAlias")
    if alias is not None:
        if not isinstance(alias, str) or not _ALIAS_NAME.match(alias):
            problems.append(
                f"autoOptimizeAlias must be an alias name (letters, digits, - and _), got {_SHOWN.repr(alias)}"
            )
        elif not auto_optimize:
            problems.append("autoOptimizeAlias is set but autoOptimize is false: set autoOptimize to true")
        elif re.match(rf"^{ALIAS_PREFIX}\d+(-(x86_64|arm64))?(-\d+)?$", alias):
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
    payload_s3 = raw.get("payloadS3")
    if payload_s3 is not None:
        parse_s3_uri(payload_s3, problems, allowed=payload_objects)
    payload = raw.get("payload", {})
    if payload_s3 is None:
        expand_payloads(payload, num, problems)
    architectures = _architectures(raw.get("architectures"), problems)
    allowed_exceptions = _allowed_exceptions(raw.get("allowedExceptions"), problems)
    include_output_results = _flag(raw, "includeOutputResults", problems)
    disable_payload_logs = _flag(raw, "disablePayloadLogs", problems)
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        problems.append(f"unknown input fields {_SHOWN.repr(unknown)}; known: {', '.join(sorted(_KNOWN_KEYS))}")
    if problems:
        raise InvalidInputError(problems)
    assert arn is not None
    assert is_whole(num)
    assert is_whole(sleep)
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
        payload_s3=payload_s3,
        allowed_exceptions=allowed_exceptions,
        include_output_results=include_output_results,
        disable_payload_logs=disable_payload_logs,
        architectures=architectures,
        discard_given=discard_given,
    )


_KNOWN_KEYS = {
    "lambdaARN",
    "powerValues",
    "num",
    "payload",
    "payloadS3",
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
    "allowedExceptions",
    "includeOutputResults",
    "disablePayloadLogs",
    "prices",
    "architectures",
}


def check_price_overrides(prices: Mapping[str, Any], problems: list[str]) -> None:
    """``{"x86_64": <per GB-s>, "arm64": <per GB-s>, "request": <per request>, "stateTransition": <each>}``, in
    the region's currency."""
    for key, value in prices.items():
        if key not in ("x86_64", "arm64", "request", "stateTransition"):
            problems.append(
                f"prices: unknown key {_SHOWN.repr(key)}; use x86_64, arm64 (per GB-second), request, stateTransition"
            )
        elif _finite(value) is None or value < 0:
            problems.append(
                f"prices.{key} must be a price (0 or more, in the region's currency), got {_SHOWN.repr(value)}"
            )


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is not a JSON number or has no finite float (10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def resolve_prices(region: str, overrides: Mapping[str, Any] | None = None) -> Prices:
    """The price table's row for ``region``, with the input's overrides on top."""
    overrides = overrides or {}
    row = price_table.region_prices(region)
    gb_second = row.gb_second()
    for arch in ARCHITECTURES:
        if arch in overrides:
            gb_second[arch] = float(overrides[arch])
    overridden = tuple(key for key in ("x86_64", "arm64", "request", "stateTransition") if key in overrides)
    return Prices(
        gb_second=gb_second,
        request=float(overrides.get("request", row.request)),
        state_transition=float(overrides.get("stateTransition", row.state_transition)),
        currency=row.currency,
        source=row.source + (f" (overridden by the input: {', '.join(overridden)})" if overridden else ""),
        confirmed=row.confirmed or {"x86_64", "arm64"} <= set(overridden),
        overridden=overridden,
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
    billed_restore_duration_ms: float | None = None
    """SnapStart: the billed part of the restore (loading the runtime, after-restore hooks)."""

    @property
    def total_ms(self) -> float:
        """What the caller waited: Duration plus Init Duration (a cold start) plus Restore Duration (SnapStart),
        as the Lambda guide's latency query and the reference add them."""
        return self.duration_ms + (self.init_duration_ms or 0.0) + (self.restore_duration_ms or 0.0)

    @property
    def billed_total_ms(self) -> float:
        """What is billed by the millisecond: Billed Duration plus Billed Restore Duration (SnapStart)."""
        return self.billed_duration_ms + (self.billed_restore_duration_ms or 0.0)

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None or self.restore_duration_ms is not None


_NUMBER = r"(\d{1,12}(?:\.\d{1,6})?)"
_TEXT_FIELDS = {
    "duration_ms": re.compile(rf"(?:^|\t)Duration: {_NUMBER} ms"),
    "billed_duration_ms": re.compile(rf"\tBilled Duration: {_NUMBER} ms"),
    "init_duration_ms": re.compile(rf"\tInit Duration: {_NUMBER} ms"),
    "restore_duration_ms": re.compile(rf"\tRestore Duration: {_NUMBER} ms"),
    "billed_restore_duration_ms": re.compile(rf"\tBilled Restore Duration: {_NUMBER} ms"),
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
        billed_restore_duration_ms=found.get("billed_restore_duration_ms"),
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
        billed_restore_duration_ms=_duration(metrics.get("billedRestoreDurationMs")),
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
    """What one memory value did: averages over the trimmed invocations, cost of all of them.

    ``averageDuration`` is what the caller waited (Duration + Init Duration + Restore Duration: cold starts count
    in full, as in the reference); ``averageWarmDuration`` the handler's time alone (Duration);
    ``averageColdStartDuration`` the mean wait of the invocations that were cold starts. ``averageBilledDuration``
    is Billed Duration + Billed Restore Duration (SnapStart)."""

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
    averageWarmDuration: float | None = None
    averageColdStartDuration: float | None = None
    averageRestoreDuration: float | None = None
    allowedErrors: int = 0
    currency: str = "USD"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["averagePrice"] = self.averageCost  # the reference's name for it
        return data


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def value_stats(
    value: int,
    reports: Sequence[Report],
    *,
    discard: float,
    architecture: str,
    prices: Prices,
    allowed_errors: int = 0,
) -> ValueStats:
    """The statistics of one memory value from its invocations' reports."""
    if not reports:
        raise ValueError(f"no invocation report for {value} MB")
    gb_second = prices.compute(architecture)
    totals = [r.total_ms for r in reports]
    billed = [r.billed_total_ms for r in reports]
    average_billed = trimmed_mean(billed, discard)
    cold = [r for r in reports if r.cold]
    inits = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
    restores = [r.restore_duration_ms for r in reports if r.restore_duration_ms is not None]
    return ValueStats(
        value=value,
        invocations=len(reports),
        averageDuration=trimmed_mean(totals, discard),
        averageBilledDuration=average_billed,
        averageCost=invocation_cost(average_billed, value, gb_second, prices.request),
        totalCost=sum(invocation_cost(b, value, gb_second, prices.request) for b in billed),
        minDuration=min(totals),
        maxDuration=max(totals),
        architecture=architecture,
        averageInitDuration=_mean(inits),
        coldStarts=len(cold),
        averageWarmDuration=trimmed_mean([r.duration_ms for r in reports], discard),
        averageColdStartDuration=_mean([r.total_ms for r in cold]),
        averageRestoreDuration=_mean(restores),
        allowedErrors=allowed_errors,
        currency=prices.currency,
    )


def flatten_stats(raw: Any) -> Any:
    """The Map's results: one statistics object per memory value, or (several architectures) a list of them."""
    if not isinstance(raw, list):
        return raw
    flat: list[Any] = []
    for item in raw:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def parse_stats(
    raw: Any, power_values: Sequence[int], architectures: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The executors' statistics as the finalizer gets them, one object per memory value and architecture
    (``ValueStats.to_json``). Raises ``InvalidInputError`` naming every problem."""
    raw = flatten_stats(raw)
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(
            [f"stats must be a non-empty list of the executors' statistics, got {_SHOWN.repr(raw)}"]
        )
    problems: list[str] = []
    seen: set[tuple[int, Any]] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems.append(f"stats[{index}] must be an object, got {_SHOWN.repr(item)}")
            continue
        value = item.get("value")
        architecture = item.get("architecture") if architectures else None
        if architectures and architecture not in architectures:
            problems.append(
                f"stats[{index}].architecture must be one of {_SHOWN.repr(list(architectures))}, got "
                f"{_SHOWN.repr(architecture)}"
            )
        if not is_whole(value) or value not in power_values or (value, architecture) in seen:
            problems.append(
                f"stats[{index}].value must be one of powerValues {_SHOWN.repr(list(power_values))}, once"
                + (" per architecture" if architectures else "")
                + f", got {_SHOWN.repr(value)}"
            )
        else:
            seen.add((value, architecture))
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


# -- state transitions ----------------------------------------------------------------------------------------
def transitions(power_values: int, setup_rounds: int = 1) -> int:
    """State transitions of a successful run of the native state machine: Initialize, SetupComplete, the Map, one
    Execute per value, Finalize; each extra setup round adds ContinueSetup and SetupComplete. Several
    architectures do not add any: each Execute tunes its value on all of them."""
    return 4 + power_values + 2 * (setup_rounds - 1)


def reference_transitions(
    power_values: int, *, only_cold_starts: bool = False, num: int = MIN_NUM, runs: int = 1
) -> int:
    """The state transitions a successful run of the reference's state machine takes (its definition, counted):
    Initializer; Publisher and IsCountReached once per version it makes (P, or P x num with onlyColdStarts, plus
    one that gives $LATEST its configuration back); Branching (the Map); one Executor per value; Cleaner,
    Analyzer, Optimizer. That is 7 + 3 x P, or 7 + P + 2 x P x num with onlyColdStarts (the reference's own
    estimate, ``utils.stepFunctionsCost``, says 6 + ...: it leaves the extra version out). ``runs``: the reference
    tunes one architecture per run, so comparing two takes two runs."""
    versions = power_values * (num if only_cold_starts else 1) + 1
    return runs * (1 + 2 * versions + 1 + power_values + 3)


# -- the output ----------------------------------------------------------------------------------------------
def visualization_url(
    stats: Sequence[Mapping[str, Any]], *, currency: str = "USD", base: str = VISUALIZATION_URL
) -> str:
    """The reference's visualization link for ``stats``: memory sizes (16-bit integers), average durations and
    average costs (32-bit floats), each little-endian and base64-encoded, joined by ``;`` in the URL's fragment
    (which browsers never send to the server); ``?currency=CNY`` for costs in CNY."""
    ordered = sorted(stats, key=lambda s: s["value"])
    sizes = struct.pack(f"<{len(ordered)}h", *(int(s["value"]) for s in ordered))
    durations = struct.pack(f"<{len(ordered)}f", *(float(s["averageDuration"]) for s in ordered))
    costs = struct.pack(f"<{len(ordered)}f", *(float(s["averageCost"]) for s in ordered))
    fragment = ";".join(base64.b64encode(part).decode() for part in (sizes, durations, costs))
    return base + ("?currency=CNY" if currency == "CNY" else "") + "#" + fragment


def _summary(best: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "power": best["value"],
        "cost": best["averageCost"],
        "duration": best["averageDuration"],
        "architecture": best.get("architecture"),
    }


def analyse(
    stats: Sequence[Mapping[str, Any]],
    *,
    strategy: str,
    balanced_weight: float,
    prices: Prices,
    setup_rounds: int = 1,
    dry_run: bool = False,
    config: TuningInput | None = None,
) -> dict[str, Any]:
    """The tuning output: the best value (over every architecture tuned), its average cost and duration, each
    architecture's best, the run's own cost, the visualization link, the stats and notes."""
    best = best_value(stats, strategy, balanced_weight)
    architectures = sorted({str(s.get("architecture", "x86_64")) for s in stats})
    values = sorted({int(s["value"]) for s in stats})
    count = transitions(len(values), setup_rounds)
    ordered = sorted(stats, key=lambda s: (str(s.get("architecture", "")), s["value"]))
    own = [s for s in ordered if s.get("architecture", "x86_64") == best.get("architecture", "x86_64")]
    reference = reference_transitions(
        len(values),
        only_cold_starts=config.only_cold_starts if config else False,
        num=config.num if config else MIN_NUM,
        runs=len(architectures),
    )
    notes = [REQUEST_COST_NOTE, *(config.notes if config else [])]
    if not prices.confirmed:
        notes.append(
            f"the price table's row for this region is not confirmed ({prices.source}): give the input's prices to "
            "be sure of the costs"
        )
    result: dict[str, Any] = {
        **_summary(best),
        "currency": prices.currency,
        "strategy": strategy,
        **({"balancedWeight": balanced_weight} if strategy == "balanced" else {}),
        "dryRun": dry_run,
        "stateMachine": {
            "transitions": count,
            "referenceTransitions": reference,
            "executionCost": count * prices.state_transition,
            "lambdaCost": sum(s["totalCost"] for s in ordered),
            "visualization": visualization_url(own, currency=prices.currency),
        },
        "prices": prices.to_json(),
        "stats": [dict(s) for s in ordered],
        "notes": notes,
    }
    if len(architectures) > 1:
        result["byArchitecture"] = {
            architecture: {
                **_summary(best_value(group, strategy, balanced_weight)),
                "visualization": visualization_url(group, currency=prices.currency),
            }
            for architecture in architectures
            for group in [[s for s in ordered if s.get("architecture") == architecture]]
        }
    return result
