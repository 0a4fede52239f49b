"""Step Functions executions, run from the synthesized definition: the context object and error names."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
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
