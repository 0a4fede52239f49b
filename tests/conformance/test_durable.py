"""Lambda durable functions: how they are invoked, how long an execution may run, and where a failed one goes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from constructs_lib import DurableFunction
from constructs_lib.testing import KitError, LocalKit
from tests.conformance.kit_stacks import RUNTIME

pytestmark = pytest.mark.execution

# One step, then a wait of event["hours"]; raises when event["fail"].
DURABLE = """
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


class OrderRejectedError(Exception):
    pass


@durable_execution
def handler(event, context: DurableContext):
    total = context.step(lambda _: event.get("quantity", 1) * 3, name="Price")
    context.wait(Duration.from_hours(event.get("hours", 1)), name="Settle")
    if event.get("fail"):
        raise OrderRejectedError("rejected")
    return {"total": total}
"""


def durable(stack: cdk.Stack, **props: Any) -> lambda_.Function:
    """A durable function with AWS's own decorator (no routes), its version, an alias ``live`` and a DLQ."""
    made = DurableFunction(
        stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(DURABLE)
        ),
        **props,
    )
    return made.function


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


def test_a_durable_function_is_invoked_with_a_qualified_arn(kit_stack: cdk.Stack) -> None:
    """Durable: a durable function is invoked with a version or an alias; an unqualified ARN is refused.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking.html
    Kit: an unqualified Invoke fails with InvalidParameterValueException ("You cannot invoke a durable function
        using an unqualified ARN."); an alias or version runs.
    Divergence: the docs are ambiguous: the invoking and best-practices pages invoke versions and aliases only and
        name no error; the code and message are those AWS answers, as users report them. DurableConfig.AllowInvokeLatest
        (explicit $LATEST) is not emulated: the kit runs $LATEST when it is named.
    """
    durable(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        lambda_client = kit.client("lambda")
        with pytest.raises(lambda_client.exceptions.InvalidParameterValueException, match="unqualified ARN"):
            lambda_client.invoke(FunctionName=kit.ref("Orders/Function"), Payload=b"{}")
        with pytest.raises(KitError, match="unqualified ARN"):
            kit.invoke("Orders/Function", {})
        # a six-minute wait: a synchronous invoke waits 15 minutes at most
        answer = lambda_client.invoke(FunctionName=kit.arn("Orders/Alias"), Payload=b'{"quantity": 2, "hours": 0.1}')
        body = answer["Payload"].read()

    assert "FunctionError" not in answer
    assert body == b'{"total": 6}'


def test_a_synchronous_invoke_returns_when_the_whole_execution_ends_waits_included(kit_stack: cdk.Stack) -> None:
    """Durable: a synchronous invocation waits for the entire durable execution to complete, its waits included.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking.html
    Kit: the Invoke returns the execution's result after its last replay; the wait is skipped (virtual time) and
        counted in the execution's duration.
    Divergence: none
    """
    durable(kit_stack)
    with LocalKit.from_stack(kit_stack) as kit:
        invocation = kit.invoke("Orders/Function", {"quantity": 5, "hours": 0.2}, qualifier="live")  # 12 minutes
        (execution,) = kit.durable_executions()

    assert invocation.payload == {"total": 15}
    assert execution.invocations == 2
    assert execution.virtual_seconds >= 0.2 * 3600


def test_a_synchronous_invoke_waits_fifteen_minutes_at_most(kit_stack: cdk.Stack) -> None:
    """Durable: synchronous invocations are limited to 15 minutes (or the execution timeout, if lower); an event
    source mapping's durable execution that runs longer "times out and fails".

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking-esm.html
    Kit: an execution started by a synchronous invoke (an API Invoke with RequestResponse, a workflow's Lambda task,
        an event source mapping) ends TIMED_OUT after 15 minutes of virtual time; the invoke fails with its error.
        Started asynchronously, the same execution waits its day and succeeds.
    Divergence: the docs are ambiguous: they name no error code or message for the caller (the ESM page says "a
        timeout exception"; durable-invocation.html and durable-invoking.html state the 15-minute limit only); the
        kit's is the execution's own timeout error. The kit notices the timeout when the
        execution would resume, so its end time is the wait's end.
    """
    durable(kit_stack, execution_timeout=Duration.days(2))
    with LocalKit.from_stack(kit_stack) as kit:
        invocation = kit.invoke("Orders/Function", {"hours": 24}, qualifier="live")
        kit.invoke_async("Orders/Function", {"hours": 24}, qualifier="live")
        synchronous, asynchronous = kit.durable_executions()

    assert not invocation.succeeded
    assert invocation.error_message == "Execution timed out after 900 seconds."
    assert synchronous.status == "TIMED_OUT"
    assert asynchronous.status == "SUCCEEDED"


def test_the_execution_timeout_applies_to_the_whole_execution(kit_stack: cdk.Stack) -> None:
    """Durable: ExecutionTimeout is the longest a durable execution may run, across its invocations and waits.

    AWS: https://docs.aws.amazon.com/lambda/latest/api/API_DurableConfig.html
    Kit: an execution whose virtual time (waits and retry delays included) passes ExecutionTimeout ends TIMED_OUT
        before its next replay.
    Divergence: the kit notices the timeout when the execution would resume (after the wait), so its end time is the
        wait's end, not the deadline itself.
    """
    durable(kit_stack, execution_timeout=Duration.hours(2))
    with LocalKit.from_stack(kit_stack) as kit:
        # Asynchronously: a synchronous invoke would time out after 15 minutes (see above).
        kit.invoke_async("Orders/Function", {"hours": 1}, qualifier="live")
        kit.invoke_async("Orders/Function", {"hours": 3}, qualifier="live")
        within, past = kit.durable_executions()

    assert within.status == "SUCCEEDED"
    assert past.status == "TIMED_OUT"
    assert past.invocations == 1  # never resumed after the wait


@pytest.mark.parametrize(("event", "status"), [({"fail": True}, "FAILED"), ({"hours": 30}, "TIMED_OUT")])
def test_an_async_execution_that_does_not_succeed_sends_its_event_to_the_dead_letter_queue(
    kit_stack: cdk.Stack, event: dict[str, Any], status: str
) -> None:
    """Durable: when an asynchronously invoked execution ends FAILED, STOPPED or TIMED_OUT, Lambda sends its event
    to the function's DLQ.

    AWS: https://docs.aws.amazon.com/lambda/latest/dg/durable-best-practices.html
    Kit: the original event goes to the DeadLetterConfig target with Lambda's RequestID, ErrorCode and ErrorMessage
        attributes, after one execution.
    Divergence: the docs are ambiguous: they do not say whether MaximumRetryAttempts applies to a durable function;
        the kit runs one execution (the durable model retries per step). STOPPED (StopDurableExecution, which the
        kit serves) is not parametrized here: stopping needs an execution that is still running, which
        tests/execution/test_durable_kit.py makes with a callback nobody sends.
    """
    durable(kit_stack, execution_timeout=Duration.days(1))
    with LocalKit.from_stack(kit_stack) as kit:
        outcome = kit.invoke_async("Orders/Function", event, qualifier="live")
        (execution,) = kit.durable_executions()
        dead = kit.messages("Orders/DeadLetterQueue")

    assert execution.status == status
    assert len(outcome.attempts) == 1
    assert dead == [event]
