"""The durable engine's runtime (``durable_routes``): the decorator run by AWS's durable execution SDK and its
testing runner (real SDK, real checkpoints, waits not slept), delivering to SQS and EventBridge on moto."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python import DurableContext, StepContext
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.exceptions import ExecutionError
from aws_durable_execution_sdk_python.lambda_service import OperationStatus
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python_testing import DurableFunctionTestResult, DurableFunctionTestRunner
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from constructs_lib.records import parse_execution_record
from stacks._code import runtime_folders
from tests.conftest import prompt_durable_stops

_LAYER = str(runtime_folders()["durable_routes"] / "python")  # as the runtime finds it in /opt/python
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)

import durable_routes  # noqa: E402
from durable_routes import delivery  # noqa: E402

REGION = "us-east-1"
NO_RETRY = StepConfig(retry_strategy=create_retry_strategy(RetryStrategyConfig(max_attempts=2)))


class InvalidOrderError(Exception):
    """The user's own error type, which the failure record must keep."""


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    delivery._clients.clear()  # clients of another test's moto
    with mock_aws():
        yield
    delivery._clients.clear()


@pytest.fixture
def queues(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    urls = {side: sqs.create_queue(QueueName=f"orders-{side}")["QueueUrl"] for side in ("success", "failure")}
    monkeypatch.setenv(durable_routes.ENV_ON_SUCCESS, json.dumps({"service": "sqs", "target": urls["success"]}))
    monkeypatch.setenv(durable_routes.ENV_ON_FAILURE, json.dumps({"service": "sqs", "target": urls["failure"]}))
    return urls


def messages(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def run(handler: Any, event: Any, runner: DurableFunctionTestRunner | None = None) -> DurableFunctionTestResult:
    with prompt_durable_stops(), runner or DurableFunctionTestRunner(handler=handler, poll_interval=0.01) as active:
        result: DurableFunctionTestResult = active.run(
            input=json.dumps(event), execution_timeout=30, function_name="orders:live"
        )
        return result


def status(result: DurableFunctionTestResult) -> str:
    assert result.execution_status is not None
    return str(result.execution_status.value)


def step_names(result: DurableFunctionTestResult) -> list[str]:
    return [str(operation.name) for operation in result.operations]


# ---------------------------------------------------------------------------------------------------- success


def test_a_returned_result_goes_to_the_success_route_as_an_execution_record(queues: dict[str, str]) -> None:
    seen: list[str] = []

    @durable_routes.routed_durable_execution
    def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
        total = context.step(lambda _: event["quantity"] * 3, name="Price")
        context.wait(Duration.from_days(1), name="Settle")  # a day, not slept
        seen.append(context.execution_context.durable_execution_arn)
        return {"orderId": event["orderId"], "total": total}

    result = run(handler, {"orderId": "o-1", "quantity": 2})

    assert status(result) == "SUCCEEDED"
    assert json.loads(str(result.result)) == {"orderId": "o-1", "total": 6}
    assert step_names(result) == ["Price", "Settle", "DeliverSuccess"]
    (record,) = messages(queues["success"])
    assert messages(queues["failure"]) == []
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"].endswith(":function:orders:live")
    assert record["requestContext"]["requestId"] == seen[-1]  # the durable execution's ARN
    assert record["requestPayload"] == {"orderId": "o-1", "quantity": 2}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"orderId": "o-1", "total": 6}


def test_a_replay_after_the_delivery_never_delivers_again(
    queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invocation that delivered dies before Lambda gets its answer: the next one replays the whole function,
    and the delivery step returns its checkpoint instead of sending again."""
    from aws_durable_execution_sdk_python_testing.executor import Executor

    # The testing runner waits 5 s of real time before it invokes again; the replay, not the wait, is under test.
    monkeypatch.setattr(Executor, "RETRY_BACKOFF_SECONDS", 0)
    calls: list[int] = []

    @durable_routes.routed_durable_execution
    def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
        calls.append(1)
        return {"orderId": event["orderId"]}

    crashed: list[bool] = []

    def crashes_once_after_delivering(event: Any, context: Any) -> Any:
        output = handler(event, context)
        if not crashed:
            crashed.append(True)
            raise RuntimeError("the sandbox died before Lambda read the answer")
        return output

    result = run(crashes_once_after_delivering, {"orderId": "o-2"})

    assert status(result) == "SUCCEEDED"
    assert len(calls) == 2  # the function ran twice (the replay)...
    assert len(messages(queues["success"])) == 1  # ...and its record was sent once
    step = result.get_step("DeliverSuccess")
    assert step.status is OperationStatus.SUCCEEDED
    assert step.attempt == 1


def test_a_side_without_a_route_sends_nothing_and_adds_no_step(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(durable_routes.ENV_ON_SUCCESS, raising=False)

    @durable_routes.routed_durable_execution
    def handler(event: Any, context: DurableContext) -> str:
        return "done"

    result = run(handler, {})
    assert status(result) == "SUCCEEDED"
    assert step_names(result) == []


def test_the_event_bus_route_puts_the_record_with_the_durable_source(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="results")
    url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all", EventBusName="results", EventPattern=json.dumps({"source": [durable_routes.EVENT_SOURCE]})
    )
    events.put_targets(Rule="all", EventBusName="results", Targets=[{"Id": "q", "Arn": arn}])
    monkeypatch.setenv(durable_routes.ENV_ON_SUCCESS, json.dumps({"service": "events", "target": "results"}))

    @durable_routes.routed_durable_execution
    def handler(event: Any, context: DurableContext) -> dict[str, str]:
        return {"status": "ACCEPTED"}

    run(handler, {"orderId": "o-3"})
    (event,) = messages(url)
    assert event["source"] == "constructs-lib.durable"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["detail"]["responsePayload"] == {"status": "ACCEPTED"}


def test_a_response_only_route_receives_the_response_payload(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="responses")["QueueUrl"]
    monkeypatch.setenv(
        durable_routes.ENV_ON_SUCCESS, json.dumps({"service": "sqs", "target": url, "payload": "response"})
    )

    @durable_routes.routed_durable_execution
    def handler(event: Any, context: DurableContext) -> dict[str, str]:
        return {"status": "ACCEPTED"}

    run(handler, {})
    assert messages(url) == [{"status": "ACCEPTED"}]


# ---------------------------------------------------------------------------------------------------- failure


def test_an_error_in_a_step_goes_to_the_failure_route_with_the_functions_own_error_type(
    queues: dict[str, str],
) -> None:
    attempts: list[int] = []

    def charge(_: StepContext) -> None:
        attempts.append(1)
        raise InvalidOrderError("orderId must be a non-empty string")

    @durable_routes.routed_durable_execution
    def handler(event: Any, context: DurableContext) -> None:
        context.step(charge, name="Charge", config=NO_RETRY)

    result = run(handler, {"orderId": ""})

    assert status(result) == "FAILED"
    assert len(attempts) == 2  # the step's own retry ran before the failure counted
    assert messages(queues["success"]) == []
    (record,) = messages(queues["failure"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"orderId": ""}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "InvalidOrderError"  # not StepError
    assert record["responsePayload"]["errorMessage"] == "orderId must be a non-empty string"
    assert step_names(result) == ["Charge", "DeliverFailure"]


def test_an_error_raised_by_the_function_itself_is_raised_again_unchanged(queues: dict[str, str]) -> None:
    @durable_routes.routed_durable_execution
    def handler(event: Any, context: DurableContext) -> None:
        raise InvalidOrderError("no items")

    result = run(handler, {"items": []})

    (record,) = messages(queues["failure"])
    assert record["responsePayload"]["errorType"] == "InvalidOrderError"
    assert record["responsePayload"]["errorMessage"] == "no items"
    assert any("raise InvalidOrderError" in line for line in record["responsePayload"]["stackTrace"])
    # the execution fails with the function's exception, as the SDK alone would report it
    assert result.error is not None
    assert result.error.type == f"{__name__}.InvalidOrderError"
    assert result.error.message == "no items"


def test_the_sdks_control_flow_passes_through(queues: dict[str, str]) -> None:
    """A wait suspends the invocation (the SDK's SuspendExecution): no failure is delivered for it; an SDK
    ExecutionError ends the execution without a record of the function's."""

    @durable_routes.routed_durable_execution
    def waits(event: Any, context: DurableContext) -> str:
        context.wait(Duration.from_hours(2), name="Cool")
        context.wait(Duration.from_hours(3), name="Again")
        return "ok"

    result = run(waits, {})
    assert status(result) == "SUCCEEDED"
    assert len(messages(queues["success"])) == 1
    assert messages(queues["failure"]) == []

    @durable_routes.routed_durable_execution
    def broken(event: Any, context: DurableContext) -> None:
        raise ExecutionError("the SDK gave up on this execution")

    result = run(broken, {})
    assert status(result) == "FAILED"
    assert messages(queues["failure"]) == []


def test_a_delivery_the_route_refuses_fails_the_execution_after_one_attempt(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = f"https://sqs.{REGION}.amazonaws.com/123456789012/deleted"
    monkeypatch.setenv(durable_routes.ENV_ON_SUCCESS, json.dumps({"service": "sqs", "target": missing}))

    @durable_routes.routed_durable_execution
    def handler(event: Any, context: DurableContext) -> str:
        return "done"

    result = run(handler, {})
    assert status(result) == "FAILED"
    step = result.get_step("DeliverSuccess")
    assert step.status is OperationStatus.FAILED
    assert step.attempt == 1  # not transient: no retry
    assert result.error is not None
    assert "refused the record" in str(result.error.message)


# ---------------------------------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "PutEvents"), True),
        (ClientError({"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "Publish"), True),
        (EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com"), True),
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage"), False),
    ],
)
def test_throttling_server_and_connection_errors_are_transient(error: Exception, transient: bool) -> None:
    classified = delivery._classified(durable_routes.Delivery("sqs", "q"), error)
    assert isinstance(classified, delivery.TransientDeliveryError) is transient
    retry = durable_routes.execution.DELIVERY_STEP.retry_strategy
    assert retry is not None
    assert retry(classified, 1).should_retry is transient
    assert not retry(classified, 7).should_retry  # 6 retries at most


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "must be JSON"),
        ("[]", "JSON object"),
        ('{"service": "ftp", "target": "x"}', "one of sqs"),
        ('{"service": "sqs"}', "needs a target"),
        ('{"service": "sqs", "target": "q", "payload": "all"}', "'record' or 'response'"),
    ],
)
def test_a_malformed_route_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        durable_routes.Delivery.from_json(text)


# ------------------------------------------------------------------------------------------------ status records

# AWS's example "Durable Execution Status Change" event
# (https://docs.aws.amazon.com/lambda/latest/dg/durable-monitoring.html), with the status and endTimestamp of a
# timed-out execution ("For terminal states ... the event includes an endTimestamp field").
STATUS_DETAIL = {
    "durableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST/durable-execution/"
    "090c4189-b18b-4296-9d0c-cfd01dc3a122/9f7d84c9-ea3d-3ffc-b3e5-5ec51c34ffc9",
    "durableExecutionName": "order-123",
    "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:2",
    "status": "TIMED_OUT",
    "startTimestamp": "2025-11-20T13:08:22.345Z",
    "endTimestamp": "2025-11-21T13:08:22.345Z",
}


def test_a_timed_out_executions_record_takes_its_input_from_get_durable_execution() -> None:
    """The docs are ambiguous about which ARN names the version that ran: AWS's example event qualifies
    durableExecutionArn with $LATEST and functionArn with 2. The record follows the execution ARN, whose documented
    pattern (API_Execution: function:name:($LATEST|[0-9]+)/durable-execution/...) names the version that runs it,
    and is the ARN the in-code record uses as its requestId."""
    from durable_routes import status

    execution = {
        "DurableExecutionArn": STATUS_DETAIL["durableExecutionArn"],
        "InputPayload": '{"orderId": "o-1"}',
        "Status": "TIMED_OUT",
        "Error": {"ErrorMessage": "Execution timed out after 3600 seconds."},
    }
    record = status.status_record(STATUS_DETAIL, execution, time="2025-11-21T13:08:23Z")

    assert record["requestContext"] == {
        "requestId": STATUS_DETAIL["durableExecutionArn"],
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
        "condition": "TimedOut",
        "approximateInvokeCount": 1,
    }
    assert record["timestamp"] == "2025-11-21T13:08:22.345Z"  # when it ended, not when the event was handled
    assert record["requestPayload"] == {"orderId": "o-1"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    # No error type from Lambda: the record names the status as the CloudWatch metric does
    assert record["responsePayload"] == {
        "errorType": "DurableExecutionTimedOut",
        "errorMessage": "Execution timed out after 3600 seconds.",
    }
    parsed = parse_execution_record(json.dumps(record))
    assert parsed.request_context.condition == "TimedOut"


def test_a_stopped_executions_record_keeps_the_error_its_stopper_gave_and_input_that_is_not_json() -> None:
    from durable_routes import status

    detail = {**STATUS_DETAIL, "status": "STOPPED", "durableExecutionArn": "not-an-arn", "endTimestamp": None}
    execution = {"InputPayload": "plain text", "Error": {"ErrorType": "OrderCancelled", "ErrorMessage": "cancelled"}}
    record = status.status_record(detail, execution, time="2025-11-21T13:08:23Z")

    assert record["requestContext"]["condition"] == "Aborted"
    assert record["requestContext"]["functionArn"] == STATUS_DETAIL["functionArn"]  # the event's, without a better
    assert record["responseContext"]["executedVersion"] == "2"
    assert record["timestamp"] == "2025-11-21T13:08:23Z"
    assert record["requestPayload"] == "plain text"
    assert record["responsePayload"] == {"errorType": "OrderCancelled", "errorMessage": "cancelled"}


@pytest.mark.parametrize(
    "event",
    [
        {"detail": {**STATUS_DETAIL, "status": "SUCCEEDED"}},  # the function's code delivered its record
        {"detail": {**STATUS_DETAIL, "status": "RUNNING"}},
        {"detail": {"status": "TIMED_OUT"}},
        {"source": "aws.lambda"},
    ],
)
def test_the_status_handler_refuses_an_event_that_has_no_failure_record(event: dict[str, Any]) -> None:
    from durable_routes import status

    with pytest.raises(status.StatusEventError):
        status.handler(event, None)
