"""Where the test suite's time goes: each test file's time, and how much of it is jsii and subprocesses.

Runs pytest as ``make test`` does (``-n auto --dist loadfile``) with this module as a plugin, which times, in every
worker, each test (setup, call and teardown), aws-cdk-lib's jsii round trips (constructing and synthesizing stacks
in its node process; a Python callback inside one counts as part of it) and every subprocess waited for (pip, the
CDK CLI, cfn-lint, checkov, fresh interpreters), by test file. The rest of a test's time is Python in the worker:
the kit, moto, handlers, pytest. No target: the figures say where a cut would count.

Usage (from the repo root)::

    .venv/bin/python benchmarks/suite_time.py [--top 25] [--json FILE] [-- PYTEST_ARGS...]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
_FOLDER_VARIABLE = "SUITE_TIME_FOLDER"

# -- the plugin (in each pytest process) ---------------------------------------------------------------------------
_seconds: collections.defaultdict[tuple[str, str], float] = collections.defaultdict(float)
"""(kind, test file) -> seconds; kind: test, jsii, subprocess:<program>."""
_current = ["(outside tests)"]
_depth = threading.local()


def _timed(kind: str, function: Any, clock: Callable[[], float] = time.perf_counter) -> Any:
    """``function`` timed into ``kind`` (``jsii`` or ``subprocess``), outermost calls only. A subprocess waited for
    inside a jsii call (a bundling callback) counts as a subprocess, not as jsii."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_depth, kind, 0)
        waited_before = getattr(_depth, "waited", 0.0)
        setattr(_depth, kind, depth + 1)
        started = clock() if depth == 0 else 0.0  # an inner call is not timed: its outer call is
        try:
            return function(*args, **kwargs)
        finally:
            setattr(_depth, kind, depth)
            if depth == 0:
                seconds = clock() - started
                if kind == "subprocess":
                    program = args[0].args
                    first = program[0] if isinstance(program, list | tuple) else str(program).split()[0]
                    _seconds[(f"subprocess:{Path(str(first)).name}", _current[0])] += seconds
                    _depth.waited = waited_before + seconds
                else:
                    _seconds[(kind, _current[0])] += seconds - (getattr(_depth, "waited", 0.0) - waited_before)

    return timed


def pytest_configure(config: Any) -> None:
    if not os.environ.get(_FOLDER_VARIABLE):
        return
    from jsii._kernel.providers import process as jsii_process

    jsii_process._NodeProcess.send = _timed("jsii", jsii_process._NodeProcess.send)  # type: ignore[method-assign]
    subprocess.Popen.communicate = _timed("subprocess", subprocess.Popen.communicate)  # type: ignore[method-assign]
    subprocess.Popen.wait = _timed("subprocess", subprocess.Popen.wait)  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Iterator[None]:
    _current[0] = item.nodeid.split("::")[0]
    started = time.perf_counter()
    yield
    _seconds[("test", _current[0])] += time.perf_counter() - started


def pytest_unconfigure(config: Any) -> None:
    folder = os.environ.get(_FOLDER_VARIABLE)
    if folder:
        rows = [[kind, file, seconds] for (kind, file), seconds in _seconds.items()]
        (Path(folder) / f"{os.getpid()}.json").write_text(json.dumps(rows))


# -- the command ---------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--top", type=int, default=25, help="test files listed, slowest first")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's arguments (default: make test's)")
    options = parser.parse_args(argv)
    if options.top < 1:
        parser.error("--top must be at least 1")
    with tempfile.TemporaryDirectory(prefix="suite-time-") as folder:
        command = [sys.executable, "-m", "pytest", "-p", "benchmarks.suite_time", "-q", "-p", "no:cacheprovider"]
        command += options.pytest_args or ["-n", "auto", "--dist", "loadfile"]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, _FOLDER_VARIABLE: folder}, check=False)
        wall = time.perf_counter() - started
        by_file: dict[str, collections.defaultdict[str, float]] = collections.defaultdict(
            lambda: collections.defaultdict(float)
        )
        for path in Path(folder).glob("*.json"):
            for kind, file, seconds in json.loads(path.read_text()):
                by_file[file][kind] += seconds
    if result.returncode != 0:
        print(f"pytest exited {result.returncode}: no figures", file=sys.stderr)
        return 2
    totals: collections.defaultdict[str, float] = collections.defaultdict(float)
    for file, kinds in by_file.items():
        if file == "(outside tests)":  # the controller waiting for its workers, collection: not a test's time
            continue
        for kind, seconds in kinds.items():
            totals[kind] += seconds
    print(f"\npytest wall {wall:.0f} s; time in tests, summed over the workers: {totals['test']:.0f} s")
    print("| test file | in tests, s | jsii, s | subprocesses, s | the rest, s |\n|---|---:|---:|---:|---:|")
    rows = []
    for file, kinds in [("(all)", totals), *sorted(by_file.items(), key=lambda item: -item[1]["test"])]:
        if file == "(outside tests)":
            continue
        waited = sum(seconds for kind, seconds in kinds.items() if kind.startswith("subprocess:"))
        rows.append({"file": file, "test": kinds["test"], "jsii": kinds["jsii"], "subprocesses": waited})
        rest = kinds["test"] - kinds["jsii"] - waited
        if len(rows) <= options.top + 1:
            print(f"| {file} | {kinds['test']:.1f} | {kinds['jsii']:.1f} | {waited:.1f} | {rest:.1f} |")
    programs = sorted(((k, s) for k, s in totals.items() if k.startswith("subprocess:")), key=lambda ks: -ks[1])
    print("\nsubprocesses by program: " + ", ".join(f"{kind.split(':', 1)[1]} {s:.1f} s" for kind, s in programs))
    if options.json:
        options.json.write_text(json.dumps({"wall_seconds": wall, "files": rows, "programs": dict(programs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
