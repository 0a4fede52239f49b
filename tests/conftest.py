"""Shared test set-up: the app context of cdk.json, cdk-nag on every test app, sample events."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fcntl
import json
import os
import re
import subprocess
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Unit tests only need the template: CloudFormation validation (3-5 s a synth) runs in the CLI test instead.
# Set before aws_cdk is imported: the jsii kernel reads its environment when it starts.
os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda
from cdk_nag import AwsSolutionsChecks

from constructs_lib import DestinedFunction
from tools.cdk_cli import CDK, cli_env  # the environment `make synth` gives the pinned CLI

if TYPE_CHECKING:
    from constructs_lib.testing import SynthesizedStack  # imported when used: the kit's import pulls in moto

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = Path(__file__).resolve().parent / "events"


@dataclass
class FakeContext:
    """The one fake Lambda context of the handler tests: the attributes the Python runtime's context has."""

    function_name: str = "under-test"
    remaining_ms: int = 60_000
    function_version: str = "$LATEST"
    aws_request_id: str = "0d6a2f5e-1b2c-4d3e-8f90-123456789abc"
    memory_limit_in_mb: int = 128
    region: str = "us-east-1"
    account: str = "123456789012"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "2026/11/23/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def cdk_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags), so in-process apps synthesize what `cdk synth` does."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def plain_app_at(outdir: Path) -> cdk.App:
    """An app with cdk.json's context and no cdk-nag, synthesized into ``outdir``: for stacks the kit runs."""
    return cdk.App(context=cdk_context(), outdir=str(outdir), analytics_reporting=False)


def new_app(outdir: Path) -> cdk.App:
    """An app with cdk.json's context and cdk-nag's AwsSolutions checks: an unacknowledged finding fails synth."""
    app = plain_app_at(outdir)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def load_event(name: str) -> Any:
    return json.loads((EVENTS_DIR / name).read_text())


def workflow_definitions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The definitions of a template's workflows, without the Express state machines that deliver the failure
    records of their timed-out and aborted executions (``<workflow>/StatusFailures``)."""
    from constructs_lib.testing import state_machine_definitions

    return {name: d for name, d in state_machine_definitions(template).items() if "StatusFailures" not in name}


_EXECUTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ASSET_FOLDER = re.compile(r"/[^\"\s]*/(asset\.[0-9a-f]{64})/")  # in a stack trace: each app has its own cdk.out
_WHEN = {"time", "timestamp", "startDate", "stopDate", "inspectedAt"}


def comparable(value: Any) -> Any:
    """``value`` with what differs between any two runs masked: the executions' generated names, the times, the
    cdk.out folder the handlers run from."""
    if isinstance(value, dict):
        return {key: "<when>" if key in _WHEN else comparable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    if isinstance(value, str):
        return _ASSET_FOLDER.sub(r"\1/", _EXECUTION_ID.sub("<execution>", value))
    return value


def echo_function(stack: cdk.Stack, construct_id: str = "Fn") -> aws_lambda.IFunction:
    """A small function with the library's secure defaults (made by DestinedFunction), returning its event."""
    return DestinedFunction(
        stack,
        construct_id,
        function_props=aws_lambda.FunctionProps(
            runtime=aws_lambda.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=aws_lambda.Code.from_inline("def handler(event, context):\n    return event\n"),
        ),
    ).function


@contextlib.contextmanager
def prompt_durable_stops() -> Iterator[None]:
    """The kit's one patch of the durable execution SDK (``install_prompt_stop``), for tests that run a handler with
    the SDK's own test runner: each invocation ends when the handler returns, not up to 0.1 s later (the poll of the
    SDK's checkpoint thread), as in the kit."""
    from constructs_lib.testing._engine.durable import install_prompt_stop

    undo = install_prompt_stop()
    try:
        yield
    finally:
        undo()


_SYNTHESIZED: dict[int, tuple[cdk.Stack, SynthesizedStack]] = {}


def synthesized(stack: cdk.Stack) -> SynthesizedStack:
    """What ``LocalKit.from_stack(stack)`` runs, ``SynthesizedStack.from_stack(stack)``, read once per stack object in
    a worker: for the stacks that session and module fixtures share, whose every read costs jsii round trips (the
    template through jsii) though the stage synthesized them once. Each call gets its own copy of the template, so a
    test that changes it changes no other test's."""
    from constructs_lib.testing import SynthesizedStack

    found = _SYNTHESIZED.get(id(stack))
    if found is None:
        found = _SYNTHESIZED[id(stack)] = (stack, SynthesizedStack.from_stack(stack))  # the stack kept: its id is ours
    return fresh_copy(found[1])


def fresh_copy(stack: SynthesizedStack) -> SynthesizedStack:
    """``stack`` with its own template, asset folders and paths (a kit reads them; a test may edit a template)."""
    return dataclasses.replace(
        stack, template=copy.deepcopy(stack.template), asset_dirs=dict(stack.asset_dirs), paths=dict(stack.paths)
    )


SynthesizeOnce = Callable[[Hashable, Callable[[cdk.App], cdk.Stack]], "SynthesizedStack"]


@pytest.fixture(scope="session")
def synthesize_once(tmp_path_factory: pytest.TempPathFactory) -> SynthesizeOnce:
    """``synthesize_once(key, build)``: the stack ``build`` makes in a plain app (cdk.json's context, no cdk-nag, as
    ``plain_app``), synthesized the first time a worker asks for ``key`` and read back from then on, for tests that
    run the same stack through the kit. The key must name everything ``build`` depends on."""
    from constructs_lib.testing import SynthesizedStack

    built: dict[Hashable, SynthesizedStack] = {}

    def synthesize(key: Hashable, build: Callable[[cdk.App], cdk.Stack]) -> SynthesizedStack:
        if key not in built:
            outdir = tmp_path_factory.mktemp("synthesize-once")
            app = plain_app_at(outdir / "cdk.out")
            built[key] = SynthesizedStack.from_stack(build(app))
        return fresh_copy(built[key])

    return synthesize


@pytest.fixture(scope="session")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> cdk.App:
    """Every example stack, built once for the whole session, with cdk-nag's checks on (see app.build_app)."""
    from app import build_app

    outdir: Path = tmp_path_factory.mktemp("cdk.out")
    return build_app(plain_app_at(outdir))


@pytest.fixture(scope="session")
def cli_cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdk synth` of the example app by the pinned CLI, once per session: the cdk.out/ a user deploys.

    The scanners (cfn-lint, checkov, asl-validator, the IAM walk) read its templates.
    """
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `make synth` or `make test`, which install it")
    # Under pytest-xdist the workers share one synth: the first one to take the lock runs it.
    shared = "PYTEST_XDIST_WORKER" in os.environ
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.mktemp("cli")
    outdir = root / "cli-cdk.out"
    with (root / "cli-cdk.out.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (outdir / "manifest.json").exists():
            result = subprocess.run(
                [str(CDK), "synth", "--quiet", "--output", str(outdir)],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                env=cli_env(),
                check=False,
                timeout=600,
            )
            assert result.returncode == 0, result.stdout + result.stderr
    return outdir


@pytest.fixture(scope="session")
def cli_templates(cli_cloud_assembly: Path) -> dict[str, dict[str, Any]]:
    """Every template of the CLI's cdk.out/, by stack name."""
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in sorted(cli_cloud_assembly.glob("*.template.json"))
    }


@pytest.fixture(scope="session")
def example_stacks(example_app: cdk.App) -> dict[str, cdk.Stack]:
    """The example stacks by stack name."""
    return {child.stack_name: child for child in example_app.node.children if isinstance(child, cdk.Stack)}


QUERY_LANGUAGES = ["JSONPath", "JSONata"]
"""The spellings of the context value ``queryLanguage`` that picks the example workflows' query language."""


@pytest.fixture(scope="session")
def jsonata_example_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, cdk.Stack]:
    """Every example stack, its workflows in JSONata (``cdk synth -c queryLanguage=JSONata``), cdk-nag's checks on."""
    from app import build_app

    outdir: Path = tmp_path_factory.mktemp("cdk.out-jsonata")
    context = {**cdk_context(), "queryLanguage": "JSONata"}
    app = build_app(cdk.App(context=context, outdir=str(outdir), analytics_reporting=False))
    return {child.stack_name: child for child in app.node.children if isinstance(child, cdk.Stack)}


@pytest.fixture(params=QUERY_LANGUAGES)
def language_example_stacks(request: pytest.FixtureRequest) -> dict[str, cdk.Stack]:
    """The example stacks, once with their workflows in JSONPath and once in JSONata (the test parameter)."""
    name = "example_stacks" if request.param == "JSONPath" else "jsonata_example_stacks"
    stacks: dict[str, cdk.Stack] = request.getfixturevalue(name)
    return stacks


@pytest.fixture
def plain_app(tmp_path: Path) -> cdk.App:
    """An app with cdk.json's context and no cdk-nag: for test stacks that only exercise the local kit."""
    return plain_app_at(tmp_path / "cdk.out")


def new_stack(outdir: Path) -> cdk.Stack:
    """An empty stack in its own app (cdk-nag on, synthesized into ``outdir``), in a fixed environment."""
    return cdk.Stack(new_app(outdir), "Test", env=cdk.Environment(account="123456789012", region="us-east-1"))


@pytest.fixture
def stack(tmp_path: Path) -> cdk.Stack:
    """An empty stack in its own app (cdk-nag on), in a fixed environment."""
    return new_stack(tmp_path / "cdk.out")


@dataclass
class SharedServiceModels:
    """botocore's own ``create_loader``, which the session-wide sharing replaced (a test of the sharing needs it)."""

    create_loader: Callable[..., Any]


@pytest.fixture(scope="session", autouse=True)
def botocore_models_read_once() -> Iterator[SharedServiceModels]:
    """botocore's service models read once per worker, not once per botocore session: moto gives every ``mock_aws``
    start a new boto3 default session, whose first client of a service read its model again (about 120 ms a
    client). The kit shares them the same way while it runs (``service_models``); this does it for the whole run."""
    import botocore.session

    from constructs_lib.testing._engine import service_models

    original = botocore.session.create_loader
    with pytest.MonkeyPatch.context() as monkeypatch:

        class Patches:
            @staticmethod
            def replace(owner: Any, name: str, new: Any) -> Any:
                replaced = getattr(owner, name)
                monkeypatch.setattr(owner, name, new)
                return replaced

        service_models.install(Patches())
        yield SharedServiceModels(original)
