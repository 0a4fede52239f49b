"""Every mistake a clear error: each public construct's props checked against its annotations (one wrong type per
construct), each case of the review with the message it now gives, tokens never refused nor written as garbage,
and a property-based test that drives every public constructor with wrong and out-of-range values."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib import (
    AlarmOptions,
    AsyncAlarmOptions,
    BatchManifest,
    ConstructPropsError,
    DefectDetectionPipeline,
    DefectEndpoint,
    DestinedFunction,
    DurableFunction,
    EventBusRoute,
    EventPipeline,
    ExecutionStatus,
    ExecutionStatusNotifications,
    FunctionWorkflow,
    Invoke,
    PowerTuning,
    PythonDependencyLayer,
    QueueRoute,
    RetryRule,
    S3BatchLambdaJob,
    SlackErrorReporter,
    SlackNotifier,
    SlackWebhook,
    WorkflowAlarmOptions,
)
from constructs_lib._internal.prop_types import checks_props
from tests.repository.test_docs import public_constructs

ENV = cdk.Environment(account="123456789012", region="us-east-1")
URL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test", env=ENV)


def props(handler: str = "index.handler", **overrides: Any) -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler=handler,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        **overrides,
    )


def function(stack: cdk.Stack, construct_id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(stack, construct_id, **props()._values)


def problems(build: Callable[[], object]) -> str:
    with pytest.raises(ConstructPropsError) as caught:
        build()
    return "\n".join(caught.value.problems)


# ------------------------------------------------------------------------------------------------ every construct


def test_every_public_construct_checks_its_props() -> None:
    unchecked = [c.__name__ for c in public_constructs() if not checks_props(c.__init__)]
    assert unchecked == []


def test_methods_that_take_props_check_them_too() -> None:
    assert checks_props(DestinedFunction.add_result_rule)
    assert checks_props(DestinedFunction.add_stream_source)
    assert checks_props(SlackErrorReporter.wrap)
    assert checks_props(SlackErrorReporter.attach)


def _code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir(exist_ok=True)
    (folder / "mylib.py").write_text("VALUE = 1\n")
    return folder


def valid_props(construct: type[Construct], stack: cdk.Stack, tmp_path: Path) -> dict[str, Any]:  # noqa: PLR0911
    """Props with which each public construct synthesizes."""
    if construct in {DestinedFunction, FunctionWorkflow, DurableFunction}:
        return {"function_props": props()}
    if construct is ExecutionStatusNotifications:
        machine = sfn.StateMachine.from_state_machine_arn(stack, "Machine", MACHINE_ARN)
        return {"state_machine": machine, "statuses": [ExecutionStatus.FAILED], "route": QueueRoute()}
    if construct is EventPipeline:
        return {"target": QueueRoute(), "schedule": events.Schedule.rate(Duration.hours(1))}
    if construct is DefectDetectionPipeline:
        return {"endpoint": DefectEndpoint.from_endpoint_name("pcb-defects")}
    if construct is PowerTuning:
        return {"function_name_prefix": "tuned-"}
    if construct is S3BatchLambdaJob:
        bucket = s3.Bucket.from_bucket_name(stack, "Documents", "documents")
        return {"manifest": BatchManifest.from_prefix(bucket, "reviews/"), "function_props": props("job.process")}
    if construct is SlackErrorReporter:
        return {"webhook": SlackWebhook.from_parameter("/slack/webhook")}
    if construct is SlackNotifier:
        return {"reporter": SlackErrorReporter(stack, "Reporter", webhook=SlackWebhook.from_parameter("/slack/hook"))}
    if construct is PythonDependencyLayer:
        return {"code_dir": str(_code_dir(tmp_path))}
    raise AssertionError(f"no valid props for {construct.__name__}: add them here")


def test_there_are_valid_props_for_every_public_construct(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSTRUCTS_LIB_LAYER_CACHE", str(tmp_path / "cache"))
    for construct in public_constructs():
        stack = new_stack()
        construct(stack, "Made", **valid_props(construct, stack, tmp_path))


# One wrong type per construct, and what it now says.
WRONG_TYPES: list[tuple[type[Construct], str, Callable[[cdk.Stack], Any], str]] = [
    (DestinedFunction, "on_failure", lambda s: sqs.Queue(s, "Queue"), "wrap it in a route: QueueRoute(queue)"),
    (DurableFunction, "execution_timeout", lambda s: 3600, "execution_timeout: expected a Duration"),
    (FunctionWorkflow, "steps", lambda s: [function(s)], "wrap it in a step: Invoke('StepName', function)"),
    (ExecutionStatusNotifications, "statuses", lambda s: ["FAILED"], "use ExecutionStatus.FAILED"),
    (EventPipeline, "target", lambda s: None, "target: expected a Route, got None; this prop is required"),
    (DefectDetectionPipeline, "endpoint", lambda s: "pcb-defects", "make one with DefectEndpoint.from_endpoint_name"),
    (PowerTuning, "default_power_values", lambda s: ["128"], "default_power_values[0]: expected an int, got '128'"),
    (S3BatchLambdaJob, "manifest", lambda s: None, "make one with BatchManifest.from_bucket(...)"),
    (SlackErrorReporter, "webhook", lambda s: SlackWebhook.from_secret(URL), "webhook.secret: expected a"),  # type: ignore[arg-type]
    (SlackNotifier, "retry_attempts", lambda s: "2", "retry_attempts: expected an int or None, got '2' (str)"),
    (PythonDependencyLayer, "code_dir", lambda s: 42, "code_dir: expected a str or an os.PathLike[str] or None"),
]


@pytest.mark.parametrize(
    ("construct", "prop", "value", "expected"), WRONG_TYPES, ids=[case[0].__name__ for case in WRONG_TYPES]
)
def test_rejects_a_wrong_type(  # noqa: PLR0917 - the parameters of a case
    construct: type[Construct],
    prop: str,
    value: Callable[[cdk.Stack], Any],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONSTRUCTS_LIB_LAYER_CACHE", str(tmp_path / "cache"))
    stack = new_stack()
    given_props = {**valid_props(construct, stack, tmp_path), prop: value(stack)}
    message = problems(lambda: construct(stack, "Made", **given_props))
    assert expected in message
    assert URL not in message


def test_every_public_construct_has_a_wrong_type_case() -> None:
    assert sorted(c.__name__ for c in public_constructs()) == sorted(case[0].__name__ for case in WRONG_TYPES)


def test_names_the_construct_path_and_every_problem_of_the_call() -> None:
    stack = new_stack()
    with pytest.raises(ConstructPropsError) as caught:
        DestinedFunction(stack, "Orders", function_props=props(), max_event_age=3600, retry_attempts=True)  # type: ignore[arg-type]
    assert caught.value.construct_path == "Test/Orders"
    assert len(caught.value.problems) == 2


def test_rejects_unknown_missing_and_positional_props() -> None:
    stack = new_stack()
    assert "on_falure: no such prop; did you mean on_failure?" in problems(
        lambda: DestinedFunction(stack, "A", function_props=props(), on_falure=QueueRoute())  # type: ignore[call-arg]
    )
    assert "target: required, give a Route" in problems(lambda: EventPipeline(stack, "B"))  # type: ignore[call-arg]
    assert "give the props as keywords" in problems(lambda: EventPipeline(stack, "C", QueueRoute()))  # type: ignore[call-arg]


def test_checks_a_method_s_props() -> None:
    stack = new_stack()
    made = DestinedFunction(stack, "Orders", function_props=props(), on_success=EventBusRoute())
    message = problems(lambda: made.add_result_rule("Accepted", route=sqs.Queue(stack, "Q")))  # type: ignore[arg-type]
    assert "route: expected a Route, got an sqs.Queue (Test/Q); wrap it in a route: QueueRoute(queue)" in message


# ------------------------------------------------------------------------------------------------ the review's cases


def _other_stack_function(stack: cdk.Stack) -> object:
    other = cdk.Stack(stack.node.scope, "Other", env=ENV)  # type: ignore[arg-type]
    return DestinedFunction(stack, "Made", function=function(other))


def _twice(stack: cdk.Stack) -> object:
    shared = function(stack)
    DestinedFunction(stack, "First", function=shared)
    return DestinedFunction(stack, "Made", function=shared)


def _notifications(stack: cdk.Stack, **overrides: Any) -> object:
    machine = sfn.StateMachine.from_state_machine_arn(stack, "Machine", MACHINE_ARN)
    values: dict[str, Any] = {"state_machine": machine, "statuses": [ExecutionStatus.FAILED], "route": QueueRoute()}
    return ExecutionStatusNotifications(stack, "Made", **{**values, **overrides})


REVIEW_CASES: list[tuple[str, Callable[[cdk.Stack], object], str]] = [
    (
        "on_failure=sqs.Queue(...)",
        lambda s: DestinedFunction(s, "Made", function_props=props(), on_failure=sqs.Queue(s, "Q")),  # type: ignore[arg-type]
        "on_failure: expected a Route or None, got an sqs.Queue (Test/Q); wrap it in a route: QueueRoute(queue)",
    ),
    (
        "on_success=SqsDestination(q)",
        lambda s: DestinedFunction(
            s,
            "Made",
            function_props=props(),
            on_success=destinations.SqsDestination(sqs.Queue(s, "Q")),  # type: ignore[arg-type]
        ),
        "on_success: expected a Route or None, got a lambda_destinations.SqsDestination; the library makes the "
        "Lambda destination from a route",
    ),
    (
        "on_success=EventBusRoute (the class)",
        lambda s: DestinedFunction(s, "Made", function_props=props(), on_success=EventBusRoute),  # type: ignore[arg-type]
        "on_success: expected a Route or None, got the class EventBusRoute; give an instance: EventBusRoute(...)",
    ),
    (
        'function="my-fn"',
        lambda s: DestinedFunction(s, "Made", function="my-fn"),  # type: ignore[arg-type]
        "function: expected a lambda_.IFunction or None, got 'my-fn' (str); give the resource itself",
    ),
    (
        "max_event_age=3600",
        lambda s: DestinedFunction(s, "Made", function_props=props(), max_event_age=3600),  # type: ignore[arg-type]
        "max_event_age: expected a Duration or None, got 3600 (int); give a Duration, e.g. Duration.seconds(3600)",
    ),
    (
        "retry_attempts=True",
        lambda s: DestinedFunction(s, "Made", function_props=props(), retry_attempts=True),
        "retry_attempts: expected an int or None, got True (bool); give a number, not True or False",
    ),
    (
        'statuses=["FAILED"]',
        lambda s: _notifications(s, statuses=["FAILED"]),
        "statuses[0]: expected an ExecutionStatus, got 'FAILED' (str); use ExecutionStatus.FAILED",
    ),
    (
        "steps=[fn]",
        lambda s: FunctionWorkflow(s, "Made", steps=[function(s)]),  # type: ignore[list-item]
        "steps[0]: expected a Step, got a lambda_.Function (Test/Fn); wrap it in a step: Invoke('StepName', function)",
    ),
    (
        "target=None",
        lambda s: EventPipeline(s, "Made", target=None, schedule=events.Schedule.rate(Duration.hours(1))),  # type: ignore[arg-type]
        "target: expected a Route, got None; this prop is required (BucketRoute, EventBusRoute, FunctionRoute",
    ),
    (
        "manifest=None",
        lambda s: S3BatchLambdaJob(s, "Made", manifest=None, function_props=props("job.process")),  # type: ignore[arg-type]
        "manifest: expected a BatchManifest, got None; this prop is required (make one with "
        "BatchManifest.from_bucket(...)",
    ),
    (
        "state_machine=None",
        lambda s: _notifications(s, state_machine=None),
        "state_machine: expected a sfn.IStateMachine, got None; this prop is required",
    ),
    (
        'default_power_values=["128"]',
        lambda s: PowerTuning(s, "Made", function_name_prefix="tuned-", default_power_values=["128"]),  # type: ignore[list-item]
        "default_power_values[0]: expected an int, got '128' (str)",
    ),
    (
        "code_dir=42",
        lambda s: PythonDependencyLayer(s, "Made", code_dir=42),  # type: ignore[arg-type]
        "code_dir: expected a str or an os.PathLike[str] or None, got 42 (int)",
    ),
    (
        "SlackWebhook.from_secret(url)",
        lambda s: SlackErrorReporter(s, "Made", webhook=SlackWebhook.from_secret(URL)),  # type: ignore[arg-type]
        "webhook.secret: expected a secretsmanager.ISecret or None, got a URL (https://hooks.slack.com/...); a URL "
        "given here would be written into the template",
    ),
    (
        "RetryRule(interval=Duration.millis(500))",
        lambda s: FunctionWorkflow(
            s, "Made", function_props=props(), retries=[RetryRule(interval=Duration.millis(500))]
        ),
        "retries: RetryRule.interval must be a whole number of seconds, got 500 millis (0.5 s); use "
        "Duration.seconds(1)",
    ),
    (
        "max_event_age=Duration.millis(90_500)",
        lambda s: DestinedFunction(s, "Made", function_props=props(), max_event_age=Duration.millis(90_500)),
        "max_event_age must be a whole number of seconds, got 1 minute 30 seconds (90.5 s); use Duration.seconds(90)",
    ),
    (
        "timeout=Duration.millis(1500) in function_props",
        lambda s: DestinedFunction(s, "Made", function_props=props(timeout=Duration.millis(1500))),
        "function_props.timeout must be a whole number of seconds, got 1 second 500 millis (1.5 s)",
    ),
    (
        "memory_size=0",
        lambda s: DestinedFunction(s, "Made", function_props=props(memory_size=0)),
        "function_props.memory_size must be 128 to 10240 MB (Lambda's range), got 0",
    ),
    (
        "memory_size=65536",
        lambda s: FunctionWorkflow(s, "Made", function_props=props(memory_size=65_536)),
        "function_props.memory_size must be 128 to 10240 MB (Lambda's range), got 65536",
    ),
    (
        "timeout=Duration.minutes(16) in function_props",
        lambda s: DestinedFunction(s, "Made", function_props=props(timeout=Duration.minutes(16))),
        "function_props.timeout must be 1 second to 15 minutes (Lambda's range), got 16 min",
    ),
    (
        "timeout=Duration.seconds(0) in function_props",
        lambda s: SlackNotifier(
            s,
            "Made",
            reporter=SlackErrorReporter(s, "Reporter", webhook=SlackWebhook.from_parameter("/slack/hook")),
            function_props=lambda_.FunctionOptions(timeout=Duration.seconds(0)),
        ),
        "function_props.timeout must be 1 second to 15 minutes (Lambda's range), got 0 s",
    ),
    (
        "evaluation_periods=0",
        lambda s: DestinedFunction(s, "Made", function_props=props(), alarms=AsyncAlarmOptions(evaluation_periods=0)),
        "alarms.evaluation_periods must be 1 or more (periods that must breach), got 0",
    ),
    (
        "alarm period of 45 s",
        lambda s: FunctionWorkflow(
            s, "Made", function_props=props(), alarms=WorkflowAlarmOptions(period=Duration.seconds(45))
        ),
        "alarms.period must be 10 s, 30 s or a multiple of 60 s (CloudWatch's alarm periods), got 45 s",
    ),
    (
        "workflow timeout=Duration.seconds(0)",
        lambda s: FunctionWorkflow(s, "Made", function_props=props(), timeout=Duration.seconds(0)),
        "timeout must be 1 second to 1 year (a Standard execution's longest), got 0 s",
    ),
    (
        "workflow timeout=Duration.days(400)",
        lambda s: FunctionWorkflow(s, "Made", function_props=props(), timeout=Duration.days(400)),
        "timeout must be 1 second to 1 year (a Standard execution's longest), got 400 days",
    ),
    (
        "power tuning timeout=Duration.seconds(0)",
        lambda s: PowerTuning(s, "Made", function_name_prefix="tuned-", timeout=Duration.seconds(0)),
        "timeout must be 1 second to 1 year (a Standard execution's longest), got 0 s",
    ),
    (
        "retries=[RetryRule()] with retry_attempts=2",
        lambda s: FunctionWorkflow(s, "Made", function_props=props(), retries=[RetryRule()], retry_attempts=2),
        "retries[0] retries every error (States.ALL), and retry_attempts= adds a second States.ALL retrier after it, "
        "never reached",
    ),
    (
        "a States.ALL RetryRule before another",
        lambda s: FunctionWorkflow(
            s, "Made", steps=[Invoke("Run", function(s), retries=[RetryRule(), RetryRule(errors=["Custom"])])]
        ),
        "step 'Run' retries[0] retries every error (States.ALL), so the 1 retrier(s) after it are never reached",
    ),
    (
        "a function from another stack",
        _other_stack_function,
        "function is in another stack (Other): its asynchronous invocation configuration and the grants to reach "
        "its routes belong to the function's stack",
    ),
    (
        "two async configurations on one function",
        _twice,
        "function already has an asynchronous invocation configuration (another DestinedFunction, or "
        "configure_async_invoke)",
    ),
    (
        "an alarm option of the wrong type",
        lambda s: EventPipeline(
            s,
            "Made",
            target=QueueRoute(),
            schedule=events.Schedule.rate(Duration.hours(1)),
            alarms=AlarmOptions(actions="arn:aws:sns:us-east-1:123456789012:ops"),  # type: ignore[arg-type]
        ),
        "alarms.actions: expected a list of cloudwatch.IAlarmAction, got 'arn:aws:sns:us-east-1:123456789012:ops' "
        "(str); give a list",
    ),
]


@pytest.mark.parametrize(("build", "expected"), [c[1:] for c in REVIEW_CASES], ids=[c[0] for c in REVIEW_CASES])
def test_rejects_the_review_s_case_with_a_clear_message(build: Callable[[cdk.Stack], object], expected: str) -> None:
    message = problems(lambda: build(new_stack()))
    assert expected in message


# ------------------------------------------------------------------------------------------------ tokens


def test_valid_tokens_are_never_refused_and_never_written_as_garbage() -> None:
    stack = new_stack()

    def number(name: str) -> float:
        return cdk.Token.as_number(cdk.CfnParameter(stack, name, type="Number").value_as_number)

    DestinedFunction(
        stack,
        "Destined",
        function_props=props(),
        retry_attempts=number("Retries"),  # type: ignore[arg-type]
        alarms=AsyncAlarmOptions(event_age_threshold=Duration.millis(number("AgeMs"))),
    )
    FunctionWorkflow(
        stack,
        "Workflow",
        function_props=props(),
        retries=[RetryRule(max_attempts=number("MaxAttempts"), backoff_rate=number("Backoff"))],  # type: ignore[arg-type]
    )
    S3BatchLambdaJob(
        stack,
        "Job",
        manifest=BatchManifest.from_prefix(s3.Bucket.from_bucket_name(stack, "Docs", "docs"), "reviews/"),
        function_props=props("job.process"),
        priority=number("Priority"),  # type: ignore[arg-type]
    )
    PowerTuning(stack, "Tuner", function_name_prefix="tuned-", default_power_values=[number("Power"), 256])  # type: ignore[list-item]
    SlackErrorReporter(
        stack,
        "Slack",
        webhook=SlackWebhook.from_parameter("/slack/webhook"),
        timeout=Duration.seconds(number("SlackTimeout")),
        functions=[function(stack)],
    )
    EventPipeline(
        stack,
        "Pipeline",
        target=QueueRoute(),
        schedule=events.Schedule.rate(Duration.hours(1)),
        retry_attempts=number("TargetRetries"),  # type: ignore[arg-type]
    )
    text = json.dumps(stack.resolve(cdk.assertions.Template.from_stack(stack).to_json()))
    assert re.findall(r"-?\d\.\d+e\+\d{2,}", text) == []  # an encoded number token, written as a number
    for name in ("Retries", "AgeMs", "MaxAttempts", "Backoff", "Priority", "Power", "SlackTimeout", "TargetRetries"):
        assert json.dumps({"Ref": name}) in text, name


def test_a_token_in_a_unit_cloudformation_cannot_convert_is_a_clear_error() -> None:
    stack = new_stack()
    number = cdk.Token.as_number(cdk.CfnParameter(stack, "Seconds", type="Number").value_as_number)
    message = problems(
        lambda: SlackErrorReporter(
            stack, "Slack", webhook=SlackWebhook.from_parameter("/slack/webhook"), timeout=Duration.millis(number)
        )
    )
    assert "timeout is a token in another unit than seconds" in message
    message = problems(
        lambda: DestinedFunction(
            stack,
            "Made",
            function_props=props(),
            alarms=AsyncAlarmOptions(event_age_threshold=Duration.seconds(number)),
        )
    )
    assert "alarms.event_age_threshold is a token in another unit than milliseconds" in message


# ------------------------------------------------------------------------------------------------ property-based

BAD_VALUES: list[Callable[[cdk.Stack], Any]] = [
    lambda s: None,
    lambda s: True,
    lambda s: 0,
    lambda s: -1,
    lambda s: 1.5,
    lambda s: 2**40,
    lambda s: "x",
    lambda s: URL,
    lambda s: [],
    lambda s: ["x"],
    lambda s: [None],
    lambda s: {"a": 1},
    lambda s: object(),
    lambda s: Duration.millis(500),
    lambda s: Duration.seconds(0),
    lambda s: Duration.days(400),
    lambda s: EventBusRoute,
    lambda s: sqs.Queue(s, "BadQueue"),
    lambda s: function(s, "BadFunction"),
    lambda s: AsyncAlarmOptions(evaluation_periods=0),
    lambda s: WorkflowAlarmOptions(period=Duration.seconds(7)),
    lambda s: [RetryRule(interval=Duration.millis(10))],
    lambda s: [RetryRule(max_attempts="3")],  # type: ignore[arg-type]
    lambda s: props(memory_size=64),
    lambda s: QueueRoute(queue="orders"),  # type: ignore[arg-type]
]


def keyword_props(construct: type[Construct]) -> list[str]:
    parameters = inspect.signature(construct.__init__).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


@pytest.mark.parametrize("construct", public_constructs(), ids=lambda c: c.__name__)
def test_any_wrong_or_out_of_range_prop_is_a_construct_props_error(
    construct: type[Construct], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path_factory.mktemp(construct.__name__)
    monkeypatch.setenv("CONSTRUCTS_LIB_LAYER_CACHE", str(tmp_path / "cache"))
    names = keyword_props(construct)
    changes = st.lists(
        st.tuples(st.sampled_from(names), st.sampled_from(range(len(BAD_VALUES)))), min_size=1, max_size=3
    )

    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(changes)
    def construct_with(bad: list[tuple[str, int]]) -> None:
        stack = new_stack()
        values = valid_props(construct, stack, tmp_path)
        for name, index in bad:
            values[name] = BAD_VALUES[index](stack)
        try:
            construct(stack, "Made", **values)
        except ConstructPropsError:
            return
        stack.node.scope.synth()  # type: ignore[union-attr]  # what was accepted must synthesize

    construct_with()
