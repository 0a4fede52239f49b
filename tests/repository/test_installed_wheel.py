"""The built wheel is a distribution another CDK app can use: it installs, imports, ships the handler code, carries
the package's version, and runs the README's Quick start.

Slow (a wheel build and a fresh virtual environment); run with ``pytest -m slow`` or skip with ``-m "not slow"``.
The fresh environment gets only the wheel (``--no-deps``); aws_cdk and constructs come from the development venv
through a ``.pth`` file, so nothing is downloaded except the build backend (build isolation).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import constructs_lib
from tests.repository.docs_pages import quick_start_code
from tests.repository.test_release import releases

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_PURELIB = Path(sysconfig.get_paths()["purelib"]).resolve()
TIMEOUT_SECONDS = 600

WHEEL_HANDLER = "constructs_lib/workloads/power_tuning/runtime/handlers.py"
WHEEL_CONSTRUCT = "constructs_lib/engines/destined_function.py"
# Example handlers (lambda_src/) and repository tools (tools/) stay out of the wheel.
NOT_IN_WHEEL = (
    "lambda_src/",
    "destined_lambda",
    "orchestrated_lambda",
    "slack_example",
    "s3_batch_sentiment",
    "power_tuning_sample",
    "diagram",
    "tools/",
)

# The Quick start app.py, docs/examples/quick_start.py (tests/repository/test_docs.py checks the README shows it).
QUICK_START_APP = quick_start_code()

# Where the installed package, its bundled handler code and its metadata come from, seen from the fresh venv.
PROBE = textwrap.dedent(
    """
    import importlib.metadata
    import json

    import constructs_lib
    from constructs_lib._internal.assets import LIBRARY_RUNTIME

    print(
        json.dumps(
            {
                "package_file": constructs_lib.__file__,
                "runtime": {name: str(path) for name, path in LIBRARY_RUNTIME.items()},
                "version": constructs_lib.__version__,
                "metadata_version": importlib.metadata.version("constructs-lib"),
            }
        )
    )
    """
)


def _run(args: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(str(arg) for arg in args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the repository root (with build isolation: the pinned hatchling from PyPI)."""
    outdir = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", outdir, REPO_ROOT], cwd=REPO_ROOT)
    wheels = sorted(outdir.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {outdir}, got {wheels}"
    return wheels[0]


def test_wheel_ships_package_and_handler_code(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert WHEEL_HANDLER in names, names
    assert WHEEL_CONSTRUCT in names, names
    assert "constructs_lib/testing/_engine/asl_server.js" in names, "the kit's asl-validator runner is not Python"
    assert not [name for name in names if any(part in name for part in NOT_IN_WHEEL)], names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")], names


def wheel_metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode()


def test_wheel_version_is_the_package_and_changelog_version(wheel: Path) -> None:
    version = constructs_lib.__version__
    assert wheel.name == f"constructs_lib-{version}-py3-none-any.whl"
    assert f"\nVersion: {version}\n" in wheel_metadata(wheel)
    assert releases()[0][0] == version


def test_wheel_declares_ranges_whose_ends_the_repository_tests(wheel: Path) -> None:
    """Ranges, never ``==``: the wheel installs next to an app's own aws-cdk-lib. The lower ends are the versions
    requirements-floor.txt pins (make test-floor); the pinned development versions lie inside the ranges."""
    from packaging.requirements import Requirement

    metadata = wheel_metadata(wheel)
    lines = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    requires = {Requirement(line).name: Requirement(line) for line in lines}
    floor = {
        Requirement(line).name: next(iter(Requirement(line).specifier)).version
        for line in (REPO_ROOT / "requirements-floor.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for name in ("aws-cdk-lib", "constructs", "cdk-nag", "moto", "boto3", "jsonata-python"):
        specifier = requires[name].specifier
        assert all(spec.operator in {">=", "<"} for spec in specifier), (name, str(specifier))
        assert f">={floor[name]}" in {str(spec) for spec in specifier}, (name, str(specifier), floor[name])
        assert specifier.contains(importlib.metadata.version(name)), (name, str(specifier))
    assert 'extra == "nag"' in str(requires["cdk-nag"].marker)
    assert 'extra == "testing"' in str(requires["moto"].marker)


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel installed, and the environment to run its Python in."""

    venv: Path
    python: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    # The development venv must not provide constructs_lib itself (the repo reaches sys.path only through pytest's
    # `pythonpath`), or the imports in the venv would not prove anything about the wheel.
    leaks = [
        entry.name
        for entry in DEV_PURELIB.iterdir()
        if "constructs_lib" in entry.name.lower().replace("-", "_")
        or (entry.suffix == ".pth" and str(REPO_ROOT) in entry.read_text(errors="replace"))
    ]
    assert not leaks, f"{DEV_PURELIB} already provides constructs_lib: {leaks}"

    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    python = _venv_python(venv)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        cwd=root,
    )
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root)
    venv_purelib = Path(purelib.stdout.strip())
    # Dependencies (aws_cdk, constructs, cdk_nag, jsii, ...) from the development venv, after the wheel on sys.path.
    (venv_purelib / "zz_dev_venv_dependencies.pth").write_text(f"{DEV_PURELIB}\n")
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PYTHONHOME", "CDK_OUTDIR"}}
    env |= {
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_VALIDATION": "false",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Installed(venv=venv, python=python, env=env)


def test_installed_package_and_its_handler_code_come_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    result = _run([installed.python, probe], cwd=tmp_path, env=installed.env)
    printed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    package_file = Path(printed["package_file"]).resolve()
    venv = installed.venv.resolve()
    assert package_file.is_relative_to(venv), f"constructs_lib imported from {package_file}, not the wheel"
    assert not package_file.is_relative_to(REPO_ROOT), package_file
    # Every asset folder of the library's runtime code is found in the installed wheel, and holds code.
    assert set(printed["runtime"]) == {
        "defect_detection",
        "durable_routes",
        "power_tuning",
        "s3_batch_contract",
        "slack_notifier",
        "slack_reporter",
    }
    for name, folder in printed["runtime"].items():
        path = Path(folder).resolve()
        assert path.is_relative_to(venv), f"{name} found at {path}, not in the wheel"
        assert list(path.rglob("*.py")), f"{name}: no code in {path}"
    # One version everywhere: the source, the installed distribution's metadata, and the changelog's latest release.
    assert printed["version"] == printed["metadata_version"] == constructs_lib.__version__
    assert releases()[0][0] == constructs_lib.__version__


def test_readme_quick_start_runs_against_the_installed_wheel(installed: Installed, tmp_path: Path) -> None:
    app_file = tmp_path / "app.py"
    app_file.write_text(QUICK_START_APP)
    outdir = tmp_path / "cdk.out"
    # The README's own second command: `CDK_OUTDIR=cdk.out python3 app.py`, in a folder outside the repository.
    _run([installed.python, app_file], cwd=tmp_path, env=installed.env | {"CDK_OUTDIR": str(outdir)})

    template: dict[str, Any] = json.loads((outdir / "QuickStart.template.json").read_text())
    resources: dict[str, Any] = template["Resources"]

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [r for r in resources.values() if r["Type"] == kind]

    (function,) = of_type("AWS::Lambda::Function")
    assert function["Properties"]["Handler"] == "index.handler"
    assert "orderId is missing" in function["Properties"]["Code"]["ZipFile"]
    assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
    (invoke_config,) = of_type("AWS::Lambda::EventInvokeConfig")
    properties = invoke_config["Properties"]
    assert (properties["MaximumRetryAttempts"], properties["MaximumEventAgeInSeconds"]) == (2, 3600)
    destinations = properties["DestinationConfig"]
    assert destinations["OnSuccess"]["Destination"]["Fn::GetAtt"][1] == "Arn"
    bus_id = destinations["OnSuccess"]["Destination"]["Fn::GetAtt"][0]
    assert resources[bus_id]["Type"] == "AWS::Events::EventBus"
    queue_id = destinations["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    queue = resources[queue_id]["Properties"]
    assert resources[queue_id]["Type"] == "AWS::SQS::Queue"
    assert queue["SqsManagedSseEnabled"] is True
    assert "RedrivePolicy" in queue
    assert len(of_type("AWS::SQS::Queue")) == 2  # the failure queue and its DLQ
    # the function's four, and on each queue the age of its oldest message, and messages waiting on the DLQ
    assert len(of_type("AWS::CloudWatch::Alarm")) == 7
    (log_group_id,) = [key for key, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"]
    # The function's role may do what the README says, nothing else: logs, traces, the two destinations.
    grants = {
        (action, json.dumps(statement["Resource"]))
        for policy in of_type("AWS::IAM::Policy")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {resource for action, resource in grants if not action.startswith("xray:")} == {
        json.dumps({"Fn::GetAtt": [log_group_id, "Arn"]}),
        json.dumps({"Fn::GetAtt": [queue_id, "Arn"]}),
        json.dumps({"Fn::GetAtt": [bus_id, "Arn"]}),
    }
    assert {action for action, _ in grants} == {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "events:PutEvents",
    }
    assert "FunctionName" in template["Outputs"]

    # cdk-nag ran (the README adds it) and passed with the one acknowledgment the README names.
    report: dict[str, Any] = json.loads((outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert (plugin["pluginName"], plugin["conclusion"], plugin["violations"]) == ("AwsSolutions", "success", [])
    assert [v["ruleName"] for v in plugin["suppressedViolations"]] == ["AwsSolutions-IAM5[Resource::*]"]
    assert "xray:PutTraceSegments" in plugin["suppressedViolations"][0]["reason"]
