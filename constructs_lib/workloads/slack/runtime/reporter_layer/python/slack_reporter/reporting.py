"""The reporter of a container: turns an exception and its Lambda context into a Slack message and posts it.

Settings (environment variables; the SlackErrorReporter construct sets them):

- ``SLACK_REPORTER_TIMEOUT_SECONDS``: timeout of one post to Slack (default 2, always cut to the invocation's time
  left minus a safety margin);
- ``SLACK_REPORTER_MIN_INTERVAL_SECONDS``: at most one message per this many seconds per container (default 1);
- where the webhook lives: see :mod:`slack_reporter.webhook`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from types import TracebackType

from .formatter import Arn, ErrorReport, log_stream_url, to_slack
from .limiter import RateLimiter
from .poster import RemainingMillis, post, seconds_left
from .webhook import WebhookSource

LOGGER = logging.getLogger("slack_reporter")

TIMEOUT_ENV = "SLACK_REPORTER_TIMEOUT_SECONDS"
MIN_INTERVAL_ENV = "SLACK_REPORTER_MIN_INTERVAL_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 2.0
DEFAULT_MIN_INTERVAL_SECONDS = 1.0

SENT = "sent"
SUPPRESSED = "suppressed"
FAILED = "failed"
UNCONFIGURED = "unconfigured"
DUPLICATE = "duplicate"

_PACKAGE = __name__.rpartition(".")[0]


class Reporter:
    """Rate limit, webhook and poster of one container (one per Lambda execution environment)."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        env = os.environ if environ is None else environ
        self._sleep = sleep
        self.timeout = _positive(env, TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS)
        self.limiter = RateLimiter(_positive(env, MIN_INTERVAL_ENV, DEFAULT_MIN_INTERVAL_SECONDS), clock=clock)
        self.webhook = WebhookSource.from_environ(env, timeout=self.timeout)
        self._last_reported: BaseException | None = None
        self._lock = threading.Lock()

    def report_exception(self, error: BaseException, context: object | None, *, handled: bool) -> str:
        """Report an exception once: the same object again (a decorator inside the wrapper, ``report()`` then
        re-raise) is not posted twice."""
        with self._lock:
            if error is self._last_reported:
                return DUPLICATE
            self._last_reported = error
        report = exception_report(error, context, handled=handled)
        return self.send(report, remaining_ms=remaining_time(context))

    def send(self, report: ErrorReport, *, remaining_ms: RemainingMillis | None = None, wait: bool = False) -> str:
        """Post ``report``; returns what happened: ``sent``, ``suppressed`` (held back by the rate limit and counted
        in the next message), ``failed`` (a warning says why) or ``unconfigured`` (no usable webhook).

        :param wait: when the rate limit holds the message back, wait for its turn if the invocation has the time
            (the notifier does: each of its events is a distinct failure), rather than hold it back.
        """
        url = self.webhook.url()
        if url is None:
            return UNCONFIGURED
        if wait:
            self._wait_for_turn(remaining_ms)
        carried = self.limiter.acquire()
        if carried is None:
            LOGGER.info(
                "slack_reporter: %s not posted (at most one message per %g s); counted in the next message",
                report.error_type,
                self.limiter.min_interval,
            )
            return SUPPRESSED
        if post(url, to_slack(report, suppressed=carried), timeout=self.timeout, remaining_ms=remaining_ms):
            return SENT
        self.limiter.restore(carried)
        return FAILED

    def _wait_for_turn(self, remaining_ms: RemainingMillis | None) -> None:
        delay = self.limiter.delay()
        left = seconds_left(remaining_ms)
        if delay > 0 and (left is None or delay + self.timeout <= left):
            self._sleep(delay)


def exception_report(
    error: BaseException, context: object | None, *, handled: bool = False, environ: Mapping[str, str] | None = None
) -> ErrorReport:
    """An ErrorReport of an exception raised in a Lambda invocation (``context`` None: raised at init)."""
    env = os.environ if environ is None else environ
    arn = Arn.parse(str(getattr(context, "invoked_function_arn", "") or ""))
    name = str(getattr(context, "function_name", "") or env.get("AWS_LAMBDA_FUNCTION_NAME") or "unknown function")
    version = str(getattr(context, "function_version", "") or env.get("AWS_LAMBDA_FUNCTION_VERSION") or "")
    region = env.get("AWS_REGION") or (arn.region if arn else "")
    partition = arn.partition if arn else _partition_of(region)
    qualifier = arn.resource[2] if arn is not None and len(arn.resource) > 2 else None
    request_id = str(getattr(context, "aws_request_id", "") or "")
    log_group = str(getattr(context, "log_group_name", "") or env.get("AWS_LAMBDA_LOG_GROUP_NAME") or "")
    log_stream = str(getattr(context, "log_stream_name", "") or env.get("AWS_LAMBDA_LOG_STREAM_NAME") or "")

    shown_name = f"{name}:{qualifier}" if qualifier and qualifier != version else name
    facts: list[tuple[str, str]] = [("Function", shown_name)]
    if version:
        facts.append(("Version", version))
    facts.append(("Request id", request_id or "none (raised at init)"))
    if arn is not None:
        facts.append(("Account", arn.account))
    if region:
        facts.append(("Region", region))
    link = None
    if region and log_group and log_stream:
        link = (log_stream_url(partition, region, log_group, log_stream), "View the log stream in CloudWatch")
    return ErrorReport(
        error_type=type(error).__name__,
        error_message=str(error),
        source=name,
        facts=tuple(facts),
        trace=tuple(stack_trace(error)),
        link=link,
        handled=handled,
    )


def stack_trace(error: BaseException) -> list[str]:
    """The traceback lines of ``error`` (chained causes included), without this package's own frames."""
    lines = traceback.format_exception(type(error), error, _without_own_frames(error.__traceback__))
    return [line for chunk in lines for line in chunk.splitlines() if line.strip()]


def remaining_time(context: object | None) -> RemainingMillis | None:
    method = getattr(context, "get_remaining_time_in_millis", None)
    return method if callable(method) else None


def _without_own_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the first frame outside slack_reporter (the wrapper and decorator frames come first)."""
    while tb is not None and _is_own(str(tb.tb_frame.f_globals.get("__name__", ""))):
        tb = tb.tb_next
    return tb


def _is_own(module_name: str) -> bool:
    return module_name == _PACKAGE or module_name.startswith(_PACKAGE + ".")


def _positive(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        LOGGER.warning("slack_reporter: %s=%r is not a number; using %g", name, text, default)
        return default
    return value if value >= 0 else default


def _partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
