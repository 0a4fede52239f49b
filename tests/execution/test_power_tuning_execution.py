"""PowerTuning runs: the example stack's tuner tunes its sample on the local kit (moto's Step Functions interpreter,
the real handlers in process), over 3 memory sizes whose simulated duration depends on memory; and on x86_64 and
arm64 in one run, with the kit's speed model per architecture."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from constructs_lib.testing import LocalKit
from constructs_lib.workloads.power_tuning.power_tuning import PowerTuning, reference_transitions, transitions
from stacks.power_tuning_stack import PowerTuningStack

pytestmark = pytest.mark.execution

VALUES = [128, 256, 512]
ENV = cdk.Environment(account="123456789012", region="us-east-1")
TUNER = "Tuner/StateMachine"
SUCCESS_STATES = ["Initialize", "SetupComplete", "Tune", "Execute", "Execute", "Execute", "Finalize"]


def tuning_input(kit: LocalKit, function: str, **extra: Any) -> dict[str, Any]:
    return {"lambdaARN": kit.arn(function), "powerValues": VALUES, "num": 5, "payload": {"n": 1}, **extra}


def versions_and_aliases(kit: LocalKit, function: str) -> tuple[list[str], list[str]]:
    client = kit.client("lambda")
    name = kit.ref(function)
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
    aliases = [a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]]
    return versions, aliases


@pytest.fixture(scope="module")
def sample_stack(tmp_path_factory: pytest.TempPathFactory) -> cdk.Stack:
    from tests.conftest import plain_app_at

    app = plain_app_at(tmp_path_factory.mktemp("cdk.out"))
    # 100 ms of simulated work at 128 MB: 100, 71 and 50 ms at 128, 256 and 512 MB.
    return PowerTuningStack(app, "PowerTuning", work_ms=100, env=ENV)


@pytest.fixture
def kit(sample_stack: cdk.Stack) -> Iterator[LocalKit]:
    with LocalKit.from_stack(sample_stack) as running:
        yield running


def test_cost_strategy_picks_the_cheapest_and_cleans_up(kit: LocalKit) -> None:
    run = kit.start_execution(TUNER, tuning_input(kit, "Sample", strategy="cost"))
    versions, aliases = versions_and_aliases(kit, "Sample")
    invocations = [i for i in kit.invocations("Sample") if i.source == "invoke"]
    configuration = kit.client("lambda").get_function_configuration(FunctionName=kit.ref("Sample"))

    assert run.status == "SUCCEEDED", run.cause
    output = run.output
    assert output["power"] == 128
    assert [s["value"] for s in output["stats"]] == VALUES
    assert [s["invocations"] for s in output["stats"]] == [5, 5, 5]
    durations = [s["averageDuration"] for s in output["stats"]]
    assert durations[0] > durations[1] > durations[2]
    assert durations[0] == pytest.approx(100, abs=15)
    assert durations[2] == pytest.approx(50, abs=15)
    assert output["cost"] == output["stats"][0]["averageCost"]
    # Versions and aliases were made (each version ran with its own memory)...
    assert sorted({i.version for i in invocations}) == ["1", "2", "3"]
    assert output["cleanedUp"] == {"aliases": 3, "versions": 3}
    # ... then removed; $LATEST has its memory and description back.
    assert versions == ["$LATEST"]
    assert aliases == []
    assert configuration["MemorySize"] == 128
    assert not configuration.get("Description", "").startswith("power-tuning")
    # State transitions: 4 + P, against the reference's 7 + 3 x P.
    assert run.states_entered == SUCCESS_STATES
    assert len(run.states_entered) == transitions(3) == output["stateMachine"]["transitions"] == 7
    assert output["stateMachine"]["referenceTransitions"] == reference_transitions(3) == 16
    assert output["stateMachine"]["executionCost"] == pytest.approx(7 * 0.000025)


def test_speed_strategy_in_parallel_with_auto_optimize(kit: LocalKit) -> None:
    # Run in parallel, a power's invocations sleep and wake together, so one pause of the test process (a full
    # garbage collection) lengthens all of them: 1024 MB (35 ms) is 36 ms ahead of 256 MB (71 ms), 512 MB only 21 ms.
    values = {"powerValues": [128, 256, 1024]}
    run = kit.start_execution(
        TUNER, tuning_input(kit, "Sample", strategy="speed", parallelInvocation=True, autoOptimize=True, **values)
    )
    configuration = kit.client("lambda").get_function_configuration(FunctionName=kit.ref("Sample"))
    versions, aliases = versions_and_aliases(kit, "Sample")

    assert run.status == "SUCCEEDED", run.cause
    assert run.output["power"] == 1024
    assert run.output["optimized"] == {"target": "$LATEST", "memorySize": 1024}
    assert configuration["MemorySize"] == 1024
    assert (versions, aliases) == (["$LATEST"], [])


def test_auto_optimize_alias_points_a_new_version_and_keeps_latest(kit: LocalKit) -> None:
    run = kit.start_execution(
        TUNER, tuning_input(kit, "Sample", strategy="speed", autoOptimize=True, autoOptimizeAlias="live")
    )
    client = kit.client("lambda")
    alias = client.get_alias(FunctionName=kit.ref("Sample"), Name="live")
    version = client.get_function_configuration(FunctionName=kit.ref("Sample"), Qualifier="live")
    latest = client.get_function_configuration(FunctionName=kit.ref("Sample"))
    _, aliases = versions_and_aliases(kit, "Sample")

    assert run.status == "SUCCEEDED", run.cause
    assert run.output["optimized"]["target"] == "live"
    assert alias["FunctionVersion"] == run.output["optimized"]["version"]
    assert version["MemorySize"] == 512
    assert latest["MemorySize"] == 128
    assert aliases == ["live"]


def test_only_cold_starts_uses_one_alias_per_invocation(kit: LocalKit) -> None:
    run = kit.start_execution(TUNER, tuning_input(kit, "Sample", onlyColdStarts=True, num=5))
    versions, aliases = versions_and_aliases(kit, "Sample")
    ran = {i.version for i in kit.invocations("Sample") if i.source == "invoke"}

    assert run.status == "SUCCEEDED", run.cause
    assert len(ran) == 15  # 3 values x 5 invocations, each on its own version
    assert run.output["cleanedUp"] == {"aliases": 15, "versions": 15}
    assert (versions, aliases) == (["$LATEST"], [])
    # The state machine's shape does not change: still 4 + P transitions (the reference: 7 + P + 2 x P x N = 40).
    assert len(run.states_entered) == 7
    assert run.output["stateMachine"]["referenceTransitions"] == reference_transitions(3, only_cold_starts=True, num=5)


def test_invalid_input_fails_with_the_problems(kit: LocalKit) -> None:
    run = kit.start_execution(TUNER, {"lambdaARN": kit.arn("Sample"), "num": 2, "powerValues": [64]})

    assert run.status == "FAILED"
    assert run.error == "InvalidInputError"
    assert "num (invocations per memory size) must be a whole number of at least 5" in str(run.cause)
    assert "memory sizes must be whole MB from 128 to 10240, got [64]" in str(run.cause)
    assert run.states_entered == ["Initialize", "CleanUpOnError", "Failed"]


def test_a_function_the_tuner_may_not_tune_is_refused(kit: LocalKit) -> None:
    other = "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"
    run = kit.start_execution(TUNER, {"lambdaARN": other, "num": 5})

    assert run.status == "FAILED"
    assert "is not a function this tuner may tune" in str(run.cause)


# -- a target that always fails -----------------------------------------------------------------------------
FAILING = "def handler(event, context):\n    raise RuntimeError('the target is broken')\n"


@pytest.fixture(scope="module")
def failing_stack(tmp_path_factory: pytest.TempPathFactory) -> cdk.Stack:
    from tests.conftest import plain_app_at

    app = plain_app_at(tmp_path_factory.mktemp("cdk.out"))
    stack = cdk.Stack(app, "FailingTarget", env=ENV)
    target = lambda_.Function(
        stack,
        "Broken",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(FAILING),
        memory_size=1024,
        timeout=Duration.seconds(5),
    )
    PowerTuning(stack, "Tuner", allowed_functions=[target])
    return stack


def test_a_failing_target_ends_failed_after_clean_up(failing_stack: cdk.Stack) -> None:
    with LocalKit.from_stack(failing_stack) as kit:
        run = kit.start_execution(TUNER, tuning_input(kit, "Broken"))
        versions, aliases = versions_and_aliases(kit, "Broken")
        configuration = kit.client("lambda").get_function_configuration(FunctionName=kit.ref("Broken"))

    assert run.status == "FAILED"
    assert run.error == "InvocationError"
    assert "the target is broken" in str(run.cause)
    assert run.states_entered[-2:] == ["CleanUpOnError", "Failed"]
    assert "Finalize" not in run.states_entered
    assert (versions, aliases) == (["$LATEST"], [])
    assert configuration["MemorySize"] == 1024


# -- x86_64 and arm64 in one run ------------------------------------------------------------------------------
# The kit keeps a function's Architectures as Lambda does (UpdateFunctionCode changes it, a published version keeps
# its own: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html,
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html) and serves GetFunction's Code.Location
# on loopback over HTTPS (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html), so the
# tuner's own switch (GetFunction, download, UpdateFunctionCode with Architectures) runs unchanged. arm64 taking
# half the time is the kit's speed model (duration_factors), not a claim about AWS.
ARM_FACTOR = 0.5
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def architectures_stack(tmp_path_factory: pytest.TempPathFactory) -> cdk.Stack:
    from tests.conftest import plain_app_at

    app = plain_app_at(tmp_path_factory.mktemp("cdk.out"))
    return PowerTuningStack(app, "PowerTuning", work_ms=100, allow_architecture_changes=True, env=ENV)


def test_two_architectures_in_one_run_in_the_kit(architectures_stack: cdk.Stack, tmp_path: Path) -> None:
    from constructs_lib.workloads.power_tuning.chart import main as chart

    with LocalKit.from_stack(architectures_stack, duration_factors={"arm64": ARM_FACTOR}) as kit:
        client = kit.client("lambda")
        name = kit.ref("Sample")
        # The user's own version and alias, made before the run: the clean-up must leave them.
        own = client.publish_version(FunctionName=name, Description="release 1")["Version"]
        client.create_alias(FunctionName=name, Name="live", FunctionVersion=own)
        before = client.get_function_configuration(FunctionName=name)
        run = kit.start_execution(
            TUNER, tuning_input(kit, "Sample", strategy="cost", architectures=["x86_64", "arm64"])
        )
        after = client.get_function_configuration(FunctionName=name)
        own_after = client.get_function_configuration(FunctionName=name, Qualifier=own)
        live = client.get_alias(FunctionName=name, Name="live")
        versions, aliases = versions_and_aliases(kit, "Sample")
        ran = [i for i in kit.invocations("Sample") if i.source == "invoke"]
        downloads = kit.code_downloads

    assert run.status == "SUCCEEDED", run.cause
    output = run.output
    stats = {(s["architecture"], s["value"]): s for s in output["stats"]}
    # One result per memory value and architecture, each from its own versions.
    assert sorted(stats) == sorted((a, v) for a in ("x86_64", "arm64") for v in VALUES)
    assert all(s["invocations"] == 5 for s in stats.values())
    assert {i.architecture for i in ran} == {"x86_64", "arm64"}
    by_version = {i.version: i.architecture for i in ran}
    assert sorted(by_version.values()) == ["arm64"] * 3 + ["x86_64"] * 3  # 3 values x 2 architectures
    assert all(i.duration_factor == (ARM_FACTOR if i.architecture == "arm64" else 1.0) for i in ran)
    # The speed model shows in the tuner's numbers: each value is faster on arm64.
    for value in VALUES:
        assert stats["arm64", value]["averageDuration"] < stats["x86_64", value]["averageDuration"]
    # The cheapest overall: arm64 (cheaper per GB-second, and faster here) at 128 MB.
    cheapest = min(stats.values(), key=lambda s: s["averageCost"])
    assert (output["architecture"], output["power"]) == ("arm64", 128) == (cheapest["architecture"], cheapest["value"])
    assert output["cost"] == cheapest["averageCost"]
    assert set(output["byArchitecture"]) == {"x86_64", "arm64"}
    assert output["byArchitecture"]["x86_64"]["power"] == 128
    # The tuner downloaded the function's code once, for real, from the presigned location.
    assert [(d.status, name in d.path) for d in downloads] == [(200, True)]
    # $LATEST is given back: architecture, memory, description, and the same code.
    assert after["Architectures"] == before["Architectures"] == ["x86_64"]
    assert (after["MemorySize"], after["Description"]) == (before["MemorySize"], before["Description"])
    assert after["CodeSha256"] == before["CodeSha256"]
    # Only this run's versions and aliases are gone; the user's stay as they were.
    assert output["cleanedUp"] == {"aliases": 6, "versions": 6}
    assert (versions, aliases) == (["$LATEST", own], ["live"])
    assert live["FunctionVersion"] == own
    assert (own_after["Architectures"], own_after["MemorySize"]) == (["x86_64"], 128)

    # The chart of this run, drawn by the chart command from the kit's output.
    (tmp_path / "tuning.json").write_text(json.dumps(output))
    assert chart([str(tmp_path / "tuning.json"), "--out", str(tmp_path / "chart")]) == 0
    root = ET.parse(tmp_path / "chart.svg").getroot()
    lines = [e.get("data-series") for e in root.iter(f"{SVG}polyline") if e.get("class") == "duration"]
    memories = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "memory"]
    title = next(e.text for e in root.iter(f"{SVG}text") if e.get("font-size") == "15")

    assert lines == ["arm64", "x86_64"]
    assert memories == [str(v) for v in VALUES]
    assert title == "Duration and cost by memory: best arm64 128 MB, x86_64 128 MB"


# -- an arm64 function, made x86_64 by autoOptimize -----------------------------------------------------------
SLEEPER = """
import math, os, time

def handler(event, context):
    memory = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    time.sleep(0.1 * math.sqrt(128 / memory))
    return {"memory": memory}
"""


@pytest.fixture(scope="module")
def arm_stack(tmp_path_factory: pytest.TempPathFactory) -> cdk.Stack:
    from tests.conftest import plain_app_at

    app = plain_app_at(tmp_path_factory.mktemp("cdk.out"))
    stack = cdk.Stack(app, "ArmTarget", env=ENV)
    target = lambda_.Function(
        stack,
        "Graviton",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(SLEEPER),
        architecture=lambda_.Architecture.ARM_64,
        memory_size=256,
        timeout=Duration.seconds(10),
    )
    PowerTuning(stack, "Tuner", allowed_functions=[target], allow_architecture_changes=True)
    return stack


def test_auto_optimize_switches_an_arm64_function_to_the_cheaper_x86_64(arm_stack: cdk.Stack) -> None:
    # The kit's speed model makes x86_64 take 30% of the measured time here: cheaper than arm64 despite its price.
    with LocalKit.from_stack(arm_stack, duration_factors={"x86_64": 0.3}) as kit:
        client = kit.client("lambda")
        before = client.get_function_configuration(FunctionName=kit.ref("Graviton"))
        run = kit.start_execution(
            TUNER,
            tuning_input(kit, "Graviton", strategy="cost", architectures=["arm64", "x86_64"], autoOptimize=True),
        )
        after = client.get_function_configuration(FunctionName=kit.ref("Graviton"))
        versions, aliases = versions_and_aliases(kit, "Graviton")
        downloads = kit.code_downloads

    assert run.status == "SUCCEEDED", run.cause
    assert before["Architectures"] == ["arm64"]
    assert (run.output["architecture"], run.output["power"]) == ("x86_64", 128)
    assert run.output["optimized"] == {"target": "$LATEST", "memorySize": 128, "architecture": "x86_64"}
    # The Finalizer switched $LATEST with the function's own code: downloaded again, put back unchanged.
    assert (after["Architectures"], after["MemorySize"]) == (["x86_64"], 128)
    assert after["CodeSha256"] == before["CodeSha256"]
    assert [d.status for d in downloads] == [200, 200]  # the Initializer's, then the Finalizer's
    assert (versions, aliases) == (["$LATEST"], [])
