"""The built wheel is a distribution another CDK app can use: it installs, imports and ships the handler code.

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
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
DEV_PURELIB = Path(sysconfig.get_paths()["purelib"]).resolve()
TIMEOUT_SECONDS = 600

WHEEL_WORKER = "constructs_lib/lambda_src/destined_lambda/worker.py"
WHEEL_CONSTRUCT = "constructs_lib/destined_function.py"

CONSUMER_APP = textwrap.dedent(
    """
    import json
    import sys

    import aws_cdk
    from aws_cdk import aws_lambda

    import constructs_lib
    from constructs_lib import DestinedFunction, EventBusRoute, QueueRoute, bundled_code

    app = aws_cdk.App(outdir=sys.argv[1])
    stack = aws_cdk.Stack(app, "WheelConsumer")
    DestinedFunction(
        stack,
        "Fn",
        function_props=aws_lambda.FunctionProps(
            runtime=aws_lambda.Runtime.PYTHON_3_14,
            handler="worker.handler",
            code=bundled_code("destined_lambda"),
        ),
        on_success=EventBusRoute(),
        on_failure=QueueRoute(),
    )
    app.synth()
    print(
        json.dumps(
            {
                "package_file": constructs_lib.__file__,
                "asset_path": str(constructs_lib.assets.asset_path("destined_lambda")),
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
    assert WHEEL_WORKER in names, names
    assert WHEEL_CONSTRUCT in names, names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")], names


def test_wheel_declares_its_pinned_dependencies(wheel: Path) -> None:
    """The dependencies pip would install with the wheel are the pinned ones the tests run against."""
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert "aws-cdk-lib==2.275.0" in requires, requires
    assert "constructs==10.8.1" in requires, requires
    assert any(r.startswith("cdk-nag==3.0.2") and "extra == 'nag'" in r for r in requires), requires
    for name, pinned in (("aws-cdk-lib", "2.275.0"), ("constructs", "10.8.1")):
        assert importlib.metadata.version(name) == pinned


def test_installed_wheel_synthesizes_in_another_app(wheel: Path, tmp_path: Path) -> None:
    # The development venv must not provide constructs_lib itself (the repo reaches sys.path only through pytest's
    # `pythonpath`), or the import below would not prove anything about the wheel.
    leaks = [
        entry.name
        for entry in DEV_PURELIB.iterdir()
        if "constructs_lib" in entry.name.lower().replace("-", "_")
        or (entry.suffix == ".pth" and str(REPO_ROOT) in entry.read_text(errors="replace"))
    ]
    assert not leaks, f"{DEV_PURELIB} already provides constructs_lib: {leaks}"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
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
        cwd=tmp_path,
    )
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path)
    venv_purelib = Path(purelib.stdout.strip())
    # Dependencies (aws_cdk, constructs, jsii, ...) from the development venv, after the wheel on sys.path.
    (venv_purelib / "zz_dev_venv_dependencies.pth").write_text(f"{DEV_PURELIB}\n")

    app_file = tmp_path / "consumer_app.py"
    app_file.write_text(CONSUMER_APP)
    outdir = tmp_path / "cdk.out"
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PYTHONHOME"}}
    env |= {
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_VALIDATION": "false",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = _run([python, app_file, outdir], cwd=tmp_path, env=env)

    printed: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    package_file = Path(printed["package_file"]).resolve()
    asset_dir = Path(printed["asset_path"]).resolve()
    assert package_file.is_relative_to(venv.resolve()), f"constructs_lib imported from {package_file}, not the wheel"
    assert not package_file.is_relative_to(REPO_ROOT), package_file
    assert asset_dir.is_relative_to(venv.resolve()), f"handler code found at {asset_dir}, not in the wheel"
    assert (asset_dir / "worker.py").is_file()

    template: dict[str, Any] = json.loads((outdir / "WheelConsumer.template.json").read_text())
    resources: dict[str, Any] = template["Resources"]

    invoke_configs = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert len(invoke_configs) == 1, invoke_configs
    destinations = invoke_configs[0]["Properties"]["DestinationConfig"]
    assert destinations["OnSuccess"]["Destination"], destinations
    assert destinations["OnFailure"]["Destination"], destinations

    functions = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == "worker.handler"
    ]
    assert len(functions) == 1, functions
    s3_key: str = functions[0]["Properties"]["Code"]["S3Key"]
    asset_out = outdir / f"asset.{s3_key.removesuffix('.zip')}"
    assert asset_out.is_dir(), f"{asset_out} missing; outdir has {sorted(p.name for p in outdir.iterdir())}"
    assert (asset_out / "worker.py").is_file(), sorted(p.name for p in asset_out.iterdir())
    assert not (asset_out / "__pycache__").exists()
