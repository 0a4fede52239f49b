"""FunctionWorkflow: the Step Functions engine on the same routes. Every definition is checked by asl-validator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    BucketRoute,
    ConstructPropsError,
    DestinedFunction,
    EventBusRoute,
    FunctionRoute,
    QueueRoute,
    Route,
    TopicRoute,
)
from constructs_lib.engines.function_workflow import FunctionWorkflow, StartMode, WorkflowAlarmOptions
from constructs_lib.engines.steps import Choice, ForEach, Invoke, Parallel, RetryRule
from constructs_lib.testing import state_machine_definitions, validate_definition
from tests.conftest import echo_function, workflow_definitions


def definition(template: Template) -> dict[str, Any]:
    """The workflow's state machine's definition (not its failure-record delivery's), checked by asl-validator."""
    definitions = workflow_definitions(template.to_json())
    assert len(definitions) == 1
    (name, found), *_ = definitions.items()
    validate_definition(found, name=name)
    return found


def test_one_function_workflow_catches_to_the_failure_route(stack: cdk.Stack) -> None:
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    states = definition(Template.from_stack(stack))["States"]
    invoke = states["Invoke"]
    lambda_retry = invoke["Retry"][0]
    assert "Lambda.ServiceException" in lambda_retry["ErrorEquals"]  # the AWS-recommended retry stays on
    # the error output replaces the state (a ResultPath into the state fails when the state is a list)
    # the Catch also records how many times the Invoke ran (1 + $$.State.RetryCount), for approximateInvokeCount
    attempts = {"recordInvokeCount.$": "States.MathAdd($$.State.RetryCount, 1)"}
    assert invoke["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Assign": attempts, "Next": "BuildFailureRecord"}
    ]
    assert invoke["Assign"] == attempts  # and so does the Invoke when it succeeds
    build = states["BuildFailureRecord"]
    assert "ResultPath" not in build  # the record replaces the state too, the error kept beside it
    assert build["Parameters"]["error.$"] == "$"
    record = build["Parameters"]["record"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload.$"] == "$$.Execution.Input"
    assert record["responsePayload"] == {"errorType.$": "$.Error", "errorMessage.$": "$.Cause"}
    assert record["requestContext"]["approximateInvokeCount.$"] == "$recordInvokeCount"
    assert "StartInvokeCount" not in states  # the first step (the Invoke) sets the count on every way out
    assert states["DeliverFailure"]["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert states["DeliverFailure"]["ResultPath"] is None
    assert states["Failed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_retry_with_interval_backoff_max_delay_and_jitter(stack: cdk.Stack) -> None:
    rule = RetryRule(
        errors=["OrderPendingError"],
        interval=cdk.Duration.seconds(3),
        max_attempts=4,
        backoff_rate=2.0,
        max_delay=cdk.Duration.seconds(30),
        jitter=True,
    )
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), retries=[rule])
    retries = definition(Template.from_stack(stack))["States"]["Invoke"]["Retry"]
    assert retries[1] == {
        "ErrorEquals": ["OrderPendingError"],
        "IntervalSeconds": 3,
        "MaxAttempts": 4,
        "BackoffRate": 2,
        "MaxDelaySeconds": 30,
        "JitterStrategy": "FULL",
    }


def test_choice_parallel_and_map(stack: cdk.Stack) -> None:
    first, one, two, item = (echo_function(stack, n) for n in ("First", "One", "Two", "Item"))
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Invoke("Start", first),
            Choice(
                "Route",
                branches=[
                    (sfn.Condition.number_equals("$.foo", 1), [Invoke("HandleOne", one)]),
                    (
                        sfn.Condition.and_(sfn.Condition.is_present("$.foo"), sfn.Condition.number_equals("$.foo", 2)),
                        [Parallel("Both", branches=[[Invoke("Left", one)], [Invoke("Right", two)]])],
                    ),
                ],
                default=[Invoke("Fallback", two)],
            ),
            ForEach("Each", items_path="$.items", steps=[Invoke("PerItem", item)], max_concurrency=5),
        ],
        on_success=QueueRoute(),
    )
    states = definition(Template.from_stack(stack))["States"]
    route = states["Route"]
    assert route["Choices"][0] == {"Variable": "$.foo", "NumericEquals": 1, "Next": "HandleOne"}
    assert route["Default"] == "Fallback"
    assert states["HandleOne"]["Next"] == "Each"
    assert states["Both"]["Next"] == "Each"
    assert len(states["Both"]["Branches"]) == 2
    assert states["Each"]["MaxConcurrency"] == 5
    assert states["Each"]["ItemsPath"] == "$.items"
    assert states["Each"]["Next"] == "BuildSuccessRecord"
    assert "Catch" not in states["Both"]["Branches"][0]["States"]["Left"]  # inner errors fail the Parallel
    assert states["Both"]["Catch"][0]["Next"] == "BuildFailureRecord"


def test_choice_without_default_goes_on_with_the_next_step(stack: cdk.Stack) -> None:
    FunctionWorkflow(
        stack,
        "Flow",
        steps=[
            Choice(
                "Route",
                branches=[
                    (sfn.Condition.string_matches("$.kind", "urgent*"), [Invoke("Urgent", echo_function(stack, "U"))])
                ],
            ),
            Invoke("Always", echo_function(stack, "A")),
        ],
    )
    states = definition(Template.from_stack(stack))["States"]
    assert states["Route"]["Default"] == "Always"
    assert states["Urgent"]["Next"] == "Always"


@pytest.mark.parametrize("kind", ["queue", "topic", "event_bus", "function"])
def test_success_record_is_delivered_by_a_direct_integration(stack: cdk.Stack, kind: str) -> None:
    routes: dict[str, Callable[[], Route]] = {
        "queue": QueueRoute,
        "topic": TopicRoute,
        "event_bus": EventBusRoute,
        "function": lambda: FunctionRoute(echo_function(stack, "Consumer")),
    }
    resources = {
        "queue": "arn:aws:states:::sqs:sendMessage",
        "topic": "arn:aws:states:::sns:publish",
        "event_bus": "arn:aws:states:::events:putEvents",
        "function": "arn:aws:states:::lambda:invoke",
    }
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), on_success=routes[kind]())
    states = definition(Template.from_stack(stack))["States"]
    assert states["Invoke"]["Next"] == "BuildSuccessRecord"
    build = states["BuildSuccessRecord"]
    assert "ResultPath" not in build  # {"record": ...} replaces the state, which may be a list
    record = build["Parameters"]["record"]
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload.$"] == "$"
    assert states["DeliverSuccess"]["Resource"] == resources[kind]
    assert states["ReturnOutput"]["InputPath"] == "$.record.responsePayload"
    if kind == "event_bus":
        entry = states["DeliverSuccess"]["Parameters"]["Entries"][0]
        assert entry["DetailType"] == "Lambda Function Invocation Result - Success"
        assert entry["Detail.$"] == "$.record"
    if kind == "function":
        assert states["DeliverSuccess"]["Parameters"]["InvocationType"] == "Event"


def test_bucket_on_failure_writes_the_record_as_an_object(stack: cdk.Stack) -> None:
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), on_failure=BucketRoute())
    deliver = definition(Template.from_stack(stack))["States"]["DeliverFailure"]
    assert deliver["Resource"] == "arn:aws:states:::aws-sdk:s3:putObject"
    assert deliver["Parameters"]["Body.$"] == "States.JsonToString($.record)"


def test_logging_tracing_and_timeout_defaults(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": Match.string_like_regexp("^/aws/vendedlogs/states/")}
    )
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": False, "Destinations": Match.any_value()},
        },
    )
    assert definition(template)["TimeoutSeconds"] == 3600
    assert workflow.log_group is not None
    assert workflow.role is not None


def test_express_sync_start_grants_start_sync_execution(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(
        stack,
        "Flow",
        function=echo_function(stack, "Fn"),
        state_machine_type=sfn.StateMachineType.EXPRESS,
        start=StartMode.SYNC,
    )
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    workflow.grant_start(caller)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {"StateMachineType": "EXPRESS"})
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {"Statement": [Match.object_like({"Action": "states:StartSyncExecution"})]},
            "Roles": [{"Ref": Match.string_like_regexp("Caller")}],
        },
    )
    assert definition(template)["TimeoutSeconds"] == 300


def test_standard_grants_start_execution_and_refuses_sync(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    workflow.grant_start(caller)
    with pytest.raises(ValueError, match="EXPRESS state machines only"):
        workflow.grant_start_sync_execution(caller)
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": [Match.object_like({"Action": "states:StartExecution"})]}},
    )


def test_alarms_on_failed_timed_out_aborted_throttled(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    assert sorted(name for name in workflow.alarms if name.startswith("Execution")) == [
        "ExecutionThrottled",
        "ExecutionsAborted",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]
    alarms = Template.from_stack(stack).find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "AWS/States"}}
    )
    # the workflow's four, and the same four of the Express state machine that delivers timed-out and aborted
    # executions' records
    assert sorted(a["Properties"]["MetricName"] for a in alarms.values()) == sorted(
        [name for name in workflow.alarms if name.startswith("Execution")] * 2
    )
    assert {f"StatusFailures{name}" for name in workflow.alarms if name.startswith("Execution")} <= set(workflow.alarms)


def test_alarms_on_failure_records_waiting_and_on_every_queue_it_makes(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    assert {
        "FailureQueueMessages",
        "OnFailureQueueOldestMessageAge",
        "OnFailureQueueDeadLetterQueueMessagesVisible",
        "OnFailureQueueDeadLetterQueueOldestMessageAge",
    } <= set(workflow.alarms)
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [
                {
                    "Name": "QueueName",
                    "Value": {"Fn::GetAtt": [Match.string_like_regexp("FlowOnFailureQueue"), "QueueName"]},
                }
            ],
            "Statistic": "Maximum",
            "Threshold": 1,
        },
    )


def test_alarms_can_be_turned_off(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(
        stack, "Flow", function=echo_function(stack, "Fn"), alarms=WorkflowAlarmOptions(enabled=False)
    )
    assert workflow.alarms == {}
    assert workflow.metric_failed().metric_name == "ExecutionsFailed"
    assert not [a for a in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm") if "Flow" in a]


@pytest.mark.parametrize(
    ("method", "metric_name", "statistic"),
    [
        ("metric_started", "ExecutionsStarted", "Sum"),
        ("metric_succeeded", "ExecutionsSucceeded", "Sum"),
        ("metric_failed", "ExecutionsFailed", "Sum"),
        ("metric_timed_out", "ExecutionsTimedOut", "Sum"),
        ("metric_aborted", "ExecutionsAborted", "Sum"),
        ("metric_throttled", "ExecutionThrottled", "Sum"),
        ("metric_time", "ExecutionTime", "Average"),
    ],
)
def test_each_metric_has_its_documented_default_statistic_and_takes_metric_options(
    stack: cdk.Stack, method: str, metric_name: str, statistic: str
) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    metric = getattr(workflow, method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/States", metric_name, statistic)
    assert metric.period.to_seconds() == 300
    assert statistic in (getattr(workflow, method).__doc__ or "")
    tuned = getattr(workflow, method)(statistic="Maximum", period=cdk.Duration.minutes(1))
    assert (tuned.statistic, tuned.period.to_seconds()) == ("Maximum", 60)


# ------------------------------------------------------------------------------------------ bad input


def test_rejects_sync_start_on_standard(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="works with EXPRESS state machines only"):
        FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), start=StartMode.SYNC)


def test_rejects_a_choice_with_no_branch(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="a Choice needs at least one"):
        FunctionWorkflow(stack, "Flow", steps=[Choice("Route", branches=[])])


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (RetryRule(backoff_rate=0.5), "backoff_rate must be at least 1.0"),
        (RetryRule(max_attempts=-1), "max_attempts must be 0 to 99999999, got -1"),
        (RetryRule(errors=[]), "RetryRule.errors is empty"),
        (RetryRule(interval=cdk.Duration.seconds(10), max_delay=cdk.Duration.seconds(5)), "shorter than interval"),
    ],
)
def test_rejects_bad_retry_rules(stack: cdk.Stack, rule: RetryRule, expected: str) -> None:
    with pytest.raises(ConstructPropsError, match=expected):
        FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), retries=[rule])


def test_rejects_a_map_without_items_path(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="ForEach needs items_path"):
        FunctionWorkflow(
            stack, "Flow", steps=[ForEach("Each", items_path="", steps=[Invoke("I", echo_function(stack, "Fn"))])]
        )


def test_rejects_routes_aws_would_refuse(stack: cdk.Stack) -> None:
    fifo = sqs.Queue(stack, "Fifo", fifo=True, enforce_ssl=True)
    with pytest.raises(ConstructPropsError) as error:
        FunctionWorkflow(
            stack, "Flow", function=echo_function(stack, "Fn"), on_success=BucketRoute(), on_failure=QueueRoute(fifo)
        )
    text = "\n".join(error.value.problems)
    assert "an S3 bucket can only receive failures" in text
    assert "a FIFO queue cannot be a destination" in text


def test_rejects_duplicate_step_names_and_long_express_timeout(stack: cdk.Stack) -> None:
    fn = echo_function(stack, "Fn")
    with pytest.raises(ConstructPropsError) as error:
        FunctionWorkflow(
            stack,
            "Flow",
            steps=[Invoke("Same", fn), Invoke("Same", fn)],
            state_machine_type=sfn.StateMachineType.EXPRESS,
            timeout=cdk.Duration.minutes(10),
        )
    text = "\n".join(error.value.problems)
    assert "repeated: ['Same']" in text
    assert "runs at most 5 minutes" in text


def test_rejects_neither_function_nor_steps(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructPropsError, match="give function="):
        FunctionWorkflow(stack, "Flow")


def test_asl_validator_finds_an_invalid_definition() -> None:
    from constructs_lib.testing import AslValidationError

    broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
    with pytest.raises(AslValidationError, match="MISSING_TRANSITION_TARGET"):
        validate_definition(broken, name=json.dumps("broken"))


def test_switching_engines_is_a_one_line_change(stack: cdk.Stack) -> None:
    """The same keyword arguments build either engine."""
    role = iam.Role(stack, "FnRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    fn = lambda_.Function(
        stack,
        "Fn",
        role=role,
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    common: dict[str, Any] = {"function": fn, "on_success": EventBusRoute(), "retry_attempts": 2}
    DestinedFunction(stack, "Destinations", **common)
    FunctionWorkflow(stack, "Workflow", **common)
    states = definition(Template.from_stack(stack))["States"]
    assert states["Invoke"]["Retry"][-1] == {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 60,
        "MaxAttempts": 2,
        "BackoffRate": 2,
    }


def test_customer_managed_key_encrypts_the_state_machine(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), encryption_key=key)
    Template.from_stack(stack).has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "EncryptionConfiguration": Match.object_like(
                {"Type": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": Match.any_value()}
            )
        },
    )


def test_function_props_make_the_one_step_function_with_the_secure_defaults(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(
        stack,
        "Flow",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        ),
        retry_attempts=1,
    )
    assert isinstance(workflow.function, lambda_.Function)
    assert workflow.functions == [workflow.function]
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Lambda::Function", {"TracingConfig": {"Mode": "Active"}})
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    assert definition(template)["States"]["Invoke"]["Retry"][-1]["MaxAttempts"] == 1


def test_rejects_function_and_function_props_together(stack: cdk.Stack) -> None:
    fn = echo_function(stack, "Fn")
    props = lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline("x = 1")
    )
    with pytest.raises(ConstructPropsError, match=r"either function= .* or function_props= .*, not both"):
        FunctionWorkflow(stack, "Flow", function=fn, function_props=props)


def test_rejects_asynchronous_invocation_options_in_function_props(stack: cdk.Stack) -> None:
    props = lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("x = 1"),
        retry_attempts=1,
    )
    with pytest.raises(ConstructPropsError, match=r"function_props\.retry_attempts is set: .* on FunctionWorkflow"):
        FunctionWorkflow(stack, "Flow", function_props=props)


def test_rejects_function_with_steps_and_retries_with_steps(stack: cdk.Stack) -> None:
    fn = echo_function(stack, "Fn")
    with pytest.raises(ConstructPropsError, match="not both"):
        FunctionWorkflow(stack, "Both", function=fn, steps=[Invoke("Other", fn)])
    with pytest.raises(ConstructPropsError, match="give each step its own retries"):
        FunctionWorkflow(stack, "Retries", steps=[Invoke("Only", fn)], retry_attempts=2)


# ------------------------------------------------------------------------------------------ nothing lost


def test_deliveries_retry_the_service_s_throttling_and_internal_errors(stack: cdk.Stack) -> None:
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), on_success=TopicRoute())
    states = definition(Template.from_stack(stack))["States"]
    (failure,) = states["DeliverFailure"]["Retry"]
    assert failure["ErrorEquals"] == ["SQS.AmazonSQSException", "SQS.SdkClientException"]
    assert (failure["IntervalSeconds"], failure["BackoffRate"], failure["MaxAttempts"]) == (1, 2, 6)
    assert (failure["MaxDelaySeconds"], failure["JitterStrategy"]) == (30, "FULL")
    (success,) = states["DeliverSuccess"]["Retry"]
    assert "SNS.ThrottledException" in success["ErrorEquals"]
    assert "SNS.InternalErrorException" in success["ErrorEquals"]


def test_a_standard_workflow_delivers_timed_out_and_aborted_executions_records(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    assert workflow.status_failure_records is not None
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.states"],
                "detail-type": ["Step Functions Execution Status Change"],
                "detail": {
                    "status": ["TIMED_OUT", "ABORTED"],
                    "stateMachineArn": [{"Ref": Match.string_like_regexp("^FlowStateMachine")}],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": Match.string_like_regexp("FlowStatusFailuresStateMachine")},
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )
    definitions = state_machine_definitions(template.to_json())
    (name, delivery), *_ = [(n, d) for n, d in definitions.items() if "StatusFailures" in n]
    validate_definition(delivery, name=name)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"StateMachineType": "EXPRESS", "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("StatusFailures"), "Arn"]}},
    )
    states = delivery["States"]
    for condition, error in (("TimedOut", "States.Timeout"), ("Aborted", "States.Aborted")):
        record = states[f"Build{condition}Record"]["Parameters"]
        assert record["requestContext"]["condition"] == condition
        assert record["requestPayload.$"] == "States.StringToJson($.detail.input)"
        assert record["responsePayload"]["errorType"] == error
        assert states[f"Build{condition}Record"]["Next"] == "DeliverFailure"
    # the same route as the workflow's own failure path, the same queue
    assert (
        states["DeliverFailure"]["Parameters"]["QueueUrl"]
        == (definition(template)["States"]["DeliverFailure"]["Parameters"]["QueueUrl"])
    )
    assert states["DeliverFailure"]["Retry"][0]["ErrorEquals"] == ["SQS.AmazonSQSException", "SQS.SdkClientException"]


def test_an_express_workflow_has_no_status_change_events_to_read(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(
        stack, "Flow", function=echo_function(stack, "Fn"), state_machine_type=sfn.StateMachineType.EXPRESS
    )
    assert workflow.status_failure_records is None
    assert len(state_machine_definitions(Template.from_stack(stack).to_json())) == 1


def test_the_status_failure_delivery_takes_the_workflow_s_alarm_settings(stack: cdk.Stack) -> None:
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:us-east-1:123456789012:ops")
    FunctionWorkflow(
        stack,
        "On",
        function=echo_function(stack, "Fn"),
        alarms=WorkflowAlarmOptions(actions=[cloudwatch_actions.SnsAction(topic)]),
    )
    FunctionWorkflow(stack, "Off", function=echo_function(stack, "Other"), alarms=WorkflowAlarmOptions(enabled=False))
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert not [lid for lid in alarms if lid.startswith("Off")]
    ours = {lid: a["Properties"].get("AlarmActions") for lid, a in alarms.items() if lid.startswith("OnStatusFailures")}
    assert len(ours) == 6  # four on the Express state machine, two on its rule's DLQ
    assert all(actions == ["arn:aws:sns:us-east-1:123456789012:ops"] for actions in ours.values())


def workflow_log_groups(template: Template) -> dict[str, Any]:
    """The state machines' log groups (not the function's)."""
    return {
        logical_id: group
        for logical_id, group in template.find_resources("AWS::Logs::LogGroup").items()
        if str(group["Properties"].get("LogGroupName", "")).startswith("/aws/vendedlogs/states/")
    }


def test_log_encryption_key_encrypts_the_log_groups_and_lets_cloudwatch_logs_use_it(stack: cdk.Stack) -> None:
    """The workflow's log group and the StatusFailures machine's are encrypted with the key, whose policy lets
    CloudWatch Logs of the stack's region use it for those two log groups only, as
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html asks."""
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), log_encryption_key=key)
    assert workflow.status_failure_records is not None
    template = Template.from_stack(stack)
    key_arn = {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}  # type: ignore[arg-type]
    groups = workflow_log_groups(template)
    assert len(groups) == 2
    names = sorted(group["Properties"]["LogGroupName"] for group in groups.values())
    assert all(group["Properties"]["KmsKeyId"] == key_arn for group in groups.values())
    statements = template.find_resources("AWS::KMS::Key")[stack.get_logical_id(key.node.default_child)][  # type: ignore[arg-type]
        "Properties"
    ]["KeyPolicy"]["Statement"]
    for_logs = [s for s in statements if s.get("Principal") == {"Service": "logs.us-east-1.amazonaws.com"}]
    assert len(for_logs) == 2
    for statement in for_logs:
        assert statement["Effect"] == "Allow"
        assert sorted(statement["Action"]) == sorted(
            ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        )
        assert statement["Resource"] == "*"
    arns = sorted(s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] for s in for_logs)
    assert arns == [f"arn:aws:logs:us-east-1:123456789012:log-group:{name}" for name in names]


def test_log_groups_use_cloudwatch_logs_encryption_by_default(stack: cdk.Stack) -> None:
    FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"))
    groups = workflow_log_groups(Template.from_stack(stack))
    assert len(groups) == 2
    assert all("KmsKeyId" not in group["Properties"] for group in groups.values())


def test_rejects_log_encryption_key_with_a_log_group_of_your_own(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)
    own = logs.LogGroup(stack, "Own", encryption_key=key)
    with pytest.raises(ConstructPropsError, match="give the key to your own log group"):
        FunctionWorkflow(stack, "Flow", function=echo_function(stack, "Fn"), log_group=own, log_encryption_key=key)
