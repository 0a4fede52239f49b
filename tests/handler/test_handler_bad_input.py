"""Bad input for every Lambda handler in lambda_src/ (issue 9), generated with hypothesis.

Each handler gets random JSON values and its valid event shape with keys dropped, values replaced by wrong types,
huge strings (300 KB), strings that are not valid Unicode (lone surrogates: what undecodable bytes become, and what a
JSON ``\\ud800`` escape decodes to), JSON text nested too deep to parse, and bytes that are not UTF-8 where bytes are
read (S3 objects on moto, the SageMaker endpoint's answer, the tuned function's base64 log tail and payload).

Every outcome must be a result the handler documents (partial batch failures for the SQS starter, per-task result
codes for S3 Batch Operations) or one of the handler's own typed errors, listed in ``ALLOWED_ERRORS``, with a message
that says what was wrong in a readable size. AWS calls go to moto; the SageMaker endpoint and the tuned function's
``Invoke`` answer are stand-ins, as in the handlers' own tests. No network.

The examples are deterministic (``derandomize=True``) and nothing is stored in the repository (``database=None``;
Hypothesis's own caches go to the system temp directory, see ``HYPOTHESIS_STORAGE_DIRECTORY`` below).
"""

from __future__ import annotations

import ast
import base64
import copy
import importlib
import io
import json
import os
import sys
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

# Hypothesis keeps a few caches (unicode tables, constants) under .hypothesis/ in the working directory unless told
# otherwise: keep them out of the checkout. Read lazily by Hypothesis, so setting it here (before any example runs)
# is enough; a CI may set its own.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "constructs-lib-hypothesis"))

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from stacks._code import runtime_folders
from tests.conftest import FakeContext, load_event
from tests.slack_server import SlackWebhookServer

RUNTIME_FOLDERS = runtime_folders()
for _layer in (
    "s3_batch_contract",
    "slack_reporter",
    "durable_routes",
):  # the layers, as the runtime finds them in /opt/python
    if str(RUNTIME_FOLDERS[_layer] / "python") not in sys.path:
        sys.path.insert(0, str(RUNTIME_FOLDERS[_layer] / "python"))
if str(RUNTIME_FOLDERS["durable_orders"]) not in sys.path:  # its handler imports order_logic as in /var/task
    sys.path.insert(0, str(RUNTIME_FOLDERS["durable_orders"]))

import order_logic  # noqa: E402
import s3_batch_contract as contract  # noqa: E402
import slack_reporter  # noqa: E402
from durable_routes import delivery as durable_delivery  # noqa: E402
from durable_routes import status as durable_status  # noqa: E402
from slack_reporter import reporting, webhook  # noqa: E402

from constructs_lib.workloads.defect_detection.runtime import inspect_image, start_inspection  # noqa: E402
from constructs_lib.workloads.power_tuning.runtime import handlers, tuning  # noqa: E402
from constructs_lib.workloads.slack.runtime.notifier import notifier  # noqa: E402
from lambda_src.destined_lambda import consumer, worker  # noqa: E402
from lambda_src.orchestrated_lambda import steps  # noqa: E402
from lambda_src.power_tuning_sample import sample  # noqa: E402
from lambda_src.s3_batch_sentiment import sentiment  # noqa: E402
from lambda_src.slack_example import orders  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"

# ------------------------------------------------------------------------------------------------ allowed errors

ALLOWED_ERRORS: dict[str, tuple[type[Exception], ...]] = {
    # "<asset folder>:<handler string>" -> what the handler may raise for a bad event. Anything else (KeyError,
    # TypeError, AttributeError, UnicodeEncodeError, RecursionError, a bare ClientError ...) fails the test.
    "destined_lambda:consumer.handler": (consumer.NotAnAcceptedOrderError,),
    "destined_lambda:worker.handler": (worker.InvalidOrderError,),
    # A durable handler: run by AWS's durable testing SDK, which reports the error's type by name (see below).
    "durable_orders:handler.handler": (order_logic.InvalidOrderError, order_logic.OrderPendingError),
    # The durable engine's status-event function: an event it has no record for, or a route that refused the record.
    "durable_routes:durable_routes.status.handler": (durable_status.StatusEventError, durable_delivery.DeliveryError),
    "orchestrated_lambda:steps.classify": (steps.InvalidRequestError, steps.OrderPendingError),
    "orchestrated_lambda:steps.handle_single": (steps.InvalidRequestError,),
    "orchestrated_lambda:steps.reserve_stock": (steps.InvalidRequestError,),
    "orchestrated_lambda:steps.charge": (steps.InvalidRequestError,),
    "defect_detection:inspect_image.handler": (
        # ConfigurationError is left out on purpose: the environment is valid here, the event is not.
        inspect_image.InvalidRequestError,
        inspect_image.ImageNotFoundError,
        inspect_image.ImageAccessDeniedError,
        inspect_image.EmptyImageError,
        inspect_image.ImageTooLargeError,
        inspect_image.NotAnImageError,
        inspect_image.EndpointThrottledError,
        inspect_image.EndpointModelError,
        inspect_image.EndpointError,
        inspect_image.EndpointResponseError,
    ),
    # An SQS batch handler: a bad message is a batchItemFailure; only an event that is no SQS batch at all raises.
    "defect_detection:start_inspection.handler": (start_inspection.InvalidNotificationError,),
    # S3 Batch Operations: every task gets a result code; only an event that is no invocation at all raises.
    "s3_batch_contract:s3_batch_contract.handler": (contract.BatchContractError,),
    # The per-object function the contract layer runs (S3_BATCH_TASK_HANDLER): what it raises becomes the task's
    # result code through contract.classify, which reads these deliberately (service error codes, UTF-8 errors).
    "s3_batch_sentiment:sentiment.analyse": (
        contract.PermanentFailure,
        contract.TemporaryFailure,
        ClientError,
        UnicodeDecodeError,
    ),
    "power_tuning:handlers.initialize": (tuning.InvalidInputError, handlers.SetupError),
    "power_tuning:handlers.execute": (
        tuning.InvalidInputError,
        handlers.InvocationError,
        handlers.ProcessorError,
        tuning.LogReportError,
        handlers.SetupError,
    ),
    "power_tuning:handlers.finalize": (tuning.InvalidInputError, handlers.SetupError),
    "power_tuning_sample:sample.handler": (),  # echoes any event
    "slack_example:orders.validate": (orders.InvalidOrderError,),
    "slack_example:orders.charge": (orders.InvalidOrderError, orders.PaymentDeclinedError),
    "slack_example:orders.ship": (orders.InvalidOrderError, orders.ShippingError),
    "slack_notifier:notifier.handler": (notifier.UnsupportedEventError, notifier.SlackDeliveryError),
    # The wrapper raises exactly what the function it wraps raises; the example stack wraps orders.validate.
    "slack_reporter:slack_reporter.wrapper.handler": (orders.InvalidOrderError,),
}

MAX_MESSAGE = 4096
"""An error message quotes the bad value, not all 300 KB of it (Step Functions keeps 32 KB of a cause, Slack less)."""

BAD_INPUT = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Deterministic in CI, nothing written to the checkout, no per-example deadline (moto's first calls are slow)."""


def outcome(name: str, call: Callable[[], Any]) -> Any:
    """The handler's result, or the typed error it raised (checked against ``ALLOWED_ERRORS[name]``)."""
    allowed = ALLOWED_ERRORS[name]
    try:
        result = call()
    except allowed as error:
        raised: Exception = error
    except Exception as error:
        names = ", ".join(kind.__name__ for kind in allowed) or "nothing"
        raise AssertionError(f"{name} raised {type(error).__name__} (allowed: {names}): {str(error)[:300]}") from error
    else:
        json.dumps(result)  # the runtime must be able to send it back
        return result
    message = str(raised)
    assert message.strip(), f"{name}: {type(raised).__name__} without a message"
    assert len(message) <= MAX_MESSAGE, f"{name}: a {len(message)}-character message: {message[:300]}..."
    return raised


# ------------------------------------------------------------------------------------------------ strategies

HUGE = 300 * 1024
DEEP_ARRAY = "[" * 100_000
DEEP_OBJECT = '{"a":' * 50_000
NASTY_TEXT: tuple[str, ...] = (
    "",
    "\x00",
    "\ud800",  # a lone surrogate: what a JSON "\ud800" escape decodes to; UTF-8 has no bytes for it
    "key-\udcff-end",  # what surrogateescape makes of the byte 0xFF
    "%FF%FE",  # percent-encoded bytes that are not UTF-8
    "%ED%A0%80",  # a percent-encoded surrogate
    "a/b",
    "{",
    "\ufeff",
    "x" * HUGE,
    DEEP_ARRAY,
    DEEP_OBJECT,
)
NASTY_NUMBERS: tuple[int | float, ...] = (0, -1, 2**63, 10**400, -(10**400), 0.5, -0.0, 1e308, -1e308)
EVENT_KEYS = ("Records", "body", "messageId", "detail", "detail-type", "key", "bucket", "orderId", "items", "config")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(NASTY_NUMBERS)
    | st.sampled_from(NASTY_TEXT)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(EVENT_KEYS), children, max_size=4)
    ),
    max_leaves=10,
)
"""Any JSON value the runtime can decode (big numbers, odd strings, nested objects)."""
bad_values = st.sampled_from(NASTY_TEXT) | st.sampled_from(NASTY_NUMBERS) | json_values
"""What a field can hold instead of what it should: odd strings and numbers more often than chance gives them."""


def spoiled(value: Any) -> st.SearchStrategy[Any]:
    """``value`` almost right: a valid string with a lone surrogate, bad percent-encoding, a slash or a NUL in it,
    or repeated to 300 KB; a valid number negative, fractional, huge, or as text."""
    if isinstance(value, str):
        longer = (value or "x") * (HUGE // (len(value) or 1))
        return st.sampled_from((value + "\ud800", value + "%FF", value + "/x", value + "\x00", longer))
    if isinstance(value, int | float) and not isinstance(value, bool):
        huge = value * 10**400 if isinstance(value, int) else 1e308
        fraction = value + 0.5 if isinstance(value, float) or abs(value) < 2**53 else 0.5
        return st.sampled_from((-value - 1, fraction, huge, str(value), True))
    return bad_values


Step = str | int


def _paths(value: Any, prefix: tuple[Step, ...] = ()) -> Iterator[tuple[Step, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _at(value: Any, path: tuple[Step, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw: st.DrawFn, valid: Any, bad: st.SearchStrategy[Any] = bad_values, most: int = 3) -> Any:
    """``valid`` with 1 to ``most`` changes: a key dropped, a value (or the whole event) replaced by a bad or an
    almost-right one, a key added."""
    event = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from(list(_paths(event))))
        how = draw(st.sampled_from(("drop", "replace", "spoil", "add")))
        if not path:
            event = draw(bad) if how != "add" or not isinstance(event, dict) else {**event, "unexpected": draw(bad)}
            continue
        parent = _at(event, path[:-1])
        if how == "drop":
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(bad)
        elif how == "add":
            parent.append(draw(bad))
        else:
            parent[path[-1]] = draw(spoiled(parent[path[-1]]) if how == "spoil" else bad)
    return event


def mutations(*valid: Any, bad: st.SearchStrategy[Any] = bad_values) -> st.SearchStrategy[Any]:
    """Any JSON value, or one of the valid events changed."""
    return json_values | st.sampled_from(valid).flatmap(lambda event: mutated(event, bad))


not_utf8 = st.binary(max_size=64).map(lambda data: b"\xff\xfe" + data) | st.sampled_from(
    [b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80" * 10]
)
"""Bytes that are not UTF-8."""
any_bytes = st.binary(max_size=64) | not_utf8 | st.sampled_from([b"", b"\xef\xbb\xbf", b"   \n", b"x" * HUGE])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Credentials and region for moto, and moto itself."""
    for name, value in {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


# ------------------------------------------------------------------------------------------------ the list is whole


def entry_points() -> set[str]:
    """Every ``handler(event, context)``-like function at the top of a module of runtime code, as
    ``<asset>:<module>.<function>`` (a layer's modules by their import name under ``python/``)."""
    found: set[str] = set()
    for asset, folder in sorted(RUNTIME_FOLDERS.items()):
        for path in sorted(folder.rglob("*.py")):
            found |= _entry_points_of(asset, folder, path)
    return found


def _entry_points_of(asset: str, folder: Path, path: Path) -> set[str]:
    rest = list(path.relative_to(folder).with_suffix("").parts)
    if rest[:1] == ["python"]:
        rest = rest[1:]
    if rest[-1] == "__init__":
        rest = rest[:-1]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        names = [argument.arg for argument in node.args.args]
        required = (
            len(names)
            - len(node.args.defaults)
            + len([a for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d is None])
        )
        if names[:2] == ["event", "context"] and required == 2:
            found.add(f"{asset}:{'.'.join([*rest, node.name])}")
    return found


def test_every_entry_point_has_its_allowed_errors_listed() -> None:
    found = entry_points()
    assert {"s3_batch_contract:s3_batch_contract.handler", "slack_reporter:slack_reporter.wrapper.handler"} <= found
    assert found - set(ALLOWED_ERRORS) == set(), "a new handler: add it to ALLOWED_ERRORS and give it a test here"
    assert set(ALLOWED_ERRORS) - found == {"s3_batch_sentiment:sentiment.analyse"}  # a per-object function


# ------------------------------------------------------------------------------------------------ plain handlers

ORDER = {"orderId": "o-1", "sku": "PCB-7", "quantity": 3, "amount": 10, "address": "1 Main St", "items": ["A", "B"]}
DECISION = {"orderId": "o-1", "sku": "PCB-7", "quantity": 3, "status": "ACCEPTED"}
CLASSIFIED = {"orderId": "o-1", "items": ["A", "B"], "foo": 2}


def sns_event(message: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_event("sns_order.json")
    event["Records"][0]["Sns"]["Message"] = message
    return event


sns_events = st.builds(sns_event, mutated(ORDER).map(json.dumps) | bad_values)

PLAIN: dict[str, tuple[Callable[[Any, Any], Any], st.SearchStrategy[Any], Callable[[Any], bool]]] = {
    "destined_lambda:consumer.handler": (
        consumer.handler,
        mutations(DECISION, ORDER),
        lambda result: result["fulfilment"] == "SCHEDULED" and isinstance(result["orderId"], str),
    ),
    "destined_lambda:worker.handler": (
        worker.handler,
        mutations(ORDER, sns_event(json.dumps(ORDER))) | sns_events,
        lambda result: result["status"] in ("ACCEPTED", "REVIEW") and result["quantity"] >= 1,
    ),
    "orchestrated_lambda:steps.classify": (
        steps.classify,
        mutations(ORDER, CLASSIFIED),
        lambda result: result["foo"] in (1, 2) and len(result["items"]) >= 1,
    ),
    "orchestrated_lambda:steps.handle_single": (
        steps.handle_single,
        mutations(CLASSIFIED),
        lambda result: result["route"] == "single" and isinstance(result["orderId"], str),
    ),
    "orchestrated_lambda:steps.reserve_stock": (
        steps.reserve_stock,
        mutations(CLASSIFIED),
        lambda result: isinstance(result["reserved"], int) and result["reserved"] >= 1,
    ),
    "orchestrated_lambda:steps.charge": (
        steps.charge,
        mutations(CLASSIFIED),
        lambda result: isinstance(result["charged"], str),
    ),
    "slack_example:orders.validate": (
        orders.validate,
        mutations(ORDER),
        lambda result: result["status"] == "VALID" and result["quantity"] >= 1 and isinstance(result["orderId"], str),
    ),
    "slack_example:orders.charge": (
        orders.charge,
        mutations(ORDER),
        lambda result: 0 <= result["charged"] <= orders.MAX_CHARGE,
    ),
    "slack_example:orders.ship": (
        orders.ship,
        mutations(ORDER),
        lambda result: isinstance(result["shippedTo"], str) and bool(result["shippedTo"].strip()),
    ),
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_handlers_raise_only_their_typed_errors(name: str) -> None:
    handler, events, valid_result = PLAIN[name]

    @BAD_INPUT
    @given(event=events)
    def check(event: Any) -> None:
        result = outcome(name, lambda: handler(event, FakeContext()))
        if not isinstance(result, Exception):
            assert valid_result(result), f"{name} accepted a bad event: {str(result)[:300]}"

    check()


@settings(BAD_INPUT, max_examples=25)  # each example is a whole durable execution
@given(event=mutations(ORDER, sns_event(json.dumps(ORDER))) | sns_events)
def test_the_durable_orders_handler_fails_only_with_its_typed_errors(event: Any) -> None:
    """The durable handler runs as a durable execution (its folder and the durable layer on the path, as on AWS);
    the execution's error names the exception's type (``module.Class``), and a step's exception is reported as the
    SDK's ``StepError`` with the step's own message: only AuthorizePayment's OrderPendingError can be that."""
    from tests.handler.test_durable_orders_handlers import run_handler, status

    allowed = {kind.__name__ for kind in ALLOWED_ERRORS["durable_orders:handler.handler"]}
    result = run_handler(event)
    if status(result) == "SUCCEEDED":
        decision = json.loads(str(result.result))
        assert decision["status"] in ("ACCEPTED", "REVIEW")
        assert decision["quantity"] >= 1
        return
    assert status(result) == "FAILED", status(result)
    assert result.error is not None
    kind, message = str(result.error.type).rsplit(".", 1)[-1], str(result.error.message)
    if kind == "StepError":
        assert "is still pending" in message, f"a step failed otherwise: {message[:300]}"
    else:
        assert kind in allowed, f"durable_orders:handler.handler raised {kind}: {message[:300]}"
    assert message.strip()
    assert len(message) <= MAX_MESSAGE, f"a {len(message)}-character message: {message[:300]}..."


# AWS's example "Durable Execution Status Change" event (https://docs.aws.amazon.com/lambda/latest/dg/
# durable-monitoring.html) for a timed-out execution.
DURABLE_STATUS_EVENT: dict[str, Any] = {
    "version": "0",
    "detail-type": "Durable Execution Status Change",
    "source": "aws.lambda",
    "account": ACCOUNT,
    "time": "2025-11-21T13:08:23Z",
    "region": REGION,
    "resources": [],
    "detail": {
        "durableExecutionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders:2/durable-execution/"
        "090c4189-b18b-4296-9d0c-cfd01dc3a122/9f7d84c9-ea3d-3ffc-b3e5-5ec51c34ffc9",
        "durableExecutionName": "order-123",
        "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders:2",
        "status": "TIMED_OUT",
        "startTimestamp": "2025-11-20T13:08:22.345Z",
        "endTimestamp": "2025-11-21T13:08:22.345Z",
    },
}


class FakeDurableLambda:
    """The lambda client's GetDurableExecution (moto has none; the kit serves it in its own runs): the execution's
    input, for any ARN."""

    def get_durable_execution(self, DurableExecutionArn: str) -> dict[str, Any]:
        return {"DurableExecutionArn": DurableExecutionArn, "InputPayload": json.dumps(ORDER), "Status": "TIMED_OUT"}


@pytest.fixture
def durable_failures(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The failure route (an SQS queue on moto) in the status function's environment; its queue URL."""
    durable_delivery._clients.clear()  # clients made outside this moto
    url = boto3.client("sqs").create_queue(QueueName="durable-failures")["QueueUrl"]
    monkeypatch.setenv(durable_delivery.ENV_ON_FAILURE, json.dumps({"service": "sqs", "target": url}))
    fake = FakeDurableLambda()
    monkeypatch.setattr(
        durable_status, "client", lambda service: fake if service == "lambda" else durable_delivery.client(service)
    )
    yield url
    durable_delivery._clients.clear()


@BAD_INPUT
@given(
    event=mutations(
        DURABLE_STATUS_EVENT,
        {**DURABLE_STATUS_EVENT, "detail": {**DURABLE_STATUS_EVENT["detail"], "status": "STOPPED"}},
    )
)
def test_the_durable_status_function_delivers_one_failure_record_or_says_what_it_takes(
    durable_failures: str, event: Any
) -> None:
    sqs = boto3.client("sqs")
    result = outcome(
        "durable_routes:durable_routes.status.handler", lambda: durable_status.handler(event, FakeContext())
    )
    delivered = sqs.receive_message(QueueUrl=durable_failures, MaxNumberOfMessages=10).get("Messages", [])
    for message in delivered:
        sqs.delete_message(QueueUrl=durable_failures, ReceiptHandle=message["ReceiptHandle"])
    if isinstance(result, Exception):
        assert delivered == []
        return
    (message,) = delivered
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == result["delivered"] in ("TimedOut", "Aborted")
    assert record["requestPayload"] == ORDER


@BAD_INPUT
@given(event=json_values)
def test_the_power_tuning_sample_echoes_any_event(monkeypatch: pytest.MonkeyPatch, event: Any) -> None:
    monkeypatch.setenv("WORK_MS", "0")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    result = outcome("power_tuning_sample:sample.handler", lambda: sample.handler(event, FakeContext()))
    assert result == {"memory": 128, "workMs": 0.0, "echo": event}


# ------------------------------------------------------------------------------------------------ Slack


@pytest.fixture
def slack(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackWebhookServer]:
    """A loopback server playing the webhook, its URL in a Secrets Manager secret on moto, no rate limit."""
    with SlackWebhookServer() as server:
        arn = boto3.client("secretsmanager").create_secret(Name="slack/webhook", SecretString=server.url)["ARN"]
        monkeypatch.setenv(webhook.SECRET_ENV, arn)
        monkeypatch.setenv(reporting.MIN_INTERVAL_ENV, "0")
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "under-test")
        monkeypatch.setattr(slack_reporter, "_reporter", None)
        yield server


def posted_header(server: SlackWebhookServer) -> str:
    payload = server.posts[-1].json
    assert isinstance(payload["text"], str)
    header: str = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    return header


@pytest.fixture
def wrapper(slack: SlackWebhookServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``slack_reporter.wrapper`` around orders.validate, imported as the runtime does on a cold start."""
    monkeypatch.setenv("SLACK_REPORTER_HANDLER", "lambda_src.slack_example.orders.validate")
    sys.modules.pop("slack_reporter.wrapper", None)
    yield importlib.import_module("slack_reporter.wrapper")
    sys.modules.pop("slack_reporter.wrapper", None)


@BAD_INPUT
@given(event=mutations(ORDER))
def test_the_slack_wrapper_raises_what_the_function_raises_and_posts_it(
    wrapper: ModuleType, slack: SlackWebhookServer, event: Any
) -> None:
    name = "slack_reporter:slack_reporter.wrapper.handler"
    posts = len(slack.posts)
    expected = outcome("slack_example:orders.validate", lambda: orders.validate(event, FakeContext()))
    result = outcome(name, lambda: wrapper.handler(event, FakeContext()))
    if isinstance(expected, Exception):
        assert (type(result), str(result)) == (type(expected), str(expected))
        assert len(slack.posts) == posts + 1
        assert type(expected).__name__ in posted_header(slack)
    else:
        assert result == expected
        assert len(slack.posts) == posts


FAILURE_RECORD = load_event("destination_failure_record.json")
STATUS_CHANGE = load_event("sfn_status_failed.json")
FAILURE_EVENT = {
    "version": "0",
    "detail-type": notifier.FAILURE_DETAIL_TYPE,
    "source": "lambda",
    "account": ACCOUNT,
    "region": REGION,
    "detail": FAILURE_RECORD,
}
notifier_events = mutations(FAILURE_RECORD, STATUS_CHANGE, FAILURE_EVENT) | mutations(
    FAILURE_RECORD, STATUS_CHANGE
).map(json.dumps)


@BAD_INPUT
@given(event=notifier_events)
def test_the_slack_notifier_posts_a_failure_or_says_what_it_takes(slack: SlackWebhookServer, event: Any) -> None:
    posts = len(slack.posts)
    result = outcome("slack_notifier:notifier.handler", lambda: notifier.handler(event, FakeContext()))
    if isinstance(result, notifier.UnsupportedEventError):
        assert len(slack.posts) == posts
    elif not isinstance(result, Exception):
        assert result["outcome"] == "sent"
        assert len(slack.posts) == posts + 1
        assert result["errorType"][:100] in posted_header(slack)  # a header holds 150 characters


# ------------------------------------------------------------------------------------------------ defect detection

BUCKET = "boards"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 16


class FakeEndpoint:
    """The sagemaker-runtime client: answers the drawn bytes (the kit's stand-in plays the same part)."""

    def __init__(self) -> None:
        self.answer = b"[0.1, 0.9]"

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.answer), "ContentType": "application/json"}


@pytest.fixture
def defect_aws(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, FakeEndpoint]]:
    monkeypatch.setenv("ENDPOINT_NAME", "defects")
    monkeypatch.setenv("CLASS_NAMES", '["defect_free","defective"]')
    monkeypatch.setenv("DEFECT_CLASS", "defective")
    monkeypatch.setenv("MAX_IMAGE_BYTES", "4096")
    for name in ("DEFECT_THRESHOLD", "CONFIDENCE_FLOOR", "STATE_MACHINE_ARN"):
        monkeypatch.delenv(name, raising=False)
    inspect_image.reset()
    start_inspection.reset()
    endpoint = FakeEndpoint()
    monkeypatch.setattr(inspect_image, "sagemaker_client", lambda: endpoint)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="board.png", Body=PNG)
    s3.put_object(Bucket=BUCKET, Key="empty.png", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="big.png", Body=PNG + b"\x00" * 5000)
    yield s3, endpoint
    inspect_image.reset()
    start_inspection.reset()


IMAGE_KEYS = ("board.png", "empty.png", "big.png", "fuzz.png", "missing.png")
inspection_requests = (
    st.fixed_dictionaries(
        {
            "bucket": st.sampled_from((BUCKET, "other-bucket")) | bad_values,
            "key": st.sampled_from(IMAGE_KEYS) | bad_values,
        },
        optional={"versionId": st.sampled_from(("null", "not-a-version")) | bad_values},
    ).flatmap(lambda event: st.just(event) | mutated(event))
    | json_values
)
endpoint_answers = (
    any_bytes
    | st.lists(st.floats(0, 1), min_size=2, max_size=2).map(lambda scores: json.dumps(scores).encode())
    | mutated([0.2, 0.8]).map(lambda scores: json.dumps(scores).encode())
    | st.sampled_from([DEEP_ARRAY.encode(), b"[NaN, 0.5]", b"[1e999, 0]"])
)


@BAD_INPUT
@given(event=inspection_requests, image=any_bytes | any_bytes.map(lambda data: PNG + data), answer=endpoint_answers)
def test_the_inspection_step_raises_only_its_typed_errors(
    defect_aws: tuple[Any, FakeEndpoint], event: Any, image: bytes, answer: bytes
) -> None:
    s3, endpoint = defect_aws
    s3.put_object(Bucket=BUCKET, Key="fuzz.png", Body=image)
    endpoint.answer = answer
    result = outcome("defect_detection:inspect_image.handler", lambda: inspect_image.handler(event, None))
    if not isinstance(result, Exception):
        assert result["decision"] in ("DEFECTIVE", "DEFECT_FREE", "REVIEW")
        assert result["contentType"] == "image/png"


def s3_notification(key: str, event_name: str = "ObjectCreated:Put") -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventName": event_name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET},
                    "object": {"key": key, "size": 1024, "versionId": "v1", "sequencer": "0065A1"},
                },
            }
        ]
    }


good_bodies = st.text(min_size=1, max_size=20).map(
    lambda key: json.dumps(s3_notification(urllib.parse.quote_plus(key)))
)
"""Notifications of any (short) key, encoded as S3 encodes keys: each must start an inspection."""
other_bodies = (
    mutated(s3_notification("board.png")).map(json.dumps)
    | st.sampled_from(NASTY_TEXT)
    | st.sampled_from(NASTY_TEXT).map(lambda key: json.dumps(s3_notification(key)))
    | json_values
)


def sqs_batch(bodies: list[tuple[Any, bool]]) -> tuple[dict[str, Any], set[str]]:
    """An SQS event of ``bodies``, and the ids of the messages known to be good."""
    records = [
        {"messageId": f"m-{index}", "body": body, "eventSource": "aws:sqs"} for index, (body, _) in enumerate(bodies)
    ]
    return {"Records": records}, {f"m-{index}" for index, (_, good) in enumerate(bodies) if good}


sqs_batches = st.lists(
    st.tuples(good_bodies, st.just(True)) | st.tuples(other_bodies, st.just(False)), min_size=1, max_size=4
).map(sqs_batch)


@pytest.fixture
def state_machine(defect_aws: tuple[Any, FakeEndpoint], monkeypatch: pytest.MonkeyPatch) -> Any:
    client = boto3.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = client.create_state_machine(
        name="inspect", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    return client


def started(client: Any) -> set[str]:
    arn = os.environ["STATE_MACHINE_ARN"]
    pages = client.get_paginator("list_executions").paginate(stateMachineArn=arn)
    return {execution["name"] for page in pages for execution in page["executions"]}


@BAD_INPUT
@given(
    batch=sqs_batches
    | mutations({"Records": [{"messageId": "m-0", "body": json.dumps(s3_notification("a"))}]}).map(
        lambda event: (event, set())
    )
)
def test_a_bad_message_is_a_batch_item_failure_and_never_poisons_the_batch(
    state_machine: Any, batch: tuple[Any, set[str]]
) -> None:
    event, good = batch
    result = outcome("defect_detection:start_inspection.handler", lambda: start_inspection.handler(event, None))
    if isinstance(result, Exception):
        assert "expected an SQS event" in str(result)  # the whole event is no SQS batch: nothing to answer per message
        assert not good
        return
    failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
    assert not good & failed
    for record in event["Records"]:
        try:
            objects = start_inspection.s3_objects(record.get("body"))
        except start_inspection.InvalidNotificationError:
            assert record["messageId"] in failed  # redelivered, then kept by the queue's DLQ
            continue
        assert record["messageId"] not in failed
        assert {start_inspection.execution_name(obj) for obj in objects} <= started(state_machine)


# ------------------------------------------------------------------------------------------------ S3 Batch Operations

TEXT_BUCKET = "reviews-bucket"
RAISED: list[BaseException] = []


def recorded_analyse(task: contract.BatchTask) -> Any:
    """sentiment.analyse, named by S3_BATCH_TASK_HANDLER here: what it raises is recorded, then classified."""
    try:
        return sentiment.analyse(task)
    except Exception as error:
        RAISED.append(error)
        raise


def batch_event(schema: str, *keys: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = []
    for index, key in enumerate(keys):
        task: dict[str, Any] = {"taskId": f"t{index}", "s3Key": key, "s3VersionId": None}
        if schema == "1.0":
            task["s3BucketArn"] = f"arn:aws:s3:::{TEXT_BUCKET}"
        else:
            task["s3Bucket"] = TEXT_BUCKET
        tasks.append(task)
    job: dict[str, Any] = {"id": "job-1"}
    if schema == "2.0":
        job["userArguments"] = {"languageCode": "en"}
    return {"invocationSchemaVersion": schema, "invocationId": "inv-1", "job": job, "tasks": tasks}


TEXT_KEYS = ("good.txt", "fuzz.txt", "missing.txt", "caf%C3%A9+menu.txt")
batch_keys = (
    st.sampled_from(TEXT_KEYS) | st.sampled_from(NASTY_TEXT) | st.text(max_size=12).map(urllib.parse.quote_plus)
)
batch_events = st.builds(batch_event, st.sampled_from(("1.0", "2.0")), batch_keys, batch_keys) | st.sampled_from(
    (batch_event("1.0", "good.txt"), batch_event("2.0", "fuzz.txt"))
).flatmap(mutated)


@pytest.fixture
def batch_aws(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(contract.TASK_HANDLER_VARIABLE, f"{__name__}.recorded_analyse")
    monkeypatch.setenv("WRITE_TAGS", "true")
    monkeypatch.setenv("RESULTS_BUCKET", TEXT_BUCKET)
    sentiment._s3.cache_clear()
    sentiment._comprehend.cache_clear()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=TEXT_BUCKET)
    s3.put_object(Bucket=TEXT_BUCKET, Key="good.txt", Body=b"The board works well.")
    s3.put_object(Bucket=TEXT_BUCKET, Key="café menu.txt", Body="Très bon.".encode())
    yield s3
    sentiment._s3.cache_clear()
    sentiment._comprehend.cache_clear()


@BAD_INPUT
@given(event=batch_events, text=any_bytes | st.text(max_size=40).map(str.encode))
def test_every_s3_batch_task_gets_a_result_code_that_says_what_happened(
    batch_aws: Any, event: Any, text: bytes
) -> None:
    batch_aws.put_object(Bucket=TEXT_BUCKET, Key="fuzz.txt", Body=text)
    RAISED.clear()
    result = outcome("s3_batch_contract:s3_batch_contract.handler", lambda: contract.handler(event, None))
    for error in RAISED:  # what the per-object function raised, before the contract classified it
        allowed = ALLOWED_ERRORS["s3_batch_sentiment:sentiment.analyse"]
        assert isinstance(error, allowed), f"sentiment.analyse raised {type(error).__name__}: {str(error)[:300]}"
    if isinstance(result, Exception):
        return
    assert [r["taskId"] for r in result["results"]] == [task["taskId"] for task in event["tasks"]]
    for answer in result["results"]:
        assert answer["resultCode"] in ("Succeeded", "TemporaryFailure", "PermanentFailure")
        assert 0 < len(answer["resultString"]) <= contract.MAX_RESULT_STRING


# ------------------------------------------------------------------------------------------------ power tuning

TARGET_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:target"
MISSING_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:missing"
TUNING_INPUTS = (
    {"lambdaARN": TARGET_ARN, "powerValues": [128, 256], "num": 5, "payload": {"x": 1}},
    {
        "lambdaARN": TARGET_ARN,
        "powerValues": {"min": 128, "max": 256, "step": 128},
        "num": 6,
        "payload": [{"payload": {"a": 1}, "weight": 1}, {"payload": {"b": 2}, "weight": 2}],
        "strategy": "balanced",
        "balancedWeight": 0.3,
        "prices": {"x86_64": 0.00002, "request": 0.0000002},
        "discardTopBottom": 0.2,
    },
)
tuning_values = bad_values | st.sampled_from(
    (MISSING_ARN, f"{TARGET_ARN}:live", TARGET_ARN.replace(REGION, "eu-west-1"), 128, 10240, 10241, 5, 10_001)
)
"""Wrong types, and plausible but wrong values: a missing function, a qualified ARN, memory sizes at the limits."""


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def tuning_aws(aws: None) -> Iterator[Any]:
    handlers._CLIENTS.clear()
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    client = handlers.lambda_client(REGION)
    client.create_function(
        FunctionName="target",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _code()},
        MemorySize=1024,
    )
    yield client
    handlers._CLIENTS.clear()


@BAD_INPUT
@given(
    event=st.sampled_from(TUNING_INPUTS).flatmap(
        lambda raw: (
            mutated({"input": raw, "execution": "exec-1"}, tuning_values)
            | mutated(
                {"config": raw, "setup": {"next": 0, "done": False, "rounds": 1}, "execution": "exec-1"}, tuning_values
            )
        )
    )
    | json_values
)
def test_the_initializer_raises_only_its_typed_errors(tuning_aws: Any, event: Any) -> None:
    # No time left: one version per call (the state machine calls again), so that a long plan costs one publish.
    no_time_left = FakeContext(remaining_ms=0)
    result = outcome("power_tuning:handlers.initialize", lambda: handlers.initialize(event, no_time_left))
    if not isinstance(result, Exception):
        assert tuning.parse_input(result["config"]).lambda_arn == TARGET_ARN
        assert isinstance(result["setup"]["done"], bool)


def log_tail(duration: str = "102.25", billed: str = "103") -> str:
    return (
        "START RequestId: r Version: 3\nEND RequestId: r\n"
        f"REPORT RequestId: r\tDuration: {duration} ms\tBilled Duration: {billed} ms\tMemory Size: 128 MB\n"
    )


platform_reports = mutated(
    {"type": "platform.report", "record": {"metrics": {"durationMs": 10.5, "billedDurationMs": 11}, "version": "3"}}
).map(json.dumps)
log_tails = (
    st.builds(log_tail, st.sampled_from(("1.2.3", ".", "12", "-1", "1e5", "")), st.sampled_from(("103", ".", "")))
    | platform_reports
    | st.sampled_from((log_tail(), "", "no report here"))
    | st.text(max_size=40)
).map(lambda text: base64.b64encode(text.encode("utf-8", "surrogatepass")))
log_results = log_tails | not_utf8.map(base64.b64encode) | st.sampled_from((b"not base64!", b"=", None))


@pytest.fixture
def tuned(tuning_aws: Any) -> dict[str, Any]:
    """The target set up for 128 and 256 MB (aliases RAM128, RAM256); its Invoke answers what a test draws."""
    setup = handlers.run_setup(
        tuning_aws, tuning.parse_input(TUNING_INPUTS[0]), "exec-1", {"next": 0}, remaining_ms=lambda: 900_000
    )
    assert setup["done"]
    answer: dict[str, Any] = {}

    def invoke(**request: Any) -> dict[str, Any]:
        found = {"StatusCode": 200, "Payload": io.BytesIO(answer["payload"]), "ExecutedVersion": "3"}
        if answer["error"]:
            found["FunctionError"] = answer["error"]
        if answer["log"] is not None and "Qualifier" in request:
            found["LogResult"] = answer["log"]
        return found

    tuning_aws.invoke = invoke
    return answer


@BAD_INPUT
@given(
    event=st.sampled_from(TUNING_INPUTS).flatmap(
        lambda raw: mutated({"value": 128, "config": raw}, tuning_values) | st.just({"value": 256, "config": raw})
    )
    | json_values,
    error=st.sampled_from((None, None, "Unhandled")),
    payload=any_bytes | mutated({"ok": True}).map(lambda value: json.dumps(value).encode()),
    log=log_results,
)
def test_the_executor_raises_only_its_typed_errors(
    tuned: dict[str, Any], event: Any, error: str | None, payload: bytes, log: bytes | None
) -> None:
    config = event.get("config") if isinstance(event, dict) else None
    # A valid config that asks for long sleeps or thousands of invocations is a long (valid) run, not bad input.
    assume(not (isinstance(config, dict) and config.get("sleepBetweenRunsMs") not in (None, 0)))
    assume(not (isinstance(config, dict) and isinstance(config.get("num"), int) and config["num"] > 50))
    tuned.update(error=error, payload=payload, log=log)
    result = outcome("power_tuning:handlers.execute", lambda: handlers.execute(event, FakeContext()))
    if not isinstance(result, Exception):
        assert result["value"] == event["value"]
        assert result["averageDuration"] >= 0


STATS = [
    tuning.value_stats(
        value,
        [tuning.Report(duration_ms=100.0 / (index + 1), billed_duration_ms=100.0)] * 5,
        discard=0.2,
        architecture="x86_64",
        prices=tuning.resolve_prices(REGION),
    ).to_json()
    for index, value in enumerate((128, 256))
]
SETUP = {"next": 2, "done": True, "rounds": 1, "original": {"memorySize": 1024, "description": ""}}
FINALIZE_EVENTS = (
    {"action": "finalize", "config": TUNING_INPUTS[0], "setup": SETUP, "stats": STATS, "execution": "exec-1"},
    {"action": "cleanUp", "state": {"config": TUNING_INPUTS[0], "setup": SETUP}, "execution": "exec-1"},
    {"action": "cleanUp", "state": {**TUNING_INPUTS[1], "error": {"Error": "X", "Cause": "y"}}, "execution": "e"},
)


@BAD_INPUT
@given(event=st.sampled_from(FINALIZE_EVENTS).flatmap(lambda event: mutated(event, tuning_values)) | json_values)
def test_the_finalizer_raises_only_its_typed_errors(tuning_aws: Any, event: Any) -> None:
    result = outcome("power_tuning:handlers.finalize", lambda: handlers.finalize(event, FakeContext()))
    if not isinstance(result, Exception):
        assert "cleanedUp" in result
