from typing import Any

from constructs_lib import Condition, parse_execution_record


def handler(event: Any, context: Any) -> str:
    # A record, an EventBridge event, an SQS or SNS record, or JSON text: from either engine.
    record = parse_execution_record(event)
    if record.request_context.condition is Condition.RETRIES_EXHAUSTED:
        print(record.error_type, record.request_payload)
        return "failed"
    return "ok"
