"""Cost per million runs of each example workflow, counted by running each path once in the local kit.

What a run is: one input entering the example stack (a message published, an image uploaded, an execution started,
an order invoked, one object of an S3 Batch Operations job, one power tuning), followed until the stack is quiet.
Each representative path runs on the synthesized app (the pinned CLI's cdk.out) in ``LocalKit`` with its real
handlers: first once to warm up (clients made and secrets read once per container are then not counted: at a
million runs nearly every run is warm), then once measured. What the measured run did is counted, not estimated:

* Step Functions Standard: state transitions = states entered (every state: Task, Choice, Parallel and Map and
  the states in their branches, Succeed, Fail) + task retries (a retry is a transition too). Express workflows are
  priced by request and duration instead (duration: the run's Lambda durations added up, at 64 MB); no example
  uses Express.
* Lambda: one request per handler run (every attempt of an asynchronous invoke, every S3 Batch task), GB-seconds =
  the invoked version's memory (from the template, or the version the tuner published) x billed duration. The
  kit's durations are this machine's in-process times, not the cloud's: each function is assumed to run
  ``--duration`` ms (default 100 ms), or what ``ASSUMED_DURATION`` says for it (the defect inspection: 200 ms), except
  the ones listed in ``MEASURED_DURATION``, whose time is real-time work the kit reproduces (the power tuning
  sample's simulated work, and the executor waiting for it).
* Every AWS API request made during the run (by handlers, by state machine service integrations, by the kit doing what
  Lambda Destinations, EventBridge targets and SNS subscriptions do, and the entry request itself: the publish, the
  upload; not for S3 Batch, whose documents are in the bucket already), counted at botocore, priced per request: SQS,
  SNS publishes, EventBridge custom events (AWS service events such as S3 "Object Created" and Step Functions status
  changes are free and never pass through an API call here), DynamoDB write/read units (items under 1 KB), S3 requests,
  Comprehend (3-unit minimum: texts up to 300 characters), Secrets Manager. ``lambda:Invoke`` is counted as a Lambda
  request above, ``sqs:GetQueueUrl`` is the kit's own look-up (Lambda and EventBridge deliver by ARN), and an S3 Batch
  job's own requests (manifest, report) are per job, not per object: those are left out. SageMaker real-time endpoints
  are billed per instance hour: invocations are counted, priced at 0.

Not counted (not per run, or not clear per run): CloudWatch Logs ingestion (functions' logs; state machines log
at level ALL: the history events per run are shown), X-Ray traces (sampled), KMS requests of encrypted topics and
queues (data keys are cached), alarms, keys, storage, data transfer, free tiers.

Prices: us-east-1 list prices in ``PRICES`` (USD); they change: check them against the pages named there before
you quote the figures, or override with ``--price key=value``.

Usage (from the repo root)::

    .venv/bin/python benchmarks/workflow_cost.py [--cloud-assembly cdk.out] [--duration 100]
        [--duration 'PowerTuning/Tuner/*=250'] [--price sns.publish=0.0000005] [--json PATH]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    EXIT_FAILED,
    EXIT_OK,
    BenchmarkError,
    cloud_assembly,
    markdown_table,
    write_json,
)
from constructs_lib.testing import LocalKit, ServiceError
from constructs_lib.testing._engine.lambda_runtime import Invocation, LocalFunction
from constructs_lib.testing.results import ExecutionResult

# -- prices ------------------------------------------------------------------------------------------------------
# USD, us-east-1, on-demand list prices, first tier, no free tier. CHECK THEM before quoting the figures:
#   Lambda            https://aws.amazon.com/lambda/pricing/          requests, GB-s by architecture
#   Step Functions    https://aws.amazon.com/step-functions/pricing/  Standard transitions; Express requests, GB-s
#   SQS               https://aws.amazon.com/sqs/pricing/             standard queue requests (64 KB chunks)
#   SNS               https://aws.amazon.com/sns/pricing/             standard topic publishes (64 KB chunks)
#   EventBridge       https://aws.amazon.com/eventbridge/pricing/     custom events (64 KB chunks)
#   DynamoDB          https://aws.amazon.com/dynamodb/pricing/on-demand/  on-demand WRU / RRU (since Nov 2024)
#   S3                https://aws.amazon.com/s3/pricing/              Standard: PUT/COPY/POST/LIST, GET/HEAD
#   S3 Batch Ops      https://aws.amazon.com/s3/pricing/ (Management & insights)  per job, per object
#   Comprehend        https://aws.amazon.com/comprehend/pricing/      NLP: $0.0001 per 100-character unit, 3 minimum
#   Secrets Manager   https://aws.amazon.com/secrets-manager/pricing/ per 10,000 API calls
#   SageMaker         https://aws.amazon.com/sagemaker/pricing/       real-time inference: instance hours only
PRICES: dict[str, float] = {
    "lambda.request": 0.20 / 1e6,
    "lambda.gb_second.x86_64": 0.0000166667,
    "lambda.gb_second.arm64": 0.0000133334,
    "states.transition": 0.025 / 1e3,
    "states.express.request": 1.00 / 1e6,
    "states.express.gb_second": 0.00001667,
    "sqs.request": 0.40 / 1e6,
    "sns.publish": 0.50 / 1e6,
    "events.custom_event": 1.00 / 1e6,
    "dynamodb.write_unit": 0.625 / 1e6,
    "dynamodb.read_unit": 0.125 / 1e6,
    "s3.put_request": 0.005 / 1e3,
    "s3.get_request": 0.0004 / 1e3,
    "s3batch.object": 1.00 / 1e6,
    "s3batch.job": 0.25,
    "comprehend.request": 3 * 0.0001,
    "secretsmanager.request": 0.05 / 1e4,
    "sagemaker.invoke": 0.0,
}
OPERATION_PRICES: dict[tuple[str, str], str] = {
    ("sqs", "SendMessage"): "sqs.request",
    ("sqs", "SendMessageBatch"): "sqs.request",
    ("sqs", "ReceiveMessage"): "sqs.request",
    ("sqs", "DeleteMessage"): "sqs.request",
    ("sns", "Publish"): "sns.publish",
    ("events", "PutEvents"): "events.custom_event",
    ("dynamodb", "PutItem"): "dynamodb.write_unit",
    ("dynamodb", "UpdateItem"): "dynamodb.write_unit",
    ("dynamodb", "DeleteItem"): "dynamodb.write_unit",
    ("dynamodb", "GetItem"): "dynamodb.read_unit",
    ("dynamodb", "Query"): "dynamodb.read_unit",
    ("s3", "PutObject"): "s3.put_request",
    ("s3", "PutObjectTagging"): "s3.put_request",
    ("s3", "CopyObject"): "s3.put_request",
    ("s3", "ListObjectsV2"): "s3.put_request",
    ("s3", "GetObject"): "s3.get_request",
    ("s3", "HeadObject"): "s3.get_request",
    ("s3", "GetObjectTagging"): "s3.get_request",
    ("comprehend", "DetectSentiment"): "comprehend.request",
    ("secretsmanager", "GetSecretValue"): "secretsmanager.request",
    ("sagemaker-runtime", "InvokeEndpoint"): "sagemaker.invoke",
}
FREE_OPERATIONS = {
    ("stepfunctions", "StartExecution"),
    ("ssm", "GetParameter"),  # standard parameters, standard throughput
    *(
        ("lambda", operation)
        for operation in (
            "GetFunctionConfiguration",
            "UpdateFunctionConfiguration",
            "PublishVersion",
            "CreateAlias",
            "UpdateAlias",
            "GetAlias",
            "DeleteAlias",
            "ListAliases",
            "ListVersionsByFunction",
            "DeleteFunction",
        )
    ),
}
"""Control-plane and free calls: counted and shown, priced at 0."""
LEFT_OUT = {("lambda", "Invoke"): "counted as a Lambda request", ("sqs", "GetQueueUrl"): "the kit's look-up"}

DEFAULT_DURATION_MS = 100.0
MEASURED_DURATION = {
    "PowerTuning/Sample": "its simulated work (WORK_MS x sqrt(128 / memory)) is a real sleep in the kit",
    "PowerTuning/Tuner/Executor": "it waits for the sample's invocations, which the kit runs in real time",
}
"""Functions (``<stack>/<construct path>`` patterns) billed at the kit's measured duration, and why."""
ASSUMED_DURATION: dict[str, tuple[float, str]] = {
    "DefectDetection/Pipeline/Inspect": (
        200.0,
        "reads the image from S3 and waits for the endpoint (the README's defect-detection cost table assumes it)",
    ),
}
"""Functions assumed to run longer (or shorter) than the default, in ms, and why."""
EXPRESS_MEMORY_MB = 64
S3_BATCH_OBJECTS_PER_JOB = 1_000_000
"""The S3 Batch job fee is spread over a job of this many objects."""


# -- instrumentation ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiCall:
    service: str
    operation: str
    origin: str
    """``handler``, ``state machine``, ``S3 Batch job``, ``kit`` (a delivery) or ``entry`` (the run's input)."""
    units: int = 1
    """Billing units: the entries of a PutEvents call, else 1."""


@dataclass(frozen=True)
class HandlerRun:
    function: str
    memory_mb: int
    architecture: str
    duration_ms: float


@dataclass
class Window:
    calls: list[ApiCall] = field(default_factory=list)
    runs: list[HandlerRun] = field(default_factory=list)


class Meter:
    """Counts AWS API calls (at botocore) and handler runs (at the kit's ``LocalFunction.run``) inside a window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: Window | None = None
        self.code_dirs: tuple[str, ...] = ()
        self.names: dict[str, str] = {}
        self.architectures: dict[str, str] = {}

    def bind(self, kit: LocalKit) -> None:
        """Learn the running kit's handler folders, construct paths and architectures."""
        stack = kit.stack
        self.code_dirs = tuple(
            str(path.resolve()) for function in kit.resources.functions.values() for path in function.code_dirs
        )
        self.names = {lid: f"{stack.stack_name}/{path}" for lid, path in stack.paths.items()}
        self.architectures = {
            lid: str((resource.get("Properties", {}).get("Architectures") or ["x86_64"])[0])
            for lid, resource in stack.template.get("Resources", {}).items()
            if resource.get("Type") == "AWS::Lambda::Function"
        }

    @contextmanager
    def window(self) -> Iterator[Window]:
        window = Window()
        with self._lock:
            self._window = window
        try:
            yield window
        finally:
            with self._lock:
                self._window = None

    def _origin(self) -> str:
        frame = sys._getframe(2)
        kit_seen = False
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(self.code_dirs):
                return "handler"
            if "moto/stepfunctions" in filename:
                return "state machine"
            if filename.endswith("constructs_lib/testing/batch_jobs.py"):
                return "S3 Batch job"
            if filename.endswith("constructs_lib/testing/kit.py") and frame.f_code.co_name.startswith("_"):
                kit_seen = True
            frame = frame.f_back  # type: ignore[assignment]
        return "kit" if kit_seen else "entry"

    def record_call(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        with self._lock:
            window = self._window
        if window is None:
            return
        units = len(params.get("Entries", [])) if (service, operation) == ("events", "PutEvents") else 1
        call = ApiCall(service=service, operation=operation, origin=self._origin(), units=max(units, 1))
        with self._lock:
            window.calls.append(call)

    def record_run(self, function: LocalFunction, memory_mb: int | None, invocation: Invocation) -> None:
        with self._lock:
            window = self._window
            if window is None:
                return
            window.runs.append(
                HandlerRun(
                    function=self.names.get(function.logical_id, function.logical_id),
                    memory_mb=memory_mb or function.memory_mb,
                    architecture=self.architectures.get(function.logical_id, "x86_64"),
                    duration_ms=invocation.duration_ms,
                )
            )

    def install(self) -> Callable[[], None]:
        """Wrap botocore's ``BaseClient._make_api_call`` and ``LocalFunction.run``; returns the undo."""
        from botocore.client import BaseClient

        meter = self
        original_call = BaseClient._make_api_call
        original_run = LocalFunction.run

        def make_api_call(client: Any, operation_name: str, api_params: Mapping[str, Any]) -> Any:
            meter.record_call(client.meta.service_model.service_name, operation_name, api_params)
            return original_call(client, operation_name, api_params)

        def run(function: LocalFunction, event: Any, **kwargs: Any) -> Invocation:
            invocation = original_run(function, event, **kwargs)
            meter.record_run(function, kwargs.get("memory_mb"), invocation)
            return invocation

        BaseClient._make_api_call = make_api_call
        LocalFunction.run = run  # type: ignore[assignment,method-assign]

        def undo() -> None:
            BaseClient._make_api_call = original_call
            LocalFunction.run = original_run  # type: ignore[method-assign]

        return undo


# -- the example workflows and their paths -----------------------------------------------------------------------
class SlackWebhook:
    """A loopback HTTP server answering 200 ``ok`` as a Slack incoming webhook does; counts the posts."""

    def __init__(self) -> None:
        self.posts = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.posts += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/services/T0BENCH/B0BENCH/benchmark-webhook"

    def __enter__(self) -> SlackWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Context:
    webhook: SlackWebhook
    batch_objects: int


Drive = Callable[[LocalKit, Context], str | None]
"""Runs one path; returns a problem when the path did not go the way it is named, else None."""


@dataclass(frozen=True)
class PathSpec:
    workflow: str
    stack: str
    name: str
    drive: Drive
    warm_up: bool = True
    per_drive: Callable[[Context], int] = lambda context: 1
    """How many runs one drive is (the objects of an S3 Batch job)."""
    fixed: tuple[tuple[str, Callable[[Context], float]], ...] = ()
    """Priced items per run that no API call shows (S3 Batch Operations' own fees)."""
    count_entry: bool = True
    """Whether the request that brings the input in (a publish, an upload) is part of the run's cost."""
    pause: float = 0.0
    """Seconds to wait before each drive (the Slack reporter posts at most once a second per container)."""


def _last_execution(kit: LocalKit) -> ExecutionResult:
    return kit.executions()[-1]


def _expect(condition: bool, problem: str) -> str | None:
    return None if condition else problem


def destined_order(quantity: int, expected: str) -> Drive:
    def drive(kit: LocalKit, context: Context) -> str | None:
        kit.publish("OrdersTopic", {"orderId": "o-1", "sku": "sku-1", "quantity": quantity})
        outcome = kit.async_invocations("Worker/Function")[-1]
        status = outcome.record.get("responsePayload", {}).get("status") if outcome.succeeded else outcome.condition
        return _expect(status == expected, f"the worker's outcome was {status}, expected {expected}")

    return drive


def orchestrated(order: dict[str, Any], status: str, state: str) -> Drive:
    def drive(kit: LocalKit, context: Context) -> str | None:
        result = kit.start_execution("Orders/StateMachine", order)
        return _expect(
            result.status == status and state in result.states_entered,
            f"{result.status} through {result.states_entered}, expected {status} through {state}",
        )

    return drive


PNG = b"\x89PNG\r\n\x1a\n"


def defect(scores: list[float], decision: str) -> Drive:
    def drive(kit: LocalKit, context: Context) -> str | None:
        kit.put_object("Pipeline/Images", "incoming/line-1/board.png", PNG + json.dumps(scores).encode())
        result = _last_execution(kit)
        decided = result.output.get("decision") if isinstance(result.output, dict) else None
        return _expect(result.succeeded and decided == decision, f"{result.status}, decision {decided}")

    return drive


def tuning(kit: LocalKit, context: Context) -> str | None:
    request = {"lambdaARN": kit.arn("Sample"), "powerValues": [128, 256, 512, 1024], "num": 10, "strategy": "cost"}
    result = kit.start_execution("Tuner/StateMachine", request)
    return _expect(result.succeeded, f"the tuning ended {result.status}: {result.cause}")


def sentiment(kit: LocalKit, context: Context) -> str | None:
    for index in range(context.batch_objects):
        kit.put_object("Documents", f"reviews/review-{index}.txt", f"Great product, works as described ({index}).")
    report = kit.run_batch_job()
    succeeded = sum(1 for task in report.tasks if task.status == "succeeded")
    return _expect(
        report.status == "Complete" and succeeded == context.batch_objects,
        f"job {report.status}, {succeeded} of {context.batch_objects} tasks succeeded",
    )


def slack_validate(order: dict[str, Any], error: str | None) -> Drive:
    def drive(kit: LocalKit, context: Context) -> str | None:
        posts = context.webhook.posts
        invocation = kit.invoke("Validate", order)
        posted = context.webhook.posts - posts
        return _expect(
            invocation.error_type == error and posted == (1 if error else 0),
            f"Validate ended with {invocation.error_type}, {posted} Slack posts",
        )

    return drive


def slack_charge(kit: LocalKit, context: Context) -> str | None:
    posts = context.webhook.posts
    outcome = kit.invoke_async("Charge/Function", {"orderId": "o-2", "quantity": 1, "amount": 5000})
    notified = kit.async_invocations("SlackNotifier/Notifier/Function")
    posted = context.webhook.posts - posts
    return _expect(
        outcome.condition == "RetriesExhausted" and bool(notified) and notified[-1].succeeded and posted == 1,
        f"Charge ended {outcome.condition}; the notifier {'ran' if notified else 'did not run'}; {posted} posts",
    )


def slack_ship(order: dict[str, Any], status: str) -> Drive:
    def drive(kit: LocalKit, context: Context) -> str | None:
        posts = context.webhook.posts
        result = kit.start_execution("Shipping/StateMachine", order)
        posted = context.webhook.posts - posts
        return _expect(
            result.status == status and posted == (0 if result.succeeded else 1),
            f"the shipping execution ended {result.status}, {posted} Slack posts",
        )

    return drive


DESTINED = "DestinedLambda: order worker (Lambda Destinations)"
ORCHESTRATED = "OrchestratedLambda: orders (Step Functions Standard)"
DEFECTS = "DefectDetection: image inspection (Step Functions Standard)"
TUNING = "PowerTuning: one tuning, 4 memory sizes x 10 invocations (Standard)"
BATCH = "S3BatchSentiment: one object of an S3 Batch Operations job"
SLACK = "SlackErrorReporting"
SLACK_INTERVAL = 1.1
"""SLACK_REPORTER_MIN_INTERVAL_SECONDS of the example (1 s), and a little more: a post sooner is suppressed."""
PATHS: tuple[PathSpec, ...] = (
    PathSpec(
        DESTINED, "DestinedLambda", "accepted: SNS -> worker -> bus -> rule -> consumer", destined_order(2, "ACCEPTED")
    ),
    PathSpec(DESTINED, "DestinedLambda", "review: SNS -> worker -> bus (no rule match)", destined_order(500, "REVIEW")),
    PathSpec(DESTINED, "DestinedLambda", "invalid: 3 attempts -> failure queue", destined_order(0, "RetriesExhausted")),
    PathSpec(
        ORCHESTRATED,
        "OrchestratedLambda",
        "one item: Classify -> Choice -> HandleSingle",
        orchestrated({"orderId": "o-1", "items": ["sku-1"]}, "SUCCEEDED", "HandleSingle"),
    ),
    PathSpec(
        ORCHESTRATED,
        "OrchestratedLambda",
        "two items: Classify -> Choice -> Parallel(ReserveStock, Charge)",
        orchestrated({"orderId": "o-2", "items": ["sku-1", "sku-2"]}, "SUCCEEDED", "HandleSeveral"),
    ),
    PathSpec(
        ORCHESTRATED,
        "OrchestratedLambda",
        "pending: Classify retried 3 x -> failure queue, FAILED alert",
        orchestrated({"orderId": "o-3", "items": ["sku-1"], "pending": True}, "FAILED", "Classify"),
    ),
    PathSpec(DEFECTS, "DefectDetection", "defective: alert + quarantine tag", defect([0.03, 0.97], "DEFECTIVE")),
    PathSpec(DEFECTS, "DefectDetection", "defect-free: recorded only", defect([0.95, 0.05], "DEFECT_FREE")),
    PathSpec(DEFECTS, "DefectDetection", "not confident: review queue", defect([0.55, 0.45], "REVIEW")),
    PathSpec(TUNING, "PowerTuning", "cost strategy, sequential", tuning, warm_up=False),
    PathSpec(
        BATCH,
        "S3BatchSentiment",
        "DetectSentiment + tag, per object",
        sentiment,
        per_drive=lambda context: context.batch_objects,
        fixed=(("s3batch.object", lambda context: 1.0), ("s3batch.job", lambda context: 1 / S3_BATCH_OBJECTS_PER_JOB)),
        count_entry=False,  # the documents are in the bucket already: uploading them is not the job's cost
    ),
    PathSpec(
        f"{SLACK}: Validate (wrapped, sync invoke)",
        "SlackErrorReporting",
        "valid order",
        slack_validate({"orderId": "o-1", "quantity": 2}, None),
    ),
    PathSpec(
        f"{SLACK}: Validate (wrapped, sync invoke)",
        "SlackErrorReporting",
        "invalid order: error posted to Slack",
        slack_validate({"orderId": "", "quantity": 0}, "InvalidOrderError"),
        pause=SLACK_INTERVAL,
    ),
    PathSpec(
        f"{SLACK}: Charge (Lambda Destinations)",
        "SlackErrorReporting",
        "declined: 3 attempts -> notifier -> Slack",
        slack_charge,
        pause=SLACK_INTERVAL,
    ),
    PathSpec(
        f"{SLACK}: Shipping (Step Functions Standard)",
        "SlackErrorReporting",
        "shipped",
        slack_ship({"orderId": "o-3", "quantity": 1, "address": "Kiel"}, "SUCCEEDED"),
    ),
    PathSpec(
        f"{SLACK}: Shipping (Step Functions Standard)",
        "SlackErrorReporting",
        "no address: FAILED -> notifier -> Slack",
        slack_ship({"orderId": "o-4", "quantity": 1}, "FAILED"),
        pause=SLACK_INTERVAL,
    ),
)


def positive_sentiment(request: dict[str, Any]) -> dict[str, Any]:
    if not str(request.get("Text", "")).strip():
        raise ServiceError("TextSizeLimitExceededException", "empty text")
    return {
        "Sentiment": "POSITIVE",
        "SentimentScore": {"Positive": 0.97, "Negative": 0.01, "Neutral": 0.01, "Mixed": 0.01},
    }


def scores_endpoint(body: bytes, content_type: str) -> str:
    """The defect classifier's stand-in: answers the scores the image carries after its PNG signature."""
    return body[len(PNG) :].decode()


def kit_options(stack: str) -> dict[str, Any]:
    if stack == "DefectDetection":
        return {"endpoints": {"pcb-defect-classifier": scores_endpoint}}
    if stack == "S3BatchSentiment":
        return {"services": {"comprehend:DetectSentiment": positive_sentiment}}
    return {}


# -- counting and pricing ----------------------------------------------------------------------------------------
@dataclass
class PathCost:
    spec: PathSpec
    engine: str = ""
    transitions: float = 0.0
    history_events: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_seconds: float = 0.0
    lambda_by_function: dict[str, float] = field(default_factory=dict)
    requests: dict[str, float] = field(default_factory=dict)
    """Priced requests per run by price key."""
    operations: dict[str, float] = field(default_factory=dict)
    """Every API call per run: ``service:Operation (origin)``."""
    cost: dict[str, float] = field(default_factory=dict)
    """USD per run: states, lambda, other."""


Durations = Sequence[tuple[str, float | None]]
"""(``<stack>/<construct path>`` pattern, billed ms or None for the kit's measured time); the first match wins, the
last pattern is ``*`` (the default)."""


def billed_ms(run: HandlerRun, durations: Durations) -> float:
    """The billed duration of one handler run: assumed, or measured (rounded up to 1 ms, as Lambda bills)."""
    for pattern, value in durations:
        if fnmatch.fnmatchcase(run.function, pattern):
            return float(max(1, math.ceil(run.duration_ms))) if value is None else value
    raise BenchmarkError(f"no duration for {run.function}: the duration list must end with '*'")


def transitions_of(result: ExecutionResult) -> int:
    """States entered + task retries (each extra scheduling of a task)."""
    scheduled = sum(
        1
        for event in result.history
        if str(event.get("type", "")).endswith("Scheduled")
        and str(event.get("type", "")).startswith(("Task", "LambdaFunction"))
    )
    task_entries = sum(1 for event in result.history if event.get("type") == "TaskStateEntered")
    return len(result.states_entered) + max(0, scheduled - task_entries)


def price_path(
    spec: PathSpec,
    *,
    window: Window,
    executions: Sequence[ExecutionResult],
    express: set[str],
    runs: int,
    durations: Durations,
    prices: Mapping[str, float],
    fixed: Sequence[tuple[str, float]] = (),
) -> PathCost:
    """Count and price one measured run (``runs`` runs when one drive is several, as a job of several objects);
    ``fixed`` are priced items per run that no API call shows."""
    cost = PathCost(spec)
    states = lambda_ = other = 0.0
    engines = set()
    for result in executions:
        if result.state_machine in express:
            engines.add("Step Functions Express")
            seconds = sum(billed_ms(run, durations) for run in window.runs) / 1000
            states += (
                prices["states.express.request"]
                + seconds * EXPRESS_MEMORY_MB / 1024 * prices["states.express.gb_second"]
            )
        else:
            engines.add("Step Functions Standard")
            count = transitions_of(result)
            cost.transitions += count / runs
            states += count * prices["states.transition"]
        cost.history_events += len(result.history) / runs
    for run in window.runs:
        milliseconds = billed_ms(run, durations)
        gb_seconds = run.memory_mb / 1024 * milliseconds / 1000
        cost.lambda_requests += 1 / runs
        cost.lambda_gb_seconds += gb_seconds / runs
        cost.lambda_by_function[run.function] = cost.lambda_by_function.get(run.function, 0) + 1 / runs
        lambda_ += prices["lambda.request"] + gb_seconds * prices[f"lambda.gb_second.{run.architecture}"]
    for call in window.calls:
        key = (call.service, call.operation)
        name = f"{call.service}:{call.operation} ({call.origin})"
        cost.operations[name] = cost.operations.get(name, 0) + 1 / runs
        if key in LEFT_OUT or key in FREE_OPERATIONS or call.origin == "S3 Batch job":
            continue
        if call.origin == "entry" and not spec.count_entry:
            continue
        price_key = OPERATION_PRICES.get(key)
        if price_key is None:
            raise BenchmarkError(
                f"{spec.workflow} / {spec.name}: no price for {call.service}:{call.operation} ({call.origin}); "
                "add it to OPERATION_PRICES or FREE_OPERATIONS"
            )
        cost.requests[price_key] = cost.requests.get(price_key, 0) + call.units / runs
        other += call.units * prices[price_key]
    for price_key, amount in fixed:
        cost.requests[price_key] = cost.requests.get(price_key, 0) + amount
        other += amount * prices[price_key] * runs
    cost.cost = {"states": states / runs, "lambda": lambda_ / runs, "other": other / runs}
    cost.engine = ", ".join(sorted(engines))
    return cost


REQUEST_LABELS = {
    "sqs.request": "SQS",
    "sns.publish": "SNS publish",
    "events.custom_event": "EventBridge event",
    "dynamodb.write_unit": "DynamoDB WRU",
    "dynamodb.read_unit": "DynamoDB RRU",
    "s3.put_request": "S3 PUT",
    "s3.get_request": "S3 GET",
    "s3batch.object": "S3 Batch object",
    "comprehend.request": "Comprehend",
    "secretsmanager.request": "Secrets Manager",
    "sagemaker.invoke": "SageMaker invoke",
}


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def _requests_text(cost: PathCost) -> str:
    parts = [
        f"{REQUEST_LABELS.get(key, key)} {_number(value)}"
        for key, value in sorted(cost.requests.items())
        if value >= 0.01 and key != "s3batch.job"
    ]
    return ", ".join(parts) or "-"


def report(costs: Sequence[PathCost], durations: Durations, prices: Mapping[str, float]) -> dict[str, Any]:
    million = 1e6
    rows = []
    for cost in costs:
        total = sum(cost.cost.values())
        rows.append(
            [
                cost.spec.workflow,
                cost.spec.name,
                _number(cost.transitions) if cost.transitions else "-",
                _number(cost.lambda_requests),
                f"{cost.lambda_gb_seconds:.3f}",
                _requests_text(cost),
                f"{cost.cost['states'] * million:,.2f}",
                f"{cost.cost['lambda'] * million:,.2f}",
                f"{cost.cost['other'] * million:,.2f}",
                f"**{total * million:,.2f}**",
            ]
        )
    headers = [
        "workflow",
        "path",
        "transitions",
        "Lambda requests",
        "Lambda GB-s",
        "other requests per run",
        "Step Functions $",
        "Lambda $",
        "other $",
        "total $ per 1M runs",
    ]
    print("\nCost per million runs (USD, us-east-1 list prices; counts per run, from one measured run each):\n")
    print(markdown_table(headers, rows, right=(2, 3, 4, 6, 7, 8, 9)))

    print("\nWhat each path did (per run): handler runs, and every AWS API call with who made it:\n")
    for cost in costs:
        functions = ", ".join(f"{name} x{_number(count)}" for name, count in sorted(cost.lambda_by_function.items()))
        calls = ", ".join(f"{name} x{_number(count)}" for name, count in sorted(cost.operations.items()))
        events = f"; {_number(cost.history_events)} history events (logged at level ALL)" if cost.history_events else ""
        print(
            f"- {cost.spec.workflow} / {cost.spec.name}: {functions or 'no handler'}{events}; calls: {calls or 'none'}"
        )

    print("\nBilled duration per Lambda run (first match):")
    for pattern, value in durations:
        reason = MEASURED_DURATION.get(pattern) or ASSUMED_DURATION.get(pattern, (0, ""))[1]
        reason = reason or ("the default" if pattern == "*" else "given with --duration")
        print(f"- {pattern}: {'measured in the kit' if value is None else f'{value:g} ms (assumed)'}: {reason}")
    print("Prices (USD): " + ", ".join(f"{key} {value:.10g}" for key, value in sorted(prices.items())))
    return {
        "prices": dict(prices),
        "durations": [[pattern, value] for pattern, value in durations],
        "paths": [
            {
                "workflow": cost.spec.workflow,
                "path": cost.spec.name,
                "engine": cost.engine,
                "transitions": cost.transitions,
                "history_events": cost.history_events,
                "lambda_requests": cost.lambda_requests,
                "lambda_gb_seconds": cost.lambda_gb_seconds,
                "lambda_by_function": dict(cost.lambda_by_function),
                "requests": dict(cost.requests),
                "operations": dict(cost.operations),
                "usd_per_million_runs": {key: value * million for key, value in cost.cost.items()},
                "total_usd_per_million_runs": sum(cost.cost.values()) * million,
            }
            for cost in costs
        ],
    }


# -- running -----------------------------------------------------------------------------------------------------
def run_paths(
    assembly: Path,
    specs: Sequence[PathSpec],
    durations: Durations,
    prices: Mapping[str, float],
    context: Context,
) -> list[PathCost]:
    meter = Meter()
    undo = meter.install()
    costs: list[PathCost] = []
    try:
        for stack in dict.fromkeys(spec.stack for spec in specs):
            with LocalKit.from_cloud_assembly(assembly, stack, **kit_options(stack)) as kit:
                meter.bind(kit)
                express = {
                    lid
                    for lid, resource in kit.stack.template.get("Resources", {}).items()
                    if resource.get("Type") == "AWS::StepFunctions::StateMachine"
                    and resource.get("Properties", {}).get("StateMachineType") == "EXPRESS"
                }
                if stack == "SlackErrorReporting":
                    kit.client("secretsmanager").put_secret_value(
                        SecretId=kit.ref("SlackWebhookSecret"), SecretString=context.webhook.url
                    )
                for spec in (spec for spec in specs if spec.stack == stack):
                    print(f"  {stack}: {spec.name}", file=sys.stderr, flush=True)
                    if spec.warm_up:
                        time.sleep(spec.pause)
                        problem = spec.drive(kit, context)
                        if problem:
                            raise BenchmarkError(f"{spec.workflow} / {spec.name} (warm-up): {problem}")
                    before = {result.execution_arn for result in kit.executions()}
                    time.sleep(spec.pause)
                    with meter.window() as window:
                        problem = spec.drive(kit, context)
                    if problem:
                        raise BenchmarkError(f"{spec.workflow} / {spec.name}: {problem}")
                    executions = [result for result in kit.executions() if result.execution_arn not in before]
                    runs = spec.per_drive(context)
                    costs.append(
                        price_path(
                            spec,
                            window=window,
                            executions=executions,
                            express=express,
                            runs=runs,
                            durations=durations,
                            prices=prices,
                            fixed=[(key, quantity(context)) for key, quantity in spec.fixed],
                        )
                    )
    finally:
        undo()
    return costs


def parse_durations(values: Sequence[str]) -> list[tuple[str, float | None]]:
    """``--duration 100`` (the default for every function) and ``--duration PATTERN=MS|measured`` (given ones
    first, then ``MEASURED_DURATION``, ``ASSUMED_DURATION``, then the default as ``*``)."""
    default = DEFAULT_DURATION_MS
    given: dict[str, float | None] = {}
    for value in values:
        pattern, separator, amount = value.rpartition("=")
        try:
            parsed = None if amount == "measured" else float(amount)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--duration takes MS or PATTERN=MS|measured, got {value!r}") from None
        if parsed is not None and parsed <= 0:
            raise argparse.ArgumentTypeError(f"--duration must be positive, got {value!r}")
        if not separator:
            if parsed is None:
                raise argparse.ArgumentTypeError("--duration measured needs a PATTERN=")
            default = parsed
        else:
            given[pattern] = parsed
    durations = {
        **given,
        **{pattern: None for pattern in MEASURED_DURATION if pattern not in given},
        **{pattern: value for pattern, (value, _) in ASSUMED_DURATION.items() if pattern not in given},
    }
    return [*durations.items(), ("*", default)]


def parse_prices(values: Sequence[str]) -> dict[str, float]:
    prices = dict(PRICES)
    for value in values:
        key, separator, amount = value.partition("=")
        if not separator or key not in PRICES:
            raise argparse.ArgumentTypeError(f"--price takes KEY=USD with KEY one of {', '.join(sorted(PRICES))}")
        try:
            prices[key] = float(amount)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--price {key}: {amount!r} is not a number") from None
    return prices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cloud-assembly", type=Path, default=None, help="a cdk.out/ to read (default: synth one)")
    parser.add_argument(
        "--duration",
        action="append",
        default=[],
        metavar="[PATTERN=]MS|measured",
        help=f"assumed billed ms per Lambda run (default {DEFAULT_DURATION_MS:g}), or per function pattern",
    )
    parser.add_argument("--price", action="append", default=[], metavar="KEY=USD", help="override a price")
    parser.add_argument("--batch-objects", type=int, default=10, help="objects in the S3 Batch job (default 10)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        durations = parse_durations(args.duration)
        prices = parse_prices(args.price)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if args.batch_objects < 1:
        parser.error("--batch-objects must be at least 1")
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    # Handlers run from the cloud assembly's asset folders: byte code written there would ship with the next deploy.
    sys.dont_write_bytecode = True
    try:
        with cloud_assembly(args.cloud_assembly) as assembly, SlackWebhook() as webhook:
            context = Context(webhook=webhook, batch_objects=args.batch_objects)
            costs = run_paths(assembly, PATHS, durations, prices, context)
            figures = report(costs, durations, prices)
    except BenchmarkError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return EXIT_FAILED
    write_json(args.json, figures)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
