"""Faults a test asks for: duplicate deliveries on the at-least-once paths, throttling (and the reserved concurrency
of the template), service exceptions on Lambda tasks, and targets that fail their first N deliveries.

Every decision is drawn from the seed, the delivery path and the delivery's content (without the ids and times the
kit makes up), and how many times that content came that way before: the same test makes the same decisions
whatever order the kit's threads run in.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from constructs_lib.testing.errors import KitError

if TYPE_CHECKING:
    from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
    from constructs_lib.testing._engine.resources import StackResources

LAMBDA_SERVICE_EXCEPTIONS = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException")
"""The errors Step Functions reports for a Lambda service failure, which ``LambdaInvoke`` retries by default."""

THROTTLE_BACKOFF = (1.0, 300.0)
"""Lambda retries a throttled asynchronous event after 1 s, doubling the wait up to 5 minutes."""

_STATUS = {
    "Lambda.ServiceException": ("ServiceException", 500),
    "Lambda.AWSLambdaException": ("AWSLambdaException", 500),
    "Lambda.SdkClientException": ("SdkClientException", 500),
    "Lambda.TooManyRequestsException": ("TooManyRequestsException", 429),
    "Lambda.ResourceNotReadyException": ("ResourceNotReadyException", 500),
    "Lambda.EC2ThrottledException": ("EC2ThrottledException", 502),
}
_VOLATILE = frozenset(
    {
        "messageId",
        "MessageId",
        "receiptHandle",
        "requestId",
        "RequestId",
        "timestamp",
        "Timestamp",
        "eventTime",
        "time",
        "sequencer",
        "x-amz-request-id",
        "x-amz-id-2",
        "Signature",
        "SigningCertUrl",
        "SigningCertURL",
        "UnsubscribeUrl",
        "UnsubscribeURL",
        "SentTimestamp",
        "ApproximateFirstReceiveTimestamp",
        "approximateFirstReceiveTimestamp",
        "ApproximateReceiveCount",
        "md5OfBody",
        "eTag",
        "invocationId",
        "taskId",
    }
)
"""Fields the kit (or moto) makes up anew for each delivery: left out of a delivery's identity."""

_DUPLICATE: contextvars.ContextVar[bool] = contextvars.ContextVar("kit_duplicate_delivery", default=False)


@dataclass(frozen=True)
class Faults:
    """Faults the local kit injects, seeded and reproducible: ``LocalKit(stack, faults=Faults(seed=7, ...))``.

    AWS delivers at least once, throttles, and its services fail now and then; a stack that is green in the kit
    should stay green when that happens. Deliveries the kit duplicated are marked (``Delivery.duplicate``,
    ``AsyncInvocation.duplicate``), so that a test can tell a duplicate it caused from a defect of the stack.
    """

    seed: int = 0
    """Seeds every decision: the same seed makes the same faults."""
    duplicate_rate: float = 0.0
    """Share of deliveries made twice on each at-least-once path: asynchronous invocations (of any source), SNS
    subscriptions, S3 event notifications, EventBridge rule matches, SQS event source batches, and S3 Batch Operations
    tasks (run again; the job keeps the first answer). A duplicate keeps
    the original's request id and content; a duplicate is never duplicated again. :default: - no duplicates"""
    throttle_rate: float = 0.0
    """Share of Lambda invocations throttled: an asynchronous event goes back to Lambda's queue (retried with
    backoff up to its maximum event age, not counted as a retry), an SQS batch goes back to its queue, a synchronous
    ``Invoke`` (a state machine's task) fails with ``TooManyRequestsException``. A function whose template sets
    ``ReservedConcurrentExecutions: 0`` is throttled always. :default: - no throttling beyond reserved concurrency"""
    service_exception_rate: float = 0.0
    """Share of state machine Lambda tasks that fail with one of ``service_exceptions`` before the function runs.
    :default: - none"""
    service_exceptions: tuple[str, ...] = LAMBDA_SERVICE_EXCEPTIONS
    """The errors drawn from (as Step Functions names them), with equal chances. :default: -
    ``Lambda.ServiceException``, ``Lambda.AWSLambdaException`` and ``Lambda.SdkClientException``"""
    failing_targets: Mapping[str, int] = field(default_factory=dict)
    """Resource name (a construct path, its last part or a logical id) -> how many deliveries to it fail before it
    works: a function's first N invocations fail with ``InjectedFault`` (its handler does not run), a queue's, topic's,
    bus's or state machine's first N calls made for a principal (destinations, targets, tasks, handlers) fail with a
    500 ``InternalFailure``. :default: - none"""

    def __post_init__(self) -> None:
        problems = []
        for name in ("duplicate_rate", "service_exception_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(f"{name} must be between 0 and 1, got {value}")
        if not 0.0 <= self.throttle_rate < 1.0:
            problems.append(
                f"throttle_rate must be at least 0 and below 1 (nothing would ever run), got {self.throttle_rate}"
            )
        unknown = [name for name in self.service_exceptions if name not in _STATUS]
        if unknown or not self.service_exceptions:
            problems.append(
                f"service_exceptions must name some of {sorted(_STATUS)}, got {list(self.service_exceptions)}"
            )
        bad = {name: count for name, count in self.failing_targets.items() if not isinstance(count, int) or count < 0}
        if bad:
            problems.append(f"failing_targets counts must be non-negative integers, got {bad}")
        if problems:
            raise KitError("; ".join(problems))


class InjectedFault(Exception):
    """An AWS error the kit injects into an API call: raised to the caller as botocore's ``ClientError``."""

    def __init__(self, code: str, status: int, message: str, states_error: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.states_error = states_error
        """The error name a Step Functions task reports for it (``Lambda.ServiceException``), if it differs."""


class FaultInjector:
    """Draws the faults of one kit run (thread-safe); with no ``Faults`` it only applies reserved concurrency."""

    def __init__(self, faults: Faults | None, lock: Any) -> None:
        self.faults = faults or Faults()
        self._lock = lock
        self._seen: Counter[tuple[str, str]] = Counter()
        self._failures_left: dict[str, int] = {}

    def bind(self, resources: StackResources) -> None:
        """Read what the faults need from the stood-up stack: the failing targets' logical ids."""
        self._failures_left = {
            resources.logical_id(name): count for name, count in self.faults.failing_targets.items() if count
        }

    # -- drawing -------------------------------------------------------------------------------------------------
    def _chance(self, path: str, content: Any) -> float:
        """A number in [0, 1) from the seed, the path, the content and its occurrence on that path."""
        identity = _identity(content)
        with self._lock:
            self._seen[(path, identity)] += 1
            occurrence = self._seen[(path, identity)]
        digest = hashlib.blake2b(f"{self.faults.seed}\0{path}\0{identity}\0{occurrence}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big") / 2**64

    # -- duplicates ----------------------------------------------------------------------------------------------
    def duplicates(self, path: str, content: Any) -> bool:
        """Whether this delivery on ``path`` is made twice (never for a delivery that is itself a duplicate)."""
        if self.faults.duplicate_rate <= 0 or _DUPLICATE.get():
            return False
        return self._chance(f"duplicate:{path}", content) < self.faults.duplicate_rate

    @property
    def targets_fail(self) -> bool:
        """Whether some resource still has deliveries to fail."""
        return any(left > 0 for left in self._failures_left.values())

    def at_least_once(self, path: str, content: Any, deliver: Callable[[], Any]) -> None:
        """Deliver, and deliver again as a duplicate when the faults say so."""
        deliver()
        if self.duplicates(path, content):
            with duplicating():
                deliver()

    # -- throttling ----------------------------------------------------------------------------------------------
    @staticmethod
    def reserved_concurrency(local: LocalFunction) -> int | None:
        """The function's ``ReservedConcurrentExecutions`` from the template (None: unreserved)."""
        return local.reserved_concurrency

    def throttled(self, local: LocalFunction, path: str, content: Any) -> bool:
        """Whether this invocation of ``local`` is throttled (always, with reserved concurrency 0)."""
        if local.reserved_concurrency == 0:
            return True
        if self.faults.throttle_rate <= 0:
            return False
        return self._chance(f"throttle:{path}:{local.logical_id}", content) < self.faults.throttle_rate

    def wait_out_throttles(
        self, local: LocalFunction, event: Any, age: float, max_age: float
    ) -> tuple[float, int, bool]:
        """An asynchronous event's throttles before an attempt: Lambda puts it back in its queue and tries again
        after 1 s, doubling up to 5 minutes. Returns the event's age after them, how many there were, and whether
        the event grew older than ``max_age`` meanwhile (then it is discarded)."""
        throttles = 0
        backoff, ceiling = THROTTLE_BACKOFF
        while self.throttled(local, "async", event):
            throttles += 1
            age += backoff
            if age > max_age:
                return age, throttles, True
            backoff = min(backoff * 2, ceiling)
        return age, throttles, False

    # -- failures ------------------------------------------------------------------------------------------------
    def target_fails(self, logical_id: str | None) -> bool:
        """Whether this delivery to ``logical_id`` is one of its first N, which fail (counts it)."""
        if logical_id is None:
            return False
        with self._lock:
            left = self._failures_left.get(logical_id, 0)
            if left <= 0:
                return False
            self._failures_left[logical_id] = left - 1
            return True

    def on_lambda_invoke(self, local: LocalFunction, payload: Any, *, from_task: bool) -> None:
        """A synchronous ``Invoke`` of a function of the stack: raises the service exception or throttle drawn."""
        if from_task and self.faults.service_exception_rate > 0:
            chance = self._chance(f"service:{local.logical_id}", payload)
            if chance < self.faults.service_exception_rate:
                names = self.faults.service_exceptions
                # The same draw picks which one: uniform within [0, rate).
                name = names[min(int(chance / self.faults.service_exception_rate * len(names)), len(names) - 1)]
                code, status = _STATUS[name]
                raise InjectedFault(code, status, f"injected by the kit's faults: {name}", states_error=name)
        if self.throttled(local, "invoke", payload):
            raise InjectedFault(
                "TooManyRequestsException",
                429,
                "Rate Exceeded.",
                states_error="Lambda.TooManyRequestsException",
            )

    def failed_invocation(self, local: LocalFunction, event: Any, source: str, request_id: str) -> Invocation:
        """The failed run of a function that fails its first N invocations: its handler does not run."""
        from constructs_lib.testing._engine.lambda_runtime import Invocation

        return Invocation(
            function=local.logical_id,
            request_id=request_id,
            event=event,
            error_type="InjectedFault",
            error_message=f"injected by the kit's faults: {local.logical_id} fails its first invocations",
            source=source,
        )


@contextmanager
def duplicating() -> Iterator[None]:
    """Everything delivered inside is a duplicate the kit made (recorded with ``duplicate=True``)."""
    token = _DUPLICATE.set(True)
    try:
        yield
    finally:
        _DUPLICATE.reset(token)


def is_duplicate() -> bool:
    """Whether the current delivery is a duplicate the kit made."""
    return _DUPLICATE.get()


def _identity(content: Any) -> str:
    """The content of a delivery without what the kit makes up for each (ids, times), as canonical text."""
    return json.dumps(_stable(content), sort_keys=True, default=str, separators=(",", ":"))


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {key: _stable(item) for key, item in value.items() if key not in _VOLATILE}
        if "detail-type" in kept:  # an EventBridge event: its id is made per event
            kept.pop("id", None)
        return kept
    if isinstance(value, list):
        return [_stable(item) for item in value]
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if text[:1] in "{[":
            try:
                return _stable(json.loads(text))
            except ValueError:
                return text
        return text
    return value
