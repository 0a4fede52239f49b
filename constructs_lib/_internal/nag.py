"""cdk-nag, in one place: every finding id the library spells, every acknowledgment it makes, and why.

Other modules call the named functions here (``invoke_grant(role, function)``, ``objects_grant(...)``...) and never
spell a rule id. An acknowledgment sits on the construct whose resource causes the finding, names the exact finding
(``AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]``, never a bare ``AwsSolutions-IAM5``) and says why AWS allows
nothing narrower.

cdk-nag 3 reads acknowledgments made with ``Validations.of(scope).acknowledge(Acknowledgment(...))``: one applies to
the construct it is made on and to everything below it, and its id is ``<pack>::<rule>[<finding>]``. Its IAM5 finding
for a statement on every resource is ``Resource::*`` whatever the action, one per policy: acknowledged on a role, it
would also hide a statement the user adds to that role later (``dynamodb:DeleteTable`` on ``*``). So what AWS allows
on ``*`` only (X-Ray, log delivery, ...) goes into a policy of its own, per purpose, and only that policy carries the
acknowledgment, its reason naming the actions (``Role``, ``allow_unscoped_actions``); whatever else a role is given
stays in its default policy, where cdk-nag judges it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

PACK = "AwsSolutions"
"""The cdk-nag pack whose findings the library acknowledges (``AwsSolutionsChecks``)."""

_ACKNOWLEDGED_RULES = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
_LAMBDA_BASIC_EXECUTION_ROLE = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _rule_id(rule: str) -> str:
    """``IAM5[Resource::*]`` -> ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``, the id cdk-nag looks up."""
    return f"{PACK}::{PACK}-{rule}"


def _acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
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
    """Acknowledge, on ``role``, the finding of each of ``arns`` that has a wildcard: one resource, one finding.

    Never ``*`` itself: that finding is the same for every statement on every resource of the role; grant such
    actions with ``allow_unscoped_actions`` (a policy of their own)."""
    own = _own_role(role)
    if own is None:
        return
    for arn in arns:
        spelled = spelling(own, arn)
        if spelled == "*":
            raise ValueError(
                "IAM5[Resource::*] on a role would cover every statement of it: grant the actions that take '*' "
                "only with allow_unscoped_actions, in a policy of their own"
            )
        if "*" in spelled:
            _acknowledge(own, f"IAM5[Resource::{spelled}]", reason)


_acknowledge_resources = resources  # for the public helper, whose keyword argument is named ``resources``


def invoke_grant(role: iam.IRole | None, function: lambda_.IFunction) -> None:
    """aws-cdk-lib grants ``lambda:InvokeFunction`` on a function's ARN and on ``ARN:*`` (versions and aliases)."""
    resources(
        role,
        [f"{function.function_arn}:*"],
        "Invoking a function is granted on its versions and aliases too (ARN:*); the grant is scoped to that one "
        "function.",
    )


def durable_checkpoint_grant(policy: iam.Policy, function_arn: str) -> None:
    """A durable function checkpoints and reads its own executions, which are named by its qualified ARN: the
    acknowledgment sits on the policy of its own that holds that one statement."""
    _acknowledge(
        policy,
        f"IAM5[Resource::{spelling(policy, f'{function_arn}:*')}]",
        "A durable function checkpoints its own executions (lambda:CheckpointDurableExecution, "
        "lambda:GetDurableExecutionState), whose ARNs are the function's qualified ARN (version or alias, ARN:*); "
        "scoped to that one function, not AWSLambdaBasicDurableExecutionRolePolicy's '*'.",
    )


def durable_status_grant(policy: iam.Policy, function_arn: str) -> None:
    """The reporter of a durable function's timed-out and stopped executions reads those executions (named by the
    function's qualified ARN): the acknowledgment sits on the policy of its own that holds that one statement."""
    _acknowledge(
        policy,
        f"IAM5[Resource::{spelling(policy, f'{function_arn}:*')}]",
        "The failure records of timed-out or stopped durable executions need each execution's input "
        "(lambda:GetDurableExecution), whose ARN is the durable function's qualified ARN (ARN:*); scoped to that one "
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

_KEY_ACTIONS = {
    "kms:GenerateDataKey*": "kms:GenerateDataKey and GenerateDataKeyWithoutPlaintext (kms:GenerateDataKey*)",
    "kms:ReEncrypt*": "kms:ReEncryptFrom and ReEncryptTo (kms:ReEncrypt*)",
}


def key_grant(role: iam.IRole | None, granted: Sequence[str]) -> None:
    """aws-cdk-lib's grant to publish to a KMS-encrypted topic, send to a KMS-encrypted queue or write to a
    KMS-encrypted bucket names key actions with a wildcard (``granted``, as the grant spells them), on that one key:
    one finding per action."""
    own = _own_role(role)
    if own is None:
        return
    for action in granted:
        if "*" in action:
            _acknowledge(
                own,
                f"IAM5[Action::{action}]",
                f"Sending to a KMS-encrypted topic, queue or bucket needs {_KEY_ACTIONS[action]}, granted on that "
                "route's key only.",
            )


PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
"""What aws-cdk-lib grants on a topic's key to publish (``grant_publish``) and a task on a queue's key to send."""
SEND_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
"""What aws-cdk-lib grants on a queue's key to send messages (``grant_send_messages``)."""
ENCRYPT_KEY_ACTIONS = ("kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
"""What aws-cdk-lib grants on a key to encrypt (``grant_encrypt``): writing to an SSE-KMS bucket."""


# ------------------------------------------------------------------------------------------------ IAM5: "*"


NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
"""What AWSLambdaVPCAccessExecutionRole grants a function in a VPC, on every resource."""


@dataclass(frozen=True)
class _Unscoped:
    """Actions that only ``"*"`` can grant, for one purpose: they get a policy of their own."""

    policy_id: str
    actions: frozenset[str]
    reason: str


_UNSCOPED = (
    _Unscoped(
        "TracingPolicy",
        frozenset(
            {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}
        ),
        "X-Ray tracing: xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets support "
        "no resource-level permissions. This policy holds X-Ray actions only.",
    ),
    _Unscoped(
        "LogDeliveryPolicy",
        frozenset(
            {
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            }
        ),
        "Step Functions logging: vended log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, "
        "DeleteLogDelivery, ListLogDeliveries) and logs:PutResourcePolicy, DescribeResourcePolicies and "
        "DescribeLogGroups support no resource-level permissions. This policy holds those actions only.",
    ),
    _Unscoped(
        "StreamListingPolicy",
        frozenset({"dynamodb:ListStreams"}),
        "A DynamoDB stream event source: dynamodb:ListStreams lists the account's streams and supports no "
        "resource-level permissions (aws-cdk-lib's DynamoEventSource grants it on *, as the "
        "AWSLambdaDynamoDBExecutionRole managed policy does). This policy holds that action only.",
    ),
    _Unscoped(
        "NetworkInterfacesPolicy",
        frozenset(NETWORK_INTERFACE_ACTIONS),
        "A function in a VPC: Lambda creates and deletes its network interfaces at run time, so their ARNs are not "
        "known (the actions of AWSLambdaVPCAccessExecutionRole, inline); ec2:Describe* takes no resource ARN. This "
        "policy holds those actions only.",
    ),
)


def _unscoped_purpose(statement: iam.PolicyStatement) -> _Unscoped | None:
    """The purpose whose actions are all that ``statement`` allows, on every resource; None for anything else."""
    if (
        statement.effect != iam.Effect.ALLOW
        or statement.resources != ["*"]
        or statement.not_actions
        or statement.not_resources
        or statement.has_principal
        or not statement.actions
    ):
        return None
    return next((u for u in _UNSCOPED if set(statement.actions) <= u.actions), None)


def _policy_of_its_own(role: iam.Role, policy_id: str, reason: str) -> iam.Policy:
    """The policy ``policy_id`` of ``role``, made (and acknowledged) the first time."""
    existing = role.node.try_find_child(policy_id)
    if isinstance(existing, iam.Policy):
        return existing
    policy = iam.Policy(role, policy_id, roles=[role])
    _acknowledge(policy, "IAM5[Resource::*]", reason)
    return policy


class Role(iam.Role):
    """An IAM role as the library makes them: a statement on every resource (``"*"``) whose actions support no
    resource-level permissions (what aws-cdk-lib adds for X-Ray tracing, a state machine's logging, a function in a
    VPC, or a DynamoDB stream source) goes into a policy of its own that carries cdk-nag's acknowledgment; any other
    statement goes to the default policy, where cdk-nag judges it."""

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        purpose = _unscoped_purpose(statement)
        if purpose is None:
            return super().add_to_principal_policy(statement)
        policy = _policy_of_its_own(self, purpose.policy_id, purpose.reason)
        policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)


def allow_unscoped_actions(grantee: iam.IGrantable, *, actions: Sequence[str], reason: str) -> iam.Policy:
    """Allow ``actions`` on every resource (``"*"``) in a policy of their own, which carries cdk-nag's
    ``IAM5[Resource::*]`` acknowledgment with ``reason``: say why no narrower resource exists (for
    ``comprehend:DetectSentiment``, its Service Authorization Reference entry lists no resource type).

    The acknowledgment covers that policy only: a statement the role gets later is judged by cdk-nag as usual.
    The grantee's role must be made in this app (an ``iam.Role``): an imported role's policies are elsewhere.
    Returns the policy.
    """
    role = grantee.grant_principal
    if not isinstance(role, iam.Role):
        raise TypeError(
            f"allow_unscoped_actions needs a role made in this app, got {type(role).__name__}: an imported role's "
            "policies are not in this template"
        )
    count = sum(1 for child in role.node.children if child.node.id.startswith("UnscopedActions"))
    policy = _policy_of_its_own(role, f"UnscopedActions{count + 1 if count else ''}", reason)
    policy.add_statements(iam.PolicyStatement(actions=list(actions), resources=["*"]))
    return policy


def create_job(resource: Construct) -> None:
    """An ``AwsCustomResource`` that calls ``s3control:CreateJob``: ``s3:CreateJob`` takes ``*`` only. The
    acknowledgment sits on the custom resource's own policy, which holds the statements given to it and no other."""
    policy = resource.node.find_child("CustomResourcePolicy")
    _acknowledge(
        policy,
        "IAM5[Resource::*]",
        "s3:CreateJob has no resource-level permissions (IAM's service authorization reference); iam:PassRole is "
        "scoped to the job role. This policy holds those two statements only.",
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


# ------------------------------------------------------------------------------------------------ template validation

CFN_VALIDATE_PACK = "CloudFormation-Validate"
"""aws-cdk-lib's own template validation (cfn-lint rules, on every synth unless ``CDK_VALIDATION=false``): its
findings are acknowledged the same way, ``CloudFormation-Validate::<rule>``."""


def alias_subscription(subscription: IConstruct) -> None:
    """An SNS subscription whose endpoint is a function's alias: the validation's W3694 says a ``lambda`` endpoint
    should be a function, but SNS invokes the qualified ARN (alias or version) it is given, and a durable function
    can only be invoked so. On the subscription only."""
    Validations.of(subscription).acknowledge(
        Acknowledgment(
            id=f"{CFN_VALIDATE_PACK}::W3694",
            reason="SNS invokes a Lambda endpoint's qualified ARN (an alias) as given; a durable function accepts "
            "only qualified invocations, so the subscription names its alias, not the function.",
        )
    )


# ------------------------------------------------------------------------------------------------ public helpers


def acknowledge_unrotated_secret(secret: secretsmanager.Secret, *, reason: str) -> None:
    """Acknowledge cdk-nag's ``SMG4`` (no automatic rotation) on ``secret``: for a value that a Lambda function
    cannot rotate, such as a token another service issues. ``reason`` says how it is replaced instead."""
    _acknowledge(secret, "SMG4", reason)


def acknowledge_wildcard_resources(grantee: iam.IGrantable, *, resources: Sequence[str], reason: str) -> None:
    """Acknowledge, on ``grantee``'s role, cdk-nag's ``IAM5[Resource::...]`` finding of each of ``resources`` that
    has a wildcard (``bucket.arn_for_objects("incoming/*")``, ``f"{function.function_arn}:*"``): one finding per
    resource, spelled as cdk-nag spells it (``<Bucket.Arn>/incoming/*``), so nothing else of the role is hidden.
    ``reason`` says why nothing narrower exists (the keys are not known in advance, say).

    ``"*"`` itself is refused: that finding covers every statement on every resource of the role; grant such actions
    with ``allow_unscoped_actions``, in a policy of their own. The grantee's role must be made in this app (an
    ``iam.Role``): an imported role's policies are not in this template.
    """
    role = grantee.grant_principal
    if not isinstance(role, iam.Role):
        raise TypeError(
            f"acknowledge_wildcard_resources needs a role made in this app, got {type(role).__name__}: an imported "
            "role's policies are not in this template"
        )
    if not resources:
        raise ValueError("acknowledge_wildcard_resources: name at least one resource ARN")
    _acknowledge_resources(role, resources, reason)
