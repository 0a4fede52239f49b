"""What JSONata costs the local test kit: the same order workflow as a JSONata FunctionWorkflow and as its JSONPath
twin, executed in one run.

The workflow (``FunctionWorkflow(steps=...)``, built twice, ``query_language`` the only difference): an Invoke, a
ForEach of an Invoke per line with an item selector, a Choice whose branch is a Pass, a Parallel of two Passes, the
on-success delivery to a queue. Each mode gets its own kit (stood up outside the timers, one execution to warm it);
the two modes run in alternating rounds so that drift in the machine's load falls on both; each mode's median per
execution over all its rounds is compared.

Each execution is timed on the wall clock and in CPU time of the whole process (every thread: moto's execution
threads, the handlers). Target: JSONata / JSONPath <= 1.3 per execution, in CPU time (the wall clock also counts
whatever else the machine runs: both are printed). The states each mode enters per execution are printed too
(JSONata builds the record in the delivery task: fewer transitions). The exit status is 1 when the target is
missed, 2 when a run does not end as expected.

Usage (from the repo root)::

    .venv/bin/python benchmarks/kit_jsonata.py [--executions 10] [--rounds 5] [--json FILE]
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from benchmarks._common import EXIT_FAILED, EXIT_OK, EXIT_TARGET_MISSED, BenchmarkError, write_json
from constructs_lib import Choice, ForEach, FunctionWorkflow, Invoke, Parallel, Pass, QueueRoute
from constructs_lib.testing import LocalKit, SynthesizedStack

RATIO_TARGET = 1.3
ORDER = {"orderId": "o-1", "total": 150, "lines": [{"sku": "A"}, {"sku": "B"}, {"sku": "C"}]}
CHARGE = "def handler(event, context):\n    return {**event, 'charged': event['total']}\n"
RESERVE = "def handler(event, context):\n    return {'reserved': event['sku'], 'orderId': event['orderId']}\n"
MODES = {"JSONPath": sfn.QueryLanguage.JSON_PATH, "JSONata": sfn.QueryLanguage.JSONATA}


def twin(language: sfn.QueryLanguage) -> SynthesizedStack:
    """The order workflow in ``language``, synthesized (outside the timers)."""
    app = cdk.App(outdir=tempfile.mkdtemp(prefix="bench-jsonata-"))
    stack = cdk.Stack(app, "Orders")
    jsonata = language == sfn.QueryLanguage.JSONATA

    def function(name: str, code: str) -> lambda_.IFunction:
        return lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(code),
        )

    if jsonata:
        selector: dict[str, Any] = {
            "sku": "{% $states.context.Map.Item.Value.sku %}",
            "orderId": "{% $states.input.orderId %}",
        }
        big = sfn.Condition.jsonata("{% $states.input.charged >= 100 %}")
    else:
        selector = {
            "sku": sfn.JsonPath.string_at("$$.Map.Item.Value.sku"),
            "orderId": sfn.JsonPath.string_at("$.orderId"),
        }
        big = sfn.Condition.number_greater_than_equals("$.charged", 100)
    FunctionWorkflow(
        stack,
        "Orders",
        query_language=language,
        steps=[
            Invoke("Charge", function("ChargeFn", CHARGE)),
            ForEach(
                "Reserve",
                items_path="$.lines",
                item_selector=selector,
                steps=[Invoke("ReserveLine", function("ReserveFn", RESERVE))],
                result_path="$.reservations",
            ),
            Choice("Size", branches=[(big, [Pass("Big", result="big", result_path="$.size")])]),
            Parallel(
                "Checks", branches=[[Pass("Fraud", result="ok")], [Pass("Stock", result="ok")]], result_path="$.checks"
            ),
        ],
        on_success=QueueRoute(),
    )
    return SynthesizedStack.from_stack(stack)


@dataclass
class Timings:
    """Seconds per execution: wall clock, and the CPU time of the whole process (every thread)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    states: int = 0

    def measure(self, kit: LocalKit) -> None:
        gc.collect()  # the garbage of earlier runs is not collected inside this one's timing
        wall, cpu = time.perf_counter(), time.process_time()
        result = kit.start_execution("Orders/StateMachine", ORDER)
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        check(result.status, result.output, result.cause)
        self.states = len(result.states_entered)


def check(status: str, output: Any, cause: str | None) -> None:
    """Both twins must end the same way: a benchmark of a failing run measures nothing."""
    if status != "SUCCEEDED":
        raise BenchmarkError(f"the execution ended {status}: {cause}")
    reserved = [item.get("reserved") for item in output.get("reservations", [])]
    if (output.get("size"), output.get("checks"), reserved) != ("big", ["ok", "ok"], ["A", "B", "C"]):
        raise BenchmarkError(f"unexpected output: {output}")


def ratio(jsonata: list[float], jsonpath: list[float]) -> float:
    """Median JSONata time per execution over the JSONPath twin's."""
    return statistics.median(jsonata) / statistics.median(jsonpath)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--executions", type=int, default=10, help="executions per mode and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.getLogger("moto").setLevel(logging.CRITICAL)

    try:
        stacks = {mode: twin(language) for mode, language in MODES.items()}
        timings = {mode: Timings() for mode in MODES}
        for turn in range(args.rounds):
            order = list(MODES) if turn % 2 == 0 else list(reversed(MODES))
            for mode in order:
                with LocalKit(stacks[mode]) as kit:
                    kit.start_execution("Orders/StateMachine", ORDER)  # warm: clients, parse trees, handlers
                    for _ in range(args.executions):
                        timings[mode].measure(kit)
    except BenchmarkError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return EXIT_FAILED

    cpu_ratio = ratio(timings["JSONata"].cpu, timings["JSONPath"].cpu)
    wall_ratio = ratio(timings["JSONata"].wall, timings["JSONPath"].wall)
    print(f"\n### Kit: a JSONata workflow against its JSONPath twin ({args.rounds} rounds x {args.executions})\n")
    print("| mode | states entered | median CPU ms / execution | median wall ms / execution |")
    print("|---|---:|---:|---:|")
    for mode, timing in timings.items():
        cpu_ms, wall_ms = statistics.median(timing.cpu) * 1000, statistics.median(timing.wall) * 1000
        print(f"| {mode} | {timing.states} | {cpu_ms:.1f} | {wall_ms:.1f} |")
    met = cpu_ratio <= RATIO_TARGET
    print(
        f"\nJSONata / JSONPath: {cpu_ratio:.2f} in CPU time (target <= {RATIO_TARGET}: {'met' if met else 'MISSED'}), "
        f"{wall_ratio:.2f} on the wall clock"
    )
    if args.json is not None:
        write_json(
            args.json,
            {
                "cpu_ratio": cpu_ratio,
                "wall_ratio": wall_ratio,
                "target": RATIO_TARGET,
                "modes": {
                    mode: {"states": t.states, "cpu_s": statistics.median(t.cpu), "wall_s": statistics.median(t.wall)}
                    for mode, t in timings.items()
                },
            },
        )
    return EXIT_OK if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
