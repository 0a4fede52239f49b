"""The workflow's data model: where a step's result goes (result_path, result_selector), what it receives (payload,
item_selector), the Pass / Wait / Succeed / Fail steps, and the state machine's name, role and log group."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    Choice,
    ConstructPropsError,
    DestinedFunction,
    Fail,
    ForEach,
    FunctionWorkflow,
    Invoke,
    Parallel,
    Pass,
    QueueRoute,
    Succeed,
    Wait,
)
from constructs_lib.testing import state_machine_definitions, validate_definition
from tests.conftest import echo_function

ECHO_PROPS = lambda_.FunctionProps(
    runtime=lambda_.Runtime.PYTHON_3_14,
    handler="index.handler",
    code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
)


def states_of(stack: cdk.Stack) -> dict[str, Any]:
    """The (only) state machine's states, checked by asl-validator."""
    (name, found), *_ = state_machine_definitions(Template.from_stack(stack).to_json()).items()
    validate_definition(found, name=name)
    states: dict[str, Any] = found["States"]
    return states


def test_invoke_result_path_selector_and_payload(stack: cdk.Stack) -> None:
    charge = echo_function(stack, "Charge")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Invoke(
                "Charge",
                charge,
                payload={"orderId": sfn.JsonPath.string_at("$.orderId"), "amount": sfn.JsonPath.number_at("$.total")},
                result_selector={"status": sfn.JsonPath.string_at("$.status")},
                result_path="$.charge",
            ),
            Invoke("Audit", charge, result_path=sfn.JsonPath.DISCARD),
        ],
    )
    states = states_of(stack)
    assert states["Charge"]["Parameters"] == {"orderId.$": "$.orderId", "amount.$": "$.total"}
    assert states["Charge"]["ResultSelector"] == {"status.$": "$.status"}
    assert states["Charge"]["ResultPath"] == "$.charge"
    assert states["Audit"]["ResultPath"] is None  # DISCARD: the state goes on as it was


def test_an_invoke_with_no_options_replaces_the_state_with_the_result(stack: cdk.Stack) -> None:
    FunctionWorkflow(stack, "Flow", steps=[Invoke("Plain", echo_function(stack, "Fn"))])
    plain = states_of(stack)["Plain"]
    assert "ResultPath" not in plain  # ResultPath "$": the function's result becomes the state
    assert "Parameters" not in plain  # the function receives the whole state


def test_for_each_item_selector_and_parallel_result_path(stack: cdk.Stack) -> None:
    item = echo_function(stack, "Item")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            ForEach(
                "EachLine",
                items_path="$.lines",
                steps=[Invoke("Reserve", item)],
                item_selector={
                    "orderId": sfn.JsonPath.string_at("$.orderId"),
                    "line": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                },
                result_path="$.reservations",
            ),
            Parallel(
                "Both",
                branches=[[Invoke("Left", item)], [Invoke("Right", item)]],
                result_selector={"left": sfn.JsonPath.object_at("$[0]")},
                result_path="$.both",
            ),
        ],
    )
    states = states_of(stack)
    assert states["EachLine"]["ItemSelector"] == {"orderId.$": "$.orderId", "line.$": "$$.Map.Item.Value"}
    assert states["EachLine"]["ResultPath"] == "$.reservations"
    assert states["Both"]["ResultSelector"] == {"left.$": "$[0]"}
    assert states["Both"]["ResultPath"] == "$.both"


def test_pass_and_wait(stack: cdk.Stack) -> None:
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Pass("Defaults", result={"priority": "normal"}, result_path="$.options"),
            Pass("Shape", parameters={"id": sfn.JsonPath.string_at("$.orderId")}),
            Wait("Cool", time=cdk.Duration.minutes(5)),
            Wait("Until", time=sfn.WaitTime.timestamp_path("$.shipAt")),
        ],
    )
    states = states_of(stack)
    assert states["Defaults"] == {
        "Type": "Pass",
        "Result": {"priority": "normal"},
        "ResultPath": "$.options",
        "Next": "Shape",
    }
    assert states["Shape"]["Parameters"] == {"id.$": "$.orderId"}
    assert states["Cool"] == {"Type": "Wait", "Seconds": 300, "Next": "Until"}
    assert states["Until"]["TimestampPath"] == "$.shipAt"


def test_succeed_and_fail_take_the_workflows_own_ends(stack: cdk.Stack) -> None:
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Choice(
                "Route",
                branches=[
                    (sfn.Condition.string_equals("$.status", "SHIPPED"), [Succeed("AlreadyShipped")]),
                    (
                        sfn.Condition.string_equals("$.status", "DECLINED"),
                        [Fail("Declined", error="CardDeclined", cause="the card was declined")],
                    ),
                ],
            ),
            Invoke("Ship", echo_function(stack, "Ship")),
        ],
        on_success=QueueRoute(),
    )
    states = states_of(stack)
    # Succeed: the success record goes to on_success, skipping Ship
    assert states["AlreadyShipped"] == {"Type": "Pass", "Next": "BuildSuccessRecord"}
    # Fail: the error where a caught error goes, then the failure record to on_failure and a FAILED execution
    assert states["Declined"] == {
        "Type": "Pass",
        "Result": {"Error": "CardDeclined", "Cause": "the card was declined"},
        "ResultPath": "$",
        "Assign": {"recordInvokeCount": 1},  # the failure record counts the step that failed
        "Next": "BuildFailureRecord",
    }
    assert states["Route"]["Default"] == "Ship"
    assert states["Ship"]["Next"] == "BuildSuccessRecord"


def test_succeed_and_fail_in_a_branch_end_the_branch(stack: cdk.Stack) -> None:
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Parallel("Both", branches=[[Succeed("LeftDone")], [Fail("RightFailed", error="Nope")]]),
            ForEach("Each", items_path="$.items", steps=[Succeed("ItemDone")]),
        ],
    )
    states = states_of(stack)
    left, right = (branch["States"] for branch in states["Both"]["Branches"])
    assert left == {"LeftDone": {"Type": "Succeed"}}
    assert right == {"RightFailed": {"Type": "Fail", "Error": "Nope"}}
    assert states["Both"]["Catch"][0]["Next"] == "BuildFailureRecord"
    assert states["Each"]["ItemProcessor"]["States"] == {"ItemDone": {"Type": "Succeed"}}


def test_state_machine_name_role_and_log_group(stack: cdk.Stack) -> None:
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/orders-flow", mutable=False)
    log_group = logs.LogGroup(stack, "Logs", retention=logs.RetentionDays.ONE_WEEK)
    flow = FunctionWorkflow(
        stack,
        "Flow",
        function=echo_function(stack, "Fn"),
        state_machine_name="orders-flow",
        role=role,
        log_group=log_group,
    )
    assert flow.role is role
    assert flow.log_group is log_group
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineName": "orders-flow",
            "RoleArn": "arn:aws:iam::123456789012:role/orders-flow",
            "LoggingConfiguration": Match.object_like(
                {
                    "Destinations": [
                        {
                            "CloudWatchLogsLogGroup": {
                                "LogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("Logs"), "Arn"]}
                            }
                        }
                    ]
                }
            ),
        },
    )
    # the function's, the user's and the one of the Express machine that reports timed-out and aborted executions
    template.resource_count_is("AWS::Logs::LogGroup", 3)
    assert not [r for r in template.find_resources("AWS::IAM::Role") if r.startswith("FlowStateMachineRole")]


# ------------------------------------------------------------------------------------------------ rejections


def test_rejects_result_paths_that_are_not_into_the_state(stack: cdk.Stack) -> None:
    fn = echo_function(stack, "Fn")
    with pytest.raises(ConstructPropsError) as error:
        FunctionWorkflow(
            stack,
            "Flow",
            steps=[
                Invoke("A", fn, result_path="charge"),
                Pass("B", result_path="$$.Execution"),
                ForEach("C", items_path="$.items", steps=[Invoke("D", fn)], result_path="items"),
                Parallel("E", branches=[[Invoke("F", fn)]], result_path="x"),
            ],
        )
    problems = error.value.problems
    assert [p.split(":")[0] for p in problems] == ["step 'A'", "step 'B'", "step 'C'", "step 'E'"]
    assert "or sfn.JsonPath.DISCARD (keeps the state as it was), got 'charge'" in problems[0]


def test_rejects_a_pass_with_both_result_and_parameters_and_a_fail_without_error(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError) as error:
        FunctionWorkflow(
            stack,
            "Flow",
            steps=[Pass("A", result={"a": 1}, parameters={"b": 2}), Fail("B", error="")],
        )
    assert "give result= (a fixed value) or parameters= (built from the state), not both" in error.value.problems[0]
    assert "a Fail needs an error name" in error.value.problems[1]


def test_rejects_a_step_after_the_workflow_ended(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="step 'Ship' is never reached"):
        FunctionWorkflow(stack, "Flow", steps=[Succeed("Done"), Invoke("Ship", echo_function(stack, "Fn"))])


@pytest.mark.parametrize(
    ("step", "needs"),
    [
        (Pass("Shape"), "a state shaped between steps"),
        (Wait("Cool", time=cdk.Duration.minutes(1)), "a wait between steps"),
        (Succeed("Done"), "an early end of the workflow"),
        (Fail("No", error="Declined"), "a failure with an error of your own"),
    ],
)
def test_destinations_refuse_the_new_steps_naming_function_workflow(stack: cdk.Stack, step: Any, needs: str) -> None:
    with pytest.raises(ConstructPropsError) as error:
        # A function of its own: echo_function's already has the asynchronous configuration of a DestinedFunction.
        DestinedFunction(stack, "Fn", function_props=ECHO_PROPS, steps=[step])
    (problem,) = error.value.problems
    assert needs in problem
    assert "Use FunctionWorkflow" in problem


def test_the_records_invoke_count_is_set_on_every_way_to_a_record(stack: cdk.Stack) -> None:
    """approximateInvokeCount reads the workflow variable recordInvokeCount: the top-level Invoke, Parallel and
    ForEach set it to their attempts when they succeed and in their Catch; steps inside a Parallel branch or a
    ForEach do not (a variable assigned there is not seen outside it); a workflow whose first step does not set it
    starts with a Pass that sets 1, so that a record never reads it unset."""
    echo = echo_function(stack, "Echo")
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Pass("Shape"),
            Parallel("Both", branches=[[Invoke("Left", echo)], [Invoke("Right", echo)]]),
            ForEach("Each", items_path="$", steps=[Invoke("Item", echo)]),
        ],
        on_success=QueueRoute(),
    )
    states = states_of(stack)
    attempts = {"recordInvokeCount.$": "States.MathAdd($$.State.RetryCount, 1)"}
    assert states["StartInvokeCount"] == {"Type": "Pass", "Assign": {"recordInvokeCount": 1}, "Next": "Shape"}
    for name in ("Both", "Each"):
        assert states[name]["Assign"] == attempts
        assert states[name]["Catch"][0]["Assign"] == attempts
    left = states["Both"]["Branches"][0]["States"]["Left"]
    item = states["Each"]["ItemProcessor"]["States"]["Item"]
    assert "Assign" not in left
    assert "Assign" not in item
    record = states["BuildSuccessRecord"]["Parameters"]["record"]
    assert record["requestContext"]["approximateInvokeCount.$"] == "$recordInvokeCount"
