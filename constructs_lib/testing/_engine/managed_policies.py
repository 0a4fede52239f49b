"""AWS managed policies the policy evaluator knows, each exactly as the AWS Managed Policy Reference documents it.

A role's ``ManagedPolicyArns`` entry whose name is not here is reported as a warning and counted as undetermined: its
statements are never guessed. Add a policy only with its documented JSON and the page it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

AWS_MANAGED_POLICIES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html (v1)
        "service-role/AWSLambdaBasicExecutionRole": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                }
            ],
        },
        # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html (v2)
        "AWSXRayDaemonWriteAccess": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSXRayDaemonWriteAccess",
                    "Effect": "Allow",
                    "Action": [
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                        "xray:GetSamplingStatisticSummaries",
                    ],
                    "Resource": ["*"],
                }
            ],
        },
    }
)
"""Documented policy documents, by the part of the ARN after ``arn:<partition>:iam::aws:policy/``."""
