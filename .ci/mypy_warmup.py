"""Imports every third-party package the code type-checks against, for `make setup` to pre-build mypy's cache.

mypy spends about 48 s of a cold run on aws-cdk-lib's stubs (and moto, boto3, pytest); our own 90-odd files take
about 3 s. That cache depends only on the pinned packages, so it is built once when they are installed
(`make setup`), like their bytecode, and `make test` checks our code against it. A package missing here is still
checked, only at `make test` time.
"""

import aws_cdk
import aws_cdk.assertions
import boto3
import botocore
import cdk_nag
import constructs
import hypothesis
import jsii
import moto
import pytest
import syrupy
from aws_cdk import (
    aws_cloudwatch,
    aws_cloudwatch_actions,
    aws_dynamodb,
    aws_ec2,
    aws_ecr,
    aws_events,
    aws_events_targets,
    aws_iam,
    aws_kinesis,
    aws_kms,
    aws_lambda,
    aws_lambda_destinations,
    aws_lambda_event_sources,
    aws_logs,
    aws_s3,
    aws_s3_assets,
    aws_s3_notifications,
    aws_sagemaker,
    aws_secretsmanager,
    aws_sns,
    aws_sns_subscriptions,
    aws_sqs,
    aws_stepfunctions,
    aws_stepfunctions_tasks,
    custom_resources,
)
