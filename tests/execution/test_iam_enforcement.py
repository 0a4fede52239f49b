"""The kit enforces the template's IAM and KMS policies: a grant removed from the SYNTHESIZED template (the test edits
the template, never the library) makes the call fail as it fails on AWS, and the kit names the principal, the action,
the resource and what was missing.

One case at least per example stack, the SNS-KMS workflow case among them (a workflow publishing to its encrypted
topic without the key grant), resource-policy cases (a Lambda permission, a queue policy, a key policy), the errors
each service answers with, the ``iam=`` modes, and a statement the evaluator cannot decide. The example workflows'
cases run twice, their states in JSONPath and in JSONata (``language_example_stacks``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs_lib import EventPipeline, QueueRoute
from constructs_lib.testing import AccessDenial, LocalKit, SynthesizedStack
from tests.conftest import synthesized
from tests.execution.test_power_tuning_execution import TUNER, tuning_input
from tests.execution.test_s3_batch_execution import Comprehend
from tests.slack_server import SlackWebhookServer

pytestmark = pytest.mark.execution

Template = dict[str, Any]
PNG = b"\x89PNG\r\n\x1a\n"


# -- editing a synthesized template ------------------------------------------------------------------------------
def edited(stack: cdk.Stack, *edits: Callable[[Template], None]) -> SynthesizedStack:
    """``stack`` as synthesized, with its template changed by ``edits`` (on a copy: other tests see the original)."""
    found = synthesized(stack)
    template: Template = copy.deepcopy(dict(found.template))
    for edit in edits:
        edit(template)
    return dataclasses.replace(found, template=template)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def without_action(policy_prefix: str, action: str) -> Callable[[Template], None]:
    """Removes ``action`` from the identity policies whose logical id starts with ``policy_prefix`` (a statement left
    with no action goes too)."""

    def edit(template: Template) -> None:
        found = False
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::IAM::Policy" or not logical_id.startswith(policy_prefix):
                continue
            statements: list[dict[str, Any]] = resource["Properties"]["PolicyDocument"]["Statement"]
            for statement in list(statements):
                actions = _actions(statement)
                if action in actions:
                    found = True
                    kept = [a for a in actions if a != action]
                    if kept:
                        statement["Action"] = kept
                    else:
                        statements.remove(statement)
        assert found, f"no statement of a policy {policy_prefix}* grants {action}"

    return edit


def without_resource(logical_id_prefix: str, resource_type: str) -> Callable[[Template], None]:
    """Removes the resources of ``resource_type`` whose logical id starts with ``logical_id_prefix``."""

    def edit(template: Template) -> None:
        resources: Template = template["Resources"]
        gone = [lid for lid, r in resources.items() if lid.startswith(logical_id_prefix) and r["Type"] == resource_type]
        assert gone, f"no {resource_type} {logical_id_prefix}*"
        for logical_id in gone:
            del resources[logical_id]

    return edit


def without_statements_for(logical_id_prefix: str, document: str, service: str) -> Callable[[Template], None]:
    """Removes the statements naming the service principal ``service`` from the resource policy ``document`` (a
    property: ``PolicyDocument``, ``KeyPolicy``) of the resources whose logical id starts with ``logical_id_prefix``."""

    def edit(template: Template) -> None:
        found = False
        for logical_id, resource in template["Resources"].items():
            if not logical_id.startswith(logical_id_prefix) or document not in resource.get("Properties", {}):
                continue
            statements: list[dict[str, Any]] = resource["Properties"][document]["Statement"]
            kept = [s for s in statements if service not in json.dumps(s.get("Principal", {}))]
            found |= len(kept) < len(statements)
            statements[:] = kept
        assert found, f"no statement of {logical_id_prefix}* {document} names {service}"

    return edit


def denial_of(kit: LocalKit, action: str) -> AccessDenial:
    """The one kind of denial a test expects: every denial refused ``action`` (or its key), for the same reason."""
    denials = kit.denials
    assert denials, f"the kit refused nothing; warnings: {kit.warnings}"
    assert {d.message for d in denials} == {denials[0].message}, [d.message for d in denials]
    assert action in denials[0].missing or denials[0].action == action, denials[0]
    return denials[0]


@pytest.fixture
def slack() -> Iterator[SlackWebhookServer]:
    with SlackWebhookServer() as server:
        yield server


# -- DefectDetection: the SNS-KMS workflow case ------------------------------------------------------------------
def defect_kit(stack: SynthesizedStack, **options: Any) -> LocalKit:
    from stacks.defect_detection_stack import DEFAULT_ENDPOINT_NAME

    return LocalKit(stack, endpoints={DEFAULT_ENDPOINT_NAME: lambda body, content_type: [0.1, 0.9]}, **options)


def test_a_workflow_without_the_topic_key_grant_cannot_alert_and_its_failure_is_recorded(
    language_example_stacks: dict[str, cdk.Stack],
) -> None:
    # What the library granted before it knew SnsPublish does not add the key: sns:Publish, not kms:GenerateDataKey*.
    stack = edited(
        language_example_stacks["DefectDetection"],
        without_action("PipelineWorkflowStateMachineRole", "kms:GenerateDataKey*"),
    )
    with defect_kit(stack) as kit:
        kit.put_object("Pipeline/Images", "incoming/line-4/board-17.png", PNG + b"defect")
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        alerts = kit.received("Pipeline/AlertsTopic")
        failures = kit.received("Pipeline/Workflow/OnFailureQueue")
        denial = denial_of(kit, "kms:GenerateDataKey")

    assert run.status == "FAILED"
    assert run.task_errors("AlertDefect") == ["SNS.KMSAccessDeniedException"]
    assert "Quarantine" not in run.states_entered  # the step after the alert never runs
    assert alerts == []
    assert [f["responsePayload"]["errorType"] for f in failures] == ["SNS.KMSAccessDeniedException"]
    assert denial.message.startswith(
        "role PipelineWorkflowStateMachineRole may not kms:GenerateDataKey on key PipelineAlertsTopicKey "
        "(topic PipelineAlertsTopic is encrypted with it): "
    )
    assert (denial.action, denial.missing, denial.via, denial.kms) == (
        "sns:Publish",
        ("kms:GenerateDataKey",),
        "state-machine-task",
        True,
    )


def test_an_sdk_task_the_role_may_not_make_fails_with_the_sdks_exception_name(
    language_example_stacks: dict[str, cdk.Stack],
) -> None:
    stack = edited(
        language_example_stacks["DefectDetection"],
        without_action("PipelineWorkflowStateMachineRole", "s3:PutObjectTagging"),
    )
    with defect_kit(stack) as kit:
        kit.put_object("Pipeline/Images", "incoming/line-4/board-17.png", PNG + b"defect")
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        denial = denial_of(kit, "s3:PutObjectTagging")

    # aws-sdk:s3:putObjectTagging: S3 answers AccessDenied, which the SDK Step Functions uses raises as S3Exception.
    # S3's throttling and internal errors have that name too, so the step's delivery retrier tries 6 more times.
    assert run.task_errors("Quarantine") == ["S3.S3Exception"] * 7
    assert run.status == "FAILED"
    assert denial.message.startswith(
        "role PipelineWorkflowStateMachineRole may not s3:PutObjectTagging on bucket PipelineImages "
        "(incoming/line-4/board-17.png): "
    )


def test_the_same_workflow_with_the_librarys_grants_alerts_and_quarantines(
    language_example_stacks: dict[str, cdk.Stack],
) -> None:
    with defect_kit(synthesized(language_example_stacks["DefectDetection"])) as kit:
        kit.put_object("Pipeline/Images", "incoming/line-4/board-17.png", PNG + b"defect")
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        alerts = kit.received("Pipeline/AlertsTopic")
        denials = kit.denials

    assert run.status == "SUCCEEDED", run.cause
    assert "Quarantine" in run.states_entered
    assert [alert["key"] for alert in alerts] == ["incoming/line-4/board-17.png"]
    assert denials == []


def test_warn_lets_the_refused_call_through_and_says_so(language_example_stacks: dict[str, cdk.Stack]) -> None:
    stack = edited(
        language_example_stacks["DefectDetection"],
        without_action("PipelineWorkflowStateMachineRole", "kms:GenerateDataKey*"),
    )
    with defect_kit(stack, iam="warn") as kit:
        kit.put_object("Pipeline/Images", "incoming/line-4/board-17.png", PNG + b"defect")
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        denial = denial_of(kit, "kms:GenerateDataKey")
        warnings = kit.warnings

    assert run.status == "SUCCEEDED", run.cause
    assert not denial.enforced
    assert [w for w in warnings if denial.message in w] != []


def test_off_checks_nothing(language_example_stacks: dict[str, cdk.Stack]) -> None:
    stack = edited(
        language_example_stacks["DefectDetection"],
        without_action("PipelineWorkflowStateMachineRole", "kms:GenerateDataKey*"),
    )
    with defect_kit(stack, iam="off") as kit:
        kit.put_object("Pipeline/Images", "incoming/line-4/board-17.png", PNG + b"defect")
        (run,) = kit.executions("Pipeline/Workflow/StateMachine")
        denials = kit.denials

    assert run.status == "SUCCEEDED", run.cause
    assert denials == []


def test_an_unknown_mode_is_refused(example_stacks: dict[str, cdk.Stack]) -> None:
    with pytest.raises(Exception, match="iam must be one of 'enforce', 'warn', 'off', got 'strict'"):
        LocalKit.from_stack(example_stacks["DefectDetection"], iam="strict")


# -- DestinedLambda: a destination the role may not send to; a rule target without its Lambda permission ---------
def test_a_destination_the_function_may_not_send_to_drops_the_record_as_a_delivery_failure(
    example_stacks: dict[str, cdk.Stack],
) -> None:
    stack = edited(example_stacks["DestinedLambda"], without_action("WorkerFunctionServiceRole", "sqs:SendMessage"))
    with LocalKit(stack) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-3", "sku": "sku-1", "quantity": 0})
        (outcome,) = kit.async_invocations("Worker/Function")
        failures = kit.messages("Worker/OnFailureQueue")
        queue, queue_arn = kit.logical_id("Worker/OnFailureQueue"), kit.arn("Worker/OnFailureQueue")
        denial = denial_of(kit, "sqs:SendMessage")
        warnings = kit.warnings

    assert outcome.condition == "RetriesExhausted"
    assert outcome.delivered_to == ()
    assert outcome.failed_deliveries == (queue,)
    assert failures == []
    assert denial.message.startswith(
        "role WorkerFunctionServiceRole may not sqs:SendMessage on queue WorkerOnFailureQueue"
    )
    assert (denial.via, denial.missing) == ("destination", ("sqs:SendMessage",))
    assert any(w.startswith(f"destination delivery to {queue_arn} failed") for w in warnings)


def test_a_rule_target_without_its_lambda_permission_sends_the_event_to_the_targets_dead_letter_queue(
    example_stacks: dict[str, cdk.Stack],
) -> None:
    stack = edited(
        example_stacks["DestinedLambda"],
        without_resource("WorkerAcceptedOrdersAllowEventRule", "AWS::Lambda::Permission"),
    )
    with LocalKit(stack) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-1", "sku": "sku-1", "quantity": 2})
        consumer = kit.invocations("Consumer/Function")
        dead_letters = kit.messages("Worker/AcceptedOrdersDeadLetterQueue")
        rule_arn = kit.arn("Worker/AcceptedOrders")
        denial = denial_of(kit, "lambda:InvokeFunction")

    assert consumer == []
    assert [event["detail"]["responsePayload"]["orderId"] for event in dead_letters] == ["o-1"]
    assert denial.message.startswith(
        "service principal events.amazonaws.com may not lambda:InvokeFunction on function ConsumerFunction: "
    )
    assert (denial.principal_arn, denial.via) == ("events.amazonaws.com", "rule-target")
    assert rule_arn.startswith("arn:aws:events:")


def test_an_sns_subscription_without_its_lambda_permission_goes_to_the_subscriptions_dead_letter_queue(
    example_stacks: dict[str, cdk.Stack],
) -> None:
    stack = edited(
        example_stacks["DestinedLambda"], without_resource("WorkerFunctionAllowInvoke", "AWS::Lambda::Permission")
    )
    with LocalKit(stack) as kit:
        kit.publish("OrdersTopic", {"orderId": "o-1", "sku": "sku-1", "quantity": 2})
        worker = kit.invocations("Worker/Function")
        dead_letters = kit.messages("Orders/SubscriptionDeadLetterQueue")
        denial = denial_of(kit, "lambda:InvokeFunction")

    assert worker == []
    assert [json.loads(letter["Message"]) for letter in dead_letters] == [
        {"orderId": "o-1", "sku": "sku-1", "quantity": 2}
    ]
    assert denial.message.startswith("service principal sns.amazonaws.com may not lambda:InvokeFunction on function")
    assert denial.via == "sns-subscription"


# -- OrchestratedLambda: a task the role may not invoke; EventBridge may not use the alert topic's key ------------
def test_a_task_the_role_may_not_invoke_fails_as_step_functions_reports_it(
    language_example_stacks: dict[str, cdk.Stack],
) -> None:
    stack = edited(
        language_example_stacks["OrchestratedLambda"], without_action("OrdersStateMachineRole", "lambda:InvokeFunction")
    )
    with LocalKit(stack) as kit:
        result = kit.start_execution("Orders/StateMachine", {"orderId": "o-1", "items": ["sku-1"]})
        failures = kit.received("Orders/OnFailureQueue")
        denial = denial_of(kit, "lambda:InvokeFunction")

    # LambdaInvoke retries Lambda.AWSLambdaException six times (aws-cdk-lib's retry on service exceptions).
    assert result.task_errors("Classify") == ["Lambda.AWSLambdaException"] * 7
    assert result.status == "FAILED"
    assert [f["responsePayload"]["errorType"] for f in failures] == ["Lambda.AWSLambdaException"]
    assert denial.message.startswith("role OrdersStateMachineRole may not lambda:InvokeFunction on function Classify")


def test_an_alert_rule_whose_role_may_not_use_the_topic_key_sends_the_event_to_the_dead_letter_queue(
    language_example_stacks: dict[str, cdk.Stack],
) -> None:
    """EventBridge publishes to an encrypted topic with the target's role, which needs kms:GenerateDataKey* on the key
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions); a
    delivery that fails for good goes to the target's dead-letter queue
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html)."""
    stack = edited(
        language_example_stacks["OrchestratedLambda"],
        without_action("OrdersFailureAlertsTargetTopicEventsRole", "kms:GenerateDataKey*"),
    )
    with LocalKit(stack) as kit:
        result = kit.start_execution("Orders/StateMachine", [1, 2])
        alerts = kit.received("Orders/FailureAlerts/TargetTopic")
        dead_letters = kit.messages("Orders/FailureAlerts/TargetDeadLetterQueue")
        denials = kit.denials

    assert result.status == "FAILED"
    assert alerts == []
    assert [event["detail"]["status"] for event in dead_letters] == ["FAILED"]
    assert denials
    for denial in denials:
        assert denial.message.startswith("role OrdersFailureAlertsTargetTopicEventsRole may not kms:GenerateDataKey"), (
            denial.message
        )
        assert "OrdersFailureAlertsTargetTopicKey" in denial.message
        assert denial.via == "rule-target"


# -- SlackErrorReporting: a function that may not read the webhook ----------------------------------------------
def test_a_function_that_may_not_read_the_webhook_posts_nothing_and_keeps_its_own_error(
    example_stacks: dict[str, cdk.Stack], slack: SlackWebhookServer
) -> None:
    stack = edited(
        example_stacks["SlackErrorReporting"], without_action("ValidateServiceRole", "secretsmanager:GetSecretValue")
    )
    with LocalKit(stack) as kit:
        kit.client("secretsmanager").put_secret_value(SecretId=kit.ref("SlackWebhookSecret"), SecretString=slack.url)
        bad = kit.invoke("Validate", {"orderId": "", "quantity": 0})
        denial = denial_of(kit, "secretsmanager:GetSecretValue")

    assert bad.error_type == "InvalidOrderError"
    assert slack.posts == []
    assert denial.message.startswith(
        "role ValidateServiceRole may not secretsmanager:GetSecretValue on secret SlackWebhookSecret"
    )
    assert denial.via == "handler"


# -- PowerTuning: an initializer that may not change the function's memory ----------------------------------------
def test_a_tuner_that_may_not_configure_the_function_fails_naming_the_action(
    example_stacks: dict[str, cdk.Stack],
) -> None:
    stack = edited(
        example_stacks["PowerTuning"],
        without_action("TunerInitializerServiceRole", "lambda:UpdateFunctionConfiguration"),
    )
    with LocalKit(stack) as kit:
        run = kit.start_execution(TUNER, tuning_input(kit, "Sample", strategy="cost"))
        denial = denial_of(kit, "lambda:UpdateFunctionConfiguration")

    assert run.status == "FAILED"
    assert "AccessDeniedException" in str(run.cause)
    assert denial.message.startswith(
        "role TunerInitializerServiceRole may not lambda:UpdateFunctionConfiguration on function Sample"
    )


# -- S3BatchSentiment: a function that may not read the documents --------------------------------------------------
def test_a_batch_function_that_may_not_read_the_objects_fails_every_task(example_stacks: dict[str, cdk.Stack]) -> None:
    stack = edited(
        example_stacks["S3BatchSentiment"], without_action("SentimentJobFunctionServiceRole", "s3:GetObject")
    )
    with LocalKit(stack, services={"comprehend:DetectSentiment": Comprehend()}) as kit:
        kit.put_object("Documents", "reviews/a.txt", "great")
        report = kit.run_batch_job()
        denial = denial_of(kit, "s3:GetObject")

    assert report.succeeded == []
    assert [task.key for task in report.failed] == ["reviews/a.txt"]
    assert "AccessDenied" in report.failed[0].result_message
    assert denial.message.startswith("role SentimentJobFunctionServiceRole may not s3:GetObject on bucket Documents")


# -- a library construct: EventBridge -> SQS without the queue policy ----------------------------------------------
def test_an_event_pipeline_to_a_queue_without_its_queue_policy_sends_the_event_to_the_dead_letter_queue(
    plain_app: cdk.App,
) -> None:
    stack = cdk.Stack(plain_app, "Pipeline")
    EventPipeline(stack, "Orders", event_pattern=events.EventPattern(source=["shop"]), target=QueueRoute())
    synthesized = edited(
        stack, without_statements_for("OrdersTargetQueuePolicy", "PolicyDocument", "events.amazonaws.com")
    )
    with LocalKit(synthesized) as kit:
        kit.put_event({"orderId": "o-1"}, source="shop", detail_type="Order")
        delivered = kit.messages("Orders/TargetQueue")
        dead_letters = kit.messages("Orders/TargetDeadLetterQueue")
        rule_arn = kit.arn("Orders/Rule")
        denial = denial_of(kit, "sqs:SendMessage")

    assert delivered == []
    assert [letter["detail"] for letter in dead_letters] == [{"orderId": "o-1"}]
    assert denial.message.startswith("service principal events.amazonaws.com may not sqs:SendMessage on queue")
    assert (denial.via, denial.resource.split(":")[2]) == ("rule-target", "sqs")
    assert rule_arn.startswith("arn:aws:events:")


# -- what a handler's boto3 client raises -----------------------------------------------------------------------
CALLER = """
import os, boto3

def handler(event, context):
    try:
        if event["to"] == "topic":
            boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Message="hello")
        else:
            boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody="hello")
    except Exception as error:
        return {"error": type(error).__name__, "code": error.response["Error"]["Code"],
                "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    return {"sent": True}
"""


@pytest.fixture
def caller_stack(plain_app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(plain_app, "Callers")
    key = kms.Key(stack, "Key")
    topic = sns.Topic(stack, "Alerts", master_key=key)
    queue = sqs.Queue(stack, "Work", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    caller = lambda_.Function(
        stack,
        "Caller",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(CALLER),
        # Lambda's default 3 s would count a cold boto3 client on a loaded machine as a timeout.
        timeout=cdk.Duration.seconds(30),
        environment={"TOPIC_ARN": topic.topic_arn, "QUEUE_URL": queue.queue_url},
    )
    topic.grant_publish(caller)
    queue.grant_send_messages(caller)
    return stack


@pytest.mark.parametrize(
    ("to", "removed", "expected"),
    [
        ("topic", "sns:Publish", {"error": "AuthorizationErrorException", "code": "AuthorizationError", "status": 403}),
        (
            "topic",
            "kms:GenerateDataKey*",
            {"error": "KMSAccessDeniedException", "code": "KMSAccessDenied", "status": 400},
        ),
        ("queue", "sqs:SendMessage", {"error": "ClientError", "code": "AccessDenied", "status": 403}),
        ("queue", "kms:GenerateDataKey*", {"error": "ClientError", "code": "KMS.AccessDeniedException", "status": 400}),
    ],
)
def test_a_refused_call_raises_the_error_the_service_answers_with(
    caller_stack: cdk.Stack, to: str, removed: str, expected: dict[str, Any]
) -> None:
    with LocalKit(edited(caller_stack, without_action("CallerServiceRole", removed))) as kit:
        refused = kit.invoke("Caller", {"to": to})
        denial = denial_of(kit, removed.rstrip("*"))
    with LocalKit.from_stack(caller_stack) as kit:
        allowed = kit.invoke("Caller", {"to": to})

    assert refused.result == expected
    assert denial.kms == removed.startswith("kms:")
    assert allowed.result == {"sent": True}


def test_a_statement_the_evaluator_cannot_decide_is_allowed_with_a_warning_naming_it(caller_stack: cdk.Stack) -> None:
    caller = caller_stack.node.find_child("Caller")
    assert isinstance(caller, lambda_.Function)
    # A tag condition: the evaluator does not know the role's tags, so it cannot decide the statement.
    caller.add_to_role_policy(
        iam.PolicyStatement(
            sid="OnlyTheOrdersTeam",
            effect=iam.Effect.DENY,
            actions=["sns:Publish"],
            resources=["*"],
            conditions={"StringNotEquals": {"aws:PrincipalTag/team": "orders"}},
        )
    )
    with LocalKit.from_stack(caller_stack) as kit:
        sent = kit.invoke("Caller", {"to": "topic"})
        warnings = kit.warnings
        denials = kit.denials

    assert sent.result == {"sent": True}
    assert denials == []
    (warning,) = [w for w in warnings if "OnlyTheOrdersTeam" in w]
    assert "(Deny) is undetermined" in warning
    assert "the condition key aws:PrincipalTag/team is not known to the evaluator" in warning


# -- an event source on an encrypted queue --------------------------------------------------------------------------
def test_an_event_source_whose_role_may_not_decrypt_the_queue_never_runs_the_function(plain_app: cdk.App) -> None:
    stack = cdk.Stack(plain_app, "Consumer")
    key = kms.Key(stack, "Key")
    inbox = sqs.Queue(stack, "Inbox", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    consumer = lambda_.Function(
        stack,
        "Consume",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return len(event['Records'])\n"),
    )
    consumer.add_event_source(event_sources.SqsEventSource(inbox))
    with LocalKit(edited(stack, without_action("ConsumeServiceRole", "kms:Decrypt"))) as kit:
        kit.send_message("Inbox", {"orderId": "o-1"})
        refused = kit.invocations("Consume")
        waiting = kit.messages("Inbox")
        denial = denial_of(kit, "kms:Decrypt")
        warnings = kit.warnings
    with LocalKit.from_stack(stack) as kit:
        kit.send_message("Inbox", {"orderId": "o-1"})
        allowed = kit.invocations("Consume")

    assert refused == []
    assert waiting == [{"orderId": "o-1"}]
    assert denial.message.startswith("role ConsumeServiceRole may not kms:Decrypt on key Key (queue Inbox is encrypted")
    assert (denial.action, denial.via) == ("sqs:ReceiveMessage", "event-source")
    assert any("polling failed" in w and "KMS.AccessDeniedException" in w for w in warnings)
    assert [invocation.result for invocation in allowed] == [1]
