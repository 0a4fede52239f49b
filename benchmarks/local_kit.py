"""Speed of the local test kit on the OrchestratedLambda example stack.

Measures, with ``time.perf_counter``:

* stand-up: ``LocalKit.from_stack(stack)`` entered (moto started, hooks installed, its 34 resources made, the state
  machine checked with asl-validator: the first stand-up runs node; later ones reuse the process-wide check);
* one execution of a small workflow: the single-item route (Classify -> Choice -> HandleSingle: four states, two
  Lambda tasks with their real handlers), from ``start_execution`` until it returns the finished execution with
  its history, the stack settled (status events delivered through EventBridge);
* a batch of executions started together with ``start_executions`` (per execution).

The synthesis of the stack is done once before any timer starts. Medians are reported against the targets
(<= 2 s to stand up, <= 0.2 s per execution); the exit status is 1 when one is missed.

Usage (from the repo root)::

    .venv/bin/python benchmarks/local_kit.py [--executions 50] [--stand-ups 5] [--batch 200]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk

from constructs_lib.testing import LocalKit
from stacks.orchestrated_lambda_stack import OrchestratedLambdaStack

STAND_UP_TARGET = 2.0
EXECUTION_TARGET = 0.2
ORDER = {"orderId": "o-1", "items": ["sku-1"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--executions", type=int, default=50)
    parser.add_argument("--stand-ups", type=int, default=5)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("moto").setLevel(logging.CRITICAL)

    app = cdk.App(outdir=tempfile.mkdtemp(prefix="bench-kit-"))
    stack = OrchestratedLambdaStack(app, "OrchestratedLambda")
    resources = len(app.synth().get_stack_by_name(stack.stack_name).template["Resources"])

    stand_ups = []
    for _ in range(args.stand_ups):
        kit = LocalKit.from_stack(stack)
        started = time.perf_counter()
        kit.start()
        stand_ups.append(time.perf_counter() - started)
        kit.stop()

    with LocalKit.from_stack(stack) as kit:
        first = kit.start_execution("Orders/StateMachine", ORDER)
        assert first.status == "SUCCEEDED", first.cause
        timings = []
        for _ in range(args.executions):
            started = time.perf_counter()
            result = kit.start_execution("Orders/StateMachine", ORDER)
            timings.append(time.perf_counter() - started)
            assert result.status == "SUCCEEDED", result.cause
        started = time.perf_counter()
        batch = kit.start_executions("Orders/StateMachine", [ORDER] * args.batch)
        batch_seconds = time.perf_counter() - started
        assert all(result.status == "SUCCEEDED" for result in batch)

    stand_up = statistics.median(stand_ups)
    execution = statistics.median(timings)
    print(f"stack: OrchestratedLambda, {resources} resources")
    print(
        f"stand-up: median {stand_up:.3f} s over {len(stand_ups)} (first {stand_ups[0]:.3f} s, with asl-validator); "
        f"target <= {STAND_UP_TARGET} s: {'met' if stand_up <= STAND_UP_TARGET else 'MISSED'}"
    )
    print(
        f"execution (4 states, 2 Lambda tasks): median {execution * 1000:.1f} ms over {len(timings)}, "
        f"p90 {statistics.quantiles(timings, n=10)[-1] * 1000:.1f} ms; target <= {EXECUTION_TARGET * 1000:.0f} ms: "
        f"{'met' if execution <= EXECUTION_TARGET else 'MISSED'}"
    )
    print(f"batch of {args.batch} started together: {batch_seconds / args.batch * 1000:.1f} ms per execution")
    return 0 if stand_up <= STAND_UP_TARGET and execution <= EXECUTION_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
