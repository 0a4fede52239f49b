"""Step Functions executions, run from the synthesized definition: the context object and error names, and how
errors travel out of Parallel branches, Map iterations and Fail states."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import SLOW_FAILING, inline

pytestmark = pytest.mark.execution

AWS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


def test_context_object_times_are_in_aws_format(kit_stack: cdk.Stack) -> None:
    """Step Functions: $$.State.EnteredTime and $$.Execution.StartTime are ISO 8601 UTC times with milliseconds.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
    Kit: both as executions on AWS show them, ``2019-03-26T20:14:13.192Z`` (moto writes Python's ``+00:00`` form).
    Divergence: the docs are ambiguous: they say only "ISO 8601"; the kit follows the values AWS executions show.
    """
    look = sfn.Pass(
        kit_stack,
        "Look",
        parameters={
            "entered.$": "$$.State.EnteredTime",
            "start.$": "$$.Execution.StartTime",
            "name.$": "$$.State.Name",
        },
    )
    sfn.StateMachine(kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(look))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {})

    assert result.succeeded, result.cause
    assert result.output["name"] == "Look"
    assert AWS_TIME.match(result.output["entered"]), result.output
    assert AWS_TIME.match(result.output["start"]), result.output
    assert result.output["start"] <= result.output["entered"]


def test_a_lambda_timeout_seen_by_a_task_is_sandbox_timedout(kit_stack: cdk.Stack) -> None:
    """Step Functions: a Lambda task whose function times out fails with the runtime's timeout error.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/sfn-best-practices.html
    Kit: the task fails with Sandbox.Timedout, what current Lambda runtimes report.
    Divergence: the docs are ambiguous: the best-practices page (and events seen with older runtimes) name the
        error Lambda.Unknown; a Retry or Catch meant for timeouts should list both names.
    """
    slow = inline(kit_stack, "Slow", SLOW_FAILING, timeout=Duration.seconds(1))
    call = tasks.LambdaInvoke(
        kit_stack, "CallSlow", lambda_function=slow, payload=sfn.TaskInput.from_object({"sleep": 1.5})
    )
    sfn.StateMachine(kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(call))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {})

    assert result.status == "FAILED"
    assert result.error == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in str(result.cause)


SLOW = """
import time

def handler(event, context):
    time.sleep(1.3)
    return event
"""


def slow_task(stack: cdk.Stack, name: str) -> tasks.LambdaInvoke:
    """A Lambda task that runs past its 1-second TimeoutSeconds: Step Functions fails it with States.Timeout."""
    function = lambda_.Function(
        stack,
        f"{name}Fn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(SLOW),
        timeout=Duration.seconds(10),
    )
    return tasks.LambdaInvoke(
        stack,
        name,
        lambda_function=function,
        payload_response_only=True,
        retry_on_service_exceptions=False,
        task_timeout=sfn.Timeout.duration(Duration.seconds(1)),
    )


def machine(stack: cdk.Stack, name: str, definition: sfn.IChainable) -> None:
    sfn.StateMachine(stack, name, definition_body=sfn.DefinitionBody.from_chainable(definition))


def test_a_states_error_in_a_parallel_branch_is_retried_and_caught_by_its_name(plain_app: cdk.App) -> None:
    """Step Functions: a branch that fails fails the whole Parallel state with the branch's error, States.* names
    included, which the Parallel's Retry and Catch match by name.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html
    Kit: the Parallel fails with the branch's error name and cause (moto refused States.* names there and raised
    States.Runtime with a Python exception as cause); its retriers and catchers match that name.
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Branches")
    parallel = sfn.Parallel(stack, "Both").branch(slow_task(stack, "Slow")).branch(sfn.Pass(stack, "Quick"))
    parallel.add_retry(errors=["States.Timeout"], interval=Duration.seconds(1), max_attempts=1)
    parallel.add_catch(sfn.Pass(stack, "Caught"), errors=["States.Timeout"], result_path="$.error")
    machine(stack, "Machine", parallel)
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Machine", {"orderId": "o-1"})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["error"]["Error"] == "States.Timeout"
    assert "Error" not in result.output["error"]["Cause"]  # no Python exception as the cause
    assert result.states_entered.count("Slow") == 2  # the retrier on States.Timeout ran the Parallel again
    assert "Caught" in result.states_entered


def test_a_states_error_in_a_map_iteration_ends_the_execution_with_its_name(plain_app: cdk.App) -> None:
    """Step Functions: an iteration that fails fails the Map state with the iteration's error, and an error no
    Catch handles ends the execution with that error name.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
    Kit: the Map fails with the iteration's error name (moto refused States.* names there, so the execution ended
    with States.Runtime and a Python exception as cause), and the execution ends FAILED with it.
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Iterations")
    each = sfn.Map(stack, "Each", items_path="$.items")
    each.item_processor(slow_task(stack, "Slow"))
    machine(stack, "Machine", each)
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Machine", {"items": [1]})

    assert (result.status, result.error) == ("FAILED", "States.Timeout"), result.cause


def test_a_fail_state_ends_the_execution_with_the_error_its_error_path_selects(plain_app: cdk.App) -> None:
    """Step Functions: a Fail state's ErrorPath and CausePath select the execution's error and cause from its
    input, so a caught error can be re-raised at the end of a failure path.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html
    Kit: the execution ends FAILED with the selected error and cause, a States.* name included (moto refused a
    States.* name there and ended the execution with States.Runtime).
    Divergence: the docs are ambiguous: the Fail state's page sets no rule on the name ErrorPath selects, while the
    Amazon States Language reserves the States. prefix for errors Step Functions raises; the kit keeps the name, as
    a workflow that re-raises a caught States.Timeout needs.
    """
    stack = cdk.Stack(plain_app, "Reraise")
    caught = sfn.Pass(
        stack, "Caught", result=sfn.Result.from_object({"Error": "States.Timeout", "Cause": "the task ran too long"})
    )
    machine(stack, "Machine", caught.next(sfn.Fail(stack, "Failed", error_path="$.Error", cause_path="$.Cause")))
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Machine", {})

    assert (result.status, result.error, result.cause) == ("FAILED", "States.Timeout", "the task ran too long")
