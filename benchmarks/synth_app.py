"""Synth time of the whole example app (app.py, every example stack): the pinned CDK CLI against in-process synth.

Three ways, each run a fresh process, timed from outside (process wall time, ``time.perf_counter``):

* ``cli``: ``node_modules/.bin/cdk synth --quiet --output <temp dir>``, the environment `make synth` gives it
  (aws-cdk-lib's CloudFormation template validation on, ``AWS_EC2_METADATA_DISABLED=true``). This runs node, then
  ``python3 app.py`` as cdk.json says, then reads the cloud assembly back.
* ``in-process``: ``python -c`` that imports ``app``, builds ``build_app(App(context=<cdk.json context>))`` and
  calls ``synth()``, validation on, as the CLI's app process does (the difference to ``cli`` is the CLI's own cost).
* ``in-process, no validation``: the same with ``CDK_VALIDATION=false``, as the tests' ``example_app`` fixture.

Inside the in-process runs the import, construct and synth phases are timed too. The variants rotate round by round
so that drift on a shared machine spreads evenly; medians and minimums are reported. The issue gives no target:
the script reports (exit 0), or exits 2 if a synth fails.

Usage (from the repo root)::

    .venv/bin/python benchmarks/synth_app.py [--runs 3] [--keep-assembly DIR] [--json PATH]

``--keep-assembly DIR`` leaves a copy of the last CLI run's cdk.out in DIR, for the other benchmarks
(``--cloud-assembly DIR``), so that `make bench` synthesizes once.
"""

from __future__ import annotations

import time

_PROCESS_T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Literal  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (  # noqa: E402
    EXIT_FAILED,
    EXIT_OK,
    REPO_ROOT,
    BenchmarkError,
    cli_synth,
    copy_assembly,
    markdown_table,
    median,
    stack_artifacts,
    write_json,
)
from tools.cdk_cli import cli_env  # noqa: E402

Variant = Literal["cli", "in-process", "in-process-no-validation"]
VARIANTS: tuple[Variant, ...] = ("cli", "in-process", "in-process-no-validation")
LABELS: dict[Variant, tuple[str, str]] = {
    "cli": ("pinned CLI `cdk synth --quiet`", "on"),
    "in-process": ("in process `build_app().synth()`", "on"),
    "in-process-no-validation": ("in process, `CDK_VALIDATION=false` (as the tests)", "off"),
}
RESULT_PREFIX = "SYNTH_APP_RESULT "


# -- worker: one in-process synth, in its own interpreter ------------------------------------------------------
def run_worker(outdir: Path) -> None:
    t_import = time.perf_counter()
    import aws_cdk as cdk

    from app import build_app

    t_built = time.perf_counter()
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = build_app(cdk.App(context=context, outdir=str(outdir), analytics_reporting=False))
    t_constructed = time.perf_counter()
    app.synth()
    t_synthesized = time.perf_counter()
    result = {
        "startup_s": t_import - _PROCESS_T0,
        "import_s": t_built - t_import,
        "construct_s": t_constructed - t_built,
        "synth_s": t_synthesized - t_constructed,
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# -- driver ----------------------------------------------------------------------------------------------------
@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)


def in_process(outdir: Path, *, validation: bool) -> tuple[float, dict[str, float]]:
    env = cli_env()  # the same PATH and silenced jsii banner as the CLI's app process
    if not validation:
        env["CDK_VALIDATION"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--outdir", str(outdir)]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise BenchmarkError(
            f"in-process synth failed (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    phases = {key: float(value) for key, value in json.loads(lines[-1][len(RESULT_PREFIX) :]).items()}
    return wall, phases


def describe(assembly: Path) -> dict[str, int]:
    stacks = stack_artifacts(assembly)
    return {
        "stacks": len(stacks),
        "resources": sum(len(stack.template.get("Resources", {})) for stack in stacks),
        "file_assets": len({path for stack in stacks for path in stack.assets.values() if "asset." in path.name}),
    }


def run(runs: int, keep: Path | None) -> dict[str, Any]:
    results: dict[Variant, Runs] = {variant: Runs() for variant in VARIANTS}
    shape: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-synth-app-") as scratch:
        for round_index in range(runs):
            shift = round_index % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                outdir = Path(scratch) / f"{variant}-{round_index}"
                if variant == "cli":
                    wall = cli_synth(outdir)
                    results[variant].wall.append(wall)
                    shape = describe(outdir)
                    if keep is not None and round_index == runs - 1:
                        copy_assembly(outdir, keep)
                else:
                    wall, phases = in_process(outdir, validation=variant == "in-process")
                    results[variant].wall.append(wall)
                    results[variant].phases.append(phases)
                print(f"  round {round_index + 1}/{runs} {variant:<26} {wall:6.2f} s", file=sys.stderr, flush=True)
    return {"runs": runs, "app": shape, "variants": {variant: results[variant] for variant in VARIANTS}}


def report(measured: dict[str, Any]) -> dict[str, Any]:
    variants: dict[Variant, Runs] = measured["variants"]
    app = measured["app"]
    print(
        f"\nExample app (app.py): {app['stacks']} stacks, {app['resources']} resources, {app['file_assets']} file "
        f"assets. {measured['runs']} runs each, every run a fresh process; {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}.\n"
    )
    rows = []
    figures: dict[str, Any] = {"app": app, "runs": measured["runs"], "variants": {}}
    for variant in VARIANTS:
        label, validation = LABELS[variant]
        walls = variants[variant].wall
        rows.append([label, validation, len(walls), f"{median(walls):.2f}", f"{min(walls):.2f}"])
        figures["variants"][variant] = {"wall_s": walls, "median_s": median(walls), "min_s": min(walls)}
    print(markdown_table(["synth", "template validation", "runs", "median s", "min s"], rows, right=(2, 3, 4)))

    print("\nInside the in-process runs (median s): imports (aws_cdk, the stacks), construct, synth:\n")
    phase_rows = []
    for variant in ("in-process", "in-process-no-validation"):
        phases = variants[variant].phases
        medians = {key: median([p[key] for p in phases]) for key in ("startup_s", "import_s", "construct_s", "synth_s")}
        figures["variants"][variant]["phases_median_s"] = medians
        phase_rows.append(
            [LABELS[variant][0], *(f"{medians[key]:.2f}" for key in ("import_s", "construct_s", "synth_s"))]
        )
    print(markdown_table(["synth", "import s", "construct s", "synth s"], phase_rows, right=(1, 2, 3)))

    cli = figures["variants"]["cli"]["median_s"]
    inside = figures["variants"]["in-process"]["median_s"]
    validation = (
        figures["variants"]["in-process"]["phases_median_s"]["synth_s"]
        - (figures["variants"]["in-process-no-validation"]["phases_median_s"]["synth_s"])
    )
    figures["cli_overhead_s"] = cli - inside
    figures["validation_s"] = validation
    overhead = (
        f"The CLI adds {cli - inside:.2f} s to the same synth in process (node start-up, the app as a child process, "
        "reading the assembly back)"
        if cli > inside
        else f"The CLI's own cost is within the noise (its median {cli - inside:+.2f} s from the same synth in process)"
    )
    print(f"\n{overhead}; template validation costs {validation:.2f} s of the in-process synth phase.")
    print("No target is set for the whole app's synth: reported only.")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each variant (default 3)")
    parser.add_argument("--keep-assembly", type=Path, default=None, help="copy the last CLI cdk.out here")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--outdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.outdir)
        return EXIT_OK
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        figures = report(run(args.runs, args.keep_assembly))
    except BenchmarkError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return EXIT_FAILED
    write_json(args.json, figures)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
