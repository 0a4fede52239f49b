"""Synth-time overhead of ``DestinedFunction`` against the same resources written by hand with aws-cdk-lib.

For each N in ``--sizes`` the script synthesizes, in one Stack:

* library: N ``DestinedFunction``s (``on_success=EventBusRoute()``, ``on_failure=QueueRoute()``);
* hand-written: per function the same resources with plain aws-cdk-lib (log group, role, function with X-Ray,
  custom event bus, SSE-SQS TLS-only failure queue with its own DLQ, async invoke config, four alarms), and the
  same cdk-nag acknowledgments the library attaches for this configuration (``Validations.of(...).acknowledge``:
  X-Ray's statement in a policy of its own, ``TracingPolicy``, carrying the ``AwsSolutions-IAM5[Resource::*]``
  one; EventBusRoute and QueueRoute add none), since a hand-written stack that passes cdk-nag must carry them too.

Each run is a fresh subprocess (so interpreter and jsii start-up are the same for both variants and reported
apart); inside it only construct + ``app.synth()`` is timed with ``time.perf_counter``. Both variants import the
same modules before the timer starts. ``CDK_VALIDATION=false`` is set in the subprocess environment, and the stack
resource limit check (500) is turned off through context in both variants, since N=50 makes 700 resources in the
one Stack. The variants alternate order run by run to spread drift evenly; the median of the repetitions is
reported.

The two variants must make the same thing, or the script prints where they differ and exits 2 (so the comparison
stays honest when the library changes): the same resource count per resource type, the same resource definitions
(Metadata included), and the same construct metadata in the cloud assembly (``<stack>.metadata.json``: logical
IDs, cdk-nag acknowledgments, ...; acknowledgments live there, on the construct they were made on, not in the
template). Stack traces in that metadata (``aws:cdk:creationStack`` data, entries' ``trace``) are left out of the
comparison: they record where the code ran, not what it made.

The ratio target (library / hand-written <= 1.05) is checked on the ratio of the two variants' minimum times: other
work on the machine only ever adds time to a run, so the fastest of k fresh processes is each variant's least
disturbed measurement (as ``timeit`` advises); the ratio of the medians is printed beside it. Exit 1 when the target
is missed at any N, exit 2 when the variants differ or a worker fails. The load average is printed: on a busy
2-core machine the medians can swing by 30 % between runs of the same code.

Usage (from the repo root)::

    .venv/bin/python benchmarks/synth_overhead.py [--sizes 1,50] [--repeat K] [--json PATH]
"""

from __future__ import annotations

import time

_PROCESS_T0 = time.perf_counter()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any, Literal, cast  # noqa: E402

if TYPE_CHECKING:
    from aws_cdk import Stack

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

Variant = Literal["hand", "library"]
VARIANTS: tuple[Variant, Variant] = ("hand", "library")
STACK_NAME = "SynthOverheadBench"
RESULT_PREFIX = "SYNTH_OVERHEAD_RESULT "
TARGET_RATIO = 1.05
# N=50 makes 700 resources, over CDK's default check of 500 per stack; 0 turns the check off (in both variants).
APP_CONTEXT: dict[str, Any] = {"@aws-cdk/core:stackResourceLimit": 0}
HANDLER_CODE = "def handler(e, c):\n    return e\n"
IMPORTED_MODULES = (
    "aws_cdk",
    "aws_cdk.aws_cloudwatch",
    "aws_cdk.aws_events",
    "aws_cdk.aws_iam",
    "aws_cdk.aws_lambda",
    "aws_cdk.aws_lambda_destinations",
    "aws_cdk.aws_logs",
    "aws_cdk.aws_sqs",
    "constructs",
    "constructs_lib.engines.destined_function",
    "constructs_lib.routes",
)

# The cdk-nag acknowledgment the library attaches for this configuration (constructs_lib.defaults.secure_function,
# constructs_lib._internal.nag.Role), written out here as a hand-written stack would: rule id and reason, on the
# policy that holds X-Ray's statement and nothing else.
XRAY_ACK_ID = "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
XRAY_ACK_REASON = (
    "X-Ray tracing: xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets support "
    "no resource-level permissions. This policy holds X-Ray actions only."
)
ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"
CREATION_STACK = "aws:cdk:creationStack"

EXIT_TARGET_MISSED = 1
EXIT_VARIANTS_DIFFER = 2
EXIT_WORKER_FAILED = 2


# ---------------------------------------------------------------------------------------------------------------
# Worker: runs in the subprocess


def _import_everything() -> None:
    """Import every module either variant uses, so both pay the same jsii/import cost before the timer."""
    for module in IMPORTED_MODULES:
        importlib.import_module(module)


def build_library(stack: Stack, n: int) -> None:
    """N DestinedFunctions with an EventBusRoute on success and a QueueRoute on failure."""
    from aws_cdk import aws_lambda as lambda_

    from constructs_lib.engines.destined_function import DestinedFunction
    from constructs_lib.routes import EventBusRoute, QueueRoute

    for i in range(n):
        DestinedFunction(
            stack,
            f"Fn{i}",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER_CODE),
            ),
            on_success=EventBusRoute(),
            on_failure=QueueRoute(),
        )


def build_hand(stack: Stack, n: int) -> None:
    """The same resources as ``build_library``, written with aws-cdk-lib only (same construct paths and ids)."""
    from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_events as events
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_destinations as destinations
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct

    for i in range(n):
        scope = Construct(stack, f"Fn{i}")
        log_group = logs.LogGroup(
            scope,
            "FunctionLogGroup",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            scope,
            "FunctionServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Execution role of Function",
        )
        # X-Ray's statement in a policy of its own, so that its acknowledgment covers nothing else: tracing is set on
        # the L1, since the L2's tracing= would add the same statement to the role's default policy.
        tracing_policy = iam.Policy(
            role,
            "TracingPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            ],
        )
        Validations.of(tracing_policy).acknowledge(Acknowledgment(id=XRAY_ACK_ID, reason=XRAY_ACK_REASON))
        function = lambda_.Function(
            scope,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER_CODE),
            log_group=log_group,
            role=role,
        )
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        log_group.grant_write(role)

        bus = events.EventBus(scope, "OnSuccessBus")
        dead_letter_queue = sqs.Queue(
            scope,
            "OnFailureQueueDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        failure_queue = sqs.Queue(
            scope,
            "OnFailureQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            retention_period=Duration.days(7),  # shorter than its DLQ's: a message keeps its first enqueue time
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dead_letter_queue),
            enforce_ssl=True,
        )
        function.configure_async_invoke(
            on_success=destinations.EventBridgeDestination(bus),
            on_failure=destinations.SqsDestination(failure_queue),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )

        period = Duration.minutes(5)
        path = scope.node.path
        alarms: list[tuple[str, cloudwatch.IMetric, float, str]] = [
            (
                "AsyncEventsDropped",
                function.metric("AsyncEventsDropped", statistic="Sum", period=period),
                1,
                "asynchronous events were dropped without reaching a destination",
            ),
            (
                "AsyncEventAge",
                function.metric("AsyncEventAge", statistic="Maximum", period=period),
                3 * 3600 * 1000,  # half the 6 h maximum event age, in milliseconds
                "events wait too long before they run (throttling or errors): they may expire",
            ),
            (
                "DestinationDeliveryFailures",
                function.metric("DestinationDeliveryFailures", statistic="Sum", period=period),
                1,
                "results could not be delivered to their destination (permissions, quota or a deleted target)",
            ),
            (
                "FailureQueueMessages",
                failure_queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
                1,
                "failed invocations are waiting in the on-failure queue",
            ),
        ]
        for name, metric, threshold, why in alarms:
            cloudwatch.Alarm(
                scope,
                f"{name}Alarm",
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{path}: {why}",
            )


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _comparable_metadata(entries: list[dict[str, Any]]) -> list[str]:
    """One construct's metadata entries without stack traces, canonical and in a stable order."""
    kept: list[str] = []
    for entry in entries:
        if entry.get("type") == CREATION_STACK:
            continue
        kept.append(json.dumps({key: value for key, value in entry.items() if key != "trace"}, sort_keys=True))
    return sorted(kept)


def _acknowledgment_count(metadata: dict[str, list[dict[str, Any]]]) -> int:
    """How many cdk-nag acknowledgments (rule id on one construct) the construct metadata holds."""
    return sum(
        len(entry.get("data") or {})
        for entries in metadata.values()
        for entry in entries
        if entry.get("type") == ACKNOWLEDGED_RULES
    )


def run_worker(variant: Variant, n: int) -> None:
    """Import, then time construct + synth of one variant; print one JSON result line on stdout."""
    t_import_start = time.perf_counter()
    _import_everything()
    t_imported = time.perf_counter()

    from aws_cdk import App, Stack

    with tempfile.TemporaryDirectory(prefix="synth-overhead-") as outdir:
        t0 = time.perf_counter()
        app = App(outdir=outdir, context=APP_CONTEXT)
        stack = Stack(app, STACK_NAME)
        if variant == "library":
            build_library(stack, n)
        else:
            build_hand(stack, n)
        assembly = app.synth()
        t1 = time.perf_counter()
        artifact = assembly.get_stack_by_name(STACK_NAME)
        template = cast(dict[str, Any], artifact.template)
        metadata_file = artifact.manifest.additional_metadata_file
        metadata = cast(
            dict[str, list[dict[str, Any]]],
            json.loads((Path(assembly.directory) / metadata_file).read_text()) if metadata_file else {},
        )

    resources = cast(dict[str, dict[str, Any]], template.get("Resources", {}))
    counts = Counter(str(resource["Type"]) for resource in resources.values())
    comparable = {path: _comparable_metadata(entries) for path, entries in metadata.items()}
    result = {
        "variant": variant,
        "n": n,
        "synth_s": t1 - t0,
        "import_s": t_imported - t_import_start,
        "pre_import_s": t_import_start - _PROCESS_T0,
        "counts": dict(sorted(counts.items())),
        "acknowledgments": _acknowledgment_count(metadata),
        "resource_digests": {logical_id: _digest(resource) for logical_id, resource in resources.items()},
        "metadata_digests": {path: _digest(entries) for path, entries in comparable.items() if entries},
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Driver


@dataclass(frozen=True)
class RunResult:
    variant: Variant
    n: int
    synth_s: float
    """Construct + app.synth(), measured inside the subprocess."""
    startup_s: float
    """Everything else in the subprocess: interpreter, imports, jsii kernel start-up, exit."""
    import_s: float
    """The imports alone (aws_cdk, jsii kernel, constructs_lib), measured inside the subprocess."""
    counts: dict[str, int]
    acknowledgments: int
    """cdk-nag acknowledgments in the construct metadata."""
    resource_digests: dict[str, str]
    """Per logical ID, a digest of the whole resource definition (Metadata included)."""
    metadata_digests: dict[str, str]
    """Per construct path, a digest of its construct metadata without stack traces."""


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CDK_VALIDATION"] = "false"
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def run_once(variant: Variant, n: int) -> RunResult:
    """One fresh subprocess synthesizing one variant at size n."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", variant, "--n", str(n)]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=_worker_env(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        sys.stderr.write(
            f"worker {variant} N={n} failed (exit {completed.returncode})\n"
            f"--- stdout ---\n{completed.stdout}\n--- stderr ---\n{completed.stderr}\n"
        )
        raise SystemExit(EXIT_WORKER_FAILED)
    data = json.loads(lines[-1][len(RESULT_PREFIX) :])
    synth_s = float(data["synth_s"])
    return RunResult(
        variant=variant,
        n=n,
        synth_s=synth_s,
        startup_s=wall - synth_s,
        import_s=float(data["import_s"]),
        counts={str(k): int(v) for k, v in data["counts"].items()},
        acknowledgments=int(data["acknowledgments"]),
        resource_digests={str(k): str(v) for k, v in data["resource_digests"].items()},
        metadata_digests={str(k): str(v) for k, v in data["metadata_digests"].items()},
    )


def _differing_keys(hand: dict[str, str], library: dict[str, str]) -> list[str]:
    return sorted(key for key in set(hand) | set(library) if hand.get(key) != library.get(key))


def _report_differences(what: str, keys: list[str], hand: dict[str, str], library: dict[str, str]) -> None:
    shown = 10
    print(f"  {what} that differ ({len(keys)}):")
    for key in keys[:shown]:
        where = "both" if key in hand and key in library else ("hand-written only" if key in hand else "library only")
        print(f"    {key}  ({where})")
    if len(keys) > shown:
        print(f"    ... and {len(keys) - shown} more")


def check_same(n: int, hand: RunResult, library: RunResult) -> bool:
    """Print both resource counts per type and whether definitions and metadata match; True when all match."""
    types = sorted(set(hand.counts) | set(library.counts))
    print(f"\nResource counts, N={n}:\n")
    print("| resource type | hand-written | library |")
    print("|---|---:|---:|")
    for resource_type in types:
        h, lib = hand.counts.get(resource_type, 0), library.counts.get(resource_type, 0)
        mark = "" if h == lib else "  <-- differs"
        print(f"| {resource_type} | {h} | {lib} |{mark}")
    print(f"| **total** | {sum(hand.counts.values())} | {sum(library.counts.values())} |")
    mark = "" if hand.acknowledgments == library.acknowledgments else "  <-- differs"
    print(f"| cdk-nag acknowledgments | {hand.acknowledgments} | {library.acknowledgments} |{mark}")

    resource_keys = _differing_keys(hand.resource_digests, library.resource_digests)
    metadata_keys = _differing_keys(hand.metadata_digests, library.metadata_digests)
    print(f"\nResources identical, Metadata included: {'no' if resource_keys else 'yes'}")
    if resource_keys:
        _report_differences("logical IDs", resource_keys, hand.resource_digests, library.resource_digests)
    same_metadata = "no" if metadata_keys else "yes"
    print(f"Construct metadata identical (acknowledgments, logical IDs; no stack traces): {same_metadata}")
    if metadata_keys:
        _report_differences("construct paths", metadata_keys, hand.metadata_digests, library.metadata_digests)
    return hand.counts == library.counts and not resource_keys and not metadata_keys


def default_repeat(n: int) -> int:
    return 9 if n < 10 else 5


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated integers, got {text!r}") from error
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"--sizes takes positive integers, got {text!r}")
    return sizes


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run_benchmark(sizes: list[int], repeat: int | None, json_path: Path | None = None) -> int:
    """Run every size, print the tables, write the figures to ``json_path``; the process exit code."""
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; every run "
        "is a fresh subprocess, CDK_VALIDATION=false; timed: construct + app.synth()."
    )
    rows: list[tuple[int, int, float, float, float]] = []
    min_ratios: dict[int, float] = {}
    startup_rows: list[tuple[int, float, float, float, float]] = []
    for n in sizes:
        reps = repeat if repeat is not None else default_repeat(n)
        results: dict[Variant, list[RunResult]] = {"hand": [], "library": []}
        for rep in range(reps):
            order = VARIANTS if rep % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                result = run_once(variant, n)
                results[variant].append(result)
                print(
                    f"  N={n} run {rep + 1}/{reps} {variant:<8} synth {result.synth_s:7.3f} s"
                    f"  (start-up {result.startup_s:.2f} s)",
                    flush=True,
                )
            if rep == 0:
                if not check_same(n, results["hand"][0], results["library"][0]):
                    print(
                        f"\nFAIL: the variants differ at N={n} (resource counts, definitions or construct "
                        "metadata); update build_hand() to match DestinedFunction.",
                        file=sys.stderr,
                    )
                    return EXIT_VARIANTS_DIFFER
                print()
        hand_median = _median([r.synth_s for r in results["hand"]])
        library_median = _median([r.synth_s for r in results["library"]])
        rows.append((n, reps, hand_median, library_median, library_median / hand_median))
        min_ratios[n] = min(r.synth_s for r in results["library"]) / min(r.synth_s for r in results["hand"])
        startup_rows.append(
            (
                n,
                _median([r.startup_s for r in results["hand"]]),
                _median([r.startup_s for r in results["library"]]),
                _median([r.import_s for r in results["hand"]]),
                _median([r.import_s for r in results["library"]]),
            )
        )

    print("\nConstruct + synth time (median):\n")
    print("| N | runs | hand-written median s | library median s | ratio of the medians | ratio of the minimums |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, reps, hand_median, library_median, ratio in rows:
        print(f"| {n} | {reps} | {hand_median:.3f} | {library_median:.3f} | {ratio:.3f} | {min_ratios[n]:.3f} |")

    print("\nStart-up, not in the ratio (median; process wall time minus construct + synth, and the imports alone):\n")
    print("| N | hand-written start-up s | library start-up s | hand-written imports s | library imports s |")
    print("|---:|---:|---:|---:|---:|")
    for n, hand_startup, library_startup, hand_import, library_import in startup_rows:
        print(f"| {n} | {hand_startup:.2f} | {library_startup:.2f} | {hand_import:.2f} | {library_import:.2f} |")

    print()
    met = True
    for n, _, _, _, ratio in rows:
        met = met and min_ratios[n] <= TARGET_RATIO
        verdict = "met" if min_ratios[n] <= TARGET_RATIO else "MISSED"
        print(
            f"N={n}: ratio of the minimums {min_ratios[n]:.3f} (of the medians {ratio:.3f}), "
            f"target <= {TARGET_RATIO}: {verdict}"
        )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "target_ratio": TARGET_RATIO,
            "sizes": [
                {
                    "n": n,
                    "runs": reps,
                    "hand_median_s": hand_median,
                    "library_median_s": library_median,
                    "ratio": ratio,
                    "ratio_of_minimums": min_ratios[n],
                    "met": min_ratios[n] <= TARGET_RATIO,
                }
                for n, reps, hand_median, library_median, ratio in rows
            ],
        }
        json_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0 if met else EXIT_TARGET_MISSED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=[1, 50], help="comma-separated N values (default: 1,50)")
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per variant and size (default: 9 for N < 10, else 5)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        run_worker(cast(Variant, args.worker), int(args.n))
        return 0
    repeat = cast(int | None, args.repeat)
    if repeat is not None and repeat < 1:
        parser.error("--repeat must be at least 1")
    return run_benchmark(cast(list[int], args.sizes), repeat, cast(Path | None, args.json))


if __name__ == "__main__":
    raise SystemExit(main())
