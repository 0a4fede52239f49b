"""Example stacks: snapshots (a regression net, made by the public ``template_snapshot``: asset hashes, CDK metadata
and the bootstrap version masked) and what each one promises."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from syrupy.assertion import SnapshotAssertion

from constructs_lib.testing import state_machine_definitions, template_snapshot, validate_definition
from tests.conftest import QUERY_LANGUAGES, cdk_context, workflow_definitions

EXAMPLE_STACKS = [
    "DefectDetection",
    "DestinedLambda",
    "DurableOrders",
    "OrchestratedLambda",
    "PowerTuning",
    "S3BatchSentiment",
    "SlackErrorReporting",
]


@pytest.fixture(scope="module")
def templates(example_app: cdk.App) -> dict[str, Template]:
    stacks = [c for c in example_app.node.children if isinstance(c, cdk.Stack)]
    return {s.stack_name: Template.from_stack(s) for s in stacks}


def test_every_example_stack_is_in_the_app(templates: dict[str, Template]) -> None:
    assert sorted(templates) == EXAMPLE_STACKS


@pytest.mark.parametrize("stack_name", EXAMPLE_STACKS)
def test_snapshot(templates: dict[str, Template], stack_name: str, snapshot: SnapshotAssertion) -> None:
    assert template_snapshot(templates[stack_name]) == snapshot


def test_snapshot_normalises_asset_hashes(templates: dict[str, Template]) -> None:
    text = str(template_snapshot(templates["DestinedLambda"]))
    assert "<asset-hash>" in text


# ------------------------------------------------------------------------------------------ destined-lambda


@pytest.fixture(scope="module")
def destined(templates: dict[str, Template]) -> Template:
    return templates["DestinedLambda"]


def resources(template: Template, kind: str) -> dict[str, Any]:
    return dict(template.find_resources(kind))


def test_worker_is_invoked_asynchronously_by_sns_with_a_subscription_dlq(destined: Template) -> None:
    destined.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "lambda", "RedrivePolicy": {"deadLetterTargetArn": Match.any_value()}},
    )
    destined.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_worker_successes_go_to_a_bus_and_failures_to_an_encrypted_queue(destined: Template) -> None:
    worker = [
        c["Properties"]
        for c in resources(destined, "AWS::Lambda::EventInvokeConfig").values()
        if "Worker" in c["Properties"]["FunctionName"]["Ref"]
    ]
    assert len(worker) == 1
    config = worker[0]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 3600
    bus_id = config["DestinationConfig"]["OnSuccess"]["Destination"]["Fn::GetAtt"][0]
    queue_id = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    all_resources = destined.to_json()["Resources"]
    assert all_resources[bus_id]["Type"] == "AWS::Events::EventBus"
    assert all_resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
    destined.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
        },
    )


def test_rule_feeds_accepted_orders_response_to_the_consumer(destined: Template) -> None:
    rules = resources(destined, "AWS::Events::Rule")
    assert len(rules) == 2
    rule = next(r for lid, r in rules.items() if "AcceptedOrders" in lid)["Properties"]
    assert rule["EventPattern"]["detail"]["responsePayload"] == {"status": ["ACCEPTED"]}
    assert rule["EventPattern"]["detail"]["requestContext"]["condition"] == ["Success"]
    target = rule["Targets"][0]
    assert "Consumer" in target["Arn"]["Fn::GetAtt"][0]
    assert target["InputPath"] == "$.detail.responsePayload"
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_rule_sends_orders_for_review_to_the_review_queue(destined: Template) -> None:
    rules = resources(destined, "AWS::Events::Rule")
    rule = next(r for lid, r in rules.items() if "ReviewOrders" in lid)["Properties"]
    assert rule["EventPattern"]["detail"]["responsePayload"] == {"status": ["REVIEW"]}
    (target,) = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("ReviewQueue")
    assert target["InputPath"] == "$.detail.responsePayload"
    assert "ReviewQueueUrl" in destined.to_json()["Outputs"]


def test_both_functions_alarm_on_async_failures(destined: Template) -> None:
    names = [a["Properties"]["MetricName"] for a in resources(destined, "AWS::CloudWatch::Alarm").values()]
    for metric in ("AsyncEventsDropped", "AsyncEventAge", "DestinationDeliveryFailures"):
        assert names.count(metric) == 2


@pytest.mark.parametrize("stack_name", EXAMPLE_STACKS)
def test_every_state_machine_is_valid_asl(templates: dict[str, Template], stack_name: str) -> None:
    for name, definition in state_machine_definitions(templates[stack_name].to_json()).items():
        validate_definition(definition, name=f"{stack_name}/{name}")


# ------------------------------------------------------------------------------------------ both query languages

WORKFLOW_EXAMPLES = ["DefectDetection", "OrchestratedLambda", "SlackErrorReporting"]
"""The examples with a FunctionWorkflow: each synthesizes with its states in JSONPath (the default) or in JSONata
(``-c queryLanguage=JSONata``). PowerTuning's state machine stays JSONPath: it mirrors the reference tool's."""
JSONPATH_FIELDS = {"InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "ItemsPath", "Variable"}
"""Fields only a JSONPath state (or Choice rule) has: a JSONata state that held one would be invalid."""


def states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state of a definition, those of its Parallel branches and Map processors too."""
    found: list[dict[str, Any]] = []
    for state in definition["States"].values():
        found.append(state)
        for branch in state.get("Branches", []):
            found.extend(states(branch))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                found.extend(states(state[key]))
    return found


def jsonpath_fields(value: Any) -> set[str]:
    """The JSONPath-only field names anywhere in a state (in its Choice rules and Catchers too)."""
    if isinstance(value, dict):
        own = {key for key in value if key in JSONPATH_FIELDS or key.endswith(".$")}
        return own.union(*(jsonpath_fields(item) for key, item in value.items() if key not in ("Branches",)))
    if isinstance(value, list):
        return set().union(*(jsonpath_fields(item) for item in value))
    return set()


@pytest.mark.parametrize("language", QUERY_LANGUAGES)
@pytest.mark.parametrize("stack_name", WORKFLOW_EXAMPLES)
def test_each_example_workflow_synthesizes_in_both_query_languages(
    request: pytest.FixtureRequest, stack_name: str, language: str
) -> None:
    """The app (cdk-nag's checks on: an unacknowledged finding fails the synth) with ``-c queryLanguage=...``: every
    state machine passes asl-validator, and the workflow's states are all in that language."""
    stacks = request.getfixturevalue("example_stacks" if language == "JSONPath" else "jsonata_example_stacks")
    template = Template.from_stack(stacks[stack_name]).to_json()
    for name, definition in state_machine_definitions(template).items():
        validate_definition(definition, name=f"{stack_name}/{name}")
    (workflow,) = workflow_definitions(template).values()
    found = [jsonpath_fields(state) for state in states(workflow)]
    if language == "JSONata":
        assert workflow["QueryLanguage"] == "JSONata"
        assert {state.get("QueryLanguage", "JSONata") for state in states(workflow)} == {"JSONata"}
        assert set().union(*found) == set()
    else:
        assert "QueryLanguage" not in workflow
        assert "Condition" not in str(workflow)
        assert {"ResultPath"} <= set().union(*found)


@pytest.mark.parametrize("value", ["jsonata", "JSONPATH", "YAML", ["JSONata"], 1])
def test_the_app_refuses_an_unknown_query_language(value: Any) -> None:
    from app import build_app

    with pytest.raises(
        ValueError, match=re.escape(f"context queryLanguage must be one of JSONPath, JSONata, got {value!r}")
    ):
        build_app(cdk.App(context={**cdk_context(), "queryLanguage": value}, analytics_reporting=False))


# ------------------------------------------------------------------------------------------ orchestrated-lambda


@pytest.fixture(scope="module")
def orchestrated(templates: dict[str, Template]) -> dict[str, Any]:
    definitions = workflow_definitions(templates["OrchestratedLambda"].to_json())
    assert len(definitions) == 1
    return next(iter(definitions.values()))


def test_choice_on_foo_routes_to_a_function_or_a_parallel_step(orchestrated: dict[str, Any]) -> None:
    states = orchestrated["States"]
    assert orchestrated["StartAt"] == "Classify"
    choices = states["RouteOnFoo"]["Choices"]
    assert {"Variable": "$.foo", "NumericEquals": 1, "Next": "HandleSingle"} in choices
    assert {"Variable": "$.foo", "NumericEquals": 2, "Next": "HandleSeveral"} in choices
    assert states["HandleSeveral"]["Type"] == "Parallel"
    assert len(states["HandleSeveral"]["Branches"]) == 2


def test_classify_retries_order_pending_with_backoff_2(orchestrated: dict[str, Any]) -> None:
    retry = [r for r in orchestrated["States"]["Classify"]["Retry"] if r["ErrorEquals"] == ["OrderPendingError"]]
    assert retry == [{"ErrorEquals": ["OrderPendingError"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]


def test_failures_go_to_a_queue_and_failed_executions_to_a_topic(
    templates: dict[str, Template], orchestrated: dict[str, Any]
) -> None:
    assert orchestrated["States"]["DeliverFailure"]["Resource"] == "arn:aws:states:::sqs:sendMessage"
    template = templates["OrchestratedLambda"]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {"source": ["aws.states"], "detail": Match.object_like({"status": ["FAILED", "TIMED_OUT"]})}
            ),
            "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("FailureAlertsTargetTopic")}})],
        },
    )


# ------------------------------------------------------------------------------------------ durable-orders


@pytest.fixture(scope="module")
def durable(templates: dict[str, Template]) -> Template:
    return templates["DurableOrders"]


def test_durable_orders_runs_three_days_at_most_and_sns_invokes_its_alias(durable: Template) -> None:
    (function,) = [
        r["Properties"]
        for r in resources(durable, "AWS::Lambda::Function").values()
        if "DurableConfig" in r["Properties"]
    ]
    assert function["DurableConfig"]["ExecutionTimeout"] == 3 * 86400
    assert function["Runtime"] == "python3.14"
    (alias_id,) = resources(durable, "AWS::Lambda::Alias")
    durable.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "lambda", "Endpoint": {"Ref": alias_id}, "RedrivePolicy": Match.any_value()},
    )
    durable.has_resource_properties(
        "AWS::Lambda::Permission", {"FunctionName": {"Ref": alias_id}, "Principal": "sns.amazonaws.com"}
    )


def test_durable_orders_alarms_on_failed_timed_out_and_stopped_executions(durable: Template) -> None:
    metrics = {
        r["Properties"].get("MetricName")
        for r in resources(durable, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("Namespace") == "AWS/Lambda"
    }
    assert {"DurableExecutionFailed", "DurableExecutionTimedOut", "DurableExecutionStopped"} <= metrics


def test_durable_orders_results_go_to_the_consumer_and_the_review_queue_by_status(durable: Template) -> None:
    patterns = [r["Properties"]["EventPattern"] for r in resources(durable, "AWS::Events::Rule").values()]
    statuses = sorted(
        p["detail"]["responsePayload"]["status"][0] for p in patterns if "responsePayload" in p.get("detail", {})
    )
    assert statuses == ["ACCEPTED", "REVIEW"]


# ------------------------------------------------------------------------------------------ someone is told


def _get_att_id(value: Any) -> str | None:
    """The logical id of a ``Fn::GetAtt`` or ``Ref``."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Ref" in value:
            return str(value["Ref"])
    return None


def dead_letter_queues(template: Mapping[str, Any]) -> set[str]:
    """Every queue a redrive policy, a rule target or a subscription names as its dead-letter queue."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        redrive = props.get("RedrivePolicy") or {}
        found.add(_get_att_id(redrive.get("deadLetterTargetArn")) or "")
        for target in props.get("Targets", []) if resource["Type"] == "AWS::Events::Rule" else []:
            found.add(_get_att_id(target.get("DeadLetterConfig", {}).get("Arn")) or "")
    return found - {""}


def queue_metrics(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """The SQS metrics each queue is alarmed on, by the queue's logical id."""
    watched: dict[str, set[str]] = {}
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm" and props.get("Namespace") == "AWS/SQS":
            queue = _get_att_id(props["Dimensions"][0]["Value"])
            watched.setdefault(str(queue), set()).add(props["MetricName"])
    return watched


@pytest.mark.parametrize("stack_name", EXAMPLE_STACKS)
def test_every_alarm_of_the_example_app_has_an_action(templates: dict[str, Template], stack_name: str) -> None:
    alarms = templates[stack_name].find_resources("AWS::CloudWatch::Alarm")
    silent = [lid for lid, alarm in alarms.items() if not alarm["Properties"].get("AlarmActions")]
    assert silent == []


@pytest.mark.parametrize("stack_name", EXAMPLE_STACKS)
def test_every_queue_alarms_on_its_oldest_message_and_every_dlq_on_waiting_messages(
    templates: dict[str, Template], stack_name: str
) -> None:
    template = templates[stack_name].to_json()
    queues = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"]
    watched = queue_metrics(template)
    assert [q for q in queues if "ApproximateAgeOfOldestMessage" not in watched.get(q, set())] == []
    dlqs = dead_letter_queues(template)
    assert dlqs <= set(queues)
    assert [q for q in dlqs if "ApproximateNumberOfMessagesVisible" not in watched.get(q, set())] == []


def test_the_example_app_has_dead_letter_queues_to_watch(templates: dict[str, Template]) -> None:
    # 12, the DLQs of the three workflows' timed-out and aborted status rules, and DestinedLambda's review queue
    # and review rule; DurableOrders: 7 (its failure queue's, the consumer's failure queue's, the review queue's,
    # the SNS subscription's, its two result rules' and its timed-out and stopped status rule's)
    assert sum(len(dead_letter_queues(t.to_json())) for t in templates.values()) == 17 + 7


@pytest.mark.parametrize("stack_name", EXAMPLE_STACKS)
def test_no_topic_without_a_subscriber_or_an_output(templates: dict[str, Template], stack_name: str) -> None:
    template = templates[stack_name].to_json()
    topics = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
    subscribed = {
        _get_att_id(r["Properties"]["TopicArn"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::Subscription"
    }
    output = {_get_att_id(o["Value"]) for o in template.get("Outputs", {}).values()}
    assert [t for t in topics if t not in subscribed and t not in output] == []


def test_alarm_topics_go_to_the_deployer_s_email_from_context() -> None:
    from app import build_app
    from tests.conftest import cdk_context

    app = build_app(cdk.App(context={**cdk_context(), "alertEmail": "ops@example.com"}, analytics_reporting=False))
    stack = next(c for c in app.node.children if isinstance(c, cdk.Stack) and c.stack_name == "OrchestratedLambda")
    template = Template.from_stack(stack)
    template.resource_properties_count_is(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}, 2
    )
    assert {"AlarmTopicArn", "FailureAlertsTopicArn"} <= set(template.to_json()["Outputs"])
