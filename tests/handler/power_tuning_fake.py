"""A fake Lambda service for the power tuning handlers: one function with ``$LATEST``, versions and aliases, the
architecture switch (UpdateFunctionCode with Architectures, which moto ignores), and Invoke answering with a
synthetic REPORT line in ``LogResult`` whose durations follow a model of memory and architecture.

It records what the handlers asked for, so that a test can check the payload an invocation carried, the order of
the configuration updates, and that ``$LATEST`` got its configuration back.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from constructs_lib.workloads.power_tuning.runtime import handlers

REGION = "us-east-1"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:target"


class FunctionRaised(Exception):
    """What a behaviour raises to make the invocation fail with ``error_type``."""

    def __init__(self, error_type: str) -> None:
        super().__init__(error_type)
        self.error_type = error_type


def not_found(what: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": what}}, "Fake")


@dataclass
class Timing:
    """The function's durations: ``duration(memory, architecture)`` ms per invocation; a cold start adds
    ``init_ms`` (Init Duration) or, with SnapStart, ``restore_ms`` (Restore Duration) and ``billed_restore_ms``."""

    duration: Callable[[int, str], float] = lambda memory, architecture: 100.0 * 128 / memory
    init_ms: float | None = 200.0
    restore_ms: float | None = None
    billed_restore_ms: float | None = None


@dataclass
class FakeLambda:
    memory: int = 1024
    architecture: str = "x86_64"
    description: str = "the user's own"
    timing: Timing = field(default_factory=Timing)
    behaviour: Callable[[Any], Any] = lambda event: {"ok": True}
    processors: dict[str, Callable[[bytes], Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    invoked: list[tuple[str, bytes]] = field(default_factory=list)
    warm: set[str] = field(default_factory=set)

    # -- configuration ------------------------------------------------------------------------------------------
    def _latest(self) -> dict[str, Any]:
        return {
            "FunctionArn": ARN,
            "MemorySize": self.memory,
            "Description": self.description,
            "Architectures": [self.architecture],
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
        }

    def _resolve(self, qualifier: str | None) -> dict[str, Any]:
        if qualifier in (None, "$LATEST"):
            return self._latest()
        if qualifier in self.aliases:
            qualifier = self.aliases[qualifier]["FunctionVersion"]
        if qualifier in self.versions:
            return self.versions[qualifier]
        raise not_found(f"{ARN}:{qualifier}")

    def get_function_configuration(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        return dict(self._resolve(Qualifier))

    def get_function(self, FunctionName: str) -> dict[str, Any]:
        return {"Configuration": self._latest(), "Code": {"RepositoryType": "S3", "Location": "https://code.test/x"}}

    def update_function_configuration(self, FunctionName: str, **request: Any) -> dict[str, Any]:
        self.calls.append(("update_function_configuration", request))
        self.memory = request.get("MemorySize", self.memory)
        self.description = request.get("Description", self.description)
        return self._latest()

    def update_function_code(self, FunctionName: str, **request: Any) -> dict[str, Any]:
        self.calls.append(("update_function_code", request))
        assert request.get("ZipFile") == b"the function's code" or request.get("ImageUri")
        self.architecture = request.get("Architectures", [self.architecture])[0]
        return self._latest()

    def publish_version(self, FunctionName: str, Description: str = "") -> dict[str, Any]:
        version = str(len(self.versions) + 1)
        self.versions[version] = {**self._latest(), "Version": version, "Description": Description}
        self.calls.append(("publish_version", {"Version": version}))
        return {"Version": version}

    def create_alias(self, FunctionName: str, Name: str, FunctionVersion: str, Description: str = "") -> None:
        self.aliases[Name] = {"Name": Name, "FunctionVersion": FunctionVersion, "Description": Description}

    update_alias = create_alias

    def delete_alias(self, FunctionName: str, Name: str) -> None:
        if self.aliases.pop(Name, None) is None:
            raise not_found(Name)

    def delete_function(self, FunctionName: str, Qualifier: str) -> None:
        if self.versions.pop(Qualifier, None) is None:
            raise not_found(Qualifier)

    def get_paginator(self, name: str) -> Any:
        fake = self

        class Pages:
            def paginate(self, **request: Any) -> Iterator[dict[str, Any]]:
                if name == "list_aliases":
                    yield {"Aliases": list(fake.aliases.values())}
                else:
                    yield {"Versions": [{"Version": "$LATEST"}, *fake.versions.values()]}

        return Pages()

    # -- invoke ---------------------------------------------------------------------------------------------------
    def invoke(self, FunctionName: str, Payload: bytes = b"", Qualifier: str | None = None, **_: Any) -> dict[str, Any]:
        if FunctionName != ARN:
            body = self.processors[FunctionName](Payload)
            return {"Payload": io.BytesIO(json.dumps(body).encode()), "StatusCode": 200}
        self.invoked.append((str(Qualifier), Payload))
        configuration = self._resolve(Qualifier)
        version = configuration.get("Version", "$LATEST")
        cold = version not in self.warm
        self.warm.add(version)
        answer: dict[str, Any] = {"StatusCode": 200}
        try:
            body = self.behaviour(json.loads(Payload) if Payload else None)
        except FunctionRaised as raised:
            body = {"errorType": raised.error_type, "errorMessage": "raised on purpose"}
            answer["FunctionError"] = "Unhandled"
        memory, architecture = configuration["MemorySize"], configuration["Architectures"][0]
        answer["Payload"] = io.BytesIO(json.dumps(body).encode())
        answer["LogResult"] = base64.b64encode(self.report(memory, architecture, version, cold).encode()).decode()
        return answer

    def report(self, memory: int, architecture: str, version: str, cold: bool) -> str:
        timing = self.timing
        duration = timing.duration(memory, architecture)
        snapstart = timing.restore_ms is not None
        init = timing.init_ms if cold and not snapstart else None
        line = (
            f"REPORT RequestId: r\tDuration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration + (init or 0))} ms"
            f"\tMemory Size: {memory} MB\tMax Memory Used: 60 MB"
        )
        if init is not None:
            line += f"\tInit Duration: {init:.2f} ms"
        if cold and snapstart:
            line += f"\tRestore Duration: {timing.restore_ms:.2f} ms"
            line += f"\tBilled Restore Duration: {timing.billed_restore_ms} ms"
        return f"START RequestId: r Version: {version}\nEND RequestId: r\n{line}\t\n"


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def run_tuning(fake: FakeLambda, tuning_input: Mapping[str, Any], execution: str = "exec-1") -> dict[str, Any]:
    """What the state machine does on success: Initialize (again while the setup is not done), one Execute per
    memory value, Finalize. The handlers' clients are the fake (set by the ``fake_lambda`` fixture)."""
    state = handlers.initialize({"input": {"lambdaARN": ARN, **tuning_input}, "execution": execution}, Context())
    while not state["setup"]["done"]:
        state = handlers.initialize({**state, "execution": execution}, Context())
    stats = [
        handlers.execute({"value": value, "config": state["config"]}, Context())
        for value in state["config"]["powerValues"]
    ]
    return handlers.finalize(
        {
            "action": "finalize",
            "config": state["config"],
            "setup": state["setup"],
            "stats": stats,
            "execution": execution,
        },
        Context(),
    )
