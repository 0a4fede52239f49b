"""cdk-nag acknowledgments cannot mask a user's mistake: the library acknowledges only the findings its own statements
cause, each as narrow as the statement, and never ``IAM5[Resource::*]`` (or a bare ``IAM5``) on a whole role."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from constructs_lib import DestinedFunction, FunctionWorkflow, allow_unscoped_actions
from constructs_lib._internal import nag
from constructs_lib.defaults import secure_function
from tests.conftest import echo_function

ACKNOWLEDGED = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
EVERY_RESOURCE = "AwsSolutions::AwsSolutions-IAM5[Resource::*]"


def props(**extra: object) -> lambda_.FunctionProps:
    code = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
    return lambda_.FunctionProps(
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=code,
        **extra,  # type: ignore[arg-type]
    )


def delete_every_table() -> iam.PolicyStatement:
    """The user's mistake: an action that has resource-level permissions, granted on every resource."""
    return iam.PolicyStatement(actions=["dynamodb:DeleteTable"], resources=["*"])


def synth(stack: cdk.Stack) -> None:
    app = stack.node.root
    assert isinstance(app, cdk.App)
    app.synth()


def acknowledgments(root: IConstruct) -> list[tuple[IConstruct, str]]:
    """(construct, acknowledged id) of every acknowledgment under ``root``."""
    found = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                found += [(construct, ack_id) for ack_id in entry.data]
    return found


def test_a_wildcard_the_user_adds_to_a_destined_functions_role_fails_synth(stack: cdk.Stack) -> None:
    construct = DestinedFunction(stack, "Orders", function_props=props())
    construct.function.add_to_role_policy(delete_every_table())
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        synth(stack)


def test_a_wildcard_the_user_adds_to_a_workflows_role_fails_synth(stack: cdk.Stack) -> None:
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack))
    workflow.role.add_to_principal_policy(delete_every_table())
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        synth(stack)


def test_a_wildcard_the_user_adds_to_a_function_in_a_vpc_fails_synth(stack: cdk.Stack) -> None:
    from aws_cdk import aws_ec2 as ec2

    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-1",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-1"],
        private_subnet_route_table_ids=["rtb-1"],
    )
    function, _ = secure_function(stack, "InVpc", function_props=props(vpc=vpc, allow_public_subnet=False))
    function.add_to_role_policy(delete_every_table())
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        synth(stack)


def test_what_aws_cannot_scope_is_acknowledged_on_a_policy_of_its_own_per_purpose(stack: cdk.Stack) -> None:
    """X-Ray and log delivery take "*" only: each sits in a policy that holds nothing else, and only that policy
    carries the acknowledgment, with the actions in its reason."""
    destined = DestinedFunction(stack, "Orders", function_props=props())
    workflow = FunctionWorkflow(stack, "Flow", function=echo_function(stack))
    synth(stack)  # no finding left unacknowledged
    every_resource = [(c, ack) for c, ack in acknowledgments(stack) if ack == EVERY_RESOURCE]
    assert every_resource
    for construct, _ in every_resource:
        assert isinstance(construct, iam.Policy), construct.node.path
    paths = {c.node.path for c, _ in every_resource}
    function_role = destined.function.role
    assert isinstance(function_role, Construct)
    assert f"{function_role.node.path}/TracingPolicy" in paths
    assert f"{workflow.role.node.path}/TracingPolicy" in paths
    assert f"{workflow.role.node.path}/LogDeliveryPolicy" in paths
    for construct, _ in every_resource:
        assert isinstance(construct, iam.Policy)
        document = stack.resolve(construct.document.to_json())
        for statement in document["Statement"]:
            assert statement["Resource"] == "*"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(a.startswith(("xray:", "logs:")) for a in actions), statement


def test_no_acknowledgment_of_the_example_app_covers_a_whole_role(example_app: cdk.App) -> None:
    found = acknowledgments(example_app)
    assert found
    for construct, ack_id in found:
        assert ack_id != "AwsSolutions::AwsSolutions-IAM5", construct.node.path
        if ack_id == EVERY_RESOURCE:
            assert isinstance(construct, iam.Policy), f"{construct.node.path}: {ack_id} on a whole {construct}"


def test_allow_unscoped_actions_puts_them_in_a_policy_of_their_own(stack: cdk.Stack) -> None:
    function, _ = secure_function(stack, "Sentiment", function_props=props())
    policy = allow_unscoped_actions(function, actions=["comprehend:DetectSentiment"], reason="no resource type")
    function.add_to_role_policy(delete_every_table())
    assert [c for c, ack in acknowledgments(stack) if ack == EVERY_RESOURCE and "Unscoped" in c.node.id] == [policy]
    assert stack.resolve(policy.document.to_json())["Statement"] == [
        {"Action": "comprehend:DetectSentiment", "Effect": "Allow", "Resource": "*"}
    ]
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        synth(stack)  # the user's own statement is still judged


def test_a_resource_acknowledgment_refuses_every_resource(stack: cdk.Stack) -> None:
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValueError, match="allow_unscoped_actions"):
        nag.resources(role, ["*"], "anything")
