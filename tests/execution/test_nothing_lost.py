"""Nothing lost: a Standard workflow's executions that time out or are aborted still deliver their failure record
(through their status-change events), and a throttled delivery state is retried, run through the local kit."""

from __future__ import annotations

import json
import time
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from constructs_lib import BucketRoute, FunctionWorkflow, QueueRoute, Route, parse_execution_record
from constructs_lib.records import Condition
from constructs_lib.testing import LocalKit, ServiceError

pytestmark = pytest.mark.execution

ORDER = {"orderId": "o-1001", "quantity": 3}


def workflow(
    app: cdk.App, name: str, *, sleep: float = 0, fail: bool = False, timeout: int = 60, on_failure: Route | None = None
) -> cdk.Stack:
    """A one-function Standard workflow whose function sleeps ``sleep`` seconds (real time), then fails or echoes."""
    stack = cdk.Stack(app, name)
    body = f"import time\n\ndef handler(event, context):\n    time.sleep({sleep})\n"
    body += "    raise ValueError('no stock')\n" if fail else "    return event\n"
    function = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(body),
        timeout=Duration.seconds(30),
    )
    FunctionWorkflow(
        stack, "Flow", function=function, on_failure=on_failure or QueueRoute(), timeout=Duration.seconds(timeout)
    )
    return stack


def running_the_task(client: Any, execution_arn: str) -> None:
    """Wait (real time) until the execution has started its function: a StopExecution then aborts it mid-task."""
    for _ in range(500):
        events = client.get_execution_history(executionArn=execution_arn)["events"]
        if any(event["type"] in ("TaskStarted", "LambdaFunctionStarted") for event in events):
            return
        time.sleep(0.01)
    raise AssertionError(f"{execution_arn} never started its task")


def only_record(kit: LocalKit) -> Any:
    (message,) = kit.messages("Flow/OnFailureQueue")
    return message


def test_a_timed_out_execution_delivers_its_failure_record(plain_app: cdk.App) -> None:
    stack = workflow(plain_app, "TimedOut", sleep=3, timeout=1)
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", ORDER, name="order-1001")
        assert result.status == "TIMED_OUT"
        message = only_record(kit)
    record = parse_execution_record(message)
    assert record.request_context.condition is Condition.TIMED_OUT
    assert record.request_context.request_id == "order-1001"
    assert record.request_payload == ORDER
    assert message["responsePayload"]["errorType"] == "States.Timeout"
    assert (
        message["requestContext"]["functionArn"]
        == result.execution_arn.replace(":execution:", ":stateMachine:")[: -len(":order-1001")]
    )


def test_a_timed_out_execution_with_an_input_past_248_kb_still_delivers_its_record(plain_app: cdk.App) -> None:
    """The status event leaves such an input out (https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html):
    the record arrives with a null requestPayload. AWS does not document ``States.StringToJson`` of null, so the
    record machine sets the text ``"null"`` itself (state InputLeftOut) rather than rely on it."""
    stack = workflow(plain_app, "TimedOutLarge", sleep=3, timeout=1)
    large = {"orderId": "o-1003", "lines": "x" * 250 * 1024}
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", large, name="order-1003")
        assert result.status == "TIMED_OUT"
        message = only_record(kit)
        (delivery,) = kit.executions("Flow/StatusFailures/StateMachine")
    assert delivery.states_entered[:2] == ["InputIncluded", "InputLeftOut"]
    record = parse_execution_record(message)
    assert record.request_context.condition is Condition.TIMED_OUT
    assert record.request_context.request_id == "order-1003"
    assert record.request_payload is None


def test_a_timed_out_executions_record_in_a_bucket_is_named_for_that_execution(plain_app: cdk.App) -> None:
    """``failures/<execution name>.json``, as the routes page promises: the name of the execution that timed out,
    not of the Express execution that delivered its record."""
    stack = workflow(plain_app, "TimedOutToBucket", sleep=3, timeout=1, on_failure=BucketRoute())
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", ORDER, name="order-1002")
        assert result.status == "TIMED_OUT"
        objects = kit.objects("Flow/OnFailureBucket")
    assert list(objects) == ["failures/order-1002.json"]
    record = parse_execution_record(json.loads(objects["failures/order-1002.json"]))
    assert record.request_context.condition is Condition.TIMED_OUT


def test_an_aborted_execution_delivers_its_failure_record(plain_app: cdk.App) -> None:
    stack = workflow(plain_app, "Aborted", sleep=2)
    with LocalKit.from_stack(stack) as kit:
        client = kit.client("stepfunctions")
        started = client.start_execution(
            stateMachineArn=kit.ref("Flow/StateMachine"), name="order-1002", input=json.dumps(ORDER)
        )
        running_the_task(client, started["executionArn"])
        client.stop_execution(executionArn=started["executionArn"], error="Cancelled", cause="the customer cancelled")
        kit.settle()
        assert kit.execution(started["executionArn"]).status == "ABORTED"
        message = only_record(kit)
    record = parse_execution_record(message)
    assert record.request_context.condition is Condition.ABORTED
    assert record.request_payload == ORDER
    assert message["responsePayload"]["errorType"] == "States.Aborted"


def test_a_failed_execution_delivers_one_record_the_status_rule_leaves_it_alone(plain_app: cdk.App) -> None:
    stack = workflow(plain_app, "Failed", fail=True)
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", ORDER)
        assert result.status == "FAILED"
        record = parse_execution_record(only_record(kit))
    assert record.request_context.condition is Condition.RETRIES_EXHAUSTED


def test_a_throttled_delivery_is_retried_and_the_record_delivered(plain_app: cdk.App) -> None:
    stack = workflow(plain_app, "Throttled", fail=True)
    calls: list[dict[str, Any]] = []

    def send_message(request: dict[str, Any]) -> dict[str, Any]:
        """SQS throttles the first send; the second reaches the queue (moto's own backend, not a client call)."""
        calls.append(request)
        if len(calls) == 1:
            raise ServiceError("ThrottlingException", "Rate exceeded", 400)
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[kit.stack.account][kit.stack.region]
        queue_name = str(request["QueueUrl"]).rsplit("/", 1)[-1]
        message = backend.send_message(queue_name, request["MessageBody"])
        return {"MessageId": message.id, "MD5OfMessageBody": message.body_md5}

    with LocalKit.from_stack(stack, services={"sqs:SendMessage": send_message}) as kit:
        result = kit.start_execution("Flow/StateMachine", ORDER)
        record = parse_execution_record(only_record(kit))
    assert result.status == "FAILED"
    assert record.request_context.condition is Condition.RETRIES_EXHAUSTED
    assert len(calls) == 2
    assert calls[0]["MessageBody"] == calls[1]["MessageBody"]
    deliver = [
        event["type"]
        for event in result.history
        if event["type"] in ("TaskFailed", "TaskSucceeded", "TaskScheduled") and "sqs" in json.dumps(event).lower()
    ]
    assert deliver[:4] == ["TaskScheduled", "TaskFailed", "TaskScheduled", "TaskSucceeded"]
    assert [w.state for w in result.waits if w.kind == "Retry"] == ["DeliverFailure"]
