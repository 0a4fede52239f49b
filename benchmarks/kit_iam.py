"""What IAM and KMS enforcement costs the local test kit: the same executions with ``iam="enforce"`` and ``iam="off"``
in one run, and the stand-up of the largest example stack with enforcement on.

Measures, with ``time.perf_counter``:

* stand-up of the example stack with the most resources, ``iam="enforce"`` (the policies read into the evaluator
  included) and ``iam="off"``: the median of ``--stand-ups`` each (the first stand-up of a process runs
  asl-validator; every one after it reuses its answer, as tests do);
* one execution of each workload, from the call until the stack is quiet again: OrchestratedLambda's single-item
  order (4 states, 2 Lambda tasks: 2 authorized task calls and the status events' deliveries) and DefectDetection's
  defective image (S3 -> EventBridge -> a role-started workflow: a Lambda task reading S3 and calling the
  endpoint, DynamoDB, an SNS publish to a KMS-encrypted topic, an S3 SDK task). Twice: the first execution in a
  new kit (every authorization decided for the first time, as in a test that runs its kit once), and executions in
  a kit that ran one already (decisions cached). The two modes run in alternating rounds so that drift in the
  machine's load falls on both; each mode's median over all its rounds is compared.

Each execution is timed on the wall clock and in CPU time of the whole process (every thread). Targets: enforced / off
<= 1.2 for each workload's median execution, first and repeated, in CPU time (the wall clock also counts whatever
else the machine runs, which moves a ratio of two runs more than the kit does: both are printed); the stand-up with
enforcement <= 2 s median. What deciding one request costs is printed too, first and cached.
The exit status is 1 when one is missed, 2 when a run does not end as expected.

Usage (from the repo root)::

    .venv/bin/python benchmarks/kit_iam.py [--executions 12] [--first 3] [--rounds 5] [--stand-ups 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk

from benchmarks._common import EXIT_FAILED, EXIT_OK, EXIT_TARGET_MISSED, BenchmarkError, write_json
from constructs_lib.testing import IamMode, LocalKit, SynthesizedStack

RATIO_TARGET = 1.2
STAND_UP_TARGET = 2.0
PNG = b"\x89PNG\r\n\x1a\n"


def _orchestrated(kit: LocalKit) -> None:
    result = kit.start_execution("Orders/StateMachine", {"orderId": "o-1", "items": ["sku-1"]})
    if result.status != "SUCCEEDED":
        raise BenchmarkError(f"OrchestratedLambda: the execution ended {result.status}: {result.cause}")


def _defect(kit: LocalKit) -> None:
    # The alert is the workflow's last delivery before it succeeds (reading the executions back would cost more with
    # every run).
    before = len(kit.received("Pipeline/AlertsTopic"))
    kit.put_object("Pipeline/Images", "incoming/line-1/board.png", PNG + b"defect")
    if len(kit.received("Pipeline/AlertsTopic")) != before + 1:
        raise BenchmarkError(f"DefectDetection: no alert; warnings: {kit.warnings}")


def _defect_options() -> dict[str, Any]:
    from stacks.defect_detection_stack import DEFAULT_ENDPOINT_NAME

    return {"endpoints": {DEFAULT_ENDPOINT_NAME: lambda body, content_type: [0.1, 0.9]}}


WORKLOADS: dict[str, tuple[str, Callable[[LocalKit], None], Callable[[], dict[str, Any]]]] = {
    "OrchestratedLambda single-item order": ("OrchestratedLambda", _orchestrated, dict),
    "DefectDetection defective image": ("DefectDetection", _defect, _defect_options),
}


def synthesized_examples() -> dict[str, SynthesizedStack]:
    """Every example stack, synthesized once (outside the timers)."""
    from app import build_app
    from tests.conftest import cdk_context

    app = build_app(cdk.App(context=cdk_context(), outdir=tempfile.mkdtemp(prefix="bench-iam-")))
    stacks = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    return {stack.stack_name: SynthesizedStack.from_stack(stack) for stack in stacks}


def stand_ups(stack: SynthesizedStack, iam: IamMode, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        kit = LocalKit(stack, iam=iam)
        started = time.perf_counter()
        kit.start()
        timings.append(time.perf_counter() - started)
        kit.stop()
    return timings


@dataclass
class Timings:
    """Seconds per execution: wall clock, and the CPU time of the whole process (every thread: handlers, moto's
    execution threads), which other tenants of the machine barely move."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def measure(self, kit: LocalKit, run: Callable[[LocalKit], None]) -> None:
        gc.collect()  # the garbage of earlier runs (and kits) is not collected inside this one's timing
        wall, cpu = time.perf_counter(), time.process_time()
        run(kit)
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)


def first_execution(
    stack: SynthesizedStack, run: Callable[[LocalKit], None], options: dict[str, Any], iam: IamMode, into: Timings
) -> None:
    """The first execution in a new kit."""
    with LocalKit(stack, iam=iam, **options) as kit:
        into.measure(kit, run)
        _no_denials(kit)


def executions(
    stack: SynthesizedStack,
    run: Callable[[LocalKit], None],
    options: dict[str, Any],
    iam: IamMode,
    into: Timings,
    *,
    count: int,
) -> None:
    """``count`` executions in one kit that ran one already."""
    with LocalKit(stack, iam=iam, **options) as kit:
        run(kit)
        for _ in range(count):
            into.measure(kit, run)
        _no_denials(kit)


def authorization_cost(
    stack: SynthesizedStack, run: Callable[[LocalKit], None], options: dict[str, Any]
) -> dict[str, float]:
    """The requests one execution puts to the authorizer, and what deciding them costs: the first time (the
    evaluator reads the policies) and again (the decision is cached). Independent of the machine's load, unlike the
    end-to-end ratio."""
    from constructs_lib.testing._engine.authorizer import AccessRequest
    from constructs_lib.testing._engine.enforcement import PolicyAuthorizer

    requests: list[AccessRequest] = []
    with LocalKit(stack, iam="enforce", **options) as kit:
        authorizer = kit._engine.authorizer
        assert isinstance(authorizer, PolicyAuthorizer)

        class Recording:
            def authorize(self, request: AccessRequest) -> None:
                requests.append(request)
                authorizer.authorize(request)

        kit._engine.authorizer = Recording()
        run(kit)
        repeats = 200
        started = time.perf_counter()
        for _ in range(repeats):
            for request in requests:
                authorizer.authorize(request)
        cached = (time.perf_counter() - started) / (repeats * len(requests))
        started = time.perf_counter()
        for _ in range(repeats // 10):
            authorizer.forget()
            for request in requests:
                authorizer.authorize(request)
        first = (time.perf_counter() - started) / (repeats // 10 * len(requests))
    return {"requests": len(requests), "first_decision_s": first, "cached_decision_s": cached}


def _modes(turn: int) -> tuple[IamMode, IamMode]:
    return ("enforce", "off") if turn % 2 == 0 else ("off", "enforce")


def _no_denials(kit: LocalKit) -> None:
    if kit.denials:
        raise BenchmarkError(f"{kit.stack.stack_name}: the kit refused calls: {kit.denials[0].message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--executions", type=int, default=12, help="repeated executions per mode and round")
    parser.add_argument("--first", type=int, default=3, help="new kits per mode and round (first executions)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stand-ups", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    try:
        examples = synthesized_examples()
        largest = max(examples.values(), key=lambda s: len(s.template.get("Resources", {})))
        resources = len(largest.template["Resources"])
        stand_ups(largest, "enforce", 1)  # asl-validator runs once per process; every later stand-up reuses it
        enforced_up = stand_ups(largest, "enforce", args.stand_ups)
        off_up = stand_ups(largest, "off", args.stand_ups)
        figures: dict[str, Any] = {
            "stand_up": {
                "stack": largest.stack_name,
                "resources": resources,
                "enforce_median_s": statistics.median(enforced_up),
                "off_median_s": statistics.median(off_up),
            },
            "executions": {},
            "authorization": {},
        }
        for label, (stack_name, run, options) in WORKLOADS.items():
            stack = examples[stack_name]
            first: dict[IamMode, Timings] = {"enforce": Timings(), "off": Timings()}
            repeated: dict[IamMode, Timings] = {"enforce": Timings(), "off": Timings()}
            for turn in range(args.rounds * args.first):  # a new kit per turn, the modes taking turns
                for iam in _modes(turn):
                    first_execution(stack, run, options(), iam, first[iam])
            for turn in range(args.rounds):
                for iam in _modes(turn):
                    executions(stack, run, options(), iam, repeated[iam], count=args.executions)
            for kind, timings in (("first in a new kit", first), ("repeated", repeated)):
                figure: dict[str, float] = {}
                for clock in ("wall", "cpu"):
                    on = statistics.median(getattr(timings["enforce"], clock))
                    off = statistics.median(getattr(timings["off"], clock))
                    figure |= {f"enforce_{clock}_s": on, f"off_{clock}_s": off, f"{clock}_ratio": on / off}
                figures["executions"][f"{label}, {kind}"] = figure
            figures["authorization"][label] = authorization_cost(stack, run, options())
    except BenchmarkError as error:
        print(f"kit_iam: {error}", file=sys.stderr)
        return EXIT_FAILED

    stand_up = figures["stand_up"]
    met = stand_up["enforce_median_s"] <= STAND_UP_TARGET
    print(
        f"stand-up of {stand_up['stack']} ({resources} resources, the largest example): median "
        f"{stand_up['enforce_median_s']:.3f} s with iam='enforce', {stand_up['off_median_s']:.3f} s with iam='off' "
        f"over {args.stand_ups}; target <= {STAND_UP_TARGET} s: {'met' if met else 'MISSED'}"
    )
    print(
        "| execution | CPU ms off | CPU ms enforce | CPU ratio (target <= 1.2) | wall ms off | wall ms enforce "
        "| wall ratio |"
    )
    print("|---|---:|---:|---|---:|---:|---:|")
    for label, figure in figures["executions"].items():
        ok = figure["cpu_ratio"] <= RATIO_TARGET
        met = met and ok
        print(
            f"| {label} | {figure['off_cpu_s'] * 1000:.1f} | {figure['enforce_cpu_s'] * 1000:.1f} | "
            f"{figure['cpu_ratio']:.2f}: {'met' if ok else 'MISSED'} | {figure['off_wall_s'] * 1000:.1f} | "
            f"{figure['enforce_wall_s'] * 1000:.1f} | {figure['wall_ratio']:.2f} |"
        )
    print(
        f"(medians; first: {args.rounds * args.first} new kits per mode, repeated: {args.rounds} kits per mode of "
        f"{args.executions} executions; the modes take turns. The ratio is judged on the process's CPU time: the wall "
        "clock also counts the other tenants of a shared machine)"
    )
    print("| execution | requests authorized | first decision us | cached decision us |")
    print("|---|---:|---:|---:|")
    for label, cost in figures["authorization"].items():
        print(
            f"| {label} | {cost['requests']:.0f} | {cost['first_decision_s'] * 1e6:.0f} | "
            f"{cost['cached_decision_s'] * 1e6:.1f} |"
        )
    if args.json is not None:
        write_json(args.json, figures)
    return EXIT_OK if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
