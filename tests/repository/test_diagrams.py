"""Diagrams: the committed docs/diagrams/ are what the command renders from the pinned CLI's synth, and the
renderer draws state machines and architectures as described (checked by parsing its SVG)."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tools.diagram import (
    MARKER,
    architecture_svg,
    condition_text,
    main,
    pattern_lines,
    retry_text,
    state_machine_definitions,
    state_machine_svg,
    task_resource,
)

SVG = "{http://www.w3.org/2000/svg}"
DIAGRAMS = REPO_ROOT / "docs" / "diagrams"
Box = tuple[float, float, float, float]  # left, top, right, bottom

LAMBDA_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"]
DEFINITION: dict[str, Any] = {
    "StartAt": "Classify",
    "States": {
        "Classify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:region:account:function:<<ClassifyA1B2C3D4>>"},
            "Retry": [
                {"ErrorEquals": LAMBDA_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2},
                {"ErrorEquals": ["OrderPendingError"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2},
            ],
            "Catch": [
                {"ErrorEquals": ["ValidationError"], "Next": "Reject"},
                {"ErrorEquals": ["States.ALL"], "Next": "Reject"},
            ],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.status", "StringEquals": "FAILED", "Next": "Reject"},
                {"Variable": "$.items", "IsPresent": True, "Next": "EachItem"},
                {"Variable": "$.status", "StringEquals": "WAITING", "Next": "Pause"},
            ],
            "Default": "FanOut",
        },
        "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Route"},
        "FanOut": {
            "Type": "Parallel",
            "Next": "Done",
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Reject"}],
            "Branches": [
                {
                    "StartAt": "Prepare",
                    "States": {
                        "Prepare": {"Type": "Pass", "Next": "Enqueue"},
                        "Enqueue": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::sqs:sendMessage",
                            "Parameters": {
                                "QueueUrl": "https://sqs.region.amazonaws.com/account/<<WorkQueue9F3A2B1C>>"
                            },
                            "End": True,
                        },
                    },
                },
                {
                    "StartAt": "Fetch",
                    "States": {
                        "Fetch": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                            "Parameters": {"Bucket": "my-bucket", "Key.$": "$.key"},
                            "End": True,
                        }
                    },
                },
            ],
        },
        "EachItem": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Store",
                "States": {
                    "Store": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::dynamodb:putItem",
                        "Parameters": {"TableName": "<<ResultsTable5E6F7A8B>>", "Item": {}},
                        "End": True,
                    }
                },
            },
            "Next": "Done",
        },
        "Reject": {"Type": "Fail", "Error": "Rejected"},
        "Done": {"Type": "Succeed"},
    },
}
EVERY_STATE = {"Classify", "Route", "Pause", "FanOut", "Prepare", "Enqueue", "Fetch", "EachItem", "Store"}
EVERY_STATE |= {"Reject", "Done"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on text that is not well-formed XML


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def bounds(element: ET.Element) -> Box:
    """The box of a node group: its rect, or its polygon's bounding box (a diamond)."""
    rect = element.find(f"{SVG}rect")
    if rect is not None:
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        return x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0))
    polygon = element.find(f"{SVG}polygon")
    assert polygon is not None
    points = [tuple(map(float, pair.split(","))) for pair in str(polygon.get("points")).split()]
    return min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points)


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def state_boxes(root: ET.Element) -> dict[str, Box]:
    return {str(g.get("data-name")): bounds(g) for g in groups(root, "state")}


def container_boxes(root: ET.Element) -> dict[str, Box]:
    return {str(g.get("data-name")): bounds(g) for g in groups(root, "container")}


def edges(root: ET.Element) -> list[tuple[str, str, str]]:
    return [(str(g.get("data-from")), str(g.get("data-to")), str(g.get("data-kind"))) for g in groups(root, "edge")]


def edge_labels(root: ET.Element) -> dict[tuple[str, str], list[str]]:
    labels: dict[tuple[str, str], list[str]] = {}
    for g in groups(root, "edge-label"):
        labels.setdefault((str(g.get("data-from")), str(g.get("data-to"))), []).extend(texts(g))
    return labels


def path_points(path: str) -> list[tuple[float, float]]:
    """The on-curve points of a path (the ends of each M, L and C segment)."""
    points = []
    for command, arguments in re.findall(r"([MLC])([^MLC]*)", path):
        pairs = [tuple(map(float, pair.split(","))) for pair in arguments.split()]
        points.append((pairs[-1][0], pairs[-1][1]) if command != "M" else (pairs[0][0], pairs[0][1]))
    return points


def assert_boxes_apart(boxes: list[tuple[str, Box, bool]]) -> None:
    """No two boxes overlap, except a container around what it contains."""
    for (name_a, a, a_contains), (name_b, b, b_contains) in itertools.combinations(boxes, 2):
        if overlap(a, b):
            assert (a_contains and contains(a, b)) or (b_contains and contains(b, a)), f"{name_a} overlaps {name_b}"


def assert_edges_avoid_boxes(root: ET.Element, boxes: Mapping[str, Box]) -> None:
    """No edge point lies inside a box other than the edge's own ends (a diamond's ports are inside its bounds)."""
    for g in groups(root, "edge"):
        path = g.find(f"{SVG}path")
        assert path is not None
        ends = {g.get("data-from"), g.get("data-to")}
        for x, y in path_points(str(path.get("d"))):
            for name, (left, top, right, bottom) in boxes.items():
                if name in ends:
                    continue
                inside = left + 1 < x < right - 1 and top + 1 < y < bottom - 1
                assert not inside, f"edge {g.get('data-from')}->{g.get('data-to')} runs through {name}"


# --------------------------------------------------------------------------------------------------------------
# The committed pictures


def test_committed_diagrams_are_what_the_command_renders_from_the_synthesized_app(
    cli_cloud_assembly: Path, tmp_path: Path
) -> None:
    out = tmp_path / "diagrams"
    assert main([str(cli_cloud_assembly), "--out", str(out)]) == 0

    rendered = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    committed = {path.name: path.read_bytes() for path in sorted(DIAGRAMS.iterdir())} if DIAGRAMS.is_dir() else {}
    missing, unexpected = sorted(set(rendered) - set(committed)), sorted(set(committed) - set(rendered))
    assert (missing, unexpected) == ([], []), (
        f"docs/diagrams/ holds exactly what `make diagrams` writes: missing {missing}, not made {unexpected}: "
        "run make diagrams (and remove files it did not write)"
    )
    stale = [name for name in rendered if committed[name] != rendered[name]]
    assert not stale, f"docs/diagrams/ is out of date ({', '.join(stale)}): run make diagrams"


def test_the_index_embeds_every_picture_and_every_stack_has_an_architecture() -> None:
    index = (DIAGRAMS / "README.md").read_text()
    pictures = sorted(path.name for path in DIAGRAMS.glob("*.svg"))

    embedded = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", index)
    assert sorted(embedded) == pictures
    for picture in pictures:
        root = parse((DIAGRAMS / picture).read_text())
        assert root.tag == f"{SVG}svg"
        stack = picture.removesuffix(".svg").split("-")[0]
        assert f"{stack}.svg" in pictures, f"{stack} has a state machine picture but no architecture"


# --------------------------------------------------------------------------------------------------------------
# State machines


def test_every_state_appears_nested_ones_inside_their_containers() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    states = state_boxes(root)
    containers = container_boxes(root)

    assert set(states) | {name for name in containers if " branch " not in name} == EVERY_STATE
    assert {g.get("data-name") for g in groups(root, "terminal")} == {"Start"}  # no state ends with End: true
    for inner in ("Prepare", "Enqueue", "Fetch"):
        assert contains(containers["FanOut"], states[inner]), f"{inner} is drawn outside its Parallel"
    assert contains(containers["EachItem"], states["Store"])
    assert not overlap(containers["FanOut branch 1"], containers["FanOut branch 2"])  # branches side by side
    assert contains(containers["FanOut branch 1"], states["Enqueue"])
    assert contains(containers["FanOut branch 2"], states["Fetch"])
    assert ("Prepare", "Enqueue", "next") in edges(root)  # the branch has its own flow


def test_shapes_follow_the_state_type() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    shapes = {str(g.get("data-name")): (g.get("data-type"), g[0].tag) for g in groups(root, "state")}
    containers = {str(g.get("data-name")): g.get("data-type") for g in groups(root, "container")}

    assert shapes["Route"] == ("Choice", f"{SVG}polygon")  # a diamond
    assert shapes["Classify"] == ("Task", f"{SVG}rect")
    assert shapes["Pause"][0] == "Wait"
    assert shapes["Prepare"][0] == "Pass"
    pill = next(g for g in groups(root, "state") if g.get("data-name") == "Done")[0]
    assert pill.get("rx") == str(float(pill.get("height", 0)) / 2).removesuffix(".0")  # Succeed is a pill
    assert containers["FanOut"] == "Parallel"
    assert containers["EachItem"] == "Map"


def test_choice_edges_carry_their_conditions_and_the_default() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    labels = edge_labels(root)

    assert ("Route", "Reject", "choice") in edges(root)
    assert ("Route", "FanOut", "default") in edges(root)
    assert labels[("Route", "Reject")] == ['$.status == "FAILED"']
    assert labels[("Route", "EachItem")] == ["$.items exists"]
    assert labels[("Route", "FanOut")] == ["default"]


def test_catch_edges_are_dashed_and_name_the_errors() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    labels = edge_labels(root)
    catches = [g for g in groups(root, "edge") if g.get("data-kind") == "catch"]

    assert {(g.get("data-from"), g.get("data-to")) for g in catches} == {("Classify", "Reject"), ("FanOut", "Reject")}
    for g in catches:
        path = g.find(f"{SVG}path")
        assert path is not None
        assert path.get("stroke-dasharray") == "6 4"
    # two catchers to the same state: one edge, both error names
    assert labels[("Classify", "Reject")] == ["catch ValidationError, States.ALL"]
    assert labels[("FanOut", "Reject")] == ["catch States.Timeout"]
    solid = [g for g in groups(root, "edge") if g.get("data-kind") == "next"]
    assert solid
    assert all(g[0].get("stroke-dasharray") is None for g in solid)


def test_retries_are_notes_on_the_state_and_tasks_show_their_integration() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    by_name = {g.get("data-name"): texts(g) for g in groups(root, "state")}

    assert by_name["Classify"] == [
        "Classify",
        "lambda:invoke \u00b7 Classify",
        "retry x6, 2s backoff 2: Lambda service errors",
        "retry x3, 2s backoff 2: OrderPendingError",
    ]
    assert by_name["Enqueue"][1] == "sqs:sendMessage \u00b7 WorkQueue"
    assert by_name["Fetch"][1] == "aws-sdk:s3:getObject \u00b7 my-bucket"
    assert by_name["Store"][1] == "dynamodb:putItem \u00b7 ResultsTable"
    assert by_name["Pause"][1] == "wait 30s"
    assert by_name["Reject"][1] == "Fail \u00b7 Rejected"
    assert "Map over $.items, max 2 at once" in texts(groups(root, "container")[-1])


def test_boxes_do_not_overlap_and_edges_go_round_them() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    boxes = [(name, box, False) for name, box in state_boxes(root).items()]
    boxes += [(name, box, True) for name, box in container_boxes(root).items()]
    boxes += [(str(g.get("data-name")), bounds(g), False) for g in groups(root, "terminal")]
    labels = [(f"label {i}", bounds(g), False) for i, g in enumerate(groups(root, "edge-label"))]

    assert_boxes_apart(boxes + labels)
    assert_edges_avoid_boxes(root, state_boxes(root))


def test_a_loop_back_goes_up_into_the_earlier_state() -> None:
    root = parse(state_machine_svg(DEFINITION, title="test"))
    (loop,) = [g for g in groups(root, "edge") if (g.get("data-from"), g.get("data-to")) == ("Pause", "Route")]
    path = loop.find(f"{SVG}path")
    assert path is not None
    points = path_points(str(path.get("d")))
    states = state_boxes(root)

    assert points[-1][1] < points[0][1]  # drawn upwards, the arrow at Route
    assert abs(points[-1][1] - states["Route"][3]) < 30  # ends at Route's lower half (a diamond's lower edges)


def test_the_svg_is_the_same_bytes_in_every_run(tmp_path: Path) -> None:
    source = tmp_path / "template.json"
    source.write_text(json.dumps(TEMPLATE))
    script = (
        "import json, sys; from tools.diagram import state_machine_svg, architecture_svg, "
        "state_machine_definitions; t = json.load(open(sys.argv[1])); "
        "print(state_machine_svg(json.loads(sys.argv[2]), title='t') + architecture_svg(t, title='t'), end='')"
    )
    here = state_machine_svg(DEFINITION, title="t") + architecture_svg(TEMPLATE, title="t")

    for seed in ("1", "2"):  # other hash seeds: no set order leaks into the output
        result = subprocess.run(
            [sys.executable, "-c", script, str(source), json.dumps(DEFINITION)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        assert result.stdout == here
    assert "&lt;&lt;" not in here  # no placeholder marker leaks into a picture


def test_the_renderer_needs_only_the_standard_library() -> None:
    script = (
        "import sys, tools.diagram; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs', 'boto3', 'moto'}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"Variable": "$.status", "StringEquals": "FAILED"}, '$.status == "FAILED"'),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 3}, "$.n >= 3"),
        ({"Variable": "$.ok", "BooleanEquals": True}, "$.ok == true"),
        ({"Variable": "$.a", "NumericLessThanPath": "$.b"}, "$.a < $.b"),
        ({"Variable": "$.name", "StringMatches": "log-*"}, '$.name matches "log-*"'),
        ({"Variable": "$.x", "IsPresent": False}, "$.x missing"),
        ({"Variable": "$.x", "IsNull": True}, "$.x == null"),
        ({"Variable": "$.x", "IsNumeric": True}, "$.x is numeric"),
        (
            {"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Not": {"Variable": "$.b", "StringEquals": "x"}}]},
            '$.a == 1 and not ($.b == "x")',
        ),
        ({"Condition": "{% $states.input.n > 2 %}"}, "$states.input.n > 2"),
    ],
)
def test_choice_conditions_read_as_expressions(rule: dict[str, Any], text: str) -> None:
    assert condition_text(rule) == text


def test_a_fail_state_shows_its_error_unless_it_is_known_only_when_it_runs() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.ok %}", "Next": "Declined"}],
                "Default": "Failed",
            },
            "Declined": {"Type": "Fail", "Error": "OrderDeclined"},
            "Failed": {"Type": "Fail", "Error": "{% $error.Error %}", "Cause": "{% $error.Cause %}"},
        },
    }
    text = "".join(parse(state_machine_svg(definition, title="test")).itertext())

    assert "Fail \u00b7 OrderDeclined" in text
    assert "{%" not in text.replace("{% $states.input.ok %}", "")  # the condition reads as its expression
    assert "$error" not in text


def test_retry_notes_show_attempts_interval_backoff_and_limits() -> None:
    assert retry_text({"ErrorEquals": ["A", "B"], "MaxAttempts": 3, "IntervalSeconds": 2}) == (
        "retry x3, 2s backoff 2: A, B"
    )
    assert retry_text(
        {"ErrorEquals": ["E"], "MaxAttempts": 4, "BackoffRate": 1.5, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}
    ) == ("retry x4, 1s backoff 1.5, max 30s, jitter: E")


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ({"Resource": "arn:aws:lambda:us-east-1:1:function:my-fn:live"}, ("lambda:invoke", "my-fn")),
        (
            {
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": "arn:aws:sns:r:a:<<Alerts12345678>>"},
            },
            ("sns:publish", "Alerts"),
        ),
        (
            {
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {"Entries": [{"EventBusName": "<<Bus12345678>>", "Detail.$": "$"}]},
            },
            ("events:putEvents", "Bus"),
        ),
        ({"Resource": "arn:aws:states:::states:startExecution.sync:2"}, ("states:startExecution.sync:2", None)),
        (  # a JSONata state's Arguments: a static target is shown, an expression is known only when it runs
            {
                "Resource": "arn:aws:states:::sns:publish",
                "Arguments": {"TopicArn": "arn:aws:sns:r:a:<<Alerts12345678>>"},
            },
            ("sns:publish", "Alerts"),
        ),
        (
            {
                "Resource": "arn:aws:states:::aws-sdk:s3:putObjectTagging",
                "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "{% $states.input.key %}"},
            },
            ("aws-sdk:s3:putObjectTagging", None),
        ),
        ({"Resource": "arn:aws:states:us-east-1:1:activity:approve"}, ("activity", "approve")),
    ],
)
def test_task_resources_are_shortened(state: dict[str, Any], shown: tuple[str, str | None]) -> None:
    assert task_resource(state) == shown


# --------------------------------------------------------------------------------------------------------------
# Architecture


def state_machine_resource(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A state machine whose definition is an Fn::Join with tokens in it, as the CDK writes one."""
    text = json.dumps(definition)
    parts: list[Any] = []
    for chunk in re.split(r"(<<[A-Za-z0-9]+>>)", text):
        if chunk.startswith("<<"):
            logical_id = chunk[2:-2]
            parts.append({"Ref": logical_id} if "Queue" in logical_id or "Table" in logical_id else None)
            if parts[-1] is None:
                parts[-1] = {"Fn::GetAtt": [logical_id, "Arn"]}
        else:
            parts.append(chunk)
    return {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": {"Fn::Join": ["", parts]},
            "RoleArn": {"Fn::GetAtt": ["MachineRoleAAAA1111", "Arn"]},
        },
    }


def arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def function(role: str, **properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Function", "Properties": {"Role": arn(role), **properties}}


def queue(dead_letter_queue: str | None = None) -> dict[str, Any]:
    properties = {"RedrivePolicy": {"deadLetterTargetArn": arn(dead_letter_queue)}} if dead_letter_queue else {}
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "UploadsLogs0A1B2C3D": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Uploads1A2B3C4D": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "UploadsLogs0A1B2C3D"}},
                "NotificationConfiguration": {
                    "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": arn("Ingest11111111")}]
                },
            },
        },
        "Ingest11111111": function("IngestRole2222222A", Layers=[{"Ref": "Shared0F0F0F0F"}]),
        "IngestRole2222222A": {"Type": "AWS::IAM::Role", "Properties": {}},
        "IngestPolicy3333333A": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "IngestRole2222222A"}],
                "PolicyDocument": {
                    "Statement": [
                        {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": arn("IngestLogs44444444")},
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": arn("Uploads1A2B3C4D")},
                        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "Key5555"}},
                        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn("Failures66666666")},
                    ]
                },
            },
        },
        "IngestLogs44444444": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "IngestAlarm77777777": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        "Shared0F0F0F0F": {"Type": "AWS::Lambda::LayerVersion", "Properties": {}},
        "Key5555": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "IngestInvokeConfig88888888": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": "Ingest11111111"},
                "DestinationConfig": {
                    "OnSuccess": {"Destination": arn("Results99999999")},
                    "OnFailure": {"Destination": arn("Failures66666666")},
                },
            },
        },
        "Results99999999": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "results"}},
        "FailuresDLQAAAAAAAA": queue(),
        "Failures66666666": queue("FailuresDLQAAAAAAAA"),
        "AcceptedBBBBBBBB": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Results99999999"},
                "EventPattern": {"detail-type": ["Lambda Function Invocation Result - Success"]},
                "Targets": [{"Arn": {"Ref": "MachineCCCCCCCC"}, "DeadLetterConfig": {"Arn": arn("RuleDLQDDDDDDDD")}}],
            },
        },
        "RuleDLQDDDDDDDD": queue(),
        "MachineCCCCCCCC": state_machine_resource(
            {
                "StartAt": "Store",
                "States": {
                    "Store": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::dynamodb:putItem",
                        "Parameters": {"TableName": "<<TableEEEEEEEE>>"},
                        "Next": "Notify",
                    },
                    "Notify": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "<<NotifyFFFFFFFF>>"},
                        "End": True,
                    },
                },
            }
        ),
        "MachineRoleAAAA1111": {"Type": "AWS::IAM::Role", "Properties": {}},
        "TableEEEEEEEE": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "NotifyFFFFFFFF": function("NotifyRole12121212"),
        "NotifyRole12121212": {"Type": "AWS::IAM::Role", "Properties": {}},
        "AlertsTopic13131313": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "AlertsSub14141414": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": {"Ref": "AlertsTopic13131313"}, "Endpoint": arn("NotifyFFFFFFFF")},
        },
        "Provider15151515": function("NotifyRole12121212"),
        "Custom16161616": {"Type": "Custom::Thing", "Properties": {"ServiceToken": arn("Provider15151515")}},
    }
}


def test_the_architecture_shows_the_main_resources_and_leaves_plumbing_out() -> None:
    root = parse(architecture_svg(TEMPLATE, title="Example"))
    nodes = {str(g.get("data-id")): texts(g) for g in groups(root, "resource")}

    assert set(nodes) == {
        "Uploads1A2B3C4D",
        "Ingest11111111",
        "Shared0F0F0F0F",
        "Key5555",
        "Results99999999",
        "FailuresDLQAAAAAAAA",
        "Failures66666666",
        "AcceptedBBBBBBBB",
        "RuleDLQDDDDDDDD",
        "MachineCCCCCCCC",
        "TableEEEEEEEE",
        "NotifyFFFFFFFF",
        "AlertsTopic13131313",
    }  # no roles, policies, log groups, alarms, access-log bucket, custom-resource provider
    assert nodes["Ingest11111111"][:2] == ["Lambda function", "Ingest"]  # short names: no hash
    assert nodes["FailuresDLQAAAAAAAA"][0] == "SQS queue (DLQ)"
    assert "Example" in texts(root)


def test_the_architecture_edges_follow_events_destinations_tasks_and_grants() -> None:
    root = parse(architecture_svg(TEMPLATE, title="Example"))
    labels = edge_labels(root)

    assert set(edges(root)) == {
        ("Uploads1A2B3C4D", "Ingest11111111", "flow"),  # S3 notification
        ("Shared0F0F0F0F", "Ingest11111111", "access"),  # layer
        ("Ingest11111111", "Results99999999", "flow"),  # on success
        ("Ingest11111111", "Failures66666666", "failure"),  # on failure (the IAM grant adds no second edge)
        ("Failures66666666", "FailuresDLQAAAAAAAA", "dlq"),  # redrive
        ("Results99999999", "AcceptedBBBBBBBB", "flow"),  # the rule's bus
        ("AcceptedBBBBBBBB", "MachineCCCCCCCC", "flow"),  # rule target
        ("AcceptedBBBBBBBB", "RuleDLQDDDDDDDD", "dlq"),  # the target's DLQ
        ("MachineCCCCCCCC", "TableEEEEEEEE", "flow"),  # task
        ("MachineCCCCCCCC", "NotifyFFFFFFFF", "flow"),  # task
        ("AlertsTopic13131313", "NotifyFFFFFFFF", "flow"),  # subscription
        ("Ingest11111111", "Uploads1A2B3C4D", "access"),  # IAM: reads
        ("Ingest11111111", "Key5555", "access"),  # IAM: reads
    }
    assert labels[("Ingest11111111", "Results99999999")] == ["on success"]
    assert labels[("Ingest11111111", "Failures66666666")] == ["on failure"]
    assert labels[("MachineCCCCCCCC", "TableEEEEEEEE")] == ["Store"]  # the state that calls it
    assert labels[("Ingest11111111", "Uploads1A2B3C4D")] == ["reads"]
    assert labels[("Uploads1A2B3C4D", "Ingest11111111")] == ["ObjectCreated:*"]
    dashed = {(g.get("data-from"), g.get("data-kind")) for g in groups(root, "edge") if g[0].get("stroke-dasharray")}
    assert ("Failures66666666", "dlq") in dashed
    assert ("Ingest11111111", "failure") in dashed


def test_architecture_boxes_do_not_overlap_and_edges_go_round_them() -> None:
    root = parse(architecture_svg(TEMPLATE, title="Example"))
    boxes = {str(g.get("data-id")): bounds(g) for g in groups(root, "resource")}
    labels = [(f"label {i}", bounds(g), False) for i, g in enumerate(groups(root, "edge-label"))]

    assert_boxes_apart([(name, box, False) for name, box in boxes.items()] + labels)
    assert_edges_avoid_boxes(root, boxes)


def test_a_rule_shows_what_its_pattern_matches_on_but_not_tokens() -> None:
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["<<Images12345678>>"]}, "object": {"key": [{"prefix": "incoming/"}]}},
    }
    assert pattern_lines(pattern) == ["Object Created", "key prefix incoming/"]
    status = {"detail": {"status": ["FAILED", "TIMED_OUT"], "ok": [True], "size": [{"numeric": [">", 0]}]}}
    assert pattern_lines(status) == ["status FAILED, TIMED_OUT", "ok true"]  # two fields at most


def test_state_machine_definitions_keep_readable_names() -> None:
    definition = state_machine_definitions(TEMPLATE)["MachineCCCCCCCC"]

    assert definition["States"]["Store"]["Parameters"]["TableName"] == "<<TableEEEEEEEE>>"
    assert task_resource(definition["States"]["Notify"]) == ("lambda:invoke", "Notify")


# --------------------------------------------------------------------------------------------------------------
# The command


def test_the_command_writes_the_index_and_removes_only_its_own_stale_files(tmp_path: Path) -> None:
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    template = {"Description": "An example", "Resources": {"MachineCCCCCCCC": TEMPLATE["Resources"]["MachineCCCCCCCC"]}}
    (assembly / "Example.template.json").write_text(json.dumps(template))
    (assembly / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "Example": {
                        "type": "aws:cloudformation:stack",
                        "displayName": "Example",
                        "properties": {"templateFile": "Example.template.json"},
                    }
                }
            }
        )
    )
    out = tmp_path / "diagrams"
    out.mkdir()
    (out / "Gone.svg").write_text(MARKER + "\n<svg/>\n")
    (out / "hand-drawn.svg").write_text("<svg/>\n")

    assert main([str(assembly), "--out", str(out)]) == 0

    assert sorted(path.name for path in out.iterdir()) == [
        "Example-Machine.svg",
        "Example.svg",
        "README.md",
        "hand-drawn.svg",
    ]
    index = (out / "README.md").read_text()
    assert "![Example architecture](Example.svg)" in index
    assert "![Example Machine](Example-Machine.svg)" in index
    assert "An example" in index
    assert main([str(tmp_path / "missing"), "--out", str(out)]) == 2
