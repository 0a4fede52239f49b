"""Where the example stacks' handler code lives: ``lambda_src/<name>`` in this repository."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from constructs_lib.defaults import handler_code

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"


def example_code(name: str) -> lambda_.Code:
    """The code of the example handler folder ``lambda_src/<name>``."""
    return handler_code(LAMBDA_SRC / name)


def runtime_folders() -> dict[str, Path]:
    """Every folder of runtime code in this repository by name: the library's own and the examples'."""
    from constructs_lib._internal.assets import LIBRARY_RUNTIME

    examples = {path.name: path for path in sorted(LAMBDA_SRC.iterdir()) if path.is_dir() and path.name[0] not in "._"}
    return {**LIBRARY_RUNTIME, **examples}
