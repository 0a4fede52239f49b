"""Cold-start import cost of every handler the example app deploys, on top of boto3 (target <= 30 ms each).

Which code: every ``AWS::Lambda::Function`` of the synthesized app (the pinned CLI's cdk.out): its ``Handler``
module, from its code asset, with its layers' ``python/`` folders after it on the path (as Lambda puts ``/opt/python``
after ``/var/task``). Where one of the library's layers runs a handler named in an environment variable
(``SLACK_REPORTER_HANDLER``: imported at init by the Slack wrapper; ``S3_BATCH_TASK_HANDLER``: imported by the
S3 Batch contract layer on the first task), that module is imported as well: its cost is the function's too.
Functions with the same code, layers and modules are measured once. Modules of lambda_src/ function folders that
no template points at and no measured handler imports (a handler of another configuration, e.g. the S3-notification
ingestion of the defect pipeline) are measured too, marked as not in the example app.

How: each run is a fresh interpreter, ``python -X importtime -c <program>``, started in a temporary copy of the
asset (no ``__pycache__``, ``PYTHONDONTWRITEBYTECODE=1``: /var/task is read-only on Lambda and the zip holds no
byte code, so a cold start compiles the handler's modules), with the Lambda runtime's variables (``AWS_REGION``,
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, ...) and the function's own (tokens replaced by placeholders). The program
first imports ``boto3`` and ``botocore.session`` (the runtime provides them, and most handlers use them), writes a
marker to stderr, then imports the handler module(s). The handler's cost is the sum of the cumulative times that
``-X importtime`` prints, after the marker, for the top-level imports (nesting level 0): everything the handler's
import loads that boto3 had not loaded already, the module bodies' own work included (clients made at import,
regexes compiled). The median of ``--runs`` runs is reported against the target, rounds interleaved across handlers.
boto3's own import time is printed for scale, not counted. The interpreter is this virtualenv's Python, not the
functions' runtime (python3.14): absolute numbers differ somewhat on Lambda.

Usage (from the repo root)::

    .venv/bin/python benchmarks/handler_cold_start.py [--runs 7] [--cloud-assembly cdk.out] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TARGET_MISSED,
    BenchmarkError,
    cloud_assembly,
    construct_path,
    markdown_table,
    median,
    stack_artifacts,
    verdict,
    write_json,
)
from stacks._code import runtime_folders

TARGET_MS = 30.0
PRELOADED = ("boto3", "botocore.session")
HANDLER_VARIABLES = ("SLACK_REPORTER_HANDLER", "S3_BATCH_TASK_HANDLER")
"""Variables in which the library's layers name the handler they run (module.function)."""
MARKER = "@@BENCH-HANDLER-IMPORTS@@"
IMPORT_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|( *)(\S+)\s*$")
TOKEN_PLACEHOLDER = "bench-placeholder"
RUNTIME_FOLDERS = runtime_folders()


@dataclass
class Target:
    """One thing to import: a code folder, the layers after it, the modules, and who runs it."""

    code_dir: Path
    layer_dirs: tuple[Path, ...]
    modules: tuple[str, ...]
    environment: dict[str, str]
    functions: list[str] = field(default_factory=list)
    in_app: bool = True
    runs_ms: list[float] = field(default_factory=list)
    self_us: dict[str, list[int]] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return " + ".join(self.modules)


@dataclass(frozen=True)
class ImportTimes:
    """What one ``-X importtime`` run printed, split at the marker."""

    before_us: int
    """Cumulative time of the top-level imports before the marker (boto3, botocore)."""
    after_us: int
    """Cumulative time of the top-level imports after it: the handler's cost."""
    self_after_us: Mapping[str, int]
    """Every module imported after the marker, its own (self) time."""


def parse_importtime(stderr: str, marker: str = MARKER) -> ImportTimes:
    """Split ``-X importtime`` output at ``marker``; sum the cumulative times of nesting level 0 on each side."""
    before = after = 0
    self_after: dict[str, int] = {}
    seen_marker = False
    for line in stderr.splitlines():
        if line.strip() == marker:
            seen_marker = True
            continue
        match = IMPORT_LINE.match(line)
        if match is None:
            continue
        own, cumulative, indent, name = int(match[1]), int(match[2]), match[3], match[4]
        level = (len(indent) - 1) // 2
        if seen_marker:
            self_after[name] = own
            if level == 0:
                after += cumulative
        elif level == 0:
            before += cumulative
    if not seen_marker:
        raise BenchmarkError(f"the import marker is missing from the interpreter's output:\n{stderr[-2000:]}")
    return ImportTimes(before_us=before, after_us=after, self_after_us=self_after)


def _literal_environment(variables: Mapping[str, Any]) -> dict[str, str]:
    return {key: value if isinstance(value, str) else TOKEN_PLACEHOLDER for key, value in variables.items()}


def targets_from_assembly(assembly: Path) -> list[Target]:
    """One target per distinct (code, layers, modules) of the app's functions, in template order."""
    targets: dict[tuple[Path, tuple[Path, ...], tuple[str, ...]], Target] = {}
    for stack in stack_artifacts(assembly):
        resources: Mapping[str, Any] = stack.template.get("Resources", {})
        layers = {
            logical_id: stack.assets[resource["Properties"]["Content"]["S3Key"]] / "python"
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Lambda::LayerVersion"
            and isinstance(resource["Properties"].get("Content", {}).get("S3Key"), str)
        }
        for resource in resources.values():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            name = f"{stack.artifact_id}/{construct_path(resource, stack.artifact_id)}"
            key = properties.get("Code", {}).get("S3Key")
            runtime = str(properties.get("Runtime", ""))
            if not isinstance(key, str) or not runtime.startswith("python"):
                print(f"  skipped {name}: not a Python function from a file asset", file=sys.stderr)
                continue
            layer_dirs = tuple(layers[layer["Ref"]] for layer in properties.get("Layers", []) if "Ref" in layer)
            environment = _literal_environment(properties.get("Environment", {}).get("Variables", {}))
            modules = [str(properties["Handler"]).rpartition(".")[0].replace("/", ".")]
            for variable in HANDLER_VARIABLES:
                if variable in environment:
                    module = environment[variable].rpartition(".")[0].replace("/", ".")
                    if module and module not in modules:
                        modules.append(module)
            environment.update(
                {
                    "AWS_LAMBDA_FUNCTION_NAME": name.replace("/", "-"),
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", 128)),
                    "_HANDLER": str(properties["Handler"]),
                }
            )
            identity = (stack.assets[key], layer_dirs, tuple(modules))
            if identity not in targets:
                targets[identity] = Target(stack.assets[key], layer_dirs, tuple(modules), environment)
            targets[identity].functions.append(name)
    return list(targets.values())


def unreferenced_targets(measured: Sequence[Target]) -> list[Target]:
    """Top-level modules of runtime function folders that no measured target loaded."""
    loaded = {module for target in measured for module in (*target.modules, *target.loaded)}
    extra = []
    for folder in RUNTIME_FOLDERS.values():
        if (folder / "python").is_dir():
            continue  # a layer: its packages are imported by the handlers that use it
        for module in sorted(path.stem for path in folder.glob("*.py")):
            if module not in loaded:
                extra.append(
                    Target(
                        folder,
                        (),
                        (module,),
                        {},
                        functions=[f"none in the example app ({folder.name})"],
                        in_app=False,
                    )
                )
    return extra


def _copy(folder: Path, into: Path) -> Path:
    shutil.copytree(folder, into, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def _program(modules: Sequence[str]) -> str:
    lines = [f"import {module}" for module in PRELOADED]
    lines.append(f"import sys\nsys.stderr.write({MARKER!r} + '\\n')\nsys.stderr.flush()")
    lines.extend(f"import {module}" for module in modules)
    return "\n".join(lines) + "\n"


def _environment(target: Target, task: Path, layers: Sequence[Path]) -> dict[str, str]:
    region = "us-east-1"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(task), *(str(layer) for layer in layers)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
    }
    environment.update(target.environment)
    return environment


def measure_once(target: Target, scratch: Path, index: int) -> ImportTimes:
    """One cold interpreter importing the target's modules from fresh copies of its folders."""
    root = scratch / f"run-{index}"
    task = _copy(target.code_dir, root / "task")
    layers = [_copy(layer, root / f"layer-{n}" / "python") for n, layer in enumerate(target.layer_dirs)]
    try:
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", _program(target.modules)],
            cwd=task,
            env=_environment(target, task, layers),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if completed.returncode != 0:
        raise BenchmarkError(f"importing {target.label} failed:\n{completed.stderr[-3000:]}")
    return parse_importtime(completed.stderr)


def measure(targets: Sequence[Target], runs: int, scratch: Path) -> list[float]:
    """``runs`` rounds over every target; returns boto3's own import times (ms) for scale."""
    boto3_ms: list[float] = []
    counter = 0
    for round_index in range(runs):
        for target in targets:
            counter += 1
            times = measure_once(target, scratch, counter)
            target.runs_ms.append(times.after_us / 1000)
            target.loaded.update(name.split(".", 1)[0] for name in times.self_after_us)
            target.loaded.update(times.self_after_us)
            for name, own in times.self_after_us.items():
                target.self_us.setdefault(name, []).append(own)
            boto3_ms.append(times.before_us / 1000)
        print(f"  round {round_index + 1}/{runs} done", file=sys.stderr, flush=True)
    return boto3_ms


def heaviest(target: Target, count: int = 3) -> str:
    medians = {name: median([float(v) for v in values]) for name, values in target.self_us.items()}
    top = sorted(medians.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {value / 1000:.1f}" for name, value in top) or "-"


def report(targets: Sequence[Target], boto3_ms: Sequence[float], runs: int) -> tuple[bool, dict[str, Any]]:
    rows = []
    all_met = True
    figures: list[dict[str, Any]] = []
    for target in targets:
        value = median(target.runs_ms)
        met = value <= TARGET_MS
        all_met = all_met and met
        rows.append(
            [
                f"`{target.label}`",
                "<br>".join(target.functions),
                f"{value:.1f}",
                f"{min(target.runs_ms):.1f}",
                verdict(met),
                heaviest(target),
            ]
        )
        figures.append(
            {
                "modules": list(target.modules),
                "functions": target.functions,
                "in_app": target.in_app,
                "median_ms": value,
                "min_ms": min(target.runs_ms),
                "runs_ms": target.runs_ms,
                "met": met,
            }
        )
    print(
        f"\nHandler import time on top of boto3 (`python -X importtime`, {runs} cold interpreters each, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}):\n"
    )
    headers = ["handler module(s)", "functions", "median ms", "min ms", f"<= {TARGET_MS:g} ms", "heaviest (self ms)"]
    print(markdown_table(headers, rows, right=(2, 3)))
    print(f"\nboto3 + botocore.session themselves, imported first and not counted: median {median(boto3_ms):.0f} ms.")
    missed = [target.label for target, row in zip(targets, rows, strict=True) if row[4] != "met"]
    print("All handlers met the target." if all_met else f"MISSED by: {', '.join(missed)}")
    return all_met, {"target_ms": TARGET_MS, "runs": runs, "boto3_median_ms": median(boto3_ms), "handlers": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="cold interpreters per handler (default 7)")
    parser.add_argument("--cloud-assembly", type=Path, default=None, help="a cdk.out/ to read (default: synth one)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        with cloud_assembly(args.cloud_assembly) as assembly, tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
            targets = targets_from_assembly(assembly)
            if not targets:
                raise BenchmarkError(f"no Python function with a file asset in {assembly}")
            boto3_ms = measure(targets, args.runs, Path(tmp))
            extra = unreferenced_targets(targets)
            boto3_ms.extend(measure(extra, args.runs, Path(tmp)))
            met, figures = report([*targets, *extra], boto3_ms, args.runs)
    except BenchmarkError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return EXIT_FAILED
    write_json(args.json, figures)
    return EXIT_OK if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
