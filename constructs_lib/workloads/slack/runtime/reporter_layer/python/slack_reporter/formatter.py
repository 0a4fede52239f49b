"""Slack Block Kit messages for errors, with a plain-text fallback, and AWS console links.

Pure functions of an ``ErrorReport``: the wrapper, ``report()`` and the notifier function all build one and format
it here, so every Slack message of the library has the same shape::

    header   :rotating_light: InvalidOrderError in orders-validate
    section  ```quantity must be a positive integer```
    fields   Function / Version / Request id / Account / Region (or Workflow / Execution / Status ...)
    section  *Stack trace* ```... the innermost lines ...```
    section  <console link|View the log stream in CloudWatch>
    context  :mute: 3 more errors in this container were not posted (rate limit)

Slack's limits are respected: a header holds 150 characters, a section 3,000, a field 2,000, a message 10 fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
FALLBACK_LIMIT = 3000
MESSAGE_LIMIT = 1500
TRACE_MAX_LINES = 30
TRACE_MAX_CHARS = 2500
TRACE_LINE_LIMIT = 300
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class ErrorReport:
    """What went wrong, where: everything a Slack message says."""

    error_type: str
    """``InvalidOrderError``: the exception's class name, as Lambda's ``errorType``."""
    error_message: str
    source: str
    """What failed: a function name, or ``workflow orders``."""
    facts: tuple[tuple[str, str], ...] = ()
    """Labelled values shown as fields: ("Function", "orders-validate"), ("Request id", "..."), ..."""
    trace: tuple[str, ...] = ()
    """Stack trace lines, outermost first (trimmed to the innermost lines when posted)."""
    link: tuple[str, str] | None = None
    """(url, label): where to look next, e.g. the log stream in the CloudWatch console."""
    handled: bool = False
    """Reported with ``report()`` (the function went on) rather than raised."""

    @property
    def header(self) -> str:
        icon = ":warning:" if self.handled else ":rotating_light:"
        return f"{icon} {self.error_type} in {self.source}"


def to_slack(report: ErrorReport, *, suppressed: int = 0) -> dict[str, object]:
    """The webhook payload: Block Kit ``blocks`` and the plain-text ``text`` that notifications and old clients
    show."""
    message = clip(report.error_message or "(no message)", MESSAGE_LIMIT)
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(report.header, HEADER_LIMIT), "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": code_block(message)}},
    ]
    if report.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f"*{escape(label)}*\n{escape(value)}", FIELD_LIMIT)}
                    for label, value in report.facts[:MAX_FIELDS]
                ],
            }
        )
    trace = trim_trace(report.trace)
    if trace:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Stack trace*\n" + code_block("\n".join(trace))}}
        )
    if report.link is not None:
        url, label = report.link
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{url}|{escape(label)}>"}})
    note = suppressed_note(suppressed)
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":mute: {note}"}]})
    return {"text": fallback_text(report, message, note), "blocks": blocks}


def fallback_text(report: ErrorReport, message: str, note: str | None = None) -> str:
    """One plain paragraph with everything that matters, for notifications and clients without Block Kit."""
    parts = [f"{report.header}: {message}"]
    parts.extend(f"{label}: {value}" for label, value in report.facts)
    if report.link is not None:
        parts.append(f"{report.link[1]}: {report.link[0]}")
    if note:
        parts.append(note)
    return clip(escape(" | ".join(parts)), FALLBACK_LIMIT)


def suppressed_note(suppressed: int) -> str | None:
    if suppressed <= 0:
        return None
    noun = "error was" if suppressed == 1 else "errors were"
    return f"{suppressed} more {noun} not posted since the last message (rate limit)"


def trim_trace(
    lines: tuple[str, ...] | list[str],
    *,
    max_lines: int = TRACE_MAX_LINES,
    max_chars: int = TRACE_MAX_CHARS,
) -> list[str]:
    """The innermost lines of a stack trace (where the error was raised), within Slack's limits.

    A line that says how many were left out comes first when any were.
    """
    flat = [part.rstrip() for line in lines for part in str(line).splitlines()]
    flat = [clip(line, TRACE_LINE_LIMIT) for line in flat if line.strip()]
    kept: list[str] = []
    size = 0
    for line in reversed(flat):
        if len(kept) == max_lines or size + len(line) + 1 > max_chars:
            break
        kept.append(line)
        size += len(line) + 1
    kept.reverse()
    left_out = len(flat) - len(kept)
    if left_out:
        kept.insert(0, f"{ELLIPSIS} {left_out} earlier line{'s' if left_out != 1 else ''} not shown")
    return kept


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: ``&``, ``<`` and ``>`` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_block(text: str) -> str:
    """Text in a preformatted block (escaped; a ``` inside cannot close it early)."""
    body = escape(text).replace("```", "`\u200b`\u200b`")
    return clip(f"```{body}```", SECTION_LIMIT, keep_end="```")


def clip(text: str, limit: int, *, keep_end: str = "") -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (and ``keep_end`` kept at the end)."""
    if len(text) <= limit:
        return text
    return text[: limit - 1 - len(keep_end)] + ELLIPSIS + keep_end


# ------------------------------------------------------------------------------------------------ console links


def console_url(partition: str, region: str, path: str) -> str:
    """``path`` (``cloudwatch/home?region=...#...``) on the AWS console of the partition."""
    if partition == "aws-cn":
        return f"https://{region}.console.amazonaws.cn/{path}"
    if partition == "aws-us-gov":
        return f"https://console.amazonaws-us-gov.com/{path}"
    return f"https://{region}.console.aws.amazon.com/{path}"


def _quoted(text: str, safe: str = "/") -> str:
    """Percent-encoded UTF-8; a character UTF-8 has no bytes for (a lone surrogate) becomes ``?``, never an error."""
    return quote(text, safe=safe, errors="replace")


def _cloudwatch_escape(text: str) -> str:
    """The CloudWatch console's own encoding of names in its URL fragment: percent-encoding with ``$25``."""
    return _quoted(text, safe="").replace("%", "$25")


def log_stream_url(partition: str, region: str, log_group: str, log_stream: str) -> str:
    fragment = (
        f"logsV2:log-groups/log-group/{_cloudwatch_escape(log_group)}/log-events/{_cloudwatch_escape(log_stream)}"
    )
    return console_url(partition, region, f"cloudwatch/home?region={region}#{fragment}")


def log_group_url(partition: str, region: str, log_group: str) -> str:
    fragment = f"logsV2:log-groups/log-group/{_cloudwatch_escape(log_group)}"
    return console_url(partition, region, f"cloudwatch/home?region={region}#{fragment}")


def function_url(partition: str, region: str, function_name: str) -> str:
    """The function's monitoring tab in the Lambda console (its metrics and recent log streams)."""
    return console_url(
        partition, region, f"lambda/home?region={region}#/functions/{_quoted(function_name)}?tab=monitoring"
    )


def execution_url(partition: str, region: str, execution_arn: str) -> str:
    """A Step Functions execution's page (its graph, events and the failed state)."""
    return console_url(
        partition, region, f"states/home?region={region}#/v2/executions/details/{_quoted(execution_arn, safe=':')}"
    )


@dataclass(frozen=True)
class Arn:
    """The parts of an ARN: ``arn:partition:service:region:account:resource``."""

    partition: str
    service: str
    region: str
    account: str
    resource: tuple[str, ...]

    @classmethod
    def parse(cls, arn: str) -> Arn | None:
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn":
            return None
        return cls(parts[1], parts[2], parts[3], parts[4], tuple(parts[5:]))
