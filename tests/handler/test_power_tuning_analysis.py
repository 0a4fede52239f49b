"""Power tuning's pure logic on known numbers: the REPORT line, trimming, cost, the choice of the best value, and
the input's validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.workloads.power_tuning.runtime import tuning
from constructs_lib.workloads.power_tuning.runtime.tuning import InvalidInputError, LogReportError, Report

ARN = "arn:aws:lambda:us-east-1:123456789012:function:sample"
PRICES = tuning.Prices(
    gb_second={"x86_64": 0.0000166667, "arm64": 0.0000133334}, request=0.0000002, state_transition=0.000025
)


def stat(value: int, cost: float, duration: float) -> dict[str, Any]:
    return {"value": value, "averageCost": cost, "averageDuration": duration, "totalCost": cost * 5}


# -- REPORT parsing ------------------------------------------------------------------------------------------
TEXT_TAIL = (
    "START RequestId: 6f0c Version: 7\n"
    "some output\n"
    "END RequestId: 6f0c\n"
    "REPORT RequestId: 6f0c\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\t"
    "Max Memory Used: 60 MB\tInit Duration: 150.25 ms\tRestore Duration: 80.50 ms\t\n"
)


def test_parses_the_text_report_line() -> None:
    report = tuning.parse_report(TEXT_TAIL)

    assert report == Report(
        duration_ms=12.34,
        billed_duration_ms=13,
        init_duration_ms=150.25,
        restore_duration_ms=80.5,
        memory_size_mb=512,
        version="7",
    )


def test_a_warm_text_report_has_no_init_duration() -> None:
    tail = "REPORT RequestId: x\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB"

    report = tuning.parse_report(tail)

    assert (report.duration_ms, report.billed_duration_ms, report.init_duration_ms) == (2.0, 2.0, None)


def test_parses_the_json_log_format() -> None:
    lines = [
        {"time": "2024-01-01T00:00:00Z", "type": "platform.start", "record": {"requestId": "r", "version": "3"}},
        {"level": "INFO", "message": "hello"},
        {
            "time": "2024-01-01T00:00:01Z",
            "type": "platform.report",
            "record": {
                "requestId": "r",
                "metrics": {
                    "durationMs": 21.5,
                    "billedDurationMs": 22,
                    "memorySizeMB": 1024,
                    "maxMemoryUsedMB": 70,
                    "initDurationMs": 301.2,
                    "restoreDurationMs": 55.0,
                },
                "status": "success",
            },
        },
    ]
    tail = "\n".join(json.dumps(line) for line in lines) + "\n"

    report = tuning.parse_report(tail)

    assert report.duration_ms == 21.5
    assert report.billed_duration_ms == 22
    assert report.init_duration_ms == 301.2
    assert report.restore_duration_ms == 55.0
    assert report.memory_size_mb == 1024


def test_a_truncated_json_line_before_the_report_is_skipped() -> None:
    record = {"type": "platform.report", "record": {"metrics": {"durationMs": 5, "billedDurationMs": 5}}}
    tail = '{"level": "INFO", "mess\n' + json.dumps(record)

    assert tuning.parse_report(tail).billed_duration_ms == 5


@pytest.mark.parametrize(
    "tail",
    ["", "START RequestId: x Version: $LATEST\nEND RequestId: x\n", '{"type": "platform.start", "record": {}}'],
)
def test_a_tail_without_a_report_raises(tail: str) -> None:
    with pytest.raises(LogReportError, match="no REPORT line"):
        tuning.parse_report(tail)


def test_the_kit_report_line_parses() -> None:
    """The local kit's REPORT line (what the execution tests read) is the runtime's text format."""
    from constructs_lib.testing._engine.lambda_runtime import Invocation

    tail = Invocation(function="F", request_id="r", event={}, duration_ms=41.2, version="4").log_tail(256)

    report = tuning.parse_report(tail)

    assert (report.duration_ms, report.billed_duration_ms, report.memory_size_mb, report.version) == (
        41.2,
        42,
        256,
        "4",
    )


# -- statistics ----------------------------------------------------------------------------------------------
def test_trimming_discards_the_top_and_bottom_fraction() -> None:
    durations = [100.0, 1.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 1000.0]

    assert tuning.trimmed(durations, 0.2) == [11.0, 12.0, 13.0, 14.0, 15.0, 16.0]
    assert tuning.trimmed_mean(durations, 0.2) == pytest.approx(13.5)
    assert tuning.trimmed_mean(durations, 0.0) == pytest.approx(sum(durations) / 10)
    # int(5 * 0.1) = 0: nothing to discard with so few values (as the reference).
    assert tuning.trimmed([5.0, 1.0, 3.0, 2.0, 4.0], 0.1) == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_value_stats_cost_is_billed_duration_times_gb_times_price_plus_the_request_price() -> None:
    reports = [Report(duration_ms=d, billed_duration_ms=b) for d, b in [(99.2, 100), (199.5, 200), (100.4, 101)] * 2]
    reports += [Report(duration_ms=5000.0, billed_duration_ms=5000, init_duration_ms=300.0)]  # an outlier

    stats = tuning.value_stats(512, reports, discard=0.2, architecture="arm64", prices=PRICES)

    # 7 reports, int(7 * 0.2) = 1 discarded each side: billed 100, 101, 101, 200, 200.
    assert stats.averageBilledDuration == pytest.approx(140.4)
    assert stats.averageCost == pytest.approx(0.1404 * 0.5 * 0.0000133334 + 0.0000002)
    expected_total = sum(b / 1000 * 0.5 * 0.0000133334 + 0.0000002 for b in [100, 200, 101, 100, 200, 101, 5000])
    assert stats.totalCost == pytest.approx(expected_total)
    assert stats.invocations == 7
    # What the caller waited: the cold start's Init Duration counts (5000 + 300).
    assert (stats.minDuration, stats.maxDuration) == (99.2, 5300.0)
    assert (stats.coldStarts, stats.averageInitDuration, stats.averageColdStartDuration) == (1, 300.0, 5300.0)


def test_prices_by_region_and_architecture_with_overrides() -> None:
    default = tuning.resolve_prices("eu-west-1")
    cape_town = tuning.resolve_prices("af-south-1")
    overridden = tuning.resolve_prices("eu-west-1", {"arm64": 0.00001, "request": 0, "stateTransition": 0.0001})

    assert default.compute("x86_64") == 0.0000166667
    assert default.compute("arm64") == 0.0000133334
    assert default.request == 0.0000002
    assert cape_town.compute("x86_64") > default.compute("x86_64")
    assert cape_town.state_transition == 0.00002975
    assert (overridden.compute("arm64"), overridden.request, overridden.state_transition) == (0.00001, 0.0, 0.0001)
    assert overridden.compute("x86_64") == 0.0000166667


# -- the choice ----------------------------------------------------------------------------------------------
def test_cost_picks_the_cheapest() -> None:
    stats = [stat(128, 3e-7, 300), stat(256, 2e-7, 100), stat(512, 4e-7, 50)]

    assert tuning.best_value(stats, "cost")["value"] == 256


def test_cost_tie_goes_to_the_faster() -> None:
    # 0.1 + 0.2 != 0.3 in floating point: a tie up to rounding noise is still a tie.
    stats = [stat(128, 0.3e-6, 300), stat(256, (0.1 + 0.2) * 1e-6, 150), stat(512, 0.5e-6, 60)]

    assert tuning.best_value(stats, "cost")["value"] == 256


def test_speed_picks_the_fastest() -> None:
    stats = [stat(128, 1e-7, 300), stat(256, 2e-7, 150), stat(512, 4e-7, 60)]

    assert tuning.best_value(stats, "speed")["value"] == 512


def test_speed_tie_goes_to_the_cheaper() -> None:
    stats = [stat(1024, 8e-7, 60), stat(512, 4e-7, 60), stat(128, 1e-7, 300)]

    assert tuning.best_value(stats, "speed")["value"] == 512


def test_a_complete_tie_goes_to_the_smaller_memory() -> None:
    stats = [stat(512, 1e-7, 10), stat(256, 1e-7, 10)]

    assert tuning.best_value(stats, "cost")["value"] == 256
    assert tuning.best_value(stats, "speed")["value"] == 256


BALANCED = [stat(128, 1.0e-7, 300), stat(256, 1.5e-7, 150), stat(512, 3.0e-7, 100)]


def test_balanced_picks_the_best_trade_off() -> None:
    # scores at 0.5: 128 -> .5*1/3 + .5*1 = .667; 256 -> .5*.5 + .5*.5 = .5; 512 -> .5*1 + .5*1/3 = .667
    assert tuning.best_value(BALANCED, "balanced", 0.5)["value"] == 256


def test_balanced_weight_1_is_cost_and_0_is_speed() -> None:
    assert tuning.best_value(BALANCED, "balanced", 1.0)["value"] == tuning.best_value(BALANCED, "cost")["value"] == 128
    assert tuning.best_value(BALANCED, "balanced", 0.0)["value"] == tuning.best_value(BALANCED, "speed")["value"] == 512


def test_balanced_weight_1_and_0_break_ties_as_cost_and_speed_do() -> None:
    cost_tie = [stat(128, 2e-7, 300), stat(256, 2e-7, 150), stat(512, 5e-7, 60)]
    speed_tie = [stat(1024, 8e-7, 60), stat(512, 4e-7, 60), stat(128, 1e-7, 300)]

    assert tuning.best_value(cost_tie, "balanced", 1.0)["value"] == 256  # cost tie: the faster
    assert tuning.best_value(speed_tie, "balanced", 0.0)["value"] == 512  # speed tie: the cheaper


def test_analyse_output_has_the_best_value_the_run_cost_and_the_note() -> None:
    result = tuning.analyse(BALANCED, strategy="cost", balanced_weight=0.5, prices=PRICES)

    assert (result["power"], result["cost"], result["duration"]) == (128, 1.0e-7, 300)
    assert [s["value"] for s in result["stats"]] == [128, 256, 512]
    assert result["stateMachine"]["transitions"] == 7
    assert result["stateMachine"]["referenceTransitions"] == 16
    assert result["stateMachine"]["executionCost"] == pytest.approx(7 * 0.000025)
    assert result["stateMachine"]["lambdaCost"] == pytest.approx(5 * (1.0e-7 + 1.5e-7 + 3.0e-7))
    assert "per-request price" in result["notes"][0]


@pytest.mark.parametrize(("values", "ours", "reference"), [(1, 5, 10), (3, 7, 16), (6, 10, 25), (10, 14, 37)])
def test_transition_counts(values: int, ours: int, reference: int) -> None:
    assert tuning.transitions(values) == ours
    assert tuning.reference_transitions(values) == reference
    assert tuning.transitions(values, setup_rounds=2) == ours + 2


# -- input ---------------------------------------------------------------------------------------------------
def test_a_minimal_input_gets_the_defaults() -> None:
    parsed = tuning.parse_input({"lambdaARN": ARN, "num": 10})

    assert parsed.power_values == tuning.DEFAULT_POWER_VALUES
    assert (parsed.strategy, parsed.balanced_weight, parsed.discard_top_bottom) == ("cost", 0.5, 0.2)
    assert parsed.payloads == ({},) * 10
    assert parsed.aliases(512) == ["RAM512"]
    assert tuning.parse_input(parsed.to_json()) == parsed


def test_a_range_of_power_values() -> None:
    parsed = tuning.parse_input({"lambdaARN": ARN, "num": 5, "powerValues": {"min": 128, "max": 1024, "step": 128}})

    assert parsed.power_values == (128, 256, 384, 512, 640, 768, 896, 1024)


def test_weighted_payloads_are_spread_by_weight() -> None:
    payload = [{"payload": "a", "weight": 1}, {"payload": "b", "weight": 3}]

    parsed = tuning.parse_input({"lambdaARN": ARN, "num": 10, "payload": payload})

    assert parsed.payloads == ("a", "a") + ("b",) * 8


def test_only_cold_starts_uses_an_alias_per_invocation_and_no_trimming() -> None:
    parsed = tuning.parse_input({"lambdaARN": ARN, "num": 5, "onlyColdStarts": True})

    assert parsed.aliases(256) == ["RAM256-0", "RAM256-1", "RAM256-2", "RAM256-3", "RAM256-4"]
    assert parsed.discard_top_bottom == 0.0


def test_dry_run_invokes_once() -> None:
    parsed = tuning.parse_input({"lambdaARN": ARN, "num": 5, "dryRun": True, "payload": [1, 2]})

    assert parsed.invocations == 1
    assert parsed.payloads == ([1, 2],)  # a list that is not weighted is one payload


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lambdaARN": None}, "lambdaARN is required"),
        ({"lambdaARN": "sample"}, "lambdaARN must be a Lambda function ARN"),
        ({"lambdaARN": ARN + ":prod"}, "must be the unqualified function ARN"),
        ({"num": 4}, "at least 5, got 4"),
        ({"num": "ten"}, "at least 5, got 'ten'"),
        ({"num": 10.5}, "at least 5, got 10.5"),
        ({"powerValues": ["128", "lots"]}, "got ['lots']"),
        ({"powerValues": "128,256"}, 'a list of memory sizes, "ALL", or a range'),
        ({"parallelInvocation": "false"}, 'reads any non-empty string as true, "false" too'),
        ({"architectures": ["x86"]}, 'architectures must be a list of "x86_64" and/or "arm64"'),
        ({"allowedExceptions": "HandledError"}, "allowedExceptions must be a list of error types"),
        ({"payloadS3": "https://bucket/key"}, "payloadS3 must be an S3 object as s3://<bucket>/<key>"),
        ({"payload": [{"payload": 1, "weight": "3"}]}, "weight must be a positive number"),
        ({"powerValues": [64, 512]}, "from 128 to 10240, got [64]"),
        ({"powerValues": [128, 20000]}, "got [20000]"),
        ({"powerValues": [256, 256]}, "duplicates: [256]"),
        ({"powerValues": {"min": 128, "max": 512, "step": 0}}, "step must be positive"),
        ({"strategy": "cheap"}, "strategy must be one of cost, speed, balanced"),
        ({"strategy": "balanced", "balancedWeight": 1.5}, "balancedWeight must be a number from 0 (speed) to 1"),
        ({"discardTopBottom": 0.5}, "discardTopBottom must be a fraction from 0 to 0.4"),
        ({"sleepBetweenRunsMs": -1}, "sleepBetweenRunsMs must be a whole number"),
        ({"autoOptimizeAlias": "live"}, "autoOptimize is false"),
        ({"autoOptimize": True, "autoOptimizeAlias": "RAM512"}, "looks like the tuner's own aliases"),
        ({"autoOptimize": "yes"}, "autoOptimize must be true or false"),
        ({"preProcessorARN": "nope"}, "preProcessorARN must be a Lambda function ARN"),
        ({"payload": [{"payload": 1, "weight": 1}, {"payload": 2, "weight": 100}]}, "gets no invocation with num=5"),
        ({"prices": {"x86": 1}}, "prices: unknown key 'x86'"),
        ({"prices": {"request": -1}}, "prices.request must be a price"),
        ({"payloadOnS3": "s3://b/k"}, "unknown input fields ['payloadOnS3']"),
    ],
)
def test_rejects_bad_input(changes: dict[str, Any], message: str) -> None:
    raw: dict[str, Any] = {"lambdaARN": ARN, "num": 5, **changes}

    with pytest.raises(InvalidInputError) as raised:
        tuning.parse_input(raw)

    assert message in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        tuning.parse_input({"lambdaARN": "x", "num": 1, "strategy": "fast"})

    assert len(raised.value.problems) == 3


def test_only_allowed_functions_may_be_tuned() -> None:
    allowed = ["arn:aws:lambda:us-east-1:123456789012:function:team-*", ARN]

    assert tuning.parse_input({"lambdaARN": ARN, "num": 5}, allowed=allowed).lambda_arn == ARN
    team = ARN.replace("sample", "team-api")
    assert tuning.parse_input({"lambdaARN": team, "num": 5}, allowed=allowed).lambda_arn == team
    with pytest.raises(InvalidInputError, match="is not a function this tuner may tune"):
        tuning.parse_input({"lambdaARN": ARN.replace("sample", "other"), "num": 5}, allowed=allowed)
    with pytest.raises(InvalidInputError, match=r"postProcessorARN .* is not a function this tuner may tune"):
        tuning.parse_input({"lambdaARN": ARN, "num": 5, "postProcessorARN": ARN + "x"}, allowed=allowed)
