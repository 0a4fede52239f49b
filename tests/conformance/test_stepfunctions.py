"""Step Functions executions, run from the synthesized definition: the context object and error names, and how
errors travel out of Parallel branches, Map iterations and Fail states."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import ECHO, FAILING, SLOW_FAILING, inline

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


def test_an_execution_past_the_state_machines_timeout_seconds_times_out(kit_stack: cdk.Stack) -> None:
    """Step Functions: an execution that runs longer than the state machine's TimeoutSeconds ends TIMED_OUT.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
    Kit: the execution ends TIMED_OUT once TimeoutSeconds of real time have passed.
    Divergence: the result has no error name (the page says the execution "fails with a States.Timeout Error name");
        the timeout counts real time while the kit's Wait states and retry intervals take none, so a machine that
        passes its TimeoutSeconds only by waiting or retrying never times out locally; and the state running at the
        timeout runs on, its later history events and then ExecutionTimedOut recorded after the execution has ended.
    """
    function = inline(kit_stack, "Slow", SLOW, timeout=Duration.seconds(10))
    call = tasks.LambdaInvoke(kit_stack, "CallSlow", lambda_function=function, payload_response_only=True)
    sfn.StateMachine(
        kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(call), timeout=Duration.seconds(1)
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {})

    assert result.status == "TIMED_OUT", (result.status, result.error, result.cause)


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


COUNTING = """
import threading
import time

_lock = threading.Lock()
_running = 0


def handler(event, context):
    global _running
    with _lock:
        _running += 1
        running = _running
    time.sleep(0.05)
    with _lock:
        _running -= 1
    return {"item": event, "running": running}
"""


@pytest.mark.parametrize("max_concurrency", [None, 100])
def test_an_inline_map_runs_at_most_40_iterations_at_once(kit_stack: cdk.Stack, max_concurrency: int | None) -> None:
    """Step Functions: an Inline Map runs its iterations concurrently, at most 40 at once, and its output keeps the
    order of its items.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
    Kit: at most 40 iterations run at once, whether MaxConcurrency is 0 (not set) or more than 40; each runs the next
        item when it is done (moto started one thread per item with MaxConcurrency 0).
    Divergence: the docs are ambiguous: that page says "the Map state supports up to 40 concurrent iterations", and
        the Map state's MaxConcurrency field says 0 runs them "as concurrently as possible"; the kit reads the 40 as
        that limit.
    """
    counting = inline(kit_stack, "Counting", COUNTING)
    each = sfn.Map(kit_stack, "Each", items_path="$.items", max_concurrency=max_concurrency)
    each.item_processor(tasks.LambdaInvoke(kit_stack, "Count", lambda_function=counting, payload_response_only=True))
    sfn.StateMachine(kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(each))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"items": list(range(100))})

    assert result.succeeded, result.cause
    assert [entry["item"] for entry in result.output] == list(range(100))
    peak = max(entry["running"] for entry in result.output)
    assert 1 < peak <= 40, peak


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


# -- Runtime errors: named as the Amazon States Language names them, with causes in AWS's form ---------------------
PREFIX = re.compile(r"^An error occurred while executing the state '(\w+)' \(entered at the event id #\d+\)\. ")


def asl_machine(stack: cdk.Stack, construct_id: str, definition: dict[str, Any], **substitutions: str) -> None:
    """A state machine from an ASL definition (``${name}`` substituted), as a template states it."""
    sfn.StateMachine(
        stack,
        construct_id,
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions=substitutions or None,
    )


def lambda_machine(stack: cdk.Stack, function: lambda_.IFunction, definition: dict[str, Any]) -> None:
    """A state machine ``Machine`` whose tasks call ``function`` (``${fn}`` in the definition), allowed to."""
    sfn.StateMachine(
        stack,
        "Machine",
        definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
        definition_substitutions={"fn": function.function_arn},
    ).add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn]))


def pass_with(parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"StartAt": "Shape", "States": {"Shape": {"Type": "Pass", "Parameters": parameters, "End": True, **fields}}}


def test_a_choice_with_no_match_and_no_default_fails_with_no_choice_matched(kit_stack: cdk.Stack) -> None:
    """Step Functions: a Choice state whose rules all fail to match, with no Default, fails with
    States.NoChoiceMatched.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: the execution fails with States.NoChoiceMatched, its cause naming the state (moto raised a Python
        RuntimeError, reported as States.Runtime with its repr).
    Divergence: the docs are ambiguous: they name the error but show no cause; the kit's cause has the form of AWS's
        other runtime errors.
    """
    asl_machine(
        kit_stack,
        "Machine",
        {
            "StartAt": "Route",
            "States": {
                "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}]},
                "One": {"Type": "Succeed"},
            },
        },
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"n": 2})

    assert result.status == "FAILED"
    assert result.error == "States.NoChoiceMatched"
    assert PREFIX.match(str(result.cause)), result.cause
    assert "RuntimeError" not in str(result.cause)


def test_a_choice_rule_on_a_field_not_in_the_input_is_a_runtime_error(kit_stack: cdk.Stack) -> None:
    """Step Functions: a Choice rule whose Variable is not in the input fails the execution (States.Runtime) unless
    the rule is IsPresent, which is how a definition guards such a comparison.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
    Kit: States.Runtime, "Invalid path '$.tier': The choice state's condition path references an invalid value."
        (moto treated the rule as false and took the Default); IsPresent compares as documented.
    Divergence: the docs are ambiguous: they show the IsPresent guard but not the error; the kit follows the error
        AWS executions show.
    """
    route = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.tier", "StringEquals": "gold", "Next": "Gold"}],
                "Default": "Other",
            },
            "Gold": {"Type": "Succeed"},
            "Other": {"Type": "Succeed"},
        },
    }
    guarded = json.loads(json.dumps(route))
    guarded["States"]["Route"]["Choices"][0] = {
        "And": [
            {"Variable": "$.tier", "IsPresent": True},
            {"Variable": "$.tier", "StringEquals": "gold"},
        ],
        "Next": "Gold",
    }
    asl_machine(kit_stack, "Unguarded", route)
    asl_machine(kit_stack, "Guarded", guarded)
    with LocalKit.from_stack(kit_stack) as kit:
        unguarded = kit.start_execution("Unguarded", {"orderId": "o-1"})
        guarded_result = kit.start_execution("Guarded", {"orderId": "o-1"})
        present = kit.start_execution("Unguarded", {"tier": "gold"})

    assert unguarded.status == "FAILED"
    assert unguarded.error == "States.Runtime"
    assert str(unguarded.cause).endswith(
        "Invalid path '$.tier': The choice state's condition path references an invalid value."
    )
    assert guarded_result.succeeded
    assert guarded_result.states_entered[-1] == "Other"
    assert present.succeeded
    assert present.states_entered[-1] == "Gold"


@pytest.mark.parametrize(
    ("expression", "state_input"),
    [
        ("States.StringToJson($.text)", {"text": "not json"}),
        ("States.ArrayGetItem($.items, 5)", {"items": [1]}),
        ("States.MathAdd($.n, 1)", {"n": "one"}),
    ],
    ids=["StringToJson", "ArrayGetItem", "MathAdd"],
)
def test_a_failed_intrinsic_function_is_states_intrinsic_failure(
    kit_stack: cdk.Stack, expression: str, state_input: dict[str, Any]
) -> None:
    """Step Functions: an intrinsic function that fails inside a payload template raises States.IntrinsicFailure.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: States.IntrinsicFailure, the cause naming the function and the reason (moto failed with States.Runtime and
        a Python exception's repr, such as ``IndexError(list index out of range)``).
    Divergence: the docs are ambiguous: they name the error but show no cause; the kit's cause has the form of AWS's
        runtime errors.
    """
    asl_machine(kit_stack, "Machine", pass_with({"value.$": expression}))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", state_input)

    assert result.status == "FAILED"
    assert result.error == "States.IntrinsicFailure"
    assert PREFIX.match(str(result.cause)), result.cause
    assert f"The intrinsic function '{expression}' failed: " in str(result.cause)
    assert not re.search(r"\w+Error\(", str(result.cause)), result.cause


def test_a_result_path_that_cannot_be_applied_is_states_result_path_match_failure(kit_stack: cdk.Stack) -> None:
    """Step Functions: a ResultPath that cannot be applied to the state's input (a field inside a string) fails with
    States.ResultPathMatchFailure.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: States.ResultPathMatchFailure naming the ResultPath and the input (moto failed with States.Runtime and
        ``TypeError('str' object does not support item assignment)``).
    Divergence: the docs are ambiguous: they name the error but show no cause; the kit's cause has the form of AWS's
        runtime errors.
    """
    asl_machine(
        kit_stack,
        "Machine",
        {"StartAt": "Note", "States": {"Note": {"Type": "Pass", "ResultPath": "$.order.note", "End": True}}},
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"order": "o-1"})

    assert result.status == "FAILED"
    assert result.error == "States.ResultPathMatchFailure"
    assert str(result.cause).endswith("""Unable to apply ResultPath '$.order.note' to input {"order":"o-1"}""")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"Parameters": {"id.$": "$.orderId"}},
            """The JSONPath '$.orderId' specified for the field 'id.$' could not be found in the input '{"n": 1}'""",
        ),
        ({"InputPath": "$.orderId"}, "Invalid path '$.orderId' : No results for path: $['orderId']"),
        ({"OutputPath": "$.orderId"}, "Invalid path '$.orderId' : No results for path: $['orderId']"),
    ],
    ids=["Parameters", "InputPath", "OutputPath"],
)
def test_a_path_that_selects_nothing_is_states_runtime(
    kit_stack: cdk.Stack, fields: dict[str, Any], message: str
) -> None:
    """Step Functions: a Parameters, InputPath or OutputPath path that selects nothing fails the execution with
    States.Runtime.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: States.Runtime with the cause AWS executions show ("The JSONPath '$.x' specified for the field 'x.$' could
        not be found in the input ..."; "Invalid path '$.x' : No results for path: $['x']").
    Divergence: the docs are ambiguous: they list States.ParameterPathFailure for a Parameters path that fails, while
        AWS executions (and the kit) report States.Runtime.
    """
    asl_machine(
        kit_stack, "Machine", {"StartAt": "Shape", "States": {"Shape": {"Type": "Pass", "End": True, **fields}}}
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"n": 1})

    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    match = PREFIX.match(str(result.cause))
    assert match, result.cause
    assert match.group(1) == "Shape"
    assert str(result.cause).endswith(message)


def test_states_runtime_is_neither_retried_nor_caught(kit_stack: cdk.Stack) -> None:
    """Step Functions: a States.Runtime error is not retriable and always fails the execution; a Retry or Catch on
    States.ALL (or on States.Runtime) does not match it.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: no Retrier or Catcher matches States.Runtime (moto retried and caught it); the task's function never runs.
    Divergence: none
    """
    echo = inline(kit_stack, "Echo", ECHO)
    call = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${fn}", "Payload": {"id.$": "$.orderId"}},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
        "Catch": [
            {"ErrorEquals": ["States.Runtime"], "Next": "Caught"},
            {"ErrorEquals": ["States.ALL"], "Next": "Caught"},
        ],
        "End": True,
    }
    lambda_machine(kit_stack, echo, {"StartAt": "Call", "States": {"Call": call, "Caught": {"Type": "Succeed"}}})
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"n": 1})
        ran = kit.invocations("Echo")

    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "Caught" not in result.states_entered
    assert result.retry_intervals("Call") == []
    assert ran == []


def test_an_intrinsic_failure_can_be_caught(kit_stack: cdk.Stack) -> None:
    """Step Functions: States.IntrinsicFailure, unlike States.Runtime, is an error a Catch on its name handles.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: the Catcher matches it; the error output has Error and Cause.
    Divergence: none
    """
    echo = inline(kit_stack, "Echo", ECHO)
    call = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${fn}", "Payload": {"value.$": "States.ArrayGetItem($.items, 5)"}},
        "Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "Next": "Caught"}],
        "End": True,
    }
    lambda_machine(
        kit_stack, echo, {"StartAt": "Call", "States": {"Call": call, "Caught": {"Type": "Pass", "End": True}}}
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"items": [1]})

    assert result.succeeded, result.cause
    assert result.output["Error"] == "States.IntrinsicFailure"
    assert "States.ArrayGetItem($.items, 5)" in result.output["Cause"]


def test_a_map_over_a_value_that_is_not_an_array_fails(kit_stack: cdk.Stack) -> None:
    """Step Functions: a Map state whose items are not a JSON array fails the execution.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
    Kit: States.QueryEvaluationError, "Map state input must be an array but was: {...}" with the value in JSON
        (moto wrote Python's ``<class 'dict'>``).
    Divergence: the docs are ambiguous: they do not name the error; the kit uses the name and cause AWS executions
        show for a Map over a non-array.
    """
    asl_machine(
        kit_stack,
        "Machine",
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
                    "End": True,
                }
            },
        },
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"items": {"sku": "s-1"}})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"
    assert str(result.cause).endswith('Map state input must be an array but was: {"sku":"s-1"}')


def always_failing_call(retrier: dict[str, Any], catchers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${fn}", "Payload.$": "$"},
        "Retry": [retrier],
        "End": True,
    }
    states: dict[str, Any] = {"Call": call}
    if catchers:
        call["Catch"] = catchers
        states.update({catcher["Next"]: {"Type": "Pass", "End": True} for catcher in catchers})
    return {"StartAt": "Call", "States": states}


def test_retry_intervals_grow_by_the_backoff_rate_up_to_max_delay_seconds(kit_stack: cdk.Stack) -> None:
    """Step Functions: a Retrier waits IntervalSeconds, then multiplies the wait by BackoffRate after each attempt,
    never waiting more than MaxDelaySeconds, for at most MaxAttempts retries.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: the Retrier's waits in virtual time (recorded, not slept): 2, 6, then 10 (18 capped at 10) seconds.
    Divergence: none
    """
    failing = inline(kit_stack, "Fails", FAILING)
    retrier = {
        "ErrorEquals": ["OrderRejectedError"],
        "IntervalSeconds": 2,
        "BackoffRate": 3,
        "MaxAttempts": 3,
        "MaxDelaySeconds": 10,
    }
    lambda_machine(kit_stack, failing, always_failing_call(retrier))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"orderId": "o-1"})

    assert result.status == "FAILED"
    assert result.error == "OrderRejectedError"
    assert result.attempts("Call") == 4
    assert result.retry_intervals("Call") == [2.0, 6.0, 10.0]


def test_full_jitter_waits_a_random_time_up_to_the_backoff_interval(kit_stack: cdk.Stack) -> None:
    """Step Functions: with JitterStrategy FULL, each retry waits a random time between 0 and the interval the
    backoff would give.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: each recorded wait lies within [0, IntervalSeconds x BackoffRate^n], capped by MaxDelaySeconds.
    Divergence: none
    """
    failing = inline(kit_stack, "Fails", FAILING)
    retrier = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 4,
        "BackoffRate": 2,
        "MaxAttempts": 4,
        "MaxDelaySeconds": 20,
        "JitterStrategy": "FULL",
    }
    lambda_machine(kit_stack, failing, always_failing_call(retrier))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"orderId": "o-1"})

    waits = result.retry_intervals("Call")
    assert len(waits) == 4
    for wait, ceiling in zip(waits, [4.0, 8.0, 16.0, 20.0], strict=True):
        assert 0.0 <= wait <= ceiling


def test_catchers_are_tried_in_order_and_the_error_output_has_error_and_cause(kit_stack: cdk.Stack) -> None:
    """Step Functions: when no Retrier is left, the first Catcher (in order) whose ErrorEquals names the error wins;
    the state's output is then an object with Error and Cause, and a Lambda function's error keeps its own name
    (the exception's class), which States.TaskFailed also matches.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Kit: moto's Catcher order; Error is the handler's exception name, Cause the Lambda error JSON.
    Divergence: none
    """
    failing = inline(kit_stack, "Fails", FAILING)
    retrier = {"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 1}
    catchers = [
        {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"},
        {"ErrorEquals": ["States.TaskFailed"], "Next": "TaskFailed"},
        {"ErrorEquals": ["OrderRejectedError"], "Next": "Rejected"},
    ]
    lambda_machine(kit_stack, failing, always_failing_call(retrier, catchers))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"orderId": "o-7"})

    assert result.succeeded, result.cause
    assert result.states_entered == ["Call", "TaskFailed"]
    assert result.attempts("Call") == 1
    assert result.output["Error"] == "OrderRejectedError"
    cause = json.loads(result.output["Cause"])
    assert cause["errorType"] == "OrderRejectedError"
    assert cause["errorMessage"] == "rejected o-7"


def test_a_status_event_leaves_out_an_input_that_with_the_output_passes_248_kb(kit_stack: cdk.Stack) -> None:
    """Step Functions: a status-change event leaves out the input when the escaped input and output together pass
    248 KB, and the output when it alone does, marking each in inputDetails / outputDetails.

    AWS: https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
    Kit: the same rule, on the JSON-escaped text of the input and the output.
    Divergence: the docs are ambiguous: "248KB" may be 248,000 or 253,952 bytes; the kit takes 248 x 1024.
    """
    asl_machine(kit_stack, "Machine", {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}})
    queue = sqs.Queue(kit_stack, "StatusEvents")
    events.Rule(
        kit_stack,
        "Statuses",
        event_pattern=events.EventPattern(
            source=["aws.states"], detail_type=["Step Functions Execution Status Change"]
        ),
    ).add_target(targets.SqsQueue(queue))
    large = {"pad": "x" * 130 * 1024}  # input and output (the same) together past 248 KB, each within it
    with LocalKit.from_stack(kit_stack) as kit:
        kit.start_execution("Machine", {"small": True}, name="small")
        kit.start_execution("Machine", large, name="large")
        kit.settle()
        succeeded = {
            message["detail"]["name"]: message["detail"]
            for message in kit.messages("StatusEvents")
            if message["detail"]["status"] == "SUCCEEDED"
        }

    assert json.loads(succeeded["small"]["input"]) == {"small": True}
    assert succeeded["small"]["inputDetails"] == {"included": True}
    assert succeeded["large"]["input"] is None
    assert succeeded["large"]["inputDetails"] == {"included": False}
    assert json.loads(succeeded["large"]["output"]) == large
    assert succeeded["large"]["outputDetails"] == {"included": True}
