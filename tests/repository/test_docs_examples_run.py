"""The docs examples whose functions have handler code run in the local kit: each example stack is stood up and one
good event goes through each of its functions (asynchronously, as its engine invokes it), so an example that
synthesizes but cannot run (a name its handler never defines, a layer it cannot import) fails here. Examples with a
``test_*`` function of their own are run by test_docs.py; the S3 Batch per-object function runs there too."""

from __future__ import annotations

import inspect
import runpy
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.testing import LocalKit
from tests.conftest import plain_app_at
from tests.repository.docs_pages import EXAMPLES, QUICK_START_FILE

pytestmark = pytest.mark.execution

# example -> (function, event, what it returns)
RUNS: dict[str, tuple[str, dict[str, Any], Any]] = {
    "destined_function": ("Orders/Function", {"orderId": "o-1"}, {"orderId": "o-1", "status": "ACCEPTED"}),
    "destined_function_rules": (
        "Orders/Function",
        {"orderId": "o-1", "quantity": 3},
        {"orderId": "o-1", "status": "ACCEPTED"},
    ),
    "event_patterns": ("Orders/Function", {"orderId": "o-1"}, {"orderId": "o-1", "status": "ACCEPTED"}),
    "routes": ("Worker/Function", {"orderId": "o-1"}, {"orderId": "o-1"}),
    "python_dependency_layer": ("Greeter/Function", {"name": "Ada"}, None),
    "slack_notifier": ("Charge/Function", {"amount": 5}, {"charged": 5}),
    "slack_error_reporter": ("Orders/Function", {"orderId": "o-1"}, {"orderId": "o-1"}),
}


def example_stack(name: str, outdir: Path) -> cdk.Stack:
    run_name = f"docs_run_{name}"
    module = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=run_name)
    (stack_class,) = [
        value
        for value in module.values()
        if inspect.isclass(value) and issubclass(value, cdk.Stack) and value.__module__ == run_name
    ]
    app = plain_app_at(outdir)
    stack: cdk.Stack = stack_class(app, stack_class.__name__)
    return stack


@pytest.fixture
def layer_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSTRUCTS_LIB_LAYER_CACHE", str(tmp_path / "layer-cache"))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_examples_functions_run_in_the_kit(name: str, tmp_path: Path, layer_cache: None) -> None:
    function, event, expected = RUNS[name]
    with LocalKit.from_stack(example_stack(name, tmp_path / "cdk.out")) as kit:
        outcome = kit.invoke_async(function, event)

    assert outcome.succeeded, outcome.record
    assert outcome.record is not None
    if expected is not None:
        assert outcome.record["responsePayload"] == expected


def test_the_quick_start_runs_in_the_kit_from_its_cloud_assembly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "cdk.out"))
    module = runpy.run_path(str(QUICK_START_FILE), run_name="__main__")  # the app synthesizes itself
    with LocalKit.from_cloud_assembly(module["app"].outdir, "QuickStart") as kit:
        good = kit.invoke_async("Orders/Function", {"orderId": "o-1"})
        bad = kit.invoke_async("Orders/Function", {"quantity": 3})
        failures = kit.messages("Orders/OnFailureQueue")

    assert good.record is not None
    assert good.record["responsePayload"] == {"orderId": "o-1", "status": "ACCEPTED"}
    assert bad.condition == "RetriesExhausted"
    assert [f["responsePayload"]["errorType"] for f in failures] == ["ValueError"]
