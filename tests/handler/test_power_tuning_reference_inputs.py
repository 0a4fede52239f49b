"""Power tuning as a drop-in for aws-lambda-power-tuning's users: every input the reference accepts, with its
meaning; the silent differences fixed (a JSON-string payload, weighted entries with extra keys, cold starts, SnapStart
billing, China prices, the reference's transition count); two architectures in one run. The handlers run against a
fake Lambda service (tests/handler/power_tuning_fake.py) that answers with synthetic REPORT lines."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib.workloads.power_tuning.runtime import handlers, tuning
from constructs_lib.workloads.power_tuning.runtime.tuning import InvalidInputError, Report
from tests.handler.power_tuning_fake import ARN, FakeLambda, FunctionRaised, Timing, run_tuning


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLambda:
    service = FakeLambda()
    monkeypatch.setattr(handlers, "lambda_client", lambda region: service)
    monkeypatch.setattr(handlers, "download", lambda url: b"the function's code")
    for name in ("ALLOWED_FUNCTIONS", "PAYLOAD_OBJECTS", "ARCHITECTURE_CHANGES", "DEFAULT_POWER_VALUES"):
        monkeypatch.delenv(name, raising=False)
    return service


def parsed(**fields: Any) -> tuning.TuningInput:
    return tuning.parse_input({"lambdaARN": ARN, "num": 5, **fields})


# -- inputs the reference accepts ----------------------------------------------------------------------------
def test_numbers_given_as_strings_are_read_as_the_reference_reads_them() -> None:
    found = parsed(
        num="10", powerValues=["512", 128], sleepBetweenRunsMs="100", balancedWeight="0.3", discardTopBottom="0.1"
    )

    assert (found.num, found.power_values, found.sleep_between_runs_ms) == (10, (128, 512), 100)
    assert (found.balanced_weight, found.discard_top_bottom) == (0.3, 0.1)
    assert tuning.parse_input(found.to_json()) == found


def test_power_values_all_is_128_to_3008_in_steps_of_64() -> None:
    values = parsed(powerValues="ALL").power_values

    assert len(values) == 46
    assert (values[0], values[1], values[-1]) == (128, 192, 3008)


def test_an_empty_power_values_list_means_the_default_values() -> None:
    assert parsed(powerValues=[]).power_values == tuning.DEFAULT_POWER_VALUES


def test_include_output_results_is_accepted_and_the_stats_carry_the_references_names(fake: FakeLambda) -> None:
    output = run_tuning(fake, {"num": 5, "powerValues": [128, 256], "includeOutputResults": True})

    assert [s["value"] for s in output["stats"]] == [128, 256]
    assert all(s["averagePrice"] == s["averageCost"] for s in output["stats"])
    assert {"power", "cost", "duration"} <= set(output)
    assert output["stateMachine"]["visualization"].startswith("https://lambda-power-tuning.show/#")


def test_allowed_exceptions_count_as_invocations(fake: FakeLambda) -> None:
    def sometimes(event: Any) -> Any:
        if event.get("fail"):
            raise FunctionRaised("HandledError")
        return {}

    fake.behaviour = sometimes
    payload = [{"payload": {"fail": True}, "weight": 1}, {"payload": {}, "weight": 4}]

    output = run_tuning(
        fake, {"num": 5, "powerValues": [128], "payload": payload, "allowedExceptions": ["HandledError"]}
    )

    assert output["stats"][0]["invocations"] == 5
    assert output["stats"][0]["allowedErrors"] == 1


def test_an_error_not_allowed_fails_and_names_the_payload_unless_payload_logs_are_off(fake: FakeLambda) -> None:
    def always(event: Any) -> Any:
        raise FunctionRaised("KeyError")

    fake.behaviour = always
    base = {"num": 5, "powerValues": [128], "payload": {"secret": "s3cr3t"}, "allowedExceptions": ["HandledError"]}

    with pytest.raises(handlers.InvocationError) as shown:
        run_tuning(fake, base)
    with pytest.raises(handlers.InvocationError) as hidden:
        run_tuning(fake, {**base, "disablePayloadLogs": True}, execution="exec-2")

    assert "KeyError" in str(shown.value)
    assert "s3cr3t" in str(shown.value)
    assert "KeyError" in str(hidden.value)
    assert "s3cr3t" not in str(hidden.value)


@pytest.fixture
def payload_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        handlers._CLIENTS.pop("s3", None)
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="payloads")
        monkeypatch.setenv("PAYLOAD_OBJECTS", json.dumps(["payloads/tuning/*"]))
        yield s3
        handlers._CLIENTS.pop("s3", None)


def test_payload_s3_is_read_from_the_object_and_wins_over_the_inline_payload(
    fake: FakeLambda, payload_bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "lambda_client", lambda region: fake)
    weighted = [{"payload": {"size": "large"}, "weight": 1}, {"payload": {"size": "small"}, "weight": 4}]
    payload_bucket.put_object(Bucket="payloads", Key="tuning/big payload.json", Body=json.dumps(weighted).encode())

    output = run_tuning(
        fake,
        {"num": 5, "powerValues": [128], "payloadS3": "s3://payloads/tuning/big%20payload.json", "payload": {"x": 1}},
    )

    sent = [json.loads(payload) for _, payload in fake.invoked]
    assert sent == [{"size": "large"}] + [{"size": "small"}] * 4
    assert any("payloadS3 is given" in note for note in output["notes"])


def test_payload_s3_outside_the_allowed_objects_is_refused_at_once(payload_bucket: Any) -> None:
    with pytest.raises(InvalidInputError, match="is not an object this tuner may read; it may read s3://payloads"):
        tuning.parse_input(
            {"lambdaARN": ARN, "num": 5, "payloadS3": "s3://payloads/other/key.json"},
            payload_objects=handlers._payload_objects(),
        )


def test_a_missing_payload_s3_object_fails_with_an_input_error(fake: FakeLambda, payload_bucket: Any) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        run_tuning(fake, {"num": 5, "powerValues": [128], "payloadS3": "s3://payloads/tuning/none.json"})


def test_sleep_between_runs_with_parallel_invocation_is_accepted_and_noted(fake: FakeLambda) -> None:
    output = run_tuning(
        fake, {"num": 5, "powerValues": [128], "parallelInvocation": True, "sleepBetweenRunsMs": 50_000}
    )

    assert any("sleepBetweenRunsMs has no effect with parallelInvocation" in note for note in output["notes"])


# -- silent differences, fixed -------------------------------------------------------------------------------
def test_a_json_string_payload_reaches_the_function_as_json_once_encoded(fake: FakeLambda) -> None:
    received: list[Any] = []
    fake.behaviour = received.append

    run_tuning(fake, {"num": 5, "powerValues": [128], "payload": '{"orderId": "o-1"}'})
    run_tuning(fake, {"num": 5, "powerValues": [128], "payload": "plain text"}, execution="exec-2")

    assert received[:5] == [{"orderId": "o-1"}] * 5  # an object, not the string '{"orderId": "o-1"}'
    assert received[5:] == ["plain text"] * 5
    assert fake.invoked[0][1] == b'{"orderId": "o-1"}'


def test_a_weighted_entry_with_an_extra_key_is_still_weighted() -> None:
    payload = [{"payload": "a", "weight": 1, "comment": "rare"}, {"payload": "b", "weight": 4}]

    assert parsed(payload=payload, num=10).payloads == ("a", "a") + ("b",) * 8


# -- durations: cold starts and SnapStart ----------------------------------------------------------------------
def test_only_cold_starts_measures_init_and_the_speed_strategy_follows_it() -> None:
    # 512 MB: a fast handler, a slow Init; 1024 MB: the other way round.
    reports = {
        512: [Report(duration_ms=10.0, billed_duration_ms=510, init_duration_ms=500.0)] * 5,
        1024: [Report(duration_ms=20.0, billed_duration_ms=120, init_duration_ms=100.0)] * 5,
    }
    config = parsed(onlyColdStarts=True, strategy="speed", powerValues=[512, 1024])

    stats = [
        tuning.value_stats(v, r, discard=config.discard, architecture="x86_64", prices=config.prices()).to_json()
        for v, r in reports.items()
    ]

    assert [s["averageDuration"] for s in stats] == [510.0, 120.0]
    assert [s["averageWarmDuration"] for s in stats] == [10.0, 20.0]
    assert [s["averageColdStartDuration"] for s in stats] == [510.0, 120.0]
    assert tuning.best_value(stats, "speed")["value"] == 1024  # by the handler alone, 512 would win


def test_only_cold_starts_run_reports_cold_and_warm_figures(fake: FakeLambda) -> None:
    fake.timing = Timing(duration=lambda memory, architecture: 40.0, init_ms=300.0)

    output = run_tuning(fake, {"num": 5, "powerValues": [128, 256], "onlyColdStarts": True})

    for stats in output["stats"]:
        assert stats["coldStarts"] == 5
        assert stats["averageDuration"] == pytest.approx(340.0)
        assert stats["averageWarmDuration"] == pytest.approx(40.0)
    assert output["cleanedUp"] == {"aliases": 10, "versions": 10}


def test_snapstart_billed_restore_duration_is_parsed_and_billed() -> None:
    tail = (
        "REPORT RequestId: r\tDuration: 20.00 ms\tBilled Duration: 20 ms\tMemory Size: 1024 MB\t"
        "Max Memory Used: 90 MB\tRestore Duration: 450.00 ms\tBilled Restore Duration: 180 ms\t\n"
    )
    prices = tuning.resolve_prices("us-east-1", {"request": 0})

    report = tuning.parse_report(tail)
    stats = tuning.value_stats(1024, [report], discard=0, architecture="x86_64", prices=prices)

    assert (report.restore_duration_ms, report.billed_restore_duration_ms) == (450.0, 180.0)
    assert stats.averageBilledDuration == 200.0
    assert stats.averageCost == pytest.approx(0.2 * 1 * 0.0000166667)
    assert stats.averageDuration == 470.0  # the caller waited for the restore too


def test_snapstart_json_log_format_billed_restore() -> None:
    record = {
        "type": "platform.report",
        "record": {
            "metrics": {"durationMs": 5, "billedDurationMs": 5, "restoreDurationMs": 9, "billedRestoreDurationMs": 7}
        },
    }

    assert tuning.parse_report(json.dumps(record)).billed_total_ms == 12


# -- prices --------------------------------------------------------------------------------------------------
def test_china_regions_are_priced_in_cny_and_the_output_says_so() -> None:
    prices = tuning.resolve_prices("cn-north-1")
    stats = [
        tuning.value_stats(
            128, [Report(duration_ms=9.0, billed_duration_ms=10)], discard=0, architecture="arm64", prices=prices
        ).to_json()
    ]

    result = tuning.analyse(stats, strategy="cost", balanced_weight=0.5, prices=prices)

    assert (prices.currency, result["currency"], result["prices"]["currency"], stats[0]["currency"]) == ("CNY",) * 4
    assert prices.compute("x86_64") == pytest.approx(0.0001136)
    assert "?currency=CNY#" in result["stateMachine"]["visualization"]
    assert any("not confirmed" in note for note in result["notes"])  # arm64 there is an estimate


def test_a_price_override_stays_and_is_named() -> None:
    prices = tuning.resolve_prices("cn-northwest-1", {"x86_64": 0.0002, "arm64": 0.00015})

    assert (prices.compute("x86_64"), prices.compute("arm64"), prices.currency) == (0.0002, 0.00015, "CNY")
    assert prices.overridden == ("x86_64", "arm64")
    assert prices.confirmed


def test_every_price_row_names_its_currency_source_and_date() -> None:
    from constructs_lib.workloads.power_tuning.runtime.prices import PRICE_TABLE

    for region, row in PRICE_TABLE.items():
        assert row.currency == ("CNY" if region.startswith("cn-") else "USD"), region
        assert row.source, region
        assert row.checked.startswith("20"), region
        assert 0 < row.arm64 < row.x86_64, region


# -- the reference's transitions --------------------------------------------------------------------------------
def reference_states(power_values: int, *, only_cold_starts: bool, num: int) -> list[str]:
    """The states the reference's state machine enters on success, in order (its statemachine.asl.json: the
    Initializer, the Publisher/IsCountReached loop over every version it makes plus the one that gives $LATEST its
    configuration back, the Branching Map with one Executor per value, Cleaner, Analyzer, Optimizer)."""
    versions = power_values * (num if only_cold_starts else 1) + 1
    return (
        ["Initializer"]
        + ["Publisher", "IsCountReached"] * versions
        + ["Branching"]
        + ["Executor"] * power_values
        + ["Cleaner", "Analyzer", "Optimizer"]
    )


@pytest.mark.parametrize(
    ("values", "cold", "num", "expected"),
    [(3, False, 5, 16), (3, True, 5, 40), (6, False, 10, 25), (46, True, 10, 973)],
)
def test_reference_transitions_follow_the_references_states(values: int, cold: bool, num: int, expected: int) -> None:
    assert len(reference_states(values, only_cold_starts=cold, num=num)) == expected
    assert tuning.reference_transitions(values, only_cold_starts=cold, num=num) == expected


def test_the_output_counts_the_reference_with_only_cold_starts(fake: FakeLambda) -> None:
    output = run_tuning(fake, {"num": 5, "powerValues": [128, 256, 512], "onlyColdStarts": True})

    assert output["stateMachine"]["referenceTransitions"] == 40
    assert output["stateMachine"]["transitions"] == 7


# -- two architectures in one run -------------------------------------------------------------------------------
def arm_is_faster(memory: int, architecture: str) -> float:
    """A fixed part and a part that shrinks with memory: 128 MB is the cheapest; arm64 takes 80% of x86_64's time."""
    return (0.8 if architecture == "arm64" else 1.0) * (10.0 + 90.0 * 128 / memory)


def test_two_architectures_in_one_run(fake: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHITECTURE_CHANGES", "true")
    fake.timing = Timing(duration=arm_is_faster)

    output = run_tuning(fake, {"num": 5, "powerValues": [128, 256, 512], "architectures": ["x86_64", "arm64"]})

    assert sorted((s["architecture"], s["value"]) for s in output["stats"]) == [
        ("arm64", 128),
        ("arm64", 256),
        ("arm64", 512),
        ("x86_64", 128),
        ("x86_64", 256),
        ("x86_64", 512),
    ]
    assert set(output["byArchitecture"]) == {"x86_64", "arm64"}
    assert (output["architecture"], output["power"]) == ("arm64", 128)  # the cheapest overall
    assert output["byArchitecture"]["x86_64"]["power"] == 128
    assert output["byArchitecture"]["arm64"]["cost"] < output["byArchitecture"]["x86_64"]["cost"]
    assert output["stateMachine"]["transitions"] == 7
    assert output["stateMachine"]["referenceTransitions"] == 2 * 16  # the reference: a run per architecture
    # $LATEST went to arm64 for its versions, then back to x86_64 with its memory and description.
    switches = [request["Architectures"] for name, request in fake.calls if name == "update_function_code"]
    assert switches == [["arm64"], ["x86_64"]]
    assert (fake.architecture, fake.memory, fake.description) == ("x86_64", 1024, "the user's own")
    assert output["cleanedUp"] == {"aliases": 6, "versions": 6}
    assert {qualifier for qualifier, _ in fake.invoked} == {
        f"RAM{v}-{a}" for v in (128, 256, 512) for a in ("x86_64", "arm64")
    }


def test_auto_optimize_over_two_architectures_applies_the_winners_architecture(
    fake: FakeLambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHITECTURE_CHANGES", "true")
    fake.timing = Timing(duration=arm_is_faster)

    output = run_tuning(
        fake, {"num": 5, "powerValues": [128, 256], "architectures": ["x86_64", "arm64"], "autoOptimize": True}
    )

    assert output["optimized"] == {"target": "$LATEST", "memorySize": 128, "architecture": "arm64"}
    assert (fake.architecture, fake.memory) == ("arm64", 128)


def test_another_architecture_needs_the_constructs_permission(fake: FakeLambda) -> None:
    with pytest.raises(InvalidInputError, match="allow_architecture_changes is off"):
        run_tuning(fake, {"num": 5, "powerValues": [128], "architectures": ["x86_64", "arm64"]})

    assert fake.architecture == "x86_64"
    assert fake.versions == {}


# -- the visualization link ---------------------------------------------------------------------------------------
README_EXAMPLE = "gAAAAQACAAQABsAL;ZooQR4yvkUa/pQRGRC5zRaADHUVjOftE;QdWhOEMkoziDT5Q4xhiIOMYYiDi6RNc4"
"""The reference README's example link (its fragment): the six default memory sizes."""


def test_the_visualization_link_encodes_as_the_references_readme_example() -> None:
    sizes, durations, costs = (base64.b64decode(part) for part in README_EXAMPLE.split(";"))
    stats = [
        {"value": v, "averageDuration": d, "averageCost": c}
        for v, d, c in zip(
            struct.unpack("<6h", sizes), struct.unpack("<6f", durations), struct.unpack("<6f", costs), strict=True
        )
    ]

    url = tuning.visualization_url(list(reversed(stats)))

    assert [s["value"] for s in stats] == [128, 256, 512, 1024, 1536, 3008]
    assert url == "https://lambda-power-tuning.show/#" + README_EXAMPLE
