"""The local kit's speed against moto's own interpreter (issue 24): the same synthesized definitions, one run.

Scenarios, each timed with ``time.perf_counter`` from the call until the execution has ended:

* stand-up: the kit, ``LocalKit.start()`` of the largest example stack (every resource made, the state machines
  checked with asl-validator), first in a new process (moto imported, node run; the median of 3 processes) and later
  in the same process (median); moto directly, ``mock_aws`` started and the OrchestratedLambda machine's own
  resources made (a role, its four functions, its queue, the machine), first in a new process and later;
* OrchestratedLambda's happy path: the single-item order (Classify -> Choice -> HandleSingle: 4 states, 2 Lambda
  tasks), SUCCEEDED;
* its retry path: a pending order (Classify raises OrderPendingError: 4 attempts, then the failure record sent to
  the queue), FAILED;
* a Map over 100 items: a FunctionWorkflow whose ForEach runs the HandleSingle function on each of 100 orders. The
  first Map in each kit (and each moto) is reported on a row of its own, without a target: it starts the function's
  sandbox threads (up to 40 at once) and is the definition's first run in that kit, which later Maps find done. The
  happy and retry paths likewise run after the first execution in their kit.

The kit runs as a test uses it: ``start_execution`` returns when the stack is quiet, with the execution read back
(history included). Moto directly runs the same definitions (tokens resolved to the kit's ASL placeholders: a
function is named after its logical id) with the least it needs to run them at all: the handler is called in
process where moto would start a Docker container (no Docker here), retry intervals are not slept (moto sleeps them:
14 s for the retry path), and the end of an execution is read from moto's own objects, polled every millisecond.

The two runners take turns round by round; medians are reported with the issue's targets for the kit (happy path
<= 5 ms, retry path <= 8 ms, Map over 100 items <= 100 ms, stand-up <= 1 s and first <= 1.5 s). Exit status 1 when
one is missed, 2 when a run does not end as expected.

Usage (from the repo root)::

    .venv/bin/python benchmarks/kit_speed.py [--rounds 5] [--happy 10] [--retry 6] [--map 3] [--stand-ups 5] \
        [--first-stand-ups 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import io
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TARGET_MISSED,
    BenchmarkError,
    markdown_table,
    write_json,
)
from constructs_lib.testing import LocalKit, SynthesizedStack
from constructs_lib.testing.results import ExecutionResult

TARGETS_MS = {"happy path": 5.0, "retry path": 8.0, "Map over 100 items": 100.0}
FIRST_MAP = "Map over 100 items, first in a kit"
"""Reported without a target: it starts the function's sandbox threads (the Map's 40 concurrent iterations)."""
STAND_UP_TARGET_S = 1.0
FIRST_STAND_UP_TARGET_S = 1.5
ORDER = {"orderId": "o-1", "items": ["sku-1"]}
PENDING = {"orderId": "o-1", "items": ["sku-1"], "pending": True}
MAP_ITEMS = 100
ORDERS_STACK = "OrchestratedLambda"
MAP_STACK = "KitSpeedMap"
MACHINE = "Orders/StateMachine"
MACHINE_LOGICAL_ID = "OrdersStateMachine[0-9A-F]{8}"  # its logical id (a cloud assembly read back has no paths)


# -- the stacks -------------------------------------------------------------------------------------------------------
def synthesize(outdir: Path) -> dict[str, SynthesizedStack]:
    """Every example stack and the Map stack, synthesized once into ``outdir`` (outside the timers)."""
    import aws_cdk as cdk
    from aws_cdk import Duration
    from aws_cdk import aws_lambda as lambda_

    from app import build_app
    from constructs_lib import ForEach, FunctionWorkflow, Invoke
    from constructs_lib.defaults import secure_function
    from stacks._code import example_code
    from stacks.orchestrated_lambda_stack import RUNTIME
    from tests.conftest import cdk_context

    app = build_app(cdk.App(context=cdk_context(), outdir=str(outdir)))
    map_stack = cdk.Stack(app, MAP_STACK)
    props = lambda_.FunctionProps(
        runtime=RUNTIME,
        handler="steps.handle_single",
        code=example_code("orchestrated_lambda"),
        timeout=Duration.seconds(10),
    )
    function, _ = secure_function(map_stack, "HandleSingle", function_props=props)
    FunctionWorkflow(
        map_stack,
        "Orders",
        steps=[ForEach("EachOrder", items_path="$.orders", steps=[Invoke("HandleSingle", function)])],
    )
    app.synth()
    stacks = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    return {stack.stack_name: SynthesizedStack.from_stack(stack) for stack in stacks}


def map_input() -> dict[str, Any]:
    return {"orders": [{"orderId": f"o-{index}", "items": [f"sku-{index}"]} for index in range(MAP_ITEMS)]}


# -- the kit ----------------------------------------------------------------------------------------------------------
def kit_happy(kit: LocalKit) -> None:
    _expect(kit.start_execution(MACHINE, ORDER).status, "SUCCEEDED", "kit, happy path")


def kit_retry(kit: LocalKit) -> None:
    result = kit.start_execution(MACHINE, PENDING)
    _expect(result.status, "FAILED", "kit, retry path")
    _expect(result.attempts("Classify"), 4, "kit, retry path: Classify's attempts")


def kit_map(kit: LocalKit) -> None:
    result = kit.start_execution(MACHINE, map_input())
    _expect(result.status, "SUCCEEDED", "kit, Map")


# -- moto directly ----------------------------------------------------------------------------------------------------
class MotoDirect:
    """moto's own Step Functions interpreter running synthesized definitions, with only what it needs to run them:
    a handler called in process where moto would start a Docker container, and retry intervals not slept."""

    def __init__(self, stacks: list[SynthesizedStack]) -> None:
        self._stacks = stacks
        self._modules: dict[tuple[Path, str], ModuleType] = {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self.machines: dict[str, str] = {}  # stack name -> the ARN of its Orders/StateMachine
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> MotoDirect:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        import boto3
        from moto import mock_aws
        from moto.awslambda.models import LambdaFunction
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

        from constructs_lib.testing._engine import intrinsics
        from constructs_lib.testing._engine.asl import PLACEHOLDERS

        mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        mock.start()
        self._undo.append(mock.stop)
        handlers = self._handlers
        original_invoke = LambdaFunction.invoke

        def invoke(function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            handler = handlers[function.function_name]
            try:
                return json.dumps(handler(json.loads(body or "{}"), None)).encode()
            except Exception as error:  # a handler's error is the invocation's answer
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()

        setattr(LambdaFunction, "invoke", invoke)  # noqa: B010 - a patch, undone at stop
        self._undo.append(lambda: setattr(LambdaFunction, "invoke", original_invoke))

        class NoSleep:
            @staticmethod
            def sleep(seconds: float) -> None:
                pass

        original_time = getattr(retrier_decl, "time")  # noqa: B009 - the module moto imported, not exported
        setattr(retrier_decl, "time", NoSleep)  # noqa: B010
        self._undo.append(lambda: setattr(retrier_decl, "time", original_time))

        region = "us-east-1"
        role = boto3.client("iam", region_name=region).create_role(
            RoleName="bench", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )["Role"]["Arn"]
        lambda_client = boto3.client("lambda", region_name=region)
        sqs = boto3.client("sqs", region_name=region)
        sns = boto3.client("sns", region_name=region)
        sfn = boto3.client("stepfunctions", region_name=region)
        for index, stack in enumerate(self._stacks):
            # The kit's ASL placeholders (a function is named after its logical id), one prefix per stack.
            def named(logical_id: str, prefix: str = f"s{index}-") -> str:
                return prefix + logical_id.lower()

            resources = stack.template["Resources"]
            definitions = intrinsics.state_machine_definitions(
                stack.template, dataclasses.replace(PLACEHOLDERS, name=named)
            )
            needed = json.dumps(definitions)
            for logical_id, resource in resources.items():
                name, kind, props = named(logical_id), resource["Type"], resource.get("Properties", {})
                if name not in needed:
                    continue  # only what the machines reach
                if kind == "AWS::Lambda::Function":
                    lambda_client.create_function(
                        FunctionName=name, Runtime="python3.12", Role=role, Handler=props["Handler"], Code=_EMPTY_ZIP
                    )
                    handlers[name] = self._handler(stack, logical_id, props)
                elif kind == "AWS::SQS::Queue":
                    sqs.create_queue(QueueName=name)
                elif kind == "AWS::SNS::Topic":
                    sns.create_topic(Name=name)
            for logical_id, definition in definitions.items():
                arn = sfn.create_state_machine(name=named(logical_id), definition=json.dumps(definition), roleArn=role)[
                    "stateMachineArn"
                ]
                if re.fullmatch(MACHINE_LOGICAL_ID, logical_id):
                    self.machines[stack.stack_name] = arn
        self._sfn = sfn

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _handler(self, stack: SynthesizedStack, logical_id: str, props: dict[str, Any]) -> Callable[[Any, Any], Any]:
        folder = stack.asset_dir(props["Code"], where=logical_id)
        module_name, function = str(props["Handler"]).rsplit(".", 1)
        key = (folder, module_name)
        if key not in self._modules:
            spec = importlib.util.spec_from_file_location(f"bench_{len(self._modules)}", folder / f"{module_name}.py")
            if spec is None or spec.loader is None:
                raise BenchmarkError(f"cannot load {module_name} from {folder}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[key] = module
        handler: Callable[[Any, Any], Any] = getattr(self._modules[key], function)
        return handler

    def run(self, stack_name: str, value: Any) -> Any:
        """Start an execution and wait for it to end; moto's execution object."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        arn = self._sfn.start_execution(
            stateMachineArn=self.machines[stack_name], name=str(uuid.uuid4()), input=json.dumps(value)
        )["executionArn"]
        backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
        machine = next(m for m in backend.state_machines if m.arn == self.machines[stack_name])
        execution = next(e for e in machine.executions if e.execution_arn == arn)
        deadline = time.monotonic() + 60
        while _status(execution) in ("RUNNING", "None"):
            if time.monotonic() > deadline:
                raise BenchmarkError(f"moto directly: {arn} still running after 60 s")
            time.sleep(0.001)
        return execution


def _status(execution: Any) -> str:
    return str(getattr(execution.exec_status, "value", execution.exec_status))


def moto_happy(moto: MotoDirect) -> None:
    _expect(_status(moto.run(ORDERS_STACK, ORDER)), "SUCCEEDED", "moto, happy path")


def moto_retry(moto: MotoDirect) -> None:
    execution = moto.run(ORDERS_STACK, PENDING)
    _expect(_status(execution), "FAILED", "moto, retry path")
    history = json.loads(json.dumps(execution.to_history_output()["events"], default=str))
    _expect(
        ExecutionResult(MACHINE, "", "FAILED", None, None, None, None, tuple(history)).attempts("Classify"),
        4,
        "moto, retry path: Classify's attempts",
    )


def moto_map(moto: MotoDirect) -> None:
    _expect(_status(moto.run(MAP_STACK, map_input())), "SUCCEEDED", "moto, Map")


_EMPTY_ZIP: dict[str, bytes] = {}


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "")
    return buffer.getvalue()


_EMPTY_ZIP["ZipFile"] = _empty_zip()


def _expect(got: Any, wanted: Any, what: str) -> None:
    if got != wanted:
        raise BenchmarkError(f"{what}: expected {wanted!r}, got {got!r}")


# -- stand-ups --------------------------------------------------------------------------------------------------------
def first_stand_up(runner: str, assembly: Path, stack_names: list[str]) -> float:
    """The first stand-up in a new process (``--child``), which imports nothing of moto before its timer."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", runner, str(assembly), *stack_names],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"the first {runner} stand-up failed:\n{completed.stdout}\n{completed.stderr}")
    return float(completed.stdout.strip().splitlines()[-1])


def child(runner: str, assembly: Path, stack_names: list[str]) -> None:
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")
    stacks = [SynthesizedStack.from_cloud_assembly(assembly, name) for name in stack_names]
    started = time.perf_counter()
    if runner == "kit":
        kit = LocalKit(stacks[0])
        kit.start()
        seconds = time.perf_counter() - started
        kit.stop()
    else:
        moto = MotoDirect(stacks)
        moto.start()
        seconds = time.perf_counter() - started
        moto.stop()
    print(seconds)


def later_stand_ups(runner: str, stacks: list[SynthesizedStack], count: int) -> list[float]:
    """``count`` stand-ups after one untimed (the first of this process: its imports, asl-validator's run)."""
    timings = []
    for turn in range(count + 1):
        gc.collect()
        started = time.perf_counter()
        if runner == "kit":
            kit = LocalKit(stacks[0])
            kit.start()
            seconds = time.perf_counter() - started
            kit.stop()
        else:
            moto = MotoDirect(stacks)
            moto.start()
            seconds = time.perf_counter() - started
            moto.stop()
        if turn:
            timings.append(seconds)
    return timings


# -- executions -------------------------------------------------------------------------------------------------------
def timed(run: Callable[[], None], count: int, into: list[tuple[float, float]]) -> None:
    """``count`` runs, each as (wall clock, CPU time of the whole process: every thread) seconds.

    One full collection before the batch, so that the other runner's garbage is not collected inside it. Not one
    before each run: a full collection empties the interpreter's free lists and hands memory back to the system, and
    the run after it was about 1 ms slower (kit, happy path), which no test's run pays (tests do not collect between
    executions)."""
    gc.collect()
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        into.append((time.perf_counter() - wall, time.process_time() - cpu))


def executions(stacks: dict[str, SynthesizedStack], rounds: int, counts: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each scenario on both runners, the runners taking turns round by round; seconds per execution."""
    scenarios = [*counts, FIRST_MAP]
    timings: dict[str, dict[str, list[tuple[float, float]]]] = {s: {"kit": [], "moto": []} for s in scenarios}
    # One of each first (the first execution of a definition, imports), outside the timings.
    with LocalKit(stacks[ORDERS_STACK]) as kit:
        kit_happy(kit)
        kit_retry(kit)
    with LocalKit(stacks[MAP_STACK]) as kit:
        kit_map(kit)
    with MotoDirect([stacks[ORDERS_STACK], stacks[MAP_STACK]]) as moto:
        moto_happy(moto)
        moto_retry(moto)
        moto_map(moto)
    for turn in range(rounds):
        for runner in ("kit", "moto") if turn % 2 == 0 else ("moto", "kit"):
            if runner == "kit":
                with LocalKit(stacks[ORDERS_STACK]) as orders:
                    kit_happy(orders)  # the first execution in this kit
                    timed(partial(kit_happy, orders), counts["happy path"], timings["happy path"]["kit"])
                    timed(partial(kit_retry, orders), counts["retry path"], timings["retry path"]["kit"])
                with LocalKit(stacks[MAP_STACK]) as mapped:
                    run_map = partial(kit_map, mapped)
                    timed(run_map, 1, timings[FIRST_MAP]["kit"])  # starts the function's sandbox threads
                    timed(run_map, counts["Map over 100 items"], timings["Map over 100 items"]["kit"])
            else:
                with MotoDirect([stacks[ORDERS_STACK], stacks[MAP_STACK]]) as moto:
                    moto_happy(moto)
                    timed(partial(moto_happy, moto), counts["happy path"], timings["happy path"]["moto"])
                    timed(partial(moto_retry, moto), counts["retry path"], timings["retry path"]["moto"])
                    timed(partial(moto_map, moto), 1, timings[FIRST_MAP]["moto"])
                    timed(partial(moto_map, moto), counts["Map over 100 items"], timings["Map over 100 items"]["moto"])
    return {
        scenario: {
            runner: {
                "median_s": statistics.median(wall for wall, _ in t),
                "cpu_median_s": statistics.median(cpu for _, cpu in t),
                "count": len(t),
            }
            for runner, t in by_runner.items()
        }
        for scenario, by_runner in timings.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--happy", type=int, default=10, help="happy-path executions per runner and round")
    parser.add_argument("--retry", type=int, default=6, help="retry-path executions per runner and round")
    parser.add_argument("--map", type=int, default=3, help="Map executions per runner and round, after its first")
    parser.add_argument("--stand-ups", type=int, default=5)
    parser.add_argument("--first-stand-ups", type=int, default=3, help="new processes per runner for the first")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.rounds, args.happy, args.retry, args.map, args.stand_ups, args.first_stand_ups) < 1:
        parser.error("--rounds, --happy, --retry, --map and both --*stand-ups each need 1 or more (a median of none)")
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2:])
        return EXIT_OK
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")  # the kit's notes on runtimes (python3.14 handlers run on this Python)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-speed-") as scratch:
            stacks = synthesize(Path(scratch))
            largest = max(stacks.values(), key=lambda s: len(s.template.get("Resources", {})))
            moto_stacks = [ORDERS_STACK]
            firsts: dict[str, list[float]] = {"kit": [], "moto": []}
            for _ in range(args.first_stand_ups):  # each in a new process, the runners taking turns
                firsts["kit"].append(first_stand_up("kit", Path(scratch), [largest.stack_name]))
                firsts["moto"].append(first_stand_up("moto", Path(scratch), moto_stacks))
            first = {runner: statistics.median(seconds) for runner, seconds in firsts.items()}
            later = {
                "kit": statistics.median(later_stand_ups("kit", [largest], args.stand_ups)),
                "moto": statistics.median(later_stand_ups("moto", [stacks[n] for n in moto_stacks], args.stand_ups)),
            }
            rounds = args.rounds
            counts = {"happy path": args.happy, "retry path": args.retry, "Map over 100 items": args.map}
            figures: dict[str, Any] = {
                "stand_up": {
                    "stack": largest.stack_name,
                    "resources": len(largest.template["Resources"]),
                    "first_s": first,
                    "later_median_s": later,
                },
                "executions": executions(stacks, args.rounds, counts),
            }
    except BenchmarkError as error:
        print(f"kit_speed: {error}", file=sys.stderr)
        return EXIT_FAILED

    met = True
    rows: list[list[object]] = []
    up = figures["stand_up"]
    for label, key, target in (
        ("first in a process", "first_s", FIRST_STAND_UP_TARGET_S),
        ("later", "later_median_s", STAND_UP_TARGET_S),
    ):
        ok = up[key]["kit"] <= target
        met = met and ok
        rows.append(
            [
                f"stand-up, {label}",
                f"{up[key]['moto'] * 1000:.0f}",
                f"{up[key]['kit'] * 1000:.0f}",
                "",
                "",
                f"<= {target * 1000:.0f}: {'met' if ok else 'MISSED'}",
            ]
        )
    for scenario, by_runner in figures["executions"].items():
        wanted = TARGETS_MS.get(scenario)
        ok = wanted is None or by_runner["kit"]["median_s"] * 1000 <= wanted
        met = met and ok
        rows.append(
            [
                f"{scenario} (median of {by_runner['kit']['count']})",
                f"{by_runner['moto']['median_s'] * 1000:.1f}",
                f"{by_runner['kit']['median_s'] * 1000:.1f}",
                f"{by_runner['moto']['cpu_median_s'] * 1000:.1f}",
                f"{by_runner['kit']['cpu_median_s'] * 1000:.1f}",
                "none" if wanted is None else f"<= {wanted:.0f}: {'met' if ok else 'MISSED'}",
            ]
        )
    print(
        f"stand-up: the kit stands up {up['stack']} ({up['resources']} resources, the largest example); moto directly "
        "the OrchestratedLambda machine's own resources"
    )
    headers = ["scenario", "moto directly, ms", "LocalKit, ms", "moto CPU ms", "kit CPU ms", "kit target (wall), ms"]
    print(markdown_table(headers, rows, right=(1, 2, 3, 4)))
    print(
        "(medians; wall clock, and the CPU time of the whole process, which the machine's other tenants move less; "
        f"the runners take turns over {rounds} rounds)"
    )
    write_json(args.json, figures)
    return EXIT_OK if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
