"""The one intrinsic resolver: against the kit's local resources (strict), or with placeholders (never fails)."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.testing import TemplateError
from constructs_lib.testing._engine.intrinsics import Physical, Placeholders, Resolver, state_machine_definitions

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Stage": {"Type": "String"}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    "Resources": {
        "Queue4A7E3860": {"Type": "AWS::SQS::Queue"},
        "Topic1234ABCD": {"Type": "AWS::SNS::Topic"},
        "Fn9F3A2B1C": {"Type": "AWS::Lambda::Function"},
        "Bucket83908E77": {"Type": "AWS::S3::Bucket"},
        "RoleAAAAAAAA": {"Type": "AWS::IAM::Role"},
        "Machine1111AAAA": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "DefinitionString": {
                    "Fn::Join": [
                        "",
                        [
                            '{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"',
                            {"Fn::GetAtt": ["Fn9F3A2B1C", "Arn"]},
                            '","Parameters":{"QueueUrl":"',
                            {"Ref": "Queue4A7E3860"},
                            '","Bucket":"${BucketName}"},"End":true}}}',
                        ],
                    ]
                },
                "DefinitionSubstitutions": {"BucketName": {"Ref": "Bucket83908E77"}},
            },
        },
    },
}

READABLE = Placeholders(
    account="account",
    region="region",
    name=lambda logical_id: f"<<{logical_id}>>",
    attribute=lambda logical_id, attribute: f"<<{logical_id}.{attribute}>>",
    unknown=lambda function, argument: f"?{function}",
)


def strict(**options: Any) -> Resolver:
    return Resolver(
        TEMPLATE,
        physical=lambda logical_id: Physical(ref=f"ref-{logical_id}", attributes={"Arn": f"arn-{logical_id}"}),
        pseudo={"AWS::Region": "eu-west-1"},
        **options,
    )


def test_placeholders_have_the_shape_the_service_gives() -> None:
    resolver = READABLE.resolver(TEMPLATE)

    assert resolver.resolve({"Ref": "Queue4A7E3860"}) == "https://sqs.region.amazonaws.com/account/<<Queue4A7E3860>>"
    assert resolver.resolve({"Ref": "Topic1234ABCD"}) == "arn:aws:sns:region:account:<<Topic1234ABCD>>"
    assert resolver.resolve({"Fn::GetAtt": "Fn9F3A2B1C.Arn"}) == "arn:aws:lambda:region:account:function:<<Fn9F3A2B1C>>"
    assert resolver.resolve({"Fn::GetAtt": ["Bucket83908E77", "Arn"]}) == "arn:aws:s3:::<<Bucket83908E77>>"
    assert resolver.resolve({"Fn::GetAtt": ["RoleAAAAAAAA", "Arn"]}) == "<<RoleAAAAAAAA.Arn>>"
    assert resolver.resolve({"Ref": "Stage"}) == "<<Stage>>"
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}/${Fn9F3A2B1C}"}) == "region/<<Fn9F3A2B1C>>"


def test_placeholders_never_fail_on_what_only_a_deployment_knows() -> None:
    resolver = READABLE.resolver(TEMPLATE)

    assert resolver.resolve({"Fn::If": ["IsProd", "a", "b"]}) == "?Fn::If"
    assert resolver.resolve({"Fn::ImportValue": "Shared-Bus"}) == "?Fn::ImportValue"
    assert resolver.resolve({"Fn::Transform": {}}) == "?Fn::Transform"
    assert resolver.resolve({"Fn::Select": [3, ["a"]]}) == "?Fn::Select"
    assert resolver.resolve({"Fn::GetAtt": ["Undeclared", "Arn"]}) == "<<Undeclared.Arn>>"


def test_the_strict_resolver_says_what_it_cannot_resolve() -> None:
    with pytest.raises(TemplateError, match="pass imports="):
        strict().resolve({"Fn::ImportValue": "Shared-Bus"})
    with pytest.raises(TemplateError, match="Fn::Transform is not supported"):
        strict().resolve({"Fn::Transform": {}})
    with pytest.raises(TemplateError, match="no such item"):
        strict().resolve({"Fn::Select": [3, ["a"]]})
    with pytest.raises(TemplateError, match="parameter Stage has no default"):
        strict().resolve({"Fn::If": ["IsProd", "a", "b"]})

    assert strict(parameters={"Stage": "prod"}).resolve({"Fn::If": ["IsProd", "a", "b"]}) == "a"
    assert strict(imports={"Shared-Bus": "bus"}).resolve({"Fn::ImportValue": "Shared-Bus"}) == "bus"


def test_definitions_are_joined_substituted_and_parsed() -> None:
    (definition,) = state_machine_definitions(TEMPLATE, READABLE).values()

    call = definition["States"]["Call"]
    assert call["Resource"] == "arn:aws:lambda:region:account:function:<<Fn9F3A2B1C>>"
    assert call["Parameters"] == {
        "QueueUrl": "https://sqs.region.amazonaws.com/account/<<Queue4A7E3860>>",
        "Bucket": "<<Bucket83908E77>>",
    }
