"""No identity policy in a synthesized template may grant an action on every resource, unless AWS allows nothing else.

``wildcard_resource_problems(template)`` walks every identity policy of a CloudFormation template and returns one
``WildcardProblem`` per statement that allows actions on every resource, naming the actions that are not in
``ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS``: the actions whose Service Authorization Reference entry lists no
resource type (or only a type-wide wildcard), so ``"Resource": "*"`` is the only way to grant them. Standard library
only: use it in any test on ``Template.from_stack(stack).to_json()`` or a ``cdk.out/*.template.json``.

Which policies (identity policies, where ``Resource`` says what the principal may act on):

- ``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``, ``AWS::IAM::RolePolicy``, ``AWS::IAM::UserPolicy``,
  ``AWS::IAM::GroupPolicy`` (``PolicyDocument``);
- the inline ``Policies`` of ``AWS::IAM::Role``, ``AWS::IAM::User`` and ``AWS::IAM::Group``;
- ``AWS::SSO::PermissionSet`` ``InlinePolicy``.

Not walked: resource-based policies (``AWS::S3::BucketPolicy``, ``AWS::SQS::QueuePolicy``, ``AWS::SNS::TopicPolicy``,
KMS key policies, ``AWS::Lambda::Permission``, ``AWS::Lambda::LayerVersionPermission``, Secrets Manager and
CloudWatch Logs resource policies, a role's ``AssumeRolePolicyDocument``): there ``Resource`` names the resource the
policy is attached to (a key policy must say ``"*"``, meaning "this key"), and their risk is the ``Principal``.

What counts as every resource (in an ``Allow`` statement; a ``Deny`` on everything only restricts):

- ``"*"``, alone or in a list;
- an ARN that names every resource of a type or service: a resource part made only of wildcards, optionally after
  the resource type (``arn:aws:s3:::*``, ``arn:aws:s3:::*/*``, ``arn:${AWS::Partition}:lambda:${AWS::Region}:
  ${AWS::AccountId}:function:*``, ``...:table/*``, ``...:log-group:*``), or a wildcard in the service field (a
  wildcard region or account alone does not count: the resource is still named);
- ``NotResource`` (everything except a list);
- with ``NotAction`` (every action except a list), any of the above is a problem whatever the actions.

Accepted, on purpose: ARNs scoped to one resource or a name prefix, even with a wildcard in them
(``<bucket ARN>/*``, ``<function ARN>:*``, ``arn:...:function:orders-*``, ``<bucket ARN>/reports/*``): the grant
is limited to resources the stack names. cdk-nag's ``AwsSolutions-IAM5`` reports each of those, and each has an
acknowledgment with its reason. Values made of intrinsic functions are read through ``Fn::Join``, ``Fn::Sub``,
``Ref``, ``Fn::GetAtt`` and both branches of ``Fn::If``; any other intrinsic (``Fn::ImportValue``...) is taken as a
named resource. A statement or action that is not literal JSON cannot be checked and is reported.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

_LOG_DELIVERY = (
    "CloudWatch Logs log delivery (vended logs, e.g. a state machine's logging) has no resource type; "
    "the Step Functions logging guide grants it on *"
)
_LOG_ACCOUNT = (
    "account-wide CloudWatch Logs operation used to set up log delivery: the only ARN it takes is "
    "log-group:* (every log group of the account)"
)

ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        # AWS X-Ray: tracing of functions and state machines.
        "xray:PutTraceSegments": "X-Ray trace upload has no resource type",
        "xray:PutTelemetryRecords": "X-Ray daemon telemetry has no resource type",
        "xray:GetSamplingRules": "X-Ray sampling rules are read for the whole account",
        "xray:GetSamplingTargets": "X-Ray sampling targets are read for the whole account",
        "xray:GetSamplingStatisticSummaries": "X-Ray sampling statistics are read for the whole account",
        # CloudWatch Logs: what aws-cdk-lib grants a state machine that logs (StateMachine logs=...).
        "logs:CreateLogDelivery": _LOG_DELIVERY,
        "logs:GetLogDelivery": _LOG_DELIVERY,
        "logs:UpdateLogDelivery": _LOG_DELIVERY,
        "logs:DeleteLogDelivery": _LOG_DELIVERY,
        "logs:ListLogDeliveries": _LOG_DELIVERY,
        "logs:PutResourcePolicy": _LOG_ACCOUNT,
        "logs:DescribeResourcePolicies": _LOG_ACCOUNT,
        "logs:DescribeLogGroups": _LOG_ACCOUNT,
        # CloudWatch metrics.
        "cloudwatch:PutMetricData": "metrics have no ARN (scope it with the cloudwatch:namespace condition key)",
        # Amazon Comprehend: the pre-trained detect operations (custom endpoints are other actions).
        "comprehend:DetectSentiment": "Comprehend's pre-trained sentiment detection has no resource type",
        "comprehend:BatchDetectSentiment": "Comprehend's pre-trained sentiment detection has no resource type",
        "comprehend:DetectDominantLanguage": "Comprehend's pre-trained language detection has no resource type",
        "comprehend:BatchDetectDominantLanguage": "Comprehend's pre-trained language detection has no resource type",
        "comprehend:DetectKeyPhrases": "Comprehend's pre-trained key phrase detection has no resource type",
        "comprehend:BatchDetectKeyPhrases": "Comprehend's pre-trained key phrase detection has no resource type",
        "comprehend:DetectSyntax": "Comprehend's pre-trained syntax detection has no resource type",
        "comprehend:BatchDetectSyntax": "Comprehend's pre-trained syntax detection has no resource type",
        # Amazon ECR: a SageMaker model role pulls its image with a registry token.
        "ecr:GetAuthorizationToken": "the registry token is issued per account, not per repository",
        # Amazon S3 Control: S3BatchLambdaJob(create_job=True) creates the job at deploy time.
        "s3:CreateJob": "an S3 Batch Operations job does not exist before it is created: no resource type",
        # Amazon EC2: the read-only part of what a function in a VPC needs (AWSLambdaVPCAccessExecutionRole).
        "ec2:DescribeNetworkInterfaces": "EC2 Describe* operations have no resource type",
        "ec2:DescribeSubnets": "EC2 Describe* operations have no resource type",
    }
)
"""Actions that only ``"Resource": "*"`` can grant, each with the reason (from the Service Authorization Reference:
its Resource types column is empty, or takes only a type-wide wildcard). The one list the IAM walk accepts."""

_ALLOWED = frozenset(action.lower() for action in ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS)

_POLICY_DOCUMENT_TYPES = frozenset(
    {
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
    }
)
_INLINE_POLICIES_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})
# The resource part of an ARN that names every resource of a type: "*", "*/*", "function:*", "table/*", "log-group:*:*".
_TYPE_WIDE = re.compile(r"^(?:[A-Za-z0-9_.-]+[:/])?\*(?:[:/]\*)*$")
# Services whose ARN resource part starts with a resource's name, not a resource type (``arn:aws:s3:::bucket/key``).
_NAME_FIRST_SERVICES = frozenset({"s3", "sqs", "sns", "execute-api"})


@dataclass(frozen=True)
class IdentityPolicy:
    """One identity policy document of a template, and where it is."""

    logical_id: str
    resource_type: str
    where: str
    """``PolicyDocument``, ``Policies[0] (PolicyName)`` or ``InlinePolicy``."""
    document: Any


@dataclass(frozen=True)
class WildcardProblem:
    """A statement that allows actions on every resource, with the actions that need not be granted that way."""

    logical_id: str
    resource_type: str
    where: str
    statement: int
    """Index of the statement in the document's ``Statement`` list."""
    sid: str | None
    actions: tuple[str, ...]
    """The actions not in ``ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS`` (or ``NotAction: ...``)."""
    resource: str
    """What makes it every resource: ``*``, the type-wide ARN, or ``NotResource: ...``."""

    def __str__(self) -> str:
        sid = f" (Sid {self.sid})" if self.sid else ""
        return (
            f"{self.logical_id} ({self.resource_type}) {self.where} Statement[{self.statement}]{sid}: "
            f"{', '.join(self.actions)} on {self.resource}: scope it to the resources' ARNs, or, if the Service "
            "Authorization Reference lists no resource type for the action, add it to "
            "ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS with the reason"
        )


def identity_policies(template: Mapping[str, Any]) -> Iterator[IdentityPolicy]:
    """Every identity policy document in ``template`` (see the module's docstring for which ones)."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    for logical_id, resource in resources.items():
        resource_type = str(resource.get("Type", ""))
        properties: Mapping[str, Any] = resource.get("Properties") or {}
        if resource_type in _POLICY_DOCUMENT_TYPES and "PolicyDocument" in properties:
            yield IdentityPolicy(logical_id, resource_type, "PolicyDocument", properties["PolicyDocument"])
        elif resource_type in _INLINE_POLICIES_TYPES:
            for index, policy in enumerate(properties.get("Policies") or []):
                name = policy.get("PolicyName") if isinstance(policy, Mapping) else None
                where = f"Policies[{index}]" + (f" ({name})" if isinstance(name, str) else "")
                document = policy.get("PolicyDocument") if isinstance(policy, Mapping) else policy
                yield IdentityPolicy(logical_id, resource_type, where, document)
        elif resource_type == "AWS::SSO::PermissionSet" and properties.get("InlinePolicy") is not None:
            yield IdentityPolicy(logical_id, resource_type, "InlinePolicy", properties["InlinePolicy"])


def wildcard_resource_problems(
    template: Mapping[str, Any],
    *,
    allowed_actions: Mapping[str, str] = ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS,
) -> list[WildcardProblem]:
    """Every statement of every identity policy in ``template`` that allows an action on every resource, unless
    that action is in ``allowed_actions`` (by default ``ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS``; matched
    case-insensitively, as IAM does). An empty list means no problem."""
    allowed = (
        _ALLOWED
        if allowed_actions is ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS
        else frozenset(a.lower() for a in allowed_actions)
    )
    problems: list[WildcardProblem] = []
    for policy in identity_policies(template):
        document = _document(policy.document)
        statements = document.get("Statement") if isinstance(document, Mapping) else None
        if isinstance(statements, Mapping):
            statements = [statements]
        if not isinstance(statements, list):
            problems.append(_problem(policy, 0, None, ("the policy document",), f"not literal JSON: {_show(document)}"))
            continue
        for index, statement in enumerate(statements):
            problem = _statement_problem(policy, index, statement, allowed)
            if problem is not None:
                problems.append(problem)
    return problems


def _statement_problem(
    policy: IdentityPolicy, index: int, statement: Any, allowed: frozenset[str]
) -> WildcardProblem | None:
    if not isinstance(statement, Mapping) or any(key == "Ref" or key.startswith("Fn::") for key in statement):
        return _problem(policy, index, None, ("the statement",), f"not literal JSON: {_show(statement)}")
    if statement.get("Effect") == "Deny":
        return None
    sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
    if "NotResource" in statement:
        every = f"NotResource: {_show(statement['NotResource'])}"
    else:
        every = next((text for text in _texts(statement.get("Resource")) if _is_every_resource(text)), "")
    if not every:
        return None
    if "NotAction" in statement:
        return _problem(policy, index, sid, (f"NotAction: {_show(statement['NotAction'])}",), every)
    actions = statement.get("Action")
    listed = actions if isinstance(actions, list) else [actions]
    unlisted = tuple(
        action if isinstance(action, str) else _show(action)
        for action in listed
        if not (isinstance(action, str) and action.lower() in allowed)
    )
    return _problem(policy, index, sid, unlisted, every) if unlisted else None


def _problem(
    policy: IdentityPolicy, index: int, sid: str | None, actions: tuple[str, ...], resource: str
) -> WildcardProblem:
    return WildcardProblem(policy.logical_id, policy.resource_type, policy.where, index, sid, actions, resource)


def _document(value: Any) -> Any:
    """A policy document, parsed if it is a JSON string (ManagedPolicy documents may be)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _texts(value: Any) -> list[str]:
    """The strings a Resource value can be, intrinsic functions spelled out (``${Logical.Arn}``)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return _render(value)


def _render(value: Any) -> list[str]:  # noqa: PLR0911 - one case per intrinsic function
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Mapping) or len(value) != 1:
        return [_show(value)]
    (name, argument), *_ = value.items()
    if name == "Ref":
        return [f"${{{argument}}}"]
    if name == "Fn::GetAtt":
        return [f"${{{'.'.join(argument) if isinstance(argument, list) else argument}}}"]
    if name == "Fn::Sub":
        return [argument[0] if isinstance(argument, list) else str(argument)]
    if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:  # [condition, if true, if false]
        return [text for branch in argument[1:] if branch != {"Ref": "AWS::NoValue"} for text in _texts(branch)]
    if name == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:  # [separator, parts]
        separator, parts = argument
        if not isinstance(parts, list):
            return [_show(value)]
        return [str(separator).join(choice) for choice in itertools.product(*(_render(part) for part in parts))]
    return ["${" + str(name) + "}"]  # any other intrinsic: a value we cannot read, taken as a named resource


def _arn_fields(text: str) -> list[str]:
    """``text`` split on the colons outside ``${...}``, at most 6 fields (an ARN's)."""
    fields = [""]
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("${", index):
            depth += 1
            fields[-1] += "${"
            index += 2
            continue
        if char == "}" and depth:
            depth -= 1
        if char == ":" and not depth and len(fields) < 6:  # arn:partition:service:region:account:resource
            fields.append("")
        else:
            fields[-1] += char
        index += 1
    return fields


def _is_every_resource(text: str) -> bool:
    if text == "*":
        return True
    fields = _arn_fields(text)
    if len(fields) < 6 or fields[0] != "arn":
        return False
    service, resource = fields[2], fields[5]
    if "*" in service:
        return True
    if service in _NAME_FIRST_SERVICES:  # "my-bucket/*" is one bucket's objects, not a resource type
        return resource.startswith("*") and bool(_TYPE_WIDE.match(resource))
    return bool(_TYPE_WIDE.match(resource))
