"""The IAM walk (constructs_lib.testing.iam) on small hand-made templates: what it reports, what it accepts.

The walk over every template of the example app is in tests/repository/test_scanners.py (it shares the CLI's cdk.out/).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from constructs_lib.testing import (
    ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
    identity_policies,
    wildcard_resource_problems,
)


def statement(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def policy_template(*statements: dict[str, Any], kind: str = "AWS::IAM::Policy") -> dict[str, Any]:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return {"Resources": {"Planted": {"Type": kind, "Properties": {"PolicyDocument": document}}}}


def test_a_planted_star_is_reported_with_the_action_and_where_it_is() -> None:
    problems = wildcard_resource_problems(policy_template(statement("s3:GetObject", Sid="Read")))
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.logical_id, problem.where, problem.statement, problem.sid) == (
        "Planted",
        "PolicyDocument",
        0,
        "Read",
    )
    assert (problem.actions, problem.resource) == (("s3:GetObject",), "*")
    assert "Planted (AWS::IAM::Policy) PolicyDocument Statement[0] (Sid Read): s3:GetObject on *" in str(problem)
    assert "ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS" in str(problem)


def test_an_allowlisted_action_on_star_is_accepted_and_only_the_others_are_reported() -> None:
    tracing = statement(["xray:PutTraceSegments", "XRay:PutTelemetryRecords"])  # IAM actions are case-insensitive
    assert wildcard_resource_problems(policy_template(tracing)) == []
    problems = wildcard_resource_problems(
        policy_template(statement(["xray:PutTraceSegments", "sqs:SendMessage", "comprehend:DetectSentiment"], ["*"]))
    )
    assert [p.actions for p in problems] == [("sqs:SendMessage",)]


@pytest.mark.parametrize(
    "action", ["*", "s3:*", "xray:*", "xray:Put*", {"Fn::Join": ["", ["s3:", "GetObject"]]}], ids=str
)
def test_wildcard_or_unreadable_actions_on_star_are_never_allowlisted(action: Any) -> None:
    assert len(wildcard_resource_problems(policy_template(statement(action)))) == 1


EVERY_RESOURCE = {
    "star in a list": ["arn:aws:s3:::my-bucket/*", "*"],
    "every bucket": "arn:aws:s3:::*",
    "every object of every bucket": "arn:aws:s3:::*/*",
    "every function (Fn::Join)": {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":lambda:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":function:*",
            ],
        ]
    },
    "every table (Fn::Sub)": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"},
    "every log group": "arn:aws:logs:us-east-1:123456789012:log-group:*:*",
    "every service": "arn:aws:*:us-east-1:123456789012:thing/x",
    "one branch of Fn::If": {"Fn::If": ["Wide", "*", {"Ref": "AWS::NoValue"}]},
}


@pytest.mark.parametrize("resource", EVERY_RESOURCE.values(), ids=EVERY_RESOURCE.keys())
def test_every_spelling_of_every_resource_is_reported(resource: Any) -> None:
    problems = wildcard_resource_problems(policy_template(statement("s3:GetObject", resource)))
    assert [p.actions for p in problems] == [("s3:GetObject",)]


SCOPED = {
    "one bucket's objects": "arn:aws:s3:::my-bucket/*",
    "a bucket's objects (Fn::Join)": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]},
    "a function's versions": {"Fn::Join": ["", [{"Fn::GetAtt": ["Fn", "Arn"]}, ":*"]]},
    "a name prefix": "arn:aws:lambda:us-east-1:123456789012:function:orders-*",
    "one API's routes": "arn:aws:execute-api:us-east-1:123456789012:abc123/*",
    "one table's indexes": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*",
    "an import": {"Fn::ImportValue": "SharedBucketArn"},
    "any account, one named role": "arn:aws:iam::*:role/deployer",
}


@pytest.mark.parametrize("resource", SCOPED.values(), ids=SCOPED.keys())
def test_resources_scoped_to_a_name_are_accepted(resource: Any) -> None:
    assert wildcard_resource_problems(policy_template(statement("s3:GetObject", resource))) == []


def test_not_resource_and_not_action_count_as_everything() -> None:
    not_resource = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    allowlisted_not_resource = {"Effect": "Allow", "Action": "xray:PutTraceSegments", "NotResource": "arn:aws:s3:::x"}
    problems = wildcard_resource_problems(policy_template(not_resource, not_action, allowlisted_not_resource))
    assert [(p.statement, p.actions, p.resource) for p in problems] == [
        (0, ("s3:GetObject",), "NotResource: arn:aws:s3:::secret/*"),
        (1, ("NotAction: iam:*",), "*"),
    ]


def test_deny_statements_are_not_checked() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert wildcard_resource_problems(policy_template(deny)) == []


def test_a_single_statement_object_and_a_json_string_document_are_read() -> None:
    single = {"Statement": statement("s3:GetObject")}
    as_text = json.dumps({"Statement": [statement("s3:GetObject")]})
    for document in (single, as_text):
        template = {"Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}}}
        assert len(wildcard_resource_problems(template)) == 1, document


def test_a_statement_that_is_not_literal_json_is_reported() -> None:
    template = policy_template({"Fn::If": ["Cond", statement("s3:GetObject"), {"Ref": "AWS::NoValue"}]})
    problems = wildcard_resource_problems(template)
    assert len(problems) == 1
    assert problems[0].resource.startswith("not literal JSON")


def _document(action: str = "s3:GetObject") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement(action)]}


WALKED: dict[str, dict[str, Any]] = {
    "AWS::IAM::Policy": {"PolicyDocument": _document(), "PolicyName": "p"},
    "AWS::IAM::ManagedPolicy": {"PolicyDocument": _document()},
    "AWS::IAM::RolePolicy": {"PolicyDocument": _document(), "PolicyName": "p", "RoleName": "r"},
    "AWS::IAM::UserPolicy": {"PolicyDocument": _document(), "PolicyName": "p", "UserName": "u"},
    "AWS::IAM::GroupPolicy": {"PolicyDocument": _document(), "PolicyName": "p", "GroupName": "g"},
    "AWS::IAM::Role": {
        "AssumeRolePolicyDocument": _document("sts:AssumeRole"),
        "Policies": [{"PolicyName": "Inline", "PolicyDocument": _document()}],
    },
    "AWS::IAM::User": {"Policies": [{"PolicyName": "Inline", "PolicyDocument": _document()}]},
    "AWS::IAM::Group": {"Policies": [{"PolicyName": "Inline", "PolicyDocument": _document()}]},
    "AWS::SSO::PermissionSet": {"InlinePolicy": json.dumps(_document()), "InstanceArn": "x", "Name": "n"},
}


@pytest.mark.parametrize("kind", WALKED)
def test_every_kind_of_identity_policy_is_walked(kind: str) -> None:
    template = {"Resources": {"Planted": {"Type": kind, "Properties": WALKED[kind]}}}
    problems = wildcard_resource_problems(template)
    assert [(p.resource_type, p.actions) for p in problems] == [(kind, ("s3:GetObject",))]
    if kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        assert problems[0].where == "Policies[0] (Inline)"  # the trust policy of a role is not an identity policy


NOT_WALKED: dict[str, dict[str, Any]] = {
    "AWS::S3::BucketPolicy": {"Bucket": "b", "PolicyDocument": _document()},
    "AWS::SQS::QueuePolicy": {"Queues": ["q"], "PolicyDocument": _document()},
    "AWS::SNS::TopicPolicy": {"Topics": ["t"], "PolicyDocument": _document()},
    "AWS::KMS::Key": {"KeyPolicy": _document("kms:*")},
    "AWS::Lambda::LayerVersionPermission": {
        "Action": "lambda:GetLayerVersion",
        "LayerVersionArn": "l",
        "Principal": "*",
    },
    "AWS::Logs::ResourcePolicy": {"PolicyName": "p", "PolicyDocument": json.dumps(_document())},
}


@pytest.mark.parametrize("kind", NOT_WALKED)
def test_resource_policies_are_not_walked(kind: str) -> None:
    template = {"Resources": {"Planted": {"Type": kind, "Properties": NOT_WALKED[kind]}}}
    assert list(identity_policies(template)) == []
    assert wildcard_resource_problems(template) == []


def test_a_caller_can_bring_its_own_allowlist() -> None:
    template = policy_template(statement(["ssm:DescribeParameters", "xray:PutTraceSegments"]))
    problems = wildcard_resource_problems(template, allowed_actions={"ssm:DescribeParameters": "no resource type"})
    assert [p.actions for p in problems] == [("xray:PutTraceSegments",)]


def test_every_allowlisted_action_is_one_exact_action_with_a_reason() -> None:
    assert len(ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS) >= 10
    for action, reason in ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.items():
        assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), action
        assert len(reason) >= 20, action
    with pytest.raises(TypeError):
        ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS["s3:GetObject"] = "no"  # type: ignore[index]
