"""Small stacks and handlers the conformance tests share (each test synthesizes its own)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from constructs_lib import DestinedFunction, QueueRoute

RUNTIME = lambda_.Runtime.PYTHON_3_14

FAILING = """
class OrderRejectedError(Exception):
    pass

def handler(event, context):
    raise OrderRejectedError(f"rejected {event.get('orderId')}")
"""

ECHO = """
def handler(event, context):
    return {"event": event, "version": context.function_version, "arn": context.invoked_function_arn}
"""


def inline(stack: cdk.Stack, construct_id: str, code: str, **props: Any) -> lambda_.Function:
    """A Python function with inline code (``index.handler``)."""
    return lambda_.Function(
        stack, construct_id, runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(code), **props
    )


def failing_worker(stack: cdk.Stack, **props: Any) -> DestinedFunction:
    """A DestinedFunction ``Worker`` whose handler always raises ``OrderRejectedError``; failures to a new queue."""
    options: dict[str, Any] = {"on_failure": QueueRoute(), **props}
    return DestinedFunction(
        stack,
        "Worker",
        function_props=lambda_.FunctionProps(
            runtime=RUNTIME, handler="index.handler", code=lambda_.Code.from_inline(FAILING)
        ),
        **options,
    )


SLOW_FAILING = """
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    raise RuntimeError("still failing")
"""
