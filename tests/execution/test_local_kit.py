"""The local kit itself: small stacks, synthesized, then run in process on moto with their real handler code."""

from __future__ import annotations

import base64
import collections
import copy
import json
import os
import pickle
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from botocore.exceptions import ClientError

from constructs_lib import FunctionWorkflow, Invoke, QueueRoute, RetryRule
from constructs_lib.testing import (
    AslValidationError,
    EndpointError,
    ExecutionResult,
    KitError,
    LocalKit,
    SynthesizedStack,
    TemplateError,
)
from tests.conftest import plain_app_at

pytestmark = pytest.mark.execution

RUNTIME = lambda_.Runtime.PYTHON_3_14

FLAKY = """
import os

class OrderPendingError(Exception):
    pass

CALLS = {"n": 0}

def handler(event, context):
    CALLS["n"] += 1
    if CALLS["n"] <= int(os.environ["FAILURES"]):
        raise OrderPendingError(f"attempt {CALLS['n']} is too early")
    return {"attempt": CALLS["n"], "event": event}
"""

INTROSPECT = """
import os, time

LOADED_WITH = os.environ.get("COLOUR")

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "colour": os.environ.get("COLOUR"),
        "loadedWith": LOADED_WITH,
        "requestId": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "functionName": context.function_name,
        "envName": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "region": os.environ["AWS_REGION"],
    }
"""


def inline(stack: cdk.Stack, construct_id: str, code: str, **props: Any) -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        runtime=RUNTIME,
        handler="index.handler",
        code=lambda_.Code.from_inline(code),
        **props,
    )


@pytest.fixture
def kit_stack(plain_app: cdk.App) -> cdk.Stack:
    return cdk.Stack(plain_app, "Kit")


@pytest.fixture
def flaky_workflow(kit_stack: cdk.Stack) -> cdk.Stack:
    flaky = inline(kit_stack, "Flaky", FLAKY, environment={"FAILURES": "2"})
    FunctionWorkflow(
        kit_stack,
        "Flow",
        steps=[
            Invoke(
                "CallFlaky",
                flaky,
                retries=[RetryRule(errors=["OrderPendingError"], interval=Duration.seconds(2), max_attempts=3)],
            )
        ],
        on_failure=QueueRoute(),
    )
    return kit_stack


def test_retry_with_backoff_counts_attempts_and_compresses_the_intervals(flaky_workflow: cdk.Stack) -> None:
    with LocalKit.from_stack(flaky_workflow) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-1"})

    assert result.status == "SUCCEEDED", result.cause
    assert result.attempts("CallFlaky") == 3
    assert result.task_errors("CallFlaky") == ["OrderPendingError", "OrderPendingError"]
    assert result.retry_intervals("CallFlaky") == [2.0, 4.0]
    assert result.output == {"attempt": 3, "event": {"orderId": "o-1"}}


def test_retries_exhausted_are_caught_and_routed_to_the_failure_queue(kit_stack: cdk.Stack) -> None:
    flaky = inline(kit_stack, "Flaky", FLAKY, environment={"FAILURES": "99"})
    FunctionWorkflow(
        kit_stack,
        "Flow",
        steps=[Invoke("CallFlaky", flaky, retries=[RetryRule(errors=["OrderPendingError"], max_attempts=2)])],
        on_failure=QueueRoute(),
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-2"})
        routed = kit.received("Flow/OnFailureQueue")

    assert result.status == "FAILED"
    assert result.error == "OrderPendingError"
    assert result.attempts("CallFlaky") == 3
    assert result.states_entered[-3:] == ["BuildFailureRecord", "DeliverFailure", "Failed"]
    assert len(routed) == 1
    assert routed[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert routed[0]["requestPayload"] == {"orderId": "o-2"}
    assert routed[0]["responsePayload"]["errorType"] == "OrderPendingError"


def test_a_definition_is_parsed_once_and_each_execution_keeps_its_own_retry_count(
    kit_stack: cdk.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kit builds moto's program of a definition once per process and runs every execution of every kit on it
    (moto rebuilt it on each CreateStateMachine and StartExecution): executions running at once still count their
    own attempts, as before, in a later kit too."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    from constructs_lib.testing._engine import moto_hooks

    monkeypatch.setattr(moto_hooks, "_PARSED", collections.OrderedDict())  # none parsed by an earlier test
    builds: list[object] = []
    original = Preprocessor.visitState_machine

    def counting(self: Preprocessor, ctx: Any) -> Any:
        builds.append(ctx)
        return original(self, ctx)

    monkeypatch.setattr(Preprocessor, "visitState_machine", counting)
    flaky = inline(kit_stack, "Flaky", FLAKY, environment={"FAILURES": "99"})
    FunctionWorkflow(
        kit_stack,
        "Flow",
        steps=[Invoke("CallFlaky", flaky, retries=[RetryRule(errors=["OrderPendingError"], max_attempts=2)])],
    )
    stack = SynthesizedStack.from_stack(kit_stack)
    runs: list[list[ExecutionResult]] = []
    for _ in range(2):
        with LocalKit(stack) as kit:
            if not runs:
                machines = len(builds)  # each machine's definition checked by moto at CreateStateMachine
            inputs = [{"orderId": f"o-{n}"} for n in range(6)]
            runs.append(kit.start_executions("Flow/StateMachine", inputs, concurrency=6))

    assert machines >= 1
    assert len(builds) == machines  # neither an execution nor the second kit built it again
    for results in runs:
        assert [result.status for result in results] == ["FAILED"] * 6
        assert [result.attempts("CallFlaky") for result in results] == [3] * 6


def test_wait_states_are_recorded_not_slept(kit_stack: cdk.Stack) -> None:
    wait = sfn.Wait(kit_stack, "WaitAnHour", time=sfn.WaitTime.duration(Duration.hours(1)))
    sfn.StateMachine(kit_stack, "Waiter", definition_body=sfn.DefinitionBody.from_chainable(wait))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Waiter", {})

    assert result.status == "SUCCEEDED"
    assert [(wait.state, wait.seconds, wait.kind) for wait in result.waits] == [("WaitAnHour", 3600.0, "Wait")]


def test_a_handler_gets_a_lambda_context_and_its_own_environment(kit_stack: cdk.Stack) -> None:
    inline(kit_stack, "Red", INTROSPECT, environment={"COLOUR": "red"}, timeout=Duration.seconds(5))
    inline(kit_stack, "Blue", INTROSPECT, environment={"COLOUR": "blue"})
    with LocalKit.from_stack(kit_stack) as kit:
        red = kit.invoke("Red", {})
        blue = kit.invoke("Blue", {})
        name = kit.function("Red").name

    assert red.result["colour"] == red.result["loadedWith"] == "red"
    assert blue.result["colour"] == blue.result["loadedWith"] == "blue"
    assert red.result["requestId"] == red.request_id
    assert 0 < red.result["remaining"] <= 5000
    assert red.result["functionName"] == red.result["envName"] == name
    assert red.result["region"] == "us-east-1"
    assert red.init_duration_ms is not None


def test_the_function_timeout_is_enforced(kit_stack: cdk.Stack) -> None:
    inline(kit_stack, "Slow", INTROSPECT, timeout=Duration.seconds(1))
    with LocalKit.from_stack(kit_stack) as kit:
        invocation = kit.invoke("Slow", {"sleep": 3})

    assert invocation.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in str(invocation.error_message)


THREAD = """
import threading, time

_thread = threading.local()

def handler(event, context):
    _thread.seen = getattr(_thread, "seen", 0) + 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"thread": threading.get_ident(), "name": threading.current_thread().name, "seen": _thread.seen}
"""


def test_a_handler_thread_is_reused_as_a_warm_sandbox_and_a_timed_out_one_is_not(kit_stack: cdk.Stack) -> None:
    """Invocations one after another run in the thread the last one ended in (Lambda reuses a warm sandbox); a
    handler that timed out keeps its thread to itself until it ends, the next invocation gets another, and the
    kit ends its idle threads when it stops."""
    import threading

    inline(kit_stack, "Threads", THREAD, timeout=Duration.seconds(1))
    with LocalKit.from_stack(kit_stack) as kit:
        first = kit.invoke("Threads", {})
        second = kit.invoke("Threads", {})
        timed_out = kit.invoke("Threads", {"sleep": 1.5})
        after = kit.invoke("Threads", {})
        idle = [thread for thread in threading.enumerate() if thread.name.startswith("lambda:")]

    assert (first.result["seen"], second.result["seen"]) == (1, 2)  # the thread's own state kept, as in a sandbox
    assert first.result["thread"] == second.result["thread"]
    assert first.result["name"].startswith("lambda:")
    assert first.result["name"] != second.result["name"]
    assert timed_out.error_type == "Sandbox.Timedout"
    assert after.result["thread"] != first.result["thread"]  # the timed-out handler still sleeps in that one
    assert after.result["seen"] == 1
    assert after.init_duration_ms is not None  # a cold start after the timeout, as on Lambda
    assert idle  # the warm ones, ended by the kit
    assert all(not thread.is_alive() for thread in idle)


def test_handler_exceptions_and_import_errors_are_results_not_crashes(kit_stack: cdk.Stack) -> None:
    inline(kit_stack, "Broken", "import not_a_module\n\ndef handler(event, context):\n    return 1\n")
    inline(kit_stack, "Raises", "def handler(event, context):\n    raise KeyError('orderId')\n")
    with LocalKit.from_stack(kit_stack) as kit:
        broken = kit.invoke("Broken", {})
        raises = kit.invoke("Raises", {"unexpected": True})

    assert broken.error_type == "Runtime.ImportModuleError"
    assert "not_a_module" in str(broken.error_message)
    assert raises.error_type == "KeyError"
    assert raises.payload["errorType"] == "KeyError"


def test_rules_deliver_matching_events_to_functions_queues_and_state_machines(kit_stack: cdk.Stack) -> None:
    echo = inline(kit_stack, "Echo", "def handler(event, context):\n    return event\n")
    queue = sqs.Queue(kit_stack, "Audit")
    machine = sfn.StateMachine(
        kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(kit_stack, "Noop"))
    )
    rule = events.Rule(kit_stack, "Orders", event_pattern=events.EventPattern(source=["shop"], detail_type=["Order"]))
    rule.add_target(targets.LambdaFunction(echo, event=events.RuleTargetInput.from_event_path("$.detail")))
    rule.add_target(targets.SqsQueue(queue))
    rule.add_target(targets.SfnStateMachine(machine))
    with LocalKit.from_stack(kit_stack) as kit:
        kit.put_event({"orderId": "o-4"}, source="shop", detail_type="Order")
        kit.put_event({"orderId": "ignored"}, source="elsewhere", detail_type="Order")
        echoed = [inv.event for inv in kit.invocations("Echo")]
        audited = kit.messages("Audit")
        runs = kit.executions("Machine")

    assert echoed == [{"orderId": "o-4"}]
    assert [message["detail"] for message in audited] == [{"orderId": "o-4"}]
    assert [run.input["detail"] for run in runs] == [{"orderId": "o-4"}]
    assert runs[0].status == "SUCCEEDED"


def test_sagemaker_endpoints_are_test_stand_ins_for_handlers_and_workflows(kit_stack: cdk.Stack) -> None:
    caller = inline(
        kit_stack,
        "Caller",
        "import boto3, base64, botocore.config\n"
        "def handler(event, context):\n"
        "    # one attempt: botocore would retry the throttling error below with real backoff sleeps (about 2.5 s)\n"
        "    config = botocore.config.Config(retries={'total_max_attempts': 1})\n"
        "    client = boto3.client('sagemaker-runtime', config=config)\n"
        "    body = base64.b64decode(event['image'])\n"
        "    try:\n"
        "        answer = client.invoke_endpoint(EndpointName='pcb', ContentType='application/x-image', Body=body)\n"
        "    except client.exceptions.ClientError as error:\n"
        "        return {'error': error.response['Error']['Code']}\n"
        "    return {'scores': answer['Body'].read().decode()}\n",
    )
    endpoint_arn = kit_stack.format_arn(service="sagemaker", resource="endpoint", resource_name="pcb")
    caller.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[endpoint_arn]))
    call = tasks.CallAwsService(
        kit_stack,
        "Classify",
        service="sagemakerruntime",
        action="invokeEndpoint",
        parameters={"EndpointName": "pcb", "ContentType": "application/json", "Body.$": "$.payload"},
        # The IAM prefix is sagemaker, not the SDK's service name: CDK would grant sagemakerruntime:invokeEndpoint.
        iam_action="sagemaker:InvokeEndpoint",
        iam_resources=[endpoint_arn],
        result_selector={"body.$": "$.Body"},
    )
    sfn.StateMachine(kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(call))
    seen: list[tuple[bytes, str]] = []

    def endpoint(body: bytes, content_type: str) -> Any:
        seen.append((body, content_type))
        if body == b"busy":
            raise EndpointError("ThrottlingException", "Rate exceeded")
        return [0.9, 0.1]

    image = bytes(range(256))
    with LocalKit.from_stack(kit_stack, endpoints={"pcb": endpoint}) as kit:
        direct = kit.invoke("Caller", {"image": base64.b64encode(image).decode()})
        throttled = kit.invoke("Caller", {"image": base64.b64encode(b"busy").decode()})
        result = kit.start_execution("Machine", {"payload": '{"x": 1}'})

    assert direct.succeeded, direct.payload
    assert seen[0] == (image, "application/x-image")
    assert json.loads(direct.result["scores"]) == [0.9, 0.1]
    assert throttled.result == {"error": "ThrottlingException"}
    assert result.status == "SUCCEEDED", result.cause
    assert seen[-1][1] == "application/json"


def test_an_invalid_definition_is_a_clear_error_before_anything_runs(kit_stack: cdk.Stack) -> None:
    sfn.CfnStateMachine(
        kit_stack,
        "Broken",
        role_arn="arn:aws:iam::123456789012:role/x",
        definition_string=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}),
    )
    with pytest.raises(AslValidationError, match="Broken"), LocalKit.from_stack(kit_stack):
        pass


def test_a_definition_moto_refuses_leaves_nothing_behind_for_the_next_one(tmp_path: Path) -> None:
    """moto keeps the query-language scopes of a parse in one list on its Preprocessor class, and a parse it refuses
    midway leaves its scopes there: the next definition parsed in the process started inside them (a JSONPath
    machine after a refused JSONata one was refused too). The kit's parse has scopes of its own."""
    refused = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
    }
    fine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"copied.$": "$.x"}, "End": True}}}
    stacks = []
    for name, definition in (("Refused", refused), ("Fine", fine)):
        app = plain_app_at(tmp_path / name)
        stack = cdk.Stack(app, name)
        sfn.CfnStateMachine(
            stack, "Machine", role_arn="arn:aws:iam::123456789012:role/x", definition_string=json.dumps(definition)
        )
        stacks.append(stack)

    with (
        pytest.raises(TemplateError, match="Cannot downgrade from JSONata"),
        LocalKit.from_stack(stacks[0], validate_asl=False),
    ):
        pass
    with LocalKit.from_stack(stacks[1]) as kit:
        result = kit.start_execution("Machine", {"x": 1})

    assert (result.status, result.output) == ("SUCCEEDED", {"copied": 1}), result.cause


def test_layers_are_on_the_import_path_of_their_functions(kit_stack: cdk.Stack, tmp_path: Path) -> None:
    layer_dir = tmp_path / "layer"
    (layer_dir / "python").mkdir(parents=True)
    (layer_dir / "python" / "shared_greeting.py").write_text("GREETING = 'hello from the layer'\n")
    layer = lambda_.LayerVersion(kit_stack, "Shared", code=lambda_.Code.from_asset(str(layer_dir)))
    inline(
        kit_stack,
        "Greeter",
        "from shared_greeting import GREETING\n\ndef handler(event, context):\n    return GREETING\n",
        layers=[layer],
    )
    with LocalKit.from_stack(kit_stack) as kit:
        assert kit.invoke("Greeter", {}).result == "hello from the layer"


def test_a_cloud_assembly_folder_is_an_input_too(flaky_workflow: cdk.Stack) -> None:
    assembly = cdk.Stage.of(flaky_workflow).synth()  # type: ignore[union-attr]
    with LocalKit.from_cloud_assembly(assembly.directory, "Kit") as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-5"})
    assert result.status == "SUCCEEDED"


def test_names_that_match_nothing_or_several_resources_say_so(flaky_workflow: cdk.Stack) -> None:
    with LocalKit.from_stack(flaky_workflow) as kit:
        with pytest.raises(KeyError, match=r"no AWS::StepFunctions::StateMachine named 'Nope'.*Flow/StateMachine"):
            kit.start_execution("Nope", {})
        assert kit.logical_id("Flow/OnFailureQueue") != kit.logical_id("Flow/OnFailureQueueDeadLetterQueue")


def test_only_one_kit_runs_at_a_time_and_moto_is_released_after(flaky_workflow: cdk.Stack) -> None:
    with LocalKit.from_stack(flaky_workflow), pytest.raises(KitError, match="one at a time"):
        LocalKit.from_stack(flaky_workflow).start()
    with LocalKit.from_stack(flaky_workflow) as kit:
        assert kit.start_execution("Flow/StateMachine", {}).status == "SUCCEEDED"


@pytest.fixture
def _restore_environ() -> Iterator[None]:
    import os

    before = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    yield
    assert {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"} == before


@pytest.mark.usefixtures("_restore_environ")
def test_the_process_environment_is_untouched(flaky_workflow: cdk.Stack) -> None:
    import os

    with LocalKit.from_stack(flaky_workflow) as kit:
        kit.invoke("Flaky", {})
        assert "FAILURES" not in os.environ


def test_input_transformers_render_json_and_escape_text(kit_stack: cdk.Stack) -> None:
    queue = sqs.Queue(kit_stack, "Out")
    rule = events.Rule(kit_stack, "Shaped", event_pattern=events.EventPattern(source=["shop"]))
    rule.add_target(
        targets.SqsQueue(
            queue,
            message=events.RuleTargetInput.from_object(
                {
                    "urgent": events.EventField.from_path("$.detail.urgent"),
                    "note": f"order {events.EventField.from_path('$.detail.note')}",
                    "missing": events.EventField.from_path("$.detail.nothing"),
                    "source": events.EventField.source,
                }
            ),
        )
    )
    with LocalKit.from_stack(kit_stack) as kit:
        kit.put_event({"urgent": True, "note": 'say "hi"'}, source="shop", detail_type="Order")
        (message,) = kit.messages("Out")

    assert message["urgent"] is True
    assert message["note"] == 'order say "hi"'
    assert message["missing"] is None
    assert message["source"] == "shop"


def test_disabled_and_schedule_only_rules_ignore_events_and_events_carry_an_iso_time(kit_stack: cdk.Stack) -> None:
    rules: dict[str, dict[str, Any]] = {
        "Disabled": {"event_pattern": events.EventPattern(source=["shop"]), "enabled": False},
        "Nightly": {"schedule": events.Schedule.cron(hour="3", minute="0")},
        "Live": {"event_pattern": events.EventPattern(source=["shop"])},
    }
    for construct_id, props in rules.items():
        events.Rule(
            kit_stack, construct_id, targets=[targets.SqsQueue(sqs.Queue(kit_stack, f"{construct_id}Q"))], **props
        )
    with LocalKit.from_stack(kit_stack) as kit:
        kit.put_event({"n": 1}, source="shop", detail_type="Order")
        kit.fire_rule("Nightly")
        disabled, nightly, live = (kit.messages(f"{name}Q") for name in ("Disabled", "Nightly", "Live"))

    assert disabled == []
    assert [message["detail-type"] for message in nightly] == ["Scheduled Event"]
    assert [message["detail"] for message in live] == [{"n": 1}]
    assert "ingestion-time" not in live[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", live[0]["time"])


def test_s3_to_eventbridge_notifications_reach_rules(kit_stack: cdk.Stack) -> None:
    bucket = s3.Bucket(kit_stack, "Uploads", event_bridge_enabled=True)
    queue = sqs.Queue(kit_stack, "Created")
    events.Rule(
        kit_stack,
        "OnCreate",
        event_pattern=events.EventPattern(source=["aws.s3"], detail={"bucket": {"name": [bucket.bucket_name]}}),
        targets=[targets.SqsQueue(queue)],
    )
    with LocalKit.from_stack(kit_stack) as kit:
        kit.put_object("Uploads", "a/b.png", b"x")
        (message,) = kit.messages("Created")

    assert message["detail-type"] == "Object Created"
    assert message["detail"]["object"]["key"] == "a/b.png"


def test_sys_exit_in_a_handler_is_a_runtime_exit_error_and_intrinsics_reach_the_environment(
    kit_stack: cdk.Stack,
) -> None:
    queue = sqs.Queue(kit_stack, "Q")
    inline(
        kit_stack,
        "Exits",
        "import os, sys, json\ndef handler(event, context):\n"
        "    if event.get('exit'):\n        sys.exit(3)\n"
        "    return json.loads(os.environ['SETTINGS'])\n",
        environment={"SETTINGS": cdk.Stack.of(queue).to_json_string({"queue": queue.queue_url, "n": 2})},
    )
    with LocalKit.from_stack(kit_stack) as kit:
        exited = kit.invoke("Exits", {"exit": True})
        settings = kit.invoke("Exits", {})
        queue_url = kit.ref("Q")

    assert exited.error_type == "Runtime.ExitError"
    assert settings.result == {"queue": queue_url, "n": 2}


def test_running_handlers_leaves_no_byte_code_in_the_asset_folders(plain_app: cdk.App, tmp_path: Path) -> None:
    # The kit may run a cdk.out/ that `cdk deploy` ships next: no __pycache__ may appear in its asset folders.
    code = tmp_path / "code"
    code.mkdir()
    (code / "helper.py").write_text("def double(value):\n    return value * 2\n")
    (code / "index.py").write_text("import helper\n\n\ndef handler(event, context):\n    return helper.double(event)\n")
    stack = cdk.Stack(plain_app, "ByteCode")
    lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_asset(str(code)),
    )
    assembly = Path(plain_app.synth().directory)
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        with LocalKit.from_cloud_assembly(assembly, "ByteCode") as kit:
            assert kit.invoke("Fn", 21).payload == 42
        assert sys.dont_write_bytecode is False  # the process's setting is given back
    finally:
        sys.dont_write_bytecode = before
    assert sorted(str(p) for p in assembly.rglob("__pycache__")) == []
    assert sorted(str(p) for p in code.rglob("__pycache__")) == []


def test_a_stack_in_another_account_runs_its_executions_in_that_account(plain_app: cdk.App) -> None:
    """moto makes everything in one account (its default unless ``MOTO_ACCOUNT_ID`` says otherwise): the kit runs a
    stack that names its account in that account, so the ARNs it gives out and the ones moto makes agree."""
    stack = cdk.Stack(plain_app, "Elsewhere", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    flaky = inline(stack, "Flaky", FLAKY, environment={"FAILURES": "0"})
    FunctionWorkflow(stack, "Flow", steps=[Invoke("CallFlaky", flaky)])
    before = os.environ.get("MOTO_ACCOUNT_ID")
    with LocalKit.from_stack(stack) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-1"})
        function_arn = kit.client("lambda").get_function(FunctionName=kit.ref("Flaky"))["Configuration"]["FunctionArn"]

    assert result.status == "SUCCEEDED", result.cause
    assert result.execution_arn.startswith("arn:aws:states:eu-west-1:111111111111:execution:")
    assert function_arn.startswith("arn:aws:lambda:eu-west-1:111111111111:function:")
    assert os.environ.get("MOTO_ACCOUNT_ID") == before  # given back


def test_kits_of_two_accounts_share_their_clients_and_each_makes_its_own_account_s_resources(
    tmp_path: Path,
) -> None:
    """The kit's own clients are made once per process (``clients.py``); the account is read at each request, so a
    later kit for another account makes and finds everything in that account with the same client."""
    arns, clients = [], []
    for account in ("111111111111", "222222222222"):
        app = plain_app_at(tmp_path / account)
        stack = cdk.Stack(app, "Elsewhere", env=cdk.Environment(account=account, region="eu-west-1"))
        inline(stack, "Flaky", FLAKY, environment={"FAILURES": "0"})
        with LocalKit.from_stack(stack) as kit:
            clients.append(kit.client("lambda"))
            arns.append(
                kit.client("lambda").get_function(FunctionName=kit.ref("Flaky"))["Configuration"]["FunctionArn"]
            )
            assert kit.invoke("Flaky", {"orderId": "o-1"}).succeeded

    assert clients[0] is clients[1]
    assert [arn.split(":")[4] for arn in arns] == ["111111111111", "222222222222"]


def test_an_execution_result_copies_and_pickles_with_its_history(flaky_workflow: cdk.Stack) -> None:
    """The history is read from moto when first asked for; a copy or a pickle reads it first and holds the events."""
    with LocalKit.from_stack(flaky_workflow) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-1"})
        copied = copy.deepcopy(result)
        restored = pickle.loads(pickle.dumps(result))

    assert result.attempts("CallFlaky") == 3
    assert copied == result
    assert restored == result
    assert restored.attempts("CallFlaky") == 3
    assert restored.history == result.history
    assert len(result.history) > 0


def test_input_that_is_not_json_is_refused_as_the_api_refuses_it(flaky_workflow: cdk.Stack) -> None:
    """StartExecution refuses input that is not JSON with InvalidExecutionInput
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html), before anything runs."""
    with LocalKit.from_stack(flaky_workflow) as kit:
        with pytest.raises(ClientError) as refused:
            kit.start_execution("Flow/StateMachine", "{not json")
        invocations = kit.invocations("Flaky")

    assert refused.value.response["Error"]["Code"] == "InvalidExecutionInput"
    assert refused.value.operation_name == "StartExecution"
    assert invocations == []


def test_a_stack_outside_the_aws_partition_is_refused_with_what_to_do(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "China", env=cdk.Environment(account="111111111111", region="cn-north-1"))
    inline(stack, "Flaky", FLAKY, environment={"FAILURES": "0"})

    with pytest.raises(KitError, match=r"aws partition only: cn-north-1 is in aws-cn\. Synthesize the stack for a"):
        LocalKit.from_stack(stack).start()


def test_jsonpath_paths_are_parsed_once_per_kit_not_per_execution(
    flaky_workflow: cdk.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto builds a new JSONPath parser (ply's tables) for each path it reads or writes (ResultPath); the kit
    parses each path once, and the executions after the first build none."""
    from jsonpath_ng.parser import JsonPathParser

    built: list[object] = []
    original = JsonPathParser.__init__

    def counting(self: JsonPathParser, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(JsonPathParser, "__init__", counting)
    with LocalKit.from_stack(flaky_workflow) as kit:
        first = kit.start_execution("Flow/StateMachine", {"orderId": "o-0"})
        after_first = len(built)
        later = [kit.start_execution("Flow/StateMachine", {"orderId": f"o-{n}"}) for n in range(1, 4)]

    assert after_first > 0  # the paths of the first execution were parsed
    assert len(built) == after_first
    assert [result.status for result in (first, *later)] == ["SUCCEEDED"] * 4


@pytest.fixture
def started_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The qualified name of each started thread's target, in order; installed before the kit, which wraps
    ``Thread.start`` and gives it back when it stops."""
    import threading

    started: list[str] = []
    original = threading.Thread.start

    def counting(self: threading.Thread) -> None:
        started.append(getattr(getattr(self, "_target", None), "__qualname__", ""))
        original(self)

    monkeypatch.setattr(threading.Thread, "start", counting)
    return started


def test_a_task_without_a_timeout_of_its_own_starts_no_thread_for_its_attempts(
    flaky_workflow: cdk.Stack, started_threads: list[str]
) -> None:
    """moto starts a thread for each task attempt only to wait for it with the state's TimeoutSeconds; with the
    default (99,999,999 s) the kit runs the attempt in place, and the attempts still run, retry and record as before.
    A state with its own TimeoutSeconds keeps the thread: tests/conformance/test_stepfunctions.py times one out."""
    import threading

    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    with LocalKit.from_stack(flaky_workflow) as kit:
        result = kit.start_execution("Flow/StateMachine", {"orderId": "o-1"})
        assert getattr(execute_state, "Thread") is not threading.Thread  # noqa: B009 - the kit's stand-in, installed

    assert getattr(execute_state, "Thread") is threading.Thread  # noqa: B009 - and removed when the kit stops
    assert result.status == "SUCCEEDED", result.cause
    assert result.attempts("CallFlaky") == 3
    assert result.task_errors("CallFlaky") == ["OrderPendingError", "OrderPendingError"]
    assert not [name for name in started_threads if "_exec_and_notify" in name]
    assert any("_execution_logic" in name or "eval" in name for name in started_threads)  # the execution's own threads


def map_of_pass(stack: cdk.Stack) -> sfn.Map:
    """A Map over ``$.items`` whose iterations are one Pass state, ``Item``; its results at ``$.mapped``."""
    each = sfn.Map(stack, "Each", items_path="$.items", result_path="$.mapped")
    each.item_processor(sfn.Pass(stack, "Item"))
    return each


@pytest.mark.parametrize("timeout", [None, Duration.seconds(60)])
def test_programs_without_a_timeout_start_no_thread(
    kit_stack: cdk.Stack, started_threads: list[str], timeout: Duration | None
) -> None:
    """moto evaluates each program (the state machine's, each Map iteration's, each Parallel branch's) in a thread of
    its own only to wait for it with the program's TimeoutSeconds: the kit runs those without one in place, and a
    state machine with a TimeoutSeconds keeps its thread (tests/conformance/test_stepfunctions.py times one out)."""
    each = map_of_pass(kit_stack)
    both = sfn.Parallel(kit_stack, "Both", result_path="$.branches")
    both.branch(sfn.Pass(kit_stack, "Left")).branch(sfn.Pass(kit_stack, "Right"))
    sfn.StateMachine(
        kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(each.next(both)), timeout=timeout
    )
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"items": [1, 2, 3]})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["mapped"] == [1, 2, 3]
    assert len(result.output["branches"]) == 2
    assert started_threads.count("EvalComponent.eval") == (0 if timeout is None else 1)


def test_what_escapes_a_program_run_in_place_is_reported_as_its_thread_would_and_the_execution_ends(
    kit_stack: cdk.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a BaseException gets past moto's program (it turns every Exception into the program's error). In moto's
    thread it went to threading.excepthook and the Map carried on; run in place it does the same instead of leaving
    the iteration's caller, and the execution still ends."""
    import threading

    from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass

    class Escaped(BaseException):
        pass

    original = StatePass._eval_state

    def eval_state(self: Any, env: Any) -> None:
        if self.name == "Item":
            raise Escaped("out of the program")
        original(self, env)

    reported: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_value))
    monkeypatch.setattr(StatePass, "_eval_state", eval_state)
    sfn.StateMachine(kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(map_of_pass(kit_stack)))
    with LocalKit.from_stack(kit_stack) as kit:
        result = kit.start_execution("Machine", {"items": [1, 2]})

    assert result.status == "SUCCEEDED", result.cause
    assert [type(error) for error in reported] == [Escaped, Escaped]


def test_the_kits_own_sqs_and_sns_calls_answer_as_botocore_without_its_http_path(
    kit_stack: cdk.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state machine's SendMessage and Publish tasks are answered by moto's handlers in process: the output botocore
    parses on the API path (MD5OfMessageBody, MessageId), the message delivered, nothing through moto's HTTP
    dispatch; a refused call (a queue that does not exist) still takes the API path and fails with its error name."""
    from moto.core.botocore_stubber import BotocoreStubber

    from constructs_lib.testing._engine import direct_calls

    queue = sqs.Queue(kit_stack, "Orders")
    topic = sns.Topic(kit_stack, "Alerts")
    send = tasks.SqsSendMessage(
        kit_stack, "Send", queue=queue, message_body=sfn.TaskInput.from_json_path_at("$.order"), result_path="$.sent"
    )
    publish = tasks.SnsPublish(
        kit_stack, "Publish", topic=topic, message=sfn.TaskInput.from_text("order received"), result_path="$.published"
    )
    sfn.StateMachine(kit_stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(send.next(publish)))
    nowhere = tasks.CallAwsService(
        kit_stack,
        "SendToNowhere",
        service="sqs",
        action="sendMessage",
        parameters={"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/nowhere", "MessageBody": "x"},
        iam_resources=["*"],
    )
    sfn.StateMachine(kit_stack, "Nowhere", definition_body=sfn.DefinitionBody.from_chainable(nowhere))
    dispatched: list[str] = []
    original = BotocoreStubber.process_request

    def counting(self: BotocoreStubber, request: Any) -> Any:
        dispatched.append(f"{request.url} {request.headers.get('X-Amz-Target', b'')!r} {str(request.body)[:80]}")
        return original(self, request)

    def run() -> tuple[Any, Any, list[Any], list[Any], list[str]]:
        with LocalKit.from_stack(kit_stack) as kit:
            dispatched.clear()
            with monkeypatch.context() as patched:
                patched.setattr(BotocoreStubber, "process_request", counting)
                result = kit.start_execution("Machine", {"order": {"orderId": "o-1"}})
                refused = kit.start_execution("Nowhere", {})
            return result, refused, kit.received("Orders"), kit.received("Alerts"), list(dispatched)

    direct = run()
    monkeypatch.setattr(direct_calls, "KIT_CALLERS", frozenset())
    api = run()

    for result, refused, received, published, _ in (direct, api):
        assert result.succeeded, result.cause
        assert set(result.output["sent"]) == {"MD5OfMessageBody", "MessageId"}
        assert set(result.output["published"]) == {"MessageId"}
        assert received == [{"orderId": "o-1"}]
        assert published == ["order received"]
        assert (refused.status, refused.error) == ("FAILED", api[1].error)
    assert direct[0].output["sent"]["MD5OfMessageBody"] == api[0].output["sent"]["MD5OfMessageBody"]
    assert [call for call in direct[4] if "nowhere" not in call] == []
    assert len([call for call in direct[4] if "nowhere" in call]) == 1  # the refusal took the API path
    assert len([call for call in api[4] if "nowhere" not in call]) == 2  # the API path, for comparison


def _machine_template(definition: dict[str, Any], resources: dict[str, Any], *, allow: str = "") -> dict[str, Any]:
    """A template with ``resources`` and a state machine running ``definition`` (``${T}``: the topic ``Topic``) with
    a role allowed ``allow``."""
    trust = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role: dict[str, Any] = {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]}}
    if allow:
        statement = {"Effect": "Allow", "Action": allow, "Resource": "*"}
        role["Policies"] = [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}]
    text: Any = json.dumps(definition)
    if "${T}" in text:
        text = {"Fn::Sub": [text, {"T": {"Ref": "Topic"}}]}
    machine = {"DefinitionString": text, "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}
    return {
        "Resources": {
            **resources,
            "Role": {"Type": "AWS::IAM::Role", "Properties": role},
            "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": machine},
        }
    }


@pytest.mark.parametrize("direct", [True, False], ids=["in-process", "api-path"])
def test_a_publish_task_is_made_once_and_its_parameters_checked_as_the_task_client_checks_them(
    direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Publish that moto refuses after it delivered to one subscription (the other queue's MaximumMessageSize) is
    not made again, in process or on the API path; a task's parameters are not validated by botocore (Step
    Functions' SDK clients are made without it), so a number given as a message attribute's StringValue is sent."""
    from constructs_lib.testing._engine import direct_calls

    if not direct:
        monkeypatch.setattr(direct_calls, "KIT_CALLERS", frozenset())

    def queue_policy(queue: str) -> dict[str, Any]:
        allow = {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
        }
        document = {"Version": "2012-10-17", "Statement": [allow]}
        return {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": queue}], "PolicyDocument": document}}

    def subscription(queue: str) -> dict[str, Any]:
        endpoint = {"Fn::GetAtt": [queue, "Arn"]}
        properties = {"TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": endpoint}
        return {"Type": "AWS::SNS::Subscription", "Properties": properties}

    attribute = {"n": {"DataType": "Number", "StringValue.$": "$.n"}}
    publish = {"TopicArn": "${T}", "Message.$": "$.m", "MessageAttributes": attribute}
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": publish, "End": True}
        },
    }
    resources = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Big": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Small": {"Type": "AWS::SQS::Queue", "Properties": {"MaximumMessageSize": 1024}},
        "BigPolicy": queue_policy("Big"),
        "SmallPolicy": queue_policy("Small"),
        "SubBig": subscription("Big"),
        "SubSmall": subscription("Small"),
    }
    stack = SynthesizedStack(
        stack_name="Publish", template=_machine_template(definition, resources, allow="sns:Publish")
    )
    with LocalKit(stack) as kit:
        refused = kit.start_execution("Machine", {"m": "x" * 900, "n": "1"})
        big_after_refusal = len(kit.messages("Big"))
        sent = kit.start_execution("Machine", {"m": "small", "n": 5})

    assert (refused.status, refused.error) == ("FAILED", "SNS.InvalidParameterValueException"), refused.cause
    assert big_after_refusal == 1
    assert sent.succeeded, sent.cause
    assert set(sent.output) == {"MessageId"}


def test_a_map_over_an_object_names_its_own_input_not_an_earlier_maps_items() -> None:
    """The cause of a Map over a value that is not an array names that value (see the conformance test), never the
    items an earlier Map of the same execution selected: each attempt keeps what it read to itself."""

    def processor(state: str) -> dict[str, Any]:
        return {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": state,
            "States": {state: {"Type": "Pass", "End": True}},
        }

    first = {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.a", "ItemProcessor": processor("P"), "Next": "B"}
    definition = {
        "StartAt": "A",
        "States": {
            "A": first,
            "B": {"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor("Q"), "End": True},
        },
    }
    stack = SynthesizedStack(stack_name="Maps", template=_machine_template(definition, {}))
    with LocalKit(stack) as kit:
        result = kit.start_execution("Machine", {"items": ["FROM-MAP-A"], "other": {"k": 1}})

    assert result.status == "FAILED"
    assert "Map state input must be an array" in str(result.cause)
    assert "FROM-MAP-A" not in str(result.cause)
