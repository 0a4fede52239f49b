"""Amazon S3 event notifications: the record's shape and how the object key is encoded."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n

from constructs_lib.testing import LocalKit
from tests.conformance.kit_stacks import RUNTIME

pytestmark = pytest.mark.execution


def test_a_notification_is_an_s3_event_record_with_the_key_url_encoded(plain_app: cdk.App) -> None:
    """S3 notifications: a function gets the event asynchronously, one record per object with eventVersion,
    eventSource aws:s3, eventName, the bucket and the object; the key is URL-encoded (a space as "+").

    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
    Kit: moto's record (s3SchemaVersion 1.0, bucket name and ARN, object key, size, eTag, sequencer), the key
        encoded as S3 does (quote_plus: "/" -> %2F, " " -> "+"); handlers decode it with unquote_plus.
    Divergence: none
    """
    stack = cdk.Stack(plain_app, "Kit")
    bucket = s3.Bucket(stack, "Uploads")
    echo = lambda_.Function(
        stack,
        "OnUpload",
        runtime=RUNTIME,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(echo))
    with LocalKit.from_stack(stack) as kit:
        kit.put_object("Uploads", "incoming/board 1.png", b"\x89PNG")
        outcomes = kit.async_invocations("OnUpload")
        bucket_name, region = kit.ref("Uploads"), kit.stack.region

    (outcome,) = outcomes
    assert outcome.source == "s3"
    (record,) = outcome.event["Records"]
    assert record["eventSource"] == "aws:s3"
    assert re.match(r"^2\.\d$", record["eventVersion"])
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == region
    assert record["s3"]["s3SchemaVersion"] == "1.0"
    assert record["s3"]["bucket"]["name"] == bucket_name
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket_name}"
    assert record["s3"]["object"]["key"] == "incoming%2Fboard+1.png"
    assert record["s3"]["object"]["size"] == 4
    assert {"eTag", "sequencer"} <= set(record["s3"]["object"])
