"""The library's own runtime code (handlers and layers), found beside the construct that deploys it."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)
"""The runtimes the library's own layers (standard-library Python 3.11+) declare as compatible."""

# Never part of an asset: byte code written when tests import a handler would change the asset hash.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache"]


def code_from(folder: Path) -> lambda_.Code:
    """``lambda_.Code`` for a folder of runtime code, byte-code caches excluded."""
    if not folder.is_dir():
        raise FileNotFoundError(f"runtime code folder {folder} is missing; reinstall constructs-lib")
    return lambda_.Code.from_asset(str(folder), exclude=ASSET_EXCLUDES)


def runtime_code(module_file: str, *parts: str) -> lambda_.Code:
    """The code in ``runtime/<parts>`` beside the construct module ``module_file`` (pass ``__file__``)."""
    return code_from(Path(module_file).resolve().parent.joinpath("runtime", *parts))


_WORKLOADS = Path(__file__).resolve().parent.parent / "workloads"
_ENGINES = Path(__file__).resolve().parent.parent / "engines"
LIBRARY_RUNTIME: dict[str, Path] = {
    "durable_routes": _ENGINES / "runtime" / "durable_layer",
    "defect_detection": _WORKLOADS / "defect_detection" / "runtime",
    "power_tuning": _WORKLOADS / "power_tuning" / "runtime",
    "s3_batch_contract": _WORKLOADS / "s3_batch" / "runtime" / "contract_layer",
    "slack_notifier": _WORKLOADS / "slack" / "runtime" / "notifier",
    "slack_reporter": _WORKLOADS / "slack" / "runtime" / "reporter_layer",
}
"""Every asset folder of the library's own runtime code, by a stable name (layers hold a ``python/`` folder)."""
