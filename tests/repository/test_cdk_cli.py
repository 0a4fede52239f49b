"""The real CDK CLI, pinned in package.json, synthesizes the example app (CloudFormation validation on)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from constructs_lib.testing import state_machine_definitions, validate_definition
from tests.conftest import REPO_ROOT
from tools.cdk_cli import CDK, cli_env  # the environment `make synth` gives the pinned CLI


def test_cli_is_the_pinned_2x_version() -> None:
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    result = subprocess.run(
        [str(CDK), "--version"], capture_output=True, text=True, env=cli_env(), check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == pinned
    assert pinned.startswith("2.")


def test_cli_synthesizes_every_example_stack(cli_cloud_assembly: Path) -> None:
    outdir = cli_cloud_assembly
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = sorted(k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack")
    assert stacks == [
        "DefectDetection",
        "DestinedLambda",
        "DurableOrders",
        "OrchestratedLambda",
        "PowerTuning",
        "S3BatchSentiment",
        "SlackErrorReporting",
    ]
    template = json.loads((outdir / "DestinedLambda.template.json").read_text())
    assert any(r["Type"] == "AWS::Lambda::EventInvokeConfig" for r in template["Resources"].values())
    # every state machine in cdk.out/ is valid Amazon States Language (asl-validator)
    machines = 0
    for path in sorted(outdir.glob("*.template.json")):
        for name, definition in state_machine_definitions(json.loads(path.read_text())).items():
            validate_definition(definition, name=f"{path.name}/{name}")
            machines += 1
    assert machines >= 1
    report = json.loads((outdir / "validation-report.json").read_text())
    plugins = {p["pluginName"]: p for p in report["pluginReports"]}
    assert "AwsSolutions" in plugins, sorted(plugins)
    for name, plugin in plugins.items():
        assert plugin["conclusion"] == "success", f"{name}: {json.dumps(plugin['violations'])[:2000]}"
        assert plugin["violations"] == []
