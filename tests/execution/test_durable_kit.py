"""The kit runs durable functions (``DurableConfig`` in the template) through AWS's durable testing SDK: replays as
invocations of the function, waits and retry delays in virtual time, routes delivered through the kit with the
function's role, and the DLQ for executions that did not succeed."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import SnsEventSource

from constructs_lib import DurableFunction, QueueRoute
from constructs_lib.testing import KitError, LocalKit

pytestmark = pytest.mark.execution

RUNTIME = lambda_.Runtime.PYTHON_3_14

ORDER = """
import os

import boto3
from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from durable_routes import routed_durable_execution

ATTEMPTS = {}


class OrderRejectedError(Exception):
    pass


def flaky(order_id, failures):
    def reserve(step_context):
        ATTEMPTS[order_id] = ATTEMPTS.get(order_id, 0) + 1
        if ATTEMPTS[order_id] <= failures:
            raise ConnectionError(f"stock service unavailable ({ATTEMPTS[order_id]})")
        return {"orderId": order_id, "reserved": True}
    return reserve


RETRY = StepConfig(retry_strategy=create_retry_strategy(RetryStrategyConfig(
    max_attempts=3, initial_delay=Duration.from_seconds(10), backoff_rate=2, jitter_strategy=JitterStrategy.NONE)))


@routed_durable_execution
def handler(event, context: DurableContext):
    order_id = event["orderId"]
    if event.get("reject"):
        raise OrderRejectedError(f"order {order_id} rejected")
    reserved = context.step(flaky(order_id, event.get("failures", 0)), name="Reserve", config=RETRY)
    context.wait(Duration.from_days(event.get("days", 1)), name="Settle")
    # Branches run in the SDK's worker threads: they see the function's environment.
    regions = context.parallel(
        [lambda ctx: os.environ.get("STAGE"), lambda ctx: os.environ.get("AWS_LAMBDA_FUNCTION_NAME")], name="Fan"
    ).get_results()
    if event.get("peek"):
        # A call the role was not granted, made in a step (a worker thread): refused as on AWS.
        context.step(lambda _: boto3.client("sqs").send_message(QueueUrl=event["peek"], MessageBody="x"), name="Peek")
    return {"orderId": order_id, "reserved": reserved["reserved"], "seen": regions}
"""


def orders(stack: cdk.Stack, **props: Any) -> DurableFunction:
    options: dict[str, Any] = {"on_success": QueueRoute(), "execution_timeout": Duration.days(7), **props}
    return DurableFunction(
        stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=RUNTIME,
            handler="index.handler",
            code=lambda_.Code.from_inline(ORDER),
            environment={"STAGE": "test"},
            timeout=Duration.seconds(30),
        ),
        **options,
    )


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


def test_a_durable_execution_runs_to_its_end_with_a_day_long_wait_not_slept(kit_stack: cdk.Stack) -> None:
    # Asynchronously: a synchronous invoke waits 15 minutes at most (see the next test).
    orders(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Orders/Function", {"orderId": "o-1", "days": 1}, qualifier="live")
        (execution,) = kit.durable_executions("Orders/Function")
        (record,) = kit.messages("Orders/OnSuccessQueue")
        function_ref, function_arn = kit.ref("Orders/Function"), kit.arn("Orders/Function")

    assert outcome.condition == "Success"
    assert execution.output["orderId"] == "o-1"
    assert execution.output["reserved"] is True
    stage, function_name = execution.output["seen"]
    assert stage == "test"
    assert function_name == function_ref
    assert execution.status == "SUCCEEDED"
    assert execution.operation_names == ["Reserve", "Settle", "Fan", "DeliverSuccess"]
    assert execution.version == "1"
    assert execution.qualifier == "live"
    assert execution.invocations == 2  # the first stops at the wait; the second replays and goes on
    assert execution.virtual_seconds >= 86400  # a day of virtual time: the wait is skipped, not slept
    assert record["responsePayload"] == execution.output
    # Each replay is invoked with the version the alias resolved to when the execution started.
    assert record["requestContext"]["functionArn"] == f"{function_arn}:1"
    assert execution.execution_arn.startswith(f"{function_arn}:1/durable-execution/")


def test_a_synchronous_invoke_waits_fifteen_minutes_at_most_then_the_execution_times_out(kit_stack: cdk.Stack) -> None:
    """ "Synchronous invocations of durable Lambda functions are limited to 15 minutes"
    (https://docs.aws.amazon.com/lambda/latest/dg/durable-invocation.html, and durable-invoking.html: "or less if the
    function timeout or execution timeout is lower"); for an event source mapping "if the total durable execution
    time exceeds 15 minutes, the execution times out and fails" and the mapping "receives a timeout exception"
    (https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking-esm.html). The docs name no error code for the
    caller: the kit times the execution out (TIMED_OUT) at 15 minutes of virtual time, and the invoke fails with
    the execution's error, so its failure record comes from the status-change event as for any timeout."""
    orders(kit_stack)  # execution_timeout: 7 days
    with LocalKit.from_stack(kit_stack) as kit:
        invocation = kit.invoke("Orders/Function", {"orderId": "o-10", "days": 1}, qualifier="live")
        (execution,) = kit.durable_executions()
        (failure,) = kit.messages("Orders/OnFailureQueue")
        success = kit.messages("Orders/OnSuccessQueue")

    assert not invocation.succeeded
    assert invocation.error_message == "Execution timed out after 900 seconds."
    assert execution.status == "TIMED_OUT"
    assert "Fan" not in execution.operation_names  # it never got past the day's wait
    assert success == []
    assert failure["requestContext"]["condition"] == "TimedOut"
    assert failure["requestPayload"] == {"orderId": "o-10", "days": 1}


def test_a_failed_step_is_retried_after_its_backoff_in_virtual_time(kit_stack: cdk.Stack) -> None:
    orders(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        kit.invoke_async("Orders/Function", {"orderId": "o-2", "failures": 2}, qualifier="live")
        (execution,) = kit.durable_executions()

    assert execution.succeeded
    assert execution.operation("Reserve").attempt == 3
    assert execution.virtual_seconds >= 10 + 20 + 86400  # two backoffs (10 s, then 20 s) and the day's wait


def test_an_unqualified_invoke_of_a_durable_function_is_refused(kit_stack: cdk.Stack) -> None:
    orders(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        with pytest.raises(KitError, match="unqualified ARN"):
            kit.invoke("Orders/Function", {"orderId": "o-3"})
        with pytest.raises(kit.client("lambda").exceptions.InvalidParameterValueException):
            kit.client("lambda").invoke(FunctionName=kit.ref("Orders/Function"), Payload=b"{}")
        # A ten-minute wait: a synchronous invoke waits 15 minutes at most.
        answer = kit.client("lambda").invoke(
            FunctionName=kit.arn("Orders/Alias"),
            Payload=json.dumps({"orderId": "o-3", "days": 600 / 86400}).encode(),
            InvocationType="RequestResponse",
        )
        assert "FunctionError" not in answer
        assert kit.durable_executions()[-1].succeeded


def test_a_failed_async_execution_sends_its_event_to_the_dead_letter_queue(kit_stack: cdk.Stack) -> None:
    orders(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Orders/Function", {"orderId": "o-4", "reject": True}, qualifier="live")
        dead = kit.messages("Orders/DeadLetterQueue")
        failures = kit.messages("Orders/OnFailureQueue")

    assert outcome.condition == "RetriesExhausted"
    assert len(outcome.attempts) == 1  # Lambda does not retry a durable execution
    assert dead == [{"orderId": "o-4", "reject": True}]
    (record,) = failures
    assert record["responsePayload"]["errorType"] == "OrderRejectedError"


def test_an_execution_past_its_timeout_times_out_and_its_event_goes_to_the_dead_letter_queue(
    kit_stack: cdk.Stack,
) -> None:
    orders(kit_stack, execution_timeout=Duration.hours(1))
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Orders/Function", {"orderId": "o-5", "days": 1}, qualifier="live")
        (execution,) = kit.durable_executions()
        dead = kit.messages("Orders/DeadLetterQueue")
        failures = kit.messages("Orders/OnFailureQueue")
        function_arn = kit.arn("Orders/Function")

    assert execution.status == "TIMED_OUT"
    assert outcome.condition == "RetriesExhausted"
    assert dead == [{"orderId": "o-5", "days": 1}]
    assert "DeliverFailure" not in execution.operation_names  # in-code delivery cannot see a timeout
    # The status-change event's rule delivers the failure record instead, with the input GetDurableExecution gives.
    (record,) = failures
    assert record["requestContext"] == {
        "requestId": execution.execution_arn,
        "functionArn": f"{function_arn}:1",
        "condition": "TimedOut",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"orderId": "o-5", "days": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "Execution timed out after 3600 seconds."


def test_the_kit_puts_a_status_change_event_on_the_default_bus_when_an_execution_starts_and_ends(
    kit_stack: cdk.Stack,
) -> None:
    """Source aws.lambda, detail type "Durable Execution Status Change", detail durableExecutionArn,
    durableExecutionName, functionArn, status, startTimestamp and, for a terminal status, endTimestamp
    (https://docs.aws.amazon.com/lambda/latest/dg/durable-monitoring.html)."""
    orders(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        kit.invoke_async("Orders/Function", {"orderId": "o-11"}, qualifier="live")
        (execution,) = kit.durable_executions()
        events = [
            d for d in kit.deliveries("default") if d.attributes["detail_type"] == "Durable Execution Status Change"
        ]
        function_arn = kit.arn("Orders/Function")

    assert {event.attributes["source"] for event in events} == {"aws.lambda"}
    running, ended = (event.payload for event in events)
    assert running["status"] == "RUNNING"
    assert "endTimestamp" not in running
    assert ended["status"] == "SUCCEEDED"
    assert ended["durableExecutionArn"] == running["durableExecutionArn"] == execution.execution_arn
    assert ended["functionArn"] == f"{function_arn}:1"
    assert ended["startTimestamp"] < ended["endTimestamp"]  # a day apart, in virtual time


def test_the_status_records_function_reads_the_execution_only_with_its_grant(kit_stack: cdk.Stack) -> None:
    durable = orders(kit_stack, execution_timeout=Duration.hours(1))
    durable.status_records.node.try_remove_child("ReadExecutionsPolicy")
    with LocalKit.from_stack(kit_stack) as kit:
        kit.invoke_async("Orders/Function", {"orderId": "o-12", "days": 1}, qualifier="live")
        failures = kit.messages("Orders/OnFailureQueue")
        dead = kit.messages("Orders/StatusFailures/DeadLetterQueue")
        denials = kit.denials

    assert failures == []
    assert {(denial.action, denial.via) for denial in denials} == {("lambda:GetDurableExecution", "handler")}
    (event,) = dead  # the status-change event, after the function's asynchronous retries
    assert event["detail"]["status"] == "TIMED_OUT"


def test_the_functions_calls_in_the_sdks_worker_threads_are_made_with_its_role(kit_stack: cdk.Stack) -> None:
    orders(kit_stack)
    other = sqs.Queue(kit_stack, "NotGranted")
    with LocalKit.from_stack(kit_stack) as kit:
        url = kit.ref("NotGranted")
        kit.invoke_async("Orders/Function", {"orderId": "o-6", "peek": url}, qualifier="live")
        (execution,) = kit.durable_executions()
        denials = kit.denials

    assert other is not None
    assert execution.status == "FAILED"
    assert denials  # one per attempt of the Peek step (the SDK's default retry strategy retries it)
    assert {(denial.action, denial.via) for denial in denials} == {("sqs:SendMessage", "handler")}
    assert all("OrdersFunctionServiceRole" in denial.principal_arn for denial in denials)


def test_a_role_without_the_checkpoint_grant_fails_the_execution(kit_stack: cdk.Stack) -> None:
    durable = orders(kit_stack)
    # Take the checkpoint policy off the role: the function can no longer read or write its checkpoints.
    kit_stack.node.find_child("Orders").node.try_remove_child("CheckpointPolicy")
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Orders/Function", {"orderId": "o-7"}, qualifier="live")
        (execution,) = kit.durable_executions()
        denials = kit.denials

    assert durable is not None
    assert execution.status == "FAILED"
    assert execution.error_type == "AccessDeniedException"
    assert outcome.condition == "RetriesExhausted"
    assert {denial.action for denial in denials} == {"lambda:CheckpointDurableExecution"}


def test_sns_invokes_the_alias_it_is_subscribed_with_and_not_the_unqualified_function(kit_stack: cdk.Stack) -> None:
    """SNS invokes the endpoint it was given; the permission CDK adds for an alias subscription is in the alias's
    policy (Lambda keeps a resource policy per qualifier), and an unqualified durable invoke is refused."""
    durable = orders(kit_stack)
    durable.add_event_source(SnsEventSource(sns.Topic(kit_stack, "Orders2")))
    sns.Topic(kit_stack, "Unqualified").add_subscription(subscriptions.LambdaSubscription(durable.function))
    with LocalKit.from_stack(kit_stack) as kit:
        kit.publish("Orders2", {"orderId": "o-8"})
        kit.publish("Unqualified", {"orderId": "o-9"})
        executions = kit.durable_executions()
        warnings, denials = kit.warnings, kit.denials

    (execution,) = executions
    assert execution.qualifier == "live"
    assert execution.version == "1"
    assert denials == []
    assert any("unqualified ARN" in warning for warning in warnings)


APPROVAL = """
from aws_durable_execution_sdk_python import DurableContext
from durable_routes import routed_durable_execution


@routed_durable_execution
def handler(event, context: DurableContext):
    callback = context.create_callback(name="Approval")
    return {"orderId": event["orderId"], "approval": callback.result()}
"""


def test_a_stopped_execution_sends_an_aborted_failure_record(kit_stack: cdk.Stack) -> None:
    """StopDurableExecution ends a running execution as STOPPED, with the error the caller gives
    (https://docs.aws.amazon.com/lambda/latest/api/API_StopDurableExecution.html); its status-change event carries
    no input, so the record's comes from GetDurableExecution."""
    DurableFunction(
        kit_stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(APPROVAL)
        ),
        execution_timeout=Duration.days(7),
    )
    with LocalKit.from_stack(kit_stack) as kit:
        # The execution waits for an approval nobody sends; the test stops it, as an operator would, meanwhile.
        starter = threading.Thread(
            target=kit.invoke_async, args=("Orders/Function", {"orderId": "o-13"}), kwargs={"qualifier": "live"}
        )
        starter.start()
        running = _first_status_event(kit, "RUNNING")
        stopped = kit.client("lambda").stop_durable_execution(
            DurableExecutionArn=running["durableExecutionArn"],
            Error={"ErrorType": "OrderCancelled", "ErrorMessage": "the customer cancelled o-13"},
        )
        starter.join()
        described = kit.client("lambda").get_durable_execution(DurableExecutionArn=running["durableExecutionArn"])
        (execution,) = kit.durable_executions()
        (record,) = kit.messages("Orders/OnFailureQueue")
        with pytest.raises(kit.client("lambda").exceptions.ResourceNotFoundException):
            kit.client("lambda").get_durable_execution(
                DurableExecutionArn=f"{running['functionArn']}/durable-execution/a/b"
            )

    assert "StopTimestamp" in stopped
    assert execution.status == "STOPPED"
    assert described["Status"] == "STOPPED"
    assert json.loads(described["InputPayload"]) == {"orderId": "o-13"}
    assert record["requestContext"]["condition"] == "Aborted"
    assert record["requestContext"]["requestId"] == execution.execution_arn
    assert record["requestPayload"] == {"orderId": "o-13"}
    assert record["responsePayload"] == {"errorType": "OrderCancelled", "errorMessage": "the customer cancelled o-13"}


def _first_status_event(kit: LocalKit, status: str) -> dict[str, Any]:
    """The detail of the first status-change event with ``status`` on the default bus, once the kit put it."""
    for _ in range(600):  # a bound, not a timing: each round yields to the thread that runs the execution
        for delivery in kit.deliveries("default"):
            kind = delivery.attributes["detail_type"]
            if kind == "Durable Execution Status Change" and delivery.payload["status"] == status:
                return dict(delivery.payload)
        time.sleep(0.05)
    raise AssertionError(f"no {status} status-change event")
