"""The public snapshot helpers: the same stack synthesized from two checkouts, with a changed handler file, gives
equal snapshots; a change to a prop the user set changes the snapshot; what CDK releases change is masked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from constructs_lib import DestinedFunction
from constructs_lib.testing import cloud_assembly_snapshot, template_snapshot
from tests.conftest import REPO_ROOT, cdk_context

HANDLER = "def handler(event, context):\n    return {'status': 'ACCEPTED', **event}\n"
CHANGED_HANDLER = "def handler(event, context):\n    return {'status': 'ACCEPTED', 'orderId': event['orderId']}\n"

# A user's app, as a file in their checkout: a function from an asset folder beside it, published as a version
# behind an alias (its CurrentVersion logical id embeds a hash of the function), wired by DestinedFunction.
APP = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from constructs_lib import DestinedFunction

    HERE = Path(__file__).parent
    MEMORY = int(sys.argv[1]) if len(sys.argv) > 1 else 256

    app = cdk.App(context=json.loads((HERE / "cdk.json").read_text())["context"])
    stack = cdk.Stack(app, "Orders")
    function = lambda_.Function(
        stack,
        "Orders",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="orders.handler",
        code=lambda_.Code.from_asset(str(HERE / "handlers")),
        memory_size=MEMORY,
    )
    live = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    DestinedFunction(stack, "Wired", function=live)
    app.synth()
    """
)


def checkout(root: Path, handler: str) -> Path:
    """A copy of the user's project at ``root``: the app, its handler folder and the cdk.json it synthesizes with."""
    (root / "handlers").mkdir(parents=True)
    (root / "handlers" / "orders.py").write_text(handler)
    (root / "app.py").write_text(APP)
    shutil.copy(REPO_ROOT / "cdk.json", root / "cdk.json")
    return root


def synth(project: Path, *arguments: str) -> Path:
    """``python app.py`` in the checkout, as ``cdk synth`` runs it; returns the cloud assembly folder."""
    outdir = project / "cdk.out"
    environment = {**os.environ, "CDK_OUTDIR": str(outdir), "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "app.py", *arguments], cwd=project, env=environment, check=True, timeout=300)
    return outdir


def test_two_checkouts_and_a_changed_handler_give_the_same_snapshot_and_a_prop_change_does_not(
    tmp_path: Path,
) -> None:
    first = synth(checkout(tmp_path / "home" / "alice" / "orders", HANDLER))
    second = synth(checkout(tmp_path / "ci" / "build-7" / "src", CHANGED_HANDLER))
    raw = [json.loads((out / "Orders.template.json").read_text()) for out in (first, second)]
    assert raw[0] != raw[1], "the handler change must reach the template (asset hash, version id)"

    assert cloud_assembly_snapshot(first) == cloud_assembly_snapshot(second)
    snapshot = cloud_assembly_snapshot(first)["Orders"]
    versions = [key for key in snapshot["Resources"] if "CurrentVersion" in key]
    assert [key.endswith("<content-hash>") for key in versions] == [True]

    bigger = synth(checkout(tmp_path / "bigger", HANDLER), "512")
    assert cloud_assembly_snapshot(bigger) != cloud_assembly_snapshot(first)
    functions = [
        r["Properties"]
        for r in cloud_assembly_snapshot(bigger)["Orders"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert [f["MemorySize"] for f in functions] == [512]


def stack_with(handler_dir: Path, tmp_path: Path, **props: Any) -> cdk.Stack:
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path / "cdk.out"), analytics_reporting=True)
    stack = cdk.Stack(app, "Orders")
    DestinedFunction(
        stack,
        "Orders",
        function_props=lambda_.FunctionProps(
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="orders.handler",
            code=lambda_.Code.from_asset(str(handler_dir)),
            **props,
        ),
    )
    return stack


def test_a_stack_in_process_masks_asset_hashes_cdk_metadata_and_the_bootstrap_version(tmp_path: Path) -> None:
    handlers = tmp_path / "handlers"
    handlers.mkdir()
    (handlers / "orders.py").write_text(HANDLER)
    stack = stack_with(handlers, tmp_path, description="takes orders")
    template = Template.from_stack(stack).to_json()
    assert "CDKMetadata" in template["Resources"]  # analytics on: the raw template names the CDK version

    snapshot = template_snapshot(stack)
    assert snapshot == template_snapshot(Template.from_stack(stack)) == template_snapshot(template)
    assert "CDKMetadata" not in snapshot["Resources"]
    assert "Conditions" not in snapshot
    assert snapshot["Parameters"]["BootstrapVersion"] == "<masked>"
    assert snapshot["Rules"]["CheckBootstrapVersion"] == "<masked>"
    (function,) = [r for r in snapshot["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["Code"]["S3Key"] == "<asset-hash>.zip"
    assert function["Properties"]["Description"] == "takes orders"  # what the user wrote is kept
    assert "<asset-hash>" not in json.dumps(template)


def test_aws_cdk_libs_own_singleton_runtimes_are_masked() -> None:
    template = {
        "Resources": {
            "AWS679f53fac002430cb0da5b7982bd22872D164C4C": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Runtime": "nodejs22.x", "Handler": "index.handler"},
            },
            "Orders": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.14"}},
        }
    }
    resources = template_snapshot(template)["Resources"]
    assert resources["AWS679f53fac002430cb0da5b7982bd22872D164C4C"]["Properties"]["Runtime"] == "<masked>"
    assert resources["Orders"]["Properties"]["Runtime"] == "python3.14"
