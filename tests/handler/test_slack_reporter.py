"""The Slack reporter layer and the notifier function at run time.

A real HTTP server on loopback plays the Slack webhook (``tests/slack_server.py``); the webhook URL is read from
Secrets Manager or SSM on moto, as in Lambda. The layer is imported under its Lambda name, ``slack_reporter``, from
the layer's ``python/`` folder (where the runtime finds it in ``/opt/python``).
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib._internal.assets import LIBRARY_RUNTIME
from constructs_lib.records import ExecutionStatusChange, parse_execution_record, parse_stream_failure_record
from tests.conftest import FakeContext, load_event
from tests.slack_server import WEBHOOK_PATH, SlackWebhookServer

LAYER_DIR = LIBRARY_RUNTIME["slack_reporter"] / "python"
if str(LAYER_DIR) not in sys.path:
    sys.path.insert(0, str(LAYER_DIR))  # as the Lambda runtime puts /opt/python on the path

import slack_reporter  # noqa: E402 - the layer, from its folder
from slack_reporter import formatter, poster, reporting, webhook  # noqa: E402
from slack_reporter.limiter import RateLimiter  # noqa: E402

from constructs_lib.workloads.slack.runtime.notifier import notifier  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
LOG_LINK = (
    "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/"
    "$252Faws$252Flambda$252Forders-validate/log-events/2026$252F11$252F23$252F$255B$2524LATEST$255D0123456789abcdef"
)

REJECTING_APP = """\
LAST = []


class OrderRejectedError(Exception):
    pass


def handler(event, context):
    error = OrderRejectedError(f"order {event['orderId']} rejected: quantity & price <missing>")
    LAST.append(error)
    raise error
"""

DECORATED_APP = """\
from slack_reporter import report, report_errors


class CardDeclinedError(Exception):
    pass


@report_errors
def handler(event, context):
    \"\"\"Charges an order.\"\"\"
    if event.get("handled"):
        try:
            raise CardDeclinedError("card declined for order " + event["orderId"])
        except CardDeclinedError as error:
            return {"status": "DECLINED", "reported": report(error, context=context)}
    raise CardDeclinedError("card declined for order " + event["orderId"])
"""

BROKEN_IMPORT_APP = """\
raise ImportError("no module named 'payments_sdk' (broken deploy)")
"""


def orders_context(remaining_ms: int = 10_000) -> FakeContext:
    """The Lambda context of an invocation of ``orders-validate``."""
    return FakeContext(function_name="orders-validate", remaining_ms=remaining_ms)


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh container: AWS on moto, no reporter yet, no Slack settings but those a test gives."""
    for name, value in {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": "orders-validate",
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        webhook.SECRET_ENV,
        webhook.FIELD_ENV,
        webhook.PARAMETER_ENV,
        reporting.TIMEOUT_ENV,
        reporting.MIN_INTERVAL_ENV,
        "SLACK_REPORTER_HANDLER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(slack_reporter, "_reporter", None)
    with mock_aws():
        yield


@pytest.fixture
def slack(caplog: pytest.LogCaptureFixture) -> Iterator[SlackWebhookServer]:
    """The webhook server; after the test, the logs must not contain its URL (a credential)."""
    caplog.set_level(logging.INFO, logger="slack_reporter")
    with SlackWebhookServer() as server:
        yield server
    assert WEBHOOK_PATH not in caplog.text
    assert server.url not in caplog.text


@pytest.fixture
def secret_webhook(slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's URL in a Secrets Manager secret named by ``SLACK_WEBHOOK_SECRET_ARN``; returns the ARN."""
    arn = str(boto3.client("secretsmanager").create_secret(Name="slack/webhook", SecretString=slack.url)["ARN"])
    monkeypatch.setenv(webhook.SECRET_ENV, arn)
    return arn


@pytest.fixture
def user_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Write handler modules into the function's code folder (on the path, as /var/task is)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(name: str, source: str) -> None:
        (tmp_path / f"{name}.py").write_text(source)
        written.append(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)
    sys.modules.pop("slack_reporter.wrapper", None)


def load_wrapper(monkeypatch: pytest.MonkeyPatch, handler: str) -> ModuleType:
    """Import ``slack_reporter.wrapper`` as the runtime does on a cold start, for ``handler``."""
    monkeypatch.setenv("SLACK_REPORTER_HANDLER", handler)
    sys.modules.pop("slack_reporter.wrapper", None)
    return importlib.import_module("slack_reporter.wrapper")


@pytest.fixture
def rejecting(user_modules: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The wrapper around ``rejecting_app.handler``, which always raises OrderRejectedError."""
    user_modules("rejecting_app", REJECTING_APP)
    return load_wrapper(monkeypatch, "rejecting_app.handler")


def invoke_failing(wrapper: ModuleType, context: FakeContext | None = None) -> BaseException:
    """Call the wrapped handler, which must raise; returns what it raised."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the exact exception is checked by identity
        wrapper.handler({"orderId": "o-1"}, context or orders_context())
    return caught.value


def expected_trace(module_file: Path, line: int, statement: str, error: str) -> str:
    return (
        f'Traceback (most recent call last):\n  File "{module_file}", line {line}, in handler\n    {statement}\n{error}'
    )


# ------------------------------------------------------------------------------------------------ the wrapper


def test_wrapped_error_is_posted_as_block_kit_with_a_plain_text_fallback(
    rejecting: ModuleType, slack: SlackWebhookServer, secret_webhook: str, tmp_path: Path
) -> None:
    invoke_failing(rejecting)

    (post,) = slack.posts
    assert post.path == WEBHOOK_PATH
    assert post.headers["Content-Type"] == "application/json; charset=utf-8"
    trace = expected_trace(
        tmp_path / "rejecting_app.py",
        11,
        "raise error",
        "rejecting_app.OrderRejectedError: order o-1 rejected: quantity &amp; price &lt;missing&gt;",
    )
    assert post.json == {
        "text": (
            ":rotating_light: OrderRejectedError in orders-validate: order o-1 rejected: quantity &amp; price "
            "&lt;missing&gt; | Function: orders-validate | Version: $LATEST | Request id: "
            "0d6a2f5e-1b2c-4d3e-8f90-123456789abc | Account: 123456789012 | Region: us-east-1 | View the log "
            f"stream in CloudWatch: {LOG_LINK}"
        ),
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": ":rotating_light: OrderRejectedError in orders-validate",
                    "emoji": True,
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "```order o-1 rejected: quantity &amp; price &lt;missing&gt;```",
                },
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Function*\norders-validate"},
                    {"type": "mrkdwn", "text": "*Version*\n$LATEST"},
                    {"type": "mrkdwn", "text": "*Request id*\n0d6a2f5e-1b2c-4d3e-8f90-123456789abc"},
                    {"type": "mrkdwn", "text": "*Account*\n123456789012"},
                    {"type": "mrkdwn", "text": "*Region*\nus-east-1"},
                ],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Stack trace*\n```{trace}```"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{LOG_LINK}|View the log stream in CloudWatch>"}},
        ],
    }


def test_the_functions_own_exception_propagates_unchanged(
    rejecting: ModuleType, slack: SlackWebhookServer, secret_webhook: str
) -> None:
    raised = invoke_failing(rejecting)

    user_app = sys.modules["rejecting_app"]
    (original,) = user_app.LAST
    assert raised is original  # the same object: retries, destinations and Catch see the same error
    assert type(raised) is user_app.OrderRejectedError
    assert raised.args == ("order o-1 rejected: quantity & price <missing>",)
    frames = [frame.name for frame in _frames(raised)]
    assert frames[-1] == "handler"  # the traceback still ends where the function raised
    assert len(slack.posts) == 1


@pytest.mark.parametrize("answer", ["500", "unconfigured", "hang"])
def test_the_functions_error_is_unchanged_whatever_happens_to_the_post(
    answer: str,
    rejecting: ModuleType,
    slack: SlackWebhookServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if answer != "unconfigured":
        request.getfixturevalue("secret_webhook")
    if answer == "500":
        slack.answer(500, body="internal_error")
    if answer == "hang":
        monkeypatch.setenv(reporting.TIMEOUT_ENV, "0.2")
        slack.hang()

    raised = invoke_failing(rejecting)

    assert raised is sys.modules["rejecting_app"].LAST[0]


def test_an_error_while_importing_the_original_handler_is_reported_then_raised(
    user_modules: Callable[[str, str], None],
    monkeypatch: pytest.MonkeyPatch,
    slack: SlackWebhookServer,
    secret_webhook: str,
) -> None:
    user_modules("broken_app", BROKEN_IMPORT_APP)

    with pytest.raises(ImportError, match=r"payments_sdk"):
        load_wrapper(monkeypatch, "broken_app.handler")

    (post,) = slack.posts
    assert post.json["blocks"][0]["text"]["text"] == ":rotating_light: ImportError in orders-validate"
    fields = [field["text"] for field in post.json["blocks"][2]["fields"]]
    assert "*Request id*\nnone (raised at init)" in fields


def test_the_wrapper_refuses_a_missing_or_self_referencing_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Exception, match=r"SLACK_REPORTER_HANDLER must name the function's original handler"):
        load_wrapper(monkeypatch, "")
    with pytest.raises(Exception, match=r"names the wrapper itself"):
        load_wrapper(monkeypatch, "slack_reporter.wrapper.handler")
    with pytest.raises(Exception, match=r"Handler 'nope' missing on module 'json'"):
        load_wrapper(monkeypatch, "json.nope")
    sys.modules.pop("slack_reporter.wrapper", None)


def test_folder_style_handler_names_are_imported_like_the_runtime_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_modules: Callable[[str, str], None]
) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "greet.py").write_text("def handler(event, context):\n    return 'hi ' + event\n")
    wrapper = load_wrapper(monkeypatch, "handlers/greet.handler")
    try:
        assert wrapper.handler("there", orders_context()) == "hi there"
    finally:
        sys.modules.pop("handlers.greet", None)
        sys.modules.pop("handlers", None)


# ------------------------------------------------------------------------------------------------ Slack's answers


def test_a_429_is_retried_once_after_retry_after(
    rejecting: ModuleType, slack: SlackWebhookServer, secret_webhook: str
) -> None:
    slack.answer(429, body="rate_limited", headers={"Retry-After": "1"})

    invoke_failing(rejecting)

    first, second = slack.posts
    assert second.body == first.body
    assert second.received_at - first.received_at >= 0.95  # it waited for Retry-After


def test_a_429_is_not_retried_when_the_invocation_has_no_time_to_wait(
    rejecting: ModuleType, slack: SlackWebhookServer, secret_webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack.answer(429, headers={"Retry-After": "3"})

    invoke_failing(rejecting, orders_context(remaining_ms=2500))

    assert len(slack.posts) == 1
    assert "HTTP 429, Retry-After 3.0 s" in caplog.text
    assert "the message is dropped" in caplog.text


def test_a_second_429_is_not_retried_again(
    slack: SlackWebhookServer, secret_webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack.answer(429, headers={"Retry-After": "0"})
    slack.answer(429, headers={"Retry-After": "0"})

    outcome = slack_reporter.report(ValueError("x"), context=orders_context())

    assert outcome == "failed"
    assert len(slack.posts) == 2
    assert "Slack answered HTTP 429" in caplog.text


def test_a_500_is_a_warning_with_slacks_reason(
    slack: SlackWebhookServer, secret_webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    slack.answer(500, body="internal_error")

    outcome = slack_reporter.report(ValueError("x"), context=orders_context())

    assert outcome == "failed"
    assert len(slack.posts) == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "slack_reporter: Slack answered HTTP 500 (internal_error); the message is dropped"
    ]


def test_a_hanging_webhook_times_out_and_the_function_goes_on(
    slack: SlackWebhookServer, secret_webhook: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(reporting.TIMEOUT_ENV, "0.2")
    slack.hang()

    started = time.monotonic()
    outcome = slack_reporter.report(ValueError("x"), context=orders_context())
    elapsed = time.monotonic() - started

    assert outcome == "failed"
    assert elapsed < 5  # the server would hold the request for 30 s: the 0.2 s timeout ended it
    assert "the Slack webhook was not reached (TimeoutError: timed out)" in caplog.text


def test_the_post_timeout_is_cut_to_the_invocations_remaining_time(
    slack: SlackWebhookServer, secret_webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = slack_reporter.report(ValueError("x"), context=FakeContext(remaining_ms=350))

    assert outcome == "failed"
    assert slack.posts == []
    assert "too little of the invocation's time is left" in caplog.text


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert poster.retry_after_seconds("3") == 3.0
    assert poster.retry_after_seconds("0.5") == 0.5
    assert poster.retry_after_seconds(None) == 1.0
    assert poster.retry_after_seconds("soon") == 1.0
    assert poster.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    in_two_minutes = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    assert 100 < poster.retry_after_seconds(in_two_minutes) <= 120


# ------------------------------------------------------------------------------------------------ rate limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_held_back_and_counted_in_the_next_message(slack: SlackWebhookServer, secret_webhook: str) -> None:
    clock = FakeClock()
    reporter = reporting.Reporter(clock=clock)

    outcomes = [reporter.report_exception(ValueError(f"error {n}"), orders_context(), handled=False) for n in range(4)]
    clock.now += 1.0
    outcomes.append(reporter.report_exception(ValueError("error 4"), orders_context(), handled=False))

    assert outcomes == ["sent", "suppressed", "suppressed", "suppressed", "sent"]
    first, second = slack.posts
    assert first.json["blocks"][-1]["type"] == "section"  # no note: nothing was held back before it
    assert second.json["blocks"][-1] == {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": ":mute: 3 more errors were not posted since the last message (rate limit)"}
        ],
    }
    assert second.json["text"].endswith("| 3 more errors were not posted since the last message (rate limit)")
    assert "error 4" in second.json["text"]


def test_a_burst_through_the_wrapper_posts_once_per_second(
    rejecting: ModuleType, slack: SlackWebhookServer, secret_webhook: str
) -> None:
    for _ in range(5):
        invoke_failing(rejecting)

    assert len(slack.posts) == 1
    assert slack_reporter.get_reporter().limiter.suppressed == 4


def test_a_failed_post_keeps_the_count_for_the_next_message(slack: SlackWebhookServer, secret_webhook: str) -> None:
    clock = FakeClock()
    reporter = reporting.Reporter(clock=clock)
    reporter.report_exception(ValueError("a"), orders_context(), handled=False)
    reporter.report_exception(ValueError("b"), orders_context(), handled=False)  # held back: 1
    clock.now += 1.0
    slack.answer(500)
    assert reporter.report_exception(ValueError("c"), orders_context(), handled=False) == "failed"
    clock.now += 1.0
    assert reporter.report_exception(ValueError("d"), orders_context(), handled=False) == "sent"

    assert slack.posts[-1].json["blocks"][-1]["elements"][0]["text"].startswith(":mute: 1 more error was not posted")


def test_the_rate_limiter_counts_what_it_holds_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock)
    assert limiter.acquire() == 0
    assert limiter.acquire() is None
    assert limiter.acquire() is None
    clock.now += 0.99
    assert limiter.acquire() is None
    clock.now += 0.01
    assert limiter.acquire() == 3
    limiter.restore(3)
    clock.now += 1
    assert limiter.acquire() == 3
    assert RateLimiter(0, clock=clock).acquire() == 0


# ------------------------------------------------------------------------------------------------ the webhook


def test_the_webhook_is_read_once_per_container(slack: SlackWebhookServer, secret_webhook: str) -> None:
    clock = FakeClock()
    reporter = reporting.Reporter(clock=clock)
    for n in range(3):
        clock.now += 2
        assert reporter.report_exception(ValueError(str(n)), orders_context(), handled=False) == "sent"

    assert reporter.webhook.reads == 1
    assert len(slack.posts) == 3


def test_an_ssm_securestring_parameter_holds_the_webhook(
    slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("ssm").put_parameter(Name="/slack/webhook", Value=slack.url, Type="SecureString")
    monkeypatch.setenv(webhook.PARAMETER_ENV, "/slack/webhook")

    assert slack_reporter.report(ValueError("x"), context=orders_context()) == "sent"
    assert len(slack.posts) == 1


def test_a_json_secret_holds_the_webhook_in_a_field(slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("secretsmanager")
    default = client.create_secret(Name="a", SecretString=json.dumps({"webhook_url": slack.url, "channel": "#x"}))
    named = client.create_secret(Name="b", SecretString=json.dumps({"alerts": slack.url}))

    assert webhook.WebhookSource(secret_arn=default["ARN"]).url() == slack.url
    assert webhook.WebhookSource(secret_arn=named["ARN"], secret_field="alerts").url() == slack.url


def test_a_placeholder_secret_is_a_warning_and_no_post(
    slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    placeholder = "Vq3JZpX7mHkR9tLwN2cY8bFdG5sA1eUo"
    arn = boto3.client("secretsmanager").create_secret(Name="slack/webhook", SecretString=placeholder)["ARN"]
    monkeypatch.setenv(webhook.SECRET_ENV, arn)

    assert slack_reporter.report(ValueError("x"), context=orders_context()) == "unconfigured"
    assert slack.posts == []
    assert f"secret {arn} does not hold a webhook URL yet (a placeholder?)" in caplog.text
    assert placeholder not in caplog.text


def test_no_webhook_settings_is_a_warning(slack: SlackWebhookServer, caplog: pytest.LogCaptureFixture) -> None:
    assert slack_reporter.report(ValueError("x"), context=orders_context()) == "unconfigured"
    assert "no webhook configured: set SLACK_WEBHOOK_SECRET_ARN" in caplog.text


def test_a_secret_that_cannot_be_read_is_a_warning_and_is_not_read_again_at_once(
    slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(webhook.SECRET_ENV, f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:missing-AbCdEf")
    reporter = reporting.Reporter(clock=FakeClock())

    assert reporter.report_exception(ValueError("a"), orders_context(), handled=False) == "unconfigured"
    reporter.limiter.min_interval = 0
    assert reporter.report_exception(ValueError("b"), orders_context(), handled=False) == "unconfigured"

    assert reporter.webhook.reads == 1
    assert "could not read the webhook from secret" in caplog.text
    assert "ResourceNotFoundException" in caplog.text


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc", True),
        ("  https://hooks.slack.com/services/T0/B0/abc\n", True),
        ("http://127.0.0.1:8080/services/x", True),
        ("http://localhost/services/x", True),
        ("http://hooks.slack.com/services/T0/B0/abc", False),
        ("ftp://hooks.slack.com/x", False),
        ("REPLACE_ME", False),
        ('{"webhook": "https://hooks.slack.com/x"}', False),
    ],
)
def test_only_https_urls_are_webhooks(value: str, accepted: bool) -> None:
    if accepted:
        assert webhook.webhook_url_from(value) == value.strip()
    else:
        with pytest.raises(webhook.WebhookError) as caught:
            webhook.webhook_url_from(value)
        assert value.strip() not in str(caught.value)


# ------------------------------------------------------------------------------------------------ decorator, report()


def test_report_errors_reports_and_reraises_the_same_exception(
    user_modules: Callable[[str, str], None], slack: SlackWebhookServer, secret_webhook: str
) -> None:
    user_modules("decorated_app", DECORATED_APP)
    app = importlib.import_module("decorated_app")

    with pytest.raises(app.CardDeclinedError, match="card declined for order o-7") as caught:
        app.handler({"orderId": "o-7"}, orders_context())

    assert type(caught.value) is app.CardDeclinedError
    assert app.handler.__name__ == "handler"
    assert app.handler.__doc__ == "Charges an order."
    (post,) = slack.posts
    assert post.json["blocks"][0]["text"]["text"] == ":rotating_light: CardDeclinedError in orders-validate"
    assert "decorated_app.CardDeclinedError: card declined for order o-7" in post.json["blocks"][3]["text"]["text"]


def test_report_posts_a_handled_error_and_the_function_goes_on(
    user_modules: Callable[[str, str], None], slack: SlackWebhookServer, secret_webhook: str
) -> None:
    user_modules("decorated_app", DECORATED_APP)
    app = importlib.import_module("decorated_app")

    result = app.handler({"orderId": "o-8", "handled": True}, orders_context())

    assert result == {"status": "DECLINED", "reported": "sent"}
    (post,) = slack.posts
    assert post.json["blocks"][0]["text"]["text"] == ":warning: CardDeclinedError in orders-validate"


def test_an_error_reported_by_the_decorator_is_not_posted_again_by_the_wrapper(
    user_modules: Callable[[str, str], None],
    monkeypatch: pytest.MonkeyPatch,
    slack: SlackWebhookServer,
    secret_webhook: str,
) -> None:
    user_modules("decorated_app", DECORATED_APP)
    wrapper = load_wrapper(monkeypatch, "decorated_app.handler")
    slack_reporter.get_reporter().limiter.min_interval = 0

    with pytest.raises(Exception, match="card declined"):
        wrapper.handler({"orderId": "o-9"}, orders_context())

    assert len(slack.posts) == 1


def test_report_never_raises(slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(reporting.TIMEOUT_ENV, "not a number")
    monkeypatch.setenv(webhook.SECRET_ENV, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("cannot print me")

    assert slack_reporter.report(Unprintable(), context=object()) == "failed"


# ------------------------------------------------------------------------------------------------ the formatter


def test_long_messages_and_traces_are_trimmed_to_slacks_limits() -> None:
    report = formatter.ErrorReport(
        error_type="E" * 200,
        error_message="m" * 10_000,
        source="fn",
        facts=tuple((f"Label {n}", "v" * 3000) for n in range(12)),
        trace=tuple(f"line {n}" for n in range(100)),
    )

    message = formatter.to_slack(report, suppressed=1)

    blocks: list[dict[str, Any]] = message["blocks"]  # type: ignore[assignment]
    assert len(blocks[0]["text"]["text"]) == 150
    assert len(blocks[1]["text"]["text"]) <= 3000
    assert len(blocks[2]["fields"]) == 10
    assert all(len(field["text"]) <= 2000 for field in blocks[2]["fields"])
    trace_text = blocks[3]["text"]["text"]
    assert trace_text.startswith("*Stack trace*\n```\u2026 70 earlier lines not shown\nline 70\n")
    assert trace_text.endswith("line 99```")
    assert len(str(message["text"])) <= 3000


def test_a_code_block_cannot_be_closed_by_the_message() -> None:
    assert formatter.code_block("a ``` b") == "```a `\u200b`\u200b` b```"


@pytest.mark.parametrize(
    ("partition", "region", "start"),
    [
        ("aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com/"),
        ("aws-cn", "cn-north-1", "https://cn-north-1.console.amazonaws.cn/"),
        ("aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com/"),
    ],
)
def test_console_links_follow_the_partition(partition: str, region: str, start: str) -> None:
    url = formatter.log_stream_url(partition, region, "/aws/lambda/f", "s")
    assert (
        url
        == f"{start}cloudwatch/home?region={region}#logsV2:log-groups/log-group/$252Faws$252Flambda$252Ff/log-events/s"
    )


# ------------------------------------------------------------------------------------------------ the notifier


def test_notifier_posts_a_destination_failure_record(slack: SlackWebhookServer, secret_webhook: str) -> None:
    record = load_event("destination_failure_record.json")

    result = notifier.handler(record, orders_context())

    assert result == {"outcome": "sent", "errorType": "InvalidOrderError", "source": "worker"}
    (post,) = slack.posts
    blocks = post.json["blocks"]
    assert blocks[0]["text"]["text"] == ":rotating_light: InvalidOrderError in worker"
    assert blocks[1]["text"]["text"] == "```orderId must be a non-empty string; sku must be a non-empty string```"
    assert [field["text"] for field in blocks[2]["fields"]] == [
        "*Function*\nworker:live",
        "*Version*\n7",
        "*Request id*\nc9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        "*Condition*\nRetriesExhausted after 3 attempts",
        "*Account*\n123456789012",
        "*Region*\nus-east-1",
    ]
    assert blocks[3]["text"]["text"] == '*Stack trace*\n```  File "/var/task/worker.py", line 52, in parse_order```'
    assert blocks[4]["text"]["text"] == (
        "<https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/worker?tab=monitoring"
        "|View the function's monitoring in Lambda>"
    )


def test_notifier_reads_records_as_the_librarys_record_model_does() -> None:
    """No drift between the notifier's reading of a record and constructs_lib.records."""
    raw = load_event("destination_failure_record.json")
    record = parse_execution_record(raw)
    report = notifier.describe(raw)
    facts = dict(report.facts)

    assert report.error_type == record.error_type
    assert report.error_message == record.error_message
    assert facts["Request id"] == record.request_context.request_id
    assert facts["Condition"].startswith(record.request_context.condition.value)

    event = load_event("sfn_status_failed.json")
    change = ExecutionStatusChange.from_event(event)
    report = notifier.describe(event)
    assert (report.error_type, report.error_message) == (change.error, change.cause)
    assert dict(report.facts)["Status"] == change.status.value


def test_notifier_takes_a_record_inside_an_eventbridge_event() -> None:
    record = load_event("destination_failure_record.json")
    event = {"detail-type": "Lambda Function Invocation Result - Failure", "source": "lambda", "detail": record}

    assert notifier.describe(event) == notifier.describe(record)
    assert notifier.describe(json.dumps(event)) == notifier.describe(record)


def test_notifier_posts_a_failed_execution(slack: SlackWebhookServer, secret_webhook: str) -> None:
    notifier.handler(load_event("sfn_status_failed.json"), orders_context())

    (post,) = slack.posts
    execution = "arn:aws:states:us-east-1:123456789012:execution:orders:5e4f2b1c"
    link = f"https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{execution}"
    assert post.json == {
        "text": (
            ":rotating_light: OrderPendingError in workflow orders: still pending after 3 attempts | Workflow: orders "
            "| Execution: 5e4f2b1c | Status: FAILED | Account: 123456789012 | Region: us-east-1 | View the "
            f"execution in Step Functions: {link}"
        ),
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": ":rotating_light: OrderPendingError in workflow orders",
                    "emoji": True,
                },
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "```still pending after 3 attempts```"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Workflow*\norders"},
                    {"type": "mrkdwn", "text": "*Execution*\n5e4f2b1c"},
                    {"type": "mrkdwn", "text": "*Status*\nFAILED"},
                    {"type": "mrkdwn", "text": "*Account*\n123456789012"},
                    {"type": "mrkdwn", "text": "*Region*\nus-east-1"},
                ],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|View the execution in Step Functions>"}},
        ],
    }


@pytest.mark.parametrize("explicit_nulls", [False, True], ids=["keys-absent", "keys-null"])
@pytest.mark.parametrize(
    ("name", "status", "label", "message"),
    [
        ("sfn_status_failed_no_error.json", "FAILED", "Execution failed", "The execution failed."),
        ("sfn_status_timed_out.json", "TIMED_OUT", "Execution timed out", "The execution timed out."),
        ("sfn_status_aborted.json", "ABORTED", "Execution aborted", "The execution was aborted."),
    ],
)
def test_notifier_names_no_error_when_the_execution_reported_none(
    name: str, status: str, label: str, message: str, explicit_nulls: bool
) -> None:
    """AWS's "Execution failed", "Execution timed out" and "Execution aborted" sample events carry no error and no
    cause (the page's samples have neither key; an event can also carry them as null, as the parser allows): the
    message says that no error name was reported and invents none (no States.Failed, States.Timeout or
    States.Aborted).

    Source: https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html ("Step Functions event examples")
    """
    event = load_event(name)
    if explicit_nulls:
        event["detail"].update(error=None, cause=None)

    report = notifier.describe(event)

    assert ExecutionStatusChange.from_event(event).error is None
    assert (report.error_type, report.source) == (label, "workflow state-machine-name")
    assert report.error_message == f"{message} No error name or cause was reported."
    assert report.facts == (
        ("Workflow", "state-machine-name"),
        ("Execution", "execution-name"),
        ("Status", status),
        ("Error", "none reported"),
        ("Account", "012345678912"),
        ("Region", "us-east-1"),
    )
    assert "States." not in json.dumps(formatter.to_slack(report))


def test_notifier_unpacks_a_lambda_error_in_a_workflow_cause() -> None:
    event = load_event("sfn_status_failed.json")
    cause = {"errorMessage": "no address", "errorType": "ShippingError", "stackTrace": ['  File "/var/task/a.py"']}
    event["detail"].update(error="ShippingError", cause=json.dumps(cause))

    report = notifier.describe(event)

    assert (report.error_type, report.error_message, report.trace) == (
        "ShippingError",
        "no address",
        ('  File "/var/task/a.py"',),
    )


def test_notifier_reads_a_function_workflow_failure_record() -> None:
    """FunctionWorkflow(on_failure=notifier.route) sends the Destinations record shape for a state machine."""
    record = load_event("destination_failure_record.json")
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders"
    record["requestContext"].update(functionArn=machine, requestId="run-1", approximateInvokeCount=1)
    record["responsePayload"] = {
        "errorType": "ShippingError",
        "errorMessage": json.dumps({"errorMessage": "no address", "errorType": "ShippingError"}),
    }

    report = notifier.describe(record)

    assert (report.error_type, report.error_message, report.source) == (
        "ShippingError",
        "no address",
        "workflow orders",
    )
    assert dict(report.facts)["Condition"] == "RetriesExhausted after 1 attempt"
    assert report.link is not None
    assert report.link[0].endswith(f"executions/details/arn:aws:states:{REGION}:{ACCOUNT}:execution:orders:run-1")


def test_notifier_posts_a_kinesis_stream_failure_record(slack: SlackWebhookServer, secret_webhook: str) -> None:
    """AWS's SQS / SNS on-failure record of a Kinesis event source becomes a message about the discarded batch:
    function, condition, stream, shard, sequence numbers, batch size and arrival times.

    Source: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
    """
    result = notifier.handler(load_event("kinesis_stream_failure_record.json"), orders_context())

    assert result == {"outcome": "sent", "errorType": "RetryAttemptsExhausted", "source": "myfunction"}
    (post,) = slack.posts
    blocks = post.json["blocks"]
    assert blocks[0]["text"]["text"] == ":rotating_light: RetryAttemptsExhausted in myfunction"
    assert blocks[1]["text"]["text"] == (
        "```Lambda discarded a batch of 500 records from the Kinesis stream mystream after 1 attempt "
        "(RetryAttemptsExhausted). The records are not in this message: read them from the stream by shard and "
        "sequence number before they expire.```"
    )
    assert [field["text"] for field in blocks[2]["fields"]] == [
        "*Function*\nmyfunction",
        "*Condition*\nRetryAttemptsExhausted after 1 attempt",
        "*Stream*\narn:aws:kinesis:us-east-2:123456789012:stream/mystream",
        "*Shard*\nshardId-000000000001",
        "*Sequence numbers*\n49601189658422359378836298521827638475320189012309704722 to "
        "49601189658422359378836298522902373528957594348623495186",
        "*Batch size*\n500 records",
        "*Approximate arrival*\n2019-11-14T00:38:04.835Z to 2019-11-14T00:38:05.580Z",
        "*Request id*\nc9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        "*Account*\n123456789012",
        "*Region*\nus-east-2",
    ]
    assert blocks[3]["text"]["text"] == (
        "<https://us-east-2.console.aws.amazon.com/lambda/home?region=us-east-2#/functions/myfunction?tab=monitoring"
        "|View the function's monitoring in Lambda>"
    )


def test_notifier_describes_a_dynamodb_stream_failure_record() -> None:
    """AWS's SQS / SNS on-failure record of a DynamoDB stream: one record, so one sequence number and one time.

    Source: https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    """
    report = notifier.describe(load_event("dynamodb_stream_failure_record.json"))

    assert (report.error_type, report.source) == ("RetryAttemptsExhausted", "myfunction")
    assert report.error_message.startswith(
        "Lambda discarded a batch of 1 record from the DynamoDB stream of table mytable after 1 attempt "
        "(RetryAttemptsExhausted)."
    )
    facts = dict(report.facts)
    assert facts["Stream"] == "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
    assert facts["Shard"] == "shardId-00000001573689847184-864758bb"
    assert facts["Sequence numbers"] == "800000000003126276362"
    assert facts["Batch size"] == "1 record"
    assert facts["Approximate arrival"] == "2019-11-14T00:13:19Z"


@pytest.mark.parametrize("name", ["kinesis_stream_failure_record_s3.json", "dynamodb_stream_failure_record_s3.json"])
def test_notifier_says_where_the_records_are_for_the_s3_variant(name: str) -> None:
    """AWS's S3 on-failure record adds ``payload``, the original invocation record.

    Sources: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    """
    report = notifier.describe(load_event(name))

    assert report.error_message.endswith("The original invocation is in the record's payload.")
    assert len(report.facts) == 10


@pytest.mark.parametrize(
    "name",
    [
        "kinesis_stream_failure_record.json",
        "kinesis_stream_failure_record_s3.json",
        "dynamodb_stream_failure_record.json",
        "dynamodb_stream_failure_record_s3.json",
    ],
)
def test_notifier_reads_stream_failure_records_as_the_librarys_model_does(name: str) -> None:
    """No drift between the notifier and constructs_lib.records on AWS's on-failure samples.

    Sources: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
    """
    raw = load_event(name)
    record = parse_stream_failure_record(raw)
    facts = dict(notifier.describe(raw).facts)

    assert facts["Stream"] == record.batch_info.stream_arn
    assert facts["Shard"] == record.batch_info.shard_id
    assert facts["Sequence numbers"].split(" to ")[0] == record.batch_info.start_sequence_number
    assert facts["Sequence numbers"].split(" to ")[-1] == record.batch_info.end_sequence_number
    assert facts["Batch size"].split()[0] == str(record.batch_info.batch_size)
    assert facts["Request id"] == record.request_context.request_id
    assert facts["Condition"].startswith(record.request_context.condition)


@pytest.mark.parametrize(
    ("event", "says"),
    [
        (load_event("destination_success_record.json"), "condition Success: route only failures"),
        (load_event("eventbridge_success_event.json"), "invocation *success* event"),
        ({**load_event("sfn_status_failed.json"), "detail": {"status": "SUCCEEDED"}}, "status 'SUCCEEDED'"),
        ({"Records": []}, "got an object with keys ['Records']"),
        ({"detail-type": "Object Created", "detail": {}}, "got detail-type 'Object Created'"),
        ("not json", "the event is not JSON"),
        ([1, 2], "the event is a list, not an object"),
    ],
)
def test_notifier_refuses_anything_else_with_a_typed_error(event: Any, says: str) -> None:
    with pytest.raises(notifier.UnsupportedEventError, match=re_escape(says)):
        notifier.describe(event)


def test_notifier_waits_for_its_turn_rather_than_hold_a_failure_back(
    slack: SlackWebhookServer, secret_webhook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(reporting.MIN_INTERVAL_ENV, "0.4")
    record = load_event("destination_failure_record.json")

    outcomes = [notifier.handler(record, orders_context())["outcome"] for _ in range(2)]

    assert outcomes == ["sent", "sent"]
    first, second = slack.posts
    assert second.received_at - first.received_at >= 0.35


def test_notifier_holds_a_failure_back_when_it_has_no_time_to_wait(
    slack: SlackWebhookServer, secret_webhook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(reporting.MIN_INTERVAL_ENV, "60")
    record = load_event("destination_failure_record.json")

    outcomes = [notifier.handler(record, FakeContext(remaining_ms=5000))["outcome"] for _ in range(2)]

    assert outcomes == ["sent", "suppressed"]
    assert len(slack.posts) == 1


def test_notifier_raises_when_slack_does_not_take_the_message_so_lambda_retries(
    slack: SlackWebhookServer, secret_webhook: str
) -> None:
    slack.answer(500, body="internal_error")

    with pytest.raises(notifier.SlackDeliveryError, match="InvalidOrderError in worker was not delivered"):
        notifier.handler(load_event("destination_failure_record.json"), orders_context())


# ------------------------------------------------------------------------------------------------ helpers


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def _frames(error: BaseException) -> list[Any]:
    import traceback

    return list(traceback.extract_tb(error.__traceback__))
