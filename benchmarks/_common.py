"""What the benchmark scripts share: the pinned CDK CLI, the cloud assembly they read, tables, exit codes, JSON.

Exit codes, the same in every script: 0 every target met (or no target), 1 a target missed, 2 the benchmark could
not measure (a synth failed, a variant differs, a workflow did not run as expected).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.cdk_cli import CDK, cli_env

REPO_ROOT = Path(__file__).resolve().parent.parent

EXIT_OK = 0
EXIT_TARGET_MISSED = 1
EXIT_FAILED = 2


class BenchmarkError(RuntimeError):
    """The benchmark could not measure; the message says what failed (exit status 2)."""


def cli_synth(outdir: Path, *, timeout: float = 600) -> float:
    """``cdk synth --quiet`` of the example app with the pinned CLI into ``outdir``; the wall time in seconds."""
    if not CDK.exists():
        raise BenchmarkError(f"{CDK} is missing: run `make setup` (npm ci) first")
    started = time.perf_counter()
    completed = subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(outdir)],
        cwd=REPO_ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise BenchmarkError(f"cdk synth failed (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return wall


@contextmanager
def cloud_assembly(given: Path | None) -> Iterator[Path]:
    """The cloud assembly to read: ``given`` (a cdk.out/ folder), or a fresh ``cdk synth`` into a temporary folder."""
    if given is not None:
        if not (given / "manifest.json").is_file():
            raise BenchmarkError(f"{given} is not a cloud assembly (no manifest.json): run `cdk synth` first")
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as scratch:
        outdir = Path(scratch) / "cdk.out"
        print(f"Synthesizing the example app with the pinned CLI into {outdir} ...", file=sys.stderr, flush=True)
        cli_synth(outdir)
        yield outdir


@dataclass(frozen=True)
class StackArtifact:
    """One stack of a cloud assembly: its template and its file assets (S3 object key -> source path)."""

    artifact_id: str
    template: Mapping[str, Any]
    assets: Mapping[str, Path]


def stack_artifacts(assembly: Path) -> list[StackArtifact]:
    """Every stack of the cloud assembly in ``assembly``, in manifest order."""
    artifacts: Mapping[str, Any] = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    found = []
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        assets: dict[str, Path] = {}
        for dependency in artifact.get("dependencies", []):
            manifest = artifacts.get(dependency, {})
            if manifest.get("type") != "cdk:asset-manifest":
                continue
            files = json.loads((assembly / manifest["properties"]["file"]).read_text()).get("files", {})
            for asset in files.values():
                source = assembly / str(asset.get("source", {}).get("path", ""))
                for destination in asset.get("destinations", {}).values():
                    if isinstance(destination.get("objectKey"), str):
                        assets[destination["objectKey"]] = source
        found.append(StackArtifact(artifact_id=artifact_id, template=template, assets=assets))
    return found


def construct_path(resource: Mapping[str, Any], artifact_id: str) -> str:
    """``Worker/Function`` for a resource at ``<stack>/Worker/Function/Resource``."""
    path = str(resource.get("Metadata", {}).get("aws:cdk:path", ""))
    return path.removeprefix(f"{artifact_id}/").removesuffix("/Resource")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[int] = ()) -> str:
    """A GitHub markdown table; columns whose index is in ``right`` are right-aligned (numbers)."""
    rule = ["---:" if index in right else "---" for index in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rule) + "|"]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def write_json(path: Path | None, data: Mapping[str, Any]) -> None:
    """Write the script's figures to ``path`` (``--json``), if given."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def copy_assembly(source: Path, target: Path) -> None:
    """Replace ``target`` with a copy of the cloud assembly ``source``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"
