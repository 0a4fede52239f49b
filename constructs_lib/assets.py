"""Where the handler code that ships with the library lives, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

_PACKAGE_DIR = Path(__file__).resolve().parent
# In the wheel, lambda_src/ is packaged as constructs_lib/lambda_src/; in a checkout it sits beside the package.
_CANDIDATES = (_PACKAGE_DIR / "lambda_src", _PACKAGE_DIR.parent / "lambda_src")

LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)
"""The runtimes the library's own layers (standard-library Python 3.11+) declare as compatible."""

# Never part of an asset: byte code written when tests import a handler would change the asset hash.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache"]


def lambda_src_dir() -> Path:
    """The folder that holds one sub-folder per bundled Lambda asset."""
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "lambda_src not found next to constructs_lib; reinstall the distribution (the wheel ships it as "
        "constructs_lib/lambda_src)"
    )


def asset_path(name: str) -> Path:
    """The folder of one bundled asset, e.g. ``asset_path("destined_lambda")``."""
    root = lambda_src_dir()
    path = root / name
    if not path.is_dir() or name.startswith((".", "_")):
        available = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        raise ValueError(f"no bundled Lambda asset named {name!r}; available: {', '.join(available)}")
    return path


def bundled_code(name: str) -> lambda_.Code:
    """``lambda_.Code`` for a bundled asset folder (byte-code caches excluded)."""
    return lambda_.Code.from_asset(str(asset_path(name)), exclude=ASSET_EXCLUDES)
