"""The benchmark scripts' own arithmetic: how they parse, count and price (no synth, no timing, no kit run)."""

from __future__ import annotations

import collections
import zipfile
from pathlib import Path
from typing import Any

import pytest

from benchmarks import suite_time
from benchmarks.asset_size import zip_size
from benchmarks.handler_cold_start import MARKER, parse_importtime
from benchmarks.workflow_cost import (
    PRICES,
    ApiCall,
    HandlerRun,
    PathSpec,
    Window,
    parse_durations,
    price_path,
    transitions_of,
)
from constructs_lib.testing.results import ExecutionResult

IMPORTTIME = f"""\
import time: self [us] | cumulative | imported package
import time:       300 |        300 |     botocore.utils
import time:      1000 |     200000 | boto3
{MARKER}
import time:       400 |        400 |     tuning.prices
import time:      2000 |       2400 |   tuning
import time:      1500 |       3900 | handlers
import time:       250 |        250 | orders
"""


def test_importtime_counts_only_top_level_imports_after_the_marker() -> None:
    times = parse_importtime(IMPORTTIME)

    assert times.before_us == 200_000
    assert times.after_us == 3900 + 250  # handlers (its nested tuning included once) and orders
    assert times.self_after_us == {"tuning.prices": 400, "tuning": 2000, "handlers": 1500, "orders": 250}


def test_importtime_without_the_marker_is_an_error() -> None:
    from benchmarks._common import BenchmarkError

    with pytest.raises(BenchmarkError, match="marker is missing"):
        parse_importtime("import time:      1000 |     200000 | boto3\n")


def test_zip_size_flags_byte_code_and_counts_files(tmp_path: Path) -> None:
    source = "def handler(event, context):\n    return event\n" * 50
    (tmp_path / "app.py").write_text(source)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0" * 100)

    files, raw, zipped, byte_code = zip_size(tmp_path)

    assert (files, raw, byte_code) == (2, len(source) + 100, True)
    assert zipped < raw  # deflated, headers included
    archive = tmp_path.parent / "given.zip"
    with zipfile.ZipFile(archive, "w") as given:
        given.writestr("app.py", "x")
    assert zip_size(archive) == (1, archive.stat().st_size, archive.stat().st_size, False)


def _entered(name: str, kind: str) -> dict[str, Any]:
    return {"type": f"{kind}StateEntered", "stateEnteredEventDetails": {"name": name}}


def test_transitions_are_states_entered_plus_task_retries() -> None:
    history = (
        {"type": "ExecutionStarted"},
        _entered("Classify", "Task"),
        *({"type": "TaskScheduled"} for _ in range(4)),  # 1 attempt + 3 retries
        _entered("RecordFailure", "Task"),
        {"type": "TaskScheduled"},
        _entered("Failed", "Fail"),
        {"type": "ExecutionFailed"},
    )
    result = ExecutionResult("SM", "arn", "FAILED", {}, None, "E", "C", history)

    assert transitions_of(result) == 3 + 3


def test_a_run_is_priced_per_request_and_gb_second_and_leaves_out_what_is_counted_elsewhere() -> None:
    window = Window(
        calls=[
            ApiCall("sns", "Publish", "entry"),
            ApiCall("events", "PutEvents", "kit", units=2),
            ApiCall("sqs", "GetQueueUrl", "kit"),  # the kit's look-up: left out
            ApiCall("lambda", "Invoke", "state machine"),  # counted as a handler run
            ApiCall("stepfunctions", "StartExecution", "kit"),  # free
            ApiCall("s3", "PutObject", "S3 Batch job"),  # per job, not per object
        ],
        runs=[
            HandlerRun("App/Worker", memory_mb=128, architecture="x86_64", duration_ms=3.2),
            HandlerRun("App/Tuner", memory_mb=1024, architecture="arm64", duration_ms=250.2),
        ],
    )
    spec = PathSpec("workflow", "App", "path", lambda kit, context: None)

    cost = price_path(
        spec,
        window=window,
        executions=[],
        express=set(),
        runs=1,
        durations=[("App/Tuner", None), ("*", 100.0)],
        prices=PRICES,
    )

    worker_gb_s, tuner_gb_s = 0.125 * 0.1, 1.0 * 0.251  # assumed 100 ms; measured 250.2 ms billed as 251 ms
    assert cost.lambda_requests == 2
    assert cost.lambda_gb_seconds == pytest.approx(worker_gb_s + tuner_gb_s)
    assert cost.cost["lambda"] == pytest.approx(
        2 * 0.2e-6 + worker_gb_s * PRICES["lambda.gb_second.x86_64"] + tuner_gb_s * PRICES["lambda.gb_second.arm64"]
    )
    assert cost.requests == {"sns.publish": 1, "events.custom_event": 2}
    assert cost.cost["other"] == pytest.approx(0.5e-6 + 2 * 1e-6)
    assert cost.cost["states"] == 0


def test_a_call_without_a_price_stops_the_benchmark() -> None:
    from benchmarks._common import BenchmarkError

    window = Window(calls=[ApiCall("kinesis", "PutRecord", "handler")])
    spec = PathSpec("workflow", "App", "path", lambda kit, context: None)
    with pytest.raises(BenchmarkError, match="no price for kinesis:PutRecord"):
        price_path(spec, window=window, executions=[], express=set(), runs=1, durations=[("*", 1.0)], prices=PRICES)


def test_durations_given_first_then_the_measured_ones_then_the_default() -> None:
    durations = parse_durations(["250", "PowerTuning/Tuner/*=40"])

    assert durations[0] == ("PowerTuning/Tuner/*", 40.0)
    assert ("PowerTuning/Sample", None) in durations
    assert ("DefectDetection/Pipeline/Inspect", 200.0) in durations
    assert durations[-1] == ("*", 250.0)
    assert parse_durations(["DefectDetection/Pipeline/Inspect=measured"])[0] == (
        "DefectDetection/Pipeline/Inspect",
        None,
    )


def test_jsonata_ratio_is_of_the_medians_and_a_wrong_output_stops_the_benchmark() -> None:
    from benchmarks._common import BenchmarkError
    from benchmarks.kit_jsonata import check, ratio

    assert ratio([1.0, 9.0, 2.0], [1.0, 2.0, 3.0]) == 1.0
    check("SUCCEEDED", {"size": "big", "checks": ["ok", "ok"], "reservations": [{"reserved": s} for s in "ABC"]}, None)
    with pytest.raises(BenchmarkError, match="ended FAILED"):
        check("FAILED", None, "boom")
    with pytest.raises(BenchmarkError, match="unexpected output"):
        check("SUCCEEDED", {"size": "small", "checks": ["ok", "ok"], "reservations": []}, None)


def test_a_subprocess_inside_a_jsii_call_counts_as_a_subprocess_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """suite_time's accounting, on a fake clock: a jsii call from 0 to 10 s that waits for pip from 1 to 3 s is 8 s
    of jsii and 2 s of pip; a nested call of the same kind is not counted twice."""
    times = iter([0.0, 1.0, 3.0, 10.0])  # the outermost call of each kind reads the clock, at its start and end

    def clock() -> float:
        return next(times)

    monkeypatch.setattr(suite_time, "_seconds", collections.defaultdict(float))
    monkeypatch.setattr(suite_time, "_current", ["tests/unit/test_x.py"])

    class Pip:
        args = ["/venv/bin/pip", "install"]

    wait = suite_time._timed("subprocess", lambda popen: None, clock)
    communicate = suite_time._timed("subprocess", wait, clock)  # Popen.communicate calls Popen.wait
    send = suite_time._timed("jsii", lambda: communicate(Pip()), clock)
    send()
    assert dict(suite_time._seconds) == {
        ("subprocess:pip", "tests/unit/test_x.py"): 2.0,
        ("jsii", "tests/unit/test_x.py"): 8.0,
    }
