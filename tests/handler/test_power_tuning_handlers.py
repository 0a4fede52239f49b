"""Power tuning handlers on moto's Lambda: a setup that runs out of time goes on where it stopped, the clean-up
deletes only what its execution made and tolerates what is gone, a failed setup gives $LATEST its memory back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib.workloads.power_tuning.runtime import handlers, tuning

REGION = "us-east-1"


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        handlers._CLIENTS.clear()
        role = boto3.client("iam", region_name=REGION).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        lambda_client = handlers.lambda_client(REGION)
        lambda_client.create_function(
            FunctionName="target",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="index.handler",
            Code={"ZipFile": code()},
            MemorySize=1024,
            Description="the user's own description",
        )
        yield lambda_client
        handlers._CLIENTS.clear()


def config(client: Any, **extra: Any) -> tuning.TuningInput:
    arn = client.get_function_configuration(FunctionName="target")["FunctionArn"]
    return tuning.parse_input({"lambdaARN": arn, "powerValues": [128, 256, 512], "num": 5, **extra})


def aliases(client: Any) -> dict[str, str]:
    return {a["Name"]: a["FunctionVersion"] for a in client.list_aliases(FunctionName="target")["Aliases"]}


def test_a_setup_short_of_time_returns_and_goes_on_where_it_stopped(client: Any) -> None:
    tuning_input = config(client)
    setup: dict[str, Any] = {"next": 0, "done": False, "rounds": 0}

    rounds = []
    while not setup["done"]:
        setup = handlers.run_setup(client, tuning_input, "exec-1", setup, remaining_ms=lambda: 0)
        rounds.append(setup["next"])
    latest = client.get_function_configuration(FunctionName="target")

    assert rounds == [1, 2, 3]  # with no time left, one value per call (never none)
    assert setup["rounds"] == 3
    assert setup["original"] == {
        "memorySize": 1024,
        "description": "the user's own description",
        "architecture": "x86_64",
    }
    assert set(aliases(client)) == {"RAM128", "RAM256", "RAM512"}
    memory = {
        alias: client.get_function_configuration(FunctionName="target", Qualifier=alias)["MemorySize"]
        for alias in ("RAM128", "RAM256", "RAM512")
    }
    assert memory == {"RAM128": 128, "RAM256": 256, "RAM512": 512}
    assert (latest["MemorySize"], latest["Description"]) == (1024, "the user's own description")
    assert tuning.transitions(3, setup_rounds=setup["rounds"]) == 11


def test_clean_up_deletes_only_what_its_execution_made(client: Any) -> None:
    handlers.run_setup(client, config(client), "exec-1", {"next": 0}, remaining_ms=lambda: 900_000)
    # The user's own version and alias, and another execution's, stay.
    client.update_function_configuration(FunctionName="target", Description="release 7")
    users = client.publish_version(FunctionName="target")["Version"]
    client.create_alias(FunctionName="target", Name="live", FunctionVersion=users)
    handlers.run_setup(client, config(client, powerValues=[2048]), "exec-2", {"next": 0}, remaining_ms=lambda: 900_000)

    removed = handlers.clean_up(client, "target", "exec-1")
    again = handlers.clean_up(client, "target", "exec-1")
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName="target")["Versions"]]

    assert removed == {"aliases": 3, "versions": 3}
    assert again == {"aliases": 0, "versions": 0}
    assert set(aliases(client)) == {"live", "RAM2048"}
    assert users in versions
    assert len(versions) == 3  # $LATEST, the user's, exec-2's


def test_a_failed_setup_gives_latest_its_memory_back(client: Any) -> None:
    tuning_input = config(client)
    original_create_alias = client.create_alias
    calls = {"n": 0}

    def failing_create_alias(**request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("throttled")
        return original_create_alias(**request)

    client.create_alias = failing_create_alias
    with pytest.raises(RuntimeError, match="throttled"):
        handlers.run_setup(client, tuning_input, "exec-3", {"next": 0}, remaining_ms=lambda: 900_000)
    client.create_alias = original_create_alias
    latest = client.get_function_configuration(FunctionName="target")
    after = handlers.clean_up_after_failure(tuning_input.to_json() | {"error": {}}, "exec-3")

    assert (latest["MemorySize"], latest["Description"]) == (1024, "the user's own description")
    assert after["cleanedUp"] == {"aliases": 1, "versions": 2}  # RAM128 and its version, the orphan version
    assert aliases(client) == {}


def test_clean_up_after_a_hard_stop_restores_latest_from_the_marker(client: Any) -> None:
    arn = client.get_function_configuration(FunctionName="target")["FunctionArn"]
    # What a setup killed mid-way leaves: $LATEST with a tuning value and our description.
    client.update_function_configuration(
        FunctionName="target", MemorySize=256, Description=f"{handlers.marker('exec-4')}256 (restore 1024 MB)"
    )

    after = handlers.clean_up_after_failure({"lambdaARN": arn, "num": 5}, "exec-4")
    latest = client.get_function_configuration(FunctionName="target")

    assert after["restored"] == {"memorySize": 1024, "description": ""}
    assert latest["MemorySize"] == 1024


def test_clean_up_after_an_invalid_input_has_nothing_to_do() -> None:
    assert handlers.clean_up_after_failure({"lambdaARN": "nope"}, "exec-5")["cleanedUp"] == {
        "aliases": 0,
        "versions": 0,
    }
