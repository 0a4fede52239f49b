"""The policy evaluator (constructs_lib.testing._engine.authz): one test per documented rule, each citing its page.

Templates are written by hand in CloudFormation's own shape (intrinsic functions included) and resolved by the kit's
real ``Resolver`` against local identities made here the way the kit makes them; one test synthesizes a stack with
aws-cdk-lib. Every expected verdict comes from the AWS page the test cites, not from the evaluator.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from constructs_lib.testing._engine.authz import PolicyStore, Principal
from constructs_lib.testing._engine.intrinsics import Physical, Resolver, TemplateError
from tests.conftest import cdk_context

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "AuthzTest",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/AuthzTest/local",
    "AWS::NotificationARNs": "",
}
ROOT = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}
EVENTS = Principal.service("events.amazonaws.com")


def local_identity(template: Mapping[str, Any]) -> Callable[[str], Physical]:
    """The Ref and Fn::GetAtt values of each resource, shaped as the kit shapes them (names, ARNs, queue URLs)."""
    resources: Mapping[str, Any] = template["Resources"]

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"

    def topic(name: str) -> Physical:
        return Physical(arn("sns", name), {"TopicArn": arn("sns", name), "TopicName": name})

    def sqs_queue(name: str) -> Physical:
        url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        return Physical(url, {"Arn": arn("sqs", name), "QueueName": name, "QueueUrl": url})

    def kms_key(name: str) -> Physical:
        key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        return Physical(key_id, {"Arn": arn("kms", f"key/{key_id}")})

    makers: dict[str, Callable[[str], Physical]] = {
        "AWS::SNS::Topic": topic,
        "AWS::SQS::Queue": sqs_queue,
        "AWS::KMS::Key": kms_key,
        "AWS::IAM::Role": lambda name: Physical(name, {"Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}),
        "AWS::Lambda::Function": lambda name: Physical(name, {"Arn": arn("lambda", f"function:{name}")}),
        "AWS::IAM::ManagedPolicy": lambda name: Physical(f"arn:aws:iam::{ACCOUNT}:policy/{name}", {}),
        "AWS::S3::Bucket": lambda name: Physical(name.lower(), {"Arn": f"arn:aws:s3:::{name.lower()}"}),
        "AWS::Events::EventBus": lambda name: Physical(name, {"Arn": arn("events", f"event-bus/{name}")}),
        "AWS::DynamoDB::Table": lambda name: Physical(name, {"Arn": arn("dynamodb", f"table/{name}")}),
        "AWS::SecretsManager::Secret": lambda name: Physical(arn("secretsmanager", f"secret:{name}-AbCdEf"), {}),
    }

    def named(name: str) -> Physical:
        return Physical(name, {})

    def physical(logical_id: str) -> Physical:
        return makers.get(resources[logical_id]["Type"], named)(f"AuthzTest-{logical_id}")

    return physical


@dataclass
class Stack:
    """A template stood up for the evaluator: the store, and the ARNs of its resources."""

    store: PolicyStore
    resolver: Resolver

    def arn(self, logical_id: str) -> str:
        try:
            return str(self.resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]}))
        except TemplateError:  # SNS topics: the Ref is the ARN
            return str(self.resolver.resolve({"Ref": logical_id}))

    def role(self, logical_id: str) -> Principal:
        return self.store.role(logical_id)


def stand_up(resources: Mapping[str, Any]) -> Stack:
    template = {"Resources": dict(resources)}
    resolver = Resolver(template, physical=local_identity(template), pseudo=PSEUDO)
    store = PolicyStore.from_template(template, resolver.resolve, account=ACCOUNT, region=REGION)
    return Stack(store, resolver)


def document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def role() -> dict[str, Any]:
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": document(trust)}}


def identity_policy(role_id: str, *statements: Mapping[str, Any]) -> dict[str, Any]:
    properties = {
        "PolicyName": f"{role_id}Policy",
        "PolicyDocument": document(*statements),
        "Roles": [{"Ref": role_id}],
    }
    return {"Type": "AWS::IAM::Policy", "Properties": properties}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def queue(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def queue_policy(queue_id: str, *statements: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"PolicyDocument": document(*statements), "Queues": [{"Ref": queue_id}]},
    }


def key(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": document(*statements)}}


def root_statement() -> dict[str, Any]:
    """The key policy statement that gives the account access and enables IAM policies (key-policy-default)."""
    return {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": "kms:*",
        "Resource": "*",
    }


# -- policy evaluation logic --------------------------------------------------------------------------------------
def test_an_explicit_deny_wins_over_any_allow() -> None:
    """An explicit deny in any policy overrides any allow.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    deny = {
        "Sid": "NoSendFromWorker",
        "Effect": "Deny",
        "Principal": {"AWS": arn_of("Worker")},
        "Action": "sqs:SendMessage",
        "Resource": arn_of("Orders"),
    }
    stack = stand_up(
        {
            "Worker": role(),
            "WorkerPolicy": identity_policy("Worker", allow("sqs:*", arn_of("Orders"))),
            "Orders": queue(),
            "OrdersPolicy": queue_policy("Orders", deny),
        }
    )
    decision = stack.store.authorize(stack.role("Worker"), "sqs:SendMessage", stack.arn("Orders"))
    assert not decision.allowed
    assert decision.reason == (
        "role Worker may not sqs:SendMessage on queue Orders: explicitly denied by "
        "OrdersPolicy (AWS::SQS::QueuePolicy) Statement[0] (Sid NoSendFromWorker)"
    )
    assert stack.store.authorize(stack.role("Worker"), "sqs:ReceiveMessage", stack.arn("Orders")).allowed


def test_the_secure_transport_deny_applies_only_to_a_request_without_tls() -> None:
    """``aws:SecureTransport`` is always present; the kit's calls count as HTTPS unless the context says otherwise.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
    """
    ssl_only = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "sqs:*",
        "Resource": arn_of("Orders"),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    stack = stand_up(
        {
            "Worker": role(),
            "WorkerPolicy": identity_policy("Worker", allow("sqs:SendMessage", arn_of("Orders"))),
            "Orders": queue(),
            "OrdersPolicy": queue_policy("Orders", ssl_only),
        }
    )
    worker, orders = stack.role("Worker"), stack.arn("Orders")
    assert stack.store.authorize(worker, "sqs:SendMessage", orders).allowed
    plain_http = stack.store.authorize(worker, "sqs:SendMessage", orders, {"aws:SecureTransport": False})
    assert not plain_http.allowed
    assert "explicitly denied by OrdersPolicy (AWS::SQS::QueuePolicy) Statement[0]" in plain_http.reason


def test_not_action_allows_every_action_but_the_listed_ones() -> None:
    """NotAction with Allow: every action except the listed ones.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html"""
    statement = {"Effect": "Allow", "NotAction": "sqs:DeleteQueue", "Resource": arn_of("Orders")}
    stack = stand_up({"Worker": role(), "WorkerPolicy": identity_policy("Worker", statement), "Orders": queue()})
    worker, orders = stack.role("Worker"), stack.arn("Orders")
    assert stack.store.authorize(worker, "sqs:SendMessage", orders).allowed
    assert not stack.store.authorize(worker, "sqs:DeleteQueue", orders).allowed


def test_not_resource_allows_every_resource_but_the_listed_ones() -> None:
    """NotResource with Allow: the action on every resource except the listed ones.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html"""
    statement = {"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": arn_of("Audit")}
    stack = stand_up(
        {"Worker": role(), "WorkerPolicy": identity_policy("Worker", statement), "Orders": queue(), "Audit": queue()}
    )
    worker = stack.role("Worker")
    assert stack.store.authorize(worker, "sqs:SendMessage", stack.arn("Orders")).allowed
    denied = stack.store.authorize(worker, "sqs:SendMessage", stack.arn("Audit"))
    assert not denied.allowed
    assert denied.missing == ("sqs:SendMessage",)


def test_action_names_and_their_wildcards_are_case_insensitive() -> None:
    """Action values are case-insensitive and take * and ? wildcards.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"""
    stack = stand_up(
        {
            "Worker": role(),
            "WorkerPolicy": identity_policy("Worker", allow(["SQS:send*", "sqs:Receive?essage"], arn_of("Orders"))),
            "Orders": queue(),
        }
    )
    worker, orders = stack.role("Worker"), stack.arn("Orders")
    assert stack.store.authorize(worker, "sqs:SendMessage", orders).allowed
    assert stack.store.authorize(worker, "sqs:SendMessageBatch", orders).allowed
    assert stack.store.authorize(worker, "sqs:ReceiveMessage", orders).allowed
    assert not stack.store.authorize(worker, "sqs:DeleteMessage", orders).allowed


def test_resource_wildcards_are_case_sensitive_and_stay_within_one_arn_segment() -> None:
    """Resource ARNs match case-sensitively; * and ? match within one colon-separated ARN segment.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"""
    pattern = f"arn:aws:sqs:{REGION}:{ACCOUNT}:AuthzTest-orders-*"
    stack = stand_up({"Worker": role(), "WorkerPolicy": identity_policy("Worker", allow("sqs:SendMessage", pattern))})
    worker, prefix = stack.role("Worker"), f"arn:aws:sqs:{REGION}:{ACCOUNT}"
    assert stack.store.authorize(worker, "sqs:SendMessage", f"{prefix}:AuthzTest-orders-eu").allowed
    assert not stack.store.authorize(worker, "sqs:SendMessage", f"{prefix}:AuthzTest-Orders-eu").allowed
    every_region = stand_up(
        {"Worker": role(), "WorkerPolicy": identity_policy("Worker", allow("sqs:SendMessage", "arn:aws:sqs:*"))}
    )
    # "arn:aws:sqs:*" has four segments: its * is the region segment, and it cannot span the two that follow.
    assert not every_region.store.authorize(worker, "sqs:SendMessage", f"{prefix}:AuthzTest-orders-eu").allowed


def test_a_resource_policy_naming_the_role_allows_it_without_an_identity_policy() -> None:
    """Same account: an Allow in the identity-based or the resource-based policy is enough; a resource policy that
    names only the account delegates to the account's IAM policies.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    names_role = {"Effect": "Allow", "Principal": {"AWS": arn_of("Worker")}, "Action": "sqs:SendMessage"}
    names_account = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:SendMessage"}
    stack = stand_up(
        {
            "Worker": role(),
            "Orders": queue(),
            "OrdersPolicy": queue_policy("Orders", {**names_role, "Resource": arn_of("Orders")}),
            "Audit": queue(),
            "AuditPolicy": queue_policy("Audit", {**names_account, "Resource": arn_of("Audit")}),
        }
    )
    worker = stack.role("Worker")
    allowed = stack.store.authorize(worker, "sqs:SendMessage", stack.arn("Orders"))
    assert allowed.allowed
    assert allowed.basis == "allowed by OrdersPolicy (AWS::SQS::QueuePolicy) Statement[0], which names the principal"
    only_account = stack.store.authorize(worker, "sqs:SendMessage", stack.arn("Audit"))
    assert not only_account.allowed
    assert "not in the role's identity policies (none)" in only_account.reason


def test_a_service_principal_is_allowed_only_by_a_resource_policy() -> None:
    """Services have no identity policies: EventBridge may send to a queue only if the queue policy allows it.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions"""
    from_rule = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn_of("Targets"),
        "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Orders"}},
    }
    stack = stand_up({"Targets": queue(), "TargetsPolicy": queue_policy("Targets", from_rule), "NoPolicy": queue()})
    rule = {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Orders"}
    assert stack.store.authorize(EVENTS, "sqs:SendMessage", stack.arn("Targets"), rule).allowed
    other_rule = {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Other"}
    assert not stack.store.authorize(EVENTS, "sqs:SendMessage", stack.arn("Targets"), other_rule).allowed
    none = stack.store.authorize(EVENTS, "sqs:SendMessage", stack.arn("NoPolicy"), rule)
    assert not none.allowed
    assert none.reason == (
        "service principal events.amazonaws.com may not sqs:SendMessage on queue NoPolicy: a service principal is "
        "allowed only by a resource policy, and queue NoPolicy has none"
    )


def test_a_lambda_permission_allows_the_service_only_from_its_source_arn() -> None:
    """AWS::Lambda::Permission becomes a statement of the function's resource-based policy, with the source ARN
    (ArnLike) and source account (StringEquals) as conditions.
    https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html"""
    stack = stand_up(
        {
            "Worker": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "WorkerFromAlerts": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": arn_of("Worker"),
                    "Principal": "sns.amazonaws.com",
                    "SourceArn": {"Ref": "Alerts"},
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            },
        }
    )
    sns_service, worker = Principal.service("sns.amazonaws.com"), stack.arn("Worker")
    from_alerts = {"aws:SourceArn": stack.arn("Alerts"), "aws:SourceAccount": ACCOUNT}
    assert stack.store.authorize(sns_service, "lambda:InvokeFunction", worker, from_alerts).allowed
    other_topic = {**from_alerts, "aws:SourceArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:Other"}
    assert not stack.store.authorize(sns_service, "lambda:InvokeFunction", worker, other_topic).allowed
    other_account = {**from_alerts, "aws:SourceAccount": "210987654321"}
    assert not stack.store.authorize(sns_service, "lambda:InvokeFunction", worker, other_account).allowed
    assert not stack.store.authorize(EVENTS, "lambda:InvokeFunction", worker, from_alerts).allowed


# -- KMS ------------------------------------------------------------------------------------------------------------
def test_a_key_policy_that_enables_iam_policies_still_needs_an_identity_policy() -> None:
    """The account root statement enables IAM policies; it does not by itself give any role access to the key.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    """
    stack = stand_up(
        {
            "Reader": role(),
            "ReaderPolicy": identity_policy("Reader", allow("kms:Decrypt", arn_of("DataKey"))),
            "Stranger": role(),
            "DataKey": key(root_statement()),
        }
    )
    data_key = stack.arn("DataKey")
    assert stack.store.authorize(stack.role("Reader"), "kms:Decrypt", data_key).allowed
    denied = stack.store.authorize(stack.role("Stranger"), "kms:Decrypt", data_key)
    assert not denied.allowed
    assert denied.reason == (
        "role Stranger may not kms:Decrypt on key DataKey: the key policy enables IAM policies (DataKey "
        "(AWS::KMS::Key) Statement[0] (Sid Enable IAM User Permissions) allows the account), but no identity policy "
        "of the role allows it (none)"
    )


def test_a_key_policy_that_names_the_role_is_enough_and_an_identity_policy_alone_is_not() -> None:
    """Key policies are the primary way to control access: a key policy statement naming the role allows it; an IAM
    policy allows only if the key policy enables IAM policies.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"""
    names_reader = {
        "Effect": "Allow",
        "Principal": {"AWS": arn_of("Reader")},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    stack = stand_up(
        {
            "Reader": role(),
            "Other": role(),
            "OtherPolicy": identity_policy("Other", allow("kms:*", "*")),
            "DataKey": key(names_reader),
        }
    )
    data_key = stack.arn("DataKey")
    assert stack.store.authorize(stack.role("Reader"), "kms:GenerateDataKey", data_key).allowed
    assert not stack.store.authorize(stack.role("Reader"), "kms:Encrypt", data_key).allowed
    identity_only = stack.store.authorize(stack.role("Other"), "kms:Decrypt", data_key)
    assert not identity_only.allowed
    assert "neither names the role nor enables IAM policies for the account" in identity_only.reason


def test_publishing_to_a_kms_topic_without_generate_data_key_is_denied_naming_the_action_and_the_key() -> None:
    """A publisher to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt on its key.
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#send-to-encrypted-topic"""
    stack = stand_up(
        {
            "Publisher": role(),
            "PublisherPolicy": identity_policy(
                "Publisher", allow("sns:Publish", {"Ref": "Alerts"}), allow("kms:Decrypt", arn_of("AlertsKey"))
            ),
            "Complete": role(),
            "CompletePolicy": identity_policy(
                "Complete",
                allow("sns:Publish", {"Ref": "Alerts"}),
                allow(["kms:Decrypt", "kms:GenerateDataKey*"], arn_of("AlertsKey")),
            ),
            "AlertsKey": key(root_statement()),
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": arn_of("AlertsKey")}},
        }
    )
    alerts = stack.arn("Alerts")
    publisher = stack.role("Publisher")
    assert stack.store.authorize(publisher, "sns:Publish", alerts).allowed  # the topic alone
    denied = stack.store.authorize_call(publisher, "sns:Publish", alerts)
    assert not denied.allowed
    assert denied.missing == ("kms:GenerateDataKey",)
    assert denied.reason.startswith(
        "role Publisher may not kms:GenerateDataKey on key AlertsKey (topic Alerts is encrypted with it): "
        "the key policy enables IAM policies"
    )
    assert stack.store.authorize_call(stack.role("Complete"), "sns:Publish", alerts).allowed


def test_the_kms_requests_of_a_service_carry_via_service_caller_account_and_encryption_context() -> None:
    """SNS calls KMS on the publisher's behalf: ``kms:ViaService`` is ``sns.<region>.amazonaws.com`` and the
    encryption context names the topic.
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service"""
    via_sns = {"StringEquals": {"kms:ViaService": f"sns.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT}}
    stack = stand_up(
        {
            "Publisher": role(),
            "PublisherPolicy": identity_policy(
                "Publisher",
                allow("sns:Publish", {"Ref": "Alerts"}),
                allow(["kms:Decrypt", "kms:GenerateDataKey"], arn_of("AlertsKey"), Condition=via_sns),
            ),
            "AlertsKey": key(root_statement()),
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": arn_of("AlertsKey")}},
        }
    )
    alerts, publisher = stack.arn("Alerts"), stack.role("Publisher")
    requirement = stack.store.kms_requirement("sns:Publish", alerts)
    assert requirement is not None
    assert requirement.actions == ("kms:GenerateDataKey", "kms:Decrypt")
    assert requirement.key_arn == stack.arn("AlertsKey")
    assert requirement.context == {
        "kms:ViaService": f"sns.{REGION}.amazonaws.com",
        "kms:EncryptionContext:aws:sns:topicArn": alerts,
    }
    assert stack.store.authorize_call(publisher, "sns:Publish", alerts).allowed
    direct = stack.store.authorize(publisher, "kms:GenerateDataKey", stack.arn("AlertsKey"))
    assert not direct.allowed  # the same grant, asked directly: no kms:ViaService


def test_a_queue_consumer_needs_only_decrypt_and_an_aws_managed_key_needs_nothing() -> None:
    """A consumer of an encrypted queue needs kms:Decrypt; the AWS managed key's policy allows every principal of
    the account that may use SQS.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"""
    stack = stand_up(
        {
            "QueueKey": key(root_statement()),
            "Orders": queue(KmsMasterKeyId=arn_of("QueueKey")),
            "Managed": queue(KmsMasterKeyId="alias/aws/sqs"),
        }
    )
    receive = stack.store.kms_requirement("sqs:ReceiveMessage", stack.arn("Orders"))
    assert receive is not None
    assert receive.actions == ("kms:Decrypt",)
    send = stack.store.kms_requirement("sqs:SendMessage", stack.arn("Orders"))
    assert send is not None
    assert send.actions == ("kms:GenerateDataKey", "kms:Decrypt")
    assert stack.store.kms_requirement("sqs:SendMessage", stack.arn("Managed")) is None


def test_an_object_request_uses_its_bucket_policy_and_the_bucket_key() -> None:
    """A bucket policy covers the bucket's objects (``<bucket ARN>/*``); with SSE-KMS, an upload needs
    kms:GenerateDataKey and a download kms:Decrypt, with the object ARN as encryption context.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"""
    bucket_encryption = {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of("BucketKey")}}
        ]
    }
    read_objects = {
        "Effect": "Allow",
        "Principal": {"AWS": arn_of("Reader")},
        "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", [arn_of("Reports"), "/*"]]},
    }
    stack = stand_up(
        {
            "Reader": role(),
            "BucketKey": key(root_statement()),
            "Reports": {"Type": "AWS::S3::Bucket", "Properties": {"BucketEncryption": bucket_encryption}},
            "ReportsPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "Reports"}, "PolicyDocument": document(read_objects)},
            },
        }
    )
    report = f"{stack.arn('Reports')}/2024/report.csv"
    decision = stack.store.authorize(stack.role("Reader"), "s3:GetObject", report)
    assert decision.reason == (
        "role Reader may s3:GetObject on bucket Reports (2024/report.csv): allowed by ReportsPolicy "
        "(AWS::S3::BucketPolicy) Statement[0], which names the principal"
    )
    upload = stack.store.kms_requirement("s3:PutObject", report)
    assert upload is not None
    assert upload.actions == ("kms:GenerateDataKey",)
    assert upload.context["kms:EncryptionContext:aws:s3:arn"] == report
    download = stack.store.kms_requirement("s3:GetObject", report)
    assert download is not None
    assert download.actions == ("kms:Decrypt",)
    assert stack.store.kms_requirement("s3:ListBucket", stack.arn("Reports")) is None
    denied = stack.store.authorize_call(stack.role("Reader"), "s3:GetObject", report)
    assert denied.missing == ("kms:Decrypt",)


def test_table_and_secret_keys_with_their_encryption_context() -> None:
    """DynamoDB decrypts the table key for the caller when the table is accessed, with the table name and account
    as encryption context; Secrets Manager decrypts with the secret's ARN and version id.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"""
    this_version = {"StringEquals": {"kms:EncryptionContext:SecretVersionId": "v1"}}
    stack = stand_up(
        {
            "Reader": role(),
            "ReaderPolicy": identity_policy(
                "Reader",
                allow("secretsmanager:GetSecretValue", {"Ref": "Webhook"}),
                allow("kms:Decrypt", arn_of("DataKey"), Condition=this_version),
            ),
            "DataKey": key(root_statement()),
            "Results": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": arn_of("DataKey")}},
            },
            "Webhook": {"Type": "AWS::SecretsManager::Secret", "Properties": {"KmsKeyId": arn_of("DataKey")}},
        }
    )
    put = stack.store.kms_requirement("dynamodb:PutItem", stack.arn("Results"))
    assert put is not None
    assert put.actions == ("kms:Decrypt",)
    assert put.context["kms:EncryptionContext:aws:dynamodb:tableName"] == "AuthzTest-Results"
    assert put.context["kms:EncryptionContext:aws:dynamodb:subscriberId"] == ACCOUNT
    webhook = str(stack.resolver.resolve({"Ref": "Webhook"}))
    decision = stack.store.authorize_call(stack.role("Reader"), "secretsmanager:GetSecretValue", webhook)
    assert decision.allowed  # the version id is not known before the call: undetermined, not guessed
    assert not decision.strictly_allowed
    assert any("SecretVersionId" in item.why for item in decision.undetermined)


def test_a_key_the_template_does_not_declare_is_undetermined() -> None:
    """A key policy must allow; the evaluator does not know the policy of a key from outside the template.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"""
    outside = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    stack = stand_up(
        {
            "Publisher": role(),
            "PublisherPolicy": identity_policy("Publisher", allow(["sns:Publish", "kms:*"], "*")),
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": outside}},
        }
    )
    decision = stack.store.authorize_call(stack.role("Publisher"), "sns:Publish", stack.arn("Alerts"))
    assert decision.allowed
    assert not decision.strictly_allowed
    assert {item.where for item in decision.undetermined} == {f"key policy of {outside}"}


def test_a_resource_outside_the_template_is_warned_about_and_an_action_on_no_resource_is_not() -> None:
    """Actions with no resource-level permissions are granted on "*" and have no resource policy to read; a resource
    from outside the template may have one the evaluator cannot see.
    https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"""
    stack = stand_up(
        {"Caller": role(), "CallerPolicy": identity_policy("Caller", allow(["comprehend:*", "sagemaker:*"], "*"))}
    )
    endpoint = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/outside"
    no_resource = stack.store.authorize(stack.role("Caller"), "comprehend:DetectSentiment", "*")
    outside = stack.store.authorize(stack.role("Caller"), "sagemaker:InvokeEndpoint", endpoint)
    assert no_resource.allowed
    assert no_resource.warnings == ()
    assert outside.allowed
    assert outside.warnings == (f"{endpoint} is not declared in the template: only identity policies are evaluated",)


def test_a_decrypt_that_names_no_key_is_undetermined() -> None:
    """Decrypt takes the key from the ciphertext's metadata when KeyId is absent, so the request names no key.
    https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html"""
    stack = stand_up({"Reader": role(), "ReaderPolicy": identity_policy("Reader", allow("sns:Publish", "*"))})
    decision = stack.store.authorize(stack.role("Reader"), "kms:Decrypt", "*")
    assert decision.allowed
    assert not decision.strictly_allowed
    assert {item.where for item in decision.undetermined} == {"key policy of the ciphertext's key"}
    assert any("the call names no key (the ciphertext does)" in warning for warning in decision.warnings)


def test_an_event_bus_policy_allows_the_role_it_names() -> None:
    """An event bus's resource-based policy can allow a principal to put events on it.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html"""
    statement = {
        "Sid": "WorkerMayPut",
        "Effect": "Allow",
        "Principal": {"AWS": arn_of("Worker")},
        "Action": "events:PutEvents",
        "Resource": arn_of("Orders"),
    }
    stack = stand_up(
        {
            "Worker": role(),
            "Other": role(),
            "Orders": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders"}},
            "OrdersPolicy": {
                "Type": "AWS::Events::EventBusPolicy",
                "Properties": {
                    "EventBusName": {"Ref": "Orders"},
                    "StatementId": "WorkerMayPut",
                    "Statement": statement,
                },
            },
        }
    )
    assert stack.store.authorize(stack.role("Worker"), "events:PutEvents", stack.arn("Orders")).allowed
    assert not stack.store.authorize(stack.role("Other"), "events:PutEvents", stack.arn("Orders")).allowed


# -- conditions -----------------------------------------------------------------------------------------------------
def test_if_exists_is_true_when_the_key_is_absent() -> None:
    """...IfExists: a missing key makes the condition true; without it, a missing key does not match.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    """

    def from_events(operator: str, queue_id: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn_of(queue_id),
            "Condition": {operator: {"aws:SourceAccount": ACCOUNT}},
        }

    stack = stand_up(
        {
            "Lenient": queue(),
            "LenientPolicy": queue_policy("Lenient", from_events("StringEqualsIfExists", "Lenient")),
            "Strict": queue(),
            "StrictPolicy": queue_policy("Strict", from_events("StringEquals", "Strict")),
        }
    )
    lenient, strict = stack.arn("Lenient"), stack.arn("Strict")
    assert stack.store.authorize(EVENTS, "sqs:SendMessage", lenient).allowed
    assert not stack.store.authorize(EVENTS, "sqs:SendMessage", strict).allowed
    other = {"aws:SourceAccount": "210987654321"}
    assert not stack.store.authorize(EVENTS, "sqs:SendMessage", lenient, other).allowed
    assert stack.store.authorize(EVENTS, "sqs:SendMessage", strict, {"aws:SourceAccount": ACCOUNT}).allowed


def test_negated_operators_and_null_on_a_missing_key() -> None:
    """A missing key: a negated operator (StringNotLike) is true, a positive one false; Null tests presence.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"""
    not_via_lambda = {"StringNotLike": {"kms:ViaService": "lambda.*"}}
    direct_only = {"Null": {"kms:ViaService": "true"}}
    stack = stand_up(
        {
            "Reader": role(),
            "ReaderPolicy": identity_policy(
                "Reader",
                allow("kms:Decrypt", arn_of("DataKey"), Condition=not_via_lambda),
                allow("kms:Encrypt", arn_of("DataKey"), Condition=direct_only),
            ),
            "DataKey": key(root_statement()),
        }
    )
    reader, data_key = stack.role("Reader"), stack.arn("DataKey")
    assert stack.store.authorize(reader, "kms:Decrypt", data_key).allowed
    via_lambda = {"kms:ViaService": f"lambda.{REGION}.amazonaws.com"}
    assert not stack.store.authorize(reader, "kms:Decrypt", data_key, via_lambda).allowed
    assert stack.store.authorize(reader, "kms:Encrypt", data_key).allowed
    assert not stack.store.authorize(reader, "kms:Encrypt", data_key, via_lambda).allowed


def test_set_operators_on_a_multi_valued_key() -> None:
    """ForAllValues: every request value must match (an empty set matches); ForAnyValue: at least one (an empty set
    does not).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html"""
    only_app = {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}}
    any_app = {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}}
    stack = stand_up(
        {
            "Reader": role(),
            "ReaderPolicy": identity_policy(
                "Reader",
                allow("kms:Decrypt", arn_of("DataKey"), Condition=only_app),
                allow("kms:Encrypt", arn_of("DataKey"), Condition=any_app),
            ),
            "DataKey": key(root_statement()),
        }
    )
    reader, data_key = stack.role("Reader"), stack.arn("DataKey")
    app_only = {"kms:EncryptionContext:AppName": "Orders"}
    two_pairs = {**app_only, "kms:EncryptionContext:Stage": "prod"}
    assert stack.store.authorize(reader, "kms:Decrypt", data_key, app_only).allowed
    assert not stack.store.authorize(reader, "kms:Decrypt", data_key, two_pairs).allowed
    assert stack.store.authorize(reader, "kms:Decrypt", data_key).allowed  # no context: the empty set
    assert stack.store.authorize(reader, "kms:Encrypt", data_key, two_pairs).allowed
    assert not stack.store.authorize(reader, "kms:Encrypt", data_key).allowed


def test_an_unknown_condition_key_makes_the_statement_undetermined_with_a_warning() -> None:
    """A condition key the evaluator cannot know is never guessed: the decision says which statement and key, allows
    by default, and is not allowed strictly. (Condition keys: reference_policies_condition-keys.)
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
    """
    in_org = {
        "Sid": "OrgOnly",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sqs:SendMessage",
        "Resource": arn_of("Orders"),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-example"}},
    }
    stack = stand_up(
        {
            "Worker": role(),
            "Granted": role(),
            "GrantedPolicy": identity_policy("Granted", allow("sqs:SendMessage", arn_of("Orders"))),
            "Orders": queue(),
            "OrdersPolicy": queue_policy("Orders", in_org),
        }
    )
    decision = stack.store.authorize(stack.role("Worker"), "sqs:SendMessage", stack.arn("Orders"))
    assert decision.allowed
    assert not decision.strictly_allowed
    (undetermined,) = decision.undetermined
    assert undetermined.where == "OrdersPolicy (AWS::SQS::QueuePolicy) Statement[0] (Sid OrgOnly)"
    assert "aws:PrincipalOrgID" in undetermined.why
    assert any("aws:PrincipalOrgID" in warning and "Statement[0]" in warning for warning in decision.warnings)
    certain = stack.store.authorize(stack.role("Granted"), "sqs:SendMessage", stack.arn("Orders"))
    assert certain.allowed
    assert certain.strictly_allowed
    assert certain.undetermined == ()  # the verdict does not depend on the unknown key


# -- managed policies and boundaries --------------------------------------------------------------------------------
def test_aws_managed_policies_from_the_documented_table_and_a_warning_for_the_others() -> None:
    """A role's AWS managed policies count as documented; one the evaluator does not know is a warning, not a guess.
    https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html"""
    basic = {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        ]
    }
    unknown = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    stack = stand_up(
        {"Worker": {**role(), "Properties": {**role()["Properties"], "ManagedPolicyArns": [basic, unknown]}}}
    )
    worker = stack.role("Worker")
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/worker"
    logs = stack.store.authorize(worker, "logs:CreateLogGroup", log_group)
    assert logs.allowed
    assert logs.basis == "allowed by AWS managed policy service-role/AWSLambdaBasicExecutionRole Statement[0]"
    assert any("AmazonS3ReadOnlyAccess" in warning for warning in stack.store.warnings)
    s3 = stack.store.authorize(worker, "s3:GetObject", "arn:aws:s3:::bucket/key")
    assert s3.allowed
    assert not s3.strictly_allowed
    assert any("AmazonS3ReadOnlyAccess" in item.why for item in s3.undetermined)


def test_inline_role_policies_and_managed_policies_of_the_template_are_identity_policies() -> None:
    """A role's permissions are the union of its inline policies and the managed policies attached to it.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"""
    inline = {"PolicyName": "send", "PolicyDocument": document(allow("sqs:SendMessage", arn_of("Orders")))}
    managed = {"PolicyDocument": document(allow("sqs:ReceiveMessage", arn_of("Orders")))}
    role_policy = {
        "RoleName": {"Ref": "Worker"},
        "PolicyName": "purge",
        "PolicyDocument": document(allow("sqs:PurgeQueue", arn_of("Orders"))),
    }
    worker = role()
    worker["Properties"].update(Policies=[inline], ManagedPolicyArns=[{"Ref": "Receive"}])
    stack = stand_up(
        {
            "Worker": worker,
            "Receive": {"Type": "AWS::IAM::ManagedPolicy", "Properties": managed},
            "Purge": {"Type": "AWS::IAM::RolePolicy", "Properties": role_policy},
            "Orders": queue(),
        }
    )
    worker_role, orders = stack.role("Worker"), stack.arn("Orders")
    assert stack.store.authorize(worker_role, "sqs:SendMessage", orders).basis == (
        "allowed by Worker (AWS::IAM::Role) Policies[0] (send) Statement[0]"
    )
    assert stack.store.authorize(worker_role, "sqs:ReceiveMessage", orders).basis == (
        "allowed by Receive (AWS::IAM::ManagedPolicy) Statement[0]"
    )
    assert stack.store.authorize(worker_role, "sqs:PurgeQueue", orders).allowed
    assert not stack.store.authorize(worker_role, "sqs:DeleteQueue", orders).allowed
    assert stack.store.warnings == []


def test_a_permissions_boundary_caps_what_identity_policies_allow() -> None:
    """The role may do only what both its identity policies and its permissions boundary allow.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"""
    stack = stand_up(
        {
            "Boundary": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": document(allow("sqs:SendMessage", "*"))},
            },
            "Worker": {**role(), "Properties": {**role()["Properties"], "PermissionsBoundary": {"Ref": "Boundary"}}},
            "WorkerPolicy": identity_policy("Worker", allow("sqs:*", arn_of("Orders"))),
            "Orders": queue(),
        }
    )
    worker, orders = stack.role("Worker"), stack.arn("Orders")
    assert stack.store.authorize(worker, "sqs:SendMessage", orders).allowed
    capped = stack.store.authorize(worker, "sqs:DeleteMessage", orders)
    assert not capped.allowed
    assert capped.basis.endswith("but the role's permissions boundary does not allow it")


# -- a synthesized template ---------------------------------------------------------------------------------------
def test_a_synthesized_topic_with_a_customer_key() -> None:
    """aws-cdk-lib's ``topic.grant_publish`` grants sns:Publish and the key's kms:Decrypt / kms:GenerateDataKey*;
    a role with only sns:Publish may publish to the topic but not through its key.
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#send-to-encrypted-topic"""
    app = cdk.App(context=cdk_context(), analytics_reporting=False)
    stack = cdk.Stack(app, "AuthzTopic")
    topic_key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alerts", master_key=topic_key)
    lambda_service = iam.ServicePrincipal("lambda.amazonaws.com")
    topic.grant_publish(iam.Role(stack, "Granted", assumed_by=lambda_service))
    publish_only = iam.Role(stack, "PublishOnly", assumed_by=lambda_service)
    publish_only.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]))
    template = Template.from_stack(stack).to_json()

    resolver = Resolver(template, physical=local_identity(template), pseudo=PSEUDO)
    store = PolicyStore.from_template(template, resolver.resolve, account=ACCOUNT, region=REGION)
    alerts = next(lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
    alerts_arn = str(resolver.resolve({"Ref": alerts}))

    granted = store.authorize_call(store.role("Granted"), "sns:Publish", alerts_arn)
    assert granted.allowed, granted.reason
    assert granted.strictly_allowed
    assert store.authorize(store.role("PublishOnly"), "sns:Publish", alerts_arn).allowed
    denied = store.authorize_call(store.role("PublishOnly"), "sns:Publish", alerts_arn)
    assert not denied.allowed
    assert denied.missing == ("kms:GenerateDataKey", "kms:Decrypt")
    assert denied.reason.startswith(
        "role PublishOnly may not kms:GenerateDataKey, kms:Decrypt on key TopicKey (topic Alerts is encrypted with it)"
    )
    nobody = store.authorize_call(EVENTS, "sns:Publish", alerts_arn, {"aws:SourceAccount": ACCOUNT})
    assert not nobody.allowed
    assert store.warnings == []


@pytest.mark.parametrize("action", ["sqs:SendMessage", "SQS:SENDMESSAGE"])
def test_the_kms_step_follows_the_action_in_any_case(action: str) -> None:
    """Action names are case-insensitive, so the KMS actions a call needs do not depend on the caller's spelling.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"""
    stack = stand_up({"QueueKey": key(root_statement()), "Orders": queue(KmsMasterKeyId=arn_of("QueueKey"))})
    requirement = stack.store.kms_requirement(action, stack.arn("Orders"))
    assert requirement is not None
    assert requirement.encrypted == "queue Orders"
