"""cdk-nag, in one place: every finding id the library spells, every acknowledgment it makes, and why.

Other modules call the named functions here (``invoke_grant(role, function)``, ``objects_grant(...)``...) and never
spell a rule id. An acknowledgment sits on the construct whose resource causes the finding, names the exact finding
(``AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]``, never a bare ``AwsSolutions-IAM5``) and says why AWS allows
nothing narrower.

cdk-nag 3 reads acknowledgments made with ``Validations.of(scope).acknowledge(Acknowledgment(...))``: one applies to
the construct it is made on and to everything below it, and its id is ``<pack>::<rule>[<finding>]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

PACK = "AwsSolutions"
"""The cdk-nag pack whose findings the library acknowledges (``AwsSolutionsChecks``)."""

_ACKNOWLEDGED_RULES = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
_LAMBDA_BASIC_EXECUTION_ROLE = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _rule_id(rule: str) -> str:
    """``IAM5[Resource::*]`` -> ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``, the id cdk-nag looks up."""
    return f"{PACK}::{PACK}-{rule}"


def _acknowledge(scope: Construct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``IAM5[...]``, ``SQS3``...) on exactly ``scope`` and what is below it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=_rule_id(rule), reason=reason))


def _acknowledged(scope: Construct, rule: str) -> bool:
    """Whether ``scope`` itself already carries an acknowledgment of ``rule``."""
    rule_id = _rule_id(rule)
    return any(
        entry.type == _ACKNOWLEDGED_RULES and isinstance(entry.data, Mapping) and rule_id in entry.data
        for entry in scope.node.metadata
    )


# ------------------------------------------------------------------------------------------------ spelling


def spelling(scope: Construct, value: str) -> str:
    """How cdk-nag spells a resource in a finding id (its ``flattenCfnReference``): ``<Logical.Arn>`` for a
    ``Fn::GetAtt``, ``<Logical>`` for a ``Ref``, the parts of a ``Fn::Join`` joined, ``${X}`` of a ``Fn::Sub`` as
    ``<X>``, literals as they are."""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, Mapping):
        for intrinsic, spell in _INTRINSICS.items():
            if intrinsic in node:
                return spell(node[intrinsic])
    return "" if node is None else str(node)


def _join(value: Any) -> str:
    separator, parts = value
    return str(separator).join(_flatten(part) for part in parts)


def _get_att(value: Any) -> str:
    logical_id, attribute = value
    return f"<{_flatten(logical_id)}.{_flatten(attribute)}>"


_INTRINSICS: dict[str, Callable[[Any], str]] = {
    "Fn::Join": _join,
    "Fn::Sub": _flatten,
    "Fn::GetAtt": _get_att,
    "Fn::ImportValue": _flatten,
    "Ref": lambda value: f"<{_flatten(value)}>",
}


def _own_role(role: iam.IRole | None) -> iam.Role | None:
    """The role if its policies are in this app (an imported role's are not: nothing there to acknowledge)."""
    return role if isinstance(role, iam.Role) else None


# ------------------------------------------------------------------------------------------------ IAM5: resources


def resources(role: iam.IRole | None, arns: Sequence[str], reason: str) -> None:
    """Acknowledge, on ``role``, the finding of each of ``arns`` that has a wildcard: one resource, one finding."""
    own = _own_role(role)
    if own is None:
        return
    for arn in arns:
        spelled = spelling(own, arn)
        if "*" in spelled:
            _acknowledge(own, f"IAM5[Resource::{spelled}]", reason)


def invoke_grant(role: iam.IRole | None, function: lambda_.IFunction) -> None:
    """aws-cdk-lib grants ``lambda:InvokeFunction`` on a function's ARN and on ``ARN:*`` (versions and aliases)."""
    resources(
        role,
        [f"{function.function_arn}:*"],
        "Invoking a function is granted on its versions and aliases too (ARN:*); the grant is scoped to that one "
        "function.",
    )


def objects_grant(role: iam.IRole | None, bucket: s3.IBucket, keys: str, reason: str) -> None:
    """A grant on the objects of one bucket whose keys match ``keys`` (``*``, ``reports/*``...)."""
    resources(role, [bucket.arn_for_objects(keys)], reason)


def failure_records_grant(role: iam.IRole | None, bucket: s3.IBucket) -> None:
    """``s3:PutObject`` of failure records, each a new object with a generated key."""
    objects_grant(
        role,
        bucket,
        "*",
        "Each failure record is written as a new object with a generated key: s3:PutObject on the objects of that "
        "one bucket.",
    )


# ------------------------------------------------------------------------------------------------ IAM5: actions


def topic_key_grant(role: iam.IRole | None) -> None:
    """Publishing to a KMS-encrypted topic: aws-cdk-lib grants ``kms:GenerateDataKey*`` on the topic's key."""
    own = _own_role(role)
    if own is not None:
        _acknowledge(
            own,
            "IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the KMS-encrypted topic needs kms:GenerateDataKey and GenerateDataKeyWithoutPlaintext, "
            "on the topic's key only.",
        )


# ------------------------------------------------------------------------------------------------ IAM5: "*"

_XRAY = (
    "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; "
    "the function's X-Ray tracing needs them"
)
_NETWORK_INTERFACES = (
    "Lambda creates and deletes the function's network interfaces in the VPC at run time, so their ARNs are not "
    "known (the actions of AWSLambdaVPCAccessExecutionRole, inline); ec2:Describe* takes no resource ARN"
)


def function_role(role: iam.Role, *, tracing: bool, vpc: bool) -> None:
    """The role the library makes for a function: X-Ray tracing and VPC network interfaces take ``*``."""
    reasons = [reason for reason, needed in ((_XRAY, tracing), (_NETWORK_INTERFACES, vpc)) if needed]
    if reasons:
        _acknowledge(role, "IAM5[Resource::*]", "; ".join(reasons) + ".")


def state_machine_role(role: iam.IRole) -> None:
    """A state machine's role: aws-cdk-lib grants log delivery and X-Ray on ``*``."""
    own = _own_role(role)
    if own is not None:
        _acknowledge(
            own,
            "IAM5[Resource::*]",
            "Step Functions log delivery (logs:CreateLogDelivery, logs:DescribeResourcePolicies...) and X-Ray "
            "(xray:PutTraceSegments...) support no resource-level permissions.",
        )


def registry_token(role: iam.Role, *, repository_known: bool) -> None:
    """A SageMaker model role pulls its image with ``ecr:GetAuthorizationToken``, which takes ``*`` only."""
    reason = (
        "ecr:GetAuthorizationToken has no resource-level permissions; the image is read from its one repository"
        if repository_known
        else "ecr:GetAuthorizationToken has no resource-level permissions; the image URI is not an ECR URI known at "
        "synth, so its repository ARN is not known here"
    )
    _acknowledge(role, "IAM5[Resource::*]", reason)


def create_job(resource: Construct) -> None:
    """The custom resource that calls ``s3control:CreateJob`` (``s3:CreateJob`` takes ``*`` only)."""
    _acknowledge(
        resource,
        "IAM5[Resource::*]",
        "s3:CreateJob has no resource-level permissions (IAM's service authorization reference); iam:PassRole is "
        "scoped to the job role",
    )


# ------------------------------------------------------------------------------------------------ other rules


def dead_letter_queue(queue: Construct, dead_letter_for: str) -> None:
    """SQS3 looks for an SQS redrive DLQ; a queue that *is* a DLQ of something else needs none."""
    _acknowledge(
        queue,
        "SQS3",
        f"This queue is the dead-letter queue of {dead_letter_for}; cdk-nag recognises only SQS redrive DLQs.",
    )


def cdk_deploy_time_function(function: Construct, reason: str) -> None:
    """One of aws-cdk-lib's own singleton functions (a deploy-time custom resource) uses the AWS managed
    ``AWSLambdaBasicExecutionRole`` for its logs. Once per function: every caller in a stack shares it."""
    rule = f"IAM4[{_LAMBDA_BASIC_EXECUTION_ROLE}]"
    if not _acknowledged(function, rule):
        _acknowledge(function, rule, reason)


# ------------------------------------------------------------------------------------------------ public helpers


def grant_unscoped_actions(grantee: iam.IGrantable, *, actions: Sequence[str], reason: str) -> iam.Grant:
    """Allow ``actions`` on every resource (``"*"``), for actions that AWS scopes to no resource (their Service
    Authorization Reference entry lists no resource type, e.g. ``comprehend:DetectSentiment``), and acknowledge
    cdk-nag's ``IAM5`` finding on the grantee's role with ``reason``: say why no narrower resource exists.
    """
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=["*"])
    role = grantee.grant_principal
    if isinstance(role, iam.Role):
        _acknowledge(role, "IAM5[Resource::*]", reason)
    return grant


def acknowledge_unrotated_secret(secret: secretsmanager.Secret, *, reason: str) -> None:
    """Acknowledge cdk-nag's ``SMG4`` (no automatic rotation) on ``secret``: for a value that a Lambda function
    cannot rotate, such as a token another service issues. ``reason`` says how it is replaced instead."""
    _acknowledge(secret, "SMG4", reason)
