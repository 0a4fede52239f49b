"""Amazon States Language checks of synthesized state machines, with the real ``asl-validator`` (npm).

cfn-lint does not check a ``DefinitionString`` built with ``Fn::Join`` (every CDK state machine with a token in
it); this module resolves the tokens to placeholder values of the right shape and runs asl-validator on the result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from constructs_lib.testing._engine import intrinsics

PLACEHOLDERS = intrinsics.Placeholders(
    account="123456789012",
    region="us-east-1",
    name=str.lower,
    attribute=lambda logical_id, attribute: f"{logical_id}-{attribute}".lower(),
    unknown=lambda function, argument: "unknown",
)
"""Placeholder values asl-validator accepts: names are the logical ids in lower case (``function:workerfunction``)."""


class AslValidationError(AssertionError):
    """A state machine definition is not valid Amazon States Language."""


def state_machine_definitions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state machine's definition in a CloudFormation template, tokens resolved to placeholders."""
    return intrinsics.state_machine_definitions(template, PLACEHOLDERS)


ASL_VALIDATOR_VARIABLE = "ASL_VALIDATOR"
"""An environment variable naming the asl-validator executable, for an install the search below does not find."""


def _validator() -> list[str]:
    """asl-validator's command: ``$ASL_VALIDATOR``; else ``node_modules/.bin/asl-validator`` in the current folder
    or a parent of it (the user's project, where ``npm install`` put it); else beside the installed package (a
    virtual environment inside the project); else on ``PATH`` (``npm install -g``)."""
    named = os.environ.get(ASL_VALIDATOR_VARIABLE)
    if named:
        if not Path(named).is_file():
            raise FileNotFoundError(f"{ASL_VALIDATOR_VARIABLE}={named} is not a file: name asl-validator's executable")
        return [named]
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents, *Path(__file__).resolve().parents):
        candidate = folder / "node_modules" / ".bin" / "asl-validator"
        if candidate.is_file():
            return [str(candidate)]
    found = shutil.which("asl-validator")
    if found:
        return [found]
    raise FileNotFoundError(
        "asl-validator (npm) is not installed where the kit looks: it checks every state machine definition before "
        "running it. Install it in your project, `npm install --save-dev asl-validator@4.0.0` (the kit finds "
        "node_modules/.bin/asl-validator in the current folder or a parent of it), or globally with `npm install -g "
        f"asl-validator@4.0.0`, or name the executable in ${ASL_VALIDATOR_VARIABLE}; or turn the check off with "
        "LocalKit.from_stack(stack, validate_asl=False)"
    )


def validate_definition(definition: Mapping[str, Any], *, name: str = "state machine") -> None:
    """Run asl-validator on a definition; raise AslValidationError with its findings if it is not valid."""
    findings = _findings(json.dumps(definition))
    if findings is not None:
        raise AslValidationError(f"{name} is not valid Amazon States Language:\n{findings}")


_verdicts: dict[str, str | None] = {}
"""asl-validator's findings for each definition text it checked in this process (None: valid)."""
_verdicts_lock = threading.Lock()


def validate_definition_text(text: str, *, name: str = "state machine") -> None:
    """:func:`validate_definition` of a definition's JSON text, run once per text in a process: every kit that stands
    up the same definition reuses asl-validator's verdict (a run of node costs about half a second; the verdict
    depends on the text alone)."""
    # One check at a time: two kits standing up the same definition run node once, not twice.
    with _verdicts_lock:
        if text not in _verdicts:
            _verdicts[text] = _findings(text)
        findings = _verdicts[text]
    if findings is not None:
        raise AslValidationError(f"{name} is not valid Amazon States Language:\n{findings}")


def check_together(texts: Iterable[str]) -> None:
    """asl-validator's verdicts on several definition texts from one run of node (node's start-up is most of a
    run), kept as :func:`validate_definition_text` keeps its own. A finding is not raised here: when the run finds a
    problem in any of them, none is kept, and each is then checked alone, so that its findings are its own. What
    running asl-validator raises (not installed, node failed or timed out) is raised."""
    with _verdicts_lock:
        pending = [text for text in dict.fromkeys(texts) if text not in _verdicts]
        if len(pending) < 2:
            return  # one alone: validate_definition_text runs it
        with tempfile.TemporaryDirectory(prefix="kit-asl-") as folder:
            paths = []
            for index, text in enumerate(pending):
                path = Path(folder) / f"definition-{index}.json"
                path.write_text(text, encoding="utf-8")
                paths.append(str(path))
            # Each --json-path's verdict goes into the exit status (several --json-definition's do not: the last
            # one's status is kept).
            arguments = [argument for path in paths for argument in ("--json-path", path)]
            if _run(arguments).returncode == 0:
                for text in pending:
                    _verdicts[text] = None


def _run(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_validator(), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _findings(text: str) -> str | None:
    """asl-validator's findings on a definition's JSON text; None if it is valid."""
    result = _run(["--json-definition", text])
    return None if result.returncode == 0 else f"{result.stdout}{result.stderr}"
