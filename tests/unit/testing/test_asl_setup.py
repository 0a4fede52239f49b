"""How the kit finds asl-validator for a pip user: $ASL_VALIDATOR, node_modules/.bin in the current folder or a
parent of it, beside the installed package, on PATH; else one message that says every way to get it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.testing._engine import asl

NO_COLOR = {**os.environ, "NO_COLOR": "1"}


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


def counting_validator(folder: Path, *, valid: bool) -> Path:
    """A stand-in asl-validator that records each run (one line per run) and accepts or rejects everything."""
    runs = folder / "runs.txt"
    executable = folder / "node_modules" / ".bin" / "asl-validator"
    executable.parent.mkdir(parents=True)
    executable.write_text(f"#!/bin/sh\necho run >> {runs}\n" + ("exit 0\n" if valid else "echo 'bad state'\nexit 1\n"))
    executable.chmod(0o755)
    return runs


def test_a_definition_text_is_checked_once_per_process(nowhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asl, "_verdicts", {})  # this test's verdicts, not those of earlier kits in the process
    runs = counting_validator(nowhere, valid=True)
    first = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'
    second = '{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}'

    asl.validate_definition_text(first)
    asl.validate_definition_text(first)
    assert runs.read_text().count("run") == 1
    asl.validate_definition_text(second)
    assert runs.read_text().count("run") == 2
    asl.validate_definition({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})  # the public check is not cached
    assert runs.read_text().count("run") == 3


def test_a_rejected_definition_is_rejected_again_from_the_cache(nowhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asl, "_verdicts", {})
    runs = counting_validator(nowhere, valid=False)
    text = '{"StartAt": "Missing", "States": {}}'

    with pytest.raises(asl.AslValidationError, match=r"state machine One is not valid(.|\n)*bad state"):
        asl.validate_definition_text(text, name="state machine One")
    with pytest.raises(asl.AslValidationError, match=r"state machine Two is not valid(.|\n)*bad state"):
        asl.validate_definition_text(text, name="state machine Two")
    assert runs.read_text().count("run") == 1


# -- the running validator: asl-validator's own module in one node process -----------------------------------------
DEFINITIONS: dict[str, dict[str, Any]] = {
    "valid": {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}},
    "missing target": {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}},
    "bad path": {"StartAt": "A", "States": {"A": {"Type": "Pass", "OutputPath": "bad", "End": True}}},
    "bad JSONata": {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": "{% $$$( %}", "End": True}},
    },
    "bad ARN": {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "not-an-arn", "End": True}}},
    "two timeouts": {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "TimeoutSeconds": 3,
                "TimeoutSecondsPath": "$.t",
                "End": True,
            }
        },
    },
    "valid JSONata": {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": "{% $states.input.a %}", "End": True}},
    },
}


def command_line_verdicts(folder: Path) -> dict[str, str | None]:
    """asl-validator's command line on every definition of DEFINITIONS, in one run (``--json-path`` for each): its
    findings for each (what it prints after that file's "is invalid:"), None for those it says are valid."""
    paths = {}
    for index, (name, definition) in enumerate(DEFINITIONS.items()):
        paths[name] = folder / f"definition-{index}.json"
        paths[name].write_text(json.dumps(definition), encoding="utf-8")
    arguments = [argument for path in paths.values() for argument in ("--json-path", str(path))]
    result = subprocess.run(
        [*asl._validator(), *arguments], capture_output=True, text=True, check=False, timeout=120, env=NO_COLOR
    )
    blocks = result.stderr.split("\u2715 State machine definition ")
    verdicts: dict[str, str | None] = {}
    for name, path in paths.items():
        if f'"{path}" is valid' in result.stdout:
            verdicts[name] = None
        else:
            (block,) = [block for block in blocks if block.startswith(f'"{path}" is invalid:')]
            verdicts[name] = block.removeprefix(f'"{path}" is invalid:').strip()
    return verdicts


def test_the_running_validator_gives_the_command_lines_verdicts(tmp_path: Path) -> None:
    """Every check after the first reuses the running node and asl-validator's compiled schemas: its verdicts and
    findings are those of asl-validator's command line, which compiles them for each definition, for each kind of
    finding."""
    assert asl._validator_module(asl._validator()[0]) is not None, "the repository's asl-validator runs in one node"
    by_command = command_line_verdicts(tmp_path)
    assert sum(findings is None for findings in by_command.values()) == 2
    for _ in range(2):  # the second round runs on the schemas compiled in the first
        for name, definition in DEFINITIONS.items():
            assert asl._findings(json.dumps(definition)) == by_command[name], name


def test_the_running_validator_is_started_once_and_again_if_node_ended() -> None:
    text = json.dumps(DEFINITIONS["missing target"])
    assert asl._findings(text) is not None
    (server,) = asl._servers.values()
    assert asl._findings(text) is not None
    assert list(asl._servers.values()) == [server]
    server._process.kill()
    server._process.wait()
    assert "MISSING_TRANSITION_TARGET" in str(asl._findings(text))
    (again,) = asl._servers.values()
    assert again is not server
    assert again.usable()
    # asl-validator's Ajv is made once (the compiled schemas reused): else every check compiles them, ~150 ms.
    assert again.ajv_reused


def test_a_check_stopped_before_its_answer_leaves_no_answer_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt between a question to node and its answer: the answer would be read as the next check's, so
    that node is ended and the next check gets its own verdict from a new one."""
    valid, broken = json.dumps(DEFINITIONS["valid"]), json.dumps(DEFINITIONS["missing target"])
    assert asl._findings(valid) is None
    readable = asl._readable

    def interrupted(stream: Any, seconds: float) -> bool:
        monkeypatch.setattr(asl, "_readable", readable)
        raise KeyboardInterrupt

    monkeypatch.setattr(asl, "_readable", interrupted)
    with pytest.raises(KeyboardInterrupt):
        asl._findings(broken)
    assert asl._findings(valid) is None
    assert "MISSING_TRANSITION_TARGET" in str(asl._findings(broken))


def test_text_that_is_not_json_is_invalid() -> None:
    """Stricter than asl-validator's command line, which prints "Unable to parse" for such a --json-definition and
    exits 0 (its verdict is then "valid")."""
    assert "could not check the definition: SyntaxError" in str(asl._findings('{"StartAt": "A", "States": {'))


def test_a_forked_child_does_not_keep_the_parents_node_running() -> None:
    """The child closes its copies of the pipes: node sees its stdin end when the parent closes it, and ends by
    itself (without them, it waited for the child and the parent killed it after 5 s)."""
    assert asl._findings(json.dumps(DEFINITIONS["valid"])) is None
    (server,) = [server for server in asl._servers.values() if server.usable()]
    child_may_end, done = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: holds whatever it inherited until the parent has closed its node
        os.read(child_may_end, 1)
        os._exit(0)
    try:
        server.close()
        ended_by_itself = server._process.returncode == 0
    finally:
        os.write(done, b"x")
        os.waitpid(pid, 0)
        os.close(child_may_end)
        os.close(done)
    assert ended_by_itself


def test_a_node_that_cannot_load_asl_validator_is_an_error_with_what_node_said(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    with pytest.raises(RuntimeError, match=r"could not check a definition: node ended: (.|\n)*Cannot find module"):
        asl._Server(node, tmp_path / "validator.js")


def test_a_validator_without_ajv_beside_it_reuses_nothing_and_still_answers(tmp_path: Path) -> None:
    module = tmp_path / "validator.js"
    module.write_text('module.exports = () => ({ isValid: true, errors: [], errorsText: () => "" });\n')
    node = shutil.which("node")
    assert node is not None
    server = asl._Server(node, module)
    try:
        assert not server.ajv_reused
        assert [server.findings(json.dumps(DEFINITIONS["valid"])) for _ in range(2)] == [None, None]
    finally:
        server.close()
