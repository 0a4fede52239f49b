"""Amazon States Language checks of synthesized state machines, with the real ``asl-validator`` (npm).

cfn-lint does not check a ``DefinitionString`` built with ``Fn::Join`` (every CDK state machine with a token in
it); this module resolves the tokens to placeholder values of the right shape and runs asl-validator on the result.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
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
    up the same definition reuses asl-validator's verdict (the verdict depends on the text alone)."""
    # One check at a time: two kits standing up the same definition check it once, not twice.
    with _verdicts_lock:
        if text not in _verdicts:
            _verdicts[text] = _findings(text)
        findings = _verdicts[text]
    if findings is not None:
        raise AslValidationError(f"{name} is not valid Amazon States Language:\n{findings}")


TIMEOUT_SECONDS = 120
"""The longest one check may take, whichever way it runs."""


def _findings(text: str) -> str | None:
    """asl-validator's findings on a definition's JSON text; None if it is valid."""
    command = _validator()
    module = _validator_module(command[0])
    node = shutil.which("node")
    if module is None or node is None:
        # Not asl-validator's own script (a wrapper, a stand-in): its command line, a node start-up per check.
        return _run_command(command, text)
    with _servers_lock:
        server = _servers.get(module)
        if server is None or not server.usable():
            server = _servers[module] = _Server(node, module)
        return server.findings(text)


def _run_command(command: list[str], text: str) -> str | None:
    result = subprocess.run(
        [*command, "--json-definition", text],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return None if result.returncode == 0 else f"{result.stdout}{result.stderr}"


def _validator_module(executable: str) -> Path | None:
    """asl-validator's validator module behind its command (``.bin/asl-validator`` links to the package's
    ``dist/bin/asl-validator.js``); None if the command is not that script."""
    script = Path(executable).resolve()
    package = script.parent.parent.parent
    module = package / "dist" / "src" / "validator.js"
    if script.name != "asl-validator.js" or not module.is_file():
        return None
    try:
        if json.loads((package / "package.json").read_text(encoding="utf-8")).get("name") != "asl-validator":
            return None
    except (OSError, ValueError):
        return None
    return module


class _Server:
    """One node process running asl-validator's validator (``asl_server.js``) for every check in this process:
    node's start-up and asl-validator's loading (about 400 ms) are paid once, not at every check."""

    SCRIPT = Path(__file__).with_name("asl_server.js")

    def __init__(self, node: str, module: Path) -> None:
        self._pid = os.getpid()  # a forked child starts its own: the pipes are this process's
        # node's stderr goes to a file, read only when node ends (a pipe nobody reads would pile it up in node).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- open as long as node runs
        self._process = subprocess.Popen(
            [node, str(self.SCRIPT), str(module)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            env={**os.environ, "NO_COLOR": "1"},
        )
        # Its first line says it loaded asl-validator, and whether its checks reuse the compiled schemas.
        self.ajv_reused = bool(self._answer()["ajvReused"])

    def usable(self) -> bool:
        return self._pid == os.getpid() and self._process.poll() is None

    def findings(self, text: str) -> str | None:
        answer = self._answer(json.dumps(text) + "\n")
        return None if answer["valid"] else str(answer["findings"])

    def _answer(self, question: str | None = None) -> dict[str, Any]:
        """The next line node writes, after writing ``question`` if given."""
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        timed_out = False
        try:
            if question is not None:
                process.stdin.write(question)
                process.stdin.flush()
            timed_out = not _readable(process.stdout, TIMEOUT_SECONDS)
            line = "" if timed_out else process.stdout.readline()
            if line:
                answer: dict[str, Any] = json.loads(line)
                return answer
        except OSError:  # node is gone: its stdin is a broken pipe
            pass
        except BaseException:
            # Stopped between a question and its answer (an interrupt, a stray line): the answer left in the pipe
            # would be read as the next check's, so this node is not asked again.
            self.kill()
            raise
        self.kill()
        why = f"no answer in {TIMEOUT_SECONDS} s" if timed_out else f"node ended: {self._said()}"
        raise RuntimeError(f"asl-validator ({self.SCRIPT.name}) could not check a definition: {why}")

    def _said(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace").strip()

    def close(self) -> None:
        """Let node end by itself (its stdin closed), or end it."""
        if self._pid != os.getpid():
            return
        try:
            if self._process.stdin:
                self._process.stdin.close()
            self._process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()

    def kill(self) -> None:
        if self._pid == os.getpid():
            self._process.kill()
            self._process.wait()

    def forget(self) -> None:
        """In a forked child: close the child's copies of the pipes (else node, waiting on its stdin, would outlive
        the parent's close), leaving node to the parent."""
        for stream in (self._process.stdin, self._process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except (OSError, ValueError):
                pass


def _readable(stream: Any, seconds: float) -> bool:
    """Whether ``stream`` has something to read within ``seconds`` (poll, not select: any file descriptor number)."""
    poller = select.poll()
    poller.register(stream, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


_servers: dict[Path, _Server] = {}
"""The running validator for each asl-validator install this process used."""
_servers_lock = threading.Lock()


@atexit.register
def _close_servers() -> None:
    for server in _servers.values():
        server.close()


def _forget_servers_in_child() -> None:
    global _servers_lock  # noqa: PLW0603 -- a new lock for the child, as the threading module does for its own
    _servers_lock = threading.Lock()  # another thread of the parent may have held it when it forked
    for server in _servers.values():
        server.forget()
    _servers.clear()  # the child starts its own node when it checks a definition


os.register_at_fork(after_in_child=_forget_servers_in_child)
