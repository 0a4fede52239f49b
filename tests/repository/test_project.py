"""Project rules that keep the library layered and the checks honest."""

from __future__ import annotations

import ast
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

import constructs_lib
from constructs_lib._internal.assets import LIBRARY_RUNTIME
from stacks._code import runtime_folders
from tests.conftest import REPO_ROOT, new_app


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((REPO_ROOT / folder).rglob("*.py"))


def test_runtime_code_never_imports_aws_cdk_or_the_library() -> None:
    """Runtime code (the examples' lambda_src/ and the library's workloads/*/runtime/) is deployed alone."""
    files = [path for folder in runtime_folders().values() for path in sorted(folder.rglob("*.py"))]
    assert len(files) > 15
    for path in files:
        assert not imported_modules(path) & {"aws_cdk", "constructs", "cdk_nag", "constructs_lib", "stacks", "app"}, (
            path
        )


def test_constructs_lib_never_imports_stacks_or_app() -> None:
    for path in python_files("constructs_lib"):
        assert not imported_modules(path) & {"stacks", "app", "tests", "tools", "benchmarks"}, path


def test_public_api_resolves() -> None:
    for name in constructs_lib.__all__:
        assert getattr(constructs_lib, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = constructs_lib.Nope


def test_cdk_nag_fails_synth_of_test_apps_on_a_finding(tmp_path: Path) -> None:
    """The nag plugin really runs in test apps: an insecure queue fails synth."""
    app = new_app(tmp_path / "cdk.out")
    stack = cdk.Stack(app, "Insecure")
    sqs.Queue(stack, "PlainQueue")
    with pytest.raises(RuntimeError, match=r"AwsSolutions-SQS4"):
        app.synth()


def test_every_runtime_folder_is_a_library_asset_or_an_example() -> None:
    """The library's runtime code lives under constructs_lib/workloads/*/runtime/ and nowhere else in the package."""
    library = {path.resolve() for path in LIBRARY_RUNTIME.values()}
    assert all(path.is_dir() for path in library)
    for runtime in (REPO_ROOT / "constructs_lib").rglob("runtime"):
        inside = {p.resolve() for p in runtime.iterdir() if p.is_dir() and p.name != "__pycache__"} | {
            runtime.resolve()
        }
        assert inside & library, runtime


NAG_MODULE = REPO_ROOT / "constructs_lib" / "_internal" / "nag.py"


def nag_id_spellings(paths: list[Path]) -> list[str]:
    """Every string in the code of ``paths`` (docstrings and comments aside: prose may name a rule) outside the
    cdk-nag module that spells a cdk-nag AwsSolutions finding id, as ``path:line: string``."""
    spelled = []
    for path in paths:
        if path.resolve() == NAG_MODULE.resolve():
            continue
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name
        tree = ast.parse(path.read_text(), filename=str(path))
        prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in prose
                and "AwsSolutions-" in node.value
            ):
                spelled.append(f"{shown}:{node.lineno}: {node.value}")
    return sorted(spelled)


def test_only_the_nag_module_spells_cdk_nag_ids() -> None:
    """Acknowledgments go through constructs_lib/_internal/nag.py's named functions, in the library and the
    example stacks alike: one place says what is acknowledged and why."""
    files = python_files("constructs_lib") + python_files("stacks") + [REPO_ROOT / "app.py"]
    assert NAG_MODULE in files
    assert not nag_id_spellings(files), "spell cdk-nag ids in constructs_lib/_internal/nag.py only:\n" + "\n".join(
        nag_id_spellings(files)
    )


def test_the_nag_id_check_finds_a_spelled_id_in_code_not_in_prose(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""Acknowledges AwsSolutions-IAM5."""\n'
        "# AwsSolutions-L1 in a comment\n"
        'acknowledge(role, "AwsSolutions-IAM5[Resource::*]", "why")\n'
        'rule = f"AwsSolutions-IAM5[Resource::{ref}]"\n'
    )
    assert nag_id_spellings([planted, NAG_MODULE]) == [
        "planted.py:3: AwsSolutions-IAM5[Resource::*]",
        "planted.py:4: AwsSolutions-IAM5[Resource::",
    ]
