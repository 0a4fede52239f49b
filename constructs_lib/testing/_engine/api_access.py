"""The IAM actions and resource ARNs an AWS API call needs, from the operation and its parameters (as botocore's
client takes them): what the authorizer is asked for each call made for a principal.

The action is ``<IAM prefix>:<operation>`` but for the operations IAM names otherwise (``lambda:InvokeFunction`` for
``Invoke``, ``s3:ListBucket`` for ``ListObjectsV2``, a batch operation's single action). The resource is the ARN
the parameters name (a queue URL becomes the queue's ARN, a table name the table's ARN); ``*`` where the call names
none the kit knows how to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

_IAM_PREFIXES = {
    "stepfunctions": "states",
    "sagemaker-runtime": "sagemaker",
    "s3control": "s3",
    "dynamodbstreams": "dynamodb",
    "apigatewaymanagementapi": "execute-api",
}
"""Services whose IAM prefix is not their botocore name."""

_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeAsync": "lambda:InvokeFunction",
    "lambda:InvokeWithResponseStream": "lambda:InvokeFunction",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:HeadObject": "s3:GetObject",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sns:PublishBatch": "sns:Publish",
}
"""Operations whose IAM action has another name (from the Service Authorization Reference)."""

_NOT_AUTHORIZED = frozenset({"sts:GetCallerIdentity"})
"""Calls no policy can refuse: "No permissions are required to perform this operation" (the STS API Reference)."""


def api_access(
    service: str, operation: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[tuple[str, str]]:
    """The ``(action, resource ARN)`` pairs a call of ``operation`` on ``service`` (botocore's name) needs."""
    prefix = _IAM_PREFIXES.get(service, service)
    action = _ACTIONS.get(f"{prefix}:{operation}", f"{prefix}:{operation}")
    if action in _NOT_AUTHORIZED:
        return []
    if prefix == "s3" and operation == "CopyObject":
        return [("s3:GetObject", _copy_source(params.get("CopySource"))), ("s3:PutObject", _s3_arn(params))]
    reader = _RESOURCES.get(prefix)
    arns = list(dict.fromkeys(reader(params, _Arns(region, account)))) if reader else []
    return [(action, arn) for arn in arns or ["*"]]


class _Arns:
    """ARNs in the caller's region and account."""

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account

    def of(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def named(self, service: str, name: Any, resource: str) -> str:
        """``name`` when it is an ARN already, else the ARN with ``resource`` formatted with it."""
        text = str(name)
        return text if text.startswith("arn:") else self.of(service, resource.format(text))


def _sqs(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    url = params.get("QueueUrl")
    if isinstance(url, str):
        account, name = url.rstrip("/").split("/")[-2:]
        yield f"arn:aws:sqs:{arns.region}:{account}:{name}"
    elif "QueueName" in params:
        yield arns.of("sqs", str(params["QueueName"]))


def _sns(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    for key in ("TopicArn", "TargetArn", "SubscriptionArn"):
        if key in params:
            yield str(params[key])
    if "Name" in params:
        yield arns.of("sns", str(params["Name"]))


def _lambda(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    if "DurableExecutionArn" in params:  # a durable execution's ARN: <qualified function ARN>/durable-execution/...
        yield str(params["DurableExecutionArn"])
    if "FunctionName" not in params:
        return
    name = str(params["FunctionName"])
    if not name.startswith("arn:"):
        # A name, "name:qualifier" or a partial ARN ("123456789012:function:name").
        name = f"arn:aws:lambda:{arns.region}:{name}" if ":function:" in name else arns.of("lambda", f"function:{name}")
    qualifier = params.get("Qualifier")
    yield f"{name}:{qualifier}" if qualifier and name.count(":") == 6 else name


def _states(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    for key in ("stateMachineArn", "executionArn", "activityArn", "mapRunArn"):
        if key in params:
            yield str(params[key])


def _events(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    for entry in params.get("Entries") or []:
        yield arns.named("events", entry.get("EventBusName") or "default", "event-bus/{}")
    if "Rule" in params or "Name" in params:
        bus = str(params.get("EventBusName") or "default").rsplit("/", 1)[-1]
        rule = str(params.get("Rule") or params.get("Name"))
        yield arns.named("events", rule, "rule/{}" if bus == "default" else f"rule/{bus}/{{}}")


def _dynamodb(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    names = [params.get("TableName"), *(params.get("RequestItems") or {})]
    for item in params.get("TransactItems") or []:
        names.extend(inner.get("TableName") for inner in item.values() if isinstance(inner, Mapping))
    for name in names:
        if name:
            table = arns.named("dynamodb", name, "table/{}")
            index = params.get("IndexName")
            yield f"{table}/index/{index}" if index and name == params.get("TableName") else table


def _s3(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    if "Bucket" in params:
        yield _s3_arn(params)


def _s3_arn(params: Mapping[str, Any]) -> str:
    """The object's ARN, or the bucket's for a call on the bucket."""
    bucket, key = params.get("Bucket"), params.get("Key")
    return f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"


def _copy_source(source: Any) -> str:
    if isinstance(source, Mapping):
        return f"arn:aws:s3:::{source.get('Bucket')}/{source.get('Key')}"
    return f"arn:aws:s3:::{str(source).lstrip('/').split('?', 1)[0]}"


def _secretsmanager(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    for key in ("SecretId", "Name"):
        if key in params:
            yield arns.named("secretsmanager", params[key], "secret:{}")


def _ssm(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    for name in [params.get("Name"), *(params.get("Names") or [])]:
        if name:  # "/a/b" is parameter/a/b, "a" is parameter/a
            yield arns.named("ssm", name, "parameter{}" if str(name).startswith("/") else "parameter/{}")


def _sagemaker(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    if "EndpointName" in params:
        yield arns.of("sagemaker", f"endpoint/{str(params['EndpointName']).lower()}")


def _kms(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    if "KeyId" in params:
        key = str(params["KeyId"])
        yield arns.named("kms", key, "{}" if key.startswith("alias/") else "key/{}")


def _logs(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    if "logGroupName" in params:
        yield arns.of("logs", f"log-group:{params['logGroupName']}")


def _kinesis(params: Mapping[str, Any], arns: _Arns) -> Iterable[str]:
    if "StreamARN" in params:
        yield str(params["StreamARN"])
    elif "StreamName" in params:
        yield arns.of("kinesis", f"stream/{params['StreamName']}")


_RESOURCES: dict[str, Callable[[Mapping[str, Any], _Arns], Iterable[str]]] = {
    "sqs": _sqs,
    "kinesis": _kinesis,
    "sns": _sns,
    "lambda": _lambda,
    "states": _states,
    "events": _events,
    "dynamodb": _dynamodb,
    "s3": _s3,
    "secretsmanager": _secretsmanager,
    "ssm": _ssm,
    "sagemaker": _sagemaker,
    "kms": _kms,
    "logs": _logs,
}
