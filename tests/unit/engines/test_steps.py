"""Steps render and check themselves: a step class of one's own works in a FunctionWorkflow like the library's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from constructs_lib import (
    BucketRoute,
    ConstructPropsError,
    Deliver,
    DestinedFunction,
    EventBusRoute,
    FunctionWorkflow,
    Invoke,
    RetryRule,
    Step,
)
from constructs_lib._internal.validation import Problems
from constructs_lib.engines.steps import StepRenderer
from tests.conftest import echo_function, workflow_definitions


@dataclass(frozen=True)
class Pause(Step):
    """A step of the user's own: wait ``seconds`` before the next step."""

    name: str
    seconds: int
    retries: Sequence[RetryRule] = ()
    needs: ClassVar[str] = "a pause between steps"

    def render(self, renderer: StepRenderer, catch: sfn.IChainable | None) -> sfn.IChainable:
        return sfn.Wait(renderer.scope, self.name, time=sfn.WaitTime.duration(cdk.Duration.seconds(self.seconds)))

    def check(self, problems: Problems, names: list[str]) -> None:
        super().check(problems, names)
        if self.seconds < 1:
            problems.add(f"{self.where}: a Pause waits 1 second or more, got {self.seconds}")


def definition(template: Template) -> dict[str, Any]:
    (found,) = workflow_definitions(template.to_json()).values()
    return found


def test_a_step_of_ones_own_renders_between_the_librarys(stack: cdk.Stack) -> None:
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Invoke("First", echo_function(stack, "A")),
            Pause("Cool", 30),
            Invoke("Second", echo_function(stack, "B")),
        ],
    )
    states = definition(Template.from_stack(stack))["States"]
    assert states["First"]["Next"] == "Cool"
    assert states["Cool"] == {"Type": "Wait", "Seconds": 30, "Next": "Second"}


def test_a_step_of_ones_own_checks_itself_and_its_name_counts(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as error:
        FunctionWorkflow(stack, "Flow", steps=[Pause("Cool", 0), Invoke("Cool", echo_function(stack))])
    problems = error.value.problems
    assert "step 'Cool': a Pause waits 1 second or more, got 0" in problems
    assert "step names must be unique in a workflow (they are state names), repeated: ['Cool']" in problems


def test_destinations_refuse_a_step_of_ones_own_with_what_it_needs(stack: cdk.Stack) -> None:
    function = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    with pytest.raises(ConstructPropsError, match=r"a pause between steps \('Cool'\) needs an orchestrator"):
        DestinedFunction(stack, "Destined", function=function, steps=[Pause("Cool", 5)])


def test_deliver_sends_the_state_to_a_route_between_steps(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Invoke("Price", echo_function(stack, "A")),
            Deliver("Announce", EventBusRoute(), path="$.quote"),
            Invoke("Book", echo_function(stack, "B")),
        ],
    )
    states = definition(Template.from_stack(stack))["States"]  # cdk-nag runs here
    announce = states["Announce"]
    assert announce["Resource"] == "arn:aws:states:::events:putEvents"
    (entry,) = announce["Parameters"]["Entries"]
    assert entry["Detail.$"] == "$.quote"
    assert entry["DetailType"] == "Announce"  # the step's name unless detail_type is given
    assert announce["ResultPath"] is None  # the state goes on unchanged
    assert announce["Next"] == "Book"
    assert announce["Catch"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$",
            "Assign": {"recordInvokeCount.$": "States.MathAdd($$.State.RetryCount, 1)"},
            "Next": "BuildFailureRecord",
        }
    ]
    assert workflow.node.try_find_child("AnnounceBus") is not None  # the route's bus, made in the workflow


def test_deliver_checks_its_route_and_path(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as error:
        FunctionWorkflow(
            stack,
            "Flow",
            steps=[Invoke("Price", echo_function(stack)), Deliver("Keep", BucketRoute(), path="quote")],
        )
    problems = "\n".join(error.value.problems)
    assert "step 'Keep': an S3 bucket can only receive failures" in problems
    assert "step 'Keep': path must be a JSONPath into the state (e.g. '$' or '$.result'), got 'quote'" in problems
