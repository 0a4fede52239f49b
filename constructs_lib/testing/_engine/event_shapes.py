"""The documented shapes of what AWS sends and writes: the SNS, S3 and SQS events a function gets, a scheduled event,
the Lambda Destinations execution record and the Step Functions execution status-change event."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any


def sns_event(
    message: str,
    message_id: str,
    *,
    subscription_arn: str,
    topic_arn: str,
    subject: str | None,
    message_attributes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The event SNS invokes a subscribed function with."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": now_iso(),
                    "SignatureVersion": "1",
                    "Signature": "LOCAL",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {
                        key: {"Type": value.get("Type"), "Value": value.get("Value")}
                        for key, value in (message_attributes or {}).items()
                    },
                },
            }
        ]
    }


def complete_s3_records(event: Any, account: str) -> None:
    """Add the fields of S3 event records that moto leaves out."""
    for record in event.get("Records", []) if isinstance(event, dict) else []:
        record.setdefault("userIdentity", {"principalId": f"AWS:{account}"})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault("responseElements", {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"})
        s3 = record.get("s3", {})
        s3.get("bucket", {}).setdefault("ownerIdentity", {"principalId": account})
        s3.get("object", {}).setdefault("sequencer", f"{time.time_ns():X}")


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A message, as an SQS event source mapping gives it to a function (from a ``ReceiveMessage`` answer)."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            key: {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
            for key, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def scheduled_event(rule_arn: str, *, account: str, region: str) -> dict[str, Any]:
    """The event a schedule rule sends its targets."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now_iso(milliseconds=False),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def execution_record(
    function_arn: str,
    event: Any,
    *,
    condition: str,
    count: int,
    request_id: str,
    response_context: Mapping[str, Any],
    response_payload: Any,
) -> dict[str, Any]:
    """The record Lambda sends a destination after an asynchronous invocation (``function_arn``: the invoked
    qualifier's ARN, ``...:$LATEST`` for an unqualified invoke)."""
    return {
        "version": "1.0",
        "timestamp": now_iso(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": count,
        },
        "requestPayload": event,
        "responseContext": dict(response_context),
        "responsePayload": response_payload,
    }


STATUS_EVENT_PAYLOAD_LIMIT = 248 * 1024
"""Step Functions leaves the input (and the output) out of a status-change event past 248 KB of escaped text
(https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html); the page does not say KB or KiB."""


def execution_status_detail(described: Mapping[str, Any], status: str) -> dict[str, Any]:
    """The detail of a ``Step Functions Execution Status Change`` event, from a ``DescribeExecution`` answer:
    the input is left out when the escaped input and output together pass the limit, the output when it alone
    does, each marked in ``inputDetails`` / ``outputDetails``."""
    ended = status != "RUNNING"
    output = described.get("output") if ended else None
    output_size = escaped_size(output)
    output_included = output_size <= STATUS_EVENT_PAYLOAD_LIMIT
    input_included = escaped_size(described.get("input")) + output_size <= STATUS_EVENT_PAYLOAD_LIMIT

    def millis(value: Any) -> int | None:
        return int(value.timestamp() * 1000) if isinstance(value, dt.datetime) else None

    return {
        "executionArn": described["executionArn"],
        "stateMachineArn": described["stateMachineArn"],
        "name": described["name"],
        "status": status,
        "startDate": millis(described.get("startDate")),
        "stopDate": millis(described.get("stopDate")) if ended else None,
        "input": described.get("input") if input_included else None,
        "output": output if output_included else None,
        "inputDetails": {"included": input_included},
        "outputDetails": {"included": output_included} if ended else None,
        "error": described.get("error") if ended else None,
        "cause": described.get("cause") if ended else None,
    }


def escaped_size(text: str | None) -> int:
    """The bytes of ``text`` once escaped into the event's JSON (0 for none)."""
    return len(json.dumps(text).encode()) - 2 if text is not None else 0


def json_text(value: Any) -> str:
    """A message body: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def now_iso(*, milliseconds: bool = True) -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S") + (f".{now.microsecond // 1000:03d}Z" if milliseconds else "Z")
