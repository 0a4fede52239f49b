"""The IAM action and resource ARN the kit's authorizer is asked for, per API call (names from the Service
Authorization Reference: https://docs.aws.amazon.com/service-authorization/latest/reference/reference.html)."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.testing._engine.api_access import api_access

FUNCTION = "arn:aws:lambda:eu-west-1:111122223333:function:worker"


def access(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    return api_access(service, operation, params, region="eu-west-1", account="111122223333")


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "sqs",
            "SendMessage",
            {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/orders", "MessageBody": "x"},
            [("sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:orders")],
        ),
        (
            "sqs",
            "DeleteMessageBatch",
            {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/orders", "Entries": []},
            [("sqs:DeleteMessage", "arn:aws:sqs:eu-west-1:111122223333:orders")],
        ),
        ("lambda", "Invoke", {"FunctionName": "worker"}, [("lambda:InvokeFunction", FUNCTION)]),
        (
            "lambda",
            "Invoke",
            {"FunctionName": "worker", "Qualifier": "live"},
            [("lambda:InvokeFunction", f"{FUNCTION}:live")],
        ),
        ("lambda", "Invoke", {"FunctionName": "111122223333:function:worker"}, [("lambda:InvokeFunction", FUNCTION)]),
        (
            "stepfunctions",
            "StartExecution",
            {"stateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:flow"},
            [("states:StartExecution", "arn:aws:states:eu-west-1:111122223333:stateMachine:flow")],
        ),
        (
            "events",
            "PutEvents",
            {"Entries": [{"Source": "a"}, {"Source": "b", "EventBusName": "orders"}]},
            [
                ("events:PutEvents", "arn:aws:events:eu-west-1:111122223333:event-bus/default"),
                ("events:PutEvents", "arn:aws:events:eu-west-1:111122223333:event-bus/orders"),
            ],
        ),
        ("s3", "ListObjectsV2", {"Bucket": "reports"}, [("s3:ListBucket", "arn:aws:s3:::reports")]),
        ("s3", "GetObject", {"Bucket": "reports", "Key": "a.csv"}, [("s3:GetObject", "arn:aws:s3:::reports/a.csv")]),
        (
            "s3",
            "CopyObject",
            {"Bucket": "out", "Key": "b", "CopySource": "in/a"},
            [("s3:GetObject", "arn:aws:s3:::in/a"), ("s3:PutObject", "arn:aws:s3:::out/b")],
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"orders": [], "audit": []}},
            [
                ("dynamodb:BatchWriteItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"),
                ("dynamodb:BatchWriteItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/audit"),
            ],
        ),
        (
            "sagemaker-runtime",
            "InvokeEndpoint",
            {"EndpointName": "Defects"},
            [("sagemaker:InvokeEndpoint", "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/defects")],
        ),
        (
            "ssm",
            "GetParameter",
            {"Name": "/app/token"},
            [("ssm:GetParameter", "arn:aws:ssm:eu-west-1:111122223333:parameter/app/token")],
        ),
        ("comprehend", "DetectSentiment", {"Text": "good"}, [("comprehend:DetectSentiment", "*")]),
    ],
)
def test_each_call_is_asked_for_as_its_iam_action_on_the_resources_it_names(
    service: str, operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert access(service, operation, **params) == expected


def test_get_caller_identity_needs_no_permission() -> None:
    """https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html: no permissions are required,
    and an explicit deny cannot refuse it."""
    assert access("sts", "GetCallerIdentity") == []
