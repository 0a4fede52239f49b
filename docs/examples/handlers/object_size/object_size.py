from functools import cache
from typing import Any

import boto3
from s3_batch_contract import BatchTask, PermanentFailure


@cache
def s3() -> Any:
    return boto3.client("s3")  # made once per container, on first use


def process(task: BatchTask) -> dict[str, Any]:
    """The per-object function: S3 Batch Operations calls it once per object of the manifest."""
    head = s3().head_object(**task.get_object_args())  # key already URL-decoded, version kept
    if head["ContentLength"] == 0:
        raise PermanentFailure("empty object")  # reported as it is in the completion report
    return {"key": task.key, "size": head["ContentLength"]}  # the task's resultString
