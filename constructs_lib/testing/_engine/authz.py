"""May principal P do action A on resource R? Same-account IAM and KMS policy evaluation over a synthesized template.

``PolicyStore.from_template(template, resolve, account=..., region=...)`` reads every policy of a CloudFormation
template once (``resolve`` turns intrinsic functions into concrete values: the kit passes its ``Resolver.resolve``);
``store.authorize(principal, action, resource_arn, context)`` answers one request the way AWS's policy evaluation
logic does for a principal and a resource of the same account, and ``store.authorize_call(...)`` also evaluates the
KMS actions that the service performs on the customer managed key that encrypts the resource, for that principal.

The AWS pages it follows:

- policy evaluation logic (same account):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
- KMS key policies (a key policy must allow; the account root statement enables IAM policies):
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
- condition operators, ``...IfExists``, ``Null``:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- set operators ``ForAnyValue`` / ``ForAllValues``:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
- ``Resource`` wildcards (within one ARN segment):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
- ``AWS::Lambda::Permission`` as a statement of the function's policy (one per function, version or alias):
  https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
- KMS condition keys (``kms:ViaService``, ``kms:CallerAccount``, ``kms:EncryptionContext:*``):
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
- the KMS actions a service performs for the caller: SNS https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
  SQS https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html,
  S3 https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html,
  DynamoDB https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html,
  Secrets Manager https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html

What is evaluated:

================================  ==========================================================================
Policies                          ``AWS::IAM::Policy`` / ``AWS::IAM::ManagedPolicy`` / ``AWS::IAM::RolePolicy``
                                  attached to a role, a role's inline ``Policies``, its ``ManagedPolicyArns``
                                  (template managed policies, and the AWS managed policies of
                                  ``managed_policies.AWS_MANAGED_POLICIES``) and its ``PermissionsBoundary``;
                                  ``AWS::SQS::QueuePolicy`` / ``QueueInlinePolicy``, ``AWS::SNS::TopicPolicy`` /
                                  ``TopicInlinePolicy``, ``AWS::S3::BucketPolicy``, ``AWS::KMS::Key`` ``KeyPolicy``
                                  (the default key policy when there is none), ``AWS::Lambda::Permission``
                                  (principal, ``SourceArn``, ``SourceAccount``), ``AWS::Events::EventBusPolicy``,
                                  ``AWS::SecretsManager::ResourcePolicy``
Principals                        IAM roles of the template, and service principals (``events.amazonaws.com``...),
                                  which only resource policies and key policies can authorize
Decision                          an explicit ``Deny`` anywhere wins; else an ``Allow`` in an identity policy or
                                  in a resource policy that names the role (or ``*``) allows; a resource policy
                                  that names only the account needs the identity policy too; a permissions
                                  boundary must also allow; KMS: the key policy must allow the principal, or
                                  allow the account (which enables IAM policies) and an identity policy allows
Statement elements                ``Effect``, ``Action`` / ``NotAction`` (case-insensitive, ``*`` ``?``),
                                  ``Resource`` / ``NotResource`` (case-sensitive, wildcards within each of the
                                  six ARN segments), ``Principal`` / ``NotPrincipal`` (``AWS`` role ARNs, account
                                  root ARNs and bare account ids, ``Service``, ``*``), ``Condition``
Condition operators               ``String*`` (incl. ``IgnoreCase``, ``Like``), ``Arn*``, ``Bool``, ``Null``,
                                  ``Numeric*``, each with ``IfExists`` and ``ForAnyValue:`` / ``ForAllValues:``;
                                  policy variables ``${key}`` from the request context
Condition keys                    ``aws:SourceArn``, ``aws:SourceAccount`` (as the caller passes them),
                                  ``aws:SecureTransport`` (true: every local call), ``aws:PrincipalArn``,
                                  ``aws:PrincipalAccount``, ``aws:PrincipalServiceName``,
                                  ``aws:PrincipalIsAWSService``, ``aws:RequestedRegion``, ``kms:ViaService``,
                                  ``kms:CallerAccount``, ``kms:EncryptionContext:*``, ``kms:EncryptionContextKeys``,
                                  and any key the caller puts in ``context``
KMS on a service call             SNS ``sns:Publish``: ``kms:GenerateDataKey``, ``kms:Decrypt``; SQS
                                  ``sqs:SendMessage``: ``kms:GenerateDataKey``, ``kms:Decrypt``,
                                  ``sqs:ReceiveMessage``: ``kms:Decrypt``; S3 (``aws:kms`` with a
                                  ``KMSMasterKeyID``) ``s3:PutObject``: ``kms:GenerateDataKey``, ``s3:GetObject``:
                                  ``kms:Decrypt``; DynamoDB (``SSESpecification.KMSMasterKeyId``) item reads and
                                  writes: ``kms:Decrypt``; Secrets Manager (``KmsKeyId``) ``GetSecretValue``:
                                  ``kms:Decrypt``, ``PutSecretValue`` / ``UpdateSecret``: ``kms:GenerateDataKey``;
                                  each with ``kms:ViaService`` ``<service>.<region>.amazonaws.com``,
                                  ``kms:CallerAccount`` and the service's encryption context; AWS managed keys
                                  (``alias/aws/...``) need nothing
================================  ==========================================================================

What is not evaluated: cross-account access, Organizations SCPs and RCPs, session policies and role sessions named
in a ``Principal``, IAM users and groups, KMS grants, ACLs, VPC endpoint policies, date and IP address operators,
condition keys other than the ones above (a statement that uses one is undetermined), S3 multipart uploads (their
``kms:Decrypt`` on ``UploadPart``), a resource's policies when the resource is not declared in the template (a
warning; for a service principal the request is undetermined), a ``kms:Decrypt`` / ``kms:ReEncryptFrom`` that names
no key (the ciphertext carries it: undetermined), the AWS managed policies not in the table.

A warning, never a guess: a statement the evaluator cannot decide (an unknown condition key or operator, a policy
variable with no value, a session principal, a policy it could not resolve, an unknown managed policy, the key
policy of a key the template does not declare) is *undetermined*. ``Decision.allowed`` gives each undetermined
statement the benefit of the doubt (an undetermined ``Allow`` applies, an undetermined ``Deny`` does not: the kit's
default is to allow with a warning); ``Decision.strictly_allowed`` decides each against the request. When the two
differ, ``Decision.undetermined`` lists what the verdict depends on, and ``Decision.warnings`` says it in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from constructs_lib.testing._engine.managed_policies import AWS_MANAGED_POLICIES

ContextValue = str | bool | int | float | Sequence[str] | None
"""A request context value: one value, several (a multi-valued key), or ``None`` for a key that is present but whose
value the caller does not know (a statement that tests it is undetermined)."""

Grantee = Literal["principal", "account"]

_LOGICAL_ID_HASH = re.compile(r"^(?P<stem>.+?)[0-9A-F]{8}$")
_ROOT_ARN = re.compile(r"^arn:[^:]+:iam::(?P<account>\d{12}):root$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_SESSION_ARN = re.compile(r"^arn:[^:]+:sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/")
_POLICY_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ENCRYPTION_CONTEXT = "kms:encryptioncontext:"
_UNDETERMINED_ROLE = "the role is not declared in the template: its identity policies are not known"

# Keys whose presence the evaluator always knows: absent from the request context means absent on AWS too.
# ``aws:SourceArn`` / ``aws:SourceAccount`` exist only when a service calls on behalf of a resource: the caller passes
# them; a direct call by a role has neither.
_KNOWN_KEYS = frozenset(
    {
        "aws:securetransport",
        "aws:requestedregion",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalservicename",
        "aws:principalisawsservice",
        "aws:sourcearn",
        "aws:sourceaccount",
        "kms:viaservice",
        "kms:calleraccount",
        "kms:encryptioncontextkeys",
    }
)

_KINDS: Mapping[str, str] = {
    "AWS::SNS::Topic": "topic",
    "AWS::SQS::Queue": "queue",
    "AWS::S3::Bucket": "bucket",
    "AWS::KMS::Key": "key",
    "AWS::Lambda::Function": "function",
    "AWS::Lambda::Alias": "function alias",
    "AWS::Lambda::Version": "function version",
    "AWS::DynamoDB::Table": "table",
    "AWS::DynamoDB::GlobalTable": "table",
    "AWS::SecretsManager::Secret": "secret",
    "AWS::Events::EventBus": "event bus",
    "AWS::Events::Rule": "rule",
    "AWS::StepFunctions::StateMachine": "state machine",
    "AWS::IAM::Role": "role",
    "AWS::Logs::LogGroup": "log group",
    "AWS::SageMaker::Endpoint": "endpoint",
}
# Their Ref is the ARN (an Fn::GetAtt Arn may not exist): SNS topics, Secrets Manager secrets, state machines.
_REF_IS_ARN = frozenset(
    {
        "AWS::SNS::Topic",
        "AWS::SecretsManager::Secret",
        "AWS::StepFunctions::StateMachine",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::IAM::ManagedPolicy",
    }
)

_KEY_IN_CIPHERTEXT = frozenset({"kms:decrypt", "kms:reencryptfrom"})
_GENERATE = "kms:GenerateDataKey"
_DECRYPT = "kms:Decrypt"
# The DynamoDB actions that read or write items: each needs the table key, which DynamoDB decrypts with the caller's
# permission when the table is accessed (encryption.usagenotes, "Decrypt").
_DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:getitem",
    "dynamodb:batchgetitem",
    "dynamodb:query",
    "dynamodb:scan",
    "dynamodb:putitem",
    "dynamodb:updateitem",
    "dynamodb:deleteitem",
    "dynamodb:batchwriteitem",
    "dynamodb:conditioncheckitem",
    "dynamodb:partiqlselect",
    "dynamodb:partiqlinsert",
    "dynamodb:partiqlupdate",
    "dynamodb:partiqldelete",
)
# Resource type -> (the service's kms:ViaService name, action -> the KMS actions the service performs for the caller).
_KMS_NEEDS: Mapping[str, tuple[str, Mapping[str, tuple[str, ...]]]] = {
    "AWS::SNS::Topic": ("sns", {"sns:publish": (_GENERATE, _DECRYPT)}),
    "AWS::SQS::Queue": ("sqs", {"sqs:sendmessage": (_GENERATE, _DECRYPT), "sqs:receivemessage": (_DECRYPT,)}),
    "AWS::S3::Bucket": (
        "s3",
        {"s3:putobject": (_GENERATE,), "s3:getobject": (_DECRYPT,), "s3:getobjectversion": (_DECRYPT,)},
    ),
    "AWS::DynamoDB::Table": ("dynamodb", dict.fromkeys(_DYNAMODB_ITEM_ACTIONS, (_DECRYPT,))),
    "AWS::DynamoDB::GlobalTable": ("dynamodb", dict.fromkeys(_DYNAMODB_ITEM_ACTIONS, (_DECRYPT,))),
    "AWS::SecretsManager::Secret": (
        "secretsmanager",
        {
            "secretsmanager:getsecretvalue": (_DECRYPT,),
            "secretsmanager:putsecretvalue": (_GENERATE,),
            "secretsmanager:updatesecret": (_GENERATE,),
        },
    ),
}


# -- public values ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM role (``arn`` is the role's ARN) or a service (``arn`` is its service principal
    name, ``events.amazonaws.com``). ``logical_id`` names the role in messages."""

    kind: Literal["role", "service"]
    arn: str
    logical_id: str | None = None
    account: str | None = None

    @classmethod
    def role(cls, arn: str, *, logical_id: str | None = None) -> Principal:
        """A role by ARN; its account is read from the ARN."""
        fields = arn.split(":")
        return cls("role", arn, logical_id, fields[4] if len(fields) > 4 and fields[4] else None)

    @classmethod
    def service(cls, name: str) -> Principal:
        """A service principal, by its name (``sns.amazonaws.com``)."""
        return cls("service", name)

    @property
    def name(self) -> str:
        """The role's logical id without its hash (``OrdersStateMachineRole``), its name, or the service's name."""
        if self.kind == "service":
            return self.arn
        if self.logical_id:
            return _stem(self.logical_id)
        return self.arn.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return f"role {self.name}" if self.kind == "role" else f"service principal {self.arn}"


@dataclass(frozen=True)
class Undetermined:
    """A statement (or a whole policy) whose effect on a request the evaluator could not decide, and why."""

    where: str
    """The policy and statement: ``OrdersQueuePolicy (AWS::SQS::QueuePolicy) Statement[1] (Sid AllowOrg)``."""
    effect: str
    """``Allow`` or ``Deny``."""
    why: str

    def __str__(self) -> str:
        return f"{self.where} ({self.effect}) is undetermined: {self.why}"


@dataclass(frozen=True)
class Decision:
    """The answer to one request: the verdict, and the reason in words."""

    allowed: bool
    """The verdict, each undetermined statement given the benefit of the doubt (the kit's default)."""
    reason: str
    """``role OrdersStateMachineRole may not sns:Publish on topic FailureAlerts: <basis>``."""
    principal: Principal
    action: str
    resource: str
    basis: str
    """What matched, or what was missing: the part of ``reason`` after the colon."""
    strictly_allowed: bool
    """The verdict with each undetermined statement decided against the request."""
    undetermined: tuple[Undetermined, ...] = ()
    """What the verdict depends on and the evaluator could not decide (empty when the verdict is certain)."""
    warnings: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """The actions that were not allowed (for ``authorize_call``, the KMS actions on the key)."""


@dataclass(frozen=True)
class KmsRequirement:
    """The KMS actions a service performs on a customer managed key when a principal acts on a resource it encrypts."""

    key_arn: str
    actions: tuple[str, ...]
    context: Mapping[str, ContextValue]
    """``kms:ViaService`` and the service's ``kms:EncryptionContext:*`` keys of those KMS requests."""
    encrypted: str
    """The encrypted resource, as messages name it: ``topic FailureAlerts``."""


# -- internal model -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Principals:
    any: bool = False
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Statement:
    where: str
    effect: str
    actions: tuple[str, ...] = ()
    not_action: bool = False
    resources: tuple[str, ...] | None = None
    """``None``: the statement has no ``Resource`` / ``NotResource`` (a resource policy: this resource)."""
    not_resource: bool = False
    principals: _Principals | None = None
    not_principal: bool = False
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(operator, key, values)."""
    problem: str | None = None
    """Why the statement cannot be read (it is then undetermined)."""


@dataclass
class _Policy:
    label: str
    """``OrdersStateMachineRoleDefaultPolicy (AWS::IAM::Policy)``: how messages name it."""
    statements: list[_Statement] = field(default_factory=list)
    unknown: str | None = None
    """Why the policy's statements are not known (the whole policy is then undetermined)."""


@dataclass
class _Role:
    logical_id: str | None
    arn: str
    name: str
    policies: list[_Policy] = field(default_factory=list)
    boundary: _Policy | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Encryption:
    key_arn: str
    bucket_key: bool = False


@dataclass
class _Resource:
    logical_id: str | None
    type: str
    arn: str
    ref: str
    policies: list[_Policy] = field(default_factory=list)
    encryption: _Encryption | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...] | None]


@dataclass(frozen=True)
class _Hit:
    """A statement that applies to a request: ``outcome`` True, or None when it could not be decided."""

    where: str
    effect: str
    outcome: bool | None
    why: str = ""
    grantee: Grantee = "principal"
    """For a resource policy: whether it names the principal itself (or ``*``) or only its account."""


# -- the store ----------------------------------------------------------------------------------------------------
class PolicyStore:
    """Every policy of one template, by role ARN and by resource ARN, ready to answer requests."""

    def __init__(self, *, account: str, region: str, partition: str = "aws") -> None:
        self.account = account
        self.region = region
        self.partition = partition
        self._roles: dict[str, _Role] = {}
        self._resources: dict[str, _Resource] = {}
        self.warnings: list[str] = []
        """What the store could not read in the template (each also appears on the decisions it affects)."""

    @classmethod
    def from_template(
        cls,
        template: Mapping[str, Any],
        resolve: Callable[[Any], Any],
        *,
        account: str,
        region: str,
        partition: str = "aws",
    ) -> PolicyStore:
        """Read the policies of ``template``; ``resolve`` turns an intrinsic function into its concrete value."""
        store = cls(account=account, region=region, partition=partition)
        _Reader(store, template, resolve).read()
        return store

    # -- lookups ----------------------------------------------------------------------------------------------------
    def role(self, name: str) -> Principal:
        """The template's role ``name``: a logical id, its stem without the hash, the role's name or its ARN."""
        for role in self._roles.values():
            if name in (role.arn, role.name, role.logical_id) or (role.logical_id and _stem(role.logical_id) == name):
                return Principal.role(role.arn, logical_id=role.logical_id)
        known = ", ".join(sorted(_stem(r.logical_id) for r in self._roles.values() if r.logical_id)) or "none"
        raise KeyError(f"no role named {name!r} in the template; it has: {known}")

    def describe(self, arn: str) -> str:
        """A resource as messages name it: ``topic FailureAlerts``, or its ARN when the template does not declare it."""
        resource = self._resource_for(arn)
        if resource is None or resource.logical_id is None:
            return arn
        name = f"{_KINDS.get(resource.type, resource.type.rsplit('::', 1)[-1].lower())} {_stem(resource.logical_id)}"
        return name if arn == resource.arn else f"{name} ({arn[len(resource.arn) :].lstrip(':/')})"

    def kms_requirement(self, action: str, resource_arn: str) -> KmsRequirement | None:
        """The KMS actions that ``action`` on ``resource_arn`` makes the service perform on the customer managed key
        the template encrypts the resource with; ``None`` when it needs none (no customer key, an AWS managed one)."""
        resource = self._resource_for(resource_arn)
        if resource is None or resource.encryption is None or resource.type not in _KMS_NEEDS:
            return None
        if resource.type == "AWS::S3::Bucket" and resource_arn == resource.arn:
            return None  # bucket operations read no object: no data key
        service, needs = _KMS_NEEDS[resource.type]
        actions = needs.get(action.lower())
        if not actions:
            return None
        context: dict[str, ContextValue] = {"kms:ViaService": f"{service}.{self.region}.amazonaws.com"}
        context.update(self._encryption_context(resource, resource_arn))
        return KmsRequirement(resource.encryption.key_arn, actions, context, self.describe(resource.arn))

    # -- decisions --------------------------------------------------------------------------------------------------
    def authorize(
        self, principal: Principal, action: str, resource_arn: str, context: Mapping[str, ContextValue] | None = None
    ) -> Decision:
        """May ``principal`` do ``action`` on ``resource_arn``? One request, no KMS side effects."""
        request = self._request(principal, action, resource_arn, context)
        resource = self._resource_for(resource_arn)
        # Decrypt and ReEncrypt name no key when the ciphertext carries it: the key, and its policy, are not known.
        keyless = resource_arn == "*" and action.lower() in _KEY_IN_CIPHERTEXT
        kms = action.lower().startswith("kms:") and (_service_of(resource_arn) == "kms" or keyless)
        warnings: list[str] = []
        if principal.account and principal.account != self.account:
            warnings.append(f"{principal} is in account {principal.account}: evaluated with the same-account rules")
        identity, boundary = self._identity_hits(request, warnings)
        resource_policies: list[_Policy]
        if resource is not None:
            resource_policies = resource.policies
            warnings.extend(resource.warnings)
        elif keyless:
            reason = "the call names no key (the ciphertext does): the key and its key policy are not known"
            resource_policies = [_Policy("key policy of the ciphertext's key", unknown=reason)]
        elif kms:
            reason = f"the key {resource_arn} is not declared in the template: its key policy is not known"
            resource_policies = [_Policy(f"key policy of {resource_arn}", unknown=reason)]
        elif principal.kind == "service":
            reason = f"{resource_arn} is not declared in the template: its resource policy is not known"
            resource_policies = [_Policy(f"resource policy of {resource_arn}", unknown=reason)]
        else:
            resource_policies = []
            if resource_arn != "*":  # an action on no resource (comprehend:DetectSentiment) has no resource policy
                warnings.append(f"{resource_arn} is not declared in the template: only identity policies are evaluated")
        verdict = (_KmsVerdict if kms else _Verdict)(
            request,
            identity=identity,
            boundary=boundary,
            resource=_policy_hits(resource_policies, request, resource_based=True),
            described=self.describe(resource_arn),
            resource_policies=[policy.label for policy in resource_policies],
            role_policies=[policy.label for policy in self._role_policies(principal)],
        )
        lenient, strict = verdict.decide(lenient=True), verdict.decide(lenient=False)
        undetermined: tuple[Undetermined, ...] = ()
        if lenient[0] != strict[0]:
            hits = [*identity, *(boundary or []), *verdict.resource]
            undetermined = tuple(Undetermined(h.where, h.effect, h.why) for h in hits if h.outcome is None)
            warnings.extend(str(item) for item in undetermined)
        allowed, basis = lenient
        head = f"{principal} {'may' if allowed else 'may not'} {action} on {self.describe(resource_arn)}"
        return Decision(
            allowed=allowed,
            reason=f"{head}: {basis}",
            principal=principal,
            action=action,
            resource=resource_arn,
            basis=basis,
            strictly_allowed=strict[0],
            undetermined=undetermined,
            warnings=tuple(dict.fromkeys(warnings)),
            missing=() if allowed else (action,),
        )

    def authorize_call(
        self, principal: Principal, action: str, resource_arn: str, context: Mapping[str, ContextValue] | None = None
    ) -> Decision:
        """``authorize``, then the KMS actions the service performs on the resource's customer managed key for the
        principal (identity and key policy), with ``kms:ViaService`` and ``kms:CallerAccount`` set as AWS sets them.
        A denial names the KMS actions that were missing and the key."""
        first = self.authorize(principal, action, resource_arn, context)
        requirement = self.kms_requirement(action, resource_arn)
        if requirement is None or not first.allowed:
            return first
        kms_context: dict[str, ContextValue] = {**(context or {}), **requirement.context}
        parts = [
            self.authorize(principal, kms_action, requirement.key_arn, kms_context)
            for kms_action in requirement.actions
        ]
        missing = [part for part in parts if not part.allowed]
        undetermined = tuple(dict.fromkeys(item for d in (first, *parts) for item in d.undetermined))
        warnings = tuple(dict.fromkeys(w for d in (first, *parts) for w in d.warnings))
        key = self.describe(requirement.key_arn)
        if missing:
            actions = ", ".join(part.action for part in missing)
            basis = "; ".join(dict.fromkeys(part.basis for part in missing))
            head = f"{principal} may not {actions} on {key} ({requirement.encrypted} is encrypted with it)"
            return Decision(
                allowed=False,
                reason=f"{head}: {basis}",
                principal=principal,
                action=action,
                resource=resource_arn,
                basis=basis,
                strictly_allowed=False,
                undetermined=undetermined,
                warnings=warnings,
                missing=tuple(part.action for part in missing),
            )
        kms_basis = "; ".join(f"{part.action} on {key}: {part.basis}" for part in parts)
        basis = f"{first.basis}; {kms_basis}"
        return Decision(
            allowed=True,
            reason=f"{first.reason}; {kms_basis}",
            principal=principal,
            action=action,
            resource=resource_arn,
            basis=basis,
            strictly_allowed=first.strictly_allowed and all(part.strictly_allowed for part in parts),
            undetermined=undetermined,
            warnings=warnings,
        )

    # -- internals --------------------------------------------------------------------------------------------------
    def _request(
        self, principal: Principal, action: str, resource: str, context: Mapping[str, ContextValue] | None
    ) -> _Request:
        values: dict[str, tuple[str, ...] | None] = {
            "aws:securetransport": ("true",),  # every local call is HTTPS as far as policies can tell
            "aws:requestedregion": (self.region,),
        }
        if principal.kind == "role":
            values["aws:principalarn"] = (principal.arn,)
            values["aws:principalisawsservice"] = ("false",)
            if principal.account:
                values["aws:principalaccount"] = (principal.account,)
                if action.lower().startswith("kms:"):
                    values["kms:calleraccount"] = (principal.account,)
        else:
            values["aws:principalservicename"] = (principal.arn,)
            values["aws:principalisawsservice"] = ("true",)
        given = dict(context or {})
        for key, value in given.items():
            values[key.lower()] = None if value is None else _texts(value)
        # The encryption context keys keep their case as a set operator compares them (conditions-kms).
        pairs = [key[len(_ENCRYPTION_CONTEXT) :] for key in given if key.lower().startswith(_ENCRYPTION_CONTEXT)]
        values.setdefault("kms:encryptioncontextkeys", tuple(pairs))
        return _Request(principal, action, resource, values)

    def _role_policies(self, principal: Principal) -> list[_Policy]:
        role = self._roles.get(principal.arn) if principal.kind == "role" else None
        return role.policies if role else []

    def _identity_hits(self, request: _Request, warnings: list[str]) -> tuple[list[_Hit], list[_Hit] | None]:
        principal = request.principal
        if principal.kind == "service":
            return [], None  # a service principal has no identity policies
        role = self._roles.get(principal.arn)
        if role is None:
            warnings.append(f"{principal}: {_UNDETERMINED_ROLE}")
            unknown = _Policy(f"identity policies of {principal.arn}", unknown=_UNDETERMINED_ROLE)
            return _policy_hits([unknown], request, resource_based=False), None
        warnings.extend(role.warnings)
        identity = _policy_hits(role.policies, request, resource_based=False)
        boundary = None if role.boundary is None else _policy_hits([role.boundary], request, resource_based=False)
        return identity, boundary

    def _resource_for(self, arn: str) -> _Resource | None:
        if arn in self._resources:
            return self._resources[arn]
        fields = arn.split(":", 5)
        if len(fields) < 6:
            return None
        service, rest = fields[2], fields[5]
        base: str | None = None
        if service == "s3" and "/" in rest:  # an object: its bucket's policies and encryption
            base = ":".join(fields[:5]) + ":" + rest.split("/", 1)[0]
        elif service == "lambda" and rest.count(":") >= 2:  # function:name:qualifier
            base = ":".join(fields[:5]) + ":" + ":".join(rest.split(":")[:2])
        elif service == "dynamodb" and rest.count("/") >= 2:  # table/name/index/... or table/name/stream/...
            base = ":".join(fields[:5]) + ":" + "/".join(rest.split("/")[:2])
        return self._resources.get(base) if base else None

    def _encryption_context(self, resource: _Resource, resource_arn: str) -> dict[str, ContextValue]:
        prefix = "kms:EncryptionContext:"
        if resource.type == "AWS::SNS::Topic":
            return {f"{prefix}aws:sns:topicArn": resource.arn}
        if resource.type == "AWS::SQS::Queue":
            return {f"{prefix}aws:sqs:arn": resource.arn}
        if resource.type == "AWS::S3::Bucket":
            bucket_key = resource.encryption is not None and resource.encryption.bucket_key
            return {f"{prefix}aws:s3:arn": resource.arn if bucket_key else resource_arn}
        if resource.type.startswith("AWS::DynamoDB::"):
            return {f"{prefix}aws:dynamodb:tableName": resource.ref, f"{prefix}aws:dynamodb:subscriberId": self.account}
        # Secrets Manager: the version id of the secret value is not known before the call.
        return {f"{prefix}SecretARN": resource.arn, f"{prefix}SecretVersionId": None}


# -- reading a template -------------------------------------------------------------------------------------------
class _Reader:
    """Fills a PolicyStore from a template: one pass for identities, then roles, policies, resources, encryption."""

    def __init__(self, store: PolicyStore, template: Mapping[str, Any], resolve: Callable[[Any], Any]) -> None:
        self.store = store
        self.resolve = resolve
        self.declared: Mapping[str, Any] = template.get("Resources") or {}
        self.active: dict[str, Mapping[str, Any]] = {}
        self.arns: dict[str, str] = {}
        self.refs: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        """Key id, key ARN, alias name and alias ARN -> key ARN."""
        self.managed: dict[str, _Policy] = {}
        """ARN of a template ManagedPolicy -> its policy."""
        self.roles_by_name: dict[str, _Role] = {}

    def read(self) -> None:
        for logical_id, resource in self.declared.items():
            condition = resource.get("Condition")
            if condition is not None and self._value({"Condition": condition}, f"condition of {logical_id}") is False:
                continue  # not created: a condition that cannot be resolved keeps the resource (with a warning)
            self.active[logical_id] = resource
            self._identify(logical_id, str(resource.get("Type", "")))
        self._keys()
        for logical_id, resource in self._of_type("AWS::IAM::ManagedPolicy"):
            arn = self._managed_arn(logical_id)
            if arn:
                properties = resource.get("Properties") or {}
                self.managed[arn] = self._policy(
                    logical_id, "AWS::IAM::ManagedPolicy", properties.get("PolicyDocument")
                )
        for logical_id, resource in self._of_type("AWS::IAM::Role"):
            self._role(logical_id, resource.get("Properties") or {})
        self._attached_policies()
        self._resource_policies()
        self._encryption()

    # -- identities -------------------------------------------------------------------------------------------------
    def _identify(self, logical_id: str, resource_type: str) -> None:
        ref = _quiet(self.resolve, {"Ref": logical_id})
        if isinstance(ref, str):
            self.refs[logical_id] = ref
        arn: Any = None
        if resource_type not in _REF_IS_ARN:
            arn = _quiet(self.resolve, {"Fn::GetAtt": [logical_id, "Arn"]})
        if not (isinstance(arn, str) and arn.startswith("arn:")):
            arn = ref if isinstance(ref, str) and ref.startswith("arn:") else None
        if arn is None and resource_type == "AWS::S3::Bucket" and isinstance(ref, str):
            arn = f"arn:{self.store.partition}:s3:::{ref}"
        if arn is None:
            return
        self.arns[logical_id] = arn
        self.store._resources[arn] = _Resource(logical_id, resource_type, arn, self.refs.get(logical_id, arn))

    def _keys(self) -> None:
        for logical_id, _ in self._of_type("AWS::KMS::Key"):
            arn = self.arns.get(logical_id)
            if arn:
                self.keys[arn] = arn
                self.keys[self.refs.get(logical_id, arn)] = arn
        for logical_id, resource in self._of_type("AWS::KMS::Alias"):
            properties = self._value(resource.get("Properties") or {}, f"{logical_id} (AWS::KMS::Alias)")
            if not isinstance(properties, Mapping):
                continue
            name, target = str(properties.get("AliasName", "")), str(properties.get("TargetKeyId", ""))
            if name and target in self.keys:
                store = self.store
                self.keys[name] = self.keys[target]
                self.keys[f"arn:{store.partition}:kms:{store.region}:{store.account}:{name}"] = self.keys[target]

    # -- identity policies -------------------------------------------------------------------------------------------
    def _role(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        arn = self.arns.get(logical_id)
        if arn is None:
            self.store.warnings.append(f"role {_stem(logical_id)}: its ARN could not be resolved; it is not evaluated")
            return
        role = _Role(logical_id, arn, self.refs.get(logical_id, arn.rsplit("/", 1)[-1]))
        self.store._roles[arn] = role
        self.roles_by_name[role.name] = role
        inline_policies = self._value(properties.get("Policies") or [], f"Policies of {logical_id}")
        for index, inline in enumerate(inline_policies if isinstance(inline_policies, list) else []):
            name = inline.get("PolicyName") if isinstance(inline, Mapping) else None
            label = f"{_stem(logical_id)} (AWS::IAM::Role) Policies[{index}]" + (f" ({name})" if name else "")
            document = inline.get("PolicyDocument") if isinstance(inline, Mapping) else None
            role.policies.append(self._policy_labelled(label, document))
        managed = self._value(properties.get("ManagedPolicyArns") or [], f"ManagedPolicyArns of {logical_id}")
        for policy_arn in managed if isinstance(managed, list) else []:
            role.policies.append(self._managed_policy(role, str(policy_arn)))
        if properties.get("PermissionsBoundary") is not None:
            boundary = self._value(properties["PermissionsBoundary"], f"PermissionsBoundary of {logical_id}")
            role.boundary = self._managed_policy(role, str(boundary))

    def _managed_policy(self, role: _Role, arn: str) -> _Policy:
        if arn in self.managed:
            return self.managed[arn]
        fields = arn.split(":", 5)
        if len(fields) == 6 and fields[4] == "aws" and fields[5].startswith("policy/"):
            name = fields[5][len("policy/") :]
            if name in AWS_MANAGED_POLICIES:
                return self._policy_labelled(f"AWS managed policy {name}", AWS_MANAGED_POLICIES[name])
            why = f"the AWS managed policy {name} is not in the evaluator's table of documented policies"
        else:
            why = f"the managed policy {arn} is not declared in the template"
        warning = f"role {role.name}: {why}: its statements are not evaluated"
        role.warnings.append(warning)
        self.store.warnings.append(warning)
        return _Policy(f"managed policy {arn}", unknown=why)

    def _attached_policies(self) -> None:
        for logical_id, resource in self.active.items():
            resource_type = str(resource.get("Type", ""))
            properties = resource.get("Properties") or {}
            if resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                roles = self._value(properties.get("Roles") or [], f"Roles of {logical_id}")
                names = [str(name) for name in roles] if isinstance(roles, list) else []
            elif resource_type == "AWS::IAM::RolePolicy":
                names = [str(self._value(properties.get("RoleName"), f"RoleName of {logical_id}"))]
            else:
                continue
            policy = (
                self.managed.get(self._managed_arn(logical_id) or "")
                if resource_type == "AWS::IAM::ManagedPolicy"
                else self._policy(logical_id, resource_type, properties.get("PolicyDocument"))
            )
            if policy is None:
                continue
            for name in names:
                role = self.roles_by_name.get(name) or self.roles_by_name.get(name.rsplit("/", 1)[-1])
                if role is None:
                    self.store.warnings.append(
                        f"{_stem(logical_id)} ({resource_type}) is attached to role {name!r}, which the template "
                        "does not declare: it is not evaluated"
                    )
                elif policy not in role.policies:
                    role.policies.append(policy)

    # -- resource policies --------------------------------------------------------------------------------------------
    def _resource_policies(self) -> None:
        for logical_id, resource in self.active.items():
            resource_type = str(resource.get("Type", ""))
            properties = resource.get("Properties") or {}
            targets: list[str] = []
            document: Any = None
            if resource_type == "AWS::SQS::QueuePolicy":
                targets = [self._queue_arn(url) for url in self._list(properties.get("Queues"), logical_id)]
                document = properties.get("PolicyDocument")
            elif resource_type == "AWS::SQS::QueueInlinePolicy":
                targets = [self._queue_arn(url) for url in self._list(properties.get("Queue"), logical_id)]
                document = properties.get("PolicyDocument")
            elif resource_type == "AWS::SNS::TopicPolicy":
                targets = self._list(properties.get("Topics"), logical_id)
                document = properties.get("PolicyDocument")
            elif resource_type == "AWS::SNS::TopicInlinePolicy":
                targets = self._list(properties.get("TopicArn"), logical_id)
                document = properties.get("PolicyDocument")
            elif resource_type == "AWS::S3::BucketPolicy":
                buckets = self._list(properties.get("Bucket"), logical_id)
                targets = [f"arn:{self.store.partition}:s3:::{bucket}" for bucket in buckets]
                document = properties.get("PolicyDocument")
            elif resource_type == "AWS::SecretsManager::ResourcePolicy":
                targets = [self._secret_arn(s) for s in self._list(properties.get("SecretId"), logical_id)]
                document = properties.get("ResourcePolicy")
            elif resource_type == "AWS::KMS::Key" and logical_id in self.arns:
                targets = [self.arns[logical_id]]
                document = properties.get("KeyPolicy") or self._default_key_policy()
            elif resource_type == "AWS::Lambda::Permission":
                self._lambda_permission(logical_id, properties)
                continue
            elif resource_type == "AWS::Events::EventBusPolicy":
                self._event_bus_policy(logical_id, properties)
                continue
            else:
                continue
            policy = self._policy(logical_id, resource_type, document)
            for target in targets:
                self._attach(target, policy)

    def _attach(self, arn: str, policy: _Policy) -> None:
        resource = self.store._resources.get(arn)
        if resource is None:  # a resource from outside the template: its policies still count
            resource = _Resource(None, "", arn, arn)
            self.store._resources[arn] = resource
        resource.policies.append(policy)
        if policy.unknown:
            resource.warnings.append(f"{policy.label}: {policy.unknown}")

    def _default_key_policy(self) -> dict[str, Any]:
        # What KMS applies to a key created with no key policy (key-policy-default.html): the account root statement.
        root = f"arn:{self.store.partition}:iam::{self.store.account}:root"
        statement = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": root}}
        return {"Version": "2012-10-17", "Statement": [{**statement, "Action": "kms:*", "Resource": "*"}]}

    def _lambda_permission(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        values = self._value(properties, f"{logical_id} (AWS::Lambda::Permission)")
        label = f"{_stem(logical_id)} (AWS::Lambda::Permission)"
        if not isinstance(values, Mapping):
            return
        function_arn = self._function_arn(str(values.get("FunctionName", "")))
        principal = str(values.get("Principal", ""))
        if principal == "*":
            named: Any = "*"
        elif _ACCOUNT_ID.match(principal) or principal.startswith("arn:"):
            named = {"AWS": principal}
        else:
            named = {"Service": principal}
        # How Lambda writes a permission into the policy of the function, version or alias it names
        # (access-control-resource-based): SourceArn with ArnLike, the other parameters with StringEquals.
        condition: dict[str, dict[str, Any]] = {}
        if values.get("SourceArn"):
            condition.setdefault("ArnLike", {})["AWS:SourceArn"] = values["SourceArn"]
        for prop, key in (
            ("SourceAccount", "AWS:SourceAccount"),
            ("PrincipalOrgID", "aws:PrincipalOrgID"),
            ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
            ("EventSourceToken", "lambda:EventSourceToken"),
        ):
            if values.get(prop):
                condition.setdefault("StringEquals", {})[key] = values[prop]
        statement: dict[str, Any] = {
            "Sid": logical_id,
            "Effect": "Allow",
            "Principal": named,
            "Action": values.get("Action"),
            "Resource": function_arn,
        }
        if condition:
            statement["Condition"] = condition
        policy = _Policy(label, [_statement(label, 0, statement)])
        # Lambda keeps one policy per qualifier: a permission on an alias or a version of this template is that
        # qualifier's (what SNS, EventBridge or S3 invoke when subscribed to the alias), the others the function's.
        qualified = function_arn if function_arn in self.store._resources else self._unqualified(function_arn)
        self._attach(qualified, policy)

    def _event_bus_policy(self, logical_id: str, properties: Mapping[str, Any]) -> None:
        values = self._value(properties, f"{logical_id} (AWS::Events::EventBusPolicy)")
        if not isinstance(values, Mapping):
            return
        store = self.store
        name = str(values.get("EventBusName") or "default")
        buses = [lid for lid, _ in self._of_type("AWS::Events::EventBus") if self.refs.get(lid) == name]
        if name.startswith("arn:"):
            arn = name
        elif buses and buses[0] in self.arns:
            arn = self.arns[buses[0]]
        else:
            arn = f"arn:{store.partition}:events:{store.region}:{store.account}:event-bus/{name}"
        statement: Any = values.get("Statement")
        if statement is None:  # the older properties: one account (or *) may PutEvents
            principal = str(values.get("Principal", ""))
            statement = {
                "Sid": values.get("StatementId"),
                "Effect": "Allow",
                "Principal": "*" if principal == "*" else {"AWS": principal},
                "Action": values.get("Action"),
                "Resource": arn,
            }
            condition = values.get("Condition")
            if isinstance(condition, Mapping):
                statement["Condition"] = {condition.get("Type"): {condition.get("Key"): condition.get("Value")}}
        label = f"{_stem(logical_id)} (AWS::Events::EventBusPolicy)"
        self._attach(arn, _Policy(label, [_statement(label, 0, statement)]))

    # -- encryption at rest -------------------------------------------------------------------------------------------
    def _encryption(self) -> None:
        for logical_id, resource in self.active.items():
            resource_type = str(resource.get("Type", ""))
            if resource_type not in _KMS_NEEDS or logical_id not in self.arns:
                continue
            properties = resource.get("Properties") or {}
            key: Any = None
            bucket_key = False
            if resource_type in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
                key = properties.get("KmsMasterKeyId")
            elif resource_type == "AWS::SecretsManager::Secret":
                key = properties.get("KmsKeyId")
            elif resource_type.startswith("AWS::DynamoDB::"):
                sse = properties.get("SSESpecification") or {}
                key = sse.get("KMSMasterKeyId") if isinstance(sse, Mapping) else None
            elif resource_type == "AWS::S3::Bucket":
                key, bucket_key = self._bucket_key(logical_id, properties)
            if key is None:
                continue
            value = self._value(key, f"the encryption key of {logical_id}")
            if value is None:
                continue
            key_arn = self._key_arn(str(value))
            if key_arn is not None:
                self.store._resources[self.arns[logical_id]].encryption = _Encryption(key_arn, bucket_key)

    def _bucket_key(self, logical_id: str, properties: Mapping[str, Any]) -> tuple[Any, bool]:
        encryption = self._value(properties.get("BucketEncryption") or {}, f"BucketEncryption of {logical_id}")
        rules = encryption.get("ServerSideEncryptionConfiguration") if isinstance(encryption, Mapping) else None
        for rule in rules if isinstance(rules, list) else []:
            default = rule.get("ServerSideEncryptionByDefault") or {}
            if str(default.get("SSEAlgorithm", "")).startswith("aws:kms") and default.get("KMSMasterKeyID"):
                return default["KMSMasterKeyID"], _texts(rule.get("BucketKeyEnabled")) == ("true",)
        return None, False  # SSE-S3, or aws:kms with the AWS managed key aws/s3

    def _key_arn(self, value: str) -> str | None:
        """The ARN of the key a resource names (key id, key ARN, alias name or alias ARN); None: an AWS managed key."""
        if "alias/aws/" in value:
            return (
                None  # alias/aws/sns...: the AWS managed key of the service, usable by every principal of the account
            )
        if value in self.keys:
            return self.keys[value]
        if value.startswith("arn:"):
            return value
        store = self.store
        return f"arn:{store.partition}:kms:{store.region}:{store.account}:{value if '/' in value else 'key/' + value}"

    # -- helpers ----------------------------------------------------------------------------------------------------
    def _of_type(self, resource_type: str) -> list[tuple[str, Mapping[str, Any]]]:
        return [(lid, r) for lid, r in self.active.items() if r.get("Type") == resource_type]

    def _value(self, value: Any, what: str) -> Any:
        try:
            return self.resolve(value)
        except Exception as error:  # the caller's resolver has its own error types: any failure is reported
            self.store.warnings.append(f"could not resolve {what}: {error}")
            return None

    def _list(self, value: Any, logical_id: str) -> list[str]:
        resolved = self._value(value, f"the targets of {logical_id}")
        if resolved is None:
            return []
        return [str(item) for item in (resolved if isinstance(resolved, list) else [resolved])]

    def _policy(self, logical_id: str, resource_type: str, document: Any) -> _Policy:
        label = f"{_stem(logical_id)} ({resource_type})"
        return self._policy_labelled(label, document)

    def _policy_labelled(self, label: str, document: Any) -> _Policy:
        try:
            resolved = self.resolve(document)
        except Exception as error:  # any failure of the caller's resolver: the policy is undetermined
            why = f"the policy could not be resolved: {error}"
            self.store.warnings.append(f"{label}: {why}")
            return _Policy(label, unknown=why)
        return _parse_policy(label, resolved)

    def _queue_arn(self, url: str) -> str:
        for logical_id, ref in self.refs.items():
            if ref == url and logical_id in self.arns:
                return self.arns[logical_id]
        # https://sqs.<region>.amazonaws.com/<account>/<name>: a queue the template does not declare.
        parts = url.rstrip("/").split("/")
        if len(parts) >= 5 and parts[-2].isdigit():
            region = parts[2].split(".")[1] if parts[2].count(".") >= 2 else self.store.region
            return f"arn:{self.store.partition}:sqs:{region}:{parts[-2]}:{parts[-1]}"
        return url

    def _secret_arn(self, secret: str) -> str:
        if secret.startswith("arn:"):
            return secret
        for logical_id, ref in self.refs.items():
            if ref == secret and logical_id in self.arns:
                return self.arns[logical_id]
        return secret

    def _function_arn(self, name: str) -> str:
        store = self.store
        if name.startswith("arn:"):
            return name
        if _ACCOUNT_ID.match(name.split(":", 1)[0]):  # 123456789012:function:name (a partial ARN)
            return f"arn:{store.partition}:lambda:{store.region}:{name}"
        bare, _, qualifier = name.partition(":")
        for logical_id, resource in self.active.items():
            if resource.get("Type") == "AWS::Lambda::Function" and self.refs.get(logical_id) == bare:
                arn = self.arns.get(logical_id)
                if arn:
                    return f"{arn}:{qualifier}" if qualifier else arn
        base = f"arn:{store.partition}:lambda:{store.region}:{store.account}:function:{bare}"
        return f"{base}:{qualifier}" if qualifier else base

    def _managed_arn(self, logical_id: str) -> str | None:
        return self.refs.get(logical_id) or self.arns.get(logical_id)  # a ManagedPolicy's Ref is its ARN

    @staticmethod
    def _unqualified(function_arn: str) -> str:
        fields = function_arn.split(":")
        return ":".join(fields[:7]) if len(fields) > 7 else function_arn


# -- verdicts -----------------------------------------------------------------------------------------------------
class _Verdict:
    """Same-account evaluation for every resource but a KMS key (reference_policies_evaluation-logic)."""

    def __init__(
        self,
        request: _Request,
        *,
        identity: list[_Hit],
        boundary: list[_Hit] | None,
        resource: list[_Hit],
        described: str,
        resource_policies: list[str],
        role_policies: list[str],
    ) -> None:
        self.request = request
        self.identity = identity
        self.boundary = boundary
        self.resource = resource
        self.described = described
        self.resource_policies = ", ".join(resource_policies)
        self.role_policies = ", ".join(role_policies) or "none"
        self.lenient = True

    def decide(self, *, lenient: bool) -> tuple[bool, str]:
        """(allowed, basis): undetermined statements decided for the request if ``lenient``, against it if not."""
        self.lenient = lenient
        deny = self._first("Deny", [*self.identity, *(self.boundary or []), *self.resource])
        if deny is not None:
            return False, f"explicitly denied by {deny.where}"
        allowed, basis = self._allow()
        if allowed and self.boundary is not None and self._first("Allow", self.boundary) is None:
            return False, f"{basis}, but the role's permissions boundary does not allow it"
        return allowed, basis

    def _allow(self) -> tuple[bool, str]:
        identity = self._first("Allow", self.identity)
        if identity is not None:
            return True, f"allowed by {identity.where}"
        direct = self._first("Allow", self.resource, grantee="principal")
        if direct is not None:
            return True, f"allowed by {direct.where}, which names the principal"
        if self.request.principal.kind == "service":
            if self.resource_policies:
                return False, (
                    "a service principal is allowed only by a resource policy, and no statement of "
                    f"{self.resource_policies} allows it"
                )
            return False, f"a service principal is allowed only by a resource policy, and {self.described} has none"
        return False, (
            f"no statement allows it: not in the role's identity policies ({self.role_policies}) nor in the "
            f"resource policy of {self.described} ({self.resource_policies or 'it has none'})"
        )

    def _first(self, effect: str, hits: Iterable[_Hit], grantee: Grantee | None = None) -> _Hit | None:
        for hit in hits:
            if hit.effect != effect or (grantee is not None and hit.grantee != grantee):
                continue
            # Undetermined: an Allow applies and a Deny does not when lenient; the reverse when strict.
            applies = hit.outcome if hit.outcome is not None else (self.lenient == (effect == "Allow"))
            if applies:
                return hit
        return None


class _KmsVerdict(_Verdict):
    """A KMS key: its key policy must allow, directly or by enabling IAM policies for the account (key-policies)."""

    def _allow(self) -> tuple[bool, str]:
        direct = self._first("Allow", self.resource, grantee="principal")
        if direct is not None:
            return True, f"allowed by {direct.where}, which names the principal"
        key_policy = self.resource_policies or "none"
        if self.request.principal.kind == "service":
            return False, (
                f"a service principal is allowed only by the key policy, and no statement of {key_policy} allows it"
            )
        delegated = self._first("Allow", self.resource, grantee="account")
        identity = self._first("Allow", self.identity)
        if delegated is not None and identity is not None:
            return True, (
                f"allowed by {identity.where}, which the key policy enables ({delegated.where} allows the account)"
            )
        if delegated is not None:
            return False, (
                f"the key policy enables IAM policies ({delegated.where} allows the account), but no identity policy "
                f"of the role allows it ({self.role_policies})"
            )
        if identity is not None:
            return False, (
                f"{identity.where} allows it, but the key policy ({key_policy}) neither names the role nor enables "
                "IAM policies for the account"
            )
        return False, (
            f"neither the key policy ({key_policy}) nor an identity policy of the role ({self.role_policies}) allows it"
        )


# -- statements ---------------------------------------------------------------------------------------------------
def _parse_policy(label: str, document: Any) -> _Policy:
    if isinstance(document, str):  # a ManagedPolicy document may be a JSON string
        try:
            document = json.loads(document)
        except ValueError:
            return _Policy(label, unknown="the policy document is not JSON")
    statements = document.get("Statement") if isinstance(document, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return _Policy(label, unknown="the policy document has no Statement list")
    return _Policy(label, [_statement(label, index, raw) for index, raw in enumerate(statements)])


def _statement(label: str, index: int, raw: Any) -> _Statement:  # noqa: PLR0911 - one return per malformed element
    where = f"{label} Statement[{index}]"
    if not isinstance(raw, Mapping):
        return _Statement(where, "Allow", problem="the statement is not a JSON object")
    sid = raw.get("Sid")
    if isinstance(sid, str) and sid:
        where += f" (Sid {sid})"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        return _Statement(where, "Allow", problem=f"its Effect is {effect!r}")
    if ("Action" in raw) == ("NotAction" in raw):
        return _Statement(where, effect, problem="it needs exactly one of Action and NotAction")
    if "Resource" in raw and "NotResource" in raw:
        return _Statement(where, effect, problem="it has both Resource and NotResource")
    principals: _Principals | None = None
    if "Principal" in raw or "NotPrincipal" in raw:
        parsed = _principals(raw.get("Principal", raw.get("NotPrincipal")))
        if isinstance(parsed, str):
            return _Statement(where, effect, problem=parsed)
        principals = parsed
    conditions = _conditions(raw.get("Condition"))
    if isinstance(conditions, str):
        return _Statement(where, effect, problem=conditions)
    resources = raw.get("Resource", raw.get("NotResource"))
    return _Statement(
        where=where,
        effect=effect,
        actions=_texts(raw.get("Action", raw.get("NotAction"))),
        not_action="NotAction" in raw,
        resources=None if resources is None else _texts(resources),
        not_resource="NotResource" in raw,
        principals=principals,
        not_principal="NotPrincipal" in raw,
        conditions=conditions,
    )


def _principals(value: Any) -> _Principals | str:
    if value == "*":
        return _Principals(any=True)
    if not isinstance(value, Mapping):
        return f"its Principal is not '*' nor an object: {value!r}"
    unknown = set(value) - {"AWS", "Service", "Federated", "CanonicalUser"}
    if unknown:
        return f"its Principal has unknown kinds: {', '.join(sorted(unknown))}"
    aws = _texts(value.get("AWS"))
    # Federated and CanonicalUser principals are never the kit's roles or services: they match nothing.
    return _Principals(any="*" in aws, aws=aws, services=_texts(value.get("Service")))


def _conditions(value: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...] | str:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        return f"its Condition is not an object: {value!r}"
    conditions: list[tuple[str, str, tuple[str, ...]]] = []
    for operator, block in value.items():
        if not isinstance(block, Mapping):
            return f"its Condition operator {operator} does not map keys to values"
        conditions.extend((str(operator), str(key), _texts(values)) for key, values in block.items())
    return tuple(conditions)


def _policy_hits(policies: Iterable[_Policy], request: _Request, *, resource_based: bool) -> list[_Hit]:
    hits: list[_Hit] = []
    for policy in policies:
        if policy.unknown is not None:
            # Unknown content could allow or deny: both are undetermined.
            hits.append(_Hit(policy.label, "Allow", None, policy.unknown))
            hits.append(_Hit(policy.label, "Deny", None, policy.unknown))
            continue
        for statement in policy.statements:
            hit = _match(statement, request, resource_based=resource_based)
            if hit is not None:
                hits.append(hit)
    return hits


def _match(  # noqa: PLR0911 - each element of a statement can rule it out
    statement: _Statement, request: _Request, *, resource_based: bool
) -> _Hit | None:
    """The statement's verdict on the request: None when it does not apply, else a hit (outcome None: undetermined)."""
    if statement.problem is not None:
        return _Hit(statement.where, statement.effect, None, statement.problem)
    action_matches = any(_like(pattern, request.action, ignore_case=True) for pattern in statement.actions)
    if action_matches == statement.not_action:
        return None
    reasons: list[str] = []
    undetermined = False
    if statement.resources is None:
        if not resource_based:
            return None  # an identity statement grants nothing without a Resource
    else:
        matched = _any3(_resource_matches(pattern, request, reasons) for pattern in statement.resources)
        if statement.not_resource and matched is not None:
            matched = not matched
        if matched is False:
            return None
        undetermined |= matched is None
    grantee: Grantee = "principal"
    if resource_based:
        if statement.principals is None:
            return None  # a resource policy statement applies only to the principals it names
        found = _principal_match(statement.principals, request.principal, reasons)
        if statement.not_principal:
            found = "principal" if found is None else (None if found != "unknown" else "unknown")
        if found is None:
            return None
        if found == "unknown":
            undetermined = True
        else:
            grantee = found
    for operator, key, values in statement.conditions:
        result = _condition(operator, key, values, request.context, reasons)
        if result is False:
            return None
        undetermined |= result is None
    return _Hit(statement.where, statement.effect, None if undetermined else True, "; ".join(reasons), grantee)


def _resource_matches(pattern: str, request: _Request, reasons: list[str]) -> bool | None:
    text = _substitute(pattern, request.context)
    if text is None:
        reasons.append(f"the policy variable in Resource {pattern!r} has no value in the request")
        return None
    return _arn_like(text, request.resource)


def _principal_match(
    principals: _Principals, principal: Principal, reasons: list[str]
) -> Literal["principal", "account", "unknown"] | None:
    if principals.any:
        return "principal"
    if principal.kind == "service":
        return "principal" if principal.arn.lower() in (s.lower() for s in principals.services) else None
    found: Literal["principal", "account", "unknown"] | None = None
    for entry in principals.aws:
        if entry == principal.arn:
            return "principal"
        root = _ROOT_ARN.match(entry)
        if principal.account and (entry == principal.account or (root and root["account"] == principal.account)):
            found = "account"  # the account: it enables IAM policies, it does not grant the role by itself
        session = _SESSION_ARN.match(entry)
        if session and found is None and principal.arn.endswith(f"/{session['role']}"):
            reasons.append(f"the Principal names a session of the role ({entry}), which the evaluator cannot match")
            found = "unknown"
    return found


# -- matching -----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(body, (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """``*`` and ``?`` within each of the six colon-separated ARN segments (the last one keeps its own colons)."""
    if pattern == "*":
        return True
    expected, actual = pattern.split(":", 5), value.split(":", 5)
    if len(expected) == 6 and len(actual) == 6:
        return all(_like(p, a) for p, a in zip(expected, actual, strict=True))
    if len(actual) == 6 and pattern.startswith("arn:"):
        return False  # fewer segments than an ARN: a wildcard cannot stand for the missing ones
    return _like(pattern, value)


def _substitute(text: str, context: Mapping[str, tuple[str, ...] | None]) -> str | None:
    """``${aws:SourceAccount}`` replaced by its single value in the request; None when it has none."""
    if "${" not in text:
        return text
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name  # ${*}, ${?}, ${$}: the literal character
        values = context.get(name.lower())
        if not values or len(values) != 1:
            missing = True
            return ""
        return values[0]

    result = _POLICY_VARIABLE.sub(replace, text)
    return None if missing else result


def _any3(results: Iterable[bool | None]) -> bool | None:
    """True if any is True, else None if any is None, else False."""
    unknown = False
    for result in results:
        if result:
            return True
        unknown |= result is None
    return None if unknown else False


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Mapping):
        return (json.dumps(value, sort_keys=True),)
    if isinstance(value, Iterable):
        return tuple(text for item in value for text in _texts(item))
    return (str(value),)


def _stem(logical_id: str) -> str:
    match = _LOGICAL_ID_HASH.match(logical_id)
    return match["stem"] if match else logical_id


def _service_of(arn: str) -> str:
    fields = arn.split(":", 3)
    return fields[2] if len(fields) > 2 else ""


def _quiet(resolve: Callable[[Any], Any], value: Any) -> Any:
    """``resolve(value)``, or None: a resource with no such attribute is simply not indexed by it."""
    try:
        return resolve(value)
    except Exception:  # the caller's resolver raises its own error types for attributes a resource lacks
        return None


# -- conditions ---------------------------------------------------------------------------------------------------
def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(policy: str, value: str) -> bool:
        try:
            return compare(float(value), float(policy))
        except ValueError:
            return False

    return test


# Positive comparisons (policy value, request value); a negated operator is the negation of its positive one.
_COMPARISONS: Mapping[str, Callable[[str, str], bool]] = {
    "stringequals": lambda policy, value: policy == value,
    "stringequalsignorecase": lambda policy, value: policy.lower() == value.lower(),
    "stringlike": _like,
    "arnequals": _arn_like,
    "arnlike": _arn_like,
    "bool": lambda policy, value: policy.lower() == value.lower(),
    "numericequals": _numeric(lambda value, policy: value == policy),
    "numericlessthan": _numeric(lambda value, policy: value < policy),
    "numericlessthanequals": _numeric(lambda value, policy: value <= policy),
    "numericgreaterthan": _numeric(lambda value, policy: value > policy),
    "numericgreaterthanequals": _numeric(lambda value, policy: value >= policy),
}
_NEGATED: Mapping[str, str] = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
    "numericnotequals": "numericequals",
}


def _condition(  # noqa: PLR0911 - one return per documented case of a condition operator
    operator: str,
    key: str,
    policy_values: tuple[str, ...],
    context: Mapping[str, tuple[str, ...] | None],
    reasons: list[str],
) -> bool | None:
    """One condition key of one operator (reference_policies_elements_condition_operators, multi-value-conditions)."""
    qualifier, _, name = operator.rpartition(":")
    qualifier, name = qualifier.lower(), name.lower()
    if qualifier not in ("", "foranyvalue", "forallvalues"):
        reasons.append(f"the condition operator {operator} is not supported by the evaluator")
        return None
    if_exists = name.endswith("ifexists")
    base = name.removesuffix("ifexists") if if_exists else name
    lowered = key.lower()
    if lowered in context:
        request_values = context[lowered]
        if request_values is None:
            reasons.append(f"the value of the condition key {key} is not known to the evaluator")
            return None
        present = bool(request_values)
    elif lowered in _KNOWN_KEYS or lowered.startswith(_ENCRYPTION_CONTEXT):
        request_values, present = (), False
    else:
        reasons.append(f"the condition key {key} is not known to the evaluator")
        return None
    if base == "null":
        expect_absent = policy_values[:1] == ("true",)
        return (not present) == expect_absent
    negated = base in _NEGATED
    compare = _COMPARISONS.get(_NEGATED.get(base, base))
    if compare is None:
        reasons.append(f"the condition operator {operator} is not supported by the evaluator")
        return None
    if not present:
        # A missing key: ...IfExists and ForAllValues are true, ForAnyValue false; otherwise a negated operator is
        # true and a positive one false.
        if if_exists or qualifier == "forallvalues":
            return True
        return False if qualifier == "foranyvalue" else negated
    expected: list[str] = []
    for value in policy_values:
        substituted = _substitute(value, context)
        if substituted is None:
            reasons.append(f"the policy variable in {value!r} has no value in the request")
            return None
        expected.append(substituted)

    def single(value: str) -> bool:
        matched = any(compare(policy, value) for policy in expected)
        return not matched if negated else matched

    if qualifier == "foranyvalue":
        return any(single(value) for value in request_values)
    if qualifier == "forallvalues":
        return all(single(value) for value in request_values)
    if len(request_values) > 1:
        reasons.append(f"the condition key {key} has several values and {operator} has no ForAnyValue/ForAllValues")
        return None
    return single(request_values[0])
