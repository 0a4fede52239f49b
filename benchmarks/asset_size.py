"""Zipped size of every Lambda function and layer asset of the example app (target <= 50 KB each).

Which assets: every ``AWS::Lambda::Function`` ``Code`` and ``AWS::Lambda::LayerVersion`` ``Content`` that points at
a file asset of the synthesized app (the pinned CLI's cdk.out), each asset once, with the functions and layers
that use it. Inline code (``ZipFile``) has no asset and is left out.

How it is zipped: as the CDK CLI zips a staged asset folder when it publishes it (cdk-assets ``zipDirectory``:
yazl, every file under the folder including dot files, no directory entries, deflate at zlib's default level 6,
fixed timestamps); here with Python's ``zipfile`` and the same zlib level, so the size matches to a few bytes per
file. A folder that holds byte code (``__pycache__``, ``*.pyc``) is flagged: the CLI zips a staged folder as it finds
it, so byte code written into cdk.out (a handler imported from there) would ship.

The target is 50 KB (51,200 bytes) per asset, unless the asset carries dependencies on purpose: those are listed
in ``CARRIES_DEPENDENCIES`` (construct path pattern -> the reason) or given with ``--allow PATTERN=REASON``, and
are reported without a verdict.

Usage (from the repo root)::

    .venv/bin/python benchmarks/asset_size.py [--cloud-assembly cdk.out] [--allow 'Stack/Layer*=why'] [--json PATH]
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import sys
import zipfile
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
    stack_artifacts,
    verdict,
    write_json,
)
from stacks._code import runtime_folders

TARGET_BYTES = 50 * 1024
ZLIB_LEVEL = 6
"""yazl's default compression level, which the CDK CLI uses (it sets none)."""
CARRIES_DEPENDENCIES: dict[str, str] = {}
"""Construct path pattern (``fnmatch``, ``<stack>/<path>``) -> why that asset carries third-party dependencies on
purpose, e.g. ``"Reports/PandasLayer": "pandas and numpy for the report function (PythonDependencyLayer)"``. The
example app has none: every function and layer asset it ships is the library's own code."""
BYTE_CODE = ("__pycache__", ".pyc")
RUNTIME_FOLDERS = runtime_folders()


@dataclass
class Asset:
    source: Path
    users: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    files: int = 0
    raw_bytes: int = 0
    zipped_bytes: int = 0
    byte_code: bool = False
    origin: str = ""
    allowed_because: str | None = None


def zip_size(folder: Path) -> tuple[int, int, int, bool]:
    """(files, bytes before zipping, bytes of the zip, whether byte code is in it) of ``folder`` zipped as the CLI
    does. A source that is a ``.zip`` file already is published as it is."""
    if folder.is_file():
        return 1, folder.stat().st_size, folder.stat().st_size, False
    buffer = io.BytesIO()
    files = raw = 0
    byte_code = False
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(folder).as_posix()
            byte_code = byte_code or any(part in relative for part in BYTE_CODE)
            data = path.read_bytes()
            info = zipfile.ZipInfo(relative, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
            archive.writestr(info, data, compresslevel=ZLIB_LEVEL)
            files += 1
            raw += len(data)
    return files, raw, len(buffer.getvalue()), byte_code


def _digest(folder: Path) -> str:
    """The folder's files and contents, byte code left out."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not any(part in relative for part in BYTE_CODE):
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _names(folder: Path) -> frozenset[str]:
    return frozenset(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not any(part in path.as_posix() for part in BYTE_CODE)
    )


def origin(folder: Path) -> str:
    """Which runtime code folder the asset is: same files and contents, or (edited since the synth) same file names."""
    if not folder.is_dir():
        return "a zip file"
    digest, names = _digest(folder), _names(folder)
    for name, candidate in RUNTIME_FOLDERS.items():
        if _digest(candidate) == digest:
            return name
    for name, candidate in RUNTIME_FOLDERS.items():
        if _names(candidate) == names:
            return f"{name} (edited since the synth)"
    return "not a runtime code folder"


def collect(assembly: Path, allowed: Mapping[str, str]) -> list[Asset]:
    assets: dict[Path, Asset] = {}
    for stack in stack_artifacts(assembly):
        for resource in stack.template.get("Resources", {}).values():
            kind = {"AWS::Lambda::Function": "function", "AWS::Lambda::LayerVersion": "layer"}.get(resource["Type"])
            if kind is None:
                continue
            code = resource.get("Properties", {}).get("Code" if kind == "function" else "Content", {})
            key = code.get("S3Key")
            if not isinstance(key, str) or key not in stack.assets:
                continue
            source = stack.assets[key]
            asset = assets.setdefault(source, Asset(source))
            user = f"{stack.artifact_id}/{construct_path(resource, stack.artifact_id)}"
            asset.users.append(user)
            asset.kinds.add(kind)
            for pattern, reason in allowed.items():
                if fnmatch.fnmatchcase(user, pattern):
                    asset.allowed_because = reason
    for asset in assets.values():
        asset.files, asset.raw_bytes, asset.zipped_bytes, asset.byte_code = zip_size(asset.source)
        asset.origin = origin(asset.source)
    return list(assets.values())


def report(assets: Sequence[Asset]) -> tuple[bool, dict[str, Any]]:
    rows = []
    all_met = True
    figures = []
    for asset in sorted(assets, key=lambda a: -a.zipped_bytes):
        met = asset.zipped_bytes <= TARGET_BYTES and not asset.byte_code
        if asset.allowed_because is not None:
            status = f"exempt: {asset.allowed_because}"
        else:
            all_met = all_met and met
            status = verdict(met) + (" (byte code inside)" if asset.byte_code else "")
        rows.append(
            [
                asset.origin,
                "/".join(sorted(asset.kinds)),
                "<br>".join(asset.users),
                asset.files,
                f"{asset.raw_bytes / 1024:.1f}",
                f"{asset.zipped_bytes / 1024:.1f}",
                status,
            ]
        )
        figures.append(
            {
                "asset": asset.source.name,
                "origin": asset.origin,
                "kinds": sorted(asset.kinds),
                "users": asset.users,
                "files": asset.files,
                "raw_bytes": asset.raw_bytes,
                "zipped_bytes": asset.zipped_bytes,
                "byte_code": asset.byte_code,
                "exempt": asset.allowed_because,
                "met": met,
            }
        )
    print(f"\nFunction and layer assets of the example app, zipped as the CDK CLI zips them (deflate {ZLIB_LEVEL}):\n")
    headers = ["asset", "kind", "used by", "files", "KB", "zipped KB", f"<= {TARGET_BYTES // 1024} KB"]
    print(markdown_table(headers, rows, right=(3, 4, 5)))
    total = sum(asset.zipped_bytes for asset in assets) / 1024
    largest = max(asset.zipped_bytes for asset in assets) / 1024
    print(f"\n{len(assets)} assets, {total:.1f} KB zipped in all; the largest {largest:.1f} KB.")
    print("Every asset met the target." if all_met else "A target was MISSED (see the table).")
    return all_met, {"target_bytes": TARGET_BYTES, "zlib_level": ZLIB_LEVEL, "assets": figures}


def parse_allow(values: Sequence[str]) -> dict[str, str]:
    allowed = dict(CARRIES_DEPENDENCIES)
    for value in values:
        pattern, separator, reason = value.partition("=")
        if not separator or not pattern or not reason.strip():
            raise argparse.ArgumentTypeError(f"--allow takes PATTERN=REASON, got {value!r}")
        allowed[pattern] = reason.strip()
    return allowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cloud-assembly", type=Path, default=None, help="a cdk.out/ to read (default: synth one)")
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN=REASON",
        help="an asset (construct path pattern of a user) that carries dependencies on purpose, and why",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        allowed = parse_allow(args.allow)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    try:
        with cloud_assembly(args.cloud_assembly) as assembly:
            assets = collect(assembly, allowed)
            if not assets:
                raise BenchmarkError(f"no function or layer file asset in {assembly}")
            met, figures = report(assets)
    except BenchmarkError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return EXIT_FAILED
    write_json(args.json, figures)
    return EXIT_OK if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
