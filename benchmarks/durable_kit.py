"""Speed of a small durable execution in the local test kit.

A ``DurableFunction`` whose handler runs one step, waits an hour (skipped: virtual time) and returns, its result
delivered to an SQS route: two invocations of the function (the wait ends the first), three checkpointed operations.
Measured with ``time.perf_counter`` from ``kit.invoke(..., qualifier="live")`` until it returns, the stack settled.
The synthesis and the kit's stand-up are done before any timer starts; the first execution (imports) is not counted.
The median is reported against the target (<= 30 ms); the exit status is 1 when it is missed.

Usage (from the repo root)::

    .venv/bin/python benchmarks/durable_kit.py [--executions 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from constructs_lib import DurableFunction, QueueRoute
from constructs_lib.testing import LocalKit

TARGET_MS = 30.0
HANDLER = """
from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.config import Duration
from durable_routes import routed_durable_execution

@routed_durable_execution
def handler(event, context: DurableContext):
    reserved = context.step(lambda _: {"orderId": event["orderId"], "reserved": True}, name="Reserve")
    context.wait(Duration.from_hours(1), name="Settle")
    return {"orderId": reserved["orderId"], "status": "ACCEPTED"}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--executions", type=int, default=50)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the runtime stand-in warning (python3.14 on an older interpreter)
    app = cdk.App(outdir=tempfile.mkdtemp(prefix="bench-durable-"))
    stack = cdk.Stack(app, "DurableBench")
    DurableFunction(
        stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(HANDLER)
        ),
        on_success=QueueRoute(),
    )
    timings = []
    with LocalKit.from_stack(stack) as kit:
        kit.invoke("Orders/Function", {"orderId": "warm-up"}, qualifier="live")
        for index in range(args.executions):
            started = time.perf_counter()
            invocation = kit.invoke("Orders/Function", {"orderId": f"o-{index}"}, qualifier="live")
            timings.append((time.perf_counter() - started) * 1000)
            assert invocation.succeeded, invocation.payload
        executions = kit.durable_executions()
    assert all(execution.invocations == 2 for execution in executions)
    median = statistics.median(timings)
    print(
        f"durable execution (2 invocations, step + 1 h wait + SQS delivery): median {median:.1f} ms, "
        f"p90 {statistics.quantiles(timings, n=10)[-1]:.1f} ms over {len(timings)} (target <= {TARGET_MS:.0f} ms)"
    )
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
