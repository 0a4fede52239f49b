"""PythonDependencyLayer: what it builds (real pip, local wheels only), what it synthesizes, what it refuses.

No network: every package comes from wheels crafted here and given to pip with ``--find-links <dir> --no-index``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib._internal.validation import ConstructPropsError
from constructs_lib.workloads.python_dependency_layer import (
    UNUSED_DOCKER_IMAGE,
    LayerBuildError,
    PythonDependencyLayer,
    default_platforms,
)
from tests.conftest import cdk_context, new_app, plain_app_at

ENV = cdk.Environment(account="123456789012", region="us-east-1")
TINYGREET = 'GREETING = "hello"\n\n\ndef greet(name):\n    return f"{GREETING} {name}, from tinygreet"\n'


# -- wheels, crafted by hand (a wheel is a zip with METADATA, WHEEL and RECORD) -----------------------------------
def make_wheel(folder: Path, name: str, version: str, files: dict[str, str], tag: str = "py3-none-any") -> Path:
    dist_info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: {'true' if tag.endswith('any') else 'false'}\n"
            f"Tag: {tag}\n"
        ),
    }
    record = []
    for path, text in contents.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    make_wheel(
        folder,
        "tinygreet",
        "1.0.0",
        {
            "tinygreet/__init__.py": TINYGREET,
            # a console script: pip writes it to <target>/bin with this machine's interpreter in its shebang
            "tinygreet-1.0.0.data/scripts/tinygreet": "#!python\nimport tinygreet\nprint(tinygreet.greet('you'))\n",
        },
    )
    make_wheel(
        folder, "armonly", "1.0.0", {"armonly/__init__.py": "ARCH = 'aarch64'\n"}, "py3-none-manylinux2014_aarch64"
    )
    make_wheel(folder, "cp311only", "1.0.0", {"cp311only/__init__.py": "V = 311\n"}, "cp311-cp311-manylinux2014_x86_64")
    return folder


def make_layer(
    stack: cdk.Stack,
    tmp_path: Path,
    wheelhouse: Path | None,
    requirements: str | None = "tinygreet==1.0.0\n",
    construct_id: str = "Deps",
    **props: Any,
) -> PythonDependencyLayer:
    if requirements is not None:
        requirements_file = tmp_path / "requirements.txt"
        requirements_file.write_text(requirements)
        props.setdefault("requirements_file", requirements_file)
    if wheelhouse is not None:
        props.setdefault("pip_args", ["--find-links", str(wheelhouse), "--no-index"])
    props.setdefault("cache_dir", tmp_path / "layer-cache")
    return PythonDependencyLayer(stack, construct_id, **props)


def asset_dir(layer: PythonDependencyLayer) -> Path:
    path = Path(layer.asset.asset_path)
    if not path.is_absolute():
        outdir = cdk.Stage.of(layer).outdir  # type: ignore[union-attr]
        path = Path(outdir) / path
    return path


def fresh_stack(outdir: Path, name: str = "Test") -> cdk.Stack:
    return cdk.Stack(new_app(outdir), name, env=ENV)


@pytest.fixture
def unbuilt_stack(tmp_path: Path) -> Iterator[cdk.Stack]:
    """A stack (cdk-nag on) whose app builds no asset, as ``cdk synth --exclusively`` of another stack: for tests
    of the template alone, which the layer renders from its own hash without running pip."""
    app = new_app(tmp_path / "cdk.out")
    app.node.set_context("aws:cdk:bundling-stacks", [])
    yield cdk.Stack(app, "Test", env=ENV)
    assert not list((tmp_path / "cdk.out").glob("asset.*")), "a layer was built: the test ran pip"


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- what it builds --------------------------------------------------------------------------------------------
def test_the_layer_holds_the_package_under_python_without_machine_noise(
    stack: cdk.Stack, tmp_path: Path, wheelhouse: Path
) -> None:
    deps = make_layer(stack, tmp_path, wheelhouse)
    Template.from_stack(stack)  # cdk-nag AwsSolutions: no finding

    root = asset_dir(deps)
    assert (root / "python" / "tinygreet" / "__init__.py").read_text() == TINYGREET
    assert (root / "python" / "tinygreet-1.0.0.dist-info" / "METADATA").is_file()
    assert not (root / "python" / "bin").exists(), "console scripts carry this machine's interpreter path"
    assert not list(root.rglob("__pycache__"))
    assert not list(root.rglob("*.pyc"))
    assert not list(root.rglob("RECORD"))
    assert deps.bundler.builds == 1


def test_the_template_declares_the_runtime_and_architecture(
    unbuilt_stack: cdk.Stack, tmp_path: Path, wheelhouse: Path
) -> None:
    deps = make_layer(
        unbuilt_stack,
        tmp_path,
        wheelhouse,
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
    )
    assert deps.bundler.builds == 0
    Template.from_stack(unbuilt_stack).has_resource(
        "AWS::Lambda::LayerVersion",
        {
            "Properties": {
                "CompatibleRuntimes": ["python3.13"],
                "CompatibleArchitectures": ["arm64"],
                "Content": {"S3Bucket": Match.any_value(), "S3Key": Match.string_like_regexp(r"^[0-9a-f]{64}\.zip$")},
                "Description": "Python 3.13 arm64 layer from requirements.txt",
            },
            "DeletionPolicy": "Delete",
        },
    )


def test_the_architecture_selects_the_wheels(tmp_path: Path, wheelhouse: Path) -> None:
    arm = make_layer(
        fresh_stack(tmp_path / "arm"),
        tmp_path,
        wheelhouse,
        "armonly==1.0.0\n",
        architecture=lambda_.Architecture.ARM_64,
    )
    assert (asset_dir(arm) / "python" / "armonly" / "__init__.py").is_file()

    with pytest.raises(LayerBuildError, match=r"armonly.*\n(.|\n)*No wheel of that package"):
        make_layer(fresh_stack(tmp_path / "x86"), tmp_path, wheelhouse, "armonly==1.0.0\n", cache=False)


def test_the_runtimes_python_version_selects_the_wheels(tmp_path: Path, wheelhouse: Path) -> None:
    py311 = make_layer(
        fresh_stack(tmp_path / "311"), tmp_path, wheelhouse, "cp311only==1.0.0\n", runtime=lambda_.Runtime.PYTHON_3_11
    )
    assert (asset_dir(py311) / "python" / "cp311only" / "__init__.py").is_file()

    with pytest.raises(LayerBuildError, match=r"for Python 3\.14 \(x86_64\)"):  # the default runtime
        make_layer(fresh_stack(tmp_path / "314"), tmp_path, wheelhouse, "cp311only==1.0.0\n", cache=False)


def test_default_platforms_follow_the_runtimes_glibc() -> None:
    al2 = default_platforms("3.11", lambda_.Architecture.X86_64)
    al2023 = default_platforms("3.12", lambda_.Architecture.ARM_64)
    assert al2[0] == "manylinux2014_x86_64"
    assert "manylinux_2_26_x86_64" in al2
    assert "manylinux_2_28_x86_64" not in al2
    assert al2023[0] == "manylinux2014_aarch64"
    assert {"manylinux_2_28_aarch64", "manylinux_2_34_aarch64"} <= set(al2023)
    assert "manylinux_2_35_aarch64" not in al2023


def test_a_code_folder_is_copied_under_python_without_caches(
    stack: cdk.Stack, tmp_path: Path, wheelhouse: Path
) -> None:
    code = tmp_path / "shared"
    (code / "shared_lib" / "__pycache__").mkdir(parents=True)
    (code / "shared_lib" / "__init__.py").write_text("from tinygreet import greet\n")
    (code / "shared_lib" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    (code / "shared_lib" / "notes.md").write_text("not shipped\n")
    deps = make_layer(stack, tmp_path, wheelhouse, code_dir=code, exclude=["**/*.md"])

    shipped = files_of(asset_dir(deps) / "python")
    assert shipped["shared_lib/__init__.py"] == b"from tinygreet import greet\n"
    assert "tinygreet/__init__.py" in shipped
    assert not [name for name in shipped if "__pycache__" in name or name.endswith(".md")]


def test_a_code_folder_alone_needs_no_pip(stack: cdk.Stack, tmp_path: Path) -> None:
    code = tmp_path / "shared"
    code.mkdir()
    (code / "constants.py").write_text("ANSWER = 42\n")
    deps = make_layer(stack, tmp_path, None, None, code_dir=code, pip_command=[sys.executable, "-c", "exit(9)"])
    assert files_of(asset_dir(deps)) == {"python/constants.py": b"ANSWER = 42\n"}


# -- the asset hash: stable, following the inputs, cheap to re-synth -------------------------------------------
def test_a_second_synth_gives_the_same_asset_hash_and_content(tmp_path: Path, wheelhouse: Path) -> None:
    first = make_layer(fresh_stack(tmp_path / "one"), tmp_path, wheelhouse, cache=False)
    second = make_layer(fresh_stack(tmp_path / "two"), tmp_path, wheelhouse, cache=False)

    assert second.bundler.builds == 1, "the second synth ran pip again (no cache, a fresh cdk.out)"
    assert first.asset_hash == second.asset_hash
    assert files_of(asset_dir(first)) == files_of(asset_dir(second))
    key = Template.from_stack(cdk.Stack.of(second)).find_resources("AWS::Lambda::LayerVersion")
    assert [r["Properties"]["Content"]["S3Key"] for r in key.values()] == [f"{first.asset_hash}.zip"]


def test_the_asset_hash_follows_requirements_code_platform_and_python_version(tmp_path: Path, wheelhouse: Path) -> None:
    """The hash is the construct's own, from its inputs: CDK is told to build no asset (its context
    ``aws:cdk:bundling-stacks``, as ``cdk synth --exclusively`` sets it), and no pip runs."""
    code = tmp_path / "shared"
    code.mkdir()
    (code / "constants.py").write_text("ANSWER = 42\n")
    hashes: dict[str, str] = {}

    def synth(label: str, requirements: str | None = "tinygreet==1.0.0\n", **props: Any) -> None:
        props.setdefault("code_dir", code)
        context = {**cdk_context(), "aws:cdk:bundling-stacks": []}
        app = cdk.App(context=context, outdir=str(tmp_path / label), analytics_reporting=False)
        layer = make_layer(cdk.Stack(app, "Test", env=ENV), tmp_path, wheelhouse, requirements, **props)
        assert layer.bundler.builds == 0
        hashes[label] = layer.asset_hash

    synth("base")
    synth("same")
    synth("requirements", "tinygreet==1.0.0\n# reviewed\n")
    synth("arm64", architecture=lambda_.Architecture.ARM_64)
    synth("python3.13", runtime=lambda_.Runtime.PYTHON_3_13)
    (code / "constants.py").write_text("ANSWER = 43\n")
    synth("code")
    make_wheel(wheelhouse, "tinygreet", "1.0.1", {"tinygreet/__init__.py": TINYGREET})
    synth("wheelhouse")

    assert hashes["same"] == hashes["base"]
    others = {label: value for label, value in hashes.items() if label != "same"}
    assert len(set(others.values())) == len(others), hashes


def test_the_same_cdk_out_skips_the_build(tmp_path: Path, wheelhouse: Path) -> None:
    first = make_layer(fresh_stack(tmp_path / "out"), tmp_path, wheelhouse, cache=False)
    again = make_layer(fresh_stack(tmp_path / "out"), tmp_path, wheelhouse, cache=False)
    assert (first.bundler.builds, again.bundler.builds) == (1, 0)
    assert again.asset_hash == first.asset_hash


def test_a_fresh_cdk_out_takes_the_build_from_the_cache_without_pip(tmp_path: Path, wheelhouse: Path) -> None:
    first = make_layer(fresh_stack(tmp_path / "one"), tmp_path, wheelhouse)
    broken_pip = [sys.executable, "-c", "raise SystemExit('pip must not run')"]
    cached = make_layer(fresh_stack(tmp_path / "two"), tmp_path, wheelhouse, pip_command=broken_pip)

    assert cached.asset_hash == first.asset_hash
    assert files_of(asset_dir(cached)) == files_of(asset_dir(first))
    assert (tmp_path / "layer-cache" / first.source_hash / "python" / "tinygreet" / "__init__.py").is_file()


# -- when it cannot build: a clear error, and never Docker ------------------------------------------------------
def test_a_missing_package_is_a_clear_error_with_pips_reason(
    stack: cdk.Stack, tmp_path: Path, wheelhouse: Path
) -> None:
    with pytest.raises(LayerBuildError) as raised:
        make_layer(stack, tmp_path, wheelhouse, "tinygreet==1.0.0\nnosuchpkg==2.0\n")
    message = str(raised.value)
    assert message.startswith("Test/Deps: pip could not install ")
    assert "for Python 3.14 (x86_64)" in message
    assert "ERROR: No matching distribution found for nosuchpkg==2.0" in message
    assert "No wheel of that package (version) exists for CPython 3.14" in message
    assert "--only-binary=:all:" in message
    assert "docker" not in message.lower()


def test_without_pip_the_error_says_what_to_install_and_docker_is_never_tried(stack: cdk.Stack, tmp_path: Path) -> None:
    no_pip = [sys.executable, "-m", "no_such_pip_module"]
    with pytest.raises(LayerBuildError) as raised:
        make_layer(stack, tmp_path, None, pip_command=no_pip)
    message = str(raised.value)
    assert "pip is needed to build this layer on this machine (it is never built in Docker)" in message
    assert "No module named no_such_pip_module" in message
    assert "python -m ensurepip --upgrade" in message
    assert "spawnSync docker" not in message  # what CDK says when it falls back to a Docker that is not there


def test_a_pip_command_that_cannot_run_is_the_same_clear_error(stack: cdk.Stack, tmp_path: Path) -> None:
    with pytest.raises(LayerBuildError) as raised:
        make_layer(stack, tmp_path, None, pip_command=[str(tmp_path / "no-such-python"), "-m", "pip"])
    message = str(raised.value)
    assert "pip is needed to build this layer on this machine" in message
    assert "No such file or directory" in message


def test_local_bundling_builds_or_raises_and_never_returns_false(
    stack: cdk.Stack, tmp_path: Path, wheelhouse: Path
) -> None:
    """False from try_bundle would make CDK run the build in Docker: the bundler returns True or raises."""
    deps = make_layer(stack, tmp_path, wheelhouse, cache=False)
    image = cdk.DockerImage.from_registry(UNUSED_DOCKER_IMAGE)
    assert deps.bundler.try_bundle(str(tmp_path / "again"), image=image) is True
    assert (tmp_path / "again" / "python" / "tinygreet" / "__init__.py").is_file()

    deps.pip_command = (sys.executable, "-m", "no_such_pip_module")
    with pytest.raises(LayerBuildError, match="pip is needed"):
        deps.bundler.try_bundle(str(tmp_path / "broken"), image=image)


# -- sharing ---------------------------------------------------------------------------------------------------
def test_sharing_with_accounts_and_an_organization(unbuilt_stack: cdk.Stack, tmp_path: Path, wheelhouse: Path) -> None:
    stack = unbuilt_stack
    deps = make_layer(
        stack,
        tmp_path,
        wheelhouse,
        share_with_accounts=["111111111111", "222222222222", "123456789012"],
        share_with_organization="o-a1b2c3d4e5",
    )
    deps.share_with_accounts("111111111111")  # again: no second permission
    template = Template.from_stack(stack)

    permissions = template.find_resources("AWS::Lambda::LayerVersionPermission")
    principals = sorted(
        (p["Properties"]["Principal"], p["Properties"].get("OrganizationId")) for p in permissions.values()
    )
    assert principals == [("*", "o-a1b2c3d4e5"), ("111111111111", None), ("222222222222", None)]
    for permission in permissions.values():
        assert permission["Properties"]["Action"] == "lambda:GetLayerVersion"
    template.has_resource("AWS::Lambda::LayerVersion", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})


def test_an_explicit_removal_policy_wins_over_the_shared_default(
    unbuilt_stack: cdk.Stack, tmp_path: Path, wheelhouse: Path
) -> None:
    stack = unbuilt_stack
    deps = make_layer(stack, tmp_path, wheelhouse, removal_policy=cdk.RemovalPolicy.DESTROY)
    deps.share_with_organization("o-a1b2c3d4e5")
    Template.from_stack(stack).has_resource("AWS::Lambda::LayerVersion", {"DeletionPolicy": "Delete"})


def test_unpinned_requirements_are_a_synth_warning(unbuilt_stack: cdk.Stack, tmp_path: Path, wheelhouse: Path) -> None:
    stack = unbuilt_stack
    make_layer(stack, tmp_path, wheelhouse, "tinygreet>=1.0\n")
    Annotations.from_stack(stack).has_warning(
        "/Test/Deps", Match.string_like_regexp(r"requirements\.txt: tinygreet not pinned with ==")
    )


# -- what it refuses -------------------------------------------------------------------------------------------
def _empty_requirements(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "empty.txt").write_text("# nothing yet\n--no-index\n")
    return {"requirements_file": tmp_path / "empty.txt"}


REJECTIONS: dict[str, tuple[Any, str]] = {
    "runtime_not_python": (
        lambda tmp: {"runtime": lambda_.Runtime.NODEJS_22_X},
        "runtime must be a Python runtime such as lambda_.Runtime.PYTHON_3_12, got 'nodejs22.x'",
    ),
    "requirements_file_missing": (
        lambda tmp: {"requirements_file": tmp / "nope.txt"},
        "nope.txt' does not exist or is not a file",
    ),
    "code_dir_missing": (lambda tmp: {"code_dir": tmp / "nowhere"}, "nowhere' does not exist or is not a folder"),
    "neither_requirements_nor_code": (
        lambda tmp: {"requirements_file": None},
        "give requirements_file (packages to install), code_dir (Python code to ship), or both",
    ),
    "requirements_without_packages": (_empty_requirements, "empty.txt' lists no package; add one or give code_dir"),
    "unknown_architecture": (
        lambda tmp: {"architecture": lambda_.Architecture.custom("riscv64", "linux/riscv64")},
        "architecture must be lambda_.Architecture.X86_64 or ARM_64, got 'riscv64'",
    ),
    "malformed_account_id": (
        lambda tmp: {"share_with_accounts": ["12345678901a"]},
        "share_with_accounts: '12345678901a' is not an AWS account id (12 digits)",
    ),
    "public_account_wildcard": (
        lambda tmp: {"share_with_accounts": ["*"]},
        "share_with_accounts: '*' would make the layer public",
    ),
    "malformed_organization_id": (
        lambda tmp: {"share_with_organization": "org-123"},
        "share_with_organization: 'org-123' is not an AWS Organizations id",
    ),
    "pip_args_owned_by_the_construct": (
        lambda tmp: {"pip_args": ["--platform=macosx_11_0_arm64"]},
        "pip_args must not set --platform: the construct sets it",
    ),
    "platform_of_another_architecture": (
        lambda tmp: {"platforms": ["manylinux2014_aarch64"]},
        "platforms: 'manylinux2014_aarch64' is not a tag for x86_64 (it must end in _x86_64)",
    ),
    "empty_pip_command": (lambda tmp: {"pip_command": []}, "pip_command is empty"),
}


@pytest.mark.parametrize("rule", sorted(REJECTIONS))
def test_rejects_bad_props(stack: cdk.Stack, tmp_path: Path, rule: str) -> None:
    props_for, message = REJECTIONS[rule]
    with pytest.raises(ConstructPropsError, match=re.escape(message)) as raised:
        make_layer(stack, tmp_path, None, **props_for(tmp_path))
    assert raised.value.construct_path == "Test/Deps"
    assert not list((tmp_path / "cdk.out").glob("asset.*")), "validation happens before any build"


def test_rejects_bad_ids_given_to_the_grant_methods(unbuilt_stack: cdk.Stack, tmp_path: Path, wheelhouse: Path) -> None:
    deps = make_layer(unbuilt_stack, tmp_path, wheelhouse)
    with pytest.raises(ConstructPropsError, match=r"'9' is not an AWS account id"):
        deps.share_with_accounts("9")
    with pytest.raises(ConstructPropsError, match=r"'o-X' is not an AWS Organizations id"):
        deps.share_with_organization("o-X")


# -- what it does (local kit: a function imports the package from the layer) ----------------------------------
@pytest.mark.execution
def test_a_function_imports_the_package_from_the_layer(tmp_path: Path, wheelhouse: Path) -> None:
    from constructs_lib.testing import LocalKit

    app = plain_app_at(tmp_path / "cdk.out")
    stack = cdk.Stack(app, "Kit")
    code = tmp_path / "shared"
    (code / "shared_lib").mkdir(parents=True)
    (code / "shared_lib" / "__init__.py").write_text("from tinygreet import greet\n\nSHOUT = True\n")
    deps = make_layer(stack, tmp_path, wheelhouse, code_dir=code)
    lambda_.Function(
        stack,
        "Greeter",
        runtime=deps.runtime,
        handler="index.handler",
        layers=[deps.layer],
        code=lambda_.Code.from_inline(
            "import shared_lib, tinygreet\n\n"
            "def handler(event, context):\n"
            "    return {'greeting': shared_lib.greet(event['name']), 'from': tinygreet.__file__}\n"
        ),
    )
    with LocalKit.from_stack(stack) as kit:
        invocation = kit.invoke("Greeter", {"name": "Ada"})

    assert invocation.succeeded, invocation.payload
    assert invocation.result["greeting"] == "hello Ada, from tinygreet"
    assert Path(invocation.result["from"]).is_relative_to(asset_dir(deps) / "python")


def test_the_asset_hash_does_not_depend_on_where_the_project_is(tmp_path: Path, wheelhouse: Path) -> None:
    hashes = []
    for place in ("checkout-a", "elsewhere/checkout-b"):
        project = tmp_path / place
        shutil.copytree(wheelhouse, project / "wheels")
        (project / "shared").mkdir()
        (project / "shared" / "constants.py").write_text("ANSWER = 42\n")
        (project / "requirements.txt").write_text("tinygreet==1.0.0\n")
        layer = PythonDependencyLayer(
            fresh_stack(project / "cdk.out"),
            "Deps",
            requirements_file=project / "requirements.txt",
            code_dir=project / "shared",
            pip_args=[f"--find-links={project / 'wheels'}", "--no-index"],
            cache=False,
        )
        hashes.append(layer.asset_hash)
    assert hashes[0] == hashes[1]
