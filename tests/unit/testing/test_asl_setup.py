"""How the kit finds asl-validator for a pip user: $ASL_VALIDATOR, node_modules/.bin in the current folder or a
parent of it, beside the installed package, on PATH; else one message that says every way to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.testing._engine import asl


def fake_validator(folder: Path) -> Path:
    executable = folder / "node_modules" / ".bin" / "asl-validator"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\nexit 0\n")
    executable.chmod(0o755)
    return executable


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package installed far from any node_modules, an empty PATH, no $ASL_VALIDATOR."""
    monkeypatch.setattr(asl, "__file__", str(tmp_path / "site-packages" / "constructs_lib" / "testing" / "asl.py"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.delenv(asl.ASL_VALIDATOR_VARIABLE, raising=False)
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    monkeypatch.chdir(project / "tests")
    return project


def test_one_message_says_every_way_to_get_it(nowhere: Path) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        asl.validate_definition({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    message = str(raised.value)
    assert "npm install --save-dev asl-validator@4.0.0" in message
    assert "npm install -g asl-validator@4.0.0" in message
    assert "$ASL_VALIDATOR" in message
    assert "validate_asl=False" in message


def test_the_projects_node_modules_is_found_from_a_subfolder(nowhere: Path) -> None:
    executable = fake_validator(nowhere)
    assert asl._validator() == [str(executable)]


def test_asl_validator_variable_names_the_executable(nowhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executable = fake_validator(nowhere.parent / "elsewhere")
    monkeypatch.setenv(asl.ASL_VALIDATOR_VARIABLE, str(executable))
    assert asl._validator() == [str(executable)]
    monkeypatch.setenv(asl.ASL_VALIDATOR_VARIABLE, str(nowhere / "missing"))
    with pytest.raises(FileNotFoundError, match="is not a file"):
        asl._validator()
