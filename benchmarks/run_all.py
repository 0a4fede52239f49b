"""Every benchmark, one after the other: what `make bench` runs.

The example app is synthesized with the pinned CLI once (by synth_app.py, its last run kept); the asset-size,
cold-start and workflow-cost benchmarks read that cdk.out. Each script prints its own tables as it goes; a summary
of exit statuses and wall times follows. The exit status is 2 if any benchmark could not measure, else 1 if any
missed a target, else 0.

Usage (from the repo root)::

    .venv/bin/python benchmarks/run_all.py [--out DIR]

``--out DIR`` keeps the JSON figures of each script and the cdk.out they read in DIR (default: a temporary folder,
removed at the end).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS.parent


def steps(out: Path) -> list[tuple[str, list[str]]]:
    assembly = str(out / "cdk.out")
    return [
        ("synth_app.py", ["--keep-assembly", assembly, "--json", str(out / "synth_app.json")]),
        # Before anything imports a handler from that cdk.out (byte code there would be zipped with the assets).
        ("asset_size.py", ["--cloud-assembly", assembly, "--json", str(out / "asset_size.json")]),
        ("handler_cold_start.py", ["--cloud-assembly", assembly, "--json", str(out / "handler_cold_start.json")]),
        ("workflow_cost.py", ["--cloud-assembly", assembly, "--json", str(out / "workflow_cost.json")]),
        ("synth_overhead.py", ["--json", str(out / "synth_overhead.json")]),
        ("local_kit.py", []),
        ("durable_kit.py", []),
        ("kit_iam.py", ["--json", str(out / "kit_iam.json")]),
        ("kit_jsonata.py", ["--json", str(out / "kit_jsonata.json")]),
        ("kit_speed.py", ["--json", str(out / "kit_speed.json")]),
        ("slack_layer_cold_start.py", []),
    ]


def run_all(out: Path) -> int:
    results: list[tuple[str, int, float]] = []
    started = time.perf_counter()
    for script, arguments in steps(out):
        print(f"\n{'=' * 8} {script} {'=' * (100 - len(script))}", flush=True)
        began = time.perf_counter()
        completed = subprocess.run([sys.executable, str(BENCHMARKS / script), *arguments], cwd=REPO_ROOT, check=False)
        results.append((script, completed.returncode, time.perf_counter() - began))
    total = time.perf_counter() - started
    meaning = {0: "targets met (or none set)", 1: "a target MISSED", 2: "FAILED to measure"}
    print(f"\n{'=' * 8} summary {'=' * 93}")
    print("| benchmark | exit | result | wall s |\n|---|---:|---|---:|")
    for script, code, wall in results:
        print(f"| {script} | {code} | {meaning.get(code, 'FAILED to measure')} | {wall:.0f} |")
    print(f"| **all** | | | **{total:.0f}** |")
    codes = {code for _, code, _ in results}
    if codes - {0, 1}:
        return 2
    return 1 if 1 in codes else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="keep the JSON figures and the cdk.out here")
    args = parser.parse_args(argv)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        return run_all(args.out.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        return run_all(Path(scratch))


if __name__ == "__main__":
    raise SystemExit(main())
