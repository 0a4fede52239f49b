"""PowerTuning runs: the example stack's tuner tunes its sample on the local kit (moto's Step Functions interpreter,
the real handlers in process), over 3 memory sizes whose simulated duration depends on memory."""

from __future__ import annotations

from collections.abc import Iterator
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
    from tests.conftest import cdk_context

    app = cdk.App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("cdk.out")), analytics_reporting=False)
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
    run = kit.start_execution(
        TUNER, tuning_input(kit, "Sample", strategy="speed", parallelInvocation=True, autoOptimize=True)
    )
    configuration = kit.client("lambda").get_function_configuration(FunctionName=kit.ref("Sample"))
    versions, aliases = versions_and_aliases(kit, "Sample")

    assert run.status == "SUCCEEDED", run.cause
    assert run.output["power"] == 512
    assert run.output["optimized"] == {"target": "$LATEST", "memorySize": 512}
    assert configuration["MemorySize"] == 512
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
    from tests.conftest import cdk_context

    app = cdk.App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("cdk.out")), analytics_reporting=False)
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
