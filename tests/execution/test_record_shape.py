"""One consumer, two engines: the record a route receives has the same shape from Lambda Destinations and from
FunctionWorkflow. The workflow's record is produced by running its synthesized record-building state on moto's
Step Functions interpreter, fed with the real handler's output or error."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from moto import mock_aws

from constructs_lib import FunctionWorkflow, QueueRoute, parse_execution_record
from constructs_lib.defaults import secure_function
from constructs_lib.engines.steps import INVOKE_COUNT_VARIABLE
from constructs_lib.records import ExecutionRecord
from constructs_lib.testing._engine import jsonata_eval, moto_hooks, variables
from lambda_src.destined_lambda import consumer, worker
from stacks._code import example_code
from tests.conftest import new_app, workflow_definitions

pytestmark = pytest.mark.execution

ORDER = {"orderId": "o-1001", "sku": "PCB-7", "quantity": 3}
BAD_ORDER = {"orderId": "", "sku": "PCB-7", "quantity": 0}
WORKER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST"


@pytest.fixture(scope="module")
def record_states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The synthesized Build*Record states of a one-function workflow with both routes."""
    app = new_app(tmp_path_factory.mktemp("cdk.out"))
    stack = cdk.Stack(app, "Shape")
    props = lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14, handler="worker.handler", code=example_code("destined_lambda")
    )
    function, _ = secure_function(stack, "Worker", function_props=props)
    FunctionWorkflow(stack, "Flow", function=function, on_success=QueueRoute(), on_failure=QueueRoute())
    (definition,) = workflow_definitions(Template.from_stack(stack).to_json()).values()
    states: dict[str, Any] = definition["States"]
    return states


@pytest.fixture(scope="module")
def stepfunctions() -> Iterator[Any]:
    # the record reads a workflow variable: the kit's evaluator reads it (moto's is stubbed) and sets Assign as AWS does
    patches = moto_hooks._Patches()
    jsonata_eval.install(patches.replace)
    variables.install(patches.replace)
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield boto3.client(
                "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
            )
    finally:
        patches.undo()


def run_record_state(
    client: Any, state: dict[str, Any], execution_input: Any, task_result: dict[str, Any], attempts: int
) -> Any:
    """Run the synthesized state after a Pass that stands where the Lambda task's result (or error) lands, and
    that assigns the attempts as the task (or its Catch) does."""
    definition: dict[str, Any] = {
        "StartAt": "TaskResult",
        "States": {
            "TaskResult": {
                "Type": "Pass",
                **task_result,
                "Assign": {INVOKE_COUNT_VARIABLE: attempts},
                "Next": "Record",
            },
            "Record": {**state, "End": True},
        },
    }
    definition["States"]["Record"].pop("Next", None)
    arn = client.create_state_machine(
        name=f"shape-{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/local",
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, name="exec-1", input=json.dumps(execution_input))
    for _ in range(200):
        described = client.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.01)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])["record"]


def destinations_record(condition: str, payload: Any, response: Any, function_error: str | None) -> ExecutionRecord:
    """What Lambda Destinations sends for the same invocation (the documented record)."""
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response_context["functionError"] = function_error
    return parse_execution_record(
        {
            "version": "1.0",
            "timestamp": "2026-11-23T06:00:01.568Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                "functionArn": WORKER_ARN,
                "condition": condition,
                "approximateInvokeCount": 1 if condition == "Success" else 3,
            },
            "requestPayload": payload,
            "responseContext": response_context,
            "responsePayload": response,
        }
    )


def consumer_view(record: ExecutionRecord) -> dict[str, Any]:
    """What a consumer reads: the same fields whatever the engine."""
    return {
        "succeeded": record.succeeded,
        "condition": record.request_context.condition,
        "request": record.request_payload,
        "response": record.response_payload if record.succeeded else None,
        "error_type": record.error_type,
        "error_message": record.error_message,
        "function_error": record.response_context.function_error,
        "attempts": record.request_context.approximate_invoke_count,
    }


def test_success_record_is_the_same_for_both_engines(stepfunctions: Any, record_states: dict[str, Any]) -> None:
    output = worker.handler(ORDER, None)
    workflow = run_record_state(stepfunctions, record_states["BuildSuccessRecord"], ORDER, {"Result": output}, 1)
    from_workflow = parse_execution_record(workflow)
    from_destinations = destinations_record("Success", ORDER, output, None)
    assert consumer_view(from_workflow) == consumer_view(from_destinations)
    # the example's consumer handler takes the response payload: the same call works for both engines
    assert consumer.handler(from_workflow.response_payload, None) == consumer.handler(
        from_destinations.response_payload, None
    )
    assert from_workflow.request_context.function_arn.startswith("arn:aws:states:")
    assert from_workflow.request_context.request_id


def test_failure_record_is_the_same_for_both_engines(stepfunctions: Any, record_states: dict[str, Any]) -> None:
    with pytest.raises(worker.InvalidOrderError) as raised:
        worker.handler(BAD_ORDER, None)
    error_type, message = type(raised.value).__name__, str(raised.value)
    # Step Functions' Lambda task puts the error name in Error and Lambda's error JSON in Cause; the workflow's
    # Catch makes that error output the state
    cause = json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []})
    task_error = {"Result": {"Error": error_type, "Cause": cause}}
    workflow = run_record_state(stepfunctions, record_states["BuildFailureRecord"], BAD_ORDER, task_error, 3)
    from_workflow = parse_execution_record(workflow)
    from_destinations = destinations_record(
        "RetriesExhausted",
        BAD_ORDER,
        {"errorMessage": message, "errorType": error_type, "stackTrace": []},
        "Unhandled",
    )
    assert consumer_view(from_workflow) == consumer_view(from_destinations)
    assert consumer_view(from_workflow)["error_type"] == "InvalidOrderError"
    assert "orderId must be a non-empty string" in str(consumer_view(from_workflow)["error_message"])
