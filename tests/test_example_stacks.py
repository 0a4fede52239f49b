"""Example stacks: snapshots (a regression net, asset hashes normalised) and what each one promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from syrupy.assertion import SnapshotAssertion

from app import build_app
from tests.conftest import cdk_context, normalised


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> cdk.App:
    """Every example stack, built once for this module, with cdk-nag's checks on (see app.build_app)."""
    outdir: Path = tmp_path_factory.mktemp("cdk.out")
    return build_app(cdk.App(context=cdk_context(), outdir=str(outdir), analytics_reporting=False))


@pytest.fixture(scope="module")
def templates(example_app: cdk.App) -> dict[str, Template]:
    stacks = [c for c in example_app.node.children if isinstance(c, cdk.Stack)]
    return {s.stack_name: Template.from_stack(s) for s in stacks}


def test_every_example_stack_is_in_the_app(templates: dict[str, Template]) -> None:
    assert sorted(templates) == ["DestinedLambda"]


@pytest.mark.parametrize("stack_name", ["DestinedLambda"])
def test_snapshot(templates: dict[str, Template], stack_name: str, snapshot: SnapshotAssertion) -> None:
    assert normalised(templates[stack_name].to_json()) == snapshot


def test_snapshot_normalises_asset_hashes(templates: dict[str, Template]) -> None:
    text = str(normalised(templates["DestinedLambda"].to_json()))
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
    assert len(rules) == 1
    rule = next(iter(rules.values()))["Properties"]
    assert rule["EventPattern"]["detail"]["responsePayload"] == {"status": ["ACCEPTED"]}
    assert rule["EventPattern"]["detail"]["requestContext"]["condition"] == ["Success"]
    target = rule["Targets"][0]
    assert "Consumer" in target["Arn"]["Fn::GetAtt"][0]
    assert target["InputPath"] == "$.detail.responsePayload"
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_both_functions_alarm_on_async_failures(destined: Template) -> None:
    names = [a["Properties"]["MetricName"] for a in resources(destined, "AWS::CloudWatch::Alarm").values()]
    for metric in ("AsyncEventsDropped", "AsyncEventAge", "DestinationDeliveryFailures"):
        assert names.count(metric) == 2
