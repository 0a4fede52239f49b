"""Post a message to a Slack incoming webhook with urllib: short timeout, one retry on HTTP 429, never raises."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

LOGGER = logging.getLogger("slack_reporter")

SAFETY_MARGIN_SECONDS = 0.3
"""Time kept for the function itself: reporting must never make an invocation time out (a timeout would replace
the function's own error)."""
MIN_ATTEMPT_SECONDS = 0.1
"""Below this much time an attempt is not worth making."""
MAX_RETRY_AFTER_SECONDS = 5.0
"""A 429 that asks to wait longer than this is not retried: the function would wait (and be billed) for it."""
DEFAULT_RETRY_AFTER_SECONDS = 1.0
USER_AGENT = "slack-reporter (constructs_lib)"

RemainingMillis = Callable[[], int]


def post(
    url: str,
    payload: Mapping[str, object],
    *,
    timeout: float,
    remaining_ms: RemainingMillis | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST ``payload`` as JSON to the webhook. True when Slack accepted it (HTTP 2xx).

    One retry after ``Retry-After`` on HTTP 429, when the wait (at most 5 s) plus a whole attempt (``timeout``) fit
    in the invocation's remaining time. Anything else (other statuses, timeouts, refused connections) is logged as a
    warning that never contains the URL, and False is returned.
    """
    body = json.dumps(payload).encode("utf-8")
    for attempt in (1, 2):
        budget = _budget(timeout, remaining_ms)
        if budget is None:
            LOGGER.warning("slack_reporter: not posted to Slack: too little of the invocation's time is left")
            return False
        request = Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        )
        try:
            with urlopen(request, timeout=budget) as response:
                response.read(1024)
            return True
        except HTTPError as error:
            detail = _scrub(_body_of(error), url)
            if error.code == 429 and attempt == 1:
                wait = retry_after_seconds(error.headers.get("Retry-After"))
                if wait <= MAX_RETRY_AFTER_SECONDS and _fits(wait, timeout, remaining_ms):
                    LOGGER.info("slack_reporter: Slack rate limited the webhook; retrying in %.1f s", wait)
                    sleep(wait)
                    continue
                LOGGER.warning(
                    "slack_reporter: Slack rate limited the webhook (HTTP 429, Retry-After %.1f s) and the "
                    "invocation has no time to wait; the message is dropped",
                    wait,
                )
                return False
            LOGGER.warning("slack_reporter: Slack answered HTTP %s (%s); the message is dropped", error.code, detail)
            return False
        except Exception as error:  # timeouts, refused connections, TLS and protocol errors: never raised
            LOGGER.warning(
                "slack_reporter: the Slack webhook was not reached (%s: %s); the message is dropped",
                type(error).__name__,
                _scrub(str(error), url),
            )
            return False
    return False


def retry_after_seconds(value: str | None) -> float:
    """``Retry-After``: seconds, or an HTTP date. One second when absent or unreadable (Slack's own pace)."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER_SECONDS
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def seconds_left(remaining_ms: RemainingMillis | None) -> float | None:
    """The invocation's time left for reporting (its remaining time less the safety margin); None if unknown."""
    if remaining_ms is None:
        return None
    try:
        return remaining_ms() / 1000.0 - SAFETY_MARGIN_SECONDS
    except Exception:
        return None


def _budget(timeout: float, remaining_ms: RemainingMillis | None) -> float | None:
    """The timeout of the next attempt: the configured one, cut to the invocation's time left; None if too short."""
    left = seconds_left(remaining_ms)
    budget = timeout if left is None else min(timeout, left)
    return budget if budget >= MIN_ATTEMPT_SECONDS else None


def _fits(wait: float, timeout: float, remaining_ms: RemainingMillis | None) -> bool:
    """Whether a whole attempt (``timeout``) still fits in the invocation after waiting ``wait`` seconds."""
    left = seconds_left(remaining_ms)
    return left is None or wait + timeout <= left


def _body_of(error: HTTPError) -> str:
    try:
        return error.read(200).decode("utf-8", "replace").strip() or str(error.reason)
    except Exception:
        return str(error.reason)


def _scrub(text: str, url: str) -> str:
    """``text`` without the webhook URL or its secret path (a webhook URL is a credential)."""
    parts = urlsplit(url)
    for secret in (url, parts.netloc + parts.path, parts.path):
        if len(secret) > 1:
            text = text.replace(secret, "<webhook>")
    return text[:200]
